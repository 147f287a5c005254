//! What a span costs on the calling thread in pure Rust, without JavaScript: `fibonacci(20)`
//! by naive recursion (21 891 spans, each with an info event) under the config JSON given, or
//! under plain `tracing-subscriber` stacks for comparison (`registry` : a registry and a layer
//! that does nothing; `registry-envfilter`: the same layer behind a per-layer `EnvFilter`).
//!
//! `span_floor <config-json | registry | registry-envfilter> [rounds]` prints the median of
//! `rounds` (default 11) runs in ns per span of the calling thread's CPU time (Linux:
//! `/proc/thread-self/schedstat`, brought up to date first; a busy machine inflates it far
//! less than wall time).

use std::hint::black_box;

mod common;
use common::thread_cpu_ns;

use tracing_subscriber::{filter::EnvFilter, layer::SubscriberExt, Layer, Registry};

struct Noop;
impl<S: tracing::Subscriber> Layer<S> for Noop {}

const SPANS: f64 = 21_891.0;

fn measure(rounds: usize) -> f64 {
    for _ in 0..5 {
        black_box(fibonacci::fibonacci(black_box(20), false));
    }
    let mut per_span: Vec<f64> = (0..rounds)
        .map(|_| {
            let start = thread_cpu_ns();
            for _ in 0..10 {
                black_box(fibonacci::fibonacci(black_box(20), false));
            }
            (thread_cpu_ns() - start) / (10.0 * SPANS)
        })
        .collect();
    per_span.sort_by(f64::total_cmp);
    per_span[rounds / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some(which) = args.get(1) else {
        eprintln!("usage: span_floor <config-json | registry | registry-envfilter> [rounds]");
        std::process::exit(2);
    };
    let rounds: usize = args
        .get(2)
        .map_or(11, |r| r.parse().expect("rounds is a number"));
    let ns = match which.as_str() {
        "registry" => {
            tracing::subscriber::with_default(Registry::default().with(Noop), || measure(rounds))
        }
        "registry-envfilter" => tracing::subscriber::with_default(
            Registry::default().with(Noop.with_filter(EnvFilter::new("info"))),
            || measure(rounds),
        ),
        json => {
            let session = common::global_session("span_floor", json);
            let ns = measure(rounds);
            session.uninstall().expect("uninstall");
            ns
        }
    };
    println!("{ns:.0} ns/span  {which}");
}
