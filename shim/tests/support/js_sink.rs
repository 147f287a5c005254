//! Draining a JS layer's queue from Rust, as JavaScript would, for the integration tests that read
//! its records.

use tracing_bridge::{
    layers::js::{Drained, JsSink},
    Session,
};

/// The queue of the JS layer at `index` of `session`, drained whole (its wire bytes).
pub fn drain(session: &Session, index: usize) -> Vec<u8> {
    let sink = session
        .layer_extension::<JsSink>(index)
        .expect("a JS layer at that index");
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
