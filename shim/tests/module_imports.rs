//! Imports run one way: the layer kinds (`shim/src/layers/`) never import the config document
//! (`crate::config`), which assembles their config types; and `config.rs` never imports a
//! kind's builder or the session. A kind reaches shared option types through `crate::options`,
//! shared helpers through `crate::util`, dispatch types through `crate::dispatch`.

mod support;

use std::{fs, path::Path};

fn code_lines(path: &Path) -> Vec<(usize, String)> {
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim_start().starts_with("//"))
        .map(|(number, line)| (number + 1, line.to_owned()))
        .collect()
}

#[test]
fn layer_kinds_do_not_import_the_config_document() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    support::rust_files(&src.join("layers"), &mut files);
    let mut found = Vec::new();
    for file in files {
        for (number, line) in code_lines(&file) {
            if line.contains("crate::config") || line.contains("crate::session") {
                found.push(format!("{}:{number}: {}", file.display(), line.trim()));
            }
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn the_config_document_imports_no_builder() {
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/config.rs");
    let found: Vec<String> = code_lines(&config)
        .into_iter()
        .filter(|(_, line)| {
            line.contains("::build")
                || line.contains("BuiltLayer")
                || line.contains("crate::session")
                || line.contains("crate::dispatch")
        })
        .map(|(number, line)| format!("config.rs:{number}: {}", line.trim()))
        .collect();
    assert!(found.is_empty(), "{}", found.join("\n"));
}
