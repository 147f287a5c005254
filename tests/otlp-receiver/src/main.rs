//! An OTLP receiver for tracing-bridge's tests and benchmarks.
//!
//! `otlp-receiver <grpc|http/protobuf|http/json>` starts:
//! - **direct**: a `mock-collector` server (a third-party OTLP receiver) for that protocol;
//! - **front**: a proxy in front of it that records each request's path and headers and can
//!   inject faults (slow, erroring or never-answering receiver);
//! - **control**: a small HTTP API for the test: `GET /spans` (every span received, in the OTLP
//!   JSON mapping, with its resource and scope attributes, plus the recorded requests),
//!   `GET /stats`, `POST /fault` (`{"mode":"ok"|"slow"|"error"|"hang","delayMs":N}`),
//!   `POST /clear`.
//!
//! All listen on 127.0.0.1 with free ports, printed as one JSON line on stdout:
//! `{"protocol":"grpc","direct":N,"front":N,"control":N}`. The receiver exits when its standard
//! input closes, so it never outlives the test that started it.

use std::{
    collections::BTreeMap,
    convert::Infallible,
    io::{Read, Write},
    net::{Ipv4Addr, SocketAddr},
    sync::{Arc, Mutex},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use axum::{extract::State as AxumState, routing::get, routing::post, Json, Router};
use bytes::Bytes;
use http_body_util::{combinators::BoxBody, BodyExt, Empty, Full};
use hyper::{body::Incoming, service::service_fn, Request, Response, StatusCode};
use hyper_util::{
    client::legacy::{connect::HttpConnector, Client},
    rt::{TokioExecutor, TokioIo},
    server::conn::auto,
};
use mock_collector::{MockCollector, MockServer, Protocol};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::{net::TcpListener, sync::RwLock};

type ProxyBody = BoxBody<Bytes, hyper::Error>;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum FaultMode {
    #[default]
    Ok,
    Slow,
    Error,
    Hang,
}

#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Fault {
    mode: FaultMode,
    #[serde(default)]
    delay_ms: u64,
}

struct State {
    collector: Arc<RwLock<MockCollector>>,
    fault: Mutex<Fault>,
    requests: Mutex<Vec<Value>>,
    /// Wall-clock time (ms since the epoch) when the span count last changed.
    last_change_ms: Mutex<f64>,
    /// The span count the watcher saw last (an async lock: held across the count's read, so
    /// that `/clear` cannot slip in between).
    last_count: tokio::sync::Mutex<usize>,
}

fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs_f64() * 1000.0)
        .unwrap_or(0.0)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let name = std::env::args().nth(1).unwrap_or_else(|| "grpc".to_owned());
    let protocol = match name.as_str() {
        "grpc" => Protocol::Grpc,
        "http/protobuf" => Protocol::HttpBinary,
        "http/json" => Protocol::HttpJson,
        other => return Err(format!("unknown protocol `{other}`").into()),
    };
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
        last_change_ms: Mutex::new(0.0),
        last_count: tokio::sync::Mutex::new(0),
    });

    let front = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
    let front_port = front.local_addr()?.port();
    tokio::spawn(serve_front(
        front,
        Arc::clone(&state),
        direct,
        protocol == Protocol::Grpc,
    ));

    let control = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
    let control_port = control.local_addr()?.port();
    let app = Router::new()
        .route("/spans", get(spans))
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
        json!({"protocol": name, "direct": direct.port(), "front": front_port, "control": control_port})
    )?;
    stdout.flush()?;
    drop(stdout);

    // Exit when the parent closes our stdin (or dies).
    tokio::task::spawn_blocking(|| {
        let mut sink = [0u8; 256];
        let mut stdin = std::io::stdin();
        while matches!(stdin.read(&mut sink), Ok(n) if n > 0) {}
    })
    .await?;
    drop(server);
    Ok(())
}

async fn watch_span_count(state: Arc<State>) {
    loop {
        tokio::time::sleep(Duration::from_millis(1)).await;
        let mut last = state.last_count.lock().await;
        let count = state.collector.read().await.span_count();
        if count != *last {
            *last = count;
            *state.last_change_ms.lock().unwrap() = now_ms();
        }
    }
}

async fn serve_front(listener: TcpListener, state: Arc<State>, direct: SocketAddr, grpc: bool) {
    let client: Client<HttpConnector, Incoming> = Client::builder(TokioExecutor::new())
        .http2_only(grpc)
        .build_http();
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let state = Arc::clone(&state);
        let client = client.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                forward(request, Arc::clone(&state), client.clone(), direct, grpc)
            });
            let _ = auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn forward(
    request: Request<Incoming>,
    state: Arc<State>,
    client: Client<HttpConnector, Incoming>,
    direct: SocketAddr,
    grpc: bool,
) -> Result<Response<ProxyBody>, Infallible> {
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
    state
        .requests
        .lock()
        .unwrap()
        .push(json!({"path": request.uri().path(), "headers": headers}));
    let fault = *state.fault.lock().unwrap();
    match fault.mode {
        FaultMode::Ok => {}
        FaultMode::Slow => tokio::time::sleep(Duration::from_millis(fault.delay_ms)).await,
        FaultMode::Hang => std::future::pending::<()>().await,
        FaultMode::Error => return Ok(error_response(grpc, "fault injected by the test")),
    }
    let (mut parts, body) = request.into_parts();
    let path = parts
        .uri
        .path_and_query()
        .map(|path| path.as_str().to_owned())
        .unwrap_or_default();
    parts.uri = match format!("http://{direct}{path}").parse() {
        Ok(uri) => uri,
        Err(_) => return Ok(error_response(grpc, "bad path")),
    };
    match client.request(Request::from_parts(parts, body)).await {
        Ok(response) => Ok(response.map(BodyExt::boxed)),
        Err(error) => Ok(error_response(grpc, &format!("proxy: {error}"))),
    }
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
        Empty::<Bytes>::new()
            .map_err(|never| match never {})
            .boxed()
    } else {
        Full::new(Bytes::from(message.to_owned()))
            .map_err(|never| match never {})
            .boxed()
    };
    builder.body(body).unwrap_or_else(|_| {
        Response::new(
            Empty::<Bytes>::new()
                .map_err(|never| match never {})
                .boxed(),
        )
    })
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
    Json(json!({"spans": spans, "requests": requests}))
}

async fn stats(AxumState(state): AxumState<Arc<State>>) -> Json<Value> {
    let spans = state.collector.read().await.span_count();
    let requests = state.requests.lock().unwrap().len();
    let last_change_ms = *state.last_change_ms.lock().unwrap();
    Json(json!({"spans": spans, "requests": requests, "lastChangeMs": last_change_ms}))
}

async fn set_fault(
    AxumState(state): AxumState<Arc<State>>,
    Json(fault): Json<Fault>,
) -> Json<Value> {
    *state.fault.lock().unwrap() = fault;
    Json(json!({"ok": true}))
}

async fn clear(AxumState(state): AxumState<Arc<State>>) -> Json<Value> {
    let mut last = state.last_count.lock().await;
    state.collector.write().await.clear();
    state.requests.lock().unwrap().clear();
    *last = 0;
    *state.last_change_ms.lock().unwrap() = 0.0;
    Json(json!({"ok": true}))
}
