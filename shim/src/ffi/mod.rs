//! The C ABI. Every function is `tracing_bridge_*`; every fallible one returns a
//! [`tracing_bridge_result`] and, on failure, leaves a message for
//! [`tracing_bridge_last_error_message`] on the calling thread.
//!
//! The configuration crosses the boundary as one JSON document (see [`crate::config`]), so the
//! ABI stays the same size as layers and options are added.

mod filters;
mod flame;
mod guard;
mod last_error;
mod lifecycle;

pub use filters::{
    tracing_bridge_subscriber_set_filter, tracing_bridge_subscriber_set_layer_filter,
};
pub use flame::tracing_bridge_flame_render_svg;

use std::ffi::c_char;

use guard::{guarded, guarded_or, try_mut, try_ref, try_str};
use last_error::{last_error, last_result};
pub use lifecycle::{
    tracing_bridge_subscriber_diagnostics, tracing_bridge_subscriber_dropped_spans,
    tracing_bridge_subscriber_flush_with_message, tracing_bridge_subscriber_shutdown,
    tracing_bridge_subscriber_stop,
};

use crate::{error::tracing_bridge_result, session::Session};

/// The version of this C ABI. Bindings refuse a library whose ABI version differs from theirs.
pub const TRACING_BRIDGE_ABI_VERSION: u32 = 5;

/// A subscriber built from a configuration. Created by [`tracing_bridge_subscriber_new`],
/// released by [`tracing_bridge_subscriber_free`].
#[allow(non_camel_case_types)]
#[derive(Debug)]
pub struct tracing_bridge_subscriber {
    session: Session,
}

/// Returns [`TRACING_BRIDGE_ABI_VERSION`] as this library was built with it.
#[no_mangle]
pub extern "C" fn tracing_bridge_abi_version() -> u32 {
    TRACING_BRIDGE_ABI_VERSION
}

/// Returns the crate version as a static NUL-terminated string, e.g. `"0.1.0"`. Never free it.
#[no_mangle]
pub extern "C" fn tracing_bridge_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// Copies the message of the last failed call on this thread into `buf` (not NUL-terminated)
/// and writes its full length in bytes to `out_written`. The message is empty after a success.
///
/// Returns `BufferTooSmall` if `len` is smaller than the message; `out_written` then holds the
/// size needed and nothing is copied.
///
/// # Safety
/// `buf` must point to `len` writable bytes; `out_written` to a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn tracing_bridge_last_error_message(
    buf: *mut u8,
    len: usize,
    out_written: *mut usize,
) -> tracing_bridge_result {
    // Not guarded: `guarded` would clear the very message being read.
    guarded_or(tracing_bridge_result::Panic, || {
        let message = last_error();
        let Some(out_written) = out_written.as_mut() else {
            return tracing_bridge_result::NullParameter;
        };
        *out_written = message.len();
        if message.len() > len {
            return tracing_bridge_result::BufferTooSmall;
        }
        if message.is_empty() {
            return tracing_bridge_result::Ok;
        }
        if buf.is_null() {
            return tracing_bridge_result::NullParameter;
        }
        std::ptr::copy_nonoverlapping(message.as_ptr(), buf, message.len());
        tracing_bridge_result::Ok
    })
}

/// Returns the result of the last failed call on this thread (`Ok` after a success): for the
/// functions that report failure through their return value alone, such as
/// `tracing_bridge_js_span_new`'s 0.
#[no_mangle]
pub extern "C" fn tracing_bridge_last_error_result() -> tracing_bridge_result {
    guarded_or(tracing_bridge_result::Panic, last_result)
}

/// Builds a subscriber from a JSON configuration of `config_len` bytes at `config`. Output
/// files are opened and filters parsed now; nothing is installed yet. On success `*out` holds
/// the new subscriber.
///
/// # Safety
/// `config` must point to `config_len` readable bytes; `out` to a writable pointer.
#[no_mangle]
pub unsafe extern "C" fn tracing_bridge_subscriber_new(
    config: *const u8,
    config_len: usize,
    out: *mut *mut tracing_bridge_subscriber,
) -> tracing_bridge_result {
    guarded(|| {
        let out = try_mut(out, "out")?;
        let json = try_str(config, config_len, "config")?;
        let session = Session::from_json(json)?;
        *out = Box::into_raw(Box::new(tracing_bridge_subscriber { session }));
        Ok(())
    })
}

/// Installs `subscriber` as the global subscriber of this library: every thread's spans and
/// events reach it. Fails with `GlobalAlreadyActive` while another one is installed.
///
/// # Safety
/// `subscriber` must come from [`tracing_bridge_subscriber_new`] and not be freed.
#[no_mangle]
pub unsafe extern "C" fn tracing_bridge_subscriber_install_global(
    subscriber: *mut tracing_bridge_subscriber,
) -> tracing_bridge_result {
    guarded(|| try_mut(subscriber, "subscriber")?.session.install_global())
}

/// Installs `subscriber` for the calling thread only.
///
/// # Safety
/// As for [`tracing_bridge_subscriber_install_global`].
#[no_mangle]
pub unsafe extern "C" fn tracing_bridge_subscriber_install_current_thread(
    subscriber: *mut tracing_bridge_subscriber,
) -> tracing_bridge_result {
    guarded(|| {
        try_mut(subscriber, "subscriber")?
            .session
            .install_current_thread()
    })
}

/// Writes out everything the subscriber's layers buffer. Layers that export (otlp, otlpJson)
/// return once the exporter has confirmed, or after their flush timeout.
///
/// # Safety
/// As for [`tracing_bridge_subscriber_install_global`].
#[no_mangle]
pub unsafe extern "C" fn tracing_bridge_subscriber_flush(
    subscriber: *mut tracing_bridge_subscriber,
) -> tracing_bridge_result {
    guarded(|| try_ref(subscriber, "subscriber")?.session.flush())
}

/// Uninstalls the subscriber, then flushes and shuts down its layers. A current-thread
/// subscriber must be uninstalled on the thread that installed it.
///
/// # Safety
/// As for [`tracing_bridge_subscriber_install_global`].
#[no_mangle]
pub unsafe extern "C" fn tracing_bridge_subscriber_uninstall(
    subscriber: *mut tracing_bridge_subscriber,
) -> tracing_bridge_result {
    guarded(|| try_ref(subscriber, "subscriber")?.session.uninstall())
}

/// Uninstalls (if installed) and releases the subscriber. `NULL` is accepted and ignored.
///
/// # Safety
/// `subscriber` must be `NULL` or come from [`tracing_bridge_subscriber_new`], and must not be
/// used again.
#[no_mangle]
pub unsafe extern "C" fn tracing_bridge_subscriber_free(
    subscriber: *mut tracing_bridge_subscriber,
) {
    guarded_or((), || {
        if !subscriber.is_null() {
            drop(Box::from_raw(subscriber));
        }
        crate::session::drop_deferred_guards();
    })
}

mod js;
pub use js::*;
mod js_spans;
pub use js_spans::*;
