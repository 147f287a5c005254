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
//! `OTEL_SDK_DISABLED=true` makes both no-ops: layers that record nothing and start no thread.
//!
//! Flush and shutdown wait for the exporter's answer up to `flushTimeoutMs`; spans that could
//! not be exported are counted ([`LayerLifecycle::dropped`]) and reported once, to
//! stderr, when the layer shuts down.
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
mod finish;
mod integers;
mod layer;
mod otlp;
mod otlp_json;
mod otlp_proto;
mod retry;
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
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData};
use tokio::runtime::Runtime;
use tracing::dispatcher::DefaultGuard;

use self::{
    batch::{BatchQueue, BatchWorker, ExportBatch, SpanBatchProcessor},
    config::{OtlpJsonLayerConfig, OtlpLayerConfig, TracesExporter},
    env::{process_env, Signal},
    finish::FinishingProcessor,
    layer::OtelLayer,
    sdk::SdkSettings,
};
use super::{BuiltLayer, LayerLifecycle};
use crate::{config::RuntimeConfig, dispatch::BaseSubscriber, error::Error, options::WriterConfig};

/// Rejects a config with more than one OpenTelemetry layer (`otel_layers`: their indices in
/// the config): `tracing-opentelemetry` keeps each span's data in one slot of the span's
/// extensions, which two such layers would both claim.
pub(crate) fn check_at_most_one(otel_layers: impl IntoIterator<Item = usize>) -> Result<(), Error> {
    let mut otel_layers = otel_layers.into_iter();
    match (otel_layers.next(), otel_layers.next()) {
        (Some(first), Some(second)) => Err(Error::invalid_config(format!(
            "layers[{second}]: a config can have one OpenTelemetry layer (otlp or otlpJson), and \
             layers[{first}] is one already (tracing-opentelemetry keeps one set of span data \
             per span); keep one of them"
        ))),
        _ => Ok(()),
    }
}

/// Builds an `otlp` layer; `runtime` is the config document's.
pub(crate) fn build_otlp(
    config: &OtlpLayerConfig,
    field: &str,
    runtime: Option<&RuntimeConfig>,
) -> Result<BuiltLayer, Error> {
    if switches::sdk_disabled(&process_env, field) {
        return Ok(inert_layer());
    }
    match switches::traces_exporter(config, field, &process_env)? {
        TracesExporter::None => Ok(inert_layer()),
        TracesExporter::Console => {
            let sdk = sdk::sdk_settings(config.sdk(), field, &process_env, runtime)?;
            let exporter =
                otlp_json::JsonLinesExporter::new(&WriterConfig::Stdout, &sdk.resource, field)?;
            let description = format!("{field} (otlp, console exporter: OTLP JSON to stdout)");
            build_pipeline(sdk, Box::new(exporter), None, description)
        }
        TracesExporter::Otlp => {
            let sdk = sdk::sdk_settings(config.sdk(), field, &process_env, runtime)?;
            let transport = transport::otlp_settings(config, Signal::Traces, field, &process_env)?;
            let runtime = otlp::build_runtime(field)?;
            let exporter = otlp::OtlpExporter::new(&transport, &sdk.resource, &runtime, field)?;
            let description = format!(
                "{field} (otlp, {} to {})",
                transport.protocol.name(),
                transport.endpoint
            );
            build_pipeline(sdk, Box::new(exporter), Some(runtime), description)
        }
    }
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
    let sdk = sdk::sdk_settings(config.sdk(), field, &process_env, runtime)?;
    let exporter = otlp_json::JsonLinesExporter::new(&config.writer, &sdk.resource, field)?;
    let destination = match &config.writer {
        WriterConfig::Stdout => "stdout".to_owned(),
        WriterConfig::Stderr => "stderr".to_owned(),
        WriterConfig::File(path) => path.display().to_string(),
    };
    let description = format!("{field} (otlpJson to {destination})");
    build_pipeline(sdk, Box::new(exporter), None, description)
}

/// The layer of `OTEL_SDK_DISABLED=true` and of the `none` exporter: it records nothing, opens
/// nothing and starts no thread; flush and shutdown have nothing to do.
fn inert_layer() -> BuiltLayer {
    BuiltLayer::new(
        Box::new(tracing_subscriber::layer::Identity::new()),
        Arc::new(InertLifecycle),
    )
}

/// The lifecycle of [`inert_layer`].
struct InertLifecycle;

impl LayerLifecycle for InertLifecycle {
    fn flush(&self) -> Result<(), Error> {
        Ok(())
    }
}

fn build_pipeline(
    sdk: SdkSettings,
    exporter: Box<dyn ExportBatch<SpanData>>,
    runtime: Option<Runtime>,
    description: String,
) -> Result<BuiltLayer, Error> {
    let queue = BatchQueue::new(sdk.batch);
    let worker = BatchWorker::start(Arc::clone(&queue), "tracing-bridge-export", exporter)?;
    let processor = FinishingProcessor::new(
        SpanBatchProcessor::new(Arc::clone(&queue)),
        sdk.span_attributes.thread,
        sdk.span_limits.max_attributes_per_span,
        sdk.attribute_value_length_limit,
    );
    let provider = SdkTracerProvider::builder()
        .with_span_processor(processor)
        .with_sampler(sdk.sampler)
        .with_span_limits(sdk.span_limits)
        .with_resource(sdk.resource)
        .build();
    let tracer = provider.tracer_with_scope(sdk.scope);
    let layer = OtelLayer(
        tracing_opentelemetry::layer::<BaseSubscriber>()
            .with_tracer(tracer)
            .with_level(true)
            .with_target(true)
            // Parents come from the tracing span tree, never from OpenTelemetry's thread-local
            // context: the OpenTelemetry layers of two configs (a global one and a
            // current-thread one) must not see each other's spans.
            .with_context_activation(false)
            .with_location(sdk.span_attributes.location)
            .with_threads(sdk.span_attributes.thread)
            .with_tracked_inactivity(sdk.span_attributes.busy_idle),
    );
    let lifecycle = OtelLifecycle {
        description,
        signal: Signal::Traces,
        queue,
        flush_timeout: sdk.flush_timeout,
        running: Mutex::new(Some(Running {
            worker,
            runtime,
            _provider: provider,
        })),
    };
    Ok(BuiltLayer {
        layer: Box::new(layer),
        lifecycle: Arc::new(lifecycle),
        extension: None,
    })
}

/// Flush, shutdown and drop counts of an OpenTelemetry layer.
struct OtelLifecycle {
    description: String,
    /// What the queue holds, for messages.
    signal: Signal,
    queue: Arc<BatchQueue<SpanData>>,
    flush_timeout: Duration,
    running: Mutex<Option<Running>>,
}

struct Running {
    worker: BatchWorker<SpanData>,
    runtime: Option<Runtime>,
    _provider: SdkTracerProvider,
}

impl LayerLifecycle for OtelLifecycle {
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
        running.worker.shutdown(deadline);
        if let Some(runtime) = running.runtime.take() {
            shut_down_runtime(runtime, deadline);
        }
        self.report_dropped();
        Ok(())
    }

    fn dropped(&self) -> u64 {
        self.queue.dropped()
    }
}

impl OtelLifecycle {
    /// Says once, at shutdown, how many records were lost and why.
    fn report_dropped(&self) {
        let stats = self.queue.stats();
        if stats.dropped == 0 {
            return;
        }
        let mut reasons = Vec::new();
        if stats.dropped_queue_full > 0 {
            reasons.push(format!(
                "{} arrived while the queue was full (raise batch.maxQueueSize)",
                stats.dropped_queue_full
            ));
        }
        if let Some(error) = &stats.first_error {
            reasons.push(format!("export failed: {error}"));
        }
        if reasons.is_empty() {
            reasons.push("they ended after shutdown had begun".to_owned());
        }
        eprintln!(
            "tracing-bridge: {}: {} of {} {} were not exported; {}",
            self.description,
            stats.dropped,
            stats.dropped + stats.exported,
            self.signal.records(),
            reasons.join("; ")
        );
    }
}

impl Drop for OtelLifecycle {
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
