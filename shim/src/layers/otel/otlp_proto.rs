//! OTLP/protobuf encoding of finished spans, written straight from `SpanData`.
//!
//! `opentelemetry-otlp` first converts every span into the generated message structs (a
//! `String` per key and value, a `Vec` per list) and then encodes those; on a machine where
//! the exporter shares its cores with the application, that copy was most of the export's
//! cost. This writes the same `ExportTraceServiceRequest` bytes in one pass into one buffer.
//! Field numbers are those of `opentelemetry/proto/trace/v1/trace.proto`; the test decodes our
//! bytes and the crate's with prost and compares the messages.

use std::time::{SystemTime, UNIX_EPOCH};

use opentelemetry::{
    trace::{Event, Link, SpanContext, SpanId, SpanKind, Status, TraceState},
    Array, InstrumentationScope, KeyValue, Value,
};
use opentelemetry_sdk::{trace::SpanData, Resource};

const VARINT: u32 = 0;
const FIXED64: u32 = 1;
const LENGTH_DELIMITED: u32 = 2;
const FIXED32: u32 = 5;

/// Bytes kept for the length of a message that holds a whole batch (up to 2 MiB).
const BATCH_RESERVE: usize = 3;

/// `SpanFlags`: the span says whether its parent is remote, and whether it is.
const CONTEXT_HAS_IS_REMOTE: u32 = 0x100;
const CONTEXT_IS_REMOTE: u32 = 0x200;

/// Appends the `ExportTraceServiceRequest` of `spans` (all from `resource`) to `out`.
pub(crate) fn encode_traces(spans: &[SpanData], resource: &Resource, out: &mut Vec<u8>) {
    export_request(
        out,
        resource,
        spans,
        |span| &span.instrumentation_scope,
        span_message,
    );
}

/// Appends an `Export…ServiceRequest` of `records` (all from `resource`) to `out`, grouped by
/// scope in order of first appearance (one group nearly always). Traces and logs share its
/// shape: `resource_spans`/`resource_logs` (1) holds the resource (1), one `scope_spans`/
/// `scope_logs` (2) per scope, with the scope (1), its records (2) and its schema URL (3), and
/// the resource's schema URL (3).
pub(super) fn export_request<'a, R>(
    out: &mut Vec<u8>,
    resource: &Resource,
    records: &'a [R],
    scope_of: impl Fn(&'a R) -> &'a InstrumentationScope,
    record_message: impl Fn(&mut Vec<u8>, &R),
) {
    let mut scopes: Vec<(&InstrumentationScope, Vec<&R>)> = Vec::new();
    for record in records {
        let scope = scope_of(record);
        match scopes
            .iter_mut()
            .find(|(known, _)| same_scope(known, scope))
        {
            Some((_, members)) => members.push(record),
            None => scopes.push((scope, vec![record])),
        }
    }
    // The resource's and each scope's group hold a whole batch; a record is usually over 127
    // bytes (see `message_reserving`).
    message_reserving(out, 1, BATCH_RESERVE, |out| {
        message(out, 1, |out| {
            for (key, value) in resource.iter() {
                key_value(out, 1, key.as_str(), value);
            }
        });
        for (scope, members) in &scopes {
            message_reserving(out, 2, BATCH_RESERVE, |out| {
                message(out, 1, |out| instrumentation_scope(out, scope));
                for record in members {
                    message_reserving(out, 2, 2, |out| record_message(out, record));
                }
                string(out, 3, scope.schema_url().unwrap_or_default());
            });
        }
        string(out, 3, resource.schema_url().unwrap_or_default());
    });
}

/// `a == b`, without `InstrumentationScope::eq`'s two sorted copies of the attribute lists
/// when neither scope has attributes (the usual case: each record holds a clone of its
/// tracer's scope, compared once per record).
fn same_scope(a: &InstrumentationScope, b: &InstrumentationScope) -> bool {
    if std::ptr::eq(a, b) {
        return true;
    }
    if a.attributes().next().is_none() && b.attributes().next().is_none() {
        return same_text(a.name(), b.name())
            && same_optional_text(a.version(), b.version())
            && same_optional_text(a.schema_url(), b.schema_url());
    }
    a == b
}

/// `a == b`, at once when both are the same text in memory: a scope's texts are interned
/// (`sdk.rs`), and every span holds a clone of its tracer's scope that points to them.
fn same_text(a: &str, b: &str) -> bool {
    (std::ptr::eq(a.as_ptr(), b.as_ptr()) && a.len() == b.len()) || a == b
}

fn same_optional_text(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => same_text(a, b),
        (None, None) => true,
        _ => false,
    }
}

pub(super) fn instrumentation_scope(out: &mut Vec<u8>, scope: &InstrumentationScope) {
    string(out, 1, scope.name());
    string(out, 2, scope.version().unwrap_or_default());
    for attribute in scope.attributes() {
        key_value(out, 3, attribute.key.as_str(), &attribute.value);
    }
}

fn span_message(out: &mut Vec<u8>, span: &SpanData) {
    let context = &span.span_context;
    bytes(out, 1, &context.trace_id().to_bytes());
    bytes(out, 2, &context.span_id().to_bytes());
    trace_state(out, 3, context);
    if span.parent_span_id != SpanId::INVALID {
        bytes(out, 4, &span.parent_span_id.to_bytes());
    }
    string(out, 5, &span.name);
    uint(out, 6, span_kind(&span.span_kind));
    fixed64(out, 7, nanos(span.start_time));
    fixed64(out, 8, nanos(span.end_time));
    attributes(out, 9, &span.attributes);
    uint(out, 10, span.dropped_attributes_count.into());
    for event in span.events.iter() {
        message(out, 11, |out| event_message(out, event));
    }
    uint(out, 12, span.events.dropped_count.into());
    for link in span.links.iter() {
        message(out, 13, |out| link_message(out, link));
    }
    uint(out, 14, span.links.dropped_count.into());
    message(out, 15, |out| match &span.status {
        Status::Unset => {}
        Status::Ok => uint(out, 3, 1),
        Status::Error { description } => {
            string(out, 2, description);
            uint(out, 3, 2);
        }
    });
    fixed32(
        out,
        16,
        flags(context, span.parent_span_is_remote, CONTEXT_HAS_IS_REMOTE),
    );
}

fn event_message(out: &mut Vec<u8>, event: &Event) {
    fixed64(out, 1, nanos(event.timestamp));
    string(out, 2, &event.name);
    attributes(out, 3, &event.attributes);
    uint(out, 4, event.dropped_attributes_count.into());
}

fn link_message(out: &mut Vec<u8>, link: &Link) {
    let context = &link.span_context;
    bytes(out, 1, &context.trace_id().to_bytes());
    bytes(out, 2, &context.span_id().to_bytes());
    trace_state(out, 3, context);
    attributes(out, 4, &link.attributes);
    uint(out, 5, link.dropped_attributes_count.into());
    fixed32(
        out,
        6,
        flags(context, context.is_remote(), CONTEXT_HAS_IS_REMOTE),
    );
}

fn flags(context: &SpanContext, remote: bool, base: u32) -> u32 {
    let remote = if remote { CONTEXT_IS_REMOTE } else { 0 };
    u32::from(context.trace_flags().to_u8()) | base | remote
}

fn trace_state(out: &mut Vec<u8>, field: u32, context: &SpanContext) {
    let state = context.trace_state();
    // Nearly every span has none: no header to build.
    if *state != TraceState::NONE {
        string(out, field, &state.header());
    }
}

fn span_kind(kind: &SpanKind) -> u64 {
    match kind {
        SpanKind::Internal => 1,
        SpanKind::Server => 2,
        SpanKind::Client => 3,
        SpanKind::Producer => 4,
        SpanKind::Consumer => 5,
    }
}

pub(super) fn nanos(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_nanos() as u64)
        .unwrap_or(0)
}

pub(super) fn attributes(out: &mut Vec<u8>, field: u32, attributes: &[KeyValue]) {
    for attribute in attributes {
        key_value(out, field, attribute.key.as_str(), &attribute.value);
    }
}

pub(super) fn key_value(out: &mut Vec<u8>, field: u32, key: &str, value: &Value) {
    message(out, field, |out| {
        string(out, 1, key);
        message(out, 2, |out| any_value(out, value));
    });
}

/// `AnyValue`: a oneof, so even an empty string, `false` or `0` is written.
pub(super) fn any_value(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::String(text) => string_always(out, 1, text.as_str()),
        Value::Bool(flag) => varint_field(out, 2, u64::from(*flag)),
        Value::I64(number) => varint_field(out, 3, *number as u64),
        Value::F64(number) => {
            tag(out, 4, FIXED64);
            out.extend_from_slice(&number.to_le_bytes());
        }
        Value::Array(array) => message(out, 5, |out| match array {
            Array::Bool(values) => {
                for flag in values {
                    message(out, 1, |out| varint_field(out, 2, u64::from(*flag)));
                }
            }
            Array::I64(values) => {
                for number in values {
                    message(out, 1, |out| varint_field(out, 3, *number as u64));
                }
            }
            Array::F64(values) => {
                for number in values {
                    message(out, 1, |out| {
                        tag(out, 4, FIXED64);
                        out.extend_from_slice(&number.to_le_bytes());
                    });
                }
            }
            Array::String(values) => {
                for text in values {
                    message(out, 1, |out| string_always(out, 1, text.as_str()));
                }
            }
            // A kind added to the API later: its text, rather than nothing.
            other => message(out, 1, |out| string_always(out, 1, &other.to_string())),
        }),
        other => string_always(out, 1, &other.to_string()),
    }
}

#[inline]
fn tag(out: &mut Vec<u8>, field: u32, wire_type: u32) {
    varint(out, u64::from(field << 3 | wire_type));
}

#[inline]
fn varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push(value as u8 | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

#[inline]
fn varint_field(out: &mut Vec<u8>, field: u32, value: u64) {
    tag(out, field, VARINT);
    varint(out, value);
}

/// A proto3 scalar: the default (0) is not written.
pub(super) fn uint(out: &mut Vec<u8>, field: u32, value: u64) {
    if value != 0 {
        varint_field(out, field, value);
    }
}

pub(super) fn fixed64(out: &mut Vec<u8>, field: u32, value: u64) {
    if value != 0 {
        tag(out, field, FIXED64);
        out.extend_from_slice(&value.to_le_bytes());
    }
}

pub(super) fn fixed32(out: &mut Vec<u8>, field: u32, value: u32) {
    if value != 0 {
        tag(out, field, FIXED32);
        out.extend_from_slice(&value.to_le_bytes());
    }
}

pub(super) fn bytes(out: &mut Vec<u8>, field: u32, value: &[u8]) {
    if !value.is_empty() {
        string_bytes(out, field, value);
    }
}

pub(super) fn string(out: &mut Vec<u8>, field: u32, value: &str) {
    bytes(out, field, value.as_bytes());
}

pub(super) fn string_always(out: &mut Vec<u8>, field: u32, value: &str) {
    string_bytes(out, field, value.as_bytes());
}

#[inline]
fn string_bytes(out: &mut Vec<u8>, field: u32, value: &[u8]) {
    tag(out, field, LENGTH_DELIMITED);
    varint(out, value.len() as u64);
    out.extend_from_slice(value);
}

/// A nested message: its length goes before it, and is known only once it is written. One
/// byte is reserved (most messages here are shorter than 128 bytes); a longer one shifts its
/// body to make room.
pub(super) fn message(out: &mut Vec<u8>, field: u32, body: impl FnOnce(&mut Vec<u8>)) {
    message_reserving(out, field, 1, body)
}

/// [`message`] with `reserved` bytes (1 to 10) kept for the length before the body: for
/// messages that are usually longer than 127 bytes (a span: 2, spanning 128 B to 16 KiB; a whole
/// batch: 3, up to 2 MiB), so that the body is not shifted. Any other length moves the body by
/// the difference, so the varint is always the shortest one.
pub(super) fn message_reserving(
    out: &mut Vec<u8>,
    field: u32,
    reserved: usize,
    body: impl FnOnce(&mut Vec<u8>),
) {
    tag(out, field, LENGTH_DELIMITED);
    let at = out.len();
    out.resize(at + reserved, 0);
    body(out);
    let end = out.len();
    let length = end - at - reserved;
    if length < 0x80 && reserved == 1 {
        out[at] = length as u8;
        return;
    }
    // The varint of the length, on the stack; the body moves by the difference to the bytes
    // reserved.
    let mut prefix = [0u8; 10];
    let mut size = 0;
    let mut rest = length as u64;
    while rest >= 0x80 {
        prefix[size] = rest as u8 | 0x80;
        rest >>= 7;
        size += 1;
    }
    prefix[size] = rest as u8;
    size += 1;
    if size > reserved {
        out.resize(end + size - reserved, 0);
        out.copy_within(at + reserved..end, at + size);
    } else if size < reserved {
        out.copy_within(at + reserved..end, at + size);
        out.truncate(end - (reserved - size));
    }
    out[at..at + size].copy_from_slice(&prefix[..size]);
}

#[cfg(test)]
mod tests {
    use std::{borrow::Cow, time::Duration};

    use opentelemetry::{
        trace::{SpanContext, SpanId, TraceFlags, TraceId, TraceState},
        KeyValue,
    };
    use opentelemetry_proto::{
        tonic::collector::trace::v1::ExportTraceServiceRequest,
        transform::{
            common::tonic::ResourceAttributesWithSchema,
            trace::tonic::group_spans_by_resource_and_scope,
        },
    };
    use opentelemetry_sdk::trace::{SpanEvents, SpanLinks};
    use prost::Message;

    use super::*;
    use crate::layers::otel::test_support::every_value;

    fn context(trace: u128, span: u64, remote: bool, state: &str) -> SpanContext {
        SpanContext::new(
            TraceId::from(trace),
            SpanId::from(span),
            TraceFlags::SAMPLED,
            remote,
            TraceState::from_key_value(if state.is_empty() {
                vec![]
            } else {
                vec![("vendor", state)]
            })
            .unwrap(),
        )
    }

    fn span(index: u64, scope: &InstrumentationScope, status: Status) -> SpanData {
        let start = UNIX_EPOCH + Duration::from_nanos(1_700_000_000_123_456_789 + index);
        SpanData {
            span_context: context(0xabc + u128::from(index), 0x100 + index, false, "one"),
            parent_span_id: if index % 2 == 0 {
                SpanId::INVALID
            } else {
                SpanId::from(0x99)
            },
            parent_span_is_remote: index % 3 == 0,
            span_kind: [SpanKind::Internal, SpanKind::Server, SpanKind::Consumer]
                [index as usize % 3]
                .clone(),
            name: Cow::Owned(format!("span {index}")),
            start_time: start,
            end_time: start + Duration::from_micros(5),
            attributes: every_value(),
            dropped_attributes_count: index as u32,
            events: {
                let mut events = SpanEvents::default();
                events.events.push(Event::new(
                    "happened",
                    start + Duration::from_micros(1),
                    every_value(),
                    2,
                ));
                events.events.push(Event::new("bare", start, vec![], 0));
                events.dropped_count = 3;
                events
            },
            links: {
                let mut links = SpanLinks::default();
                links.links.push(Link::new(
                    context(0xdef, 0x42, true, ""),
                    vec![KeyValue::new("why", "follows")],
                    1,
                ));
                links.dropped_count = 4;
                links
            },
            status,
            instrumentation_scope: scope.clone(),
        }
    }

    #[test]
    fn the_bytes_decode_to_what_opentelemetry_proto_makes() {
        let first = InstrumentationScope::builder("tracing-bridge")
            .with_version("1.2.3")
            .with_schema_url("https://opentelemetry.io/schemas/1.0.0")
            .with_attributes([KeyValue::new("scope.attr", 5_i64)])
            .build();
        let second = InstrumentationScope::builder("other").build();
        let spans = vec![
            span(0, &first, Status::Unset),
            span(1, &second, Status::Ok),
            span(2, &first, Status::error("it broke")),
            span(3, &first, Status::error("")),
        ];
        let resource = Resource::builder_empty()
            .with_attributes([
                KeyValue::new("service.name", "test"),
                KeyValue::new("deployment", 3_i64),
            ])
            .with_schema_url([], "https://example.com/schema")
            .build();

        let mut ours = Vec::new();
        encode_traces(&spans, &resource, &mut ours);
        let ours = ExportTraceServiceRequest::decode(ours.as_slice()).unwrap();

        let expected = ExportTraceServiceRequest {
            resource_spans: group_spans_by_resource_and_scope(
                spans,
                &ResourceAttributesWithSchema::from(&resource),
            ),
        };
        assert_eq!(ours, expected);
        assert_eq!(ours.resource_spans[0].scope_spans.len(), 2);
        assert_eq!(ours.resource_spans[0].scope_spans[0].spans.len(), 3);
    }

    #[test]
    fn message_lengths_of_one_two_and_three_varint_bytes_prefix_the_body_intact_whatever_was_reserved(
    ) {
        for length in [0usize, 1, 127, 128, 300, 16_383, 16_384, 70_000] {
            let body: Vec<u8> = (0..length).map(|index| (index % 251) as u8).collect();
            let mut prefix = vec![0xAA];
            tag(&mut prefix, 7, LENGTH_DELIMITED);
            varint(&mut prefix, length as u64);
            for reserved in [1, 2, 3, 5] {
                let mut out = vec![0xAA];
                message_reserving(&mut out, 7, reserved, |out| out.extend_from_slice(&body));
                let what = format!("length {length}, {reserved} bytes reserved");
                assert_eq!(&out[..prefix.len()], &prefix[..], "{what}");
                assert_eq!(&out[prefix.len()..], &body[..], "{what}");
            }
        }
    }

    #[test]
    fn scopes_compare_as_their_eq_does() {
        let plain = InstrumentationScope::builder("a").with_version("1").build();
        let attributed = InstrumentationScope::builder("a")
            .with_version("1")
            .with_attributes([KeyValue::new("k", 1_i64)])
            .build();
        let scopes = [
            plain.clone(),
            InstrumentationScope::builder("a").build(),
            // Equal texts elsewhere in memory.
            InstrumentationScope::builder(String::from("a"))
                .with_version(String::from("1"))
                .build(),
            InstrumentationScope::builder("b").with_version("1").build(),
            InstrumentationScope::builder("a")
                .with_version("1")
                .with_schema_url("https://example.com")
                .build(),
            attributed.clone(),
            InstrumentationScope::builder("a")
                .with_version("1")
                .with_attributes([KeyValue::new("k", 2_i64)])
                .build(),
        ];
        for a in [&plain, &attributed] {
            for b in &scopes {
                assert_eq!(same_scope(a, b), a == b, "{a:?} and {b:?}");
            }
        }
        assert!(same_scope(&plain, &plain.clone()));
        assert!(same_scope(&attributed, &attributed.clone()));
    }
}
