//! The global subscriber can be replaced: dispose one config, start another, and the new one
//! works, while spans of the old one never reach the new layers. One test, since the global
//! default is per process.

use std::fs;

use tracing_bridge::{ErrorKind, Session};

fn file_config(path: &std::path::Path) -> String {
    format!(
        r#"{{"layers":[{{"kind":"fmt","writer":{{"file":{}}},"spanEvents":["close"]}}]}}"#,
        serde_json::to_string(path).unwrap()
    )
}

#[test]
fn global_configs_can_follow_each_other() {
    let dir = tempfile::tempdir().unwrap();
    let first_path = dir.path().join("first.log");
    let second_path = dir.path().join("second.log");

    let mut first = Session::from_json(&file_config(&first_path)).unwrap();
    first.install_global().unwrap();
    let long_lived = tracing::info_span!("long_lived");
    tracing::info!("one");

    let mut rival = Session::from_json(&file_config(&second_path)).unwrap();
    let error = rival.install_global().unwrap_err();
    assert_eq!(error.kind(), ErrorKind::GlobalAlreadyActive);

    first.uninstall().unwrap();
    tracing::info!("between configs: recorded nowhere");

    let mut second = Session::from_json(&file_config(&second_path)).unwrap();
    second.install_global().unwrap();
    std::thread::spawn(|| tracing::info!("two, from another thread"))
        .join()
        .unwrap();
    // Created under the first config: its close must not reach the second one.
    long_lived.in_scope(|| {});
    drop(long_lived);
    // Created under the second config, and still open when the third starts.
    let from_second = tracing::info_span!("from_second");
    drop(second);

    let first_text = fs::read_to_string(&first_path).unwrap();
    let second_text = fs::read_to_string(&second_path).unwrap();
    assert_eq!(first_text.lines().count(), 1, "{first_text}");
    assert!(first_text.contains("one"));
    assert_eq!(second_text.lines().count(), 1, "{second_text}");
    assert!(second_text.contains("two, from another thread"));

    // After drop, a third config can still start; the second's span never reaches it, its own
    // spans do (whether spans are marked with their config or not, see `dispatch::switch`).
    let third_path = dir.path().join("third.log");
    let mut third = Session::from_json(&file_config(&third_path)).unwrap();
    third.install_global().unwrap();
    tracing::info_span!("in_third").in_scope(|| {});
    drop(from_second);
    third.uninstall().unwrap();
    // A fourth, started with no span open, and a span of the third that outlives it.
    let mut fourth = Session::from_json(&file_config(&third_path)).unwrap();
    fourth.install_global().unwrap();
    let from_fourth = tracing::info_span!("from_fourth");
    tracing::info_span!("in_fourth").in_scope(|| {});
    fourth.uninstall().unwrap();
    let mut fifth = Session::from_json(&file_config(&third_path)).unwrap();
    fifth.install_global().unwrap();
    drop(from_fourth);
    tracing::info_span!("in_fifth").in_scope(|| {});
    fifth.uninstall().unwrap();

    let third_text = fs::read_to_string(&third_path).unwrap();
    let closed: Vec<&str> = third_text
        .lines()
        .map(|line| line.split_whitespace().nth(2).unwrap_or(line))
        .collect();
    assert_eq!(
        closed,
        ["in_third:", "in_fourth:", "in_fifth:"],
        "{third_text}"
    );
}
