//! The calling thread's CPU time, for the benchmarks that measure what the traced thread pays.

/// CPU time of the calling thread so far, in ns (Linux: the first field of
/// `/proc/thread-self/schedstat`). The kernel brings that figure up to date when the thread is
/// switched out or at a scheduler tick, so read while running it can be a tick (4 ms here)
/// behind; a 1 ms sleep first switches the thread out and makes it exact.
pub fn thread_cpu_ns() -> f64 {
    std::thread::sleep(std::time::Duration::from_millis(1));
    let schedstat = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    schedstat
        .split(' ')
        .next()
        .and_then(|ns| ns.parse().ok())
        .unwrap_or(f64::NAN)
}
