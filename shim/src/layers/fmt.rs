//! The fmt layer: `tracing_subscriber::fmt` writing to stdout, stderr or a file.

use std::{
    fs::File,
    io::{self, IsTerminal, Write},
    sync::Arc,
};

use tracing_subscriber::fmt::{
    self as tfmt,
    format::{Format, FormatEvent, FormatFields},
    writer::BoxMakeWriter,
    FmtContext,
};

use super::{BaseSubscriber, BoxedLayer, BuiltLayer, LayerLifecycle};
use crate::{
    config::{FmtFormat, FmtLayerConfig, SpanEventKind, WriterConfig},
    error::{Error, ErrorKind},
};

/// Builds a fmt layer from its config; `field` names the layer in error messages.
pub(crate) fn build(config: &FmtLayerConfig, field: &str) -> Result<BuiltLayer, Error> {
    let (writer, lifecycle, is_terminal): (BoxMakeWriter, Arc<dyn LayerLifecycle>, bool) =
        match &config.writer {
            WriterConfig::Stdout => (
                BoxMakeWriter::new(io::stdout),
                Arc::new(StdoutLifecycle),
                io::stdout().is_terminal(),
            ),
            WriterConfig::Stderr => (
                BoxMakeWriter::new(io::stderr),
                Arc::new(NothingToFlush),
                io::stderr().is_terminal(),
            ),
            WriterConfig::File(path) => {
                let file = Arc::new(super::open_for_append(
                    path,
                    &format!("{field}.writer.file"),
                )?);
                (
                    BoxMakeWriter::new(Arc::clone(&file)),
                    Arc::new(FileLifecycle(file)),
                    false,
                )
            }
        };
    let ansi = config
        .ansi
        .unwrap_or_else(|| is_terminal && std::env::var_os("NO_COLOR").is_none());
    let base = tfmt::layer::<BaseSubscriber>()
        .with_writer(writer)
        .with_ansi(ansi)
        .with_span_events(span_events(&config.span_events));
    let layer = match config.format {
        FmtFormat::Full => finish(base, config),
        FmtFormat::Compact => finish(base.compact(), config),
        FmtFormat::Pretty => finish(base.pretty(), config),
        FmtFormat::Json => finish(base.json(), config),
    };
    Ok(BuiltLayer {
        layer,
        lifecycle,
        js_sink: None,
    })
}

/// Applies the display toggles that every format shares.
fn finish<N, L, T>(
    layer: tfmt::Layer<BaseSubscriber, N, Format<L, T>, BoxMakeWriter>,
    config: &FmtLayerConfig,
) -> BoxedLayer
where
    N: for<'writer> FormatFields<'writer> + Send + Sync + 'static,
    L: Send + Sync + 'static,
    T: tfmt::time::FormatTime + Send + Sync + 'static,
    Format<L, T>: FormatEvent<BaseSubscriber, N>,
    for<'a> FmtContext<'a, BaseSubscriber, N>: Sized,
{
    Box::new(
        layer
            .with_target(config.target)
            .with_level(config.level)
            .with_thread_ids(config.thread_ids)
            .with_thread_names(config.thread_names)
            .with_file(config.file)
            .with_line_number(config.line),
    )
}

fn span_events(kinds: &[SpanEventKind]) -> tfmt::format::FmtSpan {
    use tfmt::format::FmtSpan;
    kinds.iter().fold(FmtSpan::NONE, |events, kind| {
        events
            | match kind {
                SpanEventKind::New => FmtSpan::NEW,
                SpanEventKind::Enter => FmtSpan::ENTER,
                SpanEventKind::Exit => FmtSpan::EXIT,
                SpanEventKind::Close => FmtSpan::CLOSE,
            }
    })
}

struct StdoutLifecycle;

impl LayerLifecycle for StdoutLifecycle {
    fn flush(&self) -> Result<(), Error> {
        io::stdout()
            .flush()
            .map_err(|error| Error::new(ErrorKind::FileNotWritable, format!("stdout: {error}")))
    }
}

struct NothingToFlush;

impl LayerLifecycle for NothingToFlush {
    fn flush(&self) -> Result<(), Error> {
        Ok(())
    }
}

/// Lines are written to the file with one `write` each, unbuffered, so flushing only needs
/// the data to reach the kernel, which it already has.
struct FileLifecycle(Arc<File>);

impl LayerLifecycle for FileLifecycle {
    fn flush(&self) -> Result<(), Error> {
        (&*self.0)
            .flush()
            .map_err(|error| Error::new(ErrorKind::FileNotWritable, error.to_string()))
    }
}
