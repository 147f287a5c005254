//! `OTEL_SDK_DISABLED=true` makes the OpenTelemetry layers no-ops: entering a config with an
//! `otlp` or `otlpJson` layer starts no thread, opens no file and reads none of the other
//! `OTEL_*` variables (an invalid one is no error), and spans recorded meanwhile go nowhere.
//! `OTEL_TRACES_EXPORTER=none` does the same for an `otlp` layer. One test in this file: it
//! sets the process environment.
#![cfg(target_os = "linux")]

use std::{collections::BTreeSet, fs};

use tracing_bridge::Session;

/// The names of this process's threads.
fn thread_names() -> BTreeSet<String> {
    fs::read_dir("/proc/self/task")
        .expect("/proc/self/task is readable")
        .filter_map(|entry| {
            let tid = entry.ok()?.file_name().into_string().ok()?;
            let name = fs::read_to_string(format!("/proc/self/task/{tid}/comm")).ok()?;
            Some(name.trim().to_owned())
        })
        .collect()
}

fn no_export_threads() {
    let names = thread_names();
    assert!(
        !names.iter().any(|name| name.starts_with("tracing-bridge")),
        "{names:?}"
    );
}

#[test]
fn disabled_layers_start_nothing_and_record_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("spans.jsonl");
    let configs = [
        format!(
            r#"{{"layers":[{{"kind":"otlpJson","writer":{{"file":{}}}}}]}}"#,
            serde_json::to_string(&file).unwrap()
        ),
        r#"{"layers":[{"kind":"otlp","protocol":"grpc","endpoint":"http://127.0.0.1:9"}]}"#
            .to_owned(),
    ];
    std::env::set_var("OTEL_SDK_DISABLED", "True");
    // Read only when a layer is built: a disabled one is not.
    std::env::set_var("OTEL_TRACES_SAMPLER", "not a sampler");
    for config in &configs {
        let mut session = Session::from_json(config).unwrap();
        session.install_current_thread().unwrap();
        tracing::info_span!("ignored").in_scope(|| tracing::info!("nowhere"));
        no_export_threads();
        session.uninstall().unwrap();
    }
    assert!(!file.exists(), "the otlpJson file is not opened");

    std::env::remove_var("OTEL_SDK_DISABLED");
    std::env::set_var("OTEL_TRACES_EXPORTER", "none");
    let mut session = Session::from_json(&configs[1]).unwrap();
    session.install_current_thread().unwrap();
    tracing::info_span!("ignored").in_scope(|| tracing::info!("nowhere"));
    no_export_threads();
    session.uninstall().unwrap();

    // Enabled again, the same config fails on the sampler it now reads.
    std::env::remove_var("OTEL_TRACES_EXPORTER");
    let error = Session::from_json(&configs[0]).unwrap_err();
    assert!(
        error
            .message()
            .contains("OTEL_TRACES_SAMPLER=`not a sampler`"),
        "{}",
        error.message()
    );
}
