//! The pure-Rust baseline of the logs run of `bench/otlp_export.ts`: the example library's
//! `emit_events` workload (`tracing::info!(index, "bench event")`, outside any span) exported
//! as OTLP logs by the OpenTelemetry SDK's own pipeline, `opentelemetry-appender-tracing` →
//! `BatchLogProcessor` → `opentelemetry-otlp` (tonic for gRPC, its blocking reqwest client for
//! HTTP/protobuf), with the batch settings the benchmark gives the library's layer.
//!
//! `otlp-logs-baseline <grpc|http/protobuf> <endpoint> <calls> <events per call> <warm-up calls>
//! <max queue size> <max export batch size>` (the HTTP endpoint with its `/v1/logs`) prints one JSON line: `{"seconds": …, "cpu_us": …}`, the time from
//! the first event until the provider's shutdown returned (every record exported), as the
//! library's side is timed until dispose returns, and the process CPU time (user + system,
//! every thread; Linux `/proc/self/stat`, in clock ticks of 10 ms) over the same interval.

use std::time::{Duration, Instant};

use opentelemetry_appender_tracing::layer::OpenTelemetryTracingBridge;
use opentelemetry_otlp::{LogExporter, Protocol, WithExportConfig};
use opentelemetry_sdk::{
    logs::{BatchConfigBuilder, BatchLogProcessor, SdkLoggerProvider},
    Resource,
};
use tracing_subscriber::{filter::LevelFilter, layer::SubscriberExt, Layer};

/// The example library's `emit_events`.
#[inline(never)]
fn emit_events(count: u32) {
    for index in 0..count {
        tracing::info!(index, "bench event");
    }
}

/// User + system CPU time of this process so far, in µs (0 where `/proc` is missing).
fn cpu_us() -> u64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0;
    };
    // The fields after the command (which may hold spaces) in parentheses.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |index: usize| {
        fields
            .get(index)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the command.
    (ticks(11) + ticks(12)) * 10_000
}

fn argument(args: &[String], index: usize, name: &str) -> u64 {
    args.get(index)
        .and_then(|text| text.parse().ok())
        .unwrap_or_else(|| panic!("argument {index} ({name}) must be a number"))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let protocol = args.get(1).expect("argument 1: the protocol").clone();
    let endpoint = args.get(2).expect("argument 2: the endpoint").clone();
    let calls = argument(&args, 3, "calls");
    let per_call = argument(&args, 4, "events per call") as u32;
    let warmup = argument(&args, 5, "warm-up calls");
    let queue = argument(&args, 6, "max queue size") as usize;
    let batch = argument(&args, 7, "max export batch size") as usize;

    // tonic runs on a tokio runtime; the blocking HTTP client must be made outside one.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let exporter = match protocol.as_str() {
        "grpc" => {
            let _entered = runtime.enter();
            LogExporter::builder()
                .with_tonic()
                .with_endpoint(endpoint)
                .with_timeout(Duration::from_secs(10))
                .build()
        }
        "http/protobuf" => LogExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(endpoint)
            .with_timeout(Duration::from_secs(10))
            .build(),
        other => panic!("protocol {other}: use grpc or http/protobuf"),
    }
    .expect("the OTLP log exporter");
    let processor = BatchLogProcessor::builder(exporter)
        .with_batch_config(
            BatchConfigBuilder::default()
                .with_max_queue_size(queue)
                .with_max_export_batch_size(batch)
                .with_scheduled_delay(Duration::from_millis(1_000))
                .build(),
        )
        .build();
    let provider = SdkLoggerProvider::builder()
        .with_resource(
            Resource::builder()
                .with_service_name("otlp-logs-baseline")
                .build(),
        )
        .with_log_processor(processor)
        .build();
    let layer = OpenTelemetryTracingBridge::new(&provider).with_filter(LevelFilter::INFO);
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");

    let (seconds, cpu) = {
        for _ in 0..warmup {
            emit_events(per_call);
        }
        provider.force_flush().expect("warm-up flush");
        let cpu_before = cpu_us();
        let started = Instant::now();
        for _ in 0..calls {
            emit_events(per_call);
        }
        provider.shutdown().expect("shutdown");
        (started.elapsed().as_secs_f64(), cpu_us() - cpu_before)
    };
    drop(runtime);
    println!(
        "{}",
        serde_json::json!({ "seconds": seconds, "cpu_us": cpu })
    );
}
