//! Export to an OTLP receiver over gRPC (tonic) or HTTP (hyper). gRPC and HTTP/JSON go through
//! `opentelemetry-otlp`; HTTP/protobuf is encoded by [`super::otlp_proto`] (one pass, no
//! intermediate messages) and posted with the same hyper client.
//!
//! Both transports run on a small multi-thread tokio runtime that the layer owns: started when
//! the layer is built, shut down (and its threads joined) when the layer shuts down. The batch
//! worker thread drives each export with `Handle::block_on`, never from a runtime thread.

use std::{future::Future, pin::Pin, time::Duration};

use std::io::Write as _;

use http::{
    header::{CONTENT_ENCODING, CONTENT_TYPE},
    HeaderMap, HeaderName, HeaderValue, Method, Uri,
};
use opentelemetry_http::{hyper::HyperClient, Bytes, HttpClient, HttpError, Request, Response};
use opentelemetry_otlp::{
    Compression, Protocol, WithExportConfig, WithHttpConfig, WithTonicConfig,
};
use opentelemetry_sdk::{
    trace::{SpanData, SpanExporter as _},
    Resource,
};
use tokio::runtime::{Handle, Runtime};

use super::{
    batch::{Cancel, ExportBatch},
    config::OtlpProtocol,
    otlp_proto::encode_traces,
    transport::OtlpSettings,
};
use crate::error::Error;

/// Builds the runtime the exporter's I/O runs on.
pub(crate) fn build_runtime(field: &str) -> Result<Runtime, Error> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .max_blocking_threads(2)
        .thread_name("tracing-bridge-otlp")
        .on_thread_start(super::silence_tracing_on_this_thread)
        .enable_all()
        .build()
        .map_err(|error| {
            Error::invalid_config(format!(
                "{field}: cannot start the OTLP export runtime: {error}"
            ))
        })
}

/// An OTLP exporter and the runtime handle to drive it with.
#[derive(Debug)]
pub(crate) struct OtlpExporter {
    transport: Transport,
    runtime: Handle,
}

// One per layer, for its whole life: the size of the variants does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
enum Transport {
    /// gRPC and HTTP/JSON: `opentelemetry-otlp`'s exporter.
    Sdk(opentelemetry_otlp::SpanExporter),
    /// HTTP/protobuf: our encoding, posted with hyper.
    HttpProtobuf(HttpProtobuf),
}

#[derive(Debug)]
struct HttpProtobuf {
    client: HeaderClient,
    endpoint: Uri,
    gzip: bool,
    resource: Resource,
    /// The size of the last request body, to allocate the next one at once.
    last_body_len: usize,
}

impl OtlpExporter {
    /// Builds the exporter for `settings` on `runtime`, reporting `resource` with every batch.
    pub(crate) fn new(
        settings: &OtlpSettings,
        resource: &Resource,
        runtime: &Runtime,
        field: &str,
    ) -> Result<Self, Error> {
        // tonic creates its channel's background task here, on our runtime.
        let _entered = runtime.enter();
        let headers = header_map(settings);
        let built = match settings.protocol {
            OtlpProtocol::Grpc => {
                let mut builder = opentelemetry_otlp::SpanExporter::builder()
                    .with_tonic()
                    .with_endpoint(settings.endpoint.clone())
                    .with_timeout(settings.timeout)
                    .with_interceptor(move |mut request: tonic::Request<()>| {
                        // After the exporter's own metadata (which includes the environment's
                        // headers): explicit headers replace same-named ones.
                        for (name, value) in &headers {
                            if let Ok(value) =
                                tonic::metadata::MetadataValue::try_from(value.as_bytes())
                            {
                                if let Ok(key) = tonic::metadata::MetadataKey::from_bytes(
                                    name.as_str().as_bytes(),
                                ) {
                                    request.metadata_mut().insert(key, value);
                                }
                            }
                        }
                        Ok(request)
                    });
                if settings.gzip {
                    builder = builder.with_compression(Compression::Gzip);
                }
                builder.build()
            }
            OtlpProtocol::HttpProtobuf => {
                let endpoint = settings.endpoint.parse::<Uri>().map_err(|error| {
                    Error::invalid_config(format!(
                        "{field}.endpoint: `{}` is not a valid URL: {error}",
                        settings.endpoint
                    ))
                })?;
                return Ok(Self {
                    transport: Transport::HttpProtobuf(HttpProtobuf {
                        client: HeaderClient {
                            inner: HyperClient::with_default_connector(settings.timeout, None),
                            headers,
                        },
                        endpoint,
                        gzip: settings.gzip,
                        resource: resource.clone(),
                        last_body_len: 0,
                    }),
                    runtime: runtime.handle().clone(),
                });
            }
            OtlpProtocol::HttpJson => {
                let client = HeaderClient {
                    inner: HyperClient::with_default_connector(settings.timeout, None),
                    headers,
                };
                let mut builder = opentelemetry_otlp::SpanExporter::builder()
                    .with_http()
                    .with_protocol(Protocol::HttpJson)
                    .with_endpoint(settings.endpoint.clone())
                    .with_timeout(settings.timeout)
                    .with_http_client(client);
                if settings.gzip {
                    builder = builder.with_compression(Compression::Gzip);
                }
                builder.build()
            }
        };
        let mut exporter = built.map_err(|error| {
            Error::invalid_config(format!("{field}: cannot build the OTLP exporter: {error}"))
        })?;
        exporter.set_resource(resource);
        Ok(Self {
            transport: Transport::Sdk(exporter),
            runtime: runtime.handle().clone(),
        })
    }
}

fn header_map(settings: &OtlpSettings) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (name, value) in &settings.headers {
        // Both were validated when the settings were resolved.
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            headers.insert(name, value);
        }
    }
    headers
}

impl ExportBatch<SpanData> for OtlpExporter {
    fn export(
        &mut self,
        batch: &mut Vec<SpanData>,
        timeout: Duration,
        cancel: &Cancel,
    ) -> Result<(), String> {
        let export = async {
            match &mut self.transport {
                Transport::Sdk(exporter) => exporter
                    .export(std::mem::take(batch))
                    .await
                    .map_err(|e| e.to_string()),
                Transport::HttpProtobuf(http) => {
                    let body = http.encode(batch)?;
                    batch.clear();
                    http.post(body).await
                }
            }
        };
        self.runtime.block_on(async move {
            tokio::select! {
                result = tokio::time::timeout(timeout, export) => match result {
                    Ok(Ok(())) => Ok(()),
                    Ok(Err(error)) => Err(error),
                    Err(_) => Err(format!(
                        "the export took longer than batch.exportTimeoutMs ({} ms): not \
                         confirmed by the receiver",
                        timeout.as_millis()
                    )),
                },
                () = cancel.fired() => Err("no answer when the flush timeout of dispose expired \
                    (flushTimeoutMs): not confirmed by the receiver".to_owned()),
            }
        })
    }
}

impl HttpProtobuf {
    /// The request body: the encoded batch, gzip-compressed if configured.
    fn encode(&mut self, batch: &[SpanData]) -> Result<Vec<u8>, String> {
        let mut body = Vec::with_capacity(self.last_body_len + self.last_body_len / 8);
        encode_traces(batch, &self.resource, &mut body);
        self.last_body_len = body.len();
        if !self.gzip {
            return Ok(body);
        }
        let mut encoder = flate2::write::GzEncoder::new(
            Vec::with_capacity(body.len() / 4),
            flate2::Compression::default(),
        );
        encoder
            .write_all(&body)
            .and_then(|()| encoder.finish())
            .map_err(|error| format!("cannot gzip the request body: {error}"))
    }

    async fn post(&self, body: Vec<u8>) -> Result<(), String> {
        let mut request = Request::builder()
            .method(Method::POST)
            .uri(self.endpoint.clone())
            .header(CONTENT_TYPE, "application/x-protobuf");
        if self.gzip {
            request = request.header(CONTENT_ENCODING, "gzip");
        }
        let request = request
            .body(Bytes::from(body))
            .map_err(|error| format!("cannot build the HTTP request: {error}"))?;
        let response = self
            .client
            .send_bytes(request)
            .await
            .map_err(|error| format!("HTTP export failed: {error}"))?;
        if !response.status().is_success() {
            return Err(format!(
                "HTTP export failed with status code: {}",
                response.status().as_u16()
            ));
        }
        Ok(())
    }
}

/// Hyper's client, with the configured headers set on every request (replacing the
/// environment's same-named headers that the exporter adds itself).
#[derive(Debug)]
struct HeaderClient {
    inner: HyperClient,
    headers: HeaderMap,
}

impl HttpClient for HeaderClient {
    fn send_bytes<'life0, 'async_trait>(
        &'life0 self,
        mut request: Request<Bytes>,
    ) -> Pin<Box<dyn Future<Output = Result<Response<Bytes>, HttpError>> + Send + 'async_trait>>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        for (name, value) in &self.headers {
            request.headers_mut().insert(name.clone(), value.clone());
        }
        self.inner.send_bytes(request)
    }
}
