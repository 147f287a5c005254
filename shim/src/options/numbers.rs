//! Whole-number options (durations, counts, capacities), read with messages that say which
//! numbers are accepted.
//!
//! JSON has one number type, so `2.5`, `-1` or `1e20` all reach these; each is rejected with
//! the accepted range rather than serde's "expected u32".

use std::fmt;

use serde::{
    de::{self, Visitor},
    Deserialize, Deserializer,
};

/// A whole number of milliseconds, zero or more.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Millis(pub u64);

/// A count, one or more.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Count(pub usize);

impl<'de> Deserialize<'de> for Millis {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_any(WholeNumber::new(0, u64::MAX))
            .map(Millis)
    }
}

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = deserializer.deserialize_any(WholeNumber::new(1, u64::MAX))?;
        usize::try_from(value)
            .map(Count)
            .map_err(|_| de::Error::custom(format!("{value} is too large")))
    }
}

/// Reads an optional queue capacity: a whole number from 1 to `u32::MAX`, or `null`.
pub(crate) fn optional_capacity<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<u32>, D::Error> {
    let value = deserializer.deserialize_option(Optional(WholeNumber::new(1, u32::MAX.into())))?;
    // The range check above keeps the value within `u32`.
    Ok(value.map(|value| value as u32))
}

/// Accepts JSON numbers that are whole and from `minimum` to `maximum`, with messages that
/// say so.
#[derive(Clone, Copy)]
struct WholeNumber {
    minimum: u64,
    maximum: u64,
}

impl WholeNumber {
    fn new(minimum: u64, maximum: u64) -> Self {
        Self { minimum, maximum }
    }

    fn check<E: de::Error>(&self, value: u64) -> Result<u64, E> {
        if value < self.minimum || value > self.maximum {
            Err(E::custom(format!("must be {}, got {value}", self.range())))
        } else {
            Ok(value)
        }
    }

    fn range(&self) -> String {
        if self.maximum == u64::MAX {
            format!("a whole number of at least {}", self.minimum)
        } else {
            format!("a whole number from {} to {}", self.minimum, self.maximum)
        }
    }
}

impl Visitor<'_> for WholeNumber {
    type Value = u64;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.range())
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<u64, E> {
        self.check(value)
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<u64, E> {
        match u64::try_from(value) {
            Ok(value) => self.check(value),
            Err(_) => Err(E::custom(format!(
                "must not be negative, got {value}; give {}",
                self.range()
            ))),
        }
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<u64, E> {
        if value.fract() == 0.0 && value >= 0.0 && value <= u64::MAX as f64 {
            self.check(value as u64)
        } else {
            Err(E::custom(format!("must be {}, got {value}", self.range())))
        }
    }
}

/// `null` or a [`WholeNumber`].
struct Optional(WholeNumber);

impl<'de> Visitor<'de> for Optional {
    type Value = Option<u64>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.expecting(formatter)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self.0).map(Some)
    }
}
