//! The default fmt line (the `full` format without colours, thread names or ids, file or line,
//! and without span events), written by a layer of our own: the same bytes as
//! `tracing_subscriber::fmt::layer()` with that format (the tests compare them), at a fraction
//! of its cost on the traced thread.
//!
//! - Each span keeps its whole context (`outer{a=1}:inner{b=2}:`), made once when the span is
//!   created, from its parent's: an event inside 20 nested spans copies one string instead of
//!   walking and formatting 20 spans.
//! - Fields of the common types (integers, booleans, plain strings, the message) are written
//!   without `core::fmt` and without `tracing_subscriber`'s styling; the others go through its
//!   own visitor. The timestamp's date and time are worked out once a second (`time.rs`).
//! - A line is formatted into a per-thread buffer and handed to the writer in one call.
//!
//! Recording a field into a span ([`Layer::on_record`]) makes every kept context made before it
//! stale; a stale context is made again from the span's ancestors (names and own fields) when
//! next needed. Two fmt layers keep their contexts apart (each can filter different spans out).
//! Other configurations use `tracing_subscriber`'s formats ([`super::build`] chooses).

use std::{
    cell::RefCell,
    fmt::{self, Write as _},
    ops::Range,
    sync::atomic::{AtomicU64, Ordering},
};

use tracing::{
    field::{Field, Visit},
    span, Event, Level, Subscriber,
};
use tracing_subscriber::{
    field::VisitOutput,
    fmt::format::{DefaultVisitor, Writer},
    layer::Context,
    registry::{ExtensionsMut, LookupSpan, SpanRef},
    Layer,
};

use super::{time::Timer, Output};
use crate::util::push_decimal;

static NEXT_LAYER: AtomicU64 = AtomicU64::new(1);

/// A generation no context is ever made in: a span's own part after a record, to be made
/// again before use.
const STALE: u64 = 0;

/// The fmt layer for the default line.
pub(super) struct FullLayer {
    /// This layer's key in the spans' [`SpanTexts`].
    id: u64,
    /// `None`: no timestamp.
    timer: Option<Timer>,
    level: bool,
    target: bool,
    output: Output,
    /// Bumped by every record into a span: contexts made before are stale.
    generation: AtomicU64,
}

/// A span's context as one layer writes it.
struct SpanText {
    layer: u64,
    /// The layer's generation the text was made in ([`STALE`]: only the span's own part).
    generation: u64,
    /// The context: the ancestors', then `name{fields}:` (no braces without fields).
    text: String,
    /// The span's own fields in `text`.
    fields: Range<usize>,
}

/// The contexts kept in a span, one per fmt layer (nearly always one).
struct SpanTexts {
    first: SpanText,
    more: Vec<SpanText>,
}

impl SpanTexts {
    fn get(&self, layer: u64) -> Option<&SpanText> {
        if self.first.layer == layer {
            return Some(&self.first);
        }
        self.more.iter().find(|text| text.layer == layer)
    }

    /// Keeps `text` in the span whose extensions these are, replacing the same layer's.
    fn store(extensions: &mut ExtensionsMut<'_>, text: SpanText) {
        match extensions.get_mut::<SpanTexts>() {
            Some(texts) => texts.set(text),
            None => extensions.insert(SpanTexts {
                first: text,
                more: Vec::new(),
            }),
        }
    }

    fn set(&mut self, text: SpanText) {
        if self.first.layer == text.layer {
            self.first = text;
        } else if let Some(kept) = self.more.iter_mut().find(|kept| kept.layer == text.layer) {
            *kept = text;
        } else {
            self.more.push(text);
        }
    }
}

thread_local! {
    /// The line being formatted, kept between events.
    static LINE: RefCell<String> = const { RefCell::new(String::new()) };
}

impl FullLayer {
    pub(super) fn new(timer: Option<Timer>, level: bool, target: bool, output: Output) -> Self {
        Self {
            id: NEXT_LAYER.fetch_add(1, Ordering::Relaxed),
            timer,
            level,
            target,
            output,
            generation: AtomicU64::new(STALE + 1),
        }
    }

    /// Calls `use_text` with the span's context kept by this layer, if any.
    fn kept<S, R>(&self, span: &SpanRef<'_, S>, use_text: impl FnOnce(&SpanText) -> R) -> Option<R>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let extensions = span.extensions();
        extensions
            .get::<SpanTexts>()
            .and_then(|texts| texts.get(self.id))
            .map(use_text)
    }

    fn keep<S>(&self, span: &SpanRef<'_, S>, text: SpanText)
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        SpanTexts::store(&mut span.extensions_mut(), text);
    }

    /// Writes the context of `span` into `out` from the root: each span's name and own fields.
    /// Returns where the fields of `span` itself are in `out`.
    fn make_context<S>(&self, span: &SpanRef<'_, S>, out: &mut String) -> Range<usize>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let mut fields = out.len()..out.len();
        for ancestor in span.scope().from_root() {
            let name = ancestor.metadata().name();
            // A span this layer has no text for (made before it) shows its name alone.
            fields = self
                .kept(&ancestor, |kept| {
                    push_span(out, name, &kept.text[kept.fields.clone()])
                })
                .unwrap_or_else(|| push_span(out, name, ""));
        }
        fields
    }

    /// A new string holding the current context of `parent` (empty for none) and room for
    /// `more` bytes.
    fn context_with_room<S>(
        &self,
        parent: Option<SpanRef<'_, S>>,
        generation: u64,
        more: usize,
    ) -> String
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let Some(parent) = parent else {
            return String::with_capacity(more);
        };
        let copied = self.kept(&parent, |kept| {
            (kept.generation == generation).then(|| {
                let mut text = String::with_capacity(kept.text.len() + more);
                text.push_str(&kept.text);
                text
            })
        });
        copied.flatten().unwrap_or_else(|| {
            let mut text = String::with_capacity(more + 64);
            self.make_context(&parent, &mut text);
            text
        })
    }

    /// Appends the context of `leaf` to `line`, keeping it in `leaf` if it had to be made.
    fn write_context<S>(&self, leaf: &SpanRef<'_, S>, line: &mut String)
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let generation = self.generation.load(Ordering::Acquire);
        let copied = self.kept(leaf, |kept| {
            let current = kept.generation == generation;
            if current {
                line.push_str(&kept.text);
            }
            current
        });
        if copied != Some(true) {
            let mut text = String::new();
            let fields = self.make_context(leaf, &mut text);
            line.push_str(&text);
            self.keep(
                leaf,
                SpanText {
                    layer: self.id,
                    generation,
                    text,
                    fields,
                },
            );
        }
    }

    /// Formats `event` as one line into `line`.
    fn format<S>(&self, event: &Event<'_>, ctx: &Context<'_, S>, line: &mut String) -> fmt::Result
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let meta = crate::log_bridge::normalized_metadata(event);
        if let Some(timer) = &self.timer {
            if timer.write(line).is_err() {
                line.push_str("<unknown time>");
            }
            line.push(' ');
        }
        if self.level {
            line.push_str(match *meta.level() {
                Level::TRACE => "TRACE ",
                Level::DEBUG => "DEBUG ",
                Level::INFO => " INFO ",
                Level::WARN => " WARN ",
                Level::ERROR => "ERROR ",
            });
        }
        if let Some(leaf) = ctx.event_span(event) {
            self.write_context(&leaf, line);
            line.push(' ');
        }
        if self.target {
            line.push_str(meta.target());
            line.push_str(": ");
        }
        let mut fields = Fields::new(line);
        meta.record_fields(event, &mut fields);
        fields.result?;
        line.push('\n');
        Ok(())
    }

    fn write_event<S>(&self, event: &Event<'_>, ctx: &Context<'_, S>, line: &mut String)
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        line.clear();
        if self.format(event, ctx, line).is_ok() {
            // A failed write is counted and reported by the output.
            let _ = self.output.write(line.as_bytes());
        } else {
            // As `tracing_subscriber` does: a line saying so instead of the event.
            let message = format!(
                "Unable to format the following event. Name: {}; Fields: {:?}\n",
                event.metadata().name(),
                event.fields()
            );
            let _ = self.output.write(message.as_bytes());
        }
        // A huge line leaves a huge buffer: give it back rather than keep it.
        if line.capacity() > 1 << 20 {
            *line = String::new();
        }
    }
}

/// A span's own part of a context, `name{fields}:` (`name:` without fields); returns where
/// the fields are in `out`.
fn push_span(out: &mut String, name: &str, fields: &str) -> Range<usize> {
    out.push_str(name);
    let range = if fields.is_empty() {
        out.len()..out.len()
    } else {
        out.push('{');
        let start = out.len();
        out.push_str(fields);
        let end = out.len();
        out.push('}');
        start..end
    };
    out.push(':');
    range
}

impl<S> Layer<S> for FullLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &span::Attributes<'_>, id: &span::Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else {
            return;
        };
        let generation = self.generation.load(Ordering::Acquire);
        let name = span.metadata().name();
        let mut text = self.context_with_room(span.parent(), generation, name.len() + 32);
        text.push_str(name);
        let open = text.len();
        text.push('{');
        let start = text.len();
        let mut fields = Fields::new(&mut text);
        attrs.record(&mut fields);
        let formatted = fields.result;
        let end = text.len();
        let fields = if formatted.is_err() {
            // As `tracing_subscriber` does: the span is shown without its fields.
            eprintln!(
                "tracing-bridge: fmt layer: cannot format the fields of span `{name}`; it is \
                 shown without them"
            );
            text.truncate(open);
            open..open
        } else if end == start {
            text.truncate(open);
            open..open
        } else {
            text.push('}');
            start..end
        };
        text.push(':');
        self.keep(
            &span,
            SpanText {
                layer: self.id,
                generation,
                text,
                fields,
            },
        );
    }

    fn on_record(&self, id: &span::Id, values: &span::Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else {
            return;
        };
        // The new fields, formatted before the span's extensions are locked (a field's `Debug`
        // may log inside this span).
        let mut added = String::new();
        values.record(&mut Fields::new(&mut added));
        let name = span.metadata().name();
        // One lock from reading the fields to storing them: records from two threads add up.
        let mut extensions = span.extensions_mut();
        let own = extensions
            .get_mut::<SpanTexts>()
            .and_then(|texts| texts.get(self.id))
            .map_or("", |kept| &kept.text[kept.fields.clone()]);
        // As `tracing_subscriber` adds fields: a space after those already there, then the new.
        let fields = if own.is_empty() {
            added
        } else {
            format!("{own} {added}")
        };
        // Only the span's own part: its context is made again before it is used.
        let mut text = String::with_capacity(name.len() + fields.len() + 3);
        let fields = push_span(&mut text, name, &fields);
        let text = SpanText {
            layer: self.id,
            generation: STALE,
            text,
            fields,
        };
        SpanTexts::store(&mut extensions, text);
        drop(extensions);
        // After the span's new fields are in place: a context made from them is current.
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let written = LINE.try_with(|line| match line.try_borrow_mut() {
            Ok(mut line) => self.write_event(event, &ctx, &mut line),
            // An event formatted while formatting another (a field's `Debug` logs).
            Err(_) => self.write_event(event, &ctx, &mut String::new()),
        });
        if written.is_err() {
            // The thread is ending and its buffer is gone.
            self.write_event(event, &ctx, &mut String::new());
        }
    }
}

/// Records fields as `tracing_subscriber`'s `DefaultVisitor` does without colours
/// (`name=value` separated by spaces, the message bare, `log.*` fields left out), writing the
/// common types itself.
struct Fields<'a> {
    out: &'a mut String,
    empty: bool,
    result: fmt::Result,
}

impl<'a> Fields<'a> {
    fn new(out: &'a mut String) -> Self {
        Self {
            out,
            empty: true,
            result: Ok(()),
        }
    }

    /// Whether the field named `name` is shown (`tracing_subscriber` leaves out the metadata
    /// fields of records logged through `log`).
    fn shown(&self, name: &str) -> bool {
        self.result.is_ok() && !(cfg!(feature = "log") && name.starts_with("log."))
    }

    /// Writes the separator and `name=` (nothing for the message); false for a field not
    /// shown.
    fn start(&mut self, field: &Field) -> bool {
        let name = field.name();
        if !self.shown(name) {
            return false;
        }
        if !std::mem::replace(&mut self.empty, false) {
            self.out.push(' ');
        }
        if name != "message" {
            let name = name.strip_prefix("r#").unwrap_or(name);
            self.out.reserve(name.len() + 1);
            self.out.push_str(name);
            self.out.push('=');
        }
        true
    }

    /// Hands the field to `tracing_subscriber`'s own visitor.
    fn by_default_visitor(&mut self, field: &Field, record: impl FnOnce(&mut DefaultVisitor<'_>)) {
        if !self.shown(field.name()) {
            return;
        }
        let mut visitor = DefaultVisitor::new(Writer::new(&mut *self.out), self.empty);
        record(&mut visitor);
        self.empty = false;
        self.result = visitor.finish();
    }
}

/// Whether `bytes` has what `tracing_subscriber` escapes in a message: the ANSI control
/// characters it names, and (conservatively) anything in U+0080..U+00BF, where the C1 controls
/// are.
fn needs_sanitizing(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .any(|&byte| matches!(byte, 0x1b | 0x07 | 0x08 | 0x0c | 0x7f | 0xc2))
}

/// Whether `value` is written by `Debug` as it is, between quotes.
fn debug_is_verbatim(value: &str) -> bool {
    value
        .bytes()
        .all(|byte| (0x20..0x7f).contains(&byte) && byte != b'"' && byte != b'\\')
}

impl Visit for Fields<'_> {
    fn record_u64(&mut self, field: &Field, value: u64) {
        if self.start(field) {
            push_decimal(self.out, value);
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        if self.start(field) {
            if value < 0 {
                self.out.push('-');
            }
            push_decimal(self.out, value.unsigned_abs());
        }
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        if self.start(field) {
            self.out.push_str(if value { "true" } else { "false" });
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        let message = field.name() == "message";
        let verbatim = if message {
            !needs_sanitizing(value.as_bytes())
        } else {
            debug_is_verbatim(value)
        };
        if !verbatim {
            return self.by_default_visitor(field, |visitor| visitor.record_str(field, value));
        }
        if self.start(field) {
            if message {
                self.out.push_str(value);
            } else {
                self.out.push('"');
                self.out.push_str(value);
                self.out.push('"');
            }
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.by_default_visitor(field, |visitor| visitor.record_error(field, value));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let (before, empty) = (self.out.len(), self.empty);
        if !self.start(field) {
            return;
        }
        let start = self.out.len();
        self.result = write!(self.out, "{value:?}");
        if field.name() == "message" && needs_sanitizing(&self.out.as_bytes()[start..]) {
            // `tracing_subscriber` escapes control characters in messages: its visitor does it.
            self.out.truncate(before);
            self.empty = empty;
            self.result = Ok(());
            self.by_default_visitor(field, |visitor| visitor.record_debug(field, value));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::{
        filter::filter_fn,
        fmt::{self as tfmt, MakeWriter},
        layer::SubscriberExt,
        Layer as _, Registry,
    };

    use super::{
        super::writer::{Direct, Failures, Sink},
        *,
    };

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Buffer {
        type Writer = Buffer;

        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }

    #[tracing::instrument]
    fn fib(index: u32) -> u64 {
        tracing::debug!("computing");
        let value = if index < 2 {
            u64::from(index)
        } else {
            fib(index - 1) + fib(index - 2)
        };
        tracing::info!(value, "computed");
        value
    }

    #[derive(Debug)]
    struct Failure(Option<Box<Failure>>);

    impl fmt::Display for Failure {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(if self.0.is_some() { "outer" } else { "inner" })
        }
    }

    impl std::error::Error for Failure {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.0.as_deref().map(|inner| inner as _)
        }
    }

    fn workload() {
        tracing::info!(outside = true, "no span");
        fib(5);
        let job = tracing::info_span!(
            "job",
            result = tracing::field::Empty,
            attempt = 1,
            r#type = "plain"
        );
        let _job = job.enter();
        let step = tracing::debug_span!("step");
        let _step = step.enter();
        tracing::warn!("before");
        // Recorded into the parent after the child's context was made.
        job.record("result", "done");
        tracing::error!(code = 7, "after");
        let inner = tracing::trace_span!("inner", n = -3_i64);
        inner.in_scope(|| {
            tracing::info!(
                ratio = 0.25,
                big = u128::MAX,
                quoted = "say \"hi\"\n",
                unicode = "süß ✓",
                flag = false,
                bytes = tracing::field::debug(b"ab"),
                "message with {} and \x1b[31m escape",
                "args"
            );
            tracing::info!(message = "a str message with \u{9b} C1");
            tracing::info!(message = "plain str message", count = 3_u64);
            tracing::info!(
                error = &Failure(Some(Box::new(Failure(None)))) as &dyn std::error::Error
            );
            tracing::info!(error = &Failure(None) as &dyn std::error::Error, "one");
            tracing::info!(log.target = "hidden", shown = 1, "log fields");
        });
        // Recorded twice: fields added after a space.
        job.record("attempt", 2);
        tracing::info!("after two records");
        tracing::info!(parent: &job, "explicit parent");
        tracing::info!(parent: None, "explicit root");
        tracing::info!(target: "custom::target", "");
        tracing::info!(empty = "");
        let empty = tracing::info_span!("empty", later = tracing::field::Empty);
        let _empty = empty.enter();
        tracing::info!("in an empty span");
        empty.record("later", "now");
        tracing::info!("after recording into it");
        #[cfg(feature = "log")]
        {
            // One statement: the record borrows the message's temporary arguments.
            tracing_log::format_trace(
                &log::Record::builder()
                    .args(format_args!("from log {}", 1))
                    .level(log::Level::Warn)
                    .target("a::log::target")
                    .file(Some("src/x.rs"))
                    .line(Some(3))
                    .module_path(Some("a::log"))
                    .build(),
            )
            .unwrap();
        }
    }

    /// An output writing on the calling thread to a new file in `dir`.
    fn file_output(dir: &tempfile::TempDir) -> (std::path::PathBuf, Output) {
        let path = dir.path().join("ours.log");
        let file = std::fs::File::create(&path).unwrap();
        let direct = Direct::new(Sink::File(file), Failures::new("test".into()));
        (path, Output::Direct(Arc::new(direct)))
    }

    /// The lines of `tracing_subscriber`'s layer and of ours, without timestamps, both behind
    /// the same filter (which, when `filtered`, leaves out the spans named `step`).
    fn run(target: bool, level: bool, filtered: bool) -> (String, String) {
        let theirs = Buffer::default();
        let dir = tempfile::tempdir().unwrap();
        let (path, output) = file_output(&dir);
        let hide = move |meta: &tracing::Metadata<'_>| !(filtered && meta.name() == "step");
        let subscriber = Registry::default()
            .with(
                tfmt::layer()
                    .with_writer(theirs.clone())
                    .with_ansi(false)
                    .without_time()
                    .with_target(target)
                    .with_level(level)
                    .with_filter(filter_fn(hide)),
            )
            .with(FullLayer::new(None, level, target, output).with_filter(filter_fn(hide)));
        tracing::subscriber::with_default(subscriber, workload);
        let theirs = String::from_utf8(theirs.0.lock().unwrap().clone()).unwrap();
        (theirs, std::fs::read_to_string(&path).unwrap())
    }

    #[test]
    fn writes_the_same_bytes_as_tracing_subscribers_full_format() {
        for (target, level, filtered) in [
            (true, true, false),
            (false, true, false),
            (true, false, false),
            (true, true, true),
        ] {
            let (theirs, ours) = run(target, level, filtered);
            assert!(theirs.contains("result=\"done\""), "{theirs}");
            assert!(theirs.contains("\\x1b"), "{theirs}");
            assert!(theirs.lines().count() > 30, "{theirs}");
            assert_eq!(filtered, !theirs.contains("step:"), "{theirs}");
            #[cfg(feature = "log")]
            assert!(theirs.contains("from log 1"), "{theirs}");
            assert_eq!(ours, theirs, "target {target}, level {level}");
        }
    }

    #[test]
    fn records_from_several_threads_all_stay() {
        let dir = tempfile::tempdir().unwrap();
        let (path, output) = file_output(&dir);
        let layer = FullLayer::new(None, false, false, output);
        tracing::subscriber::with_default(Registry::default().with(layer), || {
            let span = tracing::info_span!("shared", n = tracing::field::Empty);
            let dispatch = tracing::dispatcher::get_default(Clone::clone);
            std::thread::scope(|scope| {
                for _ in 0..4 {
                    let (span, dispatch) = (span.clone(), dispatch.clone());
                    scope.spawn(move || {
                        tracing::dispatcher::with_default(&dispatch, || {
                            for n in 0..2_000 {
                                span.record("n", n);
                            }
                        });
                    });
                }
            });
            span.in_scope(|| tracing::info!("after"));
        });
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.matches("n=").count(), 8_000);
    }

    #[test]
    fn timestamps_come_first() {
        let dir = tempfile::tempdir().unwrap();
        let (path, output) = file_output(&dir);
        let layer = FullLayer::new(Some(Timer::Utc), true, true, output);
        tracing::subscriber::with_default(Registry::default().with(layer), || {
            tracing::info!("stamped");
        });
        let text = std::fs::read_to_string(&path).unwrap();
        let (stamp, rest) = text.split_at(27);
        assert!(
            stamp.ends_with('Z') && stamp.as_bytes()[10] == b'T',
            "{text}"
        );
        assert!(
            rest.ends_with(" INFO tracing_bridge::layers::fmt::full::tests: stamped\n"),
            "{text}"
        );
    }
}
