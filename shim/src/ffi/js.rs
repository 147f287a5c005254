//! The C functions of the JS layer: attach the wake callback, drain records, count drops.
//!
//! `drain` is on the hot path: it takes a `uint32_t` length (cheap to pass from JavaScript)
//! and reports problems through its result instead of the last-error message.

use super::{
    guard::{guarded, guarded_or, try_mut},
    tracing_bridge_subscriber,
};
use crate::{
    error::tracing_bridge_result,
    layers::js::{Drained, WakeCallback},
};

/// Set in a [`tracing_bridge_subscriber_js_drain`] result when the buffer is too small for the
/// next record; the other bits are the size needed.
pub const TRACING_BRIDGE_DRAIN_NEEDS_BUFFER: u32 = 0x8000_0000;

/// Registers `wake` with the subscriber's JS layers and makes the calling thread their
/// "JavaScript thread": when that thread records a span or event, `wake` is called at once (on
/// that thread) so that the records can be drained before the FFI call returns. Records of other
/// threads never call it. `wake` may be `NULL` to detach; it must stay callable until detached
/// or until the subscriber is uninstalled.
///
/// # Safety
/// `subscriber` must come from `tracing_bridge_subscriber_new` and not be freed.
#[no_mangle]
pub unsafe extern "C" fn tracing_bridge_subscriber_js_attach(
    subscriber: *mut tracing_bridge_subscriber,
    wake: Option<WakeCallback>,
) -> tracing_bridge_result {
    guarded(|| {
        try_mut(subscriber, "subscriber")?.session.attach_js(wake);
        Ok(())
    })
}

/// Moves whole records of the JS layer at `layer_index` (its position in the config) into
/// `buf`, oldest first. Returns the number of bytes written (0 when nothing is queued, or when
/// the arguments are invalid), or [`TRACING_BRIDGE_DRAIN_NEEDS_BUFFER`] | the size needed when
/// `len` is too small for the next record. The format is described in
/// `shim/src/layers/js/wire.rs`.
///
/// # Safety
/// `subscriber` as above; `buf` must point to `len` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn tracing_bridge_subscriber_js_drain(
    subscriber: *mut tracing_bridge_subscriber,
    layer_index: u32,
    buf: *mut u8,
    len: u32,
) -> u32 {
    guarded_or(0, || {
        let (Some(subscriber), false) = (subscriber.as_ref(), buf.is_null()) else {
            return 0;
        };
        let Some(sink) = subscriber.session.js_sink(layer_index as usize) else {
            return 0;
        };
        let out = std::slice::from_raw_parts_mut(buf, len as usize);
        match sink.drain(out) {
            Drained::Bytes(bytes) => bytes as u32,
            Drained::NeedBuffer(bytes) => {
                TRACING_BRIDGE_DRAIN_NEEDS_BUFFER
                    | (bytes as u32 & !TRACING_BRIDGE_DRAIN_NEEDS_BUFFER)
            }
        }
    })
}

/// Records the JS layer at `layer_index` dropped because its queue was full (0 for an invalid
/// subscriber or index).
///
/// # Safety
/// `subscriber` must come from `tracing_bridge_subscriber_new` and not be freed.
#[no_mangle]
pub unsafe extern "C" fn tracing_bridge_subscriber_js_dropped(
    subscriber: *mut tracing_bridge_subscriber,
    layer_index: u32,
) -> u64 {
    guarded_or(0, || {
        subscriber
            .as_ref()
            .and_then(|subscriber| subscriber.session.js_sink(layer_index as usize))
            .map_or(0, |sink| sink.dropped())
    })
}
