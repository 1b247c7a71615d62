//! The batch journal: what was sent, durably, before it was sent, so that a
//! rerun never dials a number twice. One contract, two stores:
//!
//! - a **file** ([`Journal::open`]; `file.rs`): an append-only JSON-lines
//!   file, for one dialer on one machine (the default);
//! - **PostgreSQL** ([`Journal::postgres`], feature `postgres`;
//!   `postgres.rs`): one table shared by several dialers on any number of
//!   machines, where a unique constraint decides which dialer claims a number.
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

mod file;
mod format;
#[cfg(feature = "postgres")]
mod postgres;

use std::path::Path;

pub(crate) use format::now;
use format::{Finished, Record};

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
    /// Complete records read (the header included; file journals).
    pub records: usize,
    /// Runs recorded before this one.
    pub runs: usize,
    /// Bytes of an incomplete last record, cut off (a run was killed while
    /// writing it; its request had not been sent).
    pub torn_bytes: usize,
    /// Numbers earlier runs recorded.
    pub numbers: usize,
}

/// What the journal said when a row was to be claimed.
#[derive(Debug)]
pub(crate) enum Claim {
    /// This run holds the row now: its request may be sent.
    Claimed,
    /// Settled by an earlier run or by another dialer: nothing is sent.
    Settled(Outcome),
}

/// An open batch journal (see the [crate docs](crate) module docs). Clones share it.
#[derive(Debug, Clone)]
pub struct Journal {
    store: std::sync::Arc<Store>,
}

#[derive(Debug)]
enum Store {
    File(file::FileJournal),
    #[cfg(feature = "postgres")]
    Postgres(postgres::PostgresJournal),
}

impl Journal {
    /// Opens the file journal at `path` for `batch`, creating it (readable
    /// by its owner only) if absent. `api` names where the calls go (a base
    /// URL): a journal written for another caller number, agent or API is
    /// refused, as is a journal that another run holds, one written by a
    /// newer sigmamind, or one whose records are damaged anywhere but at the
    /// end. An incomplete last record is cut off ([`Recovered::torn_bytes`]).
    pub fn open(path: impl AsRef<Path>, batch: &Batch, api: &str) -> Result<Journal, BatchError> {
        let store = file::FileJournal::open(path.as_ref(), &Identity::of(batch, api))?;
        Ok(Journal {
            store: std::sync::Arc::new(Store::File(store)),
        })
    }

    /// Connects to the PostgreSQL journal at `url` (`postgres://user@host/db`,
    /// or `host=/run/postgresql user=dialer dbname=calls`) for the campaign
    /// `campaign` of `batch` (feature `postgres`). Several dialers, on one
    /// machine or several, given the same list, campaign and database,
    /// split it between them. Creates the tables if absent; the schema and
    /// the grants a dialer needs are in the README ("Dialling from several
    /// machines"). The connection is not encrypted: a URL asking for TLS
    /// (`sslmode=require`) is refused.
    #[cfg(feature = "postgres")]
    pub async fn postgres(
        url: &str,
        campaign: &str,
        batch: &Batch,
        api: &str,
    ) -> Result<Journal, BatchError> {
        let store = postgres::PostgresJournal::connect(url, campaign, &Identity::of(batch, api)).await?;
        Ok(Journal {
            store: std::sync::Arc::new(Store::Postgres(store)),
        })
    }

    /// Where the journal is: its path, or its database and campaign.
    pub fn location(&self) -> String {
        match &*self.store {
            Store::File(file) => file.path().display().to_string(),
            #[cfg(feature = "postgres")]
            Store::Postgres(pg) => pg.location(),
        }
    }

    /// What opening the journal found.
    pub fn recovered(&self) -> &Recovered {
        match &*self.store {
            Store::File(file) => file.recovered(),
            #[cfg(feature = "postgres")]
            Store::Postgres(pg) => pg.recovered(),
        }
    }

    /// The results files earlier runs recorded writing
    /// ([`Options::results_file`](crate::Options::results_file)), as
    /// they named them: a file journal's; a PostgreSQL journal keeps none.
    pub fn results_files(&self) -> &[String] {
        match &*self.store {
            Store::File(file) => file.results_files(),
            #[cfg(feature = "postgres")]
            Store::Postgres(_) => &[],
        }
    }

    /// A run begins (writing its results to `results`, if it says).
    pub(crate) async fn begin_run(&self, retry_unknown: bool, results: Option<&str>) -> Result<(), String> {
        match &*self.store {
            Store::File(file) => {
                file.append(&Record::Run {
                    at: now(),
                    retry_unknown,
                    results: results.map(str::to_owned),
                })
                .await
            }
            #[cfg(feature = "postgres")]
            Store::Postgres(pg) => pg.begin_run().await,
        }
    }

    /// Records a row the checks refused (file journals: for the record;
    /// nothing about its number is kept).
    pub(crate) async fn invalid(&self, row: usize, phone: &str, error: &str) -> Result<(), String> {
        match &*self.store {
            Store::File(file) => {
                let record = Record::Invalid {
                    row,
                    phone: phone.to_owned(),
                    error: error.to_owned(),
                    at: now(),
                };
                file.append(&record).await
            }
            #[cfg(feature = "postgres")]
            Store::Postgres(_) => Ok(()),
        }
    }

    /// What settled the number before this run claims it, if anything did:
    /// a cheap look that spares a settled row the rate limit's wait.
    pub(crate) async fn settled(&self, key: u64, retry_unknown: bool) -> Result<Option<Outcome>, String> {
        let earlier = match &*self.store {
            Store::File(file) => file.earlier(key),
            #[cfg(feature = "postgres")]
            Store::Postgres(pg) => pg.state(key).await?,
        };
        Ok(earlier.filter(|outcome| settles(outcome, retry_unknown)))
    }

    /// Claims the row for this run, durably, or says what settled it.
    pub(crate) async fn claim(
        &self,
        call: &PlannedCall,
        key: u64,
        retry_unknown: bool,
    ) -> Result<Claim, String> {
        match &*self.store {
            Store::File(file) => {
                // One process holds a file journal: what it read is the truth.
                if let Some(outcome) = file.earlier(key).filter(|o| settles(o, retry_unknown)) {
                    return Ok(Claim::Settled(outcome));
                }
                let record = Record::Sending {
                    row: call.row,
                    phone: call.phone.clone(),
                    at: now(),
                };
                file.append(&record).await?;
                Ok(Claim::Claimed)
            }
            #[cfg(feature = "postgres")]
            Store::Postgres(pg) => pg.claim(call, key, retry_unknown).await,
        }
    }

    /// Records how a claimed row ended.
    pub(crate) async fn finish(
        &self,
        call: &PlannedCall,
        key: u64,
        outcome: &Outcome,
        attempts: u32,
    ) -> Result<(), String> {
        let Some(finished) = Finished::of(outcome) else {
            return Ok(());
        };
        match &*self.store {
            Store::File(file) => {
                let _ = (key, attempts);
                file.append(&file::finished_record(call.row, &call.phone, finished))
                    .await
            }
            #[cfg(feature = "postgres")]
            Store::Postgres(pg) => pg.finish(key, finished, attempts).await,
        }
    }

    /// The run ended: what this dialer still holds is released (PostgreSQL).
    pub(crate) async fn end_run(&self) {
        #[cfg(feature = "postgres")]
        if let Store::Postgres(pg) = &*self.store {
            pg.end_run().await;
        }
    }
}

/// Whether an earlier outcome keeps a number from being dialled again.
fn settles(outcome: &Outcome, retry_unknown: bool) -> bool {
    match outcome {
        Outcome::Placed { .. } | Outcome::Elsewhere { .. } => true,
        Outcome::Unknown { .. } => !retry_unknown,
        _ => false,
    }
}
