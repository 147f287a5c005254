//! What the exporters need to know of each signal's records ([`OtlpRecords`]): how a batch is
//! written as OTLP protobuf and as OTLP JSON, the gRPC method it goes to, and how the
//! receiver's partial success names the records it rejected. The transport (`otlp.rs`) and
//! the JSON lines writer (`otlp_json.rs`) are the same for every signal.

use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
use opentelemetry_sdk::{trace::SpanData, Resource};
use prost::Message as _;

use super::otlp_proto::encode_traces;

/// Records of one signal, as an OTLP exporter sends them.
pub(crate) trait OtlpRecords: Sized + Send + 'static {
    /// The gRPC method of the signal's service:
    /// `/opentelemetry.proto.collector.trace.v1.TraceService/Export`.
    const GRPC_METHOD: &'static str;
    /// The counter of rejected records in the JSON partial success: `rejectedSpans`.
    const JSON_REJECTED: &'static str;

    /// Appends the protobuf `Export…ServiceRequest` of `batch`, all from `resource`.
    fn encode_protobuf(batch: &[Self], resource: &Resource, out: &mut Vec<u8>);

    /// Appends the OTLP JSON of `batch` (the `Export…ServiceRequest` and the `…Data` line are
    /// the same object), taking the records out of it.
    fn encode_json(
        batch: &mut Vec<Self>,
        resource: &ResourceAttributesWithSchema,
        out: &mut Vec<u8>,
    ) -> Result<(), String>;

    /// The records a protobuf `Export…ServiceResponse` says were rejected, with the
    /// receiver's message; `None` for a full success or an unreadable answer.
    fn rejected_protobuf(answer: &[u8]) -> Option<(u64, String)>;

    /// Empties `batch` once it is encoded (before it is sent: its memory is not needed then).
    fn recycle(batch: &mut Vec<Self>) {
        batch.clear();
    }
}

/// How an OTLP JSON line of each signal begins: `{"resourceSpans":` (a file may hold lines of
/// all three).
pub(crate) fn json_line_starts() -> [String; 3] {
    ["resourceSpans", "resourceLogs", "resourceMetrics"].map(|list| format!("{{\"{list}\":"))
}

/// The records the JSON partial success of `R` says were rejected (the count as a number or,
/// as the JSON mapping writes 64-bit integers, a string), with the receiver's message.
pub(crate) fn rejected_json<R: OtlpRecords>(answer: &[u8]) -> Option<(u64, String)> {
    let answer: serde_json::Value = serde_json::from_slice(answer).ok()?;
    let partial = answer.get("partialSuccess")?;
    let rejected = match partial.get(R::JSON_REJECTED)? {
        serde_json::Value::String(text) => text.parse::<u64>().ok()?,
        other => other.as_u64()?,
    };
    let message = partial
        .get("errorMessage")
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default();
    (rejected > 0).then(|| (rejected, message.to_owned()))
}

impl OtlpRecords for SpanData {
    const GRPC_METHOD: &'static str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
    const JSON_REJECTED: &'static str = "rejectedSpans";

    fn encode_protobuf(batch: &[Self], resource: &Resource, out: &mut Vec<u8>) {
        encode_traces(batch, resource, out);
    }

    fn encode_json(
        batch: &mut Vec<Self>,
        resource: &ResourceAttributesWithSchema,
        out: &mut Vec<u8>,
    ) -> Result<(), String> {
        use opentelemetry_proto::{
            tonic::trace::v1::TracesData,
            transform::trace::tonic::group_spans_by_resource_and_scope,
        };
        let data = TracesData {
            resource_spans: group_spans_by_resource_and_scope(std::mem::take(batch), resource),
        };
        serde_json::to_writer(out, &data)
            .map_err(|error| format!("cannot encode the spans as JSON: {error}"))
    }

    fn rejected_protobuf(answer: &[u8]) -> Option<(u64, String)> {
        use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
        let partial = ExportTraceServiceResponse::decode(answer)
            .ok()?
            .partial_success?;
        let rejected = u64::try_from(partial.rejected_spans)
            .ok()
            .filter(|&n| n > 0)?;
        Some((rejected, partial.error_message))
    }

    /// Keeps the spans' attribute lists for new light spans (`reuse.rs`).
    fn recycle(batch: &mut Vec<Self>) {
        super::reuse::recycle_attributes(batch);
    }
}
