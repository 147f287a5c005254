//! Callsites made at run time for spans and events that JavaScript creates.
//!
//! `tracing` wants `&'static Metadata` and a registered callsite per distinct (kind, level,
//! name, target, field names). Each distinct one is leaked once and kept in a table; asking
//! again returns the same id. The table is bounded ([`MAX_CALLSITES`]): past the bound, new
//! combinations get a shared *fallback* callsite per kind and level whose fields carry the real
//! name (`otel.name`, which OpenTelemetry layers use as the span name), target (`js.target`) and
//! the other fields as one `name=value` string (`js.fields`). So memory stays bounded however
//! many names a program makes up, at the price of coarser filtering for the overflow.

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicU8, Ordering},
        Mutex, Once, OnceLock, RwLock,
    },
};

use tracing::{subscriber::Interest, Level, Metadata};
use tracing_core::{callsite::Callsite, field::FieldSet, metadata::Kind};

use crate::error::{Error, ErrorKind};

/// How many distinct callsites JavaScript may create in one process before new ones share a
/// fallback callsite.
pub const MAX_CALLSITES: usize = 1024;

/// At most this many fields per span or event (`tracing`'s own limit for a value set).
pub const MAX_FIELDS: usize = 32;

/// The fields of a fallback span callsite.
pub const FALLBACK_SPAN_FIELDS: [&str; 3] = ["otel.name", "js.target", "js.fields"];
/// The fields of a fallback event callsite.
pub const FALLBACK_EVENT_FIELDS: [&str; 3] = ["message", "js.target", "js.fields"];

/// Set in a callsite id when it is a fallback callsite.
pub const FALLBACK_BIT: u32 = 0x8000_0000;

/// Whether a callsite describes a span or an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallsiteKind {
    /// A span.
    Span,
    /// An event.
    Event,
}

/// A callsite made at run time; leaked, so `'static`.
pub struct JsCallsite {
    metadata: OnceLock<Metadata<'static>>,
    /// 0 never, 1 sometimes, 2 always, 3 not yet known.
    interest: AtomicU8,
    registration: Once,
    /// Whether this is a shared fallback callsite.
    pub fallback: bool,
}

impl std::fmt::Debug for JsCallsite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsCallsite")
            .field("metadata", &self.metadata.get())
            .finish_non_exhaustive()
    }
}

impl Callsite for JsCallsite {
    fn set_interest(&self, interest: Interest) {
        let value = if interest.is_never() {
            0
        } else if interest.is_always() {
            2
        } else {
            1
        };
        self.interest.store(value, Ordering::Relaxed);
    }

    fn metadata(&self) -> &Metadata<'_> {
        self.metadata
            .get()
            .expect("metadata is set before registration")
    }
}

impl JsCallsite {
    /// The callsite's metadata.
    pub fn meta(&'static self) -> &'static Metadata<'static> {
        self.metadata
            .get()
            .expect("metadata is set before registration")
    }

    /// Whether the dispatcher said it never wants this callsite (cached by `tracing-core`).
    #[cfg_attr(not(feature = "otlp"), allow(dead_code))]
    pub(crate) fn is_never(&self) -> bool {
        self.interest.load(Ordering::Relaxed) == 0
    }

    /// Whether the current dispatcher wants spans or events of this callsite (like the macros).
    pub fn is_enabled(&'static self) -> bool {
        let meta = self.meta();
        if *meta.level() > tracing::level_filters::LevelFilter::current() {
            return false;
        }
        match self.interest.load(Ordering::Relaxed) {
            0 => false,
            2 => true,
            _ => tracing::dispatcher::get_default(|dispatch| dispatch.enabled(meta)),
        }
    }

    fn leak(
        kind: CallsiteKind,
        level: Level,
        name: &'static str,
        target: &'static str,
        fields: &'static [&'static str],
        fallback: bool,
    ) -> &'static JsCallsite {
        let callsite: &'static JsCallsite = Box::leak(Box::new(JsCallsite {
            metadata: OnceLock::new(),
            interest: AtomicU8::new(3),
            registration: Once::new(),
            fallback,
        }));
        let identifier = tracing_core::identify_callsite!(callsite);
        let meta_kind = match kind {
            CallsiteKind::Span => Kind::SPAN,
            CallsiteKind::Event => Kind::EVENT,
        };
        let _ = callsite.metadata.set(Metadata::new(
            name,
            target,
            level,
            None,
            None,
            None,
            FieldSet::new(fields, identifier),
            meta_kind,
        ));
        callsite
            .registration
            .call_once(|| tracing_core::callsite::register(callsite));
        callsite
    }
}

#[derive(Hash, PartialEq, Eq)]
struct Key {
    kind: CallsiteKind,
    level: Level,
    name: String,
    target: String,
    fields: Vec<String>,
}

/// The table of callsites: ids are indexes (from 1) into `list`.
pub struct Callsites {
    bound: usize,
    by_key: Mutex<HashMap<Key, u32>>,
    list: RwLock<Vec<&'static JsCallsite>>,
    fallbacks: Mutex<HashMap<(CallsiteKind, Level), u32>>,
}

impl std::fmt::Debug for Callsites {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Callsites")
            .field("bound", &self.bound)
            .finish_non_exhaustive()
    }
}

impl Callsites {
    /// An empty table that makes at most `bound` distinct callsites (fallbacks not counted).
    pub fn new(bound: usize) -> Self {
        Self {
            bound,
            by_key: Mutex::new(HashMap::new()),
            list: RwLock::new(Vec::new()),
            fallbacks: Mutex::new(HashMap::new()),
        }
    }

    /// The process-wide table.
    pub fn global() -> &'static Callsites {
        static GLOBAL: OnceLock<Callsites> = OnceLock::new();
        GLOBAL.get_or_init(|| Callsites::new(MAX_CALLSITES))
    }

    /// The callsite with `id` (without [`FALLBACK_BIT`]).
    pub fn get(&self, id: u32) -> Option<&'static JsCallsite> {
        let index = (id & !FALLBACK_BIT).checked_sub(1)? as usize;
        self.list
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(index)
            .copied()
    }

    /// How many callsites the table holds, fallbacks included.
    pub fn len(&self) -> usize {
        self.list
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The id of the callsite for this combination, made now if new. Has [`FALLBACK_BIT`] set
    /// when the table is full and the fallback callsite stands in.
    pub fn intern(
        &self,
        kind: CallsiteKind,
        level: Level,
        name: &str,
        target: &str,
        fields: &[&str],
    ) -> Result<u32, Error> {
        validate(kind, name, target, fields)?;
        let key = Key {
            kind,
            level,
            name: name.to_owned(),
            target: target.to_owned(),
            fields: fields.iter().map(|field| (*field).to_owned()).collect(),
        };
        let mut by_key = self
            .by_key
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(id) = by_key.get(&key) {
            return Ok(*id);
        }
        if by_key.len() >= self.bound {
            drop(by_key);
            return Ok(self.fallback(kind, level) | FALLBACK_BIT);
        }
        let leaked_fields: &'static [&'static str] = Box::leak(
            fields
                .iter()
                .map(|field| &*Box::leak((*field).to_owned().into_boxed_str()))
                .collect::<Vec<_>>()
                .into_boxed_slice(),
        );
        let callsite = JsCallsite::leak(
            kind,
            level,
            Box::leak(name.to_owned().into_boxed_str()),
            Box::leak(target.to_owned().into_boxed_str()),
            leaked_fields,
            false,
        );
        let id = self.push(callsite);
        by_key.insert(key, id);
        Ok(id)
    }

    fn fallback(&self, kind: CallsiteKind, level: Level) -> u32 {
        let mut fallbacks = self
            .fallbacks
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *fallbacks.entry((kind, level)).or_insert_with(|| {
            let (name, fields): (&'static str, &'static [&'static str]) = match kind {
                CallsiteKind::Span => ("js.span", &FALLBACK_SPAN_FIELDS),
                CallsiteKind::Event => ("js.event", &FALLBACK_EVENT_FIELDS),
            };
            self.push(JsCallsite::leak(kind, level, name, "js", fields, true))
        })
    }

    fn push(&self, callsite: &'static JsCallsite) -> u32 {
        let mut list = self
            .list
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        list.push(callsite);
        list.len() as u32
    }
}

fn validate(kind: CallsiteKind, name: &str, target: &str, fields: &[&str]) -> Result<(), Error> {
    let invalid = |message: String| Err(Error::new(ErrorKind::InvalidParameter, message));
    if kind == CallsiteKind::Span && (name.is_empty() || name.len() > 256) {
        return invalid(format!(
            "span name must be 1 to 256 bytes long, got {} bytes; name spans for the operation, \
             e.g. \"handle request\"",
            name.len()
        ));
    }
    if target.is_empty() || target.len() > 256 {
        return invalid(format!(
            "target must be 1 to 256 bytes long, got {} bytes (e.g. \"my_app::http\")",
            target.len()
        ));
    }
    if fields.len() > MAX_FIELDS {
        return invalid(format!(
            "{} fields given; a span or event has at most {MAX_FIELDS}",
            fields.len()
        ));
    }
    for (index, field) in fields.iter().enumerate() {
        if field.is_empty() || field.len() > 256 {
            return invalid(format!(
                "field name {index} must be 1 to 256 bytes long, got {} bytes",
                field.len()
            ));
        }
        if fields[..index].contains(field) {
            return invalid(format!("field name {field:?} is given twice"));
        }
    }
    Ok(())
}

/// Parses a level number: 1 trace, 2 debug, 3 info, 4 warn, 5 error.
pub fn level_from_number(level: u32) -> Result<Level, Error> {
    Ok(match level {
        1 => Level::TRACE,
        2 => Level::DEBUG,
        3 => Level::INFO,
        4 => Level::WARN,
        5 => Level::ERROR,
        _ => {
            return Err(Error::new(
                ErrorKind::InvalidParameter,
                format!("level must be 1 (trace) to 5 (error), got {level}"),
            ))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_combination_gets_the_same_id() {
        let table = Callsites::new(4);
        let first = table
            .intern(CallsiteKind::Span, Level::INFO, "a", "t", &["x"])
            .unwrap();
        let again = table
            .intern(CallsiteKind::Span, Level::INFO, "a", "t", &["x"])
            .unwrap();
        let other = table
            .intern(CallsiteKind::Span, Level::INFO, "a", "t", &["y"])
            .unwrap();
        assert_eq!(first, again);
        assert_ne!(first, other);
        assert_eq!(table.get(first).unwrap().meta().name(), "a");
        assert!(table
            .get(other)
            .unwrap()
            .meta()
            .fields()
            .field("y")
            .is_some());
    }

    #[test]
    fn past_the_bound_names_share_a_fallback_callsite() {
        let table = Callsites::new(2);
        for name in ["a", "b"] {
            let id = table
                .intern(CallsiteKind::Span, Level::INFO, name, "t", &[])
                .unwrap();
            assert_eq!(id & FALLBACK_BIT, 0);
        }
        let overflow: Vec<u32> = (0..100)
            .map(|index| {
                table
                    .intern(
                        CallsiteKind::Span,
                        Level::INFO,
                        &format!("n{index}"),
                        "t",
                        &[],
                    )
                    .unwrap()
            })
            .collect();
        assert!(overflow.iter().all(|id| id & FALLBACK_BIT != 0));
        assert!(overflow.iter().all(|id| *id == overflow[0]));
        let fallback = table.get(overflow[0]).unwrap();
        assert!(fallback.fallback);
        assert_eq!(fallback.meta().name(), "js.span");
        assert_eq!(
            table.len(),
            3,
            "two callsites and one fallback, nothing more"
        );
    }

    #[test]
    fn bad_names_and_levels_are_typed_errors() {
        let table = Callsites::new(4);
        let error = table
            .intern(CallsiteKind::Span, Level::INFO, "", "t", &[])
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidParameter);
        assert!(error.message().contains("span name"));
        let error = table
            .intern(CallsiteKind::Span, Level::INFO, "a", "t", &["x", "x"])
            .unwrap_err();
        assert!(error.message().contains("twice"));
        assert_eq!(
            level_from_number(0).unwrap_err().kind(),
            ErrorKind::InvalidParameter
        );
        assert_eq!(level_from_number(3).unwrap(), Level::INFO);
    }
}
