//! Helpers that several layer kinds use: opening their output files, naming threads, writing
//! numbers, a lock for per-thread data, a cheap clock, the spans a thread entered, a hasher for
//! our own keys, a span's entry in a table beside the registry.

mod decimal;
mod entered_spans;
mod multiply_hash;
mod output_file;
mod owner_lock;
mod span_slot;
mod thread_name;
#[cfg_attr(not(feature = "timeline"), allow(dead_code))]
mod ticks;

#[cfg(feature = "flame")]
pub(crate) use decimal::decimal;
pub(crate) use decimal::push_decimal;
pub(crate) use entered_spans::{EnteredSpans, WhenFull};
pub(crate) use multiply_hash::MultiplyHash;
pub(crate) use output_file::{create_truncated, open_for_append};
pub(crate) use owner_lock::OwnerLock;
pub(crate) use span_slot::span_slot;
pub(crate) use thread_name::os_thread_name;
pub(crate) use ticks::{Calibration, Tick};
