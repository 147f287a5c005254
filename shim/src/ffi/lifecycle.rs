//! Flush and shutdown for callers on any thread, and the dropped-span count.
//!
//! Deno runs `nonblocking` FFI calls on a pool thread, so that a slow export does not block the
//! event loop; there the per-thread last error is out of the caller's reach. These functions
//! therefore also write the error message into a buffer the caller passes.

use super::{
    guard::{guarded, try_mut, try_ref},
    last_error::last_error,
    tracing_bridge_subscriber,
};
use crate::error::tracing_bridge_result;

/// Stops `subscriber` receiving data, like `tracing_bridge_subscriber_uninstall`, without
/// flushing or shutting down its layers: call `tracing_bridge_subscriber_shutdown` next (from
/// any thread). A current-thread subscriber must be stopped on the thread that installed it.
/// The JavaScript spans made on the calling thread under it and not ended are ended first (the
/// OpenTelemetry layers export them with `tracing_bridge.unended` = true); their handles stay
/// valid and do nothing (see `tracing_bridge_js_span_end`).
///
/// # Safety
/// `subscriber` must come from `tracing_bridge_subscriber_new` and not be freed.
#[no_mangle]
pub unsafe extern "C" fn tracing_bridge_subscriber_stop(
    subscriber: *mut tracing_bridge_subscriber,
) -> tracing_bridge_result {
    guarded(|| try_ref(subscriber, "subscriber")?.session.stop())
}

/// Flushes and shuts down the layers of a stopped (or never installed) subscriber: exports
/// what they buffer, waiting for the receiver up to each layer's flush timeout, and joins their
/// threads. Later calls do nothing; a call while another thread shuts the layers down returns
/// once that is done. May run on any thread, also while another thread flushes; nothing else
/// may use `subscriber` meanwhile. The dropped-span count is final when it returns, and the
/// OpenTelemetry layers have printed their one report of it on stderr.
///
/// On failure the message is copied into `message` (at most `message_len` bytes, cut at a
/// character boundary, not NUL-terminated) and its full length written to
/// `out_message_written`; on success `out_message_written` is set to 0. `message` may be NULL
/// when `message_len` is 0; `out_message_written` may be NULL.
///
/// # Safety
/// As for `tracing_bridge_subscriber_stop`; `message` must point to `message_len` writable
/// bytes and `out_message_written`, if not NULL, to a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn tracing_bridge_subscriber_shutdown(
    subscriber: *const tracing_bridge_subscriber,
    message: *mut u8,
    message_len: usize,
    out_message_written: *mut usize,
) -> tracing_bridge_result {
    let result = guarded(|| try_ref(subscriber, "subscriber")?.session.shutdown_layers());
    write_message(result, message, message_len, out_message_written);
    result
}

/// `tracing_bridge_subscriber_flush`, with the error message also written to `message` as in
/// `tracing_bridge_subscriber_shutdown`, for callers on another thread than the one that reads
/// the last error.
///
/// # Safety
/// As for `tracing_bridge_subscriber_shutdown`.
#[no_mangle]
pub unsafe extern "C" fn tracing_bridge_subscriber_flush_with_message(
    subscriber: *const tracing_bridge_subscriber,
    message: *mut u8,
    message_len: usize,
    out_message_written: *mut usize,
) -> tracing_bridge_result {
    let result = guarded(|| try_ref(subscriber, "subscriber")?.session.flush());
    write_message(result, message, message_len, out_message_written);
    result
}

/// Writes to `out_count` how many spans the subscriber's layers dropped or could not get
/// confirmed so far: dropped (the queue was full, the receiver was down or refused them, the
/// flush timeout expired before they were sent, they were still open at shutdown) or sent
/// without an answer (the receiver may have them). Readable before and after shutdown, until
/// the subscriber is freed; final once `tracing_bridge_subscriber_shutdown` returned.
///
/// # Safety
/// As for `tracing_bridge_subscriber_stop`; `out_count` must point to a writable `uint64_t`.
#[no_mangle]
pub unsafe extern "C" fn tracing_bridge_subscriber_dropped_spans(
    subscriber: *const tracing_bridge_subscriber,
    out_count: *mut u64,
) -> tracing_bridge_result {
    guarded(|| {
        let count = try_ref(subscriber, "subscriber")?.session.dropped_spans();
        *try_mut(out_count, "out_count")? = count;
        Ok(())
    })
}

/// Copies the last error of this thread into the caller's buffer after a failed `result`.
///
/// # Safety
/// As for `tracing_bridge_subscriber_shutdown`.
unsafe fn write_message(
    result: tracing_bridge_result,
    message: *mut u8,
    message_len: usize,
    out_message_written: *mut usize,
) {
    let text = if result == tracing_bridge_result::Ok {
        String::new()
    } else {
        last_error()
    };
    if let Some(out) = out_message_written.as_mut() {
        *out = text.len();
    }
    if message.is_null() || text.is_empty() {
        return;
    }
    let mut end = text.len().min(message_len);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    std::ptr::copy_nonoverlapping(text.as_ptr(), message, end);
}

/// Writes the subscriber's diagnostics as one JSON document (UTF-8, not NUL-terminated) into
/// `buf` and its full length to `out_written`: the library's callsite targets seen so far, per
/// layer whether it received anything and which targets its filters name that no callsite has,
/// the JavaScript spans every filter dropped since it was installed, and `message`, the
/// explanation (empty when there is nothing to say). Valid before and after
/// `tracing_bridge_subscriber_stop`, until the subscriber is freed.
///
/// Returns `BufferTooSmall` if `len` is smaller than the document; `out_written` then holds the
/// size needed and nothing is copied.
///
/// # Safety
/// As for `tracing_bridge_subscriber_stop`; `buf` must point to `len` writable bytes and
/// `out_written` to a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn tracing_bridge_subscriber_diagnostics(
    subscriber: *const tracing_bridge_subscriber,
    buf: *mut u8,
    len: usize,
    out_written: *mut usize,
) -> tracing_bridge_result {
    guarded(|| {
        let subscriber = try_ref(subscriber, "subscriber")?;
        let out_written = try_mut(out_written, "out_written")?;
        let json = serde_json::to_vec(&subscriber.session.diagnostics())
            .map_err(|error| crate::Error::new(crate::ErrorKind::Panic, error.to_string()))?;
        *out_written = json.len();
        if json.len() > len {
            return Err(crate::Error::new(
                crate::ErrorKind::BufferTooSmall,
                format!("the diagnostics need {} bytes", json.len()),
            ));
        }
        if buf.is_null() {
            return Err(crate::Error::new(
                crate::ErrorKind::NullParameter,
                "buf is NULL",
            ));
        }
        std::ptr::copy_nonoverlapping(json.as_ptr(), buf, json.len());
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_message_reaches_the_callers_buffer_cut_at_a_character_boundary() {
        let mut buffer = [0u8; 12];
        let mut written = usize::MAX;
        let result = unsafe {
            tracing_bridge_subscriber_shutdown(
                std::ptr::null(),
                buffer.as_mut_ptr(),
                buffer.len(),
                &mut written,
            )
        };
        assert_eq!(result, tracing_bridge_result::NullParameter);
        assert_eq!(written, "subscriber must not be null".len());
        assert_eq!(&buffer, b"subscriber m");
    }

    #[test]
    fn a_null_out_count_is_named() {
        let session = crate::Session::from_json(r#"{"layers":[]}"#).unwrap();
        let handle = tracing_bridge_subscriber { session };
        let result =
            unsafe { tracing_bridge_subscriber_dropped_spans(&handle, std::ptr::null_mut()) };
        assert_eq!(result, tracing_bridge_result::NullParameter);
        assert_eq!(last_error(), "out_count must not be null");
        let mut count = 99;
        let result = unsafe { tracing_bridge_subscriber_dropped_spans(&handle, &mut count) };
        assert_eq!(result, tracing_bridge_result::Ok);
        assert_eq!(count, 0);
    }
}
