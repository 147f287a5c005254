//! Detached JavaScript spans: a span JavaScript starts with no parent span (`startSpan`, a
//! root or under a remote parent), under a configuration where only its OpenTelemetry layer
//! would see it, is made without the registry. It is a light span
//! (`crate::layers::otel::light`) kept in this thread's span table, started and ended with the
//! layer's settings, counted open and closed in the layer's span counts: about a third of the
//! instructions of `startSpan(…).end()` go to the registry and the dispatch through the slots
//! otherwise, for a span no other layer sees.
//!
//! When to detach is decided per callsite ([`Switch::detach_decision`]) and kept per thread
//! until the configuration or a filter changes ([`Switch::epoch`]): the span's layer and the
//! global filter always want the callsite, every other layer's filter never does, and no
//! filter keeps span state. The span must be made with no current span (or as a root), and
//! not entered at once (`tracing.span`).
//!
//! What needs a registry span (entering it, a child or an event naming it as parent) first
//! hands it to the registry ([`DetachedSpan::materialize`]): a root span of the same callsite
//! is made on the span's dispatcher, and the layer keeps the light span as that span's
//! (`crate::layers::otel::light::adopt`): same ids, start, attributes and sampling. Only that
//! layer sees the registry span, and it belongs to the span's generation, whatever filter or
//! configuration changed since it started (`Switch::hand_over`): the routing decided at its
//! start holds, as a registry span's per-layer filter state would. From then on it is a light
//! span like any other. A span whose configuration stopped (or is being replaced) is not handed
//! over: it acts as a span ended when its configuration stopped for such uses (no parent,
//! entering does nothing), for good.
//!
//! The trace context and a remote parent are read and set on the light span directly.

use std::{cell::RefCell, mem::MaybeUninit};

use opentelemetry::{trace::SpanContext, KeyValue};
use tracing::{level_filters::LevelFilter, Dispatch, Span};

use super::{
    callsites::{JsCallsite, MAX_CALLSITES},
    values,
};
use crate::{
    dispatch::{Detach, Switch},
    error::Error,
    layers::otel::{
        finish::note_current_thread,
        light::{adopt, LightSpan},
        open_spans::Closing,
    },
};

/// A detached span (see the module docs), in its thread's span table.
pub(crate) struct DetachedSpan {
    /// `None` once ended or handed to the registry.
    light: Option<LightSpan>,
    /// The dispatcher it was made under (whose switch holds its layer).
    dispatch: Dispatch,
    /// Its layer's slot in that switch, and the generation of the configuration there.
    slot: usize,
    generation: u64,
    callsite: &'static JsCallsite,
    /// It could not be handed to the registry when something needed it there (its
    /// configuration stopped): it acts as a span ended when its configuration stopped for
    /// what needs the registry, for good.
    stale: bool,
}

/// What is known of a callsite in [`Cache::decisions`].
const UNKNOWN: u8 = 0;
const DETACH: u8 = 1;
const REGISTRY: u8 = 2;

/// Per thread: the detach decisions of one switch epoch.
struct Cache {
    epoch: u64,
    /// The switch's [`Switch::detach_slot`] in that epoch.
    slot: Option<(usize, u64)>,
    /// By callsite id.
    decisions: Vec<u8>,
}

thread_local! {
    static CACHE: RefCell<Cache> = const {
        RefCell::new(Cache {
            epoch: 0,
            slot: None,
            decisions: Vec::new(),
        })
    };
}

/// The slot and its generation if a span of `callsite` (the callsite of JavaScript id `id`)
/// may be detached into `switch` now.
fn decide(switch: &Switch, id: u32, callsite: &'static JsCallsite) -> Option<(usize, u64)> {
    // Ids count from 1; a fallback callsite's (never light) has a high bit set.
    let index = usize::try_from(id).ok()?;
    if index > MAX_CALLSITES {
        return None;
    }
    // Read before what is worked out from it: a change meanwhile shows as another epoch next
    // time.
    let epoch = switch.epoch();
    CACHE
        .try_with(|cache| {
            let mut cache = cache.try_borrow_mut().ok()?;
            if cache.epoch != epoch {
                cache.epoch = epoch;
                cache.slot = switch.detach_slot();
                cache.decisions.clear();
            }
            let (slot, generation) = cache.slot?;
            if cache.decisions.len() <= index {
                cache.decisions.resize(index + 1, UNKNOWN);
            }
            if cache.decisions[index] == UNKNOWN {
                cache.decisions[index] = if switch.detach_decision(slot, callsite.meta()) {
                    DETACH
                } else {
                    REGISTRY
                };
            }
            (cache.decisions[index] == DETACH).then_some((slot, generation))
        })
        .ok()
        .flatten()
}

impl DetachedSpan {
    /// Starts a detached span of `callsite` (JavaScript id `id`) with `encoded` values: a root
    /// with `root`, else under the current span, which must be none. `Ok(None)` when it cannot
    /// be detached: the caller makes it in the registry. Bad values fail as they do there.
    pub(crate) fn try_start(
        id: u32,
        callsite: &'static JsCallsite,
        root: bool,
        encoded: &[u8],
    ) -> Result<Option<Box<Self>>, Error> {
        if !Detach::anywhere() {
            return Ok(None);
        }
        let meta = callsite.meta();
        if *meta.level() > LevelFilter::current() || callsite.is_never() {
            return Ok(None);
        }
        let target = tracing::dispatcher::get_default(|dispatch| {
            let switch = dispatch.downcast_ref::<Switch>()?;
            let (slot, generation) = decide(switch, id, callsite)?;
            if !root && dispatch.current_span().id().is_some() {
                return None;
            }
            Some((dispatch.clone(), slot, generation))
        });
        let Some((dispatch, slot, generation)) = target else {
            return Ok(None);
        };
        let Some(switch) = dispatch.downcast_ref::<Switch>() else {
            return Ok(None);
        };
        let fields = meta.fields().len();
        let started = switch.with_detach(slot, generation, true, |detach| {
            values::with_decoded(encoded, fields, |decoded| {
                values::with_values(decoded, |lent| {
                    let values = meta.fields().value_set_all(lent);
                    // As the layer gives a root, or a contextual span without a current span.
                    let parent_cx = if root {
                        opentelemetry::Context::new()
                    } else {
                        opentelemetry::Context::current()
                    };
                    let light =
                        LightSpan::start(detach.settings(), meta, fields, parent_cx, |visitor| {
                            values.record(visitor)
                        })?;
                    note_current_thread();
                    detach.counts().note_opened();
                    Some(light)
                })
            })
        });
        let light = match started {
            // Its configuration is being replaced: the registry decides.
            None => return Ok(None),
            Some(decoded) => decoded?,
        };
        Ok(light.map(|light| {
            boxed(Self {
                light: Some(light),
                dispatch,
                slot,
                generation,
                callsite,
                stale: false,
            })
        }))
    }

    fn switch(&self) -> Option<&Switch> {
        self.dispatch.downcast_ref::<Switch>()
    }

    /// Ends the span now: exported by its layer if its configuration is still there; otherwise
    /// nothing (its configuration counted it open when it stopped, as a registry span of it).
    /// With `attribute`, that is added first.
    pub(crate) fn end(&mut self, attribute: Option<KeyValue>) {
        let Some(mut light) = self.light.take() else {
            return;
        };
        let Some(switch) = self.switch() else {
            return;
        };
        switch.with_detach(self.slot, self.generation, false, |detach| {
            if let Some(attribute) = attribute {
                light.add_attribute(attribute);
            }
            {
                // The layer ends it: the span processor queues what ends inside a close.
                let _closing = Closing::enter();
                light.end(detach.settings());
            }
            detach.counts().note_closed();
        });
    }

    /// Whether it could not be handed to the registry ([`Self::materialize`]).
    pub(crate) fn is_stale(&self) -> bool {
        self.stale
    }

    /// Whether the configuration loaded into `switch` as `generation` made it.
    pub(crate) fn made_by(&self, switch: &Switch, generation: u64) -> bool {
        self.generation == generation && self.switch().is_some_and(|own| std::ptr::eq(own, switch))
    }

    /// Its span context, as the SDK would give it; `None` once its configuration stopped.
    pub(crate) fn span_context(&self) -> Option<SpanContext> {
        let light = self.light.as_ref()?;
        self.switch()?
            .with_detach(self.slot, self.generation, false, |_| light.span_context())
    }

    /// Makes `parent` its OpenTelemetry parent (a remote one), as before its start.
    pub(crate) fn set_remote_parent(&mut self, parent: opentelemetry::Context) {
        let (Some(light), Some(switch)) =
            (self.light.as_mut(), self.dispatch.downcast_ref::<Switch>())
        else {
            return;
        };
        switch.with_detach(self.slot, self.generation, false, |detach| {
            light.set_parent(detach.settings(), parent)
        });
    }

    /// Hands the span to the registry (see the module docs): the registry span it is now, or
    /// `None` when it cannot be handed over (its configuration stopped or is being replaced),
    /// in which case it stays detached and [stale](Self::is_stale). Call before anything else
    /// of the record that needs it is dispatched (this makes a span, which sets the thread's
    /// per-layer filter state).
    pub(crate) fn materialize(&mut self) -> Option<Span> {
        if self.stale {
            return None;
        }
        self.light.as_ref()?;
        // (Its own handle on the dispatcher: the span is changed meanwhile.)
        let dispatch = self.dispatch.clone();
        let switch = dispatch.downcast_ref::<Switch>()?;
        // A configuration loaded meanwhile never takes the span for its own.
        let generation = self.generation;
        let slot = self.slot;
        let span = switch.hand_over(generation, slot, || self.hand_over_to(switch));
        // Never tried again: what was done meanwhile (an enter that did nothing) stays as done.
        self.stale = span.is_none();
        span
    }

    /// [`Self::materialize`] inside [`Switch::hand_over`].
    fn hand_over_to(&mut self, switch: &Switch) -> Option<Span> {
        let meta = self.callsite.meta();
        let dispatch = &self.dispatch;
        let light_slot = &mut self.light;
        switch
            .with_detach(self.slot, self.generation, true, |detach| {
                let light = light_slot.take()?;
                let (span, left) = adopt(detach.settings().spans.owner(), light, || {
                    if !dispatch.enabled(meta) {
                        return None;
                    }
                    let empty: [(&tracing::field::Field, Option<&dyn tracing::Value>); 0] = [];
                    let values = meta.fields().value_set(&empty);
                    Some(Span::new_root_with(meta, &values, dispatch))
                });
                match left {
                    None => {
                        // The layer counted it opened again.
                        detach.counts().note_closed();
                        span
                    }
                    Some(light) => {
                        *light_slot = Some(light);
                        None
                    }
                }
            })
            .flatten()
    }
}

/// Emptied boxes of detached spans kept per thread for the next ones (a span's box is
/// allocated and freed on its thread): at most this many.
const SPARE_BOXES: usize = 64;

thread_local! {
    // Boxes, not values: they are kept for their allocations.
    #[allow(clippy::vec_box)]
    static SPARE: RefCell<Vec<Box<MaybeUninit<DetachedSpan>>>> = const { RefCell::new(Vec::new()) };
}

/// `span` in a box, a spare one of this thread's if there is one.
fn boxed(span: DetachedSpan) -> Box<DetachedSpan> {
    let spare = SPARE
        .try_with(|spare| spare.try_borrow_mut().ok()?.pop())
        .ok()
        .flatten();
    match spare {
        Some(spare) => {
            let place = Box::into_raw(spare).cast::<DetachedSpan>();
            // SAFETY: `place` is an allocation for a `DetachedSpan` (from `Box<MaybeUninit<_>>`),
            // written before the box takes it back.
            unsafe {
                place.write(span);
                Box::from_raw(place)
            }
        }
        None => Box::new(span),
    }
}

/// Drops `span` (ending it if it is still open) and keeps its box for the next span of this
/// thread.
pub(crate) fn recycle(span: Box<DetachedSpan>) {
    let place = Box::into_raw(span);
    // SAFETY: `place` holds a valid `DetachedSpan` (from a box), dropped once here; the
    // allocation is then handed back as uninitialized, as it now is.
    let spare = unsafe {
        std::ptr::drop_in_place(place);
        Box::from_raw(place.cast::<MaybeUninit<DetachedSpan>>())
    };
    let _ = SPARE.try_with(|list| {
        if let Ok(mut list) = list.try_borrow_mut() {
            if list.len() < SPARE_BOXES {
                list.push(spare);
            }
        }
    });
}

impl Drop for DetachedSpan {
    /// A span still open when its thread ends (its table dropped) ends then, as a registry
    /// span held by the table closes then.
    fn drop(&mut self) {
        self.end(None);
    }
}
