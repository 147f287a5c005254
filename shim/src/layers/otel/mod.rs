//! The OpenTelemetry layers: `tracing-opentelemetry` turns spans into OpenTelemetry spans (their
//! fields as attributes, events as span events with `level` and `target`, parents across
//! threads; adjusted by [`layer`]: unsigned integer fields as integers, JavaScript spans ending
//! when they end), the finished spans get what the SDK does not give them ([`finish`]: thread
//! names, attribute value length limits), and a batch processor of ours hands them to an
//! exporter:
//! - `otlp`: OTLP over gRPC, HTTP/protobuf or HTTP/JSON ([`otlp`]), or, as
//!   `OTEL_TRACES_EXPORTER` may ask ([`switches`]), OTLP JSON lines on stdout or nothing;
//! - `otlpJson`: OTLP JSON lines to stdout, stderr or a file ([`otlp_json`]).
//!
//! Metrics made from event fields (`monotonic_counter.*`, `counter.*`, `histogram.*`) are a
//! layer of their own ([`metrics`]), over the same exporters.
//!
//! `OTEL_SDK_DISABLED=true` makes both no-ops: layers that record nothing and start no thread.
//!
//! Flush and shutdown wait for the exporter's answer up to `flushTimeoutMs`. Spans that were
//! dropped (known not delivered) or not confirmed by the receiver (sent, no answer) are counted
//! ([`LayerLifecycle::dropped`]) and reported once, to stderr, when the layer shuts down, after
//! the counts are final: the report and `droppedSpans` say the same from then on.
//!
//! ```
//! let mut session = tracing_bridge::Session::from_json(
//!     r#"{"layers":[{"kind":"otlpJson","writer":"stderr","batch":{"scheduledDelayMs":0}}]}"#,
//! )?;
//! session.install_current_thread()?;
//! tracing::info_span!("work", items = 3).in_scope(|| tracing::info!("done"));
//! session.uninstall()?; // exports the span, then joins the export thread
//! # Ok::<(), tracing_bridge::Error>(())
//! ```

mod batch;
pub(crate) mod config;
mod detect;
mod env;
pub(crate) mod finish;
mod integers;
mod layer;
pub(crate) mod light;
mod logs;
mod logs_encode;
mod metrics;
pub(crate) mod open_spans;
mod otlp;
mod otlp_json;
mod otlp_proto;
mod records;
mod retry;
mod reuse;
mod sdk;
mod status;
mod switches;
#[cfg(test)]
mod test_support;
mod tls;
mod transport;

use std::{
    cell::RefCell,
    sync::{Arc, Mutex},
    thread,
    time::{Duration, Instant},
};

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanProcessor};
use tokio::runtime::Runtime;
use tracing::dispatcher::DefaultGuard;
use tracing_subscriber::Layer;

use self::{
    batch::{BatchQueue, BatchStats, BatchWorker, ExportBatch, SpanBatchProcessor, NOT_CONFIRMED},
    config::{OtelExporter, OtlpJsonLayerConfig, OtlpLayerConfig, SdkOptions},
    env::{process_env, Signal},
    finish::FinishingProcessor,
    layer::OtelLayer,
    light::{LightSettings, LightTable, PresetIds, PresetSampler, PresetTracer, SharedProcessor},
    logs::{LogRecord, LogsLayer},
    open_spans::{OpenSpans, SpanCounts},
    sdk::SdkSettings,
};
use super::{BuiltLayer, LayerLifecycle};
use crate::{
    config::RuntimeConfig,
    dispatch::{dispatching_now, BaseSubscriber},
    error::Error,
    options::WriterConfig,
};

/// Builds an `otlp` layer; `runtime` is the config document's. Each signal it sends (see
/// [`switches::signal_exporter`]) is a layer of its own; the layer built is all of them, spans
/// first (log records take their trace and span ids from the spans' OpenTelemetry data).
pub(crate) fn build_otlp(
    config: &OtlpLayerConfig,
    field: &str,
    runtime: Option<&RuntimeConfig>,
) -> Result<BuiltLayer, Error> {
    if switches::sdk_disabled(&process_env, field) {
        return Ok(inert_layer());
    }
    let traces = switches::signal_exporter(config, Signal::Traces, field, &process_env)?;
    let logs = switches::signal_exporter(config, Signal::Logs, field, &process_env)?;
    let metrics = switches::signal_exporter(config, Signal::Metrics, field, &process_env)?;
    // Without logs, events are span events; with them, only if `spanEvents` asks.
    let span_events = logs == OtelExporter::None || config.span_events.unwrap_or(false);
    let mut parts = Vec::new();
    for (signal, exporter) in [
        (Signal::Traces, traces),
        (Signal::Logs, logs),
        (Signal::Metrics, metrics),
    ] {
        let output = match exporter {
            OtelExporter::None => continue,
            OtelExporter::Console => Output::Json(&WriterConfig::Stdout),
            OtelExporter::Otlp => Output::Otlp(Box::new(transport::otlp_settings(
                config,
                signal,
                field,
                &process_env,
            )?)),
        };
        let sdk = sdk::sdk_settings(config.sdk(), field, &process_env, runtime)?;
        // Traces keep the description they had before other signals: `(otlp, grpc to …)`.
        let name = match signal {
            Signal::Traces => String::new(),
            other => format!("{} ", other.name()),
        };
        let description = match &output {
            Output::Json(_) => {
                format!("{field} (otlp, {name}console exporter: OTLP JSON to stdout)")
            }
            Output::Otlp(transport) => format!(
                "{field} (otlp, {name}{} to {})",
                transport.protocol.name(),
                transport.endpoint
            ),
        };
        parts.push(build_signal(
            signal,
            config.sdk(),
            sdk,
            output,
            description,
            span_events,
            field,
        )?);
    }
    Ok(combine(parts))
}

/// Builds an `otlpJson` layer; `runtime` is the config document's.
pub(crate) fn build_otlp_json(
    config: &OtlpJsonLayerConfig,
    field: &str,
    runtime: Option<&RuntimeConfig>,
) -> Result<BuiltLayer, Error> {
    if switches::sdk_disabled(&process_env, field) {
        return Ok(inert_layer());
    }
    let [traces, logs, metrics] = switches::json_signals(config, field)?;
    let destination = match &config.writer {
        WriterConfig::Stdout => "stdout".to_owned(),
        WriterConfig::Stderr => "stderr".to_owned(),
        WriterConfig::File(path) => path.display().to_string(),
    };
    let span_events = !logs || config.span_events.unwrap_or(false);
    let mut parts = Vec::new();
    for (signal, on) in [
        (Signal::Traces, traces),
        (Signal::Logs, logs),
        (Signal::Metrics, metrics),
    ] {
        if !on {
            continue;
        }
        let sdk = sdk::sdk_settings(config.sdk(), field, &process_env, runtime)?;
        let description = match signal {
            Signal::Traces => format!("{field} (otlpJson to {destination})"),
            other => format!("{field} (otlpJson {} to {destination})", other.name()),
        };
        let output = Output::Json(&config.writer);
        parts.push(build_signal(
            signal,
            config.sdk(),
            sdk,
            output,
            description,
            span_events,
            field,
        )?);
    }
    Ok(combine(parts))
}

/// One layer made of the layers of a config's signals (in order), with one lifecycle that
/// flushes and shuts each down and adds up their drops; the inert layer when there is none.
fn combine(parts: Vec<BuiltLayer>) -> BuiltLayer {
    let mut parts = parts.into_iter();
    let Some(first) = parts.next() else {
        return inert_layer();
    };
    let mut layer = first.layer;
    let mut lifecycles = vec![first.lifecycle];
    let mut enter_exit = first.enter_exit;
    for part in parts {
        enter_exit |= part.enter_exit;
        // `Layered` (unlike `Vec`) hands `on_register_dispatch` on, which the logs layer needs;
        // the earlier layer sees each callback first.
        layer = Box::new(Layer::and_then(layer, part.layer));
        lifecycles.push(part.lifecycle);
    }
    if lifecycles.len() == 1 {
        return BuiltLayer::new(layer, lifecycles.remove(0)).with_enter_exit(enter_exit);
    }
    BuiltLayer::new(layer, Arc::new(Signals(lifecycles))).with_enter_exit(enter_exit)
}

/// The lifecycle of a [`combine`]d layer.
struct Signals(Vec<Arc<dyn LayerLifecycle>>);

impl LayerLifecycle for Signals {
    fn flush(&self) -> Result<(), Error> {
        let mut result = Ok(());
        for lifecycle in &self.0 {
            let flushed = lifecycle.flush();
            if result.is_ok() {
                result = flushed;
            }
        }
        result
    }

    fn shutdown(&self) -> Result<(), Error> {
        let mut result = Ok(());
        for lifecycle in &self.0 {
            let shut = lifecycle.shutdown();
            if result.is_ok() {
                result = shut;
            }
        }
        result
    }

    fn dropped(&self) -> u64 {
        self.0.iter().map(|lifecycle| lifecycle.dropped()).sum()
    }

    fn owner_thread_ended(&self) {
        for lifecycle in &self.0 {
            lifecycle.owner_thread_ended();
        }
    }
}

/// The layer of `OTEL_SDK_DISABLED=true` and of the `none` exporter: it records nothing, opens
/// nothing and starts no thread; flush and shutdown have nothing to do.
fn inert_layer() -> BuiltLayer {
    BuiltLayer::new(
        Box::new(tracing_subscriber::layer::Identity::new()),
        Arc::new(InertLifecycle),
    )
    .with_enter_exit(false)
}

/// The lifecycle of [`inert_layer`].
struct InertLifecycle;

impl LayerLifecycle for InertLifecycle {
    fn flush(&self) -> Result<(), Error> {
        Ok(())
    }
}

/// Where a signal's records go.
enum Output<'a> {
    /// An OTLP receiver.
    Otlp(Box<transport::OtlpSettings>),
    /// OTLP JSON lines.
    Json(&'a WriterConfig),
}

/// An exporter of `R` records, with the runtime an OTLP one runs on.
type Exporter<R> = (Box<dyn ExportBatch<R>>, Option<Runtime>);

/// Builds the exporter of `R` records for `output`.
fn exporter<R: records::OtlpRecords>(
    output: Output<'_>,
    sdk: &SdkSettings,
    field: &str,
) -> Result<Exporter<R>, Error> {
    Ok(match output {
        Output::Json(writer) => (
            Box::new(otlp_json::JsonLinesExporter::<R>::new(
                writer,
                &sdk.resource,
                field,
            )?),
            None,
        ),
        Output::Otlp(transport) => {
            let runtime = otlp::build_runtime(field)?;
            let exporter =
                otlp::OtlpExporter::<R>::new(&transport, &sdk.resource, &runtime, field)?;
            (Box::new(exporter), Some(runtime))
        }
    })
}

/// Builds the layer of one signal; `options` are the layer's (metrics read their own).
fn build_signal(
    signal: Signal,
    options: SdkOptions<'_>,
    sdk: SdkSettings,
    output: Output<'_>,
    description: String,
    span_events: bool,
    field: &str,
) -> Result<BuiltLayer, Error> {
    match signal {
        Signal::Metrics => {
            let settings = metrics::metrics_settings(options, field, &process_env)?;
            let (exporter, runtime) = exporter::<metrics::MetricPoint>(output, &sdk, field)?;
            metrics::build(settings, sdk, exporter, runtime, description)
        }
        Signal::Logs => {
            let (exporter, runtime) = exporter::<LogRecord>(output, &sdk, field)?;
            build_logs(sdk, exporter, runtime, description)
        }
        _ => {
            let (exporter, runtime) = exporter::<SpanData>(output, &sdk, field)?;
            build_pipeline(sdk, exporter, runtime, description, span_events)
        }
    }
}

fn build_logs(
    sdk: SdkSettings,
    exporter: Box<dyn ExportBatch<LogRecord>>,
    runtime: Option<Runtime>,
    description: String,
) -> Result<BuiltLayer, Error> {
    let queue = BatchQueue::new(sdk.logs_batch);
    let worker = BatchWorker::start(Arc::clone(&queue), "tracing-bridge-export-logs", exporter)?;
    let alive = Arc::new(SpanCounts::default());
    let layer = LogsLayer::new(
        Arc::clone(&queue),
        sdk.scope,
        sdk.span_attributes.location,
        Arc::clone(&alive),
    );
    let lifecycle = OtelLifecycle {
        description,
        signal: Signal::Logs,
        queue,
        spans: alive,
        flush_timeout: sdk.flush_timeout,
        running: Mutex::new(Some(Running {
            worker,
            runtime,
            _provider: None,
        })),
    };
    Ok(BuiltLayer::new(Box::new(layer), Arc::new(lifecycle)))
}

fn build_pipeline(
    sdk: SdkSettings,
    exporter: Box<dyn ExportBatch<SpanData>>,
    runtime: Option<Runtime>,
    description: String,
    span_events: bool,
) -> Result<BuiltLayer, Error> {
    let queue = BatchQueue::new(sdk.batch);
    let worker = BatchWorker::start(Arc::clone(&queue), "tracing-bridge-export", exporter)?;
    let processor = Arc::new(FinishingProcessor::new(
        SpanBatchProcessor::new(Arc::clone(&queue), span_events),
        sdk.span_attributes.thread,
        sdk.span_limits.max_attributes_per_span,
        sdk.attribute_value_length_limit,
    ));
    // The sampler, id generator and tracer let a light JavaScript span that is promoted start
    // with the ids and sampling decision it took at its start (`light.rs`).
    let provider = SdkTracerProvider::builder()
        .with_span_processor(SharedProcessor(
            Arc::clone(&processor) as Arc<dyn SpanProcessor>
        ))
        .with_sampler(PresetSampler(sdk.sampler.clone()))
        .with_id_generator(PresetIds)
        .with_span_limits(sdk.span_limits)
        .with_resource(sdk.resource)
        .build();
    let tracer = PresetTracer(provider.tracer_with_scope(sdk.scope.clone()));
    let light = LightSettings {
        sampler: sdk.sampler,
        processor,
        max_attributes: usize::try_from(sdk.span_limits.max_attributes_per_span)
            .unwrap_or(usize::MAX),
        scope: sdk.scope,
        threads: sdk.span_attributes.thread,
        level: sdk.span_attributes.level,
        target: sdk.span_attributes.target,
        spans: LightTable::default(),
    };
    let spans = Arc::new(SpanCounts::default());
    let layer = OtelLayer::new(
        tracing_opentelemetry::layer::<BaseSubscriber>()
            .with_tracer(tracer)
            .with_level(sdk.span_attributes.level)
            .with_target(sdk.span_attributes.target)
            // Parents come from the tracing span tree, never from OpenTelemetry's thread-local
            // context: the OpenTelemetry layers of two configs (a global one and a
            // current-thread one) must not see each other's spans.
            .with_context_activation(false)
            .with_location(sdk.span_attributes.location)
            .with_threads(sdk.span_attributes.thread)
            .with_tracked_inactivity(sdk.span_attributes.busy_idle),
        span_events,
        sdk.span_attributes.busy_idle,
        Some(light),
    );
    let layer = OpenSpans::new(layer, Arc::clone(&spans));
    let lifecycle = OtelLifecycle {
        description,
        signal: Signal::Traces,
        queue,
        spans,
        flush_timeout: sdk.flush_timeout,
        running: Mutex::new(Some(Running {
            worker,
            runtime,
            _provider: Some(provider),
        })),
    };
    Ok(BuiltLayer {
        layer: Box::new(layer),
        lifecycle: Arc::new(lifecycle),
        extension: None,
        // The span's busy and idle times.
        enter_exit: true,
    })
}

/// Flush, shutdown and drop counts of an OpenTelemetry layer.
struct OtelLifecycle<R: Send + 'static> {
    description: String,
    /// What the queue holds, for messages.
    signal: Signal,
    queue: Arc<BatchQueue<R>>,
    /// Spans the layer saw start and end (none for logs); shared with the layer, so that it
    /// also tells when the layer is gone.
    spans: Arc<SpanCounts>,
    flush_timeout: Duration,
    running: Mutex<Option<Running<R>>>,
}

/// The longest shutdown waits for dispatches still running in the layer on other threads
/// (they started before the layer was uninstalled); they take microseconds.
const QUIESCE_LIMIT: Duration = Duration::from_secs(1);

struct Running<R: Send + 'static> {
    worker: BatchWorker<R>,
    runtime: Option<Runtime>,
    /// The tracer provider of traces.
    _provider: Option<SdkTracerProvider>,
}

impl<R: Send + 'static> LayerLifecycle for OtelLifecycle<R> {
    fn flush(&self) -> Result<(), Error> {
        // A flush that runs out of time is not an error: what is still queued stays queued,
        // and what the receiver refused is counted in `dropped`.
        self.queue.flush(Instant::now() + self.flush_timeout);
        Ok(())
    }

    fn shutdown(&self) -> Result<(), Error> {
        let running = self
            .running
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        let Some(mut running) = running else {
            return Ok(());
        };
        let deadline = Instant::now() + self.flush_timeout;
        wait_until_layer_dropped(deadline, || SpanCounts::layer_dropped(&self.spans));
        running.worker.shutdown(deadline);
        if let Some(runtime) = running.runtime.take() {
            shut_down_runtime(runtime, deadline);
        }
        // Everything is counted now, spans still open included; only then is it reported.
        let stats = self.queue.finish(self.spans.open());
        if let Some(report) = report(&self.description, self.signal, &stats) {
            eprintln!("{report}");
        }
        Ok(())
    }

    fn dropped(&self) -> u64 {
        self.queue.dropped()
    }
}

/// Waits until `dropped()` says the layer is dropped (the session uninstalled it and no
/// dispatch that started before still runs in it on another thread), so that no record starts
/// or ends in it while the counts are made final. Bounded by `deadline` and [`QUIESCE_LIMIT`];
/// skipped inside a dispatch of this thread, which may be one into this very layer.
fn wait_until_layer_dropped(deadline: Instant, dropped: impl Fn() -> bool) {
    if dispatching_now() {
        return;
    }
    let limit = deadline.min(Instant::now() + QUIESCE_LIMIT);
    let mut spins = 0u32;
    while !dropped() && Instant::now() < limit {
        if spins < 64 {
            spins += 1;
            thread::yield_now();
        } else {
            thread::sleep(Duration::from_millis(1));
        }
    }
}

/// The line reported once at shutdown: how many of the records were dropped (known not
/// delivered) or not confirmed by the receiver (the request may have reached it), and why;
/// `None` when every record was exported.
fn report(description: &str, signal: Signal, stats: &BatchStats) -> Option<String> {
    if stats.dropped == 0 {
        return None;
    }
    let records = signal.records();
    // (count, whether it is known not delivered, why)
    let mut parts: Vec<(u64, bool, String)> = Vec::new();
    if stats.unconfirmed > 0 {
        let error = without_not_confirmed(stats.first_unconfirmed.as_deref().unwrap_or(""));
        let why = if error.is_empty() {
            "(the request may have reached it)".to_owned()
        } else {
            format!("(the request may have reached it): {error}")
        };
        parts.push((stats.unconfirmed, false, why));
    }
    if stats.failed > 0 {
        let error = stats.first_failure.as_deref().unwrap_or("unknown error");
        parts.push((
            stats.failed,
            true,
            format!("because the export failed: {error}"),
        ));
    }
    if stats.queue_full > 0 {
        parts.push((
            stats.queue_full,
            true,
            format!(
                "because the queue was full (raise {}.maxQueueSize)",
                signal.batch_option()
            ),
        ));
    }
    if stats.abandoned > 0 {
        parts.push((
            stats.abandoned,
            true,
            "because they were still queued when the flush timeout (flushTimeoutMs) expired"
                .to_owned(),
        ));
    }
    if stats.late > 0 {
        parts.push((
            stats.late,
            true,
            match signal {
                // A span is queued when it ends; a log record when its event happens.
                Signal::Traces => "because they ended while the layer was shutting down",
                _ => "because they were made while the layer was shutting down",
            }
            .to_owned(),
        ));
    }
    if stats.open > 0 {
        parts.push((
            stats.open,
            true,
            "because they were still open (never ended) when the layer shut down".to_owned(),
        ));
    }
    let verb = |known: bool| {
        if known {
            "dropped"
        } else {
            "not confirmed by the receiver"
        }
    };
    let total = stats.dropped + stats.exported;
    let summary = match parts.as_slice() {
        [(count, known, why)] => {
            format!("{count} of {total} {records} were {} {why}", verb(*known))
        }
        _ => {
            let lead = match (
                parts.iter().any(|part| part.1),
                parts.iter().any(|part| !part.1),
            ) {
                (true, true) => "dropped or not confirmed by the receiver",
                (false, _) => verb(false),
                (true, false) => verb(true),
            };
            let list: Vec<String> = parts
                .iter()
                .map(|(count, known, why)| format!("{count} {} {why}", verb(*known)))
                .collect();
            format!(
                "{} of {total} {records} were {lead}: {}",
                stats.dropped,
                list.join("; ")
            )
        }
    };
    Some(format!("tracing-bridge: {description}: {summary}"))
}

/// An exporter's error without the [`NOT_CONFIRMED`] note, which the report says itself.
fn without_not_confirmed(message: &str) -> String {
    let mut text = message.to_owned();
    for separator in ["; ", ": ", ", ", " - ", " "] {
        text = text.replace(&format!("{separator}{NOT_CONFIRMED}"), "");
    }
    text = text.replace(NOT_CONFIRMED, "");
    text.trim()
        .trim_end_matches([':', ';', ','])
        .trim()
        .to_owned()
}

impl<R: Send + 'static> Drop for OtelLifecycle<R> {
    fn drop(&mut self) {
        // A session dropped without an orderly shutdown still stops and joins its threads.
        let _ = LayerLifecycle::shutdown(self);
    }
}

/// Shuts a runtime down from a thread of its own: dropping a runtime on a thread that is inside
/// another tokio runtime (a caller's own, in an embedding library) would panic.
fn shut_down_runtime(runtime: Runtime, deadline: Instant) {
    let wait = deadline
        .saturating_duration_since(Instant::now())
        .max(Duration::from_millis(100));
    let stopper = thread::Builder::new()
        .name("tracing-bridge-otlp-stop".to_owned())
        .spawn(move || runtime.shutdown_timeout(wait));
    if let Ok(stopper) = stopper {
        let _ = stopper.join();
    }
}

thread_local! {
    static SILENCED: RefCell<Option<DefaultGuard>> = const { RefCell::new(None) };
}

/// Makes `tracing` calls on this thread go nowhere. The export threads run HTTP and gRPC
/// clients that are themselves instrumented with `tracing`; without this, exporting would
/// record spans that need exporting.
pub(crate) fn silence_tracing_on_this_thread() {
    let guard = tracing::dispatcher::set_default(&tracing::Dispatch::none());
    SILENCED.with(|silenced| *silenced.borrow_mut() = Some(guard));
}

#[cfg(test)]
mod tests {
    use super::*;

    const LAYER: &str = "layers[0] (otlp, grpc to http://127.0.0.1:4317)";

    fn counts(edit: impl FnOnce(&mut BatchStats)) -> BatchStats {
        let mut stats = BatchStats::default();
        edit(&mut stats);
        stats.dropped = stats.queue_full
            + stats.failed
            + stats.unconfirmed
            + stats.abandoned
            + stats.late
            + stats.open;
        stats
    }

    #[test]
    fn nothing_is_reported_when_everything_was_exported() {
        assert_eq!(
            report(LAYER, Signal::Traces, &counts(|s| s.exported = 9)),
            None
        );
    }

    #[test]
    fn a_failed_export_is_reported_as_dropped_with_its_error() {
        let stats = counts(|s| {
            s.failed = 9;
            s.first_failure = Some("cannot connect to 127.0.0.1:4317: Connection refused".into());
        });
        assert_eq!(
            report(LAYER, Signal::Traces, &stats).unwrap(),
            "tracing-bridge: layers[0] (otlp, grpc to http://127.0.0.1:4317): 9 of 9 spans were \
             dropped because the export failed: cannot connect to 127.0.0.1:4317: Connection \
             refused"
        );
    }

    #[test]
    fn an_export_without_an_answer_is_reported_as_not_confirmed_once() {
        let stats = counts(|s| {
            s.exported = 10;
            s.unconfirmed = 5;
            s.first_unconfirmed = Some(
                "no answer when the flush timeout of dispose expired (flushTimeoutMs): not \
                 confirmed by the receiver"
                    .into(),
            );
        });
        assert_eq!(
            report(LAYER, Signal::Traces, &stats).unwrap(),
            "tracing-bridge: layers[0] (otlp, grpc to http://127.0.0.1:4317): 5 of 15 spans were \
             not confirmed by the receiver (the request may have reached it): no answer when the \
             flush timeout of dispose expired (flushTimeoutMs)"
        );
    }

    #[test]
    fn several_reasons_are_listed_with_their_counts() {
        let stats = counts(|s| {
            s.exported = 9467;
            s.queue_full = 20;
            s.open = 16;
        });
        assert_eq!(
            report(LAYER, Signal::Traces, &stats).unwrap(),
            "tracing-bridge: layers[0] (otlp, grpc to http://127.0.0.1:4317): 36 of 9503 spans \
             were dropped: 20 dropped because the queue was full (raise batch.maxQueueSize); 16 \
             dropped because they were still open (never ended) when the layer shut down"
        );
        let mixed = counts(|s| {
            s.unconfirmed = 4;
            s.first_unconfirmed = Some(
                "the connection failed before the answer: connection reset; not confirmed by the \
                 receiver (after 2 attempts in 40 ms)"
                    .into(),
            );
            s.abandoned = 3;
            s.late = 1;
        });
        assert_eq!(
            report(LAYER, Signal::Traces, &mixed).unwrap(),
            "tracing-bridge: layers[0] (otlp, grpc to http://127.0.0.1:4317): 8 of 8 spans were \
             dropped or not confirmed by the receiver: 4 not confirmed by the receiver (the \
             request may have reached it): the connection failed before the answer: connection \
             reset (after 2 attempts in 40 ms); 3 dropped because they were still queued when the \
             flush timeout (flushTimeoutMs) expired; 1 dropped because they ended while the layer \
             was shutting down"
        );
    }
}
