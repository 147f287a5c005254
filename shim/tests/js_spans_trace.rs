//! Spans made through the JS-span API are real `tracing` spans: native spans created while one
//! is entered are its children, a remote `traceparent` becomes the OpenTelemetry parent, and the
//! span's own `traceparent` can be read back.

#[path = "support/otlp_json.rs"]
mod otlp_json;

use otlp_json::read_spans;
use tracing_bridge::{
    js_spans::{
        callsites::{CallsiteKind, Callsites},
        spans, trace_context,
    },
    ErrorKind, Session,
};

fn string_value(text: &str) -> Vec<u8> {
    let mut bytes = vec![1];
    bytes.extend((text.len() as u32).to_le_bytes());
    bytes.extend(text.as_bytes());
    bytes
}

#[test]
fn one_trace_across_js_and_native_spans_with_a_remote_parent() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spans.jsonl");
    let config = format!(
        r#"{{"layers":[{{"kind":"otlpJson","writer":{{"file":{}}},"batch":{{"scheduledDelayMs":600000}}}}]}}"#,
        serde_json::to_string(&path).unwrap()
    );
    let mut session = Session::from_json(&config).unwrap();
    session.install_current_thread().unwrap();

    let request = Callsites::global()
        .intern(
            CallsiteKind::Span,
            tracing::Level::INFO,
            "request",
            "app",
            &["route"],
        )
        .unwrap();
    let handle = spans::create(request, spans::PARENT_NONE, &string_value("/users")).unwrap();
    assert_ne!(handle, spans::DISABLED);
    spans::with_span(handle, "test", |span| {
        let remote = trace_context::RemoteParent::parse(
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "vendor=value",
        )
        .unwrap();
        trace_context::set_remote_parent(span, remote);
    })
    .unwrap();
    spans::enter(handle).unwrap();
    tracing::info_span!("native work").in_scope(|| tracing::info!("computing"));
    let (traceparent, tracestate) =
        trace_context::trace_context(&tracing::Span::current()).expect("an OTel layer records it");
    assert!(
        traceparent.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"),
        "{traceparent}"
    );
    assert!(traceparent.ends_with("-01"));
    assert_eq!(tracestate, "vendor=value");
    spans::exit(handle).unwrap();
    assert_eq!(
        spans::exit(handle).unwrap_err().kind(),
        ErrorKind::InvalidParameter,
        "not entered any more"
    );
    spans::end(handle).unwrap();
    assert_eq!(
        spans::end(handle).unwrap_err().kind(),
        ErrorKind::UnknownSpan
    );
    assert_eq!(spans::open_count(), 0);
    session.uninstall().unwrap();

    let spans = read_spans(&path);
    let request = &spans["request"];
    let native = &spans["native work"];
    assert_eq!(hex(&request.trace_id), "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(hex(&request.parent_span_id), "00f067aa0ba902b7");
    assert_eq!(native.trace_id, request.trace_id);
    assert_eq!(native.parent_span_id, request.span_id);
    assert_eq!(
        traceparent,
        format!("00-{}-{}-01", hex(&request.trace_id), hex(&request.span_id))
    );
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}
