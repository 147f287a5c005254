//! Records made on the JavaScript thread while JavaScript is attached, delivered as
//! `bindings/js_delivery.ts` delivers them: straight from the shared buffer when nothing is
//! queued, else from the queue. A span's close made there while another thread's record about the
//! span waits in the queue must come after it (`JsSink::push_direct` goes the queue's way then).

use std::{
    cell::{Cell, RefCell},
    sync::mpsc,
};

use tracing_bridge::{
    layers::js::{JsSink, JsTarget, CONTROL_BYTES},
    Session,
};

#[path = "support/js_sink.rs"]
mod js_sink;

use js_sink::{span_records, KIND_CLOSE, KIND_EVENT, KIND_NEW_SPAN};

const SHARED_BYTES: usize = CONTROL_BYTES + 64 * 1024;

thread_local! {
    /// The JavaScript thread's side: the shared memory, the sink, the records in delivery order,
    /// and whether a wake came while delivering.
    static SHARED: RefCell<Vec<u8>> = RefCell::new(vec![0; SHARED_BYTES]);
    static SINK: Cell<Option<&'static JsSink>> = const { Cell::new(None) };
    static DELIVERED: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    static WOKEN_WHILE_DELIVERING: Cell<bool> = const { Cell::new(false) };
}

/// `JsDelivery.#wake`: delivers the records in the shared buffer, then the queue's if asked.
unsafe extern "C" fn wake(_layer: u32, direct_length: u32) {
    let shared = SHARED.with(|shared| shared.borrow_mut().as_mut_ptr());
    // SAFETY: the shared memory lives as long as this thread; only this thread uses it.
    unsafe {
        if *shared != 0 {
            WOKEN_WHILE_DELIVERING.set(true);
            return;
        }
        *shared = 1;
        WOKEN_WHILE_DELIVERING.set(false);
        let direct = std::slice::from_raw_parts(shared.add(CONTROL_BYTES), direct_length as usize);
        DELIVERED.with(|delivered| delivered.borrow_mut().extend_from_slice(direct));
        if direct_length == 0 || WOKEN_WHILE_DELIVERING.get() {
            drain_queue();
        }
        *shared = 0;
    }
}

/// Delivers what the queue holds (the poll of `js_delivery.ts`).
fn drain_queue() {
    let queued = js_sink::drain_sink(SINK.get().expect("attached"));
    DELIVERED.with(|delivered| delivered.borrow_mut().extend_from_slice(&queued));
}

#[test]
fn a_close_on_the_javascript_thread_follows_what_other_threads_queued_about_its_span() {
    let mut session = Session::from_json(
        r#"{"layers":[{"kind":"js","callbacks":["newSpan","event","close"],"filter":"info"}]}"#,
    )
    .unwrap();
    session.install_global().unwrap();
    // Kept for the test's life (the wake callback reaches it through `SINK`).
    let session: &'static Session = Box::leak(Box::new(session));
    let sink = session.layer_extension::<JsSink>(0).unwrap();
    SINK.set(Some(sink));
    let shared = SHARED.with(|shared| shared.borrow_mut().as_mut_ptr());
    sink.attach(Some(JsTarget {
        wake,
        shared,
        shared_len: SHARED_BYTES,
    }));
    const SPANS: u64 = 5_000;
    let (to_worker, worker_gets) = mpsc::channel::<tracing::Span>();
    let (to_main, main_gets) = mpsc::channel::<tracing::Span>();
    let worker = std::thread::spawn(move || {
        for span in worker_gets {
            span.in_scope(|| tracing::info!("on the worker"));
            to_main.send(span).unwrap();
        }
    });
    for round in 0..SPANS {
        let span = tracing::info_span!("made on the JavaScript thread", round);
        if round % 2 == 0 {
            // Its event waits in the queue (another thread's) when it closes here.
            to_worker.send(span).unwrap();
            drop(main_gets.recv().unwrap());
        } else {
            span.in_scope(|| tracing::info!("on the JavaScript thread"));
            drop(span);
        }
        if round % 100 == 0 {
            // SAFETY: the wake callback is called on this thread, as the library would.
            unsafe { wake(0, 0) };
        }
    }
    drop(to_worker);
    worker.join().unwrap();
    // SAFETY: as above.
    unsafe { wake(0, 0) };
    sink.attach(None);
    let delivered = DELIVERED.with(|delivered| delivered.take());
    let records = span_records(&delivered);
    // Each span: created, one event in it, closed, in that order.
    let mut state = std::collections::HashMap::new();
    for (kind, id) in records {
        let step = state.entry(id).or_insert(0);
        let expected = match *step {
            0 => KIND_NEW_SPAN,
            1 => KIND_EVENT,
            _ => KIND_CLOSE,
        };
        assert_eq!(kind, expected, "span {id}: record {kind} at step {step}");
        *step += 1;
    }
    assert_eq!(state.len() as u64, SPANS);
    assert!(state.values().all(|&steps| steps == 3), "every span closed");
    assert_eq!(sink.dropped(), 0);
    session.uninstall().unwrap();
}
