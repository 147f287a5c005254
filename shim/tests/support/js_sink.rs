//! Draining a JS layer's queue from Rust, as JavaScript would, for the integration tests that read
//! its records.

// Each test uses what it needs.
#![allow(dead_code)]

use tracing_bridge::{
    layers::js::{Drained, JsSink},
    Session,
};

/// Record kinds of `shim/src/layers/js/wire.rs`.
pub const KIND_NEW_SPAN: u8 = 10;
pub const KIND_EVENT: u8 = 11;
pub const KIND_CLOSE: u8 = 16;

/// The queue of the JS layer at `index` of `session`, drained whole (its wire bytes).
pub fn drain(session: &Session, index: usize) -> Vec<u8> {
    drain_sink(
        session
            .layer_extension::<JsSink>(index)
            .expect("a JS layer at that index"),
    )
}

/// The queue of `sink`, drained whole (its wire bytes).
pub fn drain_sink(sink: &JsSink) -> Vec<u8> {
    let mut all = Vec::new();
    // Small, so that long records take the `NeedBuffer` path as they can in JavaScript.
    let mut buffer = vec![0u8; 4096];
    loop {
        match sink.drain(&mut buffer) {
            Drained::Bytes { bytes, more } => {
                all.extend_from_slice(&buffer[..bytes]);
                if !more {
                    return all;
                }
            }
            Drained::NeedBuffer(size) => buffer.resize(size, 0),
        }
    }
}

/// The kind and span id of each new-span, event (its parent's) and close record of `all`, in
/// order.
pub fn span_records(all: &[u8]) -> Vec<(u8, u64)> {
    let f64_at = |at: usize| f64::from_le_bytes(all[at..at + 8].try_into().unwrap()) as u64;
    let mut records = Vec::new();
    let mut at = 0;
    while at < all.len() {
        let length = u32::from_le_bytes(all[at..at + 4].try_into().unwrap()) as usize;
        match all[at + 4] {
            // u32 callsite, then the span's id (new span) or its parent's (event).
            kind @ (KIND_NEW_SPAN | KIND_EVENT) => records.push((kind, f64_at(at + 9))),
            KIND_CLOSE => records.push((KIND_CLOSE, f64_at(at + 5))),
            _ => {}
        }
        at += 4 + length;
    }
    records
}
