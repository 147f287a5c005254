//! JavaScript spans are light (exported without `tracing-opentelemetry`) unless busy/idle times
//! are on, and promoted to `tracing-opentelemetry` when something needs their OpenTelemetry
//! data; a light span that only its OpenTelemetry layer would see is made without the registry
//! (detached) until something needs it there. Each way a span can go is run three times:
//! detached where it can be, light through the registry (a global filter that keeps span
//! state, which rules detaching out) and never light (`busyIdle: true`): the exported spans
//! must be the same (but for the busy/idle attributes), with parents, ids, trace context,
//! remote parents, status, events and the attribute of spans left open at the end all as
//! `tracing-opentelemetry` gives them.

#[path = "support/otlp_json.rs"]
mod otlp_json;

use std::collections::{BTreeMap, HashMap};

use opentelemetry_proto::tonic::{common::v1::any_value::Value, trace::v1::Span};
use otlp_json::{read_all_spans, read_spans};
use tracing_bridge::{
    js_spans::{
        callsites::{CallsiteKind, Callsites},
        spans, trace_context,
    },
    Session,
};

#[path = "support/global_lock.rs"]
mod global_lock;
use global_lock::global_lock;

/// A global config of one `otlpJson` layer (light spans on, exported at the end) writing to
/// `path`, installed, for a test holding [`global_lock`].
fn install_global_json(path: &std::path::Path) -> Session {
    let config = format!(
        r#"{{"layers":[{{"kind":"otlpJson","writer":{{"file":{}}},
            "batch":{{"scheduledDelayMs":600000,"maxQueueSize":100000}},
            "spanAttributes":{{"busyIdle":false}}}}]}}"#,
        serde_json::to_string(path).unwrap()
    );
    let mut session = Session::from_json(&config).unwrap();
    session.install_global().unwrap();
    session
}

fn string_value(text: &str) -> Vec<u8> {
    let mut bytes = vec![1];
    bytes.extend((text.len() as u32).to_le_bytes());
    bytes.extend(text.as_bytes());
    bytes
}

fn i64_value(number: i64) -> Vec<u8> {
    let mut bytes = vec![3];
    bytes.extend(number.to_le_bytes());
    bytes
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn callsite(kind: CallsiteKind, level: tracing::Level, name: &str, fields: &[&str]) -> u32 {
    Callsites::global()
        .intern(kind, level, name, "app", fields)
        .unwrap()
}

fn span(name: &str, parent: u32, values: &[u8]) -> u32 {
    let callsite = callsite(
        CallsiteKind::Span,
        tracing::Level::INFO,
        name,
        &["route", "index"],
    );
    let handle = spans::create(callsite, parent, values).unwrap();
    assert_ne!(handle, spans::DISABLED, "{name}");
    handle
}

/// Read by handle, as JavaScript reads it (a detached span stays detached).
fn traceparent(handle: u32) -> String {
    spans::trace_context(handle)
        .unwrap()
        .expect("an OpenTelemetry layer records it")
        .0
}

/// How a run makes its spans.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    /// Light, and detached where they can be.
    Detached,
    /// Light, always through the registry.
    LightRegistry,
    /// Never light: busy/idle times on.
    BusyIdle,
}

/// What the scenario saw while it ran: traceparents read before the spans ended.
struct Seen {
    traced: String,
    current_in_entered: String,
    /// The entered span's, read by handle before it was entered.
    entered_before: String,
}

/// Every way of the module docs, under `busy_idle`, while `crowd` other spans (named `crowd`,
/// each its own `index`) are open; the spans exported, by name (the crowd's checked here).
fn run(mode: Mode, crowd: usize) -> (HashMap<String, Span>, Seen) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spans.jsonl");
    let busy_idle = mode == Mode::BusyIdle;
    // A directive naming a span keeps span state in the filter: no span is detached then.
    let filter = match mode {
        Mode::LightRegistry => r#""filter":"info,nothing[nowhere]=trace","#,
        _ => "",
    };
    let config = format!(
        r#"{{{filter}"layers":[{{"kind":"otlpJson","writer":{{"file":{}}},
            "batch":{{"scheduledDelayMs":600000}},"spanAttributes":{{"busyIdle":{busy_idle}}}}}]}}"#,
        serde_json::to_string(&path).unwrap()
    );
    // Whether a span made as a root with no span current is detached in this mode.
    let detached = |handle: u32, name: &str| {
        assert_eq!(
            spans::is_detached(handle),
            mode == Mode::Detached,
            "{mode:?}: {name}"
        );
    };
    let mut session = Session::from_json(&config).unwrap();
    session.install_current_thread().unwrap();
    let mut values = string_value("/users");
    values.extend(i64_value(7));
    let crowd: Vec<u32> = (0..crowd)
        .map(|index| {
            let mut values = string_value("/crowd");
            values.extend(i64_value(index as i64));
            let handle = span("crowd", spans::PARENT_NONE, &values);
            detached(handle, "crowd");
            handle
        })
        .collect();

    // Made and ended.
    let leaf = span("leaf", spans::PARENT_NONE, &values);
    detached(leaf, "leaf");
    spans::end(leaf).unwrap();

    // A child made with its parent's handle (the parent never entered).
    let parent = span("parent", spans::PARENT_NONE, &values);
    detached(parent, "parent");
    let child = span("child", parent, &values);
    assert!(
        !spans::is_detached(parent),
        "handed to the registry for its child"
    );
    spans::end(child).unwrap();
    spans::end(parent).unwrap();

    // Its trace context read before it ends.
    let traced = span("traced", spans::PARENT_NONE, &values);
    let traced_parent = traceparent(traced);
    detached(traced, "traced");
    spans::end(traced).unwrap();

    // A remote parent, set by handle (as JavaScript sets it).
    let remote = span("remote", spans::PARENT_NONE, &values);
    let parent = trace_context::RemoteParent::parse(
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "vendor=value",
    )
    .unwrap();
    spans::set_remote_parent(remote, parent).unwrap();
    detached(remote, "remote");
    spans::end(remote).unwrap();

    // The same through the span itself (`with_span` hands a detached span to the registry).
    let remote_span = span("remote span", spans::PARENT_NONE, &values);
    spans::with_span(remote_span, "test", |span| {
        let parent = trace_context::RemoteParent::parse(
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "vendor=value",
        )
        .unwrap();
        trace_context::set_remote_parent(span, parent);
    })
    .unwrap();
    assert!(!spans::is_detached(remote_span));
    spans::end(remote_span).unwrap();

    // Entered: Rust spans and events inside, a JavaScript child, and the trace context of
    // `Span::current()` (the same as read by handle before it was entered).
    let entered = span("entered", spans::PARENT_NONE, &values);
    let entered_before = traceparent(entered);
    spans::enter(entered).unwrap();
    assert!(
        !spans::is_detached(entered),
        "handed to the registry when entered"
    );
    let (current_in_entered, _) =
        trace_context::trace_context(&tracing::Span::current()).expect("recorded");
    tracing::info_span!("rust child").in_scope(|| tracing::info!("inside"));
    let js_child = span("js child", spans::PARENT_CURRENT, &values);
    spans::end(js_child).unwrap();
    spans::exit(entered).unwrap();
    spans::end(entered).unwrap();

    // Made entered (`tracing.span`): never light.
    let at_once_callsite = callsite(
        CallsiteKind::Span,
        tracing::Level::INFO,
        "entered at once",
        &["route", "index"],
    );
    let at_once = spans::create_entered(at_once_callsite, spans::PARENT_NONE, &values).unwrap();
    tracing::info_span!("rust in entered at once").in_scope(|| {});
    spans::exit(at_once).unwrap();
    spans::end(at_once).unwrap();

    // A JavaScript span inside a Rust span.
    tracing::info_span!("rust parent").in_scope(|| {
        let inner = span("js in rust", spans::PARENT_CURRENT, &values);
        spans::end(inner).unwrap();
    });

    // An error event recorded on it by handle, not entered.
    let failing = span("failing", spans::PARENT_NONE, &values);
    let failed = callsite(
        CallsiteKind::Event,
        tracing::Level::ERROR,
        "failed",
        &["message"],
    );
    spans::event(failed, failing, &string_value("boom")).unwrap();
    spans::end(failing).unwrap();

    // Left open when the config stops.
    let unended = span("unended", spans::PARENT_NONE, &values);
    detached(unended, "unended");

    // The crowd ends out of order.
    for (position, &handle) in crowd.iter().enumerate() {
        if position % 2 == 1 {
            spans::end(handle).unwrap();
        }
    }
    for (position, &handle) in crowd.iter().enumerate() {
        if position % 2 == 0 {
            spans::end(handle).unwrap();
        }
    }

    session.uninstall().unwrap();
    let mut indexes: Vec<i64> = read_all_spans(&path)
        .into_iter()
        .filter(|span| span.name == "crowd")
        .map(|span| {
            let index = span.attributes.iter().find(|kv| kv.key == "index");
            match index.and_then(|kv| kv.value.as_ref()?.value.as_ref()) {
                Some(Value::IntValue(index)) => *index,
                other => panic!("index: {other:?}"),
            }
        })
        .collect();
    indexes.sort_unstable();
    assert_eq!(indexes, (0..crowd.len() as i64).collect::<Vec<_>>());
    let mut exported = read_spans(&path);
    exported.remove("crowd");
    (
        exported,
        Seen {
            traced: traced_parent,
            current_in_entered,
            entered_before,
        },
    )
}

/// A span as compared across the two runs: ids replaced by the names they point to.
fn shape(span: &Span, by_id: &HashMap<Vec<u8>, String>) -> String {
    let attributes: BTreeMap<String, String> = span
        .attributes
        .iter()
        .filter(|kv| kv.key != "busy_ns" && kv.key != "idle_ns")
        .map(|kv| {
            let value = match kv.value.as_ref().and_then(|value| value.value.as_ref()) {
                // Thread ids differ between runs only if the test threads do.
                Some(Value::StringValue(text)) => format!("s:{text}"),
                Some(Value::IntValue(number)) => format!("i:{number}"),
                Some(Value::BoolValue(flag)) => format!("b:{flag}"),
                Some(Value::DoubleValue(number)) => format!("d:{number}"),
                other => format!("{other:?}"),
            };
            (kv.key.clone(), value)
        })
        .collect();
    let parent = if span.parent_span_id.is_empty() {
        "none".to_owned()
    } else {
        by_id
            .get(&span.parent_span_id)
            .cloned()
            .unwrap_or_else(|| hex(&span.parent_span_id))
    };
    let events: Vec<&str> = span
        .events
        .iter()
        .map(|event| event.name.as_str())
        .collect();
    format!(
        "parent={parent} kind={} flags={:#x} status={:?} events={events:?} dropped={} attributes={attributes:?}",
        span.kind, span.flags, span.status, span.dropped_attributes_count
    )
}

fn check(spans: &HashMap<String, Span>, seen: &Seen, label: &str) {
    let id = |name: &str| hex(&spans[name].span_id);
    let trace = |name: &str| hex(&spans[name].trace_id);
    assert_eq!(
        spans["child"].parent_span_id, spans["parent"].span_id,
        "{label}"
    );
    assert_eq!(trace("child"), trace("parent"), "{label}");
    assert_eq!(
        seen.traced,
        format!("00-{}-{}-01", trace("traced"), id("traced")),
        "{label}"
    );
    assert_eq!(
        trace("remote"),
        "4bf92f3577b34da6a3ce929d0e0e4736",
        "{label}"
    );
    assert_eq!(
        hex(&spans["remote"].parent_span_id),
        "00f067aa0ba902b7",
        "{label}"
    );
    assert_eq!(
        hex(&spans["remote span"].parent_span_id),
        "00f067aa0ba902b7",
        "{label}"
    );
    assert_eq!(seen.entered_before, seen.current_in_entered, "{label}");
    assert_eq!(
        spans["rust child"].parent_span_id, spans["entered"].span_id,
        "{label}"
    );
    assert_eq!(
        spans["js child"].parent_span_id, spans["entered"].span_id,
        "{label}"
    );
    assert_eq!(
        seen.current_in_entered,
        format!("00-{}-{}-01", trace("entered"), id("entered")),
        "{label}"
    );
    assert_eq!(
        spans["js in rust"].parent_span_id, spans["rust parent"].span_id,
        "{label}"
    );
    assert_eq!(trace("js in rust"), trace("rust parent"), "{label}");
    assert_eq!(
        spans["rust in entered at once"].parent_span_id, spans["entered at once"].span_id,
        "{label}"
    );
    let status = spans["failing"].status.as_ref().expect("a status");
    assert_eq!(status.code, 2, "{label}: error status");
    assert!(spans["unended"]
        .attributes
        .iter()
        .any(|kv| kv.key == "tracing_bridge.unended"));
    for span in spans.values() {
        assert_eq!(span.trace_id.len(), 16, "{label}: {}", span.name);
        assert_eq!(span.span_id.len(), 8, "{label}: {}", span.name);
    }
}

/// The spans of a run as [`shape`] gives them, by name.
fn shapes(spans: &HashMap<String, Span>) -> BTreeMap<String, String> {
    let by_id: HashMap<Vec<u8>, String> = spans
        .values()
        .map(|span| (span.span_id.clone(), span.name.clone()))
        .collect();
    spans
        .iter()
        .map(|(name, span)| (name.clone(), shape(span, &by_id)))
        .collect()
}

/// Runs every way of the module docs light, with `crowd` other spans open, and never light;
/// both must pass [`check`] and export the same spans.
fn light_exports_what_tracing_opentelemetry_exports(crowd: usize) {
    let (full, full_seen) = run(Mode::BusyIdle, 0);
    check(&full, &full_seen, "tracing-opentelemetry");
    let full = shapes(&full);
    for mode in [Mode::Detached, Mode::LightRegistry] {
        let (light, light_seen) = run(mode, crowd);
        check(&light, &light_seen, &format!("{mode:?}"));
        let light = shapes(&light);
        assert_eq!(light.len(), 15, "{light:#?}");
        for (name, shape) in &full {
            assert_eq!(light.get(name), Some(shape), "{mode:?}: span {name}");
        }
    }
}

#[test]
fn light_spans_export_what_tracing_opentelemetry_exports() {
    light_exports_what_tracing_opentelemetry_exports(0);
}

/// With more spans open than the OpenTelemetry layer's table of light spans has entries (256),
/// and than a thread's table of JavaScript handles keeps in place (1 024), the light spans of
/// every way of the module docs are kept in their spans' extensions, and their handles aside:
/// they still export what `tracing-opentelemetry` exports, and so does each span of the crowd.
#[test]
fn light_spans_beyond_the_tables_export_the_same() {
    light_exports_what_tracing_opentelemetry_exports(1100);
}

/// Light spans take the sampler's decision (at their start) and give log records inside them
/// their ids.
#[test]
fn light_spans_follow_the_sampler_and_give_log_records_their_ids() {
    use opentelemetry_proto::tonic::logs::v1::LogsData;

    for (sampler, spans_made) in [("always_off", 50), ("traceidratio", 400), ("always_on", 50)] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("signals.jsonl");
        let config = format!(
            r#"{{"layers":[{{"kind":"otlpJson","writer":{{"file":{}}},
                "signals":{{"traces":true,"logs":true}},"sampler":"{sampler}","samplerArg":0.5,
                "batch":{{"scheduledDelayMs":600000}},"spanAttributes":{{"busyIdle":false}}}}]}}"#,
            serde_json::to_string(&path).unwrap()
        );
        let mut session = Session::from_json(&config).unwrap();
        session.install_current_thread().unwrap();
        let logged = callsite(
            CallsiteKind::Event,
            tracing::Level::INFO,
            "logged",
            &["message"],
        );
        let mut flags = Vec::new();
        for index in 0..spans_made {
            let mut values = string_value("/sampled");
            values.extend(i64_value(index));
            let handle = span("sampled", spans::PARENT_NONE, &values);
            flags.push(traceparent(handle)[53..].to_owned());
            spans::event(logged, handle, &string_value("inside")).unwrap();
            spans::end(handle).unwrap();
        }
        session.uninstall().unwrap();

        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let mut span_ids = Vec::new();
        let mut log_ids = Vec::new();
        for line in text.lines() {
            if let Ok(data) =
                serde_json::from_str::<opentelemetry_proto::tonic::trace::v1::TracesData>(line)
            {
                for resource in data.resource_spans {
                    for scope in resource.scope_spans {
                        span_ids.extend(
                            scope
                                .spans
                                .into_iter()
                                .map(|span| (span.trace_id, span.span_id)),
                        );
                    }
                }
            }
            if let Ok(data) = serde_json::from_str::<LogsData>(line) {
                for resource in data.resource_logs {
                    for scope in resource.scope_logs {
                        log_ids.extend(
                            scope
                                .log_records
                                .into_iter()
                                .map(|log| (log.trace_id, log.span_id)),
                        );
                    }
                }
            }
        }
        let sampled = flags.iter().filter(|flag| *flag == "01").count();
        assert_eq!(
            span_ids.len(),
            sampled,
            "{sampler}: the sampled spans are exported"
        );
        match sampler {
            "always_off" => assert_eq!(sampled, 0),
            "always_on" => assert_eq!(sampled, spans_made as usize),
            _ => assert!((100..300).contains(&sampled), "{sampler}: {sampled} of 400"),
        }
        // Every log record carries the ids of its span, sampled or not.
        assert_eq!(log_ids.len(), spans_made as usize, "{sampler}");
        for ids in &span_ids {
            assert!(
                log_ids.contains(ids),
                "{sampler}: a log record has the ids of its span"
            );
        }
        assert!(log_ids
            .iter()
            .all(|(trace, span)| trace.len() == 16 && span.len() == 8));
    }
}

/// A light span that several threads make children of at once is handed over once: every child
/// names it as parent, in its trace, and it is exported once.
#[test]
fn a_light_span_handed_over_by_several_threads_at_once_is_one_span() {
    const ROUNDS: usize = 1000;
    let _global = global_lock();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spans.jsonl");
    // Global: the other threads record into the same config.
    let session = install_global_json(&path);
    let mut values = string_value("/shared");
    values.extend(i64_value(1));
    for round in 0..ROUNDS {
        let shared = span("shared", spans::PARENT_NONE, &values);
        let handle = spans::with_span(shared, "test", Clone::clone).unwrap();
        let start = std::sync::Barrier::new(4);
        std::thread::scope(|scope| {
            for _ in 0..4 {
                let (handle, start) = (handle.clone(), &start);
                scope.spawn(move || {
                    start.wait();
                    for _ in 0..5 {
                        tracing::info_span!(parent: &handle, "child", round).in_scope(|| {});
                    }
                });
            }
        });
        drop(handle);
        spans::end(shared).unwrap();
    }
    session.uninstall().unwrap();

    let mut shared = HashMap::new();
    let mut children = Vec::new();
    for span in read_all_spans(&path) {
        if span.name == "shared" {
            assert!(shared.insert(span.span_id.clone(), span.trace_id).is_none());
        } else {
            children.push(span);
        }
    }
    assert_eq!(shared.len(), ROUNDS, "each shared span exported once");
    assert_eq!(children.len(), ROUNDS * 20);
    for child in &children {
        let trace = shared
            .get(&child.parent_span_id)
            .expect("the parent is a shared span");
        assert_eq!(&child.trace_id, trace);
    }
}

/// Light spans of a config that are still open after it was replaced (on a thread whose spans
/// its uninstall does not end) belong to its layer only: children made of them under the new
/// config must not take them, nor disturb the new config's own light spans, some of which are
/// kept in their spans' extensions (more than the table's 256 entries are open).
#[test]
fn light_spans_of_a_replaced_config_leave_the_new_ones_alone() {
    const OPEN: usize = 300;
    let _global = global_lock();
    let dir = tempfile::tempdir().unwrap();
    let (old_path, new_path) = (dir.path().join("old.jsonl"), dir.path().join("new.jsonl"));
    let old = install_global_json(&old_path);
    let (to_worker, from_main) = std::sync::mpsc::channel::<()>();
    let (to_main, from_worker) = std::sync::mpsc::channel::<()>();
    let worker = std::thread::spawn(move || {
        let callsite = |name: &str| {
            Callsites::global()
                .intern(CallsiteKind::Span, tracing::Level::INFO, name, "app", &[])
                .unwrap()
        };
        let olds: Vec<u32> = (0..OPEN)
            .map(|_| spans::create(callsite("old"), spans::PARENT_NONE, &[]).unwrap())
            .collect();
        to_main.send(()).unwrap();
        from_main.recv().unwrap(); // The new config is installed.
        let news: Vec<u32> = (0..OPEN)
            .map(|_| spans::create(callsite("new"), spans::PARENT_NONE, &[]).unwrap())
            .collect();
        for &handle in &olds {
            let span = spans::with_span(handle, "test", Clone::clone).unwrap();
            tracing::info_span!(parent: &span, "child").in_scope(|| {});
        }
        for handle in news.into_iter().chain(olds) {
            spans::end(handle).unwrap();
        }
    });
    from_worker.recv().unwrap();
    old.uninstall().unwrap();
    let new = install_global_json(&new_path);
    to_worker.send(()).unwrap();
    worker.join().unwrap();
    new.uninstall().unwrap();
    let exported = read_all_spans(&new_path);
    let count = |name: &str| exported.iter().filter(|span| span.name == name).count();
    assert_eq!(new.dropped_spans(), 0);
    assert_eq!(count("new"), OPEN, "every new span exported");
    assert_eq!(count("child"), OPEN, "every child exported");
    assert_eq!(
        count("old"),
        0,
        "the old config's spans are not the new one's"
    );
}

/// A light span whose trace context one thread reads while another hands it over (by making a
/// child of it) is read as it is exported: the reader waits for the hand-over rather than find
/// the span in neither place (no trace context, or an SDK span started without the light span's
/// ids and fields).
#[test]
fn a_light_span_read_while_handed_over_keeps_its_ids_and_fields() {
    const ROUNDS: usize = 3000;
    let _global = global_lock();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spans.jsonl");
    let session = install_global_json(&path);
    let mut read = HashMap::new();
    for round in 0..ROUNDS {
        let mut values = string_value("/read");
        values.extend(i64_value(round as i64));
        let handle = span("read", spans::PARENT_NONE, &values);
        let shared = spans::with_span(handle, "test", Clone::clone).unwrap();
        let start = std::sync::Barrier::new(2);
        let traceparent = std::thread::scope(|scope| {
            scope.spawn(|| {
                start.wait();
                tracing::info_span!(parent: &shared, "child").in_scope(|| {});
            });
            let reader = scope.spawn(|| {
                start.wait();
                trace_context::trace_context(&shared).map(|(traceparent, _)| traceparent)
            });
            reader.join().unwrap()
        });
        read.insert(round as i64, traceparent.expect("a trace context"));
        drop(shared);
        spans::end(handle).unwrap();
    }
    session.uninstall().unwrap();
    assert_eq!(session.dropped_spans(), 0);
    let mut exported = 0;
    for span in read_all_spans(&path) {
        if span.name != "read" {
            continue;
        }
        exported += 1;
        let index = span.attributes.iter().find(|kv| kv.key == "index");
        let index = match index.and_then(|kv| kv.value.as_ref()?.value.as_ref()) {
            Some(Value::IntValue(index)) => *index,
            other => panic!("a span without its fields: {other:?}"),
        };
        let expected = format!("00-{}-{}-01", hex(&span.trace_id), hex(&span.span_id));
        assert_eq!(read[&index], expected, "span {index}");
    }
    assert_eq!(exported, ROUNDS);
}
