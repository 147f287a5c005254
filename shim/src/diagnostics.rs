//! Why a layer printed nothing: the targets the library's callsites have, whether each layer
//! received anything, and the JavaScript spans that every filter dropped.
//!
//! The dispatcher notes each callsite's target as it registers (a bounded set, process-wide:
//! it describes the library, whichever config is installed), each slot notes when its layer
//! receives a span or event, and [`crate::js_spans`] notes the JavaScript spans that no filter
//! let through. [`analyse`] turns that and the filters' directives into a [`Diagnostics`]
//! report, empty when every layer received something and no JavaScript span was dropped.

use std::{
    collections::BTreeSet,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Mutex,
    },
};

use serde::Serialize;
use tracing::Metadata;

/// At most this many distinct library targets are remembered.
pub(crate) const MAX_TARGETS: usize = 1000;

/// At most this many distinct dropped JavaScript spans (name, target, level) are remembered.
const MAX_DROPPED_JS_SPANS: usize = 16;

/// At most this many library targets are listed in the message.
const LISTED_TARGETS: usize = 20;

#[derive(Default)]
struct Seen {
    /// Targets of the library's own callsites (the `tracing` macros).
    library: BTreeSet<&'static str>,
    /// Targets of callsites JavaScript made (`tracing.span`, `tracing.event`).
    js: BTreeSet<&'static str>,
}

static SEEN: Mutex<Seen> = Mutex::new(Seen {
    library: BTreeSet::new(),
    js: BTreeSet::new(),
});
static TARGETS_TRUNCATED: AtomicBool = AtomicBool::new(false);

struct DroppedJsSpan {
    name: &'static str,
    target: &'static str,
    level: &'static str,
    /// The value of [`JS_SPANS_DROPPED`] after its last drop.
    last: u64,
}

/// JavaScript spans dropped by every filter so far, in this process.
static JS_SPANS_DROPPED: AtomicU64 = AtomicU64::new(0);
static DROPPED_JS_SPANS: Mutex<Vec<DroppedJsSpan>> = Mutex::new(Vec::new());

/// Whether `metadata` belongs to a callsite that JavaScript made: those have neither a source
/// file nor a module path, which every `tracing` macro fills in.
fn made_by_javascript(metadata: &Metadata<'_>) -> bool {
    metadata.file().is_none() && metadata.module_path().is_none() && metadata.line().is_none()
}

/// Notes the target of a callsite being registered with the dispatcher.
pub(crate) fn note_callsite(metadata: &'static Metadata<'static>) {
    let target = metadata.target();
    let mut seen = SEEN.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let set = if made_by_javascript(metadata) {
        &mut seen.js
    } else {
        &mut seen.library
    };
    if set.contains(target) {
        return;
    }
    if set.len() >= MAX_TARGETS {
        TARGETS_TRUNCATED.store(true, Ordering::Relaxed);
        return;
    }
    set.insert(target);
}

/// Notes a JavaScript span that was not made because no filter let it through.
pub(crate) fn note_js_span_dropped(metadata: &'static Metadata<'static>) {
    let count = JS_SPANS_DROPPED.fetch_add(1, Ordering::Relaxed) + 1;
    let mut dropped = DROPPED_JS_SPANS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let (name, target) = (metadata.name(), metadata.target());
    let level = metadata.level().as_str();
    if let Some(known) = dropped
        .iter_mut()
        .find(|span| span.name == name && span.target == target && span.level == level)
    {
        known.last = count;
    } else if dropped.len() < MAX_DROPPED_JS_SPANS {
        dropped.push(DroppedJsSpan {
            name,
            target,
            level,
            last: count,
        });
    }
}

/// How many JavaScript spans every filter dropped so far: a session keeps the count at its
/// installation, to report only the spans dropped since.
pub(crate) fn js_spans_dropped() -> u64 {
    JS_SPANS_DROPPED.load(Ordering::Relaxed)
}

/// What a session knows of one of its layers, for [`analyse`].
pub(crate) struct LayerFacts<'a> {
    pub(crate) kind: &'static str,
    pub(crate) received: bool,
    /// Its own filter, as `EnvFilter` prints it.
    pub(crate) filter: Option<&'a str>,
}

/// The report: what `tracing.diagnostics()` returns (as JSON) and dispose prints.
#[derive(Debug, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Diagnostics {
    /// Targets of the library's callsites registered so far (at most [`MAX_TARGETS`]).
    pub library_targets: Vec<String>,
    /// Whether more targets were seen than are kept.
    pub library_targets_truncated: bool,
    /// Per layer, in config order.
    pub layers: Vec<LayerDiagnostics>,
    /// JavaScript spans dropped by every filter while the session was installed.
    pub dropped_js_spans: DroppedJsSpans,
    /// The explanation, one problem per paragraph; empty when there is nothing to say.
    pub message: String,
}

/// What is known of one layer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LayerDiagnostics {
    /// Its position in the config's `layers`.
    pub index: usize,
    /// Its `kind`.
    pub kind: &'static str,
    /// Whether it received any span or event.
    pub received: bool,
    /// Targets its filters (its own and the config's) name that no callsite of the library has.
    pub missing_targets: Vec<MissingTarget>,
}

/// A target named by a filter that no callsite of the library has.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MissingTarget {
    /// As the filter names it.
    pub target: String,
    /// A library target it probably means (`newcomer-lib` for `newcomer_lib`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub did_you_mean: Option<String>,
}

/// JavaScript spans that no filter let through.
#[derive(Debug, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct DroppedJsSpans {
    /// How many.
    pub count: u64,
    /// Some of them (distinct name, target and level).
    pub spans: Vec<DroppedJsSpanInfo>,
}

/// One dropped JavaScript span.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DroppedJsSpanInfo {
    /// Its name.
    pub name: String,
    /// Its target (`js` unless given).
    pub target: String,
    /// Its level, e.g. `INFO`.
    pub level: String,
    /// The directive that lets it through, e.g. `js=info`.
    pub fix: String,
}

/// The targets named by the directives of a filter whose level is not `off`; `text` is the
/// filter as `EnvFilter` prints it.
pub(crate) fn directive_targets(text: &str) -> Vec<String> {
    // `EnvFilter` prints its directives as `target[span{field=value}]=level`, comma-separated,
    // a target-less one as `[span]=level` or just `level`.
    let mut targets = Vec::new();
    for directive in split_top_level(text) {
        let Some((selector, level)) = directive.rsplit_once('=').filter(|(selector, _)| {
            // The `=` of the level follows the selector; one inside `[...]` is a field's.
            selector.matches('[').count() == selector.matches(']').count()
        }) else {
            continue; // a bare level: no target
        };
        if level.trim().eq_ignore_ascii_case("off") {
            continue;
        }
        let target = selector.split('[').next().unwrap_or("").trim();
        if !target.is_empty() && !targets.iter().any(|known| known == target) {
            targets.push(target.to_owned());
        }
    }
    // `EnvFilter` prints its directives in its own order (by specificity), not as given.
    targets.sort();
    targets
}

fn split_top_level(text: &str) -> Vec<&str> {
    let mut depth = 0i32;
    let mut start = 0;
    let mut parts = Vec::new();
    for (index, character) in text.char_indices() {
        match character {
            '[' | '{' => depth += 1,
            ']' | '}' => depth -= 1,
            ',' if depth <= 0 => {
                parts.push(&text[start..index]);
                start = index + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

/// Whether a directive naming `target` matches a callsite with target `callsite` (`EnvFilter`
/// compares by prefix).
fn matches(target: &str, callsite: &str) -> bool {
    callsite.starts_with(target)
}

/// A library target that `missing` probably means: with `-` written `_`, or in lower case.
fn did_you_mean(missing: &str, library: &BTreeSet<&'static str>) -> Option<String> {
    let candidates = [
        missing.replace('-', "_"),
        missing.to_lowercase().replace('-', "_"),
    ];
    candidates.iter().find_map(|candidate| {
        (candidate != missing && library.iter().any(|target| matches(candidate, target)))
            .then(|| candidate.clone())
    })
}

/// Builds the report for a session's layers; `global` is the config's filter, and
/// `js_dropped_since` the count of [`js_spans_dropped`] when the session was installed.
pub(crate) fn analyse(
    global: Option<&str>,
    layers: &[LayerFacts<'_>],
    js_dropped_since: u64,
) -> Diagnostics {
    let (library, js) = {
        let seen = SEEN.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        (seen.library.clone(), seen.js.clone())
    };
    let global_targets = global.map(directive_targets).unwrap_or_default();
    let mut report = Diagnostics {
        library_targets: library.iter().map(|target| (*target).to_owned()).collect(),
        library_targets_truncated: TARGETS_TRUNCATED.load(Ordering::Relaxed),
        ..Diagnostics::default()
    };
    let mut paragraphs = Vec::new();
    for (index, layer) in layers.iter().enumerate() {
        let mut named = global_targets.clone();
        for target in layer.filter.map(directive_targets).unwrap_or_default() {
            if !named.contains(&target) {
                named.push(target);
            }
        }
        let missing: Vec<MissingTarget> = if library.is_empty() {
            Vec::new() // the library recorded nothing (yet): nothing to compare with
        } else {
            named
                .into_iter()
                .filter(|target| {
                    !library.iter().any(|known| matches(target, known))
                        && !js.iter().any(|known| matches(target, known))
                        && !matches(target, "js")
                })
                .map(|target| MissingTarget {
                    did_you_mean: did_you_mean(&target, &library),
                    target,
                })
                .collect()
        };
        if !layer.received && !missing.is_empty() {
            paragraphs.push(missing_paragraph(index, layer.kind, &missing, &report));
        }
        report.layers.push(LayerDiagnostics {
            index,
            kind: layer.kind,
            received: layer.received,
            missing_targets: missing,
        });
    }
    report.dropped_js_spans = dropped_js_spans(js_dropped_since);
    if report.dropped_js_spans.count > 0 {
        paragraphs.push(dropped_paragraph(&report.dropped_js_spans));
    }
    report.message = paragraphs.join("\n");
    report
}

fn missing_paragraph(
    index: usize,
    kind: &str,
    missing: &[MissingTarget],
    report: &Diagnostics,
) -> String {
    let mut text = format!(
        "tracing-bridge: layers[{index}] ({kind}) received nothing, although the library \
         recorded spans or events:"
    );
    for target in missing {
        text.push_str(&format!(
            "\n  its filter names the target `{}`, which no callsite of the library has",
            target.target
        ));
        if let Some(meant) = &target.did_you_mean {
            text.push_str(&format!(
                "; did you mean `{meant}`? (a crate's target writes `-` in its name as `_`)"
            ));
        }
    }
    let listed: Vec<&str> = report
        .library_targets
        .iter()
        .take(LISTED_TARGETS)
        .map(String::as_str)
        .collect();
    let more = report.library_targets.len().saturating_sub(listed.len());
    text.push_str(&format!(
        "\n  the library's targets: {}{}",
        listed.join(", "),
        if more > 0 || report.library_targets_truncated {
            format!(", and {more} more")
        } else {
            String::new()
        }
    ));
    text
}

fn dropped_paragraph(dropped: &DroppedJsSpans) -> String {
    let spans: Vec<String> = dropped
        .spans
        .iter()
        .map(|span| format!("`{}` (target `{}`, {})", span.name, span.target, span.level))
        .collect();
    let mut fixes: Vec<&str> = dropped.spans.iter().map(|span| span.fix.as_str()).collect();
    fixes.dedup();
    format!(
        "tracing-bridge: {} JavaScript span{} dropped by every filter: {}; spans made from \
         JavaScript have the target `js` unless given one, and native spans made inside them \
         lose their parent. Add {} to the filter.",
        dropped.count,
        if dropped.count == 1 { " was" } else { "s were" },
        spans.join(", "),
        fixes
            .iter()
            .map(|fix| format!("`{fix}`"))
            .collect::<Vec<_>>()
            .join(" and ")
    )
}

fn dropped_js_spans(since: u64) -> DroppedJsSpans {
    let count = js_spans_dropped().saturating_sub(since);
    if count == 0 {
        return DroppedJsSpans::default();
    }
    let dropped = DROPPED_JS_SPANS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    DroppedJsSpans {
        count,
        spans: dropped
            .iter()
            .filter(|span| span.last > since)
            .map(|span| DroppedJsSpanInfo {
                name: span.name.to_owned(),
                target: span.target.to_owned(),
                level: span.level.to_owned(),
                fix: format!("{}={}", span.target, span.level.to_lowercase()),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::parse_filter;

    fn targets(directives: &str) -> Vec<String> {
        directive_targets(&parse_filter(directives, "filter").unwrap().to_string())
    }

    #[test]
    fn directive_targets_are_read_from_each_directive() {
        assert_eq!(targets("info"), Vec::<String>::new());
        assert_eq!(targets("newcomer-lib=debug"), ["newcomer-lib"]);
        assert_eq!(
            targets("warn,a::b=trace,c[s{f=x=1}]=debug,d=off,[s]=info,e"),
            ["a::b", "c", "e"]
        );
    }

    #[test]
    fn hyphens_are_hinted() {
        let library: BTreeSet<&'static str> = ["newcomer_lib", "newcomer_lib::inner"].into();
        assert_eq!(
            did_you_mean("newcomer-lib", &library).as_deref(),
            Some("newcomer_lib")
        );
        assert_eq!(did_you_mean("other", &library), None);
    }
}
