//! The timeline layer: spans and events as a Trace Event Format JSON file, which opens in
//! <https://ui.perfetto.dev> and `chrome://tracing`.
//!
//! The output follows `tracing-chrome`'s layout (`B`/`E` pairs per thread, `b`/`e` pairs
//! grouped by root span in the async style, `i` for events, `M` for thread names), written by
//! a thread of its own so that traced threads only queue records. It is not built on that crate
//! because `tracing-chrome` 0.7 keeps its channel and thread numbers in process-wide
//! thread-locals: a second timeline in the same process (or two at once) loses the events of
//! threads that outlive the first and gives two threads the same track.
//!
//! Disposing the layer finishes the JSON array and closes the file.

use std::{
    borrow::Cow,
    cell::OnceCell,
    collections::HashSet,
    fmt,
    fs::File,
    io::{BufWriter, Write},
    path::{Path, PathBuf},
    sync::{
        atomic::{AtomicU64, Ordering},
        mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TryRecvError},
        Arc, Mutex,
    },
    thread::JoinHandle,
    time::{Duration, Instant},
};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tracing::{
    field::{Field, Visit},
    span::{Attributes, Id, Record},
    Event, Metadata, Subscriber,
};
use tracing_subscriber::{
    layer::Context,
    registry::{LookupSpan, SpanRef},
    Layer,
};

use super::{BuiltLayer, LayerLifecycle};
use crate::{
    error::{Error, ErrorKind},
    util::{create_truncated, os_thread_name},
};

/// Options of the timeline layer.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TimelineLayerConfig {
    /// The JSON file to write; created, or truncated if it exists. Its directory must exist.
    #[serde(deserialize_with = "crate::options::non_empty_path")]
    pub path: PathBuf,
    /// Record span and event fields as the entries' `args`.
    #[serde(default = "crate::options::yes")]
    pub include_args: bool,
    /// Record the source file and line of each entry (`.file`, `.line`).
    #[serde(default = "crate::options::yes")]
    pub include_locations: bool,
    /// One track per thread, or one track per root span.
    #[serde(default)]
    pub style: TimelineStyle,
    /// This layer's own filter directives.
    #[serde(default)]
    pub filter: Option<String>,
}

/// How spans are laid out on the timeline.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum TimelineStyle {
    /// One track per thread; a span is drawn while it is entered (`B`/`E` events).
    #[default]
    Threaded,
    /// One track per root span; a span is drawn from creation to close (`b`/`e` events), which
    /// suits spans that move between threads or are entered many times.
    Async,
}

/// Records waiting for the writer thread. A full queue makes traced threads wait for the
/// writer rather than grow without bound or drop records (which would break the nesting).
const QUEUE_CAPACITY: usize = 64 * 1024;

/// How long `flush` waits for the writer thread to confirm.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(10);

/// Builds a timeline layer; `field` names the layer in error messages.
pub(crate) fn build(config: &TimelineLayerConfig, field: &str) -> Result<BuiltLayer, Error> {
    let file = create_truncated(&config.path, &format!("{field}.path"))?;
    let (sender, receiver) = mpsc::sync_channel(QUEUE_CAPACITY);
    let writer = TraceWriter::new(file, config.path.clone());
    let handle = std::thread::Builder::new()
        .name("tracing-bridge-timeline".into())
        .spawn(move || writer.run(receiver))
        .map_err(|error| {
            Error::new(
                ErrorKind::FileNotWritable,
                format!("{field}: cannot start the timeline writer thread: {error}"),
            )
        })?;
    let layer = TimelineLayer {
        sender: sender.clone(),
        start: Instant::now(),
        include_args: config.include_args,
        include_locations: config.include_locations,
        style: config.style,
    };
    Ok(BuiltLayer {
        layer: Box::new(layer),
        lifecycle: Arc::new(TimelineLifecycle {
            sender,
            writer: Mutex::new(Some(handle)),
        }),
        extension: None,
    })
}

/// The layer: turns spans and events into [`Message`]s for the writer thread.
struct TimelineLayer {
    sender: SyncSender<Message>,
    start: Instant,
    include_args: bool,
    include_locations: bool,
    style: TimelineStyle,
}

/// The fields of a span, kept in its extensions when `include_args` is on.
struct SpanArgs(Arc<Map<String, Value>>);

impl TimelineLayer {
    fn now(&self) -> f64 {
        self.start.elapsed().as_nanos() as f64 / 1000.0
    }

    fn send(&self, message: Message) {
        // Fails only once the writer has finished; late records are dropped then.
        let _ = self.sender.send(message);
    }

    fn entry(
        &self,
        phase: Phase,
        name: Cow<'static, str>,
        origin: Origin,
        args: Option<Arc<Map<String, Value>>>,
        id: Option<u64>,
    ) -> Message {
        let thread = current_thread();
        Message::Entry(Entry {
            phase,
            timestamp: self.now(),
            thread: thread.id,
            thread_name: thread.name,
            name,
            category: origin.category,
            location: origin.location,
            args,
            id,
        })
    }

    /// The category (target) and location of a callsite's entries.
    fn origin(&self, metadata: &'static Metadata<'static>) -> Origin {
        Origin {
            category: Cow::Borrowed(metadata.target()),
            location: self
                .include_locations
                .then(|| metadata.file().zip(metadata.line()))
                .flatten()
                .map(|(file, line)| (Cow::Borrowed(file), line)),
        }
    }

    /// Like [`TimelineLayer::origin`], for the metadata of a record logged through `log`
    /// (`crate::log_bridge`), which lives only as long as the record.
    fn owned_origin(&self, metadata: &Metadata<'_>) -> Origin {
        Origin {
            category: Cow::Owned(metadata.target().to_owned()),
            location: self
                .include_locations
                .then(|| metadata.file().zip(metadata.line()))
                .flatten()
                .map(|(file, line)| (Cow::Owned(file.to_owned()), line)),
        }
    }

    fn span_entry<S>(&self, phase: Phase, span: &SpanRef<'_, S>, with_args: bool) -> Message
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let args = if with_args && self.include_args {
            span.extensions()
                .get::<SpanArgs>()
                .map(|args| Arc::clone(&args.0))
        } else {
            None
        };
        let id = match self.style {
            TimelineStyle::Threaded => None,
            TimelineStyle::Async => Some(
                span.scope()
                    .from_root()
                    .next()
                    .map_or_else(|| span.id(), |root| root.id())
                    .into_u64(),
            ),
        };
        let origin = self.origin(span.metadata());
        self.entry(phase, Cow::Borrowed(span.name()), origin, args, id)
    }
}

impl<S> Layer<S> for TimelineLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        if self.include_args {
            let mut args = Map::new();
            attrs.record(&mut JsonVisitor(&mut args));
            span.extensions_mut().insert(SpanArgs(Arc::new(args)));
        }
        if self.style == TimelineStyle::Async {
            self.send(self.span_entry(Phase::AsyncBegin, &span, true));
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if !self.include_args {
            return;
        }
        let Some(span) = ctx.span(id) else { return };
        let mut extensions = span.extensions_mut();
        if let Some(args) = extensions.get_mut::<SpanArgs>() {
            values.record(&mut JsonVisitor(Arc::make_mut(&mut args.0)));
        }
    }

    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        // A record logged through `log` shows its own target and location, and its message.
        let metadata = crate::log_bridge::normalized_metadata(event);
        let origin = match metadata.static_metadata() {
            Some(metadata) => self.origin(metadata),
            None => self.owned_origin(&metadata),
        };
        let (name, args) = if self.include_args {
            let mut args = Map::new();
            crate::log_bridge::record_fields(event, &mut JsonVisitor(&mut args));
            let name = match args.get("message") {
                Some(Value::String(message)) => Cow::Owned(message.clone()),
                _ => Cow::Borrowed(event.metadata().name()),
            };
            (name, Some(Arc::new(args)))
        } else {
            let mut message = MessageVisitor(None);
            crate::log_bridge::record_fields(event, &mut message);
            let name = message
                .0
                .map_or(Cow::Borrowed(event.metadata().name()), Cow::Owned);
            (name, None)
        };
        self.send(self.entry(Phase::Instant, name, origin, args, None));
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        if self.style != TimelineStyle::Threaded {
            return;
        }
        if let Some(span) = ctx.span(id) {
            self.send(self.span_entry(Phase::Begin, &span, true));
        }
    }

    fn on_exit(&self, id: &Id, ctx: Context<'_, S>) {
        if self.style != TimelineStyle::Threaded {
            return;
        }
        if let Some(span) = ctx.span(id) {
            self.send(self.span_entry(Phase::End, &span, false));
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        if self.style != TimelineStyle::Async {
            return;
        }
        if let Some(span) = ctx.span(&id) {
            self.send(self.span_entry(Phase::AsyncEnd, &span, false));
        }
    }
}

/// Records fields as JSON values: numbers, booleans and strings as themselves, anything else
/// through its `Debug` form.
struct JsonVisitor<'a>(&'a mut Map<String, Value>);

impl Visit for JsonVisitor<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().to_owned(), value.into());
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().to_owned(), value.into());
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().to_owned(), value.into());
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().to_owned(), value.into());
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.into());
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.0
            .insert(field.name().to_owned(), value.to_string().into());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0
            .insert(field.name().to_owned(), format!("{value:?}").into());
    }
}

/// Keeps only an event's message, the name of its entry.
struct MessageVisitor(Option<String>);

impl Visit for MessageVisitor {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0 = Some(value.to_owned());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            self.0 = Some(format!("{value:?}"));
        }
    }
}

/// A thread as the timeline shows it: a number unique in the process, and a name.
#[derive(Clone)]
struct TimelineThread {
    id: u64,
    name: Arc<str>,
}

static NEXT_THREAD_ID: AtomicU64 = AtomicU64::new(1);

thread_local! {
    static THREAD: OnceCell<TimelineThread> = const { OnceCell::new() };
}

/// This thread's timeline identity, numbered on first use. Every timeline layer of the
/// process uses the same numbers, so threads never share a track.
fn current_thread() -> TimelineThread {
    let make = || {
        let id = NEXT_THREAD_ID.fetch_add(1, Ordering::Relaxed);
        let name = std::thread::current()
            .name()
            .map(str::to_owned)
            .or_else(os_thread_name)
            .unwrap_or_else(|| format!("thread {id}"));
        let name = name.into();
        TimelineThread { id, name }
    };
    THREAD
        .try_with(|cell| cell.get_or_init(make).clone())
        // The thread-local is gone while the thread exits; number it anew for this record.
        .unwrap_or_else(|_| make())
}

/// What the layer sends to the writer thread.
enum Message {
    Entry(Entry),
    /// Write out everything so far, then answer.
    Flush(SyncSender<Result<(), String>>),
    /// Finish the document, answer, and stop.
    Finish(SyncSender<Result<(), String>>),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Begin,
    End,
    AsyncBegin,
    AsyncEnd,
    Instant,
}

impl Phase {
    fn code(self) -> &'static str {
        match self {
            Phase::Begin => "B",
            Phase::End => "E",
            Phase::AsyncBegin => "b",
            Phase::AsyncEnd => "e",
            Phase::Instant => "i",
        }
    }
}

struct Entry {
    phase: Phase,
    timestamp: f64,
    thread: u64,
    thread_name: Arc<str>,
    name: Cow<'static, str>,
    category: Cow<'static, str>,
    location: Option<(Cow<'static, str>, u32)>,
    args: Option<Arc<Map<String, Value>>>,
    id: Option<u64>,
}

/// How long the writer naps when the queue is empty before it blocks on it.
const WRITER_NAP: Duration = Duration::from_millis(1);

/// The next message, or `None` once every sender is gone. While records keep coming, the writer
/// naps briefly when it has caught up instead of blocking: a blocked receiver must be woken by
/// every send, which costs the traced threads a system call per record. After two empty naps
/// it blocks, so an idle program has an idle writer.
fn next_message(receiver: &Receiver<Message>) -> Option<Message> {
    for _ in 0..2 {
        match receiver.try_recv() {
            Ok(message) => return Some(message),
            Err(TryRecvError::Disconnected) => return None,
            Err(TryRecvError::Empty) => std::thread::sleep(WRITER_NAP),
        }
    }
    receiver.recv().ok()
}

/// Where an entry comes from: borrowed from its callsite, owned for a `log` record.
struct Origin {
    category: Cow<'static, str>,
    location: Option<(Cow<'static, str>, u32)>,
}

/// One entry as written, in the Trace Event Format.
#[derive(Serialize)]
struct EntryJson<'a> {
    ph: &'static str,
    pid: u32,
    tid: u64,
    ts: f64,
    name: &'a str,
    cat: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    s: Option<&'static str>,
    #[serde(rename = ".file", skip_serializing_if = "Option::is_none")]
    file: Option<&'a str>,
    #[serde(rename = ".line", skip_serializing_if = "Option::is_none")]
    line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    args: Option<&'a Map<String, Value>>,
}

/// The writer thread's state: the file, and which threads it has named already.
struct TraceWriter {
    out: BufWriter<File>,
    path: PathBuf,
    process: u32,
    named_threads: HashSet<u64>,
    entries_written: usize,
    error: Option<String>,
}

impl TraceWriter {
    fn new(file: File, path: PathBuf) -> Self {
        Self {
            out: BufWriter::new(file),
            path,
            process: std::process::id(),
            named_threads: HashSet::new(),
            entries_written: 0,
            error: None,
        }
    }

    fn run(mut self, receiver: Receiver<Message>) {
        self.write_raw(b"[\n");
        self.write_value(&serde_json::json!({
            "ph": "M", "pid": self.process, "name": "process_name",
            "args": { "name": process_name() },
        }));
        while let Some(message) = next_message(&receiver) {
            match message {
                Message::Entry(entry) => self.write_entry(entry),
                Message::Flush(answer) => {
                    self.flush();
                    let _ = answer.send(self.error.clone().map_or(Ok(()), Err));
                }
                Message::Finish(answer) => {
                    self.finish();
                    let _ = answer.send(self.error.clone().map_or(Ok(()), Err));
                    return;
                }
            }
        }
        // Every sender is gone without a `Finish`: still leave a complete document.
        self.finish();
    }

    fn finish(&mut self) {
        self.write_raw(b"\n]\n");
        self.flush();
    }

    fn write_entry(&mut self, entry: Entry) {
        if self.named_threads.insert(entry.thread) {
            self.write_value(&serde_json::json!({
                "ph": "M", "pid": self.process, "tid": entry.thread, "name": "thread_name",
                "args": { "name": &*entry.thread_name },
            }));
        }
        let (file, line) = entry
            .location
            .as_ref()
            .map(|(file, line)| (&**file, *line))
            .unzip();
        self.write_value(&EntryJson {
            ph: entry.phase.code(),
            pid: self.process,
            tid: entry.thread,
            ts: entry.timestamp,
            name: &entry.name,
            cat: &entry.category,
            id: entry.id,
            s: (entry.phase == Phase::Instant).then_some("t"),
            file,
            line,
            args: entry.args.as_deref().filter(|args| !args.is_empty()),
        });
    }

    fn write_value(&mut self, value: &impl Serialize) {
        if self.entries_written > 0 {
            self.write_raw(b",\n");
        }
        if self.error.is_none() {
            if let Err(error) = serde_json::to_writer(&mut self.out, value) {
                self.fail(error.to_string());
            }
        }
        self.entries_written += 1;
    }

    fn write_raw(&mut self, bytes: &[u8]) {
        if self.error.is_none() {
            if let Err(error) = self.out.write_all(bytes) {
                self.fail(error.to_string());
            }
        }
    }

    fn flush(&mut self) {
        if self.error.is_none() {
            if let Err(error) = self.out.flush() {
                self.fail(error.to_string());
            }
        }
    }

    /// Reports the first write error once, then stops writing.
    fn fail(&mut self, error: String) {
        let message = format!(
            "cannot write the timeline `{}`: {error}",
            display(&self.path)
        );
        eprintln!("tracing-bridge: {message}");
        self.error = Some(message);
    }
}

fn display(path: &Path) -> String {
    path.display().to_string()
}

fn process_name() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|path| {
            path.file_name()
                .map(|name| name.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "process".to_owned())
}

/// Flushes through the writer thread; on shutdown finishes the document and joins the thread.
struct TimelineLifecycle {
    sender: SyncSender<Message>,
    writer: Mutex<Option<JoinHandle<()>>>,
}

impl LayerLifecycle for TimelineLifecycle {
    fn flush(&self) -> Result<(), Error> {
        let (answer, answered) = mpsc::sync_channel(1);
        if self.sender.send(Message::Flush(answer)).is_err() {
            return Ok(()); // Already finished: the file is complete.
        }
        match answered.recv_timeout(FLUSH_TIMEOUT) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(message)) => Err(Error::new(ErrorKind::FileNotWritable, message)),
            Err(RecvTimeoutError::Timeout) => Err(Error::new(
                ErrorKind::FileNotWritable,
                format!(
                    "the timeline writer did not finish flushing within {} s; the disk may be \
                     slow or full",
                    FLUSH_TIMEOUT.as_secs()
                ),
            )),
            Err(RecvTimeoutError::Disconnected) => Ok(()),
        }
    }

    fn shutdown(&self) -> Result<(), Error> {
        let Some(handle) = self
            .writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take()
        else {
            return Ok(());
        };
        let (answer, answered) = mpsc::sync_channel(1);
        let _ = self.sender.send(Message::Finish(answer));
        if handle.join().is_err() {
            return Err(Error::new(
                ErrorKind::Panic,
                "the timeline writer thread panicked (a bug; please report it)",
            ));
        }
        match answered.try_recv() {
            Ok(Err(message)) => Err(Error::new(ErrorKind::FileNotWritable, message)),
            _ => Ok(()),
        }
    }
}

impl Drop for TimelineLifecycle {
    fn drop(&mut self) {
        if let Err(error) = self.shutdown() {
            eprintln!("tracing-bridge: while closing a timeline: {error}");
        }
    }
}
