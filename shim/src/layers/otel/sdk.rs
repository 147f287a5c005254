//! The SDK settings both OpenTelemetry layers share: resource, sampler, span limits, batching,
//! instrumentation scope, flush timeout and span attributes. Each comes from the explicit
//! config first, then the standard `OTEL_*` environment variables (see [`super::env`]), then
//! the specification's defaults. Every invalid value is an `InvalidConfig` error that names the
//! option or the variable it came from.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::{Mutex, PoisonError},
    time::Duration,
};

use opentelemetry::{InstrumentationScope, Key, KeyValue, Value};
use opentelemetry_sdk::{
    resource::TelemetryResourceDetector,
    trace::{Sampler, SpanLimits},
    Resource,
};

use super::{
    config::{AttributeValue, BatchConfig, SamplerName, SdkOptions},
    detect::detected_attributes,
    env::{env_count, env_count_first, env_millis, parse_key_value_list, Env},
};
use crate::{
    config::{Count, RuntimeConfig},
    error::Error,
};

/// Settings both OpenTelemetry layers share, resolved.
#[derive(Debug)]
pub(crate) struct SdkSettings {
    pub(crate) resource: Resource,
    pub(crate) sampler: Sampler,
    pub(crate) span_limits: SpanLimits,
    /// The longest string attribute value, in characters; `None`: unlimited.
    pub(crate) attribute_value_length_limit: Option<usize>,
    pub(crate) batch: BatchSettings,
    /// Batching of log records.
    pub(crate) logs_batch: BatchSettings,
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
    pub(crate) level: bool,
    pub(crate) target: bool,
}

/// Batch processor settings, resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BatchSettings {
    pub(crate) max_queue_size: usize,
    pub(crate) max_export_batch_size: usize,
    pub(crate) scheduled_delay: Duration,
    pub(crate) export_timeout: Duration,
}

const DEFAULT_SCOPE_NAME: &str = "tracing-bridge";
const DEFAULT_FLUSH_TIMEOUT: Duration = Duration::from_millis(5_000);
const DEFAULT_LIMIT: usize = 128;

/// Resolves the shared settings of a layer; `field` names the layer (`layers[0]`), `runtime` is
/// the config document's.
pub(crate) fn sdk_settings(
    options: SdkOptions<'_>,
    field: &str,
    env: Env<'_>,
    runtime: Option<&RuntimeConfig>,
) -> Result<SdkSettings, Error> {
    Ok(SdkSettings {
        resource: resource(&options, field, env, runtime)?,
        sampler: sampler(&options, field, env)?,
        span_limits: span_limits(&options, field, env)?,
        attribute_value_length_limit: attribute_value_length_limit(&options, field, env)?,
        batch: batch(options.batch, &BATCH_SPANS, field, env)?,
        logs_batch: batch(options.logs_batch, &BATCH_LOGS, field, env)?,
        scope: scope(&options, field)?,
        flush_timeout: options
            .flush_timeout_ms
            .map(|millis| Duration::from_millis(millis.0))
            .unwrap_or(DEFAULT_FLUSH_TIMEOUT),
        span_attributes: {
            let given = options.span_attributes.unwrap_or_default();
            SpanAttributes {
                location: given.location.unwrap_or(true),
                thread: given.thread.unwrap_or(true),
                busy_idle: given.busy_idle.unwrap_or(true),
                level: given.level.unwrap_or(true),
                target: given.target.unwrap_or(true),
            }
        },
    })
}

/// The resource: the detected attributes, under `OTEL_RESOURCE_ATTRIBUTES`, under
/// `OTEL_SERVICE_NAME`, under the config's `resource`, under `serviceName`.
fn resource(
    options: &SdkOptions<'_>,
    field: &str,
    env: Env<'_>,
    runtime: Option<&RuntimeConfig>,
) -> Result<Resource, Error> {
    let mut attributes: BTreeMap<String, Value> = BTreeMap::new();
    if options.detect_resource.unwrap_or(true) {
        for (key, value) in detected_attributes(runtime)? {
            attributes.insert(key.to_owned(), value);
        }
    }
    if let Some(text) = env("OTEL_RESOURCE_ATTRIBUTES") {
        let origin = format!("{field}: environment variable OTEL_RESOURCE_ATTRIBUTES");
        for (key, value) in parse_key_value_list(&text, &origin)? {
            attributes.insert(key, Value::from(value));
        }
    }
    if let Some(name) = env("OTEL_SERVICE_NAME") {
        attributes.insert("service.name".into(), Value::from(name.trim().to_owned()));
    }
    for (key, value) in options.resource.iter().flatten() {
        if key.is_empty() {
            return Err(Error::invalid_config(format!(
                "{field}.resource: attribute names must not be empty"
            )));
        }
        attributes.insert(key.clone(), value.to_otel());
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
    let name = match *options.sampler {
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
        let (ratio, origin) = match *options.sampler_arg {
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
    let given = options.span_limits.clone().unwrap_or_default();
    let limit = |explicit: Option<Count>, var: &'static str| -> Result<u32, Error> {
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

/// `spanLimits.attributeValueLengthLimit`, else `OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT`, else
/// `OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT`, else unlimited.
fn attribute_value_length_limit(
    options: &SdkOptions<'_>,
    field: &str,
    env: Env<'_>,
) -> Result<Option<usize>, Error> {
    match options
        .span_limits
        .as_ref()
        .and_then(|limits| limits.attribute_value_length_limit)
    {
        Some(count) => Ok(Some(count.0)),
        None => env_count_first(
            env,
            &[
                "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT",
                "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT",
            ],
            field,
        ),
    }
}

/// Where a batch processor's settings come from: its option and its variables.
struct BatchOrigin {
    /// The option, `batch`.
    option: &'static str,
    /// The prefix of its variables, `OTEL_BSP_`.
    variables: &'static str,
    /// The default scheduled delay (the specification's: 5 s for spans, 1 s for logs).
    default_delay: Duration,
}

const BATCH_SPANS: BatchOrigin = BatchOrigin {
    option: "batch",
    variables: "OTEL_BSP_",
    default_delay: Duration::from_millis(5_000),
};

const BATCH_LOGS: BatchOrigin = BatchOrigin {
    option: "logsBatch",
    variables: "OTEL_BLRP_",
    default_delay: Duration::from_millis(1_000),
};

fn batch(
    given: &Option<BatchConfig>,
    origin: &BatchOrigin,
    field: &str,
    env: Env<'_>,
) -> Result<BatchSettings, Error> {
    let given = given.clone().unwrap_or_default();
    let variable = |name: &str| format!("{}{name}", origin.variables);
    let max_queue_size = match given.max_queue_size {
        Some(count) => count.0,
        None => env_count(env, &variable("MAX_QUEUE_SIZE"), field)?.unwrap_or(2048),
    };
    let max_export_batch_size = match given.max_export_batch_size {
        Some(count) => count.0,
        None => env_count(env, &variable("MAX_EXPORT_BATCH_SIZE"), field)?.unwrap_or(512),
    };
    let scheduled_delay = match given.scheduled_delay_ms {
        Some(millis) => Duration::from_millis(millis.0),
        None => {
            env_millis(env, &[variable("SCHEDULE_DELAY")], field)?.unwrap_or(origin.default_delay)
        }
    };
    let export_timeout = match given.export_timeout_ms {
        Some(millis) => Duration::from_millis(millis.0),
        None => env_millis(env, &[variable("EXPORT_TIMEOUT")], field)?
            .unwrap_or(Duration::from_millis(30_000)),
    };
    if export_timeout.is_zero() {
        return Err(Error::invalid_config(format!(
            "{field}.{}.exportTimeoutMs (or {}) must be at least 1",
            origin.option,
            variable("EXPORT_TIMEOUT")
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

fn scope(options: &SdkOptions<'_>, field: &str) -> Result<InstrumentationScope, Error> {
    let given = options.scope.clone().unwrap_or_default();
    let mut attributes = Vec::new();
    for (key, value) in given.attributes.iter().flatten() {
        if key.is_empty() {
            return Err(Error::invalid_config(format!(
                "{field}.scope.attributes: attribute names must not be empty"
            )));
        }
        // Every span carries a clone of the scope: interned texts clone without allocating.
        let value = match value {
            AttributeValue::String(text) => Value::from(interned(text.clone())),
            other => other.to_otel(),
        };
        attributes.push(KeyValue::new(
            Key::from_static_str(interned(key.clone())),
            value,
        ));
    }
    let name = given
        .name
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| DEFAULT_SCOPE_NAME.to_owned());
    let version = given
        .version
        .unwrap_or_else(|| env!("CARGO_PKG_VERSION").to_owned());
    let mut builder = InstrumentationScope::builder(interned(name));
    if !version.is_empty() {
        builder = builder.with_version(interned(version));
    }
    if let Some(schema_url) = given.schema_url.filter(|url| !url.is_empty()) {
        builder = builder.with_schema_url(interned(schema_url));
    }
    if !attributes.is_empty() {
        builder = builder.with_attributes(attributes);
    }
    Ok(builder.build())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::otel::test_support::{otlp, with_env, Case};

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
        let settings = sdk_settings(config.sdk(), "layers[0]", &with_env(&vars), None).unwrap();
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
        let settings = sdk_settings(explicit.sdk(), "layers[0]", &with_env(&vars), None).unwrap();
        let get = |key: &'static str| settings.resource.get(&key.into()).map(|v| v.to_string());
        assert_eq!(get("service.name").as_deref(), Some("explicit"));
        assert_eq!(get("deployment.environment").as_deref(), Some("prod"));
        assert_eq!(get("n").as_deref(), Some("3"));
        assert_eq!(settings.batch.max_queue_size, 10);
        assert!(matches!(settings.sampler, Sampler::AlwaysOff));
    }

    #[test]
    fn log_batching_reads_blrp_variables_below_logs_batch() {
        let config = otlp(r#"{"kind":"otlp"}"#);
        let defaults = sdk_settings(config.sdk(), "layers[0]", &with_env(&[]), None).unwrap();
        assert_eq!(
            defaults.logs_batch.scheduled_delay,
            Duration::from_millis(1_000)
        );
        assert_eq!(defaults.logs_batch.max_queue_size, 2048);
        assert_eq!(defaults.batch.scheduled_delay, Duration::from_millis(5_000));
        let vars = [
            ("OTEL_BLRP_MAX_QUEUE_SIZE", "300"),
            ("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", "30"),
            ("OTEL_BLRP_SCHEDULE_DELAY", "20"),
            ("OTEL_BLRP_EXPORT_TIMEOUT", "40"),
            ("OTEL_BSP_MAX_QUEUE_SIZE", "7"),
        ];
        let settings = sdk_settings(config.sdk(), "layers[0]", &with_env(&vars), None).unwrap();
        assert_eq!(
            settings.logs_batch,
            BatchSettings {
                max_queue_size: 300,
                max_export_batch_size: 30,
                scheduled_delay: Duration::from_millis(20),
                export_timeout: Duration::from_millis(40),
            }
        );
        assert_eq!(
            settings.batch.max_queue_size, 7,
            "spans keep their own variables"
        );
        let explicit = otlp(r#"{"kind":"otlp","logsBatch":{"maxQueueSize":5}}"#);
        let settings = sdk_settings(explicit.sdk(), "layers[0]", &with_env(&vars), None).unwrap();
        assert_eq!(settings.logs_batch.max_queue_size, 5);
        assert_eq!(
            settings.logs_batch.max_export_batch_size, 5,
            "clamped to the queue"
        );
        let zero = otlp(r#"{"kind":"otlp","logsBatch":{"exportTimeoutMs":0}}"#);
        let error = sdk_settings(zero.sdk(), "layers[0]", &with_env(&[]), None).unwrap_err();
        assert!(
            error
                .message()
                .contains("layers[0].logsBatch.exportTimeoutMs (or OTEL_BLRP_EXPORT_TIMEOUT)"),
            "{}",
            error.message()
        );
        let bad = [("OTEL_BLRP_SCHEDULE_DELAY", "soon")];
        let error = sdk_settings(config.sdk(), "layers[0]", &with_env(&bad), None).unwrap_err();
        assert!(
            error.message().contains("OTEL_BLRP_SCHEDULE_DELAY=`soon`"),
            "{}",
            error.message()
        );
    }

    #[test]
    fn detected_attributes_rank_below_the_environment_the_resource_and_the_service_name() {
        let runtime = RuntimeConfig {
            name: "bun".into(),
            version: Some("1.2.3".into()),
        };
        let vars = [
            (
                "OTEL_RESOURCE_ATTRIBUTES",
                "host.name=from-env,process.runtime.name=from-env,os.type=from-env",
            ),
            ("OTEL_SERVICE_NAME", "env-service"),
        ];
        let config = otlp(
            r#"{"kind":"otlp","resource":{"os.type":"from-config","service.name":"config-service",
                "tags":["a","b"],"ports":[80,443],"ratios":[1,0.5],"flags":[true],"none":[]}}"#,
        );
        let settings =
            sdk_settings(config.sdk(), "layers[0]", &with_env(&vars), Some(&runtime)).unwrap();
        let get = |key: &'static str| settings.resource.get(&key.into());
        let text = |key: &'static str| get(key).map(|value| value.to_string());
        assert_eq!(
            get("process.pid"),
            Some(Value::I64(std::process::id().into()))
        );
        assert_eq!(text("process.runtime.version").as_deref(), Some("1.2.3"));
        assert_eq!(text("process.runtime.name").as_deref(), Some("from-env"));
        assert_eq!(text("host.name").as_deref(), Some("from-env"));
        assert_eq!(text("os.type").as_deref(), Some("from-config"));
        assert_eq!(text("service.name").as_deref(), Some("config-service"));
        assert_eq!(text("telemetry.sdk.language").as_deref(), Some("rust"));
        use opentelemetry::Array;
        assert_eq!(
            get("tags"),
            Some(Value::Array(Array::String(vec!["a".into(), "b".into()])))
        );
        assert_eq!(get("ports"), Some(Value::Array(Array::I64(vec![80, 443]))));
        assert_eq!(
            get("ratios"),
            Some(Value::Array(Array::F64(vec![1.0, 0.5])))
        );
        assert_eq!(get("flags"), Some(Value::Array(Array::Bool(vec![true]))));
        assert_eq!(get("none"), Some(Value::Array(Array::String(vec![]))));

        let named =
            otlp(r#"{"kind":"otlp","serviceName":"named","resource":{"service.name":"x"}}"#);
        let settings =
            sdk_settings(named.sdk(), "layers[0]", &with_env(&vars), Some(&runtime)).unwrap();
        let name = settings.resource.get(&"service.name".into());
        assert_eq!(
            name.map(|value| value.to_string()).as_deref(),
            Some("named")
        );

        let off = otlp(r#"{"kind":"otlp","detectResource":false}"#);
        let settings =
            sdk_settings(off.sdk(), "layers[0]", &with_env(&[]), Some(&runtime)).unwrap();
        for key in [
            "process.pid",
            "process.runtime.name",
            "host.name",
            "os.type",
        ] {
            assert!(settings.resource.get(&key.into()).is_none(), "{key}");
        }
        assert!(settings
            .resource
            .get(&"telemetry.sdk.name".into())
            .is_some());
    }

    #[test]
    fn the_span_variable_of_the_value_length_limit_wins_and_the_option_over_both() {
        let limit = |json: &str, vars: &[(&str, &str)]| {
            let config = otlp(json);
            sdk_settings(config.sdk(), "layers[0]", &with_env(vars), None)
                .unwrap()
                .attribute_value_length_limit
        };
        let both = [
            ("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "10"),
            ("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", "20"),
        ];
        assert_eq!(limit(r#"{"kind":"otlp"}"#, &[]), None);
        assert_eq!(limit(r#"{"kind":"otlp"}"#, &both), Some(20));
        assert_eq!(limit(r#"{"kind":"otlp"}"#, &both[..1]), Some(10));
        let explicit = r#"{"kind":"otlp","spanLimits":{"attributeValueLengthLimit":5}}"#;
        assert_eq!(limit(explicit, &both), Some(5));
    }

    #[test]
    fn the_scope_takes_a_schema_url_and_attributes() {
        let config = otlp(
            r#"{"kind":"otlp","scope":{"name":"lib","version":"2.0","schemaUrl":"https://opentelemetry.io/schemas/1.26.0",
                "attributes":{"team":"core","shard":3,"zones":["a","b"]}}}"#,
        );
        let scope = sdk_settings(config.sdk(), "layers[0]", &with_env(&[]), None)
            .unwrap()
            .scope;
        assert_eq!(scope.name(), "lib");
        assert_eq!(scope.version(), Some("2.0"));
        assert_eq!(
            scope.schema_url(),
            Some("https://opentelemetry.io/schemas/1.26.0")
        );
        let attributes: Vec<String> = scope
            .attributes()
            .map(|attribute| format!("{}={}", attribute.key, attribute.value))
            .collect();
        assert_eq!(attributes, ["shard=3", "team=core", "zones=[\"a\",\"b\"]"]);
        let default = otlp(r#"{"kind":"otlp"}"#);
        let scope = sdk_settings(default.sdk(), "layers[0]", &with_env(&[]), None)
            .unwrap()
            .scope;
        assert_eq!(scope.name(), "tracing-bridge");
        assert_eq!(scope.schema_url(), None);
        assert_eq!(scope.attributes().count(), 0);
    }

    #[test]
    fn default_service_name_names_the_program() {
        let config = otlp(r#"{"kind":"otlp"}"#);
        let settings = sdk_settings(config.sdk(), "layers[0]", &with_env(&[]), None).unwrap();
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
            (
                r#"{"kind":"otlp"}"#,
                &[("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", "0")],
                "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT=`0` must be a whole number of at least 1",
            ),
            (
                r#"{"kind":"otlp"}"#,
                &[("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "many")],
                "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT=`many`",
            ),
            (
                r#"{"kind":"otlp","scope":{"attributes":{"":1}}}"#,
                &[],
                "layers[0].scope.attributes: attribute names must not be empty",
            ),
        ];
        for (json, vars, expected) in cases {
            let config = otlp(json);
            let error = sdk_settings(config.sdk(), "layers[0]", &with_env(vars), None).unwrap_err();
            assert!(
                error.message().contains(expected),
                "{json}: {}",
                error.message()
            );
        }
    }
}
