//! OpenTelemetry span end times and thread names. A span made through the JS-span API ends when
//! it is ended (not at its last exit, as `tracing-opentelemetry` ends Rust spans), so an event
//! recorded after the last exit, and the time a span waits unentered, are inside it. Spans made
//! on a thread without a Rust name (as a JavaScript runtime's threads are) carry the OS name of
//! the thread as `thread.name`. Both with busy/idle times (the layer then sees every enter and
//! exit) and without (it sees no exit of a JS span).

use std::{
    path::Path,
    thread,
    time::{Duration, SystemTime},
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

fn text_attribute(span: &Span, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|attribute| attribute.key == key)
        .and_then(|attribute| attribute.value.as_ref()?.value.as_ref())
        .and_then(|value| match value {
            Value::StringValue(text) => Some(text.clone()),
            _ => None,
        })
}

fn session(path: &Path, busy_idle: bool) -> Session {
    let config = format!(
        r#"{{"layers":[{{"kind":"otlpJson","writer":{{"file":{}}},"batch":{{"scheduledDelayMs":600000}},"spanAttributes":{{"busyIdle":{busy_idle}}}}}]}}"#,
        serde_json::to_string(path).unwrap()
    );
    Session::from_json(&config).unwrap()
}

fn nanos(time: SystemTime) -> u64 {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

#[test]
fn js_spans_end_when_ended_and_unnamed_threads_get_their_os_name() {
    end_times_and_thread_names(true);
}

#[test]
fn js_spans_end_when_ended_without_busy_idle_times() {
    end_times_and_thread_names(false);
}

fn end_times_and_thread_names(busy_idle: bool) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spans.jsonl");

    // Like the JavaScript thread: started outside Rust's naming, named by its runtime.
    let path_in_thread = path.clone();
    let (ended_at, rust_exited_at) = thread::spawn(move || {
        #[cfg(target_os = "linux")]
        // SAFETY: PR_SET_NAME reads a NUL-terminated name of at most 16 bytes.
        unsafe {
            libc::prctl(libc::PR_SET_NAME, c"js-runtime".as_ptr());
        }
        let mut session = session(&path_in_thread, busy_idle);
        session.install_current_thread().unwrap();

        let callsites = Callsites::global();
        let span_callsite = callsites
            .intern(
                CallsiteKind::Span,
                tracing::Level::INFO,
                "awaiting",
                "js",
                &[],
            )
            .unwrap();
        let event_callsite = callsites
            .intern(
                CallsiteKind::Event,
                tracing::Level::ERROR,
                "event",
                "js",
                &["message"],
            )
            .unwrap();
        // `tracing.span` with an async function that rejects: entered for its synchronous
        // part, exited at the first await, failed and ended later.
        let handle = spans::create(span_callsite, spans::PARENT_NONE, &[]).unwrap();
        spans::enter(handle).unwrap();
        spans::exit(handle).unwrap();
        thread::sleep(Duration::from_millis(50));
        let mut message = vec![1];
        message.extend(11u32.to_le_bytes());
        message.extend(b"span failed");
        spans::event(event_callsite, handle, &message).unwrap();
        spans::end(handle).unwrap();
        let ended_at = SystemTime::now();

        // A Rust span keeps `tracing-opentelemetry`'s rule: it ends at its last exit.
        let rust_span = tracing::info_span!("rust");
        rust_span.in_scope(|| {});
        let rust_exited_at = SystemTime::now();
        thread::sleep(Duration::from_millis(50));
        drop(rust_span);

        session.uninstall().unwrap();
        (ended_at, rust_exited_at)
    })
    .join()
    .unwrap();

    let spans = read_spans(&path);
    let awaiting = &spans["awaiting"];
    let duration = awaiting.end_time_unix_nano - awaiting.start_time_unix_nano;
    assert!(
        duration >= 50_000_000,
        "the JS span lasts until it is ended, not until its first exit: {duration} ns"
    );
    assert!(awaiting.end_time_unix_nano <= nanos(ended_at));
    let failed = &awaiting.events[0];
    assert_eq!(failed.name, "span failed");
    assert!(
        failed.time_unix_nano <= awaiting.end_time_unix_nano,
        "the event is inside its span"
    );

    let rust = &spans["rust"];
    assert!(
        rust.end_time_unix_nano <= nanos(rust_exited_at),
        "a Rust span ends at its last exit"
    );

    for span in [awaiting, rust] {
        assert!(text_attribute(span, "thread.id").is_none(), "an integer");
        assert_eq!(
            span.attributes
                .iter()
                .any(|attribute| attribute.key == "busy_ns"),
            busy_idle,
            "{}",
            span.name
        );
        #[cfg(target_os = "linux")]
        assert_eq!(
            text_attribute(span, "thread.name").as_deref(),
            Some("js-runtime"),
            "{}",
            span.name
        );
    }
}
