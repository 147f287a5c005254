//! C functions that change filters at run time, without reinstalling: the config's global
//! filter and each layer's own.

use super::{
    guard::{guarded, try_ref, try_str},
    tracing_bridge_subscriber,
};
use crate::error::tracing_bridge_result;

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
        let subscriber = try_ref(subscriber, "subscriber")?;
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
        let subscriber = try_ref(subscriber, "subscriber")?;
        let directives = try_str(directives, directives_len, "directives")?;
        subscriber
            .session
            .set_layer_filter(layer_index as usize, directives)
    })
}
