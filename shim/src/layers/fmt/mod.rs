//! The fmt layer: `tracing_subscriber::fmt`'s lines written to stdout, stderr, a file or
//! rolling files. The default line (the `full` format without colours) is written by a layer of
//! our own, with the same bytes at a fraction of the cost (`full.rs`); the other formats and
//! options by `tracing_subscriber::fmt`.
//!
//! Files are written the way `tracing-appender` writes them: by a worker thread behind a
//! bounded queue (`writer.rs`), so that a traced thread only formats its line and queues it;
//! rolling files start a new file every minute, hour or day (`rolling.rs`). Stdout and stderr
//! are written on the calling thread unless `nonBlocking` asks for the worker.

use std::{
    io::{self, IsTerminal, Write},
    path::PathBuf,
    sync::{Arc, Mutex},
    thread::JoinHandle,
};

use tracing_subscriber::fmt::{
    self as tfmt,
    format::{Format, FormatEvent, FormatFields, Json, JsonFields},
    writer::{BoxMakeWriter, MakeWriter},
    FmtContext,
};

use serde::Deserialize;

use super::{BuiltLayer, LayerLifecycle};
use crate::{
    dispatch::{BaseSubscriber, BoxedLayer},
    error::{Error, ErrorKind},
    options::Count,
    util::open_for_append,
};

mod full;
mod rolling;
mod time;
mod writer;

pub use rolling::{RollingConfig, Rotation};
pub use time::FmtTimer;
use writer::{Direct, Failures, Queue, Sink};

/// Lines a non-blocking writer queues at most by default, as `tracing-appender`'s
/// `DEFAULT_BUFFERED_LINES_LIMIT`.
pub(crate) const DEFAULT_BUFFERED_LINES: usize = 128_000;

/// Options of the fmt layer. Every field has a default.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FmtLayerConfig {
    /// Where lines go.
    #[serde(default)]
    pub writer: FmtWriterConfig,
    /// Whether a worker thread writes the lines (the calling thread only queues them). Default:
    /// on for files, off for stdout and stderr.
    #[serde(default)]
    pub non_blocking: Option<bool>,
    /// With a non-blocking writer, drop (and count) lines when the queue is full instead of
    /// waiting for room. Default `false`: nothing is lost.
    #[serde(default)]
    pub lossy: Option<bool>,
    /// With a non-blocking writer, how many lines the queue holds. Default 128 000.
    #[serde(default)]
    pub buffered_lines: Option<Count>,
    /// How lines are stamped. Default `utc`.
    #[serde(default)]
    pub timer: FmtTimer,
    /// The line format.
    #[serde(default)]
    pub format: FmtFormat,
    /// ANSI colours; by default on only when the writer is a terminal and `NO_COLOR` is unset.
    #[serde(default)]
    pub ansi: Option<bool>,
    /// Show the event's target.
    #[serde(default = "crate::options::yes")]
    pub target: bool,
    /// Show the event's level.
    #[serde(default = "crate::options::yes")]
    pub level: bool,
    /// Show the thread id.
    #[serde(default)]
    pub thread_ids: bool,
    /// Show the thread name.
    #[serde(default)]
    pub thread_names: bool,
    /// Show the source file.
    #[serde(default)]
    pub file: bool,
    /// Show the source line.
    #[serde(default)]
    pub line: bool,
    /// Which span lifecycle moments are printed as lines of their own.
    #[serde(default)]
    pub span_events: Vec<SpanEventKind>,
    /// JSON only: put the event's fields at the top level of the object instead of under
    /// `fields`. Default `false`.
    #[serde(default)]
    pub flatten_event: Option<bool>,
    /// JSON only: include the current span as `span`. Default `true`.
    #[serde(default)]
    pub current_span: Option<bool>,
    /// JSON only: include the list of entered spans, root first, as `spans`. Default `true`.
    #[serde(default)]
    pub span_list: Option<bool>,
    /// This layer's own filter directives.
    #[serde(default)]
    pub filter: Option<String>,
}

/// Where the fmt layer writes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub enum FmtWriterConfig {
    /// The process's standard output.
    #[default]
    Stdout,
    /// The process's standard error.
    Stderr,
    /// A file, opened for appending and created if missing; its directory must exist.
    File(#[serde(deserialize_with = "crate::options::non_empty_path")] PathBuf),
    /// A file per minute, hour or day, as `tracing_appender::rolling`.
    Rolling(RollingConfig),
}

/// `tracing_subscriber::fmt` line formats.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FmtFormat {
    /// One line per event with the span context.
    #[default]
    Full,
    /// Shorter lines.
    Compact,
    /// Multi-line, for reading by eye.
    Pretty,
    /// One JSON object per line.
    Json,
}

/// Span lifecycle moments that the fmt layer can print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum SpanEventKind {
    /// The span was created.
    New,
    /// The span was entered.
    Enter,
    /// The span was exited.
    Exit,
    /// The span was closed (with its busy and idle times).
    Close,
}

/// Builds a fmt layer from its config; `field` names the layer in error messages.
pub(crate) fn build(config: &FmtLayerConfig, field: &str) -> Result<BuiltLayer, Error> {
    check(config, field)?;
    let writer_field = format!("{field}.writer");
    let (sink, name, is_terminal) = match &config.writer {
        FmtWriterConfig::Stdout => (
            Sink::Stdout,
            "stdout".to_owned(),
            io::stdout().is_terminal(),
        ),
        FmtWriterConfig::Stderr => (
            Sink::Stderr,
            "stderr".to_owned(),
            io::stderr().is_terminal(),
        ),
        FmtWriterConfig::File(path) => {
            let file = open_for_append(path, &format!("{writer_field}.file"))?;
            (Sink::File(file), format!("`{}`", path.display()), false)
        }
        FmtWriterConfig::Rolling(rolling) => {
            let rolling = rolling::RollingFile::open(rolling, &writer_field)?;
            let name = rolling.describe();
            (Sink::Rolling(Box::new(rolling)), name, false)
        }
    };
    let failures = Failures::new(format!("fmt layer {field}: {name}"));
    let (output, lifecycle): (Output, Arc<dyn LayerLifecycle>) = if non_blocking(config) {
        let capacity = config
            .buffered_lines
            .map_or(DEFAULT_BUFFERED_LINES, |Count(lines)| lines);
        let (queue, worker) = Queue::start(sink, capacity, config.lossy == Some(true), failures)
            .map_err(|error| {
                Error::new(
                    ErrorKind::FileNotWritable,
                    format!("{writer_field}: cannot start the writer thread: {error}"),
                )
            })?;
        let lifecycle = Arc::new(QueueLifecycle {
            queue: Arc::clone(&queue),
            worker: Mutex::new(Some(worker)),
        });
        (Output::Queued(queue), lifecycle)
    } else {
        let direct = Arc::new(Direct::new(sink, failures));
        let lifecycle = Arc::new(DirectLifecycle(Arc::clone(&direct)));
        (Output::Direct(direct), lifecycle)
    };
    let ansi = config
        .ansi
        .unwrap_or_else(|| is_terminal && std::env::var_os("NO_COLOR").is_none());
    if config.format == FmtFormat::Full
        && !ansi
        && !(config.thread_ids || config.thread_names || config.file || config.line)
        && config.span_events.is_empty()
    {
        let timer = (config.timer != FmtTimer::None).then(|| time::Timer::new(config.timer));
        let layer = full::FullLayer::new(timer, config.level, config.target, output);
        return Ok(BuiltLayer::new(Box::new(layer), lifecycle).with_enter_exit(false));
    }
    let writer = BoxMakeWriter::new(MakeOutput(output));
    let base = tfmt::layer::<BaseSubscriber>()
        .with_writer(writer)
        .with_ansi(ansi)
        .with_span_events(span_events(&config.span_events));
    let base = if config.timer == FmtTimer::None {
        base.without_time()
            .with_timer(time::Timer::new(config.timer))
    } else {
        base.with_timer(time::Timer::new(config.timer))
    };
    let layer = match config.format {
        FmtFormat::Full => finish(base, config),
        FmtFormat::Compact => finish(base.compact(), config),
        FmtFormat::Pretty => finish(base.pretty(), config),
        FmtFormat::Json => finish_json(base.json(), config),
    };
    // tracing-subscriber's fmt layer acts on enter and exit only for span events (`enter`,
    // `exit`, and `close` with its busy and idle times).
    Ok(BuiltLayer::new(layer, lifecycle).with_enter_exit(!config.span_events.is_empty()))
}

/// Whether the lines go through the worker thread.
fn non_blocking(config: &FmtLayerConfig) -> bool {
    config.non_blocking.unwrap_or(matches!(
        config.writer,
        FmtWriterConfig::File(_) | FmtWriterConfig::Rolling(_)
    ))
}

/// Rejects options that would do nothing with the rest of the config: nothing is ignored in
/// silence.
fn check(config: &FmtLayerConfig, field: &str) -> Result<(), Error> {
    if config.format != FmtFormat::Json {
        for (name, given) in [
            ("flattenEvent", config.flatten_event),
            ("currentSpan", config.current_span),
            ("spanList", config.span_list),
        ] {
            if given.is_some() {
                return Err(Error::invalid_config(format!(
                    "{field}.{name}: applies to the json format only, and format is \"{}\"; set \
                     format: \"json\" or leave {name} out",
                    format_name(config.format)
                )));
            }
        }
    }
    if !non_blocking(config) {
        for (name, given) in [
            ("lossy", config.lossy.is_some()),
            ("bufferedLines", config.buffered_lines.is_some()),
        ] {
            if given {
                return Err(Error::invalid_config(format!(
                    "{field}.{name}: applies to a non-blocking writer, and this one writes on \
                     the calling thread; set nonBlocking: true or leave {name} out"
                )));
            }
        }
    }
    Ok(())
}

fn format_name(format: FmtFormat) -> &'static str {
    match format {
        FmtFormat::Full => "full",
        FmtFormat::Compact => "compact",
        FmtFormat::Pretty => "pretty",
        FmtFormat::Json => "json",
    }
}

/// The json format's own options, then the shared toggles.
fn finish_json(
    layer: tfmt::Layer<BaseSubscriber, JsonFields, Format<Json, time::Timer>, BoxMakeWriter>,
    config: &FmtLayerConfig,
) -> BoxedLayer {
    let layer = toggles(
        layer
            .flatten_event(config.flatten_event.unwrap_or(false))
            .with_current_span(config.current_span.unwrap_or(true))
            .with_span_list(config.span_list.unwrap_or(true)),
        config,
    );
    Box::new(layer.map_event_format(JsonWithoutLogFields))
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
    Box::new(toggles(layer, config))
}

/// The display toggles that every format shares.
fn toggles<N, L, T>(
    layer: tfmt::Layer<BaseSubscriber, N, Format<L, T>, BoxMakeWriter>,
    config: &FmtLayerConfig,
) -> tfmt::Layer<BaseSubscriber, N, Format<L, T>, BoxMakeWriter>
where
    N: for<'writer> FormatFields<'writer> + Send + Sync + 'static,
    L: Send + Sync + 'static,
    T: tfmt::time::FormatTime + Send + Sync + 'static,
    Format<L, T>: FormatEvent<BaseSubscriber, N>,
    for<'a> FmtContext<'a, BaseSubscriber, N>: Sized,
{
    layer
        .with_target(config.target)
        .with_level(config.level)
        .with_thread_ids(config.thread_ids)
        .with_thread_names(config.thread_names)
        .with_file(config.file)
        .with_line_number(config.line)
}

/// The JSON format without the `log.*` fields of records logged through `log`
/// (`crate::log_bridge`). `tracing-subscriber` shows such a record's own target and location
/// in every format, and leaves the `log.*` fields out of the text formats, but its JSON format
/// writes them into `fields` (it leaves out only those recorded through `Debug`, and `log.file`,
/// `log.line`, … are strings and numbers). Other events are written as they are.
struct JsonWithoutLogFields<F>(F);

impl<S, N, F> FormatEvent<S, N> for JsonWithoutLogFields<F>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    N: for<'writer> FormatFields<'writer> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: tfmt::format::Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> std::fmt::Result {
        if !crate::log_bridge::is_log(event) {
            return self.0.format_event(ctx, writer, event);
        }
        let mut line = String::new();
        self.0
            .format_event(ctx, tfmt::format::Writer::new(&mut line), event)?;
        writer.write_str(&without_log_fields(line))
    }
}

/// `line`, a JSON object with a `fields` object, without the `log.*` entries of `fields`.
/// The entries before `fields` are the timestamp and the level, so the first `"fields":{` is
/// the key; anything unexpected leaves the line as it is.
fn without_log_fields(line: String) -> String {
    const KEY: &str = "\"fields\":";
    let Some(start) = line.find(KEY).map(|at| at + KEY.len()) else {
        return line;
    };
    let mut values = serde_json::Deserializer::from_str(&line[start..])
        .into_iter::<serde_json::Map<String, serde_json::Value>>();
    let Some(Ok(mut fields)) = values.next() else {
        return line;
    };
    let end = start + values.byte_offset();
    fields.retain(|name, _| !name.starts_with("log."));
    let Ok(fields) = serde_json::to_string(&fields) else {
        return line;
    };
    format!("{}{fields}{}", &line[..start], &line[end..])
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

/// The writer side of the layer.
enum Output {
    Direct(Arc<Direct>),
    Queued(Arc<Queue>),
}

impl Output {
    /// Writes or queues one event's text (a failed write is counted and reported).
    fn write(&self, bytes: &[u8]) -> io::Result<()> {
        match self {
            Output::Direct(direct) => direct.write_event(bytes),
            Output::Queued(queue) => {
                queue.push(bytes);
                Ok(())
            }
        }
    }
}

/// Hands `tracing-subscriber` a writer per event.
struct MakeOutput(Output);

impl<'a> MakeWriter<'a> for MakeOutput {
    type Writer = EventWriter<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        EventWriter(&self.0)
    }
}

/// `tracing-subscriber` formats an event into a buffer, then calls `write_all` once with it.
struct EventWriter<'a>(&'a Output);

impl Write for EventWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_all(buf).map(|()| buf.len())
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.0.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Flushes stdout (which buffers), then reports the events lost since the last flush.
struct DirectLifecycle(Arc<Direct>);

impl LayerLifecycle for DirectLifecycle {
    fn flush(&self) -> Result<(), Error> {
        if let Err(error) = io::stdout().flush() {
            eprintln!(
                "tracing-bridge: {}: cannot flush stdout: {error}",
                self.0.failures.name
            );
        }
        self.0.failures.take()
    }
}

/// Waits for the worker to write what was queued; at shutdown, stops it and reports the
/// lines dropped.
struct QueueLifecycle {
    queue: Arc<Queue>,
    worker: Mutex<Option<JoinHandle<()>>>,
}

impl LayerLifecycle for QueueLifecycle {
    fn flush(&self) -> Result<(), Error> {
        self.queue.flush(false)?;
        self.queue.failures.take()
    }

    fn shutdown(&self) -> Result<(), Error> {
        let Some(worker) = self
            .worker
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take()
        else {
            return Ok(());
        };
        // Bounded: a worker stuck in a write is left behind rather than waited for.
        let written = self.queue.flush(true);
        if written.is_ok() {
            let _ = worker.join();
        }
        if let Some(report) = self.queue.drop_report() {
            eprintln!("{report}");
        }
        written?;
        self.queue.failures.take()
    }

    fn dropped(&self) -> u64 {
        self.queue.dropped()
    }
}

impl Drop for QueueLifecycle {
    fn drop(&mut self) {
        if let Err(error) = self.shutdown() {
            eprintln!("tracing-bridge: while closing an fmt layer: {error}");
        }
    }
}
