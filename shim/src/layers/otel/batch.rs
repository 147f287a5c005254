//! A batch processor whose flush and shutdown wait for the exporter's answer, up to a
//! deadline, and which counts every record it does not export. It is generic over the record
//! `R` it batches (`SpanData` for traces; log records and metrics would use the same queue);
//! [`SpanBatchProcessor`] connects it to the SDK's tracer provider.
//!
//! The SDK's own `BatchSpanProcessor` has a fixed 5 s flush timeout, leaves its thread running
//! when shutdown times out, and does not expose how many spans it dropped. This one:
//! - queues finished records (bounded; a full queue drops and counts) in chunks of one batch,
//!   so that the worker takes a batch without copying it under the lock, and reuses the chunks;
//! - exports from one worker thread in batches, when a batch is full, when the scheduled delay
//!   has passed, or when a flush asks for it;
//! - [`BatchQueue::flush`] returns once every record queued before the call is exported or
//!   dropped, or at the deadline;
//! - [`BatchWorker::shutdown`] exports what is left, and at the deadline cancels the export in
//!   flight, drops the rest and joins the worker thread;
//! - [`BatchQueue::finish`] then freezes the counts: what is counted by then is what the layer
//!   reports and what `droppedSpans` says from then on, however late a record still arrives.
//!
//! Each record it does not export is counted once, under one reason ([`BatchStats`]): the
//! queue was full, the export failed (known not delivered), the export got no answer (not
//! confirmed by the receiver, which may have it), still queued at the shutdown deadline, ended
//! while shutting down, or still open when the layer shut down.

use std::{
    collections::VecDeque,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc, Condvar, Mutex, MutexGuard,
    },
    thread::{self, JoinHandle},
    time::{Duration, Instant},
};

use opentelemetry::Context;
use opentelemetry_sdk::{
    error::OTelSdkResult,
    trace::{Span, SpanData, SpanProcessor},
};

use super::{open_spans, sdk::BatchSettings, status::apply_error_status};
use crate::error::{Error, ErrorKind};

/// The words an exporter's error message contains when the request may have reached the
/// receiver but no answer came (a timeout, a connection lost after sending, cancelled at the
/// flush deadline while a request was out): such a failure is counted as not confirmed rather
/// than as dropped. Any other error means the records were not delivered (a refused
/// connection, an error answer, cancelled while waiting to retry after such failures). The
/// report ([`super::report`]) says the words itself and leaves them out of the error it quotes.
pub(crate) const NOT_CONFIRMED: &str = "not confirmed by the receiver";

/// Sends one batch of `R` somewhere. Runs on the worker thread only.
pub(crate) trait ExportBatch<R>: Send + 'static {
    /// Exports `batch`; gives up after `timeout`, or as soon as `cancel` fires. What is left
    /// in `batch` afterwards is dropped (its allocation is reused). An error whose message
    /// contains [`NOT_CONFIRMED`] says that the receiver may have the batch.
    fn export(
        &mut self,
        batch: &mut Vec<R>,
        timeout: Duration,
        cancel: &Cancel,
    ) -> Result<(), String>;

    /// After a successful export: the records the receiver said it rejected (an OTLP partial
    /// success), with its message. They count as dropped.
    fn take_rejected(&mut self) -> Option<(u64, String)> {
        None
    }
}

/// A one-shot signal that abandons the export in flight.
#[derive(Debug, Default)]
pub(crate) struct Cancel {
    fired: AtomicBool,
    notify: tokio::sync::Notify,
}

impl Cancel {
    fn fire(&self) {
        self.fired.store(true, Ordering::Release);
        // `notify_one` keeps a permit when nobody waits yet, so a late waiter still wakes.
        self.notify.notify_one();
    }

    /// Whether the signal fired.
    pub(crate) fn is_fired(&self) -> bool {
        self.fired.load(Ordering::Acquire)
    }

    /// Completes once the signal fires.
    pub(crate) async fn fired(&self) {
        if !self.is_fired() {
            self.notify.notified().await;
        }
    }
}

/// Record counts of one processor. `dropped` is the sum of the reasons after it; a record is
/// counted under one of them only.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct BatchStats {
    pub(crate) exported: u64,
    /// Not exported, or exported without the receiver's answer: what `droppedSpans` counts.
    pub(crate) dropped: u64,
    /// Arrived while the queue was full.
    pub(crate) queue_full: u64,
    /// In an export that failed without reaching the receiver, or that it refused.
    pub(crate) failed: u64,
    /// In an export that got no answer: the receiver may have them.
    pub(crate) unconfirmed: u64,
    /// Still queued, never sent, when the shutdown deadline passed.
    pub(crate) abandoned: u64,
    /// Ended after shutdown had begun.
    pub(crate) late: u64,
    /// Still open (never ended) when the layer shut down ([`BatchQueue::finish`]).
    pub(crate) open: u64,
    /// The first error of a failed export.
    pub(crate) first_failure: Option<String>,
    /// The first error of an export that got no answer.
    pub(crate) first_unconfirmed: Option<String>,
    /// Whether the counts are final ([`BatchQueue::finish`]).
    pub(crate) finished: bool,
}

/// The part shared by the SDK-facing processor (producers), the worker and the lifecycle.
#[derive(Debug)]
pub(crate) struct BatchQueue<R> {
    settings: BatchSettings,
    state: Mutex<State<R>>,
    /// Wakes the worker.
    work: Condvar,
    /// Wakes callers waiting in `flush` or `shutdown`.
    progress: Condvar,
    exported: AtomicU64,
    /// Every record counted in one of the reasons; frozen by [`BatchQueue::finish`].
    dropped: AtomicU64,
    dropped_queue_full: AtomicU64,
    cancel: Cancel,
}

/// Emptied chunks kept for reuse.
const SPARE_CHUNKS: usize = 2;
/// Records a new chunk has room for at once (about 1.4 MB of `SpanData`).
const MAX_CHUNK_RESERVE: usize = 4096;

#[derive(Debug)]
struct State<R> {
    /// Queued records, in chunks of at most `max_export_batch_size`.
    chunks: VecDeque<Vec<R>>,
    /// Records in `chunks`.
    queued: usize,
    /// Emptied chunks, for reuse.
    spare: Vec<Vec<R>>,
    /// Records ever queued.
    accepted: u64,
    /// Records taken from the queue and exported or dropped since, plus records dropped from
    /// it.
    settled: u64,
    /// Export without waiting for the delay until `settled` reaches this.
    flush_until: u64,
    /// Shutdown asked: export everything, then stop.
    closing: bool,
    /// Shutdown deadline passed: drop everything and stop now.
    abandoned: bool,
    /// The counts are final: records arriving now are neither queued nor counted.
    finished: bool,
    /// Dropped-record counts by reason (queue full: `dropped_queue_full`).
    failed: u64,
    unconfirmed: u64,
    abandoned_records: u64,
    late: u64,
    open: u64,
    first_failure: Option<String>,
    first_unconfirmed: Option<String>,
}

impl<R> Default for State<R> {
    fn default() -> Self {
        Self {
            chunks: VecDeque::new(),
            queued: 0,
            spare: Vec::new(),
            accepted: 0,
            settled: 0,
            flush_until: 0,
            closing: false,
            abandoned: false,
            finished: false,
            failed: 0,
            unconfirmed: 0,
            abandoned_records: 0,
            late: 0,
            open: 0,
            first_failure: None,
            first_unconfirmed: None,
        }
    }
}

impl<R: Send + 'static> BatchQueue<R> {
    pub(crate) fn new(settings: BatchSettings) -> Arc<Self> {
        Arc::new(Self {
            settings,
            state: Mutex::new(State::default()),
            work: Condvar::new(),
            progress: Condvar::new(),
            exported: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            dropped_queue_full: AtomicU64::new(0),
            cancel: Cancel::default(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State<R>> {
        // Every update keeps the state consistent, so a panic elsewhere leaves it usable.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Queues a finished record, or drops and counts it when the queue is full or closing.
    /// After [`BatchQueue::finish`] it is dropped uncounted: the counts are final then, and a
    /// record that ends so late was counted as still open. Inlined, like the processor's
    /// `on_end` that calls it: a `SpanData` is a few hundred bytes, and each call that takes it
    /// by value copies it once more on its way into the chunk.
    #[inline]
    pub(crate) fn push(&self, record: R) {
        let mut state = self.lock();
        if state.finished {
            return;
        }
        if state.closing {
            state.late += 1;
            // Counted under the lock, so that `finish` sees each reason with its total.
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        if state.queued >= self.settings.max_queue_size {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            self.dropped_queue_full.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let batch_size = self.settings.max_export_batch_size;
        match state.chunks.back_mut() {
            Some(chunk) if chunk.len() < batch_size => chunk.push(record),
            _ => {
                // A huge batch size grows its chunk as records come rather than up front.
                let mut chunk = state
                    .spare
                    .pop()
                    .unwrap_or_else(|| Vec::with_capacity(batch_size.min(MAX_CHUNK_RESERVE)));
                chunk.push(record);
                state.chunks.push_back(chunk);
            }
        }
        state.queued += 1;
        state.accepted += 1;
        let queued = state.queued;
        drop(state);
        // The first record starts the scheduled delay; a full batch is due at once.
        if queued == 1 || queued == self.settings.max_export_batch_size {
            self.work.notify_one();
        }
    }

    /// Waits until every record queued before this call is exported or dropped, or until
    /// `deadline`. Returns whether everything was settled in time.
    pub(crate) fn flush(&self, deadline: Instant) -> bool {
        let mut state = self.lock();
        let target = state.accepted;
        if state.settled >= target {
            return true;
        }
        state.flush_until = state.flush_until.max(target);
        self.work.notify_one();
        self.wait_settled(state, target, deadline)
    }

    fn wait_settled(
        &self,
        mut state: MutexGuard<'_, State<R>>,
        target: u64,
        deadline: Instant,
    ) -> bool {
        while state.settled < target {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            state = self
                .progress
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .0;
        }
        true
    }

    /// The counts so far.
    #[cfg(test)]
    pub(crate) fn stats(&self) -> BatchStats {
        let state = self.lock();
        self.stats_locked(&state)
    }

    fn stats_locked(&self, state: &State<R>) -> BatchStats {
        BatchStats {
            exported: self.exported.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
            queue_full: self.dropped_queue_full.load(Ordering::Relaxed),
            failed: state.failed,
            unconfirmed: state.unconfirmed,
            abandoned: state.abandoned_records,
            late: state.late,
            open: state.open,
            first_failure: state.first_failure.clone(),
            first_unconfirmed: state.first_unconfirmed.clone(),
            finished: state.finished,
        }
    }

    /// Records dropped so far; final once [`BatchQueue::finish`] ran.
    pub(crate) fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Makes the counts final, adding `open` records that were still open (never ended) and
    /// so will never be exported; returns them. Call after [`BatchWorker::shutdown`]. From then
    /// on, records that still arrive are dropped without being counted (they are among
    /// `open`), so the counts returned are the ones [`BatchQueue::dropped`] gives ever after.
    /// Later calls change nothing.
    pub(crate) fn finish(&self, open: u64) -> BatchStats {
        let mut state = self.lock();
        if !state.finished {
            state.finished = true;
            state.closing = true;
            // What a worker that was never joined left queued.
            let left = state.queued as u64;
            let chunks = std::mem::take(&mut state.chunks);
            state.queued = 0;
            state.settled += left;
            state.abandoned_records += left;
            state.open = open;
            self.dropped.fetch_add(left + open, Ordering::Relaxed);
            let stats = self.stats_locked(&state);
            drop(state);
            drop(chunks);
            self.progress.notify_all();
            return stats;
        }
        self.stats_locked(&state)
    }

    /// The worker's loop: returns when shutdown is done or abandoned.
    fn run(&self, exporter: &mut dyn ExportBatch<R>) {
        let mut last_export = Instant::now();
        loop {
            let mut batch = {
                let mut state = self.lock();
                loop {
                    if state.abandoned {
                        let left = state.queued as u64;
                        state.chunks.clear();
                        state.queued = 0;
                        state.settled += left;
                        state.abandoned_records += left;
                        self.dropped.fetch_add(left, Ordering::Relaxed);
                        self.progress.notify_all();
                        return;
                    }
                    if state.queued == 0 {
                        if state.closing {
                            self.progress.notify_all();
                            return;
                        }
                        // Nothing to wait for: the delay starts with the next record.
                        last_export = Instant::now();
                        state = self.wait_for_work(state, None);
                        continue;
                    }
                    let delay_passed = last_export.elapsed() >= self.settings.scheduled_delay;
                    if state.queued >= self.settings.max_export_batch_size
                        || state.closing
                        || state.flush_until > state.settled
                        || delay_passed
                    {
                        break;
                    }
                    let remaining = self.settings.scheduled_delay - last_export.elapsed();
                    state = self.wait_for_work(state, Some(remaining));
                }
                // The oldest chunk: a full batch, or all there is when only one chunk is left.
                let chunk = state.chunks.pop_front().unwrap_or_default();
                state.queued -= chunk.len();
                chunk
            };
            last_export = Instant::now();
            let count = batch.len() as u64;
            // Cancelled before it was sent: known not delivered, like the rest of the queue.
            let never_sent = self.cancel.is_fired();
            let result = if never_sent {
                Err(String::new())
            } else {
                exporter.export(&mut batch, self.settings.export_timeout, &self.cancel)
            };
            let rejected = match result {
                Ok(()) => exporter.take_rejected(),
                Err(_) => None,
            };
            // Dropping the records is the worker's work, not the producers'.
            batch.clear();
            let mut state = self.lock();
            state.settled += count;
            if batch.capacity() > 0 && state.spare.len() < SPARE_CHUNKS {
                state.spare.push(batch);
            }
            match result {
                // Nothing changes the counts after `finish` (which runs after the join).
                _ if state.finished => {}
                Ok(()) => {
                    let (rejected, message) = rejected.unwrap_or_default();
                    let rejected = rejected.min(count);
                    self.exported.fetch_add(count - rejected, Ordering::Relaxed);
                    if rejected > 0 {
                        state.failed += rejected;
                        self.dropped.fetch_add(rejected, Ordering::Relaxed);
                        state.first_failure.get_or_insert(format!(
                            "the receiver rejected {rejected} of {count} (partial success): \
                             {message}"
                        ));
                    }
                }
                Err(_) if never_sent => {
                    state.abandoned_records += count;
                    self.dropped.fetch_add(count, Ordering::Relaxed);
                }
                Err(message) if message.contains(NOT_CONFIRMED) => {
                    state.unconfirmed += count;
                    self.dropped.fetch_add(count, Ordering::Relaxed);
                    state.first_unconfirmed.get_or_insert(message);
                }
                Err(message) => {
                    state.failed += count;
                    self.dropped.fetch_add(count, Ordering::Relaxed);
                    state.first_failure.get_or_insert(message);
                }
            }
            drop(state);
            self.progress.notify_all();
        }
    }

    fn wait_for_work<'a>(
        &self,
        state: MutexGuard<'a, State<R>>,
        timeout: Option<Duration>,
    ) -> MutexGuard<'a, State<R>> {
        match timeout {
            Some(timeout) => {
                self.work
                    .wait_timeout(state, timeout)
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .0
            }
            None => self
                .work
                .wait(state)
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        }
    }
}

/// The SDK-facing half for traces: receives finished spans from the tracer provider.
#[derive(Debug)]
pub(crate) struct SpanBatchProcessor {
    queue: Arc<BatchQueue<SpanData>>,
    /// Whether spans keep their events. When the events are exported as log records instead
    /// (`spanEvents: false`), the layer hands a span only the events that mark it as failed;
    /// they set its status here, then go.
    keep_events: bool,
}

impl SpanBatchProcessor {
    pub(crate) fn new(queue: Arc<BatchQueue<SpanData>>, keep_events: bool) -> Self {
        Self { queue, keep_events }
    }

    /// What `on_end` does to a span before queueing it, in place; `false` when it is not to be
    /// queued.
    #[inline]
    fn prepare(&self, span: &mut SpanData) -> bool {
        if !open_spans::closing_in_layer() {
            // Ended outside the layer's `on_close`: the SDK span of a span that closed after
            // the layer stopped receiving (dropped with its registry entry). Such a span is
            // counted as still open (`OpenSpans`), so it is neither exported nor counted here.
            return false;
        }
        apply_error_status(span);
        if !self.keep_events {
            span.events = Default::default();
        }
        true
    }

    /// `on_end` for a span its caller built (a light span, `light.rs`), after `finish`:
    /// prepared where it lies, then moved once, into the queue. (Passed on by value from call
    /// to call, a `SpanData` of a few hundred bytes is copied at each.)
    #[inline(always)]
    pub(crate) fn end_built(&self, finish: impl FnOnce(&mut SpanData), mut span: SpanData) {
        finish(&mut span);
        if self.prepare(&mut span) {
            self.queue.push(span);
        }
    }
}

impl SpanProcessor for SpanBatchProcessor {
    fn on_start(&self, _span: &mut Span, _cx: &Context) {}

    #[inline]
    fn on_end(&self, span: SpanData) {
        self.end_built(|_| {}, span);
    }

    fn force_flush(&self) -> OTelSdkResult {
        // Flushing goes through the layer's lifecycle, which knows the deadline.
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        // Shutdown goes through the layer's lifecycle, which owns the worker thread.
        Ok(())
    }
}

/// Owns the worker thread.
#[derive(Debug)]
pub(crate) struct BatchWorker<R: Send + 'static> {
    queue: Arc<BatchQueue<R>>,
    thread: Option<JoinHandle<()>>,
}

impl<R: Send + 'static> BatchWorker<R> {
    /// Starts the worker thread, named `name`, exporting with `exporter`.
    pub(crate) fn start(
        queue: Arc<BatchQueue<R>>,
        name: &str,
        mut exporter: Box<dyn ExportBatch<R>>,
    ) -> Result<Self, Error> {
        let worker_queue = Arc::clone(&queue);
        let thread = thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                super::silence_tracing_on_this_thread();
                worker_queue.run(&mut *exporter);
            })
            .map_err(|error| {
                Error::new(
                    ErrorKind::InvalidConfig,
                    format!("cannot start the export thread: {error}"),
                )
            })?;
        Ok(Self {
            queue,
            thread: Some(thread),
        })
    }

    /// Exports what is queued, then stops and joins the worker. At `deadline` the export in
    /// flight is cancelled and what is left is dropped (and counted). Returns whether
    /// everything was exported or dropped for cause before the deadline.
    pub(crate) fn shutdown(&mut self, deadline: Instant) -> bool {
        let Some(thread) = self.thread.take() else {
            return true;
        };
        let queue = &self.queue;
        let mut state = queue.lock();
        state.closing = true;
        let target = state.accepted;
        queue.work.notify_one();
        let in_time = queue.wait_settled(state, target, deadline);
        if !in_time {
            queue.lock().abandoned = true;
            queue.cancel.fire();
            queue.work.notify_one();
        }
        if thread.join().is_err() {
            eprintln!("tracing-bridge: the export thread panicked");
        }
        in_time
    }
}

impl<R: Send + 'static> Drop for BatchWorker<R> {
    fn drop(&mut self) {
        // Never leave the thread behind: a library must not be unloaded while it runs.
        self.shutdown(Instant::now());
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;

    use super::*;

    fn span(index: u64) -> SpanData {
        crate::layers::otel::test_support::span_data(index)
    }

    fn settings(queue: usize, batch: usize, delay_ms: u64) -> BatchSettings {
        BatchSettings {
            max_queue_size: queue,
            max_export_batch_size: batch,
            scheduled_delay: Duration::from_millis(delay_ms),
            export_timeout: Duration::from_secs(5),
        }
    }

    /// Records batch sizes; blocks each export until released when `gate` is set.
    struct Recorder {
        sizes: mpsc::Sender<usize>,
        gate: Option<Arc<(Mutex<bool>, Condvar)>>,
        /// The error every export fails with.
        fail: Option<&'static str>,
    }

    impl ExportBatch<SpanData> for Recorder {
        fn export(
            &mut self,
            batch: &mut Vec<SpanData>,
            _: Duration,
            cancel: &Cancel,
        ) -> Result<(), String> {
            if let Some(gate) = &self.gate {
                let (open, changed) = &**gate;
                let mut open = open.lock().unwrap();
                while !*open && !cancel.is_fired() {
                    open = changed
                        .wait_timeout(open, Duration::from_millis(5))
                        .unwrap()
                        .0;
                }
                if cancel.is_fired() {
                    return Err("cancelled".into());
                }
            }
            let _ = self.sizes.send(batch.len());
            match self.fail {
                Some(error) => Err(error.into()),
                None => Ok(()),
            }
        }
    }

    fn start(
        settings: BatchSettings,
        recorder: Recorder,
    ) -> (Arc<BatchQueue<SpanData>>, BatchWorker<SpanData>) {
        let queue = BatchQueue::new(settings);
        let worker =
            BatchWorker::start(Arc::clone(&queue), "test-export", Box::new(recorder)).unwrap();
        (queue, worker)
    }

    #[test]
    fn flush_exports_everything_queued_without_waiting_for_the_delay() {
        let (sizes, received) = mpsc::channel();
        let (queue, mut worker) = start(
            settings(100, 4, 60_000),
            Recorder {
                sizes,
                gate: None,
                fail: None,
            },
        );
        for index in 0..10 {
            queue.push(span(index));
        }
        let started = Instant::now();
        assert!(queue.flush(Instant::now() + Duration::from_secs(5)));
        assert!(started.elapsed() < Duration::from_secs(2));
        assert_eq!(queue.stats().exported, 10);
        assert_eq!(received.try_iter().sum::<usize>(), 10);
        assert!(worker.shutdown(Instant::now() + Duration::from_secs(1)));
    }

    #[test]
    fn a_full_queue_drops_and_counts() {
        let (sizes, _received) = mpsc::channel();
        let gate = Arc::new((Mutex::new(false), Condvar::new()));
        let (queue, mut worker) = start(
            settings(3, 1, 60_000),
            Recorder {
                sizes,
                gate: Some(Arc::clone(&gate)),
                fail: None,
            },
        );
        for index in 0..10 {
            queue.push(span(index));
        }
        // One span may be in flight; the queue holds 3; the rest are dropped.
        let dropped = queue.stats().queue_full;
        assert!((6..=7).contains(&dropped), "{dropped}");
        *gate.0.lock().unwrap() = true;
        gate.1.notify_all();
        assert!(worker.shutdown(Instant::now() + Duration::from_secs(5)));
        let stats = queue.stats();
        assert_eq!(stats.exported + stats.dropped, 10, "{stats:?}");
    }

    #[test]
    fn shutdown_at_the_deadline_cancels_drops_and_joins() {
        let (sizes, _received) = mpsc::channel();
        let gate = Arc::new((Mutex::new(false), Condvar::new()));
        let (queue, mut worker) = start(
            settings(100, 5, 0),
            Recorder {
                sizes,
                gate: Some(gate),
                fail: None,
            },
        );
        for index in 0..20 {
            queue.push(span(index));
        }
        let started = Instant::now();
        assert!(!worker.shutdown(Instant::now() + Duration::from_millis(200)));
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        let stats = queue.stats();
        assert_eq!(stats.dropped, 20, "{stats:?}");
        assert_eq!(stats.exported, 0);
        queue.push(span(99));
        assert_eq!(
            queue.stats().dropped,
            21,
            "spans after shutdown are counted"
        );
    }

    /// The stats after 6 spans whose exports all fail with `message`.
    fn stats_of_failing_exports(message: &'static str) -> BatchStats {
        let (sizes, _received) = mpsc::channel();
        let (queue, mut worker) = start(
            settings(100, 4, 60_000),
            Recorder {
                sizes,
                gate: None,
                fail: Some(message),
            },
        );
        for index in 0..6 {
            queue.push(span(index));
        }
        assert!(queue.flush(Instant::now() + Duration::from_secs(5)));
        let stats = queue.stats();
        assert!(worker.shutdown(Instant::now() + Duration::from_secs(1)));
        stats
    }

    #[test]
    fn failed_exports_count_as_dropped_with_the_first_error() {
        let stats = stats_of_failing_exports("receiver said no");
        assert_eq!(stats.dropped, 6);
        assert_eq!(stats.failed, 6);
        assert_eq!(stats.first_failure.as_deref(), Some("receiver said no"));
    }

    #[test]
    fn the_scheduled_delay_exports_a_partial_batch() {
        let (sizes, received) = mpsc::channel();
        let (queue, mut worker) = start(
            settings(100, 50, 20),
            Recorder {
                sizes,
                gate: None,
                fail: None,
            },
        );
        queue.push(span(1));
        assert_eq!(received.recv_timeout(Duration::from_secs(5)), Ok(1));
        assert!(worker.shutdown(Instant::now() + Duration::from_secs(1)));
    }

    #[test]
    fn an_export_without_an_answer_counts_as_not_confirmed() {
        let message = "no answer within 10 ms: not confirmed by the receiver";
        let stats = stats_of_failing_exports(message);
        assert_eq!((stats.dropped, stats.unconfirmed, stats.failed), (6, 6, 0));
        assert_eq!(stats.first_unconfirmed.as_deref(), Some(message));
        assert_eq!(stats.first_failure, None);
    }

    #[test]
    fn finish_counts_the_open_records_and_makes_the_counts_final() {
        let (sizes, _received) = mpsc::channel();
        let (queue, mut worker) = start(
            settings(100, 4, 60_000),
            Recorder {
                sizes,
                gate: None,
                fail: None,
            },
        );
        for index in 0..5 {
            queue.push(span(index));
        }
        assert!(worker.shutdown(Instant::now() + Duration::from_secs(5)));
        queue.push(span(50));
        let stats = queue.finish(3);
        assert!(stats.finished);
        assert_eq!(
            (stats.exported, stats.late, stats.open, stats.dropped),
            (5, 1, 3, 4)
        );
        // What still ends now was counted as open: nothing changes any more.
        queue.push(span(51));
        assert_eq!(queue.dropped(), 4);
        assert_eq!(queue.finish(7), stats);
        assert_eq!(queue.stats(), stats);
    }

    #[test]
    fn the_processor_ignores_spans_that_end_outside_the_layer() {
        let queue = BatchQueue::new(settings(100, 4, 60_000));
        let processor = SpanBatchProcessor::new(Arc::clone(&queue), true);
        processor.on_end(span(1));
        let stats = queue.stats();
        assert_eq!((stats.dropped, stats.exported), (0, 0));
        assert_eq!(queue.lock().queued, 0, "not queued either");
    }
}
