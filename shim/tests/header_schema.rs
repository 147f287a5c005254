//! The config schema comment in `bindings/tracing_bridge.h` names every option the native
//! parser accepts, for every layer kind; and the header defines no macro without the
//! `TRACING_BRIDGE_` prefix.
//!
//! The accepted options are learnt from the parser itself: serde's error for an unknown field
//! lists every field of the struct (`expected one of `a`, `b``), so a field added to a config
//! type fails this test until the header's comment (`shim/cbindgen.toml`) names it too.

use tracing_bridge::Config;

const HEADER: &str = include_str!("../../bindings/tracing_bridge.h");

/// The comment at the top of the header, which holds the schema.
fn schema_comment() -> &'static str {
    let end = HEADER.find("*/").expect("the header starts with a comment");
    &HEADER[..end]
}

/// The names in backticks after "expected" or "give one of" in the error for `json`.
fn accepted(json: &str) -> Vec<String> {
    let message = Config::from_json(json)
        .expect_err(json)
        .message()
        .to_owned();
    let list = message
        .split_once("expected ")
        .or_else(|| message.split_once("give one of "))
        .unwrap_or_else(|| panic!("{json}: no list of accepted names in: {message}"))
        .1;
    let names: Vec<String> = list
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect();
    assert!(!names.is_empty(), "{json}: {message}");
    names
}

fn kinds() -> Vec<String> {
    accepted(r#"{"layers":[{"kind":"no such kind"}]}"#)
}

/// The objects whose fields the schema lists: every layer kind and the nested option objects.
fn objects() -> Vec<(String, String)> {
    let mut objects: Vec<(String, String)> = kinds()
        .into_iter()
        .map(|kind| {
            (
                format!("layer kind `{kind}`"),
                format!(r#"{{"layers":[{{"kind":"{kind}","~unknown~":1}}]}}"#),
            )
        })
        .collect();
    for (kind, option) in [
        ("otlp", "batch"),
        ("otlp", "spanLimits"),
        ("otlp", "scope"),
        ("otlp", "spanAttributes"),
        ("otlp", "signals"),
        ("otlp", "logsBatch"),
        ("otlp", "metrics"),
        ("otlpJson", "batch"),
        ("otlpJson", "signals"),
        ("otlpJson", "spanAttributes"),
    ] {
        objects.push((
            format!("`{option}` of `{kind}`"),
            format!(r#"{{"layers":[{{"kind":"{kind}","{option}":{{"~unknown~":1}}}}]}}"#),
        ));
    }
    objects.push(("the document".to_owned(), r#"{"~unknown~":1}"#.to_owned()));
    objects
}

#[test]
fn every_kind_and_option_is_in_the_header_schema() {
    let schema = schema_comment();
    let mut missing = Vec::new();
    for kind in kinds() {
        if !schema.contains(&format!(r#""kind": "{kind}""#)) {
            missing.push(format!("layer kind `{kind}`"));
        }
    }
    for (object, json) in objects() {
        for option in accepted(&json) {
            if !schema.contains(&format!(r#""{option}""#)) {
                missing.push(format!("option `{option}` of {object}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "bindings/tracing_bridge.h's config schema (written in shim/cbindgen.toml, then \
         scripts/header) does not mention: {}",
        missing.join(", ")
    );
}

#[test]
fn every_kind_is_checked() {
    // A parser that stopped listing the kinds would make the test above check nothing.
    let kinds = kinds();
    for kind in ["fmt", "js", "timeline", "flame", "otlp", "otlpJson"] {
        assert!(kinds.iter().any(|known| known == kind), "{kinds:?}");
    }
}

#[test]
fn every_macro_has_the_crate_prefix() {
    let unprefixed: Vec<&str> = HEADER
        .lines()
        .filter_map(|line| line.trim().strip_prefix("#define "))
        .filter_map(|rest| rest.split_whitespace().next())
        .filter(|name| !name.starts_with("TRACING_BRIDGE_"))
        .collect();
    assert!(
        unprefixed.is_empty(),
        "unprefixed macros in bindings/tracing_bridge.h: {unprefixed:?}; rename them in \
         shim/cbindgen.toml ([export.rename]) or exclude them"
    );
}
