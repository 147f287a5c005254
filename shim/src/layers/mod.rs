//! The layer kinds a configuration can ask for, each in a module named for what it does. A
//! kind's module holds its config type (read by [`crate::config`]), its `build` function and
//! its [`LayerLifecycle`]; the session builds a config's layers through them
//! (`session.rs`, `build_layer`).
//!
//! Kinds build their layers over [`BaseSubscriber`] and hand
//! them over as a [`BuiltLayer`]. Helpers several kinds use live in `crate::util`, options
//! they share in `crate::options`.

use std::{any::Any, sync::Arc};

use crate::{dispatch::BoxedLayer, error::Error};

pub mod flame;
pub mod fmt;
// Without its feature, a kind's config is still read (so that asking for it gets an error
// naming the feature), but its layer is not built: the linker leaves its code out.
#[cfg_attr(not(feature = "js"), allow(dead_code))]
pub mod js;
#[cfg(feature = "otlp")]
pub(crate) mod otel;
#[cfg_attr(not(feature = "timeline"), allow(dead_code))]
pub mod timeline;

/// Without the `otlp` feature: only the OpenTelemetry layers' config (the exporting code and
/// its dependencies are left out).
#[cfg(not(feature = "otlp"))]
pub(crate) mod otel {
    #[path = "config.rs"]
    pub(crate) mod config;
}

pub use crate::dispatch::BaseSubscriber;

/// What a subscriber does with a layer's resources when asked to flush or shut down.
pub trait LayerLifecycle: Send + Sync {
    /// Writes out everything buffered so far.
    fn flush(&self) -> Result<(), Error>;
    /// Flushes and releases resources; called once, after the layer no longer receives data.
    fn shutdown(&self) -> Result<(), Error> {
        self.flush()
    }
    /// How many records (spans, and later log records) the layer could not deliver so far
    /// (a full queue, a failed export).
    fn dropped(&self) -> u64 {
        0
    }
    /// The thread that installed the session ended without stopping it (a terminated
    /// Worker): let go of anything tied to that thread, before [`LayerLifecycle::shutdown`]
    /// runs on another thread.
    fn owner_thread_ended(&self) {}
}

/// A built layer, the handle that flushes it, and what else its kind hands to the layer's
/// users.
pub struct BuiltLayer {
    /// The layer itself.
    pub layer: BoxedLayer,
    /// Flush and shutdown for the layer's resources.
    pub lifecycle: Arc<dyn LayerLifecycle>,
    /// Anything the layer's users reach through the session by type
    /// (`Session::layer_extension`): for a JS layer, the [`js::JsSink`] JavaScript drains.
    /// The session does not look inside.
    pub extension: Option<Arc<dyn Any + Send + Sync>>,
    /// Whether the layer does anything when a span is entered or exited. When it does not
    /// (and its filter keeps no span state), the dispatcher skips those two callbacks for it:
    /// each costs a span lookup, a per-layer filter check and a load of the slot.
    pub enter_exit: bool,
}

impl BuiltLayer {
    /// A layer and its lifecycle, with no extension.
    pub fn new(layer: BoxedLayer, lifecycle: Arc<dyn LayerLifecycle>) -> Self {
        Self {
            layer,
            lifecycle,
            extension: None,
            enter_exit: true,
        }
    }

    /// The same layer, saying whether it does anything on enter and exit (see
    /// [`BuiltLayer::enter_exit`]).
    pub fn with_enter_exit(self, enter_exit: bool) -> Self {
        Self { enter_exit, ..self }
    }

    /// The same layer, with `extension` for its users.
    pub fn with_extension(self, extension: Arc<dyn Any + Send + Sync>) -> Self {
        Self {
            extension: Some(extension),
            ..self
        }
    }
}

impl std::fmt::Debug for BuiltLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BuiltLayer").finish_non_exhaustive()
    }
}

/// Rejects a config with more than one OpenTelemetry layer (`otel_layers`: their indices in
/// the config): `tracing-opentelemetry` keeps each span's data in one slot of the span's
/// extensions, which two such layers would both claim.
pub(crate) fn check_at_most_one_otel(
    otel_layers: impl IntoIterator<Item = usize>,
) -> Result<(), Error> {
    let mut otel_layers = otel_layers.into_iter();
    match (otel_layers.next(), otel_layers.next()) {
        (Some(first), Some(second)) => Err(Error::invalid_config(format!(
            "layers[{second}]: a config can have one OpenTelemetry layer (otlp or otlpJson), and \
             layers[{first}] is one already (tracing-opentelemetry keeps one set of span data \
             per span); keep one of them"
        ))),
        _ => Ok(()),
    }
}
