//! Export to an OTLP receiver over gRPC, HTTP/protobuf or HTTP/JSON, all three through one
//! hyper client of ours, with TLS by rustls ([`super::tls`]) and one retry policy
//! ([`super::retry`]).
//!
//! The bodies: protobuf bodies (HTTP/protobuf, and gRPC's message) are encoded by
//! [`super::otlp_proto`] in one pass; JSON bodies are the OTLP JSON mapping of
//! `opentelemetry-proto`, compact. gRPC is a unary call written on HTTP/2: the length-prefixed
//! message, `grpc-status` read from the trailers (or from a trailers-only answer).
//!
//! The client runs on a small multi-thread tokio runtime that the layer owns: started when
//! the layer is built, shut down (and its threads joined) when the layer shuts down. The batch
//! worker thread drives each export with `Handle::block_on`, never from a runtime thread.

use std::{
    error::Error as StdError,
    io::{self, Write as _},
    marker::PhantomData,
    sync::atomic::{AtomicBool, Ordering},
    time::{Duration, Instant, SystemTime},
};

use bytes::Bytes;
use http::{
    header::{CONTENT_ENCODING, CONTENT_TYPE, RETRY_AFTER, USER_AGENT},
    HeaderMap, HeaderName, HeaderValue, Method, Request, Uri,
};
use http_body_util::{BodyExt as _, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::{
    client::legacy::{connect::HttpConnector, Client},
    rt::TokioExecutor,
};
use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
use opentelemetry_sdk::Resource;
use prost::Message as _;
use tokio::runtime::{Handle, Runtime};

use super::{
    batch::{Cancel, ExportBatch},
    config::OtlpProtocol,
    records::{rejected_json, OtlpRecords},
    retry::{self, Backoff},
    tls,
    transport::OtlpSettings,
};
use crate::error::Error;

/// The gRPC method of trace export.
/// The most of an answer's body that is read (OTLP answers are small).
const MAX_ANSWER_BYTES: usize = 1 << 20;

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

/// An OTLP exporter of `R` records and the runtime handle to drive it with.
pub(crate) struct OtlpExporter<R> {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    protocol: OtlpProtocol,
    /// The URL each request goes to (for gRPC, with the method's path).
    uri: Uri,
    /// Every request's headers: the configured ones and the protocol's.
    headers: HeaderMap,
    gzip: bool,
    /// The whole time one export may take, retries included (`timeoutMs`).
    timeout: Duration,
    resource: Resource,
    json_resource: ResourceAttributesWithSchema,
    /// What verifies the receiver's certificate, for messages; `None` without TLS.
    verified_by: Option<String>,
    /// Whether a client certificate is configured (mutual TLS).
    client_certificate: bool,
    runtime: Handle,
    /// The size of the last request body, to allocate the next one at once.
    last_body_len: usize,
    /// Spans the receiver answered it rejected (OTLP partial success) in the last export,
    /// with its message; taken by the batch worker.
    rejected: Option<Rejected>,
    /// Whether a request is on its way (not waiting to retry): what a cancelled export may
    /// have delivered.
    in_flight: AtomicBool,
    /// Why the last attempt of the export in flight failed, for the message of an export
    /// that is cancelled or runs out of time while retrying.
    last_failure: std::sync::Mutex<Option<String>>,
    records: PhantomData<fn(R)>,
}

impl<R> std::fmt::Debug for OtlpExporter<R> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("OtlpExporter")
            .field("protocol", &self.protocol)
            .field("uri", &self.uri)
            .finish_non_exhaustive()
    }
}

/// How many records the receiver rejected in an answer that accepted the rest, and its message.
type Rejected = (u64, String);

/// Why one attempt failed, and whether another may succeed.
struct Failure {
    message: String,
    retryable: bool,
    /// The delay the receiver asked for.
    retry_after: Option<Duration>,
}

impl<R: OtlpRecords> OtlpExporter<R> {
    /// Builds the exporter for `settings` on `runtime`, reporting `resource` with every batch.
    /// Reads the TLS files of an `https` endpoint.
    pub(crate) fn new(
        settings: &OtlpSettings,
        resource: &Resource,
        runtime: &Runtime,
        field: &str,
    ) -> Result<Self, Error> {
        let invalid_url = |error: &dyn std::fmt::Display| {
            Error::invalid_config(format!(
                "{field}.endpoint: `{}` is not a valid URL: {error}",
                settings.endpoint
            ))
        };
        let uri = match settings.protocol {
            OtlpProtocol::Grpc => {
                let base = settings
                    .endpoint
                    .parse::<Uri>()
                    .map_err(|e| invalid_url(&e))?;
                let (Some(scheme), Some(authority)) = (base.scheme_str(), base.authority()) else {
                    return Err(invalid_url(&"it needs a scheme and a host"));
                };
                format!("{scheme}://{authority}{}", R::GRPC_METHOD)
                    .parse::<Uri>()
                    .map_err(|e| invalid_url(&e))?
            }
            OtlpProtocol::HttpProtobuf | OtlpProtocol::HttpJson => settings
                .endpoint
                .parse::<Uri>()
                .map_err(|e| invalid_url(&e))?,
        };
        let (tls_config, verified_by) = if settings.uses_tls() {
            let client = tls::client_config(&settings.tls)?;
            (client.config, Some(client.verified_by))
        } else {
            (tls::plain_client_config()?, None)
        };
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls_config)
            .https_or_http();
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        #[cfg_attr(not(feature = "grpc"), allow(unused_mut))]
        let mut builder = Client::builder(TokioExecutor::new());
        // Without the `grpc` feature the settings never ask for gRPC (`otlp_settings` refused
        // it), and the client speaks HTTP/1.1 only.
        #[cfg(feature = "grpc")]
        let client = if settings.protocol == OtlpProtocol::Grpc {
            builder.http2_only(true);
            builder.build(https.enable_http2().wrap_connector(http))
        } else {
            builder.build(https.enable_http1().wrap_connector(http))
        };
        #[cfg(not(feature = "grpc"))]
        let client = builder.build(https.enable_http1().wrap_connector(http));
        Ok(Self {
            client,
            protocol: settings.protocol,
            uri,
            headers: request_headers(settings),
            gzip: settings.gzip,
            timeout: settings.timeout,
            resource: resource.clone(),
            json_resource: ResourceAttributesWithSchema::from(resource),
            verified_by,
            client_certificate: settings.tls.client_certificate.is_some(),
            runtime: runtime.handle().clone(),
            last_body_len: 0,
            last_failure: std::sync::Mutex::new(None),
            in_flight: AtomicBool::new(false),
            rejected: None,
            records: PhantomData,
        })
    }

    /// The request body of `batch` (gzip-compressed if configured; for gRPC, framed).
    fn encode(&mut self, batch: &mut Vec<R>) -> Result<Bytes, String> {
        let mut body = Vec::with_capacity(self.last_body_len + self.last_body_len / 8);
        match self.protocol {
            OtlpProtocol::HttpProtobuf | OtlpProtocol::Grpc => {
                R::encode_protobuf(batch, &self.resource, &mut body);
            }
            OtlpProtocol::HttpJson => R::encode_json(batch, &self.json_resource, &mut body)?,
        }
        R::recycle(batch);
        self.last_body_len = body.len();
        let body = if self.gzip { gzip(&body)? } else { body };
        if self.protocol != OtlpProtocol::Grpc {
            return Ok(Bytes::from(body));
        }
        // The gRPC message: compressed flag, big-endian length, the message.
        let length = u32::try_from(body.len())
            .map_err(|_| "the batch is larger than a gRPC message can be (4 GiB)".to_owned())?;
        let mut framed = Vec::with_capacity(body.len() + 5);
        framed.push(u8::from(self.gzip));
        framed.extend_from_slice(&length.to_be_bytes());
        framed.extend_from_slice(&body);
        Ok(Bytes::from(framed))
    }

    /// Sends `body` until it is accepted, a failure is final or `timeoutMs` is spent.
    /// Returns the records the receiver rejected, if it said so (partial success).
    async fn send(&self, body: Bytes) -> Result<Option<Rejected>, String> {
        let started = Instant::now();
        let deadline = started + self.timeout;
        let mut backoff = Backoff::new();
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            let remaining = deadline.saturating_duration_since(Instant::now());
            self.in_flight.store(true, Ordering::Release);
            let outcome =
                tokio::time::timeout(remaining, self.attempt(body.clone(), remaining)).await;
            self.in_flight.store(false, Ordering::Release);
            let failure = match outcome {
                Ok(Ok(rejected)) => return Ok(rejected),
                Ok(Err(failure)) => failure,
                Err(_) => Failure {
                    message: format!(
                        "no answer within timeoutMs ({} ms): not confirmed by the receiver",
                        self.timeout.as_millis()
                    ),
                    retryable: false,
                    retry_after: None,
                },
            };
            let tried = if attempts > 1 {
                format!(
                    " (after {attempts} attempts in {} ms)",
                    started.elapsed().as_millis()
                )
            } else {
                String::new()
            };
            if !failure.retryable {
                return Err(format!("{}{tried}", failure.message));
            }
            *self.lock_last_failure() = Some(format!("{}{tried}", failure.message));
            let delay = failure.retry_after.unwrap_or_else(|| backoff.next_delay());
            if Instant::now() + delay >= deadline {
                let asked = match failure.retry_after {
                    Some(after) => format!(
                        "; the receiver asked to retry after {} ms, beyond timeoutMs ({} ms)",
                        after.as_millis(),
                        self.timeout.as_millis()
                    ),
                    None => format!(
                        "; retried until timeoutMs ({} ms) ran out",
                        self.timeout.as_millis()
                    ),
                };
                return Err(format!("{}{tried}{asked}", failure.message));
            }
            tokio::time::sleep(delay).await;
        }
    }

    fn lock_last_failure(&self) -> std::sync::MutexGuard<'_, Option<String>> {
        self.last_failure
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// `; the last attempt: …` when an attempt of the export in flight failed.
    fn last_attempt(&self) -> String {
        self.lock_last_failure()
            .take()
            .map(|failure| format!("; the last attempt: {failure}"))
            .unwrap_or_default()
    }

    /// One request.
    async fn attempt(&self, body: Bytes, remaining: Duration) -> Result<Option<Rejected>, Failure> {
        let mut request = Request::builder()
            .method(Method::POST)
            .uri(self.uri.clone())
            .body(Full::new(body))
            .map_err(|error| Failure {
                message: format!("cannot build the request: {error}"),
                retryable: false,
                retry_after: None,
            })?;
        *request.headers_mut() = self.headers.clone();
        if self.protocol == OtlpProtocol::Grpc {
            // Whole milliseconds, at most 8 digits, as the gRPC wire format requires.
            let millis = remaining.as_millis().clamp(1, 99_999_999);
            if let Ok(value) = HeaderValue::from_str(&format!("{millis}m")) {
                request
                    .headers_mut()
                    .insert(HeaderName::from_static("grpc-timeout"), value);
            }
        }
        let response = self
            .client
            .request(request)
            .await
            .map_err(|error| self.request_failure(&error))?;
        let (parts, body) = response.into_parts();
        let collected = Limited::new(body, MAX_ANSWER_BYTES).collect().await;
        let (data, trailers) = match collected {
            Ok(collected) => {
                let trailers = collected.trailers().cloned();
                (collected.to_bytes(), trailers)
            }
            Err(error) => {
                return Err(Failure {
                    message: format!(
                        "the connection failed while reading the answer: {}; not confirmed by \
                         the receiver",
                        chain(&*error)
                    ),
                    retryable: true,
                    retry_after: None,
                })
            }
        };
        let status = parts.status.as_u16();
        if self.protocol == OtlpProtocol::Grpc {
            if status != 200 {
                let code = retry::grpc_code_of_http_status(status);
                return Err(Failure {
                    message: format!(
                        "the receiver answered HTTP {status} instead of gRPC (status {code} {})",
                        retry::grpc_code_name(code)
                    ),
                    retryable: retry::grpc_code_is_retryable(code, false),
                    retry_after: retry_after(&parts.headers),
                });
            }
            // A trailers-only answer puts the status in the headers.
            let metadata = trailers
                .as_ref()
                .filter(|trailers| trailers.contains_key("grpc-status"))
                .unwrap_or(&parts.headers);
            grpc_outcome(metadata)?;
            // The answer: compressed flag, length, `Export…ServiceResponse`.
            return Ok(data.get(5..).and_then(|message| {
                (data.first() == Some(&0)).then(|| R::rejected_protobuf(message))?
            }));
        }
        if parts.status.is_success() {
            return Ok(if self.protocol == OtlpProtocol::HttpJson {
                rejected_json::<R>(&data)
            } else {
                R::rejected_protobuf(&data)
            });
        }
        Err(Failure {
            message: format!(
                "the receiver answered HTTP {status}{}",
                answer_text(&parts.headers, &data)
            ),
            retryable: retry::http_status_is_retryable(status),
            retry_after: retry_after(&parts.headers),
        })
    }

    /// The failure of a request that got no answer.
    fn request_failure(&self, error: &hyper_util::client::legacy::Error) -> Failure {
        if let Some(tls_error) = tls_error(error) {
            let verified_by = self
                .verified_by
                .as_deref()
                .map(|roots| format!(" (verified against {roots})"))
                .unwrap_or_default();
            return Failure {
                message: format!(
                    "TLS with {} failed: {tls_error}{verified_by}",
                    self.uri.authority().map_or("", |a| a.as_str())
                ),
                retryable: false,
                retry_after: None,
            };
        }
        if error.is_connect() {
            return Failure {
                message: format!(
                    "cannot connect to {}: {}",
                    self.uri.authority().map_or("", |a| a.as_str()),
                    chain(error)
                ),
                retryable: true,
                retry_after: None,
            };
        }
        // With TLS 1.3 a server that requires a client certificate says so after the
        // handshake, and over HTTP/2 its alert reaches only the connection, not the request.
        let hint = if self.verified_by.is_some() && !self.client_certificate {
            " (a receiver that requires a client certificate closes the connection like this: \
             give clientCertificate and clientKey)"
        } else {
            ""
        };
        Failure {
            message: format!(
                "the connection failed before the answer: {}{hint}; not confirmed by the \
                 receiver",
                chain(error)
            ),
            retryable: true,
            retry_after: None,
        }
    }
}

impl<R: OtlpRecords> ExportBatch<R> for OtlpExporter<R> {
    fn export(
        &mut self,
        batch: &mut Vec<R>,
        timeout: Duration,
        cancel: &Cancel,
    ) -> Result<(), String> {
        let body = self.encode(batch)?;
        let this = &*self;
        let result = self.runtime.block_on(async move {
            tokio::select! {
                result = tokio::time::timeout(timeout, this.send(body)) => match result {
                    Ok(result) => result,
                    Err(_) => Err(format!(
                        "the export took longer than batch.exportTimeoutMs ({} ms): not \
                         confirmed by the receiver{}",
                        timeout.as_millis(),
                        this.last_attempt()
                    )),
                },
                () = cancel.fired() => Err(if this.in_flight.load(Ordering::Acquire) {
                    format!(
                        "no answer when the flush timeout of dispose expired (flushTimeoutMs): \
                         not confirmed by the receiver{}",
                        this.last_attempt()
                    )
                } else {
                    format!(
                        "still unsent when the flush timeout of dispose expired \
                         (flushTimeoutMs){}",
                        this.last_attempt()
                    )
                }),
            }
        });
        self.lock_last_failure().take();
        result.map(|rejected| self.rejected = rejected)
    }

    fn take_rejected(&mut self) -> Option<Rejected> {
        self.rejected.take()
    }
}

/// The headers of every request: ours, the configured ones, then the protocol's (which the
/// configured ones cannot replace).
fn request_headers(settings: &OtlpSettings) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        USER_AGENT,
        HeaderValue::from_static(concat!("tracing-bridge/", env!("CARGO_PKG_VERSION"))),
    );
    for (name, value) in &settings.headers {
        // Both were validated when the settings were resolved.
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            headers.insert(name, value);
        }
    }
    let content_type = match settings.protocol {
        OtlpProtocol::Grpc => "application/grpc",
        OtlpProtocol::HttpProtobuf => "application/x-protobuf",
        OtlpProtocol::HttpJson => "application/json",
    };
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    if settings.protocol == OtlpProtocol::Grpc {
        headers.insert(http::header::TE, HeaderValue::from_static("trailers"));
        if settings.gzip {
            headers.insert(
                HeaderName::from_static("grpc-encoding"),
                HeaderValue::from_static("gzip"),
            );
        }
    } else if settings.gzip {
        headers.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    headers
}

fn gzip(body: &[u8]) -> Result<Vec<u8>, String> {
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(body.len() / 4),
        flate2::Compression::default(),
    );
    encoder
        .write_all(body)
        .and_then(|()| encoder.finish())
        .map_err(|error| format!("cannot gzip the request body: {error}"))
}

/// The outcome of a gRPC answer from its status metadata.
fn grpc_outcome(metadata: &HeaderMap) -> Result<(), Failure> {
    let code = metadata
        .get("grpc-status")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u32>().ok());
    let Some(code) = code else {
        return Err(Failure {
            message: "the receiver's gRPC answer has no grpc-status: not confirmed by the \
                      receiver"
                .to_owned(),
            retryable: true,
            retry_after: None,
        });
    };
    if code == 0 {
        return Ok(());
    }
    let message = metadata
        .get("grpc-message")
        .and_then(|value| value.to_str().ok())
        .map(|value| {
            percent_encoding::percent_decode_str(value)
                .decode_utf8_lossy()
                .into_owned()
        })
        .filter(|message| !message.is_empty())
        .map(|message| format!(": {message}"))
        .unwrap_or_default();
    let retry_info = metadata
        .get("grpc-status-details-bin")
        .and_then(|value| grpc_retry_delay(value.as_bytes()));
    Err(Failure {
        message: format!(
            "the receiver answered gRPC status {code} {}{message}",
            retry::grpc_code_name(code)
        ),
        retryable: retry::grpc_code_is_retryable(code, retry_info.is_some()),
        retry_after: retry_info,
    })
}

/// `google.rpc.Status`, as far as retries need it.
#[derive(Clone, PartialEq, prost::Message)]
struct RpcStatus {
    #[prost(message, repeated, tag = "3")]
    details: Vec<ProtoAny>,
}

/// `google.protobuf.Any`.
#[derive(Clone, PartialEq, prost::Message)]
struct ProtoAny {
    #[prost(string, tag = "1")]
    type_url: String,
    #[prost(bytes = "vec", tag = "2")]
    value: Vec<u8>,
}

/// `google.rpc.RetryInfo`.
#[derive(Clone, PartialEq, prost::Message)]
struct RetryInfo {
    #[prost(message, optional, tag = "1")]
    retry_delay: Option<ProtoDuration>,
}

/// `google.protobuf.Duration`.
#[derive(Clone, PartialEq, prost::Message)]
struct ProtoDuration {
    #[prost(int64, tag = "1")]
    seconds: i64,
    #[prost(int32, tag = "2")]
    nanos: i32,
}

/// The `RetryInfo` delay of a `grpc-status-details-bin` value (base64 of `google.rpc.Status`).
fn grpc_retry_delay(base64: &[u8]) -> Option<Duration> {
    let status = RpcStatus::decode(decode_base64(base64)?.as_slice()).ok()?;
    let info = status
        .details
        .iter()
        .find(|detail| detail.type_url.ends_with("/google.rpc.RetryInfo"))?;
    let delay = RetryInfo::decode(info.value.as_slice()).ok()?.retry_delay?;
    Some(Duration::new(
        u64::try_from(delay.seconds).ok()?,
        u32::try_from(delay.nanos).ok()?,
    ))
}

/// Standard base64, padded or not (gRPC binary metadata).
fn decode_base64(text: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut bits = 0u32;
    let mut count = 0;
    for &byte in text.iter().filter(|&&byte| byte != b'=') {
        let value = match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        bits = (bits << 6) | u32::from(value);
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
        }
    }
    Some(out)
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| retry::parse_retry_after(value, SystemTime::now()))
}

/// A short excerpt of an error answer's body, when it is text.
fn answer_text(headers: &HeaderMap, body: &[u8]) -> String {
    let is_text = headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.contains("json") || value.starts_with("text/"));
    let text = if is_text {
        String::from_utf8_lossy(body).trim().to_owned()
    } else {
        // OTLP/HTTP protobuf errors are a `google.rpc.Status`; its message is field 2.
        #[derive(Clone, PartialEq, prost::Message)]
        struct StatusMessage {
            #[prost(string, tag = "2")]
            message: String,
        }
        StatusMessage::decode(body)
            .map(|status| status.message)
            .unwrap_or_default()
    };
    if text.is_empty() {
        return String::new();
    }
    let mut excerpt: String = text.chars().take(200).collect();
    if excerpt.len() < text.len() {
        excerpt.push('…');
    }
    format!(": {excerpt}")
}

/// The rustls error behind a request failure, if TLS is why it failed.
fn tls_error<'a>(error: &'a (dyn StdError + 'static)) -> Option<&'a rustls::Error> {
    let mut current = Some(error);
    while let Some(error) = current {
        if let Some(tls) = error.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        // An io::Error's `source` skips the error it wraps (which may be another io::Error,
        // as hyper-rustls wraps tokio-rustls' one): look inside.
        if let Some(inner) = error
            .downcast_ref::<io::Error>()
            .and_then(io::Error::get_ref)
        {
            let inner: &(dyn StdError + 'static) = inner;
            if let Some(tls) = tls_error(inner) {
                return Some(tls);
            }
        }
        current = error.source();
    }
    None
}

/// An error and its sources, `a: b: c`, without the generic top line of hyper's client error
/// and without repeats.
fn chain(error: &(dyn StdError + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current = if error.is::<hyper_util::client::legacy::Error>() {
        error.source().or(Some(error))
    } else {
        Some(error)
    };
    while let Some(error) = current {
        let text = error.to_string();
        if !parts.iter().any(|part| part.contains(&text)) {
            parts.push(text);
        }
        current = error.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::otel::{
        env::Signal,
        test_support::{otlp, span_data, with_env},
        transport::otlp_settings,
    };
    use opentelemetry_sdk::trace::SpanData;

    fn exporter(json: &str, runtime: &Runtime) -> OtlpExporter<SpanData> {
        let settings =
            otlp_settings(&otlp(json), Signal::Traces, "layers[0]", &with_env(&[])).unwrap();
        OtlpExporter::new(
            &settings,
            &Resource::builder_empty().build(),
            runtime,
            "layers[0]",
        )
        .unwrap()
    }

    #[test]
    fn bodies_are_compact_json_framed_grpc_and_gzip_on_request() {
        let runtime = build_runtime("layers[0]").unwrap();
        let spans = vec![span_data(1), span_data(2)];
        let batch = || spans.clone();
        let json = exporter(r#"{"kind":"otlp","protocol":"http/json"}"#, &runtime)
            .encode(&mut batch())
            .unwrap();
        let text = std::str::from_utf8(&json).unwrap();
        assert!(text.starts_with(r#"{"resourceSpans":[{"#), "{text}");
        assert!(
            !text.contains('\n') && !text.contains(": "),
            "not compact: {text}"
        );

        let mut protobuf = exporter(r#"{"kind":"otlp"}"#, &runtime);
        let plain = protobuf.encode(&mut batch()).unwrap();
        let grpc = exporter(r#"{"kind":"otlp","protocol":"grpc"}"#, &runtime)
            .encode(&mut batch())
            .unwrap();
        assert_eq!(grpc[0], 0, "not compressed");
        assert_eq!(
            u32::from_be_bytes(grpc[1..5].try_into().unwrap()) as usize,
            plain.len()
        );
        assert_eq!(&grpc[5..], &plain[..]);
        let gzip = exporter(
            r#"{"kind":"otlp","protocol":"grpc","compression":"gzip"}"#,
            &runtime,
        )
        .encode(&mut batch())
        .unwrap();
        assert_eq!((gzip[0], &gzip[5..7]), (1, &[0x1f, 0x8b][..]));
        runtime.shutdown_background();
    }

    #[test]
    fn grpc_answers_map_to_outcomes() {
        let mut metadata = HeaderMap::new();
        metadata.insert("grpc-status", HeaderValue::from_static("0"));
        assert!(grpc_outcome(&metadata).is_ok());
        metadata.insert("grpc-status", HeaderValue::from_static("14"));
        metadata.insert("grpc-message", HeaderValue::from_static("try%20later"));
        let failure = grpc_outcome(&metadata).unwrap_err();
        assert!(failure.retryable);
        assert_eq!(
            failure.message,
            "the receiver answered gRPC status 14 UNAVAILABLE: try later"
        );
        metadata.insert("grpc-status", HeaderValue::from_static("3"));
        assert!(!grpc_outcome(&metadata).unwrap_err().retryable);
        assert!(grpc_outcome(&HeaderMap::new()).unwrap_err().retryable);
    }

    #[test]
    fn resource_exhausted_is_retried_when_the_receiver_says_when() {
        let retry_info = RetryInfo {
            retry_delay: Some(ProtoDuration {
                seconds: 2,
                nanos: 500_000_000,
            }),
        };
        let status = RpcStatus {
            details: vec![ProtoAny {
                type_url: "type.googleapis.com/google.rpc.RetryInfo".to_owned(),
                value: retry_info.encode_to_vec(),
            }],
        };
        let encoded = encode_base64(&status.encode_to_vec());
        let mut metadata = HeaderMap::new();
        metadata.insert("grpc-status", HeaderValue::from_static("8"));
        assert!(!grpc_outcome(&metadata).unwrap_err().retryable);
        metadata.insert(
            "grpc-status-details-bin",
            HeaderValue::from_str(&encoded).unwrap(),
        );
        let failure = grpc_outcome(&metadata).unwrap_err();
        assert!(failure.retryable);
        assert_eq!(failure.retry_after, Some(Duration::from_millis(2500)));
    }

    fn encode_base64(bytes: &[u8]) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let n = chunk
                .iter()
                .enumerate()
                .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
            for i in 0..=chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            }
        }
        out
    }

    #[test]
    fn partial_success_answers_count_the_rejected_spans() {
        use opentelemetry_proto::tonic::collector::trace::v1::{
            ExportTracePartialSuccess, ExportTraceServiceResponse,
        };
        let answer = |rejected_spans| ExportTraceServiceResponse {
            partial_success: Some(ExportTracePartialSuccess {
                rejected_spans,
                error_message: "too old".to_owned(),
            }),
        };
        assert_eq!(
            SpanData::rejected_protobuf(&answer(3).encode_to_vec()),
            Some((3, "too old".to_owned()))
        );
        assert_eq!(
            SpanData::rejected_protobuf(&answer(0).encode_to_vec()),
            None
        );
        assert_eq!(SpanData::rejected_protobuf(b""), None);
        assert_eq!(
            rejected_json::<SpanData>(
                br#"{"partialSuccess":{"rejectedSpans":"2","errorMessage":"x"}}"#
            ),
            Some((2, "x".to_owned()))
        );
        assert_eq!(
            rejected_json::<SpanData>(br#"{"partialSuccess":{"rejectedSpans":4}}"#),
            Some((4, String::new()))
        );
        assert_eq!(rejected_json::<SpanData>(b"{}"), None);
        assert_eq!(rejected_json::<SpanData>(b""), None);
    }

    #[test]
    fn base64_decodes_padded_and_unpadded() {
        assert_eq!(decode_base64(b"aGVsbG8=").unwrap(), b"hello");
        assert_eq!(decode_base64(b"aGVsbG8").unwrap(), b"hello");
        assert_eq!(
            decode_base64(encode_base64(b"xyz!").as_bytes()).unwrap(),
            b"xyz!"
        );
        assert!(decode_base64(b"a b").is_none());
    }

    #[test]
    fn error_answers_quote_text_and_status_messages() {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        assert_eq!(answer_text(&headers, b" bad span \n"), ": bad span");
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/x-protobuf"),
        );
        let mut status = Vec::new();
        prost::encoding::string::encode(2, &"quota".to_owned(), &mut status);
        assert_eq!(answer_text(&headers, &status), ": quota");
        assert_eq!(answer_text(&headers, b""), "");
    }
}
