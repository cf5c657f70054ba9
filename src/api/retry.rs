//! [`RetryPolicy`]: when and how long to wait before repeating a failed call.
//!
//! The client's only retry logic lives here (reqwest's own retries are off).
//! It decides from the [`ApiError`] alone; it must not know which request is
//! being repeated (the client decides which requests are safe to repeat) and
//! never logs bodies, headers or server sentences.

use std::future::Future;
use std::time::Duration;

use rand::RngExt;

use super::ApiError;

/// How many times to try a call and how long to wait in between.
///
/// `429` waits for the server's `Retry-After` (capped at `max_retry_after`);
/// `5xx`, time-outs and network failures back off exponentially with "equal
/// jitter": half of `min(max_delay, base_delay · 2^(n-1))` plus a random share
/// of the other half, where `n` counts failed attempts.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Total attempts, the first one included (`1` means never retry).
    pub max_attempts: u32,
    /// Back-off ceiling after the first failure.
    pub base_delay: Duration,
    /// Largest back-off ceiling.
    pub max_delay: Duration,
    /// Longest `Retry-After` honoured; longer requests are shortened to this.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    /// 5 attempts, 250 ms base, 8 s cap, `Retry-After` honoured up to 60 s.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// A policy that tries once and never retries.
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }

    /// How long to wait after attempt number `attempt` (counting from 1)
    /// failed with `err`, or `None` to give up: the error is not retryable
    /// or no attempts are left.
    pub fn delay_for(&self, attempt: u32, err: &ApiError) -> Option<Duration> {
        if !err.is_retryable() || attempt >= self.max_attempts {
            return None;
        }
        Some(match err.retry_after() {
            Some(asked) => asked.min(self.max_retry_after),
            None => with_equal_jitter(self.backoff_ceiling(attempt)),
        })
    }

    /// `min(max_delay, base_delay · 2^(attempt-1))`, without overflow.
    fn backoff_ceiling(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        self.base_delay.saturating_mul(factor).min(self.max_delay)
    }

    /// Calls `op` until it succeeds, fails for good, or attempts run out,
    /// sleeping between attempts as [`RetryPolicy::delay_for`] says. Returns
    /// the last result.
    pub async fn run<T, F, Fut>(&self, mut op: F) -> Result<T, ApiError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, ApiError>>,
    {
        let mut attempt = 1;
        loop {
            let err = match op().await {
                Ok(value) => return Ok(value),
                Err(err) => err,
            };
            let Some(delay) = self.delay_for(attempt, &err) else {
                return Err(err);
            };
            tracing::debug!(
                attempt,
                status = err.status(),
                kind = err.label(),
                delay_ms = delay.as_millis(),
                "retrying API call"
            );
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }
}

/// Half of `ceiling`, plus a uniformly random amount up to the other half.
fn with_equal_jitter(ceiling: Duration) -> Duration {
    let half = ceiling / 2;
    half + rand::rng().random_range(Duration::ZERO..=half)
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    fn server_error() -> ApiError {
        ApiError::api(503, "server_error", "busy", None)
    }

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(2),
            max_retry_after: Duration::from_secs(30),
        }
    }

    fn fast(max_attempts: u32) -> RetryPolicy {
        RetryPolicy {
            max_attempts,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(2),
            max_retry_after: Duration::from_millis(5),
        }
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = policy();
        let ceilings: Vec<Duration> = (1..=7).map(|n| p.backoff_ceiling(n)).collect();
        let expected = [100, 200, 400, 800, 1600, 2000, 2000].map(Duration::from_millis);
        assert_eq!(ceilings, expected);
        assert_eq!(p.backoff_ceiling(u32::MAX), p.max_delay);
    }

    #[test]
    fn jitter_stays_between_half_and_the_ceiling_and_varies() {
        let p = policy();
        for attempt in 1..=9 {
            let ceiling = p.backoff_ceiling(attempt);
            let delays: Vec<Duration> = (0..50)
                .map(|_| p.delay_for(attempt, &server_error()).expect("retried"))
                .collect();
            assert!(
                delays.iter().all(|d| *d >= ceiling / 2 && *d <= ceiling),
                "attempt {attempt}: {delays:?}"
            );
            assert!(delays.iter().any(|d| *d != delays[0]), "no jitter");
        }
    }

    #[test]
    fn rate_limit_waits_for_retry_after_capped() {
        let p = policy();
        let asked = ApiError::rate_limited(Duration::from_secs(7), "slow down");
        assert_eq!(p.delay_for(1, &asked), Some(Duration::from_secs(7)));
        let greedy = ApiError::rate_limited(Duration::from_secs(3600), "slow down");
        assert_eq!(p.delay_for(1, &greedy), Some(p.max_retry_after));
    }

    #[test]
    fn client_errors_and_decode_errors_are_not_retried() {
        let p = policy();
        for err in [
            ApiError::api(400, "invalid_request", "bad cursor", None),
            ApiError::api(401, "unauthorized", "bad key", None),
            ApiError::api(422, "validation_failed", "bad", Some("name")),
            ApiError::decode("expected value"),
            ApiError::config("bad url"),
        ] {
            assert_eq!(p.delay_for(1, &err), None, "{err}");
        }
        assert!(p.delay_for(1, &ApiError::Timeout).is_some());
    }

    #[test]
    fn attempts_are_bounded() {
        let p = RetryPolicy {
            max_attempts: 3,
            ..policy()
        };
        assert!(p.delay_for(2, &server_error()).is_some());
        assert_eq!(p.delay_for(3, &server_error()), None);
        assert_eq!(RetryPolicy::none().delay_for(1, &server_error()), None);
    }

    #[tokio::test]
    async fn run_retries_until_success() {
        let calls = Cell::new(0);
        let result = fast(5)
            .run(|| async {
                calls.set(calls.get() + 1);
                if calls.get() < 3 {
                    Err(ApiError::Timeout)
                } else {
                    Ok("done")
                }
            })
            .await;
        assert_eq!(result.expect("succeeds"), "done");
        assert_eq!(calls.get(), 3);
    }

    #[tokio::test]
    async fn run_stops_after_max_attempts_with_the_last_error() {
        let calls = Cell::new(0);
        let result: Result<(), _> = fast(4)
            .run(|| async {
                calls.set(calls.get() + 1);
                Err(server_error())
            })
            .await;
        assert_eq!(result.expect_err("fails").status(), Some(503));
        assert_eq!(calls.get(), 4);
    }

    #[tokio::test]
    async fn run_does_not_repeat_a_final_error() {
        let calls = Cell::new(0);
        let result: Result<(), _> = fast(5)
            .run(|| async {
                calls.set(calls.get() + 1);
                Err(ApiError::api(404, "not_found", "no such customer", None))
            })
            .await;
        assert_eq!(result.expect_err("fails").status(), Some(404));
        assert_eq!(calls.get(), 1);
    }
}
