//! The otlpJson layer writes OTLP `TracesData` JSON lines that parse back into the OTLP
//! protobuf types, with parents across threads, fields as attributes, events, status, resource
//! and scope. One test, since it installs the process-wide global subscriber.

use std::{collections::HashMap, fs};

use opentelemetry_proto::tonic::{
    common::v1::{any_value::Value, KeyValue},
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

#[test]
fn spans_become_otlp_json_lines() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spans.jsonl");
    let config = format!(
        r#"{{"layers":[{{"kind":"otlpJson","writer":{{"file":{}}},"serviceName":"rust-test",
            "resource":{{"region":"eu"}},"scope":{{"name":"my-lib","version":"2.0.0"}},
            "batch":{{"scheduledDelayMs":600000}}}}]}}"#,
        serde_json::to_string(&path).unwrap()
    );
    let mut session = Session::from_json(&config).unwrap();
    session.install_global().unwrap();
    {
        let parent = tracing::info_span!("parent", job = "import", attempt = 2_i64);
        let _entered = parent.enter();
        tracing::info!(rows = 10_u64, big = u64::MAX, "loaded");
        let handle = {
            let parent = parent.clone();
            std::thread::spawn(move || {
                let child = tracing::info_span!(parent: &parent, "child", ok = false, row = 3_u32);
                let _entered = child.enter();
                tracing::error!("could not parse row 3");
            })
        };
        handle.join().unwrap();
        let failing = tracing::warn_span!("failing", error = "disk full");
        drop(failing);
    }
    session.uninstall().unwrap();
    assert_eq!(session.dropped_spans(), 0);

    let text = fs::read_to_string(&path).unwrap();
    let mut spans: HashMap<String, Span> = HashMap::new();
    for line in text.lines() {
        let data: TracesData = serde_json::from_str(line).expect("a TracesData object per line");
        let raw: serde_json::Value = serde_json::from_str(line).unwrap();
        let first = &raw["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
        assert!(
            first["traceId"].as_str().unwrap().len() == 32,
            "hex trace id"
        );
        assert!(first["startTimeUnixNano"].is_string(), "int64 as a string");
        for resource_spans in data.resource_spans {
            let resource = resource_spans.resource.unwrap();
            assert!(matches!(
                attribute(&resource.attributes, "service.name"),
                Some(Value::StringValue(name)) if name == "rust-test"
            ));
            assert!(matches!(
                attribute(&resource.attributes, "region"),
                Some(Value::StringValue(region)) if region == "eu"
            ));
            for scope_spans in resource_spans.scope_spans {
                let scope = scope_spans.scope.unwrap();
                assert_eq!(
                    (scope.name.as_str(), scope.version.as_str()),
                    ("my-lib", "2.0.0")
                );
                for span in scope_spans.spans {
                    spans.insert(span.name.clone(), span);
                }
            }
        }
    }
    assert_eq!(spans.len(), 3, "{:?}", spans.keys());
    let parent = &spans["parent"];
    let child = &spans["child"];
    let failing = &spans["failing"];
    assert_eq!(
        child.parent_span_id, parent.span_id,
        "parent across threads"
    );
    assert_eq!(child.trace_id, parent.trace_id);
    assert!(matches!(
        attribute(&child.attributes, "row"),
        Some(Value::IntValue(3))
    ));
    assert!(matches!(
        attribute(&child.attributes, "ok"),
        Some(Value::BoolValue(false))
    ));
    assert!(
        matches!(attribute(&parent.attributes, "job"), Some(Value::StringValue(job)) if job == "import")
    );
    assert!(matches!(
        attribute(&parent.attributes, "attempt"),
        Some(Value::IntValue(2))
    ));
    assert!(
        matches!(attribute(&parent.attributes, "level"), Some(Value::StringValue(level)) if level == "INFO")
    );
    assert!(
        matches!(attribute(&parent.attributes, "target"), Some(Value::StringValue(target)) if target == "otlp_json_output")
    );
    let loaded = &parent.events[0];
    assert_eq!(loaded.name, "loaded");
    assert!(
        matches!(
            attribute(&loaded.attributes, "rows"),
            Some(Value::IntValue(10))
        ),
        "{:?}",
        loaded.attributes
    );
    assert_eq!(
        parent.status.as_ref().unwrap().code,
        StatusCode::Unset as i32
    );
    let child_status = child.status.as_ref().unwrap();
    assert_eq!(child_status.code, StatusCode::Error as i32);
    assert_eq!(child_status.message, "could not parse row 3");
    let failing_status = failing.status.as_ref().unwrap();
    assert_eq!(failing_status.code, StatusCode::Error as i32);
    assert_eq!(failing_status.message, "disk full");
}
