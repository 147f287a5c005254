//! OpenTelemetry logs: every `tracing` event that passes the layer's filter becomes one log
//! record ([`LogsLayer`]), queued for the same batch processor and exporters as spans
//! (encoded by `logs_encode.rs`).
//!
//! A record has:
//! - severity number and text from the level: TRACE 1, DEBUG 5, INFO 9, WARN 13, ERROR 17
//!   (the first number of each range of the OpenTelemetry log data model);
//! - body: the `message` field, as a string (absent when the event has none);
//! - attributes: the other fields, typed as span attributes are (integers, unsigned ones that
//!   fit an `i64` included, floats, booleans, strings; other values by their `Debug` form; an
//!   error by its text, plus `exception.message`), then `target`, then, unless
//!   `spanAttributes.location` is false, `code.file.path`, `code.module.name` and
//!   `code.line.number` (the keys span events use);
//! - time and observed time: when the layer saw the event;
//! - for a record logged through the `log` crate: its own target, module, file and line, and
//!   no `log.*` fields (`crate::log_bridge`);
//! - trace id, span id and trace flags of the event's span (its explicit parent, else the
//!   current span), read from the span's OpenTelemetry context, which the traces layer of the
//!   same config keeps (it runs first); none for an event outside any span, or when the config
//!   exports no traces.

use std::{
    any::TypeId,
    fmt,
    sync::{Arc, OnceLock},
    time::SystemTime,
};

use opentelemetry::{trace::SpanContext, InstrumentationScope, KeyValue, StringValue, Value};
use tracing::{
    field::{Field, Visit},
    Event, Level, Subscriber,
};
use tracing_core::dispatcher::{Dispatch, WeakDispatch};
use tracing_subscriber::{
    layer::{Context, Layer},
    registry::LookupSpan,
};

use super::{batch::BatchQueue, open_spans::SpanCounts};
use crate::{dispatch::with_layers_of_span_reachable, log_bridge};

/// One log record, as the exporters encode it.
#[derive(Debug, Clone)]
pub(crate) struct LogRecord {
    pub(crate) time: SystemTime,
    pub(crate) observed_time: SystemTime,
    pub(crate) level: Level,
    pub(crate) body: Option<String>,
    pub(crate) attributes: Vec<KeyValue>,
    /// The span the event belongs to; `None` outside spans.
    pub(crate) span: Option<SpanContext>,
    /// Shared by every record of the layer.
    pub(crate) scope: Arc<InstrumentationScope>,
}

impl LogRecord {
    /// The severity number of the log data model.
    pub(crate) fn severity_number(&self) -> i32 {
        match self.level {
            Level::TRACE => 1,
            Level::DEBUG => 5,
            Level::INFO => 9,
            Level::WARN => 13,
            Level::ERROR => 17,
        }
    }

    /// The severity text: the level's name.
    pub(crate) fn severity_text(&self) -> &'static str {
        self.level.as_str()
    }
}

/// The layer that turns events into log records.
pub(crate) struct LogsLayer {
    queue: Arc<BatchQueue<LogRecord>>,
    scope: Arc<InstrumentationScope>,
    location: bool,
    /// The dispatcher the layer is part of, to read spans' OpenTelemetry contexts through.
    dispatch: OnceLock<WeakDispatch>,
    /// Held while the layer exists: the lifecycle waits for it to go before the counts are
    /// final (see `OtelLifecycle`); no span is counted in it.
    _alive: Arc<SpanCounts>,
}

impl LogsLayer {
    pub(crate) fn new(
        queue: Arc<BatchQueue<LogRecord>>,
        scope: InstrumentationScope,
        location: bool,
        alive: Arc<SpanCounts>,
    ) -> Self {
        Self {
            queue,
            scope: Arc::new(scope),
            location,
            dispatch: OnceLock::new(),
            _alive: alive,
        }
    }

    /// The OpenTelemetry span context of span `id`, as the traces layer of this dispatcher
    /// keeps it; `None` when no OpenTelemetry layer records the span.
    fn span_context(&self, id: &tracing::span::Id) -> Option<SpanContext> {
        let dispatch = self.dispatch.get()?.upgrade()?;
        let span_context = with_layers_of_span_reachable(id, &dispatch, || {
            super::light::span_context(id, &dispatch)
        })?;
        span_context.is_valid().then_some(span_context)
    }
}

/// Where an event comes from.
struct Source {
    level: Level,
    target: StringValue,
    file: Option<StringValue>,
    module: Option<StringValue>,
    line: Option<u32>,
}

/// The source of `event`, from its metadata as the layers show it: for a record logged
/// through the `log` crate, the record's own target, module, file and line
/// ([`log_bridge::normalized_metadata`]).
fn event_source(event: &Event<'_>) -> Source {
    let normalized = log_bridge::normalized_metadata(event);
    if let Some(metadata) = normalized.static_metadata() {
        // Borrowed for the export: no copy.
        return Source {
            level: *metadata.level(),
            target: StringValue::from(metadata.target()),
            file: metadata.file().map(StringValue::from),
            module: metadata.module_path().map(StringValue::from),
            line: metadata.line(),
        };
    }
    let owned = |text: &str| StringValue::from(text.to_owned());
    Source {
        level: *normalized.level(),
        target: owned(normalized.target()),
        file: normalized.file().map(owned),
        module: normalized.module_path().map(owned),
        line: normalized.line(),
    }
}

impl<S> Layer<S> for LogsLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_register_dispatch(&self, subscriber: &Dispatch) {
        let _ = self.dispatch.set(subscriber.downgrade());
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let time = SystemTime::now();
        let span_id = match event.parent() {
            Some(parent) => ctx.span(parent).map(|span| span.id()),
            None if event.is_contextual() => ctx.lookup_current().map(|span| span.id()),
            None => None,
        };
        let span = span_id.and_then(|id| self.span_context(&id));
        let mut visitor = FieldVisitor {
            body: None,
            attributes: Vec::with_capacity(event.metadata().fields().len() + 4),
        };
        log_bridge::record_fields(event, &mut visitor);
        let FieldVisitor {
            body,
            mut attributes,
        } = visitor;
        let source = event_source(event);
        attributes.push(KeyValue::new("target", source.target));
        if self.location {
            if let Some(file) = source.file {
                attributes.push(KeyValue::new("code.file.path", file));
            }
            if let Some(module) = source.module {
                attributes.push(KeyValue::new("code.module.name", module));
            }
            if let Some(line) = source.line {
                attributes.push(KeyValue::new("code.line.number", i64::from(line)));
            }
        }
        self.queue.push(LogRecord {
            time,
            observed_time: time,
            level: source.level,
            body,
            attributes,
            span,
            scope: Arc::clone(&self.scope),
        });
    }

    unsafe fn downcast_raw(&self, id: TypeId) -> Option<*const ()> {
        (id == TypeId::of::<Self>()).then_some(self as *const Self as *const ())
    }
}

/// Collects an event's fields: `message` as the body, the others as attributes.
struct FieldVisitor {
    body: Option<String>,
    attributes: Vec<KeyValue>,
}

impl FieldVisitor {
    fn push(&mut self, field: &Field, value: Value) {
        self.attributes.push(KeyValue::new(field.name(), value));
    }

    /// An integer as an OTLP integer when it fits an `i64`, else as its decimal string.
    fn push_integer<N: TryInto<i64> + ToString + Copy>(&mut self, field: &Field, value: N) {
        match value.try_into() {
            Ok(value) => self.push(field, Value::I64(value)),
            Err(_) => self.push(field, Value::from(value.to_string())),
        }
    }
}

/// The name of the field that holds an event's message.
const MESSAGE: &str = "message";

impl Visit for FieldVisitor {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.push(field, Value::F64(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.push(field, Value::I64(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.push_integer(field, value);
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        self.push_integer(field, value);
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        self.push_integer(field, value);
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.push(field, Value::Bool(value));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == MESSAGE {
            self.body = Some(value.to_owned());
        } else {
            self.push(field, Value::from(value.to_owned()));
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        let text = value.to_string();
        self.attributes
            .push(KeyValue::new("exception.message", text.clone()));
        if field.name() == MESSAGE {
            self.body = Some(text);
        } else {
            self.push(field, Value::from(text));
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let text = format!("{value:?}");
        if field.name() == MESSAGE {
            self.body = Some(text);
        } else {
            self.push(field, Value::String(StringValue::from(text)));
        }
    }
}
