//! What the fmt layer writes, as a user reads it from the output file.

use std::fs;

use tracing_bridge::Session;

fn run_with(config: &str, body: impl FnOnce()) {
    let mut session = Session::from_json(config).unwrap();
    session.install_current_thread().unwrap();
    body();
    session.uninstall().unwrap();
}

fn file_layer(path: &std::path::Path, extra: &str) -> String {
    format!(
        r#"{{"kind":"fmt","writer":{{"file":{}}}{extra}}}"#,
        serde_json::to_string(path).unwrap()
    )
}

#[tracing::instrument]
fn traced(index: u32) {
    tracing::debug!(index, "debug inside");
    tracing::info!(text = "hi", flag = true, "info inside");
}

#[test]
fn full_format_prints_spans_and_fields() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("full.log");
    let layer = file_layer(&path, r#","filter":"debug""#);
    run_with(&format!(r#"{{"layers":[{layer}]}}"#), || traced(3));
    let text = fs::read_to_string(&path).unwrap();
    let lines: Vec<_> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].contains("DEBUG traced{index=3}: fmt_layer_output: debug inside index=3"));
    assert!(lines[1]
        .contains(r#"INFO traced{index=3}: fmt_layer_output: info inside text="hi" flag=true"#));
}

#[test]
fn json_format_is_one_object_per_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.jsonl");
    let layer = file_layer(&path, r#","format":"json","filter":"info""#);
    run_with(&format!(r#"{{"layers":[{layer}]}}"#), || traced(4));
    let text = fs::read_to_string(&path).unwrap();
    let records: Vec<serde_json::Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["fields"]["message"], "info inside");
    assert_eq!(records[0]["span"]["name"], "traced");
    assert_eq!(records[0]["level"], "INFO");
}

#[test]
fn each_layer_has_its_own_filter() {
    let dir = tempfile::tempdir().unwrap();
    let info = dir.path().join("info.log");
    let debug = dir.path().join("debug.log");
    let config = format!(
        r#"{{"layers":[{},{}]}}"#,
        file_layer(&info, r#","filter":"info""#),
        file_layer(&debug, r#","filter":"debug""#)
    );
    run_with(&config, || traced(5));
    assert_eq!(fs::read_to_string(&info).unwrap().lines().count(), 1);
    assert_eq!(fs::read_to_string(&debug).unwrap().lines().count(), 2);
}

#[test]
fn span_events_and_display_toggles_are_applied() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("toggles.log");
    let layer = file_layer(
        &path,
        r#","filter":"info","spanEvents":["new","close"],"target":false,"level":false,"threadNames":true,"line":true"#,
    );
    let event_line = line!() + 2;
    run_with(&format!(r#"{{"layers":[{layer}]}}"#), || {
        tracing::info_span!("outer").in_scope(|| tracing::info!("inside"));
    });
    let text = fs::read_to_string(&path).unwrap();
    let lines: Vec<_> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].ends_with(": new"), "{text}");
    assert!(
        lines[1].ends_with(&format!("outer: {event_line}: inside")),
        "{text}"
    );
    assert!(lines[2].contains(": close time.busy="), "{text}");
    assert!(
        !text.contains("INFO") && !text.contains("fmt_layer_output:"),
        "{text}"
    );
    assert!(
        text.contains("span_events_and_display_toggles_are_applied"),
        "thread name: {text}"
    );
}

#[test]
fn a_missing_directory_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing").join("x.log");
    let error =
        Session::from_json(&format!(r#"{{"layers":[{}]}}"#, file_layer(&path, ""))).unwrap_err();
    assert_eq!(error.kind(), tracing_bridge::ErrorKind::FileNotWritable);
    assert!(
        error.message().contains("layers[0].writer.file: directory"),
        "{error}"
    );
}
