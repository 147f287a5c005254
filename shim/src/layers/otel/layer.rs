//! The OpenTelemetry layer as the configs get it: `tracing-opentelemetry`'s layer, adjusted.
//! - Unsigned integer fields reach it as integers ([`super::integers`]).
//! - Each thread that makes a span is noted, so that threads without a Rust name get a
//!   `thread.name` ([`super::finish`]).
//! - Spans without a source location (those JavaScript makes, `crate::js_spans`) end when
//!   they close. `tracing-opentelemetry` ends a span at its last exit, which suits a Rust span
//!   kept alive after its work; a JavaScript span is ended explicitly, and is exited long
//!   before that when it awaits (`tracing.span` with an async function: exited at the first
//!   `await`, ended when the promise settles) or when an event is recorded on it after the
//!   last exit (the `span failed` event of `tracing.span`). Without busy/idle times, the inner
//!   layer never sees such a span's exits (an exit only notes the end time there), so it ends
//!   it at its close without further ado; with them, it sees every exit, and one more enter and
//!   exit at the close.
//! - When the config exports logs and `spanEvents` is false, events are log records
//!   (`logs.rs`), not span events: only those that mark their span as failed (ERROR, or an
//!   `error` field) reach the inner layer, which sets the span's status from them; the span
//!   processor then drops them from the span (`SpanBatchProcessor`).

use std::any::TypeId;

use tracing::{
    span::{Attributes, Id, Record},
    subscriber::Interest,
    Event, Metadata, Subscriber,
};
use tracing_core::dispatcher::Dispatch;
use tracing_subscriber::{
    filter::LevelFilter,
    layer::{Context, Layer},
    registry::LookupSpan,
};

use super::{
    finish::note_current_thread,
    integers::{with_signed_attributes, with_signed_event, with_signed_record},
};

/// Wraps `tracing-opentelemetry`'s layer (see the module docs).
#[derive(Debug)]
pub(crate) struct OtelLayer<L> {
    inner: L,
    /// Whether every event inside a span becomes a span event; when false (the events are
    /// log records), the inner layer gets only those that mark their span as failed.
    span_events: bool,
    /// Whether the inner layer tracks busy/idle times (`with_tracked_inactivity`), for which it
    /// needs every enter and exit.
    busy_idle: bool,
}

impl<L> OtelLayer<L> {
    pub(crate) fn new(inner: L, span_events: bool, busy_idle: bool) -> Self {
        Self {
            inner,
            span_events,
            busy_idle,
        }
    }
}

/// Whether `event` marks its span as failed: an ERROR event, or one with an `error` field
/// (see `status.rs`).
fn marks_failure(event: &Event<'_>) -> bool {
    let metadata = event.metadata();
    *metadata.level() == tracing::Level::ERROR || metadata.fields().field("error").is_some()
}

/// Whether spans of `metadata` end when they close rather than at their last exit: those
/// without a source location, which are JavaScript's (`tracing` macros always give one).
fn ends_at_close(metadata: &Metadata<'_>) -> bool {
    metadata.file().is_none() && metadata.line().is_none() && metadata.module_path().is_none()
}

impl<S, L> Layer<S> for OtelLayer<L>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    L: Layer<S>,
{
    fn on_register_dispatch(&self, subscriber: &Dispatch) {
        self.inner.on_register_dispatch(subscriber)
    }

    fn on_layer(&mut self, subscriber: &mut S) {
        self.inner.on_layer(subscriber)
    }

    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        self.inner.register_callsite(metadata)
    }

    fn enabled(&self, metadata: &Metadata<'_>, ctx: Context<'_, S>) -> bool {
        self.inner.enabled(metadata, ctx)
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        self.inner.max_level_hint()
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        note_current_thread();
        // JavaScript's values hold no unsigned integer that fits an `i64` (`js_spans::values`
        // decodes one as an `i64`): no need to look for one.
        if ends_at_close(attrs.metadata()) {
            return self.inner.on_new_span(attrs, id, ctx);
        }
        with_signed_attributes(attrs, |attrs| self.inner.on_new_span(attrs, id, ctx))
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let metadata = ctx.metadata(id);
        with_signed_record(metadata, values, |values| {
            self.inner.on_record(id, values, ctx)
        })
    }

    fn on_follows_from(&self, span: &Id, follows: &Id, ctx: Context<'_, S>) {
        self.inner.on_follows_from(span, follows, ctx)
    }

    fn event_enabled(&self, event: &Event<'_>, ctx: Context<'_, S>) -> bool {
        self.inner.event_enabled(event, ctx)
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        if !self.span_events && !marks_failure(event) {
            return;
        }
        with_signed_event(event, |event| self.inner.on_event(event, ctx))
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        self.inner.on_enter(id, ctx)
    }

    fn on_exit(&self, id: &Id, ctx: Context<'_, S>) {
        // Without busy/idle times (and without context activation, which the configs never
        // use), an exit only sets the span's end time to now in the inner layer: a span that
        // ends at its close must not get one, so that it ends at its close.
        if !self.busy_idle && ctx.metadata(id).is_some_and(ends_at_close) {
            return;
        }
        self.inner.on_exit(id, ctx)
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        // Without busy/idle times, such a span never got an end time (see `on_exit`), and ends
        // now; the inner layer needs no enter and exit for it.
        if self.busy_idle && ctx.metadata(&id).is_some_and(ends_at_close) {
            // An exit now sets the span's end time to now; the enter before it keeps the busy
            // and idle times right (the time since the last exit counts as idle). Only this
            // layer sees them: the other layers get no enter or exit.
            self.inner.on_enter(&id, ctx.clone());
            self.inner.on_exit(&id, ctx.clone());
        }
        self.inner.on_close(id, ctx)
    }

    fn on_id_change(&self, old: &Id, new: &Id, ctx: Context<'_, S>) {
        self.inner.on_id_change(old, new, ctx)
    }

    unsafe fn downcast_raw(&self, id: TypeId) -> Option<*const ()> {
        if id == TypeId::of::<Self>() {
            Some(self as *const Self as *const ())
        } else {
            self.inner.downcast_raw(id)
        }
    }
}
