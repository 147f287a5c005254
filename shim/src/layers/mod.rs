//! The layers a configuration can ask for, each in a module named for what it does.

use std::sync::Arc;

use crate::{config::LayerConfig, error::Error};

pub mod flame;
pub mod fmt;
pub mod js;
mod output_file;
pub mod timeline;

pub(crate) use output_file::{create_truncated, open_for_append};
pub mod otel;

pub use crate::dispatch::{BaseSubscriber, BoxedLayer};

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
}

/// A built layer and the handle that flushes it.
pub struct BuiltLayer {
    /// The layer itself.
    pub layer: BoxedLayer,
    /// Flush and shutdown for the layer's resources.
    pub lifecycle: Arc<dyn LayerLifecycle>,
    /// The queue JavaScript drains, for a JS layer.
    pub js_sink: Option<Arc<js::JsSink>>,
}

impl std::fmt::Debug for BuiltLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BuiltLayer").finish_non_exhaustive()
    }
}

/// Checks the combination of layers in `config`, before any is built.
pub(crate) fn check_combination(config: &crate::config::Config) -> Result<(), Error> {
    otel::check_at_most_one(
        config
            .layers
            .iter()
            .enumerate()
            .filter(|(_, layer)| matches!(layer, LayerConfig::Otlp(_) | LayerConfig::OtlpJson(_)))
            .map(|(index, _)| index),
    )
}

/// Builds the layer described by `config`, at `index` in its config; `field` names it in
/// error messages.
pub(crate) fn build(config: &LayerConfig, field: &str, index: usize) -> Result<BuiltLayer, Error> {
    match config {
        LayerConfig::Fmt(fmt_config) => fmt::build(fmt_config, field),
        LayerConfig::Js(js_config) => js::build(js_config, field, index),
        LayerConfig::Timeline(timeline_config) => timeline::build(timeline_config, field),
        LayerConfig::Flame(flame_config) => flame::build(flame_config, field),
        LayerConfig::Otlp(otlp_config) => otel::build_otlp(otlp_config, field),
        LayerConfig::OtlpJson(json_config) => otel::build_otlp_json(json_config, field),
    }
}
