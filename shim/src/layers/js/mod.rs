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
        atomic::{fence, AtomicU32, AtomicU64, AtomicUsize, Ordering},
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

/// Builds a JS layer; `index` is its position in the config (one bit of a span's layers, see
/// [`SpanTable`]). `spans` is the table the config's JS layers share, made by the first.
pub(crate) fn build(
    config: &JsLayerConfig,
    field: &str,
    index: usize,
    spans: &mut Option<Arc<SpanTable>>,
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
    let spans = Arc::clone(spans.get_or_insert_with(|| Arc::new(SpanTable::new())));
    spans.layers.fetch_add(1, Ordering::Relaxed);
    let sink = Arc::new(JsSink::new(capacity as usize, index as u32));
    let enter_exit = interest.enter || interest.exit;
    let layer = JsLayer {
        sink: Arc::clone(&sink),
        interest,
        bit: 1u8 << (index % 8),
        spans,
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

/// What the JS layers of one configuration know of its open spans: each span's id as
/// JavaScript sees it, and which of the layers were told of its creation (`admitted`, one bit
/// per layer) or saw it (`seen`). A span JavaScript never heard of gets no further records, so
/// `onNewSpan` always comes first.
///
/// Kept in a table by the span's registry slot, claimed at the span's creation and let go at
/// its close by the last layer that saw it, so that neither needs the registry's extensions
/// (an allocation, a map insert and removal per span: an eighth of what a span cost a JS layer).
/// A span whose entry is taken by another open span has a [`JsSpan`] in its extensions instead.
pub(crate) struct SpanTable {
    entries: Box<[Entry]>,
    /// How many JS layers of the configuration share the table (counted while building).
    layers: AtomicUsize,
}

/// One span's entry in a [`SpanTable`]. Written only by the thread that creates the span,
/// before its id is handed out, and by the close (after which no one asks about it).
#[derive(Default)]
struct Entry {
    /// The registry id of the span it holds, or 0: free.
    span: AtomicU64,
    /// The span's JavaScript id.
    js_id: AtomicU64,
    /// `admitted | seen << 8`.
    layers: AtomicU32,
}

const TABLE_ENTRIES: usize = 1024;

impl SpanTable {
    fn new() -> Self {
        Self {
            entries: (0..TABLE_ENTRIES).map(|_| Entry::default()).collect(),
            layers: AtomicUsize::new(0),
        }
    }

    /// The entry for span `id`, whichever span holds it now.
    fn entry(&self, id: &Id) -> &Entry {
        // Spans that meet in an entry keep their ids in their extensions.
        &self.entries[crate::util::span_slot(id) % TABLE_ENTRIES]
    }

    /// The JavaScript id and layer bits of span `id` if its entry holds it. Also for an id the
    /// caller does not hold open (the `follows` of a link): if the span closes meanwhile and
    /// another span takes the entry, its fields are not taken for this one's (see
    /// [`SpanTable::claim`]).
    fn get(&self, id: &Id) -> Option<(u64, u32)> {
        let entry = self.entry(id);
        let raw = id.into_u64();
        if entry.span.load(Ordering::Acquire) != raw {
            return None;
        }
        let js_id = entry.js_id.load(Ordering::Relaxed);
        let layers = entry.layers.load(Ordering::Relaxed);
        // Fields stored by a later claim come with that claim's `span`.
        fence(Ordering::Acquire);
        (entry.span.load(Ordering::Relaxed) == raw).then_some((js_id, layers))
    }

    /// Takes `entry` for span `raw` with its JavaScript id and layer bits, if it is free.
    fn claim(entry: &Entry, raw: u64, js_id: u64, layers: u32) -> bool {
        if entry
            .span
            .compare_exchange(0, raw, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            return false;
        }
        // A reader of the fields stored below sees `span` changed ([`SpanTable::get`]).
        fence(Ordering::Release);
        entry.js_id.store(js_id, Ordering::Relaxed);
        entry.layers.store(layers, Ordering::Relaxed);
        true
    }
}

/// In a span's extensions, for a span whose [`SpanTable`] entry was taken: its JavaScript id
/// and the layers told of its creation. The registry drops it at the span's close.
#[derive(Debug)]
struct JsSpan {
    id: u64,
    admitted: u8,
}

/// The next JavaScript span id: small, never reused. Taken by threads in blocks, so that a span
/// costs no atomic operation.
static NEXT_SPAN_ID: AtomicU64 = AtomicU64::new(1);
const SPAN_ID_BLOCK: u64 = 256;

fn next_span_id() -> u64 {
    thread_local! {
        /// The ids this thread may hand out: `next..end`.
        static IDS: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
    }
    IDS.try_with(|ids| {
        let (next, end) = ids.get();
        if next < end {
            ids.set((next + 1, end));
            next
        } else {
            let start = NEXT_SPAN_ID.fetch_add(SPAN_ID_BLOCK, Ordering::Relaxed);
            ids.set((start + 1, start + SPAN_ID_BLOCK));
            start
        }
    })
    .unwrap_or_else(|_| NEXT_SPAN_ID.fetch_add(1, Ordering::Relaxed))
}

thread_local! {
    static SCRATCH: RefCell<CapturedFields> = RefCell::new(CapturedFields::default());
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
    spans: Arc<SpanTable>,
}

/// What a JS layer knows of a span.
enum Known {
    /// JavaScript was told of its creation (or does not listen for creations): its id.
    Announced(u64),
    /// Its creation was dropped (the queue was full): its later records are dropped too,
    /// and counted, so that JavaScript never hears of a span it was not told of.
    Dropped,
    /// Not a span of this layer.
    Unknown,
}

impl JsLayer {
    /// What this layer knows of a span from its table entry's `layers` bits.
    fn known_by_bits(&self, js_id: u64, layers: u32) -> Known {
        if (layers >> 8) as u8 & self.bit == 0 {
            Known::Unknown
        } else if layers as u8 & self.bit != 0 {
            Known::Announced(js_id)
        } else {
            Known::Dropped
        }
    }

    /// What this layer knows of a span from its extensions (a span the table does not hold).
    fn known_by_extension<'a, R>(&self, span: &SpanRef<'a, R>) -> Known
    where
        R: LookupSpan<'a>,
    {
        match span.extensions().get::<JsSpan>() {
            Some(js) if js.admitted & self.bit != 0 => Known::Announced(js.id),
            Some(_) => Known::Dropped,
            None => Known::Unknown,
        }
    }

    /// What this layer knows of `span`.
    fn known_span<'a, R>(&self, span: &SpanRef<'a, R>) -> Known
    where
        R: LookupSpan<'a>,
    {
        match self.spans.get(&span.id()) {
            Some((js_id, layers)) => self.known_by_bits(js_id, layers),
            None => self.known_by_extension(span),
        }
    }

    /// What this layer knows of span `id`.
    fn known<S>(&self, id: &Id, ctx: &Context<'_, S>) -> Known
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        match self.spans.get(id) {
            Some((js_id, layers)) => self.known_by_bits(js_id, layers),
            None => self.known_outside_table(id, ctx),
        }
    }

    /// What this layer knows of span `id`, which the table does not hold.
    fn known_outside_table<S>(&self, id: &Id, ctx: &Context<'_, S>) -> Known
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        ctx.span(id)
            .map_or(Known::Unknown, |span| self.known_by_extension(&span))
    }

    /// The span's JavaScript id if JavaScript was told of it; counts the record `wanted` as
    /// dropped when the span's creation was dropped.
    fn announced<S>(&self, id: &Id, ctx: &Context<'_, S>, wanted: bool) -> Option<u64>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        self.use_known(self.known(id, ctx), wanted)
    }

    /// The JavaScript id of an announced span; counts the record `wanted` as dropped for a
    /// span whose creation was dropped.
    fn use_known(&self, known: Known, wanted: bool) -> Option<u64> {
        match known {
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
            if let Known::Announced(js_id) = self.known_span(&span) {
                return js_id;
            }
        }
        0
    }

    /// Notes the new span `id` as seen and announced by this layer (undone by
    /// [`JsLayer::not_announced`] if its creation is dropped; nothing can ask about a span that
    /// is still being created). Returns its JavaScript id, the same for every JS layer of the
    /// configuration: the first to see the span takes it.
    fn note_new<'a, R>(&self, id: &Id, span: &SpanRef<'a, R>) -> u64
    where
        R: LookupSpan<'a>,
    {
        let bits = u32::from(self.bit) | u32::from(self.bit) << 8;
        let entry = self.spans.entry(id);
        let raw = id.into_u64();
        if entry.span.load(Ordering::Acquire) == raw {
            let layers = entry.layers.load(Ordering::Relaxed);
            // An earlier JS layer of the configuration took the entry, in this same dispatch:
            // layers see a span's creation in config order, so none at or after this one saw
            // it yet. (Otherwise the entry outlived its span, whose close some layer missed, a
            // panic in an earlier layer's; the registry reuses ids: claimed afresh below.)
            if (layers >> 8) as u8 & !(self.bit - 1) == 0 {
                entry.layers.store(layers | bits, Ordering::Relaxed);
                return entry.js_id.load(Ordering::Relaxed);
            }
            entry.span.store(0, Ordering::Release);
        }
        // An earlier layer may have found the entry taken and used the extensions, and the entry
        // been let go since.
        if self.spans.layers.load(Ordering::Relaxed) > 1 {
            if let Some(js) = span.extensions_mut().get_mut::<JsSpan>() {
                js.admitted |= self.bit;
                return js.id;
            }
        }
        let js_id = next_span_id();
        if !SpanTable::claim(entry, raw, js_id, bits) {
            span.extensions_mut().insert(JsSpan {
                id: js_id,
                admitted: self.bit,
            });
        }
        js_id
    }

    /// Marks span `id`, whose creation this layer dropped, as not announced.
    fn not_announced<'a, R>(&self, id: &Id, span: &SpanRef<'a, R>)
    where
        R: LookupSpan<'a>,
    {
        let entry = self.spans.entry(id);
        if entry.span.load(Ordering::Acquire) == id.into_u64() {
            let layers = entry.layers.load(Ordering::Relaxed);
            entry
                .layers
                .store(layers & !u32::from(self.bit), Ordering::Relaxed);
        } else if let Some(js) = span.extensions_mut().get_mut::<JsSpan>() {
            js.admitted &= !self.bit;
        }
    }

    /// What this layer knows of span `id`, which closes. The last layer that saw it lets its
    /// table entry go (the registry drops the extensions itself).
    fn closing<S>(&self, id: &Id, ctx: &Context<'_, S>) -> Known
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let entry = self.spans.entry(id);
        if entry.span.load(Ordering::Acquire) != id.into_u64() {
            return self.known_outside_table(id, ctx);
        }
        // The span's layers close it one after the other, on this thread.
        let layers = entry.layers.load(Ordering::Relaxed);
        let js_id = entry.js_id.load(Ordering::Relaxed);
        let known = self.known_by_bits(js_id, layers);
        if !matches!(known, Known::Unknown) {
            let seen_by = u32::from(self.bit) << 8;
            if layers >> 8 == seen_by >> 8 {
                entry.span.store(0, Ordering::Release);
            } else {
                entry.layers.store(layers & !seen_by, Ordering::Relaxed);
            }
        }
        known
    }
}

impl<S> Layer<S> for JsLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let js_id = self.note_new(id, &span);
        if !self.interest.new_span {
            return;
        }
        let parent = span
            .parent()
            .map_or(0, |parent| self.nearest_announced(parent.scope()));
        let admitted = with_fields(
            |fields| attrs.record(fields),
            |fields| {
                self.sink.push(
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
        if !admitted {
            self.not_announced(id, &span);
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if !self.interest.record {
            return;
        }
        let Some(js_id) = self.announced(id, &ctx, true) else {
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
        let (span, follows) = match (self.known(id, &ctx), self.known(follows, &ctx)) {
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
            if let Some(span) = self.announced(id, &ctx, true) {
                self.sink.push(&Payload::Enter(span), false);
            }
        }
    }

    fn on_exit(&self, id: &Id, ctx: Context<'_, S>) {
        if self.interest.exit {
            if let Some(span) = self.announced(id, &ctx, true) {
                self.sink.push(&Payload::Exit(span), false);
            }
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        // First, whatever the layer listens for: the table entry is let go.
        let known = self.closing(&id, &ctx);
        // Sent whenever JavaScript may hold state for the span, and never dropped.
        if self.interest.close || self.interest.new_span {
            if let Some(js_id) = self.use_known(known, self.interest.close) {
                self.sink.push(&Payload::Close(js_id), true);
            }
        }
    }
}
