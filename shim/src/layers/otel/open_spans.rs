//! Spans the OpenTelemetry layer saw start and never saw end.
//!
//! A span still open when its configuration stops (a Rust thread still inside it, a JavaScript
//! span of a Worker) ends after the layer stopped receiving: its end never reaches the layer,
//! so it is never exported. [`OpenSpans`] wraps the layer and counts the spans it sees start
//! and end, so that the layer can count those as dropped when it shuts down
//! ([`SpanCounts::open`]).
//!
//! Such a span may still reach the span processor later: once the SDK has started it (a span
//! with children, or whose trace context was read), dropping its registry entry drops the SDK
//! span, which ends itself. [`closing_in_layer`] tells the processor whether a span ends inside
//! the layer's `on_close` (the only place the layer ends spans), so that it ignores the others
//! instead of counting them a second time.
//!
//! The wrapper holds an `Arc` of the counts, the layer's lifecycle another: once the switch
//! let go of the layer and no dispatch on another thread still runs in it, the wrapper is
//! dropped ([`SpanCounts::layer_dropped`]), and the counts no longer move.

use std::{
    any::TypeId,
    cell::Cell,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
};

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

/// How many spans the layer saw start and end.
#[derive(Debug, Default)]
pub(crate) struct SpanCounts {
    opened: AtomicU64,
    closed: AtomicU64,
}

impl SpanCounts {
    /// Spans seen starting and not (yet) ending.
    pub(crate) fn open(&self) -> u64 {
        // `closed` first: a span counted closed was counted opened before.
        let closed = self.closed.load(Ordering::Acquire);
        self.opened.load(Ordering::Acquire).saturating_sub(closed)
    }

    /// Whether the wrapper holding `counts` is gone, and with it the layer: nothing can start
    /// or end a span in it any more.
    pub(crate) fn layer_dropped(counts: &Arc<Self>) -> bool {
        Arc::strong_count(counts) == 1
    }

    /// Counts a span that starts without the registry (`crate::js_spans::detached`).
    pub(crate) fn note_opened(&self) {
        self.opened.fetch_add(1, Ordering::AcqRel);
    }

    /// Counts such a span ended (after its end, as [`OpenSpans::on_close`] counts), or handed
    /// to the registry, where this layer counts it opened again.
    pub(crate) fn note_closed(&self) {
        self.closed.fetch_add(1, Ordering::AcqRel);
    }
}

thread_local! {
    /// How deep this thread is in [`OpenSpans::on_close`].
    static CLOSING: Cell<u32> = const { Cell::new(0) };
}

/// Whether this thread is inside the `on_close` of an OpenTelemetry layer: a span ending now is
/// one the layer ended. Where the thread's locals are gone (thread exit), it answers yes, so
/// that nothing is lost.
pub(crate) fn closing_in_layer() -> bool {
    CLOSING.try_with(|depth| depth.get() > 0).unwrap_or(true)
}

/// Marks this thread as inside an OpenTelemetry layer's `on_close` until dropped: a span
/// ended meanwhile is one the layer ended ([`closing_in_layer`]).
pub(crate) struct Closing;

impl Closing {
    pub(crate) fn enter() -> Self {
        let _ = CLOSING.try_with(|depth| depth.set(depth.get() + 1));
        Self
    }
}

impl Drop for Closing {
    fn drop(&mut self) {
        let _ = CLOSING.try_with(|depth| depth.set(depth.get().saturating_sub(1)));
    }
}

/// Wraps an OpenTelemetry layer: counts the spans it sees start and end.
#[derive(Debug)]
pub(crate) struct OpenSpans<L> {
    inner: L,
    counts: Arc<SpanCounts>,
}

impl<L> OpenSpans<L> {
    pub(crate) fn new(inner: L, counts: Arc<SpanCounts>) -> Self {
        Self { inner, counts }
    }
}

impl<S, L> Layer<S> for OpenSpans<L>
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
        self.counts.opened.fetch_add(1, Ordering::AcqRel);
        self.inner.on_new_span(attrs, id, ctx)
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        self.inner.on_record(id, values, ctx)
    }

    fn on_follows_from(&self, span: &Id, follows: &Id, ctx: Context<'_, S>) {
        self.inner.on_follows_from(span, follows, ctx)
    }

    fn event_enabled(&self, event: &Event<'_>, ctx: Context<'_, S>) -> bool {
        self.inner.event_enabled(event, ctx)
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        self.inner.on_event(event, ctx)
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        self.inner.on_enter(id, ctx)
    }

    fn on_exit(&self, id: &Id, ctx: Context<'_, S>) {
        self.inner.on_exit(id, ctx)
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        {
            let _closing = Closing::enter();
            self.inner.on_close(id, ctx);
        }
        self.counts.closed.fetch_add(1, Ordering::AcqRel);
    }

    fn on_id_change(&self, old: &Id, new: &Id, ctx: Context<'_, S>) {
        self.inner.on_id_change(old, new, ctx)
    }

    unsafe fn downcast_raw(&self, id: TypeId) -> Option<*const ()> {
        if id == TypeId::of::<Self>() {
            Some(self as *const Self as *const ())
        } else if id == TypeId::of::<SpanCounts>() {
            Some(Arc::as_ptr(&self.counts) as *const ())
        } else {
            // SAFETY: forwarded; `tracing-opentelemetry` finds its layer through it.
            unsafe { self.inner.downcast_raw(id) }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use tracing_subscriber::{layer::SubscriberExt, Registry};

    use super::*;

    /// Records, per span end, whether it happened inside the wrapper's `on_close`.
    struct Probe(Arc<Mutex<Vec<bool>>>);

    impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Probe {
        fn on_close(&self, _id: Id, _ctx: Context<'_, S>) {
            self.0.lock().unwrap().push(closing_in_layer());
        }
    }

    #[test]
    fn counts_spans_open_now_and_marks_their_ends() {
        let counts = Arc::new(SpanCounts::default());
        let ends = Arc::new(Mutex::new(Vec::new()));
        let subscriber = Registry::default().with(OpenSpans::new(
            Probe(Arc::clone(&ends)),
            Arc::clone(&counts),
        ));
        tracing::subscriber::with_default(subscriber, || {
            let outer = tracing::info_span!("outer");
            let inner = tracing::info_span!(parent: &outer, "inner");
            assert_eq!(counts.open(), 2);
            drop(inner);
            assert_eq!(counts.open(), 1);
            assert!(!closing_in_layer());
            drop(outer);
        });
        assert_eq!(counts.open(), 0);
        assert_eq!(*ends.lock().unwrap(), [true, true]);
        assert!(SpanCounts::layer_dropped(&counts), "the subscriber is gone");
    }
}
