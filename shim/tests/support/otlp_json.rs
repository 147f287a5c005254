//! Reading an `otlpJson` layer's file back, for the integration tests that check exported spans.

use std::{collections::HashMap, fs, path::Path};

use opentelemetry_proto::tonic::trace::v1::{Span, TracesData};

/// Every span of the OTLP JSON lines in `path` (none when the file does not exist), by name.
pub fn read_spans(path: &Path) -> HashMap<String, Span> {
    read_all_spans(path)
        .into_iter()
        .map(|span| (span.name.clone(), span))
        .collect()
}

/// Every span of the OTLP JSON lines in `path` (none when the file does not exist), in order.
pub fn read_all_spans(path: &Path) -> Vec<Span> {
    let mut spans = Vec::new();
    for line in fs::read_to_string(path).unwrap_or_default().lines() {
        let data: TracesData = serde_json::from_str(line).unwrap();
        for resource in data.resource_spans {
            for scope in resource.scope_spans {
                spans.extend(scope.spans);
            }
        }
    }
    spans
}
