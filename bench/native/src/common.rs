//! What the bench binaries share: the config session they measure under, and the calling
//! thread's CPU time.

use tracing_bridge::Session;

/// A session made from the config JSON and installed as the global subscriber; a config that
/// does not parse ends the program with its error, prefixed with `program`.
pub fn global_session(program: &str, config: &str) -> Session {
    let mut session = Session::from_json(config).unwrap_or_else(|error| {
        eprintln!("{program}: {error}");
        std::process::exit(1);
    });
    session
        .install_global()
        .expect("install the global subscriber");
    session
}

/// CPU time of the calling thread so far, in ns (Linux: the first field of
/// `/proc/thread-self/schedstat`). The kernel brings that figure up to date when the thread is
/// switched out or at a scheduler tick, so read while running it can be a tick (4 ms here)
/// behind; a 1 ms sleep first switches the thread out and makes it exact.
#[allow(dead_code)] // otlp_export measures wall time
pub fn thread_cpu_ns() -> f64 {
    std::thread::sleep(std::time::Duration::from_millis(1));
    let schedstat = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    schedstat
        .split(' ')
        .next()
        .and_then(|ns| ns.parse().ok())
        .unwrap_or(f64::NAN)
}
