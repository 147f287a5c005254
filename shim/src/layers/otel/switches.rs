//! The OpenTelemetry specification's switches that decide whether an OpenTelemetry layer
//! records at all, and where the `otlp` layer's spans go:
//! - `OTEL_SDK_DISABLED`: `true` (any case) turns both layers into no-ops; `false` or unset
//!   changes nothing; any other value changes nothing either, with a warning on stderr, as the
//!   specification's boolean rule asks.
//! - `OTEL_TRACES_EXPORTER`, `OTEL_LOGS_EXPORTER`, `OTEL_METRICS_EXPORTER` (for `otlp` only,
//!   below its `signals` and `exporter` options): `otlp`, `console` (OTLP JSON lines on
//!   stdout), `none`; traces default to `otlp`, logs and metrics to `none`.
//! - For `otlpJson`, its `signals` option alone (no variable).

use super::{
    config::{OtelExporter, OtlpJsonLayerConfig, OtlpLayerConfig},
    env::{Env, Signal},
};
use crate::error::Error;

/// Whether `OTEL_SDK_DISABLED` turns the OpenTelemetry layers off; `field` names the layer in
/// the warning about a value that is neither `true` nor `false`.
pub(crate) fn sdk_disabled(env: Env<'_>, field: &str) -> bool {
    let Some(value) = env("OTEL_SDK_DISABLED") else {
        return false;
    };
    let trimmed = value.trim();
    if trimmed.eq_ignore_ascii_case("true") {
        return true;
    }
    if !trimmed.eq_ignore_ascii_case("false") {
        eprintln!(
            "tracing-bridge: {field}: environment variable OTEL_SDK_DISABLED=`{value}` is neither \
             `true` nor `false`; read as false (the layer records), as the OpenTelemetry \
             specification asks"
        );
    }
    false
}

/// Where an `otlp` layer sends `signal`: `signals.<signal>` (for traces also `exporter`; both
/// given and different is an error), else `OTEL_<SIGNAL>_EXPORTER`, else traces `otlp`, logs
/// and metrics `none` (so that a config written for traces sends nothing new when logs and
/// metrics arrive; the SDKs' default `otlp` would post to `/v1/logs` of receivers such as
/// Jaeger that take traces only).
///
/// The variable is a comma-separated list in the specification; a layer sends a signal to one
/// exporter, so a list naming two different exporters is an error (repeating one is fine).
pub(crate) fn signal_exporter(
    config: &OtlpLayerConfig,
    signal: Signal,
    field: &str,
    env: Env<'_>,
) -> Result<OtelExporter, Error> {
    let signals = config.signals.unwrap_or_default();
    let explicit = match signal {
        Signal::Traces => match (config.exporter, signals.traces) {
            (Some(exporter), Some(traces)) if exporter != traces => {
                return Err(Error::invalid_config(format!(
                    "{field}: `exporter` is `{}` and `signals.traces` is `{}`; they are the same \
                     option, give one of them",
                    exporter.name(),
                    traces.name()
                )))
            }
            (exporter, traces) => exporter.or(traces),
        },
        Signal::Logs => signals.logs,
        Signal::Metrics => signals.metrics,
    };
    if let Some(exporter) = explicit {
        return Ok(exporter);
    }
    let default = match signal {
        Signal::Traces => OtelExporter::Otlp,
        Signal::Logs | Signal::Metrics => OtelExporter::None,
    };
    let variable = signal.exporter_variable();
    let option = signal.signals_option();
    let Some(value) = env(variable) else {
        return Ok(default);
    };
    let mut chosen: Option<OtelExporter> = None;
    for name in value
        .split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
    {
        let exporter = match name.to_ascii_lowercase().as_str() {
            "otlp" => OtelExporter::Otlp,
            "console" => OtelExporter::Console,
            "none" => OtelExporter::None,
            _ => {
                return Err(Error::invalid_config(format!(
                    "{field}: environment variable {variable}=`{value}`: `{name}` is not an \
                     exporter of this layer; use `otlp`, `console` or `none`, or set `{option}` \
                     in the config"
                )))
            }
        };
        match chosen {
            Some(earlier) if earlier != exporter => {
                return Err(Error::invalid_config(format!(
                    "{field}: environment variable {variable}=`{value}` names more than one \
                     exporter; an otlp layer has one per signal: give one of `otlp`, `console` \
                     or `none`, or set `{option}` in the config"
                )))
            }
            _ => chosen = Some(exporter),
        }
    }
    Ok(chosen.unwrap_or(default))
}

/// Which signals an `otlpJson` layer writes: `[traces, logs, metrics]`; default traces only.
/// A layer that writes none is an error (it would write nothing, silently).
pub(crate) fn json_signals(config: &OtlpJsonLayerConfig, field: &str) -> Result<[bool; 3], Error> {
    let signals = config.signals.unwrap_or_default();
    let chosen = [
        signals.traces.unwrap_or(true),
        signals.logs.unwrap_or(false),
        signals.metrics.unwrap_or(false),
    ];
    if chosen == [false; 3] {
        return Err(Error::invalid_config(format!(
            "{field}.signals: every signal is off, so the layer would write nothing; turn on one \
             of `traces`, `logs`, `metrics`, or remove the layer"
        )));
    }
    Ok(chosen)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::otel::test_support::{otlp, with_env};

    #[test]
    fn only_true_disables_in_any_case() {
        for (value, disabled) in [
            ("true", true),
            ("TRUE", true),
            (" True ", true),
            ("false", false),
            ("1", false),
            ("yes", false),
        ] {
            let vars = [("OTEL_SDK_DISABLED", value)];
            assert_eq!(
                sdk_disabled(&with_env(&vars), "layers[0]"),
                disabled,
                "{value}"
            );
        }
        assert!(!sdk_disabled(&with_env(&[]), "layers[0]"));
    }

    #[test]
    fn the_exporter_option_wins_over_the_variable() {
        let from_env = |value: &str| {
            let vars = [("OTEL_TRACES_EXPORTER", value)];
            let env = with_env(&vars);
            signal_exporter(
                &otlp(r#"{"kind":"otlp"}"#),
                Signal::Traces,
                "layers[0]",
                &env,
            )
        };
        assert_eq!(from_env("none").unwrap(), OtelExporter::None);
        assert_eq!(from_env("Console").unwrap(), OtelExporter::Console);
        assert_eq!(from_env("otlp, otlp").unwrap(), OtelExporter::Otlp);
        assert_eq!(from_env(" , ").unwrap(), OtelExporter::Otlp);
        let unset = signal_exporter(
            &otlp(r#"{"kind":"otlp"}"#),
            Signal::Traces,
            "layers[0]",
            &with_env(&[]),
        );
        assert_eq!(unset.unwrap(), OtelExporter::Otlp);
        let explicit = signal_exporter(
            &otlp(r#"{"kind":"otlp","exporter":"otlp"}"#),
            Signal::Traces,
            "layers[0]",
            &with_env(&[("OTEL_TRACES_EXPORTER", "zipkin")]),
        );
        assert_eq!(explicit.unwrap(), OtelExporter::Otlp);

        let unknown = from_env("zipkin").unwrap_err();
        assert!(
            unknown.message().contains(
                "layers[0]: environment variable OTEL_TRACES_EXPORTER=`zipkin`: `zipkin` is not \
                 an exporter of this layer; use `otlp`, `console` or `none`, or set \
                 `signals.traces` in the config"
            ),
            "{}",
            unknown.message()
        );
        let two = from_env("otlp,console").unwrap_err();
        assert!(
            two.message().contains("names more than one exporter"),
            "{}",
            two.message()
        );
    }

    #[test]
    fn logs_and_metrics_are_off_unless_asked_for() {
        let config = otlp(r#"{"kind":"otlp"}"#);
        let resolve = |config: &OtlpLayerConfig, signal, vars: &[(&str, &str)]| {
            signal_exporter(config, signal, "layers[0]", &with_env(vars))
        };
        assert_eq!(
            resolve(&config, Signal::Logs, &[]).unwrap(),
            OtelExporter::None
        );
        assert_eq!(
            resolve(&config, Signal::Metrics, &[]).unwrap(),
            OtelExporter::None
        );
        let vars = [
            ("OTEL_LOGS_EXPORTER", "otlp"),
            ("OTEL_METRICS_EXPORTER", "console"),
        ];
        assert_eq!(
            resolve(&config, Signal::Logs, &vars).unwrap(),
            OtelExporter::Otlp
        );
        assert_eq!(
            resolve(&config, Signal::Metrics, &vars).unwrap(),
            OtelExporter::Console
        );
        let explicit = otlp(r#"{"kind":"otlp","signals":{"logs":"none","metrics":"otlp"}}"#);
        assert_eq!(
            resolve(&explicit, Signal::Logs, &vars).unwrap(),
            OtelExporter::None
        );
        assert_eq!(
            resolve(&explicit, Signal::Metrics, &vars).unwrap(),
            OtelExporter::Otlp
        );
        let bad = resolve(
            &config,
            Signal::Metrics,
            &[("OTEL_METRICS_EXPORTER", "prometheus")],
        );
        let message = bad.unwrap_err().message().to_owned();
        assert!(
            message.contains(
                "environment variable OTEL_METRICS_EXPORTER=`prometheus`: `prometheus` is not an \
                 exporter of this layer; use `otlp`, `console` or `none`, or set \
                 `signals.metrics` in the config"
            ),
            "{message}"
        );
        let both = otlp(r#"{"kind":"otlp","exporter":"none","signals":{"traces":"otlp"}}"#);
        let message = resolve(&both, Signal::Traces, &[])
            .unwrap_err()
            .message()
            .to_owned();
        assert!(message.contains("give one of them"), "{message}");
    }
}
