//! Opening the files that layers write, with errors that name the config field and the fix.

use std::{
    fs::{File, OpenOptions},
    path::Path,
};

use crate::error::{Error, ErrorKind};

/// Creates `path`, or truncates it if it exists: for outputs that are one document per run
/// (a timeline, folded stacks). `field` names the option in error messages.
pub(crate) fn create_truncated(path: &Path, field: &str) -> Result<File, Error> {
    check_directory(path, field)?;
    OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .open(path)
        .map_err(|error| {
            Error::new(
                ErrorKind::FileNotWritable,
                format!(
                    "{field}: cannot create `{}`: {error}; check that the path is a writable file",
                    path.display()
                ),
            )
        })
}

/// Opens `path` for appending, creating it if needed: for line outputs (fmt, OTLP JSON) that a
/// later run may add to. `field` names the option in error messages.
pub(crate) fn open_for_append(path: &Path, field: &str) -> Result<File, Error> {
    check_directory(path, field)?;
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|error| {
            Error::new(
                ErrorKind::FileNotWritable,
                format!(
                    "{field}: cannot open `{}` for appending: {error}; check that the path is a \
                     writable file",
                    path.display()
                ),
            )
        })
}

/// Fails unless `path` is non-empty and its directory exists.
fn check_directory(path: &Path, field: &str) -> Result<(), Error> {
    if path.as_os_str().is_empty() {
        return Err(Error::invalid_config(format!(
            "{field} is empty; give a file path"
        )));
    }
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    if !directory.is_dir() {
        return Err(Error::new(
            ErrorKind::FileNotWritable,
            format!(
                "{field}: directory `{}` does not exist; create it first or choose another path",
                directory.display()
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_directory_names_the_field() {
        let error =
            create_truncated(Path::new("/no/such/dir/x.json"), "layers[2].path").unwrap_err();
        assert_eq!(error.kind(), ErrorKind::FileNotWritable);
        assert!(error
            .message()
            .starts_with("layers[2].path: directory `/no/such/dir`"));
    }

    #[test]
    fn an_existing_file_is_truncated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.json");
        std::fs::write(&path, "old content").unwrap();
        drop(create_truncated(&path, "path").unwrap());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "");
    }
}
