//! The flame layer: folded stacks by `tracing-flame`, for flame graphs and flame charts.
//!
//! Each line of the output is one stack (`thread; outer span; inner span`) and the nanoseconds
//! spent in it since the previous line of the same thread. [`crate::flame_graph`] renders such
//! a file to SVG.

use std::{
    fs::File,
    io::BufWriter,
    path::PathBuf,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
};

use serde::Deserialize;
use tracing_flame::{FlameLayer, FlushGuard};

use super::{output_file::create_truncated, BaseSubscriber, BuiltLayer, LayerLifecycle};
use crate::error::{Error, ErrorKind};

/// Options of the flame layer.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FlameLayerConfig {
    /// The folded-stacks file to write; created, or truncated if it exists. Its directory must
    /// exist.
    pub path: PathBuf,
    /// Also record the time when no span is entered, as stacks of the thread alone.
    #[serde(default)]
    pub empty_samples: bool,
    /// Merge every thread into one root frame (`all-threads`) instead of one per thread.
    #[serde(default)]
    pub threads_collapsed: bool,
    /// Prefix span names with their module path (`my_crate::module::span`).
    #[serde(default = "yes")]
    pub module_path: bool,
    /// Suffix span names with their source file and line.
    #[serde(default)]
    pub file_and_line: bool,
    /// This layer's own filter directives.
    #[serde(default)]
    pub filter: Option<String>,
}

fn yes() -> bool {
    true
}

/// `tracing-flame` measures time per thread in process-wide thread-locals, so two flame layers
/// recording at once would split each other's samples. This admits one at a time.
static FLAME_LAYER_LIVE: AtomicBool = AtomicBool::new(false);

/// Builds a flame layer; `field` names the layer in error messages.
pub(crate) fn build(config: &FlameLayerConfig, field: &str) -> Result<BuiltLayer, Error> {
    if FLAME_LAYER_LIVE.swap(true, Ordering::AcqRel) {
        return Err(Error::new(
            ErrorKind::InvalidConfig,
            format!(
                "{field}: another flame layer is recording in this library; only one can record \
                 at a time (tracing-flame keeps its timing per thread); dispose the other first"
            ),
        ));
    }
    let file = match create_truncated(&config.path, &format!("{field}.path")) {
        Ok(file) => file,
        Err(error) => {
            FLAME_LAYER_LIVE.store(false, Ordering::Release);
            return Err(error);
        }
    };
    let layer = FlameLayer::<BaseSubscriber, _>::new(BufWriter::new(file))
        .with_empty_samples(config.empty_samples)
        .with_threads_collapsed(config.threads_collapsed)
        .with_module_path(config.module_path)
        .with_file_and_line(config.file_and_line);
    let guard = layer.flush_on_drop();
    Ok(BuiltLayer {
        layer: Box::new(layer),
        lifecycle: Arc::new(FlameLifecycle(Mutex::new(Some(guard)))),
    })
}

/// Holds the guard that flushes the folded-stacks file; releases the one-at-a-time admission
/// when the layer is shut down or dropped.
struct FlameLifecycle(Mutex<Option<FlushGuard<BufWriter<File>>>>);

impl FlameLifecycle {
    fn guard(&self) -> std::sync::MutexGuard<'_, Option<FlushGuard<BufWriter<File>>>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl LayerLifecycle for FlameLifecycle {
    fn flush(&self) -> Result<(), Error> {
        match &*self.guard() {
            Some(guard) => guard.flush().map_err(|error| {
                Error::new(
                    ErrorKind::FileNotWritable,
                    format!("flame layer: cannot write the folded stacks: {error}"),
                )
            }),
            None => Ok(()),
        }
    }

    fn shutdown(&self) -> Result<(), Error> {
        let result = self.flush();
        if self.guard().take().is_some() {
            FLAME_LAYER_LIVE.store(false, Ordering::Release);
        }
        result
    }
}

impl Drop for FlameLifecycle {
    fn drop(&mut self) {
        if self.guard().take().is_some() {
            FLAME_LAYER_LIVE.store(false, Ordering::Release);
        }
    }
}
