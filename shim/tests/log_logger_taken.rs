//! When other code set the library's `log` logger before a config is started, that logger
//! keeps the records and the max level it set, starting a config succeeds, and stderr says
//! once why `log` records do not reach the layers. The test runs itself again as a child
//! process, to read that stderr.

use std::{
    process::Command,
    sync::atomic::{AtomicUsize, Ordering},
};

use tracing_bridge::Session;

const CHILD: &str = "TRACING_BRIDGE_TEST_LOG_LOGGER_TAKEN_CHILD";
const NOTE: &str = "the `log` crate in this library already has a logger";

/// The program's own logger: counts records.
struct Counting(AtomicUsize);

impl log::Log for Counting {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, _: &log::Record<'_>) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
    fn flush(&self) {}
}

static OWN_LOGGER: Counting = Counting(AtomicUsize::new(0));

#[test]
fn another_logger_keeps_the_records_and_the_note_comes_once() {
    if std::env::var_os(CHILD).is_some() {
        return child();
    }
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "another_logger_keeps_the_records_and_the_note_comes_once",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert_eq!(stderr.matches(NOTE).count(), 1, "{stderr}");
    assert!(stderr.contains("env_logger::init()"), "{stderr}");
    assert!(stderr.contains("`log` feature"), "{stderr}");
}

fn child() {
    log::set_logger(&OWN_LOGGER).unwrap();
    log::set_max_level(log::LevelFilter::Trace);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.log");
    let config = format!(
        r#"{{"filter":"info","layers":[{{"kind":"fmt","writer":{{"file":{}}}}}]}}"#,
        serde_json::to_string(&path).unwrap()
    );
    for global in [false, true, false] {
        let mut session = Session::from_json(&config).unwrap();
        if global {
            session.install_global().unwrap();
        } else {
            session.install_current_thread().unwrap();
        }
        log::warn!("to the program's own logger");
        tracing::warn!("to the layers");
        session.set_filter("error").unwrap();
        assert_eq!(log::max_level(), log::LevelFilter::Trace, "left as set");
        session.uninstall().unwrap();
    }
    assert_eq!(OWN_LOGGER.0.load(Ordering::Relaxed), 3);
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(!text.contains("own logger"), "{text}");
}
