//! OTLP JSON lines: each exported batch is written as one `TracesData` (`LogsData`,
//! `MetricsData`) object in the OTLP protobuf JSON mapping (camelCase keys, hex trace and span
//! ids, 64-bit integers as strings), followed by a newline. `opentelemetry-stdout` prints a
//! format of its own with `println!` and cannot write to a file, hence this exporter.
//!
//! A reader never finds half a line in a file: each line is assembled in memory and written
//! with one `write` to a file opened with `O_APPEND`. That alone is not enough: Linux copies a
//! large `write` page by page and stops early when the process is killed (`SIGKILL`), leaving
//! the start of a line (cut at a 4 KiB boundary) without its newline. So a line counts as
//! written once its newline is, and a writer that opens a file ending without one cuts that
//! torn tail before appending (warning on stderr). Writers hold a shared `flock` while writing
//! and the one that repairs an exclusive one, so the repair never cuts another live writer's
//! line short.

use std::{
    fs::File,
    io::{self, Write},
    marker::PhantomData,
    path::Path,
    time::Duration,
};

use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
use opentelemetry_sdk::Resource;

use super::{
    batch::{Cancel, ExportBatch},
    records::{json_line_starts, OtlpRecords},
};
use crate::{
    error::{Error, ErrorKind},
    options::WriterConfig,
    util::open_for_append,
};

/// Where the lines go.
#[derive(Debug)]
enum Destination {
    Stdout,
    Stderr,
    File(File),
}

/// Writes batches of `R` records as OTLP JSON lines.
#[derive(Debug)]
pub(crate) struct JsonLinesExporter<R> {
    destination: Destination,
    resource: ResourceAttributesWithSchema,
    line: Vec<u8>,
    records: PhantomData<fn(R)>,
}

impl<R> JsonLinesExporter<R> {
    /// Opens the writer (a file is created if missing and appended to).
    pub(crate) fn new(
        writer: &WriterConfig,
        resource: &Resource,
        field: &str,
    ) -> Result<Self, Error> {
        let destination = match writer {
            WriterConfig::Stdout => Destination::Stdout,
            WriterConfig::Stderr => Destination::Stderr,
            WriterConfig::File(path) => {
                let field = format!("{field}.writer.file");
                let file = open_for_append(path, &field)?;
                cut_torn_line(&file, path).map_err(|error| {
                    Error::new(
                        ErrorKind::FileNotWritable,
                        format!(
                            "{field}: cannot check the end of `{}`: {error}",
                            path.display()
                        ),
                    )
                })?;
                Destination::File(file)
            }
        };
        Ok(Self {
            destination,
            resource: ResourceAttributesWithSchema::from(resource),
            line: Vec::with_capacity(64 * 1024),
            records: PhantomData,
        })
    }

    fn write_line(&mut self) -> io::Result<()> {
        match &mut self.destination {
            Destination::Stdout => {
                let mut stdout = io::stdout().lock();
                stdout.write_all(&self.line)?;
                stdout.flush()
            }
            Destination::Stderr => io::stderr().lock().write_all(&self.line),
            // One `write` per batch, so lines of concurrent writers never interleave.
            Destination::File(file) => {
                let _lock = Flock::new(file, Flock::SHARED);
                (&*file).write_all(&self.line)
            }
        }
    }
}

impl<R: OtlpRecords> ExportBatch<R> for JsonLinesExporter<R> {
    fn export(
        &mut self,
        batch: &mut Vec<R>,
        _timeout: Duration,
        _cancel: &Cancel,
    ) -> Result<(), String> {
        self.line.clear();
        R::encode_json(batch, &self.resource, &mut self.line)?;
        self.line.push(b'\n');
        self.write_line()
            .map_err(|error| format!("cannot write OTLP JSON: {error}"))
    }
}

/// Cuts what follows the last newline of `file` if it is the start of a line of ours whose
/// writer was killed mid-write (see the module docs); says so on stderr. Anything else a file
/// ends with is left alone.
fn cut_torn_line(file: &File, path: &Path) -> io::Result<()> {
    let _lock = Flock::new(file, Flock::EXCLUSIVE);
    let metadata = file.metadata()?;
    let length = metadata.len();
    if !metadata.is_file() || length == 0 {
        return Ok(());
    }
    // `file` is append-only; read through a handle of our own.
    let reader = File::open(path)?;
    let mut last_byte = [0u8];
    read_exact_at(&reader, &mut last_byte, length - 1)?;
    if last_byte[0] == b'\n' {
        return Ok(());
    }
    let keep = complete_length(&reader, length)?;
    let mut ours = false;
    for line_start in json_line_starts() {
        let mut start = vec![0u8; line_start.len()];
        if length - keep >= start.len() as u64 {
            read_exact_at(&reader, &mut start, keep)?;
            ours |= start == line_start.as_bytes();
        }
    }
    if ours {
        file.set_len(keep)?;
        eprintln!(
            "tracing-bridge: `{}` ended in a torn line ({} bytes without a newline, from a \
             writer that was killed mid-write); it was cut before appending",
            path.display(),
            length - keep
        );
    }
    Ok(())
}

/// The length of `file` up to and including its last newline (0 if it has none).
fn complete_length(file: &File, length: u64) -> io::Result<u64> {
    let mut chunk = vec![0u8; 64 * 1024];
    let mut end = length;
    while end > 0 {
        let start = end.saturating_sub(chunk.len() as u64);
        let part = &mut chunk[..(end - start) as usize];
        read_exact_at(file, part, start)?;
        if let Some(newline) = part.iter().rposition(|&byte| byte == b'\n') {
            return Ok(start + newline as u64 + 1);
        }
        end = start;
    }
    Ok(0)
}

#[cfg(unix)]
fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

#[cfg(not(unix))]
fn read_exact_at(mut file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    use std::io::{Read, Seek, SeekFrom};
    file.seek(SeekFrom::Start(offset))?;
    file.read_exact(buf)
}

/// An advisory `flock` on a file, released on drop; nothing on other systems. Best effort: a
/// file system without locks writes as before.
struct Flock<'a>(#[allow(dead_code)] &'a File);

impl<'a> Flock<'a> {
    #[cfg(unix)]
    const SHARED: i32 = libc::LOCK_SH;
    #[cfg(unix)]
    const EXCLUSIVE: i32 = libc::LOCK_EX;
    #[cfg(not(unix))]
    const SHARED: i32 = 0;
    #[cfg(not(unix))]
    const EXCLUSIVE: i32 = 0;

    fn new(file: &'a File, operation: i32) -> Self {
        #[cfg(unix)]
        {
            use std::os::fd::AsRawFd;
            // SAFETY: flock on a file descriptor that `file` keeps open.
            unsafe { libc::flock(file.as_raw_fd(), operation) };
        }
        let _ = operation;
        Self(file)
    }
}

impl Drop for Flock<'_> {
    fn drop(&mut self) {
        #[cfg(unix)]
        {
            use std::os::fd::AsRawFd;
            // SAFETY: as in `new`.
            unsafe { libc::flock(self.0.as_raw_fd(), libc::LOCK_UN) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_torn_last_line_is_cut_and_complete_lines_stay() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("spans.jsonl");
        let first = format!("{{\"a\":\"{}\"}}\n", "x".repeat(100_000));
        let torn = format!("{{\"resourceSpans\":[{{\"y\":\"{}", "y".repeat(70_000));
        std::fs::write(&path, format!("{first}{{\"b\":1}}\n{torn}")).unwrap();
        let file = open_for_append(&path, "writer.file").unwrap();
        cut_torn_line(&file, &path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, format!("{first}{{\"b\":1}}\n"));
    }

    #[test]
    fn a_file_of_one_torn_line_is_emptied_and_other_files_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("spans.jsonl");
        std::fs::write(
            &path,
            format!("{{\"resourceSpans\":[{}", "z".repeat(200_000)),
        )
        .unwrap();
        cut_torn_line(&open_for_append(&path, "f").unwrap(), &path).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 0);
        std::fs::write(&path, "not ours").unwrap();
        cut_torn_line(&open_for_append(&path, "f").unwrap(), &path).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "not ours");
        std::fs::write(&path, "{}\n{}\n").unwrap();
        cut_torn_line(&open_for_append(&path, "f").unwrap(), &path).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{}\n{}\n");
    }
}
