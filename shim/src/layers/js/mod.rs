//! The JS layer: forwards spans and events to JavaScript `Layer` objects.
//!
//! Records go into a bounded [`JsSink`] per layer; JavaScript drains it on its own thread (see
//! `bindings/js_delivery.ts`) and decodes them (`bindings/js_dispatch.ts`) for its `Layer`
//! object (`bindings/js_layer.ts`). Only the callbacks the JavaScript layer implements are
//! encoded.

mod fields;
mod sink;
mod wire;

use std::{
    cell::{Cell, RefCell},
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::{SystemTime, UNIX_EPOCH},
};

use serde::Deserialize;
use tracing::{
    span::{Attributes, Id, Record},
    Event, Subscriber,
};
use tracing_subscriber::{
    layer::Context,
    registry::{LookupSpan, SpanRef},
    Layer,
};

pub use sink::{Drained, JsSink, JsTarget, WakeCallback, CONTROL_BYTES};

use self::{
    fields::CapturedFields,
    sink::{EventCallsite, Payload},
};
use super::{BuiltLayer, LayerLifecycle};
use crate::error::Error;

/// The JS layer's queue capacity, in records, when the config gives none.
pub const DEFAULT_CAPACITY: u32 = 1 << 18;

/// Options of the JS layer.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JsLayerConfig {
    /// The callbacks the JavaScript layer implements; nothing else is encoded.
    #[serde(default)]
    pub callbacks: Vec<JsCallback>,
    /// How many records may wait for JavaScript before new ones are dropped: 1 to `u32::MAX`.
    #[serde(default, deserialize_with = "crate::options::optional_capacity")]
    pub capacity: Option<u32>,
    /// This layer's own filter directives.
    #[serde(default)]
    pub filter: Option<String>,
}

/// A `Layer` method of the JavaScript object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum JsCallback {
    /// `onNewSpan`
    NewSpan,
    /// `onEvent`
    Event,
    /// `onRecord`
    Record,
    /// `onEnter`
    Enter,
    /// `onExit`
    Exit,
    /// `onClose`
    Close,
    /// `onFollowsFrom`
    FollowsFrom,
}

#[derive(Debug, Clone, Copy, Default)]
struct Interest {
    new_span: bool,
    event: bool,
    record: bool,
    enter: bool,
    exit: bool,
    close: bool,
    follows_from: bool,
}

/// Builds a JS layer; `index` is its position in the config (one bit of [`JsSpan::admitted`]).
pub(crate) fn build(
    config: &JsLayerConfig,
    field: &str,
    index: usize,
) -> Result<BuiltLayer, Error> {
    let capacity = config.capacity.unwrap_or(DEFAULT_CAPACITY);
    if capacity == 0 {
        return Err(Error::invalid_config(format!(
            "{field}.capacity must be at least 1 (default {DEFAULT_CAPACITY})"
        )));
    }
    let mut interest = Interest::default();
    for callback in &config.callbacks {
        match callback {
            JsCallback::NewSpan => interest.new_span = true,
            JsCallback::Event => interest.event = true,
            JsCallback::Record => interest.record = true,
            JsCallback::Enter => interest.enter = true,
            JsCallback::Exit => interest.exit = true,
            JsCallback::Close => interest.close = true,
            JsCallback::FollowsFrom => interest.follows_from = true,
        }
    }
    let sink = Arc::new(JsSink::new(capacity as usize, index as u32));
    let enter_exit = interest.enter || interest.exit;
    let layer = JsLayer {
        sink: Arc::clone(&sink),
        interest,
        bit: 1u8 << (index % 8),
    };
    let lifecycle = JsLifecycle {
        sink: Arc::clone(&sink),
    };
    // JavaScript reaches the sink through the session (`Session::layer_extension`).
    Ok(BuiltLayer::new(Box::new(layer), Arc::new(lifecycle))
        .with_extension(sink)
        .with_enter_exit(enter_exit))
}

/// JavaScript drains the sink itself, on flush and dispose; when its thread ends without
/// disposing, the sink lets go of that thread's memory.
struct JsLifecycle {
    sink: Arc<JsSink>,
}

impl LayerLifecycle for JsLifecycle {
    fn flush(&self) -> Result<(), Error> {
        Ok(())
    }

    fn owner_thread_ended(&self) {
        self.sink.abandon();
    }
}

/// Kept in each span's extensions: its id as JavaScript sees it, which JS layers were told of
/// its creation (one bit per layer), and the thread that created it. A span JavaScript never
/// heard of gets no further records, so `onNewSpan` always comes first.
#[derive(Debug)]
struct JsSpan {
    id: u64,
    admitted: u8,
    thread: u32,
}

static NEXT_SPAN_ID: AtomicU64 = AtomicU64::new(1);

/// The span a JS layer last announced on this thread, so that its close (usually the next
/// thing that happens to it, on this thread) needs no lookup in the registry. Valid while
/// [`RECENT_EPOCH`] has not moved since it was noted.
#[derive(Debug, Clone, Copy)]
struct RecentSpan {
    /// The layer's sink (its address), which noted the span.
    layer: usize,
    /// The span's `tracing` id.
    span: u64,
    /// Its id as JavaScript sees it.
    js_id: u64,
    /// This thread's [`sink::current_thread_id`].
    thread: u32,
    epoch: u64,
}

/// Moves whenever a span one thread noted as recent may have ended without that thread
/// knowing: a span closed on another thread than the one that created it, or a JS layer
/// dropped (a later layer may reuse its address). A `tracing` id is reused only after its span
/// closed, so a note made since the last move names the span it was made for.
static RECENT_EPOCH: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static SCRATCH: RefCell<CapturedFields> = RefCell::new(CapturedFields::default());
    static RECENT: Cell<Option<RecentSpan>> = const { Cell::new(None) };
}

/// Captures fields into the thread's scratch space (a fresh one if a `Debug` impl re-enters).
fn with_fields<R>(
    record: impl FnOnce(&mut CapturedFields),
    then: impl FnOnce(&CapturedFields) -> R,
) -> R {
    SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
        Ok(mut fields) => {
            fields.clear();
            record(&mut fields);
            then(&fields)
        }
        Err(_) => {
            let mut fields = CapturedFields::default();
            record(&mut fields);
            then(&fields)
        }
    })
}

fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |elapsed| elapsed.as_secs_f64() * 1000.0)
}

struct JsLayer {
    sink: Arc<JsSink>,
    interest: Interest,
    bit: u8,
}

/// What a JS layer knows of a span.
enum Known {
    /// JavaScript was told of its creation (or does not listen for creations): its id.
    Announced(u64),
    /// Its creation was dropped (the queue was full): its later records are dropped too,
    /// and counted, so that JavaScript never hears of a span it was not told of.
    Dropped,
    /// Not a span of this configuration.
    Unknown,
}

impl Drop for JsLayer {
    fn drop(&mut self) {
        RECENT_EPOCH.fetch_add(1, Ordering::AcqRel);
    }
}

impl JsLayer {
    /// This layer's key in [`RecentSpan::layer`].
    fn key(&self) -> usize {
        Arc::as_ptr(&self.sink) as usize
    }

    /// Notes `span` (announced by this layer, JavaScript id `js_id`) as the recent one of this
    /// thread, `thread`.
    fn note_recent(&self, span: &Id, js_id: u64, thread: u32) {
        let recent = RecentSpan {
            layer: self.key(),
            span: span.into_u64(),
            js_id,
            thread,
            epoch: RECENT_EPOCH.load(Ordering::Acquire),
        };
        let _ = RECENT.try_with(|cell| cell.set(Some(recent)));
    }

    /// The JavaScript id of `span` and this thread's id, if `span` is this thread's recent span
    /// for this layer (which then no longer is).
    fn take_recent(&self, span: &Id) -> Option<(u64, u32)> {
        let (layer, span) = (self.key(), span.into_u64());
        let recent = RECENT
            .try_with(|cell| match cell.get() {
                Some(recent) if recent.layer == layer && recent.span == span => cell.take(),
                _ => None,
            })
            .ok()
            .flatten()?;
        (recent.epoch == RECENT_EPOCH.load(Ordering::Acquire))
            .then_some((recent.js_id, recent.thread))
    }

    /// What this layer knows of span `id`. `closing_on`: the span is closing on this thread
    /// (its [`sink::current_thread_id`]); if another thread made it, a thread's recent span
    /// may be gone, so the notes are invalidated.
    fn known<S>(&self, id: &Id, ctx: &Context<'_, S>, closing_on: Option<u32>) -> Known
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let Some(span) = ctx.span(id) else {
            return Known::Unknown;
        };
        let extensions = span.extensions();
        let js = extensions.get::<JsSpan>();
        if let (Some(js), Some(thread)) = (js, closing_on) {
            if js.thread != thread {
                RECENT_EPOCH.fetch_add(1, Ordering::AcqRel);
            }
        }
        match js {
            Some(js) if js.admitted & self.bit != 0 => Known::Announced(js.id),
            Some(_) => Known::Dropped,
            None => Known::Unknown,
        }
    }

    /// The span's JavaScript id if JavaScript was told of it; counts the record `wanted` as
    /// dropped when the span's creation was dropped. `closing_on` as for [`JsLayer::known`].
    fn announced<S>(
        &self,
        id: &Id,
        ctx: &Context<'_, S>,
        wanted: bool,
        closing_on: Option<u32>,
    ) -> Option<u64>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        match self.known(id, ctx, closing_on) {
            Known::Announced(js_id) => Some(js_id),
            Known::Dropped => {
                if wanted {
                    self.sink.count_dropped(1);
                }
                None
            }
            Known::Unknown => None,
        }
    }

    /// The JavaScript id of the nearest span in `scope` (innermost first) that JavaScript was
    /// told of, or 0: a record whose own parent's creation was dropped names the nearest
    /// announced ancestor instead of an id JavaScript never saw.
    fn nearest_announced<'a, R>(&self, scope: impl Iterator<Item = SpanRef<'a, R>>) -> u64
    where
        R: LookupSpan<'a> + 'a,
    {
        for span in scope {
            if let Some(js) = span.extensions().get::<JsSpan>() {
                if js.admitted & self.bit != 0 {
                    return js.id;
                }
            }
        }
        0
    }
}

impl<S> Layer<S> for JsLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let thread = sink::current_thread_id();
        // Marked as announced at once (one write to the extensions, not two): nothing can ask
        // about a span that is still being created; unmarked below if its creation is dropped.
        let js_id = {
            let mut extensions = span.extensions_mut();
            match extensions.get_mut::<JsSpan>() {
                Some(js) => {
                    js.admitted |= self.bit;
                    js.id
                }
                None => {
                    let js_id = NEXT_SPAN_ID.fetch_add(1, Ordering::Relaxed);
                    extensions.insert(JsSpan {
                        id: js_id,
                        admitted: self.bit,
                        thread,
                    });
                    js_id
                }
            }
        };
        if !self.interest.new_span {
            self.note_recent(id, js_id, thread);
            return;
        }
        let parent = span
            .parent()
            .map_or(0, |parent| self.nearest_announced(parent.scope()));
        let admitted = with_fields(
            |fields| attrs.record(fields),
            |fields| {
                self.sink.push_as(
                    thread,
                    &Payload::NewSpan {
                        metadata: attrs.metadata(),
                        span: js_id,
                        parent,
                        timestamp: now_ms(),
                        fields,
                    },
                    false,
                )
            },
        );
        if admitted {
            self.note_recent(id, js_id, thread);
        } else if let Some(js) = span.extensions_mut().get_mut::<JsSpan>() {
            js.admitted &= !self.bit;
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if !self.interest.record {
            return;
        }
        let Some(js_id) = self.announced(id, &ctx, true, None) else {
            return;
        };
        let Some(span) = ctx.span(id) else { return };
        with_fields(
            |fields| values.record(fields),
            |fields| {
                self.sink.push(
                    &Payload::Record {
                        metadata: span.metadata(),
                        span: js_id,
                        fields,
                    },
                    false,
                )
            },
        );
    }

    fn on_follows_from(&self, id: &Id, follows: &Id, ctx: Context<'_, S>) {
        if !self.interest.follows_from {
            return;
        }
        let (span, follows) = match (self.known(id, &ctx, None), self.known(follows, &ctx, None)) {
            (Known::Announced(span), Known::Announced(follows)) => (span, follows),
            (Known::Unknown, _) | (_, Known::Unknown) => return,
            _ => {
                self.sink.count_dropped(1);
                return;
            }
        };
        self.sink
            .push(&Payload::FollowsFrom { span, follows }, false);
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        if !self.interest.event {
            return;
        }
        let parent = ctx
            .event_span(event)
            .map_or(0, |span| self.nearest_announced(span.scope()));
        // A record logged through `log` shows its own target and location, and its message.
        let metadata = crate::log_bridge::normalized_metadata(event);
        let callsite = match metadata.static_metadata() {
            Some(metadata) => EventCallsite::Static(metadata),
            None => EventCallsite::Log(&metadata),
        };
        with_fields(
            |fields| crate::log_bridge::record_fields(event, fields),
            |fields| {
                self.sink.push(
                    &Payload::Event {
                        callsite,
                        parent,
                        timestamp: now_ms(),
                        fields,
                    },
                    false,
                )
            },
        );
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        if self.interest.enter {
            if let Some(span) = self.announced(id, &ctx, true, None) {
                self.sink.push(&Payload::Enter(span), false);
            }
        }
    }

    fn on_exit(&self, id: &Id, ctx: Context<'_, S>) {
        if self.interest.exit {
            if let Some(span) = self.announced(id, &ctx, true, None) {
                self.sink.push(&Payload::Exit(span), false);
            }
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        // Sent whenever JavaScript may hold state for the span, and never dropped.
        if self.interest.close || self.interest.new_span {
            let (span, thread) = match self.take_recent(&id) {
                Some(recent) => recent,
                None => {
                    let thread = sink::current_thread_id();
                    let closing = Some(thread);
                    match self.announced(&id, &ctx, self.interest.close, closing) {
                        Some(js_id) => (js_id, thread),
                        None => return,
                    }
                }
            };
            self.sink.push_as(thread, &Payload::Close(span), true);
        }
    }
}
