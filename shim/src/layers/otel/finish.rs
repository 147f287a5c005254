//! What a finished span gets on its way from the SDK to the batch queue, besides its error
//! status (`status.rs`, applied by the queue's processor; first here when values are cut, so
//! that the status keeps the whole error text):
//! - `thread.name` for spans made on threads that Rust did not start (a JavaScript runtime's
//!   own: its main thread, its Workers). `tracing-opentelemetry` names a span's thread from
//!   `std::thread::current().name()`, which such threads lack; they get the name the OS knows
//!   them by (`deno`, `bun`, `worker-1`, a Bun Worker's `name`), the same one the timeline and
//!   JS layers show. The layer notes each such thread when it first makes a span there
//!   ([`note_current_thread`]), since a span may end on another thread than the one that made
//!   it;
//! - string attribute values cut to the attribute value length limit, in characters (never
//!   inside one), on the span, its events and its links.

use std::{
    cell::Cell,
    collections::HashMap,
    sync::{Arc, PoisonError, RwLock},
    thread,
    time::Duration,
};

use opentelemetry::{Array, Context, KeyValue, StringValue, Value};
use opentelemetry_sdk::{
    error::OTelSdkResult,
    trace::{Span, SpanData, SpanProcessor},
};

use super::{batch::SpanBatchProcessor, status::apply_error_status};
use crate::util::os_thread_name;

/// Threads noted at most; beyond it, new unnamed threads are left without a `thread.name`.
const MAX_NOTED_THREADS: usize = 4096;

/// The OS names of the threads without a Rust name that made spans, by `thread.id` (the
/// integer `tracing-opentelemetry` records).
static THREAD_NAMES: RwLock<Option<HashMap<i64, StringValue>>> = RwLock::new(None);

thread_local! {
    static NOTED: Cell<bool> = const { Cell::new(false) };
}

/// Notes the name of the calling thread if Rust does not know it (once per thread); called by
/// the OpenTelemetry layer for every new span.
pub(crate) fn note_current_thread() {
    if NOTED.with(|noted| noted.replace(true)) {
        return;
    }
    let current = thread::current();
    if current.name().is_some() {
        return; // `tracing-opentelemetry` records it itself.
    }
    let Some(name) = os_thread_name() else {
        return;
    };
    let mut names = THREAD_NAMES.write().unwrap_or_else(PoisonError::into_inner);
    let names = names.get_or_insert_with(HashMap::new);
    if names.len() < MAX_NOTED_THREADS {
        names.insert(
            thread_id_integer(current.id()),
            StringValue::from(Arc::<str>::from(name)),
        );
    }
}

/// The integer `tracing-opentelemetry` records as `thread.id` (`ThreadId::as_u64` is not
/// stable: it is read from the `Debug` form, as that crate does).
pub(crate) fn thread_id_integer(id: thread::ThreadId) -> i64 {
    format!("{id:?}")
        .trim_start_matches("ThreadId(")
        .trim_end_matches(')')
        .parse::<i64>()
        .unwrap_or(-1)
}

/// Finishes spans (see the module docs), then hands them to `inner`.
#[derive(Debug)]
pub(crate) struct FinishingProcessor<P> {
    inner: P,
    /// Add `thread.name` where it is missing.
    thread_names: bool,
    /// `SpanLimits::max_attributes_per_span`: an added `thread.name` must fit.
    max_attributes: usize,
    value_length_limit: Option<usize>,
}

impl<P: SpanProcessor> FinishingProcessor<P> {
    pub(crate) fn new(
        inner: P,
        thread_names: bool,
        max_attributes: u32,
        value_length_limit: Option<usize>,
    ) -> Self {
        Self {
            inner,
            thread_names,
            max_attributes: usize::try_from(max_attributes).unwrap_or(usize::MAX),
            value_length_limit,
        }
    }
}

impl<P> FinishingProcessor<P> {
    /// Finishes `span` in place (see the module docs).
    #[inline]
    fn finish(&self, span: &mut SpanData) {
        if self.thread_names {
            add_thread_name(span, self.max_attributes);
        }
        if let Some(limit) = self.value_length_limit {
            apply_error_status(span);
            truncate_values(span, limit);
        }
    }
}

impl FinishingProcessor<SpanBatchProcessor> {
    /// `on_end` for a span its caller built (a light span, `light.rs`): finished and prepared
    /// where it lies, copied only into the queue.
    #[inline(always)]
    pub(crate) fn end_built(&self, span: SpanData) {
        self.inner.end_built(|span| self.finish(span), span);
    }
}

impl<P: SpanProcessor> SpanProcessor for FinishingProcessor<P> {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        self.inner.on_start(span, cx);
    }

    fn on_end(&self, mut span: SpanData) {
        self.finish(&mut span);
        self.inner.on_end(span);
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }
}

/// Adds the noted name of the span's thread when it has a `thread.id` and no `thread.name`.
fn add_thread_name(span: &mut SpanData, max_attributes: usize) {
    let mut thread_id = None;
    for attribute in &span.attributes {
        match attribute.key.as_str() {
            "thread.name" => return,
            "thread.id" => {
                if let Value::I64(id) = attribute.value {
                    thread_id = Some(id);
                }
            }
            _ => {}
        }
    }
    let Some(thread_id) = thread_id else {
        return;
    };
    let name = {
        let names = THREAD_NAMES.read().unwrap_or_else(PoisonError::into_inner);
        match names.as_ref().and_then(|names| names.get(&thread_id)) {
            Some(name) => name.clone(),
            None => return,
        }
    };
    if span.attributes.len() < max_attributes {
        span.attributes
            .push(KeyValue::new("thread.name", Value::String(name)));
    } else {
        span.dropped_attributes_count = span.dropped_attributes_count.saturating_add(1);
    }
}

/// Cuts every string value of the span's, its events' and its links' attributes to `limit`
/// characters.
fn truncate_values(span: &mut SpanData, limit: usize) {
    truncate_attributes(&mut span.attributes, limit);
    for event in span.events.events.iter_mut() {
        truncate_attributes(&mut event.attributes, limit);
    }
    for link in span.links.links.iter_mut() {
        truncate_attributes(&mut link.attributes, limit);
    }
}

fn truncate_attributes(attributes: &mut [KeyValue], limit: usize) {
    for attribute in attributes {
        match &mut attribute.value {
            Value::String(text) => truncate_string(text, limit),
            Value::Array(Array::String(texts)) => {
                for text in texts {
                    truncate_string(text, limit);
                }
            }
            _ => {}
        }
    }
}

fn truncate_string(text: &mut StringValue, limit: usize) {
    if let Some(cut) = cut_to_chars(text.as_str(), limit) {
        *text = StringValue::from(cut.to_owned());
    }
}

/// The first `limit` characters of `text`, or `None` when it has no more than that.
fn cut_to_chars(text: &str, limit: usize) -> Option<&str> {
    // A character takes at least one byte: a text no longer in bytes is short enough.
    if text.len() <= limit {
        return None;
    }
    let (end, _) = text.char_indices().nth(limit)?;
    Some(&text[..end])
}

#[cfg(test)]
mod tests {
    use std::{borrow::Cow, sync::Mutex, time::SystemTime};

    use opentelemetry::trace::{Event, Link, SpanContext, SpanId, SpanKind, Status};
    use opentelemetry_sdk::trace::{SpanEvents, SpanLinks};

    use super::*;

    fn span(attributes: Vec<KeyValue>) -> SpanData {
        let mut events = SpanEvents::default();
        events.events.push(Event::new(
            "e",
            SystemTime::now(),
            vec![KeyValue::new("message", "ééééé")],
            0,
        ));
        let mut links = SpanLinks::default();
        links.links.push(Link::new(
            SpanContext::empty_context(),
            vec![KeyValue::new("why", "because")],
            0,
        ));
        SpanData {
            span_context: SpanContext::empty_context(),
            parent_span_id: SpanId::INVALID,
            parent_span_is_remote: false,
            span_kind: SpanKind::Internal,
            name: Cow::Borrowed("s"),
            start_time: SystemTime::now(),
            end_time: SystemTime::now(),
            attributes,
            dropped_attributes_count: 0,
            events,
            links,
            status: Status::Unset,
            instrumentation_scope: Default::default(),
        }
    }

    #[derive(Debug, Default)]
    struct Keep(Mutex<Vec<SpanData>>);

    impl SpanProcessor for Keep {
        fn on_start(&self, _span: &mut Span, _cx: &Context) {}
        fn on_end(&self, span: SpanData) {
            self.0.lock().unwrap().push(span);
        }
        fn force_flush(&self) -> OTelSdkResult {
            Ok(())
        }
        fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
            Ok(())
        }
    }

    #[test]
    fn strings_are_cut_by_characters_never_inside_one() {
        assert_eq!(cut_to_chars("abc", 3), None);
        assert_eq!(cut_to_chars("abcd", 3), Some("abc"));
        assert_eq!(cut_to_chars("ééé", 2), Some("éé"), "6 bytes, 3 characters");
        assert_eq!(cut_to_chars("éé", 2), None, "4 bytes, but 2 characters");
        assert_eq!(cut_to_chars("a😀b", 2), Some("a😀"));

        let processor = FinishingProcessor::new(Keep::default(), false, 128, Some(3));
        processor.on_end(span(vec![
            KeyValue::new("text", "abcdef"),
            KeyValue::new("short", "ab"),
            KeyValue::new("number", 123_456_i64),
            KeyValue::new(
                "list",
                Value::Array(Array::String(vec!["wxyz".into(), "é".into()])),
            ),
        ]));
        let kept = processor.inner.0.lock().unwrap().pop().unwrap();
        let value = |key: &str| {
            kept.attributes
                .iter()
                .find(|attribute| attribute.key.as_str() == key)
                .map(|attribute| attribute.value.to_string())
        };
        assert_eq!(value("text").as_deref(), Some("abc"));
        assert_eq!(value("short").as_deref(), Some("ab"));
        assert_eq!(value("number").as_deref(), Some("123456"));
        assert_eq!(value("list").as_deref(), Some("[\"wxy\",\"é\"]"));
        assert_eq!(
            kept.events.events[0].attributes[0].value.as_str(),
            "ééé",
            "event attributes are cut too"
        );
        assert_eq!(kept.links.links[0].attributes[0].value.as_str(), "bec");

        processor.on_end(span(vec![KeyValue::new("error", "disk full")]));
        let failed = processor.inner.0.lock().unwrap().pop().unwrap();
        assert_eq!(failed.attributes[0].value.as_str(), "dis");
        assert_eq!(
            failed.status,
            Status::error("disk full"),
            "the status keeps the whole error"
        );
    }

    #[test]
    fn unnamed_threads_get_their_os_name() {
        // A thread Rust started without a name, like a foreign thread, has no Rust name.
        let (id, os_name) = thread::Builder::new()
            .spawn(|| {
                note_current_thread();
                (thread_id_integer(thread::current().id()), os_thread_name())
            })
            .unwrap()
            .join()
            .unwrap();
        let processor = FinishingProcessor::new(Keep::default(), true, 128, None);
        processor.on_end(span(vec![KeyValue::new("thread.id", id)]));
        processor.on_end(span(vec![
            KeyValue::new("thread.id", id),
            KeyValue::new("thread.name", "rust-name"),
        ]));
        let full = FinishingProcessor::new(Keep::default(), true, 1, None);
        full.on_end(span(vec![KeyValue::new("thread.id", id)]));

        let kept = processor.inner.0.lock().unwrap();
        let names = |span: &SpanData| -> Vec<String> {
            span.attributes
                .iter()
                .filter(|attribute| attribute.key.as_str() == "thread.name")
                .map(|attribute| attribute.value.to_string())
                .collect()
        };
        #[cfg(target_os = "linux")]
        assert!(os_name.is_some());
        assert_eq!(names(&kept[0]), os_name.into_iter().collect::<Vec<_>>());
        assert_eq!(names(&kept[1]), ["rust-name"], "a Rust name is kept");
        let full = full.inner.0.lock().unwrap();
        assert!(names(&full[0]).is_empty(), "no room: counted as dropped");
        #[cfg(target_os = "linux")]
        assert_eq!(full[0].dropped_attributes_count, 1);
    }
}
