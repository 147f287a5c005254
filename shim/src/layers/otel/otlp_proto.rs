//! OTLP/protobuf encoding of finished spans, written straight from `SpanData`.
//!
//! `opentelemetry-otlp` first converts every span into the generated message structs (a
//! `String` per key and value, a `Vec` per list) and then encodes those; on a machine where
//! the exporter shares its cores with the application, that copy was most of the export's
//! cost. This writes the same `ExportTraceServiceRequest` bytes into one buffer.
//! Field numbers are those of `opentelemetry/proto/trace/v1/trace.proto`; the tests decode our
//! bytes and the crate's with prost and compare the messages.
//!
//! Every message is written by one function ([`Encode::encode`]) for two [`Sink`]s: a
//! [`Counter`] that adds up the bytes it would write, and a [`Writer`] that writes them. A
//! nested message's length goes before it, so the writer first counts a small message (an
//! attribute, a value, an event), then writes its length and body: the lengths come from the
//! same code as the bytes. A record's and a batch's length, which would take a second pass
//! over the whole record, are written after the body into bytes reserved for them
//! ([`Writer::message_reserving`]).

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

/// `SpanFlags`: the span says whether its parent is remote, and whether it is.
const CONTEXT_HAS_IS_REMOTE: u32 = 0x100;
const CONTEXT_IS_REMOTE: u32 = 0x200;

/// Appends the `ExportTraceServiceRequest` of `spans` (all from `resource`) to `out`.
pub(crate) fn encode_traces(spans: &[SpanData], resource: &Resource, out: &mut Vec<u8>) {
    export_request(out, resource, spans, |span| &span.instrumentation_scope);
}

/// A protobuf message, written to a [`Sink`]: counted or written by the same code.
pub(super) trait Encode {
    fn encode<S: Sink>(&self, out: &mut S);

    /// The bytes of the message's body.
    #[inline]
    fn encoded_len(&self) -> usize {
        let mut counter = Counter(0);
        self.encode(&mut counter);
        counter.0
    }
}

/// Where a message's fields go: [`Counter`] or [`Writer`]. The helpers below ([`uint`],
/// [`string`], …) leave out proto3 defaults; these methods write what they are given.
pub(super) trait Sink {
    fn varint_field(&mut self, field: u32, value: u64);
    fn fixed64_field(&mut self, field: u32, value: u64);
    fn fixed32_field(&mut self, field: u32, value: u32);
    fn bytes_field(&mut self, field: u32, value: &[u8]);
    /// A `fixed64` time in nanoseconds since the epoch ([`nanos`]), after the epoch.
    fn time_field(&mut self, field: u32, time: SystemTime);
    /// A nested message, written even when empty.
    fn message<M: Encode + ?Sized>(&mut self, field: u32, message: &M);

    /// A `KeyValue` message.
    #[inline]
    fn attribute(&mut self, field: u32, key: &str, value: &Value) {
        self.message(field, &Attribute(key, value));
    }
}

/// Counts the bytes a message's fields take.
pub(super) struct Counter(pub(super) usize);

impl Sink for Counter {
    #[inline]
    fn varint_field(&mut self, field: u32, value: u64) {
        self.0 += tag_len(field) + varint_len(value);
    }

    #[inline]
    fn fixed64_field(&mut self, field: u32, _value: u64) {
        self.0 += tag_len(field) + 8;
    }

    #[inline]
    fn fixed32_field(&mut self, field: u32, _value: u32) {
        self.0 += tag_len(field) + 4;
    }

    #[inline]
    fn time_field(&mut self, field: u32, _time: SystemTime) {
        self.0 += tag_len(field) + 8;
    }

    #[inline]
    fn bytes_field(&mut self, field: u32, value: &[u8]) {
        self.0 += delimited_len(field, value.len());
    }

    #[inline]
    fn message<M: Encode + ?Sized>(&mut self, field: u32, message: &M) {
        self.0 += delimited_len(field, message.encoded_len());
    }
}

/// Appends fields to a buffer.
pub(super) struct Writer<'a> {
    buf: &'a mut Vec<u8>,
}

impl<'a> Writer<'a> {
    fn new(buf: &'a mut Vec<u8>) -> Self {
        Self { buf }
    }

    #[inline(always)]
    fn put(&mut self, byte: u8) {
        self.buf.push(byte);
    }

    #[inline(always)]
    fn put_slice(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    #[inline(always)]
    fn varint(&mut self, mut value: u64) {
        while value >= 0x80 {
            self.put(value as u8 | 0x80);
            value >>= 7;
        }
        self.put(value as u8);
    }

    #[inline(always)]
    fn tag(&mut self, field: u32, wire_type: u32) {
        self.varint(u64::from(field << 3 | wire_type));
    }

    /// A nested message whose length is known only once it is written (a record, a batch):
    /// `reserved` bytes (1 to 10) are kept for its length, which is written after the body,
    /// for messages that are usually longer than 127 bytes (a span: 2, spanning 128 B to
    /// 16 KiB; a whole batch: 3, up to 2 MiB), so that the body is not shifted. Any other
    /// length moves the body by the difference, so the varint is always the shortest one.
    fn message_reserving(&mut self, field: u32, reserved: usize, body: impl FnOnce(&mut Self)) {
        self.tag(field, LENGTH_DELIMITED);
        let at = self.buf.len();
        self.buf.resize(at + reserved, 0);
        body(self);
        let out = &mut *self.buf;
        let end = out.len();
        let length = end - at - reserved;
        // The varint of the length, on the stack; the body moves by the difference to the
        // bytes reserved.
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
        if size == 2 && reserved == 2 {
            // A span's usual case, without copying a slice of unknown length.
            out[at..at + 2].copy_from_slice(&prefix[..2]);
            return;
        }
        if size > reserved {
            out.resize(end + size - reserved, 0);
            out.copy_within(at + reserved..end, at + size);
        } else if size < reserved {
            out.copy_within(at + reserved..end, at + size);
            out.truncate(end - (reserved - size));
        }
        out[at..at + size].copy_from_slice(&prefix[..size]);
    }
}

/// The longest key, and key and string value together, whose attribute's lengths take one
/// byte each (under 128; see [`Writer::attribute`]).
const SHORT_KEY: usize = 100;
const SHORT_ATTRIBUTE: usize = 120;

impl Sink for Writer<'_> {
    /// The usual attribute (a key and a short string, integer, boolean or float) in a few
    /// fixed-size copies: its lengths, all under 128, are known from the key's and the
    /// value's without counting. Anything else is counted and written field by field.
    #[inline]
    fn attribute(&mut self, field: u32, key_text: &str, value: &Value) {
        let key = key_text.as_bytes();
        if field < 16 && !key.is_empty() && key.len() <= SHORT_KEY {
            let tag = (field << 3 | LENGTH_DELIMITED) as u8;
            // `KeyValue`: key (1), value (2); `AnyValue`: string (1), bool (2), int (3),
            // double (4).
            let head = |body: usize| [tag, body as u8, 0x0a, key.len() as u8];
            match value {
                Value::String(text) if key.len() + text.as_str().len() <= SHORT_ATTRIBUTE => {
                    let text = text.as_str().as_bytes();
                    let any = 2 + text.len();
                    self.put_slice(&head(2 + key.len() + 2 + any));
                    self.put_slice(key);
                    self.put_slice(&[0x12, any as u8, 0x0a, text.len() as u8]);
                    self.put_slice(text);
                    return;
                }
                Value::I64(number) => {
                    let number = *number as u64;
                    let any = 1 + varint_len(number);
                    self.put_slice(&head(2 + key.len() + 2 + any));
                    self.put_slice(key);
                    self.put_slice(&[0x12, any as u8, 0x18]);
                    self.varint(number);
                    return;
                }
                Value::Bool(flag) => {
                    self.put_slice(&head(2 + key.len() + 4));
                    self.put_slice(key);
                    self.put_slice(&[0x12, 2, 0x10, u8::from(*flag)]);
                    return;
                }
                Value::F64(number) => {
                    self.put_slice(&head(2 + key.len() + 11));
                    self.put_slice(key);
                    self.put_slice(&[0x12, 9, 0x21]);
                    self.put_slice(&number.to_le_bytes());
                    return;
                }
                _ => {}
            }
        }
        self.message(field, &Attribute(key_text, value));
    }

    #[inline]
    fn varint_field(&mut self, field: u32, value: u64) {
        self.tag(field, VARINT);
        self.varint(value);
    }

    #[inline]
    fn fixed64_field(&mut self, field: u32, value: u64) {
        self.tag(field, FIXED64);
        self.put_slice(&value.to_le_bytes());
    }

    #[inline]
    fn fixed32_field(&mut self, field: u32, value: u32) {
        self.tag(field, FIXED32);
        self.put_slice(&value.to_le_bytes());
    }

    #[inline]
    fn time_field(&mut self, field: u32, time: SystemTime) {
        self.fixed64_field(field, nanos(time));
    }

    #[inline]
    fn bytes_field(&mut self, field: u32, value: &[u8]) {
        self.tag(field, LENGTH_DELIMITED);
        self.varint(value.len() as u64);
        self.put_slice(value);
    }

    #[inline]
    fn message<M: Encode + ?Sized>(&mut self, field: u32, message: &M) {
        let length = message.encoded_len();
        self.tag(field, LENGTH_DELIMITED);
        self.varint(length as u64);
        message.encode(self);
    }
}

/// The bytes of `value` as a varint: 1 to 10.
#[inline(always)]
pub(super) const fn varint_len(value: u64) -> usize {
    // One byte per 7 bits, at least one (prost's formula).
    (((64 - (value | 1).leading_zeros()) * 9 + 64) / 64) as usize
}

#[inline(always)]
const fn tag_len(field: u32) -> usize {
    varint_len((field << 3) as u64)
}

/// The bytes of a length-delimited field whose body is `length` bytes.
#[inline(always)]
const fn delimited_len(field: u32, length: usize) -> usize {
    tag_len(field) + varint_len(length as u64) + length
}

/// Appends an `Export…ServiceRequest` of `records` (all from `resource`) to `out`, grouped by
/// scope in order of first appearance (one group nearly always). Traces and logs share its
/// shape: `resource_spans`/`resource_logs` (1) holds the resource (1), one `scope_spans`/
/// `scope_logs` (2) per scope, with the scope (1), its records (2) and its schema URL (3), and
/// the resource's schema URL (3).
pub(super) fn export_request<'a, R: Encode>(
    out: &mut Vec<u8>,
    resource: &Resource,
    records: &'a [R],
    scope_of: impl Fn(&'a R) -> &'a InstrumentationScope,
) {
    // The scopes, in order of first appearance: each record is in the group of the one it
    // equals.
    let mut scopes: Vec<&InstrumentationScope> = Vec::new();
    for record in records {
        let scope = scope_of(record);
        if !scopes.iter().any(|known| same_scope(known, scope)) {
            scopes.push(scope);
        }
    }
    let mut out = Writer::new(out);
    // The resource's and each scope's group hold a whole batch; a record is usually over 127
    // bytes (see `message_reserving`).
    out.message_reserving(1, BATCH_RESERVE, |out| {
        out.message(1, &ResourceBody(resource));
        for scope in &scopes {
            out.message_reserving(2, BATCH_RESERVE, |out| {
                out.message(1, *scope);
                for record in records {
                    if scopes.len() == 1 || same_scope(scope, scope_of(record)) {
                        out.message_reserving(2, 2, |out| record.encode(out));
                    }
                }
                string(out, 3, scope.schema_url().unwrap_or_default());
            });
        }
        string(out, 3, resource.schema_url().unwrap_or_default());
    });
}

/// Bytes kept for the length of a message that holds a whole batch (up to 2 MiB).
const BATCH_RESERVE: usize = 3;

/// `Resource`: its attributes.
struct ResourceBody<'a>(&'a Resource);

impl Encode for ResourceBody<'_> {
    fn encode<S: Sink>(&self, out: &mut S) {
        for (key, value) in self.0.iter() {
            out.message(1, &Attribute(key.as_str(), value));
        }
    }
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

impl Encode for InstrumentationScope {
    fn encode<S: Sink>(&self, out: &mut S) {
        string(out, 1, self.name());
        string(out, 2, self.version().unwrap_or_default());
        for attribute in self.attributes() {
            out.message(3, &Attribute(attribute.key.as_str(), &attribute.value));
        }
    }
}

impl Encode for SpanData {
    #[inline]
    fn encode<S: Sink>(&self, out: &mut S) {
        let context = &self.span_context;
        bytes(out, 1, &context.trace_id().to_bytes());
        bytes(out, 2, &context.span_id().to_bytes());
        trace_state(out, 3, context);
        if self.parent_span_id != SpanId::INVALID {
            bytes(out, 4, &self.parent_span_id.to_bytes());
        }
        string(out, 5, &self.name);
        uint(out, 6, span_kind(&self.span_kind));
        timestamp(out, 7, self.start_time);
        timestamp(out, 8, self.end_time);
        attributes(out, 9, &self.attributes);
        uint(out, 10, self.dropped_attributes_count.into());
        for event in self.events.iter() {
            out.message(11, event);
        }
        uint(out, 12, self.events.dropped_count.into());
        for link in self.links.iter() {
            out.message(13, link);
        }
        uint(out, 14, self.links.dropped_count.into());
        out.message(15, &SpanStatus(&self.status));
        fixed32(
            out,
            16,
            flags(context, self.parent_span_is_remote, CONTEXT_HAS_IS_REMOTE),
        );
    }
}

/// `Status`: its message (2) and code (3).
struct SpanStatus<'a>(&'a Status);

impl Encode for SpanStatus<'_> {
    #[inline]
    fn encode<S: Sink>(&self, out: &mut S) {
        match self.0 {
            Status::Unset => {}
            Status::Ok => uint(out, 3, 1),
            Status::Error { description } => {
                string(out, 2, description);
                uint(out, 3, 2);
            }
        }
    }
}

impl Encode for Event {
    fn encode<S: Sink>(&self, out: &mut S) {
        timestamp(out, 1, self.timestamp);
        string(out, 2, &self.name);
        attributes(out, 3, &self.attributes);
        uint(out, 4, self.dropped_attributes_count.into());
    }
}

impl Encode for Link {
    fn encode<S: Sink>(&self, out: &mut S) {
        let context = &self.span_context;
        bytes(out, 1, &context.trace_id().to_bytes());
        bytes(out, 2, &context.span_id().to_bytes());
        trace_state(out, 3, context);
        attributes(out, 4, &self.attributes);
        uint(out, 5, self.dropped_attributes_count.into());
        fixed32(
            out,
            6,
            flags(context, context.is_remote(), CONTEXT_HAS_IS_REMOTE),
        );
    }
}

fn flags(context: &SpanContext, remote: bool, base: u32) -> u32 {
    let remote = if remote { CONTEXT_IS_REMOTE } else { 0 };
    u32::from(context.trace_flags().to_u8()) | base | remote
}

#[inline]
fn trace_state<S: Sink>(out: &mut S, field: u32, context: &SpanContext) {
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

/// Nanoseconds since the Unix epoch; 0 before it. Past 2554 it wraps, as `as_nanos() as u64`
/// would.
pub(super) fn nanos(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map(|elapsed| {
            elapsed
                .as_secs()
                .wrapping_mul(1_000_000_000)
                .wrapping_add(u64::from(elapsed.subsec_nanos()))
        })
        .unwrap_or(0)
}

/// A `fixed64` time in nanoseconds since the epoch; left out (0) when not after the epoch.
/// A [`Counter`] only compares: the nanoseconds are worked out by the writer alone.
#[inline]
pub(super) fn timestamp<S: Sink>(out: &mut S, field: u32, time: SystemTime) {
    if time > UNIX_EPOCH {
        out.time_field(field, time);
    }
}

#[inline]
pub(super) fn attributes<S: Sink>(out: &mut S, field: u32, attributes: &[KeyValue]) {
    for attribute in attributes {
        out.attribute(field, attribute.key.as_str(), &attribute.value);
    }
}

/// `KeyValue`: the key (1), and the value (2) written even when it is an empty string.
pub(super) struct Attribute<'a>(pub(super) &'a str, pub(super) &'a Value);

impl Encode for Attribute<'_> {
    #[inline]
    fn encode<S: Sink>(&self, out: &mut S) {
        string(out, 1, self.0);
        out.message(2, self.1);
    }
}

/// `AnyValue`: a oneof, so even an empty string, `false` or `0` is written.
impl Encode for Value {
    #[inline]
    fn encode<S: Sink>(&self, out: &mut S) {
        match self {
            Value::String(text) => out.bytes_field(1, text.as_str().as_bytes()),
            Value::Bool(flag) => Scalar::Bool(*flag).encode(out),
            Value::I64(number) => Scalar::I64(*number).encode(out),
            Value::F64(number) => Scalar::F64(*number).encode(out),
            Value::Array(array) => out.message(5, array),
            other => out.bytes_field(1, other.to_string().as_bytes()),
        }
    }
}

/// `ArrayValue`: one `AnyValue` (1) per element.
impl Encode for Array {
    fn encode<S: Sink>(&self, out: &mut S) {
        match self {
            Array::Bool(values) => {
                for flag in values {
                    out.message(1, &Scalar::Bool(*flag));
                }
            }
            Array::I64(values) => {
                for number in values {
                    out.message(1, &Scalar::I64(*number));
                }
            }
            Array::F64(values) => {
                for number in values {
                    out.message(1, &Scalar::F64(*number));
                }
            }
            Array::String(values) => {
                for text in values {
                    out.message(1, &Scalar::Str(text.as_str()));
                }
            }
            // A kind added to the API later: its text, rather than nothing.
            other => out.message(1, &Scalar::Str(&other.to_string())),
        }
    }
}

/// An `AnyValue` that is not an array.
pub(super) enum Scalar<'a> {
    Bool(bool),
    I64(i64),
    F64(f64),
    Str(&'a str),
}

impl Encode for Scalar<'_> {
    #[inline]
    fn encode<S: Sink>(&self, out: &mut S) {
        match *self {
            Scalar::Str(text) => out.bytes_field(1, text.as_bytes()),
            Scalar::Bool(flag) => out.varint_field(2, u64::from(flag)),
            Scalar::I64(number) => out.varint_field(3, number as u64),
            Scalar::F64(number) => out.fixed64_field(4, number.to_bits()),
        }
    }
}

/// A proto3 scalar: the default (0) is not written.
#[inline]
pub(super) fn uint<S: Sink>(out: &mut S, field: u32, value: u64) {
    if value != 0 {
        out.varint_field(field, value);
    }
}

#[inline]
pub(super) fn fixed32<S: Sink>(out: &mut S, field: u32, value: u32) {
    if value != 0 {
        out.fixed32_field(field, value);
    }
}

#[inline]
pub(super) fn bytes<S: Sink>(out: &mut S, field: u32, value: &[u8]) {
    if !value.is_empty() {
        out.bytes_field(field, value);
    }
}

#[inline]
pub(super) fn string<S: Sink>(out: &mut S, field: u32, value: &str) {
    bytes(out, field, value.as_bytes());
}

#[cfg(test)]
mod tests {
    use std::{borrow::Cow, time::Duration};

    use opentelemetry::{
        trace::{SpanContext, SpanId, TraceFlags, TraceId, TraceState},
        KeyValue, StringValue,
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
    use crate::layers::otel::test_support::{every_value, span_data};

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

    /// The request of `spans` decoded, and what opentelemetry-proto makes of them.
    fn ours_and_expected(
        spans: &[SpanData],
        resource: &Resource,
    ) -> (ExportTraceServiceRequest, ExportTraceServiceRequest) {
        let mut ours = vec![0xEE];
        encode_traces(spans, resource, &mut ours);
        assert_eq!(ours[0], 0xEE, "appended after what was there");
        let ours = ExportTraceServiceRequest::decode(&ours[1..]).unwrap();
        let expected = ExportTraceServiceRequest {
            resource_spans: group_spans_by_resource_and_scope(
                spans.to_vec(),
                &ResourceAttributesWithSchema::from(resource),
            ),
        };
        (ours, expected)
    }

    #[test]
    fn lengths_on_either_side_of_each_varint_size_decode_to_what_opentelemetry_proto_makes() {
        let resource = Resource::builder_empty()
            .with_attributes([KeyValue::new("service.name", "sizes")])
            .build();
        let scope = InstrumentationScope::builder("tracing-bridge").build();
        // A value of `size` bytes makes the `AnyValue`, the `KeyValue`, the span, the scope's
        // group and the request each cross a varint size (128, 16 384, 2 097 152 bytes) at a
        // size a little below the one before: around each boundary, every length is on both
        // sides of it for some size.
        let sizes = (0..=160)
            .chain(16_384 - 120..=16_384 + 8)
            .chain(2_097_152 - 110..=2_097_152 + 4);
        for size in sizes {
            let text = "x".repeat(size);
            let mut plain = span_data(size as u64);
            plain.instrumentation_scope = scope.clone();
            plain.attributes = vec![KeyValue::new("sized", text.clone())];
            let mut in_array = span_data(size as u64 + 1);
            in_array.instrumentation_scope = scope.clone();
            in_array.attributes = vec![KeyValue::new(
                "list",
                Value::Array(vec![StringValue::from(text.clone()), "".into()].into()),
            )];
            in_array.status = Status::error(text.clone());
            in_array.name = Cow::Owned(text);
            for spans in [
                &[plain.clone()][..],
                &[in_array.clone()],
                &[plain, in_array],
            ] {
                let (ours, expected) = ours_and_expected(spans, &resource);
                assert!(ours == expected, "value of {size} bytes");
            }
        }
    }

    #[test]
    fn every_attribute_kind_and_empty_texts_decode_to_what_opentelemetry_proto_makes() {
        let scope = InstrumentationScope::builder("").build();
        let mut spans = Vec::new();
        // Keys on either side of the longest key and text written without counting.
        let long_keys = [99, 100, 101, 119, 120, 121, 127, 128].map(|length| {
            let key = "k".repeat(length);
            [
                KeyValue::new(key.clone(), "v"),
                KeyValue::new(key.clone(), i64::MIN),
                KeyValue::new(key.clone(), true),
                KeyValue::new(key, 0.5),
            ]
        });
        for (index, attribute) in every_value()
            .into_iter()
            .chain(long_keys.into_iter().flatten())
            .enumerate()
        {
            let mut span = span_data(index as u64);
            span.instrumentation_scope = scope.clone();
            span.name = Cow::Borrowed("");
            span.attributes = vec![attribute.clone(), KeyValue::new("", "")];
            span.events
                .events
                .push(Event::new("", UNIX_EPOCH, vec![attribute], 0));
            spans.push(span);
        }
        // No attributes at all, and a time before the epoch (written as none).
        let mut bare = span_data(99);
        bare.instrumentation_scope = scope.clone();
        bare.start_time = UNIX_EPOCH - Duration::from_secs(1);
        bare.end_time = UNIX_EPOCH;
        spans.push(bare);
        let (ours, expected) = ours_and_expected(&spans, &Resource::builder_empty().build());
        assert_eq!(ours, expected);
        let decoded = &ours.resource_spans[0].scope_spans[0].spans;
        assert_eq!(decoded.len(), spans.len());
        assert_eq!(decoded.last().unwrap().start_time_unix_nano, 0);
        // An empty batch is still a request with its resource.
        let (ours, expected) = ours_and_expected(&[], &Resource::builder_empty().build());
        assert_eq!(ours, expected);
    }

    #[test]
    fn a_counted_length_is_the_length_written() {
        let scope = InstrumentationScope::builder("tracing-bridge").build();
        for status in [Status::Unset, Status::Ok, Status::error("no")] {
            for index in 0..4 {
                let record = span(index, &scope, status.clone());
                let mut buf = Vec::new();
                record.encode(&mut Writer::new(&mut buf));
                assert_eq!(buf.len(), record.encoded_len(), "span {index}");
            }
        }
        for value in [
            0,
            1,
            127,
            128,
            16_383,
            16_384,
            (1 << 21) - 1,
            1 << 21,
            1 << 63,
            u64::MAX,
        ] {
            let mut buf = Vec::new();
            Writer::new(&mut buf).varint(value);
            assert_eq!(buf.len(), varint_len(value), "{value}");
            assert_eq!(
                prost::encoding::decode_varint(&mut &buf[..]).unwrap(),
                value
            );
        }
    }

    #[test]
    fn message_lengths_of_one_two_and_three_varint_bytes_prefix_the_body_intact_whatever_was_reserved(
    ) {
        for length in [0usize, 1, 127, 128, 300, 16_383, 16_384, 70_000] {
            let body: Vec<u8> = (0..length).map(|index| (index % 251) as u8).collect();
            let mut prefix = vec![0xAA];
            let mut writer = Writer::new(&mut prefix);
            writer.tag(7, LENGTH_DELIMITED);
            writer.varint(length as u64);
            for reserved in [1, 2, 3, 5] {
                let mut out = vec![0xAA];
                Writer::new(&mut out).message_reserving(7, reserved, |out| out.put_slice(&body));
                let what = format!("length {length}, {reserved} bytes reserved");
                assert_eq!(&out[..prefix.len()], &prefix[..], "{what}");
                assert_eq!(&out[prefix.len()..], &body[..], "{what}");
            }
        }
    }

    #[test]
    fn times_are_nanoseconds_since_the_epoch() {
        for nanoseconds in [
            1,
            999_999_999,
            1_000_000_000,
            1_700_000_000_123_456_789,
            u64::MAX,
        ] {
            let time = UNIX_EPOCH + Duration::from_nanos(nanoseconds);
            assert_eq!(nanos(time), nanoseconds);
            assert_eq!(
                nanos(time),
                time.duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64
            );
        }
        assert_eq!(nanos(UNIX_EPOCH), 0);
        assert_eq!(nanos(UNIX_EPOCH - Duration::from_nanos(1)), 0);
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
