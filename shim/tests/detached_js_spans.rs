//! Detached JavaScript spans (made without the registry, `js_spans::detached`): when a span is
//! detached and when not, how detached spans are counted when their config stops (here or on
//! another thread), that one still open when its thread ends is exported, and that one whose
//! routing changed with a filter since it started acts as ended for what needs the registry.
//! What they export is compared with the other ways in `light_js_spans.rs`.

#[path = "support/otlp_json.rs"]
mod otlp_json;

use std::sync::mpsc;

use otlp_json::read_spans;
use tracing_bridge::{
    js_spans::{
        callsites::{CallsiteKind, Callsites},
        spans,
    },
    Session,
};

#[path = "support/global_lock.rs"]
mod global_lock;
use global_lock::global_lock;

fn otlp_layer(path: &std::path::Path, extra: &str) -> String {
    format!(
        r#"{{"kind":"otlpJson","writer":{{"file":{}}},"batch":{{"scheduledDelayMs":600000}},
            "spanAttributes":{{"busyIdle":false}}{extra}}}"#,
        serde_json::to_string(path).unwrap()
    )
}

fn callsite(name: &str, fields: &[&str]) -> u32 {
    Callsites::global()
        .intern(
            CallsiteKind::Span,
            tracing::Level::INFO,
            name,
            "app",
            fields,
        )
        .unwrap()
}

/// Whether a span of `name` (no fields) made with `parent` under the current-thread config
/// `config` is detached; the config is uninstalled afterwards.
fn detached_under(config: &str, name: &str, parent: u32) -> bool {
    let mut session = Session::from_json(config).unwrap();
    session.install_current_thread().unwrap();
    let handle = spans::create(callsite(name, &[]), parent, &[]).unwrap();
    let detached = spans::is_detached(handle);
    spans::end(handle).unwrap();
    session.uninstall().unwrap();
    detached
}

#[test]
fn only_spans_that_only_an_opentelemetry_layer_sees_are_detached() {
    let dir = tempfile::tempdir().unwrap();
    let otlp = otlp_layer(&dir.path().join("a.jsonl"), "");
    let fmt_file = serde_json::to_string(&dir.path().join("fmt.log")).unwrap();
    let root = spans::PARENT_NONE;
    let current = spans::PARENT_CURRENT;
    let cases = [
        // (config, span name, parent, detached)
        (format!(r#"{{"layers":[{otlp}]}}"#), "alone", root, true),
        (
            format!(r#"{{"layers":[{otlp}]}}"#),
            "alone current",
            current,
            true,
        ),
        (
            format!(r#"{{"layers":[{otlp},{{"kind":"fmt","writer":{{"file":{fmt_file}}}}}]}}"#),
            "with fmt",
            root,
            false,
        ),
        (
            format!(
                r#"{{"layers":[{otlp},{{"kind":"fmt","writer":{{"file":{fmt_file}}},"filter":"other=info"}}]}}"#
            ),
            "with fmt elsewhere",
            root,
            true,
        ),
        (
            format!(r#"{{"filter":"app=debug","layers":[{otlp}]}}"#),
            "global filter",
            root,
            true,
        ),
        (
            format!(r#"{{"filter":"app=debug,x[y]=trace","layers":[{otlp}]}}"#),
            "global filter with a span directive",
            root,
            false,
        ),
        (
            format!(r#"{{"filter":"app=warn","layers":[{otlp}]}}"#),
            "filtered out",
            root,
            false,
        ),
        (
            format!(
                r#"{{"layers":[{}]}}"#,
                otlp_layer(&dir.path().join("b.jsonl"), r#","filter":"app=info""#)
            ),
            "layer filter",
            root,
            true,
        ),
        (
            format!(
                r#"{{"layers":[{}]}}"#,
                otlp_layer(&dir.path().join("c.jsonl"), r#","filter":"app[x]=info""#)
            ),
            "layer filter with a span directive",
            root,
            false,
        ),
        (
            format!(
                r#"{{"layers":[{{"kind":"otlpJson","writer":{{"file":{}}},"batch":{{"scheduledDelayMs":600000}}}}]}}"#,
                serde_json::to_string(&dir.path().join("d.jsonl")).unwrap()
            ),
            "busy idle",
            root,
            false,
        ),
    ];
    for (config, name, parent, expected) in cases {
        assert_eq!(
            detached_under(&config, name, parent),
            expected,
            "{name}: {config}"
        );
    }

    // Inside a Rust span: only as a root.
    let config = format!(r#"{{"layers":[{otlp}]}}"#);
    let mut session = Session::from_json(&config).unwrap();
    session.install_current_thread().unwrap();
    tracing::info_span!("rust").in_scope(|| {
        let contextual = spans::create(callsite("in rust", &[]), current, &[]).unwrap();
        assert!(!spans::is_detached(contextual));
        spans::end(contextual).unwrap();
        let root = spans::create(callsite("root in rust", &[]), root, &[]).unwrap();
        assert!(spans::is_detached(root));
        spans::end(root).unwrap();
    });
    // A field `tracing-opentelemetry` reads, and a span entered at once: never.
    let kind = spans::create(callsite("kind", &["otel.kind"]), root, &[0]).unwrap();
    assert!(!spans::is_detached(kind));
    spans::end(kind).unwrap();
    let at_once = spans::create_entered(callsite("at once", &[]), root, &[]).unwrap();
    assert!(!spans::is_detached(at_once));
    spans::exit(at_once).unwrap();
    spans::end(at_once).unwrap();
    session.uninstall().unwrap();
    let exported = read_spans(&dir.path().join("a.jsonl"));
    assert!(exported["root in rust"].parent_span_id.is_empty(), "a root");
    assert!(!exported["in rust"].parent_span_id.is_empty());
    for name in [
        "alone",
        "alone current",
        "with fmt",
        "with fmt elsewhere",
        "global filter",
    ] {
        assert!(exported.contains_key(name), "{name}");
    }
}

/// A detached span still open on another thread when the global config stops is counted
/// open (dropped) then, once; ending it later exports nothing and changes no count. One open
/// on this thread is ended and exported, marked unended.
#[test]
fn detached_spans_open_when_the_config_stops_are_counted_or_ended() {
    let _global = global_lock();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spans.jsonl");
    let config = format!(r#"{{"layers":[{}]}}"#, otlp_layer(&path, ""));
    let mut session = Session::from_json(&config).unwrap();
    session.install_global().unwrap();
    let (started, wait_started) = mpsc::channel();
    let (release, released) = mpsc::channel::<()>();
    let holder = std::thread::spawn(move || {
        let handle = spans::create(callsite("elsewhere", &[]), spans::PARENT_NONE, &[]).unwrap();
        started.send(spans::is_detached(handle)).unwrap();
        released.recv().unwrap();
        spans::end(handle).unwrap();
    });
    assert!(wait_started.recv().unwrap(), "detached");
    let here = spans::create(callsite("here", &[]), spans::PARENT_NONE, &[]).unwrap();
    assert!(spans::is_detached(here));
    let done = spans::create(callsite("done", &[]), spans::PARENT_NONE, &[]).unwrap();
    spans::end(done).unwrap();

    session.uninstall().unwrap();
    assert_eq!(session.dropped_spans(), 1, "the span open elsewhere");
    assert_eq!(spans::open_count(), 0, "this thread's was ended");
    assert!(spans::trace_context(here).unwrap().is_none(), "inert now");
    spans::end(here).unwrap();
    release.send(()).unwrap();
    holder.join().unwrap();
    assert_eq!(session.dropped_spans(), 1, "counted once");
    let exported = read_spans(&path);
    assert!(exported.contains_key("done"));
    assert!(!exported.contains_key("elsewhere"));
    let unended = exported["here"]
        .attributes
        .iter()
        .any(|attribute| attribute.key == "tracing_bridge.unended");
    assert!(unended);
    assert_eq!(exported.len(), 2);
}

/// A detached span still open when its thread ends is exported then, as a registry span its
/// thread's table held.
#[test]
fn a_detached_span_open_when_its_thread_ends_is_exported() {
    let _global = global_lock();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spans.jsonl");
    let config = format!(r#"{{"layers":[{}]}}"#, otlp_layer(&path, ""));
    let mut session = Session::from_json(&config).unwrap();
    session.install_global().unwrap();
    let detached = std::thread::spawn(|| {
        let handle = spans::create(callsite("left", &[]), spans::PARENT_NONE, &[]).unwrap();
        spans::is_detached(handle)
    })
    .join()
    .unwrap();
    assert!(detached);
    session.uninstall().unwrap();
    assert_eq!(session.dropped_spans(), 0);
    assert!(read_spans(&path).contains_key("left"));
}

/// A filter change since a detached span started changes nothing of who sees it: handed to
/// the registry later, only its OpenTelemetry layer sees it, as when a registry span's filter
/// state is decided at its start. Spans made after the change follow the new filter. A span
/// whose configuration stopped is never handed over: entering it does nothing, for good, and a
/// span made with it as parent gets the current span instead.
#[test]
fn a_filter_change_since_the_start_changes_nothing_of_who_sees_a_detached_span() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spans.jsonl");
    let fmt = dir.path().join("fmt.log");
    let config = format!(
        r#"{{"layers":[{},{{"kind":"fmt","writer":{{"file":{}}},"ansi":false,
            "spanEvents":["new"],"filter":"other=info"}}]}}"#,
        otlp_layer(&path, ""),
        serde_json::to_string(&fmt).unwrap()
    );
    let mut session = Session::from_json(&config).unwrap();
    session.install_current_thread().unwrap();

    let before = spans::create(callsite("before", &[]), spans::PARENT_NONE, &[]).unwrap();
    assert!(spans::is_detached(before));
    // Now the fmt layer wants `app` spans.
    session.set_layer_filter(1, "app=info").unwrap();
    spans::enter(before).unwrap();
    assert!(!spans::is_detached(before), "handed over");
    let after = spans::create(callsite("after", &[]), before, &[]).unwrap();
    assert!(!spans::is_detached(after));
    spans::end(after).unwrap();
    spans::exit(before).unwrap();
    spans::end(before).unwrap();

    // Its config stopped: never handed over.
    let stale = spans::create(callsite("stale", &[]), spans::PARENT_NONE, &[]).unwrap();
    assert!(!spans::is_detached(stale), "fmt wants `app` now");
    session.set_layer_filter(1, "other=info").unwrap();
    let old = spans::create(callsite("old", &[]), spans::PARENT_NONE, &[]).unwrap();
    assert!(spans::is_detached(old));
    assert!(spans::exit(old).is_err(), "not entered");
    session.uninstall().unwrap();
    spans::enter(old).unwrap();
    spans::exit(old).unwrap();
    spans::end(old).unwrap();
    spans::end(stale).unwrap();

    let exported = read_spans(&path);
    assert_eq!(exported["after"].parent_span_id, exported["before"].span_id);
    let text = std::fs::read_to_string(&fmt).unwrap();
    assert!(text.contains("after"), "{text}");
    assert!(
        !text.contains("before:") && !text.contains(" before"),
        "{text}"
    );
}

/// The global filter changed since the start, so that it would refuse the span now: entered,
/// the span is still handed to the registry (not left stale), keeps its fields, and a span made
/// inside is its child.
#[test]
fn a_global_filter_change_since_the_start_still_hands_the_span_over() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spans.jsonl");
    let config = format!(r#"{{"layers":[{}]}}"#, otlp_layer(&path, ""));
    let mut session = Session::from_json(&config).unwrap();
    session.install_current_thread().unwrap();
    let mut values = vec![3];
    values.extend(5i64.to_le_bytes());
    let kept = spans::create(callsite("kept", &["n"]), spans::PARENT_NONE, &values).unwrap();
    assert!(spans::is_detached(kept));
    session.set_filter("other=info").unwrap();
    spans::enter(kept).unwrap();
    assert!(!spans::is_detached(kept), "handed over");
    tracing::info_span!(target: "other", "inside").in_scope(|| {});
    spans::exit(kept).unwrap();
    spans::end(kept).unwrap();
    session.uninstall().unwrap();

    let exported = read_spans(&path);
    assert_eq!(exported["inside"].parent_span_id, exported["kept"].span_id);
    let n = exported["kept"]
        .attributes
        .iter()
        .find(|attribute| attribute.key == "n")
        .and_then(|attribute| attribute.value.as_ref()?.value.clone());
    assert_eq!(
        n,
        Some(opentelemetry_proto::tonic::common::v1::any_value::Value::IntValue(5))
    );
}
