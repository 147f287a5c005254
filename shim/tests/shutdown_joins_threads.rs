//! Uninstalling a subscriber joins every thread the shim started for it: once
//! `tracing_bridge_subscriber_uninstall` returns, the process has the threads it had before
//! `tracing_bridge_subscriber_new`. A library may be closed only then (a thread still running
//! its code when it is unmapped crashes the process). The OTLP layers start exporter threads;
//! every layer kind is in `CONFIGS`, and a new one must be added.
//! One test in this file, so that no other test's threads come and go meanwhile.
#![cfg(target_os = "linux")]

use std::{collections::BTreeSet, fs, ptr};

use tracing_bridge::{
    ffi::{
        tracing_bridge_subscriber, tracing_bridge_subscriber_flush, tracing_bridge_subscriber_free,
        tracing_bridge_subscriber_install_current_thread, tracing_bridge_subscriber_install_global,
        tracing_bridge_subscriber_new, tracing_bridge_subscriber_uninstall,
    },
    tracing_bridge_result,
};

/// One config per layer kind and writer; `{file}` is replaced by a path in a temporary dir.
const CONFIGS: &[&str] = &[
    r#"{"layers":[{"kind":"fmt","writer":"stderr","filter":"warn"}]}"#,
    r#"{"layers":[{"kind":"fmt","writer":{"file":"{file}"},"format":"json"}]}"#,
    r#"{"filter":"debug","layers":[{"kind":"fmt","writer":{"file":"{file}"}},
        {"kind":"fmt","writer":{"file":"{file}"},"format":"compact","spanEvents":["close"]}]}"#,
    r#"{"layers":[{"kind":"timeline","path":"{file}.trace.json"}]}"#,
    r#"{"layers":[{"kind":"flame","path":"{file}.folded"}]}"#,
    r#"{"layers":[{"kind":"js","callbacks":["event","newSpan","close"]}]}"#,
    r#"{"layers":[{"kind":"otlpJson","writer":{"file":"{file}.otlp.jsonl"}}]}"#,
    // Nothing listens on port 9 (discard) here: the exporter fails fast and its threads must
    // still be gone after uninstall.
    r#"{"layers":[{"kind":"otlp","protocol":"grpc","endpoint":"http://127.0.0.1:9","flushTimeoutMs":300}]}"#,
    r#"{"layers":[{"kind":"otlp","protocol":"http/protobuf","endpoint":"http://127.0.0.1:9","flushTimeoutMs":300}]}"#,
];

/// The ids and names of this process's threads.
fn threads() -> BTreeSet<(String, String)> {
    fs::read_dir("/proc/self/task")
        .expect("/proc/self/task is readable")
        .filter_map(|entry| {
            let tid = entry.ok()?.file_name().into_string().ok()?;
            let name = fs::read_to_string(format!("/proc/self/task/{tid}/comm")).ok()?;
            Some((tid, name.trim().to_owned()))
        })
        .collect()
}

/// The threads not in `before`. This test's own workers (named `test-worker-*`) may stay listed
/// in `/proc/self/task` for a moment after `pthread_join` returns (the kernel wakes the joiner
/// before it reaps the task), so they get up to 5 s to go; the shim's threads get no grace.
fn threads_left_after_settling(before: &BTreeSet<(String, String)>) -> Vec<(String, String)> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let left: Vec<_> = threads().difference(before).cloned().collect();
        let workers_linger = left
            .iter()
            .any(|(_, name)| name.starts_with("test-worker-"));
        if !workers_linger || std::time::Instant::now() >= deadline {
            return left;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

fn check(result: tracing_bridge_result, call: &str) {
    assert_eq!(result, tracing_bridge_result::Ok, "{call} failed");
}

/// Builds, installs, uses, flushes, uninstalls and frees one subscriber through the C ABI.
fn run_once(config: &str, global: bool) {
    let mut subscriber: *mut tracing_bridge_subscriber = ptr::null_mut();
    unsafe {
        check(
            tracing_bridge_subscriber_new(config.as_ptr(), config.len(), &mut subscriber),
            "subscriber_new",
        );
        check(
            if global {
                tracing_bridge_subscriber_install_global(subscriber)
            } else {
                tracing_bridge_subscriber_install_current_thread(subscriber)
            },
            "install",
        );
    }
    let span = tracing::info_span!("work", global);
    span.in_scope(|| {
        for step in 0..100 {
            tracing::debug!(step, "step");
        }
        let workers: Vec<_> = (0..4)
            .map(|worker| {
                std::thread::Builder::new()
                    .name(format!("test-worker-{worker}"))
                    .spawn(move || tracing::info!(worker, "from a worker"))
                    .unwrap()
            })
            .collect();
        workers
            .into_iter()
            .for_each(|worker| worker.join().unwrap());
    });
    drop(span);
    unsafe {
        check(tracing_bridge_subscriber_flush(subscriber), "flush");
        check(tracing_bridge_subscriber_uninstall(subscriber), "uninstall");
        tracing_bridge_subscriber_free(subscriber);
    }
}

#[test]
fn uninstall_leaves_no_thread_the_shim_started() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("out.log");
    let file = serde_json::to_string(&file).unwrap();
    let file = file.trim_matches('"');
    let before = threads();
    for (index, config) in CONFIGS.iter().enumerate() {
        let config = config.replace("{file}", file);
        for global in [true, false] {
            run_once(&config, global);
            let left = threads_left_after_settling(&before);
            assert!(
                left.is_empty(),
                "CONFIGS[{index}] (global: {global}) left threads running after uninstall: \
                 {left:?}"
            );
        }
    }
    assert!(fs::metadata(dir.path().join("out.log")).unwrap().len() > 0);
}
