//! The flame layer: folded stacks, as `tracing-flame` writes them, for flame graphs and flame
//! charts.
//!
//! Each line of the output is one stack (`thread; outer span; inner span`) and the nanoseconds
//! spent in it since the previous line of the same thread (samples of the same stack in a row
//! are one line). [`crate::flame_graph`] renders such a file to SVG.
//!
//! Samples are timed from the thread's previous span event; a thread's first event under a new
//! layer only starts its clock (counting the time since an unknown moment would draw a wide
//! bogus frame). Traced threads only append samples to a buffer; a writer thread writes the
//! text (`layer.rs`).

use std::path::PathBuf;

use serde::Deserialize;

#[cfg(feature = "flame")]
mod layer;
#[cfg(feature = "flame")]
pub(crate) use layer::build;

/// Options of the flame layer.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FlameLayerConfig {
    /// The folded-stacks file to write; created, or truncated if it exists. Its directory must
    /// exist.
    #[serde(deserialize_with = "crate::options::non_empty_path")]
    pub path: PathBuf,
    /// Also record the time when no span is entered, as stacks of the thread alone.
    #[serde(default)]
    pub empty_samples: bool,
    /// Merge every thread into one root frame (`all-threads`) instead of one per thread.
    #[serde(default)]
    pub threads_collapsed: bool,
    /// Prefix span names with their module path (`my_crate::module::span`).
    #[serde(default = "crate::options::yes")]
    pub module_path: bool,
    /// Suffix span names with their source file and line.
    #[serde(default)]
    pub file_and_line: bool,
    /// This layer's own filter directives.
    #[serde(default)]
    pub filter: Option<String>,
}
