//! Time for the fmt layer: the `timer` option's clocks, and the UTC calendar that names rolling
//! files.

use std::{
    fmt,
    time::{SystemTime, UNIX_EPOCH},
};

use serde::Deserialize;
use tracing_subscriber::fmt::{
    format::Writer,
    time::{FormatTime, SystemTime as UtcTimer, Uptime},
};

/// How the fmt layer stamps each line (`timer`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FmtTimer {
    /// RFC 3339 in UTC with microseconds (`2026-11-30T18:22:57.123456Z`), as
    /// `tracing_subscriber::fmt::time::SystemTime`.
    #[default]
    Utc,
    /// RFC 3339 in the local time zone with its offset (`2026-11-30T19:22:57.123456+01:00`);
    /// UTC where the platform has no time zone database.
    Local,
    /// Seconds since the layer was built (`   1.234567s`), as
    /// `tracing_subscriber::fmt::time::Uptime`.
    Uptime,
    /// No timestamp.
    None,
}

/// The clock behind [`FmtTimer`] (`None` is `without_time()`, which never calls it).
#[derive(Clone)]
pub(super) enum Timer {
    Utc,
    Local,
    Uptime(Uptime),
}

impl Timer {
    pub(super) fn new(timer: FmtTimer) -> Self {
        match timer {
            FmtTimer::Utc | FmtTimer::None => Timer::Utc,
            FmtTimer::Local => Timer::Local,
            FmtTimer::Uptime => Timer::Uptime(Uptime::default()),
        }
    }
}

impl FormatTime for Timer {
    fn format_time(&self, writer: &mut Writer<'_>) -> fmt::Result {
        match self {
            Timer::Utc => UtcTimer.format_time(writer),
            Timer::Uptime(uptime) => uptime.format_time(writer),
            Timer::Local => {
                let now = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .unwrap_or_default();
                let seconds = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
                let offset = local_offset_seconds(seconds);
                let civil = Civil::from_unix(seconds.saturating_add(offset));
                write!(
                    writer,
                    "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}",
                    civil.year,
                    civil.month,
                    civil.day,
                    civil.hour,
                    civil.minute,
                    civil.second,
                    now.subsec_micros()
                )?;
                if offset == 0 {
                    writer.write_char('Z')
                } else {
                    let sign = if offset < 0 { '-' } else { '+' };
                    let minutes = offset.unsigned_abs() / 60;
                    write!(writer, "{sign}{:02}:{:02}", minutes / 60, minutes % 60)
                }
            }
        }
    }
}

/// The local time zone's offset from UTC at `unix_seconds`, in seconds (daylight saving
/// included), from the C library's time zone database.
#[cfg(unix)]
fn local_offset_seconds(unix_seconds: i64) -> i64 {
    // `time_t` is 64 bits wide wherever this runs; on a 32-bit one, past 2038 is past it.
    let time = unix_seconds as libc::time_t;
    // SAFETY: `localtime_r` writes into `tm`, which lives on this stack frame; it is the
    // thread-safe variant (no shared static result).
    unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&time, &mut tm).is_null() {
            return 0;
        }
        // `c_long`: 64 bits wide on the 64-bit targets, 32 on the others.
        #[allow(clippy::useless_conversion)]
        i64::from(tm.tm_gmtoff)
    }
}

#[cfg(not(unix))]
fn local_offset_seconds(_unix_seconds: i64) -> i64 {
    0
}

/// A moment on the proleptic Gregorian calendar, to the second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Civil {
    pub(super) year: i64,
    pub(super) month: u32,
    pub(super) day: u32,
    pub(super) hour: u32,
    pub(super) minute: u32,
    pub(super) second: u32,
}

impl Civil {
    /// The calendar date and time of `seconds` since 1970-01-01T00:00:00 (Howard Hinnant's
    /// `civil_from_days`).
    pub(super) fn from_unix(seconds: i64) -> Self {
        let days = seconds.div_euclid(86_400);
        let of_day = seconds.rem_euclid(86_400) as u32;
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = yoe + era * 400 + i64::from(month <= 2);
        Civil {
            year,
            month,
            day,
            hour: of_day / 3_600,
            minute: of_day % 3_600 / 60,
            second: of_day % 60,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_match_known_moments() {
        assert_eq!(
            Civil::from_unix(0),
            Civil {
                year: 1970,
                month: 1,
                day: 1,
                hour: 0,
                minute: 0,
                second: 0
            }
        );
        // 2024-02-29T23:59:59Z, a leap day.
        let leap = Civil::from_unix(1_709_251_199);
        assert_eq!((leap.year, leap.month, leap.day), (2024, 2, 29));
        assert_eq!((leap.hour, leap.minute, leap.second), (23, 59, 59));
        // 2026-11-30T18:22:57Z.
        let day = Civil::from_unix(1_796_062_977);
        assert_eq!((day.year, day.month, day.day), (2026, 11, 30));
        assert_eq!((day.hour, day.minute, day.second), (18, 22, 57));
        let before = Civil::from_unix(-1);
        assert_eq!((before.year, before.month, before.day), (1969, 12, 31));
    }

    #[test]
    fn every_timer_writes_what_it_promises() {
        let text = |timer: Timer| {
            let mut out = String::new();
            timer.format_time(&mut Writer::new(&mut out)).unwrap();
            out
        };
        let utc = text(Timer::Utc);
        assert!(utc.ends_with('Z') && utc.len() == 27, "{utc}");
        let local = text(Timer::Local);
        assert_eq!(&local[..10].len(), &10, "{local}");
        assert!(local.as_bytes()[10] == b'T', "{local}");
        assert!(
            local.ends_with('Z') || local[26..].len() == 6,
            "offset of {local}"
        );
        let uptime = text(Timer::Uptime(Uptime::default()));
        assert!(uptime.trim_start().ends_with('s'), "{uptime}");
    }
}
