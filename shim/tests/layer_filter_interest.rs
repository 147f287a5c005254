//! A span that every layer's own filter rejects is not created at all: its callsite is
//! disabled and the `tracing` macros skip it (tracing-subscriber's registry would otherwise
//! create it and let each per-layer filter skip it, at the cost of a full span). One test, as
//! it installs the process-wide subscriber and reads the global max level.

use tracing::level_filters::LevelFilter;
use tracing_bridge::Session;

fn session(config: &str) -> Session {
    let mut session = Session::from_json(config).unwrap();
    session.install_global().unwrap();
    session
}

#[test]
fn spans_no_layer_wants_are_disabled_at_the_callsite() {
    let dir = tempfile::tempdir().unwrap();
    let file = serde_json::to_string(&dir.path().join("out.log")).unwrap();

    let only_warn = session(&format!(
        r#"{{"layers":[{{"kind":"fmt","writer":{{"file":{file}}},"filter":"warn"}}]}}"#
    ));
    assert_eq!(LevelFilter::current(), LevelFilter::WARN);
    assert!(tracing::info_span!("quiet").is_disabled());
    assert!(!tracing::warn_span!("loud").is_disabled());
    only_warn.set_layer_filter(0, "debug").unwrap();
    assert_eq!(
        LevelFilter::current(),
        LevelFilter::DEBUG,
        "a filter change takes effect"
    );
    assert!(!tracing::info_span!("quiet").is_disabled());
    only_warn.uninstall().unwrap();

    // Two layers: the more verbose one decides; a target only one layer wants stays enabled.
    let two = session(&format!(
        r#"{{"layers":[{{"kind":"fmt","writer":{{"file":{file}}},"filter":"warn"}},
            {{"kind":"fmt","writer":{{"file":{file}}},"filter":"other=trace"}}]}}"#
    ));
    assert_eq!(LevelFilter::current(), LevelFilter::TRACE);
    assert!(tracing::info_span!("quiet").is_disabled());
    assert!(!tracing::trace_span!(target: "other", "wanted").is_disabled());
    two.uninstall().unwrap();

    // The config's global filter and a layer's own filter both apply.
    let global = session(&format!(
        r#"{{"filter":"info","layers":[{{"kind":"fmt","writer":{{"file":{file}}},"filter":"debug"}}]}}"#
    ));
    assert!(tracing::debug_span!("detail").is_disabled());
    assert!(!tracing::info_span!("step").is_disabled());
    global.uninstall().unwrap();

    // Nothing installed: nothing recorded.
    assert!(tracing::error_span!("after").is_disabled());
}
