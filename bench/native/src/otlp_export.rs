//! The pure-Rust half of `bench/otlp_export.ts`: the same workload (`fibonacci(index, false)`
//! called `calls` times) through the same layers (the config JSON given), without JavaScript.
//!
//! `otlp_export <config-json> <calls> <index> <warmup-calls>` runs `warmup-calls` first under
//! a config of its own, then prints one JSON line:
//! `{"seconds":…,"dispose_ms":…,"dispose_start_ms":…,"dropped":…}` where `seconds` runs from
//! the first call to the end of dispose (everything exported and confirmed).

use std::{
    hint::black_box,
    time::{Instant, SystemTime, UNIX_EPOCH},
};

mod common;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, config, calls, index, warmup_calls] = &args[..] else {
        eprintln!("usage: otlp_export <config-json> <calls> <index> <warmup-calls>");
        std::process::exit(2);
    };
    let calls: u32 = calls.parse().expect("calls is a whole number");
    let index: u32 = index.parse().expect("index is a whole number");
    let warmup_calls: u32 = warmup_calls
        .parse()
        .expect("warmup-calls is a whole number");

    let start_session = || common::global_session("otlp_export", config);
    let warmup = start_session();
    for _ in 0..warmup_calls {
        black_box(fibonacci::fibonacci(black_box(index), false));
    }
    warmup.uninstall().expect("uninstall");

    let session = start_session();
    let started = Instant::now();
    for _ in 0..calls {
        black_box(fibonacci::fibonacci(black_box(index), false));
    }
    let dispose_start_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs_f64() * 1000.0)
        .unwrap_or(0.0);
    let disposing = Instant::now();
    session.uninstall().expect("uninstall");
    let dispose_ms = disposing.elapsed().as_secs_f64() * 1000.0;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        r#"{{"seconds":{seconds},"dispose_ms":{dispose_ms},"dispose_start_ms":{dispose_start_ms},"dropped":{}}}"#,
        session.dropped_spans()
    );
}
