//! C function that renders the flame layer's folded stacks to an SVG flame graph or chart.

use super::{
    guard::{guarded, try_str},
    last_error::last_error,
};
use crate::error::tracing_bridge_result;
#[cfg(feature = "flame")]
use crate::flame_graph::{render_svg, RenderRequest};

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
        let request = try_str(request, request_len, "request")?;
        #[cfg(feature = "flame")]
        {
            let request = RenderRequest::from_json(request)?;
            render_svg(&request.folded, &request.svg, &request.options)
        }
        #[cfg(not(feature = "flame"))]
        {
            let _ = request;
            Err(crate::Error::feature_disabled(
                "",
                "rendering a flame graph",
                "flame",
            ))
        }
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
