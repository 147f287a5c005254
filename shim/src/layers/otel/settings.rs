//! Resolves the OpenTelemetry layers' options: the explicit config first, then the standard
//! `OTEL_*` environment variables, then the specification's defaults. Every invalid value is an
//! `InvalidConfig` error that names the option or the variable it came from.
//!
//! The environment is read by the library itself (`getenv`), so in Deno it needs no
//! `--allow-env`.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::{Mutex, PoisonError},
    time::Duration,
};

use opentelemetry::{InstrumentationScope, KeyValue, Value};
use opentelemetry_sdk::{
    resource::TelemetryResourceDetector,
    trace::{Sampler, SpanLimits},
    Resource,
};

use crate::{
    config::{
        AttributeValue, OtlpCompression, OtlpLayerConfig, OtlpProtocol, SamplerName, SdkOptions,
    },
    error::Error,
};

/// Reads one environment variable; `None` when unset or blank.
pub(crate) type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process environment.
pub(crate) fn process_env(name: &str) -> Option<String> {
    std::env::var_os(name)
        .map(|value| value.to_string_lossy().into_owned())
        .filter(|value| !value.trim().is_empty())
}

/// Settings both OpenTelemetry layers share, resolved.
#[derive(Debug)]
pub(crate) struct SdkSettings {
    pub(crate) resource: Resource,
    pub(crate) sampler: Sampler,
    pub(crate) span_limits: SpanLimits,
    pub(crate) batch: BatchSettings,
    pub(crate) scope: InstrumentationScope,
    pub(crate) flush_timeout: Duration,
    pub(crate) span_attributes: SpanAttributes,
}

/// Which attributes every span gets besides its fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SpanAttributes {
    pub(crate) location: bool,
    pub(crate) thread: bool,
    pub(crate) busy_idle: bool,
}

/// Batch span processor settings, resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BatchSettings {
    pub(crate) max_queue_size: usize,
    pub(crate) max_export_batch_size: usize,
    pub(crate) scheduled_delay: Duration,
    pub(crate) export_timeout: Duration,
}

/// Where and how the `otlp` layer sends spans, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OtlpSettings {
    /// For gRPC the base URL; for HTTP the full traces URL.
    pub(crate) endpoint: String,
    pub(crate) protocol: OtlpProtocol,
    /// Lower-case names, explicit entries over the environment's.
    pub(crate) headers: BTreeMap<String, String>,
    pub(crate) timeout: Duration,
    pub(crate) gzip: bool,
}

const DEFAULT_SCOPE_NAME: &str = "tracing-bridge";
const DEFAULT_FLUSH_TIMEOUT: Duration = Duration::from_millis(5_000);
const DEFAULT_EXPORT_REQUEST_TIMEOUT: Duration = Duration::from_millis(10_000);
const DEFAULT_LIMIT: usize = 128;

/// Resolves the shared settings of a layer; `field` names the layer (`layers[0]`).
pub(crate) fn sdk_settings(
    options: SdkOptions<'_>,
    field: &str,
    env: Env<'_>,
) -> Result<SdkSettings, Error> {
    Ok(SdkSettings {
        resource: resource(&options, field, env)?,
        sampler: sampler(&options, field, env)?,
        span_limits: span_limits(&options, field, env)?,
        batch: batch(&options, field, env)?,
        scope: scope(&options),
        flush_timeout: options
            .flush_timeout_ms
            .map(|millis| Duration::from_millis(millis.0))
            .unwrap_or(DEFAULT_FLUSH_TIMEOUT),
        span_attributes: {
            let given = options.span_attributes.copied().unwrap_or_default();
            SpanAttributes {
                location: given.location.unwrap_or(true),
                thread: given.thread.unwrap_or(true),
                busy_idle: given.busy_idle.unwrap_or(true),
            }
        },
    })
}

/// Resolves the transport settings of an `otlp` layer.
pub(crate) fn otlp_settings(
    config: &OtlpLayerConfig,
    field: &str,
    env: Env<'_>,
) -> Result<OtlpSettings, Error> {
    let protocol = match config.protocol {
        Some(protocol) => protocol,
        None => match first_env(
            env,
            &[
                "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
                "OTEL_EXPORTER_OTLP_PROTOCOL",
            ],
        ) {
            Some((name, value)) => parse_protocol(&value).ok_or_else(|| {
                Error::invalid_config(format!(
                    "{field}: environment variable {name}=`{value}` is not an OTLP protocol; \
                     use `grpc`, `http/protobuf` or `http/json`, or set `protocol` in the config"
                ))
            })?,
            None => OtlpProtocol::HttpProtobuf,
        },
    };
    let endpoint = endpoint(config.endpoint.as_deref(), protocol, field, env)?;
    let mut headers = BTreeMap::new();
    if let Some((name, value)) = first_env(
        env,
        &[
            "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
            "OTEL_EXPORTER_OTLP_HEADERS",
        ],
    ) {
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
        None => env_millis(
            env,
            &[
                "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
                "OTEL_EXPORTER_OTLP_TIMEOUT",
            ],
            field,
        )?
        .unwrap_or(DEFAULT_EXPORT_REQUEST_TIMEOUT),
    };
    let gzip = match config.compression {
        Some(compression) => compression == OtlpCompression::Gzip,
        None => match first_env(
            env,
            &[
                "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION",
                "OTEL_EXPORTER_OTLP_COMPRESSION",
            ],
        ) {
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
    })
}

fn parse_protocol(value: &str) -> Option<OtlpProtocol> {
    match value.trim() {
        "grpc" => Some(OtlpProtocol::Grpc),
        "http/protobuf" => Some(OtlpProtocol::HttpProtobuf),
        "http/json" => Some(OtlpProtocol::HttpJson),
        _ => None,
    }
}

fn endpoint(
    explicit: Option<&str>,
    protocol: OtlpProtocol,
    field: &str,
    env: Env<'_>,
) -> Result<String, Error> {
    let is_http = protocol != OtlpProtocol::Grpc;
    if let Some(url) = explicit {
        let origin = format!("{field}.endpoint");
        let path_is_empty = check_url(url, &origin)?;
        return Ok(if is_http && path_is_empty {
            with_traces_path(url)
        } else {
            url.to_owned()
        });
    }
    if let Some(url) = env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") {
        let origin = format!("{field}: environment variable OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
        check_url(&url, &origin)?;
        return Ok(url.trim().to_owned());
    }
    if let Some(url) = env("OTEL_EXPORTER_OTLP_ENDPOINT") {
        let origin = format!("{field}: environment variable OTEL_EXPORTER_OTLP_ENDPOINT");
        check_url(&url, &origin)?;
        let url = url.trim();
        return Ok(if is_http {
            with_traces_path(url)
        } else {
            url.to_owned()
        });
    }
    Ok(if is_http {
        "http://localhost:4318/v1/traces".to_owned()
    } else {
        "http://localhost:4317".to_owned()
    })
}

fn with_traces_path(base: &str) -> String {
    format!("{}/v1/traces", base.trim().trim_end_matches('/'))
}

/// Checks that `url` is an `http://` URL with a host; returns whether its path is empty.
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
        Some("http") => {}
        Some("https") => {
            return Err(Error::invalid_config(format!(
                "{origin}: `{url}` needs TLS, which this build of tracing-bridge does not \
                 include; use an `http://` endpoint (for example a local collector that \
                 forwards over TLS)"
            )))
        }
        Some(other) => return Err(invalid(&format!("scheme `{other}` is not `http`"))),
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

/// Parses `key=value,key=value` as in `OTEL_RESOURCE_ATTRIBUTES` and `OTEL_EXPORTER_OTLP_HEADERS`,
/// with percent-encoded keys and values.
pub(crate) fn parse_key_value_list(
    text: &str,
    origin: &str,
) -> Result<Vec<(String, String)>, Error> {
    let mut pairs = Vec::new();
    for entry in text
        .split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
    {
        let Some((key, value)) = entry.split_once('=') else {
            return Err(Error::invalid_config(format!(
                "{origin}: entry `{entry}` has no `=`; the syntax is `key1=value1,key2=value2`"
            )));
        };
        let key = percent_decode(key.trim(), origin)?;
        if key.is_empty() {
            return Err(Error::invalid_config(format!(
                "{origin}: entry `{entry}` has an empty key; the syntax is \
                 `key1=value1,key2=value2`"
            )));
        }
        pairs.push((key, percent_decode(value.trim(), origin)?));
    }
    Ok(pairs)
}

fn percent_decode(text: &str, origin: &str) -> Result<String, Error> {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' {
            let hex = bytes
                .get(index + 1..index + 3)
                .and_then(|pair| std::str::from_utf8(pair).ok())
                .and_then(|pair| u8::from_str_radix(pair, 16).ok());
            let Some(byte) = hex else {
                return Err(Error::invalid_config(format!(
                    "{origin}: `{text}` has a `%` not followed by two hex digits; encode `%` \
                     as `%25`"
                )));
            };
            decoded.push(byte);
            index += 3;
        } else {
            decoded.push(bytes[index]);
            index += 1;
        }
    }
    String::from_utf8(decoded)
        .map_err(|_| Error::invalid_config(format!("{origin}: `{text}` does not decode to UTF-8")))
}

fn resource(options: &SdkOptions<'_>, field: &str, env: Env<'_>) -> Result<Resource, Error> {
    let mut attributes: BTreeMap<String, Value> = BTreeMap::new();
    if let Some(text) = env("OTEL_RESOURCE_ATTRIBUTES") {
        let origin = format!("{field}: environment variable OTEL_RESOURCE_ATTRIBUTES");
        for (key, value) in parse_key_value_list(&text, &origin)? {
            attributes.insert(key, Value::from(value));
        }
    }
    if let Some(name) = env("OTEL_SERVICE_NAME") {
        attributes.insert("service.name".into(), Value::from(name.trim().to_owned()));
    }
    for (key, value) in options.resource.into_iter().flatten() {
        if key.is_empty() {
            return Err(Error::invalid_config(format!(
                "{field}.resource: attribute names must not be empty"
            )));
        }
        let value = match value {
            AttributeValue::Bool(value) => Value::from(*value),
            AttributeValue::Int(value) => Value::from(*value),
            AttributeValue::Float(value) => Value::from(*value),
            AttributeValue::String(value) => Value::from(value.clone()),
        };
        attributes.insert(key.clone(), value);
    }
    if let Some(name) = options.service_name {
        if name.trim().is_empty() {
            return Err(Error::invalid_config(format!(
                "{field}.serviceName is empty; give a name or leave it out"
            )));
        }
        attributes.insert("service.name".into(), Value::from(name.to_owned()));
    }
    attributes
        .entry("service.name".into())
        .or_insert_with(|| Value::from(default_service_name()));
    Ok(Resource::builder_empty()
        .with_detector(Box::new(TelemetryResourceDetector))
        .with_attributes(
            attributes
                .into_iter()
                .map(|(key, value)| KeyValue::new(key, value)),
        )
        .build())
}

/// `unknown_service:<program>`, as the OpenTelemetry specification recommends.
fn default_service_name() -> String {
    let program = std::env::current_exe()
        .ok()
        .and_then(|path| {
            path.file_stem()
                .map(|stem| stem.to_string_lossy().into_owned())
        })
        .unwrap_or_default();
    if program.is_empty() {
        "unknown_service".into()
    } else {
        format!("unknown_service:{program}")
    }
}

fn sampler(options: &SdkOptions<'_>, field: &str, env: Env<'_>) -> Result<Sampler, Error> {
    let name = match options.sampler {
        Some(name) => name,
        None => match env("OTEL_TRACES_SAMPLER") {
            Some(value) => match value.trim() {
                "always_on" => SamplerName::AlwaysOn,
                "always_off" => SamplerName::AlwaysOff,
                "traceidratio" => SamplerName::Traceidratio,
                "parentbased_always_on" => SamplerName::ParentbasedAlwaysOn,
                "parentbased_always_off" => SamplerName::ParentbasedAlwaysOff,
                "parentbased_traceidratio" => SamplerName::ParentbasedTraceidratio,
                _ => {
                    return Err(Error::invalid_config(format!(
                        "{field}: environment variable OTEL_TRACES_SAMPLER=`{value}` is not a \
                         supported sampler; use always_on, always_off, traceidratio, \
                         parentbased_always_on, parentbased_always_off or \
                         parentbased_traceidratio"
                    )))
                }
            },
            None => SamplerName::ParentbasedAlwaysOn,
        },
    };
    let ratio = || -> Result<f64, Error> {
        let (ratio, origin) = match options.sampler_arg {
            Some(ratio) => (ratio, format!("{field}.samplerArg")),
            None => match env("OTEL_TRACES_SAMPLER_ARG") {
                Some(text) => {
                    let origin =
                        format!("{field}: environment variable OTEL_TRACES_SAMPLER_ARG=`{text}`");
                    let ratio = text.trim().parse::<f64>().map_err(|_| {
                        Error::invalid_config(format!("{origin} is not a number from 0 to 1"))
                    })?;
                    (ratio, origin)
                }
                None => return Ok(1.0),
            },
        };
        if (0.0..=1.0).contains(&ratio) {
            Ok(ratio)
        } else {
            Err(Error::invalid_config(format!(
                "{origin}: the ratio must be from 0 to 1, got {ratio}"
            )))
        }
    };
    if options.sampler_arg.is_some() {
        // An explicit ratio out of range is a mistake even when the sampler ignores it.
        ratio()?;
    }
    Ok(match name {
        SamplerName::AlwaysOn => Sampler::AlwaysOn,
        SamplerName::AlwaysOff => Sampler::AlwaysOff,
        SamplerName::Traceidratio => Sampler::TraceIdRatioBased(ratio()?),
        SamplerName::ParentbasedAlwaysOn => Sampler::ParentBased(Box::new(Sampler::AlwaysOn)),
        SamplerName::ParentbasedAlwaysOff => Sampler::ParentBased(Box::new(Sampler::AlwaysOff)),
        SamplerName::ParentbasedTraceidratio => {
            Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(ratio()?)))
        }
    })
}

fn span_limits(options: &SdkOptions<'_>, field: &str, env: Env<'_>) -> Result<SpanLimits, Error> {
    let given = options.span_limits.cloned().unwrap_or_default();
    let limit = |explicit: Option<crate::config::Count>, var: &'static str| -> Result<u32, Error> {
        let value = match explicit {
            Some(count) => count.0,
            None => env_count(env, var, field)?.unwrap_or(DEFAULT_LIMIT),
        };
        Ok(u32::try_from(value).unwrap_or(u32::MAX))
    };
    Ok(SpanLimits {
        max_attributes_per_span: limit(
            given.max_attributes_per_span,
            "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT",
        )?,
        max_events_per_span: limit(given.max_events_per_span, "OTEL_SPAN_EVENT_COUNT_LIMIT")?,
        max_links_per_span: limit(given.max_links_per_span, "OTEL_SPAN_LINK_COUNT_LIMIT")?,
        max_attributes_per_event: limit(
            given.max_attributes_per_event,
            "OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT",
        )?,
        max_attributes_per_link: limit(
            given.max_attributes_per_link,
            "OTEL_LINK_ATTRIBUTE_COUNT_LIMIT",
        )?,
    })
}

fn batch(options: &SdkOptions<'_>, field: &str, env: Env<'_>) -> Result<BatchSettings, Error> {
    let given = options.batch.cloned().unwrap_or_default();
    let max_queue_size = match given.max_queue_size {
        Some(count) => count.0,
        None => env_count(env, "OTEL_BSP_MAX_QUEUE_SIZE", field)?.unwrap_or(2048),
    };
    let max_export_batch_size = match given.max_export_batch_size {
        Some(count) => count.0,
        None => env_count(env, "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", field)?.unwrap_or(512),
    };
    let scheduled_delay = match given.scheduled_delay_ms {
        Some(millis) => Duration::from_millis(millis.0),
        None => env_millis(env, &["OTEL_BSP_SCHEDULE_DELAY"], field)?
            .unwrap_or(Duration::from_millis(5_000)),
    };
    let export_timeout = match given.export_timeout_ms {
        Some(millis) => Duration::from_millis(millis.0),
        None => env_millis(env, &["OTEL_BSP_EXPORT_TIMEOUT"], field)?
            .unwrap_or(Duration::from_millis(30_000)),
    };
    if export_timeout.is_zero() {
        return Err(Error::invalid_config(format!(
            "{field}.batch.exportTimeoutMs (or OTEL_BSP_EXPORT_TIMEOUT) must be at least 1"
        )));
    }
    Ok(BatchSettings {
        max_queue_size,
        // The specification requires the batch to fit the queue; like the SDKs, clamp it.
        max_export_batch_size: max_export_batch_size.min(max_queue_size),
        scheduled_delay,
        export_timeout,
    })
}

fn scope(options: &SdkOptions<'_>) -> InstrumentationScope {
    let given = options.scope.cloned().unwrap_or_default();
    let name = given
        .name
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| DEFAULT_SCOPE_NAME.to_owned());
    let version = given
        .version
        .unwrap_or_else(|| env!("CARGO_PKG_VERSION").to_owned());
    let builder = InstrumentationScope::builder(interned(name));
    if version.is_empty() {
        builder.build()
    } else {
        builder.with_version(interned(version)).build()
    }
}

/// `text` as a `'static` string. Every finished span carries a clone of the scope, and a
/// borrowed name clones without allocating; interned, so that a process building many configs
/// keeps one copy of each distinct text.
fn interned(text: String) -> &'static str {
    static TEXTS: Mutex<BTreeSet<&'static str>> = Mutex::new(BTreeSet::new());
    let mut texts = TEXTS.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(found) = texts.get(text.as_str()) {
        return found;
    }
    let leaked: &'static str = Box::leak(text.into_boxed_str());
    texts.insert(leaked);
    leaked
}

fn first_env(env: Env<'_>, names: &[&'static str]) -> Option<(&'static str, String)> {
    names
        .iter()
        .find_map(|name| env(name).map(|value| (*name, value)))
}

fn env_number(
    env: Env<'_>,
    names: &[&'static str],
    minimum: u64,
    field: &str,
) -> Result<Option<u64>, Error> {
    let Some((name, value)) = first_env(env, names) else {
        return Ok(None);
    };
    match value.trim().parse::<u64>() {
        Ok(number) if number >= minimum => Ok(Some(number)),
        _ => Err(Error::invalid_config(format!(
            "{field}: environment variable {name}=`{value}` must be a whole number of at least \
             {minimum}; fix or unset it"
        ))),
    }
}

fn env_millis(
    env: Env<'_>,
    names: &[&'static str],
    field: &str,
) -> Result<Option<Duration>, Error> {
    Ok(env_number(env, names, 0, field)?.map(Duration::from_millis))
}

fn env_count(env: Env<'_>, name: &'static str, field: &str) -> Result<Option<usize>, Error> {
    Ok(env_number(env, &[name], 1, field)?
        .map(|number| usize::try_from(number).unwrap_or(usize::MAX)))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::config::{Config, LayerConfig};

    fn otlp(json: &str) -> OtlpLayerConfig {
        let config = Config::from_json(&format!(r#"{{"layers":[{json}]}}"#)).unwrap();
        match config.layers.into_iter().next() {
            Some(LayerConfig::Otlp(otlp)) => otlp,
            _ => panic!("not an otlp layer"),
        }
    }

    fn with_env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        let vars: HashMap<&str, &str> = vars.iter().copied().collect();
        move |name| vars.get(name).map(|value| (*value).to_owned())
    }

    /// A layer's JSON, the environment, and a part of the expected error message.
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);

    fn resolve(json: &str, vars: &[(&str, &str)]) -> Result<OtlpSettings, Error> {
        otlp_settings(&otlp(json), "layers[0]", &with_env(vars))
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
                r#"{"kind":"otlp","endpoint":"https://x:1"}"#,
                &[],
                "needs TLS",
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
    fn shared_settings_read_bsp_sampler_limits_and_resource_variables() {
        let vars = [
            ("OTEL_BSP_MAX_QUEUE_SIZE", "100"),
            ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "500"),
            ("OTEL_BSP_SCHEDULE_DELAY", "50"),
            ("OTEL_TRACES_SAMPLER", "traceidratio"),
            ("OTEL_TRACES_SAMPLER_ARG", "0.25"),
            ("OTEL_SPAN_EVENT_COUNT_LIMIT", "7"),
            (
                "OTEL_RESOURCE_ATTRIBUTES",
                "service.name=from-attrs,deployment.environment=test",
            ),
            ("OTEL_SERVICE_NAME", "from-service-name"),
        ];
        let config = otlp(r#"{"kind":"otlp"}"#);
        let settings = sdk_settings(config.sdk(), "layers[0]", &with_env(&vars)).unwrap();
        assert_eq!(settings.batch.max_queue_size, 100);
        assert_eq!(
            settings.batch.max_export_batch_size, 100,
            "clamped to the queue"
        );
        assert_eq!(settings.batch.scheduled_delay, Duration::from_millis(50));
        assert!(matches!(settings.sampler, Sampler::TraceIdRatioBased(ratio) if ratio == 0.25));
        assert_eq!(settings.span_limits.max_events_per_span, 7);
        assert_eq!(settings.span_limits.max_attributes_per_span, 128);
        let get = |key: &'static str| settings.resource.get(&key.into()).map(|v| v.to_string());
        assert_eq!(get("service.name").as_deref(), Some("from-service-name"));
        assert_eq!(get("deployment.environment").as_deref(), Some("test"));
        assert_eq!(get("telemetry.sdk.language").as_deref(), Some("rust"));

        let explicit = otlp(
            r#"{"kind":"otlp","serviceName":"explicit","resource":{"deployment.environment":"prod","n":3},
                "batch":{"maxQueueSize":10},"sampler":"always_off"}"#,
        );
        let settings = sdk_settings(explicit.sdk(), "layers[0]", &with_env(&vars)).unwrap();
        let get = |key: &'static str| settings.resource.get(&key.into()).map(|v| v.to_string());
        assert_eq!(get("service.name").as_deref(), Some("explicit"));
        assert_eq!(get("deployment.environment").as_deref(), Some("prod"));
        assert_eq!(get("n").as_deref(), Some("3"));
        assert_eq!(settings.batch.max_queue_size, 10);
        assert!(matches!(settings.sampler, Sampler::AlwaysOff));
    }

    #[test]
    fn default_service_name_names_the_program() {
        let config = otlp(r#"{"kind":"otlp"}"#);
        let settings = sdk_settings(config.sdk(), "layers[0]", &with_env(&[])).unwrap();
        let name = settings
            .resource
            .get(&"service.name".into())
            .unwrap()
            .to_string();
        assert!(name.starts_with("unknown_service:"), "{name}");
    }

    #[test]
    fn invalid_shared_values_name_their_origin() {
        let cases: &[Case] = &[
            (
                r#"{"kind":"otlp"}"#,
                &[("OTEL_BSP_MAX_QUEUE_SIZE", "0")],
                "OTEL_BSP_MAX_QUEUE_SIZE=`0` must be a whole number of at least 1",
            ),
            (
                r#"{"kind":"otlp"}"#,
                &[("OTEL_TRACES_SAMPLER", "xray")],
                "OTEL_TRACES_SAMPLER=`xray`",
            ),
            (
                r#"{"kind":"otlp","sampler":"traceidratio","samplerArg":2}"#,
                &[],
                "layers[0].samplerArg: the ratio must be from 0 to 1",
            ),
            (
                r#"{"kind":"otlp"}"#,
                &[("OTEL_RESOURCE_ATTRIBUTES", "=x")],
                "OTEL_RESOURCE_ATTRIBUTES: entry `=x` has an empty key",
            ),
            (
                r#"{"kind":"otlp","serviceName":" "}"#,
                &[],
                "layers[0].serviceName is empty",
            ),
        ];
        for (json, vars, expected) in cases {
            let config = otlp(json);
            let error = sdk_settings(config.sdk(), "layers[0]", &with_env(vars)).unwrap_err();
            assert!(
                error.message().contains(expected),
                "{json}: {}",
                error.message()
            );
        }
    }

    #[test]
    fn negative_and_fractional_sizes_in_the_config_name_the_option() {
        for (json, expected) in [
            (
                r#"{"kind":"otlp","batch":{"maxQueueSize":-5}}"#,
                "`layers[0].batch.maxQueueSize`: must not be negative, got -5",
            ),
            (
                r#"{"kind":"otlp","timeoutMs":1.5}"#,
                "`layers[0].timeoutMs`: must be a whole number of at least 0, got 1.5",
            ),
            (
                r#"{"kind":"otlp","protocol":"udp"}"#,
                "`layers[0].protocol`: unknown variant `udp`, expected one of `grpc`, `http/protobuf`, `http/json`",
            ),
            (
                r#"{"kind":"otlp","colour":"red"}"#,
                "`layers[0].colour`: unknown field `colour`",
            ),
        ] {
            let error = Config::from_json(&format!(r#"{{"layers":[{json}]}}"#)).unwrap_err();
            assert!(error.message().contains(expected), "{json}: {}", error.message());
            assert!(error.message().contains("layers[0]"), "{}", error.message());
        }
    }
}
