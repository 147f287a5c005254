//! A span whose explicit parent belongs to another dispatcher does not panic.

use tracing_bridge::Session;

#[test]
fn a_parent_from_a_current_thread_config_is_tolerated_on_other_threads() {
    let mut global =
        Session::from_json(r#"{"layers":[{"kind":"fmt","writer":"stderr"}]}"#).unwrap();
    global.install_global().unwrap();
    let mut local = Session::from_json(r#"{"layers":[{"kind":"fmt","writer":"stderr"}]}"#).unwrap();
    local.install_current_thread().unwrap();
    let parent = tracing::info_span!("on_this_thread");
    let worker = {
        let parent = parent.clone();
        std::thread::spawn(move || {
            let child = tracing::info_span!(parent: &parent, "child_elsewhere");
            child.follows_from(&parent);
            child.in_scope(|| tracing::info!(parent: &parent, "event with a foreign parent"));
        })
    };
    assert!(worker.join().is_ok(), "the worker thread must not panic");
    local.uninstall().unwrap();
    global.uninstall().unwrap();
}
