//! Span status from `tracing` data: an `error` field on the span or on one of its events, or an
//! ERROR-level event, makes the span's status `Error` with that error's text.
//!
//! `tracing-opentelemetry` already marks a span with an ERROR event as an error, without a
//! description, and records `error` fields as attributes without touching the status; this
//! completes both when the span ends.

use opentelemetry::trace::Status;
use opentelemetry_sdk::trace::SpanData;

/// The field name that carries an error, on spans and events.
const ERROR_FIELD: &str = "error";

/// Sets `Error` status (with a description) on a span that recorded an error, unless the
/// instrumentation set a status of its own (`otel.status_code`).
pub(crate) fn apply_error_status(span: &mut SpanData) {
    match &span.status {
        Status::Ok => return,
        Status::Error { description } if !description.is_empty() => return,
        _ => {}
    }
    let from_span = span
        .attributes
        .iter()
        .find(|attribute| attribute.key.as_str() == ERROR_FIELD)
        .map(|attribute| attribute.value.to_string());
    let description = from_span.or_else(|| {
        span.events.iter().find_map(|event| {
            let error = event
                .attributes
                .iter()
                .find(|attribute| attribute.key.as_str() == ERROR_FIELD)
                .map(|attribute| attribute.value.to_string());
            let is_error_level = event.attributes.iter().any(|attribute| {
                attribute.key.as_str() == "level" && attribute.value.as_str() == "ERROR"
            });
            error.or_else(|| is_error_level.then(|| event.name.to_string()))
        })
    });
    if let Some(description) = description {
        span.status = Status::error(description);
    }
}

#[cfg(test)]
mod tests {
    use std::{borrow::Cow, time::SystemTime};

    use opentelemetry::{trace::Event, KeyValue};
    use opentelemetry_sdk::trace::{SpanEvents, SpanLinks};

    use super::*;

    fn span(attributes: Vec<KeyValue>, events: Vec<Event>, status: Status) -> SpanData {
        let mut span_events = SpanEvents::default();
        span_events.events = events;
        SpanData {
            span_context: opentelemetry::trace::SpanContext::empty_context(),
            parent_span_id: opentelemetry::trace::SpanId::INVALID,
            parent_span_is_remote: false,
            span_kind: opentelemetry::trace::SpanKind::Internal,
            name: Cow::Borrowed("s"),
            start_time: SystemTime::now(),
            end_time: SystemTime::now(),
            attributes,
            dropped_attributes_count: 0,
            events: span_events,
            links: SpanLinks::default(),
            status,
            instrumentation_scope: Default::default(),
        }
    }

    fn event(name: &'static str, attributes: Vec<KeyValue>) -> Event {
        Event::new(name, SystemTime::now(), attributes, 0)
    }

    #[test]
    fn an_error_field_on_the_span_sets_the_status() {
        let mut data = span(
            vec![KeyValue::new("error", "disk full")],
            vec![],
            Status::Unset,
        );
        apply_error_status(&mut data);
        assert_eq!(data.status, Status::error("disk full"));
    }

    #[test]
    fn an_error_field_on_an_event_sets_the_status() {
        let events = vec![
            event("fine", vec![KeyValue::new("level", "INFO")]),
            event(
                "oops",
                vec![
                    KeyValue::new("level", "WARN"),
                    KeyValue::new("error", "item 2 failed"),
                ],
            ),
        ];
        let mut data = span(vec![], events, Status::Unset);
        apply_error_status(&mut data);
        assert_eq!(data.status, Status::error("item 2 failed"));
    }

    #[test]
    fn an_error_event_gives_its_message_to_an_empty_error_status() {
        let events = vec![event(
            "could not connect",
            vec![KeyValue::new("level", "ERROR")],
        )];
        let mut data = span(vec![], events, Status::error(""));
        apply_error_status(&mut data);
        assert_eq!(data.status, Status::error("could not connect"));
    }

    #[test]
    fn an_explicit_status_is_kept_and_a_clean_span_stays_unset() {
        let mut ok = span(vec![KeyValue::new("error", "x")], vec![], Status::Ok);
        apply_error_status(&mut ok);
        assert_eq!(ok.status, Status::Ok);
        let mut clean = span(vec![KeyValue::new("value", 3)], vec![], Status::Unset);
        apply_error_status(&mut clean);
        assert_eq!(clean.status, Status::Unset);
    }
}
