//! Field values, captured on the recording thread before the queue lock is taken, so that no
//! user `Debug`/`Display` code runs while the lock is held.

use std::fmt::{self, Write as _};

use tracing::field::{Field, Visit};

use super::wire::MAX_SAFE_INTEGER;

/// One captured value. Strings live in [`CapturedFields::text`].
#[derive(Debug, Clone, Copy)]
pub(crate) enum Captured {
    Text { start: usize, end: usize },
    Number(f64),
    I64(i64),
    U64(u64),
    Bool(bool),
    BigInt { start: usize, end: usize },
    Bytes { start: usize, end: usize },
}

/// The fields of one span or event, by field index.
#[derive(Debug, Default)]
pub(crate) struct CapturedFields {
    pub(crate) values: Vec<(u8, Captured)>,
    pub(crate) text: String,
    pub(crate) bytes: Vec<u8>,
}

impl CapturedFields {
    pub(crate) fn clear(&mut self) {
        self.values.clear();
        self.text.clear();
        self.bytes.clear();
    }

    pub(crate) fn str(&self, start: usize, end: usize) -> &str {
        &self.text[start..end]
    }

    fn push(&mut self, field: &Field, value: Captured) {
        if let Ok(index) = u8::try_from(field.index()) {
            self.values.push((index, value));
        }
    }

    fn push_text(&mut self, field: &Field, write: impl FnOnce(&mut String)) {
        let start = self.text.len();
        write(&mut self.text);
        let end = self.text.len();
        self.push(field, Captured::Text { start, end });
    }
}

impl Visit for CapturedFields {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.push(field, Captured::Number(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        let captured = if value.unsigned_abs() <= MAX_SAFE_INTEGER {
            Captured::Number(value as f64)
        } else {
            Captured::I64(value)
        };
        self.push(field, captured);
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        let captured = if value <= MAX_SAFE_INTEGER {
            Captured::Number(value as f64)
        } else {
            Captured::U64(value)
        };
        self.push(field, captured);
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        match i64::try_from(value) {
            Ok(value) => self.record_i64(field, value),
            Err(_) => {
                let start = self.text.len();
                let _ = write!(self.text, "{value}");
                let end = self.text.len();
                self.push(field, Captured::BigInt { start, end });
            }
        }
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        match u64::try_from(value) {
            Ok(value) => self.record_u64(field, value),
            Err(_) => {
                let start = self.text.len();
                let _ = write!(self.text, "{value}");
                let end = self.text.len();
                self.push(field, Captured::BigInt { start, end });
            }
        }
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.push(field, Captured::Bool(value));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.push_text(field, |text| text.push_str(value));
    }

    fn record_bytes(&mut self, field: &Field, value: &[u8]) {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(value);
        let end = self.bytes.len();
        self.push(field, Captured::Bytes { start, end });
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        // The message, then each source: "outer: inner: root".
        self.push_text(field, |text| {
            let _ = write!(text, "{value}");
            let mut source = value.source();
            while let Some(error) = source {
                let _ = write!(text, ": {error}");
                source = error.source();
            }
        });
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.push_text(field, |text| {
            let _ = write!(text, "{value:?}");
        });
    }
}
