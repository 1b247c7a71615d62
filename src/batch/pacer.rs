//! When the next request of a batch may go out: the calls-per-second limit,
//! and the pause every worker observes after a `429`.

use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// A calls-per-time limit: `10/s`, `300/min`, `5000/h`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    calls: u32,
    per: Duration,
}

impl Rate {
    /// At most `calls` every `per`, spread evenly.
    ///
    /// # Panics
    /// If `calls` is 0 or `per` is zero.
    pub fn new(calls: u32, per: Duration) -> Self {
        assert!(
            calls > 0 && !per.is_zero(),
            "a rate needs calls > 0 per a non-zero time"
        );
        Self { calls, per }
    }

    /// The time between two requests.
    pub fn interval(&self) -> Duration {
        self.per / self.calls
    }
}

impl FromStr for Rate {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let bad = || format!("`{text}` is not a rate like 10/s, 300/min or 5000/h");
        let (calls, unit) = text.trim().split_once('/').ok_or_else(bad)?;
        let calls: u32 = calls.trim().parse().map_err(|_| bad())?;
        let per = match unit.trim() {
            "s" | "sec" | "second" => Duration::from_secs(1),
            "m" | "min" | "minute" => Duration::from_secs(60),
            "h" | "hour" => Duration::from_secs(3600),
            _ => return Err(bad()),
        };
        if calls == 0 {
            return Err(format!("`{text}`: the rate must allow at least one call"));
        }
        Ok(Self::new(calls, per))
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = match self.per.as_secs() {
            1 => "s".to_owned(),
            60 => "min".to_owned(),
            3600 => "h".to_owned(),
            _ => format!("{:?}", self.per),
        };
        write!(f, "{}/{unit}", self.calls)
    }
}

/// Shared by every worker of a run. A worker calls [`Pacer::wait`] before
/// each request; a `429` (or a failed connection) calls [`Pacer::pause`],
/// and then every worker waits, not only the one that was refused.
pub(crate) struct Pacer {
    interval: Duration,
    state: Mutex<PacerState>,
}

struct PacerState {
    /// The earliest time the next request may go (the rate limit).
    next_slot: Instant,
    /// No request before this (the server asked everyone to wait).
    paused_until: Instant,
}

impl Pacer {
    pub(crate) fn new(rate: Option<Rate>) -> Self {
        let now = Instant::now();
        Self {
            interval: rate.map_or(Duration::ZERO, |r| r.interval()),
            state: Mutex::new(PacerState {
                next_slot: now,
                paused_until: now,
            }),
        }
    }

    /// Waits for this worker's turn: a free rate slot outside any pause.
    pub(crate) async fn wait(&self) {
        loop {
            let slot = {
                let mut state = self.state.lock().expect("pacer lock");
                let slot = Instant::now().max(state.next_slot).max(state.paused_until);
                state.next_slot = slot + self.interval;
                slot
            };
            tokio::time::sleep_until(slot).await;
            // A pause may have begun while this worker slept.
            if self.state.lock().expect("pacer lock").paused_until <= Instant::now() {
                return;
            }
        }
    }

    /// Holds every worker back for `wait` from now (a longer pause already
    /// in force stays).
    pub(crate) fn pause(&self, wait: Duration) {
        let mut state = self.state.lock().expect("pacer lock");
        state.paused_until = state.paused_until.max(Instant::now() + wait);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse_and_print() {
        let rate: Rate = "10/s".parse().unwrap();
        assert_eq!(rate.interval(), Duration::from_millis(100));
        assert_eq!(rate.to_string(), "10/s");
        assert_eq!(
            "120/min".parse::<Rate>().unwrap().interval(),
            Duration::from_millis(500)
        );
        assert_eq!(
            "3600/h".parse::<Rate>().unwrap().interval(),
            Duration::from_secs(1)
        );
        for bad in ["10", "ten/s", "10/fortnight", "0/s", "-1/s"] {
            assert!(bad.parse::<Rate>().is_err(), "{bad}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn requests_are_spaced_by_the_rate() {
        let pacer = Pacer::new(Some("4/s".parse().unwrap()));
        let start = Instant::now();
        for _ in 0..5 {
            pacer.wait().await;
        }
        assert_eq!(start.elapsed(), Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_holds_every_worker() {
        let pacer = std::sync::Arc::new(Pacer::new(None));
        let start = Instant::now();
        pacer.wait().await;
        assert_eq!(start.elapsed(), Duration::ZERO);
        pacer.pause(Duration::from_secs(2));
        pacer.pause(Duration::from_secs(1)); // a shorter one does not shorten it
        let workers: Vec<_> = (0..3)
            .map(|_| {
                let pacer = pacer.clone();
                tokio::spawn(async move {
                    pacer.wait().await;
                    Instant::now()
                })
            })
            .collect();
        for worker in workers {
            assert_eq!(worker.await.unwrap() - start, Duration::from_secs(2));
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_that_begins_during_a_wait_is_observed() {
        let pacer = std::sync::Arc::new(Pacer::new(Some("1/s".parse().unwrap())));
        let start = Instant::now();
        pacer.wait().await; // slot 0; the next slot is at 1 s
        let waiting = {
            let pacer = pacer.clone();
            tokio::spawn(async move {
                pacer.wait().await;
                Instant::now()
            })
        };
        tokio::time::sleep(Duration::from_millis(500)).await;
        pacer.pause(Duration::from_secs(3)); // until 3.5 s
        assert_eq!(waiting.await.unwrap() - start, Duration::from_millis(3500));
    }
}
