//! An fmt layer that cannot write (a full disk: `/dev/full`) says so: once on stderr when it
//! happens, and as an error from the next flush that names the file and counts the lost events.

use tracing_bridge::{ErrorKind, Session};

#[test]
fn flush_reports_the_events_lost_since_the_last_flush_naming_the_file() {
    let mut session = Session::from_json(
        r#"{"filter":"info","layers":[{"kind":"fmt","writer":{"file":"/dev/full"}}]}"#,
    )
    .unwrap();
    session.install_current_thread().unwrap();
    for index in 0..3 {
        tracing::info!(index, "lost");
    }
    let error = session.flush().unwrap_err();
    assert_eq!(error.kind(), ErrorKind::FileNotWritable);
    assert!(
        error
            .message()
            .starts_with("fmt layer layers[0]: `/dev/full`: 3 events could not be written: "),
        "{}",
        error.message()
    );
    assert!(
        error.message().contains("No space left on device"),
        "{}",
        error.message()
    );
    session.flush().unwrap();
    tracing::warn!("lost too");
    let error = session.uninstall().unwrap_err();
    assert!(
        error
            .message()
            .contains("`/dev/full`: 1 event could not be written"),
        "{}",
        error.message()
    );
}
