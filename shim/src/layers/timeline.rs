//! The timeline layer: spans and events as a Trace Event Format JSON file, which opens in
//! <https://ui.perfetto.dev> and `chrome://tracing`.
//!
//! The output follows `tracing-chrome`'s layout (`B`/`E` pairs per thread, `b`/`e` pairs
//! grouped by root span in the async style, `i` for events, `M` for thread names), written by
//! a thread of its own so that traced threads only queue records: each thread keeps compact
//! records (callsite metadata by reference, field values copied) in a buffer of its own and
//! hands them over in chunks; JSON is made on the writer thread. It is not built on that crate
//! because `tracing-chrome` 0.7 keeps its channel and thread numbers in process-wide
//! thread-locals: a second timeline in the same process (or two at once) loses the events of
//! threads that outlive the first and gives two threads the same track.
//!
//! Disposing the layer finishes the JSON array and closes the file.

use std::{
    cell::{Cell, OnceCell, RefCell},
    collections::{HashMap, HashSet},
    fmt::{self, Write as _},
    fs::File,
    io::{BufWriter, Write},
    ops::Range,
    path::{Path, PathBuf},
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TryRecvError},
        Arc, Mutex, MutexGuard, PoisonError,
    },
    thread::JoinHandle,
    time::{Duration, Instant},
};

use serde::{Deserialize, Serialize};
use serde_json::ser::{CompactFormatter, Formatter};
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
    util::{
        create_truncated, os_thread_name, Calibration, EnteredSpans, OwnerLock, Tick, WhenFull,
    },
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

/// Records per chunk: a traced thread hands its records to the writer thread this many at a
/// time (or sooner, on a flush or when the thread ends).
const CHUNK_RECORDS: usize = 512;

/// Text per chunk (field values, messages) above which a chunk goes to the writer early.
const CHUNK_TEXT: usize = 64 * 1024;

/// Records waiting for the writer thread. A full queue makes traced threads wait for the
/// writer rather than grow without bound or drop records (which would break the nesting).
const QUEUE_CAPACITY: usize = 64 * 1024;

/// How long `flush` waits for the writer thread to confirm.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(10);

/// Builds a timeline layer; `field` names the layer in error messages.
pub(crate) fn build(config: &TimelineLayerConfig, field: &str) -> Result<BuiltLayer, Error> {
    let file = create_truncated(&config.path, &format!("{field}.path"))?;
    let (sender, receiver) = mpsc::sync_channel(QUEUE_CAPACITY / CHUNK_RECORDS);
    let spare = Arc::new(Mutex::new(Vec::new()));
    let writer = TraceWriter::new(
        file,
        config.path.clone(),
        Instant::now(),
        config.include_locations,
        Arc::clone(&spare),
    );
    let handle = std::thread::Builder::new()
        .name("tracing-bridge-timeline".into())
        .spawn(move || writer.run(receiver))
        .map_err(|error| {
            Error::new(
                ErrorKind::FileNotWritable,
                format!("{field}: cannot start the timeline writer thread: {error}"),
            )
        })?;
    let shared = Arc::new(Shared {
        sender,
        buffers: Mutex::new(Vec::new()),
        spare,
        finished: AtomicBool::new(false),
    });
    let layer = TimelineLayer {
        shared: Arc::clone(&shared),
        include_args: config.include_args,
        include_locations: config.include_locations,
        style: config.style,
    };
    Ok(BuiltLayer {
        layer: Box::new(layer),
        lifecycle: Arc::new(TimelineLifecycle {
            shared,
            writer: Mutex::new(Some(handle)),
        }),
        extension: None,
        enter_exit: true,
    })
}

/// The layer: turns spans and events into [`Entry`]s in the calling thread's buffer.
struct TimelineLayer {
    shared: Arc<Shared>,
    include_args: bool,
    include_locations: bool,
    style: TimelineStyle,
}

/// What the layer, the traced threads' buffers and the lifecycle share.
struct Shared {
    sender: SyncSender<Message>,
    /// The buffer of every thread that recorded to this timeline and has not ended (or has,
    /// while spans it created are open), for a flush to reach records that threads have not
    /// handed over yet and for a thread to find the fields of a span another thread created.
    buffers: Mutex<Vec<Arc<ThreadBuffer>>>,
    /// Chunks the writer thread has written out, emptied for reuse: a thread's next chunk then
    /// has room for its records from the start instead of growing from nothing.
    spare: Arc<Mutex<Vec<Chunk>>>,
    /// Set once the document is finished: threads then let go of their buffers.
    finished: AtomicBool,
}

impl Shared {
    /// Hands every thread's buffered records to the writer thread.
    fn drain(&self) {
        for buffer in lock(&self.buffers).iter() {
            buffer.send(&mut buffer.state.lock().chunk, self);
        }
    }

    /// Calls `f` with the open spans of the thread that created span `id` and the span's index
    /// there, if a thread's list has it. The caller holds no thread's state. A list emptied
    /// this way whose thread has ended leaves the timeline.
    fn with_span_elsewhere<R>(
        &self,
        id: u64,
        f: impl FnOnce(&mut OpenSpans, usize) -> R,
    ) -> Option<R> {
        let mut buffers = lock(&self.buffers);
        let mut emptied = None;
        let mut result = None;
        for (position, buffer) in buffers.iter().enumerate() {
            let mut state = buffer.state.lock();
            if let Some(index) = state.spans.find(id) {
                result = Some(f(&mut state.spans, index));
                if state.ended && state.spans.is_empty() {
                    emptied = Some(position);
                }
                break;
            }
        }
        if let Some(position) = emptied {
            buffers.remove(position);
        }
        result
    }
}

/// Chunks kept for reuse (see [`Shared::spare`]).
const SPARE_CHUNKS: usize = 8;

/// One thread's records for one timeline, handed to the writer thread a chunk at a time, and
/// the spans the thread created. Only its thread, a flush and (rarely) a thread looking for a
/// span created here lock it, so the lock taken per record is almost never contended. A chunk
/// is sent with the lock held: a thread's chunks reach the writer in order.
struct ThreadBuffer {
    thread: TimelineThread,
    state: OwnerLock<ThreadState>,
}

struct ThreadState {
    chunk: Chunk,
    spans: OpenSpans,
    /// The thread has ended (or this state is a stand-in for a thread without a buffer): no
    /// span is added to `spans`.
    ended: bool,
}

impl ThreadState {
    fn new(chunk: Chunk, ended: bool) -> Self {
        Self {
            chunk,
            spans: OpenSpans::new(),
            ended,
        }
    }
}

impl ThreadBuffer {
    /// Sends the records in `chunk` (this buffer's, locked) to the writer, if any. A thread
    /// that filled its chunk gets one with room for a chunk's records (a spare one if there
    /// is); one whose chunk is sent early (a flush) starts small again, as threads do, so
    /// that threads that record little hold little.
    fn send(&self, chunk: &mut Chunk, shared: &Shared) {
        if chunk.records.is_empty() {
            return;
        }
        let mut fresh = if chunk.is_full() {
            lock(&shared.spare).pop().unwrap_or_else(Chunk::with_room)
        } else {
            Chunk::new()
        };
        // The end of this chunk's time is the start of the next one's.
        let now = Calibration::now();
        fresh.start = now;
        let mut chunk = std::mem::replace(chunk, fresh);
        chunk.end = now;
        // Fails only once the writer has finished; late records are dropped then.
        let _ = shared
            .sender
            .send(Message::Records(self.thread.clone(), chunk));
    }
}

/// A thread's handle on its buffer in one timeline. When the thread ends, it hands the
/// records buffered so far to the writer and takes the buffer off the timeline's list (once
/// the spans it created are closed).
struct LocalBuffer {
    shared: Arc<Shared>,
    buffer: Arc<ThreadBuffer>,
    entered: Entered,
}

/// The spans entered on a thread and not exited yet, innermost last, with their callsites:
/// what an `E` entry needs without looking the span up in the registry. A span exited on
/// another thread than it was entered on is looked up instead, and stays here until the list
/// is full and cleared.
type Entered = EnteredSpans<&'static Metadata<'static>>;

/// The most spans a thread's [`Entered`] keeps.
const MAX_ENTERED: usize = 1024;

fn new_entered() -> Entered {
    EnteredSpans::new(MAX_ENTERED, WhenFull::Clear)
}

impl LocalBuffer {
    fn new(shared: &Arc<Shared>) -> Self {
        let buffer = Arc::new(ThreadBuffer {
            thread: current_thread(),
            state: OwnerLock::new(ThreadState::new(Chunk::new(), false)),
        });
        lock(&shared.buffers).push(Arc::clone(&buffer));
        Self {
            shared: Arc::clone(shared),
            buffer,
            entered: new_entered(),
        }
    }
}

impl Drop for LocalBuffer {
    fn drop(&mut self) {
        // Every thread's records so far, not only this one's: the other threads' earlier
        // records then still come first in the file.
        self.shared.drain();
        let mut buffers = lock(&self.shared.buffers);
        let mut state = self.buffer.state.lock();
        state.ended = true;
        // Spans this thread created and other threads still hold keep their fields here.
        if state.spans.is_empty() {
            drop(state);
            buffers.retain(|buffer| !Arc::ptr_eq(buffer, &self.buffer));
        }
    }
}

/// The spans a thread created (with this layer's threaded style) and that are not closed yet,
/// with their callsites and fields (when `include_args` is on): what a `B` entry needs, found
/// without the registry and kept without an allocation per span. The list is searched from
/// its end, where the spans just created (the ones entered next) are. A span entered, recorded
/// or closed on another thread is found by that thread through [`Shared::with_span_elsewhere`];
/// a span that does not fit (or whose thread has no buffer) keeps its fields in its
/// extensions ([`SpanArgs`]) instead, even none, so that closing it need not look elsewhere.
struct OpenSpans {
    spans: Vec<OpenSpan>,
    /// The spans' fields: each span has a range of the fields and of the text.
    args: Args,
}

struct OpenSpan {
    /// 0 once closed (span ids are never 0); removed when the spans after it are.
    id: u64,
    metadata: &'static Metadata<'static>,
    fields: Range<usize>,
    text: Range<usize>,
}

/// The most spans (closed ones not removed yet included) a thread's [`OpenSpans`] keeps.
const MAX_OPEN_SPANS: usize = 1024;

impl OpenSpans {
    const fn new() -> Self {
        Self {
            spans: Vec::new(),
            args: Args::new(),
        }
    }

    fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    fn is_full(&self) -> bool {
        self.spans.len() >= MAX_OPEN_SPANS
    }

    fn find(&self, id: u64) -> Option<usize> {
        self.spans.iter().rposition(|span| span.id == id)
    }

    /// Adds span `id` with (a copy of) `args`.
    fn add(&mut self, id: u64, metadata: &'static Metadata<'static>, args: &Args) {
        let (fields, text_start) = self.args.append(args);
        self.spans.push(OpenSpan {
            id,
            metadata,
            fields,
            text: text_start..self.args.text.len(),
        });
    }

    /// Marks the span at `index` closed, and removes the closed spans at the end of the list
    /// with their fields.
    fn remove(&mut self, index: usize) {
        self.spans[index].id = 0;
        while let Some(last) = self.spans.last() {
            if last.id != 0 {
                break;
            }
            self.args.fields.truncate(last.fields.start);
            self.args.text.truncate(last.text.start);
            self.spans.pop();
        }
    }

    /// Copies the fields of the span at `index` to the end of `to`'s; returns where they are.
    fn copy_fields(&self, index: usize, to: &mut Args) -> (Range<usize>, usize) {
        let span = &self.spans[index];
        to.append_part(&self.args, span.fields.clone(), span.text.clone())
    }

    /// Records `values` on the span at `index` (which moves to the end of the list). Returns
    /// the span's fields if the list has no room for it any more: they go to its extensions.
    fn record(&mut self, index: usize, values: &Args) -> Option<Args> {
        let (id, metadata) = (self.spans[index].id, self.spans[index].metadata);
        let mut fields = Args::new();
        self.copy_fields(index, &mut fields);
        fields.merge(values);
        self.remove(index);
        if self.is_full() {
            return Some(fields);
        }
        self.add(id, metadata, &fields);
        None
    }
}

thread_local! {
    /// This thread's buffer in each timeline it recorded to (usually one).
    static BUFFERS: RefCell<Vec<LocalBuffer>> = const { RefCell::new(Vec::new()) };
    /// Where an event's or a span's fields are recorded before they are copied into the buffer
    /// (taken out while in use, so that a `Debug` value that logs gets a scratch of its own).
    static SCRATCH: Cell<Args> = const { Cell::new(Args::new()) };
}

/// Takes this thread's scratch [`Args`] (empty), to give back with [`return_scratch`].
fn take_scratch() -> Args {
    SCRATCH.try_with(Cell::take).unwrap_or_default()
}

fn return_scratch(mut scratch: Args) {
    scratch.clear();
    let _ = SCRATCH.try_with(|cell| cell.set(scratch));
}

/// Locks `mutex`; the data behind this module's locks stays consistent if a holder panics.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A thread's records, in order, with the fields and text they own.
struct Chunk {
    records: Vec<Entry>,
    /// The records' fields; each record has a range of them.
    args: Args,
    /// The clocks when the chunk started taking records and when it was sent: the records'
    /// [`Tick`]s are placed between the two.
    start: Calibration,
    end: Calibration,
}

impl Chunk {
    fn new() -> Self {
        let now = Calibration::now();
        Self {
            records: Vec::new(),
            args: Args::new(),
            start: now,
            end: now,
        }
    }

    /// An empty chunk with room for a chunk's records.
    fn with_room() -> Self {
        let now = Calibration::now();
        Self {
            start: now,
            end: now,
            records: Vec::with_capacity(CHUNK_RECORDS),
            args: Args {
                fields: Vec::with_capacity(CHUNK_RECORDS),
                text: String::with_capacity(CHUNK_TEXT / 8),
            },
        }
    }

    fn is_full(&self) -> bool {
        self.records.len() >= CHUNK_RECORDS || self.args.text.len() >= CHUNK_TEXT
    }

    /// Copies `text` to the end of the chunk's text; returns where it is.
    fn push_text(&mut self, text: &str) -> Range<usize> {
        let start = self.args.text.len();
        self.args.text.push_str(text);
        start..self.args.text.len()
    }

    /// Empties the chunk for reuse, unless it holds so much text that it is better freed.
    fn recycle(mut self) -> Option<Self> {
        if self.args.text.capacity() > 2 * CHUNK_TEXT || self.records.capacity() > CHUNK_RECORDS {
            return None;
        }
        self.records.clear();
        self.args.clear();
        Some(self)
    }
}

/// A span's or event's entry as recorded on the traced thread: borrowed from its callsite
/// where it can be, else in its chunk. The writer thread turns it into JSON.
struct Entry {
    phase: Phase,
    /// When; the writer thread makes it an instant (with its chunk's calibrations), then
    /// relative to the layer's start.
    timestamp: Tick,
    origin: Origin,
    name: EntryName,
    /// The record's fields among its chunk's (none: an empty range).
    args: Range<usize>,
    /// Where the record's text starts in its chunk's: its text values are relative to that.
    args_text: usize,
    /// The async track: the id of the span's root.
    id: Option<u64>,
}

/// Where a record comes from: its category (target) and location.
enum Origin {
    Callsite(&'static Metadata<'static>),
    /// The target and location (when locations are included) of a record logged through `log`
    /// (`crate::log_bridge`), whose metadata lives only as long as the record: in the chunk's
    /// text.
    Log {
        target: Range<usize>,
        location: Option<(Range<usize>, u32)>,
    },
}

/// An entry's name: its callsite's (a span's), an event's own, an event's message (in the
/// chunk's text), or (resolved by the writer) the message among its args, else the event's
/// name.
enum EntryName {
    Callsite,
    Static(&'static str),
    Text(Range<usize>),
    Message(&'static str),
}

/// The fields of a span that is not in the [`OpenSpans`] of the thread that created it (because
/// they were full, or the thread had no buffer, or the span was recorded while they were
/// full), kept in its extensions.
struct SpanArgs(Args);

/// Fields as recorded on the traced thread: names are `'static`, values kept as they are
/// except text, which goes to `text` (only `Debug` values are formatted there, since they are
/// borrowed); the writer thread turns them into JSON. A field recorded again replaces its
/// value.
///
/// A chunk's (or a thread's [`OpenSpans`]) holds the fields of many records, each a range of
/// the fields whose text values are relative to where the record's text starts: a record's
/// fields are copied as they are, with its text.
#[derive(Default)]
struct Args {
    fields: Vec<(&'static str, ArgValue)>,
    text: String,
}

#[derive(Clone, Copy)]
enum ArgValue {
    I64(i64),
    U64(u64),
    F64(f64),
    Bool(bool),
    /// The start and end of the value in the text of the [`Args`] holding it, from where the
    /// text of its record starts.
    Str(usize, usize),
}

/// The text from `start` to `end` of `text`.
fn text_at(text: &str, start: usize, end: usize) -> &str {
    text.get(start..end).unwrap_or_default()
}

impl Args {
    const fn new() -> Self {
        Self {
            fields: Vec::new(),
            text: String::new(),
        }
    }

    fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    fn clear(&mut self) {
        self.fields.clear();
        self.text.clear();
    }

    /// Sets field `name` to what `value` returns; a text value writes itself at the end of
    /// `text` (where the field's previous text, if any, no longer is). These args are one
    /// record's (their text starts at 0).
    fn set(&mut self, name: &'static str, value: impl FnOnce(&mut String) -> ArgValue) {
        let index = self.fields.iter().position(|(field, _)| *field == name);
        if let Some(ArgValue::Str(start, end)) = index.map(|index| self.fields[index].1) {
            self.remove_text(start, end);
        }
        let value = value(&mut self.text);
        match index {
            Some(index) => self.fields[index].1 = value,
            None => self.fields.push((name, value)),
        }
    }

    fn set_text(&mut self, name: &'static str, write: impl FnOnce(&mut String)) {
        self.set(name, |text| {
            let start = text.len();
            write(text);
            ArgValue::Str(start, text.len())
        });
    }

    /// Removes the text from `start` to `end`, moving the values after it.
    fn remove_text(&mut self, start: usize, end: usize) {
        self.text.replace_range(start..end, "");
        let removed = end - start;
        for (_, value) in &mut self.fields {
            if let ArgValue::Str(from, to) = value {
                if *from >= end {
                    *from -= removed;
                    *to -= removed;
                }
            }
        }
    }

    /// Copies `other`'s fields (one record's) to the end of these; returns where they are and
    /// where their text starts.
    fn append(&mut self, other: &Args) -> (Range<usize>, usize) {
        self.append_part(other, 0..other.fields.len(), 0..other.text.len())
    }

    /// Copies `fields` of `other`, one record's, with `text`, that record's text, to the end of
    /// these; returns where they are and where their text starts.
    fn append_part(
        &mut self,
        other: &Args,
        fields: Range<usize>,
        text: Range<usize>,
    ) -> (Range<usize>, usize) {
        let start = self.fields.len();
        let text_start = self.text.len();
        self.text.push_str(other.text.get(text).unwrap_or_default());
        self.fields
            .extend_from_slice(other.fields.get(fields).unwrap_or_default());
        (start..self.fields.len(), text_start)
    }

    /// Sets each of `other`'s fields (one record's) here, as recording them again would.
    fn merge(&mut self, other: &Args) {
        for &(name, value) in &other.fields {
            match value {
                ArgValue::Str(start, end) => {
                    self.set_text(name, |to| to.push_str(text_at(&other.text, start, end)));
                }
                value => self.set(name, |_| value),
            }
        }
    }

    /// A range of the text.
    fn text(&self, range: &Range<usize>) -> &str {
        self.text.get(range.clone()).unwrap_or_default()
    }
}

impl TimelineLayer {
    /// Calls `push` with this thread's state in this timeline (its chunk, to write records
    /// into, and the spans it created) and the spans entered on the thread, then hands the
    /// chunk to the writer thread if it is full. Without a buffer (the thread is ending, or
    /// this is a record made while recording another), `push` gets a state of its own, whose
    /// records are sent at once.
    fn push<R: Default>(&self, push: impl FnOnce(&mut ThreadState, &mut Entered) -> R) -> R {
        let mut push = Some(push);
        let result = BUFFERS
            .try_with(|buffers| {
                let mut buffers = buffers.try_borrow_mut().ok()?;
                let index = match buffers
                    .iter()
                    .position(|local| Arc::ptr_eq(&local.shared, &self.shared))
                {
                    Some(index) => index,
                    None => {
                        // A first record here: let go of the buffers of finished timelines too.
                        buffers.retain(|local| !local.shared.finished.load(Ordering::Relaxed));
                        buffers.push(LocalBuffer::new(&self.shared));
                        buffers.len() - 1
                    }
                };
                let local = &mut buffers[index];
                let mut state = local.buffer.state.lock();
                let result = push.take().map(|push| push(&mut state, &mut local.entered));
                if state.chunk.is_full() {
                    local.buffer.send(&mut state.chunk, &self.shared);
                }
                result
            })
            .ok()
            .flatten();
        if let Some(result) = result {
            return result;
        }
        // The thread is ending and its buffers are gone (their records sent): send it alone.
        let Some(push) = push else {
            return R::default();
        };
        let mut state = ThreadState::new(Chunk::new(), true);
        let result = push(&mut state, &mut new_entered());
        if !state.chunk.records.is_empty() {
            state.chunk.end = Calibration::now();
            let _ = self
                .shared
                .sender
                .send(Message::Records(current_thread(), state.chunk));
        }
        result
    }

    /// Records `phase` of `span` in the async style, with `args` if `include_args`.
    fn push_async<S>(&self, phase: Phase, span: &SpanRef<'_, S>, args: Option<&Args>)
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let timestamp = Tick::now();
        let root = span
            .scope()
            .from_root()
            .next()
            .map_or_else(|| span.id(), |root| root.id())
            .into_u64();
        let args = args.filter(|_| self.include_args);
        self.push(|state, _| {
            let args = args.map_or((0..0, 0), |args| state.chunk.args.append(args));
            state.chunk.records.push(Entry {
                phase,
                timestamp,
                origin: Origin::Callsite(span.metadata()),
                name: EntryName::Callsite,
                args: args.0,
                args_text: args.1,
                id: Some(root),
            });
        });
    }

    /// Records the `B` of span `id`, created on another thread (or kept in its extensions).
    fn enter_looked_up<S>(&self, id: &Id, timestamp: Tick, ctx: &Context<'_, S>)
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let Some(span) = ctx.span(id) else { return };
        let span_id = id.into_u64();
        let metadata = span.metadata();
        let mut args = take_scratch();
        if self.include_args {
            let extensions = span.extensions();
            if let Some(SpanArgs(stored)) = extensions.get::<SpanArgs>() {
                args.append(stored);
            } else {
                drop(extensions);
                self.shared.with_span_elsewhere(span_id, |spans, index| {
                    spans.copy_fields(index, &mut args);
                });
            }
        }
        self.push(|state, entered| {
            entered.enter(span_id, metadata);
            let args = state.chunk.args.append(&args);
            state
                .chunk
                .records
                .push(Entry::span(Phase::Begin, timestamp, metadata, args));
        });
        return_scratch(args);
    }
}

impl Entry {
    /// A span's `B` or `E`.
    fn span(
        phase: Phase,
        timestamp: Tick,
        metadata: &'static Metadata<'static>,
        (args, args_text): (Range<usize>, usize),
    ) -> Self {
        Self {
            phase,
            timestamp,
            origin: Origin::Callsite(metadata),
            name: EntryName::Callsite,
            args,
            args_text,
            id: None,
        }
    }
}

impl<S> Layer<S> for TimelineLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut args = take_scratch();
        if self.include_args && !attrs.values().is_empty() {
            attrs.record(&mut ArgsVisitor(&mut args));
        }
        match self.style {
            TimelineStyle::Threaded => {
                let span_id = id.into_u64();
                let metadata = attrs.metadata();
                let kept = self.push(|state, _| {
                    if state.ended || state.spans.is_full() {
                        return false;
                    }
                    state.spans.add(span_id, metadata, &args);
                    true
                });
                if !kept {
                    if let Some(span) = ctx.span(id) {
                        let fields = std::mem::take(&mut args);
                        span.extensions_mut().insert(SpanArgs(fields));
                    }
                }
            }
            TimelineStyle::Async => {
                if let Some(span) = ctx.span(id) {
                    self.push_async(Phase::AsyncBegin, &span, Some(&args));
                }
            }
        }
        return_scratch(args);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        // Only a `B` shows a span's fields as they are by then.
        if !self.include_args || self.style != TimelineStyle::Threaded {
            return;
        }
        let mut scratch = take_scratch();
        values.record(&mut ArgsVisitor(&mut scratch));
        if !scratch.is_empty() {
            if let Some(span) = ctx.span(id) {
                // Held throughout: records of the span on other threads wait.
                let mut extensions = span.extensions_mut();
                if let Some(SpanArgs(stored)) = extensions.get_mut::<SpanArgs>() {
                    stored.merge(&scratch);
                } else {
                    let span_id = id.into_u64();
                    let recorded = self
                        .push(|state, _| {
                            let index = state.spans.find(span_id)?;
                            Some(state.spans.record(index, &scratch))
                        })
                        .or_else(|| {
                            self.shared.with_span_elsewhere(span_id, |spans, index| {
                                spans.record(index, &scratch)
                            })
                        });
                    match recorded {
                        Some(None) => {}
                        Some(Some(fields)) => extensions.insert(SpanArgs(fields)),
                        None => {
                            let mut fields = Args::new();
                            fields.append(&scratch);
                            extensions.insert(SpanArgs(fields));
                        }
                    }
                }
            }
        }
        return_scratch(scratch);
    }

    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let timestamp = Tick::now();
        // A record logged through `log` shows its own target and location, and its message.
        let metadata = crate::log_bridge::normalized_metadata(event);
        let mut scratch = take_scratch();
        // Without args, only the message is kept, in `scratch.text`.
        let has_message = if self.include_args {
            metadata.record_fields(event, &mut ArgsVisitor(&mut scratch));
            false
        } else {
            let mut message = MessageVisitor {
                text: &mut scratch.text,
                found: false,
            };
            metadata.record_fields(event, &mut message);
            message.found
        };
        self.push(|state, _| {
            let chunk = &mut state.chunk;
            let origin = match metadata.static_metadata() {
                Some(metadata) => Origin::Callsite(metadata),
                None => Origin::Log {
                    target: chunk.push_text(metadata.target()),
                    location: self
                        .include_locations
                        .then(|| metadata.file().zip(metadata.line()))
                        .flatten()
                        .map(|(file, line)| (chunk.push_text(file), line)),
                },
            };
            let (name, args) = if self.include_args {
                // The writer thread takes the name from the message among the args.
                let args = chunk.args.append(&scratch);
                (EntryName::Message(event.metadata().name()), args)
            } else {
                let name = if has_message {
                    EntryName::Text(chunk.push_text(&scratch.text))
                } else {
                    EntryName::Static(event.metadata().name())
                };
                (name, (0..0, 0))
            };
            chunk.records.push(Entry {
                phase: Phase::Instant,
                timestamp,
                origin,
                name,
                args: args.0,
                args_text: args.1,
                id: None,
            });
        });
        return_scratch(scratch);
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        if self.style != TimelineStyle::Threaded {
            return;
        }
        let timestamp = Tick::now();
        let span_id = id.into_u64();
        let include_args = self.include_args;
        let done = self.push(|state, entered| {
            let Some(index) = state.spans.find(span_id) else {
                return false;
            };
            let metadata = state.spans.spans[index].metadata;
            let args = if include_args {
                state.spans.copy_fields(index, &mut state.chunk.args)
            } else {
                (0..0, 0)
            };
            entered.enter(span_id, metadata);
            state
                .chunk
                .records
                .push(Entry::span(Phase::Begin, timestamp, metadata, args));
            true
        });
        if !done {
            self.enter_looked_up(id, timestamp, &ctx);
        }
    }

    fn on_exit(&self, id: &Id, ctx: Context<'_, S>) {
        if self.style != TimelineStyle::Threaded {
            return;
        }
        let timestamp = Tick::now();
        self.push(|state, entered| {
            let span = id.into_u64();
            let metadata = match entered.leave(span) {
                Some(metadata) => metadata,
                None => match ctx.metadata(id) {
                    Some(metadata) => metadata,
                    None => return,
                },
            };
            state
                .chunk
                .records
                .push(Entry::span(Phase::End, timestamp, metadata, (0..0, 0)));
        });
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        match self.style {
            TimelineStyle::Threaded => {
                let span_id = id.into_u64();
                let removed = self.push(|state, _| {
                    let index = state.spans.find(span_id)?;
                    state.spans.remove(index);
                    Some(())
                });
                // Created on another thread: unless it keeps its fields in its extensions, it is
                // in the list of the thread that created it, where its id must not linger.
                if removed.is_none()
                    && ctx
                        .span(&id)
                        .is_none_or(|span| span.extensions().get::<SpanArgs>().is_none())
                {
                    self.shared
                        .with_span_elsewhere(span_id, |spans, index| spans.remove(index));
                }
            }
            TimelineStyle::Async => {
                if let Some(span) = ctx.span(&id) {
                    self.push_async(Phase::AsyncEnd, &span, None);
                }
            }
        }
    }
}

/// Records fields as [`Args`]: numbers, booleans and strings as themselves, anything else
/// through its `Debug` form.
struct ArgsVisitor<'a>(&'a mut Args);

impl Visit for ArgsVisitor<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.set(field.name(), |_| ArgValue::F64(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.set(field.name(), |_| ArgValue::I64(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.set(field.name(), |_| ArgValue::U64(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.set(field.name(), |_| ArgValue::Bool(value));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.set_text(field.name(), |text| text.push_str(value));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.0.set_text(field.name(), |text| {
            let _ = write!(text, "{value}");
        });
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.set_text(field.name(), |text| {
            let _ = write!(text, "{value:?}");
        });
    }
}

/// Keeps only an event's message, the name of its entry, in `text`.
struct MessageVisitor<'a> {
    text: &'a mut String,
    found: bool,
}

impl MessageVisitor<'_> {
    fn set(&mut self, write: impl FnOnce(&mut String)) {
        self.text.clear();
        write(self.text);
        self.found = true;
    }
}

impl Visit for MessageVisitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.set(|text| text.push_str(value));
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            self.set(|text| {
                let _ = write!(text, "{value:?}");
            });
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

/// What the writer thread receives.
enum Message {
    /// A thread's records, in order.
    Records(TimelineThread, Chunk),
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

/// How long the writer naps when the queue is empty before it blocks on it.
const WRITER_NAP: Duration = Duration::from_millis(1);

/// The next message, or `None` once every sender is gone. While records keep coming, the writer
/// naps briefly when it has caught up instead of blocking: a blocked receiver must be woken by
/// every send, which costs the traced threads a system call per chunk. After two empty naps
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

/// The writer thread's state: the file, which threads it has named already, and the JSON of
/// the callsites seen so far.
struct TraceWriter {
    out: BufWriter<File>,
    path: PathBuf,
    process: u32,
    /// When the layer was built: timestamps count from there.
    start: Instant,
    include_locations: bool,
    named_threads: HashSet<u64>,
    /// By the address of the callsite's metadata.
    callsites: HashMap<usize, CallsiteJson>,
    /// Where written chunks go back for reuse ([`Shared::spare`]).
    spare: Arc<Mutex<Vec<Chunk>>>,
    /// A chunk's entries, made before they are written.
    json: Vec<u8>,
    entries_written: usize,
    error: Option<String>,
}

/// The parts of an entry that depend on its callsite only, as JSON (or on the metadata of a
/// record logged through `log`).
struct CallsiteJson {
    /// The name, a JSON string.
    name: Box<[u8]>,
    /// The target, a JSON string.
    category: Box<[u8]>,
    /// `,".file":…,".line":…`, or nothing.
    location: Box<[u8]>,
}

impl CallsiteJson {
    fn new(metadata: &Metadata<'_>, include_locations: bool) -> Self {
        let location = include_locations
            .then(|| metadata.file().zip(metadata.line()))
            .flatten();
        Self::from_parts(metadata.name(), metadata.target(), location)
    }

    fn from_parts(name: &str, target: &str, location: Option<(&str, u32)>) -> Self {
        let mut location_part = Vec::new();
        if let Some((file, line)) = location {
            location_json(&mut location_part, file, line);
        }
        Self {
            name: string_json(name).into(),
            category: string_json(target).into(),
            location: location_part.into(),
        }
    }
}

/// Appends `text` as a JSON string.
fn push_string_json(json: &mut Vec<u8>, text: &str) {
    // Writing to a `Vec` does not fail.
    let _ = serde_json::to_writer(&mut *json, text);
}

fn string_json(text: &str) -> Vec<u8> {
    let mut json = Vec::with_capacity(text.len() + 2);
    push_string_json(&mut json, text);
    json
}

/// Appends `,".file":…,".line":…`.
fn location_json(json: &mut Vec<u8>, file: &str, line: u32) {
    json.extend_from_slice(b",\".file\":");
    push_string_json(json, file);
    json.extend_from_slice(b",\".line\":");
    let _ = CompactFormatter.write_u32(json, line);
}

/// Appends `fields` (of `args`) as a JSON object.
fn args_json(json: &mut Vec<u8>, fields: &[(&'static str, ArgValue)], text: &str) {
    json.push(b'{');
    for (index, (name, value)) in fields.iter().enumerate() {
        if index > 0 {
            json.push(b',');
        }
        push_string_json(json, name);
        json.push(b':');
        let _ = match value {
            ArgValue::I64(number) => CompactFormatter.write_i64(json, *number),
            ArgValue::U64(number) => CompactFormatter.write_u64(json, *number),
            // JSON has no NaN or infinity: serde_json::Value wrote them as null too.
            ArgValue::F64(number) if number.is_finite() => {
                CompactFormatter.write_f64(json, *number)
            }
            ArgValue::F64(_) => CompactFormatter.write_null(json),
            ArgValue::Bool(flag) => CompactFormatter.write_bool(json, *flag),
            ArgValue::Str(start, end) => {
                push_string_json(json, text_at(text, *start, *end));
                Ok(())
            }
        };
    }
    json.push(b'}');
}

/// The value of the `message` field among `fields`, if it is text.
fn message<'a>(fields: &[(&'static str, ArgValue)], text: &'a str) -> Option<&'a str> {
    fields.iter().find_map(|(name, value)| match value {
        ArgValue::Str(start, end) if *name == "message" => Some(text_at(text, *start, *end)),
        _ => None,
    })
}

impl TraceWriter {
    fn new(
        file: File,
        path: PathBuf,
        start: Instant,
        include_locations: bool,
        spare: Arc<Mutex<Vec<Chunk>>>,
    ) -> Self {
        Self {
            out: BufWriter::new(file),
            path,
            process: std::process::id(),
            start,
            include_locations,
            named_threads: HashSet::new(),
            callsites: HashMap::new(),
            json: Vec::new(),
            entries_written: 0,
            error: None,
            spare,
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
                Message::Records(thread, chunk) => {
                    self.write_chunk(&thread, &chunk);
                    if let Some(chunk) = chunk.recycle() {
                        let mut spare = lock(&self.spare);
                        if spare.len() < SPARE_CHUNKS {
                            spare.push(chunk);
                        }
                    }
                }
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

    fn write_chunk(&mut self, thread: &TimelineThread, chunk: &Chunk) {
        if self.named_threads.insert(thread.id) {
            self.write_value(&serde_json::json!({
                "ph": "M", "pid": self.process, "tid": thread.id, "name": "thread_name",
                "args": { "name": &*thread.name },
            }));
        }
        let mut json = std::mem::take(&mut self.json);
        for record in &chunk.records {
            if self.entries_written > 0 {
                json.extend_from_slice(b",\n");
            }
            let at = chunk.start.instant(&chunk.end, record.timestamp);
            self.entry_json(&mut json, thread.id, &chunk.args, record, at);
            self.entries_written += 1;
        }
        self.write_raw(&json);
        json.clear();
        self.json = json;
    }

    /// Appends `record` in the Trace Event Format: the keys `ph`, `pid`, `tid`, `ts`, `name`,
    /// `cat`, then when present `id`, `s`, `.file`, `.line` and `args`, as `serde_json` wrote
    /// them from a struct before.
    fn entry_json(
        &mut self,
        json: &mut Vec<u8>,
        thread: u64,
        chunk_args: &Args,
        record: &Entry,
        at: Instant,
    ) {
        let fields = chunk_args
            .fields
            .get(record.args.clone())
            .unwrap_or_default();
        let args_text = chunk_args.text.get(record.args_text..).unwrap_or_default();
        json.extend_from_slice(b"{\"ph\":\"");
        json.extend_from_slice(record.phase.code().as_bytes());
        json.extend_from_slice(b"\",\"pid\":");
        let _ = CompactFormatter.write_u32(json, self.process);
        json.extend_from_slice(b",\"tid\":");
        let _ = CompactFormatter.write_u64(json, thread);
        json.extend_from_slice(b",\"ts\":");
        // Microseconds since the layer was built.
        let since_start = at.saturating_duration_since(self.start);
        let _ = CompactFormatter.write_f64(json, since_start.as_nanos() as f64 / 1000.0);
        let include_locations = self.include_locations;
        let log_origin;
        let callsite = match &record.origin {
            Origin::Callsite(metadata) => &*self
                .callsites
                .entry(std::ptr::from_ref(*metadata) as usize)
                .or_insert_with(|| CallsiteJson::new(metadata, include_locations)),
            Origin::Log { target, location } => {
                log_origin = CallsiteJson::from_parts(
                    "",
                    chunk_args.text(target),
                    location
                        .as_ref()
                        .map(|(file, line)| (chunk_args.text(file), *line)),
                );
                &log_origin
            }
        };
        json.extend_from_slice(b",\"name\":");
        match &record.name {
            EntryName::Callsite => json.extend_from_slice(&callsite.name),
            EntryName::Static(name) => push_string_json(json, name),
            EntryName::Text(text) => push_string_json(json, chunk_args.text(text)),
            EntryName::Message(fallback) => {
                push_string_json(json, message(fields, args_text).unwrap_or(fallback));
            }
        }
        json.extend_from_slice(b",\"cat\":");
        json.extend_from_slice(&callsite.category);
        if let Some(id) = record.id {
            json.extend_from_slice(b",\"id\":");
            let _ = CompactFormatter.write_u64(json, id);
        }
        if record.phase == Phase::Instant {
            json.extend_from_slice(b",\"s\":\"t\"");
        }
        json.extend_from_slice(&callsite.location);
        if !fields.is_empty() {
            json.extend_from_slice(b",\"args\":");
            args_json(json, fields, args_text);
        }
        json.push(b'}');
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

/// Flushes the threads' buffers through the writer thread; on shutdown finishes the document
/// and joins the thread.
struct TimelineLifecycle {
    shared: Arc<Shared>,
    writer: Mutex<Option<JoinHandle<()>>>,
}

impl LayerLifecycle for TimelineLifecycle {
    fn flush(&self) -> Result<(), Error> {
        self.shared.drain();
        let (answer, answered) = mpsc::sync_channel(1);
        if self.shared.sender.send(Message::Flush(answer)).is_err() {
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
        self.shared.drain();
        let (answer, answered) = mpsc::sync_channel(1);
        let _ = self.shared.sender.send(Message::Finish(answer));
        self.shared.finished.store(true, Ordering::Relaxed);
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
