//! OTLP encoding of log records ([`OtlpRecords`] for [`LogRecord`]): protobuf written with the span
//! encoder's helpers (`otlp_proto.rs`; field numbers of
//! `opentelemetry/proto/logs/v1/logs.proto`), JSON through the generated message structs
//! (the OTLP JSON mapping: hex ids, 64-bit integers as strings, camelCase names). The tests
//! decode our protobuf with prost and compare it with the JSON path's messages.

use std::sync::Arc;

use opentelemetry::InstrumentationScope;
use opentelemetry_proto::{
    tonic::{
        common::v1::{AnyValue, InstrumentationScope as ProtoScope, KeyValue as ProtoKeyValue},
        logs::v1::{LogRecord as ProtoLogRecord, LogsData, ResourceLogs, ScopeLogs},
        resource::v1::Resource as ProtoResource,
    },
    transform::common::tonic::ResourceAttributesWithSchema,
};
use opentelemetry_sdk::Resource;
use prost::Message as _;

use super::{
    logs::LogRecord,
    otlp_proto::{
        attributes, bytes, export_request, fixed32, nanos, string, timestamp, uint, Encode, Scalar,
        Sink,
    },
    records::OtlpRecords,
};

impl OtlpRecords for LogRecord {
    const GRPC_METHOD: &'static str = "/opentelemetry.proto.collector.logs.v1.LogsService/Export";
    const JSON_REJECTED: &'static str = "rejectedLogRecords";

    fn encode_protobuf(batch: &[Self], resource: &Resource, out: &mut Vec<u8>) {
        encode_logs(batch, resource, out);
    }

    fn encode_json(
        batch: &mut Vec<Self>,
        resource: &ResourceAttributesWithSchema,
        out: &mut Vec<u8>,
    ) -> Result<(), String> {
        let data = logs_data(std::mem::take(batch), resource);
        serde_json::to_writer(out, &data)
            .map_err(|error| format!("cannot encode the log records as JSON: {error}"))
    }

    fn rejected_protobuf(answer: &[u8]) -> Option<(u64, String)> {
        use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceResponse;
        let partial = ExportLogsServiceResponse::decode(answer)
            .ok()?
            .partial_success?;
        let rejected = u64::try_from(partial.rejected_log_records)
            .ok()
            .filter(|&n| n > 0)?;
        Some((rejected, partial.error_message))
    }
}

/// The records of a batch grouped by scope, in order of first appearance (one group nearly
/// always: a layer has one scope).
fn by_scope(records: &[LogRecord]) -> Vec<(&Arc<InstrumentationScope>, Vec<&LogRecord>)> {
    let mut scopes: Vec<(&Arc<InstrumentationScope>, Vec<&LogRecord>)> = Vec::new();
    for record in records {
        match scopes
            .iter_mut()
            .find(|(scope, _)| Arc::ptr_eq(scope, &record.scope) || **scope == record.scope)
        {
            Some((_, members)) => members.push(record),
            None => scopes.push((&record.scope, vec![record])),
        }
    }
    scopes
}

/// Appends the `ExportLogsServiceRequest` of `records` (all from `resource`) to `out`.
pub(crate) fn encode_logs(records: &[LogRecord], resource: &Resource, out: &mut Vec<u8>) {
    export_request(out, resource, records, |record| &*record.scope);
}

impl Encode for LogRecord {
    fn encode<S: Sink>(&self, out: &mut S) {
        timestamp(out, 1, self.time);
        uint(out, 2, self.severity_number() as u64);
        string(out, 3, self.severity_text());
        if let Some(body) = &self.body {
            // AnyValue.string_value: a oneof, written even when empty.
            out.message(5, &Scalar::Str(body));
        }
        attributes(out, 6, &self.attributes);
        if let Some(span) = &self.span {
            fixed32(out, 8, u32::from(span.trace_flags().to_u8()));
            bytes(out, 9, &span.trace_id().to_bytes());
            bytes(out, 10, &span.span_id().to_bytes());
        }
        timestamp(out, 11, self.observed_time);
    }
}

/// The `LogsData` of `records`, all from `resource`.
fn logs_data(records: Vec<LogRecord>, resource: &ResourceAttributesWithSchema) -> LogsData {
    let scope_logs = by_scope(&records)
        .into_iter()
        .map(|(scope, members)| ScopeLogs {
            scope: Some(ProtoScope {
                name: scope.name().to_owned(),
                version: scope.version().unwrap_or_default().to_owned(),
                attributes: proto_attributes(scope.attributes().cloned()),
                dropped_attributes_count: 0,
            }),
            log_records: members.into_iter().map(proto_record).collect(),
            schema_url: scope.schema_url().unwrap_or_default().to_owned(),
        })
        .collect();
    LogsData {
        resource_logs: vec![ResourceLogs {
            resource: Some(ProtoResource {
                attributes: resource.attributes.0.clone(),
                dropped_attributes_count: 0,
                entity_refs: Vec::new(),
            }),
            scope_logs,
            schema_url: resource.schema_url.clone().unwrap_or_default(),
        }],
    }
}

fn proto_attributes(
    attributes: impl IntoIterator<Item = opentelemetry::KeyValue>,
) -> Vec<ProtoKeyValue> {
    attributes
        .into_iter()
        .map(|attribute| ProtoKeyValue {
            key: attribute.key.as_str().to_owned(),
            value: Some(AnyValue::from(attribute.value)),
            key_strindex: 0,
        })
        .collect()
}

fn proto_record(record: &LogRecord) -> ProtoLogRecord {
    let (flags, trace_id, span_id) = match &record.span {
        Some(span) => (
            u32::from(span.trace_flags().to_u8()),
            span.trace_id().to_bytes().to_vec(),
            span.span_id().to_bytes().to_vec(),
        ),
        None => (0, Vec::new(), Vec::new()),
    };
    ProtoLogRecord {
        time_unix_nano: nanos(record.time),
        observed_time_unix_nano: nanos(record.observed_time),
        severity_number: record.severity_number(),
        severity_text: record.severity_text().to_owned(),
        body: record
            .body
            .as_ref()
            .map(|body| AnyValue::from(opentelemetry::Value::from(body.clone()))),
        attributes: proto_attributes(record.attributes.iter().cloned()),
        dropped_attributes_count: 0,
        flags,
        trace_id,
        span_id,
        event_name: String::new(),
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use opentelemetry::{
        trace::{SpanContext, SpanId, TraceFlags, TraceId, TraceState},
        KeyValue,
    };
    use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
    use tracing::Level;

    use super::*;
    use crate::layers::otel::test_support::every_value;

    fn record(span: Option<(u128, u64)>, body: Option<&str>, level: Level) -> LogRecord {
        let scope = Arc::new(
            InstrumentationScope::builder("tracing-bridge")
                .with_version("1.0")
                .with_schema_url("https://opentelemetry.io/schemas/1.26.0")
                .with_attributes([KeyValue::new("team", "core")])
                .build(),
        );
        LogRecord {
            time: SystemTime::UNIX_EPOCH + Duration::from_nanos(1_700_000_000_123_456_789),
            observed_time: SystemTime::UNIX_EPOCH + Duration::from_nanos(1_700_000_000_123_456_790),
            level,
            body: body.map(str::to_owned),
            attributes: every_value()
                .into_iter()
                .chain([
                    KeyValue::new("target", "fibonacci"),
                    KeyValue::new("code.line.number", 42_i64),
                ])
                .collect(),
            span: span.map(|(trace, span)| {
                SpanContext::new(
                    TraceId::from(trace),
                    SpanId::from(span),
                    TraceFlags::SAMPLED,
                    false,
                    TraceState::default(),
                )
            }),
            scope,
        }
    }

    fn resource() -> Resource {
        Resource::builder_empty()
            .with_attributes([
                KeyValue::new("service.name", "logs-test"),
                KeyValue::new("process.pid", 42_i64),
            ])
            .with_schema_url(
                Vec::<KeyValue>::new(),
                "https://opentelemetry.io/schemas/1.21.0",
            )
            .build()
    }

    fn batch() -> Vec<LogRecord> {
        vec![
            record(
                Some((0x0af7651916cd43dd8448eb211c80319c, 0xb7ad6b7169203331)),
                Some("in a span"),
                Level::INFO,
            ),
            record(None, Some(""), Level::TRACE),
            record(None, None, Level::DEBUG),
            record(Some((1, 2)), Some("warned"), Level::WARN),
            record(Some((3, 4)), Some("failed"), Level::ERROR),
        ]
    }

    #[test]
    fn protobuf_decodes_to_the_same_messages_as_the_json_path() {
        let resource = resource();
        let mut ours = Vec::new();
        encode_logs(&batch(), &resource, &mut ours);
        let decoded = ExportLogsServiceRequest::decode(ours.as_slice()).unwrap();
        let expected = logs_data(batch(), &ResourceAttributesWithSchema::from(&resource));
        assert_eq!(decoded.resource_logs, expected.resource_logs);
        let records = &decoded.resource_logs[0].scope_logs[0].log_records;
        let severities: Vec<(i32, &str)> = records
            .iter()
            .map(|record| (record.severity_number, record.severity_text.as_str()))
            .collect();
        assert_eq!(
            severities,
            [
                (9, "INFO"),
                (1, "TRACE"),
                (5, "DEBUG"),
                (13, "WARN"),
                (17, "ERROR")
            ]
        );
        assert_eq!(records[0].flags, 1);
        assert_eq!(records[0].span_id, 0xb7ad6b7169203331_u64.to_be_bytes());
        assert_eq!(records[1].trace_id, Vec::<u8>::new());
        assert!(
            records[1].body.is_some(),
            "an empty message is still a body"
        );
        assert!(records[2].body.is_none());
        assert_eq!(records[0].time_unix_nano, 1_700_000_000_123_456_789);
        assert_eq!(
            records[0].observed_time_unix_nano,
            1_700_000_000_123_456_790
        );
    }

    #[test]
    fn json_follows_the_otlp_json_mapping() {
        let resource = ResourceAttributesWithSchema::from(&resource());
        let mut out = Vec::new();
        LogRecord::encode_json(&mut batch(), &resource, &mut out).unwrap();
        let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let scope_logs = &json["resourceLogs"][0]["scopeLogs"][0];
        assert_eq!(scope_logs["scope"]["name"], "tracing-bridge");
        assert_eq!(
            scope_logs["schemaUrl"],
            "https://opentelemetry.io/schemas/1.26.0"
        );
        let first = &scope_logs["logRecords"][0];
        assert_eq!(first["traceId"], "0af7651916cd43dd8448eb211c80319c");
        assert_eq!(first["spanId"], "b7ad6b7169203331");
        assert_eq!(first["severityNumber"], 9);
        assert_eq!(first["severityText"], "INFO");
        assert_eq!(first["body"]["stringValue"], "in a span");
        assert_eq!(first["timeUnixNano"], "1700000000123456789");
        let big = first["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|attribute| attribute["key"] == "big")
            .unwrap();
        assert_eq!(big["value"]["intValue"], i64::MAX.to_string());
        let resource_keys: Vec<&serde_json::Value> = json["resourceLogs"][0]["resource"]
            ["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|attribute| &attribute["key"])
            .collect();
        assert!(resource_keys.contains(&&serde_json::json!("service.name")));
    }

    #[test]
    fn a_partial_success_names_the_rejected_log_records() {
        use opentelemetry_proto::tonic::collector::logs::v1::{
            ExportLogsPartialSuccess, ExportLogsServiceResponse,
        };
        let answer = ExportLogsServiceResponse {
            partial_success: Some(ExportLogsPartialSuccess {
                rejected_log_records: 3,
                error_message: "too old".into(),
            }),
        }
        .encode_to_vec();
        assert_eq!(
            LogRecord::rejected_protobuf(&answer),
            Some((3, "too old".to_owned()))
        );
        let json = br#"{"partialSuccess":{"rejectedLogRecords":"2","errorMessage":"x"}}"#;
        assert_eq!(
            super::super::records::rejected_json::<LogRecord>(json),
            Some((2, "x".to_owned()))
        );
    }
}
