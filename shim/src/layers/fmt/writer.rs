//! Where the fmt layer's lines go: a sink (stdout, stderr, a file, rolling files), written
//! either on the calling thread or by a worker thread behind a bounded queue, as
//! `tracing_appender::non_blocking` does.
//!
//! The queue is one byte buffer that traced threads append whole lines to under a mutex; the
//! worker swaps it for an empty one and writes the batch with one `write` (files are opened
//! for appending, so lines of several writers never interleave). While lines keep coming the
//! worker naps 1 ms between batches instead of blocking, so that traced threads do not pay a
//! system call to wake it; only an idle worker blocks, and the first line after that wakes it.
//!
//! A full queue (`bufferedLines`) makes the traced thread wait for the worker (lossless, the
//! default) or, with `lossy`, drops the line and counts it: the count is the layer's
//! `dropped()` (summed into `droppedSpans`), warned about on stderr at the first drop and
//! reported at shutdown.

use std::{
    io::{self, Write},
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc, Condvar, Mutex, MutexGuard,
    },
    thread::JoinHandle,
    time::{Duration, Instant},
};

use super::rolling::RollingFile;
use crate::error::{Error, ErrorKind};

/// Where the bytes end up.
pub(super) enum Sink {
    Stdout,
    Stderr,
    /// Opened for appending.
    File(std::fs::File),
    Rolling(Box<RollingFile>),
}

impl Sink {
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self {
            Sink::Stdout => {
                let mut out = io::stdout().lock();
                out.write_all(bytes)?;
                out.flush()
            }
            Sink::Stderr => io::stderr().lock().write_all(bytes),
            Sink::File(file) => file.write_all(bytes),
            Sink::Rolling(rolling) => rolling.write(bytes),
        }
    }
}

/// What went wrong writing, reported on stderr once and by the next `flush`.
///
/// `tracing-subscriber` ignores write errors (or prints one line per failed event), so a full
/// disk would lose every line in silence. Here the first failure is reported on stderr, naming
/// the output, and every failed event is counted; `flush` then fails with the count and the
/// first error (as the timeline's does), once per batch of failures.
pub(super) struct Failures {
    /// The layer and its output, for messages: ``fmt layer layers[0]: `app.log` ``.
    pub(super) name: String,
    state: Mutex<FailureState>,
}

#[derive(Default)]
struct FailureState {
    warned: bool,
    lost: u64,
    first_error: Option<String>,
}

impl Failures {
    pub(super) fn new(name: String) -> Self {
        Self {
            name,
            state: Mutex::new(FailureState::default()),
        }
    }

    fn failed(&self, lines: u64, error: &io::Error) {
        let mut state = lock(&self.state);
        state.lost += lines;
        state.first_error.get_or_insert_with(|| error.to_string());
        if !std::mem::replace(&mut state.warned, true) {
            drop(state);
            eprintln!(
                "tracing-bridge: {}: cannot write: {error}; events that cannot be written are \
                 counted, and flush reports them",
                self.name
            );
        }
    }

    /// Takes the failures since the last report, as an error naming the output.
    pub(super) fn take(&self) -> Result<(), Error> {
        let mut state = lock(&self.state);
        if state.lost == 0 {
            return Ok(());
        }
        let lost = std::mem::take(&mut state.lost);
        let error = state.first_error.take().unwrap_or_default();
        Err(Error::new(
            ErrorKind::FileNotWritable,
            format!(
                "{}: {lost} event{} could not be written: {error}",
                self.name,
                if lost == 1 { "" } else { "s" }
            ),
        ))
    }
}

/// Writes on the calling thread, one `write` per event.
pub(super) struct Direct {
    sink: Mutex<Sink>,
    pub(super) failures: Failures,
}

impl Direct {
    pub(super) fn new(sink: Sink, failures: Failures) -> Self {
        Self {
            sink: Mutex::new(sink),
            failures,
        }
    }

    pub(super) fn write_event(&self, bytes: &[u8]) -> io::Result<()> {
        let result = lock(&self.sink).write_all(bytes);
        if let Err(error) = &result {
            self.failures.failed(1, error);
        }
        result
    }
}

/// How long `flush` and shutdown wait for the worker to write what was queued before them.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(10);

/// How long the worker naps when it has caught up, before it blocks.
const WORKER_NAP: Duration = Duration::from_millis(1);

/// The queue between traced threads and the worker.
pub(super) struct Queue {
    state: Mutex<QueueState>,
    /// Wakes the worker (only when it blocks: `parked`).
    work: Condvar,
    /// Wakes threads waiting for room, for a flush, or for the end.
    progress: Condvar,
    /// Lines the queue holds at most (`bufferedLines`).
    capacity: usize,
    lossy: bool,
    /// Lines dropped because the queue was full (`lossy`), and because they came after the
    /// worker stopped.
    dropped_full: AtomicU64,
    dropped_late: AtomicU64,
    drop_warned: AtomicBool,
    pub(super) failures: Failures,
}

struct QueueState {
    buffer: Vec<u8>,
    /// Lines in `buffer`.
    lines: usize,
    /// Lines queued since the start, and lines the worker finished with (written or failed).
    queued: u64,
    done: u64,
    /// The worker is blocked on `work` and must be woken.
    parked: bool,
    /// Threads waiting on `progress`.
    waiting: usize,
    /// Shutdown asked the worker to write what is left and stop.
    closing: bool,
    /// The worker stopped; lines that still come are dropped and counted.
    finished: bool,
}

impl Queue {
    /// Starts the worker thread for `sink`.
    pub(super) fn start(
        sink: Sink,
        capacity: usize,
        lossy: bool,
        failures: Failures,
    ) -> io::Result<(Arc<Queue>, JoinHandle<()>)> {
        let queue = Arc::new(Queue {
            state: Mutex::new(QueueState {
                buffer: Vec::with_capacity(64 * 1024),
                lines: 0,
                queued: 0,
                done: 0,
                parked: false,
                waiting: 0,
                closing: false,
                finished: false,
            }),
            work: Condvar::new(),
            progress: Condvar::new(),
            capacity,
            lossy,
            dropped_full: AtomicU64::new(0),
            dropped_late: AtomicU64::new(0),
            drop_warned: AtomicBool::new(false),
            failures,
        });
        let worker = Arc::clone(&queue);
        let handle = std::thread::Builder::new()
            .name("tracing-bridge-fmt".into())
            .spawn(move || worker.run(sink))?;
        Ok((queue, handle))
    }

    /// Queues one event's text: waits for room when the queue is full, or drops and counts
    /// the line when `lossy`.
    pub(super) fn push(&self, bytes: &[u8]) {
        let mut state = lock(&self.state);
        loop {
            if state.finished {
                drop(state);
                self.count_drop(false);
                return;
            }
            if state.lines < self.capacity {
                break;
            }
            if self.lossy {
                drop(state);
                self.count_drop(true);
                return;
            }
            state = self.wait_for_progress(state, None);
        }
        state.buffer.extend_from_slice(bytes);
        state.lines += 1;
        state.queued += 1;
        if state.parked {
            state.parked = false;
            self.work.notify_one();
        }
    }

    fn count_drop(&self, full: bool) {
        let counter = if full {
            &self.dropped_full
        } else {
            &self.dropped_late
        };
        counter.fetch_add(1, Ordering::Relaxed);
        if !self.drop_warned.swap(true, Ordering::Relaxed) {
            let why = if full {
                "the queue is full (lossy: true); raise bufferedLines, or set lossy: false to \
                 wait instead"
            } else {
                "they come after the layer was shut down"
            };
            eprintln!(
                "tracing-bridge: {}: dropping lines because {why}; they are counted in \
                 droppedSpans and reported at dispose",
                self.failures.name
            );
        }
    }

    pub(super) fn dropped(&self) -> u64 {
        self.dropped_full.load(Ordering::Relaxed) + self.dropped_late.load(Ordering::Relaxed)
    }

    /// The line reported at shutdown when lines were dropped: how many, and why.
    pub(super) fn drop_report(&self) -> Option<String> {
        let full = self.dropped_full.load(Ordering::Relaxed);
        let late = self.dropped_late.load(Ordering::Relaxed);
        let lines = |count: u64| format!("{count} line{}", if count == 1 { "" } else { "s" });
        let mut parts = Vec::new();
        if full > 0 {
            parts.push(format!(
                "{} because the queue was full (lossy: true; raise bufferedLines or set lossy: \
                 false)",
                lines(full)
            ));
        }
        if late > 0 {
            parts.push(format!(
                "{} because they came after the layer was shut down",
                lines(late)
            ));
        }
        (!parts.is_empty()).then(|| {
            format!(
                "tracing-bridge: {}: dropped {}",
                self.failures.name,
                parts.join(", and ")
            )
        })
    }

    /// Waits on `progress` (with `deadline`, if any), keeping the waiter count.
    fn wait_for_progress<'a>(
        &self,
        mut state: MutexGuard<'a, QueueState>,
        deadline: Option<Instant>,
    ) -> MutexGuard<'a, QueueState> {
        state.waiting += 1;
        if state.parked {
            state.parked = false;
            self.work.notify_one();
        }
        let mut state = match deadline {
            None => self
                .progress
                .wait(state)
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
            Some(deadline) => {
                let left = deadline.saturating_duration_since(Instant::now());
                self.progress
                    .wait_timeout(state, left)
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .0
            }
        };
        state.waiting -= 1;
        state
    }

    /// Waits until every line queued before the call is written (or failed). `closing` asks
    /// the worker to stop afterwards. Errors when the worker takes longer than
    /// [`FLUSH_TIMEOUT`].
    pub(super) fn flush(&self, closing: bool) -> Result<(), Error> {
        let deadline = Instant::now() + FLUSH_TIMEOUT;
        let mut state = lock(&self.state);
        let target = state.queued;
        if closing {
            state.closing = true;
        }
        // Wake the worker from its nap as well as from a block.
        state.parked = false;
        self.work.notify_one();
        while !(state.done >= target && (!closing || state.finished)) {
            if state.finished && !closing {
                break;
            }
            if Instant::now() >= deadline {
                return Err(Error::new(
                    ErrorKind::FileNotWritable,
                    format!(
                        "{}: the writer thread did not finish writing within {} s; the disk \
                         may be slow or full",
                        self.failures.name,
                        FLUSH_TIMEOUT.as_secs()
                    ),
                ));
            }
            state = self.wait_for_progress(state, Some(deadline));
        }
        Ok(())
    }

    fn run(&self, mut sink: Sink) {
        // A panic (a bug) must not leave traced threads waiting for room forever.
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.write_until_closed(&mut sink);
        }));
        let mut state = lock(&self.state);
        if result.is_err() {
            let lost = state.queued - state.done;
            drop(state);
            eprintln!(
                "tracing-bridge: {}: the writer thread panicked (a bug; please report it); \
                 {lost} queued lines are lost",
                self.failures.name
            );
            state = lock(&self.state);
            state.done = state.queued;
        }
        state.finished = true;
        self.progress.notify_all();
    }

    fn write_until_closed(&self, sink: &mut Sink) {
        let mut spare: Vec<u8> = Vec::with_capacity(64 * 1024);
        let mut naps = 0;
        let mut state = lock(&self.state);
        loop {
            if state.lines == 0 {
                if state.closing {
                    return;
                }
                if naps < 2 {
                    naps += 1;
                    state = self
                        .work
                        .wait_timeout(state, WORKER_NAP)
                        .unwrap_or_else(|poisoned| poisoned.into_inner())
                        .0;
                } else {
                    state.parked = true;
                    state = self
                        .work
                        .wait(state)
                        .unwrap_or_else(|poisoned| poisoned.into_inner());
                }
                continue;
            }
            naps = 0;
            std::mem::swap(&mut state.buffer, &mut spare);
            let lines = std::mem::take(&mut state.lines) as u64;
            if state.waiting > 0 {
                self.progress.notify_all();
            }
            drop(state);
            if let Err(error) = sink.write_all(&spare) {
                self.failures.failed(lines, &error);
            }
            spare.clear();
            // A huge burst leaves a huge buffer: give it back rather than keep it.
            if spare.capacity() > 16 << 20 {
                spare = Vec::with_capacity(64 * 1024);
            }
            state = lock(&self.state);
            state.done += lines;
            if state.waiting > 0 {
                self.progress.notify_all();
            }
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_lossless_queue_waits_and_loses_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.log");
        let file = std::fs::File::create(&path).unwrap();
        let (queue, handle) =
            Queue::start(Sink::File(file), 4, false, Failures::new("t".into())).unwrap();
        let threads: Vec<_> = (0..4)
            .map(|thread| {
                let queue = Arc::clone(&queue);
                std::thread::spawn(move || {
                    for line in 0..5_000 {
                        queue.push(format!("{thread} {line}\n").as_bytes());
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        queue.flush(true).unwrap();
        handle.join().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 20_000);
        assert_eq!(queue.dropped(), 0);
        for thread in 0..4 {
            let lines: Vec<u32> = text
                .lines()
                .filter_map(|line| line.strip_prefix(&format!("{thread} ")))
                .map(|n| n.parse().unwrap())
                .collect();
            assert_eq!(
                lines,
                (0..5_000).collect::<Vec<_>>(),
                "thread {thread} in order"
            );
        }
    }

    #[test]
    fn a_full_lossy_queue_drops_and_counts() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.log");
        let file = std::fs::File::create(&path).unwrap();
        let (queue, handle) =
            Queue::start(Sink::File(file), 2, true, Failures::new("t".into())).unwrap();
        // The worker is parked or napping: a quick burst overflows two slots.
        for line in 0..1_000 {
            queue.push(format!("{line}\n").as_bytes());
        }
        queue.flush(true).unwrap();
        handle.join().unwrap();
        let written = std::fs::read_to_string(&path).unwrap().lines().count() as u64;
        assert!(queue.dropped() > 0);
        assert_eq!(written + queue.dropped(), 1_000);
        // After shutdown, lines are dropped and counted too.
        queue.push(b"late\n");
        assert_eq!(written + queue.dropped(), 1_001);
    }
}
