//! Time for the fmt layer: the `timer` option's clocks, and the UTC calendar that names rolling
//! files.

use std::{
    cell::RefCell,
    fmt,
    time::{SystemTime, UNIX_EPOCH},
};

use serde::Deserialize;
use tracing_subscriber::fmt::{
    format::Writer,
    time::{FormatTime, Uptime},
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

impl Timer {
    /// Appends the timestamp to `out`, as [`FormatTime::format_time`] writes it, but straight
    /// into the `String` rather than through `Writer`'s `dyn fmt::Write` (the fmt layer's hot
    /// path: about 90 instructions a line less).
    pub(super) fn write(&self, out: &mut String) -> fmt::Result {
        match self {
            Timer::Utc => stamp(out, false),
            Timer::Local => stamp(out, true),
            Timer::Uptime(uptime) => uptime.format_time(&mut Writer::new(out)),
        }
    }
}

impl FormatTime for Timer {
    fn format_time(&self, writer: &mut Writer<'_>) -> fmt::Result {
        match self {
            Timer::Utc => stamp(writer, false),
            Timer::Local => stamp(writer, true),
            Timer::Uptime(uptime) => uptime.format_time(writer),
        }
    }
}

/// What a timestamp shares with every other one in the same second: the date and time up to
/// the microseconds (`2026-11-30T18:22:57.`) and what follows them (`Z`, `+01:00`).
#[derive(Clone, Copy)]
struct Second {
    unix: i64,
    local: bool,
    head: [u8; 20],
    tail: [u8; 6],
    tail_len: usize,
}

thread_local! {
    /// The second this thread last stamped, so that the calendar (and the time zone lookup)
    /// is worked out once a second rather than once a line.
    static SECOND: RefCell<Option<Second>> = const { RefCell::new(None) };
}

/// Writes the time now as RFC 3339 with microseconds, in UTC (`…Z`, the bytes of
/// `tracing_subscriber::fmt::time::SystemTime`) or in the local time zone with its offset.
fn stamp<W: fmt::Write>(out: &mut W, local: bool) -> fmt::Result {
    let (unix, micros) = now_unix();
    let written = SECOND
        .try_with(|kept| {
            let mut kept = kept.try_borrow_mut().ok()?;
            if !kept
                .as_ref()
                .is_some_and(|second| second.unix == unix && second.local == local)
            {
                *kept = Some(Second::new(unix, local)?);
            }
            kept.as_ref().map(|second| second.write(out, micros))
        })
        .ok()
        .flatten();
    written.unwrap_or_else(|| stamp_slowly(out, unix, micros, local))
}

/// The time now: the second since 1970 it falls in, and how far into it in microseconds.
fn now_unix() -> (i64, u32) {
    #[cfg(unix)]
    {
        let mut now = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `clock_gettime` writes into `now`, which lives on this stack frame. Read
        // directly rather than through `SystemTime` (whose `duration_since` alone took ~55
        // instructions a line): the same clock, `tv_nsec` counting forward from `tv_sec` even
        // before 1970.
        if unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut now) } == 0 {
            #[allow(clippy::useless_conversion)] // `time_t` is 32 bits wide on some targets
            let seconds = i64::from(now.tv_sec);
            return (seconds, (now.tv_nsec / 1_000) as u32);
        }
    }
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(now) => (
            i64::try_from(now.as_secs()).unwrap_or(i64::MAX),
            now.subsec_micros(),
        ),
        // A clock before 1970: the second it falls in, and how far into it.
        Err(before) => {
            let before = before.duration();
            let whole = i64::try_from(before.as_secs()).unwrap_or(i64::MAX);
            match before.subsec_micros() {
                0 => (-whole, 0),
                part => (-whole - 1, 1_000_000 - part),
            }
        }
    }
}

/// Bytes made of digits, `-`, `:`, `T`, `.`, `Z` and `+`, as text.
fn ascii(bytes: &[u8]) -> Result<&str, fmt::Error> {
    std::str::from_utf8(bytes).map_err(|_| fmt::Error)
}

impl Second {
    /// Writes this second's time with `micros` microseconds into it.
    fn write<W: fmt::Write>(&self, out: &mut W, micros: u32) -> fmt::Result {
        let mut text = [0u8; 32];
        text[..20].copy_from_slice(&self.head);
        let mut rest = micros;
        for digit in text[20..26].iter_mut().rev() {
            *digit = b'0' + (rest % 10) as u8;
            rest /= 10;
        }
        text[26..26 + self.tail_len].copy_from_slice(&self.tail[..self.tail_len]);
        let text = &text[..26 + self.tail_len];
        debug_assert!(text.is_ascii());
        // SAFETY: ASCII only: `Second::new` wrote digits and separators into `head`,
        // `offset_text` `Z`, a sign, digits and `:` into `tail`, and the loop above digits (a
        // check cost ~100 instructions a line).
        out.write_str(unsafe { std::str::from_utf8_unchecked(text) })
    }

    /// `None` for a year outside 0..=9999 (no fixed-width text to keep).
    fn new(unix: i64, local: bool) -> Option<Second> {
        let offset = if local { local_offset_seconds(unix) } else { 0 };
        let civil = Civil::from_unix(unix.saturating_add(offset));
        if !(0..=9999).contains(&civil.year) {
            return None;
        }
        let mut head = [0u8; 20];
        let fields = [
            (0, civil.year as u32, 4),
            (5, civil.month, 2),
            (8, civil.day, 2),
            (11, civil.hour, 2),
            (14, civil.minute, 2),
            (17, civil.second, 2),
        ];
        for (at, value, width) in fields {
            let mut rest = value;
            for index in (at..at + width).rev() {
                head[index] = b'0' + (rest % 10) as u8;
                rest /= 10;
            }
        }
        for (at, separator) in [
            (4, b'-'),
            (7, b'-'),
            (10, b'T'),
            (13, b':'),
            (16, b':'),
            (19, b'.'),
        ] {
            head[at] = separator;
        }
        let (tail, tail_len) = offset_text(offset);
        Some(Second {
            unix,
            local,
            head,
            tail,
            tail_len,
        })
    }
}

/// What follows the microseconds for a UTC `offset` in seconds: `Z`, or `+01:00` / `-05:30`
/// (hours up to 99), and its length.
fn offset_text(offset: i64) -> ([u8; 6], usize) {
    if offset == 0 {
        return ([b'Z', 0, 0, 0, 0, 0], 1);
    }
    let minutes = offset.unsigned_abs() / 60;
    let (hours, minutes) = ((minutes / 60).min(99) as u8, (minutes % 60) as u8);
    let text = [
        if offset < 0 { b'-' } else { b'+' },
        b'0' + hours / 10,
        b'0' + hours % 10,
        b':',
        b'0' + minutes / 10,
        b'0' + minutes % 10,
    ];
    (text, 6)
}

/// [`stamp`] for a year that does not fit four digits.
fn stamp_slowly<W: fmt::Write>(out: &mut W, unix: i64, micros: u32, local: bool) -> fmt::Result {
    let offset = if local { local_offset_seconds(unix) } else { 0 };
    let civil = Civil::from_unix(unix.saturating_add(offset));
    write!(
        out,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}",
        civil.year, civil.month, civil.day, civil.hour, civil.minute, civil.second, micros
    )?;
    let (tail, length) = offset_text(offset);
    out.write_str(ascii(&tail[..length])?)
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
    fn utc_stamps_are_tracing_subscribers() {
        use tracing_subscriber::fmt::time::SystemTime as UtcTimer;
        // Both read the clock: equal to the second unless a second boundary falls between.
        let mut equal = false;
        for _ in 0..10 {
            let (mut ours, mut theirs) = (String::new(), String::new());
            Timer::Utc.write(&mut ours).unwrap();
            UtcTimer.format_time(&mut Writer::new(&mut theirs)).unwrap();
            assert_eq!(ours.len(), theirs.len(), "{ours} {theirs}");
            if ours[..20] == theirs[..20] && ours.ends_with('Z') && theirs.ends_with('Z') {
                equal = true;
                break;
            }
        }
        assert!(equal);
        // The kept second's text is what the unkept path writes, in UTC and in local time.
        let (mut slow, mut kept) = (String::new(), String::new());
        stamp_slowly(&mut slow, 1_796_062_977, 42, false).unwrap();
        let second = Second::new(1_796_062_977, false).unwrap();
        kept.push_str(std::str::from_utf8(&second.head).unwrap());
        kept.push_str("000042Z");
        assert_eq!(kept, slow);
        assert_eq!(slow, "2026-11-30T18:22:57.000042Z");
        let mut local = String::new();
        stamp_slowly(&mut local, 1_796_062_977, 42, true).unwrap();
        let second = Second::new(1_796_062_977, true).unwrap();
        let kept = format!(
            "{}000042{}",
            std::str::from_utf8(&second.head).unwrap(),
            std::str::from_utf8(&second.tail[..second.tail_len]).unwrap()
        );
        assert_eq!(kept, local);
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
