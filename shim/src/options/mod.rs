//! Option types that several layer kinds share: where a layer writes ([`WriterConfig`]), file
//! paths, and whole numbers read with messages that say which numbers are accepted. The kinds'
//! config types use these; [`crate::config`] re-exports them.

use std::path::PathBuf;

use serde::{de, Deserialize, Deserializer};

mod numbers;
pub(crate) use numbers::optional_capacity;
pub use numbers::{Count, Millis};

/// Where a layer writes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub enum WriterConfig {
    /// The process's standard output.
    #[default]
    Stdout,
    /// The process's standard error.
    Stderr,
    /// A file, opened for appending and created if missing; its directory must exist.
    File(#[serde(deserialize_with = "non_empty_path")] PathBuf),
}

/// Reads a file path that must not be empty.
pub(crate) fn non_empty_path<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<PathBuf, D::Error> {
    let path = PathBuf::deserialize(deserializer)?;
    if path.as_os_str().is_empty() {
        return Err(de::Error::custom(
            "is empty; give the path of the file to write",
        ));
    }
    Ok(path)
}

/// The default of options that are on unless turned off (`#[serde(default = "...")]`).
pub(crate) fn yes() -> bool {
    true
}
