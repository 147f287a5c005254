//! An OTLP receiver for tracing-bridge's tests and benchmarks.
//!
//! `otlp-receiver <grpc|http/protobuf|http/json>` starts:
//! - **direct**: a `mock-collector` server (a third-party OTLP receiver) for that protocol;
//! - **front**: a proxy in front of it that records each request (path, headers, transport,
//!   HTTP version, receive time, the fault applied) and can inject faults;
//! - **tls**, **mtls**: the same proxy behind TLS, terminated here (rustls with ring, ALPN `h2`
//!   and `http/1.1`, `h2` preferred for gRPC, `http/1.1` for HTTP), with a server certificate for `127.0.0.1` and `localhost` signed by a CA
//!   generated at start (see `tls.rs`); `mtls` requires a client certificate signed by the
//!   generated client CA;
//! - **control**: a small HTTP API for the test:
//!   - `GET /spans`: every span received, in the OTLP JSON mapping, with its resource and scope
//!     attributes, plus the recorded requests and the failed TLS handshakes;
//!   - `GET /logs`: every log record received, in the OTLP JSON mapping, with its resource and
//!     scope attributes (`{"logs": [{"logRecord", "resource", "scope"}]}`);
//!   - `GET /metrics`: every metric received (one entry per metric per export request), in
//!     the OTLP JSON mapping, with its resource and scope attributes: `{"metrics": [{"metric",
//!     "resource", "scope"}]}`;
//!   - `GET /stats`: `{"spans","logs","metrics","metricDataPoints","requests","faulted",
//!     "tlsFailures","lastChangeMs"}`: spans, log records, metrics and their data points
//!     received (`lastChangeMs`: when one of those counts last changed), export requests
//!     received on any front, how many of them a fault answered
//!     (`error`, `status`, `reset`, `hang`) instead of mock-collector, failed TLS handshakes;
//!   - `POST /fault`: `{"mode": M, "delayMs": N, "count": N, "status": N, "retryAfter": S,
//!     "grpcStatus": N}`, `M` one of:
//!     - `ok`: forward every request;
//!     - `slow`: forward after `delayMs`;
//!     - `error`: answer 503 (gRPC: `UNAVAILABLE`);
//!     - `hang`: never answer;
//!     - `status`: answer HTTP `status` (default 503) with a small text body; a gRPC request
//!       (`content-type: application/grpc…`) gets HTTP 200 with `grpc-status` mapped from it
//!       (503, 502, 504 → 14 `UNAVAILABLE`; 429 → 8 `RESOURCE_EXHAUSTED`; 400 → 3
//!       `INVALID_ARGUMENT`; see `grpc_code`), or `grpcStatus` when given, and `grpc-message`.
//!       `retryAfter` is sent as `Retry-After` on the first faulted answer only (gRPC also gets
//!       it as a `google.rpc.RetryInfo` in `grpc-status-details-bin` when it is a number of
//!       seconds);
//!     - `reset`: read the request, then close its connection without an answer.
//!
//!     With `count`, only the next `count` requests get the fault, then the mode goes back to
//!     `ok` by itself; without it the fault stays until the next `POST /fault`;
//!   - `POST /clear`: forget spans, log records, requests and TLS failures.
//!
//! All listen on 127.0.0.1 with free ports, printed as one JSON line on stdout:
//! `{"protocol":"grpc","direct":N,"front":N,"control":N,"tls":N,"mtls":N,"certs":{"dir":…,
//! "ca":…,"wrongCa":…,"clientCa":…,"clientCert":…,"clientKey":…,"otherKey":…,"notPem":…}}`
//! (absolute paths). The receiver exits when its standard input closes, so it never outlives
//! the test that started it, or on SIGTERM or SIGINT, and then removes the certificates'
//! directory.

mod tls;

use std::{
    collections::BTreeMap,
    convert::Infallible,
    io::{Read, Write},
    net::{Ipv4Addr, SocketAddr},
    sync::{Arc, Mutex},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use axum::{
    extract::State as AxumState, http::StatusCode as AxumStatus, routing::get, routing::post, Json,
    Router,
};
use base64::{engine::general_purpose::STANDARD_NO_PAD, Engine};
use bytes::Bytes;
use http_body_util::{combinators::BoxBody, BodyExt, Empty, Full};
use hyper::{
    body::Incoming, header::HeaderValue, service::service_fn, Request, Response, StatusCode,
    Version,
};
use hyper_util::{
    client::legacy::{connect::HttpConnector, Client},
    rt::{TokioExecutor, TokioIo},
    server::conn::auto,
};
use mock_collector::{MockCollector, MockServer, Protocol};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::{
    io::{AsyncRead, AsyncWrite},
    net::TcpListener,
    signal::unix::{signal, SignalKind},
    sync::{Notify, RwLock},
};
use tokio_rustls::TlsAcceptor;

type ProxyBody = BoxBody<Bytes, hyper::Error>;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum FaultMode {
    #[default]
    Ok,
    Slow,
    Error,
    Hang,
    Status,
    Reset,
}

/// The body of `POST /fault`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Fault {
    mode: FaultMode,
    #[serde(default)]
    delay_ms: u64,
    /// How many requests get the fault before the mode goes back to `ok`; `None`: all.
    #[serde(default)]
    count: Option<u64>,
    /// The HTTP status of mode `status` (default 503).
    #[serde(default)]
    status: Option<u16>,
    /// `grpc-status` of mode `status` for gRPC requests (default: mapped from `status`).
    #[serde(default)]
    grpc_status: Option<u32>,
    /// `Retry-After` of mode `status`, on the first faulted answer only.
    #[serde(default)]
    retry_after: Option<String>,
}

/// What the proxy does with one request.
enum Action {
    Forward,
    Slow(Duration),
    Error,
    Hang,
    Status {
        status: StatusCode,
        grpc_status: Option<u32>,
        retry_after: Option<String>,
    },
    Reset,
}

impl Action {
    /// The name recorded with the request (`None`: forwarded untouched).
    fn name(&self) -> Option<&'static str> {
        match self {
            Action::Forward => None,
            Action::Slow(_) => Some("slow"),
            Action::Error => Some("error"),
            Action::Hang => Some("hang"),
            Action::Status { .. } => Some("status"),
            Action::Reset => Some("reset"),
        }
    }
}

/// How a request reached the proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transport {
    Plain,
    Tls,
    Mtls,
}

impl Transport {
    fn name(self) -> &'static str {
        match self {
            Transport::Plain => "plain",
            Transport::Tls => "tls",
            Transport::Mtls => "mtls",
        }
    }
}

struct State {
    collector: Arc<RwLock<MockCollector>>,
    fault: Mutex<Fault>,
    requests: Mutex<Vec<Value>>,
    /// Failed TLS handshakes: `{"transport","error","receivedMs"}`.
    tls_failures: Mutex<Vec<Value>>,
    /// Wall-clock time (ms since the epoch) when the span count last changed.
    last_change_ms: Mutex<f64>,
    /// The span count the watcher saw last (an async lock: held across the count's read, so
    /// that `/clear` cannot slip in between).
    last_count: tokio::sync::Mutex<usize>,
}

impl State {
    /// The action for the next request, counting it against the fault's `count`.
    fn next_action(&self) -> Action {
        let mut fault = self.fault.lock().unwrap();
        let action = match fault.mode {
            FaultMode::Ok => return Action::Forward,
            FaultMode::Slow => Action::Slow(Duration::from_millis(fault.delay_ms)),
            FaultMode::Error => Action::Error,
            FaultMode::Hang => Action::Hang,
            FaultMode::Reset => Action::Reset,
            FaultMode::Status => Action::Status {
                status: fault
                    .status
                    .and_then(|status| StatusCode::from_u16(status).ok())
                    .unwrap_or(StatusCode::SERVICE_UNAVAILABLE),
                grpc_status: fault.grpc_status,
                // Only the first faulted answer carries it.
                retry_after: fault.retry_after.take(),
            },
        };
        if let Some(count) = fault.count.as_mut() {
            *count = count.saturating_sub(1);
            if *count == 0 {
                *fault = Fault::default();
            }
        }
        action
    }
}

fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs_f64() * 1000.0)
        .unwrap_or(0.0)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let name = std::env::args().nth(1).unwrap_or_else(|| "grpc".to_owned());
    let protocol = match name.as_str() {
        "grpc" => Protocol::Grpc,
        "http/protobuf" => Protocol::HttpBinary,
        "http/json" => Protocol::HttpJson,
        other => return Err(format!("unknown protocol `{other}`").into()),
    };
    let tls = tls::Tls::generate(protocol == Protocol::Grpc)?;
    let result = run(name, protocol, &tls).await;
    tls.remove();
    if let Err(error) = result {
        eprintln!("otlp-receiver: {error}");
        std::process::exit(1);
    }
    // Not waiting for the thread still blocked reading stdin after a signal.
    std::process::exit(0);
}

async fn run(
    name: String,
    protocol: Protocol,
    tls: &tls::Tls,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let server = MockServer::builder()
        .protocol(protocol)
        .host(Ipv4Addr::LOCALHOST.into())
        .port(0)
        .start()
        .await?;
    let direct = server.addr();
    let state = Arc::new(State {
        collector: server.collector(),
        fault: Mutex::new(Fault::default()),
        requests: Mutex::new(Vec::new()),
        tls_failures: Mutex::new(Vec::new()),
        last_change_ms: Mutex::new(0.0),
        last_count: tokio::sync::Mutex::new(0),
    });
    let grpc = protocol == Protocol::Grpc;
    let client: Client<HttpConnector, Incoming> = Client::builder(TokioExecutor::new())
        .http2_only(grpc)
        .build_http();
    let proxy = |transport| Proxy {
        state: Arc::clone(&state),
        client: client.clone(),
        direct,
        grpc,
        transport,
    };

    let mut ports = BTreeMap::new();
    for (port, transport, config) in [
        ("front", Transport::Plain, None),
        ("tls", Transport::Tls, Some(&tls.server)),
        ("mtls", Transport::Mtls, Some(&tls.mutual)),
    ] {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        ports.insert(port, listener.local_addr()?.port());
        let acceptor = config.map(|config| TlsAcceptor::from(Arc::clone(config)));
        tokio::spawn(serve_front(listener, acceptor, proxy(transport)));
    }

    let control = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
    let control_port = control.local_addr()?.port();
    let app = Router::new()
        .route("/spans", get(spans))
        .route("/logs", get(logs))
        .route("/metrics", get(metrics))
        .route("/stats", get(stats))
        .route("/fault", post(set_fault))
        .route("/clear", post(clear))
        .with_state(Arc::clone(&state));
    tokio::spawn(async move { axum::serve(control, app).await });
    tokio::spawn(watch_span_count(Arc::clone(&state)));

    let mut stdout = std::io::stdout().lock();
    writeln!(
        stdout,
        "{}",
        json!({
            "protocol": name,
            "direct": direct.port(),
            "front": ports["front"],
            "control": control_port,
            "tls": ports["tls"],
            "mtls": ports["mtls"],
            "certs": tls.paths(),
        })
    )?;
    stdout.flush()?;
    drop(stdout);

    // Exit when the parent closes our stdin (or dies), or on SIGTERM or SIGINT.
    let stdin_closed = tokio::task::spawn_blocking(|| {
        let mut sink = [0u8; 256];
        let mut stdin = std::io::stdin();
        while matches!(stdin.read(&mut sink), Ok(n) if n > 0) {}
    });
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    tokio::select! {
        _ = stdin_closed => {}
        _ = terminate.recv() => {}
        _ = interrupt.recv() => {}
    }
    drop(server);
    Ok(())
}

async fn watch_span_count(state: Arc<State>) {
    loop {
        tokio::time::sleep(Duration::from_millis(1)).await;
        let mut last = state.last_count.lock().await;
        let count = {
            let collector = state.collector.read().await;
            collector.span_count() + collector.log_count() + collector.metric_count()
        };
        if count != *last {
            *last = count;
            *state.last_change_ms.lock().unwrap() = now_ms();
        }
    }
}

/// One front: where requests go and how they arrived.
#[derive(Clone)]
struct Proxy {
    state: Arc<State>,
    client: Client<HttpConnector, Incoming>,
    direct: SocketAddr,
    grpc: bool,
    transport: Transport,
}

/// Accepts connections on `listener`, terminates TLS when `acceptor` is given, and serves each
/// connection with the proxy (HTTP/1 and HTTP/2).
async fn serve_front(listener: TcpListener, acceptor: Option<TlsAcceptor>, proxy: Proxy) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        // Answers go out at once: with Nagle's algorithm, the small writes of an answer (TLS
        // records, HTTP/2 frames) would wait for the client's delayed ACK (~40 ms).
        let _ = stream.set_nodelay(true);
        let proxy = proxy.clone();
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let Some(acceptor) = acceptor else {
                return serve_connection(stream, proxy).await;
            };
            let handshake = tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream));
            match handshake.await {
                Ok(Ok(stream)) => serve_connection(stream, proxy).await,
                Ok(Err(error)) => proxy.tls_failure(error.to_string()),
                Err(_) => proxy.tls_failure("handshake timed out".to_owned()),
            }
        });
    }
}

/// Serves one connection until it ends, or until a `reset` fault closes it.
async fn serve_connection<IO>(io: IO, proxy: Proxy)
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let reset = Arc::new(Notify::new());
    let on_reset = Arc::clone(&reset);
    let service = service_fn(move |request| proxy.clone().forward(request, Arc::clone(&reset)));
    let builder = auto::Builder::new(TokioExecutor::new());
    let connection = builder.serve_connection(TokioIo::new(io), service);
    // A reset drops the connection (and its socket) without an answer.
    tokio::select! {
        _ = connection => {}
        () = on_reset.notified() => {}
    }
}

impl Proxy {
    fn tls_failure(&self, error: String) {
        self.state.tls_failures.lock().unwrap().push(json!({
            "transport": self.transport.name(),
            "error": error,
            "receivedMs": now_ms(),
        }));
    }

    async fn forward(
        self,
        request: Request<Incoming>,
        reset: Arc<Notify>,
    ) -> Result<Response<ProxyBody>, Infallible> {
        let grpc = self.grpc;
        let headers: BTreeMap<String, String> = request
            .headers()
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect();
        let action = self.state.next_action();
        self.state.requests.lock().unwrap().push(json!({
            "path": request.uri().path(),
            "headers": headers,
            "transport": self.transport.name(),
            "version": format!("{:?}", request.version()),
            "receivedMs": now_ms(),
            "fault": action.name(),
        }));
        match action {
            Action::Forward => {}
            Action::Slow(delay) => tokio::time::sleep(delay).await,
            Action::Hang => std::future::pending::<()>().await,
            Action::Error => return Ok(error_response(grpc, "fault injected by the test")),
            Action::Status {
                status,
                grpc_status,
                retry_after,
            } => {
                read_body(request).await;
                let grpc_request = is_grpc(&headers);
                return Ok(status_response(
                    status,
                    grpc_request.then(|| grpc_status.unwrap_or_else(|| grpc_code(status))),
                    retry_after,
                ));
            }
            Action::Reset => {
                read_body(request).await;
                reset.notify_one();
                // The connection is dropped meanwhile; this answer is never sent.
                tokio::time::sleep(Duration::from_secs(5)).await;
                return Ok(error_response(grpc, "reset"));
            }
        }
        let (mut parts, body) = request.into_parts();
        let path = parts
            .uri
            .path_and_query()
            .map(|path| path.as_str().to_owned())
            .unwrap_or_default();
        parts.uri = match format!("http://{}{path}", self.direct).parse() {
            Ok(uri) => uri,
            Err(_) => return Ok(error_response(grpc, "bad path")),
        };
        // mock-collector speaks HTTP/2 for gRPC and HTTP/1.1 otherwise, whatever the client
        // negotiated with the front (an HTTP client may get h2 over TLS).
        parts.version = if grpc {
            Version::HTTP_2
        } else {
            Version::HTTP_11
        };
        match self.client.request(Request::from_parts(parts, body)).await {
            Ok(response) => Ok(response.map(BodyExt::boxed)),
            Err(error) => Ok(error_response(grpc, &format!("proxy: {error}"))),
        }
    }
}

fn is_grpc(headers: &BTreeMap<String, String>) -> bool {
    headers
        .get("content-type")
        .is_some_and(|value| value.starts_with("application/grpc"))
}

/// Reads the whole request body (for at most a second), so that a faulted answer comes after
/// the client sent everything.
async fn read_body(request: Request<Incoming>) {
    let _ = tokio::time::timeout(Duration::from_secs(1), request.into_body().collect()).await;
}

/// The gRPC status for an HTTP status, as the tests expect it.
fn grpc_code(status: StatusCode) -> u32 {
    match status.as_u16() {
        400 => 3,        // INVALID_ARGUMENT
        401 => 16,       // UNAUTHENTICATED
        403 => 7,        // PERMISSION_DENIED
        404 => 12,       // UNIMPLEMENTED
        429 => 8,        // RESOURCE_EXHAUSTED
        500 => 13,       // INTERNAL
        502..=504 => 14, // UNAVAILABLE
        200..=299 => 0,  // OK
        _ => 2,          // UNKNOWN
    }
}

fn empty_body() -> ProxyBody {
    Empty::<Bytes>::new()
        .map_err(|never| match never {})
        .boxed()
}

fn text_body(text: String) -> ProxyBody {
    Full::new(Bytes::from(text))
        .map_err(|never| match never {})
        .boxed()
}

/// The answer of mode `status`: the HTTP status with a text body, or for gRPC
/// (`grpc_status` given) a trailers-only response.
fn status_response(
    status: StatusCode,
    grpc_status: Option<u32>,
    retry_after: Option<String>,
) -> Response<ProxyBody> {
    let message = format!("fault injected by the test: HTTP {}", status.as_u16());
    let mut response = match grpc_status {
        Some(code) => {
            let mut response = Response::new(empty_body());
            let headers = response.headers_mut();
            headers.insert("content-type", HeaderValue::from_static("application/grpc"));
            headers.insert("grpc-status", HeaderValue::from(code));
            if let Ok(value) = HeaderValue::from_str(&message) {
                headers.insert("grpc-message", value);
            }
            let delay = retry_after
                .as_deref()
                .and_then(|seconds| seconds.trim().parse::<f64>().ok())
                .filter(|seconds| seconds.is_finite() && *seconds >= 0.0);
            if let Some(seconds) = delay {
                let details = grpc_status_details(code, &message, seconds);
                if let Ok(value) = HeaderValue::from_str(&STANDARD_NO_PAD.encode(details)) {
                    headers.insert("grpc-status-details-bin", value);
                }
                let millis = (seconds * 1000.0).round() as u64;
                headers.insert("grpc-retry-pushback-ms", HeaderValue::from(millis));
            }
            response
        }
        None => {
            let mut response = Response::new(text_body(message));
            *response.status_mut() = status;
            response
                .headers_mut()
                .insert("content-type", HeaderValue::from_static("text/plain"));
            response
        }
    };
    if let Some(value) = retry_after.and_then(|value| HeaderValue::from_str(&value).ok()) {
        response.headers_mut().insert("retry-after", value);
    }
    response
}

/// A `google.rpc.Status` with one `google.rpc.RetryInfo` detail asking for `seconds`, encoded
/// as protobuf by hand (fields: Status 1 code, 2 message, 3 details; Any 1 type_url, 2 value;
/// RetryInfo 1 retry_delay; Duration 1 seconds, 2 nanos).
fn grpc_status_details(code: u32, message: &str, seconds: f64) -> Vec<u8> {
    let whole = seconds.trunc() as u64;
    let nanos = ((seconds - seconds.trunc()) * 1e9).round() as u64;
    let mut duration = Vec::new();
    if whole > 0 {
        put_varint_field(&mut duration, 1, whole);
    }
    if nanos > 0 {
        put_varint_field(&mut duration, 2, nanos);
    }
    let mut retry_info = Vec::new();
    put_bytes_field(&mut retry_info, 1, &duration);
    let mut any = Vec::new();
    put_bytes_field(
        &mut any,
        1,
        b"type.googleapis.com/google.rpc.RetryInfo".as_slice(),
    );
    put_bytes_field(&mut any, 2, &retry_info);
    let mut status = Vec::new();
    put_varint_field(&mut status, 1, u64::from(code));
    put_bytes_field(&mut status, 2, message.as_bytes());
    put_bytes_field(&mut status, 3, &any);
    status
}

fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn put_varint_field(out: &mut Vec<u8>, field: u64, value: u64) {
    put_varint(out, field << 3);
    put_varint(out, value);
}

fn put_bytes_field(out: &mut Vec<u8>, field: u64, bytes: &[u8]) {
    put_varint(out, (field << 3) | 2);
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

fn error_response(grpc: bool, message: &str) -> Response<ProxyBody> {
    let builder = if grpc {
        // A trailers-only gRPC response: UNAVAILABLE.
        Response::builder()
            .status(StatusCode::OK)
            .header("content-type", "application/grpc")
            .header("grpc-status", "14")
            .header("grpc-message", message.replace(['\r', '\n'], " "))
    } else {
        Response::builder().status(StatusCode::SERVICE_UNAVAILABLE)
    };
    let body = if grpc {
        empty_body()
    } else {
        text_body(message.to_owned())
    };
    builder
        .body(body)
        .unwrap_or_else(|_| Response::new(empty_body()))
}

async fn spans(AxumState(state): AxumState<Arc<State>>) -> Json<Value> {
    let collector = state.collector.read().await;
    let spans: Vec<Value> = collector
        .spans()
        .iter()
        .map(|span| {
            json!({
                "span": serde_json::to_value(span.span()).unwrap_or(Value::Null),
                "resource": serde_json::to_value(span.resource_attrs()).unwrap_or(Value::Null),
                "scope": serde_json::to_value(span.scope_attrs()).unwrap_or(Value::Null),
            })
        })
        .collect();
    let requests = state.requests.lock().unwrap().clone();
    let tls_failures = state.tls_failures.lock().unwrap().clone();
    Json(json!({"spans": spans, "requests": requests, "tlsFailures": tls_failures}))
}

async fn logs(AxumState(state): AxumState<Arc<State>>) -> Json<Value> {
    let collector = state.collector.read().await;
    let logs: Vec<Value> = collector
        .logs()
        .iter()
        .map(|record| {
            json!({
                "logRecord": serde_json::to_value(record.log_record()).unwrap_or(Value::Null),
                "resource": serde_json::to_value(record.resource_attrs()).unwrap_or(Value::Null),
                "scope": serde_json::to_value(record.scope_attrs()).unwrap_or(Value::Null),
            })
        })
        .collect();
    Json(json!({"logs": logs}))
}

/// The data points of a received metric.
fn data_points(metric: &opentelemetry_proto::tonic::metrics::v1::Metric) -> usize {
    use opentelemetry_proto::tonic::metrics::v1::metric::Data;
    match &metric.data {
        Some(Data::Sum(sum)) => sum.data_points.len(),
        Some(Data::Gauge(gauge)) => gauge.data_points.len(),
        Some(Data::Histogram(histogram)) => histogram.data_points.len(),
        Some(Data::ExponentialHistogram(histogram)) => histogram.data_points.len(),
        Some(Data::Summary(summary)) => summary.data_points.len(),
        None => 0,
    }
}

async fn metrics(AxumState(state): AxumState<Arc<State>>) -> Json<Value> {
    let collector = state.collector.read().await;
    let metrics: Vec<Value> = collector
        .metrics()
        .iter()
        .map(|metric| {
            json!({
                "metric": serde_json::to_value(metric.metric()).unwrap_or(Value::Null),
                "resource": serde_json::to_value(metric.resource_attrs()).unwrap_or(Value::Null),
                "scope": serde_json::to_value(metric.scope_attrs()).unwrap_or(Value::Null),
            })
        })
        .collect();
    Json(json!({"metrics": metrics}))
}

async fn stats(AxumState(state): AxumState<Arc<State>>) -> Json<Value> {
    let (spans, logs, metrics, metric_data_points) = {
        let collector = state.collector.read().await;
        let metrics = collector.metrics();
        (
            collector.span_count(),
            collector.log_count(),
            metrics.len(),
            metrics
                .iter()
                .map(|metric| data_points(metric.metric()))
                .sum::<usize>(),
        )
    };
    let (requests, faulted) = {
        let requests = state.requests.lock().unwrap();
        let faulted = requests
            .iter()
            .filter(|request| !matches!(request["fault"].as_str(), None | Some("slow")))
            .count();
        (requests.len(), faulted)
    };
    let tls_failures = state.tls_failures.lock().unwrap().len();
    let last_change_ms = *state.last_change_ms.lock().unwrap();
    Json(json!({
        "spans": spans,
        "logs": logs,
        "metrics": metrics,
        "metricDataPoints": metric_data_points,
        "requests": requests,
        "faulted": faulted,
        "tlsFailures": tls_failures,
        "lastChangeMs": last_change_ms,
    }))
}

async fn set_fault(
    AxumState(state): AxumState<Arc<State>>,
    Json(fault): Json<Fault>,
) -> Result<Json<Value>, (AxumStatus, String)> {
    if let Some(status) = fault.status {
        if !(100..=599).contains(&status) {
            return Err((
                AxumStatus::BAD_REQUEST,
                format!("status {status} is not an HTTP status"),
            ));
        }
    }
    if fault.count == Some(0) {
        return Err((
            AxumStatus::BAD_REQUEST,
            "count must be at least 1".to_owned(),
        ));
    }
    *state.fault.lock().unwrap() = fault;
    Ok(Json(json!({"ok": true})))
}

async fn clear(AxumState(state): AxumState<Arc<State>>) -> Json<Value> {
    let mut last = state.last_count.lock().await;
    state.collector.write().await.clear();
    state.requests.lock().unwrap().clear();
    state.tls_failures.lock().unwrap().clear();
    *last = 0;
    *state.last_change_ms.lock().unwrap() = 0.0;
    Json(json!({"ok": true}))
}
