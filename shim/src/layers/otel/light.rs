//! Light JavaScript spans: a span that JavaScript starts with no parent span (`startSpan`, a
//! root or under a remote parent) and ends without anything asking for its OpenTelemetry data in
//! between (`tracing.startSpan(…).end()`) is exported without `tracing-opentelemetry`. Only
//! without busy/idle times (which need every enter and exit), and never for a span made entered
//! (`tracing.span`, `instrument`: `crate::js_spans::spans::made_entered`), which would be
//! promoted at its first child.
//!
//! `tracing-opentelemetry` keeps a span builder behind an `Arc<Mutex<…>>` per span, and at its
//! end starts and ends an SDK span to get its `SpanData`: about 60 % of the instructions a
//! JavaScript span costs on its thread. A light span is one record ([`LightSpan`]) in the span's
//! extensions, with what that work would produce: start time, parent context, attributes in
//! the same order, ids and the sampling decision (taken at the start with the configured
//! sampler; ids from this module's generator, which the tracer provider uses too). At its close
//! the layer builds the `SpanData` the SDK would build and hands it to the same span processor.
//!
//! Whatever needs the span's OpenTelemetry data promotes it first (`OtelLayer::hand_over`):
//! - a child span (Rust or JavaScript): the span is handed to `tracing-opentelemetry`, which
//!   starts it as it works out the child's parent context, on this thread;
//! - a span event exported on it, a record or a link: handed over and started at once
//!   (`tracing_opentelemetry::get_otel_context`).
//!
//! Either way its start takes the light span's start time, attributes, parent, ids and sampling
//! decision ([`PresetTracer`], [`PresetIds`], [`PresetSampler`] read them from a thread-local
//! [`Preset`]), so that nothing observed before changes. From then on the span is
//! `tracing-opentelemetry`'s, as any other.
//!
//! Read or changed without promotion (outside the layer's callbacks, which are needed to hand a
//! span over): the trace context ([`span_context`], for `traceContext()` and the log records'
//! ids), a remote parent set right after the start ([`set_remote_parent`]) and the attribute
//! added to spans ended when their config stops ([`set_attribute`]). A reader that finds the
//! span light nowhere while another thread hands a span over waits until that is done
//! ([`LightTable::wait_for_hand_over`]), then finds it in `tracing-opentelemetry`.

use std::{
    borrow::Cow,
    cell::{Cell, RefCell},
    fmt,
    sync::{
        atomic::{AtomicU64, AtomicUsize, Ordering},
        Arc, Mutex, MutexGuard, PoisonError,
    },
    time::SystemTime,
};

use opentelemetry::{
    trace::{
        SpanBuilder, SpanContext, SpanId, SpanKind, Status, TraceContextExt, TraceFlags, TraceId,
        Tracer,
    },
    Context, InstrumentationScope, Key, KeyValue, Value,
};
use opentelemetry_sdk::{
    error::OTelSdkResult,
    trace::{
        IdGenerator, Sampler, SamplingDecision, SamplingResult, SdkTracer, ShouldSample,
        Span as SdkSpan, SpanData, SpanEvents, SpanLinks, SpanProcessor,
    },
};
use tracing::{field::Field, span::Id, Dispatch, Metadata};
use tracing_subscriber::registry::{ExtensionsMut, LookupSpan};

use super::{
    batch::SpanBatchProcessor,
    finish::{thread_id_integer, FinishingProcessor},
};
use crate::dispatch::BaseSubscriber;

/// What a light span hands to `tracing-opentelemetry` when it is promoted.
pub(crate) struct Preset {
    start: SystemTime,
    attributes: Vec<KeyValue>,
    parent_cx: Context,
    trace_id: TraceId,
    span_id: SpanId,
    sampling: SamplingResult,
}

thread_local! {
    /// Set while a light span is promoted on this thread: the next SDK span built here is it.
    static PRESET: RefCell<Option<Preset>> = const { RefCell::new(None) };
    /// The ids of the span the SDK builds now from a [`Preset`].
    static STARTING_IDS: Cell<Option<(TraceId, SpanId)>> = const { Cell::new(None) };
    /// Its sampling decision.
    static STARTING_SAMPLING: RefCell<Option<SamplingResult>> = const { RefCell::new(None) };
    /// `thread.id` of this thread, as `tracing-opentelemetry` records it.
    static THREAD_ID: i64 = thread_id_integer(std::thread::current().id());
}

/// Light spans being handed to the registry now ([`adopt`]), in every thread: while there are
/// none, a new span does not look for one.
static ADOPTING: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// The light span that the span the registry makes now on this thread is
    /// (`crate::js_spans::detached`), with the owner of the [`LightTable`] it belongs to.
    static ADOPT: RefCell<Option<(u64, LightSpan)>> = const { RefCell::new(None) };
}

/// Runs `make` (which makes a registry span on this thread) with `light` offered to the layer
/// whose table is `owner`: that layer keeps it as the new span's light span, with its ids,
/// start, attributes and sampling, instead of starting one ([`take_adopted`]). Gives `light`
/// back if no layer took it.
pub(crate) fn adopt<R>(
    owner: u64,
    light: LightSpan,
    make: impl FnOnce() -> R,
) -> (R, Option<LightSpan>) {
    ADOPT.with(|slot| *slot.borrow_mut() = Some((owner, light)));
    ADOPTING.fetch_add(1, Ordering::SeqCst);
    /// Takes the offer back whatever happens (a layer may panic in `make`).
    struct Done;
    impl Drop for Done {
        fn drop(&mut self) {
            ADOPTING.fetch_sub(1, Ordering::SeqCst);
            let _ = ADOPT.try_with(|slot| slot.try_borrow_mut().map(|mut slot| slot.take()));
        }
    }
    let done = Done;
    let made = make();
    let left = ADOPT
        .with(|slot| slot.borrow_mut().take())
        .map(|(_, light)| light);
    drop(done);
    (made, left)
}

/// The light span offered to the layer whose table is `owner` ([`adopt`]), if any.
pub(crate) fn take_adopted(owner: u64) -> Option<LightSpan> {
    if ADOPTING.load(Ordering::SeqCst) == 0 {
        return None;
    }
    ADOPT
        .try_with(|slot| {
            let mut slot = slot.try_borrow_mut().ok()?;
            match &*slot {
                Some((offered_to, _)) if *offered_to == owner => {
                    slot.take().map(|(_, light)| light)
                }
                _ => None,
            }
        })
        .ok()
        .flatten()
}

/// Serializes promotions: a span is handed to `tracing-opentelemetry` once, and a thread that
/// finds no light span any more (another one promotes it) waits until it is handed over.
static PROMOTING: Mutex<()> = Mutex::new(());

pub(crate) fn promoting() -> std::sync::MutexGuard<'static, ()> {
    PROMOTING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Runs `start` (which starts the promoted span in `tracing-opentelemetry`) with `preset`
/// available to [`PresetTracer`]; cleared afterwards whether it was used or not.
pub(crate) fn with_preset<R>(preset: Preset, start: impl FnOnce() -> R) -> R {
    PRESET.with(|slot| *slot.borrow_mut() = Some(preset));
    let result = start();
    PRESET.with(|slot| slot.borrow_mut().take());
    result
}

/// The tracer `tracing-opentelemetry` gets: the SDK's, except for a span started from a
/// [`Preset`], which gets the preset's start time, attributes, parent, ids and sampling.
#[derive(Debug, Clone)]
pub(crate) struct PresetTracer(pub(crate) SdkTracer);

impl Tracer for PresetTracer {
    type Span = SdkSpan;

    fn build_with_context(&self, mut builder: SpanBuilder, parent_cx: &Context) -> SdkSpan {
        let Some(preset) = PRESET.with(|slot| slot.borrow_mut().take()) else {
            return self.0.build_with_context(builder, parent_cx);
        };
        builder.start_time = Some(preset.start);
        builder.attributes = Some(preset.attributes);
        STARTING_IDS.with(|ids| ids.set(Some((preset.trace_id, preset.span_id))));
        STARTING_SAMPLING.with(|sampling| *sampling.borrow_mut() = Some(preset.sampling));
        let span = self.0.build_with_context(builder, &preset.parent_cx);
        STARTING_IDS.with(|ids| ids.set(None));
        STARTING_SAMPLING.with(|sampling| sampling.borrow_mut().take());
        span
    }
}

/// The tracer provider's id generator: random ids ([`random_u64`]), or those of a span started
/// from a [`Preset`].
#[derive(Debug, Default)]
pub(crate) struct PresetIds;

impl IdGenerator for PresetIds {
    fn new_trace_id(&self) -> TraceId {
        match STARTING_IDS.with(Cell::get) {
            Some((trace_id, _)) => trace_id,
            None => new_trace_id(),
        }
    }

    fn new_span_id(&self) -> SpanId {
        match STARTING_IDS.with(Cell::get) {
            Some((_, span_id)) => span_id,
            None => new_span_id(),
        }
    }
}

thread_local! {
    /// The state of this thread's id generator, seeded from the OS's randomness (through the
    /// standard library's per-thread random hash keys).
    static RANDOM: Cell<u64> = Cell::new(
        std::hash::BuildHasher::hash_one(
            &std::collections::hash_map::RandomState::new(),
            std::thread::current().id(),
        ),
    );
}

/// 64 random bits (wyrand). The SDK's `RandomIdGenerator` draws from a thread-local `SmallRng`
/// through a `RefCell` for about ten times the instructions; neither is meant for secrets,
/// both for ids that do not collide.
fn random_u64() -> u64 {
    RANDOM.with(|state| {
        let next = state.get().wrapping_add(0xa076_1d64_78bd_642f);
        state.set(next);
        let product = u128::from(next) * u128::from(next ^ 0xe703_7ed1_a0b4_28db);
        (product as u64) ^ ((product >> 64) as u64)
    })
}

fn new_span_id() -> SpanId {
    loop {
        let id = random_u64();
        if id != 0 {
            return SpanId::from(id);
        }
    }
}

fn new_trace_id() -> TraceId {
    loop {
        let id = (u128::from(random_u64()) << 64) | u128::from(random_u64());
        if id != 0 {
            return TraceId::from(id);
        }
    }
}

/// The tracer provider's sampler: the configured one, or the decision a span started from a
/// [`Preset`] took at its start.
#[derive(Debug, Clone)]
pub(crate) struct PresetSampler(pub(crate) Sampler);

impl ShouldSample for PresetSampler {
    fn should_sample(
        &self,
        parent_context: Option<&Context>,
        trace_id: TraceId,
        name: &str,
        span_kind: &SpanKind,
        attributes: &[KeyValue],
        links: &[opentelemetry::trace::Link],
    ) -> SamplingResult {
        if let Some(result) = STARTING_SAMPLING.with(|sampling| sampling.borrow_mut().take()) {
            return result;
        }
        self.0
            .should_sample(parent_context, trace_id, name, span_kind, attributes, links)
    }
}

/// A span processor shared by the tracer provider and the light spans.
#[derive(Debug, Clone)]
pub(crate) struct SharedProcessor(pub(crate) Arc<dyn SpanProcessor>);

impl SpanProcessor for SharedProcessor {
    fn on_start(&self, span: &mut SdkSpan, cx: &Context) {
        self.0.on_start(span, cx);
    }

    fn on_end(&self, span: SpanData) {
        self.0.on_end(span);
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.0.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: std::time::Duration) -> OTelSdkResult {
        self.0.shutdown_with_timeout(timeout)
    }
}

/// What the layer needs to make and end light spans: the tracer provider's sampler, id
/// generator, span processor, attribute limit and scope, and the attributes every span gets.
#[derive(Debug)]
pub(crate) struct LightSettings {
    pub(crate) sampler: Sampler,
    /// The tracer provider's processor, known by its type: a light span's `SpanData` goes
    /// through it inlined, built once rather than copied at each call on its way.
    pub(crate) processor: Arc<FinishingProcessor<SpanBatchProcessor>>,
    pub(crate) max_attributes: usize,
    pub(crate) scope: InstrumentationScope,
    pub(crate) threads: bool,
    pub(crate) level: bool,
    pub(crate) target: bool,
    /// The light spans open now.
    pub(crate) spans: LightTable,
}

/// Entries of a [`LightTable`].
const LIGHT_ENTRIES: usize = 256;

/// An entry of a [`LightTable`]: the registry id of the span it holds, and its light span.
type LightEntry = Mutex<Option<(u64, LightSpan)>>;

/// The light spans open now, by registry id ([`crate::util::span_slot`]): one entry each,
/// locked only to put, read or take its span (a span's extensions cost a boxed value, a map
/// insertion, a lock and a registry lookup each way, about 5 % of an exported JavaScript span).
/// A span whose entry another open span holds (more than a couple of hundred open at once, or
/// two meeting in one entry) is kept in its span's extensions instead; `in_extensions` counts
/// those, so that nothing looks there while there are none.
pub(crate) struct LightTable {
    /// Tells this table's records in the extensions from another's: the registry is shared by
    /// the configs, and a span of the config before a reload may still be open.
    owner: u64,
    entries: Box<[LightEntry]>,
    in_extensions: AtomicUsize,
    /// Light spans being handed over to `tracing-opentelemetry` now (`OtelLayer::hand_over`):
    /// taken from the table, not started there yet.
    handing_over: AtomicUsize,
}

impl fmt::Debug for LightTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LightTable")
            .field("in_extensions", &self.in_extensions)
            .finish_non_exhaustive()
    }
}

impl Default for LightTable {
    fn default() -> Self {
        Self {
            owner: NEXT_OWNER.fetch_add(1, Ordering::Relaxed),
            entries: (0..LIGHT_ENTRIES).map(|_| Mutex::new(None)).collect(),
            in_extensions: AtomicUsize::new(0),
            handing_over: AtomicUsize::new(0),
        }
    }
}

/// A light span kept in its span's extensions, with the [`LightTable`] it belongs to.
struct LightInExtensions {
    owner: u64,
    light: LightSpan,
}

/// The next [`LightTable::owner`] (unique: a table's address could be a dropped one's).
static NEXT_OWNER: AtomicU64 = AtomicU64::new(1);

/// A [`LightTable`] entry that a new span may take ([`LightTable::free_entry`]).
pub(crate) struct FreeEntry<'a> {
    entry: MutexGuard<'a, Option<(u64, LightSpan)>>,
    id: u64,
}

impl FreeEntry<'_> {
    /// Keeps `light` there.
    pub(crate) fn keep(mut self, light: LightSpan) {
        *self.entry = Some((self.id, light));
    }
}

impl LightTable {
    fn entry(&self, id: &Id) -> MutexGuard<'_, Option<(u64, LightSpan)>> {
        // Nothing panics while an entry is locked but a sampler or a `Debug` value; the entry
        // is still whole then.
        self.entries[crate::util::span_slot(id) % LIGHT_ENTRIES]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The entry of new span `id`, locked, unless another open span holds it (then the caller
    /// keeps the light span in the span's extensions, [`Self::keep_in_extensions`]).
    pub(crate) fn free_entry(&self, id: &Id) -> Option<FreeEntry<'_>> {
        let entry = self.entry(id);
        match &*entry {
            Some((held, _)) if *held != id.into_u64() => None,
            // Free, or left by a span of this same id whose close this layer missed (an
            // earlier layer panicked in `on_close`): that span is closed, since ids are unique
            // among open spans.
            _ => Some(FreeEntry {
                entry,
                id: id.into_u64(),
            }),
        }
    }

    /// Tells this table from any other ever made.
    pub(crate) fn owner(&self) -> u64 {
        self.owner
    }

    /// Whether some light span may be in its span's extensions.
    pub(crate) fn any_in_extensions(&self) -> bool {
        self.in_extensions.load(Ordering::Acquire) != 0
    }

    /// Takes the light span of `id` from its entry, if it is there.
    pub(crate) fn take(&self, id: &Id) -> Option<LightSpan> {
        let mut entry = self.entry(id);
        if entry.as_ref()?.0 != id.into_u64() {
            return None;
        }
        entry.take().map(|(_, light)| light)
    }

    /// Runs `f` with the light span of `id` if it is in its entry (locked meanwhile); gives `f`
    /// back otherwise.
    fn with<R, F: FnOnce(&mut LightSpan) -> R>(&self, id: &Id, f: F) -> Result<R, F> {
        let mut entry = self.entry(id);
        match entry.as_mut() {
            Some((held, light)) if *held == id.into_u64() => Ok(f(light)),
            _ => Err(f),
        }
    }

    /// Keeps `light` in its span's `extensions` (its entry was held), counted first, so that a
    /// reader that finds no count has nothing to look for there.
    pub(crate) fn keep_in_extensions(&self, extensions: &mut ExtensionsMut<'_>, light: LightSpan) {
        self.in_extensions.fetch_add(1, Ordering::AcqRel);
        extensions.insert(LightInExtensions {
            owner: self.owner,
            light,
        });
    }

    /// This table's light span in `extensions`, if it holds one.
    fn own<'a>(&self, extensions: &'a mut ExtensionsMut<'_>) -> Option<&'a mut LightSpan> {
        extensions
            .get_mut::<LightInExtensions>()
            .filter(|kept| kept.owner == self.owner)
            .map(|kept| &mut kept.light)
    }

    /// Takes this table's light span from `extensions`, if they hold one.
    pub(crate) fn take_from_extensions(
        &self,
        extensions: &mut ExtensionsMut<'_>,
    ) -> Option<LightSpan> {
        self.own(extensions)?;
        let light = extensions.remove::<LightInExtensions>()?.light;
        self.in_extensions.fetch_sub(1, Ordering::AcqRel);
        Some(light)
    }

    /// Counts a light span being handed over from now until [`Self::handed_over`].
    pub(crate) fn handing_over(&self) {
        self.handing_over.fetch_add(1, Ordering::SeqCst);
    }

    /// Counts a hand-over done (started in `tracing-opentelemetry`, or found nothing to hand).
    pub(crate) fn handed_over(&self) {
        self.handing_over.fetch_sub(1, Ordering::SeqCst);
    }

    /// Called by a reader that found span `id` light in neither place: if a hand-over is under
    /// way, the span may be between the two (taken from the table, not started yet), so it
    /// waits until the hand-over is done; the caller then finds the span started.
    fn wait_for_hand_over(&self) {
        if self.handing_over.load(Ordering::SeqCst) != 0 {
            drop(promoting());
        }
    }
}

/// A light span (see the module docs), in its layer's [`LightTable`] (or its span's extensions).
pub(crate) struct LightSpan {
    name: &'static str,
    start: SystemTime,
    parent_cx: Context,
    attributes: Vec<KeyValue>,
    trace_id: TraceId,
    span_id: SpanId,
    sampling: SamplingResult,
}

impl fmt::Debug for LightSpan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LightSpan")
            .field("trace_id", &self.trace_id)
            .field("span_id", &self.span_id)
            .finish_non_exhaustive()
    }
}

/// Whether spans of `metadata` may be light: JavaScript's (no source location, as the layer
/// tells them apart) without a field `tracing-opentelemetry` reads as the span's name, kind
/// or status (`otel.*`).
pub(crate) fn may_be_light(metadata: &Metadata<'_>) -> bool {
    super::layer::ends_at_close(metadata)
        && !metadata
            .fields()
            .iter()
            .any(|field| field.name().starts_with("otel."))
}

/// The parent's span context, if valid (as the SDK takes it).
fn parent_span_context(parent_cx: &Context) -> Option<SpanContext> {
    let span = parent_cx.span();
    let context = span.span_context();
    context.is_valid().then(|| context.clone())
}

impl LightSpan {
    /// Starts a light span of `metadata` now, with the attributes `record` gives (its fields),
    /// under `parent_cx`. `None` when the span cannot be light (a field value only
    /// `tracing-opentelemetry` knows how to record, or telemetry suppressed).
    pub(crate) fn start(
        settings: &LightSettings,
        metadata: &'static Metadata<'static>,
        field_count: usize,
        parent_cx: Context,
        record: impl FnOnce(&mut dyn tracing::field::Visit),
    ) -> Option<Self> {
        if parent_cx.is_telemetry_suppressed() {
            return None;
        }
        let start = SystemTime::now();
        // The order `tracing-opentelemetry` gives them (a JavaScript span has no location).
        let mut attributes = super::reuse::attribute_list(
            field_count
                + 2 * usize::from(settings.threads)
                + usize::from(settings.level)
                + usize::from(settings.target),
        );
        if settings.threads {
            attributes.push(KeyValue::new("thread.id", THREAD_ID.with(|id| *id)));
            if let Some(name) = std::thread::current().name() {
                attributes.push(KeyValue::new("thread.name", name.to_string()));
            }
        }
        if settings.level {
            attributes.push(KeyValue::new("level", metadata.level().as_str()));
        }
        if settings.target {
            attributes.push(KeyValue::new("target", metadata.target()));
        }
        let mut visitor = Visitor {
            attributes: &mut attributes,
            unsupported: false,
        };
        record(&mut visitor);
        if visitor.unsupported {
            return None;
        }
        let parent = parent_span_context(&parent_cx);
        let span_id = new_span_id();
        let trace_id = match &parent {
            Some(parent) => parent.trace_id(),
            None => new_trace_id(),
        };
        // Without a span in the parent context the built-in samplers decide the same with none
        // given, without looking for a parent span twice.
        let sampling = settings.sampler.should_sample(
            parent_cx.has_active_span().then_some(&parent_cx),
            trace_id,
            metadata.name(),
            &SpanKind::Internal,
            &attributes,
            &[],
        );
        Some(Self {
            name: metadata.name(),
            start,
            parent_cx,
            attributes,
            trace_id,
            span_id,
            sampling,
        })
    }

    /// Its span context, as the SDK would give it.
    pub(crate) fn span_context(&self) -> SpanContext {
        self.span_context_under(parent_span_context(&self.parent_cx).as_ref())
    }

    /// Its span context, `parent` being its parent's ([`parent_span_context`]).
    fn span_context_under(&self, parent: Option<&SpanContext>) -> SpanContext {
        let parent_flags = parent.map(SpanContext::trace_flags).unwrap_or_default();
        let flags = match self.sampling.decision {
            SamplingDecision::RecordAndSample => parent_flags.with_sampled(true),
            SamplingDecision::RecordOnly => parent_flags.with_sampled(false),
            SamplingDecision::Drop => TraceFlags::default(),
        };
        SpanContext::new(
            self.trace_id,
            self.span_id,
            flags,
            false,
            self.sampling.trace_state.clone(),
        )
    }

    /// Adds an attribute (after its fields), as [`set_attribute`] does.
    pub(crate) fn add_attribute(&mut self, attribute: KeyValue) {
        self.attributes.push(attribute);
    }

    /// What promotion hands to `tracing-opentelemetry`.
    pub(crate) fn into_preset(self) -> Preset {
        Preset {
            start: self.start,
            attributes: self.attributes,
            parent_cx: self.parent_cx,
            trace_id: self.trace_id,
            span_id: self.span_id,
            sampling: self.sampling,
        }
    }

    /// Ends the span now: hands what the SDK would build to the span processor (nothing for a
    /// span the sampler dropped).
    pub(crate) fn end(self, settings: &LightSettings) {
        if self.sampling.decision == SamplingDecision::Drop {
            return;
        }
        let parent = parent_span_context(&self.parent_cx);
        let span_context = self.span_context_under(parent.as_ref());
        let end_time = SystemTime::now();
        let mut attributes = self.attributes;
        // Only a custom sampler adds attributes (extending by an empty list is not free).
        if !self.sampling.attributes.is_empty() {
            attributes.extend(self.sampling.attributes);
        }
        let dropped = attributes.len().saturating_sub(settings.max_attributes);
        attributes.truncate(settings.max_attributes);
        settings.processor.end_built(SpanData {
            span_context,
            parent_span_id: parent
                .as_ref()
                .map_or(SpanId::INVALID, SpanContext::span_id),
            parent_span_is_remote: parent.as_ref().is_some_and(SpanContext::is_remote),
            span_kind: SpanKind::Internal,
            name: Cow::Borrowed(self.name),
            start_time: self.start,
            end_time,
            attributes,
            dropped_attributes_count: u32::try_from(dropped).unwrap_or(u32::MAX),
            events: SpanEvents::default(),
            links: SpanLinks::default(),
            status: Status::Unset,
            instrumentation_scope: settings.scope.clone(),
        });
    }

    /// Makes `parent` its parent, as `OpenTelemetrySpanExt::set_parent` does before a span
    /// starts: the trace id and the sampling decision follow the new parent.
    pub(crate) fn set_parent(&mut self, settings: &LightSettings, parent: Context) {
        if let Some(context) = parent_span_context(&parent) {
            self.trace_id = context.trace_id();
        }
        self.parent_cx = parent;
        self.sampling = settings.sampler.should_sample(
            Some(&self.parent_cx),
            self.trace_id,
            self.name,
            &SpanKind::Internal,
            &self.attributes,
            &[],
        );
    }
}

/// Field values as `tracing-opentelemetry` records them as span attributes (spans with
/// `otel.*` fields are never light, see [`may_be_light`]); an error value is not recorded
/// here (`unsupported`): JavaScript never records one.
struct Visitor<'a> {
    attributes: &'a mut Vec<KeyValue>,
    unsupported: bool,
}

impl tracing::field::Visit for Visitor<'_> {
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.attributes.push(KeyValue::new(field.name(), value));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.attributes.push(KeyValue::new(field.name(), value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.attributes.push(KeyValue::new(field.name(), value));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.attributes.push(KeyValue::new(
            field.name(),
            super::reuse::string_value(field.name(), value),
        ));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.attributes.push(KeyValue::new(
            Key::new(field.name()),
            Value::String(format!("{value:?}").into()),
        ));
    }

    fn record_error(&mut self, _field: &Field, _value: &(dyn std::error::Error + 'static)) {
        self.unsupported = true;
    }
}

/// Runs `f` with the light span `id` of `dispatch` (its registry's), if it is one, and the
/// settings of the layer that has it.
fn with_light<R>(
    id: &Id,
    dispatch: &Dispatch,
    f: impl FnOnce(&mut LightSpan, &LightSettings) -> R,
) -> Option<R> {
    let settings = super::layer::light_settings(dispatch)?;
    let f = match settings.spans.with(id, |light| f(light, settings)) {
        Ok(result) => return Some(result),
        Err(f) => f,
    };
    if settings.spans.any_in_extensions() {
        let subscriber = dispatch.downcast_ref::<BaseSubscriber>()?;
        let span = LookupSpan::span(subscriber, id)?;
        let mut extensions = span.extensions_mut();
        if let Some(light) = settings.spans.own(&mut extensions) {
            return Some(f(light));
        }
    }
    settings.spans.wait_for_hand_over();
    None
}

/// The OpenTelemetry span context of span `id` of `dispatch`, as its OpenTelemetry layer
/// keeps it (light or not); `None` when none records it. Call while the span's layers are
/// reachable (`crate::dispatch::with_layers_of_span_reachable`), holding none of its
/// extensions.
pub(crate) fn span_context(id: &Id, dispatch: &Dispatch) -> Option<SpanContext> {
    if let Some(context) = with_light(id, dispatch, |light, _| light.span_context()) {
        return Some(context);
    }
    let context = tracing_opentelemetry::get_otel_context(id, dispatch)?;
    let span_context = context.span().span_context().clone();
    Some(span_context)
}

/// Makes `parent` the parent of the light span `id`; `false` when it is not light (then
/// `OpenTelemetrySpanExt::set_parent` does it). Same conditions as [`span_context`].
pub(crate) fn set_remote_parent(id: &Id, dispatch: &Dispatch, parent: Context) -> bool {
    with_light(id, dispatch, |light, settings| {
        light.set_parent(settings, parent)
    })
    .is_some()
}

/// Adds an attribute to the light span `id`; `false` when it is not light (then
/// `OpenTelemetrySpanExt::set_attribute` does it). Same conditions as [`span_context`].
pub(crate) fn set_attribute(id: &Id, dispatch: &Dispatch, attribute: KeyValue) -> bool {
    with_light(id, dispatch, |light, _| light.add_attribute(attribute)).is_some()
}
