//! The C functions of the JS layer: attach the wake callback, drain records, count drops.
//!
//! `drain` is on the hot path: it takes a `uint32_t` length (cheap to pass from JavaScript)
//! and reports problems through its result instead of the last-error message.

use super::{
    guard::{guarded, guarded_or, try_mut},
    tracing_bridge_subscriber,
};
use crate::{
    error::{tracing_bridge_result, Error, ErrorKind},
    layers::js::{Drained, JsSink, JsTarget, WakeCallback},
};

/// Set in a [`tracing_bridge_subscriber_js_drain`] result when the buffer is too small for the
/// next record; the other bits are the size needed.
pub const TRACING_BRIDGE_DRAIN_NEEDS_BUFFER: u32 = 0x8000_0000;

/// Set in a [`tracing_bridge_subscriber_js_drain`] result when records are left in the queue.
pub const TRACING_BRIDGE_DRAIN_MORE: u32 = 0x4000_0000;

/// Size of the control block at the start of the shared memory given to
/// [`tracing_bridge_subscriber_js_attach`]: byte 0 is set by JavaScript to 1 while it dispatches
/// or drains; the library reads it on the JavaScript thread only. The other bytes are reserved.
pub const TRACING_BRIDGE_JS_CONTROL_BYTES: u32 = 16;

/// Attaches JavaScript to the subscriber's JS layers and makes the calling thread their
/// "JavaScript thread". `shared` is memory owned by the caller: a control block of
/// [`TRACING_BRIDGE_JS_CONTROL_BYTES`], then a data buffer, `shared_len` bytes in all.
///
/// When the JavaScript thread records a span or event, `wake(layer_index, direct_length)` is
/// called at once on that thread: `direct_length` bytes of whole records were written to the data
/// buffer (0: the records are queued; drain them). Records of other threads never call `wake`;
/// they are queued, and [`tracing_bridge_subscriber_js_pending`] tells which queues hold
/// records. The library touches `shared` and calls `wake` on the JavaScript thread only. `wake`
/// `NULL` detaches; after detaching, `shared` is never touched again, and `wake` must stay
/// callable until then. Attach, attach again and detach on the JavaScript thread (or while it
/// records nothing): a record it is delivering as another thread detaches may still use them. If the JavaScript thread ends while attached and installed (a
/// terminated Worker), the subscriber is uninstalled and its JS layers detached as it ends.
///
/// # Safety
/// `subscriber` must come from `tracing_bridge_subscriber_new` and not be freed; `shared` must
/// point to `shared_len` writable bytes that stay valid until detached.
#[no_mangle]
pub unsafe extern "C" fn tracing_bridge_subscriber_js_attach(
    subscriber: *mut tracing_bridge_subscriber,
    wake: Option<WakeCallback>,
    shared: *mut u8,
    shared_len: u32,
) -> tracing_bridge_result {
    guarded(|| {
        let session = &try_mut(subscriber, "subscriber")?.session;
        #[cfg(not(feature = "js"))]
        if wake.is_some() {
            return Err(Error::feature_disabled("", "the JS layer", "js"));
        }
        let target = match wake {
            None => None,
            Some(wake) => {
                if shared.is_null() {
                    return Err(Error::new(
                        ErrorKind::NullParameter,
                        "shared must not be null",
                    ));
                }
                if shared_len <= TRACING_BRIDGE_JS_CONTROL_BYTES {
                    return Err(Error::new(
                        ErrorKind::InvalidConfig,
                        format!(
                            "shared_len must exceed the {TRACING_BRIDGE_JS_CONTROL_BYTES}-byte \
                             control block"
                        ),
                    ));
                }
                Some(JsTarget {
                    wake,
                    shared,
                    shared_len: shared_len as usize,
                })
            }
        };
        for (_, sink) in session.layer_extensions::<JsSink>() {
            sink.attach(target);
        }
        Ok(())
    })
}

/// Moves whole records of the JS layer at `layer_index` (its position in the config) into
/// `buf`, oldest first. Returns the number of bytes written (0 when nothing is queued, or when
/// the arguments are invalid), with [`TRACING_BRIDGE_DRAIN_MORE`] set when records are left, or
/// [`TRACING_BRIDGE_DRAIN_NEEDS_BUFFER`] | the size needed when `len` is too small for the next
/// record. `buf` may be the data buffer of the memory given to `attach`: the library writes
/// there only while JavaScript is not dispatching or draining. The format is described in
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
        let Some(sink) = subscriber
            .session
            .layer_extension::<JsSink>(layer_index as usize)
        else {
            return 0;
        };
        let out = std::slice::from_raw_parts_mut(buf, len as usize);
        match sink.drain(out) {
            Drained::Bytes { bytes, more } => {
                bytes as u32 | if more { TRACING_BRIDGE_DRAIN_MORE } else { 0 }
            }
            Drained::NeedBuffer(bytes) => {
                TRACING_BRIDGE_DRAIN_NEEDS_BUFFER
                    | (bytes as u32 & !TRACING_BRIDGE_DRAIN_NEEDS_BUFFER)
            }
        }
    })
}

/// Returns a bit mask of the JS layers whose queue holds records: bit i for the layer at config
/// index i (0 for an invalid subscriber). Cheap enough to poll every millisecond.
///
/// # Safety
/// `subscriber` must come from `tracing_bridge_subscriber_new` and not be freed.
#[no_mangle]
pub unsafe extern "C" fn tracing_bridge_subscriber_js_pending(
    subscriber: *const tracing_bridge_subscriber,
) -> u32 {
    guarded_or(0, || {
        subscriber.as_ref().map_or(0, |subscriber| {
            subscriber
                .session
                .layer_extensions::<JsSink>()
                .filter(|(_, sink)| sink.pending())
                .fold(0, |mask, (index, _)| mask | 1 << (index % 32))
        })
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
            .and_then(|subscriber| {
                subscriber
                    .session
                    .layer_extension::<JsSink>(layer_index as usize)
            })
            .map_or(0, |sink| sink.dropped())
    })
}
