//! Dialling a contact list through the SDK `sigmamind`: every row checked before
//! anything is sent, calls placed concurrently under a rate limit, and a
//! journal that makes a rerun safe: **no row is ever dialled twice**.
//!
//! `POST /v1/calls` has no idempotency key, so a request that was sent and
//! not answered (a timeout, a lost connection, a `5xx`, a killed process)
//! may have placed its call. Such a row is *unknown*: it is reported, and a
//! rerun does not dial it again unless told to ([`Options::retry_unknown`]).
//!
//! ```no_run
//! use sigmamind_dialler::{Batch, Contact, Journal, Options};
//! use sigmamind::ClientInfo; // baseurl()
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = sigmamind::Client::from_env()?;
//! let contacts = vec![
//!     Contact::new("+14155550101").variable("customer_name", "Michael"),
//!     Contact::new("+1234").variable("customer_name", "Ann"),
//! ];
//! let batch = Batch::new("+14155552671")?
//!     .agent("D5D0p7TUs66TTAEAx")?
//!     .require(["customer_name"]);
//! // Every row checked first; nothing is sent.
//! let checked = batch.check(contacts.iter().cloned().map(Ok), |error| {
//!     eprintln!("{error}"); // Row 2: invalid phone number '+1234'
//! })?;
//! let journal = Journal::open("outreach.journal.jsonl", &batch, client.baseurl())?;
//! let options = Options::default().concurrency(5);
//! let report = sigmamind_dialler::run(&client, &batch, contacts.into_iter().map(Ok), &journal, &options, |row| {
//!     println!("{} {} {}", row.row, row.phone, row.outcome.name());
//! })
//! .await;
//! println!("{} of {} rows checked, {:?}", checked.valid, checked.rows, report.counts());
//! # Ok(()) }
//! ```
//!
//! # What a run does
//! The rows come as a stream, in list order (a CSV is read as it goes, see
//! [`read_contacts`]), and results go out as rows finish: memory is bounded
//! by what is in flight, whatever the list's length. [`Batch::check`] checks
//! the whole list first (and sends nothing); the run checks each row again,
//! by the same rules, as it reads it.
//! 1. Rows with problems are recorded as `invalid`.
//! 2. Rows the journal has as placed are skipped; unknown ones too, unless
//!    [`Options::retry_unknown`]; rows another dialer holds (a shared
//!    PostgreSQL journal) too.
//! 3. Up to [`Options::concurrency`] workers take the other rows in order.
//!    For each: wait for the [`Rate`] and any pause, claim it durably in the
//!    journal, send, record the outcome.
//! 4. A request the server provably did not take in (`429`, connection
//!    refused) is sent again, as the client's [retry policy](sigmamind::retry)
//!    allows with `retry_non_idempotent` off, up to
//!    [`Options::max_retries`] times, by the client's own retry loop. The
//!    wait (the server's `Retry-After`, or backoff) is the run's
//!    ([`RetryWait`](sigmamind::retry::RetryWait)): it pauses *every*
//!    worker, so they slow down together. Nothing is sent before the time
//!    the server asked for.
//! 5. The run stops sending, and leaves the rows not sent for a rerun, when
//!    the server rejects the key (`401`, `403`: every other row would be
//!    refused the same way), when it asks for a wait longer than the
//!    policy's `max_retry_after` (the report says until when), when it is
//!    cancelled ([`Cancel`]), or when the journal cannot record.
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod hours;
mod journal;
mod numbers;
mod pacer;
mod plan;
mod run;
mod suppress;
mod table;
mod zones;

pub use chrono_tz::Tz;
pub use hours::{parse_days, CallingHours, Clock, SystemClock};
pub use journal::{FileRecovered, Journal, Recovered};
pub use pacer::Rate;
pub use plan::{Batch, Checked, Contact, PlannedCall, RowError, RowProblem};
pub use run::{run, run_waiting};
pub use suppress::{ListRead, Suppression};
pub use table::{read_contacts, Contacts, ResultsWriter};
pub use zones::{zones_of, LIBPHONENUMBER_RELEASE};

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// How a row ended, in the classifier's words ([`sigmamind::fate`]): one name
/// per idea, the same in the summary, the results file and the journal's
/// reader.
///
/// | outcome | fate | what it means | next run |
/// |---|---|---|---|
/// | `placed` | `Processed` | the API answered with a call (any `2xx`) | skipped |
/// | `refused` | `Refused` | the server refused it (`4xx` it lists as refusals, `429` that never let up): no call | dialled |
/// | `invalid` | `NotSent` | the row failed the checks: never sent | refused again until fixed |
/// | `not_sent` | `NotSent` | never sent: the run stopped first, or it could not connect | dialled |
/// | `unknown` | `Unknown` | sent, and nothing says whether a call exists | not dialled unless `retry_unknown` |
/// | `elsewhere` | | another dialer sharing the journal holds it | not this run's |
/// | `suppressed` | `NotSent` | its number is on a suppression list: never sent | suppressed while on the list |
/// | `deferred` | `NotSent` | outside the callee's calling hours when its turn came: never sent | dialled |
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case", rename_all_fields = "camelCase")]
#[non_exhaustive]
pub enum Outcome {
    /// The API answered with a call.
    Placed {
        /// The call's id (the API may omit it).
        call_id: Option<String>,
    },
    /// The server refused it ([`Fate::Refused`](sigmamind::fate::Fate::Refused)):
    /// no call was placed. Tried again by a rerun.
    Refused {
        /// The HTTP status.
        status: Option<u16>,
        /// The error.
        error: String,
    },
    /// The row failed the checks (a bad number, a missing variable): it was
    /// never sent. A rerun refuses it again until the list is fixed.
    Invalid {
        /// The problems, in the vendor's words.
        error: String,
    },
    /// Never sent ([`Fate::NotSent`](sigmamind::fate::Fate::NotSent)): the run
    /// stopped before it (cancelled, a rejected key, a long `Retry-After`,
    /// a journal that stopped), or no connection could be made. No call
    /// was placed; a rerun dials it.
    NotSent {
        /// Why.
        error: String,
    },
    /// Sent, and nothing says whether the call was placed. Not dialled again
    /// unless a run says [`Options::retry_unknown`].
    Unknown {
        /// Why it is unknown.
        error: String,
    },
    /// Another dialer sharing the journal held it when this run looked
    /// (placing it, or stopped while placing it): not dialled by this run.
    Elsewhere {
        /// The dialer (`host:pid:key`).
        dialer: String,
    },
    /// Its number is on a suppression list ([`Batch::suppress`]): never
    /// sent.
    Suppressed {
        /// The list's name.
        list: String,
    },
    /// Outside the callee's [calling hours](Batch::calling_hours) when its
    /// turn came: never sent, never refused. A later run dials it (or
    /// [`run_waiting`] when its hours open).
    Deferred {
        /// Why, with the zones and the window.
        error: String,
        /// When its hours next open (`None`: not within eight days, its
        /// zones never share the window).
        opens: Option<chrono::DateTime<chrono::Utc>>,
    },
}

impl Outcome {
    /// `placed`, `refused`, `invalid`, `not_sent`, `unknown` or `elsewhere`.
    pub fn name(&self) -> &'static str {
        match self {
            Outcome::Placed { .. } => "placed",
            Outcome::Refused { .. } => "refused",
            Outcome::Invalid { .. } => "invalid",
            Outcome::NotSent { .. } => "not_sent",
            Outcome::Unknown { .. } => "unknown",
            Outcome::Elsewhere { .. } => "elsewhere",
            Outcome::Deferred { .. } => "deferred",
            Outcome::Suppressed { .. } => "suppressed",
        }
    }

    /// The call id, for placed rows.
    pub fn call_id(&self) -> Option<&str> {
        match self {
            Outcome::Placed { call_id } => call_id.as_deref(),
            _ => None,
        }
    }

    /// The error, for rows not placed.
    pub fn error(&self) -> Option<&str> {
        match self {
            Outcome::Placed { .. } | Outcome::Elsewhere { .. } | Outcome::Suppressed { .. } => None,
            Outcome::Refused { error, .. }
            | Outcome::Invalid { error }
            | Outcome::NotSent { error }
            | Outcome::Unknown { error }
            | Outcome::Deferred { error, .. } => Some(error),
        }
    }
}

/// One row's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RowResult {
    /// The row number, from 1.
    pub row: usize,
    /// The destination number (+E.164 when the row's number was valid).
    pub phone: String,
    /// The number as the list gave it, when it differs from `phone` (a
    /// [region](Batch::region)'s national form, say).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub given_phone: Option<String>,
    /// How it ended.
    #[serde(flatten)]
    pub outcome: Outcome,
    /// Requests sent for it in this run (0: skipped, invalid or not sent).
    pub attempts: u32,
    /// The outcome comes from an earlier run's journal; nothing was sent now.
    pub earlier_run: bool,
    /// Why the journal does not hold this outcome, if it could not record
    /// it (a database that did not come back within
    /// [`Options::journal_outage`]): the outcome is known only from here,
    /// and a person must reconcile the journal with it before a run that
    /// retries unknown outcomes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub journal_error: Option<String>,
}

/// The result of a run (each row's result went to the run's callback).
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Report {
    pub(crate) counts: Counts,
    /// `429` answers received (each paused every worker).
    pub rate_limited: u32,
    /// When the calling hours of the earliest deferred row open, if a row
    /// was deferred.
    pub next_window: Option<chrono::DateTime<chrono::Utc>>,
    /// Why the run stopped before trying every row (cancelled, a rejected
    /// key, a `Retry-After` longer than the run waits, a journal that could
    /// not record), if it did; rows not tried are `not_sent`, with this reason.
    pub stopped: Option<String>,
    /// Rows whose outcome the journal could not record
    /// ([`RowResult::journal_error`]): known only from the results.
    pub unrecorded: usize,
    /// How long the run took.
    pub elapsed: Duration,
}

/// Rows per outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Counts {
    /// Placed in this run.
    pub placed: usize,
    /// Placed by an earlier run or another dialer (skipped).
    pub placed_earlier: usize,
    /// The server refused them: not placed.
    pub refused: usize,
    /// Failed the checks: never sent.
    pub invalid: usize,
    /// Never sent: the run stopped first, or could not connect.
    pub not_sent: usize,
    /// May or may not have been placed.
    pub unknown: usize,
    /// Held by another dialer when this run looked.
    pub elsewhere: usize,
    /// Outside their calling hours: never sent, left for a later run.
    pub deferred: usize,
    /// On a suppression list: never sent.
    pub suppressed: usize,
}

impl Counts {
    pub(crate) fn add(&mut self, row: &RowResult) {
        match (&row.outcome, row.earlier_run) {
            (Outcome::Placed { .. }, false) => self.placed += 1,
            (Outcome::Placed { .. }, true) => self.placed_earlier += 1,
            (Outcome::Refused { .. }, _) => self.refused += 1,
            (Outcome::Invalid { .. }, _) => self.invalid += 1,
            (Outcome::NotSent { .. }, _) => self.not_sent += 1,
            (Outcome::Unknown { .. }, _) => self.unknown += 1,
            (Outcome::Elsewhere { .. }, _) => self.elsewhere += 1,
            (Outcome::Deferred { .. }, _) => self.deferred += 1,
            (Outcome::Suppressed { .. }, _) => self.suppressed += 1,
        }
    }

    /// Both counts together.
    pub(crate) fn plus(&self, other: &Counts) -> Counts {
        Counts {
            placed: self.placed + other.placed,
            placed_earlier: self.placed_earlier + other.placed_earlier,
            refused: self.refused + other.refused,
            invalid: self.invalid + other.invalid,
            not_sent: self.not_sent + other.not_sent,
            unknown: self.unknown + other.unknown,
            elsewhere: self.elsewhere + other.elsewhere,
            deferred: self.deferred + other.deferred,
            suppressed: self.suppressed + other.suppressed,
        }
    }

    /// Rows in all.
    pub fn total(&self) -> usize {
        self.placed
            + self.placed_earlier
            + self.refused
            + self.invalid
            + self.not_sent
            + self.unknown
            + self.elsewhere
            + self.deferred
            + self.suppressed
    }
}

impl Report {
    /// Rows per outcome.
    pub fn counts(&self) -> Counts {
        self.counts
    }

    /// Whether every row ended placed (in this run, an earlier one, or by
    /// another dialer).
    pub fn all_placed(&self) -> bool {
        self.counts.placed + self.counts.placed_earlier == self.counts.total()
    }
}

/// Something that happened during a run, for progress displays.
#[derive(Debug)]
#[non_exhaustive]
pub enum Event<'a> {
    /// A row that passed the checks finished in this run (from the worker
    /// that took it).
    RowDone(&'a RowResult),
    /// The server refused a request (`429`) or could not be reached: every
    /// worker waits this long.
    Paused {
        /// The wait.
        wait: Duration,
        /// The status that caused it (`None`: no connection).
        status: Option<u16>,
    },
    /// [`run_waiting`] waits for rows outside their calling hours.
    Waiting {
        /// When the first of them opens.
        until: chrono::DateTime<chrono::Utc>,
        /// How many rows wait.
        rows: usize,
    },
}

/// A callback for [`Event`]s.
pub type EventHandler = Arc<dyn Fn(Event<'_>) + Send + Sync>;

/// How a run places its calls.
#[derive(Clone)]
#[non_exhaustive]
pub struct Options {
    /// Requests in flight at most (at least 1). Default 5.
    pub concurrency: usize,
    /// Calls started per unit of time at most; none by default.
    pub rate: Option<Rate>,
    /// Dial rows whose outcome is unknown (they may be placed twice). Off by default.
    pub retry_unknown: bool,
    /// Retries per row of requests the server did not take in (`429`,
    /// connection refused). Default 10.
    pub max_retries: u32,
    /// Called for each [`Event`].
    pub on_event: Option<EventHandler>,
    /// Stops the run gracefully when cancelled.
    pub cancel: Option<Cancel>,
    /// About how many rows the list has ([`Checked::rows`]), if known: the
    /// run then reserves room for every number once, instead of growing
    /// (a growing table briefly holds its old and new storage).
    pub expected_rows: usize,
    /// Where the run's results go, recorded in a file journal so that a
    /// rerun can tell its own results file from someone else's
    /// ([`Journal::results_files`]).
    pub results_file: Option<String>,
    /// What time it is, for [calling hours](Batch::calling_hours): the
    /// system's clock unless given.
    pub clock: Arc<dyn Clock>,
    /// How long the outcome of a call already sent waits for a journal
    /// that cannot be reached (a database failing over or restarting; see
    /// [`Journal::postgres`]) before it is given up on and left to the
    /// results ([`RowResult::journal_error`]). Default 2 minutes, about
    /// what a managed database's failover takes. No new row is claimed
    /// once the journal has been lost.
    pub journal_outage: Duration,
}

/// Stops a run promptly: after [`Cancel::cancel`] no request leaves, not
/// even the retry of a row waiting out a `429`; requests already on the wire
/// are answered (within the client's timeout) and recorded. Rows not sent
/// are reported `not_sent`, and a rerun dials them.
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<CancelState>);

#[derive(Debug, Default)]
struct CancelState {
    cancelled: std::sync::atomic::AtomicBool,
    woken: tokio::sync::Notify,
}

impl Cancel {
    /// A handle that has not been cancelled.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks the run to send nothing more; wakes every worker that waits.
    pub fn cancel(&self) {
        self.0.cancelled.store(true, std::sync::atomic::Ordering::SeqCst);
        self.0.woken.notify_waiters();
    }

    /// Whether [`cancel`](Self::cancel) was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.cancelled.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Returns once [`cancel`](Self::cancel) has been called.
    pub async fn cancelled(&self) {
        loop {
            let woken = self.0.woken.notified();
            tokio::pin!(woken);
            // Registered before the check: a cancel in between still wakes it.
            woken.as_mut().enable();
            if self.is_cancelled() {
                return;
            }
            woken.await;
        }
    }
}

impl Default for Options {
    fn default() -> Self {
        Self {
            concurrency: 5,
            rate: None,
            retry_unknown: false,
            max_retries: 10,
            on_event: None,
            cancel: None,
            expected_rows: 0,
            results_file: None,
            clock: Arc::new(SystemClock),
            journal_outage: Duration::from_secs(120),
        }
    }
}

impl fmt::Debug for Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Options")
            .field("concurrency", &self.concurrency)
            .field("rate", &self.rate)
            .field("retry_unknown", &self.retry_unknown)
            .field("max_retries", &self.max_retries)
            .field("on_event", &self.on_event.is_some())
            .field("cancel", &self.cancel)
            .field("expected_rows", &self.expected_rows)
            .field("results_file", &self.results_file)
            .field("journal_outage", &self.journal_outage)
            .finish()
    }
}

impl Options {
    /// Requests in flight at most (0 counts as 1).
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }

    /// Calls started per unit of time at most.
    pub fn rate(mut self, rate: Rate) -> Self {
        self.rate = Some(rate);
        self
    }

    /// Dial rows whose outcome is unknown. They may be placed twice.
    pub fn retry_unknown(mut self, retry: bool) -> Self {
        self.retry_unknown = retry;
        self
    }

    /// Retries per row of requests the server did not take in.
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.max_retries = retries;
        self
    }

    /// About how many rows the list has (what [`Batch::check`] counted).
    pub fn expected_rows(mut self, rows: usize) -> Self {
        self.expected_rows = rows;
        self
    }

    /// Where the run's results go (recorded in a file journal).
    pub fn results_file(mut self, path: impl Into<String>) -> Self {
        self.results_file = Some(path.into());
        self
    }

    /// How long the outcome of a call already sent waits for a lost
    /// journal to come back ([`Options::journal_outage`]).
    pub fn journal_outage(mut self, outage: Duration) -> Self {
        self.journal_outage = outage;
        self
    }

    /// The clock calling hours are checked by (a test's, a simulation's).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Stops the run gracefully when `cancel` is cancelled (Ctrl-C, say).
    pub fn cancel(mut self, cancel: Cancel) -> Self {
        self.cancel = Some(cancel);
        self
    }

    /// Called for each [`Event`] (from the workers: keep it quick).
    pub fn on_event(mut self, handler: impl Fn(Event<'_>) + Send + Sync + 'static) -> Self {
        self.on_event = Some(Arc::new(handler));
        self
    }
}

/// Why a contact list cannot be read or a journal cannot be used.
#[derive(Debug)]
#[non_exhaustive]
pub enum BatchError {
    /// The contact list is not a usable CSV.
    Contacts {
        /// What is wrong, with the line where it applies.
        message: String,
    },
    /// A suppression list cannot be read whole.
    Suppression {
        /// The list's name.
        list: String,
        /// What is wrong, with the line where it applies.
        message: String,
    },
    /// The journal cannot be opened, read, trusted or written.
    Journal {
        /// Which journal: a file's path as given, or a PostgreSQL journal's
        /// database, host and campaign (never its password).
        at: String,
        /// What is wrong.
        message: String,
    },
}

impl fmt::Display for BatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BatchError::Contacts { message } => write!(f, "contact list: {message}"),
            BatchError::Suppression { list, message } => write!(f, "suppression list {list}: {message}"),
            BatchError::Journal { at, message } => write!(f, "journal {at}: {message}"),
        }
    }
}

impl std::error::Error for BatchError {}

/// The README's code, compiled as a doc test so that it cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
