//! A subscriber wrapper that keeps a span whose explicit parent belongs to another dispatcher
//! from panicking inside `Registry`.
//!
//! `tracing_subscriber::Registry` panics when a new span names a parent it does not know. That
//! happens in ordinary code: a current-thread config on the JavaScript thread, a span created
//! there, and a Rust worker thread (recording to the global dispatcher) that creates a child
//! with `parent: &span`. The wrapper turns such a span into a contextual one (its parent is the
//! worker thread's current span) instead of a panic.
//!
//! It also counts, per thread, the dispatches of new spans and events in progress: during
//! those, `tracing-core` borrows the thread's default dispatcher, so replacing it (setting or
//! dropping a current-thread default from inside a callback) would panic there.

use std::{any::TypeId, cell::Cell, sync::Arc};

use tracing::{
    span::{Attributes, Id, Record},
    subscriber::Interest,
    Event, Metadata, Subscriber,
};
use tracing_core::{dispatcher::Dispatch, LevelFilter};
use tracing_subscriber::registry::LookupSpan;

use super::switch::Switch;

thread_local! {
    static DISPATCHING: Cell<u32> = const { Cell::new(0) };
}

/// Whether this thread is inside the dispatch of a new span or event of a tracing-bridge
/// subscriber (for example in a JS layer callback called for a record made on this thread).
pub(crate) fn dispatching_now() -> bool {
    DISPATCHING.try_with(Cell::get).unwrap_or(0) > 0
}

/// Counts a dispatch in progress on this thread until dropped.
struct Dispatching;

impl Dispatching {
    fn start() -> Self {
        let _ = DISPATCHING.try_with(|depth| depth.set(depth.get() + 1));
        Dispatching
    }
}

impl Drop for Dispatching {
    fn drop(&mut self) {
        let _ = DISPATCHING.try_with(|depth| depth.set(depth.get().saturating_sub(1)));
    }
}

/// Forwards everything to `S`, checking explicit parents of new spans first. Holds the switch
/// that `S` reads its layers from, and answers a downcast to it directly (through `S`, that
/// walks every slot).
#[derive(Debug)]
pub(crate) struct GuardedRegistry<S>(pub(crate) S, pub(crate) Arc<Switch>);

impl<S> Subscriber for GuardedRegistry<S>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_register_dispatch(&self, subscriber: &Dispatch) {
        self.0.on_register_dispatch(subscriber)
    }

    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        self.0.register_callsite(metadata)
    }

    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        self.0.enabled(metadata)
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        self.0.max_level_hint()
    }

    fn new_span(&self, attrs: &Attributes<'_>) -> Id {
        let _dispatching = Dispatching::start();
        match attrs.parent() {
            Some(parent) if self.0.span_data(parent).is_none() => {
                let contextual = Attributes::new(attrs.metadata(), attrs.values());
                self.0.new_span(&contextual)
            }
            _ => self.0.new_span(attrs),
        }
    }

    fn record(&self, span: &Id, values: &Record<'_>) {
        self.0.record(span, values)
    }

    fn record_follows_from(&self, span: &Id, follows: &Id) {
        if self.0.span_data(follows).is_some() {
            self.0.record_follows_from(span, follows)
        }
    }

    fn event_enabled(&self, event: &Event<'_>) -> bool {
        self.0.event_enabled(event)
    }

    fn event(&self, event: &Event<'_>) {
        // An unknown explicit parent is harmless here: layers find no span for it.
        let _dispatching = Dispatching::start();
        self.0.event(event)
    }

    fn enter(&self, span: &Id) {
        self.0.enter(span)
    }

    fn exit(&self, span: &Id) {
        self.0.exit(span)
    }

    fn clone_span(&self, id: &Id) -> Id {
        self.0.clone_span(id)
    }

    fn try_close(&self, id: Id) -> bool {
        self.0.try_close(id)
    }

    fn current_span(&self) -> tracing_core::span::Current {
        self.0.current_span()
    }

    unsafe fn downcast_raw(&self, id: TypeId) -> Option<*const ()> {
        if id == TypeId::of::<Self>() {
            return Some(self as *const Self as *const ());
        }
        if id == TypeId::of::<Switch>() {
            return Some(Arc::as_ptr(&self.1) as *const ());
        }
        self.0.downcast_raw(id)
    }
}

impl<'a, S> LookupSpan<'a> for GuardedRegistry<S>
where
    S: LookupSpan<'a>,
{
    type Data = S::Data;

    fn span_data(&'a self, id: &Id) -> Option<Self::Data> {
        self.0.span_data(id)
    }
}
