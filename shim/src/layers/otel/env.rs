//! Reading the standard `OTEL_*` environment variables: which variables a signal reads, their
//! value syntax (numbers, `key=value` lists with percent-encoding) and the error messages that
//! name the variable at fault.
//!
//! The environment is read by the library itself (`getenv`), so in Deno it needs no
//! `--allow-env`.

use std::time::Duration;

use percent_encoding::percent_decode_str;

use crate::error::Error;

/// Reads one environment variable; `None` when unset or blank.
pub(crate) type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process environment.
pub(crate) fn process_env(name: &str) -> Option<String> {
    std::env::var_os(name)
        .map(|value| value.to_string_lossy().into_owned())
        .filter(|value| !value.trim().is_empty())
}

/// An OpenTelemetry signal: what an exporter sends, which selects its `OTEL_EXPORTER_OTLP_*`
/// variables and its OTLP/HTTP path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) enum Signal {
    /// Spans.
    Traces,
    /// Log records.
    Logs,
    /// Metrics.
    Metrics,
}

impl Signal {
    /// `TRACES`, as in `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`.
    fn variable_part(self) -> &'static str {
        match self {
            Signal::Traces => "TRACES",
            Signal::Logs => "LOGS",
            Signal::Metrics => "METRICS",
        }
    }

    /// The variable that chooses the signal's exporter: `OTEL_TRACES_EXPORTER`.
    pub(crate) fn exporter_variable(self) -> &'static str {
        match self {
            Signal::Traces => "OTEL_TRACES_EXPORTER",
            Signal::Logs => "OTEL_LOGS_EXPORTER",
            Signal::Metrics => "OTEL_METRICS_EXPORTER",
        }
    }

    /// The `otlp` layer option that chooses the signal's exporter: `signals.traces`.
    pub(crate) fn signals_option(self) -> &'static str {
        match self {
            Signal::Traces => "signals.traces",
            Signal::Logs => "signals.logs",
            Signal::Metrics => "signals.metrics",
        }
    }

    /// What the signal's records are called in messages: `spans`.
    pub(crate) fn records(self) -> &'static str {
        match self {
            Signal::Traces => "spans",
            Signal::Logs => "log records",
            Signal::Metrics => "metric data points",
        }
    }

    /// The signal's name: `traces`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Signal::Traces => "traces",
            Signal::Logs => "logs",
            Signal::Metrics => "metrics",
        }
    }

    /// The option of the signal's batch processor: `batch`.
    pub(crate) fn batch_option(self) -> &'static str {
        match self {
            Signal::Traces => "batch",
            Signal::Logs => "logsBatch",
            Signal::Metrics => "metrics",
        }
    }

    /// The OTLP/HTTP path of the signal, `/v1/traces`.
    pub(crate) fn http_path(self) -> &'static str {
        match self {
            Signal::Traces => "/v1/traces",
            Signal::Logs => "/v1/logs",
            Signal::Metrics => "/v1/metrics",
        }
    }

    /// The variables of an exporter `setting` (`ENDPOINT`, `HEADERS`, ...), the signal's own
    /// first: `[OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, OTEL_EXPORTER_OTLP_ENDPOINT]`.
    pub(crate) fn exporter_variables(self, setting: &str) -> [String; 2] {
        [
            format!("OTEL_EXPORTER_OTLP_{}_{setting}", self.variable_part()),
            format!("OTEL_EXPORTER_OTLP_{setting}"),
        ]
    }
}

/// The first of `names` that is set, with its value.
pub(crate) fn first_env<N: AsRef<str>>(env: Env<'_>, names: &[N]) -> Option<(String, String)> {
    names.iter().find_map(|name| {
        let name = name.as_ref();
        env(name).map(|value| (name.to_owned(), value))
    })
}

/// The first of `names` that is set, as a whole number of at least `minimum`.
fn env_number<N: AsRef<str>>(
    env: Env<'_>,
    names: &[N],
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

/// The first of `names` that is set, as milliseconds.
pub(crate) fn env_millis<N: AsRef<str>>(
    env: Env<'_>,
    names: &[N],
    field: &str,
) -> Result<Option<Duration>, Error> {
    Ok(env_number(env, names, 0, field)?.map(Duration::from_millis))
}

/// `name`, when set, as a count of at least 1.
pub(crate) fn env_count(env: Env<'_>, name: &str, field: &str) -> Result<Option<usize>, Error> {
    env_count_first(env, &[name], field)
}

/// The first of `names` that is set, as a count of at least 1.
pub(crate) fn env_count_first(
    env: Env<'_>,
    names: &[&str],
    field: &str,
) -> Result<Option<usize>, Error> {
    Ok(env_number(env, names, 1, field)?
        .map(|number| usize::try_from(number).unwrap_or(usize::MAX)))
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

/// Decodes `%XX` escapes. Unlike `percent_decode_str` alone, a `%` without two hex digits
/// after it is an error: the W3C Baggage syntax these variables follow has no bare `%`.
fn percent_decode(text: &str, origin: &str) -> Result<String, Error> {
    let bytes = text.as_bytes();
    let bare_percent = bytes.iter().enumerate().any(|(index, &byte)| {
        byte == b'%'
            && !bytes
                .get(index + 1..index + 3)
                .is_some_and(|pair| pair.iter().all(u8::is_ascii_hexdigit))
    });
    if bare_percent {
        return Err(Error::invalid_config(format!(
            "{origin}: `{text}` has a `%` not followed by two hex digits; encode `%` as `%25`"
        )));
    }
    percent_decode_str(text)
        .decode_utf8()
        .map(|decoded| decoded.into_owned())
        .map_err(|_| Error::invalid_config(format!("{origin}: `{text}` does not decode to UTF-8")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_signal_reads_its_own_variables_then_the_generic_ones() {
        assert_eq!(
            Signal::Traces.exporter_variables("ENDPOINT"),
            [
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                "OTEL_EXPORTER_OTLP_ENDPOINT"
            ]
        );
        assert_eq!(
            Signal::Logs.exporter_variables("HEADERS"),
            [
                "OTEL_EXPORTER_OTLP_LOGS_HEADERS",
                "OTEL_EXPORTER_OTLP_HEADERS"
            ]
        );
        assert_eq!(
            Signal::Metrics.exporter_variables("TIMEOUT"),
            [
                "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT",
                "OTEL_EXPORTER_OTLP_TIMEOUT"
            ]
        );
        assert_eq!(Signal::Logs.http_path(), "/v1/logs");
        assert_eq!(Signal::Metrics.http_path(), "/v1/metrics");
    }

    #[test]
    fn key_value_lists_are_percent_decoded() {
        let pairs = parse_key_value_list("a%20b=c%2Cd, e=%E2%9C%93", "test").unwrap();
        assert_eq!(
            pairs,
            [
                ("a b".to_owned(), "c,d".to_owned()),
                ("e".to_owned(), "✓".to_owned())
            ]
        );
        for bad in ["a=%zz", "a=%4", "a=50%", "a=%%41"] {
            let error = parse_key_value_list(bad, "test").unwrap_err();
            assert!(
                error.message().contains("not followed by two hex digits"),
                "{bad}: {}",
                error.message()
            );
        }
        let error = parse_key_value_list("a=%FF", "test").unwrap_err();
        assert!(error.message().contains("does not decode to UTF-8"));
    }
}
