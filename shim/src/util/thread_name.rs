//! Thread names for layers that show them.

/// The name the OS knows the thread by: threads that Rust did not start (a JavaScript
/// runtime's own) have no Rust name, but usually an OS one (e.g. `deno` for Deno's main thread).
pub(crate) fn os_thread_name() -> Option<String> {
    let name = std::fs::read_to_string("/proc/thread-self/comm").ok()?;
    let name = name.trim();
    (!name.is_empty()).then(|| name.to_owned())
}
