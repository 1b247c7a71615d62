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
///
/// Workers take turns (a fair queue): the one whose turn it is waits for
/// the rate and any pause, and the next turn is counted from the moment it
/// actually went, not from the moment it was due. A worker woken late
/// therefore delays the next one instead of going right before it, so
/// that no stretch of time ever sees more requests than the rate allows,
/// however loaded the machine.
pub(crate) struct Pacer {
    interval: Duration,
    /// The earliest time the next request may go (the rate limit); held
    /// by the worker whose turn it is.
    next_turn: tokio::sync::Mutex<Instant>,
    /// No request before this (the server asked everyone to wait).
    paused_until: Mutex<Instant>,
}

impl Pacer {
    pub(crate) fn new(rate: Option<Rate>) -> Self {
        let now = Instant::now();
        Self {
            interval: rate.map_or(Duration::ZERO, |r| r.interval()),
            next_turn: tokio::sync::Mutex::new(now),
            paused_until: Mutex::new(now),
        }
    }

    /// Waits for this worker's turn: the rate's interval after the last
    /// request went, outside any pause. Cancelling the wait gives the turn
    /// up.
    pub(crate) async fn wait(&self) {
        let mut next_turn = self.next_turn.lock().await;
        loop {
            // A pause may begin while this worker sleeps: look again.
            let ready = (*next_turn).max(*self.paused_until.lock().expect("pacer lock"));
            if ready <= Instant::now() {
                break;
            }
            tokio::time::sleep_until(ready).await;
        }
        *next_turn = Instant::now() + self.interval;
    }

    /// Holds every worker back for `wait` from now (a longer pause already
    /// in force stays).
    pub(crate) fn pause(&self, wait: Duration) {
        let mut paused_until = self.paused_until.lock().expect("pacer lock");
        *paused_until = (*paused_until).max(Instant::now() + wait);
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

    #[tokio::test(start_paused = true)]
    async fn a_worker_woken_late_pushes_the_next_turn_back() {
        let pacer = std::sync::Arc::new(Pacer::new(Some("4/s".parse().unwrap())));
        let start = Instant::now();
        pacer.wait().await; // at 0; the next is due at 250 ms
        let went: std::sync::Arc<Mutex<Vec<Duration>>> = std::sync::Arc::default();
        let mut workers = Vec::new();
        for _ in 0..2 {
            let (pacer, went) = (pacer.clone(), went.clone());
            workers.push(tokio::spawn(async move {
                pacer.wait().await;
                went.lock().unwrap().push(start.elapsed());
            }));
            tokio::task::yield_now().await;
        }
        // The machine stalls: the first waiter runs at 400 ms, not 250.
        tokio::time::advance(Duration::from_millis(400)).await;
        for worker in workers {
            worker.await.unwrap();
        }
        let went = went.lock().unwrap().clone();
        // The second goes 250 ms after the first actually went, not at its
        // own due time (500 ms, only 100 ms after the first).
        assert_eq!(went, [Duration::from_millis(400), Duration::from_millis(650)]);
    }

    #[tokio::test(start_paused = true)]
    async fn workers_take_turns_in_order_and_a_cancelled_wait_gives_its_turn_up() {
        let pacer = std::sync::Arc::new(Pacer::new(Some("10/s".parse().unwrap())));
        let start = Instant::now();
        let went: std::sync::Arc<Mutex<Vec<(usize, Duration)>>> = std::sync::Arc::default();
        let mut workers = Vec::new();
        for worker in 0..5 {
            let (pacer, went) = (pacer.clone(), went.clone());
            workers.push(tokio::spawn(async move {
                pacer.wait().await;
                went.lock().unwrap().push((worker, start.elapsed()));
            }));
            tokio::task::yield_now().await; // queue in this order
        }
        // The third gives up before its turn: the fourth goes in its place.
        workers[2].abort();
        for worker in workers {
            let _ = worker.await;
        }
        let went = went.lock().unwrap().clone();
        let ms = |ms| Duration::from_millis(ms);
        assert_eq!(went, [(0, ms(0)), (1, ms(100)), (3, ms(200)), (4, ms(300))]);
    }
}
