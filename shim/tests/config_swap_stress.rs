//! Global configs replaced over and over while other threads make, enter, exit and close spans:
//! no layer ever gets a span callback for a span it did not see made (the fmt layer with span
//! events would panic on such a span: its fields are not in the span's extensions), and a layer
//! whose filter refuses the spans sees none of them, even those made while it was being loaded.
//! Layers with and without a filter alternate, so that both ways a span callback reaches a layer
//! (with and without the per-layer filter's check, see `dispatch::switch`) meet configs loaded
//! while spans are open. One test, since the global default is per process.

use std::{
    collections::HashSet,
    fs,
    path::Path,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc,
    },
    thread,
};

use tracing_bridge::Session;

fn config(path: &Path, filter: Option<&str>) -> String {
    let filter = filter.map_or(String::new(), |f| format!(r#","filter":"{f}""#));
    format!(
        r#"{{"layers":[{{"kind":"fmt","writer":{{"file":{}}},"ansi":false,"spanEvents":["new","enter","exit","close"]{filter}}}]}}"#,
        serde_json::to_string(path).unwrap()
    )
}

/// The `n` of the span each span-event line is about: those made (`new`), and those entered,
/// exited or closed.
fn span_numbers(text: &str) -> (HashSet<String>, Vec<String>) {
    let mut made = HashSet::new();
    let mut others = Vec::new();
    for line in text.lines() {
        let Some(start) = line.find("{n=") else {
            continue;
        };
        let rest = &line[start + 3..];
        let number: String = rest.chars().take_while(char::is_ascii_digit).collect();
        // The innermost span is the one the line is about (a child line names its parent
        // first); events inside spans made under an earlier config are not span callbacks.
        let number = match line.rfind("{n=") {
            Some(last) => line[last + 3..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect(),
            None => number,
        };
        if line.ends_with(": new") {
            made.insert(number);
        } else if line.ends_with(": enter")
            || line.ends_with(": exit")
            || line.contains(": close ")
            || line.ends_with(": close")
        {
            others.push(number);
        }
    }
    (made, others)
}

#[test]
fn spans_never_reach_layers_that_did_not_see_them_made() {
    let dir = tempfile::tempdir().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let counter = Arc::new(AtomicU64::new(0));
    let workers: Vec<_> = (0..3)
        .map(|_| {
            let stop = Arc::clone(&stop);
            let counter = Arc::clone(&counter);
            thread::spawn(move || {
                let mut kept = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let n = counter.fetch_add(1, Ordering::Relaxed);
                    let span = tracing::info_span!("work", n);
                    span.in_scope(|| {
                        tracing::info_span!("child", n).in_scope(|| tracing::info!("inside"));
                    });
                    // Some spans live on into later configs, entered and closed there.
                    kept.push(span);
                    if kept.len() > 8 {
                        let old = kept.remove(0);
                        old.in_scope(|| {});
                    }
                }
            })
        })
        .collect();

    let mut files = Vec::new();
    for round in 0..60 {
        let path = dir.path().join(format!("round-{round}.log"));
        // Every third config turns the spans away (its filter lets only warnings through).
        let filter = match round % 3 {
            0 => None,
            1 => Some("info"),
            _ => Some("warn"),
        };
        let mut session = Session::from_json(&config(&path, filter)).unwrap();
        session.install_global().unwrap();
        thread::sleep(std::time::Duration::from_millis(3));
        session.uninstall().unwrap();
        files.push((path, filter));
    }
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.join().expect("a worker thread panicked");
    }

    let mut checked = 0;
    for (path, filter) in files {
        let text = fs::read_to_string(&path).unwrap_or_default();
        let (made, others) = span_numbers(&text);
        if filter == Some("warn") {
            assert!(
                made.is_empty() && others.is_empty() && !text.contains("inside"),
                "{}: a layer filtered to warnings got info spans or events:\n{}",
                path.display(),
                text.lines().take(6).collect::<Vec<_>>().join("\n")
            );
            continue;
        }
        for number in &others {
            assert!(
                made.contains(number),
                "{}: span n={number} reached the layer without its creation:\n{}",
                path.display(),
                text.lines()
                    .filter(|line| line.contains(&format!("n={number}}}")))
                    .collect::<Vec<_>>()
                    .join("\n")
            );
        }
        checked += others.len();
    }
    assert!(checked > 0, "no span events were written");
}
