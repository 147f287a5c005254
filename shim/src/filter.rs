//! Parses `EnvFilter` directives and, when they are invalid, names the directive at fault.
//!
//! The directives are split and trimmed here, each is checked on its own, and the filter is
//! built from the trimmed directives, never from the string as given: `tracing-subscriber`
//! slices a directive by the positions of its trimmed copy, so `" my_crate"` would keep its
//! space (and match nothing) and `" é"` would panic. Field values are matched as text, never
//! compiled as regular expressions, and the length of a filter is bounded, so parsing a filter
//! takes microseconds whatever it holds.

use tracing_subscriber::filter::EnvFilter;

use crate::error::{Error, ErrorKind};

/// What a filter is used when no filter is configured anywhere and `RUST_LOG` is unset.
pub(crate) const DEFAULT_DIRECTIVES: &str = "info";

/// The longest filter accepted, in bytes. Real filters are a few dozen bytes; the bound keeps
/// a pasted or generated string from costing more than a few microseconds to parse.
pub(crate) const MAX_FILTER_BYTES: usize = 4096;

/// The most directives one filter may hold. Every callsite is checked against each of them.
pub(crate) const MAX_DIRECTIVES: usize = 128;

const SYNTAX_HINT: &str = "directives look like `info`, `my_crate=debug` or \
`my_crate::module[span_name{field=value}]=trace`, separated by commas";

/// Parses `directives` (in `RUST_LOG` syntax) into an `EnvFilter`. `origin` names the
/// config field or variable the directives came from, for the error message.
pub(crate) fn parse_filter(directives: &str, origin: &str) -> Result<EnvFilter, Error> {
    let invalid = |message: String| Error::new(ErrorKind::InvalidFilter, message);
    if directives.len() > MAX_FILTER_BYTES {
        return Err(invalid(format!(
            "the filter in {origin} is {} bytes long; at most {MAX_FILTER_BYTES} are accepted",
            directives.len()
        )));
    }
    let parts: Vec<&str> = split_directives(directives).collect();
    if parts.is_empty() {
        return Err(invalid(format!(
            "the filter in {origin} is empty; give directives such as `info` or `off`, or leave \
             the filter out; {SYNTAX_HINT}"
        )));
    }
    if parts.len() > MAX_DIRECTIVES {
        return Err(invalid(format!(
            "the filter in {origin} has {} directives; at most {MAX_DIRECTIVES} are accepted",
            parts.len()
        )));
    }
    let mut canonical = Vec::with_capacity(parts.len());
    for directive in &parts {
        canonical.push(check_directive(directive).map_err(|reason| {
            invalid(format!(
                "invalid filter directive `{directive}` in {origin}: {reason}; {SYNTAX_HINT}"
            ))
        })?);
    }
    without_regex()
        .parse(last_of_each_field_match(&parts, &canonical))
        .map_err(|error| {
            invalid(format!(
                "invalid filter in {origin}: {error}; {SYNTAX_HINT}"
            ))
        })
}

/// Joins `parts`, leaving out a directive with field matches when a later one matches the same
/// target, span and fields (`canonical` holds each part as `EnvFilter` prints it, level last).
/// The filter would keep only the later one anyway, but comparing two such directives trips a
/// debug assertion inside `tracing-subscriber` (its `ValueMatch` equality has no arm for text
/// values): a panic in debug builds of a library that embeds the shim.
fn last_of_each_field_match(parts: &[&str], canonical: &[String]) -> String {
    fn key(text: &str) -> Option<&str> {
        text.contains('{')
            .then(|| text.rsplit_once('=').map_or(text, |(key, _)| key))
    }
    let kept: Vec<&str> = parts
        .iter()
        .zip(canonical)
        .enumerate()
        .filter(|(index, (_, text))| {
            key(text).is_none_or(|own| {
                !canonical[index + 1..]
                    .iter()
                    .any(|later| key(later) == Some(own))
            })
        })
        .map(|(_, (part, _))| *part)
        .collect();
    kept.join(",")
}

/// Checks one trimmed directive the way the filter will read it; returns it as the filter
/// prints it.
fn check_directive(directive: &str) -> Result<String, String> {
    // `EnvFilter` splits its input on every comma, so a directive that matches two span
    // fields (`span{a=1,b=2}`) cannot be given to it.
    if directive.contains(',') {
        return Err(
            "a directive can match one span field here (`span{field=value}`); \
                    give one directive per field instead"
                .to_owned(),
        );
    }
    without_regex()
        .parse(directive)
        .map(|filter| filter.to_string())
        .map_err(|error| error.to_string())
}

/// Field values are compared as text: compiling them as regular expressions can take seconds
/// for a crafted value, and `RUST_LOG` users rarely expect regex matching.
fn without_regex() -> tracing_subscriber::filter::Builder {
    EnvFilter::builder().with_regex(false)
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

    #[test]
    fn a_space_after_a_comma_is_ignored() {
        for (spaced, plain) in [
            ("off, fibonacci", "off,fibonacci"),
            ("off, fibonacci=info", "off,fibonacci=info"),
            (
                "  warn ,\tmy_crate[span{x=1}]=debug ",
                "warn,my_crate[span{x=1}]=debug",
            ),
            ("off, é=info", "off,é=info"),
        ] {
            let spaced = parse_filter(spaced, "filter").unwrap();
            let plain = parse_filter(plain, "filter").unwrap();
            assert_eq!(spaced.to_string(), plain.to_string());
        }
    }

    #[test]
    fn empty_filters_are_rejected() {
        for empty in ["", " ", " , ,"] {
            let error = parse_filter(empty, "layers[2].filter").unwrap_err();
            assert_eq!(error.kind(), ErrorKind::InvalidFilter);
            assert!(
                error.message().contains("layers[2].filter is empty"),
                "{}",
                error.message()
            );
        }
    }

    #[test]
    fn two_span_fields_in_one_directive_are_named() {
        let error = parse_filter("warn,fib[f{a=1,b=2}]=trace", "filter").unwrap_err();
        assert!(
            error.message().contains("`fib[f{a=1,b=2}]=trace`"),
            "{}",
            error.message()
        );
        assert!(
            error.message().contains("one span field"),
            "{}",
            error.message()
        );
    }

    #[test]
    fn long_or_crafted_filters_are_parsed_fast() {
        let cases = [
            // Each took 0.7 to 1.9 s when field values were compiled as regexes.
            format!("a[s{{f=[ab]*a{}}}]=x", "[ab]".repeat(16)),
            format!("a[s{{f=.*a{}}}]=trace", ".".repeat(14)),
            format!("a[s{{f={}}}]=x", "[a-z]{1,50}".repeat(15)),
            format!("a[s{{f={}}}]=trace", "(a|b|c)*[^x]{20}".repeat(22)),
            format!("a[s{{f={}}}]", r"\w{1,9}".repeat(45)),
            "x[{".repeat(1300),
            "[{".repeat(2000),
            (0..MAX_DIRECTIVES)
                .map(|i| format!("t{i}[s{{f=v}}]=info"))
                .collect::<Vec<_>>()
                .join(","),
            ["t"; 1000].join(","),
            "a".repeat(MAX_FILTER_BYTES + 1),
        ];
        for filter in &cases {
            let started = std::time::Instant::now();
            let _ = parse_filter(filter, "filter");
            let elapsed = started.elapsed();
            // Debug builds included; the regex compilation this replaced took over a second.
            assert!(
                elapsed.as_millis() < 100,
                "{} bytes took {elapsed:?}",
                filter.len()
            );
        }
        let too_many = parse_filter(&cases[8], "filter").unwrap_err();
        assert!(
            too_many.message().contains("1000 directives"),
            "{}",
            too_many.message()
        );
        let too_long = parse_filter(&cases[9], "filter").unwrap_err();
        assert!(
            too_long.message().contains("bytes long"),
            "{}",
            too_long.message()
        );
    }

    #[test]
    fn field_values_are_text_not_patterns() {
        // `[` does not open a character class: the value is matched as written.
        parse_filter("a[s{f=[unclosed}]=debug", "filter").unwrap();
    }
}

#[cfg(test)]
mod repeated_field_matches {
    use super::*;

    #[test]
    fn repeated_directives_with_text_field_matches_do_not_panic() {
        // Found by the fuzzer; each used to trip tracing-subscriber's debug assertion.
        parse_filter("[{\"o=}],[{\"o=}]", "filter").unwrap();
        parse_filter("a[s{f=x}]=trace,a[s{f=x}]=info", "filter").unwrap();
        parse_filter(
            "rwan,e_modwdu}],info,[{\"o=}],in,oinfo,[{\"o=}],inCledebwoff",
            "filter",
        )
        .unwrap_or_else(|error| panic!("typed error at most: {}", error.message()));
    }

    #[test]
    fn the_later_of_two_equal_field_matches_wins() {
        let filter = parse_filter("a[s{f=x}]=trace,a[s{f=x}]=info", "filter").unwrap();
        assert_eq!(filter.to_string(), "a[s{f=x}]=info");
    }
}
