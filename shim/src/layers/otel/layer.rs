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
//! - Without busy/idle times, a JavaScript span is light ([`super::light`]) until something
//!   needs its OpenTelemetry data: then it is promoted, handed to the inner layer.

use std::{
    any::TypeId,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, MutexGuard, OnceLock,
    },
};

use tracing::{
    field::Field,
    span::{Attributes, Id, Record},
    subscriber::Interest,
    Event, Metadata, Subscriber,
};
use tracing_core::dispatcher::{Dispatch, WeakDispatch};
use tracing_subscriber::{
    filter::LevelFilter,
    layer::{Context, Layer},
    registry::LookupSpan,
};

use super::{
    finish::note_current_thread,
    integers::{with_signed_attributes, with_signed_event, with_signed_record},
    light::{
        may_be_light, promoting, take_adopted, with_preset, LightSettings, LightSpan, LightTable,
        Preset,
    },
};
use crate::dispatch::with_layers_of_span_reachable;

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
    /// How light spans are made and ended; `None` (no light spans) with busy/idle times.
    light: Option<Arc<LightSettings>>,
    /// Light spans open now (not promoted, not closed): while there are none, nothing needs
    /// to be promoted.
    light_open: AtomicUsize,
    /// The dispatch the layer is in, to start promoted spans through
    /// (`tracing_opentelemetry::get_otel_context`).
    dispatch: OnceLock<WeakDispatch>,
}

impl<L> OtelLayer<L> {
    /// `light` is ignored with `busy_idle` (the inner layer must see a JavaScript span's enters
    /// and exits to time them).
    pub(crate) fn new(
        inner: L,
        span_events: bool,
        busy_idle: bool,
        light: Option<LightSettings>,
    ) -> Self {
        Self {
            inner,
            span_events,
            busy_idle,
            light: light.filter(|_| !busy_idle).map(Arc::new),
            light_open: AtomicUsize::new(0),
            dispatch: OnceLock::new(),
        }
    }

    fn dispatch(&self) -> Option<Dispatch> {
        self.dispatch.get().and_then(WeakDispatch::upgrade)
    }
}

/// A light span being handed over: holds the lock that other threads wanting to hand a span
/// over take first, and counts the span as light until dropped, after its start. A thread that
/// finds no light span open (and so skips the lock) then finds the span started in the inner
/// layer, never half handed over.
struct HandingOver<'a> {
    _promoting: MutexGuard<'static, ()>,
    light_open: &'a AtomicUsize,
    spans: &'a LightTable,
}

impl Drop for HandingOver<'_> {
    fn drop(&mut self) {
        // Before the lock is let go (fields drop after this).
        self.light_open.fetch_sub(1, Ordering::AcqRel);
        self.spans.handed_over();
    }
}

/// The light span settings of the OpenTelemetry layer of `dispatch` (reachable while the
/// span's layers are, see `crate::dispatch::with_layers_of_span_reachable`).
pub(crate) fn light_settings(dispatch: &Dispatch) -> Option<&LightSettings> {
    dispatch.downcast_ref::<LightSettings>()
}

impl<L> OtelLayer<L> {
    /// Hands span `id` to the inner layer if it is light (see [`super::light`]): the inner
    /// layer then has it as a span being built. Returns what the start of its OpenTelemetry
    /// span must take ([`with_preset`]), with a [`HandingOver`] that keeps other threads from
    /// using it before that start: the caller starts it (on this thread), then drops it.
    fn hand_over<S>(&self, id: &Id, ctx: &Context<'_, S>) -> Option<(Preset, HandingOver<'_>)>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
        L: Layer<S>,
    {
        if self.light_open.load(Ordering::Acquire) == 0 {
            return None;
        }
        let span = ctx.span(id)?;
        let metadata = span.metadata();
        if !ends_at_close(metadata) {
            return None;
        }
        // A thread that finds the light span gone waits here until it was handed over and
        // started; so does one that reads it meanwhile (`handing_over`).
        let promoting = promoting();
        let spans = &self.light.as_deref()?.spans;
        spans.handing_over();
        let Some(light) = self.take_light(id, ctx) else {
            spans.handed_over();
            return None;
        };
        let handing = HandingOver {
            _promoting: promoting,
            light_open: &self.light_open,
            spans,
        };
        drop(span);
        let empty: [(&Field, Option<&dyn tracing::Value>); 0] = [];
        let values = metadata.fields().value_set(&empty);
        // A root: the preset gives the parent.
        self.inner
            .on_new_span(&Attributes::new_root(metadata, &values), id, ctx.clone());
        Some((light.into_preset(), handing))
    }

    /// Takes the light span of `id` from the table, or from its span's extensions if it had to
    /// be kept there ([`super::light::LightTable`]).
    fn take_light<S>(&self, id: &Id, ctx: &Context<'_, S>) -> Option<LightSpan>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let spans = &self.light.as_deref()?.spans;
        if let Some(light) = spans.take(id) {
            return Some(light);
        }
        if !spans.any_in_extensions() {
            return None;
        }
        spans.take_from_extensions(&mut ctx.span(id)?.extensions_mut())
    }

    /// Promotes span `id` if it is light: hands it over and starts it at once.
    fn promote<S>(&self, id: &Id, ctx: &Context<'_, S>)
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
        L: Layer<S>,
    {
        if self.light_open.load(Ordering::Acquire) == 0 {
            return;
        }
        // Without its dispatch the inner layer could not start it at once: it stays light.
        let Some(dispatch) = self.dispatch() else {
            return;
        };
        let Some((preset, _handing)) = self.hand_over(id, ctx) else {
            return;
        };
        with_preset(preset, || {
            with_layers_of_span_reachable(id, &dispatch, || {
                tracing_opentelemetry::get_otel_context(id, &dispatch)
            })
        });
    }

    /// Gives the inner layer a new span. A light parent (the one the inner layer takes: the
    /// explicit parent, else the current span) is handed over first, and started by the inner
    /// layer as it works out the new span's parent context.
    fn new_span_in_inner<S>(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>)
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
        L: Layer<S>,
    {
        let parent = if self.light_open.load(Ordering::Acquire) == 0 {
            None
        } else if let Some(parent) = attrs.parent() {
            Some(parent.clone())
        } else if attrs.is_contextual() {
            ctx.lookup_current().map(|span| span.id())
        } else {
            None
        };
        match parent.and_then(|parent| self.hand_over(&parent, &ctx)) {
            Some((preset, _handing)) => {
                with_preset(preset, || self.inner.on_new_span(attrs, id, ctx))
            }
            None => self.inner.on_new_span(attrs, id, ctx),
        }
    }

    /// The OpenTelemetry parent context of a new span that may be light, or `None` when it
    /// has a parent span: then it goes to the inner layer (a light span has no parent span).
    fn root_context<S>(
        &self,
        attrs: &Attributes<'_>,
        ctx: &Context<'_, S>,
    ) -> Option<opentelemetry::Context>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        if attrs.parent().is_some() {
            None
        } else if attrs.is_contextual() {
            // As the inner layer: no current span gives OpenTelemetry's current context.
            ctx.lookup_current()
                .is_none()
                .then(opentelemetry::Context::current)
        } else {
            Some(opentelemetry::Context::new())
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
pub(crate) fn ends_at_close(metadata: &Metadata<'_>) -> bool {
    metadata.file().is_none() && metadata.line().is_none() && metadata.module_path().is_none()
}

impl<L> OtelLayer<L> {
    /// Keeps `light` as the light span of new span `id`: in the table, or in the span's
    /// extensions when its entry is held.
    fn keep_light<S>(
        &self,
        settings: &LightSettings,
        id: &Id,
        ctx: &Context<'_, S>,
        light: LightSpan,
    ) where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        match settings.spans.free_entry(id) {
            Some(entry) => entry.keep(light),
            None => {
                let Some(span) = ctx.span(id) else {
                    return;
                };
                settings
                    .spans
                    .keep_in_extensions(&mut span.extensions_mut(), light);
            }
        }
        self.light_open.fetch_add(1, Ordering::AcqRel);
    }
}

impl<S, L> Layer<S> for OtelLayer<L>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    L: Layer<S>,
{
    fn on_register_dispatch(&self, subscriber: &Dispatch) {
        let _ = self.dispatch.set(subscriber.downgrade());
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
        let metadata = attrs.metadata();
        // JavaScript's values hold no unsigned integer that fits an `i64` (`js_spans::values`
        // decodes one as an `i64`): no need to look for one.
        if ends_at_close(metadata) {
            // A light span made without the registry, handed to it now
            // (`crate::js_spans::detached`): the span it is, whatever the other conditions.
            if let Some(settings) = self.light.as_deref() {
                if let Some(light) = take_adopted(settings.spans.owner()) {
                    return self.keep_light(settings, id, &ctx, light);
                }
            }
            let settings = self
                .light
                .as_deref()
                .filter(|_| may_be_light(metadata) && !crate::js_spans::spans::made_entered());
            if let Some(settings) = settings {
                if let Some(parent_cx) = self.root_context(attrs, &ctx) {
                    let light = LightSpan::start(
                        settings,
                        metadata,
                        attrs.fields().len(),
                        parent_cx,
                        |visitor| attrs.record(visitor),
                    );
                    if let Some(light) = light {
                        return self.keep_light(settings, id, &ctx, light);
                    }
                }
            }
            return self.new_span_in_inner(attrs, id, ctx);
        }
        with_signed_attributes(attrs, |attrs| self.new_span_in_inner(attrs, id, ctx))
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        self.promote(id, &ctx);
        let metadata = ctx.metadata(id);
        with_signed_record(metadata, values, |values| {
            self.inner.on_record(id, values, ctx)
        })
    }

    fn on_follows_from(&self, span: &Id, follows: &Id, ctx: Context<'_, S>) {
        self.promote(span, &ctx);
        self.promote(follows, &ctx);
        self.inner.on_follows_from(span, follows, ctx)
    }

    fn event_enabled(&self, event: &Event<'_>, ctx: Context<'_, S>) -> bool {
        self.inner.event_enabled(event, ctx)
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        if !self.span_events && !marks_failure(event) {
            return;
        }
        if self.light_open.load(Ordering::Acquire) != 0 {
            if let Some(span) = ctx.event_span(event).map(|span| span.id()) {
                self.promote(&span, &ctx);
            }
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
        if let Some(settings) = self.light.as_deref() {
            if self.light_open.load(Ordering::Acquire) != 0 {
                if let Some(light) = self.take_light(&id, &ctx) {
                    self.light_open.fetch_sub(1, Ordering::AcqRel);
                    return light.end(settings);
                }
            }
        }
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
        } else if id == TypeId::of::<LightSettings>() {
            self.light
                .as_ref()
                .map(|light| Arc::as_ptr(light) as *const ())
        } else {
            self.inner.downcast_raw(id)
        }
    }
}
