//! Every bad input to the C ABI returns an error code and a message; nothing panics or aborts.

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

fn new_subscriber(config: &[u8]) -> (R, *mut tracing_bridge_subscriber) {
    let mut out = ptr::null_mut();
    let result = unsafe { tracing_bridge_subscriber_new(config.as_ptr(), config.len(), &mut out) };
    (result, out)
}

#[test]
fn versions_are_reported() {
    assert_eq!(tracing_bridge_abi_version(), TRACING_BRIDGE_ABI_VERSION);
    let version = unsafe { std::ffi::CStr::from_ptr(tracing_bridge_version()) };
    assert_eq!(version.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
}

#[test]
fn null_pointers_are_rejected_by_name() {
    let config = br#"{"layers":[]}"#;
    let mut out = ptr::null_mut();
    let result = unsafe { tracing_bridge_subscriber_new(ptr::null(), 3, &mut out) };
    assert_eq!(result, R::NullParameter);
    assert_eq!(last_error(), "config must not be null");
    let result =
        unsafe { tracing_bridge_subscriber_new(config.as_ptr(), config.len(), ptr::null_mut()) };
    assert_eq!(result, R::NullParameter);
    assert_eq!(last_error(), "out must not be null");
    unsafe {
        assert_eq!(
            tracing_bridge_subscriber_install_global(ptr::null_mut()),
            R::NullParameter
        );
        assert_eq!(
            tracing_bridge_subscriber_install_current_thread(ptr::null_mut()),
            R::NullParameter
        );
        assert_eq!(
            tracing_bridge_subscriber_flush(ptr::null_mut()),
            R::NullParameter
        );
        assert_eq!(
            tracing_bridge_subscriber_uninstall(ptr::null_mut()),
            R::NullParameter
        );
        assert_eq!(last_error(), "subscriber must not be null");
        tracing_bridge_subscriber_free(ptr::null_mut());
        assert_eq!(
            tracing_bridge_last_error_message(ptr::null_mut(), 0, ptr::null_mut()),
            R::NullParameter
        );
    }
}

#[test]
fn invalid_utf8_is_rejected() {
    let (result, out) = new_subscriber(b"{\"layers\":[\xff]}");
    assert_eq!(result, R::InvalidUtf8);
    assert!(out.is_null(), "out is written only on success");
    assert!(last_error().starts_with("config is not valid UTF-8"));
}

#[test]
fn malformed_config_is_rejected_with_the_field() {
    let (result, _) = new_subscriber(b"{\"layers\": [");
    assert_eq!(result, R::InvalidConfig);
    assert!(last_error().starts_with("invalid tracing config"));

    let (result, _) = new_subscriber(br#"{"layers":[{"kind":"fmt","colour":true}]}"#);
    assert_eq!(result, R::InvalidConfig);
    let message = last_error();
    assert!(
        message.contains("layers[0]") && message.contains("`colour`"),
        "{message}"
    );

    let (result, _) = new_subscriber(br#"{"layers":[{"kind":"fancy"}]}"#);
    assert_eq!(result, R::InvalidConfig);
    assert!(last_error().contains("`fancy`"));

    let nine_layers = format!(r#"{{"layers":[{}]}}"#, [r#"{"kind":"fmt"}"#; 9].join(","));
    let (result, _) = new_subscriber(nine_layers.as_bytes());
    assert_eq!(result, R::InvalidConfig);
    assert!(last_error().contains("at most 8"));
}

#[test]
fn invalid_filters_are_named() {
    let (result, _) = new_subscriber(br#"{"layers":[{"kind":"fmt","filter":"debug,x=loud"}]}"#);
    assert_eq!(result, R::InvalidFilter);
    assert!(last_error().contains("`x=loud` in layers[0].filter"));
}

#[test]
fn a_small_message_buffer_reports_the_size_needed() {
    let (result, _) = new_subscriber(b"not json");
    assert_eq!(result, R::InvalidConfig);
    let mut buffer = [0u8; 4];
    let mut written = 0usize;
    let result = unsafe {
        tracing_bridge_last_error_message(buffer.as_mut_ptr(), buffer.len(), &mut written)
    };
    assert_eq!(result, R::BufferTooSmall);
    assert_eq!(written, last_error().len());
}

#[test]
fn lifecycle_misuse_is_an_error_not_a_crash() {
    let (result, subscriber) = new_subscriber(br#"{"layers":[{"kind":"fmt","writer":"stderr"}]}"#);
    assert_eq!(result, R::Ok);
    unsafe {
        assert_eq!(
            tracing_bridge_subscriber_uninstall(subscriber),
            R::NotInstalled
        );
        assert_eq!(
            tracing_bridge_subscriber_install_current_thread(subscriber),
            R::Ok
        );
        assert_eq!(
            tracing_bridge_subscriber_install_current_thread(subscriber),
            R::AlreadyInstalled
        );
        let address = subscriber as usize;
        let from_other_thread = std::thread::spawn(move || {
            tracing_bridge_subscriber_uninstall(address as *mut tracing_bridge_subscriber)
        })
        .join()
        .unwrap();
        assert_eq!(from_other_thread, R::WrongThread);
        assert_eq!(tracing_bridge_subscriber_flush(subscriber), R::Ok);
        assert_eq!(tracing_bridge_subscriber_uninstall(subscriber), R::Ok);
        assert_eq!(
            tracing_bridge_subscriber_uninstall(subscriber),
            R::NotInstalled
        );
        tracing_bridge_subscriber_free(subscriber);
    }
}
