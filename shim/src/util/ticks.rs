//! A cheap clock for timestamps taken on traced threads and turned into times later: the
//! processor's time-stamp counter where it runs at a constant rate (x86-64 with an invariant
//! TSC: one `rdtsc`, ~18 ns on the 2-core test host against ~40 ns for `Instant::now()`), else
//! nanoseconds read through `Instant`. A reading means nothing alone: a [`Calibration`] before
//! and one after a batch of readings turn each into an `Instant` between the two.

use std::{sync::OnceLock, time::Instant};

/// A reading of the clock (see the module's documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Tick(u64);

/// The same moment read on both clocks.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Calibration {
    instant: Instant,
    tick: Tick,
}

/// Whether the time-stamp counter is the clock; decided once.
static SOURCE: OnceLock<Source> = OnceLock::new();

#[derive(Debug, Clone, Copy)]
enum Source {
    #[cfg(target_arch = "x86_64")]
    Counter,
    /// Nanoseconds since this instant.
    Instant(Instant),
}

fn source() -> Source {
    *SOURCE.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        if invariant_counter() {
            return Source::Counter;
        }
        Source::Instant(Instant::now())
    })
}

/// Whether the processor says its time-stamp counter runs at a constant rate in every state
/// (CPUID leaf 0x8000_0007, EDX bit 8), as Linux requires to use it as its own clock.
#[cfg(target_arch = "x86_64")]
fn invariant_counter() -> bool {
    use std::arch::x86_64::__cpuid;
    // `__cpuid` is safe to call from Rust 1.87 on, `unsafe` before (the crate's oldest).
    #[allow(unused_unsafe)]
    // SAFETY: CPUID is available on every x86-64 processor and only reads.
    let (highest, power) = unsafe {
        let highest = __cpuid(0x8000_0000).eax;
        let power = if highest >= 0x8000_0007 {
            __cpuid(0x8000_0007).edx
        } else {
            0
        };
        (highest, power)
    };
    highest >= 0x8000_0007 && power & (1 << 8) != 0
}

impl Tick {
    /// Reads the clock.
    #[inline]
    pub(crate) fn now() -> Tick {
        match source() {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `rdtsc` is available on every x86-64 processor and only reads.
            Source::Counter => Tick(unsafe { std::arch::x86_64::_rdtsc() }),
            Source::Instant(since) => {
                Tick(u64::try_from(since.elapsed().as_nanos()).unwrap_or(u64::MAX))
            }
        }
    }
}

impl Calibration {
    pub(crate) fn now() -> Calibration {
        let tick = Tick::now();
        Calibration {
            instant: Instant::now(),
            tick,
        }
    }

    /// The instant of `tick`, read between `self` and `end` (a later calibration): placed
    /// between the two at the rate the clocks advanced from one to the other, and never
    /// outside them (so readings in order stay in order, and a counter that misbehaves gives
    /// at worst the time of `self` or of `end`).
    pub(crate) fn instant(&self, end: &Calibration, tick: Tick) -> Instant {
        if tick <= self.tick {
            return self.instant;
        }
        if tick >= end.tick {
            return end.instant.max(self.instant);
        }
        let Some(span) = end.instant.checked_duration_since(self.instant) else {
            return self.instant;
        };
        // `self.tick < tick < end.tick`, so the fraction is in (0, 1).
        let fraction = (tick.0 - self.tick.0) as f64 / (end.tick.0 - self.tick.0) as f64;
        self.instant + span.mul_f64(fraction)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_map_between_their_calibrations_in_order() {
        let start = Calibration::now();
        let ticks: Vec<Tick> = (0..1_000)
            .map(|_| {
                std::hint::spin_loop();
                Tick::now()
            })
            .collect();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let end = Calibration::now();
        let instants: Vec<Instant> = ticks.iter().map(|&t| start.instant(&end, t)).collect();
        assert!(instants.windows(2).all(|pair| pair[0] <= pair[1]));
        assert!(instants
            .iter()
            .all(|&i| start.instant <= i && i <= end.instant));
        // The readings took far less than the 2 ms sleep after them.
        let last = *instants.last().unwrap();
        assert!(
            end.instant.duration_since(last) >= std::time::Duration::from_millis(1),
            "{:?} before the end",
            end.instant.duration_since(last)
        );
        // Outside the calibrations: their ends.
        assert_eq!(start.instant(&end, Tick(0)), start.instant);
        assert_eq!(start.instant(&end, Tick(u64::MAX)), end.instant);
    }
}
