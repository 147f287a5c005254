//! Parses `EnvFilter` directives and, when they are invalid, names the directive at fault.

use tracing_subscriber::filter::{Directive, EnvFilter};

use crate::error::{Error, ErrorKind};

/// What a filter is used when no filter is configured anywhere and `RUST_LOG` is unset.
pub(crate) const DEFAULT_DIRECTIVES: &str = "info";

const SYNTAX_HINT: &str = "directives look like `info`, `my_crate=debug` or \
`my_crate::module[span_name{field=value}]=trace`, separated by commas";

/// Parses `directives` (in `RUST_LOG` syntax) into an `EnvFilter`. `origin` names the
/// config field or variable the directives came from, for the error message.
pub(crate) fn parse_filter(directives: &str, origin: &str) -> Result<EnvFilter, Error> {
    for directive in split_directives(directives) {
        if let Err(error) = directive.parse::<Directive>() {
            return Err(Error::new(
                ErrorKind::InvalidFilter,
                format!(
                    "invalid filter directive `{directive}` in {origin}: {error}; {SYNTAX_HINT}"
                ),
            ));
        }
    }
    EnvFilter::builder()
        .with_regex(false)
        .parse(directives)
        .map_err(|error| {
            Error::new(
                ErrorKind::InvalidFilter,
                format!("invalid filter `{directives}` in {origin}: {error}; {SYNTAX_HINT}"),
            )
        })
}

/// The filter used when no filter is configured: `RUST_LOG` if set, else [`DEFAULT_DIRECTIVES`].
pub(crate) fn fallback_filter() -> Result<EnvFilter, Error> {
    match std::env::var("RUST_LOG") {
        Ok(directives) if !directives.trim().is_empty() => {
            parse_filter(&directives, "the RUST_LOG environment variable")
        }
        _ => parse_filter(DEFAULT_DIRECTIVES, "the default filter"),
    }
}

/// Splits a directive list on commas that are not inside `[...]` or `{...}`.
fn split_directives(directives: &str) -> impl Iterator<Item = &str> {
    let mut depth = 0i32;
    let mut start = 0;
    let mut parts = Vec::new();
    for (index, character) in directives.char_indices() {
        match character {
            '[' | '{' => depth += 1,
            ']' | '}' => depth -= 1,
            ',' if depth <= 0 => {
                parts.push(&directives[start..index]);
                start = index + 1;
            }
            _ => {}
        }
    }
    parts.push(&directives[start..]);
    parts
        .into_iter()
        .map(str::trim)
        .filter(|part| !part.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_outside_brackets_only() {
        let parts: Vec<_> = split_directives("a=info, b[s{x=1,y=2}]=debug,,warn").collect();
        assert_eq!(parts, ["a=info", "b[s{x=1,y=2}]=debug", "warn"]);
    }

    #[test]
    fn names_the_invalid_directive() {
        let error = parse_filter("info,my_crate=loud", "layers[0].filter").unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidFilter);
        assert!(
            error.message().contains("`my_crate=loud`"),
            "{}",
            error.message()
        );
        assert!(
            error.message().contains("layers[0].filter"),
            "{}",
            error.message()
        );
    }

    #[test]
    fn accepts_span_field_directives() {
        parse_filter("warn,fibonacci[fib{index=3}]=trace", "filter").unwrap();
    }
}
