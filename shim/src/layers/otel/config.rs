//! Options of the OpenTelemetry layers: `otlp` (export to an OTLP endpoint) and `otlpJson`
//! (OTLP JSON lines to stdout or a file).
//!
//! ```json
//! { "kind": "otlp", "endpoint": "http://127.0.0.1:4317", "protocol": "grpc",
//!   "headers": { "x-api-key": "secret" }, "serviceName": "my-app",
//!   "batch": { "scheduledDelayMs": 1000 }, "filter": "my_lib=debug" }
//! { "kind": "otlpJson", "writer": { "file": "spans.jsonl" } }
//! ```
//!
//! Every option that is not given falls back to the standard `OTEL_*` environment variable
//! (see `docs/opentelemetry.md` and `sdk.rs`); explicit options always win.
//!
//! The options both layers share are declared once, in `with_sdk_options!`, which adds them
//! to each layer's struct: serde reads each layer as one flat struct, so that an unknown option
//! is rejected by name with every accepted option listed (`#[serde(flatten)]` cannot do that
//! together with `deny_unknown_fields`).

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::options::{Count, Millis, WriterConfig};

/// Declares, from the options every OpenTelemetry layer shares (listed here and nowhere
/// else), either the config struct of a layer (its own fields as given, then the shared ones,
/// and `sdk()`, which borrows those) or, given `view`, [`SdkOptions`].
macro_rules! with_sdk_options {
    ($($input:tt)*) => {
        otel_config! {
            $($input)*
            shared {
                /// `service.name` of the resource. Falls back to `resource["service.name"]`,
                /// then `OTEL_SERVICE_NAME`, then `OTEL_RESOURCE_ATTRIBUTES`, then
                /// `unknown_service:<program>`.
                service_name: Option<String>,
                /// Resource attributes, merged over `OTEL_RESOURCE_ATTRIBUTES` (which is merged
                /// over the detected ones).
                resource: Option<BTreeMap<String, AttributeValue>>,
                /// Whether the resource starts with the attributes detected from the process
                /// and the host (`process.pid`, `host.name`, ...; see `detect.rs`). Default
                /// true.
                detect_resource: Option<bool>,
                /// The sampler. Falls back to `OTEL_TRACES_SAMPLER`, then
                /// `parentbased_always_on`.
                sampler: Option<SamplerName>,
                /// The ratio of the ratio samplers, 0 to 1. Falls back to
                /// `OTEL_TRACES_SAMPLER_ARG`, then 1.
                sampler_arg: Option<f64>,
                /// Span limits; each falls back to its `OTEL_*_LIMIT` variable, then 128 (the
                /// attribute value length: unlimited).
                span_limits: Option<SpanLimitsConfig>,
                /// Batching of spans; each falls back to its `OTEL_BSP_*` variable.
                batch: Option<BatchConfig>,
                /// Batching of log records (when logs are on); each falls back to its
                /// `OTEL_BLRP_*` variable, then the specification's defaults (those of spans,
                /// but a scheduled delay of 1 000 ms).
                logs_batch: Option<BatchConfig>,
                /// Metrics from event fields (when metrics are on): export interval, timeout
                /// and temporality.
                metrics: Option<MetricsConfig>,
                /// When logs are on, whether events inside spans are also recorded as span
                /// events. Default false: each event is exported once, as a log record linked
                /// to its span (error events still mark their span's status). Without logs,
                /// events are always span events.
                span_events: Option<bool>,
                /// The instrumentation scope the records are reported under. Default:
                /// `tracing-bridge` and this crate's version, no schema URL, no attributes.
                scope: Option<ScopeConfig>,
                /// Which attributes every span gets besides its own fields. Default: all of
                /// them.
                span_attributes: Option<SpanAttributesConfig>,
                /// How long `flush` and dispose wait for the exporter, in milliseconds.
                /// Default 5 000. Dispose drops (and counts) what is not exported by then.
                flush_timeout_ms: Option<Millis>,
                /// This layer's own filter directives.
                filter: Option<String>,
            }
        }
    };
}

macro_rules! otel_config {
    (
        view
        shared { $( $(#[$shared_meta:meta])* $shared:ident: $shared_type:ty, )* }
    ) => {
        /// The options both OpenTelemetry layers share, borrowed from either layer's config.
        #[derive(Debug, Clone, Copy)]
        pub struct SdkOptions<'a> {
            $( $(#[$shared_meta])* pub $shared: &'a $shared_type, )*
        }
    };
    (
        $(#[$struct_meta:meta])*
        pub struct $name:ident {
            $( $(#[$field_meta:meta])* pub $field:ident: $field_type:ty, )*
        }
        shared { $( $(#[$shared_meta:meta])* $shared:ident: $shared_type:ty, )* }
    ) => {
        $(#[$struct_meta])*
        #[derive(Debug, Clone, Default, Deserialize)]
        #[serde(rename_all = "camelCase", deny_unknown_fields)]
        pub struct $name {
            $( $(#[$field_meta])* #[serde(default)] pub $field: $field_type, )*
            $( $(#[$shared_meta])* #[serde(default)] pub $shared: $shared_type, )*
        }

        impl $name {
            /// The options every OpenTelemetry layer shares.
            pub fn sdk(&self) -> SdkOptions<'_> {
                SdkOptions {
                    $( $shared: &self.$shared, )*
                }
            }
        }
    };
}

with_sdk_options!(view);

with_sdk_options! {
    /// Options of the `otlp` layer: spans exported to an OTLP receiver.
    pub struct OtlpLayerConfig {
        /// The receiver. For gRPC its scheme, host and port; for HTTP the URL of the traces
        /// endpoint (`/v1/traces` is appended when the URL has no path; log records go to
        /// `/v1/logs` of the same base, so with logs on the path must be empty or end in
        /// `/v1/traces`). Falls back to
        /// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, then `OTEL_EXPORTER_OTLP_ENDPOINT`.
        pub endpoint: Option<String>,
        /// The wire protocol. Falls back to `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`, then
        /// `OTEL_EXPORTER_OTLP_PROTOCOL`, then `http/protobuf`.
        pub protocol: Option<OtlpProtocol>,
        /// Request headers (gRPC metadata), merged over `OTEL_EXPORTER_OTLP_TRACES_HEADERS` or
        /// `OTEL_EXPORTER_OTLP_HEADERS`.
        pub headers: Option<BTreeMap<String, String>>,
        /// Timeout of one export request, in milliseconds. Falls back to
        /// `OTEL_EXPORTER_OTLP_TRACES_TIMEOUT`, then `OTEL_EXPORTER_OTLP_TIMEOUT`, then 10 000.
        pub timeout_ms: Option<Millis>,
        /// Request compression. Falls back to `OTEL_EXPORTER_OTLP_TRACES_COMPRESSION`, then
        /// `OTEL_EXPORTER_OTLP_COMPRESSION`, then none.
        pub compression: Option<OtlpCompression>,
        /// PEM file of the certificate authorities that verify an `https` receiver, used
        /// instead of the system's roots. Falls back to `OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE`,
        /// then `OTEL_EXPORTER_OTLP_CERTIFICATE`, then the system's roots (the bundled Mozilla
        /// roots where the system has none).
        pub certificate: Option<String>,
        /// PEM file of the client certificate chain for mutual TLS (with `clientKey`). Falls
        /// back to `OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE`, then
        /// `OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE`.
        pub client_certificate: Option<String>,
        /// PEM file of the client's private key (PKCS#8, PKCS#1 or SEC1). Falls back to
        /// `OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY`, then `OTEL_EXPORTER_OTLP_CLIENT_KEY`.
        pub client_key: Option<String>,
        /// gRPC only, for an endpoint given without a scheme (`collector:4317`): `true` connects
        /// without TLS. Falls back to `OTEL_EXPORTER_OTLP_TRACES_INSECURE`, then
        /// `OTEL_EXPORTER_OTLP_INSECURE`, then `false` (TLS). An endpoint's `http://` or
        /// `https://` scheme always decides.
        pub insecure: Option<bool>,
        /// Where the spans go: the OTLP receiver, OTLP JSON lines on stdout, or nowhere. Falls
        /// back to `OTEL_TRACES_EXPORTER`, then `otlp`. The same as `signals.traces` (give one).
        pub exporter: Option<OtelExporter>,
        /// Where each signal goes (traces, logs, metrics). Each falls back to its
        /// `OTEL_<SIGNAL>_EXPORTER` variable, then traces `otlp`, logs and metrics `none`.
        pub signals: Option<OtlpSignalsConfig>,
    }
}

with_sdk_options! {
    /// Options of the `otlpJson` layer: spans as OTLP `TracesData` JSON, one object per line.
    pub struct OtlpJsonLayerConfig {
        /// Where lines go: stdout (the default), stderr or a file (appended to).
        pub writer: WriterConfig,
        /// Which signals are written (`TracesData`, `LogsData`, `MetricsData` lines). Default
        /// traces only.
        pub signals: Option<JsonSignalsConfig>,
    }
}

/// OTLP wire protocols.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum OtlpProtocol {
    /// OTLP/gRPC.
    #[serde(rename = "grpc")]
    Grpc,
    /// OTLP/HTTP with protobuf bodies.
    #[serde(rename = "http/protobuf")]
    HttpProtobuf,
    /// OTLP/HTTP with JSON bodies.
    #[serde(rename = "http/json")]
    HttpJson,
}

impl OtlpProtocol {
    /// The name used in configs and `OTEL_EXPORTER_OTLP_PROTOCOL`.
    pub fn name(self) -> &'static str {
        match self {
            OtlpProtocol::Grpc => "grpc",
            OtlpProtocol::HttpProtobuf => "http/protobuf",
            OtlpProtocol::HttpJson => "http/json",
        }
    }
}

/// Where an `otlp` layer sends a signal, as `OTEL_TRACES_EXPORTER`, `OTEL_LOGS_EXPORTER` and
/// `OTEL_METRICS_EXPORTER` name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum OtelExporter {
    /// To the OTLP receiver (`endpoint`, `protocol`, ...).
    Otlp,
    /// OTLP JSON lines on stdout, as an `otlpJson` layer writes them.
    Console,
    /// Nowhere: the signal is not recorded.
    None,
}

/// The exporter of spans (the name of [`OtelExporter`] before logs and metrics).
pub type TracesExporter = OtelExporter;

/// Where each signal of an `otlp` layer goes; `None` falls back to the signal's
/// `OTEL_<SIGNAL>_EXPORTER` variable, then traces `otlp`, logs and metrics `none`.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(
    rename_all = "camelCase",
    deny_unknown_fields,
    expecting = "an object such as `{\"traces\": \"otlp\", \"logs\": \"otlp\", \"metrics\": \"none\"}`"
)]
pub struct OtlpSignalsConfig {
    /// Spans (the same as the layer's `exporter` option).
    #[serde(default)]
    pub traces: Option<OtelExporter>,
    /// Log records: every event that passes the layer's filter.
    #[serde(default)]
    pub logs: Option<OtelExporter>,
    /// Metrics from event fields (`monotonic_counter.*`, `counter.*`, `histogram.*`).
    #[serde(default)]
    pub metrics: Option<OtelExporter>,
}

/// Which signals an `otlpJson` layer writes; default traces only.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(
    rename_all = "camelCase",
    deny_unknown_fields,
    expecting = "an object such as `{\"traces\": true, \"logs\": true, \"metrics\": false}`"
)]
pub struct JsonSignalsConfig {
    /// `TracesData` lines. Default true.
    #[serde(default)]
    pub traces: Option<bool>,
    /// `LogsData` lines. Default false.
    #[serde(default)]
    pub logs: Option<bool>,
    /// `MetricsData` lines. Default false.
    #[serde(default)]
    pub metrics: Option<bool>,
}

/// Metrics export settings; `None` falls back to the environment, then the default.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(
    rename_all = "camelCase",
    deny_unknown_fields,
    expecting = "an object of metrics settings such as `{\"exportIntervalMs\": 10000}`"
)]
pub struct MetricsConfig {
    /// Time between two periodic exports, in milliseconds. `OTEL_METRIC_EXPORT_INTERVAL`,
    /// default 60 000. Flush and dispose export at once too.
    #[serde(default)]
    pub export_interval_ms: Option<Millis>,
    /// Longest time one export may take, in milliseconds. `OTEL_METRIC_EXPORT_TIMEOUT`,
    /// default 30 000.
    #[serde(default)]
    pub export_timeout_ms: Option<Millis>,
    /// `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`, default cumulative.
    #[serde(default)]
    pub temporality: Option<Temporality>,
}

/// Aggregation temporality preference, as
/// `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Temporality {
    /// Every instrument cumulative.
    Cumulative,
    /// Counters and histograms delta, up-down counters cumulative.
    Delta,
    /// Counters and histograms delta, up-down counters cumulative (as `delta` for the
    /// instruments made from fields).
    Lowmemory,
}

impl OtelExporter {
    /// The name used in configs and `OTEL_TRACES_EXPORTER`.
    pub fn name(self) -> &'static str {
        match self {
            OtelExporter::Otlp => "otlp",
            OtelExporter::Console => "console",
            OtelExporter::None => "none",
        }
    }
}

/// Request compression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum OtlpCompression {
    /// gzip.
    Gzip,
    /// No compression.
    None,
}

/// The samplers of the OpenTelemetry specification, named as in `OTEL_TRACES_SAMPLER`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SamplerName {
    /// Every span.
    AlwaysOn,
    /// No span.
    AlwaysOff,
    /// A ratio of traces, by trace id (`samplerArg`).
    Traceidratio,
    /// Follow the parent's decision; root spans always.
    ParentbasedAlwaysOn,
    /// Follow the parent's decision; root spans never.
    ParentbasedAlwaysOff,
    /// Follow the parent's decision; root spans by ratio (`samplerArg`).
    ParentbasedTraceidratio,
}

/// Span limits; `None` falls back to the environment, then to 128.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(
    rename_all = "camelCase",
    deny_unknown_fields,
    expecting = "an object of span limits such as `{\"maxAttributesPerSpan\": 64}`"
)]
pub struct SpanLimitsConfig {
    /// `OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT`.
    #[serde(default)]
    pub max_attributes_per_span: Option<Count>,
    /// `OTEL_SPAN_EVENT_COUNT_LIMIT`.
    #[serde(default)]
    pub max_events_per_span: Option<Count>,
    /// `OTEL_SPAN_LINK_COUNT_LIMIT`.
    #[serde(default)]
    pub max_links_per_span: Option<Count>,
    /// `OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT`.
    #[serde(default)]
    pub max_attributes_per_event: Option<Count>,
    /// `OTEL_LINK_ATTRIBUTE_COUNT_LIMIT`.
    #[serde(default)]
    pub max_attributes_per_link: Option<Count>,
    /// The longest string attribute value, in characters (Unicode scalar values), of span,
    /// event and link attributes: longer strings, also in arrays, are cut to it.
    /// `OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT`, then `OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT`;
    /// default unlimited.
    #[serde(default)]
    pub attribute_value_length_limit: Option<Count>,
}

/// Batch span processor settings; `None` falls back to the environment, then the default.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(
    rename_all = "camelCase",
    deny_unknown_fields,
    expecting = "an object of batch settings such as `{\"maxQueueSize\": 2048}`"
)]
pub struct BatchConfig {
    /// Spans buffered before new ones are dropped. `OTEL_BSP_MAX_QUEUE_SIZE`, default 2048.
    #[serde(default)]
    pub max_queue_size: Option<Count>,
    /// Spans per export. `OTEL_BSP_MAX_EXPORT_BATCH_SIZE`, default 512 (at most the queue size).
    #[serde(default)]
    pub max_export_batch_size: Option<Count>,
    /// Longest wait before a partial batch is exported, in milliseconds.
    /// `OTEL_BSP_SCHEDULE_DELAY`, default 5 000.
    #[serde(default)]
    pub scheduled_delay_ms: Option<Millis>,
    /// Longest time one export may take, in milliseconds. `OTEL_BSP_EXPORT_TIMEOUT`,
    /// default 30 000.
    #[serde(default)]
    pub export_timeout_ms: Option<Millis>,
}

/// The instrumentation scope.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(
    rename_all = "camelCase",
    deny_unknown_fields,
    expecting = "an object such as `{\"name\": \"my-lib\", \"version\": \"1.0.0\"}`"
)]
pub struct ScopeConfig {
    /// Scope name.
    #[serde(default)]
    pub name: Option<String>,
    /// Scope version.
    #[serde(default)]
    pub version: Option<String>,
    /// The schema URL of the scope (`ScopeSpans.schema_url`).
    #[serde(default)]
    pub schema_url: Option<String>,
    /// Scope attributes.
    #[serde(default)]
    pub attributes: Option<BTreeMap<String, AttributeValue>>,
}

/// The attributes `tracing-opentelemetry` adds to every span, each on unless turned off.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(
    rename_all = "camelCase",
    deny_unknown_fields,
    expecting = "an object such as `{\"thread\": false}`"
)]
pub struct SpanAttributesConfig {
    /// `code.file.path`, `code.module.name`, `code.line.number` of the callsite.
    #[serde(default)]
    pub location: Option<bool>,
    /// `thread.id` and `thread.name` of the thread that made the span.
    #[serde(default)]
    pub thread: Option<bool>,
    /// `busy_ns` and `idle_ns`: time spent entered and not entered.
    #[serde(default)]
    pub busy_idle: Option<bool>,
    /// `level`: the span's level (`INFO`).
    #[serde(default)]
    pub level: Option<bool>,
    /// `target`: the span's target (its module, or what the span gave).
    #[serde(default)]
    pub target: Option<bool>,
}

/// A resource or scope attribute value: a string, number or boolean, or an array of one of
/// those types (homogeneous, not nested, as OpenTelemetry attributes are).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(
    untagged,
    expecting = "expected a string, a number, a boolean, or an array of strings, of numbers or of \
                 booleans (one type per array, no nested arrays)"
)]
pub enum AttributeValue {
    /// A boolean.
    Bool(bool),
    /// A whole number.
    Int(i64),
    /// Any other number.
    Float(f64),
    /// A string.
    String(String),
    /// Strings (also the empty array).
    Strings(Vec<String>),
    /// Booleans.
    Bools(Vec<bool>),
    /// Whole numbers.
    Ints(Vec<i64>),
    /// Numbers, some not whole.
    Floats(Vec<f64>),
}

#[cfg(feature = "otlp")]
impl AttributeValue {
    /// The OpenTelemetry value.
    pub(crate) fn to_otel(&self) -> opentelemetry::Value {
        use opentelemetry::{Array, StringValue, Value};
        match self {
            AttributeValue::Bool(value) => Value::from(*value),
            AttributeValue::Int(value) => Value::from(*value),
            AttributeValue::Float(value) => Value::from(*value),
            AttributeValue::String(value) => Value::from(value.clone()),
            AttributeValue::Strings(values) => Value::Array(Array::String(
                values.iter().cloned().map(StringValue::from).collect(),
            )),
            AttributeValue::Bools(values) => Value::Array(Array::Bool(values.clone())),
            AttributeValue::Ints(values) => Value::Array(Array::I64(values.clone())),
            AttributeValue::Floats(values) => Value::Array(Array::F64(values.clone())),
        }
    }
}
