//! The retry policy of the `otlp` layer, the same on every protocol, as the OTLP specification
//! defines it: a request that failed for a transient reason (no connection, the connection
//! lost before the answer, HTTP 429, 502, 503 and 504, gRPC `UNAVAILABLE`, `CANCELLED`,
//! `DEADLINE_EXCEEDED`, `ABORTED`, `OUT_OF_RANGE`, `DATA_LOSS`, and `RESOURCE_EXHAUSTED` when
//! the receiver sends `RetryInfo`) is sent again after an exponential backoff with jitter, or
//! after the delay the receiver asks for (`Retry-After`, gRPC `RetryInfo`), until the layer's
//! `timeoutMs` is spent. Anything else (HTTP 400, a certificate that does not verify, ...) is
//! final at once.

use std::time::{Duration, SystemTime};

/// The first backoff; each next one doubles, up to [`MAX_BACKOFF`].
pub(crate) const INITIAL_BACKOFF: Duration = Duration::from_millis(250);
/// The longest backoff.
pub(crate) const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// Each backoff is multiplied by a random factor in `1 ± JITTER`.
const JITTER: f64 = 0.2;

/// Exponential backoff with jitter.
#[derive(Debug)]
pub(crate) struct Backoff {
    next: Duration,
    random: u64,
}

impl Backoff {
    pub(crate) fn new() -> Self {
        // Seeded from the clock and this value's address: senders that failed together
        // should not retry together. Not cryptographic; it needs only to spread.
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|elapsed| elapsed.subsec_nanos())
            .unwrap_or(0);
        let mut backoff = Self {
            next: INITIAL_BACKOFF,
            random: u64::from(nanos) | 1,
        };
        backoff.random ^= std::ptr::addr_of!(backoff) as u64;
        backoff
    }

    /// The delay before the next attempt.
    pub(crate) fn next_delay(&mut self) -> Duration {
        let base = self.next;
        self.next = (self.next * 2).min(MAX_BACKOFF);
        // xorshift64
        self.random ^= self.random << 13;
        self.random ^= self.random >> 7;
        self.random ^= self.random << 17;
        let unit = (self.random >> 11) as f64 / (1u64 << 53) as f64;
        base.mul_f64(1.0 - JITTER + 2.0 * JITTER * unit)
    }
}

/// Whether an HTTP status is worth retrying.
pub(crate) fn http_status_is_retryable(status: u16) -> bool {
    matches!(status, 429 | 502 | 503 | 504)
}

/// Whether a gRPC status code is worth retrying; `RESOURCE_EXHAUSTED` only when the receiver
/// said when (`RetryInfo`).
pub(crate) fn grpc_code_is_retryable(code: u32, has_retry_info: bool) -> bool {
    matches!(code, 1 | 4 | 10 | 11 | 14 | 15) || (code == 8 && has_retry_info)
}

/// The gRPC code a gRPC client sees when the HTTP status of the answer is not 200 (the
/// gRPC "HTTP to gRPC status code mapping").
pub(crate) fn grpc_code_of_http_status(status: u16) -> u32 {
    match status {
        400 => 13,
        401 => 16,
        403 => 7,
        404 => 12,
        429 | 502..=504 => 14,
        _ => 2,
    }
}

/// The name of a gRPC status code.
pub(crate) fn grpc_code_name(code: u32) -> &'static str {
    const NAMES: [&str; 17] = [
        "OK",
        "CANCELLED",
        "UNKNOWN",
        "INVALID_ARGUMENT",
        "DEADLINE_EXCEEDED",
        "NOT_FOUND",
        "ALREADY_EXISTS",
        "PERMISSION_DENIED",
        "RESOURCE_EXHAUSTED",
        "FAILED_PRECONDITION",
        "ABORTED",
        "OUT_OF_RANGE",
        "UNIMPLEMENTED",
        "INTERNAL",
        "UNAVAILABLE",
        "DATA_LOSS",
        "UNAUTHENTICATED",
    ];
    usize::try_from(code)
        .ok()
        .and_then(|code| NAMES.get(code))
        .copied()
        .unwrap_or("UNKNOWN")
}

/// A `Retry-After` header: whole seconds, or an HTTP date.
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_up_to_the_maximum() {
        let mut backoff = Backoff::new();
        let mut base = INITIAL_BACKOFF;
        for _ in 0..10 {
            let delay = backoff.next_delay();
            assert!(
                delay >= base.mul_f64(0.8) && delay <= base.mul_f64(1.2),
                "{delay:?} around {base:?}"
            );
            base = (base * 2).min(MAX_BACKOFF);
        }
    }

    #[test]
    fn the_specification_s_retryable_statuses() {
        for status in [429, 502, 503, 504] {
            assert!(http_status_is_retryable(status), "{status}");
        }
        for status in [400, 401, 403, 404, 413, 500, 501] {
            assert!(!http_status_is_retryable(status), "{status}");
        }
        for code in [1, 4, 10, 11, 14, 15] {
            assert!(grpc_code_is_retryable(code, false), "{code}");
        }
        assert!(!grpc_code_is_retryable(8, false));
        assert!(grpc_code_is_retryable(8, true));
        for code in [2, 3, 5, 6, 7, 9, 12, 13, 16] {
            assert!(!grpc_code_is_retryable(code, true), "{code}");
        }
        assert_eq!(grpc_code_of_http_status(503), 14);
        assert_eq!(grpc_code_name(14), "UNAVAILABLE");
        assert_eq!(grpc_code_name(99), "UNKNOWN");
    }

    #[test]
    fn retry_after_takes_seconds_or_a_date() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
        assert_eq!(parse_retry_after(" 3 ", now), Some(Duration::from_secs(3)));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(7));
        assert_eq!(parse_retry_after(&later, now), Some(Duration::from_secs(7)));
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(7));
        assert_eq!(parse_retry_after(&earlier, now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
