//! Records logged through the `log` crate reach every layer as events with their own target,
//! module path, file and line, inside the current span, filtered by their own target; `log`'s
//! max level follows the filters. The tests run one after another (a mutex): `log`'s max level
//! and `tracing`'s are per process.

use std::{fs, path::Path, sync::Mutex};

use serde_json::Value;
use tracing_bridge::Session;

#[path = "support/js_sink.rs"]
mod js_sink;
use js_sink::drain;

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn json_path(path: &Path) -> String {
    serde_json::to_string(path).unwrap()
}

/// Logs one warning through `log` inside a span, with the line it was logged on.
fn warn_inside_a_span() -> u32 {
    let span = tracing::info_span!("load", file = "a.csv");
    let _entered = span.enter();
    let line = line!() + 1;
    log::warn!(target: "my_dep::io", "disk slow: {} ms", 30);
    line
}

fn read_lines(path: &Path) -> Vec<Value> {
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

#[test]
fn fmt_shows_the_record_s_own_target_and_location_in_the_span() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let (json, full) = (dir.path().join("out.jsonl"), dir.path().join("out.log"));
    let config = format!(
        r#"{{"layers":[
            {{"kind":"fmt","writer":{{"file":{}}},"format":"json","file":true,"line":true,"filter":"info"}},
            {{"kind":"fmt","writer":{{"file":{}}},"filter":"info"}}]}}"#,
        json_path(&json),
        json_path(&full)
    );
    let mut session = Session::from_json(&config).unwrap();
    session.install_current_thread().unwrap();
    let line = warn_inside_a_span();
    session.uninstall().unwrap();

    let records = read_lines(&json);
    assert_eq!(records.len(), 1, "{records:?}");
    let record = &records[0];
    assert_eq!(record["level"], "WARN");
    assert_eq!(record["target"], "my_dep::io");
    assert!(record["filename"]
        .as_str()
        .unwrap()
        .ends_with("log_records.rs"));
    assert_eq!(record["line_number"], line);
    assert_eq!(record["span"]["name"], "load");
    assert_eq!(record["span"]["file"], "a.csv");
    assert_eq!(
        record["fields"],
        serde_json::json!({ "message": "disk slow: 30 ms" }),
        "no log.* fields"
    );
    let text = fs::read_to_string(&full).unwrap();
    assert!(
        text.contains(r#"WARN load{file="a.csv"}: my_dep::io: disk slow: 30 ms"#),
        "{text}"
    );
    assert!(!text.contains("log."), "{text}");
}

/// A callsite definition of the JS layer's wire format (`shim/src/layers/js/wire.rs`).
#[derive(Debug, PartialEq)]
struct CallsiteDefinition {
    id: u32,
    level: u8,
    name: String,
    target: String,
    module_path: Option<String>,
    file: Option<String>,
    line: Option<u32>,
    fields: Vec<String>,
}

/// Reads the wire records: callsite definitions, and per event its callsite id and field
/// indices.
fn decode(bytes: &[u8]) -> (Vec<CallsiteDefinition>, Vec<(u32, Vec<u8>)>) {
    struct Reader<'a>(&'a [u8], usize);
    impl Reader<'_> {
        fn u8(&mut self) -> u8 {
            self.1 += 1;
            self.0[self.1 - 1]
        }
        fn u32(&mut self) -> u32 {
            self.1 += 4;
            u32::from_le_bytes(self.0[self.1 - 4..self.1].try_into().unwrap())
        }
        fn str(&mut self) -> Option<String> {
            let length = self.u32();
            if length == u32::MAX {
                return None;
            }
            self.1 += length as usize;
            Some(String::from_utf8(self.0[self.1 - length as usize..self.1].to_vec()).unwrap())
        }
    }
    let (mut callsites, mut events) = (Vec::new(), Vec::new());
    let mut at = 0;
    while at < bytes.len() {
        let length = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        let mut reader = Reader(&bytes[at + 5..at + 4 + length], 0);
        match bytes[at + 4] {
            1 => {
                let id = reader.u32();
                let level = reader.u8();
                let _is_span = reader.u8();
                let name = reader.str().unwrap();
                let target = reader.str().unwrap();
                let module_path = reader.str();
                let file = reader.str();
                let line = Some(reader.u32()).filter(|line| *line != u32::MAX);
                let fields = (0..reader.u8()).map(|_| reader.str().unwrap()).collect();
                callsites.push(CallsiteDefinition {
                    id,
                    level,
                    name,
                    target,
                    module_path,
                    file,
                    line,
                    fields,
                });
            }
            11 => {
                let callsite = reader.u32();
                reader.1 += 8 + 4 + 8; // parent, thread, timestamp
                let count = reader.u8();
                let mut indices = Vec::new();
                for _ in 0..count {
                    indices.push(reader.u8());
                    // Skip the value: only STR (0) and SAME (1) occur here.
                    if reader.u8() == 0 {
                        reader.str();
                    }
                }
                events.push((callsite, indices));
            }
            _ => {}
        }
        at += 4 + length;
    }
    (callsites, events)
}

#[test]
fn the_js_layer_gets_the_record_s_own_metadata_once_per_location() {
    let _serial = serial();
    let mut session =
        Session::from_json(r#"{"layers":[{"kind":"js","callbacks":["event"],"filter":"info"}]}"#)
            .unwrap();
    session.install_current_thread().unwrap();
    let line = warn_inside_a_span();
    warn_inside_a_span();
    log::info!("from the test's own module");
    let bytes = drain(&session, 0);
    session.uninstall().unwrap();

    let (callsites, events) = decode(&bytes);
    assert_eq!(callsites.len(), 2, "one per location: {callsites:?}");
    let warn = &callsites[0];
    assert_eq!(
        (warn.level, warn.name.as_str(), warn.target.as_str()),
        (3, "log event", "my_dep::io")
    );
    assert_eq!(warn.module_path.as_deref(), Some("log_records"));
    assert!(warn.file.as_deref().unwrap().ends_with("log_records.rs"));
    assert_eq!(warn.line, Some(line));
    assert_eq!(warn.fields, ["message"]);
    assert_eq!(callsites[1].target, "log_records");
    assert_eq!(callsites[1].level, 2);
    assert_ne!(callsites[1].line, warn.line);
    let ids: Vec<u32> = events.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids, [warn.id, warn.id, callsites[1].id]);
    assert!(
        events.iter().all(|(_, fields)| fields == &[0]),
        "only the message: {events:?}"
    );
}

#[test]
fn the_timeline_shows_the_record_s_own_target_and_location() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trace.json");
    let config = format!(
        r#"{{"filter":"info","layers":[{{"kind":"timeline","path":{}}}]}}"#,
        json_path(&path)
    );
    let mut session = Session::from_json(&config).unwrap();
    session.install_current_thread().unwrap();
    let line = warn_inside_a_span();
    session.uninstall().unwrap();

    let entries: Vec<Value> = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
    let event = entries.iter().find(|entry| entry["ph"] == "i").unwrap();
    assert_eq!(event["name"], "disk slow: 30 ms");
    assert_eq!(event["cat"], "my_dep::io");
    assert!(event[".file"].as_str().unwrap().ends_with("log_records.rs"));
    assert_eq!(event[".line"], line);
    assert_eq!(
        event["args"],
        serde_json::json!({ "message": "disk slow: 30 ms" })
    );
}

#[cfg(feature = "otlp")]
#[test]
fn otlp_span_events_carry_the_record_s_own_target_and_location() {
    use opentelemetry_proto::tonic::{common::v1::any_value::Value as Any, trace::v1::TracesData};

    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spans.jsonl");
    let config = format!(
        r#"{{"filter":"info","layers":[{{"kind":"otlpJson","writer":{{"file":{}}}}}]}}"#,
        json_path(&path)
    );
    let mut session = Session::from_json(&config).unwrap();
    session.install_current_thread().unwrap();
    let line = warn_inside_a_span();
    session.uninstall().unwrap();

    let text = fs::read_to_string(&path).unwrap();
    let spans: Vec<_> = text
        .lines()
        .flat_map(|line| {
            let data: TracesData = serde_json::from_str(line).unwrap();
            data.resource_spans
                .into_iter()
                .flat_map(|resource| resource.scope_spans)
                .flat_map(|scope| scope.spans)
        })
        .collect();
    assert_eq!(spans.len(), 1, "{text}");
    assert_eq!(spans[0].name, "load");
    let event = &spans[0].events[0];
    assert_eq!(event.name, "disk slow: 30 ms");
    let attribute = |key: &str| {
        event
            .attributes
            .iter()
            .find(|attribute| attribute.key == key)
            .and_then(|attribute| attribute.value.clone()?.value)
    };
    assert_eq!(
        attribute("target"),
        Some(Any::StringValue("my_dep::io".into()))
    );
    assert_eq!(attribute("level"), Some(Any::StringValue("WARN".into())));
    assert_eq!(
        attribute("code.line.number"),
        Some(Any::IntValue(line.into()))
    );
    assert!(
        matches!(attribute("code.file.path"), Some(Any::StringValue(file)) if file.ends_with("log_records.rs"))
    );
    assert!(
        event
            .attributes
            .iter()
            .all(|attribute| !attribute.key.starts_with("log.")),
        "{:?}",
        event.attributes
    );
}

/// The messages a fmt layer wrote to `path`, one per line.
fn messages(path: &Path) -> Vec<String> {
    read_lines(path)
        .iter()
        .map(|record| record["fields"]["message"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn the_global_and_each_layer_s_filter_see_the_record_s_own_target() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let (io, db) = (dir.path().join("io.jsonl"), dir.path().join("db.jsonl"));
    let config = format!(
        r#"{{"filter":"warn,my_dep=debug","layers":[
            {{"kind":"fmt","writer":{{"file":{}}},"format":"json","filter":"my_dep::io=trace"}},
            {{"kind":"fmt","writer":{{"file":{}}},"format":"json","filter":"my_dep::db=info"}}]}}"#,
        json_path(&io),
        json_path(&db)
    );
    let mut session = Session::from_json(&config).unwrap();
    session.install_current_thread().unwrap();
    log::trace!(target: "my_dep::io", "io trace: global filter says no");
    log::debug!(target: "my_dep::io", "io debug");
    log::debug!(target: "my_dep::db", "db debug: layer filter says no");
    log::info!(target: "my_dep::db", "db info");
    log::error!(target: "other", "other error: no layer wants it");
    session.uninstall().unwrap();
    assert_eq!(messages(&io), ["io debug"]);
    assert_eq!(messages(&db), ["db info"]);
}

#[test]
fn log_s_max_level_follows_the_filters() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.jsonl");
    let config = format!(
        r#"{{"filter":"info","layers":[{{"kind":"fmt","writer":{{"file":{}}},"format":"json"}}]}}"#,
        json_path(&path)
    );
    let mut session = Session::from_json(&config).unwrap();
    session.install_current_thread().unwrap();
    assert_eq!(log::max_level(), log::LevelFilter::Info);
    log::debug!("debug at info: dropped");

    session.set_filter("debug").unwrap();
    assert_eq!(log::max_level(), log::LevelFilter::Debug);
    log::debug!("debug at debug");

    session.set_filter("warn").unwrap();
    assert_eq!(log::max_level(), log::LevelFilter::Warn);
    assert!(!log::log_enabled!(log::Level::Info));
    log::info!("info at warn: dropped");
    log::warn!("warn at warn");

    // A layer's own filter narrows what reaches it; the most verbose filter sets the level.
    session.set_filter("trace").unwrap();
    session.set_layer_filter(0, "error").unwrap();
    assert_eq!(log::max_level(), log::LevelFilter::Error);
    log::warn!("warn at layer error: dropped");

    session.uninstall().unwrap();
    assert_eq!(log::max_level(), log::LevelFilter::Off, "nothing installed");
    assert_eq!(messages(&path), ["debug at debug", "warn at warn"]);
}

#[test]
fn a_global_session_gets_records_of_every_thread() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.jsonl");
    let config = format!(
        r#"{{"filter":"info","layers":[{{"kind":"fmt","writer":{{"file":{}}},"format":"json"}}]}}"#,
        json_path(&path)
    );
    let mut session = Session::from_json(&config).unwrap();
    session.install_global().unwrap();
    assert_eq!(log::max_level(), log::LevelFilter::Info);
    std::thread::spawn(|| {
        let span = tracing::info_span!("worker");
        let _entered = span.enter();
        log::info!("from a thread");
    })
    .join()
    .unwrap();
    session.uninstall().unwrap();
    assert_eq!(log::max_level(), log::LevelFilter::Off);
    let records = read_lines(&path);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["fields"]["message"], "from a thread");
    assert_eq!(records[0]["span"]["name"], "worker");
    assert_eq!(records[0]["target"], "log_records");
}
