//! Allocations a light span ([`super::light`]) would otherwise make each time, reused.
//!
//! A light span's attribute list and its string values are allocated on the thread that
//! makes the span and freed on the export thread. With the C allocator that is the slow path
//! on both sides (each thread's small cache of freed blocks runs dry on one side and over on
//! the other): about a quarter of the CPU an exported JavaScript span costs. So:
//! - **attribute lists** go back from the export thread, emptied, to a shared pool
//!   ([`recycle_attributes`]); a thread making spans takes them from it a few dozen at a time
//!   ([`attribute_list`]);
//! - **string values** are shared (`Arc<str>`) with the previous span that gave the same
//!   field the same value on this thread ([`string_value`]): a route, a method, a table name.
//!
//! Both are bounded: the pool keeps at most [`SPARE_MAX`] lists of at most [`KEEP_CAPACITY`]
//! attributes, and each thread remembers one string (of at most [`STRING_MAX_LEN`] bytes)
//! for each of [`STRING_SLOTS`] slots.

use std::{
    cell::RefCell,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex, MutexGuard, PoisonError,
    },
};

use opentelemetry::{KeyValue, Value};
use opentelemetry_sdk::trace::SpanData;

/// Attribute lists the pool keeps at most: a batch of 4 096 spans, eight of the default 512
/// (460 kB with room for two attributes each, 1.8 MB at most).
const SPARE_MAX: usize = 4096;
/// Lists with room for more attributes than this are not kept.
const KEEP_CAPACITY: usize = 8;
/// Lists a thread takes from the pool at once.
const TAKE_AT_ONCE: usize = 64;
/// Strings longer than this are not shared.
const STRING_MAX_LEN: usize = 128;
/// Strings a thread remembers (one per slot; a field's name picks its slot).
const STRING_SLOTS: usize = 64;

/// A string value remembered for a field: the field name's address, the value.
type SharedString = (usize, Arc<str>);

/// Emptied attribute lists of exported spans.
static SPARE: Pool = Pool::new();

thread_local! {
    /// Lists this thread took from the pool and has not used yet.
    static STASH: RefCell<Vec<Vec<KeyValue>>> = const { RefCell::new(Vec::new()) };
    /// The last string value of each slot's field on this thread.
    static STRINGS: RefCell<Vec<Option<SharedString>>> = const { RefCell::new(Vec::new()) };
}

/// Emptied attribute lists, shared by the threads.
struct Pool {
    lists: Mutex<Vec<Vec<KeyValue>>>,
    /// How many `lists` holds, read without its lock.
    len: AtomicUsize,
}

impl Pool {
    const fn new() -> Self {
        Self {
            lists: Mutex::new(Vec::new()),
            len: AtomicUsize::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Vec<KeyValue>>> {
        self.lists.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Moves up to [`TAKE_AT_ONCE`] lists into `stash`.
    fn take_into(&self, stash: &mut Vec<Vec<KeyValue>>) {
        if self.len.load(Ordering::Relaxed) == 0 {
            return;
        }
        let mut lists = self.lock();
        let from = lists.len().saturating_sub(TAKE_AT_ONCE);
        stash.extend(lists.drain(from..));
        self.len.store(lists.len(), Ordering::Relaxed);
    }

    /// Empties `batch`, keeping its spans' attribute lists, emptied, while there is room.
    fn put(&self, batch: &mut Vec<SpanData>) {
        let room = SPARE_MAX.saturating_sub(self.len.load(Ordering::Relaxed));
        let keep = |list: &Vec<KeyValue>| list.capacity() != 0 && list.capacity() <= KEEP_CAPACITY;
        // Emptied before the lock (dropping the values), and taken where the spans lie: moving
        // a span out would copy it whole.
        let mut kept = 0;
        for span in batch.iter_mut() {
            if kept < room && keep(&span.attributes) {
                span.attributes.clear();
                kept += 1;
            }
        }
        if kept != 0 {
            let mut lists = self.lock();
            for span in batch.iter_mut() {
                if lists.len() == SPARE_MAX {
                    break;
                }
                if keep(&span.attributes) && span.attributes.is_empty() {
                    lists.push(std::mem::take(&mut span.attributes));
                }
            }
            self.len.store(lists.len(), Ordering::Relaxed);
        }
        batch.clear();
    }
}

/// An empty attribute list with room for `capacity` attributes: a reused one when the pool
/// has some.
pub(crate) fn attribute_list(capacity: usize) -> Vec<KeyValue> {
    let reused = STASH
        .try_with(|stash| {
            let mut stash = stash.try_borrow_mut().ok()?;
            if stash.is_empty() {
                SPARE.take_into(&mut stash);
            }
            stash.pop()
        })
        .ok()
        .flatten();
    match reused {
        Some(mut list) => {
            list.reserve(capacity);
            list
        }
        None => Vec::with_capacity(capacity),
    }
}

/// Empties `batch` (exported or dropped by now), keeping the spans' attribute lists for
/// [`attribute_list`] while the pool has room. Runs on the export thread.
pub(crate) fn recycle_attributes(batch: &mut Vec<SpanData>) {
    SPARE.put(batch);
}

/// The attribute value of string `value` of field `name`: the same allocation as the last
/// value this thread gave that field, when equal.
pub(crate) fn string_value(name: &'static str, value: &str) -> Value {
    if value.len() <= STRING_MAX_LEN {
        let shared = STRINGS.try_with(|strings| {
            let mut strings = strings.try_borrow_mut().ok()?;
            if strings.is_empty() {
                strings.resize(STRING_SLOTS, None);
            }
            let key = name.as_ptr() as usize;
            // The field name's address, hashed to a slot (multiplicative hashing).
            let slot = (key.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 58) % STRING_SLOTS;
            let entry = &mut strings[slot];
            match entry {
                Some((cached_key, cached)) if *cached_key == key && **cached == *value => {
                    Some(Arc::clone(cached))
                }
                _ => {
                    let string: Arc<str> = Arc::from(value);
                    *entry = Some((key, Arc::clone(&string)));
                    Some(string)
                }
            }
        });
        if let Ok(Some(string)) = shared {
            return Value::String(string.into());
        }
    }
    Value::String(value.to_string().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_strings_of_a_field_share_one_allocation() {
        let route = string_value("route", "/users");
        let again = string_value("route", "/users");
        let other = string_value("route", "/orders");
        let (Value::String(route), Value::String(again), Value::String(other)) =
            (route, again, other)
        else {
            panic!("strings expected");
        };
        assert_eq!(route.as_str(), "/users");
        assert_eq!(other.as_str(), "/orders");
        assert!(std::ptr::eq(route.as_str(), again.as_str()));
        let long = "x".repeat(STRING_MAX_LEN + 1);
        let Value::String(long_value) = string_value("route", &long) else {
            panic!("string expected");
        };
        assert_eq!(long_value.as_str(), long);
    }

    #[test]
    fn exported_attribute_lists_are_reused_emptied_within_bounds() {
        let pool = Pool::new();
        let list = |capacity: usize| {
            let mut list = Vec::with_capacity(capacity);
            list.push(KeyValue::new("a", 1_i64));
            list.push(KeyValue::new("b", "x"));
            list
        };
        let mut batch: Vec<SpanData> = (0..TAKE_AT_ONCE as u64 + 3)
            .map(crate::layers::otel::test_support::span_data)
            .collect();
        for span in &mut batch {
            span.attributes = list(5);
        }
        batch[0].attributes = list(KEEP_CAPACITY + 1);
        batch[1].attributes = Vec::new();
        pool.put(&mut batch);
        assert!(batch.is_empty());
        assert_eq!(pool.len.load(Ordering::Relaxed), TAKE_AT_ONCE + 1);
        let mut stash = Vec::new();
        pool.take_into(&mut stash);
        assert_eq!(stash.len(), TAKE_AT_ONCE);
        assert!(stash
            .iter()
            .all(|list| list.is_empty() && list.capacity() == 5));
        pool.take_into(&mut stash);
        assert_eq!(stash.len(), TAKE_AT_ONCE + 1);
        assert_eq!(pool.len.load(Ordering::Relaxed), 0);

        let mut full: Vec<SpanData> = (0..SPARE_MAX as u64 + 5)
            .map(crate::layers::otel::test_support::span_data)
            .collect();
        for span in &mut full {
            span.attributes = list(2);
        }
        pool.put(&mut full);
        assert_eq!(pool.len.load(Ordering::Relaxed), SPARE_MAX);
    }
}
