//! `spanAttributes` turns off the attributes `tracing-opentelemetry` adds to every span
//! (location, thread, busy/idle times, level, target); by default each span has all of them.

use std::fs;

use opentelemetry_proto::tonic::trace::v1::TracesData;
use tracing_bridge::Session;

/// The attribute keys of the one span named `work` written under `span_attributes`.
fn keys_with(span_attributes: &str) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spans.jsonl");
    let config = format!(
        r#"{{"layers":[{{"kind":"otlpJson","writer":{{"file":{}}}{span_attributes}}}]}}"#,
        serde_json::to_string(&path).unwrap()
    );
    let mut session = Session::from_json(&config).unwrap();
    session.install_current_thread().unwrap();
    tracing::info_span!("work", job = "import").in_scope(|| {});
    session.uninstall().unwrap();
    let text = fs::read_to_string(&path).unwrap();
    let data: TracesData = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    let span = &data.resource_spans[0].scope_spans[0].spans[0];
    assert_eq!(span.name, "work");
    let mut keys: Vec<String> = span.attributes.iter().map(|kv| kv.key.clone()).collect();
    keys.sort();
    keys
}

#[test]
fn span_attributes_can_be_turned_off_one_by_one() {
    let all = [
        "busy_ns",
        "code.file.path",
        "code.line.number",
        "code.module.name",
        "idle_ns",
        "job",
        "level",
        "target",
        "thread.id",
        "thread.name",
    ];
    assert_eq!(keys_with(""), all);
    assert_eq!(
        keys_with(r#","spanAttributes":{"location":true,"thread":true,"busyIdle":true}"#),
        all
    );
    assert_eq!(
        keys_with(r#","spanAttributes":{"location":false}"#),
        [
            "busy_ns",
            "idle_ns",
            "job",
            "level",
            "target",
            "thread.id",
            "thread.name"
        ]
    );
    assert_eq!(
        keys_with(r#","spanAttributes":{"level":false,"target":false,"thread":false}"#),
        [
            "busy_ns",
            "code.file.path",
            "code.line.number",
            "code.module.name",
            "idle_ns",
            "job"
        ]
    );
    assert_eq!(
        keys_with(r#","spanAttributes":{"thread":false,"busyIdle":false}"#),
        [
            "code.file.path",
            "code.line.number",
            "code.module.name",
            "job",
            "level",
            "target"
        ]
    );
}

#[test]
fn an_unknown_span_attribute_option_is_an_error_naming_it() {
    let Err(error) = Session::from_json(
        r#"{"layers":[{"kind":"otlpJson","spanAttributes":{"threads":false}}]}"#,
    ) else {
        panic!("an unknown option is refused");
    };
    let message = error.to_string();
    assert!(
        message.contains("layers[0]") && message.contains("spanAttributes.threads"),
        "{message}"
    );
}
