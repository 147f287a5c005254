//! Bad input to the JS-span functions of the C ABI: typed results and messages, never a panic.

use std::ptr;

use tracing_bridge::{ffi::*, tracing_bridge_result as R};

fn last_error() -> String {
    let mut buffer = vec![0u8; 4096];
    let mut written = 0usize;
    let result = unsafe {
        tracing_bridge_last_error_message(buffer.as_mut_ptr(), buffer.len(), &mut written)
    };
    assert_eq!(result, R::Ok);
    String::from_utf8(buffer[..written].to_vec()).unwrap()
}

fn callsite(kind: u32, level: u32, spec: &[u8]) -> (R, u32) {
    let mut id = 0;
    let result = unsafe {
        tracing_bridge_js_callsite_new(kind, level, spec.as_ptr(), spec.len() as u32, &mut id)
    };
    (result, id)
}

#[test]
fn bad_callsites_are_invalid_parameters() {
    assert_eq!(callsite(2, 3, b"a\0t\0").0, R::InvalidParameter);
    assert!(last_error().contains("kind must be 0"));
    assert_eq!(callsite(0, 9, b"a\0t\0").0, R::InvalidParameter);
    assert!(last_error().contains("level must be 1"));
    assert_eq!(callsite(0, 3, b"a\0t").0, R::InvalidParameter);
    assert!(last_error().contains("NUL"));
    assert_eq!(callsite(0, 3, b"a\0").0, R::InvalidParameter);
    assert_eq!(callsite(0, 3, b"\xff\0t\0").0, R::InvalidUtf8);
    assert_eq!(callsite(0, 3, b"\0t\0").0, R::InvalidParameter);
    assert!(last_error().contains("span name"));
    let mut id = 0;
    assert_eq!(
        unsafe { tracing_bridge_js_callsite_new(0, 3, ptr::null(), 4, &mut id) },
        R::NullParameter
    );
    let spec: &[u8] = b"a\0t\0";
    assert_eq!(
        unsafe { tracing_bridge_js_callsite_new(0, 3, spec.as_ptr(), 4, ptr::null_mut()) },
        R::NullParameter
    );
}

#[test]
fn unknown_handles_and_bad_values_fail_without_effect() {
    let (result, span_callsite) = callsite(0, 3, b"work\0test\0count\0");
    assert_eq!(result, R::Ok);
    let (_, event_callsite) = callsite(1, 3, b"event\0test\0message\0");
    // Unknown callsite, wrong kind, malformed values, unknown parent: handle 0 and a message.
    assert_eq!(
        unsafe { tracing_bridge_js_span_new(999_999, 0, ptr::null(), 0) },
        0
    );
    assert!(last_error().contains("callsite 999999 is unknown"));
    assert_eq!(
        unsafe { tracing_bridge_js_span_new(event_callsite, 0, [0u8].as_ptr(), 1) },
        0
    );
    assert!(last_error().contains("for events"));
    assert_eq!(
        unsafe { tracing_bridge_js_span_new(span_callsite, 0, [9u8].as_ptr(), 1) },
        0
    );
    assert!(last_error().contains("tag 9"));
    assert_eq!(
        unsafe { tracing_bridge_js_span_new(span_callsite, 0, ptr::null(), 5) },
        0
    );
    assert!(last_error().contains("values must not be null"));
    assert_eq!(
        unsafe { tracing_bridge_js_span_new(span_callsite, 12345, [0u8].as_ptr(), 1) },
        0
    );
    assert!(last_error().contains("parent"));
    assert_eq!(
        unsafe { tracing_bridge_js_event(span_callsite, 0, [0u8].as_ptr(), 1) },
        R::InvalidParameter
    );
    for call in [
        tracing_bridge_js_span_enter,
        tracing_bridge_js_span_exit,
        tracing_bridge_js_span_end,
    ] {
        assert_eq!(call(77), R::UnknownSpan);
        assert!(last_error().contains("span handle 77 is unknown"));
    }
    // The disabled handle accepts everything and does nothing.
    for call in [
        tracing_bridge_js_span_enter,
        tracing_bridge_js_span_exit,
        tracing_bridge_js_span_end,
    ] {
        assert_eq!(call(TRACING_BRIDGE_SPAN_DISABLED), R::Ok);
    }
    let mut written = 1u32;
    let mut buffer = [0u8; 8];
    assert_eq!(
        unsafe {
            tracing_bridge_js_span_trace_context(
                TRACING_BRIDGE_PARENT_CURRENT,
                buffer.as_mut_ptr(),
                8,
                &mut written,
            )
        },
        R::Ok
    );
    assert_eq!(written, 0, "no OpenTelemetry layer: no trace context");
    let bad = b"00-xyz";
    assert_eq!(
        unsafe {
            tracing_bridge_js_span_set_remote_parent(
                TRACING_BRIDGE_SPAN_DISABLED,
                bad.as_ptr(),
                bad.len() as u32,
                ptr::null(),
                0,
            )
        },
        R::InvalidParameter
    );
    assert!(last_error().contains("traceparent"));
}

/// A session with an fmt layer on stderr, installed on this thread.
fn fmt_session() -> tracing_bridge::Session {
    let mut session =
        tracing_bridge::Session::from_json(r#"{"layers":[{"kind":"fmt","writer":"stderr"}]}"#)
            .unwrap();
    session.install_current_thread().unwrap();
    session
}

#[test]
fn a_span_lives_until_ended_once() {
    let session = fmt_session();
    let (_, span_callsite) = callsite(0, 3, b"once\0test\0");
    let handle = unsafe { tracing_bridge_js_span_new(span_callsite, 0, ptr::null(), 0) };
    assert!(handle != 0 && handle != TRACING_BRIDGE_SPAN_DISABLED);
    assert_eq!(tracing_bridge_js_span_open_count(), 1);
    assert_eq!(tracing_bridge_js_span_exit(handle), R::InvalidParameter);
    assert!(last_error().contains("not entered"));
    assert_eq!(tracing_bridge_js_span_enter(handle), R::Ok);
    assert_eq!(tracing_bridge_js_span_enter(handle), R::Ok);
    assert_eq!(
        tracing_bridge_js_span_end(handle),
        R::Ok,
        "ends while entered"
    );
    assert_eq!(tracing_bridge_js_span_end(handle), R::UnknownSpan);
    assert_eq!(tracing_bridge_js_span_open_count(), 0);
    // Handles belong to their thread.
    let other = unsafe { tracing_bridge_js_span_new(span_callsite, 0, ptr::null(), 0) };
    let result = std::thread::spawn(move || tracing_bridge_js_span_end(other))
        .join()
        .unwrap();
    assert_eq!(result, R::UnknownSpan);
    assert_eq!(tracing_bridge_js_span_end(other), R::Ok);
    session.uninstall().unwrap();
}

#[test]
fn a_span_made_entered_is_entered_once_and_fails_as_span_new_fails() {
    let session = fmt_session();
    let (_, span_callsite) = callsite(0, 3, b"entered\0test\0count\0");
    let handle = unsafe { tracing_bridge_js_span_new_entered(span_callsite, 0, [0u8].as_ptr(), 1) };
    assert!(handle != 0 && handle != TRACING_BRIDGE_SPAN_DISABLED);
    // Native spans made now are its children: it is the current span.
    let current = tracing::Span::current();
    assert_eq!(current.metadata().map(|meta| meta.name()), Some("entered"));
    assert_eq!(tracing_bridge_js_span_exit(handle), R::Ok, "entered once");
    assert_eq!(tracing_bridge_js_span_exit(handle), R::InvalidParameter);
    assert!(tracing::Span::current().is_none());
    assert_eq!(tracing_bridge_js_span_end(handle), R::Ok);
    assert_eq!(tracing_bridge_js_span_open_count(), 0);
    // Bad input: handle 0 and a message, as for tracing_bridge_js_span_new.
    assert_eq!(
        unsafe { tracing_bridge_js_span_new_entered(span_callsite, 0, [9u8].as_ptr(), 1) },
        0
    );
    assert!(last_error().contains("tag 9"));
    assert_eq!(tracing_bridge_js_span_open_count(), 0);
    session.uninstall().unwrap();
}
