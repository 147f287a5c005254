//! The OpenTelemetry specification's switches that decide whether an OpenTelemetry layer
//! records at all, and where the `otlp` layer's spans go:
//! - `OTEL_SDK_DISABLED`: `true` (any case) turns both layers into no-ops; `false` or unset
//!   changes nothing; any other value changes nothing either, with a warning on stderr, as the
//!   specification's boolean rule asks.
//! - `OTEL_TRACES_EXPORTER` (for `otlp` only, below its `exporter` option): `otlp` (the
//!   default), `console` (OTLP JSON lines on stdout), `none` (a no-op).

use super::{
    config::{OtlpLayerConfig, TracesExporter},
    env::Env,
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

/// The `otlp` layer's exporter: `exporter`, else `OTEL_TRACES_EXPORTER`, else `otlp`.
///
/// The variable is a comma-separated list in the specification; a layer has one exporter, so a
/// list naming two different exporters is an error (repeating one is fine).
pub(crate) fn traces_exporter(
    config: &OtlpLayerConfig,
    field: &str,
    env: Env<'_>,
) -> Result<TracesExporter, Error> {
    if let Some(exporter) = config.exporter {
        return Ok(exporter);
    }
    let Some(value) = env("OTEL_TRACES_EXPORTER") else {
        return Ok(TracesExporter::Otlp);
    };
    let mut chosen: Option<TracesExporter> = None;
    for name in value
        .split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
    {
        let exporter = match name.to_ascii_lowercase().as_str() {
            "otlp" => TracesExporter::Otlp,
            "console" => TracesExporter::Console,
            "none" => TracesExporter::None,
            _ => {
                return Err(Error::invalid_config(format!(
                    "{field}: environment variable OTEL_TRACES_EXPORTER=`{value}`: `{name}` is \
                     not an exporter of this layer; use `otlp`, `console` or `none`, or set \
                     `exporter` in the config"
                )))
            }
        };
        match chosen {
            Some(earlier) if earlier != exporter => {
                return Err(Error::invalid_config(format!(
                    "{field}: environment variable OTEL_TRACES_EXPORTER=`{value}` names more than \
                     one exporter; an otlp layer has one: give one of `otlp`, `console` or \
                     `none`, or set `exporter` in the config"
                )))
            }
            _ => chosen = Some(exporter),
        }
    }
    Ok(chosen.unwrap_or(TracesExporter::Otlp))
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
            traces_exporter(&otlp(r#"{"kind":"otlp"}"#), "layers[0]", &env)
        };
        assert_eq!(from_env("none").unwrap(), TracesExporter::None);
        assert_eq!(from_env("Console").unwrap(), TracesExporter::Console);
        assert_eq!(from_env("otlp, otlp").unwrap(), TracesExporter::Otlp);
        assert_eq!(from_env(" , ").unwrap(), TracesExporter::Otlp);
        let unset = traces_exporter(&otlp(r#"{"kind":"otlp"}"#), "layers[0]", &with_env(&[]));
        assert_eq!(unset.unwrap(), TracesExporter::Otlp);
        let explicit = traces_exporter(
            &otlp(r#"{"kind":"otlp","exporter":"otlp"}"#),
            "layers[0]",
            &with_env(&[("OTEL_TRACES_EXPORTER", "zipkin")]),
        );
        assert_eq!(explicit.unwrap(), TracesExporter::Otlp);

        let unknown = from_env("zipkin").unwrap_err();
        assert!(
            unknown.message().contains(
                "layers[0]: environment variable OTEL_TRACES_EXPORTER=`zipkin`: `zipkin` is not \
                 an exporter of this layer; use `otlp`, `console` or `none`"
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
}
