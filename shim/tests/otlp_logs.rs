//! Events as OTLP log records: an otlpJson layer with traces and logs writes `LogsData` lines
//! whose records carry severity, body, typed attributes and the trace and span ids of their
//! span (which are in the `TracesData` lines); events outside spans have no ids; with logs on,
//! spans keep no events unless `spanEvents` asks, and an ERROR event still fails its span.

use std::{collections::HashMap, fs, path::Path};

use opentelemetry_proto::tonic::{
    common::v1::{any_value::Value, KeyValue},
    logs::v1::{LogRecord, LogsData},
    trace::v1::{status::StatusCode, Span, TracesData},
};
use tracing_bridge::Session;

fn attribute<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a Value> {
    attributes
        .iter()
        .find(|attribute| attribute.key == key)
        .and_then(|attribute| attribute.value.as_ref())
        .and_then(|value| value.value.as_ref())
}

fn body(record: &LogRecord) -> Option<&str> {
    match record.body.as_ref()?.value.as_ref()? {
        Value::StringValue(text) => Some(text),
        _ => None,
    }
}

/// The spans and log records of an OTLP JSON lines file, by name and by body.
fn read(path: &Path) -> (HashMap<String, Span>, Vec<LogRecord>) {
    let text = fs::read_to_string(path).unwrap();
    let mut spans = HashMap::new();
    let mut records = Vec::new();
    for line in text.lines() {
        if line.starts_with(r#"{"resourceSpans":"#) {
            let data: TracesData = serde_json::from_str(line).expect("TracesData");
            for span in data
                .resource_spans
                .into_iter()
                .flat_map(|r| r.scope_spans)
                .flat_map(|s| s.spans)
            {
                spans.insert(span.name.clone(), span);
            }
        } else {
            assert!(line.starts_with(r#"{"resourceLogs":"#), "{line}");
            let raw: serde_json::Value = serde_json::from_str(line).unwrap();
            let first = &raw["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0];
            assert!(first["timeUnixNano"].is_string(), "int64 as a string");
            let data: LogsData = serde_json::from_str(line).expect("LogsData");
            for resource_logs in data.resource_logs {
                let resource = resource_logs.resource.unwrap();
                assert!(matches!(
                    attribute(&resource.attributes, "service.name"),
                    Some(Value::StringValue(name)) if name == "logs-test"
                ));
                for scope_logs in resource_logs.scope_logs {
                    assert_eq!(scope_logs.scope.unwrap().name, "my-lib");
                    records.extend(scope_logs.log_records);
                }
            }
        }
    }
    (spans, records)
}

#[test]
fn events_become_log_records_linked_to_their_spans() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("signals.jsonl");
    let config = format!(
        r#"{{"layers":[{{"kind":"otlpJson","writer":{{"file":{}}},"serviceName":"logs-test",
            "scope":{{"name":"my-lib"}},"signals":{{"traces":true,"logs":true}},
            "batch":{{"scheduledDelayMs":600000}},"logsBatch":{{"scheduledDelayMs":600000}}}}]}}"#,
        serde_json::to_string(&path).unwrap()
    );
    let mut session = Session::from_json(&config).unwrap();
    session.install_global().unwrap();
    tracing::warn!(target: "outside", code = 7_u8, "before any span");
    {
        let parent = tracing::info_span!("parent", job = "import");
        let _entered = parent.enter();
        tracing::info!(
            rows = 10_u64,
            big = u64::MAX,
            ratio = 0.5,
            ok = true,
            name = "a",
            "loaded"
        );
        let handle = {
            let parent = parent.clone();
            std::thread::spawn(move || {
                let child = tracing::info_span!(parent: &parent, "child");
                let _entered = child.enter();
                tracing::error!(row = 3_i64, "could not parse row 3");
                tracing::info!(parent: &parent, "explicit parent from a thread");
            })
        };
        handle.join().unwrap();
    }
    session.uninstall().unwrap();
    assert_eq!(session.dropped_spans(), 0);

    let (spans, records) = read(&path);
    assert_eq!(records.len(), 4, "{records:#?}");
    let by_body: HashMap<&str, &LogRecord> = records
        .iter()
        .map(|record| (body(record).unwrap(), record))
        .collect();
    let parent = &spans["parent"];
    let child = &spans["child"];
    assert!(
        parent.events.is_empty() && child.events.is_empty(),
        "events are log records, not span events: {:?}",
        (&parent.events, &child.events)
    );
    assert_eq!(
        child.status.as_ref().map(|status| status.code),
        Some(StatusCode::Error as i32),
        "an ERROR event still fails its span"
    );
    assert_eq!(
        child.status.as_ref().unwrap().message,
        "could not parse row 3"
    );

    let outside = by_body["before any span"];
    assert!(outside.trace_id.is_empty() && outside.span_id.is_empty());
    assert_eq!(
        (outside.severity_number, outside.severity_text.as_str()),
        (13, "WARN")
    );
    assert!(
        matches!(attribute(&outside.attributes, "target"), Some(Value::StringValue(t)) if t == "outside")
    );
    assert!(matches!(
        attribute(&outside.attributes, "code"),
        Some(Value::IntValue(7))
    ));

    let loaded = by_body["loaded"];
    assert_eq!(
        (loaded.trace_id.clone(), loaded.span_id.clone()),
        (parent.trace_id.clone(), parent.span_id.clone())
    );
    assert_eq!(loaded.severity_number, 9);
    assert!(matches!(
        attribute(&loaded.attributes, "rows"),
        Some(Value::IntValue(10))
    ));
    assert!(
        matches!(attribute(&loaded.attributes, "big"), Some(Value::StringValue(big)) if *big == u64::MAX.to_string())
    );
    assert!(
        matches!(attribute(&loaded.attributes, "ratio"), Some(Value::DoubleValue(r)) if *r == 0.5)
    );
    assert!(matches!(
        attribute(&loaded.attributes, "ok"),
        Some(Value::BoolValue(true))
    ));
    assert!(
        matches!(attribute(&loaded.attributes, "name"), Some(Value::StringValue(n)) if n == "a")
    );
    assert!(
        matches!(attribute(&loaded.attributes, "code.file.path"), Some(Value::StringValue(f)) if f.ends_with("otlp_logs.rs"))
    );
    assert!(matches!(
        attribute(&loaded.attributes, "code.line.number"),
        Some(Value::IntValue(_))
    ));
    assert!(attribute(&loaded.attributes, "message").is_none());
    assert!(loaded.time_unix_nano > 0 && loaded.observed_time_unix_nano >= loaded.time_unix_nano);

    let failed = by_body["could not parse row 3"];
    assert_eq!(
        (failed.severity_number, failed.severity_text.as_str()),
        (17, "ERROR")
    );
    assert_eq!(failed.span_id, child.span_id);
    assert_eq!(failed.trace_id, parent.trace_id);
    let explicit = by_body["explicit parent from a thread"];
    assert_eq!(explicit.span_id, parent.span_id);
    assert_eq!(explicit.severity_number, 9);
}

#[test]
fn span_events_keeps_events_on_spans_too() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("both.jsonl");
    let config = format!(
        r#"{{"layers":[{{"kind":"otlpJson","writer":{{"file":{}}},"serviceName":"logs-test",
            "scope":{{"name":"my-lib"}},"signals":{{"logs":true}},"spanEvents":true}}]}}"#,
        serde_json::to_string(&path).unwrap()
    );
    let mut session = Session::from_json(&config).unwrap();
    session.install_current_thread().unwrap();
    tracing::info_span!("work").in_scope(|| tracing::info!("inside"));
    session.uninstall().unwrap();
    let (spans, records) = read(&path);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].span_id, spans["work"].span_id);
    assert_eq!(spans["work"].events.len(), 1);
}
