//! An example native library instrumented with `tracing`, loaded from Deno and Bun.
//!
//! It links `tracing-bridge`, so the library's spans and the bridge's subscriber share one
//! `tracing` dispatcher, and the bridge's C ABI is exported from this library too.

use std::{
    fmt,
    sync::{Arc, Barrier, Condvar, Mutex},
    thread,
};

// Links the bridge and keeps its C ABI exported from this cdylib.
pub use tracing_bridge;

/// The largest index whose Fibonacci number fits a `u64`.
const LARGEST_EXACT_INDEX: u32 = 93;

/// Computes the `index`-th Fibonacci number (saturating at `u64::MAX`), iteratively with an
/// event per step when `use_memoized`, else by naive recursion with a span per call. Above
/// index 93 the result saturates, which the iterative way says through the `log` crate (as a
/// dependency of a library would): `tracing-bridge` hands that record to the layers too.
#[no_mangle]
pub extern "C" fn fibonacci(index: u32, use_memoized: bool) -> u64 {
    fib(index, use_memoized)
}

#[tracing::instrument(level = "info")]
fn fib(index: u32, use_memoized: bool) -> u64 {
    tracing::trace!("computing");
    let value = if use_memoized {
        let (mut current, mut next) = (0u64, 1u64);
        for step in 0..index {
            tracing::debug!(step, value = current, "step");
            (current, next) = (next, current.saturating_add(next));
        }
        if index > LARGEST_EXACT_INDEX {
            log::warn!(
                "fibonacci({index}) does not fit in 64 bits; returning u64::MAX \
                 (index {LARGEST_EXACT_INDEX} is the largest that fits)"
            );
        }
        current
    } else if index < 2 {
        u64::from(index)
    } else {
        fib(index - 1, false).saturating_add(fib(index - 2, false))
    };
    tracing::info!(value, "computed");
    value
}

/// Runs `events_per_thread` events on each of `threads` named Rust threads (`worker-0`, …),
/// each inside a `worker` span whose parent is this call's `run_workers` span, and joins them
/// before returning. Returns the number of events emitted.
#[no_mangle]
pub extern "C" fn run_workers(threads: u32, events_per_thread: u32) -> u64 {
    let span = tracing::info_span!("run_workers", threads, events_per_thread);
    let _entered = span.enter();
    let handles: Vec<_> = (0..threads)
        .filter_map(|index| {
            let parent = span.clone();
            thread::Builder::new()
                .name(format!("worker-{index}"))
                .spawn(move || work(&parent, index, events_per_thread))
                .ok()
        })
        .collect();
    let emitted = handles
        .into_iter()
        .map(|handle| handle.join().unwrap_or(0))
        .sum();
    tracing::info!(emitted, "workers joined");
    emitted
}

fn work(parent: &tracing::Span, index: u32, events: u32) -> u64 {
    let span = tracing::info_span!(parent: parent, "worker", index);
    let _entered = span.enter();
    let failure = WorkError { item: index };
    for sequence in 0..events {
        tracing::info!(
            text = "hello",
            signed = -i64::from(sequence),
            unsigned = u64::from(sequence),
            float = f64::from(sequence) * 0.5,
            flag = sequence % 2 == 0,
            point = ?Point { x: index, y: sequence },
            error = &failure as &(dyn std::error::Error + 'static),
            worker = index,
            sequence,
            "worker event"
        );
    }
    u64::from(events)
}

#[derive(Debug)]
#[allow(dead_code)] // read through Debug only
struct Point {
    x: u32,
    y: u32,
}

#[derive(Debug)]
struct WorkError {
    item: u32,
}

impl fmt::Display for WorkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "item {} failed", self.item)
    }
}

impl std::error::Error for WorkError {}

/// Makes `calls_per_thread` calls on each of `threads` named Rust threads (`caller-0`, …) and
/// joins them; returns the calls made. Each call is an event that OpenTelemetry metrics count
/// (`monotonic_counter.calls = 1`, with the thread's number as attribute `worker`) and time
/// (`histogram.work_ms`: the call's number modulo 10); each thread is an up-down counter's +1
/// while it runs (`counter.active_callers`).
#[no_mangle]
pub extern "C" fn count_calls(threads: u32, calls_per_thread: u32) -> u64 {
    let handles: Vec<_> = (0..threads)
        .filter_map(|index| {
            thread::Builder::new()
                .name(format!("caller-{index}"))
                .spawn(move || {
                    tracing::info!(counter.active_callers = 1_i64);
                    for call in 0..calls_per_thread {
                        tracing::info!(
                            monotonic_counter.calls = 1_u64,
                            histogram.work_ms = u64::from(call % 10),
                            worker = index
                        );
                    }
                    tracing::info!(counter.active_callers = -1_i64);
                    u64::from(calls_per_thread)
                })
                .ok()
        })
        .collect();
    handles
        .into_iter()
        .map(|handle| handle.join().unwrap_or(0))
        .sum()
}

/// Starts `run_workers(threads, events_per_thread)` on a background thread and returns at once
/// with a handle for [`join_workers`] (0 if the thread could not start).
#[no_mangle]
pub extern "C" fn start_workers(threads: u32, events_per_thread: u32) -> u64 {
    start_in_background(move || run_workers(threads, events_per_thread))
}

/// Starts `threads` threads that each emit `events_per_thread` events like [`emit_events`] and
/// returns at once with a handle for [`join_workers`] (for benchmarks).
#[no_mangle]
pub extern "C" fn start_emitters(threads: u32, events_per_thread: u32) -> u64 {
    start_in_background(move || {
        let handles: Vec<_> = (0..threads)
            .filter_map(|index| {
                thread::Builder::new()
                    .name(format!("emitter-{index}"))
                    .spawn(move || emit_events(events_per_thread))
                    .ok()
            })
            .collect();
        let finished = handles
            .into_iter()
            .map(thread::JoinHandle::join)
            .filter(Result::is_ok)
            .count();
        finished as u64 * u64::from(events_per_thread)
    })
}

fn start_in_background(work: impl FnOnce() -> u64 + Send + 'static) -> u64 {
    let Ok(handle) = thread::Builder::new()
        .name("workers-driver".into())
        .spawn(work)
    else {
        return 0;
    };
    let mut started = STARTED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    started.1 += 1;
    let id = started.1;
    started.0.push((id, handle));
    id
}

/// Waits for the workers started by [`start_workers`]; returns the events they emitted.
#[no_mangle]
pub extern "C" fn join_workers(handle: u64) -> u64 {
    let found = {
        let mut started = STARTED
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let position = started.0.iter().position(|(id, _)| *id == handle);
        position.map(|position| started.0.remove(position).1)
    };
    found.map_or(0, |handle| handle.join().unwrap_or(0))
}

type Started = (Vec<(u64, thread::JoinHandle<u64>)>, u64);
static STARTED: std::sync::Mutex<Started> = std::sync::Mutex::new((Vec::new(), 0));

/// Creates a `job` span with an empty `result` field, records it, then closes the span.
#[no_mangle]
pub extern "C" fn record_result(value: u64) {
    let span = tracing::info_span!("job", result = tracing::field::Empty, attempt = 1u64);
    let _entered = span.enter();
    span.record("result", value);
    tracing::info!("job done");
}

/// Creates span `second` that follows from span `first`, then closes both.
#[no_mangle]
pub extern "C" fn follows_from() {
    let first = tracing::info_span!("first");
    let second = tracing::info_span!("second");
    second.follows_from(&first);
}

/// Emits `count` INFO events with one integer field, on the calling thread (for benchmarks).
#[no_mangle]
pub extern "C" fn emit_events(count: u32) {
    for index in 0..count {
        tracing::info!(index, "bench event");
    }
}

/// Makes `count` INFO spans with one integer field, each closed at once (new + close), on the
/// calling thread (for benchmarks).
#[no_mangle]
pub extern "C" fn emit_spans(count: u32) {
    for index in 0..count {
        drop(tracing::info_span!("bench span", index));
    }
}

/// Calls `callback(pointer, length)` `times` times on the calling thread, with a pointer to a
/// small buffer: the floor a same-thread FFI callback costs (for benchmarks).
#[no_mangle]
pub extern "C" fn call_back(callback: Option<extern "C" fn(*const u8, u32)>, times: u32) {
    static BYTES: [u8; 16] = [7; 16];
    if let Some(callback) = callback {
        for _ in 0..times {
            callback(BYTES.as_ptr(), BYTES.len() as u32);
        }
    }
}

/// Emits one event with values beyond JavaScript's safe integers and a string field.
#[no_mangle]
pub extern "C" fn emit_wide_values() {
    tracing::info!(
        big_unsigned = u64::MAX,
        big_signed = i64::MIN,
        safe = 9_007_199_254_740_991u64,
        huge = u128::MAX,
        text = "naïve ☃",
        "wide values"
    );
}

/// Starts `threads` threads that each open `depth` nested `held` spans (each entered, a child
/// of the one before) and keep them open until [`release_spans`]; returns once they are all
/// open, with a handle for [`release_spans`] (0 if a thread could not start). For tests of what
/// happens to spans still open when tracing is disposed.
#[no_mangle]
pub extern "C" fn hold_spans(threads: u32, depth: u32) -> u64 {
    let opened = Arc::new(Barrier::new(threads as usize + 1));
    let release = Arc::new((Mutex::new(false), Condvar::new()));
    let mut handles = Vec::new();
    for index in 0..threads {
        let opened = Arc::clone(&opened);
        let release = Arc::clone(&release);
        let spawned = thread::Builder::new()
            .name(format!("holder-{index}"))
            .spawn(move || {
                let spans: Vec<_> = (0..depth)
                    .map(|level| tracing::info_span!("held", thread = index, level).entered())
                    .collect();
                opened.wait();
                let (released, changed) = &*release;
                let mut released = released
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                while !*released {
                    released = changed
                        .wait(released)
                        .unwrap_or_else(|poisoned| poisoned.into_inner());
                }
                // Innermost first, as they were entered.
                drop(spans.into_iter().rev().collect::<Vec<_>>());
                u64::from(depth)
            });
        match spawned {
            Ok(handle) => handles.push(handle),
            Err(_) => return 0,
        }
    }
    opened.wait();
    let mut held = HELD.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    held.1 += 1;
    let id = held.1;
    held.0.push((id, release, handles));
    id
}

/// Lets the threads of [`hold_spans`] close their spans and end; returns the spans closed.
#[no_mangle]
pub extern "C" fn release_spans(handle: u64) -> u64 {
    let found = {
        let mut held = HELD.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let position = held.0.iter().position(|(id, ..)| *id == handle);
        position.map(|position| held.0.remove(position))
    };
    let Some((_, release, handles)) = found else {
        return 0;
    };
    *release
        .0
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner()) = true;
    release.1.notify_all();
    handles
        .into_iter()
        .map(|handle| handle.join().unwrap_or(0))
        .sum()
}

type Release = Arc<(Mutex<bool>, Condvar)>;
type Held = (Vec<(u64, Release, Vec<thread::JoinHandle<u64>>)>, u64);
static HELD: Mutex<Held> = Mutex::new((Vec::new(), 0));

/// Starts `threads` threads that each compute `fibonacci(index, false)` (a span per call,
/// nested as deep as `index`) `rounds` times, and returns at once with a handle for
/// [`join_workers`]: spans start and end on other threads all the while (for tests of dispose
/// racing with them).
#[no_mangle]
pub extern "C" fn start_fibonacci(threads: u32, index: u32, rounds: u32) -> u64 {
    start_in_background(move || {
        let handles: Vec<_> = (0..threads)
            .filter_map(|number| {
                thread::Builder::new()
                    .name(format!("fibonacci-{number}"))
                    .spawn(move || {
                        for _ in 0..rounds {
                            fib(index, false);
                        }
                        u64::from(rounds)
                    })
                    .ok()
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| handle.join().unwrap_or(0))
            .sum()
    })
}
