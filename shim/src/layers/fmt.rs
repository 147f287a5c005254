//! The fmt layer: `tracing_subscriber::fmt` writing to stdout, stderr or a file.

use std::{
    fs::File,
    io::{self, IsTerminal, Write},
    sync::{Arc, Mutex},
};

use tracing_subscriber::fmt::{
    self as tfmt,
    format::{Format, FormatEvent, FormatFields, Writer},
    writer::{BoxMakeWriter, MakeWriter},
    FmtContext,
};

use serde::Deserialize;

use super::{BuiltLayer, LayerLifecycle};
use crate::{
    dispatch::{BaseSubscriber, BoxedLayer},
    error::{Error, ErrorKind},
    options::WriterConfig,
    util::open_for_append,
};

/// Options of the fmt layer. Every field has a default.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FmtLayerConfig {
    /// Where lines go.
    #[serde(default)]
    pub writer: WriterConfig,
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
    /// This layer's own filter directives.
    #[serde(default)]
    pub filter: Option<String>,
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
    let (destination, name, is_terminal) = match &config.writer {
        WriterConfig::Stdout => (
            Destination::Stdout,
            "stdout".to_owned(),
            io::stdout().is_terminal(),
        ),
        WriterConfig::Stderr => (
            Destination::Stderr,
            "stderr".to_owned(),
            io::stderr().is_terminal(),
        ),
        WriterConfig::File(path) => {
            let file = open_for_append(path, &format!("{field}.writer.file"))?;
            (
                Destination::File(file),
                format!("`{}`", path.display()),
                false,
            )
        }
    };
    let output = Arc::new(Output {
        destination,
        name: format!("fmt layer {field}: {name}"),
        failures: Mutex::new(Failures::default()),
    });
    let writer = BoxMakeWriter::new(MakeOutput(Arc::clone(&output)));
    let lifecycle: Arc<dyn LayerLifecycle> = Arc::new(OutputLifecycle(output));
    let ansi = config
        .ansi
        .unwrap_or_else(|| is_terminal && std::env::var_os("NO_COLOR").is_none());
    let base = tfmt::layer::<BaseSubscriber>()
        .with_writer(writer)
        .with_ansi(ansi)
        .with_span_events(span_events(&config.span_events));
    let layer: BoxedLayer = match config.format {
        FmtFormat::Full => Box::new(toggles(base, config)),
        FmtFormat::Compact => Box::new(toggles(base.compact(), config)),
        FmtFormat::Pretty => Box::new(toggles(base.pretty(), config)),
        FmtFormat::Json => {
            Box::new(toggles(base.json(), config).map_event_format(JsonWithoutLogFields))
        }
    };
    Ok(BuiltLayer {
        layer,
        lifecycle,
        extension: None,
    })
}

/// Applies the display toggles that every format shares.
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
        mut writer: Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> std::fmt::Result {
        if !crate::log_bridge::is_log(event) {
            return self.0.format_event(ctx, writer, event);
        }
        let mut line = String::new();
        self.0.format_event(ctx, Writer::new(&mut line), event)?;
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

/// Where the lines go, with what went wrong writing them.
///
/// `tracing-subscriber` ignores write errors (or prints one line per failed event), so a full
/// disk would lose every line in silence. Here the first failure is reported on stderr, naming
/// the output, and every failed event is counted; `flush` then fails with the count and the
/// first error (as the timeline's does), once per batch of failures.
struct Output {
    destination: Destination,
    /// The layer and its output, for messages: ``fmt layer layers[0]: `app.log` ``, or ending
    /// in `stdout` or `stderr`.
    name: String,
    failures: Mutex<Failures>,
}

enum Destination {
    Stdout,
    Stderr,
    /// Opened for appending: each event is one `write` of its whole text, so lines of several
    /// threads or processes never interleave.
    File(File),
}

#[derive(Default)]
struct Failures {
    /// Whether the stderr warning was given (once per layer).
    warned: bool,
    /// Events lost since `flush` last reported, and the first error among them.
    lost: u64,
    first_error: Option<String>,
}

impl Output {
    fn write_event(&self, text: &[u8]) -> io::Result<()> {
        let result = match &self.destination {
            Destination::Stdout => io::stdout().lock().write_all(text),
            Destination::Stderr => io::stderr().lock().write_all(text),
            Destination::File(file) => (&*file).write_all(text),
        };
        if let Err(error) = &result {
            self.failed(error);
        }
        result
    }

    fn failed(&self, error: &io::Error) {
        let mut failures = self
            .failures
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        failures.lost += 1;
        failures
            .first_error
            .get_or_insert_with(|| error.to_string());
        if !std::mem::replace(&mut failures.warned, true) {
            drop(failures);
            eprintln!(
                "tracing-bridge: {}: cannot write: {error}; events that cannot be written are \
                 counted, and flush reports them",
                self.name
            );
        }
    }

    /// Takes the failures since the last report, as an error naming the output.
    fn take_failures(&self) -> Result<(), Error> {
        let mut failures = self
            .failures
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if failures.lost == 0 {
            return Ok(());
        }
        let lost = std::mem::take(&mut failures.lost);
        let error = failures.first_error.take().unwrap_or_default();
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

/// Hands `tracing-subscriber` a writer per event.
struct MakeOutput(Arc<Output>);

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
        self.0.write_event(buf).map(|()| buf.len())
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.0.write_event(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Flushes stdout (which buffers), then reports the events lost since the last flush.
struct OutputLifecycle(Arc<Output>);

impl LayerLifecycle for OutputLifecycle {
    fn flush(&self) -> Result<(), Error> {
        if let Destination::Stdout = self.0.destination {
            if let Err(error) = io::stdout().flush() {
                self.0.failed(&error);
            }
        }
        self.0.take_failures()
    }
}
