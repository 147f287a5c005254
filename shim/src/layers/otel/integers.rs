//! Unsigned integer fields as OpenTelemetry integers.
//!
//! `tracing-opentelemetry` 0.34 records `u8`…`u64` (and 128-bit) fields through their `Debug`
//! form, so `index: u32 = 4` would arrive as the string `"4"`. OTLP integers are `int64`; these
//! functions (used by the layer, `layer.rs`) hand on the same span, record or event with every
//! such value that fits an `i64` turned into one. Values that do not fit stay strings. Spans
//! and events without such fields pass through untouched (one cheap visit to find out).

use std::{error::Error, fmt};

use tracing::{
    field::{display, Field, Visit},
    span::{Attributes, Record},
    Event, Metadata,
};
use tracing_core::field::Value;

/// Calls `f` with `attrs`, or, when they hold unsigned integers, with the same attributes whose
/// integers that fit an `i64` are signed ones.
pub(super) fn with_signed_attributes(attrs: &Attributes<'_>, f: impl FnOnce(&Attributes<'_>)) {
    if !has_unsigned(|visitor| attrs.record(visitor)) {
        return f(attrs);
    }
    let metadata = attrs.metadata();
    let owned = OwnedValues::collect(metadata.fields().len(), |visitor| attrs.record(visitor));
    owned.with_values(|values| {
        let values = metadata.fields().value_set_all(values);
        let rebuilt = match attrs.parent() {
            Some(parent) => Attributes::child_of(parent.clone(), metadata, &values),
            None if attrs.is_root() => Attributes::new_root(metadata, &values),
            None => Attributes::new(metadata, &values),
        };
        f(&rebuilt)
    })
}

/// Like [`with_signed_attributes`], for values recorded later on a span of `metadata` (`None`:
/// the span is unknown, `values` go to `f` as they are).
pub(super) fn with_signed_record(
    metadata: Option<&'static Metadata<'static>>,
    values: &Record<'_>,
    f: impl FnOnce(&Record<'_>),
) {
    let metadata = match metadata {
        Some(metadata) if has_unsigned(|visitor| values.record(visitor)) => metadata,
        _ => return f(values),
    };
    let owned = OwnedValues::collect(metadata.fields().len(), |visitor| values.record(visitor));
    owned.with_values(|list| {
        let value_set = metadata.fields().value_set_all(list);
        f(&Record::new(&value_set))
    })
}

/// Like [`with_signed_attributes`], for an event (not for a record logged through `log`).
pub(super) fn with_signed_event(event: &Event<'_>, f: impl FnOnce(&Event<'_>)) {
    // A record logged through `log` has no fields of its own besides the message, and its
    // `log.line` must stay the `u64` that `tracing-log` reads back (`crate::log_bridge`).
    if crate::log_bridge::is_log(event) || !has_unsigned(|visitor| event.record(visitor)) {
        return f(event);
    }
    let metadata = event.metadata();
    let owned = OwnedValues::collect(metadata.fields().len(), |visitor| event.record(visitor));
    owned.with_values(|values| {
        let values = metadata.fields().value_set_all(values);
        let rebuilt = if event.is_contextual() {
            Event::new(metadata, &values)
        } else {
            Event::new_child_of(event.parent().cloned(), metadata, &values)
        };
        f(&rebuilt)
    })
}

fn has_unsigned(record: impl FnOnce(&mut dyn Visit)) -> bool {
    struct Finder(bool);
    impl Visit for Finder {
        fn record_u64(&mut self, _: &Field, _: u64) {
            self.0 = true;
        }
        fn record_u128(&mut self, _: &Field, _: u128) {
            self.0 = true;
        }
        fn record_i128(&mut self, _: &Field, _: i128) {
            self.0 = true;
        }
        fn record_debug(&mut self, _: &Field, _: &dyn fmt::Debug) {}
    }
    let mut finder = Finder(false);
    record(&mut finder);
    finder.0
}

/// A field value, owned so that it can be handed on in a new value set.
enum Owned {
    I64(i64),
    F64(f64),
    Bool(bool),
    Str(String),
    Debug(String),
    Error(OwnedError),
}

/// An error's text and source chain, kept as an error so that the inner layer still records
/// `exception.*` attributes for it.
#[derive(Debug)]
struct OwnedError {
    message: String,
    source: Option<Box<OwnedError>>,
}

impl OwnedError {
    fn new(error: &(dyn Error + 'static)) -> Self {
        Self {
            message: error.to_string(),
            source: error
                .source()
                .map(|source| Box::new(OwnedError::new(source))),
        }
    }
}

impl fmt::Display for OwnedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl Error for OwnedError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.source
            .as_deref()
            .map(|source| source as &(dyn Error + 'static))
    }
}

/// The values of one span, record or event, indexed like the fields of its callsite.
struct OwnedValues(Vec<Option<Owned>>);

impl OwnedValues {
    fn collect(field_count: usize, record: impl FnOnce(&mut dyn Visit)) -> Self {
        let mut values = OwnedValues((0..field_count).map(|_| None).collect());
        record(&mut values);
        values
    }

    fn set(&mut self, field: &Field, value: Owned) {
        if let Some(slot) = self.0.get_mut(field.index()) {
            *slot = Some(value);
        }
    }

    /// Lends the values as `tracing` values, in field order.
    fn with_values<R>(&self, f: impl FnOnce(&[Option<&dyn Value>]) -> R) -> R {
        // `str` and `dyn Error` are unsized: lend references to references of them.
        let strs: Vec<Option<&str>> = self
            .0
            .iter()
            .map(|value| match value {
                Some(Owned::Str(text)) => Some(text.as_str()),
                _ => None,
            })
            .collect();
        let errors: Vec<Option<&(dyn Error + 'static)>> = self
            .0
            .iter()
            .map(|value| match value {
                Some(Owned::Error(error)) => Some(error as &(dyn Error + 'static)),
                _ => None,
            })
            .collect();
        let debugs: Vec<Option<tracing::field::DisplayValue<&String>>> = self
            .0
            .iter()
            .map(|value| match value {
                Some(Owned::Debug(text)) => Some(display(text)),
                _ => None,
            })
            .collect();
        let values: Vec<Option<&dyn Value>> = self
            .0
            .iter()
            .enumerate()
            .map(|(index, value)| -> Option<&dyn Value> {
                match value.as_ref()? {
                    Owned::I64(number) => Some(number),
                    Owned::F64(number) => Some(number),
                    Owned::Bool(flag) => Some(flag),
                    Owned::Str(_) => strs[index].as_ref().map(|text| text as &dyn Value),
                    Owned::Debug(_) => debugs[index].as_ref().map(|text| text as &dyn Value),
                    Owned::Error(_) => errors[index].as_ref().map(|error| error as &dyn Value),
                }
            })
            .collect();
        f(&values)
    }
}

impl Visit for OwnedValues {
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.set(field, Owned::I64(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        let owned =
            i64::try_from(value).map_or_else(|_| Owned::Debug(value.to_string()), Owned::I64);
        self.set(field, owned);
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        let owned =
            i64::try_from(value).map_or_else(|_| Owned::Debug(value.to_string()), Owned::I64);
        self.set(field, owned);
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        let owned =
            i64::try_from(value).map_or_else(|_| Owned::Debug(value.to_string()), Owned::I64);
        self.set(field, owned);
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.set(field, Owned::F64(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.set(field, Owned::Bool(value));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.set(field, Owned::Str(value.to_owned()));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn Error + 'static)) {
        self.set(field, Owned::Error(OwnedError::new(value)));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.set(field, Owned::Debug(format!("{value:?}")));
    }
}
