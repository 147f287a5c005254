//! The flame layer itself (the cargo feature `flame`).

use std::{
    cell::Cell,
    fs::File,
    io::{self, BufWriter, Write},
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc, Mutex,
    },
};

use tracing::span::Id;
use tracing_flame::{FlameLayer, FlushGuard};
use tracing_subscriber::{layer::Context, Layer};

use super::FlameLayerConfig;
use crate::layers::{BuiltLayer, LayerLifecycle};
use crate::{
    dispatch::BaseSubscriber,
    error::{Error, ErrorKind},
    util::create_truncated,
};

/// `tracing-flame` measures time per thread in process-wide thread-locals, so two flame layers
/// recording at once would split each other's samples. This admits one at a time.
static FLAME_LAYER_LIVE: AtomicBool = AtomicBool::new(false);

/// Builds a flame layer; `field` names the layer in error messages.
pub(crate) fn build(config: &FlameLayerConfig, field: &str) -> Result<BuiltLayer, Error> {
    if FLAME_LAYER_LIVE.swap(true, Ordering::AcqRel) {
        return Err(Error::new(
            ErrorKind::InvalidConfig,
            format!(
                "{field}: another flame layer is recording in this library; only one can record \
                 at a time (tracing-flame keeps its timing per thread); dispose the other first"
            ),
        ));
    }
    let file = match create_truncated(&config.path, &format!("{field}.path")) {
        Ok(file) => file,
        Err(error) => {
            FLAME_LAYER_LIVE.store(false, Ordering::Release);
            return Err(error);
        }
    };
    let layer = FlameLayer::<BaseSubscriber, _>::new(FoldedWriter(BufWriter::new(file)))
        .with_empty_samples(config.empty_samples)
        .with_threads_collapsed(config.threads_collapsed)
        .with_module_path(config.module_path)
        .with_file_and_line(config.file_and_line);
    let guard = layer.flush_on_drop();
    Ok(BuiltLayer {
        layer: Box::new(FreshThreadLayer {
            inner: layer,
            instance: NEXT_INSTANCE.fetch_add(1, Ordering::Relaxed),
        }),
        lifecycle: Arc::new(FlameLifecycle {
            guard: Mutex::new(Some(guard)),
            output: format!("flame layer {field}: `{}`", config.path.display()),
        }),
        extension: None,
    })
}

static NEXT_INSTANCE: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// The flame layer instance that last recorded on this thread.
    static LAST_INSTANCE: Cell<u64> = const { Cell::new(0) };
    /// Set while a thread's first sample for an instance is being written, to drop it.
    static DROPPING_SAMPLE: Cell<bool> = const { Cell::new(false) };
}

/// Forwards to `tracing-flame`, dropping each thread's first sample (see the module docs).
struct FreshThreadLayer {
    inner: FlameLayer<BaseSubscriber, FoldedWriter>,
    instance: u64,
}

impl FreshThreadLayer {
    fn forward(&self, record: impl FnOnce()) {
        let fresh = LAST_INSTANCE
            .try_with(|last| last.replace(self.instance) != self.instance)
            .unwrap_or(false);
        if fresh {
            let _ = DROPPING_SAMPLE.try_with(|dropping| dropping.set(true));
            record();
            let _ = DROPPING_SAMPLE.try_with(|dropping| dropping.set(false));
        } else {
            record();
        }
    }
}

impl Layer<BaseSubscriber> for FreshThreadLayer {
    fn on_enter(&self, id: &Id, ctx: Context<'_, BaseSubscriber>) {
        self.forward(|| self.inner.on_enter(id, ctx));
    }

    fn on_exit(&self, id: &Id, ctx: Context<'_, BaseSubscriber>) {
        self.forward(|| self.inner.on_exit(id, ctx));
    }
}

/// The folded-stacks file; writes nothing while the current thread drops a sample.
struct FoldedWriter(BufWriter<File>);

impl Write for FoldedWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if DROPPING_SAMPLE.try_with(Cell::get).unwrap_or(false) {
            return Ok(buf.len());
        }
        self.0.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// Holds the guard that flushes the folded-stacks file; releases the one-at-a-time admission
/// when the layer is shut down or dropped.
struct FlameLifecycle {
    guard: Mutex<Option<FlushGuard<FoldedWriter>>>,
    /// The layer and its file, for error messages: ``flame layer layers[1]: `app.folded` ``.
    output: String,
}

impl FlameLifecycle {
    fn guard(&self) -> std::sync::MutexGuard<'_, Option<FlushGuard<FoldedWriter>>> {
        self.guard
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl LayerLifecycle for FlameLifecycle {
    fn flush(&self) -> Result<(), Error> {
        match &*self.guard() {
            Some(guard) => guard.flush().map_err(|error| {
                // tracing-flame's error says "cannot flush output buffer"; the I/O error is
                // its source.
                let cause = std::error::Error::source(&error)
                    .map_or_else(|| error.to_string(), ToString::to_string);
                Error::new(
                    ErrorKind::FileNotWritable,
                    format!("{}: cannot write the folded stacks: {cause}", self.output),
                )
            }),
            None => Ok(()),
        }
    }

    fn shutdown(&self) -> Result<(), Error> {
        let result = self.flush();
        if self.guard().take().is_some() {
            FLAME_LAYER_LIVE.store(false, Ordering::Release);
        }
        result
    }
}

impl Drop for FlameLifecycle {
    fn drop(&mut self) {
        if self.guard().take().is_some() {
            FLAME_LAYER_LIVE.store(false, Ordering::Release);
        }
    }
}
