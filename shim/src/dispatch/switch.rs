//! A subscriber whose layers can be replaced while it is installed.
//!
//! `tracing` lets a process set its global default dispatcher only once, yet a program must be
//! able to dispose one global configuration and start another. So the dispatcher installed is
//! built once around a fixed number of *slots*; each slot is a per-layer-filtered layer whose
//! inner layer and filter can be swapped. Starting a configuration fills the slots and bumps a
//! generation number; disposing it empties them. Spans remember the generation they were
//! created in, so a span that outlives its configuration never reaches the next one's layers.

use std::{
    any::TypeId,
    cell::RefCell,
    sync::{
        atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering},
        Arc, OnceLock,
    },
};

use arc_swap::ArcSwapOption;
use tracing::{
    dispatcher::WeakDispatch,
    span::{Attributes, Id, Record},
    subscriber::Interest,
    Dispatch, Event, Metadata,
};
use tracing_subscriber::{
    filter::{EnvFilter, Filtered, LevelFilter},
    layer::{Context, Filter, Layer, Layered, SubscriberExt},
    registry::{Extensions, Registry},
};

use super::{guarded_registry::GuardedRegistry, BoxedLayer};

/// The next [`Switch::epoch`].
static NEXT_EPOCH: AtomicU64 = AtomicU64::new(1);

/// How many layers one configuration may have.
pub const MAX_LAYERS: usize = 8;

/// One layer of a configuration, ready to go into a slot.
pub(crate) struct SlotLayerConfig {
    pub(crate) layer: BoxedLayer,
    /// Whether the layer does anything on enter and exit (`BuiltLayer::enter_exit`).
    pub(crate) enter_exit: bool,
    pub(crate) filter: Option<EnvFilter>,
    /// Set once the layer receives a span or event (for the diagnostics).
    pub(crate) received: Arc<AtomicBool>,
}

/// The swappable part of an installed dispatcher.
pub(crate) struct Switch {
    generation: AtomicU64,
    /// Changes whenever what the configuration decides for a callsite may change (a load, a
    /// clear, a filter replaced), to a value no switch had before ([`NEXT_EPOCH`]): what is
    /// worked out from it can be kept until it changes (`crate::js_spans::detached`).
    epoch: AtomicU64,
    global_filter: ArcSwapOption<EnvFilter>,
    /// Whether the global filter needs to see spans (see [`tracks_spans`]).
    global_tracks_spans: AtomicBool,
    slots: Vec<Arc<Slot>>,
    /// The spans of this dispatcher that are open, whatever configuration saw them created.
    open_spans: OpenSpans,
    /// Whether a span created under an earlier configuration may still be open. Only then
    /// does a slot look up each span's generation before handing the span to its layer.
    spans_predate_generation: AtomicBool,
    /// Whether new spans store their generation ([`SpanGeneration`]) in their extensions.
    /// They do not while the configuration loaded is the first one no open span predates:
    /// then a span without the extension belongs to `unmarked_generation`. This saves an
    /// allocation, a map insert and its clearing per span in the common case of one
    /// configuration at a time.
    mark_spans: AtomicBool,
    /// The generation of the spans that carry no [`SpanGeneration`].
    unmarked_generation: AtomicU64,
    /// How many slots any configuration has filled so far: the dispatcher visits only these.
    /// It never shrinks, so a slot emptied by a smaller configuration still finishes the
    /// per-layer filter pass it may have started.
    slots_used: AtomicUsize,
    /// The dispatcher built around this switch: each layer loaded gets it in
    /// `on_register_dispatch`, as a layer added to a subscriber does.
    dispatch: OnceLock<WeakDispatch>,
}

impl Switch {
    /// Builds an empty switch and the dispatcher that reads from it.
    pub(crate) fn new() -> (Arc<Switch>, Dispatch) {
        let switch = Arc::new(Switch {
            generation: AtomicU64::new(0),
            epoch: AtomicU64::new(NEXT_EPOCH.fetch_add(1, Ordering::Relaxed)),
            global_filter: ArcSwapOption::empty(),
            global_tracks_spans: AtomicBool::new(false),
            slots: (0..MAX_LAYERS).map(|_| Arc::new(Slot::default())).collect(),
            slots_used: AtomicUsize::new(0),
            open_spans: OpenSpans::default(),
            spans_predate_generation: AtomicBool::new(true),
            mark_spans: AtomicBool::new(true),
            unmarked_generation: AtomicU64::new(0),
            dispatch: OnceLock::new(),
        });
        let slot_layers: Vec<_> = switch
            .slots
            .iter()
            .enumerate()
            .map(|(index, slot)| {
                let filter = SlotFilter {
                    slot: Arc::clone(slot),
                    first: Arc::clone(&switch.slots[0]),
                    switch: Arc::clone(&switch),
                };
                OccupiedOnly {
                    slot: Arc::clone(slot),
                    switch: Arc::clone(&switch),
                    inner: Filtered::new(
                        SlotLayer {
                            slot: Arc::clone(slot),
                            switch: Arc::clone(&switch),
                            bit: slot_bit(index),
                        },
                        filter,
                    ),
                }
            })
            .collect();
        let subscriber = Registry::default()
            .with(BaseLayer(Arc::clone(&switch)))
            .with(Slots {
                slots: slot_layers,
                switch: Arc::clone(&switch),
            });
        let dispatch = Dispatch::new(GuardedRegistry(subscriber, Arc::clone(&switch)));
        let _ = switch.dispatch.set(dispatch.downgrade());
        (switch, dispatch)
    }

    /// Puts a configuration's layers into the slots under a new `generation`.
    pub(crate) fn load(
        &self,
        generation: u64,
        global_filter: Option<EnvFilter>,
        layers: Vec<SlotLayerConfig>,
    ) {
        assert!(
            layers.len() <= MAX_LAYERS,
            "checked when the config was built"
        );
        // Spans are checked against their generation, and new ones marked with it, until the
        // new layers are in place and no span of an earlier configuration is open.
        self.spans_predate_generation.store(true, Ordering::SeqCst);
        self.mark_spans.store(true, Ordering::SeqCst);
        self.generation.store(generation, Ordering::SeqCst);
        self.new_epoch();
        self.set_global(global_filter);
        self.slots_used.fetch_max(layers.len(), Ordering::AcqRel);
        // Until the slots are filled, the previous configuration's layers are in them: their
        // callsite interests ("always" for a layer without a filter) must not let records of
        // the new configuration skip `SlotFilter::enabled`, which refuses them for a slot not
        // yet filled. So callsites ask each time ("sometimes") while the slots are filled.
        crate::log_bridge::filters_changed();
        let mut layers = layers.into_iter();
        let dispatch = self.dispatch.get().and_then(WeakDispatch::upgrade);
        for slot in &self.slots {
            let content = layers.next().map(|config| {
                if let Some(dispatch) = &dispatch {
                    config.layer.on_register_dispatch(dispatch);
                }
                // Said before the slot is filled; an empty slot never reads it.
                let filter_tracks_spans = config.filter.as_ref().is_some_and(tracks_spans);
                slot.filter_tracks_spans
                    .store(filter_tracks_spans, Ordering::Release);
                slot.enter_exit
                    .store(config.enter_exit || filter_tracks_spans, Ordering::Release);
                let unfiltered = config.filter.is_none();
                slot.unfiltered.store(unfiltered, Ordering::Release);
                #[cfg(feature = "otlp")]
                let detach = Detach::of(&config.layer);
                Arc::new(SlotContent {
                    generation,
                    #[cfg(feature = "otlp")]
                    detach,
                    layer: config.layer,
                    unfiltered: AtomicBool::new(unfiltered),
                    filter: ArcSwapOption::new(config.filter.map(Arc::new)),
                    received: config.received,
                })
            });
            slot.set(content);
        }
        // A span counts itself open before it reads whether to mark itself and the generation
        // (`BaseLayer::on_new_span`), all sequentially consistent: a span the count misses
        // reads the stores above, so it is marked with the new generation or (once the stores
        // below are made) belongs to it unmarked. When no span is open, no unmarked span of an
        // earlier generation is either, so the unmarked generation can become this one.
        if self.open_spans.none_open() {
            self.unmarked_generation.store(generation, Ordering::SeqCst);
            self.mark_spans.store(false, Ordering::SeqCst);
            self.spans_predate_generation.store(false, Ordering::SeqCst);
        }
        // What was worked out while the slots were filled may not hold now that they are.
        self.new_epoch();
        // Callsites cache whether anyone is interested in them; the answer just changed (and
        // with it `log`'s max level).
        crate::log_bridge::filters_changed();
    }

    /// Moves to a new [`Switch::epoch`].
    fn new_epoch(&self) {
        self.epoch
            .store(NEXT_EPOCH.fetch_add(1, Ordering::Relaxed), Ordering::SeqCst);
    }

    /// Replaces the configuration's global filter, if `generation` is still the one loaded.
    /// Returns whether it was.
    pub(crate) fn set_global_filter(&self, generation: u64, filter: EnvFilter) -> bool {
        if self.generation.load(Ordering::Acquire) != generation {
            return false;
        }
        self.set_global(Some(filter));
        self.new_epoch();
        crate::log_bridge::filters_changed();
        true
    }

    fn set_global(&self, filter: Option<EnvFilter>) {
        store_filter(&self.global_filter, &self.global_tracks_spans, filter);
    }

    /// Replaces the filter of the layer in slot `index`, if that layer belongs to `generation`.
    /// Returns whether it did.
    pub(crate) fn set_layer_filter(
        &self,
        generation: u64,
        index: usize,
        filter: EnvFilter,
    ) -> bool {
        let Some(slot) = self.slots.get(index) else {
            return false;
        };
        let replaced = slot.with(false, |content| {
            if content.generation != generation {
                return false;
            }
            if tracks_spans(&filter) {
                // Before the filter is stored, as `store_filter` says its flag.
                slot.enter_exit.store(true, Ordering::Release);
            }
            // Before the filter is stored: a span the filter disables must not pass unchecked.
            content.unfiltered.store(false, Ordering::SeqCst);
            slot.unfiltered.store(false, Ordering::Release);
            store_filter(&content.filter, &slot.filter_tracks_spans, Some(filter));
            true
        });
        if replaced {
            self.new_epoch();
            crate::log_bridge::filters_changed();
        }
        replaced
    }

    /// Empties every slot: nothing reaches the old layers any more.
    pub(crate) fn clear(&self) {
        self.spans_predate_generation.store(true, Ordering::SeqCst);
        self.mark_spans.store(true, Ordering::SeqCst);
        self.generation.store(0, Ordering::SeqCst);
        self.new_epoch();
        self.set_global(None);
        for slot in &self.slots {
            slot.set(None);
        }
        crate::log_bridge::filters_changed();
    }
}

impl std::fmt::Debug for Switch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Switch")
            .field("generation", &self.generation)
            .finish_non_exhaustive()
    }
}

#[derive(Default)]
struct Slot {
    /// Checked before `content`: most slots are empty, and this is cheaper than a load.
    occupied: AtomicBool,
    /// Whether the slot's filter needs to see spans (see [`tracks_spans`]): checked before
    /// loading the filter for each span callback.
    filter_tracks_spans: AtomicBool,
    /// Whether the slot's layer or filter does anything on enter and exit: when neither does,
    /// those callbacks stop before the per-layer filter's span lookup. Once on for a
    /// configuration, it stays on until the next one is loaded.
    enter_exit: AtomicBool,
    /// Whether the slot's layer had no filter when loaded and got none since: a hint that
    /// spares filtered slots the attempt in [`OccupiedOnly::unfiltered`] (which asks the content).
    unfiltered: AtomicBool,
    content: ArcSwapOption<SlotContent>,
}

impl Slot {
    fn set(&self, content: Option<Arc<SlotContent>>) {
        self.occupied.store(content.is_some(), Ordering::Release);
        self.content.store(content);
    }

    /// Runs `f` with the slot's content, or returns `empty` when the slot is empty.
    fn with<R>(&self, empty: R, f: impl FnOnce(&SlotContent) -> R) -> R {
        if !self.occupied.load(Ordering::Acquire) {
            return empty;
        }
        match &*self.content.load() {
            Some(content) => f(content),
            None => empty,
        }
    }
}

struct SlotContent {
    generation: u64,
    /// Where the layer keeps what a JavaScript span made without the registry needs, if it
    /// can take such spans.
    #[cfg(feature = "otlp")]
    detach: Option<Detach>,
    layer: BoxedLayer,
    /// Swappable on its own, so that a filter change keeps the layer (and its open file).
    filter: ArcSwapOption<EnvFilter>,
    /// Whether `filter` is and always was `None` (a filter can be set later, never removed):
    /// then every span made under this content is enabled for the layer.
    unfiltered: AtomicBool,
    received: Arc<AtomicBool>,
}

impl SlotContent {
    /// Notes that the layer received a span or event: one load per record once set.
    fn note_received(&self) {
        if !self.received.load(Ordering::Relaxed) {
            self.received.store(true, Ordering::Relaxed);
        }
    }

    /// Whether the layer's filter, if it has one, lets `metadata` through.
    fn admits(&self, metadata: &Metadata<'_>, ctx: &Context<'_, BaseSubscriber>) -> bool {
        self.filter
            .load()
            .as_deref()
            .is_none_or(|filter| Filter::enabled(filter, metadata, ctx))
    }

    /// Whether this content belongs to the configuration loaded last (`generation`: the
    /// switch's); while the next one is loaded, a slot not yet filled holds an older one.
    fn is_current(&self, generation: &AtomicU64) -> bool {
        self.generation == generation.load(Ordering::SeqCst)
    }
}

/// The bit of slot `index` in [`SpanGeneration::refused`].
fn slot_bit(index: usize) -> u64 {
    1 << index
}

/// Stored in a span's extensions while [`Switch::mark_spans`] is on: the generation of the
/// configuration that saw it created, and the slots whose layer refused it
/// ([`SlotLayer::admits`]).
struct SpanGeneration {
    generation: u64,
    /// One bit per slot ([`slot_bit`]).
    refused: AtomicU64,
}

impl Switch {
    /// The generation of the configuration that saw the span of `extensions` created, and the
    /// slots that refused it.
    fn generation_of(&self, extensions: Extensions<'_>) -> (u64, u64) {
        match extensions.get::<SpanGeneration>() {
            Some(marked) => (marked.generation, marked.refused.load(Ordering::SeqCst)),
            None => (self.unmarked_generation.load(Ordering::SeqCst), 0),
        }
    }
}

/// Whether `filter` needs to see spans created, recorded, entered, exited and closed. Only
/// directives naming a span or fields (`target[span{field=value}]=level`) look at spans; an
/// `EnvFilter` without them keeps no span state, and each of those callbacks would cost it a
/// lock and a map lookup for nothing. Such directives are the ones written with brackets.
fn tracks_spans(filter: &EnvFilter) -> bool {
    filter.to_string().contains('[')
}

/// Stores `filter` in `target` and whether it needs to see spans in `tracks`, the flag said
/// first when it turns on and last when it turns off: a span created meanwhile may reach the
/// old filter's bookkeeping, which is harmless; the other order could keep a span from the new
/// one's.
fn store_filter(target: &ArcSwapOption<EnvFilter>, tracks: &AtomicBool, filter: Option<EnvFilter>) {
    let tracks_spans = filter.as_ref().is_some_and(tracks_spans);
    if tracks_spans {
        tracks.store(true, Ordering::Release);
    }
    target.store(filter.map(Arc::new));
    if !tracks_spans {
        tracks.store(false, Ordering::Release);
    }
}

/// A count of open spans in shards, so that threads creating and closing spans do not
/// contend for one counter: a span counts one created in the shard of the thread that creates
/// it and one closed in the shard of the thread that closes it, so only the totals mean
/// something.
struct OpenSpans {
    shards: [PaddedCounts; OPEN_SPAN_SHARDS],
}

const OPEN_SPAN_SHARDS: usize = 16;

/// A shard's counters, on a cache line of their own. Both only grow.
#[derive(Default)]
#[repr(align(64))]
struct PaddedCounts {
    created: AtomicUsize,
    closed: AtomicUsize,
}

impl Default for OpenSpans {
    fn default() -> Self {
        OpenSpans {
            shards: std::array::from_fn(|_| PaddedCounts::default()),
        }
    }
}

impl OpenSpans {
    fn shard(&self) -> &PaddedCounts {
        static NEXT_SHARD: AtomicUsize = AtomicUsize::new(0);
        thread_local! {
            static SHARD: usize = NEXT_SHARD.fetch_add(1, Ordering::Relaxed) % OPEN_SPAN_SHARDS;
        }
        &self.shards[SHARD.try_with(|shard| *shard).unwrap_or(0)]
    }

    fn created(&self) {
        self.shard().created.fetch_add(1, Ordering::SeqCst);
    }

    fn closed(&self) {
        self.shard().closed.fetch_add(1, Ordering::SeqCst);
    }

    /// Whether no span that was open before this call started is still open. Every closed
    /// count is read before any created count: a close seen here follows its span's creation,
    /// so that creation is seen too, and a span still open whose creation is missed was
    /// created after this call started. (Reading one signed count per shard instead could miss
    /// a span created and closed meanwhile on two threads and take its close for an old
    /// span's.)
    fn none_open(&self) -> bool {
        let closed: usize = self
            .shards
            .iter()
            .map(|shard| shard.closed.load(Ordering::SeqCst))
            .sum();
        let created: usize = self
            .shards
            .iter()
            .map(|shard| shard.created.load(Ordering::SeqCst))
            .sum();
        created == closed
    }
}

/// The innermost layer: applies the configuration's global filter before every slot's own
/// filter, and stamps each new span with the current generation before any slot sees it.
#[derive(Debug)]
pub struct BaseLayer(Arc<Switch>);

/// The subscriber that slot layers are layered on.
pub type BaseSubscriber = Layered<BaseLayer, Registry>;

impl BaseLayer {
    /// The global filter, when it needs to see spans.
    fn span_tracking_filter(&self) -> Option<Arc<EnvFilter>> {
        if !self.0.global_tracks_spans.load(Ordering::Acquire) {
            return None;
        }
        self.0.global_filter.load_full()
    }

    /// What the occupied slots' own filters say of a callsite, combined: `never` when no slot
    /// is occupied or none wants it.
    fn slots_interest(&self, metadata: &'static Metadata<'static>) -> Interest {
        let mut combined: Option<Interest> = None;
        for slot in &self.0.slots {
            slot.with((), |content| {
                let interest = callsite_interest(content, &self.0.generation, metadata);
                combined = Some(match combined.take() {
                    None => interest,
                    Some(so_far) if so_far.is_always() && interest.is_always() => so_far,
                    Some(so_far) if so_far.is_never() && interest.is_never() => so_far,
                    Some(_) => Interest::sometimes(),
                });
            });
        }
        combined.unwrap_or_else(Interest::never)
    }

    /// The most verbose level an occupied slot's own filter lets through.
    fn slots_level_hint(&self) -> LevelFilter {
        self.0
            .slots
            .iter()
            .map(|slot| {
                slot.with(LevelFilter::OFF, |content| {
                    own_level_hint(content).unwrap_or(LevelFilter::TRACE)
                })
            })
            .max()
            .unwrap_or(LevelFilter::OFF)
    }
}

// The base layer speaks for the slots when it registers callsites and hints the level. As a
// layer without a filter of its own it would otherwise want every callsite, and a span that
// every slot's filter rejects would still be created in the registry and only skipped by each
// slot (tracing-subscriber's registry asks per-layer filters per span only when some layer is
// unsure). With this, a callsite no slot wants is `never`, and `LevelFilter::current()` is the
// most verbose level any slot records, so the `tracing` macros skip the rest for nothing.
impl Layer<Registry> for BaseLayer {
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        crate::diagnostics::note_callsite(metadata);
        let global = match &*self.0.global_filter.load() {
            Some(filter) => Layer::<Registry>::register_callsite(&**filter, metadata),
            None => Interest::always(),
        };
        if global.is_never() {
            return global;
        }
        let slots = self.slots_interest(metadata);
        if slots.is_never() || (global.is_always() && slots.is_always()) {
            slots
        } else {
            Interest::sometimes()
        }
    }

    fn enabled(&self, metadata: &Metadata<'_>, ctx: Context<'_, Registry>) -> bool {
        // The global filter let a detached span through when it started.
        #[cfg(feature = "otlp")]
        if handing_over_to().is_some() {
            return true;
        }
        match &*self.0.global_filter.load() {
            Some(filter) => Layer::<Registry>::enabled(&**filter, metadata, ctx),
            None => true,
        }
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        let slots = self.slots_level_hint();
        match &*self.0.global_filter.load() {
            Some(filter) => Some(
                Layer::<Registry>::max_level_hint(&**filter)
                    .map_or(slots, |global| global.min(slots)),
            ),
            None => Some(slots),
        }
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, Registry>) {
        self.0.open_spans.created();
        if self.0.mark_spans.load(Ordering::SeqCst) {
            if let Some(span) = ctx.span(id) {
                #[cfg(feature = "otlp")]
                let generation = handing_over_to().map_or_else(
                    || self.0.generation.load(Ordering::SeqCst),
                    |(generation, _)| generation,
                );
                #[cfg(not(feature = "otlp"))]
                let generation = self.0.generation.load(Ordering::SeqCst);
                span.extensions_mut().insert(SpanGeneration {
                    generation,
                    refused: AtomicU64::new(0),
                });
            }
        }
        if let Some(filter) = self.span_tracking_filter() {
            Layer::<Registry>::on_new_span(&*filter, attrs, id, ctx);
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, Registry>) {
        if let Some(filter) = self.span_tracking_filter() {
            Layer::<Registry>::on_record(&*filter, id, values, ctx);
        }
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, Registry>) {
        if let Some(filter) = self.span_tracking_filter() {
            Layer::<Registry>::on_enter(&*filter, id, ctx);
        }
    }

    fn on_exit(&self, id: &Id, ctx: Context<'_, Registry>) {
        if let Some(filter) = self.span_tracking_filter() {
            Layer::<Registry>::on_exit(&*filter, id, ctx);
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, Registry>) {
        // Counted closed once the slots saw the close (`Slots::on_close`).
        if let Some(filter) = self.span_tracking_filter() {
            Layer::<Registry>::on_close(&*filter, id, ctx);
        }
    }
}

/// What a slot's layer keeps for JavaScript spans made without the registry
/// (`crate::js_spans::detached`): its light span settings and its span counts. Pointers into
/// the layer, which its slot content owns: read only through [`Switch::with_detach`], while
/// the content is held.
#[cfg(feature = "otlp")]
pub(crate) struct Detach {
    settings: std::ptr::NonNull<crate::layers::otel::light::LightSettings>,
    counts: std::ptr::NonNull<crate::layers::otel::open_spans::SpanCounts>,
}

// SAFETY: both point to `Send + Sync` values that live as long as the layer holding them.
#[cfg(feature = "otlp")]
unsafe impl Send for Detach {}
#[cfg(feature = "otlp")]
unsafe impl Sync for Detach {}

#[cfg(feature = "otlp")]
impl Detach {
    /// What `layer` keeps for detached spans, if it can take them: an OpenTelemetry layer
    /// with light spans (no busy/idle times).
    fn of(layer: &BoxedLayer) -> Option<Self> {
        use crate::layers::otel::{light::LightSettings, open_spans::SpanCounts};
        // SAFETY: a layer answers a downcast to a type with a pointer to a value of that type
        // (the OpenTelemetry layer's settings and counts are behind `Arc`s it holds).
        let settings = unsafe { layer.downcast_raw(TypeId::of::<LightSettings>()) }?;
        let counts = unsafe { layer.downcast_raw(TypeId::of::<SpanCounts>()) }?;
        let detach = Self {
            settings: std::ptr::NonNull::new(settings as *mut LightSettings)?,
            counts: std::ptr::NonNull::new(counts as *mut SpanCounts)?,
        };
        DETACHABLE.fetch_add(1, Ordering::SeqCst);
        Some(detach)
    }

    /// Whether some configuration has a layer that can take detached spans: while none has,
    /// a JavaScript span need not look.
    pub(crate) fn anywhere() -> bool {
        DETACHABLE.load(Ordering::Relaxed) != 0
    }

    pub(crate) fn settings(&self) -> &crate::layers::otel::light::LightSettings {
        // SAFETY: see the type's docs; `self` is borrowed from the content that owns the layer.
        unsafe { self.settings.as_ref() }
    }

    pub(crate) fn counts(&self) -> &crate::layers::otel::open_spans::SpanCounts {
        // SAFETY: as for `settings`.
        unsafe { self.counts.as_ref() }
    }
}

/// Slot contents that have a [`Detach`], in every switch.
#[cfg(feature = "otlp")]
static DETACHABLE: AtomicUsize = AtomicUsize::new(0);

#[cfg(feature = "otlp")]
impl Drop for Detach {
    fn drop(&mut self) {
        DETACHABLE.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Detached spans being handed to the registry now, in every thread ([`Switch::hand_over`]).
#[cfg(feature = "otlp")]
static HANDING_OVER: AtomicUsize = AtomicUsize::new(0);

#[cfg(feature = "otlp")]
thread_local! {
    /// The generation and slot of the detached span this thread hands to the registry now
    /// (generation 0: none).
    static HANDING_OVER_TO: std::cell::Cell<(u64, usize)> = const { std::cell::Cell::new((0, 0)) };
}

/// The generation and slot of the span made now on this thread, if it is a detached span
/// handed to the registry ([`Switch::hand_over`]): the span belongs to that generation (not
/// necessarily the one loaded now), and only that slot sees it, as when it started.
#[cfg(feature = "otlp")]
#[inline]
fn handing_over_to() -> Option<(u64, usize)> {
    if HANDING_OVER.load(Ordering::SeqCst) == 0 {
        return None;
    }
    let target = HANDING_OVER_TO
        .try_with(std::cell::Cell::get)
        .unwrap_or((0, 0));
    (target.0 != 0).then_some(target)
}

/// What a slot says of the span made now if it is a detached span handed to the registry
/// ([`handing_over_to`]): only the slot that took it at its start, under its generation, sees
/// it, whatever the filters say now (a span's filter state is decided when it is made, and a
/// detached span was made at its start).
#[cfg(feature = "otlp")]
#[inline]
fn handed_over_to_slot(switch: &Switch, slot: &Arc<Slot>, content: &SlotContent) -> Option<bool> {
    let (generation, index) = handing_over_to()?;
    Some(
        content.generation == generation
            && switch
                .slots
                .get(index)
                .is_some_and(|target| Arc::ptr_eq(target, slot)),
    )
}

/// Counts a span open in the switch until dropped ([`Switch::hand_over`]).
#[cfg(feature = "otlp")]
pub(crate) struct OpenSpanHold<'a>(&'a OpenSpans);

#[cfg(feature = "otlp")]
impl Drop for OpenSpanHold<'_> {
    fn drop(&mut self) {
        self.0.closed();
    }
}

/// JavaScript spans made without the registry (`crate::js_spans::detached`).
#[cfg(feature = "otlp")]
impl Switch {
    /// See [`Switch::epoch`].
    pub(crate) fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::SeqCst)
    }

    /// The slot, and its generation, whose layer takes detached spans under the configuration
    /// loaded now: the only one that can ([`Detach`]), in a configuration whose slots are all
    /// filled and whose filters (the global one and that slot's) keep no span state. `None`
    /// when there is none.
    pub(crate) fn detach_slot(&self) -> Option<(usize, u64)> {
        if self.global_tracks_spans.load(Ordering::Acquire) {
            return None;
        }
        let mut found = None;
        for (index, slot) in self.slots.iter().enumerate() {
            let Some(content) = slot.content.load_full() else {
                continue;
            };
            if !content.is_current(&self.generation) {
                return None;
            }
            if content.detach.is_some() {
                if found.is_some() || slot.filter_tracks_spans.load(Ordering::Acquire) {
                    return None;
                }
                found = Some((index, content.generation));
            }
        }
        found
    }

    /// Whether a JavaScript span of `metadata` may be made without the registry into slot
    /// `index` ([`Switch::detach_slot`]): it may be light, and the global filter and that
    /// slot's filter and layer always want it, while every other slot's filter never does. Then
    /// that layer is the only one that would see the span, whatever its values and context.
    pub(crate) fn detach_decision(
        &self,
        index: usize,
        metadata: &'static Metadata<'static>,
    ) -> bool {
        if !crate::layers::otel::light::may_be_light(metadata) {
            return false;
        }
        if let Some(filter) = &*self.global_filter.load() {
            if self.global_tracks_spans.load(Ordering::Acquire)
                || !Layer::<Registry>::register_callsite(&**filter, metadata).is_always()
            {
                return false;
            }
        }
        for (slot_index, slot) in self.slots.iter().enumerate() {
            let Some(content) = slot.content.load_full() else {
                continue;
            };
            let interest = callsite_interest(&content, &self.generation, metadata);
            let tracks_spans = slot.filter_tracks_spans.load(Ordering::Acquire);
            let wanted = if slot_index == index {
                interest.is_always()
                    && !tracks_spans
                    && content.layer.register_callsite(metadata).is_always()
            } else {
                interest.is_never() && !tracks_spans
            };
            if !wanted {
                return false;
            }
        }
        true
    }

    /// Runs `f` with what slot `index`'s layer keeps for detached spans, while the slot holds
    /// the content of `generation` (and, with `current`, that is the configuration loaded now;
    /// the layer is then noted as having received a span). `None` otherwise: that
    /// configuration stopped (or is being replaced).
    pub(crate) fn with_detach<R>(
        &self,
        index: usize,
        generation: u64,
        current: bool,
        f: impl FnOnce(&Detach) -> R,
    ) -> Option<R> {
        let slot = self.slots.get(index)?;
        let content = slot.content.load();
        let content = content.as_ref()?;
        if content.generation != generation || (current && !content.is_current(&self.generation)) {
            return None;
        }
        let detach = content.detach.as_ref()?;
        if current {
            content.note_received();
        }
        Some(f(detach))
    }

    /// Runs `f`, which hands a detached span of `generation` in `slot` to the registry (makes
    /// its span), so that the span belongs to `generation` even if another configuration is
    /// loaded meanwhile, and only that slot sees it even if a filter changed since it started:
    /// the span counts open in this switch from before `f` reads its slot (a load then keeps
    /// marking spans with their generation), is marked with `generation`, and the global
    /// filter and the slots' filters answer for it as when it started ([`handing_over_to`]).
    pub(crate) fn hand_over<R>(&self, generation: u64, slot: usize, f: impl FnOnce() -> R) -> R {
        self.open_spans.created();
        let _open = OpenSpanHold(&self.open_spans);
        HANDING_OVER.fetch_add(1, Ordering::SeqCst);
        let before = HANDING_OVER_TO
            .try_with(|cell| cell.replace((generation, slot)))
            .unwrap_or((0, 0));
        struct Done((u64, usize));
        impl Drop for Done {
            fn drop(&mut self) {
                let _ = HANDING_OVER_TO.try_with(|cell| cell.set(self.0));
                HANDING_OVER.fetch_sub(1, Ordering::SeqCst);
            }
        }
        let _done = Done(before);
        f()
    }
}

thread_local! {
    /// Slot contents kept alive by [`with_span_layers_reachable`] on this thread.
    static PINNED: RefCell<Vec<(*const Slot, Arc<SlotContent>)>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` while the layers that recorded `span` answer `Dispatch::downcast_ref` (which
/// `tracing-opentelemetry`'s span extension methods use to find their layer). Slots do not
/// forward downcasts otherwise: a pointer into a slot's layer would dangle once the slot is
/// swapped. Here each layer is pinned (an `Arc` held) until `f` returns, and only layers of
/// the span's own generation are reachable.
#[cfg_attr(not(feature = "otlp"), allow(dead_code))] // for tracing-opentelemetry
pub(crate) fn with_span_layers_reachable<R>(span: &tracing::Span, f: impl FnOnce() -> R) -> R {
    let pinned = span
        .with_subscriber(|(id, dispatch)| layers_of_span(id, dispatch))
        .unwrap_or_default();
    with_pinned(pinned, f)
}

/// Like [`with_span_layers_reachable`], for the span `id` of `dispatch` (the dispatch that is
/// dispatching now, inside a layer's callback).
#[cfg_attr(not(feature = "otlp"), allow(dead_code))]
pub(crate) fn with_layers_of_span_reachable<R>(
    id: &Id,
    dispatch: &Dispatch,
    f: impl FnOnce() -> R,
) -> R {
    with_pinned(layers_of_span(id, dispatch), f)
}

/// The slot contents of the generation that recorded span `id` of `dispatch`.
fn layers_of_span(id: &Id, dispatch: &Dispatch) -> Vec<(*const Slot, Arc<SlotContent>)> {
    let (Some(switch), Some(subscriber)) = (
        dispatch.downcast_ref::<Switch>(),
        dispatch.downcast_ref::<BaseSubscriber>(),
    ) else {
        return Vec::new();
    };
    let Some((generation, refused)) =
        tracing_subscriber::registry::LookupSpan::span(subscriber, id)
            .map(|data| switch.generation_of(data.extensions()))
    else {
        return Vec::new();
    };
    switch
        .slots
        .iter()
        .enumerate()
        .filter_map(|(index, slot)| {
            let content = slot.content.load_full()?;
            (content.generation == generation && refused & slot_bit(index) == 0)
                .then_some((Arc::as_ptr(slot), content))
        })
        .collect()
}

/// Runs `f` with `pinned` reachable by downcasts on this thread.
fn with_pinned<R>(pinned: Vec<(*const Slot, Arc<SlotContent>)>, f: impl FnOnce() -> R) -> R {
    let count = pinned.len();
    PINNED.with(|list| list.borrow_mut().extend(pinned));
    struct Unpin(usize);
    impl Drop for Unpin {
        fn drop(&mut self) {
            PINNED.with(|list| {
                let mut list = list.borrow_mut();
                let keep = list.len().saturating_sub(self.0);
                list.truncate(keep);
            });
        }
    }
    let _unpin = Unpin(count);
    f()
}

/// Whether `span` was recorded by the configuration loaded into `switch` under `generation`
/// (made by that dispatcher while that configuration was loaded).
pub(crate) fn span_recorded_by(
    span: &tracing::Span,
    switch: &Arc<Switch>,
    generation: u64,
) -> bool {
    span.with_subscriber(|(id, dispatch)| {
        let (Some(found), Some(subscriber)) = (
            dispatch.downcast_ref::<Switch>(),
            dispatch.downcast_ref::<BaseSubscriber>(),
        ) else {
            return false;
        };
        std::ptr::eq(found, Arc::as_ptr(switch))
            && tracing_subscriber::registry::LookupSpan::span(subscriber, id)
                .map(|data| switch.generation_of(data.extensions()).0)
                == Some(generation)
    })
    .unwrap_or(false)
}

/// The slots as the dispatcher sees them, in order. Like tracing-subscriber's layer for a
/// `Vec` of layers, but it visits only the slots some configuration has used
/// (`Switch::slots_used`): a per-layer-filtered layer costs its filter pass on every new span
/// and event even when its slot is empty, and most configurations fill one or two of the
/// eight. A slot never visited never starts a filter pass, so skipping it leaves no state
/// behind.
struct Slots {
    slots: Vec<OccupiedOnly>,
    switch: Arc<Switch>,
}

impl Slots {
    fn used(&self) -> &[OccupiedOnly] {
        let used = self.switch.slots_used.load(Ordering::Acquire);
        &self.slots[..used.min(self.slots.len())]
    }
}

impl Layer<BaseSubscriber> for Slots {
    fn on_register_dispatch(&self, subscriber: &Dispatch) {
        for slot in &self.slots {
            slot.on_register_dispatch(subscriber);
        }
    }

    fn on_layer(&mut self, subscriber: &mut BaseSubscriber) {
        for slot in &mut self.slots {
            slot.on_layer(subscriber);
        }
    }

    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        // The most interested slot's interest, as for a `Vec` of layers.
        let mut interest = Interest::never();
        for slot in self.used() {
            let new_interest = slot.register_callsite(metadata);
            if (interest.is_sometimes() && new_interest.is_always())
                || (interest.is_never() && !new_interest.is_never())
            {
                interest = new_interest;
            }
        }
        interest
    }

    fn enabled(&self, metadata: &Metadata<'_>, ctx: Context<'_, BaseSubscriber>) -> bool {
        self.used()
            .iter()
            .all(|slot| slot.enabled(metadata, ctx.clone()))
    }

    fn event_enabled(&self, event: &Event<'_>, ctx: Context<'_, BaseSubscriber>) -> bool {
        self.used()
            .iter()
            .all(|slot| slot.event_enabled(event, ctx.clone()))
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        // An unused slot would say `OFF`, which never raises the maximum.
        let mut max_level = LevelFilter::OFF;
        for slot in self.used() {
            max_level = max_level.max(slot.max_level_hint()?);
        }
        Some(max_level)
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, BaseSubscriber>) {
        for slot in self.used() {
            slot.on_new_span(attrs, id, ctx.clone());
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, BaseSubscriber>) {
        for slot in self.used() {
            slot.on_record(id, values, ctx.clone());
        }
    }

    fn on_follows_from(&self, id: &Id, follows: &Id, ctx: Context<'_, BaseSubscriber>) {
        for slot in self.used() {
            slot.on_follows_from(id, follows, ctx.clone());
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, BaseSubscriber>) {
        for slot in self.used() {
            slot.on_event(event, ctx.clone());
        }
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, BaseSubscriber>) {
        for slot in self.used() {
            slot.on_enter(id, ctx.clone());
        }
    }

    fn on_exit(&self, id: &Id, ctx: Context<'_, BaseSubscriber>) {
        for slot in self.used() {
            slot.on_exit(id, ctx.clone());
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, BaseSubscriber>) {
        // The span counts as open until every slot saw it close (even if one panics): a
        // configuration loaded meanwhile keeps checking generations, so the close of a span it
        // predates never reaches its layers.
        struct CountClosed<'a>(&'a Switch);
        impl Drop for CountClosed<'_> {
            fn drop(&mut self) {
                self.0.open_spans.closed();
            }
        }
        let _closed = CountClosed(&self.switch);
        for slot in self.used() {
            slot.on_close(id.clone(), ctx.clone());
        }
    }

    fn on_id_change(&self, old: &Id, new: &Id, ctx: Context<'_, BaseSubscriber>) {
        for slot in self.used() {
            slot.on_id_change(old, new, ctx.clone());
        }
    }

    unsafe fn downcast_raw(&self, id: TypeId) -> Option<*const ()> {
        if id == TypeId::of::<Self>() {
            return Some(self as *const Self as *const ());
        }
        // As a `Vec` of layers: every slot is per-layer filtered, so the marker
        // tracing-subscriber looks for is found in the first; other types in the first slot
        // that has them.
        // SAFETY: forwarded to the slots, which answer for themselves.
        self.slots
            .iter()
            .find_map(|slot| unsafe { slot.downcast_raw(id) })
    }
}

/// A slot as the dispatcher sees it: the per-layer-filtered slot layer, with the span
/// callbacks of an empty slot cut short. `Filtered` looks the span up in the registry for each
/// of them before its layer can see that the slot is empty; with one layer configured, that was
/// seven lookups per close, enter and exit for nothing. Enter and exit are also cut short for a
/// layer that does nothing on them, unless its filter keeps span state ([`Slot::enter_exit`]).
/// What is cut never touches the per-layer filter state (only `enabled`, `on_new_span` and
/// `on_event` do, and those always pass).
struct OccupiedOnly {
    slot: Arc<Slot>,
    /// For the global filter, which caps the slot's level hint.
    switch: Arc<Switch>,
    inner: Filtered<SlotLayer, SlotFilter, BaseSubscriber>,
}

impl OccupiedOnly {
    fn occupied(&self) -> bool {
        self.slot.occupied.load(Ordering::Acquire)
    }

    /// Whether the slot is occupied by a layer or filter that acts on enter and exit.
    fn enters(&self) -> bool {
        self.occupied() && self.slot.enter_exit.load(Ordering::Acquire)
    }

    /// Hands a span callback straight to the slot's layer, without `Filtered`'s registry
    /// lookup of the span's per-layer filter state, when that state can only say "enabled":
    /// the layer has no filter, and every open span was made under its configuration (none
    /// predates it), so each was enabled for it. Returns whether it did; if not, the callback
    /// goes through `Filtered`.
    ///
    /// The layer gets the context without this filter's id: with every span enabled for the
    /// filter, the context's lookups answer the same.
    fn unfiltered(
        &self,
        ctx: &Context<'_, BaseSubscriber>,
        f: impl FnOnce(&BoxedLayer, Context<'_, BaseSubscriber>),
    ) -> bool {
        if !self.slot.unfiltered.load(Ordering::Acquire) {
            return false;
        }
        self.slot.with(false, |content| {
            // Read after the content: a configuration loaded since the flag was last cleared
            // sets it before it fills the slots, so the content read belongs to the flag read,
            // and the flag stays set while a span it predates (the one at hand) is open.
            if !content.unfiltered.load(Ordering::SeqCst)
                || self.switch.spans_predate_generation.load(Ordering::SeqCst)
            {
                return false;
            }
            f(&content.layer, ctx.clone());
            true
        })
    }
}

impl Layer<BaseSubscriber> for OccupiedOnly {
    fn on_register_dispatch(&self, subscriber: &Dispatch) {
        self.inner.on_register_dispatch(subscriber);
    }

    fn on_layer(&mut self, subscriber: &mut BaseSubscriber) {
        self.inner.on_layer(subscriber);
    }

    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        self.inner.register_callsite(metadata)
    }

    fn enabled(&self, metadata: &Metadata<'_>, ctx: Context<'_, BaseSubscriber>) -> bool {
        self.inner.enabled(metadata, ctx)
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        // Capped by the global filter, which applies before every slot: `tracing-subscriber`
        // takes the most verbose of the slots' hints and the base layer's, so an uncapped slot
        // without a filter of its own would make `LevelFilter::current()` (and `log`'s max
        // level, `crate::log_bridge`) `TRACE` whatever the global filter says.
        let own = self.inner.max_level_hint()?;
        Some(match &*self.switch.global_filter.load() {
            Some(filter) => {
                Layer::<Registry>::max_level_hint(&**filter).map_or(own, |global| global.min(own))
            }
            None => own,
        })
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, BaseSubscriber>) {
        self.inner.on_new_span(attrs, id, ctx);
    }

    fn event_enabled(&self, event: &Event<'_>, ctx: Context<'_, BaseSubscriber>) -> bool {
        self.inner.event_enabled(event, ctx)
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, BaseSubscriber>) {
        self.inner.on_event(event, ctx);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, BaseSubscriber>) {
        if self.occupied() {
            self.inner.on_record(id, values, ctx);
        }
    }

    fn on_follows_from(&self, id: &Id, follows: &Id, ctx: Context<'_, BaseSubscriber>) {
        if self.occupied() {
            self.inner.on_follows_from(id, follows, ctx);
        }
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, BaseSubscriber>) {
        if self.enters() && !self.unfiltered(&ctx, |layer, ctx| layer.on_enter(id, ctx)) {
            self.inner.on_enter(id, ctx);
        }
    }

    fn on_exit(&self, id: &Id, ctx: Context<'_, BaseSubscriber>) {
        if self.enters() && !self.unfiltered(&ctx, |layer, ctx| layer.on_exit(id, ctx)) {
            self.inner.on_exit(id, ctx);
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, BaseSubscriber>) {
        if self.occupied() && !self.unfiltered(&ctx, |layer, ctx| layer.on_close(id.clone(), ctx)) {
            self.inner.on_close(id, ctx);
        }
    }

    fn on_id_change(&self, old: &Id, new: &Id, ctx: Context<'_, BaseSubscriber>) {
        if self.occupied() {
            self.inner.on_id_change(old, new, ctx);
        }
    }

    unsafe fn downcast_raw(&self, id: TypeId) -> Option<*const ()> {
        if id == TypeId::of::<Self>() {
            return Some(self as *const Self as *const ());
        }
        // SAFETY: forwarded; `Layered` finds per-layer filters through these downcasts.
        unsafe { self.inner.downcast_raw(id) }
    }
}

/// The layer half of a slot: forwards to the slot's current layer.
struct SlotLayer {
    slot: Arc<Slot>,
    /// For whether spans must be checked against their generation.
    switch: Arc<Switch>,
    /// The slot's bit in [`SpanGeneration::refused`] ([`slot_bit`]).
    bit: u64,
}

impl SlotLayer {
    /// Whether span `id` was created under the generation of `content`: always, unless a span
    /// of an earlier configuration may still be open (then its generation is looked up).
    fn same_generation(
        &self,
        id: &Id,
        ctx: &Context<'_, BaseSubscriber>,
        content: &SlotContent,
    ) -> bool {
        if !self.switch.spans_predate_generation.load(Ordering::Acquire) {
            return true;
        }
        ctx.span(id).is_some_and(|span| {
            let (generation, refused) = self.switch.generation_of(span.extensions());
            generation == content.generation && refused & self.bit == 0
        })
    }

    /// While a configuration is loaded (spans are marked), whether the slot's filter admits
    /// `metadata`. `Filtered` asked the filter before, but a callsite whose interest was read
    /// before the load started does not ask, and the slot may have held the previous
    /// configuration's layer and filter when it did: the new layer must not get what its own
    /// filter refuses. Outside a load, `Filtered`'s answer is the slot's.
    #[inline(always)]
    fn admits(
        &self,
        content: &SlotContent,
        metadata: &Metadata<'_>,
        ctx: &Context<'_, BaseSubscriber>,
    ) -> bool {
        if !self.switch.mark_spans.load(Ordering::SeqCst) {
            return true;
        }
        #[cfg(feature = "otlp")]
        if let Some(handed_over) = handed_over_to_slot(&self.switch, &self.slot, content) {
            return handed_over;
        }
        content.admits(metadata, ctx)
    }

    /// Runs `f` with the slot's content if `id` was created under the slot's generation.
    fn with_span_layer(
        &self,
        id: &Id,
        ctx: &Context<'_, BaseSubscriber>,
        f: impl FnOnce(&SlotContent),
    ) {
        self.slot.with((), |content| {
            if self.same_generation(id, ctx, content) {
                f(content);
            }
        })
    }
}

impl Layer<BaseSubscriber> for SlotLayer {
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        self.slot.with(Interest::never(), |content| {
            content.layer.register_callsite(metadata)
        })
    }

    fn enabled(&self, metadata: &Metadata<'_>, ctx: Context<'_, BaseSubscriber>) -> bool {
        self.slot
            .with(false, |content| content.layer.enabled(metadata, ctx))
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, BaseSubscriber>) {
        self.with_span_layer(id, &ctx, |content| {
            if !self.admits(content, attrs.metadata(), &ctx) {
                // Refused for the span's whole life: its other callbacks skip this slot too
                // (`same_generation`; the span is marked, so spans stay checked while it is open).
                let marked = ctx.span(id).is_some_and(|span| {
                    span.extensions()
                        .get::<SpanGeneration>()
                        .map(|marked| marked.refused.fetch_or(self.bit, Ordering::SeqCst))
                        .is_some()
                });
                if marked {
                    return;
                }
            }
            content.note_received();
            content.layer.on_new_span(attrs, id, ctx.clone());
        });
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, BaseSubscriber>) {
        self.with_span_layer(id, &ctx, |content| {
            content.layer.on_record(id, values, ctx.clone())
        });
    }

    fn on_follows_from(&self, id: &Id, follows: &Id, ctx: Context<'_, BaseSubscriber>) {
        self.with_span_layer(id, &ctx, |content| {
            content.layer.on_follows_from(id, follows, ctx.clone())
        });
    }

    fn event_enabled(&self, _event: &Event<'_>, _ctx: Context<'_, BaseSubscriber>) -> bool {
        // None of the layer kinds vetoes single events (they use `enabled`), so this skips a
        // load per slot per event. An empty slot must not veto either: that would leave its bit
        // set in tracing-subscriber's per-layer filter state.
        true
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, BaseSubscriber>) {
        self.slot.with((), |content| {
            if !self.admits(content, event.metadata(), &ctx) {
                return;
            }
            content.note_received();
            content.layer.on_event(event, ctx);
        });
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, BaseSubscriber>) {
        self.with_span_layer(id, &ctx, |content| content.layer.on_enter(id, ctx.clone()));
    }

    fn on_exit(&self, id: &Id, ctx: Context<'_, BaseSubscriber>) {
        self.with_span_layer(id, &ctx, |content| content.layer.on_exit(id, ctx.clone()));
    }

    fn on_close(&self, id: Id, ctx: Context<'_, BaseSubscriber>) {
        self.with_span_layer(&id, &ctx, |content| {
            content.layer.on_close(id.clone(), ctx.clone())
        });
    }

    fn on_id_change(&self, old: &Id, new: &Id, ctx: Context<'_, BaseSubscriber>) {
        self.with_span_layer(old, &ctx, |content| {
            content.layer.on_id_change(old, new, ctx.clone())
        });
    }

    unsafe fn downcast_raw(&self, id: TypeId) -> Option<*const ()> {
        if id == TypeId::of::<Self>() {
            return Some(self as *const Self as *const ());
        }
        // Only a pinned layer (see `with_span_layers_reachable`) may be lent out: the pointer
        // stays valid as long as the pin holds the slot content.
        let slot = Arc::as_ptr(&self.slot);
        PINNED.with(|list| {
            let list = list.borrow();
            let (_, content) = list.iter().rev().find(|(pinned, _)| *pinned == slot)?;
            // SAFETY: forwarded to the pinned layer; the caller uses the pointer while pinned.
            unsafe { content.layer.downcast_raw(id) }
        })
    }
}

/// The filter half of a slot: the slot layer's own filter, or everything when it has none.
struct SlotFilter {
    slot: Arc<Slot>,
    /// Slot 0, filled first by every configuration.
    first: Arc<Slot>,
    switch: Arc<Switch>,
}

impl SlotFilter {
    /// Runs `f` with the slot's filter for a span callback, if the filter needs to see spans.
    fn with_filter(&self, f: impl FnOnce(&EnvFilter)) {
        if !self.slot.filter_tracks_spans.load(Ordering::Acquire) {
            return;
        }
        self.slot.with((), |content| {
            if let Some(filter) = &*content.filter.load() {
                f(filter);
            }
        });
    }
}

/// What a slot's filter says of a callsite; "sometimes" for a slot that still holds an earlier
/// configuration's layer while the next one is loaded (see `SlotFilter::enabled`).
fn callsite_interest(
    content: &SlotContent,
    generation: &AtomicU64,
    metadata: &'static Metadata<'static>,
) -> Interest {
    if !content.is_current(generation) {
        return Interest::sometimes();
    }
    match &*content.filter.load() {
        Some(filter) => Filter::<BaseSubscriber>::callsite_enabled(&**filter, metadata),
        None => Interest::always(),
    }
}

/// The most verbose level a slot's filter lets through (`None`: the filter cannot tell).
fn own_level_hint(content: &SlotContent) -> Option<LevelFilter> {
    match &*content.filter.load() {
        Some(filter) => Filter::<BaseSubscriber>::max_level_hint(&**filter),
        None => Some(LevelFilter::TRACE),
    }
}

impl Filter<BaseSubscriber> for SlotFilter {
    fn enabled(&self, metadata: &Metadata<'_>, cx: &Context<'_, BaseSubscriber>) -> bool {
        self.slot.with(false, |content| {
            // While a configuration is being loaded, a slot not yet filled with it holds the
            // previous one's layer: a span or event made now belongs to the new configuration
            // (`Switch::load` stores its generation first), and the old filter must not decide
            // for the new layer (which would then get a span its filter refuses). It goes to
            // the slots already filled.
            #[cfg(feature = "otlp")]
            if let Some(handed_over) = handed_over_to_slot(&self.switch, &self.slot, content) {
                return handed_over;
            }
            content.is_current(&self.switch.generation) && content.admits(metadata, cx)
        })
    }

    fn callsite_enabled(&self, metadata: &'static Metadata<'static>) -> Interest {
        // An empty slot answers like slot 0. Per-layer interests combine so that "always" with
        // "never" makes "sometimes", which would send every event of an enabled callsite
        // through each filter's `enabled`; echoing slot 0 leaves the combination to the slots
        // in use. `enabled` still says no for an empty slot.
        let own = self.slot.with(None, |content| {
            Some(callsite_interest(
                content,
                &self.switch.generation,
                metadata,
            ))
        });
        own.unwrap_or_else(|| {
            self.first.with(Interest::never(), |content| {
                callsite_interest(content, &self.switch.generation, metadata)
            })
        })
    }

    fn event_enabled(&self, _event: &Event<'_>, _cx: &Context<'_, BaseSubscriber>) -> bool {
        // `EnvFilter` decides per callsite and span (`enabled`), never per single event.
        true
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        self.slot.with(Some(LevelFilter::OFF), own_level_hint)
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, BaseSubscriber>) {
        self.with_filter(|filter| Filter::on_new_span(filter, attrs, id, ctx));
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, BaseSubscriber>) {
        self.with_filter(|filter| Filter::on_record(filter, id, values, ctx));
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, BaseSubscriber>) {
        self.with_filter(|filter| Filter::on_enter(filter, id, ctx));
    }

    fn on_exit(&self, id: &Id, ctx: Context<'_, BaseSubscriber>) {
        self.with_filter(|filter| Filter::on_exit(filter, id, ctx));
    }

    fn on_close(&self, id: Id, ctx: Context<'_, BaseSubscriber>) {
        self.with_filter(|filter| Filter::on_close(filter, id, ctx));
    }
}
