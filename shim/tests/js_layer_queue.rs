//! The JS layer's queue, drained from Rust as JavaScript would: counts, capacity and order.

use tracing_bridge::{layers::js::JsSink, Session};

#[path = "support/js_sink.rs"]
mod js_sink;

fn drain_all(session: &Session) -> (usize, Vec<u8>) {
    let all = js_sink::drain(session, 0);
    let mut records = 0;
    let mut at = 0;
    while at < all.len() {
        let length = u32::from_le_bytes(all[at..at + 4].try_into().unwrap()) as usize;
        // Kinds below 10 are definitions (callsites, threads), not records of their own.
        if all[at + 4] >= 10 {
            records += 1;
        }
        at += 4 + length;
    }
    (records, all)
}

#[test]
fn events_of_every_thread_are_queued_whole_and_in_order() {
    let mut session = Session::from_json(
        r#"{"layers":[{"kind":"js","callbacks":["event","newSpan","close"],"filter":"info"}]}"#,
    )
    .unwrap();
    session.install_global().unwrap();
    let workers: Vec<_> = (0..4)
        .map(|worker| {
            std::thread::spawn(move || {
                let span = tracing::info_span!("worker", worker);
                let _entered = span.enter();
                for sequence in 0..1000u32 {
                    tracing::info!(sequence, "event");
                    tracing::debug!("filtered out");
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
    let (records, bytes) = drain_all(&session);
    // Per worker: its span's creation, 1000 events and its close.
    assert_eq!(records, 4 * 1002);
    assert!(bytes.len() > records * 20);
    assert_eq!(session.layer_extension::<JsSink>(0).unwrap().dropped(), 0);
    session.uninstall().unwrap();
}

#[test]
fn a_full_queue_drops_and_counts_exactly() {
    let mut session = Session::from_json(
        r#"{"layers":[{"kind":"js","callbacks":["event"],"capacity":5,"filter":"info"}]}"#,
    )
    .unwrap();
    session.install_current_thread().unwrap();
    for index in 0..12u32 {
        tracing::info!(index, "event");
    }
    let (records, _) = drain_all(&session);
    assert_eq!(records, 5);
    assert_eq!(session.layer_extension::<JsSink>(0).unwrap().dropped(), 7);
    tracing::info!("room again after draining");
    assert_eq!(drain_all(&session).0, 1);
    session.uninstall().unwrap();
}

#[test]
fn a_zero_capacity_is_a_config_error() {
    let error = Session::from_json(r#"{"layers":[{"kind":"js","capacity":0}]}"#).unwrap_err();
    assert!(error.message().contains("layers[0].capacity"), "{error}");
}
