//! [`ApiError`]: everything that can go wrong when talking to the Pivotal API.
//!
//! Owns the error vocabulary of the client and the translation of transport
//! failures into short human reasons. Server-provided text is sanitised here,
//! once, when an error is built. It must never carry the API key, request
//! headers or a whole response body.

use std::error::Error as StdError;
use std::io;
use std::time::Duration;

use crate::text::sanitize;

/// Longest server text (in characters) kept in a [`ApiError::Decode`] reason.
const MAX_REASON_CHARS: usize = 200;
/// Longest server text (in characters) kept in an error's message, type or
/// param: enough for any sentence, short enough for one status line or log
/// line whatever the server sends.
pub(crate) const MAX_MESSAGE_CHARS: usize = 300;

/// The longest `Retry-After` kept: a day. A server asking for more (up to
/// `u64::MAX` seconds) would otherwise overflow whoever adds it to a clock.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// A failed API call.
///
/// Every string inside is safe to print: server text has been sanitised and
/// nothing here contains the API key.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The server answered with an error status (other than 429).
    #[error("the server answered HTTP {status} ({kind}): {message}")]
    Api {
        /// The HTTP status code.
        status: u16,
        /// The body's `type` (`validation_failed`, `not_found`, …), or
        /// `server_error` / `http_error` when the body was not the contract's.
        kind: String,
        /// A human sentence, from the body when it had one.
        message: String,
        /// The request field the error is about, if the server named one.
        param: Option<String>,
    },
    /// The server answered `429 Too Many Requests`.
    #[error("the server is rate limiting requests; retry in {}s: {message}", retry_after.as_secs())]
    RateLimited {
        /// How long the server asked us to wait (`Retry-After`).
        retry_after: Duration,
        /// A human sentence, from the body when it had one.
        message: String,
    },
    /// The request did not complete within the client's time-out.
    #[error("the request to the server timed out")]
    Timeout,
    /// The connection failed or dropped before a full response arrived.
    #[error("could not reach the server: {reason}")]
    Network {
        /// A short human reason such as "connection refused".
        reason: String,
    },
    /// A successful response whose body is not what the contract promises.
    #[error("could not read the server's response: {reason}")]
    Decode {
        /// What did not match, at most ~200 characters, sanitised.
        reason: String,
    },
    /// The client is misconfigured or was given an unusable argument
    /// (bad base URL, bad API key, an empty customer id…).
    #[error("invalid client configuration: {reason}")]
    Config {
        /// What is wrong; never contains the API key.
        reason: String,
    },
}

impl ApiError {
    /// An error response, with server text sanitised and each piece cut to
    /// [`MAX_MESSAGE_CHARS`].
    pub(crate) fn api(status: u16, kind: &str, message: &str, param: Option<&str>) -> Self {
        ApiError::Api {
            status,
            kind: clean_short(kind),
            message: clean_short(message),
            param: param.map(clean_short),
        }
    }

    /// A `429` response, with server text sanitised and shortened, and the
    /// wait at most a day.
    pub(crate) fn rate_limited(retry_after: Duration, message: &str) -> Self {
        ApiError::RateLimited {
            retry_after: retry_after.min(MAX_RETRY_AFTER),
            message: clean_short(message),
        }
    }

    /// A body that did not decode; `detail` may quote the body, so it is
    /// shortened and sanitised.
    pub(crate) fn decode(detail: &str) -> Self {
        let short: String = detail.chars().take(MAX_REASON_CHARS).collect();
        ApiError::Decode {
            reason: clean(&short),
        }
    }

    /// A configuration problem described by this module's own words.
    pub(crate) fn config(reason: impl Into<String>) -> Self {
        ApiError::Config {
            reason: reason.into(),
        }
    }

    /// Translates a transport failure from reqwest.
    pub(crate) fn from_transport(err: reqwest::Error) -> Self {
        if err.is_timeout() {
            ApiError::Timeout
        } else if err.is_builder() {
            ApiError::config("the request could not be built")
        } else {
            ApiError::Network {
                reason: network_reason(&err).to_owned(),
            }
        }
    }

    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Api { status, .. } => Some(*status),
            ApiError::RateLimited { .. } => Some(429),
            _ => None,
        }
    }

    /// Whether repeating the same request may succeed: `429`, `5xx`,
    /// time-outs and network failures. Never other `4xx`, decode or
    /// configuration errors.
    pub fn is_retryable(&self) -> bool {
        match self {
            ApiError::Api { status, .. } => *status >= 500,
            ApiError::RateLimited { .. } | ApiError::Timeout | ApiError::Network { .. } => true,
            ApiError::Decode { .. } | ApiError::Config { .. } => false,
        }
    }

    /// How long the server asked us to wait, for a `429`.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ApiError::RateLimited { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }

    /// Whether the API key was refused (`401`) or is not allowed to do
    /// this (`403`): either way, nothing changes until the key does.
    pub fn is_auth(&self) -> bool {
        matches!(self.status(), Some(401 | 403))
    }

    /// The request field an error is about (`422` with `param`).
    pub fn param(&self) -> Option<&str> {
        match self {
            ApiError::Api { param, .. } => param.as_deref(),
            _ => None,
        }
    }

    /// A short label for logs: the error `type` for responses, else the
    /// variant. Contains no server sentence.
    pub(crate) fn label(&self) -> &str {
        match self {
            ApiError::Api { kind, .. } => kind,
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::Timeout => "timeout",
            ApiError::Network { .. } => "network",
            ApiError::Decode { .. } => "decode",
            ApiError::Config { .. } => "config",
        }
    }
}

fn clean(text: &str) -> String {
    sanitize(text).into_owned()
}

/// Sanitised, and at most [`MAX_MESSAGE_CHARS`] characters: a longer text is
/// cut on a character boundary and ends with `…`. Only the first
/// `4 × MAX_MESSAGE_CHARS` characters are looked at, so a megabyte of text
/// costs no more than a sentence (text hidden behind a longer run of escape
/// sequences is cut).
fn clean_short(text: &str) -> String {
    let head_end = text
        .char_indices()
        .nth(MAX_MESSAGE_CHARS * 4)
        .map_or(text.len(), |(i, _)| i);
    let cleaned = sanitize(&text[..head_end]);
    let mut chars = cleaned.chars();
    let mut short: String = chars.by_ref().take(MAX_MESSAGE_CHARS - 1).collect();
    let rest = chars.as_str();
    let cut = head_end < text.len() || rest.chars().nth(1).is_some();
    if cut {
        short.push('…');
    } else {
        short.push_str(rest);
    }
    short
}

/// A short human reason for a failed connection, found by walking the
/// error's `source()` chain. Only fixed phrases are returned, so nothing from
/// the request (URL, headers) can leak through.
fn network_reason(err: &reqwest::Error) -> &'static str {
    if err.is_dns() {
        return "DNS lookup failed";
    }
    let connecting = err.is_connect();
    let mut source: Option<&(dyn StdError + 'static)> = err.source();
    while let Some(cause) = source {
        if let Some(reason) = known_cause(cause, connecting) {
            return reason;
        }
        source = cause.source();
    }
    if connecting {
        "connection failed"
    } else if err.is_body() {
        "the connection dropped while reading the response"
    } else {
        "the request could not be sent"
    }
}

/// The reason for one link of an error chain, if it is one we recognise.
fn known_cause(cause: &(dyn StdError + 'static), connecting: bool) -> Option<&'static str> {
    if let Some(io) = cause.downcast_ref::<io::Error>() {
        // rustls reports handshake and certificate failures as invalid data.
        if connecting && io.kind() == io::ErrorKind::InvalidData {
            return Some("TLS handshake failed");
        }
        // `io::Error::source()` skips the error it wraps, so look inside too.
        return io_reason(io.kind()).or_else(|| {
            io.get_ref()
                .and_then(|inner| known_cause(inner, connecting))
        });
    }
    let hyper = cause.downcast_ref::<hyper::Error>()?;
    if hyper.is_incomplete_message() {
        Some("connection closed before a response")
    } else if hyper.is_parse() {
        Some("the server sent a malformed HTTP response")
    } else {
        None
    }
}

fn io_reason(kind: io::ErrorKind) -> Option<&'static str> {
    use io::ErrorKind as K;
    Some(match kind {
        K::ConnectionRefused => "connection refused",
        K::ConnectionReset => "connection reset",
        K::ConnectionAborted => "connection aborted",
        K::BrokenPipe | K::UnexpectedEof => "connection closed before a response",
        K::NotConnected => "not connected",
        K::HostUnreachable => "host unreachable",
        K::NetworkUnreachable => "network unreachable",
        K::AddrNotAvailable => "address not available",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_retry_after_beyond_a_day_is_kept_as_a_day() {
        let err = ApiError::rate_limited(Duration::from_secs(u64::MAX), "slow down");
        assert_eq!(err.retry_after(), Some(MAX_RETRY_AFTER));
        let err = ApiError::rate_limited(Duration::from_secs(7), "slow down");
        assert_eq!(err.retry_after(), Some(Duration::from_secs(7)));
    }

    #[test]
    fn retryable_errors_are_429_5xx_timeouts_and_network() {
        let retryable = [
            ApiError::api(500, "server_error", "boom", None),
            ApiError::api(503, "server_error", "busy", None),
            ApiError::rate_limited(Duration::from_secs(1), "slow down"),
            ApiError::Timeout,
            ApiError::Network {
                reason: "connection reset".into(),
            },
        ];
        for err in &retryable {
            assert!(err.is_retryable(), "{err}");
        }
        let final_ = [
            ApiError::api(400, "invalid_request", "bad", None),
            ApiError::api(404, "not_found", "gone", None),
            ApiError::api(409, "idempotency_conflict", "conflict", None),
            ApiError::api(422, "validation_failed", "bad name", Some("name")),
            ApiError::decode("expected value"),
            ApiError::config("bad url"),
        ];
        for err in &final_ {
            assert!(!err.is_retryable(), "{err}");
        }
    }

    #[test]
    fn accessors_report_status_param_auth_and_retry_after() {
        let invalid = ApiError::api(422, "validation_failed", "unknown user", Some("owner_id"));
        assert_eq!(invalid.status(), Some(422));
        assert_eq!(invalid.param(), Some("owner_id"));
        assert!(!invalid.is_auth());
        assert!(ApiError::api(401, "unauthorized", "no", None).is_auth());
        assert!(ApiError::api(403, "forbidden", "no", None).is_auth());

        let limited = ApiError::rate_limited(Duration::from_secs(3), "slow down");
        assert_eq!(limited.status(), Some(429));
        assert_eq!(limited.retry_after(), Some(Duration::from_secs(3)));
        assert_eq!(ApiError::Timeout.retry_after(), None);
        assert_eq!(ApiError::Timeout.status(), None);
    }

    #[test]
    fn decode_reason_is_shortened() {
        let long = "x".repeat(5_000);
        let ApiError::Decode { reason } = ApiError::decode(&long) else {
            panic!("not a decode error");
        };
        assert_eq!(reason.chars().count(), MAX_REASON_CHARS);
    }

    #[test]
    fn a_megabyte_error_message_is_cut_to_a_line_with_an_ellipsis() {
        let huge = "é".repeat(1_000_000);
        let err = ApiError::api(500, &huge, &huge, Some(&huge));
        let ApiError::Api {
            kind,
            message,
            param,
            ..
        } = &err
        else {
            panic!("not an API error");
        };
        for text in [kind, message, param.as_ref().expect("param")] {
            assert_eq!(text.chars().count(), MAX_MESSAGE_CHARS);
            assert!(text.ends_with('…'), "{text}");
        }
        assert!(err.to_string().chars().count() < 1_000);
        let ApiError::RateLimited { message, .. } =
            ApiError::rate_limited(Duration::from_secs(1), &huge)
        else {
            panic!("not a rate limit");
        };
        assert_eq!(message.chars().count(), MAX_MESSAGE_CHARS);
    }

    #[test]
    fn a_message_at_the_limit_is_kept_whole_and_escapes_do_not_count() {
        let exact = "x".repeat(MAX_MESSAGE_CHARS);
        assert_eq!(clean_short(&exact), exact);
        let longer = format!("{exact}y");
        assert!(clean_short(&longer).ends_with("x…"));
        let coloured = format!("\u{1b}[31m{exact}\u{1b}[0m");
        assert_eq!(clean_short(&coloured), exact);
        assert_eq!(clean_short("short \u{1b}]0;X\u{7}one"), "short one");
    }

    #[test]
    fn display_is_one_sentence_with_the_server_message() {
        let err = ApiError::api(422, "validation_failed", "name is required", Some("name"));
        assert_eq!(
            err.to_string(),
            "the server answered HTTP 422 (validation_failed): name is required"
        );
        let limited = ApiError::rate_limited(Duration::from_secs(2), "slow down");
        assert_eq!(
            limited.to_string(),
            "the server is rate limiting requests; retry in 2s: slow down"
        );
    }

    #[test]
    fn io_kinds_become_short_reasons() {
        assert_eq!(
            io_reason(io::ErrorKind::ConnectionRefused),
            Some("connection refused")
        );
        assert_eq!(
            io_reason(io::ErrorKind::ConnectionReset),
            Some("connection reset")
        );
        assert_eq!(io_reason(io::ErrorKind::Other), None);
        let wrapped = io::Error::new(io::ErrorKind::ConnectionRefused, "os error 111");
        assert_eq!(known_cause(&wrapped, true), Some("connection refused"));
        let tls = io::Error::new(io::ErrorKind::InvalidData, "invalid peer certificate");
        assert_eq!(known_cause(&tls, true), Some("TLS handshake failed"));
        assert_eq!(known_cause(&tls, false), None);
    }
}
