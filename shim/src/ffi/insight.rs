//! C functions for performance insight: changing filters at run time, and rendering the flame
//! layer's folded stacks to SVG.

use super::{
    guard::{guarded, try_mut, try_str},
    last_error::last_error,
    tracing_bridge_subscriber,
};
use crate::{
    error::tracing_bridge_result,
    flame_graph::{render_svg, RenderRequest},
};

/// Replaces the global filter of an installed subscriber with `directives` (EnvFilter syntax,
/// `directives_len` bytes of UTF-8). Takes effect at once, for every thread. Invalid directives
/// fail with `InvalidFilter` and leave the current filter in place.
///
/// # Safety
/// `subscriber` must come from `tracing_bridge_subscriber_new` and not be freed; `directives`
/// must point to `directives_len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn tracing_bridge_subscriber_set_filter(
    subscriber: *mut tracing_bridge_subscriber,
    directives: *const u8,
    directives_len: usize,
) -> tracing_bridge_result {
    guarded(|| {
        let subscriber = try_mut(subscriber, "subscriber")?;
        let directives = try_str(directives, directives_len, "directives")?;
        subscriber.session.set_filter(directives)
    })
}

/// Replaces the own filter of the layer at `layer_index` (its position in the config's
/// `layers`) of an installed subscriber. Invalid directives fail with `InvalidFilter` and leave
/// the current filter in place; an index out of range fails with `InvalidConfig`.
///
/// # Safety
/// As for [`tracing_bridge_subscriber_set_filter`].
#[no_mangle]
pub unsafe extern "C" fn tracing_bridge_subscriber_set_layer_filter(
    subscriber: *mut tracing_bridge_subscriber,
    layer_index: u32,
    directives: *const u8,
    directives_len: usize,
) -> tracing_bridge_result {
    guarded(|| {
        let subscriber = try_mut(subscriber, "subscriber")?;
        let directives = try_str(directives, directives_len, "directives")?;
        subscriber
            .session
            .set_layer_filter(layer_index as usize, directives)
    })
}

/// Renders folded stacks to an SVG flame graph or flame chart. `request` is `request_len`
/// bytes of UTF-8 JSON:
/// `{"folded": "in.folded", "svg": "out.svg", "options": {"style": "graph" | "chart",
/// "title": "...", "subtitle": "...", "width": 1200, "minWidth": 0.1, "inverted": false,
/// "countName": "ns"}}` (every option may be left out).
///
/// Needs no subscriber and may run on any thread. On failure the message is also written to
/// `error_buf` (up to `error_len` bytes, cut at a character boundary, not NUL-terminated) with
/// its length in `*out_error_written`, so a caller on another thread than its own can read it;
/// `error_buf` and `out_error_written` may be `NULL` to skip that.
///
/// # Safety
/// `request` must point to `request_len` readable bytes; a non-null `error_buf` to `error_len`
/// writable bytes; a non-null `out_error_written` to a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn tracing_bridge_flame_render_svg(
    request: *const u8,
    request_len: usize,
    error_buf: *mut u8,
    error_len: usize,
    out_error_written: *mut usize,
) -> tracing_bridge_result {
    let result = guarded(|| {
        let request = RenderRequest::from_json(try_str(request, request_len, "request")?)?;
        render_svg(&request.folded, &request.svg, &request.options)
    });
    let message = if result == tracing_bridge_result::Ok {
        String::new()
    } else {
        last_error()
    };
    if let Some(out_error_written) = out_error_written.as_mut() {
        let mut length = message
            .len()
            .min(if error_buf.is_null() { 0 } else { error_len });
        while !message.is_char_boundary(length) {
            length -= 1;
        }
        if length > 0 {
            std::ptr::copy_nonoverlapping(message.as_ptr(), error_buf, length);
        }
        *out_error_written = length;
    }
    result
}
