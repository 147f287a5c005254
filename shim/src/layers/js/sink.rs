//! The bounded queue between the JS layer (any thread) and JavaScript (the JS thread).
//!
//! Recording threads append encoded records under a mutex; JavaScript drains whole records into
//! its own buffer with one FFI call per batch. Rust never calls JavaScript from its own threads.
//!
//! A record made on the JavaScript thread itself (during a synchronous FFI call) takes a faster
//! path when JavaScript is attached (see [`JsTarget`]): if nothing is queued before it and
//! JavaScript is not already dispatching, it is written straight into JavaScript's buffer and
//! the wake callback is called with its length, so it is delivered before the FFI call returns
//! without a queue round trip. Otherwise it is queued and the wake callback is called with 0.
//!
//! JavaScript's memory is only ever touched on the JavaScript thread: other threads set the
//! sink's own `pending` flag, which JavaScript polls with an FFI call. So a JavaScript thread
//! that dies without detaching (a terminated Worker) leaves nothing that writes into its freed
//! memory.

use std::{
    cell::Cell,
    collections::{hash_map::DefaultHasher, HashMap},
    hash::{Hash, Hasher},
    sync::{
        atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering},
        Mutex, MutexGuard,
    },
};

use tracing::Metadata;

use super::{
    fields::{Captured, CapturedFields},
    wire::*,
};
use crate::util::MultiplyHash;

/// The wake callback: `wake(layer_index, direct_length)`. `direct_length` bytes of whole
/// records are in the shared buffer (0: look at the queues). No result.
pub type WakeCallback = unsafe extern "C" fn(u32, u32);

/// Above this many queued bytes the queue counts as full, whatever the record capacity.
const MAX_QUEUED_BYTES: usize = 256 << 20;

/// Layout of the control block at the start of the shared memory JavaScript registers.
pub const CONTROL_BYTES: usize = 16;
/// Control byte JavaScript sets to 1 while it dispatches or drains.
const CONTROL_DISPATCHING: usize = 0;

/// The JavaScript side of a sink, registered by `attach` on the JavaScript thread.
#[derive(Debug, Clone, Copy)]
pub struct JsTarget {
    /// Called on the JavaScript thread only.
    pub wake: WakeCallback,
    /// `CONTROL_BYTES` of control block followed by the data buffer, owned by JavaScript and
    /// valid until it detaches.
    pub shared: *mut u8,
    /// Length of the whole shared memory, control block included.
    pub shared_len: usize,
}

// SAFETY: the pointer is only dereferenced on the JavaScript thread (the thread that attached),
// while JavaScript keeps the memory alive (it detaches, on that thread, before releasing it).
unsafe impl Send for JsTarget {}

/// The callsite of an event.
#[derive(Clone, Copy)]
pub(crate) enum EventCallsite<'a> {
    /// A `tracing` callsite: defined once, keyed by its address.
    Static(&'static Metadata<'static>),
    /// A record logged through `log`, by its normalized metadata (`crate::log_bridge`): defined
    /// once per distinct level, target, module path, file and line, so that JavaScript sees
    /// the record's own metadata and fields (`message` only).
    Log(&'a Metadata<'a>),
}

/// One record to append.
pub(crate) enum Payload<'a> {
    NewSpan {
        metadata: &'static Metadata<'static>,
        span: u64,
        parent: u64,
        timestamp: f64,
        fields: &'a CapturedFields,
    },
    Event {
        callsite: EventCallsite<'a>,
        parent: u64,
        timestamp: f64,
        fields: &'a CapturedFields,
    },
    Record {
        metadata: &'static Metadata<'static>,
        span: u64,
        fields: &'a CapturedFields,
    },
    FollowsFrom {
        span: u64,
        follows: u64,
    },
    Enter(u64),
    Exit(u64),
    Close(u64),
}

impl Payload<'_> {
    /// The kind and span id of a record that holds only a span's id.
    fn span_only(&self) -> Option<(u8, u64)> {
        match *self {
            Payload::Enter(span) => Some((KIND_ENTER, span)),
            Payload::Exit(span) => Some((KIND_EXIT, span)),
            Payload::Close(span) => Some((KIND_CLOSE, span)),
            _ => None,
        }
    }
}

/// The bytes of a record that holds only a span's id: its length, `kind`, the id.
fn span_only_record(kind: u8, span: u64) -> [u8; SPAN_ONLY_BYTES] {
    let mut record = [0u8; SPAN_ONLY_BYTES];
    record[..4].copy_from_slice(&((SPAN_ONLY_BYTES - 4) as u32).to_le_bytes());
    record[4] = kind;
    record[5..].copy_from_slice(&(span as f64).to_le_bytes());
    record
}

const SPAN_ONLY_BYTES: usize = 4 + 1 + 8;

/// Copies `bytes` (whole records) into JavaScript's data buffer, unless JavaScript is dispatching
/// or they do not fit. Returns whether it did.
///
/// # Safety
/// Call on the JavaScript thread while attached to `target`: JavaScript keeps `shared_len`
/// bytes alive then, and reads them only while dispatching (checked here).
unsafe fn write_shared(target: JsTarget, bytes: &[u8]) -> bool {
    // SAFETY: `shared` holds `shared_len` > `CONTROL_BYTES` bytes (see `JsSink::attach`).
    unsafe {
        if *target.shared.add(CONTROL_DISPATCHING) != 0
            || bytes.len() > target.shared_len - CONTROL_BYTES
        {
            return false;
        }
        std::ptr::copy_nonoverlapping(
            bytes.as_ptr(),
            target.shared.add(CONTROL_BYTES),
            bytes.len(),
        );
    }
    true
}

/// The queue of one JS layer.
#[derive(Debug)]
pub struct JsSink {
    state: Mutex<SinkState>,
    capacity: usize,
    index: u32,
    dropped: AtomicU64,
    js_thread: AtomicU32,
    /// Whether the queue holds records; JavaScript polls it (`js_pending`).
    pending: AtomicBool,
    /// JavaScript's side as attached, read without the lock: span-only records made on the
    /// JavaScript thread take none ([`JsSink::push_direct`]). Written under the lock.
    target: AttachedTarget,
}

/// The attached [`JsTarget`] (`shared` null: none), in atomics. Attaching and detaching happen
/// on the JavaScript thread (the C ABI's contract, `tracing_bridge_subscriber_js_attach`), the
/// only thread that reads it.
#[derive(Debug, Default)]
struct AttachedTarget {
    wake: AtomicPtr<()>,
    shared: AtomicPtr<u8>,
    shared_len: AtomicUsize,
}

impl AttachedTarget {
    fn set(&self, target: Option<JsTarget>) {
        match target {
            Some(target) => {
                self.wake.store(target.wake as *mut (), Ordering::Relaxed);
                self.shared_len.store(target.shared_len, Ordering::Relaxed);
                self.shared.store(target.shared, Ordering::Release);
            }
            None => self.shared.store(std::ptr::null_mut(), Ordering::Release),
        }
    }

    fn get(&self) -> Option<JsTarget> {
        let shared = self.shared.load(Ordering::Acquire);
        if shared.is_null() {
            return None;
        }
        let wake = self.wake.load(Ordering::Relaxed);
        Some(JsTarget {
            // SAFETY: stored from a `WakeCallback` by `set`, before `shared` (read first).
            wake: unsafe { std::mem::transmute::<*mut (), WakeCallback>(wake) },
            shared,
            shared_len: self.shared_len.load(Ordering::Relaxed),
        })
    }
}

#[derive(Debug, Default)]
struct SinkState {
    queue: Vec<u8>,
    head: usize,
    records: usize,
    /// Keyed by the metadata's address, or for `log` records by an odd number (addresses of
    /// metadata are even) from `log_callsites`.
    callsites: HashMap<usize, CallsiteEntry, MultiplyHash>,
    /// The `log` record locations seen, by a hash of their content, with their callsite key.
    log_callsites: HashMap<u64, Vec<(LogLocation, usize)>>,
    /// How many `log` record locations `log_callsites` holds.
    log_locations: usize,
    /// Which thread ids have been defined, as a bit set.
    threads: Vec<u64>,
}

/// Where a `log` record was logged: what makes it a callsite of its own for JavaScript.
#[derive(Debug)]
struct LogLocation {
    level: u8,
    target: Box<str>,
    module_path: Option<Box<str>>,
    file: Option<Box<str>>,
    line: Option<u32>,
}

impl LogLocation {
    fn of(metadata: &Metadata<'_>) -> Self {
        Self {
            level: level_code(metadata.level()),
            target: metadata.target().into(),
            module_path: metadata.module_path().map(Into::into),
            file: metadata.file().map(Into::into),
            line: metadata.line(),
        }
    }

    fn is(&self, metadata: &Metadata<'_>) -> bool {
        self.level == level_code(metadata.level())
            && *self.target == *metadata.target()
            && self.module_path.as_deref() == metadata.module_path()
            && self.file.as_deref() == metadata.file()
            && self.line == metadata.line()
    }

    fn hash(metadata: &Metadata<'_>) -> u64 {
        let mut hasher = DefaultHasher::new();
        (
            level_code(metadata.level()),
            metadata.target(),
            metadata.module_path(),
            metadata.file(),
            metadata.line(),
        )
            .hash(&mut hasher);
        hasher.finish()
    }
}

#[derive(Debug)]
struct CallsiteEntry {
    id: u32,
    /// The last string sent for each field, so that a repeated value is sent as `SAME`.
    last_text: Vec<Option<Box<str>>>,
}

/// Result of [`JsSink::drain`].
#[derive(Debug, PartialEq, Eq)]
pub enum Drained {
    /// This many bytes of whole records were copied (0: the queue is empty); `more` when
    /// records are left.
    Bytes {
        /// Bytes copied.
        bytes: usize,
        /// Whether the queue still holds records.
        more: bool,
    },
    /// The next record needs a buffer of this many bytes.
    NeedBuffer(usize),
}

/// How a push went.
enum Pushed {
    Dropped,
    Queued,
    /// In JavaScript's buffer: this many bytes.
    Direct(u32, JsTarget),
}

impl JsSink {
    /// A sink holding at most `capacity` records, for the JS layer at `index` in its config.
    pub fn new(capacity: usize, index: u32) -> Self {
        Self {
            state: Mutex::new(SinkState::default()),
            capacity,
            index,
            dropped: AtomicU64::new(0),
            js_thread: AtomicU32::new(0),
            pending: AtomicBool::new(false),
            target: AttachedTarget::default(),
        }
    }

    /// Registers JavaScript's side and makes the calling thread "the JavaScript thread".
    /// `None` detaches: after it returns, the shared memory is never touched again.
    pub fn attach(&self, target: Option<JsTarget>) {
        let _state = self.lock();
        self.js_thread.store(current_thread_id(), Ordering::Release);
        self.target
            .set(target.filter(|target| target.shared_len > CONTROL_BYTES));
    }

    /// Detaches JavaScript whose thread is gone (a terminated Worker): nothing is ever
    /// delivered to it again, and the records still queued are counted as dropped.
    pub fn abandon(&self) {
        let mut state = self.lock();
        self.target.set(None);
        self.js_thread.store(0, Ordering::Release);
        let queued = state.records as u64;
        state.queue.clear();
        state.head = 0;
        state.records = 0;
        self.pending.store(false, Ordering::Release);
        self.dropped.fetch_add(queued, Ordering::Relaxed);
    }

    /// Whether records wait in the queue.
    pub fn pending(&self) -> bool {
        self.pending.load(Ordering::Acquire)
    }

    /// Counts `count` records this layer made but could not deliver (see `JsLayer`).
    pub(crate) fn count_dropped(&self, count: u64) {
        self.dropped.fetch_add(count, Ordering::Relaxed);
    }

    /// Records dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Appends a record, unless the queue is full (then it is counted as dropped). `force`
    /// appends regardless of capacity: for records whose loss would break the stream's promises
    /// (a span's close after its creation was delivered). Returns whether it was appended.
    pub(crate) fn push(&self, payload: &Payload<'_>, force: bool) -> bool {
        self.push_as(current_thread_id(), payload, force)
    }

    /// [`JsSink::push`] from `thread`, the calling thread's [`current_thread_id`].
    pub(crate) fn push_as(&self, thread: u32, payload: &Payload<'_>, force: bool) -> bool {
        // JavaScript's side, used on its thread only.
        let target = (thread == self.js_thread.load(Ordering::Acquire))
            .then(|| self.target.get())
            .flatten();
        if let (Some(target), Some((kind, span))) = (target, payload.span_only()) {
            if self.push_direct(target, kind, span) {
                return true;
            }
        }
        let mut pushed = self.try_push(payload, thread, force, target);
        if let (Pushed::Dropped, Some(target)) = (&pushed, target) {
            // On the JavaScript thread the queue can be emptied right now: drain, retry.
            self.wake(target, 0);
            pushed = self.try_push(payload, thread, force, Some(target));
        }
        match pushed {
            Pushed::Dropped => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
                false
            }
            Pushed::Queued => {
                if let Some(target) = target {
                    self.wake(target, 0);
                }
                true
            }
            Pushed::Direct(length, target) => {
                self.wake(target, length);
                true
            }
        }
    }

    /// Appends the record under the lock; `target`, on the JavaScript thread while attached,
    /// takes it (with the definitions it needs) straight to JavaScript's buffer when nothing was
    /// queued before it.
    fn try_push(
        &self,
        payload: &Payload<'_>,
        thread: u32,
        force: bool,
        target: Option<JsTarget>,
    ) -> Pushed {
        let mut state = self.lock();
        let was_empty = state.head == state.queue.len();
        let queued_bytes = state.queue.len() - state.head;
        if !force && (state.records >= self.capacity || queued_bytes >= MAX_QUEUED_BYTES) {
            return Pushed::Dropped;
        }
        state.append(payload, thread);
        if let (true, Some(target)) = (was_empty, target) {
            if let Some(length) = state.move_to_shared(target) {
                return Pushed::Direct(length, target);
            }
        }
        self.pending.store(true, Ordering::Release);
        Pushed::Queued
    }

    /// A record that holds only a span's id, made on the JavaScript thread (attached to
    /// `target`) while nothing is queued: written straight into JavaScript's buffer and
    /// delivered, without the lock (half the records of a span are its close). Returns false,
    /// having done nothing, when it must go the usual way: records are queued, or JavaScript is
    /// dispatching.
    ///
    /// Only this thread writes JavaScript's buffer. A record of another thread queued after
    /// `pending` was read is concurrent with this one: one about this span (an event in it,
    /// say) was queued before its thread let go of the span, so before it could close, be
    /// entered or be exited here, and `pending` shows it.
    fn push_direct(&self, target: JsTarget, kind: u8, span: u64) -> bool {
        if self.pending.load(Ordering::Acquire) {
            return false;
        }
        let record = span_only_record(kind, span);
        // SAFETY: on the JavaScript thread, attached to `target`.
        if !unsafe { write_shared(target, &record) } {
            return false;
        }
        self.wake(target, SPAN_ONLY_BYTES as u32);
        true
    }

    /// Calls the wake callback. Never called with the lock held: the callback drains.
    fn wake(&self, target: JsTarget, direct_length: u32) {
        // SAFETY: only called on the JavaScript thread, which is also the only thread that
        // detaches, so JavaScript still keeps the callback alive.
        unsafe { (target.wake)(self.index, direct_length) };
    }

    /// Moves whole records, oldest first, into `out`.
    pub fn drain(&self, out: &mut [u8]) -> Drained {
        let mut state = self.lock();
        let SinkState {
            queue,
            head,
            records,
            ..
        } = &mut *state;
        let mut end = *head;
        let mut count = 0;
        while end < queue.len() {
            let length = u32::from_le_bytes(read4(&queue[end..])) as usize + 4;
            if end + length - *head > out.len() {
                if end == *head {
                    return Drained::NeedBuffer(length);
                }
                break;
            }
            if is_counted(queue[end + 4]) {
                count += 1;
            }
            end += length;
        }
        let copied = end - *head;
        out[..copied].copy_from_slice(&queue[*head..end]);
        *head = end;
        *records -= count;
        if *head == queue.len() {
            queue.clear();
            *head = 0;
        } else if *head > queue.len() / 2 {
            queue.drain(..*head);
            *head = 0;
        }
        let more = *head < queue.len();
        self.pending.store(more, Ordering::Release);
        Drained::Bytes {
            bytes: copied,
            more,
        }
    }

    fn lock(&self) -> MutexGuard<'_, SinkState> {
        // Every write under the lock leaves the queue consistent between records.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl SinkState {
    /// Moves the queue's records (the record just appended and its definitions) into the
    /// shared buffer of `target`, if JavaScript is not dispatching and they fit. Call on the
    /// JavaScript thread, attached to `target`.
    fn move_to_shared(&mut self, target: JsTarget) -> Option<u32> {
        let length = self.queue.len() - self.head;
        // SAFETY: on the JavaScript thread, attached to `target` (the caller's promise).
        if !unsafe { write_shared(target, &self.queue[self.head..]) } {
            return None;
        }
        self.queue.clear();
        self.head = 0;
        self.records = 0;
        Some(length as u32)
    }

    fn append(&mut self, payload: &Payload<'_>, thread: u32) {
        match payload {
            Payload::NewSpan {
                metadata,
                span,
                parent,
                timestamp,
                fields,
            } => {
                let (callsite, key) = self.define_callsite(EventCallsite::Static(metadata));
                self.define_thread(thread);
                let start = self.begin(KIND_NEW_SPAN);
                self.queue.put_u32(callsite);
                self.queue.put_f64(*span as f64);
                self.queue.put_f64(*parent as f64);
                self.queue.put_u32(thread);
                self.queue.put_f64(*timestamp);
                self.put_fields(key, fields);
                self.finish(start);
            }
            Payload::Event {
                callsite,
                parent,
                timestamp,
                fields,
            } => {
                let (callsite, key) = self.define_callsite(*callsite);
                self.define_thread(thread);
                let start = self.begin(KIND_EVENT);
                self.queue.put_u32(callsite);
                self.queue.put_f64(*parent as f64);
                self.queue.put_u32(thread);
                self.queue.put_f64(*timestamp);
                self.put_fields(key, fields);
                self.finish(start);
            }
            Payload::Record {
                metadata,
                span,
                fields,
            } => {
                let (callsite, key) = self.define_callsite(EventCallsite::Static(metadata));
                let start = self.begin(KIND_RECORD);
                self.queue.put_u32(callsite);
                self.queue.put_f64(*span as f64);
                self.put_fields(key, fields);
                self.finish(start);
            }
            Payload::FollowsFrom { span, follows } => {
                let start = self.begin(KIND_FOLLOWS);
                self.queue.put_f64(*span as f64);
                self.queue.put_f64(*follows as f64);
                self.finish(start);
            }
            Payload::Enter(span) => self.span_only(KIND_ENTER, *span),
            Payload::Exit(span) => self.span_only(KIND_EXIT, *span),
            Payload::Close(span) => self.span_only(KIND_CLOSE, *span),
        }
    }

    fn span_only(&mut self, kind: u8, span: u64) {
        let start = self.queue.len();
        self.queue.put_bytes(&span_only_record(kind, span));
        self.finish(start);
    }

    /// Writes the length placeholder and the kind; returns where the record starts.
    fn begin(&mut self, kind: u8) -> usize {
        let start = self.queue.len();
        self.queue.put_u32(0);
        self.queue.put_u8(kind);
        start
    }

    fn finish(&mut self, start: usize) {
        let length = (self.queue.len() - start - 4) as u32;
        self.queue[start..start + 4].copy_from_slice(&length.to_le_bytes());
        if is_counted(self.queue[start + 4]) {
            self.records += 1;
        }
    }

    /// Defines `callsite` for JavaScript if it is new; returns its id and its key in
    /// `callsites`.
    fn define_callsite(&mut self, callsite: EventCallsite<'_>) -> (u32, usize) {
        let (key, metadata): (usize, &Metadata<'_>) = match callsite {
            EventCallsite::Static(metadata) => {
                (metadata as *const Metadata<'static> as usize, metadata)
            }
            EventCallsite::Log(metadata) => (self.log_callsite_key(metadata), metadata),
        };
        if let Some(entry) = self.callsites.get(&key) {
            return (entry.id, key);
        }
        let id = u32::try_from(self.callsites.len() + 1).unwrap_or(u32::MAX);
        let field_count = metadata.fields().len().min(u8::MAX as usize);
        self.callsites.insert(
            key,
            CallsiteEntry {
                id,
                last_text: vec![None; field_count],
            },
        );
        let start = self.begin(KIND_CALLSITE);
        self.queue.put_u32(id);
        self.queue.put_u8(level_code(metadata.level()));
        self.queue.put_u8(u8::from(metadata.is_span()));
        self.queue.put_str(metadata.name());
        self.queue.put_str(metadata.target());
        self.queue.put_optional_str(metadata.module_path());
        self.queue.put_optional_str(metadata.file());
        self.queue.put_u32(metadata.line().unwrap_or(NONE_U32));
        self.queue.put_u8(field_count as u8);
        for field in metadata.fields().iter().take(field_count) {
            self.queue.put_str(field.name());
        }
        self.finish(start);
        (id, key)
    }

    /// The key in `callsites` of the `log` record location `metadata`: an odd number, the
    /// same for every record logged at that location.
    fn log_callsite_key(&mut self, metadata: &Metadata<'_>) -> usize {
        let bucket = self
            .log_callsites
            .entry(LogLocation::hash(metadata))
            .or_default();
        if let Some((_, key)) = bucket.iter().find(|(location, _)| location.is(metadata)) {
            return *key;
        }
        let key = (self.log_locations << 1) | 1;
        self.log_locations += 1;
        bucket.push((LogLocation::of(metadata), key));
        key
    }

    fn define_thread(&mut self, thread: u32) {
        let (word, bit) = (thread as usize / 64, 1u64 << (thread % 64));
        if self.threads.len() <= word {
            self.threads.resize(word + 1, 0);
        }
        if self.threads[word] & bit != 0 {
            return;
        }
        self.threads[word] |= bit;
        let start = self.begin(KIND_THREAD);
        self.queue.put_u32(thread);
        // Threads Rust did not start (the JavaScript runtime's) have only an OS name.
        let name = std::thread::current()
            .name()
            .map(str::to_owned)
            .or_else(crate::util::os_thread_name);
        self.queue.put_optional_str(name.as_deref());
        self.finish(start);
    }

    fn put_fields(&mut self, key: usize, fields: &CapturedFields) {
        let SinkState {
            queue, callsites, ..
        } = self;
        let entry = callsites.get_mut(&key);
        let count = fields.values.len().min(u8::MAX as usize);
        queue.put_u8(count as u8);
        let mut last_text = entry.map(|entry| &mut entry.last_text);
        for (index, value) in fields.values.iter().take(count) {
            queue.put_u8(*index);
            match *value {
                Captured::Text { start, end } => {
                    let text = fields.str(start, end);
                    let slot = last_text
                        .as_deref_mut()
                        .and_then(|last| last.get_mut(*index as usize));
                    match slot {
                        Some(Some(last)) if **last == *text => queue.put_u8(VALUE_SAME),
                        Some(slot) => {
                            *slot = Some(text.into());
                            queue.put_u8(VALUE_STR);
                            queue.put_str(text);
                        }
                        None => {
                            queue.put_u8(VALUE_STR);
                            queue.put_str(text);
                        }
                    }
                }
                Captured::Number(number) => {
                    queue.put_u8(VALUE_NUMBER);
                    queue.put_f64(number);
                }
                Captured::I64(number) => {
                    queue.put_u8(VALUE_I64);
                    queue.put_bytes(&number.to_le_bytes());
                }
                Captured::U64(number) => {
                    queue.put_u8(VALUE_U64);
                    queue.put_bytes(&number.to_le_bytes());
                }
                Captured::Bool(flag) => queue.put_u8(if flag { VALUE_TRUE } else { VALUE_FALSE }),
                Captured::BigInt { start, end } => {
                    queue.put_u8(VALUE_BIGINT);
                    queue.put_str(fields.str(start, end));
                }
                Captured::Bytes { start, end } => {
                    queue.put_u8(VALUE_BYTES);
                    queue.put_u32((end - start) as u32);
                    queue.put_bytes(&fields.bytes[start..end]);
                }
            }
        }
    }
}

/// Whether a record kind counts against the capacity: definitions (callsites, threads) do not,
/// as they are bounded and later records depend on them.
fn is_counted(kind: u8) -> bool {
    kind >= KIND_NEW_SPAN
}

fn read4(bytes: &[u8]) -> [u8; 4] {
    [bytes[0], bytes[1], bytes[2], bytes[3]]
}

static NEXT_THREAD_ID: AtomicU32 = AtomicU32::new(1);

thread_local! {
    static THREAD_ID: Cell<u32> = const { Cell::new(0) };
}

/// A small id for the calling thread, unique for the process's life.
pub(crate) fn current_thread_id() -> u32 {
    THREAD_ID.with(|id| {
        if id.get() == 0 {
            id.set(NEXT_THREAD_ID.fetch_add(1, Ordering::Relaxed));
        }
        id.get()
    })
}
