//! Detached JavaScript spans handed to the registry while another thread changes the
//! configuration: the span belongs to the configuration it started under, and only its layer
//! sees it, whatever was loaded or which filter changed meanwhile.
//!
//! - JS threads make detached spans (each with its own `n`), enter them (handing them to the
//!   registry) and end them, while the main thread replaces the global config over and over
//!   (stop, then install the next one at once). Every exported span must carry its `n` (one
//!   without it would be a later config's span made from the empty registry span of the hand
//!   over), and no `n` may be exported twice.
//! - The same while the main thread flips the other layer's filter between one that never
//!   wants these spans and one that does: that layer must never see one (it would see it
//!   without its fields).

#[path = "support/otlp_json.rs"]
#[allow(dead_code)]
mod otlp_json;

#[path = "support/global_lock.rs"]
mod global_lock;
use global_lock::global_lock;

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc,
    },
    thread,
    time::Duration,
};

use opentelemetry_proto::tonic::common::v1::any_value::Value;
use otlp_json::read_all_spans;
use tracing_bridge::{
    js_spans::{
        callsites::{CallsiteKind, Callsites},
        spans,
    },
    Session,
};

fn i64_value(number: i64) -> Vec<u8> {
    let mut bytes = vec![3];
    bytes.extend(number.to_le_bytes());
    bytes
}

fn config(path: &std::path::Path) -> String {
    format!(
        r#"{{"layers":[{{"kind":"otlpJson","writer":{{"file":{}}},
            "batch":{{"scheduledDelayMs":600000,"maxQueueSize":1000000}},
            "spanAttributes":{{"busyIdle":false}}}}]}}"#,
        serde_json::to_string(path).unwrap()
    )
}

#[test]
fn reloads_racing_hand_overs_export_each_span_once_with_its_fields() {
    let _global = global_lock();
    let rounds = 300;
    let workers_n = 3;
    let dir = tempfile::tempdir().unwrap();
    let callsite = Callsites::global()
        .intern(
            CallsiteKind::Span,
            tracing::Level::INFO,
            "work",
            "app",
            &["n"],
        )
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let counter = Arc::new(AtomicU64::new(1));
    let detached_made = Arc::new(AtomicU64::new(0));
    let materialized = Arc::new(AtomicU64::new(0));
    let stayed = Arc::new(AtomicU64::new(0));
    let created = Arc::new(AtomicU64::new(0));
    let workers: Vec<_> = (0..workers_n)
        .map(|_| {
            let stop = Arc::clone(&stop);
            let counter = Arc::clone(&counter);
            let detached_made = Arc::clone(&detached_made);
            let materialized = Arc::clone(&materialized);
            let stayed = Arc::clone(&stayed);
            let created = Arc::clone(&created);
            thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let n = counter.fetch_add(1, Ordering::Relaxed);
                    let handle =
                        spans::create(callsite, spans::PARENT_NONE, &i64_value(n as i64)).unwrap();
                    if handle == spans::DISABLED {
                        continue;
                    }
                    created.fetch_add(1, Ordering::Relaxed);
                    let was = spans::is_detached(handle);
                    spans::enter(handle).unwrap();
                    if was {
                        detached_made.fetch_add(1, Ordering::Relaxed);
                        if spans::is_detached(handle) {
                            stayed.fetch_add(1, Ordering::Relaxed);
                        } else {
                            materialized.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    spans::exit(handle).unwrap();
                    spans::end(handle).unwrap();
                }
            })
        })
        .collect();

    let mut paths = Vec::new();
    let mut sessions: Vec<Session> = Vec::new();
    let mut current: Option<Session> = None;
    for round in 0..rounds {
        let path = dir.path().join(format!("spans-{round}.jsonl"));
        let mut next = Session::from_json(&config(&path)).unwrap();
        paths.push(path);
        if let Some(old) = current.take() {
            old.stop().unwrap();
            sessions.push(old);
        }
        next.install_global().unwrap();
        current = Some(next);
        thread::sleep(Duration::from_micros(300));
    }
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.join().unwrap();
    }
    if let Some(old) = current.take() {
        old.stop().unwrap();
        sessions.push(old);
    }
    for session in &sessions {
        session.shutdown_layers().unwrap();
    }
    let dropped: u64 = sessions.iter().map(Session::dropped_spans).sum();

    let mut seen: HashMap<i64, usize> = HashMap::new();
    let mut without_n = Vec::new();
    let mut total = 0;
    for (index, path) in paths.iter().enumerate() {
        for span in read_all_spans(path) {
            total += 1;
            let n = span.attributes.iter().find_map(|kv| {
                (kv.key == "n").then(|| match kv.value.as_ref().and_then(|v| v.value.clone()) {
                    Some(Value::IntValue(n)) => n,
                    other => panic!("n: {other:?}"),
                })
            });
            match n {
                Some(n) => *seen.entry(n).or_default() += 1,
                None => without_n.push((index, span.name.clone(), hex(&span.span_id))),
            }
        }
    }
    eprintln!(
        "made {}, exported {}, dropped {dropped}, made while no config was loaded {}",
        created.load(Ordering::Relaxed),
        seen.len(),
        created.load(Ordering::Relaxed) as i64 - seen.len() as i64 - dropped as i64
    );
    let twice: Vec<_> = seen.iter().filter(|(_, count)| **count > 1).collect();
    eprintln!(
        "exported {total}, detached made {}, materialized {}, stayed detached {}, dropped {dropped}, \
         without n {}, twice {}",
        detached_made.load(Ordering::Relaxed),
        materialized.load(Ordering::Relaxed),
        stayed.load(Ordering::Relaxed),
        without_n.len(),
        twice.len()
    );
    assert!(twice.is_empty(), "exported twice: {twice:?}");
    assert!(
        without_n.is_empty(),
        "spans exported without their fields (config index, name, span id): {without_n:?}"
    );
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[test]
fn a_filter_change_racing_hand_overs_shows_no_other_layer_a_detached_span() {
    let _global = global_lock();
    let dir = tempfile::tempdir().unwrap();
    let otlp = dir.path().join("spans.jsonl");
    let fmt = dir.path().join("fmt.log");
    let config = format!(
        r#"{{"layers":[{{"kind":"otlpJson","writer":{{"file":{}}},
            "batch":{{"scheduledDelayMs":600000,"maxQueueSize":1000000}},
            "spanAttributes":{{"busyIdle":false}}}},
            {{"kind":"fmt","writer":{{"file":{}}},"ansi":false,"spanEvents":["new"],"filter":"other=info"}}]}}"#,
        serde_json::to_string(&otlp).unwrap(),
        serde_json::to_string(&fmt).unwrap()
    );
    let mut session = Session::from_json(&config).unwrap();
    session.install_global().unwrap();
    let callsite = Callsites::global()
        .intern(
            CallsiteKind::Span,
            tracing::Level::INFO,
            "work",
            "app",
            &["n"],
        )
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let counter = Arc::new(AtomicU64::new(1));
    let workers: Vec<_> = (0..3)
        .map(|_| {
            let stop = Arc::clone(&stop);
            let counter = Arc::clone(&counter);
            thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let n = counter.fetch_add(1, Ordering::Relaxed);
                    let handle =
                        spans::create(callsite, spans::PARENT_NONE, &i64_value(n as i64)).unwrap();
                    spans::enter(handle).unwrap();
                    spans::exit(handle).unwrap();
                    spans::end(handle).unwrap();
                }
            })
        })
        .collect();
    for round in 0..4000 {
        let filter = if round % 2 == 0 {
            "app=info"
        } else {
            "other=info"
        };
        session.set_layer_filter(1, filter).unwrap();
        if round % 2 == 1 {
            thread::yield_now();
        }
    }
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.join().unwrap();
    }
    session.uninstall().unwrap();
    let text = std::fs::read_to_string(&fmt).unwrap_or_default();
    let new_lines: Vec<&str> = text.lines().filter(|line| line.contains("work")).collect();
    let without: Vec<&str> = new_lines
        .iter()
        .copied()
        .filter(|line| !line.contains("n="))
        .collect();
    eprintln!(
        "fmt `work` lines {}, without n {}",
        new_lines.len(),
        without.len()
    );
    assert!(without.is_empty(), "{:?}", &without[..without.len().min(5)]);
}
