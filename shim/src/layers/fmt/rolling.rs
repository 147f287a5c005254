//! Rolling files, as `tracing_appender::rolling` names and prunes them: one file per minute,
//! hour or day (UTC), named `prefix.2026-11-30.suffix`, the oldest removed beyond `maxFiles`.

use std::{
    fs::{self, File},
    io::{self, Write},
    path::PathBuf,
    time::{SystemTime, UNIX_EPOCH},
};

use serde::Deserialize;

use super::time::Civil;
use crate::{
    error::{Error, ErrorKind},
    options::Count,
    util::open_for_append,
};

/// Options of a rolling file writer (`writer: { rolling: {...} }`), as
/// `tracing_appender::rolling::Builder` takes them.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RollingConfig {
    /// The directory of the files; it must exist.
    #[serde(deserialize_with = "crate::options::non_empty_path")]
    pub directory: PathBuf,
    /// When a new file starts. Default `never` (one file, `prefix.suffix`).
    #[serde(default)]
    pub rotation: Rotation,
    /// The start of each file name, before the date (`app` → `app.2026-11-30`).
    #[serde(default)]
    pub prefix: Option<String>,
    /// The end of each file name, after the date (`log` → `app.2026-11-30.log`).
    #[serde(default)]
    pub suffix: Option<String>,
    /// Keep at most this many files of this prefix and suffix, removing the oldest when a new
    /// one starts. Default: keep every file.
    #[serde(default)]
    pub max_files: Option<Count>,
}

/// When a rolling writer starts a new file (UTC boundaries).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Rotation {
    /// Every minute: `prefix.2026-11-30-18-22.suffix`.
    Minutely,
    /// Every hour: `prefix.2026-11-30-18.suffix`.
    Hourly,
    /// Every day: `prefix.2026-11-30.suffix`.
    Daily,
    /// Never: one file, `prefix.suffix`.
    #[default]
    Never,
}

impl Rotation {
    /// The length of a period in seconds; `None` for `never`.
    fn period(self) -> Option<u64> {
        match self {
            Rotation::Minutely => Some(60),
            Rotation::Hourly => Some(3_600),
            Rotation::Daily => Some(86_400),
            Rotation::Never => None,
        }
    }

    /// The date part of a file name for the period holding `unix_seconds`.
    fn date(self, unix_seconds: u64) -> Option<String> {
        let civil = Civil::from_unix(i64::try_from(unix_seconds).unwrap_or(i64::MAX));
        let day = format!("{:04}-{:02}-{:02}", civil.year, civil.month, civil.day);
        match self {
            Rotation::Minutely => Some(format!("{day}-{:02}-{:02}", civil.hour, civil.minute)),
            Rotation::Hourly => Some(format!("{day}-{:02}", civil.hour)),
            Rotation::Daily => Some(day),
            Rotation::Never => None,
        }
    }

    /// Whether `text` has the shape of this rotation's date part (`2026-11-30`, digits and
    /// dashes), so that pruning leaves other files alone.
    fn is_date(self, text: &str) -> bool {
        let Some(pattern) = self.date(0) else {
            return false;
        };
        text.len() == pattern.len()
            && text.bytes().zip(pattern.bytes()).all(|(byte, shape)| {
                if shape == b'-' {
                    byte == b'-'
                } else {
                    byte.is_ascii_digit()
                }
            })
    }
}

/// A file per period, opened when its period's first line is written.
pub(super) struct RollingFile {
    config: RollingConfig,
    /// For error messages: `layers[0].writer.rolling`.
    field: String,
    current: Option<Current>,
}

struct Current {
    file: File,
    path: PathBuf,
    /// The first second (since the epoch) of the next period; `u64::MAX` for `never`.
    ends: u64,
}

impl RollingFile {
    /// Checks the options and opens the current file, so that a bad directory fails at once.
    pub(super) fn open(config: &RollingConfig, field: &str) -> Result<Self, Error> {
        let field = format!("{field}.rolling");
        let empty = |part: &Option<String>| part.as_deref().unwrap_or("").is_empty();
        if config.rotation == Rotation::Never && empty(&config.prefix) && empty(&config.suffix) {
            return Err(Error::invalid_config(format!(
                "{field}: with rotation \"never\" the file name is the prefix and suffix alone; \
                 give a `prefix` (e.g. \"app.log\") or choose a rotation"
            )));
        }
        if config.rotation == Rotation::Never && config.max_files.is_some() {
            return Err(Error::invalid_config(format!(
                "{field}.maxFiles: applies to rotating files, and rotation is \"never\" (one \
                 file); choose a rotation (\"minutely\", \"hourly\", \"daily\") or leave \
                 maxFiles out"
            )));
        }
        for (name, part) in [("prefix", &config.prefix), ("suffix", &config.suffix)] {
            if part
                .as_deref()
                .is_some_and(|part| part.contains(['/', '\\']))
            {
                return Err(Error::invalid_config(format!(
                    "{field}.{name}: is part of a file name and cannot hold a path separator; \
                     put directories in `directory`"
                )));
            }
        }
        if !config.directory.is_dir() {
            return Err(Error::new(
                ErrorKind::FileNotWritable,
                format!(
                    "{field}.directory: `{}` is not a directory; create it first or choose \
                     another one",
                    config.directory.display()
                ),
            ));
        }
        let mut rolling = Self {
            config: config.clone(),
            field,
            current: None,
        };
        let now = unix_now();
        let path = rolling.path_at(now);
        let file = open_for_append(&path, &format!("{}.directory", rolling.field))?;
        rolling.started(file, path, now);
        Ok(rolling)
    }

    /// What the layer writes to, for messages: `` `logs/app.<date>.log` (daily) ``.
    pub(super) fn describe(&self) -> String {
        let mut pattern = self.config.directory.clone();
        pattern.push(
            self.file_name(
                self.config
                    .rotation
                    .period()
                    .map(|_| "<date>".to_owned())
                    .as_deref(),
            ),
        );
        format!("`{}`", pattern.display())
    }

    /// Writes `bytes` to the file of the period holding `unix_seconds`, starting it if needed.
    pub(super) fn write_at(&mut self, bytes: &[u8], unix_seconds: u64) -> io::Result<()> {
        let rolled = match &self.current {
            Some(current) => unix_seconds >= current.ends,
            None => true,
        };
        if rolled {
            self.current = None;
            let path = self.path_at(unix_seconds);
            let file = fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .map_err(|error| {
                    io::Error::new(
                        error.kind(),
                        format!("cannot open `{}`: {error}", path.display()),
                    )
                })?;
            self.started(file, path, unix_seconds);
        }
        match &mut self.current {
            Some(current) => current.file.write_all(bytes),
            None => Ok(()),
        }
    }

    pub(super) fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.write_at(bytes, unix_now())
    }

    fn started(&mut self, file: File, path: PathBuf, now: u64) {
        let ends = match self.config.rotation.period() {
            Some(period) => (now / period + 1).saturating_mul(period),
            None => u64::MAX,
        };
        self.current = Some(Current { file, path, ends });
        if let Err(error) = self.prune() {
            eprintln!(
                "tracing-bridge: {}: cannot remove old files beyond maxFiles: {error}",
                self.field
            );
        }
    }

    fn path_at(&self, unix_seconds: u64) -> PathBuf {
        let date = self.config.rotation.date(unix_seconds);
        self.config.directory.join(self.file_name(date.as_deref()))
    }

    /// `prefix.date.suffix`, leaving out the parts that are empty (as tracing-appender does).
    fn file_name(&self, date: Option<&str>) -> String {
        [
            self.config.prefix.as_deref(),
            date,
            self.config.suffix.as_deref(),
        ]
        .into_iter()
        .flatten()
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(".")
    }

    /// Removes the oldest files of this prefix, date shape and suffix beyond `maxFiles` (the
    /// current file included). Dates sort as text, so the names order the files.
    fn prune(&self) -> io::Result<()> {
        let Some(Count(keep)) = self.config.max_files else {
            return Ok(());
        };
        let mut names: Vec<String> = Vec::new();
        for entry in fs::read_dir(&self.config.directory)? {
            let entry = entry?;
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            if self.date_of(&name).is_some() && entry.file_type()?.is_file() {
                names.push(name);
            }
        }
        let current = self
            .current
            .as_ref()
            .and_then(|current| current.path.file_name())
            .and_then(|name| name.to_str())
            .map(str::to_owned);
        // Newest first; the current file is kept whatever its date says.
        names.sort_by(|a, b| b.cmp(a));
        let mut kept = usize::from(current.is_some());
        for name in names {
            if Some(&name) == current.as_ref() {
                continue;
            }
            if kept < keep {
                kept += 1;
                continue;
            }
            fs::remove_file(self.config.directory.join(&name))?;
        }
        Ok(())
    }

    /// The date part of `name` if it is one of this writer's files.
    fn date_of<'a>(&self, name: &'a str) -> Option<&'a str> {
        let mut rest = name;
        if let Some(prefix) = self.config.prefix.as_deref().filter(|p| !p.is_empty()) {
            rest = rest.strip_prefix(prefix)?.strip_prefix('.')?;
        }
        if let Some(suffix) = self.config.suffix.as_deref().filter(|s| !s.is_empty()) {
            rest = rest.strip_suffix(suffix)?.strip_suffix('.')?;
        }
        self.config.rotation.is_date(rest).then_some(rest)
    }
}

/// The current file's path, for tests.
#[cfg(test)]
impl RollingFile {
    fn current_path(&self) -> Option<&std::path::Path> {
        self.current.as_ref().map(|current| current.path.as_path())
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn config(dir: &Path, rotation: Rotation, max_files: Option<usize>) -> RollingConfig {
        RollingConfig {
            directory: dir.to_owned(),
            rotation,
            prefix: Some("app".into()),
            suffix: Some("log".into()),
            max_files: max_files.map(Count),
        }
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_minutely_file_rolls_at_the_minute_and_prunes_the_oldest() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("other.txt"), "kept").unwrap();
        fs::write(dir.path().join("app.notadate.log"), "kept").unwrap();
        let mut rolling = RollingFile {
            config: config(dir.path(), Rotation::Minutely, Some(2)),
            field: "w".into(),
            current: None,
        };
        // 2001-09-09T01:46:40Z, then the next two minutes.
        let start = 1_000_000_000;
        rolling.write_at(b"one\n", start).unwrap();
        assert!(rolling
            .current_path()
            .unwrap()
            .ends_with("app.2001-09-09-01-46.log"));
        rolling.write_at(b"two\n", start + 1).unwrap();
        rolling.write_at(b"three\n", start + 61).unwrap();
        rolling.write_at(b"four\n", start + 121).unwrap();
        assert_eq!(
            names(dir.path()),
            [
                "app.2001-09-09-01-47.log",
                "app.2001-09-09-01-48.log",
                "app.notadate.log",
                "other.txt"
            ]
        );
        let read = |name: &str| fs::read_to_string(dir.path().join(name)).unwrap();
        assert_eq!(read("app.2001-09-09-01-47.log"), "three\n");
        assert_eq!(read("app.2001-09-09-01-48.log"), "four\n");
    }

    #[test]
    fn names_leave_out_empty_parts_as_tracing_appender_does() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = config(dir.path(), Rotation::Daily, None);
        config.prefix = None;
        let mut rolling = RollingFile::open(&config, "w").unwrap();
        rolling.current = None;
        rolling.write_at(b"x\n", 0).unwrap();
        assert!(rolling.current_path().unwrap().ends_with("1970-01-01.log"));
        config.rotation = Rotation::Never;
        config.prefix = Some("app".into());
        config.suffix = None;
        let rolling = RollingFile::open(&config, "w").unwrap();
        assert!(rolling.current_path().unwrap().ends_with("app"));
        assert_eq!(
            rolling.describe(),
            format!("`{}`", dir.path().join("app").display())
        );
    }

    #[test]
    fn bad_options_name_the_field() {
        let dir = tempfile::tempdir().unwrap();
        let mut never = config(dir.path(), Rotation::Never, Some(3));
        let error = RollingFile::open(&never, "layers[0].writer").err().unwrap();
        assert!(error
            .message()
            .starts_with("layers[0].writer.rolling.maxFiles: applies to rotating files"));
        never.max_files = None;
        never.prefix = None;
        never.suffix = None;
        let error = RollingFile::open(&never, "layers[0].writer").err().unwrap();
        assert!(error.message().contains("give a `prefix`"));
        let mut slash = config(dir.path(), Rotation::Daily, None);
        slash.prefix = Some("a/b".into());
        let error = RollingFile::open(&slash, "layers[0].writer").err().unwrap();
        assert!(error
            .message()
            .starts_with("layers[0].writer.rolling.prefix:"));
        let missing = config(&dir.path().join("none"), Rotation::Daily, None);
        let error = RollingFile::open(&missing, "layers[0].writer")
            .err()
            .unwrap();
        assert_eq!(error.kind(), ErrorKind::FileNotWritable);
        assert!(error
            .message()
            .starts_with("layers[0].writer.rolling.directory:"));
    }
}
