//! Template: your own Rust library, instrumented with `tracing`, loaded from Deno or Bun.
//!
//! Copy `examples/template/`, rename the package, and replace `my_library_sum` with your own
//! functions. Three things make tracing-bridge work in it:
//!
//! 1. `tracing-bridge` is a dependency (Cargo.toml), and this file names it once (below).
//!    A dependency that the code never names is not linked at all, so its C ABI would be
//!    missing from the library (`nm -D` shows no `tracing_bridge_*` symbol).
//! 2. `crate-type = ["cdylib"]`: a shared library that Deno and Bun can open.
//! 3. `build.rs` links it with `-z nodelete` on Linux, so that it stays mapped until the
//!    process exits, whatever the runtime does at `close()` or at exit.

// Links tracing-bridge: its `tracing_bridge_*` C functions are exported from this library,
// and its subscriber sees this library's spans and events (one `tracing` copy per library).
use tracing_bridge as _;

/// Returns `1 + 2 + … + count`, with a span for the call and a debug event per step.
#[no_mangle]
pub extern "C" fn my_library_sum(count: u32) -> u64 {
    sum(count)
}

#[tracing::instrument(level = "info")]
fn sum(count: u32) -> u64 {
    let mut total = 0u64;
    for number in 1..=u64::from(count) {
        total += number;
        tracing::debug!(number, total, "added");
    }
    tracing::info!(total, "summed");
    total
}
