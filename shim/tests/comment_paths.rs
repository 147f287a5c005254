//! Every repository path a Rust source comment names (`bindings/js_dispatch.ts`,
//! `shim/src/layers/js/wire.rs`, `examples/template`) exists: a file that moves takes the
//! comments that point at it along.

mod support;

use std::{fs, path::Path};

const ROOTS: &[&str] = &[
    "bindings/",
    "bench/",
    "bun/",
    "deno/",
    "docs/",
    "examples/",
    "fixtures/",
    "scripts/",
    "shim/",
    "tests/",
    "fuzz/",
];

/// The paths named in `text`: a known top-level folder followed by path characters.
fn named_paths(text: &str) -> Vec<String> {
    let mut paths = Vec::new();
    for (start, _) in text.char_indices() {
        let preceded_by_path = text[..start]
            .chars()
            .next_back()
            .is_some_and(|before| before.is_alphanumeric() || "_./-:".contains(before));
        if preceded_by_path {
            continue;
        }
        let Some(root) = ROOTS.iter().find(|root| text[start..].starts_with(*root)) else {
            continue;
        };
        let path: String = text[start..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || "_./-".contains(*c))
            .collect();
        let path = path.trim_end_matches('.');
        if path.len() > root.len() {
            paths.push(path.to_owned());
        }
    }
    paths
}

#[test]
fn every_path_named_in_a_rust_comment_exists() {
    let repository = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut files = Vec::new();
    for dir in [
        "shim/src",
        "shim/tests",
        "examples",
        "bench/native",
        "fixtures",
    ] {
        support::rust_files(&repository.join(dir), &mut files);
    }
    let mut missing = Vec::new();
    for file in files {
        let text = fs::read_to_string(&file).unwrap();
        for (number, line) in text.lines().enumerate() {
            let Some(comment) = line.trim_start().strip_prefix("//") else {
                continue;
            };
            for path in named_paths(comment) {
                if !repository.join(&path).exists() {
                    missing.push(format!(
                        "{}:{}: {path}",
                        file.strip_prefix(repository).unwrap().display(),
                        number + 1
                    ));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "comments name missing paths:\n{}",
        missing.join("\n")
    );
}

#[test]
fn paths_are_found_in_comment_text() {
    assert_eq!(
        named_paths("decoded by `bindings/js_dispatch.ts`). See shim/src/lib.rs."),
        ["bindings/js_dispatch.ts", "shim/src/lib.rs"]
    );
    assert!(named_paths("a/bindings/x.ts and https://x/docs/y").is_empty());
}
