//! What the OpenTelemetry settings' unit tests share: a layer's options read as the config
//! document gives them, and a made-up environment.

use std::collections::HashMap;

use super::config::OtlpLayerConfig;

/// The options of `{"kind":"otlp", ...}`; the `kind` itself is read by config.rs.
pub(super) fn otlp(json: &str) -> OtlpLayerConfig {
    let mut layer: serde_json::Value = serde_json::from_str(json).unwrap();
    assert_eq!(layer["kind"], "otlp");
    layer.as_object_mut().unwrap().remove("kind");
    serde_json::from_value(layer).unwrap()
}

/// An environment holding `vars` and nothing else.
pub(super) fn with_env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
    let vars: HashMap<&str, &str> = vars.iter().copied().collect();
    move |name| vars.get(name).map(|value| (*value).to_owned())
}

/// A layer's JSON, the environment, and a part of the expected error message.
pub(super) type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);

/// A finished span with ids made from `index`, no attributes and the default scope.
pub(super) fn span_data(index: u64) -> opentelemetry_sdk::trace::SpanData {
    use opentelemetry::trace::{SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId};
    opentelemetry_sdk::trace::SpanData {
        span_context: SpanContext::new(
            TraceId::from(u128::from(index) + 1),
            SpanId::from(index + 1),
            TraceFlags::SAMPLED,
            false,
            Default::default(),
        ),
        parent_span_id: SpanId::INVALID,
        parent_span_is_remote: false,
        span_kind: SpanKind::Internal,
        name: "test".into(),
        start_time: std::time::SystemTime::now(),
        end_time: std::time::SystemTime::now(),
        attributes: Vec::new(),
        dropped_attributes_count: 0,
        events: Default::default(),
        links: Default::default(),
        status: Status::Unset,
        instrumentation_scope: Default::default(),
    }
}

/// One attribute of every value type an OTLP encoder writes: strings (empty and long), booleans,
/// integers (zero, negative, the largest), a float, and an array of each type.
pub(super) fn every_value() -> Vec<opentelemetry::KeyValue> {
    use opentelemetry::{KeyValue, StringValue, Value};
    vec![
        KeyValue::new("text", "value"),
        KeyValue::new("empty", ""),
        KeyValue::new("long", "x".repeat(300)),
        KeyValue::new("yes", true),
        KeyValue::new("no", false),
        KeyValue::new("zero", 0_i64),
        KeyValue::new("negative", -7_i64),
        KeyValue::new("big", i64::MAX),
        KeyValue::new("ratio", 0.25),
        KeyValue::new("bools", Value::Array(vec![true, false].into())),
        KeyValue::new("ints", Value::Array(vec![1_i64, -2].into())),
        KeyValue::new("floats", Value::Array(vec![1.5, -0.0].into())),
        KeyValue::new(
            "strings",
            Value::Array(vec![StringValue::from("a"), "".into()].into()),
        ),
    ]
}
