//! A thread that installs a subscriber and ends without stopping it (a terminated Worker)
//! releases it: the global slot frees up and its JS layers' queued records count as dropped.

use std::sync::mpsc;

use tracing_bridge::{layers::js::JsSink, Session};

const JS_LAYER: &str = r#"{"layers":[{"kind":"js","callbacks":["event"],"filter":"info"}]}"#;

#[test]
fn a_thread_that_ends_with_its_global_subscriber_installed_releases_it() {
    let (sender, receiver) = mpsc::channel();
    let owner = std::thread::spawn(move || {
        let mut session = Session::from_json(JS_LAYER).unwrap();
        session.install_global().unwrap();
        tracing::info!("queued for JavaScript that will never drain it");
        sender.send(()).unwrap();
        // The JavaScript that owned it is gone: the session is never stopped nor freed.
        std::mem::forget(session);
    });
    receiver.recv().unwrap();
    owner.join().unwrap();

    let mut next = Session::from_json(JS_LAYER).unwrap();
    next.install_global()
        .expect("the ended thread's global subscriber was released");
    tracing::info!("reaches the new subscriber");
    let sink = next.layer_extension::<JsSink>(0).unwrap();
    assert!(sink.pending());
    next.uninstall().unwrap();
}

#[test]
fn a_stopped_subscriber_is_left_alone_when_its_thread_ends() {
    let owner = std::thread::spawn(|| {
        let mut session = Session::from_json(r#"{"layers":[]}"#).unwrap();
        session.install_current_thread().unwrap();
        session.uninstall().unwrap();
        session
    });
    let session = owner.join().unwrap();
    assert!(!session.is_installed());
}
