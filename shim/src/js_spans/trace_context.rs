//! W3C trace context (`traceparent`, `tracestate`) for JavaScript spans, through the
//! OpenTelemetry layers of the installed config.
//!
//! `tracing-opentelemetry` finds its layer by downcasting the dispatcher. Our layers sit in
//! swappable slots, so a slot only answers such a downcast while `crate::dispatch` (its `switch.rs`) has its
//! layer pinned for the span in question (the layer cannot be swapped out and freed meanwhile).

#[cfg(feature = "otlp")]
use crate::layers::otel::light;
#[cfg(feature = "otlp")]
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use tracing::Span;
#[cfg(feature = "otlp")]
use tracing_opentelemetry::OpenTelemetrySpanExt;

#[cfg(feature = "otlp")]
use crate::dispatch::with_span_layers_reachable;
use crate::error::{Error, ErrorKind};

/// A parsed `traceparent` (+ `tracestate`).
#[cfg(feature = "otlp")]
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteParent(pub SpanContext);

/// A parsed `traceparent` (+ `tracestate`). Without the `otlp` feature no layer keeps trace
/// ids, so only its shape is checked.
#[cfg(not(feature = "otlp"))]
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteParent(());

fn invalid(message: String) -> Error {
    Error::new(ErrorKind::InvalidParameter, message)
}

fn is_lower_hex(text: &str) -> bool {
    text.bytes()
        .all(|byte| matches!(byte, b'0'..=b'9' | b'a'..=b'f'))
}

impl RemoteParent {
    /// Parses a `traceparent` header value (`00-<32 hex trace id>-<16 hex span id>-<2 hex
    /// flags>`) and an optional `tracestate` (empty: none).
    pub fn parse(traceparent: &str, tracestate: &str) -> Result<Self, Error> {
        let header = traceparent.trim();
        let parts: Vec<&str> = header.split('-').collect();
        let shape_ok = parts.len() >= 4
            && parts[0].len() == 2
            && parts[1].len() == 32
            && parts[2].len() == 16
            && parts[3].len() == 2
            && parts[..4].iter().all(|part| is_lower_hex(part));
        // Version 00 has exactly four parts; later versions may append more.
        if !shape_ok || parts[0] == "ff" || (parts[0] == "00" && parts.len() != 4) {
            return Err(invalid(format!(
                "traceparent {header:?} is malformed; expected \
                 00-<32 lowercase hex trace id>-<16 hex span id>-<2 hex flags>"
            )));
        }
        #[cfg(not(feature = "otlp"))]
        {
            let _ = tracestate;
            if parts[1].bytes().all(|b| b == b'0') || parts[2].bytes().all(|b| b == b'0') {
                return Err(invalid(format!(
                    "traceparent {header:?} has an all-zero trace id or span id"
                )));
            }
            Ok(Self(()))
        }
        #[cfg(feature = "otlp")]
        {
            let trace_id = TraceId::from_hex(parts[1]).map_err(|_| invalid("trace id".into()))?;
            let span_id = SpanId::from_hex(parts[2]).map_err(|_| invalid("span id".into()))?;
            if trace_id == TraceId::INVALID || span_id == SpanId::INVALID {
                return Err(invalid(format!(
                    "traceparent {header:?} has an all-zero trace id or span id"
                )));
            }
            let flags = u8::from_str_radix(parts[3], 16).map_err(|_| invalid("flags".into()))?;
            let trace_state = if tracestate.trim().is_empty() {
                TraceState::default()
            } else {
                tracestate.parse::<TraceState>().map_err(|error| {
                    invalid(format!("tracestate {tracestate:?} is malformed: {error}"))
                })?
            };
            Ok(Self(SpanContext::new(
                trace_id,
                span_id,
                TraceFlags::new(flags & 1),
                true,
                trace_state,
            )))
        }
    }
}

/// Makes `remote` the OpenTelemetry parent of `span` (which must not have started in
/// OpenTelemetry yet: call right after creating it). Without an OpenTelemetry layer, nothing
/// happens.
pub fn set_remote_parent(span: &Span, remote: RemoteParent) {
    #[cfg(not(feature = "otlp"))]
    let _ = (span, remote);
    #[cfg(feature = "otlp")]
    with_span_layers_reachable(span, || {
        let context = remote.context();
        let light = span
            .with_subscriber(|(id, dispatch)| {
                light::set_remote_parent(id, dispatch, context.clone())
            })
            .unwrap_or(false);
        if !light {
            // `LayerNotFound` (no OpenTelemetry layer) is fine: nobody exports trace ids then.
            let _ = span.set_parent(context);
        }
    });
}

/// The `traceparent` and `tracestate` of `span` as the OpenTelemetry layers see it, or `None`
/// when no OpenTelemetry layer records it.
pub fn trace_context(span: &Span) -> Option<(String, String)> {
    #[cfg(not(feature = "otlp"))]
    {
        let _ = span;
        None
    }
    #[cfg(feature = "otlp")]
    with_span_layers_reachable(span, || {
        let span_context = span
            .with_subscriber(|(id, dispatch)| light::span_context(id, dispatch))
            .flatten()?;
        headers(&span_context)
    })
}

/// The `traceparent` and `tracestate` of `span_context`, or `None` when it is not valid.
#[cfg(feature = "otlp")]
pub(crate) fn headers(span_context: &SpanContext) -> Option<(String, String)> {
    if !span_context.is_valid() {
        return None;
    }
    Some((
        format!(
            "00-{}-{}-{:02x}",
            span_context.trace_id(),
            span_context.span_id(),
            span_context.trace_flags().to_u8()
        ),
        span_context.trace_state().header(),
    ))
}

#[cfg(feature = "otlp")]
impl RemoteParent {
    /// An OpenTelemetry context whose span is this remote one.
    pub(crate) fn context(self) -> opentelemetry::Context {
        opentelemetry::Context::new().with_remote_span_context(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "otlp")]
    #[test]
    fn a_valid_traceparent_parses() {
        let parent = RemoteParent::parse(
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "congo=t61rcWkgMzE",
        )
        .unwrap();
        assert_eq!(
            parent.0.trace_id().to_string(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        assert!(parent.0.is_sampled());
        assert!(parent.0.is_remote());
        assert_eq!(parent.0.trace_state().header(), "congo=t61rcWkgMzE");
    }

    #[test]
    fn malformed_traceparents_are_typed_errors() {
        for header in [
            "",
            "garbage",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
        ] {
            let error = RemoteParent::parse(header, "").unwrap_err();
            assert_eq!(error.kind(), ErrorKind::InvalidParameter, "{header}");
        }
    }
}
