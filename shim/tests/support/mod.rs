//! Helpers shared by the integration tests that read the repository's source files.

use std::{
    fs,
    path::{Path, PathBuf},
};

/// Appends every `.rs` file below `dir` to `files`.
pub fn rust_files(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, files);
        } else if path.extension().is_some_and(|extension| extension == "rs") {
            files.push(path);
        }
    }
}
