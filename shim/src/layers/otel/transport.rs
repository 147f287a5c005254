//! Where and how an OTLP exporter sends a signal: endpoint, protocol, headers, timeout and
//! compression, from the explicit config first, then the signal's `OTEL_EXPORTER_OTLP_*`
//! variables (see [`Signal`]), then the specification's defaults.

use std::{collections::BTreeMap, time::Duration};

use super::{
    config::{OtlpCompression, OtlpLayerConfig, OtlpProtocol},
    env::{env_millis, first_env, parse_key_value_list, Env, Signal},
    tls::{FileOption, TlsFiles},
};
use crate::error::Error;

/// Where and how the `otlp` layer sends a signal, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OtlpSettings {
    /// For gRPC the base URL; for HTTP the full URL of the signal (`.../v1/traces`).
    pub(crate) endpoint: String,
    pub(crate) protocol: OtlpProtocol,
    /// Lower-case names, explicit entries over the environment's.
    pub(crate) headers: BTreeMap<String, String>,
    /// The whole time one export may take, retries included.
    pub(crate) timeout: Duration,
    pub(crate) gzip: bool,
    /// The TLS files; read only when the endpoint is `https`.
    pub(crate) tls: TlsFiles,
}

impl OtlpSettings {
    /// Whether the endpoint is reached over TLS.
    pub(crate) fn uses_tls(&self) -> bool {
        self.endpoint.starts_with("https://")
    }
}

const DEFAULT_EXPORT_REQUEST_TIMEOUT: Duration = Duration::from_millis(10_000);

/// Resolves the transport settings of an `otlp` layer exporting `signal`.
pub(crate) fn otlp_settings(
    config: &OtlpLayerConfig,
    signal: Signal,
    field: &str,
    env: Env<'_>,
) -> Result<OtlpSettings, Error> {
    let protocol = match config.protocol {
        Some(protocol) => protocol,
        None => match first_env(env, &signal.exporter_variables("PROTOCOL")) {
            Some((name, value)) => parse_protocol(&value).ok_or_else(|| {
                Error::invalid_config(format!(
                    "{field}: environment variable {name}=`{value}` is not an OTLP protocol; \
                     use `grpc`, `http/protobuf` or `http/json`, or set `protocol` in the config"
                ))
            })?,
            None => OtlpProtocol::HttpProtobuf,
        },
    };
    #[cfg(not(feature = "grpc"))]
    if protocol == OtlpProtocol::Grpc {
        let error = Error::feature_disabled(field, "protocol \"grpc\"", "grpc");
        return Err(Error::new(
            error.kind(),
            format!("{error}, or use protocol \"http/protobuf\" or \"http/json\""),
        ));
    }
    let insecure = insecure(config, signal, field, env)?;
    let (endpoint, scheme_from_insecure) = endpoint(
        config.endpoint.as_deref(),
        protocol,
        insecure.map(|(insecure, _)| insecure),
        signal,
        field,
        env,
    )?;
    let tls = tls_files(config, signal, field, env);
    let uses_tls = endpoint.starts_with("https://");
    if !uses_tls {
        // Explicit TLS options on an endpoint without TLS are a mistake; the environment's
        // may be meant for other exporters and are left unused.
        let explicit = [
            ("certificate", &config.certificate),
            ("clientCertificate", &config.client_certificate),
            ("clientKey", &config.client_key),
        ];
        if let Some((name, _)) = explicit.iter().find(|(_, value)| value.is_some()) {
            return Err(Error::invalid_config(format!(
                "{field}.{name}: the endpoint `{endpoint}` does not use TLS, so {name} would \
                 not be used; give an `https://` endpoint or remove {name}"
            )));
        }
    }
    if config.insecure.is_some() && !scheme_from_insecure {
        return Err(Error::invalid_config(format!(
            "{field}.insecure: applies only to a gRPC endpoint given without a scheme \
             (`collector:4317`); the scheme of `{endpoint}` decides whether TLS is used; \
             remove insecure"
        )));
    }
    let mut headers = BTreeMap::new();
    if let Some((name, value)) = first_env(env, &signal.exporter_variables("HEADERS")) {
        let origin = format!("{field}: environment variable {name}");
        for (key, value) in parse_key_value_list(&value, &origin)? {
            let key = check_header(&key, &value, &origin)?;
            headers.insert(key, value);
        }
    }
    for (key, value) in config.headers.iter().flatten() {
        let key = check_header(key, value, &format!("{field}.headers"))?;
        headers.insert(key, value.clone());
    }
    let timeout = match config.timeout_ms {
        Some(millis) => Duration::from_millis(millis.0),
        None => env_millis(env, &signal.exporter_variables("TIMEOUT"), field)?
            .unwrap_or(DEFAULT_EXPORT_REQUEST_TIMEOUT),
    };
    let gzip = match config.compression {
        Some(compression) => compression == OtlpCompression::Gzip,
        None => match first_env(env, &signal.exporter_variables("COMPRESSION")) {
            Some((name, value)) => match value.trim().to_ascii_lowercase().as_str() {
                "gzip" => true,
                "none" => false,
                _ => {
                    return Err(Error::invalid_config(format!(
                        "{field}: environment variable {name}=`{value}` is not a supported \
                         compression; use `gzip` or `none`"
                    )))
                }
            },
            None => false,
        },
    };
    Ok(OtlpSettings {
        endpoint,
        protocol,
        headers,
        timeout,
        gzip,
        tls,
    })
}

fn has_scheme(url: &str) -> bool {
    url.contains("://")
}

/// `insecure` from the config, else the signal's `..._INSECURE` variables; with its origin.
fn insecure(
    config: &OtlpLayerConfig,
    signal: Signal,
    field: &str,
    env: Env<'_>,
) -> Result<Option<(bool, String)>, Error> {
    if let Some(insecure) = config.insecure {
        return Ok(Some((insecure, format!("{field}.insecure"))));
    }
    let Some((name, value)) = first_env(env, &signal.exporter_variables("INSECURE")) else {
        return Ok(None);
    };
    let origin = format!("{field}: environment variable {name}");
    match value.trim().to_ascii_lowercase().as_str() {
        "true" => Ok(Some((true, origin))),
        "false" => Ok(Some((false, origin))),
        _ => Err(Error::invalid_config(format!(
            "{origin}=`{value}` is not a boolean; use `true` or `false`"
        ))),
    }
}

/// The TLS files from the config, else the signal's variables.
fn tls_files(config: &OtlpLayerConfig, signal: Signal, field: &str, env: Env<'_>) -> TlsFiles {
    let file = |explicit: &Option<String>, option: &str, setting: &str| {
        if let Some(path) = explicit {
            return Some(FileOption {
                path: path.clone(),
                origin: format!("{field}.{option}"),
            });
        }
        first_env(env, &signal.exporter_variables(setting)).map(|(name, path)| FileOption {
            path: path.trim().to_owned(),
            origin: format!("{field}: environment variable {name}"),
        })
    };
    TlsFiles {
        field: field.to_owned(),
        certificate: file(&config.certificate, "certificate", "CERTIFICATE"),
        client_certificate: file(
            &config.client_certificate,
            "clientCertificate",
            "CLIENT_CERTIFICATE",
        ),
        client_key: file(&config.client_key, "clientKey", "CLIENT_KEY"),
    }
}

fn parse_protocol(value: &str) -> Option<OtlpProtocol> {
    match value.trim() {
        "grpc" => Some(OtlpProtocol::Grpc),
        "http/protobuf" => Some(OtlpProtocol::HttpProtobuf),
        "http/json" => Some(OtlpProtocol::HttpJson),
        _ => None,
    }
}

/// The endpoint: an explicit URL (HTTP ones without a path get the signal's path), else the
/// signal's own variable (used as is), else the generic one (HTTP: plus the signal's path),
/// else the local collector's default port. Also says whether the scheme was chosen by
/// `insecure` (a gRPC endpoint given without one).
fn endpoint(
    explicit: Option<&str>,
    protocol: OtlpProtocol,
    insecure: Option<bool>,
    signal: Signal,
    field: &str,
    env: Env<'_>,
) -> Result<(String, bool), Error> {
    let is_http = protocol != OtlpProtocol::Grpc;
    // A gRPC endpoint without a scheme (`collector:4317`) uses TLS unless `insecure`, as the
    // specification defines `OTEL_EXPORTER_OTLP_INSECURE`.
    let with_scheme = |url: &str| -> String {
        let url = url.trim();
        if !is_http && !has_scheme(url) {
            let scheme = if insecure == Some(true) {
                "http"
            } else {
                "https"
            };
            format!("{scheme}://{url}")
        } else {
            url.to_owned()
        }
    };
    let with_signal_path = |base: &str| {
        format!(
            "{}{}",
            base.trim().trim_end_matches('/'),
            signal.http_path()
        )
    };
    if let Some(url) = explicit {
        let origin = format!("{field}.endpoint");
        let chosen = !is_http && !has_scheme(url);
        let url = &with_scheme(url);
        let path_is_empty = check_url(url, &origin)?;
        let url = if is_http && path_is_empty {
            with_signal_path(url)
        } else if is_http && signal != Signal::Traces {
            from_traces_url(url, signal, &origin)?
        } else {
            url.to_owned()
        };
        return Ok((url, chosen));
    }
    let [signal_variable, generic_variable] = signal.exporter_variables("ENDPOINT");
    if let Some(url) = env(&signal_variable) {
        let origin = format!("{field}: environment variable {signal_variable}");
        let chosen = !is_http && !has_scheme(&url);
        let url = with_scheme(&url);
        check_url(&url, &origin)?;
        return Ok((url, chosen));
    }
    if let Some(url) = env(&generic_variable) {
        let origin = format!("{field}: environment variable {generic_variable}");
        let chosen = !is_http && !has_scheme(&url);
        let url = with_scheme(&url);
        check_url(&url, &origin)?;
        let url = if is_http { with_signal_path(&url) } else { url };
        return Ok((url, chosen));
    }
    let url = if is_http {
        with_signal_path("http://localhost:4318")
    } else {
        "http://localhost:4317".to_owned()
    };
    Ok((url, false))
}

/// The URL of `signal` from `endpoint`, the URL of the traces endpoint with a path: the same
/// base with the signal's path when it ends in `/v1/traces`; any other path is an error (it
/// says nothing about where the other signals go).
fn from_traces_url(url: &str, signal: Signal, origin: &str) -> Result<String, Error> {
    let trimmed = url.trim().trim_end_matches('/');
    match trimmed.strip_suffix(Signal::Traces.http_path()) {
        Some(base) => Ok(format!("{base}{}", signal.http_path())),
        None => Err(Error::invalid_config(format!(
            "{origin}: `{url}` has a path that does not end in `/v1/traces`, so where {} go \
             is unknown; give the base URL (`http://collector:4318`: each signal gets its \
             `/v1/...` path), or a URL ending in `/v1/traces` ({} then go to `{}` of the same \
             base)",
            signal.records(),
            signal.records(),
            signal.http_path()
        ))),
    }
}

/// Checks that `url` is an `http://` or `https://` URL with a host; returns whether its path
/// is empty.
fn check_url(url: &str, origin: &str) -> Result<bool, Error> {
    let url = url.trim();
    let invalid = |why: &str| {
        Error::invalid_config(format!(
            "{origin}: `{url}` is not a valid endpoint ({why}); give a URL such as \
             `http://localhost:4318`"
        ))
    };
    let parsed: http::Uri = url.parse().map_err(|error| invalid(&format!("{error}")))?;
    match parsed.scheme_str() {
        Some("http" | "https") => {}
        Some(other) => {
            return Err(invalid(&format!(
                "scheme `{other}` is neither `http` nor `https`"
            )))
        }
        None => return Err(invalid("it has no scheme")),
    }
    if parsed.host().is_none_or(str::is_empty) {
        return Err(invalid("it has no host"));
    }
    Ok(matches!(parsed.path(), "" | "/"))
}

/// Checks a header name and value; returns the name in lower case (as HTTP/2 sends it).
fn check_header(name: &str, value: &str, origin: &str) -> Result<String, Error> {
    let lower = name.trim().to_ascii_lowercase();
    http::HeaderName::from_bytes(lower.as_bytes()).map_err(|_| {
        Error::invalid_config(format!(
            "{origin}: `{name}` is not a valid header name; use letters, digits and `-`"
        ))
    })?;
    http::HeaderValue::from_str(value).map_err(|_| {
        Error::invalid_config(format!(
            "{origin}: the value of header `{name}` contains characters not allowed in a \
             header (control characters or non-ASCII)"
        ))
    })?;
    Ok(lower)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::otel::test_support::{otlp, with_env, Case};

    fn resolve(json: &str, vars: &[(&str, &str)]) -> Result<OtlpSettings, Error> {
        otlp_settings(&otlp(json), Signal::Traces, "layers[0]", &with_env(vars))
    }

    #[test]
    fn defaults_follow_the_specification() {
        let settings = resolve(r#"{"kind":"otlp"}"#, &[]).unwrap();
        assert_eq!(settings.protocol, OtlpProtocol::HttpProtobuf);
        assert_eq!(settings.endpoint, "http://localhost:4318/v1/traces");
        assert_eq!(settings.timeout, Duration::from_secs(10));
        assert!(!settings.gzip);
        let grpc = resolve(r#"{"kind":"otlp","protocol":"grpc"}"#, &[]).unwrap();
        assert_eq!(grpc.endpoint, "http://localhost:4317");
    }

    #[test]
    fn environment_fills_what_the_config_leaves_out() {
        let vars = [
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/"),
            ("OTEL_EXPORTER_OTLP_HEADERS", "api-key=s%20cret, X-Team=a"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "2500"),
            ("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"),
        ];
        let settings = resolve(r#"{"kind":"otlp"}"#, &vars).unwrap();
        assert_eq!(settings.protocol, OtlpProtocol::HttpJson);
        assert_eq!(settings.endpoint, "http://collector:4318/v1/traces");
        assert_eq!(settings.headers["api-key"], "s cret");
        assert_eq!(settings.headers["x-team"], "a");
        assert_eq!(settings.timeout, Duration::from_millis(2500));
        assert!(settings.gzip);
    }

    #[test]
    fn signal_specific_variables_win_over_generic_ones() {
        let vars = [
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://generic:4318"),
            (
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                "http://traces:9999/custom",
            ),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/protobuf"),
        ];
        let settings = resolve(r#"{"kind":"otlp"}"#, &vars).unwrap();
        assert_eq!(settings.endpoint, "http://traces:9999/custom");
        assert_eq!(settings.protocol, OtlpProtocol::HttpProtobuf);
    }

    #[test]
    fn explicit_config_wins_over_the_environment() {
        let vars = [
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://env:4318"),
            ("OTEL_EXPORTER_OTLP_HEADERS", "api-key=from-env,other=kept"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "not a number"),
        ];
        let settings = resolve(
            r#"{"kind":"otlp","protocol":"grpc","endpoint":"http://127.0.0.1:4317",
                "headers":{"API-Key":"explicit"},"timeoutMs":100}"#,
            &vars,
        )
        .unwrap();
        assert_eq!(settings.protocol, OtlpProtocol::Grpc);
        assert_eq!(settings.endpoint, "http://127.0.0.1:4317");
        assert_eq!(settings.headers["api-key"], "explicit");
        assert_eq!(settings.headers["other"], "kept");
        assert_eq!(settings.timeout, Duration::from_millis(100));
    }

    #[test]
    fn an_explicit_http_endpoint_without_a_path_gets_the_traces_path() {
        let settings =
            resolve(r#"{"kind":"otlp","endpoint":"http://127.0.0.1:1234"}"#, &[]).unwrap();
        assert_eq!(settings.endpoint, "http://127.0.0.1:1234/v1/traces");
        let settings = resolve(
            r#"{"kind":"otlp","endpoint":"http://127.0.0.1:1234/x/y"}"#,
            &[],
        )
        .unwrap();
        assert_eq!(settings.endpoint, "http://127.0.0.1:1234/x/y");
    }

    #[test]
    fn tls_follows_the_scheme_and_insecure_applies_to_grpc_without_one() {
        let https = resolve(
            r#"{"kind":"otlp","endpoint":"https://api.example:443"}"#,
            &[],
        )
        .unwrap();
        assert_eq!(https.endpoint, "https://api.example:443/v1/traces");
        assert!(https.uses_tls());
        let grpc = r#"{"kind":"otlp","protocol":"grpc","endpoint":"collector:4317"}"#;
        assert_eq!(
            resolve(grpc, &[]).unwrap().endpoint,
            "https://collector:4317"
        );
        let insecure = [("OTEL_EXPORTER_OTLP_TRACES_INSECURE", "TRUE")];
        assert_eq!(
            resolve(grpc, &insecure).unwrap().endpoint,
            "http://collector:4317"
        );
        // The environment's insecure never overrides a scheme.
        let schemed = r#"{"kind":"otlp","protocol":"grpc","endpoint":"https://collector:4317"}"#;
        assert!(resolve(schemed, &insecure).unwrap().uses_tls());
        let explicit =
            r#"{"kind":"otlp","protocol":"grpc","endpoint":"collector:4317","insecure":true}"#;
        assert!(!resolve(explicit, &[]).unwrap().uses_tls());
        let from_env = [
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4317"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ];
        assert_eq!(
            resolve(r#"{"kind":"otlp"}"#, &from_env).unwrap().endpoint,
            "https://collector:4317"
        );
    }

    #[test]
    fn tls_files_come_from_the_config_then_the_signal_then_the_generic_variables() {
        let vars = [
            ("OTEL_EXPORTER_OTLP_CERTIFICATE", "/generic/ca.pem"),
            (
                "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE",
                "/traces/client.pem",
            ),
            (
                "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
                "/generic/client.pem",
            ),
            ("OTEL_EXPORTER_OTLP_CLIENT_KEY", "/generic/key.pem"),
        ];
        let settings = resolve(
            r#"{"kind":"otlp","endpoint":"https://x:1","clientKey":"/explicit/key.pem"}"#,
            &vars,
        )
        .unwrap();
        let certificate = settings.tls.certificate.unwrap();
        assert_eq!(certificate.path, "/generic/ca.pem");
        assert_eq!(
            certificate.origin,
            "layers[0]: environment variable OTEL_EXPORTER_OTLP_CERTIFICATE"
        );
        assert_eq!(
            settings.tls.client_certificate.unwrap().path,
            "/traces/client.pem"
        );
        let key = settings.tls.client_key.unwrap();
        assert_eq!(
            (key.path.as_str(), key.origin.as_str()),
            ("/explicit/key.pem", "layers[0].clientKey")
        );
        // On an endpoint without TLS the environment's files are left unused, not an error.
        assert!(!resolve(r#"{"kind":"otlp"}"#, &vars).unwrap().uses_tls());
    }

    #[test]
    fn invalid_values_name_their_origin() {
        let cases: &[Case] = &[
            (
                r#"{"kind":"otlp","endpoint":"not a url"}"#,
                &[],
                "layers[0].endpoint",
            ),
            (
                r#"{"kind":"otlp","endpoint":"ftp://x:1"}"#,
                &[],
                "scheme `ftp`",
            ),
            (
                r#"{"kind":"otlp","endpoint":"http://x:1","certificate":"ca.pem"}"#,
                &[],
                "layers[0].certificate: the endpoint `http://x:1/v1/traces` does not use TLS",
            ),
            (
                r#"{"kind":"otlp","endpoint":"https://x:1","insecure":true}"#,
                &[],
                "layers[0].insecure: applies only to a gRPC endpoint given without a scheme",
            ),
            (
                r#"{"kind":"otlp","protocol":"grpc","endpoint":"x:1"}"#,
                &[("OTEL_EXPORTER_OTLP_INSECURE", "yes")],
                "OTEL_EXPORTER_OTLP_INSECURE=`yes` is not a boolean",
            ),
            (
                r#"{"kind":"otlp","endpoint":"x:1"}"#,
                &[],
                "layers[0].endpoint",
            ),
            (
                r#"{"kind":"otlp"}"#,
                &[("OTEL_EXPORTER_OTLP_PROTOCOL", "carrier-pigeon")],
                "OTEL_EXPORTER_OTLP_PROTOCOL=`carrier-pigeon`",
            ),
            (
                r#"{"kind":"otlp"}"#,
                &[("OTEL_EXPORTER_OTLP_HEADERS", "novalue")],
                "OTEL_EXPORTER_OTLP_HEADERS: entry `novalue` has no `=`",
            ),
            (
                r#"{"kind":"otlp"}"#,
                &[("OTEL_EXPORTER_OTLP_HEADERS", "a=%zz")],
                "not followed by two hex digits",
            ),
            (
                r#"{"kind":"otlp","headers":{"bad header":"x"}}"#,
                &[],
                "layers[0].headers: `bad header` is not a valid header name",
            ),
            (
                r#"{"kind":"otlp"}"#,
                &[("OTEL_EXPORTER_OTLP_TIMEOUT", "-5")],
                "OTEL_EXPORTER_OTLP_TIMEOUT=`-5` must be a whole number",
            ),
            (
                r#"{"kind":"otlp"}"#,
                &[("OTEL_EXPORTER_OTLP_COMPRESSION", "zstd")],
                "OTEL_EXPORTER_OTLP_COMPRESSION=`zstd`",
            ),
        ];
        for (json, vars, expected) in cases {
            let error = resolve(json, vars).unwrap_err();
            assert!(
                error.message().contains(expected),
                "{json}: {}",
                error.message()
            );
        }
    }

    #[test]
    fn logs_and_metrics_read_their_own_variables_and_paths() {
        let config = otlp(r#"{"kind":"otlp"}"#);
        let vars = [
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"),
            ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "1"),
            ("OTEL_EXPORTER_OTLP_LOGS_TIMEOUT", "2"),
            ("OTEL_EXPORTER_OTLP_METRICS_TIMEOUT", "3"),
            ("OTEL_EXPORTER_OTLP_LOGS_HEADERS", "signal=logs"),
            ("OTEL_EXPORTER_OTLP_METRICS_COMPRESSION", "gzip"),
            ("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "http/json"),
        ];
        let logs = otlp_settings(&config, Signal::Logs, "layers[0]", &with_env(&vars)).unwrap();
        assert_eq!(logs.endpoint, "http://collector:4318/v1/logs");
        assert_eq!(logs.timeout, Duration::from_millis(2));
        assert_eq!(logs.headers["signal"], "logs");
        assert!(!logs.gzip);
        assert_eq!(logs.protocol, OtlpProtocol::HttpProtobuf);
        let metrics =
            otlp_settings(&config, Signal::Metrics, "layers[0]", &with_env(&vars)).unwrap();
        assert_eq!(metrics.endpoint, "http://collector:4318/v1/metrics");
        assert_eq!(metrics.timeout, Duration::from_millis(3));
        assert!(metrics.headers.is_empty());
        assert!(metrics.gzip);
        assert_eq!(metrics.protocol, OtlpProtocol::HttpJson);

        let explicit = |endpoint: &str| {
            let config = otlp(&format!(r#"{{"kind":"otlp","endpoint":"{endpoint}"}}"#));
            otlp_settings(&config, Signal::Logs, "layers[0]", &with_env(&[]))
        };
        assert_eq!(
            explicit("http://c:4318/v1/traces").unwrap().endpoint,
            "http://c:4318/v1/logs"
        );
        assert_eq!(
            explicit("https://c/otlp/v1/traces/").unwrap().endpoint,
            "https://c/otlp/v1/logs"
        );
        assert_eq!(
            explicit("http://c:4318").unwrap().endpoint,
            "http://c:4318/v1/logs"
        );
        let error = explicit("http://c:4318/custom").unwrap_err();
        assert!(
            error
                .message()
                .contains("layers[0].endpoint: `http://c:4318/custom` has a path")
                && error.message().contains("log records"),
            "{}",
            error.message()
        );

        let own = [("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "http://logs:1/custom")];
        let logs = otlp_settings(&config, Signal::Logs, "layers[0]", &with_env(&own)).unwrap();
        assert_eq!(logs.endpoint, "http://logs:1/custom");
        let traces = otlp_settings(&config, Signal::Traces, "layers[0]", &with_env(&own)).unwrap();
        assert_eq!(traces.endpoint, "http://localhost:4318/v1/traces");
        let metrics = otlp_settings(&config, Signal::Metrics, "layers[0]", &with_env(&[])).unwrap();
        assert_eq!(metrics.endpoint, "http://localhost:4318/v1/metrics");
        let error = otlp_settings(
            &config,
            Signal::Logs,
            "layers[0]",
            &with_env(&[("OTEL_EXPORTER_OTLP_LOGS_COMPRESSION", "zstd")]),
        )
        .unwrap_err();
        assert!(
            error
                .message()
                .contains("OTEL_EXPORTER_OTLP_LOGS_COMPRESSION=`zstd`"),
            "{}",
            error.message()
        );
    }
}
