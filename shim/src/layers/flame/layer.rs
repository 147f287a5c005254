//! The flame layer itself (the cargo feature `flame`).
//!
//! Traced threads do no I/O and format no text. Each span gets, when it is created, the ids of
//! two interned stacks (its parents', and its own with it on top); entering or leaving a span
//! then appends one `(stack id, nanoseconds)` sample to its thread's buffer, adding to the last
//! sample instead when the stack is the same. Full buffers go to a writer thread, which turns
//! stack ids into text once per stack and writes the folded lines; `flush` hands it every
//! thread's partial buffer. Each thread's lines stay in time order, so flame charts draw each
//! call as before.
//!
//! Each thread also keeps the spans it entered and has not left, with their stacks, and a cache
//! of the stacks interned so far: leaving a span, and making a child of the span just entered,
//! then need no registry lookup, and interning a known stack takes no lock.

use std::{
    cell::RefCell,
    collections::HashMap,
    fs::File,
    io::{BufWriter, Write},
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        mpsc::{self, Receiver, SyncSender},
        Arc, Mutex, MutexGuard,
    },
    thread::JoinHandle,
    time::{Duration, Instant},
};

use tracing::{
    span::{Attributes, Id},
    Metadata, Subscriber,
};
use tracing_subscriber::{
    layer::Context,
    registry::{LookupSpan, SpanRef},
    Layer,
};

use super::FlameLayerConfig;
use crate::layers::{BuiltLayer, LayerLifecycle};
use crate::{
    dispatch::BaseSubscriber,
    error::{Error, ErrorKind},
    util::{create_truncated, decimal, EnteredSpans, WhenFull},
};

/// Samples are kept per thread in one process-wide thread-local, so two flame layers recording
/// at once would split each other's samples. This admits one at a time.
static FLAME_LAYER_LIVE: AtomicBool = AtomicBool::new(false);

static NEXT_INSTANCE: AtomicU64 = AtomicU64::new(1);

/// Samples a thread buffers before handing them to the writer.
const CHUNK: usize = 4_096;

/// Chunks waiting for the writer; a full queue makes the traced thread wait (nothing is lost).
const CHUNKS_QUEUED: usize = 64;

/// How long `flush` waits for the writer.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(10);

/// Entered spans a thread remembers. Deeper ones (or, if spans are entered on one thread and
/// left on another, stale ones filling the list) only cost a registry lookup when left.
const ENTERED_MAX: usize = 256;

/// A thread's cache of interned stacks has `1 << STACK_CACHE_BITS` entries.
const STACK_CACHE_BITS: u32 = 8;

/// The writer's output buffer: fewer, larger writes.
const WRITE_BUFFER: usize = 256 * 1024;

/// Builds a flame layer; `field` names the layer in error messages.
pub(crate) fn build(config: &FlameLayerConfig, field: &str) -> Result<BuiltLayer, Error> {
    if FLAME_LAYER_LIVE.swap(true, Ordering::AcqRel) {
        return Err(Error::new(
            ErrorKind::InvalidConfig,
            format!(
                "{field}: another flame layer is recording in this library; only one can record \
                 at a time (samples are kept per thread); dispose the other first"
            ),
        ));
    }
    let release = || FLAME_LAYER_LIVE.store(false, Ordering::Release);
    let file =
        create_truncated(&config.path, &format!("{field}.path")).inspect_err(|_| release())?;
    let output = format!("flame layer {field}: `{}`", config.path.display());
    let shared = Arc::new(Shared {
        stacks: Mutex::new(StackTable::default()),
        threads: Mutex::new(Vec::new()),
    });
    let (sender, receiver) = mpsc::sync_channel(CHUNKS_QUEUED);
    let writer = FoldedWriter {
        out: BufWriter::with_capacity(WRITE_BUFFER, file),
        shared: Arc::clone(&shared),
        texts: Vec::new(),
        module_path: config.module_path,
        file_and_line: config.file_and_line,
        output: output.clone(),
        error: None,
    };
    let handle = std::thread::Builder::new()
        .name("tracing-bridge-flame".into())
        .spawn(move || writer.run(receiver))
        .map_err(|error| {
            release();
            Error::new(
                ErrorKind::FileNotWritable,
                format!("{field}: cannot start the flame writer thread: {error}"),
            )
        })?;
    let layer = FlameLayer {
        shared: Arc::clone(&shared),
        sender: sender.clone(),
        instance: NEXT_INSTANCE.fetch_add(1, Ordering::Relaxed),
        empty_samples: config.empty_samples,
        threads_collapsed: config.threads_collapsed,
    };
    Ok(BuiltLayer::new(
        Box::new(layer),
        Arc::new(FlameLifecycle {
            shared,
            sender,
            writer: Mutex::new(Some(handle)),
            output,
        }),
    ))
}

/// What the layer and the writer share: the interned stacks and every thread's buffer.
struct Shared {
    stacks: Mutex<StackTable>,
    threads: Mutex<Vec<Arc<ThreadSamples>>>,
}

/// Stacks of spans, interned: stack 0 is the thread alone; every other is a stack below it
/// with one more frame on top.
#[derive(Default)]
struct StackTable {
    /// Stack `i + 1`: its parent stack and its top frame.
    frames: Vec<(u32, &'static Metadata<'static>)>,
    ids: HashMap<(u32, usize), u32>,
}

impl StackTable {
    fn intern(&mut self, parent: u32, frame: &'static Metadata<'static>) -> u32 {
        let key = (parent, frame as *const Metadata<'static> as usize);
        if let Some(&id) = self.ids.get(&key) {
            return id;
        }
        self.frames.push((parent, frame));
        let id = u32::try_from(self.frames.len()).unwrap_or(u32::MAX);
        self.ids.insert(key, id);
        id
    }
}

/// A span's stacks, kept in its extensions: its parents' (sampled when it is entered) and its
/// own (sampled when it is left), ids in the table of the layer `instance` (a span can outlive
/// its layer into the next one's time).
#[derive(Clone, Copy)]
struct SpanStacks {
    instance: u64,
    parents: u32,
    own: u32,
}

/// One sample: the time a thread spent in a stack since its previous sample.
#[derive(Clone, Copy)]
struct Sample {
    stack: u32,
    nanos: u64,
}

/// A thread's samples not yet handed to the writer, and the thread's frame.
struct ThreadSamples {
    /// The root frame: `ThreadId(3)-worker-0` (as tracing-flame names threads), or
    /// `all-threads`.
    frame: String,
    /// Locked by its thread for each sample, by `flush` to take what is there; almost never
    /// contended.
    pending: Mutex<Vec<Sample>>,
}

/// A thread's state for the live flame layer.
struct ThreadState {
    instance: u64,
    /// When the thread's previous sample ended; `None` before its first span event.
    last: Option<Instant>,
    samples: Arc<ThreadSamples>,
    /// The spans this layer saw entered on this thread and not yet left, innermost last, with
    /// their stacks (at most [`ENTERED_MAX`]).
    entered: EnteredSpans<SpanStacks>,
    /// Interned stacks this thread has used, direct-mapped by `(parent stack, frame)`.
    stack_cache: Box<[CachedStack]>,
    /// The span this thread made last (its `tracing` id) and its stacks, until this thread's
    /// next span event: most spans are entered right after they are made, and then need no
    /// lookup. A `tracing` id names another span only after its span closed and its registry
    /// slot went round every generation (billions of spans); the worst a stale note could do
    /// then is attribute one sample to another stack.
    made_last: Option<(u64, SpanStacks)>,
}

/// An entry of [`ThreadState::stack_cache`]; `frame` 0 is an empty entry.
#[derive(Clone, Copy, Default)]
struct CachedStack {
    parent: u32,
    frame: usize,
    stack: u32,
}

impl ThreadState {
    /// The stacks of `id` if it is the span this thread entered last.
    fn innermost(&self, id: &Id) -> Option<SpanStacks> {
        self.entered.innermost(id.into_u64()).copied()
    }

    fn enter(&mut self, id: &Id, stacks: SpanStacks) {
        self.entered.enter(id.into_u64(), stacks);
    }

    /// Forgets the innermost entry of `id` and returns its stacks.
    fn leave(&mut self, id: &Id) -> Option<SpanStacks> {
        self.entered.leave(id.into_u64())
    }

    /// The stack `frame` on top of `parent`, from the cache or else the shared table.
    fn intern(
        &mut self,
        parent: u32,
        frame: &'static Metadata<'static>,
        table: &Mutex<StackTable>,
    ) -> u32 {
        let address = frame as *const Metadata<'static> as usize;
        // Fibonacci hashing: the top bits of the product mix both halves of the key.
        let hash = (address as u64 ^ u64::from(parent)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let entry = &mut self.stack_cache[(hash >> (64 - STACK_CACHE_BITS)) as usize];
        if entry.frame != address || entry.parent != parent {
            *entry = CachedStack {
                parent,
                frame: address,
                stack: lock(table).intern(parent, frame),
            };
        }
        entry.stack
    }
}

thread_local! {
    static THREAD: RefCell<Option<ThreadState>> = const { RefCell::new(None) };
}

enum Message {
    Chunk(Arc<ThreadSamples>, Vec<Sample>),
    /// Write out everything so far, then answer.
    Flush(SyncSender<Result<(), String>>),
    /// Write out everything and stop.
    Finish,
}

struct FlameLayer {
    shared: Arc<Shared>,
    sender: SyncSender<Message>,
    instance: u64,
    empty_samples: bool,
    threads_collapsed: bool,
}

impl FlameLayer {
    /// Runs `f` with this thread's state for this layer, made on the thread's first use.
    /// `None` while the thread-local is being destroyed or is in use (a span event from
    /// inside this layer's own callback).
    fn with_thread<R>(&self, f: impl FnOnce(&mut ThreadState) -> R) -> Option<R> {
        THREAD
            .try_with(|thread| {
                let mut thread = thread.try_borrow_mut().ok()?;
                let state = match &mut *thread {
                    Some(state) if state.instance == self.instance => state,
                    slot => slot.insert(self.thread_state()),
                };
                Some(f(state))
            })
            .ok()
            .flatten()
    }

    fn thread_state(&self) -> ThreadState {
        let samples = Arc::new(ThreadSamples {
            frame: self.thread_frame(),
            pending: Mutex::new(Vec::with_capacity(CHUNK)),
        });
        lock(&self.shared.threads).push(Arc::clone(&samples));
        ThreadState {
            instance: self.instance,
            last: None,
            samples,
            entered: EnteredSpans::new(ENTERED_MAX, WhenFull::Skip),
            stack_cache: vec![CachedStack::default(); 1 << STACK_CACHE_BITS].into_boxed_slice(),
            made_last: None,
        }
    }

    /// The stacks of `span`, from its extensions or, for a span this layer did not see made,
    /// by walking its parents.
    fn stacks_of<S>(&self, span: &SpanRef<'_, S>) -> SpanStacks
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        if let Some(stacks) = span.extensions().get::<SpanStacks>() {
            if stacks.instance == self.instance {
                return *stacks;
            }
        }
        let mut table = lock(&self.shared.stacks);
        let mut parents = 0;
        if let Some(parent) = span.parent() {
            for frame in parent.scope().from_root() {
                parents = table.intern(parents, frame.metadata());
            }
        }
        let own = table.intern(parents, span.metadata());
        SpanStacks {
            instance: self.instance,
            parents,
            own,
        }
    }

    /// Records the time since this thread's previous sample in `stack` (unless `keep` is
    /// false). A thread's first sample for this layer measures from an unknown moment, so it
    /// only starts the clock.
    fn sample(&self, thread: &mut ThreadState, stack: u32, keep: bool) {
        let now = Instant::now();
        let Some(last) = thread.last.replace(now) else {
            return;
        };
        if keep {
            let nanos = u64::try_from(now.saturating_duration_since(last).as_nanos());
            self.push(&thread.samples, stack, nanos.unwrap_or(u64::MAX));
        }
    }

    fn push(&self, samples: &Arc<ThreadSamples>, stack: u32, nanos: u64) {
        let mut pending = lock(&samples.pending);
        if let Some(last) = pending.last_mut().filter(|last| last.stack == stack) {
            last.nanos = last.nanos.saturating_add(nanos);
            return;
        }
        pending.push(Sample { stack, nanos });
        if pending.len() >= CHUNK {
            // Sent while holding the buffer, so that a concurrent flush cannot send this
            // thread's later samples first. Fails only once the writer finished.
            let chunk = std::mem::replace(&mut *pending, Vec::with_capacity(CHUNK));
            let _ = self.sender.send(Message::Chunk(Arc::clone(samples), chunk));
        }
    }

    fn thread_frame(&self) -> String {
        if self.threads_collapsed {
            return "all-threads".to_owned();
        }
        let thread = std::thread::current();
        let mut frame = format!("{:?}", thread.id());
        if let Some(name) = thread.name() {
            frame.push('-');
            frame.push_str(name);
        }
        frame
    }
}

impl Layer<BaseSubscriber> for FlameLayer {
    fn on_new_span(&self, _attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, BaseSubscriber>) {
        let Some(span) = ctx.span(id) else { return };
        let parent = span.parent();
        let stacks = self.with_thread(|thread| {
            // Most spans are made inside their parent, the span this thread entered last.
            let parents = parent.as_ref().map_or(0, |parent| {
                thread
                    .innermost(&parent.id())
                    .unwrap_or_else(|| self.stacks_of(parent))
                    .own
            });
            let stacks = SpanStacks {
                instance: self.instance,
                parents,
                own: thread.intern(parents, span.metadata(), &self.shared.stacks),
            };
            thread.made_last = Some((id.into_u64(), stacks));
            stacks
        });
        // Without the thread-local (the thread is ending), `stacks_of` finds them when needed.
        if let Some(stacks) = stacks {
            span.extensions_mut().insert(stacks);
        }
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, BaseSubscriber>) {
        self.with_thread(|thread| {
            let stacks = match thread.made_last.take() {
                Some((made, stacks)) if made == id.into_u64() => stacks,
                _ => match ctx.span(id) {
                    Some(span) => self.stacks_of(&span),
                    None => return,
                },
            };
            thread.enter(id, stacks);
            // The time before a root span is entered belongs to the thread alone.
            self.sample(
                thread,
                stacks.parents,
                self.empty_samples || stacks.parents != 0,
            );
        });
    }

    fn on_exit(&self, id: &Id, ctx: Context<'_, BaseSubscriber>) {
        self.with_thread(|thread| {
            thread.made_last = None;
            let stacks = match thread.leave(id) {
                Some(stacks) => stacks,
                None => match ctx.span(id) {
                    Some(span) => self.stacks_of(&span),
                    None => return,
                },
            };
            self.sample(thread, stacks.own, true);
        });
    }
}

/// The writer thread: folded lines from the threads' samples.
struct FoldedWriter {
    out: BufWriter<File>,
    shared: Arc<Shared>,
    /// Each stack's frames as text (`; a; b`) by stack id, made once per stack.
    texts: Vec<Option<String>>,
    module_path: bool,
    file_and_line: bool,
    output: String,
    /// The first write error; writing stops then, and every flush reports it.
    error: Option<String>,
}

impl FoldedWriter {
    fn run(mut self, receiver: Receiver<Message>) {
        while let Ok(message) = receiver.recv() {
            match message {
                Message::Chunk(thread, samples) => self.write(&thread.frame, &samples),
                Message::Flush(answer) => {
                    self.flush();
                    let _ = answer.send(self.error.clone().map_or(Ok(()), Err));
                }
                Message::Finish => break,
            }
        }
        self.flush();
    }

    fn write(&mut self, frame: &str, samples: &[Sample]) {
        if self.error.is_some() {
            return;
        }
        for sample in samples.iter().filter(|sample| sample.nanos > 0) {
            let at = sample.stack as usize;
            if self.texts.len() <= at {
                self.texts.resize(at + 1, None);
            }
            if self.texts[at].is_none() {
                self.texts[at] = Some(self.make_text(sample.stack));
            }
            let text = self.texts[at].as_deref().unwrap_or("");
            // `{frame}{text} {nanos}\n`, without the formatting machinery.
            let mut digits = [0; 20];
            let line: [&[u8]; 5] = [
                frame.as_bytes(),
                text.as_bytes(),
                b" ",
                decimal(sample.nanos, &mut digits),
                b"\n",
            ];
            let written = line.iter().try_for_each(|part| self.out.write_all(part));
            if let Err(error) = written {
                self.failed(&error);
                return;
            }
        }
    }

    /// The text of `stack`: its frames from the root, each after `"; "`.
    fn make_text(&self, stack: u32) -> String {
        let mut frames = Vec::new();
        {
            let table = lock(&self.shared.stacks);
            let mut at = stack;
            while at != 0 {
                let Some(&(parent, metadata)) = table.frames.get(at as usize - 1) else {
                    break;
                };
                frames.push(metadata);
                at = parent;
            }
        }
        let mut text = String::new();
        for metadata in frames.iter().rev() {
            text.push_str("; ");
            if self.module_path {
                if let Some(module_path) = metadata.module_path() {
                    text.push_str(module_path);
                    text.push_str("::");
                }
            }
            text.push_str(metadata.name());
            if self.file_and_line {
                if let Some(file) = metadata.file() {
                    text.push(':');
                    text.push_str(file);
                }
                if let Some(line) = metadata.line() {
                    text.push(':');
                    text.push_str(&line.to_string());
                }
            }
        }
        text
    }

    fn flush(&mut self) {
        if self.error.is_none() {
            if let Err(error) = self.out.flush() {
                self.failed(&error);
            }
        }
    }

    fn failed(&mut self, error: &std::io::Error) {
        let message = format!("{}: cannot write the folded stacks: {error}", self.output);
        eprintln!("tracing-bridge: {message}");
        self.error = Some(message);
    }
}

/// Hands the threads' partial buffers to the writer and waits for it; at shutdown stops it
/// and releases the one-at-a-time admission.
struct FlameLifecycle {
    shared: Arc<Shared>,
    sender: SyncSender<Message>,
    writer: Mutex<Option<JoinHandle<()>>>,
    /// The layer and its file, for error messages: ``flame layer layers[1]: `app.folded` ``.
    output: String,
}

impl FlameLifecycle {
    /// Sends every thread's pending samples; forgets threads that ended with nothing pending.
    fn send_pending(&self) {
        let mut threads = lock(&self.shared.threads);
        threads.retain(|thread| {
            let mut pending = lock(&thread.pending);
            if !pending.is_empty() {
                let chunk = std::mem::take(&mut *pending);
                let _ = self.sender.send(Message::Chunk(Arc::clone(thread), chunk));
            }
            // Held only by this list: the thread ended (its thread-local is gone).
            Arc::strong_count(thread) > 1
        });
    }
}

impl LayerLifecycle for FlameLifecycle {
    fn flush(&self) -> Result<(), Error> {
        self.send_pending();
        let (answer, answered) = mpsc::sync_channel(1);
        if self.sender.send(Message::Flush(answer)).is_err() {
            return Ok(()); // Already finished: the file is complete.
        }
        match answered.recv_timeout(FLUSH_TIMEOUT) {
            Ok(Ok(())) | Err(mpsc::RecvTimeoutError::Disconnected) => Ok(()),
            Ok(Err(message)) => Err(Error::new(ErrorKind::FileNotWritable, message)),
            Err(mpsc::RecvTimeoutError::Timeout) => Err(Error::new(
                ErrorKind::FileNotWritable,
                format!(
                    "{}: the writer did not finish within {} s; the disk may be slow or full",
                    self.output,
                    FLUSH_TIMEOUT.as_secs()
                ),
            )),
        }
    }

    fn shutdown(&self) -> Result<(), Error> {
        let result = self.flush();
        if let Some(handle) = lock(&self.writer).take() {
            let _ = self.sender.send(Message::Finish);
            let _ = handle.join();
            FLAME_LAYER_LIVE.store(false, Ordering::Release);
        }
        result
    }
}

impl Drop for FlameLifecycle {
    fn drop(&mut self) {
        if lock(&self.writer).is_some() {
            if let Err(error) = self.shutdown() {
                eprintln!("tracing-bridge: while closing a flame layer: {error}");
            }
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
