//! Spans that JavaScript owns: a table per thread from `u32` handles to `tracing` spans.
//!
//! Handles count up from 1 on each thread (0 is never a handle) and are only valid on the thread
//! that made them: JavaScript runs a runtime's code on one thread, and a span entered there must
//! be exited there. [`DISABLED`] stands for a span that no layer wanted; every operation on it
//! succeeds and does nothing, so JavaScript need not tell the two apart.

use std::{
    cell::{Cell, RefCell},
    collections::HashMap,
};

use tracing::{span::Id, subscriber::NoSubscriber, Event, Span};
#[cfg(feature = "otlp")]
use tracing_opentelemetry::OpenTelemetrySpanExt;

#[cfg(feature = "otlp")]
use super::detached::DetachedSpan;
use super::{
    callsites::{CallsiteKind, Callsites, JsCallsite},
    trace_context::{self, RemoteParent},
    values,
};
use std::sync::Arc;

use crate::{
    dispatch::{dispatching_now, span_recorded_by, Switch},
    error::{Error, ErrorKind},
    util::MultiplyHash,
};

/// The handle of a span that no layer wanted (filtered out, or no subscriber installed).
pub const DISABLED: u32 = u32::MAX;

/// `parent` value: the span is a child of the thread's current span (if any).
pub const PARENT_CURRENT: u32 = 0;
/// `parent` value: the span has no parent.
pub const PARENT_NONE: u32 = u32::MAX - 1;

struct Entry {
    /// `None` once the span was ended because the config that records it stopped
    /// ([`end_recorded_by`]): the handle stays known, and every operation on it succeeds and
    /// does nothing, until JavaScript ends it. `None` too while the span is detached.
    span: Option<Span>,
    /// How often the span is entered now (by this thread).
    entered: u32,
    /// The span, made without the registry (see [`super::detached`]); handed to the registry
    /// when something needs it there.
    #[cfg(feature = "otlp")]
    detached: Option<Box<DetachedSpan>>,
}

impl Entry {
    fn live(span: Span) -> Self {
        Self {
            span: Some(span),
            entered: 0,
            #[cfg(feature = "otlp")]
            detached: None,
        }
    }

    /// Whether the span was ended when its config stopped (neither in the registry nor
    /// detached).
    fn ended_at_stop(&self) -> bool {
        #[cfg(feature = "otlp")]
        if self.detached.is_some() {
            return false;
        }
        self.span.is_none()
    }
}

/// Entries kept by their handle's remainder modulo this (see [`Table`]).
const DIRECT: usize = 1024;

/// The spans of a thread by handle. A span's entry goes to the slot of its handle modulo
/// [`DIRECT`] in `direct`, which holds its handle too; spans mostly end before the thousand
/// after them start, so its slot is free again by then. A span whose slot is taken (more than
/// about a thousand open) goes to `others`.
#[derive(Default)]
struct Table {
    next: u32,
    /// Allocated at the first span.
    direct: Vec<Option<(u32, Entry)>>,
    others: HashMap<u32, Entry, MultiplyHash>,
    /// Entries in `direct`.
    direct_len: usize,
    /// Entries whose span was ended when its config stopped.
    ended_at_stop: usize,
}

impl Table {
    fn slot(handle: u32) -> usize {
        handle as usize % DIRECT
    }

    fn insert(&mut self, entry: Entry) -> u32 {
        if self.direct.is_empty() {
            self.direct.resize_with(DIRECT, || None);
        }
        loop {
            self.next = self.next.wrapping_add(1);
            let handle = self.next;
            if handle == 0 || handle >= PARENT_NONE || self.get(handle).is_some() {
                continue;
            }
            let slot = &mut self.direct[Self::slot(handle)];
            if slot.is_none() {
                *slot = Some((handle, entry));
                self.direct_len += 1;
            } else {
                self.others.insert(handle, entry);
            }
            return handle;
        }
    }

    fn get(&self, handle: u32) -> Option<&Entry> {
        match self.direct.get(Self::slot(handle)) {
            Some(Some((held, entry))) if *held == handle => Some(entry),
            _ => self.others.get(&handle),
        }
    }

    fn get_mut(&mut self, handle: u32) -> Option<&mut Entry> {
        match self.direct.get_mut(Self::slot(handle)) {
            Some(Some((held, entry))) if *held == handle => Some(entry),
            _ => self.others.get_mut(&handle),
        }
    }

    fn remove(&mut self, handle: u32) -> Option<Entry> {
        if let Some(slot) = self.direct.get_mut(Self::slot(handle)) {
            if slot.as_ref().is_some_and(|(held, _)| *held == handle) {
                self.direct_len -= 1;
                return slot.take().map(|(_, entry)| entry);
            }
        }
        self.others.remove(&handle)
    }

    fn iter_mut(&mut self) -> impl Iterator<Item = (u32, &mut Entry)> {
        let direct = self
            .direct
            .iter_mut()
            .filter_map(|slot| slot.as_mut().map(|(handle, entry)| (*handle, entry)));
        let others = self
            .others
            .iter_mut()
            .map(|(handle, entry)| (*handle, entry));
        direct.chain(others)
    }

    fn len(&self) -> usize {
        self.direct_len + self.others.len()
    }
}

thread_local! {
    static TABLE: RefCell<Table> = RefCell::new(Table::default());
    /// Set while [`create_entered`] makes its span.
    static ENTERED_AT_ONCE: Cell<bool> = const { Cell::new(false) };
}

/// Whether the span being made on this thread now is entered as soon as it is made
/// ([`create_entered`]). The OpenTelemetry layer then gives it to `tracing-opentelemetry` at
/// once rather than keeping it light: spans and events inside it would need that anyway.
#[cfg_attr(not(feature = "otlp"), allow(dead_code))]
pub(crate) fn made_entered() -> bool {
    ENTERED_AT_ONCE.with(Cell::get)
}

fn unknown(handle: u32, what: &str) -> Error {
    Error::new(
        ErrorKind::UnknownSpan,
        format!(
            "{what}: span handle {handle} is unknown on this thread: it was ended already, or \
             made on another thread"
        ),
    )
}

fn callsite(id: u32, kind: CallsiteKind) -> Result<&'static JsCallsite, Error> {
    let callsite = Callsites::global().get(id).ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidParameter,
            format!("callsite {id} is unknown; make it with tracing_bridge_js_callsite_new"),
        )
    })?;
    let is_span = callsite.meta().is_span();
    if is_span != (kind == CallsiteKind::Span) {
        return Err(Error::new(
            ErrorKind::InvalidParameter,
            format!(
                "callsite {id} is for {}, not for {}",
                if is_span { "spans" } else { "events" },
                if is_span { "events" } else { "spans" }
            ),
        ));
    }
    Ok(callsite)
}

/// Runs `f` with the span of `handle` (a clone of it: `f` may create spans itself); for a span
/// ended when its config stopped, with a disabled span.
pub fn with_span<R>(handle: u32, what: &str, f: impl FnOnce(&Span) -> R) -> Result<R, Error> {
    let span = live_span(handle, what)?;
    Ok(f(&span.unwrap_or_else(Span::none)))
}

/// The span of `handle` (a clone), or `None` when it was ended when its config stopped. A
/// detached span is handed to the registry first ([`hand_to_registry`]).
fn live_span(handle: u32, what: &str) -> Result<Option<Span>, Error> {
    hand_to_registry(handle);
    TABLE
        .with(|table| table.borrow().get(handle).map(|entry| entry.span.clone()))
        .ok_or_else(|| unknown(handle, what))
}

/// Hands the span of `handle` to the registry if it is detached
/// ([`DetachedSpan::materialize`]); one that cannot be handed over stays detached, and acts
/// as a span ended when its config stopped for what needs the registry. Before anything else
/// of the record that needs it is dispatched.
fn hand_to_registry(handle: u32) {
    #[cfg(feature = "otlp")]
    {
        /// Out of the table while layers run; put back unless handed over (also when a layer
        /// panics meanwhile).
        struct Out {
            handle: u32,
            detached: Option<Box<DetachedSpan>>,
        }
        impl Drop for Out {
            fn drop(&mut self) {
                if let Some(detached) = self.detached.take() {
                    let _ = TABLE.try_with(|table| {
                        if let Some(entry) = table.borrow_mut().get_mut(self.handle) {
                            entry.detached = Some(detached);
                        }
                    });
                }
            }
        }
        let detached = TABLE.with(|table| {
            table
                .borrow_mut()
                .get_mut(handle)
                .and_then(|entry| entry.detached.take())
        });
        let mut out = Out { handle, detached };
        let Some(detached) = out.detached.as_mut() else {
            return;
        };
        if let Some(span) = detached.materialize() {
            out.detached = None;
            TABLE.with(|table| {
                if let Some(entry) = table.borrow_mut().get_mut(handle) {
                    entry.span = Some(span);
                }
            });
        }
    }
    #[cfg(not(feature = "otlp"))]
    let _ = handle;
}

/// Creates a span of callsite `callsite_id` with `encoded` values (see [`values`]). `parent`
/// is [`PARENT_CURRENT`], [`PARENT_NONE`] or a handle ([`DISABLED`] counts as current).
/// Returns its handle, or [`DISABLED`].
pub fn create(callsite_id: u32, parent: u32, encoded: &[u8]) -> Result<u32, Error> {
    refuse_if_unrecordable("a span")?;
    let callsite = callsite(callsite_id, CallsiteKind::Span)?;
    let meta = callsite.meta();
    // A parent ended when its config stopped counts as none given: the current span.
    let parent_span = match parent {
        PARENT_CURRENT | PARENT_NONE | DISABLED => None,
        handle => live_span(handle, "parent")?,
    };
    // Before `is_enabled`, which may set the thread's per-layer filter state for this span.
    #[cfg(feature = "otlp")]
    if matches!(parent, PARENT_CURRENT | PARENT_NONE | DISABLED)
        && !ENTERED_AT_ONCE.with(Cell::get)
        && !callsite.fallback
    {
        let root = parent == PARENT_NONE;
        if let Some(detached) = DetachedSpan::try_start(callsite_id, callsite, root, encoded)? {
            let entry = Entry {
                span: None,
                entered: 0,
                detached: Some(detached),
            };
            return Ok(TABLE.with(|table| table.borrow_mut().insert(entry)));
        }
    }
    let enabled = callsite.is_enabled();
    let span = values::with_decoded(encoded, meta.fields().len(), |decoded| {
        // Decoded (and so checked) even when disabled: bad values fail the same either way.
        if !enabled {
            return None;
        }
        Some(values::with_values(decoded, |lent| {
            let values = meta.fields().value_set_all(lent);
            match (parent, parent_span) {
                (_, Some(parent_span)) => Span::child_of(&parent_span, meta, &values),
                (PARENT_NONE, None) => Span::new_root(meta, &values),
                _ => Span::new(meta, &values),
            }
        }))
    })?;
    let Some(span) = span.filter(|span| !span.is_disabled()) else {
        crate::diagnostics::note_js_span_dropped(meta);
        return Ok(DISABLED);
    };
    Ok(TABLE.with(|table| table.borrow_mut().insert(Entry::live(span))))
}

/// Creates a span as [`create`] does and enters it on this thread ([`enter`]): one call for
/// `tracing.span`, whose function runs inside its span.
pub fn create_entered(callsite_id: u32, parent: u32, encoded: &[u8]) -> Result<u32, Error> {
    let before = ENTERED_AT_ONCE.with(|flag| flag.replace(true));
    let created = create(callsite_id, parent, encoded);
    ENTERED_AT_ONCE.with(|flag| flag.set(before));
    let handle = created?;
    if let Err(error) = enter(handle) {
        let _ = end(handle);
        return Err(error);
    }
    Ok(handle)
}

/// Inside the dispatch of a record made on this thread (a JS layer callback), `tracing-core`
/// hands a nested record to no subscriber when the thread's dispatcher is a scoped one (a
/// current-thread config exists somewhere in the library): say so instead of losing it. A
/// callsite registered then would be remembered as wanted by no one, so callsites are refused
/// too.
pub(crate) fn refuse_if_unrecordable(what: &str) -> Result<(), Error> {
    if dispatching_now()
        && tracing::dispatcher::get_default(|dispatch| dispatch.is::<NoSubscriber>())
    {
        return Err(Error::new(
            ErrorKind::Reentrant,
            format!(
                "{what} made inside a JS layer callback for a record of this same thread cannot \
                 be recorded while a current-thread config is active (tracing does not dispatch \
                 records from inside a dispatch); make it after the callback returns, e.g. in \
                 queueMicrotask()"
            ),
        ));
    }
    Ok(())
}

/// Records an event of callsite `callsite_id`, a child of `parent` (as for [`create`]).
pub fn event(callsite_id: u32, parent: u32, encoded: &[u8]) -> Result<(), Error> {
    refuse_if_unrecordable("an event")?;
    let callsite = callsite(callsite_id, CallsiteKind::Event)?;
    let meta = callsite.meta();
    let parent_id: Option<Option<Id>> = match parent {
        PARENT_CURRENT | DISABLED => None,
        PARENT_NONE => Some(None),
        // A parent ended when its config stopped counts as none given.
        handle => live_span(handle, "parent")?.map(|span| span.id()),
    };
    let enabled = callsite.is_enabled();
    values::with_decoded(encoded, meta.fields().len(), |decoded| {
        if !enabled {
            return;
        }
        values::with_values(decoded, |lent| {
            let values = meta.fields().value_set_all(lent);
            match parent_id {
                None => Event::dispatch(meta, &values),
                Some(parent) => Event::child_of(parent, meta, &values),
            }
        });
    })
}

/// Enters the span on this thread: spans and events made on this thread until it is exited
/// are its children.
pub fn enter(handle: u32) -> Result<(), Error> {
    if handle == DISABLED {
        return Ok(());
    }
    hand_to_registry(handle);
    let span = TABLE.with(|table| {
        let mut table = table.borrow_mut();
        let entry = table.get_mut(handle)?;
        let Some(span) = &entry.span else {
            return Some(None);
        };
        entry.entered += 1;
        Some(Some(span.clone()))
    });
    if let Some(span) = span.ok_or_else(|| unknown(handle, "enter"))? {
        span.with_subscriber(|(id, dispatch)| dispatch.enter(id));
    }
    Ok(())
}

/// Exits the span, entered before on this thread. Spans need not be exited in the order they
/// were entered (the registry removes the latest entry of this span).
pub fn exit(handle: u32) -> Result<(), Error> {
    if handle == DISABLED {
        return Ok(());
    }
    let span = TABLE.with(|table| {
        let mut table = table.borrow_mut();
        let entry = table.get_mut(handle)?;
        let Some(span) = &entry.span else {
            // Detached: never entered (entering hands it to the registry), unless it could not
            // be handed over, when entering did nothing.
            #[cfg(feature = "otlp")]
            if entry.detached.as_ref().is_some_and(|span| !span.is_stale()) {
                return Some(Err(()));
            }
            // Ended when its config stopped, exited then.
            return Some(Ok(None));
        };
        if entry.entered == 0 {
            return Some(Err(()));
        }
        entry.entered -= 1;
        Some(Ok(Some(span.clone())))
    });
    match span {
        None => Err(unknown(handle, "exit")),
        Some(Err(())) => Err(Error::new(
            ErrorKind::InvalidParameter,
            format!("exit: span handle {handle} is not entered"),
        )),
        Some(Ok(span)) => {
            if let Some(span) = span {
                span.with_subscriber(|(id, dispatch)| dispatch.exit(id));
            }
            Ok(())
        }
    }
}

/// Ends the span: exits it as often as it is entered, then closes it (layers see it close once
/// nothing else holds it, e.g. a child still open). The handle is invalid afterwards; ending it
/// again is an `UnknownSpan` error. Ending a span that was ended when its config stopped
/// ([`end_recorded_by`]) only forgets its handle.
pub fn end(handle: u32) -> Result<(), Error> {
    if handle == DISABLED {
        return Ok(());
    }
    let entry = TABLE.with(|table| {
        let mut table = table.borrow_mut();
        let entry = table.remove(handle)?;
        if entry.ended_at_stop() {
            table.ended_at_stop -= 1;
        }
        Some(entry)
    });
    let entry = entry.ok_or_else(|| unknown(handle, "end"))?;
    #[cfg(feature = "otlp")]
    let entry = {
        let mut entry = entry;
        if let Some(mut detached) = entry.detached.take() {
            detached.end(None);
            super::detached::recycle(detached);
        }
        entry
    };
    if let Some(span) = &entry.span {
        for _ in 0..entry.entered {
            span.with_subscriber(|(id, dispatch)| dispatch.exit(id));
        }
    }
    drop(entry);
    Ok(())
}

/// The attribute the OpenTelemetry layers give a span that JavaScript had not ended when its
/// config stopped (disposed, or at exit), and that was ended then.
pub const UNENDED_ATTRIBUTE: &str = "tracing_bridge.unended";

/// Ends the spans of this thread's table that `recorded_by` claims: the spans JavaScript has
/// not ended, of a config that is stopping (called before it stops receiving, so that its
/// layers see them end and export them). The OpenTelemetry layers give each the attribute
/// [`UNENDED_ATTRIBUTE`] = `true`. Their handles stay known: every operation on them succeeds
/// and does nothing, and ending them later only forgets them. Returns how many were ended.
pub(crate) fn end_recorded_by(switch: &Arc<Switch>, generation: u64) -> usize {
    // Taken out of the table first: ending a span runs layers, and a JS layer's callback may
    // call back into this table.
    #[cfg(feature = "otlp")]
    let mut detached: Vec<Box<DetachedSpan>> = Vec::new();
    let mut ended: Vec<(u32, Span, u32)> = TABLE
        .try_with(|table| {
            let Ok(mut table) = table.try_borrow_mut() else {
                return Vec::new();
            };
            let mut ended = Vec::new();
            let mut count = 0;
            for (handle, entry) in table.iter_mut() {
                #[cfg(feature = "otlp")]
                if entry
                    .detached
                    .as_ref()
                    .is_some_and(|span| span.made_by(switch, generation))
                {
                    detached.extend(entry.detached.take());
                    count += 1;
                    continue;
                }
                if entry
                    .span
                    .as_ref()
                    .is_some_and(|span| span_recorded_by(span, switch, generation))
                {
                    if let Some(span) = entry.span.take() {
                        ended.push((handle, span, std::mem::take(&mut entry.entered)));
                        count += 1;
                    }
                }
            }
            table.ended_at_stop += count;
            ended
        })
        .unwrap_or_default();
    // The newest first: children before their parents, as they would usually end.
    ended.sort_unstable_by_key(|(handle, ..)| std::cmp::Reverse(*handle));
    // No span is a child of a detached one (it would have been handed to the registry).
    #[cfg(feature = "otlp")]
    let detached_count = {
        let count = detached.len();
        for mut span in detached {
            span.end(Some(opentelemetry::KeyValue::new(UNENDED_ATTRIBUTE, true)));
        }
        count
    };
    #[cfg(not(feature = "otlp"))]
    let detached_count = 0;
    let count = ended.len() + detached_count;
    for (_, span, entered) in ended {
        #[cfg(feature = "otlp")]
        crate::dispatch::with_span_layers_reachable(&span, || {
            let attribute = opentelemetry::KeyValue::new(UNENDED_ATTRIBUTE, true);
            let light = span
                .with_subscriber(|(id, dispatch)| {
                    crate::layers::otel::light::set_attribute(id, dispatch, attribute.clone())
                })
                .unwrap_or(false);
            if !light {
                span.set_attribute(UNENDED_ATTRIBUTE, true);
            }
        });
        for _ in 0..entered {
            span.with_subscriber(|(id, dispatch)| dispatch.exit(id));
        }
        drop(span);
    }
    count
}

/// The W3C trace context of the span of `handle` (see [`trace_context::trace_context`]); read
/// from a detached span without handing it to the registry.
pub fn trace_context(handle: u32) -> Result<Option<(String, String)>, Error> {
    #[cfg(feature = "otlp")]
    {
        let detached = TABLE.with(|table| {
            let table = table.borrow();
            let entry = table.get(handle)?;
            Some(entry.detached.as_ref().map(|span| span.span_context()))
        });
        if let Some(Some(context)) = detached {
            return Ok(context.and_then(|context| trace_context::headers(&context)));
        }
    }
    with_span(handle, "trace_context", trace_context::trace_context)
}

/// Makes `remote` the OpenTelemetry parent of the span of `handle` (see
/// [`trace_context::set_remote_parent`]); set on a detached span without handing it to the
/// registry.
pub fn set_remote_parent(handle: u32, remote: RemoteParent) -> Result<(), Error> {
    #[cfg(feature = "otlp")]
    let remote = {
        let mut remote = Some(remote);
        TABLE.with(|table| {
            let mut table = table.borrow_mut();
            if let Some(span) = table
                .get_mut(handle)
                .and_then(|entry| entry.detached.as_mut())
            {
                if let Some(remote) = remote.take() {
                    span.set_remote_parent(remote.context());
                }
            }
        });
        match remote {
            Some(remote) => remote,
            None => return Ok(()),
        }
    };
    with_span(handle, "set_remote_parent", |span| {
        trace_context::set_remote_parent(span, remote)
    })
}

/// Whether the span of `handle` is detached now: made without the registry, not handed to it
/// since (see [`super::detached`]). For tests.
#[doc(hidden)]
pub fn is_detached(handle: u32) -> bool {
    #[cfg(feature = "otlp")]
    {
        TABLE.with(|table| {
            table
                .borrow()
                .get(handle)
                .is_some_and(|entry| entry.detached.is_some())
        })
    }
    #[cfg(not(feature = "otlp"))]
    {
        let _ = handle;
        false
    }
}

/// Open spans on this thread (for tests and diagnostics); spans ended when their config
/// stopped are not counted, even while JavaScript still holds their handles.
pub fn open_count() -> usize {
    TABLE.with(|table| {
        let table = table.borrow();
        table.len() - table.ended_at_stop
    })
}
