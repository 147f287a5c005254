//! The native half of `bench/js_layer.ts`'s span and event rounds: `emit_spans` and
//! `emit_events` of the fibonacci example into a JS layer attached, on this thread, to a wake
//! callback that does nothing (the records are written to the shared buffer and forgotten), so
//! that what the library does per record can be profiled (`valgrind --tool=callgrind`, `perf`)
//! without a JavaScript runtime.
//!
//! `js_layer_floor <spans | events> [count] [rounds]` prints the median of `rounds` (default 11)
//! runs in ns per record of the calling thread's CPU time, under a JS layer with `onNewSpan` and
//! `onClose` (spans) or `onEvent` (events), as `bench/js_layer.ts` configures them.

mod common;
use common::thread_cpu_ns;

use tracing_bridge::layers::js::{JsSink, JsTarget, CONTROL_BYTES};

unsafe extern "C" fn wake(_layer: u32, _direct_length: u32) {}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let spans = match args.get(1).map(String::as_str) {
        Some("spans") => true,
        Some("events") => false,
        _ => {
            eprintln!("usage: js_layer_floor <spans | events> [count] [rounds]");
            std::process::exit(2);
        }
    };
    let count: u32 = args
        .get(2)
        .map_or(200_000, |c| c.parse().expect("count is a number"));
    let rounds: usize = args
        .get(3)
        .map_or(11, |r| r.parse().expect("rounds is a number"));
    let callbacks = if spans {
        r#"["newSpan","close"]"#
    } else {
        r#"["event"]"#
    };
    let config =
        format!(r#"{{"layers":[{{"kind":"js","callbacks":{callbacks},"filter":"info"}}]}}"#);
    let session = common::global_session("js_layer_floor", &config);
    let mut shared = vec![0u8; CONTROL_BYTES + 256 * 1024];
    let target = JsTarget {
        wake,
        shared: shared.as_mut_ptr(),
        shared_len: shared.len(),
    };
    for (_, sink) in session.layer_extensions::<JsSink>() {
        sink.attach(Some(target));
    }
    let emit = |count| {
        if spans {
            fibonacci::emit_spans(count)
        } else {
            fibonacci::emit_events(count)
        }
    };
    emit(10_000);
    let mut per_record: Vec<f64> = (0..rounds)
        .map(|_| {
            let start = thread_cpu_ns();
            emit(count);
            (thread_cpu_ns() - start) / f64::from(count)
        })
        .collect();
    per_record.sort_by(f64::total_cmp);
    for (_, sink) in session.layer_extensions::<JsSink>() {
        sink.attach(None);
        assert_eq!(sink.dropped(), 0, "records dropped");
    }
    session.uninstall().expect("uninstall");
    drop(shared);
    let kind = if spans { "span" } else { "event" };
    println!("{:.0} ns/{kind}", per_record[rounds / 2]);
}
