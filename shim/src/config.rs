//! The configuration document: what the TypeScript side sends as JSON, and what Rust users
//! may build directly.
//!
//! ```json
//! {
//!   "filter": "info",
//!   "layers": [
//!     { "kind": "fmt", "writer": "stdout", "format": "compact", "filter": "my_lib=debug" },
//!     { "kind": "fmt", "writer": { "file": "trace.log" }, "format": "json" }
//!   ]
//! }
//! ```
//!
//! Unknown fields and values are rejected with an error that names them.

use std::path::PathBuf;

use serde::Deserialize;

use crate::error::Error;

mod otel;
pub use otel::{
    AttributeValue, BatchConfig, Count, Millis, OtlpCompression, OtlpJsonLayerConfig,
    OtlpLayerConfig, OtlpProtocol, SamplerName, ScopeConfig, SdkOptions, SpanLimitsConfig,
};

/// A whole subscriber: a list of layers, each with its own filter, plus an optional global filter.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Config {
    /// Directives applied before every layer's own filter. When no filter is given anywhere,
    /// `RUST_LOG` is used, else `info`.
    #[serde(default)]
    pub filter: Option<String>,
    /// The layers, in order.
    #[serde(default)]
    pub layers: Vec<LayerConfig>,
}

impl Config {
    /// Parses a JSON configuration document. Errors name the offending field.
    pub fn from_json(json: &str) -> Result<Self, Error> {
        let deserializer = &mut serde_json::Deserializer::from_str(json);
        serde_path_to_error::deserialize(deserializer).map_err(|error| {
            let path = error.path().to_string();
            let inner = error.into_inner();
            if path == "." || path.is_empty() {
                Error::invalid_config(format!("invalid tracing config: {inner}"))
            } else {
                Error::invalid_config(format!("invalid tracing config at `{path}`: {inner}"))
            }
        })
    }

    /// Whether any layer or the global filter carries a filter.
    pub(crate) fn has_any_filter(&self) -> bool {
        self.filter.is_some() || self.layers.iter().any(|layer| layer.filter().is_some())
    }
}

/// One layer, selected by its `kind`.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum LayerConfig {
    /// Human-readable lines by `tracing_subscriber::fmt`.
    Fmt(FmtLayerConfig),
    /// Spans and events delivered to a JavaScript `Layer` object.
    Js(crate::layers::js::JsLayerConfig),
    /// A Trace Event Format timeline (Perfetto, `chrome://tracing`).
    Timeline(TimelineLayerConfig),
    /// Folded stacks for flame graphs and flame charts, by `tracing-flame`.
    Flame(FlameLayerConfig),
    /// Spans exported to an OTLP receiver over gRPC or HTTP.
    #[serde(deserialize_with = "otel::with_option_paths")]
    Otlp(OtlpLayerConfig),
    /// Spans as OTLP JSON lines to stdout, stderr or a file.
    #[serde(deserialize_with = "otel::with_option_paths")]
    OtlpJson(OtlpJsonLayerConfig),
}

impl LayerConfig {
    /// The layer's own filter directives, if any.
    pub fn filter(&self) -> Option<&str> {
        match self {
            LayerConfig::Fmt(fmt) => fmt.filter.as_deref(),
            LayerConfig::Js(js) => js.filter.as_deref(),
            LayerConfig::Timeline(timeline) => timeline.filter.as_deref(),
            LayerConfig::Flame(flame) => flame.filter.as_deref(),
            LayerConfig::Otlp(otlp) => otlp.filter.as_deref(),
            LayerConfig::OtlpJson(otlp_json) => otlp_json.filter.as_deref(),
        }
    }
}

/// Options of the fmt layer. Every field has a default.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FmtLayerConfig {
    /// Where lines go.
    #[serde(default)]
    pub writer: WriterConfig,
    /// The line format.
    #[serde(default)]
    pub format: FmtFormat,
    /// ANSI colours; by default on only when the writer is a terminal and `NO_COLOR` is unset.
    #[serde(default)]
    pub ansi: Option<bool>,
    /// Show the event's target.
    #[serde(default = "yes")]
    pub target: bool,
    /// Show the event's level.
    #[serde(default = "yes")]
    pub level: bool,
    /// Show the thread id.
    #[serde(default)]
    pub thread_ids: bool,
    /// Show the thread name.
    #[serde(default)]
    pub thread_names: bool,
    /// Show the source file.
    #[serde(default)]
    pub file: bool,
    /// Show the source line.
    #[serde(default)]
    pub line: bool,
    /// Which span lifecycle moments are printed as lines of their own.
    #[serde(default)]
    pub span_events: Vec<SpanEventKind>,
    /// This layer's own filter directives.
    #[serde(default)]
    pub filter: Option<String>,
}

fn yes() -> bool {
    true
}

pub use crate::layers::flame::FlameLayerConfig;
pub use crate::layers::timeline::{TimelineLayerConfig, TimelineStyle};

/// Where a layer writes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub enum WriterConfig {
    /// The process's standard output.
    #[default]
    Stdout,
    /// The process's standard error.
    Stderr,
    /// A file, opened for appending and created if missing; its directory must exist.
    File(PathBuf),
}

/// `tracing_subscriber::fmt` line formats.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FmtFormat {
    /// One line per event with the span context.
    #[default]
    Full,
    /// Shorter lines.
    Compact,
    /// Multi-line, for reading by eye.
    Pretty,
    /// One JSON object per line.
    Json,
}

/// Span lifecycle moments that the fmt layer can print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum SpanEventKind {
    /// The span was created.
    New,
    /// The span was entered.
    Enter,
    /// The span was exited.
    Exit,
    /// The span was closed (with its busy and idle times).
    Close,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_fill_every_fmt_option() {
        let config = Config::from_json(r#"{"layers":[{"kind":"fmt"}]}"#).unwrap();
        let LayerConfig::Fmt(fmt) = &config.layers[0] else {
            panic!("expected a fmt layer")
        };
        assert_eq!(fmt.writer, WriterConfig::Stdout);
        assert_eq!(fmt.format, FmtFormat::Full);
        assert!(fmt.target && fmt.level && !fmt.thread_ids);
    }

    #[test]
    fn unknown_format_names_the_field_and_the_choices() {
        let error =
            Config::from_json(r#"{"layers":[{"kind":"fmt","format":"fancy"}]}"#).unwrap_err();
        assert!(error.message().contains("layers[0]"), "{}", error.message());
        assert!(error.message().contains("`fancy`"), "{}", error.message());
        assert!(error.message().contains("`compact`"), "{}", error.message());
    }

    #[test]
    fn unknown_writer_is_rejected() {
        let error =
            Config::from_json(r#"{"layers":[{"kind":"fmt","writer":"printer"}]}"#).unwrap_err();
        assert!(error.message().contains("`printer`"), "{}", error.message());
    }

    #[test]
    fn file_writer_takes_a_path() {
        let config =
            Config::from_json(r#"{"layers":[{"kind":"fmt","writer":{"file":"/tmp/x.log"}}]}"#)
                .unwrap();
        let LayerConfig::Fmt(fmt) = &config.layers[0] else {
            panic!("expected a fmt layer")
        };
        assert_eq!(fmt.writer, WriterConfig::File("/tmp/x.log".into()));
    }

    #[test]
    fn malformed_json_is_an_error() {
        assert!(Config::from_json("{").is_err());
        assert!(Config::from_json(r#"{"layerz":[]}"#).is_err());
    }
}
