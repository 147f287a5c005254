//! What the OpenTelemetry layers count and report is final when they shut down: spans still
//! open on other threads are counted then, once, and ending them later changes nothing; the
//! JavaScript spans of the stopping config are ended (marked `tracing_bridge.unended`) and
//! exported instead of being lost.

use std::{
    sync::{mpsc, Arc, Barrier},
    thread,
};

use opentelemetry_proto::tonic::{common::v1::any_value::Value, trace::v1::Span};
#[path = "support/otlp_json.rs"]
mod otlp_json;

use otlp_json::read_spans;
use tracing_bridge::{
    js_spans::{
        callsites::{CallsiteKind, Callsites},
        spans,
    },
    Session,
};

fn otlp_json_config(path: &std::path::Path) -> String {
    format!(
        r#"{{"layers":[{{"kind":"otlpJson","writer":{{"file":{}}},"batch":{{"scheduledDelayMs":600000}}}}]}}"#,
        serde_json::to_string(path).unwrap()
    )
}

fn is_unended(span: &Span) -> bool {
    span.attributes.iter().any(|attribute| {
        attribute.key == "tracing_bridge.unended"
            && matches!(
                attribute
                    .value
                    .as_ref()
                    .and_then(|value| value.value.as_ref()),
                Some(Value::BoolValue(true))
            )
    })
}

/// Spans open on other threads while the session shuts down are counted at shutdown, and the
/// count stays the same when they end afterwards (before, the parents among them, whose SDK
/// spans had started, were counted once more as they ended: after the report).
#[test]
fn spans_open_at_shutdown_are_counted_once_before_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spans.jsonl");
    let mut session = Session::from_json(&otlp_json_config(&path)).unwrap();
    session.install_global().unwrap();
    const THREADS: usize = 3;
    const DEPTH: usize = 4;
    let opened = Arc::new(Barrier::new(THREADS + 1));
    let (release, released) = mpsc::channel::<()>();
    let released = Arc::new(std::sync::Mutex::new(released));
    let holders: Vec<_> = (0..THREADS)
        .map(|_| {
            let opened = Arc::clone(&opened);
            let released = Arc::clone(&released);
            thread::spawn(move || {
                // DEPTH nested spans: all but the innermost have a child, so their SDK spans
                // have started.
                let spans: Vec<_> = (0..DEPTH)
                    .map(|depth| {
                        let span = tracing::info_span!("held", depth);
                        let entered = span.clone().entered();
                        (span, entered)
                    })
                    .collect();
                opened.wait();
                let _ = released.lock().unwrap().recv();
                drop(spans.into_iter().rev().collect::<Vec<_>>());
            })
        })
        .collect();
    opened.wait();
    tracing::info_span!("done").in_scope(|| {});

    session.uninstall().unwrap();
    let at_shutdown = session.dropped_spans();
    assert_eq!(at_shutdown, (THREADS * DEPTH) as u64, "every held span");
    let exported = read_spans(&path);
    assert!(exported.contains_key("done"));
    assert!(!exported.contains_key("held"));

    for _ in 0..THREADS {
        release.send(()).unwrap();
    }
    for holder in holders {
        holder.join().unwrap();
    }
    assert_eq!(
        session.dropped_spans(),
        at_shutdown,
        "counted once, at shutdown"
    );
    assert!(!read_spans(&path).contains_key("held"));
}

/// A JavaScript span not ended when its config stops is ended then, exported with
/// `tracing_bridge.unended = true`, and its handle stays usable (and inert) until ended.
#[test]
fn js_spans_still_open_at_stop_are_ended_marked_and_exported() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spans.jsonl");
    let mut session = Session::from_json(&otlp_json_config(&path)).unwrap();
    session.install_current_thread().unwrap();
    let callsite = |name: &str| {
        Callsites::global()
            .intern(CallsiteKind::Span, tracing::Level::INFO, name, "app", &[])
            .unwrap()
    };
    let request = spans::create(callsite("request"), spans::PARENT_NONE, &[]).unwrap();
    let step = spans::create(callsite("step"), request, &[]).unwrap();
    spans::enter(step).unwrap();
    let ended = spans::create(callsite("ended"), request, &[]).unwrap();
    spans::end(ended).unwrap();
    assert_eq!(spans::open_count(), 2);

    session.uninstall().unwrap();
    assert_eq!(session.dropped_spans(), 0, "exported, not lost");
    assert_eq!(spans::open_count(), 0);
    let exported = read_spans(&path);
    assert!(is_unended(&exported["request"]));
    assert!(is_unended(&exported["step"]));
    assert!(!is_unended(&exported["ended"]));
    assert_eq!(exported["step"].parent_span_id, exported["request"].span_id);

    // The handles do nothing now, and ending them only forgets them.
    spans::exit(step).unwrap();
    spans::enter(step).unwrap();
    spans::exit(step).unwrap();
    assert!(spans::with_span(request, "test", |span| span.is_none()).unwrap());
    spans::end(step).unwrap();
    spans::end(request).unwrap();
    assert!(spans::end(request).is_err(), "forgotten now");
    assert_eq!(read_spans(&path).len(), 3, "nothing twice");

    // A later config is not affected by the old handles.
    let path = dir.path().join("later.jsonl");
    let mut later = Session::from_json(&otlp_json_config(&path)).unwrap();
    later.install_current_thread().unwrap();
    let fresh = spans::create(callsite("fresh"), spans::PARENT_CURRENT, &[]).unwrap();
    spans::end(fresh).unwrap();
    later.uninstall().unwrap();
    assert!(!is_unended(&read_spans(&path)["fresh"]));
}
