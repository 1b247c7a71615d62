//! The batch journal: what was sent, durably, before it was sent, so that a
//! rerun never dials a number twice. One contract ([`Store`]), three stores:
//!
//! - a **file** ([`Journal::open`]; `file.rs`): an append-only JSON-lines
//!   file, for one dialer on one machine (the default);
//! - **PostgreSQL** ([`Journal::postgres`], feature `postgres`;
//!   `postgres.rs`): one table shared by several dialers on any number of
//!   machines, where a unique constraint decides which dialer claims a number;
//! - **memory** ([`Journal::in_memory`]; `memory.rs`): the contract with
//!   nothing durable, for tests and rehearsals.
//!
//! Every store passes the same suite (`contract.rs`): a new store is one
//! file implementing [`Store`], a constructor on [`Journal`], and one line
//! in that suite (ARCHITECTURE.md has the recipe).
//!
//! The contract, which the runner relies on: a row is **claimed durably**
//! (`sending`: synced to disk, or committed) before its request leaves, and
//! its outcome recorded after; a number placed is never claimed again; one
//! whose outcome is unknown (sent, no answer, or a dialer that stopped while
//! placing it) is claimed again only by a run that says
//! [`retry_unknown`](crate::Options::retry_unknown); failed and refused
//! numbers are tried again. Rows are keyed by destination number, so a list
//! edited between runs never dials a number twice. The records are the
//! journal's own (`format.rs`), versioned.

#[cfg(test)]
mod contract;
mod file;
mod format;
mod memory;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "postgres")]
mod postgres_batch;
#[cfg(feature = "postgres")]
mod postgres_tls;

use std::future::Future;
use std::path::Path;
use std::pin::Pin;

use format::Finished;

use super::{Batch, BatchError, Outcome, PlannedCall};

/// What a journal is for: the caller number, the agent and where the calls
/// go. A journal written for another is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Identity {
    pub from: String,
    pub agent: Option<String>,
    pub api: String,
}

impl Identity {
    fn of(batch: &Batch, api: &str) -> Identity {
        Identity {
            from: batch.from_number().to_owned(),
            agent: batch.agent_id().map(str::to_owned),
            api: api.to_owned(),
        }
    }
}

impl std::fmt::Display for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "caller number {}, agent {}, API {}",
            self.from,
            self.agent.as_deref().unwrap_or("(the number's default)"),
            self.api
        )
    }
}

/// What opening a journal found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Recovered {
    /// Runs recorded before this one (a database journal records a run per
    /// dialer that joined the campaign).
    pub runs: usize,
    /// Numbers earlier runs recorded.
    pub numbers: usize,
    /// What reading a file journal found; `None` for a store that keeps no
    /// file (a database, memory).
    pub file: Option<FileRecovered>,
}

/// What reading a file journal found ([`Recovered::file`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct FileRecovered {
    /// Complete records read (the header included).
    pub records: usize,
    /// Bytes of an incomplete last record, cut off (a run was killed while
    /// writing it; its request had not been sent).
    pub torn_bytes: usize,
}

/// What the journal said when a row was to be claimed.
#[derive(Debug)]
pub(crate) enum Claim {
    /// This run holds the row now: its request may be sent.
    Claimed,
    /// Settled by an earlier run or by another dialer: nothing is sent.
    Settled(Outcome),
}

/// A row as a store sees it: its place in the list, its number as the list
/// wrote it, and the number's key (every store keys rows by number, so an
/// edited list never dials a number twice).
#[derive(Debug, Clone, Copy)]
pub(crate) struct JournalRow<'a> {
    pub row: usize,
    pub phone: &'a str,
    pub key: u64,
}

/// A future a store returns (boxed: the runner holds any store).
pub(crate) type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The contract every journal store keeps (module docs): the runner talks
/// to a store only through this. Errors are one sentence, for the run's
/// stop reason.
pub(crate) trait Store: Send + Sync + std::fmt::Debug {
    /// Where the journal is: a path, or a database and campaign.
    fn location(&self) -> String;

    /// What opening the journal found.
    fn recovered(&self) -> &Recovered;

    /// The results files earlier runs recorded writing (none, for a store
    /// that keeps no such record).
    fn results_files(&self) -> &[String] {
        &[]
    }

    /// A run begins.
    fn begin_run<'a>(&'a self, run: RunStart<'a>) -> StoreFuture<'a, Result<(), String>>;

    /// A row the checks refused. A store may keep it for the record; it
    /// says nothing about the number (another row may carry it too).
    fn invalid<'a>(
        &'a self,
        row: usize,
        phone: &'a str,
        error: &'a str,
    ) -> StoreFuture<'a, Result<(), String>> {
        let _ = (row, phone, error); // nothing to keep, by default
        Box::pin(async { Ok(()) })
    }

    /// How the number last ended, as this store knows it now (`None`:
    /// never claimed).
    fn last_outcome(&self, key: u64) -> StoreFuture<'_, Result<Option<Outcome>, String>>;

    /// Claims the row durably for this run, unless an outcome that
    /// [`settles`] it is recorded (then says which).
    fn claim<'a>(
        &'a self,
        row: JournalRow<'a>,
        retry_unknown: bool,
    ) -> StoreFuture<'a, Result<Claim, String>>;

    /// Records how a claimed row ended, after `attempts` requests.
    fn finish<'a>(
        &'a self,
        row: JournalRow<'a>,
        finished: Finished,
        attempts: u32,
    ) -> StoreFuture<'a, Result<(), String>>;

    /// The run ended: release what this dialer holds.
    fn end_run(&self) -> StoreFuture<'_, ()> {
        Box::pin(async {})
    }
}

/// What a run says when it begins.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RunStart<'a> {
    /// Whether rows with an unknown outcome are dialled again.
    pub retry_unknown: bool,
    /// Where its results go, if it said.
    pub results: Option<&'a str>,
    /// How long an outcome waits for a store it cannot reach
    /// ([`Options::journal_outage`](crate::Options::journal_outage)); the
    /// stores on this machine are never out of reach.
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    pub journal_outage: std::time::Duration,
}

/// An open batch journal (see the [crate docs](crate)). Clones share it.
#[derive(Debug, Clone)]
pub struct Journal {
    store: std::sync::Arc<dyn Store>,
}

impl Journal {
    /// Opens the file journal at `path` for `batch`, creating it (readable
    /// by its owner only) if absent. `api` names where the calls go (a base
    /// URL): a journal written for another caller number, agent or API is
    /// refused, as is a journal that another run holds, one written by a
    /// newer sigmamind, or one whose records are damaged anywhere but at the
    /// end. An incomplete last record is cut off ([`FileRecovered::torn_bytes`]).
    pub fn open(path: impl AsRef<Path>, batch: &Batch, api: &str) -> Result<Journal, BatchError> {
        let store = file::FileJournal::open(path.as_ref(), &Identity::of(batch, api))?;
        Ok(Journal {
            store: std::sync::Arc::new(store),
        })
    }

    /// A journal kept in this process's memory: the same contract as the
    /// others (a number placed is never claimed again, an unknown outcome
    /// only by a run that retries unknown outcomes), with nothing durable.
    /// Every clone of it, in any run, shares it, so that reruns in one
    /// process (tests, a rehearsal on the local server) never dial twice;
    /// a new process starts empty. Not for real calls that must survive a
    /// crash: use [`Journal::open`] or [`Journal::postgres`].
    pub fn in_memory(batch: &Batch, api: &str) -> Journal {
        Journal {
            store: std::sync::Arc::new(memory::MemoryJournal::new(&Identity::of(batch, api))),
        }
    }

    /// Connects to the PostgreSQL journal at `url` (`postgres://user@host/db`,
    /// or `host=/run/postgresql user=dialer dbname=calls`) for the campaign
    /// `campaign` of `batch` (feature `postgres`). Several dialers, on one
    /// machine or several, given the same list, campaign and database,
    /// split it between them. Creates the tables if absent; the schema and
    /// the grants a dialer needs are in the README ("Dialling from several
    /// machines"). `sslmode` and `sslrootcert` are read as libpq reads
    /// them; TLS goes through rustls and the server's certificate is always
    /// verified; a database not on this machine is reached in plain text
    /// only with `sslmode=disable` (the README's table says what each mode
    /// does).
    #[cfg(feature = "postgres")]
    pub async fn postgres(
        url: &str,
        campaign: &str,
        batch: &Batch,
        api: &str,
    ) -> Result<Journal, BatchError> {
        let store = postgres::PostgresJournal::connect(url, campaign, &Identity::of(batch, api)).await?;
        Ok(Journal {
            store: std::sync::Arc::new(store),
        })
    }

    /// [`Journal::open`] for a journal this process closed a moment ago
    /// (tests: see `file::open_again`).
    #[cfg(test)]
    pub(crate) fn open_again(path: &Path, batch: &Batch, api: &str) -> Journal {
        Journal {
            store: std::sync::Arc::new(file::open_again(path, &Identity::of(batch, api))),
        }
    }

    /// Where the journal is: its path, or its database and campaign.
    pub fn location(&self) -> String {
        self.store.location()
    }

    /// What opening the journal found.
    pub fn recovered(&self) -> &Recovered {
        self.store.recovered()
    }

    /// The results files earlier runs recorded writing
    /// ([`Options::results_file`](crate::Options::results_file)), as
    /// they named them: a file journal's; the others keep none.
    pub fn results_files(&self) -> &[String] {
        self.store.results_files()
    }

    /// A run begins, with these options (its results file, whether it
    /// retries unknown outcomes, how long it waits for a lost store).
    pub(crate) async fn begin_run(&self, options: &crate::Options) -> Result<(), String> {
        self.store
            .begin_run(RunStart {
                retry_unknown: options.retry_unknown,
                results: options.results_file.as_deref(),
                journal_outage: options.journal_outage,
            })
            .await
    }

    /// Records a row the checks refused.
    pub(crate) async fn invalid(&self, row: usize, phone: &str, error: &str) -> Result<(), String> {
        self.store.invalid(row, phone, error).await
    }

    /// What settled the number before this run claims it, if anything did:
    /// a cheap look that spares a settled row the rate limit's wait.
    pub(crate) async fn settled(&self, key: u64, retry_unknown: bool) -> Result<Option<Outcome>, String> {
        let last = self.store.last_outcome(key).await?;
        Ok(last.filter(|outcome| settles(outcome, retry_unknown)))
    }

    /// Claims the row for this run, durably, or says what settled it.
    pub(crate) async fn claim(
        &self,
        call: &PlannedCall,
        key: u64,
        retry_unknown: bool,
    ) -> Result<Claim, String> {
        self.store.claim(JournalRow::of(call, key), retry_unknown).await
    }

    /// Records how a claimed row ended.
    pub(crate) async fn finish(
        &self,
        call: &PlannedCall,
        key: u64,
        outcome: &Outcome,
        attempts: u32,
    ) -> Result<(), String> {
        match Finished::of(outcome) {
            Some(finished) => {
                self.store
                    .finish(JournalRow::of(call, key), finished, attempts)
                    .await
            }
            None => Ok(()), // another dialer's row: nothing of ours to record
        }
    }

    /// The run ended: what this dialer still holds is released.
    pub(crate) async fn end_run(&self) {
        self.store.end_run().await;
    }
}

impl<'a> JournalRow<'a> {
    fn of(call: &'a PlannedCall, key: u64) -> Self {
        JournalRow {
            row: call.row,
            phone: &call.phone,
            key,
        }
    }
}

/// Whether an earlier outcome keeps a number from being dialled again.
pub(crate) fn settles(outcome: &Outcome, retry_unknown: bool) -> bool {
    match outcome {
        Outcome::Placed { .. } | Outcome::Elsewhere { .. } => true,
        Outcome::Unknown { .. } => !retry_unknown,
        _ => false,
    }
}
