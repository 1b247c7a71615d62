//! When a failed attempt is sent again.
//!
//! `POST /v1/calls` places a phone call and is not idempotent: if the server
//! may have processed the request, sending it again may dial twice. What an
//! attempt proves is decided in one place, [`crate::fate`]; this policy only
//! acts on its [`Resend`] advice:
//!
//! | advice ([`crate::fate`] decides which)                            | idempotent method | POST, PATCH |
//! |-------------------------------------------------------------------|-------------------|-------------|
//! | `Safe`: connecting failed, nothing was sent                        | retry             | retry       |
//! | `Throttled`: `429 Too Many Requests`                               | retry             | retry       |
//! | `IfIdempotent`: timeout, connection lost after sending, `408`, `5xx` | retry           | only if opted in |
//! | `Pointless`: any other answer (a `2xx` too)                        | no                | no          |
//!
//! | `NotWithThisKey`: `401`, `403`                                     | no                | no          |
//!
//! Retries wait with exponential backoff and full jitter
//! (`initial_backoff * 2^n`, at most `max_backoff`). A `Retry-After` header
//! (seconds, or an HTTP date in any of the three forms of RFC 9110) replaces
//! the backoff: nothing is sent again before the time the server asked
//! for. When that is longer than `max_retry_after`, the client gives up at
//! once instead of waiting (or, worse, sending early): the error carries the
//! wait ([`Error::retry_after`](crate::Error::retry_after)) and says when
//! to try again. At most `max_retries` retries follow the first attempt.

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, SystemTime};

use crate::fate::Resend;

/// The retry policy of a [`Client`](crate::Client); see the [module docs](self).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (0 disables retrying).
    pub max_retries: u32,
    /// Backoff before the first retry; doubles each time.
    pub initial_backoff: Duration,
    /// Upper bound of the exponential backoff.
    pub max_backoff: Duration,
    /// The longest `Retry-After` worth waiting for; a longer one ends the
    /// retries at once (the request is not sent again early).
    pub max_retry_after: Duration,
    /// Also retry timeouts, lost connections and `5xx` for non-idempotent
    /// operations (`create_call`). Off by default: it can place a call twice.
    pub retry_non_idempotent: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 2,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
            max_retry_after: Duration::from_secs(30),
            retry_non_idempotent: false,
        }
    }
}

/// One attempt, as the policy judges it: what a dialler of your own (or
/// `sigmamind-dialler`) hands [`RetryPolicy::next_delay`] after a failed
/// request, to wait and resend exactly as the client itself would.
///
/// ```
/// use sigmamind::retry::{Attempt, RetryPolicy};
/// # fn judge(error: &sigmamind::Error) {
/// let policy = RetryPolicy::default();
/// // `POST /v1/calls` is not idempotent: only a request the server did not
/// // take in (a `429`, a refused connection) is sent again.
/// let attempt = Attempt::after(1, error, false);
/// match policy.next_delay(&attempt, sigmamind::retry::jitter()) {
///     Some(wait) => println!("send it again in {wait:?}"),
///     None => println!("done: {:?}", error.fate()),
/// }
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Attempt {
    /// 1 for the first attempt.
    pub number: u32,
    /// The classifier's advice on sending it again.
    pub resend: Resend,
    /// Whether the operation's method is idempotent (safe to send twice).
    pub idempotent: bool,
    /// The server's `Retry-After`, if it sent one.
    pub retry_after: Option<Duration>,
    /// The status that answered it (`None`: no answer, such as a refused
    /// connection).
    pub status: Option<u16>,
}

/// How a client waits before it sends a request again. By default it
/// sleeps for the policy's delay; a dialler whose workers share one pause
/// (a `429` holds every request back, not only the refused one) gives its
/// client a wait of its own ([`Client::with_retry_wait`](crate::Client::with_retry_wait)),
/// so that the client's one retry loop serves it too.
pub trait RetryWait: Send + Sync {
    /// `attempt` failed, and the policy would send the request again after
    /// `delay` (never less than the server's `Retry-After`): wait at least
    /// that long, and say whether to send it again. `false` gives up: the
    /// attempt's error is returned.
    fn wait<'a>(
        &'a self,
        attempt: &'a Attempt,
        delay: Duration,
    ) -> Pin<Box<dyn Future<Output = bool> + Send + 'a>>;
}

impl Attempt {
    /// Attempt number `number` (1 for the first) of a request that failed
    /// with `error`: the classifier's advice and the server's `Retry-After`
    /// are the error's. `idempotent`: whether the operation is safe to send
    /// twice (`POST /v1/calls` is not).
    pub fn after(number: u32, error: &crate::Error, idempotent: bool) -> Self {
        Self {
            number,
            resend: error.verdict().resend,
            idempotent,
            retry_after: error.retry_after(),
            status: error.status().map(|s| s.as_u16()),
        }
    }
}

impl RetryPolicy {
    /// Whether this policy would send the request again after `attempt`,
    /// attempts permitting.
    pub fn is_retryable(&self, attempt: &Attempt) -> bool {
        match attempt.resend {
            Resend::Safe | Resend::Throttled => true,
            Resend::IfIdempotent => attempt.idempotent || self.retry_non_idempotent,
            _ => false,
        }
    }

    /// The wait before sending again after `attempt` (the retry is number
    /// `attempt.number`), or `None` to stop. `jitter` is in `[0, 1)`.
    pub fn next_delay(&self, attempt: &Attempt, jitter: f64) -> Option<Duration> {
        let retry = attempt.number;
        if retry > self.max_retries || !self.is_retryable(attempt) {
            return None;
        }
        if let Some(wait) = attempt.retry_after {
            // Never sooner than asked; longer than we wait: give up now.
            return (wait <= self.max_retry_after).then_some(wait);
        }
        let exp = self
            .initial_backoff
            .saturating_mul(1u32.checked_shl(retry - 1).unwrap_or(u32::MAX))
            .min(self.max_backoff);
        Some(exp.mul_f64(jitter.clamp(0.0, 1.0)))
    }
}

/// Parses `Retry-After` (RFC 9110 section 10.2.3): delay seconds, or an
/// HTTP date (IMF-fixdate, RFC 850 or asctime form, with `httpdate`, the
/// parser hyper uses). Seconds too many to count are "longer than anyone
/// waits" (`Duration::MAX`), not unreadable; a date past is no wait.
/// Anything else (`soon`, `-5`, `1.5`) is no `Retry-After` at all.
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return Some(value.parse::<u64>().map_or(Duration::MAX, Duration::from_secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// A uniform number in `[0, 1)` from the standard library's random hasher
/// keys: enough to spread retries, no extra dependency. The `jitter` the
/// client passes to [`RetryPolicy::next_delay`].
pub fn jitter() -> f64 {
    use std::hash::BuildHasher;
    let bits = std::collections::hash_map::RandomState::new().hash_one(0u8);
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fate::{classify, Exchange};

    fn answered(code: u16) -> Resend {
        classify(Exchange::Answered(http::StatusCode::from_u16(code).unwrap())).resend
    }

    fn attempt(resend: Resend, idempotent: bool, number: u32, retry_after: Option<Duration>) -> Attempt {
        Attempt {
            number,
            resend,
            idempotent,
            retry_after,
            status: None,
        }
    }

    #[test]
    fn post_is_not_retried_when_it_may_have_been_processed() {
        let p = RetryPolicy::default();
        for resend in [
            classify(Exchange::NoCompleteAnswer).resend,
            answered(500),
            answered(503),
            answered(408),
        ] {
            assert_eq!(
                p.next_delay(&attempt(resend, false, 1, None), 0.5),
                None,
                "{resend:?}"
            );
            assert!(
                p.next_delay(&attempt(resend, true, 1, None), 0.5).is_some(),
                "{resend:?} idempotent"
            );
        }
        let opted_in = RetryPolicy {
            retry_non_idempotent: true,
            ..p.clone()
        };
        assert!(opted_in
            .next_delay(&attempt(answered(500), false, 1, None), 0.5)
            .is_some());
    }

    #[test]
    fn safe_outcomes_are_retried_until_the_limit() {
        let p = RetryPolicy {
            max_retries: 2,
            ..Default::default()
        };
        let not_sent = classify(Exchange::ConnectFailed).resend;
        assert!(p.next_delay(&attempt(not_sent, false, 1, None), 1.0).is_some());
        assert!(p
            .next_delay(&attempt(answered(429), false, 2, None), 1.0)
            .is_some());
        assert_eq!(p.next_delay(&attempt(answered(429), false, 3, None), 1.0), None);
        for pointless in [400, 422, 201, 307, 409] {
            assert_eq!(
                p.next_delay(&attempt(answered(pointless), true, 1, None), 1.0),
                None,
                "{pointless}"
            );
        }
    }

    #[test]
    fn backoff_doubles_is_capped_and_jittered() {
        let p = RetryPolicy {
            max_retries: 100,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(350),
            ..Default::default()
        };
        let d = |n, j| p.next_delay(&attempt(Resend::Safe, false, n, None), j).unwrap();
        assert_eq!(d(1, 1.0), Duration::from_millis(100));
        assert_eq!(d(2, 1.0), Duration::from_millis(200));
        assert_eq!(d(3, 1.0), Duration::from_millis(350));
        assert_eq!(d(40, 1.0), Duration::from_millis(350));
        assert_eq!(d(2, 0.5), Duration::from_millis(100));
    }

    #[test]
    fn retry_after_wins_and_a_longer_one_than_we_wait_ends_the_retries() {
        let p = RetryPolicy {
            max_retry_after: Duration::from_secs(10),
            ..Default::default()
        };
        let after = |wait| p.next_delay(&attempt(Resend::Throttled, false, 1, Some(wait)), 0.0);
        assert_eq!(after(Duration::from_secs(3)), Some(Duration::from_secs(3)));
        assert_eq!(after(Duration::from_secs(10)), Some(Duration::from_secs(10)));
        // Never sent early: not waited for at all.
        assert_eq!(after(Duration::from_secs(11)), None);
        assert_eq!(after(Duration::from_secs(86_400)), None);
        assert_eq!(after(Duration::MAX), None);
    }

    #[test]
    fn a_rejected_key_is_never_retried() {
        let p = RetryPolicy::default();
        for code in [401, 403] {
            assert_eq!(
                p.next_delay(&attempt(answered(code), true, 1, None), 1.0),
                None,
                "{code}"
            );
        }
    }

    #[test]
    fn retry_after_parses_seconds_and_http_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480); // Wed, 21 Oct 2015 07:28:00 GMT
        assert_eq!(parse_retry_after("120", now), Some(Duration::from_secs(120)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        // RFC 850 and asctime, which RFC 9110 says a recipient must read.
        assert_eq!(
            parse_retry_after("Wednesday, 21-Oct-15 07:28:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Wed Oct 21 07:28:30 2015", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(parse_retry_after(" 7 ", now), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("99999999999999999999999", now),
            Some(Duration::MAX)
        );
        for unreadable in [
            "soon",
            "-5",
            "1.5",
            "",
            "+3",
            "0x10",
            "Wed, 99 Oct 2015 07:28:30 GMT",
        ] {
            assert_eq!(parse_retry_after(unreadable, now), None, "{unreadable:?}");
        }
    }

    #[test]
    fn jitter_is_in_range() {
        for _ in 0..100 {
            let j = jitter();
            assert!((0.0..1.0).contains(&j));
        }
    }
}
