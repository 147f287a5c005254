//! The C functions for spans and events made by JavaScript (see [`crate::js_spans`]).
//!
//! Hot-path functions take `uint32_t` lengths and handles (cheap to pass from JavaScript) and
//! return a handle or a result; failures leave a message for `tracing_bridge_last_error_message`.
//! Handles are valid on the thread that made them only.

use super::guard::{guarded, guarded_or, try_slice, try_str};
use crate::{
    error::{tracing_bridge_result, Error, ErrorKind},
    js_spans::{
        callsites::{level_from_number, CallsiteKind, Callsites},
        spans,
        trace_context::{self, RemoteParent},
    },
};

/// Set in a callsite id when it names a shared fallback callsite (the table is full).
pub const TRACING_BRIDGE_CALLSITE_FALLBACK: u32 = 0x8000_0000;
/// How many distinct callsites JavaScript may make per process before fallbacks are used.
pub const TRACING_BRIDGE_MAX_JS_CALLSITES: u32 = 1024;
/// The handle of a span that no layer wanted; every operation on it succeeds and does nothing.
pub const TRACING_BRIDGE_SPAN_DISABLED: u32 = 0xFFFF_FFFF;
/// `parent`: the calling thread's current span (if any).
pub const TRACING_BRIDGE_PARENT_CURRENT: u32 = 0;
/// `parent`: no parent (a root span).
pub const TRACING_BRIDGE_PARENT_NONE: u32 = 0xFFFF_FFFE;

const _: () = {
    assert!(TRACING_BRIDGE_CALLSITE_FALLBACK == crate::js_spans::callsites::FALLBACK_BIT);
    assert!(TRACING_BRIDGE_MAX_JS_CALLSITES as usize == crate::js_spans::callsites::MAX_CALLSITES);
    assert!(TRACING_BRIDGE_SPAN_DISABLED == spans::DISABLED);
    assert!(TRACING_BRIDGE_PARENT_CURRENT == spans::PARENT_CURRENT);
    assert!(TRACING_BRIDGE_PARENT_NONE == spans::PARENT_NONE);
};

/// Bytes at `pointer`, where a zero length may come with any pointer (even null).
unsafe fn bytes<'a>(pointer: *const u8, len: u32, parameter: &str) -> Result<&'a [u8], Error> {
    if len == 0 {
        return Ok(&[]);
    }
    try_slice(pointer, len as usize, parameter)
}

/// Makes (or finds) the callsite for spans (`kind` 0) or events (`kind` 1) at `level` (1 trace
/// … 5 error). `spec` holds `spec_len` bytes of UTF-8: the name, the target and each field
/// name, each followed by a NUL byte. Writes the callsite id to `out_id`: at most
/// [`TRACING_BRIDGE_MAX_JS_CALLSITES`] distinct callsites are made per process; past that the id
/// has [`TRACING_BRIDGE_CALLSITE_FALLBACK`] set and names a shared callsite whose fields are
/// `otel.name` (span) or `message` (event), `js.target`, `js.fields`.
///
/// # Safety
/// `spec` must point to `spec_len` readable bytes; `out_id` to a writable `uint32_t`.
#[no_mangle]
pub unsafe extern "C" fn tracing_bridge_js_callsite_new(
    kind: u32,
    level: u32,
    spec: *const u8,
    spec_len: u32,
    out_id: *mut u32,
) -> tracing_bridge_result {
    guarded(|| {
        let out_id = super::guard::try_mut(out_id, "out_id")?;
        let kind = match kind {
            0 => CallsiteKind::Span,
            1 => CallsiteKind::Event,
            other => {
                return Err(Error::new(
                    ErrorKind::InvalidParameter,
                    format!("kind must be 0 (span) or 1 (event), got {other}"),
                ))
            }
        };
        let level = level_from_number(level)?;
        let spec = try_str(spec, spec_len as usize, "spec")?;
        let Some(body) = spec.strip_suffix('\0') else {
            return Err(Error::new(
                ErrorKind::InvalidParameter,
                "spec must be name, target and field names, each followed by a NUL byte",
            ));
        };
        let mut parts = body.split('\0');
        let name = parts.next().unwrap_or_default();
        let Some(target) = parts.next() else {
            return Err(Error::new(
                ErrorKind::InvalidParameter,
                "spec must hold at least a name and a target",
            ));
        };
        let fields: Vec<&str> = parts.collect();
        spans::refuse_if_unrecordable(match kind {
            CallsiteKind::Span => "a span",
            CallsiteKind::Event => "an event",
        })?;
        *out_id = Callsites::global().intern(kind, level, name, target, &fields)?;
        Ok(())
    })
}

/// Creates a span of `callsite` with `values` (the encoding of `shim/src/js_spans/values.rs`,
/// one value per field of the callsite). `parent` is a span handle,
/// [`TRACING_BRIDGE_PARENT_CURRENT`] (the thread's current span) or
/// [`TRACING_BRIDGE_PARENT_NONE`] (a root). Returns the new span's handle,
/// [`TRACING_BRIDGE_SPAN_DISABLED`] if no layer wants it, or 0 on failure (see the last error).
///
/// # Safety
/// `values` must point to `values_len` readable bytes (any pointer when `values_len` is 0).
#[no_mangle]
pub unsafe extern "C" fn tracing_bridge_js_span_new(
    callsite: u32,
    parent: u32,
    values: *const u8,
    values_len: u32,
) -> u32 {
    // SAFETY: as the caller promised.
    unsafe { new_span(spans::create, callsite, parent, values, values_len) }
}

/// Runs `create` (`spans::create` or `spans::create_entered`) for the two C functions that make
/// spans: the handle, or 0 on failure with the last error set.
///
/// # Safety
/// As for [`tracing_bridge_js_span_new`].
unsafe fn new_span(
    create: fn(u32, u32, &[u8]) -> Result<u32, Error>,
    callsite: u32,
    parent: u32,
    values: *const u8,
    values_len: u32,
) -> u32 {
    let mut handle = 0;
    let result = guarded(|| {
        handle = create(callsite, parent, bytes(values, values_len, "values")?)?;
        Ok(())
    });
    if result == tracing_bridge_result::Ok {
        handle
    } else {
        0
    }
}

/// Creates a span as [`tracing_bridge_js_span_new`] does and enters it on this thread, as
/// [`tracing_bridge_js_span_enter`] would: one call for a span that is entered at once. Same
/// parameters and result (a [`TRACING_BRIDGE_SPAN_DISABLED`] span is not entered: entering it
/// does nothing).
///
/// # Safety
/// As for [`tracing_bridge_js_span_new`].
#[no_mangle]
pub unsafe extern "C" fn tracing_bridge_js_span_new_entered(
    callsite: u32,
    parent: u32,
    values: *const u8,
    values_len: u32,
) -> u32 {
    // SAFETY: as the caller promised.
    unsafe { new_span(spans::create_entered, callsite, parent, values, values_len) }
}

/// Records an event of `callsite` with `values` (as for [`tracing_bridge_js_span_new`]);
/// `parent` as there.
///
/// # Safety
/// As for [`tracing_bridge_js_span_new`].
#[no_mangle]
pub unsafe extern "C" fn tracing_bridge_js_event(
    callsite: u32,
    parent: u32,
    values: *const u8,
    values_len: u32,
) -> tracing_bridge_result {
    guarded(|| spans::event(callsite, parent, bytes(values, values_len, "values")?))
}

/// Enters the span on this thread: what this thread records until the matching exit is its
/// child (native spans and events included).
#[no_mangle]
pub extern "C" fn tracing_bridge_js_span_enter(span: u32) -> tracing_bridge_result {
    guarded(|| spans::enter(span))
}

/// Exits the span, entered before on this thread (in any order). Fails with
/// `InvalidParameter` if it is not entered, `UnknownSpan` if the handle is unknown. A span
/// ended when its subscriber stopped needs no exit: it succeeds and does nothing.
#[no_mangle]
pub extern "C" fn tracing_bridge_js_span_exit(span: u32) -> tracing_bridge_result {
    guarded(|| spans::exit(span))
}

/// Ends the span (exiting it first where it is entered); its handle becomes invalid. Ending an
/// unknown or already ended handle fails with `UnknownSpan` and changes nothing. A span that
/// was still open when its subscriber stopped was ended then (`tracing_bridge_subscriber_stop`):
/// its handle stays valid, every function succeeds on it and does nothing, and ending it only
/// frees the handle.
#[no_mangle]
pub extern "C" fn tracing_bridge_js_span_end(span: u32) -> tracing_bridge_result {
    guarded(|| spans::end(span))
}

/// How many spans JavaScript holds open on this thread.
#[no_mangle]
pub extern "C" fn tracing_bridge_js_span_open_count() -> u32 {
    guarded_or(0, || spans::open_count() as u32)
}

/// Makes the remote span described by the W3C `traceparent` (and `tracestate`, may be empty)
/// the OpenTelemetry parent of `span`. Call it right after creating `span` (before entering it
/// or creating children): later, the OpenTelemetry span has started and this fails. Without an
/// OpenTelemetry layer in the config it does nothing. A malformed header is `InvalidParameter`.
///
/// # Safety
/// `traceparent` must point to `traceparent_len` readable bytes, `tracestate` to
/// `tracestate_len` (any pointer when the length is 0).
#[no_mangle]
pub unsafe extern "C" fn tracing_bridge_js_span_set_remote_parent(
    span: u32,
    traceparent: *const u8,
    traceparent_len: u32,
    tracestate: *const u8,
    tracestate_len: u32,
) -> tracing_bridge_result {
    guarded(|| {
        let traceparent = utf8(
            bytes(traceparent, traceparent_len, "traceparent")?,
            "traceparent",
        )?;
        let tracestate = utf8(
            bytes(tracestate, tracestate_len, "tracestate")?,
            "tracestate",
        )?;
        let remote = RemoteParent::parse(traceparent, tracestate)?;
        if span == spans::DISABLED {
            return Ok(());
        }
        spans::set_remote_parent(span, remote)
    })
}

fn utf8<'a>(bytes: &'a [u8], parameter: &str) -> Result<&'a str, Error> {
    std::str::from_utf8(bytes).map_err(|error| {
        Error::new(
            ErrorKind::InvalidUtf8,
            format!("{parameter} is not valid UTF-8: {error}"),
        )
    })
}

/// Writes the W3C trace context of `span` ([`TRACING_BRIDGE_PARENT_CURRENT`]: the thread's
/// current span) into `buf` as `traceparent`, a newline, then `tracestate` (may be empty), and
/// its length to `out_written`; 0 bytes when no OpenTelemetry layer records the span. Fails
/// with `BufferTooSmall` (`out_written` = size needed) when `len` is too small.
///
/// # Safety
/// `buf` must point to `len` writable bytes; `out_written` to a writable `uint32_t`.
#[no_mangle]
pub unsafe extern "C" fn tracing_bridge_js_span_trace_context(
    span: u32,
    buf: *mut u8,
    len: u32,
    out_written: *mut u32,
) -> tracing_bridge_result {
    guarded(|| {
        let out_written = super::guard::try_mut(out_written, "out_written")?;
        *out_written = 0;
        let context = if span == spans::PARENT_CURRENT {
            trace_context::trace_context(&tracing::Span::current())
        } else if span == spans::DISABLED {
            None
        } else {
            spans::trace_context(span)?
        };
        let Some((traceparent, tracestate)) = context else {
            return Ok(());
        };
        let text = format!("{traceparent}\n{tracestate}");
        *out_written = text.len() as u32;
        if text.len() > len as usize {
            return Err(Error::new(
                ErrorKind::BufferTooSmall,
                format!("buf holds {len} bytes, {} are needed", text.len()),
            ));
        }
        if buf.is_null() {
            return Err(Error::new(ErrorKind::NullParameter, "buf must not be null"));
        }
        std::ptr::copy_nonoverlapping(text.as_ptr(), buf, text.len());
        Ok(())
    })
}
