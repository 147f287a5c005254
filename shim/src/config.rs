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
//! Unknown fields and values are rejected with an error that names the option at fault, as a
//! path into the document (`layers[0].format`), and says what is accepted.
//!
//! This module only assembles the document: each layer kind's options are declared with the
//! kind (`layers/<kind>`), options several kinds share in `options/`, and [`LayerConfig`]
//! lists the kinds, one line each. The header's schema comment is checked against these types
//! by `shim/tests/header_schema.rs`.

use std::fmt;

use serde::{de, de::DeserializeOwned, Deserialize, Deserializer};
use serde_json::Value;
use serde_path_to_error::Segment;

use crate::error::Error;

pub use crate::{
    layers::{
        flame::FlameLayerConfig,
        fmt::{
            FmtFormat, FmtLayerConfig, FmtTimer, FmtWriterConfig, RollingConfig, Rotation,
            SpanEventKind,
        },
        js::{JsCallback, JsLayerConfig},
        otel::config::{
            AttributeValue, BatchConfig, JsonSignalsConfig, MetricsConfig, OtelExporter,
            OtlpCompression, OtlpJsonLayerConfig, OtlpLayerConfig, OtlpProtocol, OtlpSignalsConfig,
            SamplerName, ScopeConfig, SdkOptions, SpanAttributesConfig, SpanLimitsConfig,
            Temporality, TracesExporter,
        },
        timeline::{TimelineLayerConfig, TimelineStyle},
    },
    options::{Count, Millis, WriterConfig},
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
    /// The runtime that loaded the library, as the bindings describe it: the OpenTelemetry
    /// layers report it in their resource (`process.runtime.name`, `process.runtime.version`).
    /// Rust programs leave it out (no `process.runtime.*` then), or name their own host.
    #[serde(default)]
    pub runtime: Option<RuntimeConfig>,
}

/// The runtime that hosts the library (`{"name": "deno", "version": "2.5.6"}`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(
    rename_all = "camelCase",
    deny_unknown_fields,
    expecting = "an object such as `{\"name\": \"deno\", \"version\": \"2.5.6\"}`"
)]
pub struct RuntimeConfig {
    /// `process.runtime.name`: `deno`, `bun`, ...
    pub name: String,
    /// `process.runtime.version`.
    #[serde(default)]
    pub version: Option<String>,
}

impl Config {
    /// Parses a JSON configuration document. Errors name the option at fault by its path
    /// (`layers[0].format`) and say what is accepted.
    pub fn from_json(json: &str) -> Result<Self, Error> {
        let what = "tracing config";
        Self::from_value(parse_json(json, what)?).map_err(|error| error.into_error(what))
    }

    /// Reads the document with its layers one by one, so that a layer's errors keep their
    /// path: serde reads a layer whole before its `kind` is known, and its own path tracking
    /// stops at `layers[i]`.
    fn from_value(document: Value) -> Result<Self, OptionError> {
        let (layers, rest) = match document {
            Value::Object(mut fields) => (fields.remove("layers"), Value::Object(fields)),
            other => (None, other),
        };
        let mut config: Config = read(rest)?;
        if let Some(layers) = layers {
            let layers: Vec<Value> = read(layers).map_err(|error| error.within("layers"))?;
            config.layers = layers
                .into_iter()
                .enumerate()
                .map(|(index, layer)| {
                    LayerConfig::from_value(layer)
                        .map_err(|error| error.within(&format!("layers[{index}]")))
                })
                .collect::<Result<_, _>>()?;
        }
        Ok(config)
    }

    /// Whether any layer or the global filter carries a filter.
    pub(crate) fn has_any_filter(&self) -> bool {
        self.filter.is_some() || self.layers.iter().any(|layer| layer.filter().is_some())
    }
}

/// Declares [`LayerConfig`], one variant per layer kind, and what follows from the list: the
/// `kind` names, reading a layer's options by kind, and each layer's filter.
macro_rules! layer_kinds {
    ($( $(#[$doc:meta])* $kind:literal => $variant:ident($config:ty), )*) => {
        /// One layer, selected by its `kind`.
        #[derive(Debug, Clone)]
        pub enum LayerConfig {
            $( $(#[$doc])* $variant($config), )*
        }

        impl LayerConfig {
            /// The `kind` of every layer, as the document spells it.
            const KINDS: &'static [&'static str] = &[$($kind),*];

            /// Reads the options of a layer of `kind`; `None` for an unknown kind.
            fn read_kind(kind: &str, options: Value) -> Option<Result<Self, OptionError>> {
                Some(match kind {
                    $( $kind => read(options).map(LayerConfig::$variant), )*
                    _ => return None,
                })
            }

            /// The layer's `kind`, as the document spells it.
            pub fn kind(&self) -> &'static str {
                match self {
                    $( LayerConfig::$variant(_) => $kind, )*
                }
            }

            /// The layer's own filter directives, if any.
            pub fn filter(&self) -> Option<&str> {
                match self {
                    $( LayerConfig::$variant(config) => config.filter.as_deref(), )*
                }
            }
        }
    };
}

// One line per layer kind; its config type lives with the layer, in `layers/<kind>`.
layer_kinds! {
    /// Human-readable lines by `tracing_subscriber::fmt`.
    "fmt" => Fmt(FmtLayerConfig),
    /// Spans and events delivered to a JavaScript `Layer` object.
    "js" => Js(JsLayerConfig),
    /// A Trace Event Format timeline (Perfetto, `chrome://tracing`).
    "timeline" => Timeline(TimelineLayerConfig),
    /// Folded stacks for flame graphs and flame charts (as `tracing-flame` writes them).
    "flame" => Flame(FlameLayerConfig),
    /// Spans exported to an OTLP receiver over gRPC or HTTP.
    "otlp" => Otlp(OtlpLayerConfig),
    /// Spans as OTLP JSON lines to stdout, stderr or a file.
    "otlpJson" => OtlpJson(OtlpJsonLayerConfig),
}

/// `` `fmt`, `js`, ... or `otlpJson` ``: the kinds, for messages.
fn layer_kinds_text() -> String {
    let quoted: Vec<String> = LayerConfig::KINDS
        .iter()
        .map(|kind| format!("`{kind}`"))
        .collect();
    match quoted.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

impl LayerConfig {
    /// Reads one layer (`{"kind": "fmt", ...}`); errors carry the path inside the layer.
    fn from_value(layer: Value) -> Result<Self, OptionError> {
        let kinds = layer_kinds_text();
        let Value::Object(mut options) = layer else {
            return Err(OptionError::new(
                "",
                format!("a layer must be an object with a `kind` ({kinds}), got {layer}"),
            ));
        };
        let kind = match options.remove("kind") {
            Some(Value::String(kind)) => kind,
            Some(other) => {
                return Err(OptionError::new(
                    "kind",
                    format!("must be one of {kinds}, got {other}"),
                ))
            }
            None => {
                return Err(OptionError::new(
                    "kind",
                    format!("is missing; give one of {kinds}"),
                ))
            }
        };
        LayerConfig::read_kind(&kind, Value::Object(options)).unwrap_or_else(|| {
            Err(OptionError::new(
                "kind",
                format!("unknown layer kind `{kind}`; give one of {kinds}"),
            ))
        })
    }
}

impl<'de> Deserialize<'de> for LayerConfig {
    /// Reads a layer from any serde format, through a JSON value; an error names the option
    /// inside the layer (`` `format`: unknown variant ... ``).
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        LayerConfig::from_value(Value::deserialize(deserializer)?).map_err(de::Error::custom)
    }
}

/// An option that could not be read: where it is (`layers[0].batch.maxQueueSize`, empty for
/// the document itself) and what is wrong with it.
#[derive(Debug)]
struct OptionError {
    path: String,
    message: String,
}

impl OptionError {
    fn new(path: &str, message: String) -> Self {
        Self {
            path: path.to_owned(),
            message,
        }
    }

    /// The same error seen from `parent`, which holds the value this error is about.
    fn within(self, parent: &str) -> Self {
        let path = if self.path.is_empty() {
            parent.to_owned()
        } else if self.path.starts_with('[') {
            format!("{parent}{}", self.path)
        } else {
            format!("{parent}.{}", self.path)
        };
        Self { path, ..self }
    }
}

impl fmt::Display for OptionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "`{}`: {}", self.path, self.message)
        }
    }
}

impl OptionError {
    /// The `INVALID_CONFIG` error of this option, in the document called `what`.
    fn into_error(self, what: &str) -> Error {
        let OptionError { path, message } = self;
        if path.is_empty() {
            Error::invalid_config(format!("invalid {what}: {message}"))
        } else {
            Error::invalid_config(format!("invalid {what} at `{path}`: {message}"))
        }
    }
}

/// Parses the JSON document called `what` (`tracing config`) as `T`. An invalid value is
/// named by its path; only a malformed document keeps serde_json's "at line N column M",
/// since the document is written by the bindings, not by the user.
#[cfg_attr(not(feature = "flame"), allow(dead_code))] // flame graph render requests
pub(crate) fn from_json_document<T: DeserializeOwned>(json: &str, what: &str) -> Result<T, Error> {
    read(parse_json(json, what)?).map_err(|error| error.into_error(what))
}

fn parse_json(json: &str, what: &str) -> Result<Value, Error> {
    serde_json::from_str(json).map_err(|error| {
        Error::invalid_config(format!("invalid {what}: not a JSON document: {error}"))
    })
}

/// Reads `value` as `T`; an error carries the path inside `value` of the part at fault.
fn read<T: DeserializeOwned>(value: Value) -> Result<T, OptionError> {
    read_at_path::<T>(value.clone()).map_err(|(segments, message)| {
        let message = match message.strip_suffix(", expected string or map") {
            // serde_json says this of every enum given a value of the wrong type; the values
            // the enum accepts are in the error of a string it does not accept.
            Some(invalid_type) => match accepted_values::<T>(value, &segments) {
                Some(accepted) => format!("{invalid_type}, expected {accepted}"),
                None => message,
            },
            None => message,
        };
        OptionError::new(&path_text(&segments), message)
    })
}

fn read_at_path<T: DeserializeOwned>(value: Value) -> Result<T, (Vec<Segment>, String)> {
    serde_path_to_error::deserialize(value).map_err(|error| {
        let segments = error.path().iter().cloned().collect();
        (segments, error.into_inner().to_string())
    })
}

/// What an enum at `segments` in `value` accepts (`one of `full`, `compact`, ...`), learnt by
/// reading `value` again with a string no enum accepts there.
fn accepted_values<T: DeserializeOwned>(mut value: Value, segments: &[Segment]) -> Option<String> {
    let mut slot = &mut value;
    for segment in segments {
        slot = match segment {
            Segment::Seq { index } => slot.get_mut(index)?,
            Segment::Map { key } => slot.get_mut(key.as_str())?,
            _ => return None,
        };
    }
    *slot = Value::String("\u{0}".to_owned());
    let (_, message) = read_at_path::<T>(value).err()?;
    message
        .split_once(", expected ")
        .filter(|(unknown, _)| unknown.starts_with("unknown variant"))
        .map(|(_, accepted)| accepted.to_owned())
}

/// `batch.maxQueueSize`, `spanEvents[1]`; empty for the value itself.
fn path_text(segments: &[Segment]) -> String {
    let mut text = String::new();
    for segment in segments {
        if !text.is_empty() && !matches!(segment, Segment::Seq { .. }) {
            text.push('.');
        }
        text.push_str(&segment.to_string());
    }
    text
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
        assert_eq!(fmt.writer, FmtWriterConfig::Stdout);
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
        assert_eq!(fmt.writer, FmtWriterConfig::File("/tmp/x.log".into()));
    }

    fn error_of(json: &str) -> String {
        Config::from_json(json).unwrap_err().message().to_owned()
    }

    #[test]
    fn every_kind_names_the_option_by_its_path() {
        for (layer, path, expected) in [
            (
                r#"{"kind":"fmt","format":"fancy"}"#,
                "layers[1].format",
                "`compact`",
            ),
            (
                r#"{"kind":"fmt","spanEvents":["new","open"]}"#,
                "layers[1].spanEvents[1]",
                "`close`",
            ),
            (
                r#"{"kind":"fmt","writer":{"file":""}}"#,
                "layers[1].writer.file",
                "is empty",
            ),
            (
                r#"{"kind":"js","capacity":4294967296}"#,
                "layers[1].capacity",
                "from 1 to 4294967295",
            ),
            (
                r#"{"kind":"js","capacity":0}"#,
                "layers[1].capacity",
                "got 0",
            ),
            (
                r#"{"kind":"timeline","path":"t.json","style":5}"#,
                "layers[1].style",
                "`threaded`",
            ),
            (
                r#"{"kind":"timeline"}"#,
                "layers[1]",
                "missing field `path`",
            ),
            (
                r#"{"kind":"flame","path":""}"#,
                "layers[1].path",
                "is empty",
            ),
            (
                r#"{"kind":"flame","path":"f","modulePath":"yes"}"#,
                "layers[1].modulePath",
                "a boolean",
            ),
            (
                r#"{"kind":"otlp","batch":{"maxQueueSize":-5}}"#,
                "layers[1].batch.maxQueueSize",
                "negative",
            ),
            (
                r#"{"kind":"otlpJson","colour":1}"#,
                "layers[1].colour",
                "unknown field",
            ),
            (r#"{"kind":"fancy"}"#, "layers[1].kind", "`otlpJson`"),
            (r#"{"format":"json"}"#, "layers[1].kind", "is missing"),
            (r#"{"kind":5}"#, "layers[1].kind", "`fmt`"),
            ("7", "layers[1]", "must be an object"),
        ] {
            let message = error_of(&format!(r#"{{"layers":[{{"kind":"fmt"}},{layer}]}}"#));
            assert!(
                message.contains(&format!("`{path}`:")) && message.contains(expected),
                "{layer}: {message}"
            );
            assert!(!message.contains(" at line "), "{message}");
        }
    }

    #[test]
    fn document_level_errors_name_their_field() {
        assert!(error_of(r#"{"filter":5}"#).contains("`filter`: invalid type"));
        assert!(error_of(r#"{"layers":{}}"#).contains("`layers`: invalid type"));
        assert!(error_of(r#"{"layerz":[]}"#).contains("`layerz`: unknown field"));
        assert!(error_of("7").starts_with("invalid tracing config: invalid type"));
    }

    #[test]
    fn layers_read_through_serde_name_the_option_too() {
        let error = serde_json::from_str::<LayerConfig>(r#"{"kind":"fmt","ansi":1}"#).unwrap_err();
        assert!(
            error.to_string().starts_with("`ansi`: invalid type"),
            "{error}"
        );
        let config: Config =
            serde_json::from_str(r#"{"layers":[{"style":"async","kind":"timeline","path":"x"}]}"#)
                .unwrap();
        assert!(matches!(config.layers[0], LayerConfig::Timeline(_)));
    }

    #[test]
    fn negative_and_fractional_sizes_in_the_config_name_the_option() {
        for (json, expected) in [
            (
                r#"{"kind":"otlp","batch":{"maxQueueSize":-5}}"#,
                "`layers[0].batch.maxQueueSize`: must not be negative, got -5",
            ),
            (
                r#"{"kind":"otlp","timeoutMs":1.5}"#,
                "`layers[0].timeoutMs`: must be a whole number of at least 0, got 1.5",
            ),
            (
                r#"{"kind":"otlp","protocol":"udp"}"#,
                "`layers[0].protocol`: unknown variant `udp`, expected one of `grpc`, `http/protobuf`, `http/json`",
            ),
            (
                r#"{"kind":"otlp","colour":"red"}"#,
                "`layers[0].colour`: unknown field `colour`",
            ),
        ] {
            let error = Config::from_json(&format!(r#"{{"layers":[{json}]}}"#)).unwrap_err();
            assert!(error.message().contains(expected), "{json}: {}", error.message());
            assert!(error.message().contains("layers[0]"), "{}", error.message());
        }
    }
    #[test]
    fn attribute_arrays_are_homogeneous_and_flat() {
        for (layer, path) in [
            (
                r#"{"kind":"otlp","resource":{"tags":["a",1]}}"#,
                "layers[0].resource.tags",
            ),
            (
                r#"{"kind":"otlp","resource":{"nested":[[1]]}}"#,
                "layers[0].resource.nested",
            ),
            (
                r#"{"kind":"otlpJson","resource":{"m":{"a":1}}}"#,
                "layers[0].resource.m",
            ),
            (
                r#"{"kind":"otlp","scope":{"attributes":{"mixed":[true,"x"]}}}"#,
                "layers[0].scope.attributes.mixed",
            ),
        ] {
            let message = error_of(&format!(r#"{{"layers":[{layer}]}}"#));
            assert!(
                message.contains(&format!("`{path}`: expected a string, a number, a boolean, or an array of strings, of numbers or of booleans (one type per array, no nested arrays)")),
                "{layer}: {message}"
            );
        }
        let config = Config::from_json(
            r#"{"layers":[{"kind":"otlp","resource":{"a":["x"],"b":[1,2],"c":[1.5,2],"d":[false],"e":[]}}]}"#,
        )
        .unwrap();
        let LayerConfig::Otlp(otlp) = &config.layers[0] else {
            panic!("expected an otlp layer")
        };
        let resource = otlp.resource.as_ref().unwrap();
        assert_eq!(resource["a"], AttributeValue::Strings(vec!["x".into()]));
        assert_eq!(resource["b"], AttributeValue::Ints(vec![1, 2]));
        assert_eq!(resource["c"], AttributeValue::Floats(vec![1.5, 2.0]));
        assert_eq!(resource["d"], AttributeValue::Bools(vec![false]));
        assert_eq!(resource["e"], AttributeValue::Strings(vec![]));
    }

    #[test]
    fn the_runtime_is_read_from_the_document() {
        let config =
            Config::from_json(r#"{"runtime":{"name":"deno","version":"2.5.6"},"layers":[]}"#)
                .unwrap();
        assert_eq!(
            config.runtime,
            Some(RuntimeConfig {
                name: "deno".into(),
                version: Some("2.5.6".into())
            })
        );
        assert!(error_of(r#"{"runtime":{"name":"deno","flavour":1}}"#)
            .contains("`runtime.flavour`: unknown field"));
        assert!(error_of(r#"{"runtime":"deno"}"#).contains("`runtime`: invalid type"));
    }

    #[test]
    fn malformed_json_is_an_error() {
        assert!(Config::from_json("{").is_err());
        assert!(Config::from_json(r#"{"layerz":[]}"#).is_err());
    }
}
