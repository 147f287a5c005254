//! The `log` crate bridge: records logged through `log` (by the library or any of its
//! dependencies) reach the layers as `tracing` events, inside the current span, filtered by
//! their own target and level like any event.
//!
//! Each library that embeds this crate links its own copy of `log`, with its own logger. The
//! first session entered in a library (installed globally or on a thread) makes `tracing-log`'s
//! `LogTracer` that copy's logger, if it has none yet; if other code set one first, a note on
//! stderr says so, once, and `log` records keep going to that logger. `LogTracer` hands each
//! record to the calling thread's current dispatcher, so global and current-thread sessions
//! both receive it, and it stays the logger after sessions end (with no session, nothing wants
//! the records and `log`'s max level is `Off`).
//!
//! `LogTracer` asks the dispatcher whether it wants a record with the record's own metadata
//! (target, level, file, line), so the global filter and every layer's own filter see the real
//! target; it then dispatches the record through one of `tracing-log`'s five callsites (target
//! `log`, the real metadata in `log.target`, `log.module_path`, `log.file` and `log.line`
//! fields). Layers show such an event through [`normalized_metadata`] and record its fields
//! through [`record_fields`], which leaves the `log.*` fields out: the `fmt` layer does the same
//! inside `tracing-subscriber`, and the OpenTelemetry layers inside `tracing-opentelemetry`
//! (both with their `tracing-log` feature).
//!
//! `log`'s max level (the `log` macros' cheap first check) follows the filters: whenever they
//! change ([`filters_changed`], after a session is loaded or stopped and after `setFilter` and
//! `setLayerFilter`) it is set to `tracing`'s current max level, the most verbose level any
//! installed filter lets through. A logger set by other code keeps the max level it set.
//!
//! Without the `log` cargo feature, nothing is installed and every event is shown as it is.

use std::ops::Deref;

use tracing::{
    field::{Field, Visit},
    Event, Metadata,
};

/// An event's metadata as layers show it: for a record logged through `log`, the record's own
/// target, module path, file and line (name `log event`, one field, `message`); for any other
/// event, its own metadata.
#[derive(Debug)]
pub(crate) struct NormalizedMetadata<'a> {
    event: &'static Metadata<'static>,
    log: Option<Metadata<'a>>,
}

impl NormalizedMetadata<'_> {
    /// Whether the event is a record logged through `log`.
    pub(crate) fn is_log(&self) -> bool {
        self.log.is_some()
    }

    /// [`record_fields`] for the event these are the metadata of, without asking again
    /// whether it was logged through `log`.
    pub(crate) fn record_fields(&self, event: &Event<'_>, visitor: &mut dyn Visit) {
        if self.is_log() {
            event.record(&mut WithoutLogFields(visitor));
        } else {
            event.record(visitor);
        }
    }

    /// The event's metadata when it is `'static`: that of an event that was not logged through
    /// `log` (whose callsite layers may key caches by).
    pub(crate) fn static_metadata(&self) -> Option<&'static Metadata<'static>> {
        (!self.is_log()).then_some(self.event)
    }
}

impl<'a> Deref for NormalizedMetadata<'a> {
    type Target = Metadata<'a>;

    fn deref(&self) -> &Metadata<'a> {
        self.log.as_ref().unwrap_or(self.event)
    }
}

/// The metadata layers show for `event` (see [`NormalizedMetadata`]). This is the one place
/// that knows how a `log` record travels as an event: a layer that shows an event's target,
/// code location or level (the OTLP logs layer too) takes them from here.
pub(crate) fn normalized_metadata<'a>(event: &'a Event<'a>) -> NormalizedMetadata<'a> {
    #[cfg(feature = "log")]
    let log = tracing_log::NormalizeEvent::normalized_metadata(event);
    #[cfg(not(feature = "log"))]
    let log = None;
    NormalizedMetadata {
        event: event.metadata(),
        log,
    }
}

/// Records `event`'s fields into `visitor`, leaving out the `log.*` fields of a record logged
/// through `log` (its metadata, shown by [`normalized_metadata`]). Of such a record only
/// `message` remains, with index 0 both in the event's field set and in the normalized one.
pub(crate) fn record_fields(event: &Event<'_>, visitor: &mut dyn Visit) {
    if is_log(event) {
        event.record(&mut WithoutLogFields(visitor));
    } else {
        event.record(visitor);
    }
}

/// Whether `event` is a record logged through `log`.
pub(crate) fn is_log(event: &Event<'_>) -> bool {
    #[cfg(feature = "log")]
    return tracing_log::NormalizeEvent::is_log(event);
    #[cfg(not(feature = "log"))]
    {
        let _ = event;
        false
    }
}

/// Hands every field but the `log.*` ones on, each through the method it came by.
struct WithoutLogFields<'v>(&'v mut dyn Visit);

macro_rules! forward_unless_log_field {
    ($($method:ident($type:ty)),* $(,)?) => {
        $(
            fn $method(&mut self, field: &Field, value: $type) {
                if !field.name().starts_with("log.") {
                    self.0.$method(field, value);
                }
            }
        )*
    };
}

impl Visit for WithoutLogFields<'_> {
    forward_unless_log_field!(
        record_debug(&dyn std::fmt::Debug),
        record_str(&str),
        record_u64(u64),
        record_i64(i64),
        record_f64(f64),
        record_bool(bool),
        record_u128(u128),
        record_i128(i128),
        record_bytes(&[u8]),
        record_error(&(dyn std::error::Error + 'static)),
    );
}

/// Called when a session is entered: makes `LogTracer` this library's `log` logger the first
/// time (or notes once that other code set one), then brings `log`'s max level in step.
pub(crate) fn on_enter() {
    #[cfg(feature = "log")]
    {
        let _ = logger();
        sync_max_level();
    }
}

/// Called after anything that changes what the installed filters let through: rebuilds the
/// callsites' cached interest (which recomputes `tracing`'s max level) and sets `log`'s max
/// level from it.
pub(crate) fn filters_changed() {
    tracing_core::callsite::rebuild_interest_cache();
    #[cfg(feature = "log")]
    sync_max_level();
}

/// Who `log`'s logger in this library is.
#[cfg(feature = "log")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Logger {
    /// `LogTracer`, set by [`on_enter`].
    Bridge,
    /// Set by other code before the first session was entered.
    Other,
}

#[cfg(feature = "log")]
static LOGGER: std::sync::OnceLock<Logger> = std::sync::OnceLock::new();

/// Sets `LogTracer` as the logger on the first call; the outcome is final (`log` takes a
/// logger once per process).
#[cfg(feature = "log")]
fn logger() -> Logger {
    *LOGGER.get_or_init(
        || match log::set_boxed_logger(Box::new(tracing_log::LogTracer::new())) {
            Ok(()) => Logger::Bridge,
            Err(_) => {
                eprintln!(
                    "tracing-bridge: the `log` crate in this library already has a logger, set by \
                     other code (for example `env_logger::init()`), so records logged through \
                     `log` go to that logger and not to tracing-bridge's layers; remove that call \
                     (tracing-bridge installs its own `log` bridge when a config is started), or \
                     build tracing-bridge without its `log` feature to silence this note"
                );
                Logger::Other
            }
        },
    )
}

#[cfg(feature = "log")]
fn sync_max_level() {
    if LOGGER.get() == Some(&Logger::Bridge) {
        use tracing_log::AsLog;
        log::set_max_level(tracing_core::LevelFilter::current().as_log());
    }
}
