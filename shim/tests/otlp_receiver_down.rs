//! With nothing listening at the endpoint, uninstall returns within the flush timeout, joins
//! the export threads and counts every span as dropped; nothing panics or hangs.

use std::{
    net::TcpListener,
    time::{Duration, Instant},
};

use tracing_bridge::Session;

fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[test]
fn uninstall_returns_within_the_flush_timeout_with_the_dropped_count() {
    for protocol in ["grpc", "http/protobuf", "http/json"] {
        let config = format!(
            r#"{{"layers":[{{"kind":"otlp","protocol":"{protocol}",
                "endpoint":"http://127.0.0.1:{}","flushTimeoutMs":400,
                "batch":{{"scheduledDelayMs":600000}}}}]}}"#,
            closed_port()
        );
        let mut session = Session::from_json(&config).unwrap();
        session.install_current_thread().unwrap();
        for index in 0..25 {
            tracing::info_span!("work", index).in_scope(|| tracing::info!("step"));
        }
        let started = Instant::now();
        session.flush().unwrap();
        session.uninstall().unwrap();
        let took = started.elapsed();
        assert!(took < Duration::from_secs(3), "{protocol}: took {took:?}");
        assert_eq!(session.dropped_spans(), 25, "{protocol}");
    }
}
