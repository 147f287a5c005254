//! The native half of `bench/js_spans.ts`: spans made through the C functions that the
//! JavaScript bindings call (`tracing_bridge_js_callsite_new`, `…_js_span_new`, `…_js_span_end`),
//! with the values JavaScript encodes for `{ route: "/users", index }`, exported by the `otlp`
//! layer of the config JSON given. For profiling the native side of a JavaScript span
//! (`valgrind --tool=callgrind`, `perf`) without a JavaScript runtime.
//!
//! `js_span_export <config-json> <spans> [--child]` prints one JSON line (with `--child`, each
//! span is made entered, as `tracing.span` makes it, and has one Rust span inside):
//! `{"cpu_us_per_span":…,"calling_thread_us_per_span":…,"dropped":…}`: the process CPU (user +
//! system, every thread) and the calling thread's CPU per span, from the first span until
//! the session is uninstalled (everything exported and confirmed).

mod common;

use tracing_bridge::tracing_bridge_result;

/// `TRACING_BRIDGE_PARENT_CURRENT`.
const PARENT_CURRENT: u32 = 0;

// The C functions of `shim/src/ffi/js_spans.rs`, linked from the crate.
extern "C" {
    fn tracing_bridge_js_callsite_new(
        kind: u32,
        level: u32,
        spec: *const u8,
        spec_len: u32,
        out_id: *mut u32,
    ) -> tracing_bridge_result;
    fn tracing_bridge_js_span_new(callsite: u32, parent: u32, values: *const u8, len: u32) -> u32;
    fn tracing_bridge_js_span_end(span: u32) -> tracing_bridge_result;
    fn tracing_bridge_js_span_new_entered(
        callsite: u32,
        parent: u32,
        values: *const u8,
        len: u32,
    ) -> u32;
    fn tracing_bridge_js_span_exit(span: u32) -> tracing_bridge_result;
}

fn process_cpu_us() -> f64 {
    // SAFETY: getrusage writes the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    let us = |t: libc::timeval| t.tv_sec as f64 * 1e6 + t.tv_usec as f64;
    us(usage.ru_utime) + us(usage.ru_stime)
}

fn thread_cpu_us() -> f64 {
    common::thread_cpu_ns() / 1000.0
}

/// The values of `{ route: "/users", index }` as `bindings/js_spans.ts` encodes them.
fn encode(index: u32, out: &mut Vec<u8>) {
    out.clear();
    out.push(1);
    out.extend_from_slice(&6u32.to_le_bytes());
    out.extend_from_slice(b"/users");
    out.push(3);
    out.extend_from_slice(&i64::from(index).to_le_bytes());
}

fn run(config: &str, spans: u32, child: bool) -> (f64, f64, u64) {
    let session = common::global_session("js_span_export", config);
    let spec = b"request\0js\0route\0index\0";
    let mut callsite = 0u32;
    // SAFETY: `spec` and `callsite` are valid for the call.
    let result = unsafe {
        tracing_bridge_js_callsite_new(0, 3, spec.as_ptr(), spec.len() as u32, &mut callsite)
    };
    assert_eq!(result, tracing_bridge_result::Ok, "callsite");
    let mut values = Vec::with_capacity(64);
    let cpu = process_cpu_us();
    let thread = thread_cpu_us();
    let new = if child {
        tracing_bridge_js_span_new_entered
    } else {
        tracing_bridge_js_span_new
    };
    for index in 0..spans {
        encode(index, &mut values);
        // SAFETY: `values` holds `values.len()` bytes.
        let handle = unsafe {
            new(
                callsite,
                PARENT_CURRENT,
                values.as_ptr(),
                values.len() as u32,
            )
        };
        assert!(handle != 0, "span");
        if child {
            tracing::info_span!("child").in_scope(|| {});
            // SAFETY: no pointers.
            assert_eq!(
                unsafe { tracing_bridge_js_span_exit(handle) },
                tracing_bridge_result::Ok
            );
        }
        // SAFETY: no pointers.
        assert_eq!(
            unsafe { tracing_bridge_js_span_end(handle) },
            tracing_bridge_result::Ok
        );
    }
    let thread = thread_cpu_us() - thread;
    session.uninstall().expect("uninstall");
    let cpu = process_cpu_us() - cpu;
    (
        cpu / f64::from(spans),
        thread / f64::from(spans),
        session.dropped_spans(),
    )
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (config, spans, child) = match &args[..] {
        [_, config, spans] => (config, spans, false),
        [_, config, spans, flag] if flag == "--child" => (config, spans, true),
        _ => {
            eprintln!("usage: js_span_export <config-json> <spans> [--child]");
            std::process::exit(2);
        }
    };
    let spans: u32 = spans.parse().expect("spans is a whole number");
    run(config, spans.min(5_000), child);
    let (cpu, thread, dropped) = run(config, spans, child);
    println!(
        r#"{{"cpu_us_per_span":{cpu:.3},"calling_thread_us_per_span":{thread:.3},"dropped":{dropped}}}"#
    );
}
