//! Filters changed while a subscriber is installed take effect at once, for the global filter
//! and for one layer's own, and an invalid change keeps the old filter.

use std::{fs, path::Path, sync::Mutex, thread};

use tracing_bridge::{ErrorKind, Session};

static GLOBAL: Mutex<()> = Mutex::new(());

fn fmt_file(path: &Path, filter: Option<&str>) -> String {
    let filter = filter.map_or(String::new(), |f| format!(r#","filter":"{f}""#));
    format!(
        r#"{{"kind":"fmt","writer":{{"file":{}}}{filter}}}"#,
        serde_json::to_string(path).unwrap()
    )
}

fn emit_each_level(tag: &str) {
    tracing::trace!(tag, "at trace");
    tracing::debug!(tag, "at debug");
    tracing::info!(tag, "at info");
}

/// The levels of the lines carrying `tag`.
fn levels(path: &Path, tag: &str) -> Vec<String> {
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|line| line.contains(&format!("tag=\"{tag}\"")))
        .map(|line| line.split_whitespace().nth(1).unwrap().to_owned())
        .collect()
}

#[test]
fn raising_and_lowering_the_global_filter_takes_effect_at_once_on_every_thread() {
    let _global = GLOBAL.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("global.log");
    let config = format!(
        r#"{{"filter":"info","layers":[{}]}}"#,
        fmt_file(&path, None)
    );
    let mut session = Session::from_json(&config).unwrap();
    session.install_global().unwrap();
    emit_each_level("before");
    session.set_filter("trace").unwrap();
    emit_each_level("raised");
    thread::spawn(|| emit_each_level("raised-elsewhere"))
        .join()
        .unwrap();
    session.set_filter("info").unwrap();
    emit_each_level("lowered");
    session.uninstall().unwrap();

    assert_eq!(levels(&path, "before"), ["INFO"]);
    assert_eq!(levels(&path, "raised"), ["TRACE", "DEBUG", "INFO"]);
    assert_eq!(
        levels(&path, "raised-elsewhere"),
        ["TRACE", "DEBUG", "INFO"]
    );
    assert_eq!(levels(&path, "lowered"), ["INFO"]);
}

#[test]
fn an_invalid_directive_is_named_and_keeps_the_old_filter() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("invalid.log");
    let config = format!(
        r#"{{"filter":"debug","layers":[{}]}}"#,
        fmt_file(&path, None)
    );
    let mut session = Session::from_json(&config).unwrap();
    session.install_current_thread().unwrap();
    let error = session.set_filter("info,runtime_filter=loud").unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidFilter);
    assert!(
        error.message().contains("`runtime_filter=loud`"),
        "{}",
        error.message()
    );
    assert!(
        error.message().contains("previous filter stays"),
        "{}",
        error.message()
    );
    emit_each_level("after-invalid");
    session.uninstall().unwrap();
    assert_eq!(levels(&path, "after-invalid"), ["DEBUG", "INFO"]);
}

#[test]
fn one_layers_filter_changes_without_touching_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let quiet = dir.path().join("quiet.log");
    let steady = dir.path().join("steady.log");
    let config = format!(
        r#"{{"layers":[{},{}]}}"#,
        fmt_file(&quiet, Some("info")),
        fmt_file(&steady, Some("debug"))
    );
    let mut session = Session::from_json(&config).unwrap();
    session.install_current_thread().unwrap();
    emit_each_level("one");
    session.set_layer_filter(0, "trace").unwrap();
    emit_each_level("two");
    let error = session.set_layer_filter(1, "[[").unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidFilter);
    assert!(error.message().contains("layers[1]"), "{}", error.message());
    let error = session.set_layer_filter(2, "info").unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidConfig);
    assert!(
        error.message().contains("has 2 layer(s)"),
        "{}",
        error.message()
    );
    session.set_layer_filter(0, "warn").unwrap();
    emit_each_level("three");
    session.uninstall().unwrap();

    assert_eq!(levels(&quiet, "one"), ["INFO"]);
    assert_eq!(levels(&quiet, "two"), ["TRACE", "DEBUG", "INFO"]);
    assert!(levels(&quiet, "three").is_empty());
    for tag in ["one", "two", "three"] {
        assert_eq!(levels(&steady, tag), ["DEBUG", "INFO"], "{tag}");
    }
}

#[test]
fn a_filter_cannot_change_before_install_or_after_uninstall() {
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        r#"{{"layers":[{}]}}"#,
        fmt_file(&dir.path().join("x.log"), None)
    );
    let mut session = Session::from_json(&config).unwrap();
    assert_eq!(
        session.set_filter("debug").unwrap_err().kind(),
        ErrorKind::NotInstalled
    );
    session.install_current_thread().unwrap();
    session.set_filter("debug").unwrap();
    session.uninstall().unwrap();
    assert_eq!(
        session.set_layer_filter(0, "debug").unwrap_err().kind(),
        ErrorKind::NotInstalled
    );
}

/// A layer installed without a filter gets its span callbacks without the per-layer filter's
/// check (every span is enabled for it); once it has a filter, a span the filter disables
/// must not reach it on enter, exit or close, while a span made before the filter does.
#[test]
fn a_filter_given_to_an_unfiltered_layer_keeps_its_spans_out() {
    let dir = tempfile::tempdir().unwrap();
    let watched = dir.path().join("watched.log");
    let other = dir.path().join("other.log");
    let with_span_events = |path: &Path| {
        format!(
            r#"{{"kind":"fmt","writer":{{"file":{}}},"spanEvents":["enter","exit","close"]}}"#,
            serde_json::to_string(path).unwrap()
        )
    };
    let config = format!(
        r#"{{"layers":[{},{}]}}"#,
        with_span_events(&watched),
        with_span_events(&other)
    );
    let mut session = Session::from_json(&config).unwrap();
    session.install_current_thread().unwrap();
    let before = tracing::info_span!("made_before");
    before.in_scope(|| {});
    session.set_layer_filter(0, "warn").unwrap();
    before.in_scope(|| {});
    drop(before);
    let after = tracing::info_span!("made_after");
    after.in_scope(|| {});
    drop(after);
    session.uninstall().unwrap();

    let count = |path: &Path, name: &str| {
        fs::read_to_string(path)
            .unwrap()
            .lines()
            .filter(|line| line.contains(name))
            .count()
    };
    // Two enters, two exits and a close; one enter, one exit and a close.
    assert_eq!(count(&other, "made_before"), 5);
    assert_eq!(count(&other, "made_after"), 3);
    assert_eq!(count(&watched, "made_before"), 5);
    assert_eq!(count(&watched, "made_after"), 0);
}
