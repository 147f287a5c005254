//! What the timeline layer writes, read back as a trace viewer would. The tests run one after
//! another (a mutex) because the global subscriber is per process.

use std::{
    collections::HashMap,
    fs,
    path::Path,
    sync::{mpsc, Mutex},
    thread,
};

use serde_json::Value;
use tracing_bridge::{ErrorKind, Session};

static GLOBAL: Mutex<()> = Mutex::new(());

fn timeline_config(path: &Path, extra: &str) -> String {
    format!(
        r#"{{"filter":"trace","layers":[{{"kind":"timeline","path":{}{extra}}}]}}"#,
        serde_json::to_string(path).unwrap()
    )
}

fn read_trace(path: &Path) -> Vec<Value> {
    let text = fs::read_to_string(path).unwrap();
    serde_json::from_str::<Vec<Value>>(&text).unwrap_or_else(|error| panic!("{error}: {text}"))
}

/// Thread names by track id, from the `thread_name` metadata entries.
fn thread_names(entries: &[Value]) -> HashMap<u64, String> {
    entries
        .iter()
        .filter(|entry| entry["ph"] == "M" && entry["name"] == "thread_name")
        .map(|entry| {
            let name = entry["args"]["name"].as_str().unwrap().to_owned();
            (entry["tid"].as_u64().unwrap(), name)
        })
        .collect()
}

/// Span names per track, checking that begin/end pairs nest properly on each track.
fn spans_per_track(entries: &[Value]) -> HashMap<u64, Vec<String>> {
    let mut open: HashMap<u64, Vec<String>> = HashMap::new();
    let mut done: HashMap<u64, Vec<String>> = HashMap::new();
    for entry in entries {
        let tid = entry["tid"].as_u64().unwrap_or(0);
        let name = entry["name"].as_str().unwrap().to_owned();
        match entry["ph"].as_str().unwrap() {
            "B" => open.entry(tid).or_default().push(name),
            "E" => {
                let begun = open.get_mut(&tid).and_then(Vec::pop);
                assert_eq!(begun.as_deref(), Some(name.as_str()), "E without its B");
                done.entry(tid).or_default().push(name);
            }
            _ => {}
        }
    }
    assert!(open.values().all(Vec::is_empty), "unclosed spans: {open:?}");
    done
}

#[tracing::instrument]
fn recurse(depth: u32) {
    if depth > 0 {
        recurse(depth - 1);
    }
}

#[test]
fn threaded_style_nests_spans_per_thread_with_args_and_events() {
    let _global = GLOBAL.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trace.json");
    let mut session = Session::from_json(&timeline_config(&path, "")).unwrap();
    session.install_global().unwrap();
    recurse(2);
    tracing::info!(answer = 42, "an event");
    thread::Builder::new()
        .name("helper".into())
        .spawn(|| recurse(1))
        .unwrap()
        .join()
        .unwrap();
    session.uninstall().unwrap();

    let entries = read_trace(&path);
    let names = thread_names(&entries);
    let spans = spans_per_track(&entries);
    let helper = names.iter().find(|(_, name)| *name == "helper").unwrap().0;
    assert_eq!(spans[helper], ["recurse", "recurse"]);
    let main = spans.keys().find(|tid| *tid != helper).unwrap();
    assert_eq!(spans[main], ["recurse", "recurse", "recurse"]);

    let first_begin = entries.iter().find(|entry| entry["ph"] == "B").unwrap();
    assert_eq!(first_begin["args"]["depth"], 2);
    assert_eq!(first_begin["cat"], "timeline_layer");
    assert!(first_begin[".file"]
        .as_str()
        .unwrap()
        .ends_with("timeline_layer.rs"));
    let event = entries.iter().find(|entry| entry["ph"] == "i").unwrap();
    assert_eq!(event["name"], "an event");
    assert_eq!(event["args"]["answer"], 42);
}

#[test]
fn a_second_timeline_keeps_every_thread_on_its_own_named_track() {
    // Regression: tracing-chrome 0.7 keeps its channel and thread numbers in thread-locals, so a
    // second timeline lost a long-lived thread's spans and gave two threads one track.
    let _global = GLOBAL.lock().unwrap_or_else(|p| p.into_inner());
    let (work, pool) = mpsc::channel::<mpsc::Sender<()>>();
    let pooled = thread::Builder::new()
        .name("pooled".into())
        .spawn(move || {
            for done in pool {
                recurse(0);
                done.send(()).unwrap();
            }
        })
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    for name in ["first.json", "second.json"] {
        let path = dir.path().join(name);
        let mut session = Session::from_json(&timeline_config(&path, "")).unwrap();
        session.install_global().unwrap();
        recurse(0);
        let (done, finished) = mpsc::channel();
        work.send(done).unwrap();
        finished.recv().unwrap();
        thread::Builder::new()
            .name("fresh".into())
            .spawn(|| recurse(0))
            .unwrap()
            .join()
            .unwrap();
        session.uninstall().unwrap();

        let entries = read_trace(&path);
        let names = thread_names(&entries);
        let spans = spans_per_track(&entries);
        assert_eq!(spans.len(), 3, "{name}: three tracks: {spans:?}");
        let mut named: Vec<_> = spans.keys().map(|tid| names[tid].as_str()).collect();
        named.sort();
        assert!(
            named.contains(&"pooled") && named.contains(&"fresh"),
            "{named:?}"
        );
        assert!(
            spans.values().all(|track| track == &["recurse"]),
            "{name}: {spans:?}"
        );
    }
    drop(work);
    pooled.join().unwrap();
}

#[test]
fn async_style_groups_a_span_tree_by_its_root() {
    let _global = GLOBAL.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("async.json");
    let config = timeline_config(&path, r#","style":"async","includeArgs":false"#);
    let mut session = Session::from_json(&config).unwrap();
    session.install_global().unwrap();
    recurse(1);
    session.uninstall().unwrap();

    let entries = read_trace(&path);
    let phases: Vec<_> = entries
        .iter()
        .filter(|entry| entry["ph"] != "M")
        .map(|entry| entry["ph"].as_str().unwrap())
        .collect();
    assert_eq!(phases, ["b", "b", "e", "e"]);
    let ids: Vec<_> = entries.iter().filter_map(|entry| entry.get("id")).collect();
    assert!(ids.windows(2).all(|pair| pair[0] == pair[1]), "{ids:?}");
    assert!(entries
        .iter()
        .all(|entry| entry.get("args").is_none() || entry["ph"] == "M"));
}

#[test]
fn flush_writes_out_while_installed_and_dispose_finishes_the_document() {
    let _global = GLOBAL.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flushed.json");
    let mut session = Session::from_json(&timeline_config(&path, "")).unwrap();
    session.install_current_thread().unwrap();
    recurse(0);
    session.flush().unwrap();
    let partial = fs::read_to_string(&path).unwrap();
    assert!(
        partial.starts_with("[\n") && partial.contains(r#""ph":"E""#),
        "{partial}"
    );
    assert!(
        serde_json::from_str::<Value>(&partial).is_err(),
        "not finished yet"
    );
    session.uninstall().unwrap();
    assert_eq!(spans_per_track(&read_trace(&path)).len(), 1);
}

#[test]
fn an_unwritable_path_is_a_typed_error_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no/such/dir/trace.json");
    let error = Session::from_json(&timeline_config(&missing, "")).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::FileNotWritable);
    assert!(
        error.message().starts_with("layers[0].path: directory"),
        "{}",
        error.message()
    );

    let error = Session::from_json(&timeline_config(dir.path(), "")).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::FileNotWritable);
    assert!(
        error.message().contains("cannot create"),
        "{}",
        error.message()
    );
}

#[test]
fn a_span_entered_recorded_and_closed_on_other_threads_keeps_its_args() {
    // A thread keeps the fields of the spans it created: another thread entering, recording or
    // closing such a span finds them there, and a closed span's id, reused by the registry, never
    // brings back the fields of the span that had it before.
    let _global = GLOBAL.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trace.json");
    let mut session = Session::from_json(&timeline_config(&path, "")).unwrap();
    session.install_global().unwrap();
    for round in 0..3u64 {
        let span = tracing::info_span!("moved", round, later = tracing::field::Empty);
        let creator_alive = round == 1;
        let worker = thread::Builder::new()
            .name(format!("worker-{round}"))
            .spawn(move || {
                span.in_scope(|| tracing::info!("inside"));
                span.record("later", "set on the worker");
                span.in_scope(|| {});
                // Closed here, on another thread than its creator.
                drop(span);
            })
            .unwrap();
        worker.join().unwrap();
        if creator_alive {
            // Spans created by a thread that has ended stay reachable too.
            let span = thread::spawn(move || tracing::info_span!("orphan", round))
                .join()
                .unwrap();
            span.in_scope(|| {});
        }
        // Reuses the slot (and so the id) of the span closed on the worker.
        let fresh = tracing::info_span!("fresh", round);
        fresh.in_scope(|| {});
    }
    session.uninstall().unwrap();

    let entries = read_trace(&path);
    let begins: Vec<&Value> = entries.iter().filter(|entry| entry["ph"] == "B").collect();
    let summary: Vec<String> = begins
        .iter()
        .map(|entry| format!("{} {}", entry["name"].as_str().unwrap(), entry["args"]))
        .collect();
    let mut expected = Vec::new();
    for round in 0..3 {
        expected.push(format!(r#"moved {{"round":{round}}}"#));
        // (`serde_json::Value` sorts the keys.)
        expected.push(format!(
            r#"moved {{"later":"set on the worker","round":{round}}}"#
        ));
        if round == 1 {
            expected.push(format!(r#"orphan {{"round":{round}}}"#));
        }
        expected.push(format!(r#"fresh {{"round":{round}}}"#));
    }
    assert_eq!(summary, expected);
    assert_eq!(
        entries.iter().filter(|entry| entry["ph"] == "E").count(),
        begins.len()
    );
}
