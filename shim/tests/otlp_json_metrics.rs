//! Metrics from event fields, written by an otlpJson layer as OTLP `MetricsData` JSON lines:
//! counts exact under concurrency, histograms, up-down counters, typed attributes, export on
//! flush and on uninstall. One test, since it installs the process-wide global subscriber.

use std::fs;

use opentelemetry_proto::tonic::{
    common::v1::any_value::Value,
    metrics::v1::{metric::Data, number_data_point, AggregationTemporality, MetricsData},
};
use tracing_bridge::Session;

/// The metrics of the last line of `text` (cumulative: the last line has everything).
fn last_line(text: &str) -> MetricsData {
    let line = text.lines().last().expect("a line");
    serde_json::from_str(line).expect("a MetricsData object per line")
}

#[test]
fn event_fields_become_otlp_json_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("metrics.jsonl");
    let config = format!(
        r#"{{"layers":[{{"kind":"otlpJson","writer":{{"file":{}}},"serviceName":"metrics-test",
            "signals":{{"traces":false,"metrics":true}},"metrics":{{"exportIntervalMs":600000}}}}]}}"#,
        serde_json::to_string(&path).unwrap()
    );
    let mut session = Session::from_json(&config).unwrap();
    session.install_global().unwrap();
    tracing::info!(monotonic_counter.warmup = 1_u64, "before the threads");
    session.flush().unwrap();
    let flushed = fs::read_to_string(&path).unwrap();
    assert_eq!(flushed.lines().count(), 1, "flush exports at once");

    let threads: Vec<_> = (0..4_u32)
        .map(|index| {
            std::thread::spawn(move || {
                tracing::info!(counter.active = 1_i64);
                for call in 0..250_u64 {
                    tracing::info!(
                        monotonic_counter.calls = 1_u64,
                        histogram.work_ms = call % 10,
                        worker = index,
                        ok = true
                    );
                }
                tracing::info!(counter.active = -1_i64);
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    tracing::info!(
        histogram.work_ms = "slow",
        "not a number: reported, not recorded"
    );
    session.uninstall().unwrap();
    assert_eq!(session.dropped_spans(), 0);

    let text = fs::read_to_string(&path).unwrap();
    assert_eq!(
        text.lines().count(),
        2,
        "uninstall exports at once:\n{text}"
    );
    let data = last_line(&text);
    let scope_metrics = &data.resource_metrics[0].scope_metrics[0];
    assert_eq!(scope_metrics.scope.as_ref().unwrap().name, "tracing-bridge");
    let metric = |name: &str| {
        scope_metrics
            .metrics
            .iter()
            .find(|metric| metric.name == name)
            .and_then(|metric| metric.data.clone())
            .unwrap_or_else(|| panic!("metric {name}"))
    };
    let Data::Sum(calls) = metric("calls") else {
        panic!("calls is a sum")
    };
    assert!(calls.is_monotonic);
    assert_eq!(
        calls.aggregation_temporality,
        AggregationTemporality::Cumulative as i32
    );
    assert_eq!(calls.data_points.len(), 4, "one series per worker");
    let mut total = 0;
    for point in &calls.data_points {
        let Some(number_data_point::Value::AsInt(count)) = point.value else {
            panic!("an integer sum")
        };
        assert_eq!(count, 250);
        total += count;
        let keys: Vec<_> = point.attributes.iter().map(|a| a.key.as_str()).collect();
        assert_eq!(
            keys,
            ["ok", "worker"],
            "the other fields, not the metric fields"
        );
        assert!(matches!(
            point.attributes[1].value.as_ref().unwrap().value,
            Some(Value::IntValue(0..=3))
        ));
        assert!(
            point.start_time_unix_nano > 0 && point.start_time_unix_nano <= point.time_unix_nano
        );
    }
    assert_eq!(total, 1000);
    let Data::Histogram(work) = metric("work_ms") else {
        panic!("work_ms is a histogram")
    };
    let count: u64 = work.data_points.iter().map(|point| point.count).sum();
    let sum: f64 = work
        .data_points
        .iter()
        .map(|point| point.sum.unwrap())
        .sum();
    assert_eq!((count, sum), (1000, 4500.0));
    let Data::Sum(active) = metric("active") else {
        panic!("active is a sum")
    };
    assert!(!active.is_monotonic);
    assert_eq!(
        active.data_points[0].value,
        Some(number_data_point::Value::AsInt(0))
    );
    let Data::Sum(warmup) = metric("warmup") else {
        panic!("warmup is a sum")
    };
    let message = &warmup.data_points[0].attributes[0];
    assert_eq!(
        message.key, "message",
        "the message is an attribute, as in tracing-opentelemetry"
    );
}
