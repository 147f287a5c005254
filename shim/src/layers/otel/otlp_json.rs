//! OTLP JSON lines: each exported batch is written as one `TracesData` object in the OTLP
//! protobuf JSON mapping (camelCase keys, hex trace and span ids, 64-bit integers as strings),
//! followed by a newline. `opentelemetry-stdout` prints a format of its own with `println!`
//! and cannot write to a file, hence this exporter.

use std::{
    fs::File,
    io::{self, Write},
    time::Duration,
};

use opentelemetry_proto::{
    tonic::trace::v1::TracesData,
    transform::{
        common::tonic::ResourceAttributesWithSchema,
        trace::tonic::group_spans_by_resource_and_scope,
    },
};
use opentelemetry_sdk::{trace::SpanData, Resource};

use super::batch::{Cancel, ExportBatch};
use crate::{error::Error, layers::open_for_append, options::WriterConfig};

/// Where the lines go.
#[derive(Debug)]
enum Destination {
    Stdout,
    Stderr,
    File(File),
}

/// Writes batches as OTLP JSON lines.
#[derive(Debug)]
pub(crate) struct JsonLinesExporter {
    destination: Destination,
    resource: ResourceAttributesWithSchema,
    line: Vec<u8>,
}

impl JsonLinesExporter {
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
                Destination::File(open_for_append(path, &format!("{field}.writer.file"))?)
            }
        };
        Ok(Self {
            destination,
            resource: ResourceAttributesWithSchema::from(resource),
            line: Vec::with_capacity(64 * 1024),
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
            Destination::File(file) => file.write_all(&self.line),
        }
    }
}

impl ExportBatch<SpanData> for JsonLinesExporter {
    fn export(
        &mut self,
        batch: &mut Vec<SpanData>,
        _timeout: Duration,
        _cancel: &Cancel,
    ) -> Result<(), String> {
        let data = TracesData {
            resource_spans: group_spans_by_resource_and_scope(
                std::mem::take(batch),
                &self.resource,
            ),
        };
        self.line.clear();
        serde_json::to_writer(&mut self.line, &data).map_err(|error| error.to_string())?;
        self.line.push(b'\n');
        self.write_line()
            .map_err(|error| format!("cannot write OTLP JSON: {error}"))
    }
}
