//! The ids JS layers give spans, kept in a table shared by a config's JS layers
//! (`shim/src/layers/js/mod.rs`, `SpanTable`), or in a span's extensions when its entry is taken:
//! closes on other threads, of outer spans, of spans only some layers see, of spans whose entry was
//! taken and of spans whose creation was dropped must still name the span that closes, with the
//! id it was announced with, never reused.

use std::collections::HashSet;

use tracing_bridge::Session;

#[path = "support/js_sink.rs"]
mod js_sink;

/// The tests install globally, one at a time.
static GLOBAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

use js_sink::KIND_NEW_SPAN;

/// The (kind, span id) of each new-span and close record queued for the JS layer at `index`.
fn span_records(session: &Session, index: usize) -> Vec<(u8, u64)> {
    js_sink::span_records(&js_sink::drain(session, index))
}

/// Every close names a span announced before and still open; every span announced closes once.
fn assert_consistent(records: &[(u8, u64)], spans: usize) {
    assert_closes(records);
    let announced = records.iter().filter(|(kind, _)| *kind == KIND_NEW_SPAN);
    assert_eq!(announced.count(), spans);
}

/// Every close names a span announced before and still open, every span announced closes once,
/// and no id is announced twice.
fn assert_closes(records: &[(u8, u64)]) {
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
}

/// Two JS layers that see every INFO span.
const TWO_LAYERS: &str = r#"{"layers":[
    {"kind":"js","callbacks":["newSpan","close"],"filter":"info"},
    {"kind":"js","callbacks":["newSpan","close"],"filter":"info"}
]}"#;

/// A session of `config`, installed globally, with the lock that keeps the tests apart.
fn installed(config: &str) -> (std::sync::MutexGuard<'static, ()>, Session) {
    let global = GLOBAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut session = Session::from_json(config).unwrap();
    session.install_global().unwrap();
    (global, session)
}

/// Both layers of [`TWO_LAYERS`] saw `spans` spans, consistently, and name each span alike (the
/// ids are the span's, not the layer's); the two queues may interleave the threads' records
/// differently.
fn assert_layers_agree(session: &Session, spans: usize) {
    let mut first = span_records(session, 0);
    let mut second = span_records(session, 1);
    assert_consistent(&first, spans);
    assert_consistent(&second, spans);
    first.sort_unstable();
    second.sort_unstable();
    assert_eq!(first, second);
}

#[test]
fn closes_name_their_span_across_threads_nesting_and_layers() {
    let (_global, session) = installed(TWO_LAYERS);
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
    assert_layers_agree(&session, spans);
    session.uninstall().unwrap();
}

#[test]
fn many_open_spans_share_entries_through_the_extensions() {
    // 4 threads hold 3 000 spans open each (the table has 1 024 entries), then close them out of
    // order, half of them on another thread.
    let (_global, session) = installed(TWO_LAYERS);
    let barrier = std::sync::Barrier::new(4);
    let (to_closer, from_makers) = std::sync::mpsc::channel::<Vec<tracing::Span>>();
    std::thread::scope(|scope| {
        for thread in 0..4u32 {
            let (barrier, to_closer) = (&barrier, to_closer.clone());
            scope.spawn(move || {
                barrier.wait();
                let mut open: Vec<tracing::Span> = (0..3000u32)
                    .map(|index| tracing::info_span!("held", thread, index))
                    .collect();
                let mut kept = Vec::new();
                let mut sent = Vec::new();
                for (index, span) in open.drain(..).enumerate() {
                    match index % 3 {
                        0 => drop(span),
                        1 => sent.push(span),
                        _ => kept.push(span),
                    }
                }
                to_closer.send(sent).unwrap();
                kept.reverse();
                drop(kept);
            });
        }
        drop(to_closer);
        for spans in from_makers {
            drop(spans);
        }
    });
    assert_layers_agree(&session, 12_000);
    session.uninstall().unwrap();
}

#[test]
fn spans_seen_by_some_layers_or_dropped_let_their_entry_go() {
    // The registry reuses a slot's id once its generation (13 bits) wraps: 20 000 spans made and
    // closed one after the other on one thread reuse each id. An entry still held by an old span
    // would hand its JavaScript id to the new one. Layer 0 sees INFO spans, layer 1 only WARN;
    // layer 2 holds one record, so it drops most creations.
    let (_global, session) = installed(
        r#"{"layers":[
            {"kind":"js","callbacks":["newSpan","close"],"filter":"info"},
            {"kind":"js","callbacks":["newSpan","close"],"filter":"warn"},
            {"kind":"js","callbacks":["newSpan","close"],"filter":"info","capacity":1}
        ]}"#,
    );
    let mut warn_spans = 0;
    for round in 0..20_000u32 {
        if round % 5 == 0 {
            drop(tracing::warn_span!("both", round));
            warn_spans += 1;
        } else {
            drop(tracing::info_span!("first only", round));
        }
        if round % 1000 == 0 {
            // Layer 2 takes a few creations each time its queue is emptied.
            let records = span_records(&session, 2);
            assert_closes(&records);
        }
    }
    assert_consistent(&span_records(&session, 0), 20_000);
    assert_consistent(&span_records(&session, 1), warn_spans);
    assert_closes(&span_records(&session, 2));
    session.uninstall().unwrap();
}
