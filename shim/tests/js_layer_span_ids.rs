//! The ids a JS layer gives spans in their close records: the close of a span the calling
//! thread's layer announced last skips the registry lookup (`shim/src/layers/js/mod.rs`,
//! `RecentSpan`); closes on other threads, of outer spans and of other layers' spans must still
//! name the span that closes.

use std::collections::HashSet;

use tracing_bridge::Session;

#[path = "support/js_sink.rs"]
mod js_sink;

const KIND_NEW_SPAN: u8 = 10;
const KIND_CLOSE: u8 = 16;

/// The (kind, span id) of each new-span and close record queued for the JS layer at `index`.
fn span_records(session: &Session, index: usize) -> Vec<(u8, u64)> {
    let all = js_sink::drain(session, index);
    let f64_at = |at: usize| f64::from_le_bytes(all[at..at + 8].try_into().unwrap()) as u64;
    let mut records = Vec::new();
    let mut at = 0;
    while at < all.len() {
        let length = u32::from_le_bytes(all[at..at + 4].try_into().unwrap()) as usize;
        match all[at + 4] {
            // u32 callsite, then the span's id.
            KIND_NEW_SPAN => records.push((KIND_NEW_SPAN, f64_at(at + 9))),
            KIND_CLOSE => records.push((KIND_CLOSE, f64_at(at + 5))),
            _ => {}
        }
        at += 4 + length;
    }
    records
}

/// Every close names a span announced before and still open; every span announced closes once.
fn assert_consistent(records: &[(u8, u64)], spans: usize) {
    let mut open = HashSet::new();
    let mut seen = HashSet::new();
    for &(kind, id) in records {
        if kind == KIND_NEW_SPAN {
            assert!(seen.insert(id), "span id {id} announced twice");
            open.insert(id);
        } else {
            assert!(open.remove(&id), "close of span {id}, which is not open");
        }
    }
    assert!(open.is_empty(), "spans never closed: {open:?}");
    assert_eq!(seen.len(), spans);
}

#[test]
fn closes_name_their_span_across_threads_nesting_and_layers() {
    let mut session = Session::from_json(
        r#"{"layers":[
            {"kind":"js","callbacks":["newSpan","close"],"filter":"info"},
            {"kind":"js","callbacks":["newSpan","close"],"filter":"info"}
        ]}"#,
    )
    .unwrap();
    session.install_global().unwrap();
    let (to_worker, from_main) = std::sync::mpsc::channel::<tracing::Span>();
    let worker = std::thread::spawn(move || {
        for span in from_main {
            // Sometimes the worker makes a span of its own before the main thread's one closes.
            let own = tracing::info_span!("worker span");
            drop(span);
            drop(own);
        }
    });
    let mut spans = 0;
    for round in 0..2000u32 {
        // Made here (this thread's recent span), closed on the worker.
        let span = tracing::info_span!("sent", round);
        to_worker.send(span).unwrap();
        // Nested: the inner one closes first (recent), the outer one is looked up.
        let outer = tracing::info_span!("outer", round);
        let inner = tracing::info_span!(parent: &outer, "inner", round);
        drop(inner);
        drop(outer);
        // Overlapping: the first closes while the second is this thread's recent span.
        let first = tracing::info_span!("first", round);
        let second = tracing::info_span!("second", round);
        drop(first);
        drop(second);
        // Closed at once, after the worker may have closed a span made here.
        drop(tracing::info_span!("alone", round));
        spans += 7;
    }
    drop(to_worker);
    worker.join().unwrap();
    let mut first = span_records(&session, 0);
    let mut second = span_records(&session, 1);
    assert_consistent(&first, spans);
    assert_consistent(&second, spans);
    // Both layers name each span alike (the ids are the span's, not the layer's); the two
    // queues may interleave the threads' records differently.
    first.sort_unstable();
    second.sort_unstable();
    assert_eq!(first, second);
    session.uninstall().unwrap();
}
