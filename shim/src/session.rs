//! A configured subscriber and its installation, globally or on the current thread.

use std::{
    any::Any,
    cell::RefCell,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc, Mutex, MutexGuard,
    },
    thread::{self, ThreadId},
};

use tracing::dispatcher::DefaultGuard;
use tracing_subscriber::filter::EnvFilter;

use crate::{
    config::{Config, LayerConfig, RuntimeConfig},
    diagnostics::{self, Diagnostics, LayerFacts},
    dispatch::{dispatching_now, SlotLayerConfig, Switch, MAX_LAYERS},
    error::{Error, ErrorKind},
    filter::{fallback_filter, parse_filter},
    js_spans,
    layers::{fmt, BuiltLayer, LayerLifecycle},
};

/// Checks the combination of layers in `config`, before any is built.
fn check_combination(config: &Config) -> Result<(), Error> {
    crate::layers::check_at_most_one_otel(
        config
            .layers
            .iter()
            .enumerate()
            .filter(|(_, layer)| matches!(layer, LayerConfig::Otlp(_) | LayerConfig::OtlpJson(_)))
            .map(|(index, _)| index),
    )
}

/// Builds the layer described by `config`, at `index` in its config; `field` names it in
/// error messages; `runtime` is the document's; `shared` what the config's layers share. One
/// line per layer kind.
fn build_layer(
    config: &LayerConfig,
    field: &str,
    index: usize,
    runtime: Option<&RuntimeConfig>,
    shared: &mut ConfigShared,
) -> Result<BuiltLayer, Error> {
    // A kind whose cargo feature is off: a typed error naming the feature.
    let disabled = |feature: &str| -> Result<BuiltLayer, Error> {
        Err(Error::feature_disabled(
            field,
            &format!("layer kind \"{}\"", config.kind()),
            feature,
        ))
    };
    let _ = (&disabled, index, runtime, &shared);
    match config {
        LayerConfig::Fmt(config) => fmt::build(config, field),
        #[cfg(feature = "js")]
        LayerConfig::Js(config) => {
            crate::layers::js::build(config, field, index, &mut shared.js_spans)
        }
        #[cfg(feature = "timeline")]
        LayerConfig::Timeline(config) => crate::layers::timeline::build(config, field),
        #[cfg(feature = "flame")]
        LayerConfig::Flame(config) => crate::layers::flame::build(config, field),
        #[cfg(feature = "otlp")]
        LayerConfig::Otlp(config) => crate::layers::otel::build_otlp(config, field, runtime),
        #[cfg(feature = "otlp")]
        LayerConfig::OtlpJson(config) => {
            crate::layers::otel::build_otlp_json(config, field, runtime)
        }
        #[cfg(not(feature = "js"))]
        LayerConfig::Js(_) => disabled("js"),
        #[cfg(not(feature = "timeline"))]
        LayerConfig::Timeline(_) => disabled("timeline"),
        #[cfg(not(feature = "flame"))]
        LayerConfig::Flame(_) => disabled("flame"),
        #[cfg(not(feature = "otlp"))]
        LayerConfig::Otlp(_) | LayerConfig::OtlpJson(_) => disabled("otlp"),
    }
}

/// What the layers of one config share, made by the first that needs it.
#[derive(Default)]
struct ConfigShared {
    /// The JS layers' spans.
    #[cfg(feature = "js")]
    js_spans: Option<Arc<crate::layers::js::SpanTable>>,
}

/// What a layer's kind handed over besides the layer ([`BuiltLayer::extension`]).
type Extension = Arc<dyn Any + Send + Sync>;

/// A subscriber built from a [`Config`]: not installed until [`Session::install_global`] or
/// [`Session::install_current_thread`], uninstalled by [`Session::uninstall`] or on drop.
pub struct Session {
    /// The layers until installed; behind a lock so that shutting down a session that was never
    /// installed (which needs only `&self`) can drop them first.
    pending: Mutex<Option<PendingLayers>>,
    layer_count: usize,
    lifecycles: Arc<Lifecycles>,
    /// Per layer, in config order.
    extensions: Vec<Option<Extension>>,
    /// Behind a lock so that stopping needs only `&self`: another thread may flush meanwhile.
    installed: Mutex<Installed>,
    /// Set once this session is stopped; read by the owner-thread watch (see [`OwnerWatch`]).
    stopped: Arc<AtomicBool>,
    /// For the diagnostics: per layer, its kind and whether it received anything.
    received: Vec<(&'static str, Arc<AtomicBool>)>,
    /// For the diagnostics: the filters in effect, as `EnvFilter` prints them.
    filters: Mutex<FilterTexts>,
    /// [`diagnostics::js_spans_dropped`] when installed.
    js_dropped_at_install: AtomicU64,
}

/// The filters of a session as text: the config's, and each layer's own.
struct FilterTexts {
    global: Option<String>,
    layers: Vec<Option<String>>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("installed", &*self.lock_installed())
            .finish_non_exhaustive()
    }
}

struct PendingLayers {
    global_filter: Option<EnvFilter>,
    layers: Vec<SlotLayerConfig>,
}

#[derive(Debug)]
enum Installed {
    NotYet,
    Global {
        generation: u64,
        switch: Arc<Switch>,
    },
    CurrentThread {
        thread: ThreadId,
        key: u64,
        switch: Arc<Switch>,
    },
    Finished,
}

static NEXT_GENERATION: AtomicU64 = AtomicU64::new(1);

impl Session {
    /// Builds every layer and filter of `config`: files are opened and filters parsed now, so
    /// that errors surface before anything is installed.
    pub fn new(config: &Config) -> Result<Self, Error> {
        if config.layers.len() > MAX_LAYERS {
            return Err(Error::invalid_config(format!(
                "layers: {} layers given, at most {MAX_LAYERS} are supported per config; \
                 combine them or use fewer",
                config.layers.len()
            )));
        }
        check_combination(config)?;
        let global_filter = match &config.filter {
            Some(directives) => Some(parse_filter(directives, "filter")?),
            None if !config.has_any_filter() => Some(fallback_filter()?),
            None => None,
        };
        let mut layers = Vec::with_capacity(config.layers.len());
        let mut lifecycles = Vec::with_capacity(config.layers.len());
        let mut extensions = Vec::with_capacity(config.layers.len());
        let mut received = Vec::with_capacity(config.layers.len());
        let mut filter_texts = Vec::with_capacity(config.layers.len());
        let mut shared = ConfigShared::default();
        for (index, layer_config) in config.layers.iter().enumerate() {
            let field = format!("layers[{index}]");
            let filter = layer_config
                .filter()
                .map(|directives| parse_filter(directives, &format!("{field}.filter")))
                .transpose()?;
            let built = build_layer(
                layer_config,
                &field,
                index,
                config.runtime.as_ref(),
                &mut shared,
            )?;
            lifecycles.push(built.lifecycle);
            extensions.push(built.extension);
            let flag = Arc::new(AtomicBool::new(false));
            received.push((layer_config.kind(), Arc::clone(&flag)));
            filter_texts.push(filter.as_ref().map(ToString::to_string));
            layers.push(SlotLayerConfig {
                layer: built.layer,
                enter_exit: built.enter_exit,
                filter,
                received: flag,
            });
        }
        let filters = Mutex::new(FilterTexts {
            global: global_filter.as_ref().map(ToString::to_string),
            layers: filter_texts,
        });
        Ok(Self {
            received,
            filters,
            js_dropped_at_install: AtomicU64::new(0),
            layer_count: layers.len(),
            pending: Mutex::new(Some(PendingLayers {
                global_filter,
                layers,
            })),
            lifecycles: Arc::new(Lifecycles {
                list: lifecycles,
                shut_down: Mutex::new(false),
            }),
            extensions,
            installed: Mutex::new(Installed::NotYet),
            stopped: Arc::new(AtomicBool::new(false)),
        })
    }

    /// Parses `json` as a [`Config`] and builds it.
    pub fn from_json(json: &str) -> Result<Self, Error> {
        Self::new(&Config::from_json(json)?)
    }

    /// Makes this subscriber receive what every thread of this library records.
    ///
    /// At most one session is installed globally at a time; after it is uninstalled, another
    /// may be installed.
    pub fn install_global(&mut self) -> Result<(), Error> {
        drop_deferred_guards();
        let pending = self.take_pending()?;
        let mut global = lock_global();
        if global.active.is_some() {
            return Err(Error::new(
                ErrorKind::GlobalAlreadyActive,
                "a global tracing config is already active in this library; dispose it before \
                 starting another, or use a current-thread config",
            ));
        }
        let switch = match &global.switch {
            Some(switch) => Arc::clone(switch),
            None => {
                let (switch, dispatch) = Switch::new();
                tracing::dispatcher::set_global_default(dispatch).map_err(|_| {
                    Error::new(
                        ErrorKind::GlobalDefaultTaken,
                        "tracing's global default dispatcher in this library was already set by \
                         other code (for example `tracing_subscriber::fmt().init()`); remove that \
                         call or use a current-thread config",
                    )
                })?;
                global.switch = Some(Arc::clone(&switch));
                switch
            }
        };
        let generation = NEXT_GENERATION.fetch_add(1, Ordering::Relaxed);
        self.js_dropped_at_install
            .store(diagnostics::js_spans_dropped(), Ordering::Relaxed);
        switch.load(generation, pending.global_filter, pending.layers);
        crate::log_bridge::on_enter();
        global.active = Some(generation);
        self.watch_owner_thread(Some(generation), None);
        *self.lock_installed() = Installed::Global { generation, switch };
        Ok(())
    }

    /// Makes this subscriber receive what the calling thread records, and only that.
    ///
    /// Spans and events of other threads, including threads this thread starts, do not reach it.
    pub fn install_current_thread(&mut self) -> Result<(), Error> {
        drop_deferred_guards();
        if dispatching_now() {
            // `tracing-core` borrows the thread's dispatcher for the whole dispatch; replacing
            // it now would panic inside `tracing-core`.
            return Err(Error::new(
                ErrorKind::Reentrant,
                "a current-thread tracing config cannot be entered while this thread is \
                 dispatching a span or event (from inside a JS layer callback called for a \
                 record made on this thread); enter it after the callback returns, e.g. in \
                 queueMicrotask(), or use a global config",
            ));
        }
        let pending = self.take_pending()?;
        let (switch, dispatch) = Switch::new();
        let generation = NEXT_GENERATION.fetch_add(1, Ordering::Relaxed);
        let key = generation;
        THREAD_GUARDS.with(|guards| {
            guards
                .borrow_mut()
                .push((key, tracing::dispatcher::set_default(&dispatch)))
        });
        self.js_dropped_at_install
            .store(diagnostics::js_spans_dropped(), Ordering::Relaxed);
        // Loaded only now: when this is the only live dispatcher, `tracing-core` rebuilds
        // callsite interest from the calling thread's default, which must already be this one.
        switch.load(generation, pending.global_filter, pending.layers);
        crate::log_bridge::on_enter();
        self.watch_owner_thread(None, Some(Arc::clone(&switch)));
        *self.lock_installed() = Installed::CurrentThread {
            thread: thread::current().id(),
            key,
            switch,
        };
        Ok(())
    }

    /// What the layer at `index` in the config handed over besides itself, if it is a `T`:
    /// for a JS layer, its [`JsSink`](crate::layers::js::JsSink).
    pub fn layer_extension<T: Any + Send + Sync>(&self, index: usize) -> Option<&T> {
        self.extensions.get(index)?.as_deref()?.downcast_ref()
    }

    /// Every layer's extension that is a `T`, with the layer's index in the config.
    pub fn layer_extensions<T: Any + Send + Sync>(&self) -> impl Iterator<Item = (usize, &T)> {
        self.extensions
            .iter()
            .enumerate()
            .filter_map(|(index, extension)| Some((index, extension.as_deref()?.downcast_ref()?)))
    }

    /// Whether the session is installed now.
    pub fn is_installed(&self) -> bool {
        matches!(
            *self.lock_installed(),
            Installed::Global { .. } | Installed::CurrentThread { .. }
        )
    }

    fn lock_installed(&self) -> MutexGuard<'_, Installed> {
        // Every write under the lock is one assignment.
        self.installed
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// When the installing thread ends without stopping this session (a terminated Worker
    /// whose JavaScript can no longer dispose it), releases what it holds: the global slot
    /// (`global`), whatever the layers tie to that thread ([`LayerLifecycle::owner_thread_ended`]:
    /// the JS layers' link to its memory), and the layers themselves, shut down on a thread of
    /// their own.
    fn watch_owner_thread(&self, global: Option<u64>, current_thread: Option<Arc<Switch>>) {
        let watch = OwnerWatch {
            stopped: Arc::clone(&self.stopped),
            global,
            current_thread,
            lifecycles: Arc::clone(&self.lifecycles),
        };
        // A thread that is being torn down has no thread-locals left: nothing to watch then.
        let _ = OWNER_WATCHES.try_with(|watches| {
            let mut watches = watches.borrow_mut();
            watches.retain(|watch| !watch.stopped.load(Ordering::Acquire));
            watches.push(watch);
        });
    }

    /// Replaces the config's global filter while installed, without reinstalling: what is
    /// recorded changes at once. Invalid `directives` leave the current filter in place.
    pub fn set_filter(&self, directives: &str) -> Result<(), Error> {
        let (switch, generation) = self.installed_switch("change the filter")?;
        let filter = parse_new_filter(directives, "the new filter")?;
        let text = filter.to_string();
        if switch.set_global_filter(generation, filter) {
            self.lock_filters().global = Some(text);
            Ok(())
        } else {
            Err(no_longer_installed())
        }
    }

    /// Replaces the own filter of the layer at `index` (its position in the config's `layers`)
    /// while installed. Invalid `directives` leave the current filter in place.
    pub fn set_layer_filter(&self, index: usize, directives: &str) -> Result<(), Error> {
        let (switch, generation) = self.installed_switch("change a layer's filter")?;
        if index >= self.layer_count {
            return Err(Error::invalid_config(format!(
                "layer index {index} is out of range: this config has {} layer(s), numbered \
                 from 0 in the order of `layers`",
                self.layer_count
            )));
        }
        let filter = parse_new_filter(directives, &format!("the new filter of layers[{index}]"))?;
        let text = filter.to_string();
        if switch.set_layer_filter(generation, index, filter) {
            self.lock_filters().layers[index] = Some(text);
            Ok(())
        } else {
            Err(no_longer_installed())
        }
    }

    fn lock_filters(&self) -> MutexGuard<'_, FilterTexts> {
        self.filters
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Why layers received nothing, if they did not: the targets their filters name that the
    /// library's callsites lack, and the JavaScript spans every filter dropped since this
    /// session was installed (see [`Diagnostics`]). Also after it was stopped.
    pub fn diagnostics(&self) -> Diagnostics {
        let filters = self.lock_filters();
        let layers: Vec<LayerFacts<'_>> = self
            .received
            .iter()
            .zip(&filters.layers)
            .map(|((kind, received), filter)| LayerFacts {
                kind,
                received: received.load(Ordering::Relaxed),
                filter: filter.as_deref(),
            })
            .collect();
        diagnostics::analyse(
            filters.global.as_deref(),
            &layers,
            self.js_dropped_at_install.load(Ordering::Relaxed),
        )
    }

    fn installed_switch(&self, action: &str) -> Result<(Arc<Switch>, u64), Error> {
        match &*self.lock_installed() {
            Installed::Global { generation, switch } => Ok((Arc::clone(switch), *generation)),
            Installed::CurrentThread { key, switch, .. } => Ok((Arc::clone(switch), *key)),
            Installed::NotYet | Installed::Finished => Err(Error::new(
                ErrorKind::NotInstalled,
                format!("cannot {action}: this tracing subscriber is not installed"),
            )),
        }
    }

    /// Writes out everything the layers buffer. Returns the first error, after trying all.
    pub fn flush(&self) -> Result<(), Error> {
        first_error(
            self.lifecycles
                .list
                .iter()
                .map(|lifecycle| lifecycle.flush()),
        )
    }

    /// Stops this subscriber receiving data, then flushes and shuts down its layers.
    ///
    /// A current-thread session must be uninstalled on the thread that installed it.
    pub fn uninstall(&self) -> Result<(), Error> {
        self.stop()?;
        self.shutdown_layers()
    }

    /// Stops this subscriber receiving data, like [`Session::uninstall`], but leaves its layers
    /// running: call [`Session::shutdown_layers`] next, from any thread (so that a slow export
    /// need not block the thread that stops the session).
    ///
    /// Safe from inside a layer's callback (for example a JS layer's, while the record that
    /// called it is still being dispatched): a current-thread dispatcher that is in use at that
    /// moment is released at this thread's next install, stop or free instead.
    pub fn stop(&self) -> Result<(), Error> {
        // First, while the layers still receive and without the lock (ending a span runs the
        // layers, whose callbacks may call back into this session): the spans JavaScript made
        // on this thread under this config and has not ended.
        let recording = match &*self.lock_installed() {
            Installed::Global { generation, switch } => Some((Arc::clone(switch), *generation)),
            Installed::CurrentThread {
                thread,
                key,
                switch,
                ..
            } if *thread == thread::current().id() => Some((Arc::clone(switch), *key)),
            _ => None,
        };
        if let Some((switch, generation)) = recording {
            end_js_spans(&switch, generation);
        }
        let mut installed = self.lock_installed();
        match &*installed {
            Installed::NotYet | Installed::Finished => {
                return Err(Error::new(
                    ErrorKind::NotInstalled,
                    "this tracing subscriber is not installed",
                ))
            }
            Installed::Global { generation, .. } => release_global(*generation),
            Installed::CurrentThread {
                thread,
                key,
                switch,
            } => {
                if *thread != thread::current().id() {
                    return Err(Error::new(
                        ErrorKind::WrongThread,
                        "a current-thread tracing config must be disposed on the thread that \
                         started it",
                    ));
                }
                switch.clear();
                let key = *key;
                let removed = THREAD_GUARDS.with(|guards| {
                    let mut guards = guards.borrow_mut();
                    guards
                        .iter()
                        .position(|(candidate, _)| *candidate == key)
                        .map(|index| guards.remove(index))
                });
                if let Some((_, guard)) = removed {
                    if dispatching_now() {
                        // Dropping the guard now would replace the thread's dispatcher while
                        // `tracing` still borrows it (a panic inside `tracing-core`).
                        DEFERRED_GUARDS.with(|deferred| deferred.borrow_mut().push(guard));
                    } else {
                        drop(guard);
                        drop_deferred_guards();
                    }
                }
            }
        }
        *installed = Installed::Finished;
        self.stopped.store(true, Ordering::Release);
        let _ = OWNER_WATCHES.try_with(|watches| {
            if let Ok(mut watches) = watches.try_borrow_mut() {
                watches.retain(|watch| !watch.stopped.load(Ordering::Acquire));
            }
        });
        Ok(())
    }

    /// Flushes and shuts down the layers (once; later calls do nothing), exporting what they
    /// buffer and joining their threads, each within its own timeout. Safe to call from any
    /// thread, also while another thread flushes. A call while another thread shuts the layers
    /// down returns once that shutdown is done.
    pub fn shutdown_layers(&self) -> Result<(), Error> {
        // Never installed: the layers die here, so that the layers' shutdown sees them gone.
        let pending = self
            .pending
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        drop(pending);
        self.lifecycles.shutdown()
    }

    /// How many records the layers could not deliver so far, summed over layers (see
    /// [`LayerLifecycle::dropped`]); named after the C ABI's and JavaScript's `droppedSpans`.
    pub fn dropped_spans(&self) -> u64 {
        self.lifecycles
            .list
            .iter()
            .map(|lifecycle| lifecycle.dropped())
            .sum()
    }

    fn take_pending(&mut self) -> Result<PendingLayers, Error> {
        let pending = self
            .pending
            .get_mut()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        pending.take().ok_or_else(|| {
            Error::new(
                ErrorKind::AlreadyInstalled,
                "this tracing subscriber was already installed; build a new one from the config",
            )
        })
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if let Installed::CurrentThread { switch, thread, .. } = &*self.lock_installed() {
            if *thread != thread::current().id() {
                // The guard lives in the other thread; make its dispatcher inert instead.
                switch.clear();
                self.stopped.store(true, Ordering::Release);
                return;
            }
        }
        if self.is_installed() {
            if let Err(error) = self.uninstall() {
                eprintln!("tracing-bridge: while dropping a subscriber: {error}");
            }
        } else if matches!(*self.lock_installed(), Installed::Finished) {
            if let Err(error) = self.shutdown_layers() {
                eprintln!("tracing-bridge: while dropping a subscriber: {error}");
            }
        }
    }
}

struct GlobalState {
    switch: Option<Arc<Switch>>,
    active: Option<u64>,
}

static GLOBAL: Mutex<GlobalState> = Mutex::new(GlobalState {
    switch: None,
    active: None,
});

fn lock_global() -> MutexGuard<'static, GlobalState> {
    // A panic while holding the lock leaves the state consistent: every write is one assignment.
    GLOBAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

thread_local! {
    static THREAD_GUARDS: RefCell<Vec<(u64, DefaultGuard)>> = const { RefCell::new(Vec::new()) };
    /// Guards of stopped sessions whose dispatcher was in use when they stopped.
    static DEFERRED_GUARDS: RefCell<Vec<DefaultGuard>> = const { RefCell::new(Vec::new()) };
    /// Sessions installed by this thread, released if it ends before stopping them.
    static OWNER_WATCHES: RefCell<Vec<OwnerWatch>> = const { RefCell::new(Vec::new()) };
}

/// Drops the guards deferred by [`Session::stop`], newest first, once no dispatch is running.
pub(crate) fn drop_deferred_guards() {
    if dispatching_now() {
        return;
    }
    let deferred = DEFERRED_GUARDS
        .try_with(|deferred| std::mem::take(&mut *deferred.borrow_mut()))
        .unwrap_or_default();
    for guard in deferred.into_iter().rev() {
        drop(guard);
    }
}

/// The layers' lifecycles, shut down once (by dispose, drop, or the owner-thread watch).
struct Lifecycles {
    list: Vec<Arc<dyn LayerLifecycle>>,
    /// Whether the layers were shut down; held while they are being shut down.
    shut_down: Mutex<bool>,
}

impl Lifecycles {
    /// Shuts every layer down the first time; later calls do nothing, and a call while another
    /// thread shuts them down waits until it is done (the exit hook relies on it: when it
    /// returns, the layers are shut down). Returns the first error.
    fn shutdown(&self) -> Result<(), Error> {
        let mut shut_down = self
            .shut_down
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if *shut_down {
            return Ok(());
        }
        *shut_down = true;
        first_error(self.list.iter().map(|lifecycle| lifecycle.shutdown()))
    }

    fn is_shut_down(&self) -> bool {
        // Being shut down counts as shut down.
        self.shut_down
            .try_lock()
            .map_or(true, |shut_down| *shut_down)
    }
}

/// Ends the spans JavaScript made on this thread under the config loaded into `switch` as
/// `generation` and has not ended: they are ended (and exported) now, while the layers still
/// receive, instead of ending unseen after the config stopped. See
/// [`crate::js_spans::spans::end_recorded_by`].
fn end_js_spans(switch: &Arc<Switch>, generation: u64) {
    js_spans::spans::end_recorded_by(switch, generation);
}

/// Frees the global slot if the session of `generation` still holds it; its layers no longer
/// receive anything.
fn release_global(generation: u64) {
    let mut global = lock_global();
    if global.active == Some(generation) {
        if let Some(switch) = &global.switch {
            switch.clear();
        }
        global.active = None;
    }
}

/// A session as seen from the thread that installed it; see [`Session::watch_owner_thread`].
struct OwnerWatch {
    stopped: Arc<AtomicBool>,
    /// The generation, when the session was installed globally.
    global: Option<u64>,
    /// The switch, when the session was installed for the thread: emptied when the thread
    /// ends (spans made there may still end on other threads), as `Session`'s drop does.
    current_thread: Option<Arc<Switch>>,
    lifecycles: Arc<Lifecycles>,
}

impl Drop for OwnerWatch {
    fn drop(&mut self) {
        if self.stopped.swap(true, Ordering::AcqRel) {
            return;
        }
        // The owning thread ended with the session installed.
        for lifecycle in &self.lifecycles.list {
            lifecycle.owner_thread_ended();
        }
        if let Some(generation) = self.global {
            release_global(generation);
        }
        if let Some(switch) = &self.current_thread {
            switch.clear();
        }
        if self.lifecycles.is_shut_down() {
            return;
        }
        let lifecycles = Arc::clone(&self.lifecycles);
        let shutdown = move || {
            if let Err(error) = lifecycles.shutdown() {
                eprintln!(
                    "tracing-bridge: shutting down the layers of a thread that ended without \
                     disposing its tracing: {error}"
                );
            }
        };
        if thread::Builder::new()
            .name("tracing-bridge-orphan".into())
            .spawn(shutdown)
            .is_err()
        {
            eprintln!("tracing-bridge: could not start a thread to shut down an orphaned tracing");
        }
    }
}

fn parse_new_filter(directives: &str, origin: &str) -> Result<EnvFilter, Error> {
    parse_filter(directives, origin).map_err(|error| {
        Error::new(
            error.kind(),
            format!("{}; the previous filter stays in effect", error.message()),
        )
    })
}

fn no_longer_installed() -> Error {
    Error::new(
        ErrorKind::NotInstalled,
        "this tracing subscriber is no longer installed",
    )
}

fn first_error(results: impl Iterator<Item = Result<(), Error>>) -> Result<(), Error> {
    let mut first = Ok(());
    for result in results {
        if first.is_ok() {
            first = result;
        }
    }
    first
}
