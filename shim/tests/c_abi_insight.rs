//! The C functions for runtime filters and flame graph rendering: codes, messages, and the
//! error buffer of the render call (which may run on a thread other than the caller's).

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

#[test]
fn set_filter_reports_invalid_directives_and_bad_indexes() {
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        r#"{{"layers":[{{"kind":"fmt","writer":{{"file":{}}}}}]}}"#,
        serde_json::to_string(&dir.path().join("x.log")).unwrap()
    );
    let mut subscriber = ptr::null_mut();
    unsafe {
        assert_eq!(
            tracing_bridge_subscriber_new(config.as_ptr(), config.len(), &mut subscriber),
            R::Ok
        );
        let debug = b"debug";
        assert_eq!(
            tracing_bridge_subscriber_set_filter(subscriber, debug.as_ptr(), debug.len()),
            R::NotInstalled
        );
        assert_eq!(
            tracing_bridge_subscriber_install_current_thread(subscriber),
            R::Ok
        );
        assert_eq!(
            tracing_bridge_subscriber_set_filter(subscriber, debug.as_ptr(), debug.len()),
            R::Ok
        );
        let invalid = b"x=loud";
        assert_eq!(
            tracing_bridge_subscriber_set_filter(subscriber, invalid.as_ptr(), invalid.len()),
            R::InvalidFilter
        );
        assert!(last_error().contains("`x=loud`"));
        assert_eq!(
            tracing_bridge_subscriber_set_layer_filter(subscriber, 1, debug.as_ptr(), debug.len()),
            R::InvalidConfig
        );
        assert_eq!(
            tracing_bridge_subscriber_set_layer_filter(subscriber, 0, ptr::null(), 1),
            R::NullParameter
        );
        assert_eq!(last_error(), "directives must not be null");
        assert_eq!(tracing_bridge_subscriber_uninstall(subscriber), R::Ok);
        tracing_bridge_subscriber_free(subscriber);
    }
}

#[test]
fn render_errors_reach_the_error_buffer_cut_to_its_size() {
    let dir = tempfile::tempdir().unwrap();
    let request = format!(
        r#"{{"folded":{},"svg":{}}}"#,
        serde_json::to_string(&dir.path().join("missing.folded")).unwrap(),
        serde_json::to_string(&dir.path().join("out.svg")).unwrap()
    );
    let mut buffer = vec![0u8; 4096];
    let mut written = 0usize;
    let result = unsafe {
        tracing_bridge_flame_render_svg(
            request.as_ptr(),
            request.len(),
            buffer.as_mut_ptr(),
            buffer.len(),
            &mut written,
        )
    };
    assert_eq!(result, R::FileNotReadable);
    let message = String::from_utf8(buffer[..written].to_vec()).unwrap();
    assert!(message.contains("missing.folded"), "{message}");
    assert_eq!(last_error(), message);

    let mut small = [0u8; 10];
    let result = unsafe {
        tracing_bridge_flame_render_svg(
            request.as_ptr(),
            request.len(),
            small.as_mut_ptr(),
            small.len(),
            &mut written,
        )
    };
    assert_eq!(result, R::FileNotReadable);
    assert_eq!(&small[..written], &message.as_bytes()[..10]);

    let bad = br#"{"folded":"a","svg":"b","options":{"style":"sideways"}}"#;
    let result = unsafe {
        tracing_bridge_flame_render_svg(
            bad.as_ptr(),
            bad.len(),
            ptr::null_mut(),
            0,
            ptr::null_mut(),
        )
    };
    assert_eq!(result, R::InvalidConfig);
    assert!(last_error().contains("`sideways`"));
}

#[test]
fn render_succeeds_with_an_empty_error() {
    let dir = tempfile::tempdir().unwrap();
    let folded = dir.path().join("in.folded");
    std::fs::write(&folded, "main; work 10\nmain; work; inner 5\n").unwrap();
    let svg = dir.path().join("out.svg");
    let request = format!(
        r#"{{"folded":{},"svg":{},"options":{{"style":"chart","title":"Mine"}}}}"#,
        serde_json::to_string(&folded).unwrap(),
        serde_json::to_string(&svg).unwrap()
    );
    let mut buffer = vec![0u8; 64];
    let mut written = 99usize;
    let result = unsafe {
        tracing_bridge_flame_render_svg(
            request.as_ptr(),
            request.len(),
            buffer.as_mut_ptr(),
            buffer.len(),
            &mut written,
        )
    };
    assert_eq!(result, R::Ok);
    assert_eq!(written, 0);
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(
        text.contains(">Mine<") && text.contains("inner (5 ns"),
        "{text}"
    );
}
