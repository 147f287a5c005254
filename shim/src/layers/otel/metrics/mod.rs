//! OTLP metrics from event fields, by the convention of `tracing-opentelemetry`'s
//! `MetricsLayer`: an event field `monotonic_counter.<name>` adds to a counter, `counter.<name>`
//! to an up-down counter, `histogram.<name>` records into a histogram (explicit buckets, the
//! SDKs' default boundaries); the event's other fields are the data point's attributes.
//! Integers (`u64`, `i64`) make integer sums, floats double sums ([`aggregate`]). A value that
//! is no valid measurement (a string, a negative value for a monotonic counter, NaN) is not
//! recorded: the first of each field is reported on stderr at once, and all of them, counted
//! by field, when the layer shuts down.
//!
//! The measurements are aggregated in the layer ([`aggregate`]); a thread of the layer collects
//! them every `metrics.exportIntervalMs` (`OTEL_METRIC_EXPORT_INTERVAL`, 60 s), and flush and
//! shutdown collect at once, into the batch queue of the other signals ([`super::batch`]),
//! whose unit is one data point ([`encode`]): an export sends what one collection made, and
//! data points of failed exports are counted as dropped (in the layer's `dropped`, with spans)
//! and reported at shutdown like spans. Cumulative temporality by default; `delta` (and
//! `lowmemory`) export counters and histograms as deltas, whose points start at the previous
//! collection, and up-down counters cumulative, as the specification's preferences say.

mod aggregate;
mod encode;
mod layer;

use std::{
    sync::{Arc, Condvar, Mutex, PoisonError},
    thread::{self, JoinHandle},
    time::{Duration, Instant, SystemTime},
};

use tokio::runtime::Runtime;

pub(crate) use self::encode::MetricPoint;
use self::{
    aggregate::{Aggregator, Rejections},
    encode::ScopeInfo,
    layer::{LayerToken, MetricsLayer},
};
use super::{
    batch::{BatchQueue, BatchWorker, ExportBatch},
    config::{SdkOptions, Temporality},
    env::{env_count, Env, Signal},
    report,
    sdk::{BatchSettings, SdkSettings},
    shut_down_runtime, wait_until_layer_dropped,
};
use crate::{
    error::{Error, ErrorKind},
    layers::{BuiltLayer, LayerLifecycle},
};

/// Metrics settings, resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MetricsSettings {
    pub(crate) interval: Duration,
    pub(crate) timeout: Duration,
    pub(crate) temporality: Temporality,
}

const TEMPORALITY_VARIABLE: &str = "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE";

/// Resolves `metrics`: each option, else its variable, else the specification's default.
pub(crate) fn metrics_settings(
    options: SdkOptions<'_>,
    field: &str,
    env: Env<'_>,
) -> Result<MetricsSettings, Error> {
    let given = options.metrics.unwrap_or_default();
    let millis = |explicit: Option<crate::options::Millis>,
                  option: &str,
                  variable: &str,
                  default: u64|
     -> Result<Duration, Error> {
        match explicit {
            Some(millis) if millis.0 == 0 => Err(Error::invalid_config(format!(
                "{field}.metrics.{option} must be at least 1 (milliseconds)"
            ))),
            Some(millis) => Ok(Duration::from_millis(millis.0)),
            None => Ok(Duration::from_millis(
                env_count(env, variable, field)?.map_or(default, |count| count as u64),
            )),
        }
    };
    let interval = millis(
        given.export_interval_ms,
        "exportIntervalMs",
        "OTEL_METRIC_EXPORT_INTERVAL",
        60_000,
    )?;
    let timeout = millis(
        given.export_timeout_ms,
        "exportTimeoutMs",
        "OTEL_METRIC_EXPORT_TIMEOUT",
        30_000,
    )?;
    let temporality = match given.temporality {
        Some(temporality) => temporality,
        None => match env(TEMPORALITY_VARIABLE) {
            None => Temporality::Cumulative,
            Some(value) => match value.trim().to_ascii_lowercase().as_str() {
                "cumulative" => Temporality::Cumulative,
                "delta" => Temporality::Delta,
                "lowmemory" => Temporality::Lowmemory,
                _ => {
                    return Err(Error::invalid_config(format!(
                        "{field}: environment variable {TEMPORALITY_VARIABLE}=`{value}` is not a \
                         temporality; use `cumulative`, `delta` or `lowmemory`, or set \
                         `metrics.temporality` in the config"
                    )))
                }
            },
        },
    };
    Ok(MetricsSettings {
        interval,
        timeout,
        temporality,
    })
}

/// Builds the metrics layer of a config: `exporter` sends the data points (on the batch
/// worker's thread; `runtime` is its I/O runtime, if any), `description` names the layer in
/// reports.
pub(crate) fn build(
    settings: MetricsSettings,
    sdk: SdkSettings,
    exporter: Box<dyn ExportBatch<MetricPoint>>,
    runtime: Option<Runtime>,
    description: String,
) -> Result<BuiltLayer, Error> {
    let queue = BatchQueue::new(BatchSettings {
        // Bounded by the collections: each waits for its export (up to the export timeout).
        max_queue_size: usize::MAX,
        // One export per collection.
        max_export_batch_size: usize::MAX,
        // Exports happen when a collection flushes the queue, never by the batch timer.
        scheduled_delay: Duration::from_secs(365 * 24 * 3600),
        export_timeout: settings.timeout,
    });
    let worker = BatchWorker::start(
        Arc::clone(&queue),
        "tracing-bridge-metrics-export",
        exporter,
    )?;
    let aggregator = Arc::new(Aggregator::new(description.clone()));
    let token = Arc::new(LayerToken);
    let shared = Arc::new(Shared {
        aggregator: Arc::clone(&aggregator),
        queue: Arc::clone(&queue),
        temporality: settings.temporality,
        scope: Arc::new(ScopeInfo::new(&sdk.scope)),
        collecting: Mutex::new(()),
        stop: Mutex::new(false),
        wake: Condvar::new(),
    });
    let collector = {
        let shared = Arc::clone(&shared);
        let interval = settings.interval;
        let timeout = settings.timeout;
        thread::Builder::new()
            .name("tracing-bridge-metrics".to_owned())
            .spawn(move || {
                super::silence_tracing_on_this_thread();
                shared.run(interval, timeout);
            })
            .map_err(|error| {
                Error::new(
                    ErrorKind::InvalidConfig,
                    format!("cannot start the metrics thread: {error}"),
                )
            })?
    };
    let lifecycle = MetricsLifecycle {
        description,
        shared,
        token: Arc::clone(&token),
        flush_timeout: sdk.flush_timeout,
        running: Mutex::new(Some(Running {
            collector,
            worker,
            runtime,
        })),
    };
    Ok(BuiltLayer::new(
        Box::new(MetricsLayer::new(aggregator, token)),
        Arc::new(lifecycle),
    )
    .with_enter_exit(false))
}

/// What the collector thread and the lifecycle share.
struct Shared {
    aggregator: Arc<Aggregator>,
    queue: Arc<BatchQueue<MetricPoint>>,
    temporality: Temporality,
    scope: Arc<ScopeInfo>,
    /// Held from a collection until its points are queued, so that collections are exported
    /// in order.
    collecting: Mutex<()>,
    stop: Mutex<bool>,
    wake: Condvar,
}

impl Shared {
    /// The collector thread: a collection and its export every `interval`, until stopped.
    fn run(&self, interval: Duration, timeout: Duration) {
        let mut next = Instant::now() + interval;
        loop {
            {
                let mut stop = self.stop.lock().unwrap_or_else(PoisonError::into_inner);
                loop {
                    if *stop {
                        return;
                    }
                    let now = Instant::now();
                    if now >= next {
                        break;
                    }
                    stop = self
                        .wake
                        .wait_timeout(stop, next - now)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                }
            }
            self.export(Instant::now() + timeout);
            next = (next + interval).max(Instant::now());
        }
    }

    /// Collects now, queues the data points and waits until they are exported or dropped, or
    /// until `deadline`. Does nothing once stopped: the last collection is the lifecycle's.
    fn export(&self, deadline: Instant) {
        if self.collect(false) {
            self.queue.flush(deadline);
        }
    }

    /// Collects now and queues the data points, unless stopped (`last`: the lifecycle's last
    /// collection, after stopping). Returns whether it collected.
    fn collect(&self, last: bool) -> bool {
        let _collecting = self
            .collecting
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if !last && *self.stop.lock().unwrap_or_else(PoisonError::into_inner) {
            return false;
        }
        let points = self
            .aggregator
            .collect(self.temporality, &self.scope, SystemTime::now());
        for point in points {
            self.queue.push(point);
        }
        true
    }

    fn stop(&self) {
        *self.stop.lock().unwrap_or_else(PoisonError::into_inner) = true;
        self.wake.notify_all();
    }
}

struct Running {
    collector: JoinHandle<()>,
    worker: BatchWorker<MetricPoint>,
    runtime: Option<Runtime>,
}

/// Flush, shutdown and drop counts of the metrics layer.
struct MetricsLifecycle {
    description: String,
    shared: Arc<Shared>,
    token: Arc<LayerToken>,
    flush_timeout: Duration,
    running: Mutex<Option<Running>>,
}

impl LayerLifecycle for MetricsLifecycle {
    fn flush(&self) -> Result<(), Error> {
        // Like spans: what is not exported in time is counted in `dropped` and reported.
        if self
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some()
        {
            self.shared.export(Instant::now() + self.flush_timeout);
        }
        Ok(())
    }

    fn shutdown(&self) -> Result<(), Error> {
        let running = self
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let Some(mut running) = running else {
            return Ok(());
        };
        let deadline = Instant::now() + self.flush_timeout;
        // The collector thread stops at its next turn; an export of its in flight ends with
        // the worker's shutdown below.
        self.shared.stop();
        // No measurement may come after the last collection.
        wait_until_layer_dropped(deadline, || Arc::strong_count(&self.token) == 1);
        // The last collection, at once: what came since the last export.
        self.shared.aggregator.close();
        self.shared.collect(true);
        running.worker.shutdown(deadline);
        if running.collector.join().is_err() {
            eprintln!("tracing-bridge: the metrics thread panicked");
        }
        if let Some(runtime) = running.runtime.take() {
            shut_down_runtime(runtime, deadline);
        }
        let stats = self.shared.queue.finish(0);
        if let Some(report) = report(&self.description, Signal::Metrics, &stats) {
            eprintln!("{report}");
        }
        if let Some(report) =
            rejections_report(&self.description, &self.shared.aggregator.rejections())
        {
            eprintln!("{report}");
        }
        Ok(())
    }

    fn dropped(&self) -> u64 {
        self.shared.queue.dropped()
    }
}

impl Drop for MetricsLifecycle {
    fn drop(&mut self) {
        // A session dropped without an orderly shutdown still stops and joins its threads.
        let _ = LayerLifecycle::shutdown(self);
    }
}

/// The line reported at shutdown about values of metric fields that were not recorded, by
/// field; `None` when there were none.
fn rejections_report(description: &str, rejections: &Rejections) -> Option<String> {
    let total = rejections.total();
    if total == 0 {
        return None;
    }
    let fields: Vec<String> = rejections
        .by_field
        .iter()
        .map(|(field, (count, why))| format!("`{field}`: {count} (the first because {why})"))
        .collect();
    Some(format!(
        "tracing-bridge: {description}: {total} values of metric fields were not recorded: {}",
        fields.join("; ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::otel::test_support::{otlp, with_env, Case};

    fn settings(json: &str, vars: &[(&str, &str)]) -> Result<MetricsSettings, Error> {
        let config = otlp(json);
        metrics_settings(config.sdk(), "layers[0]", &with_env(vars))
    }

    #[test]
    fn settings_come_from_the_options_then_the_variables_then_the_defaults() {
        assert_eq!(
            settings(r#"{"kind":"otlp"}"#, &[]).unwrap(),
            MetricsSettings {
                interval: Duration::from_millis(60_000),
                timeout: Duration::from_millis(30_000),
                temporality: Temporality::Cumulative,
            }
        );
        let vars = [
            ("OTEL_METRIC_EXPORT_INTERVAL", "250"),
            ("OTEL_METRIC_EXPORT_TIMEOUT", "100"),
            (TEMPORALITY_VARIABLE, "Delta"),
        ];
        assert_eq!(
            settings(r#"{"kind":"otlp"}"#, &vars).unwrap(),
            MetricsSettings {
                interval: Duration::from_millis(250),
                timeout: Duration::from_millis(100),
                temporality: Temporality::Delta,
            }
        );
        let explicit = r#"{"kind":"otlp","metrics":{"exportIntervalMs":5,"exportTimeoutMs":6,
            "temporality":"lowmemory"}}"#;
        assert_eq!(
            settings(explicit, &vars).unwrap(),
            MetricsSettings {
                interval: Duration::from_millis(5),
                timeout: Duration::from_millis(6),
                temporality: Temporality::Lowmemory,
            }
        );
    }

    #[test]
    fn invalid_settings_name_the_option_or_the_variable() {
        let cases: &[Case] = &[
            (
                r#"{"kind":"otlp","metrics":{"exportIntervalMs":0}}"#,
                &[],
                "layers[0].metrics.exportIntervalMs must be at least 1",
            ),
            (
                r#"{"kind":"otlp","metrics":{"exportTimeoutMs":0}}"#,
                &[],
                "layers[0].metrics.exportTimeoutMs must be at least 1",
            ),
            (
                r#"{"kind":"otlp"}"#,
                &[("OTEL_METRIC_EXPORT_INTERVAL", "0")],
                "OTEL_METRIC_EXPORT_INTERVAL=`0` must be a whole number of at least 1",
            ),
            (
                r#"{"kind":"otlp"}"#,
                &[("OTEL_METRIC_EXPORT_TIMEOUT", "soon")],
                "OTEL_METRIC_EXPORT_TIMEOUT=`soon` must be a whole number of at least 1",
            ),
            (
                r#"{"kind":"otlp"}"#,
                &[(TEMPORALITY_VARIABLE, "sometimes")],
                "environment variable OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE=\
                 `sometimes` is not a temporality; use `cumulative`, `delta` or `lowmemory`, or \
                 set `metrics.temporality` in the config",
            ),
        ];
        for (json, vars, expected) in cases {
            let error = settings(json, vars).unwrap_err();
            assert!(
                error.message().contains(expected),
                "{json}: {}",
                error.message()
            );
        }
    }

    #[test]
    fn rejected_values_are_reported_by_field() {
        let mut rejections = Rejections::default();
        assert_eq!(rejections_report("layers[0]", &rejections), None);
        rejections.by_field.insert(
            "histogram.ms".into(),
            (3, "it is a string, not a number".into()),
        );
        assert_eq!(
            rejections_report("layers[0] (otlp metrics)", &rejections).unwrap(),
            "tracing-bridge: layers[0] (otlp metrics): 3 values of metric fields were not \
             recorded: `histogram.ms`: 3 (the first because it is a string, not a number)"
        );
    }
}
