//! The PostgreSQL journal (feature `postgres`, with `tokio-postgres`):
//! several dialers, on one machine or several, share one campaign's
//! journal and split its list between them.
//!
//! # How a number is claimed
//! A dialer claims a number with one statement, committed before its
//! request leaves:
//!
//! ```sql
//! INSERT INTO sigmamind_calls (campaign_id, phone, row_number, state, dialer)
//! VALUES ($1, $2, $3, 'sending', $4)
//! ON CONFLICT (campaign_id, phone) DO UPDATE SET state = 'sending', ...
//! WHERE sigmamind_calls.state IN ('failed', 'refused')
//!    OR (sigmamind_calls.state = 'unknown' AND $5)   -- retry unknown
//! RETURNING dialer
//! ```
//!
//! The primary key `(campaign_id, phone)` decides: of two dialers claiming
//! one number, PostgreSQL lets one insert and makes the other see the row
//! (and, for a row being updated, wait for it and judge the new version),
//! so no lock is held in a dialer's memory. The outcome is written after
//! the answer (`UPDATE ... WHERE dialer = $self AND state = 'sending'`).
//!
//! # A dialer that dies
//! Each dialer holds a session advisory lock (`pg_advisory_lock`) on its own
//! key for as long as its connection lives; PostgreSQL releases it when the
//! process dies, however it dies. When a run begins or ends, a dialer looks
//! at the campaign's other dialers: one whose lock it can take is gone, and
//! the rows it left `sending` become `unknown` (their requests may have
//! left: they are never dialled again unless a run retries unknown
//! outcomes). A dialer also writes a heartbeat every few seconds, so that
//! `sigmamind_dialers` shows who is running.
//!
//! # Schema
//! Created on first use (idempotent, serialised between dialers by a
//! transaction advisory lock); readable with plain SQL:
//!
//! ```sql
#![doc = include_str!("postgres_schema.sql")]
//! ```
//!
//! # Grants
//! The dialler needs, on the database it is given: to create the three
//! tables once (`CREATE` on the schema, or have them created by an owner),
//! then `SELECT, INSERT, UPDATE` on `sigmamind_campaigns`, `sigmamind_calls`
//! and `sigmamind_dialers`, and `USAGE` on `sigmamind_campaigns`'s identity
//! sequence. Nothing more: no `DELETE`, no superuser (advisory locks need no
//! grant).
//!
//! # TLS
//! `sslmode` and `sslrootcert` as libpq reads them, through rustls, the
//! certificates always verified: see `postgres_tls.rs`. A database that is
//! not on this machine is never reached in plain text unless the string
//! says `sslmode=disable`.

use std::sync::atomic::{AtomicUsize, Ordering};

use tokio_postgres::{Client, Statement};

use super::postgres_tls::Target;

use super::format::{Finished, JournalState, VERSION};
use super::{Claim, Identity, JournalRow, Recovered, RunStart, Store, StoreFuture};
use crate::numbers;
use crate::{BatchError, Outcome};

const SCHEMA: &str = include_str!("postgres_schema.sql");

/// Connections a dialer opens: its workers' statements are pipelined on them.
const CONNECTIONS: usize = 4;

/// How often a dialer writes its heartbeat.
const HEARTBEAT: std::time::Duration = std::time::Duration::from_secs(5);

/// Serialises schema creation between dialers.
const SCHEMA_LOCK: i64 = 0x5369_676d_614d_696e; // "SigmaMin"

struct Connection {
    client: Client,
    state: Statement,
    claim: Statement,
    finish: Statement,
}

/// A dialer's connections to a campaign's journal.
pub(crate) struct PostgresJournal {
    connections: Vec<Connection>,
    next: AtomicUsize,
    campaign_id: i64,
    campaign: String,
    dialer: String,
    lock_key: i64,
    database: String,
    recovered: Recovered,
    heartbeat: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for PostgresJournal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresJournal")
            .field("database", &self.database)
            .field("campaign", &self.campaign)
            .field("dialer", &self.dialer)
            .finish_non_exhaustive()
    }
}

impl Drop for PostgresJournal {
    fn drop(&mut self) {
        self.heartbeat.abort();
    }
}

/// A database error with its causes (a TLS handshake's reason is one), and
/// what to do about the TLS ones. tokio-postgres's messages never hold the
/// password.
fn db(error: tokio_postgres::Error) -> String {
    let mut text = format!("PostgreSQL: {error}");
    let mut cause = std::error::Error::source(&error);
    while let Some(inner) = cause {
        let inner_text = inner.to_string();
        if !text.ends_with(&inner_text) {
            text.push_str(": ");
            text.push_str(&inner_text);
        }
        cause = inner.source();
    }
    let hint = if text.contains("UnknownIssuer") {
        " (the server's certificate is signed by an authority this machine does not trust: give its \
         certificate as sslrootcert=FILE)"
    } else if text.contains("NotValidForName") || text.contains("not valid for name") {
        " (the server's certificate does not name the host in the connection string: connect by the \
         name it was issued for)"
    } else if text.contains("server does not support TLS") {
        " (the server offers no TLS: enable it there; sslmode=disable would send the journal in plain text)"
    } else {
        ""
    };
    text.push_str(hint);
    text
}

impl PostgresJournal {
    pub(crate) async fn connect(url: &str, campaign: &str, identity: &Identity) -> Result<Self, BatchError> {
        let target = Target::parse(url).map_err(|message| BatchError::Journal {
            path: "postgres".into(),
            message,
        })?;
        let config = &target.config;
        // Where, without the password: for messages and the results.
        let database = format!(
            "database {} on {}",
            config.get_dbname().unwrap_or("(default)"),
            config
                .get_hosts()
                .first()
                .map(|h| match h {
                    tokio_postgres::config::Host::Tcp(host) => host.clone(),
                    #[cfg(unix)]
                    tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
                })
                .unwrap_or_default()
        );
        let fail = |message: String| BatchError::Journal {
            path: format!("{database}, campaign {campaign}").into(),
            message,
        };
        let mut connections = Vec::new();
        for _ in 0..CONNECTIONS {
            let client = target.connect().await.map_err(|e| fail(db(e)))?;
            connections.push(client);
        }
        let first = &connections[0];
        first
            .batch_execute(&format!(
                "BEGIN; SELECT pg_advisory_xact_lock({SCHEMA_LOCK}); {SCHEMA} COMMIT;"
            ))
            .await
            .map_err(|e| fail(db(e)))?;
        let agent = identity.agent.clone().unwrap_or_default();
        first
            .execute(
                "INSERT INTO sigmamind_campaigns (name, from_number, agent, api, format_version) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name) DO NOTHING",
                &[
                    &campaign,
                    &identity.from,
                    &agent,
                    &identity.api,
                    &(VERSION as i32),
                ],
            )
            .await
            .map_err(|e| fail(db(e)))?;
        let row = first
            .query_one(
                "SELECT campaign_id, from_number, agent, api, format_version FROM sigmamind_campaigns \
                 WHERE name = $1",
                &[&campaign],
            )
            .await
            .map_err(|e| fail(db(e)))?;
        let campaign_id: i64 = row.get(0);
        let found = Identity {
            from: row.get(1),
            agent: Some(row.get::<_, String>(2)).filter(|a| !a.is_empty()),
            api: row.get(3),
        };
        let version: i32 = row.get(4);
        if version > VERSION as i32 {
            return Err(fail(format!(
                "written in journal format version {version}; this sigmamind reads up to {VERSION}"
            )));
        }
        if found != *identity {
            return Err(fail(format!(
                "it belongs to another batch: it was written for {found}, this run is {identity}; use \
                 another campaign"
            )));
        }
        let lock_key = random_key();
        first
            .execute("SELECT pg_advisory_lock($1)", &[&lock_key])
            .await
            .map_err(|e| fail(db(e)))?;
        let dialer = format!("{}:{}:{:08x}", hostname(), std::process::id(), lock_key as u32);
        let earlier = first
            .query_one(
                "SELECT (SELECT count(*) FROM sigmamind_dialers WHERE campaign_id = $1), \
                        (SELECT count(*) FROM sigmamind_calls WHERE campaign_id = $1)",
                &[&campaign_id],
            )
            .await
            .map_err(|e| fail(db(e)))?;
        let recovered = Recovered {
            records: 0,
            runs: earlier.get::<_, i64>(0) as usize,
            torn_bytes: 0,
            numbers: earlier.get::<_, i64>(1) as usize,
        };
        first
            .execute(
                "INSERT INTO sigmamind_dialers (dialer, campaign_id, host, pid, lock_key) VALUES ($1, $2, $3, $4, $5)",
                &[&dialer, &campaign_id, &hostname(), &(std::process::id() as i32), &lock_key],
            )
            .await
            .map_err(|e| fail(db(e)))?;
        let mut prepared = Vec::new();
        for client in connections {
            let state = client
                .prepare(
                    "SELECT state, call_id, status, error, dialer FROM sigmamind_calls \
                     WHERE campaign_id = $1 AND phone = $2",
                )
                .await
                .map_err(|e| fail(db(e)))?;
            let claim = client
                .prepare(
                    "INSERT INTO sigmamind_calls (campaign_id, phone, row_number, state, dialer) \
                     VALUES ($1, $2, $3, 'sending', $4) \
                     ON CONFLICT (campaign_id, phone) DO UPDATE SET state = 'sending', \
                       dialer = EXCLUDED.dialer, row_number = EXCLUDED.row_number, claimed_at = now(), \
                       call_id = NULL, status = NULL, error = NULL, attempts = 0, finished_at = NULL \
                     WHERE sigmamind_calls.state IN ('failed', 'refused') \
                        OR (sigmamind_calls.state = 'unknown' AND $5) \
                     RETURNING dialer",
                )
                .await
                .map_err(|e| fail(db(e)))?;
            let finish = client
                .prepare(
                    "UPDATE sigmamind_calls SET state = $3, call_id = $4, status = $5, error = $6, \
                       attempts = $7, finished_at = now() \
                     WHERE campaign_id = $1 AND phone = $2 AND dialer = $8 AND state = 'sending'",
                )
                .await
                .map_err(|e| fail(db(e)))?;
            prepared.push(Connection {
                client,
                state,
                claim,
                finish,
            });
        }
        let heartbeat = {
            let (target, dialer) = (target.clone(), dialer.clone());
            tokio::spawn(async move {
                let Ok(client) = target.connect().await else {
                    return;
                };
                loop {
                    tokio::time::sleep(HEARTBEAT).await;
                    let _ = client
                        .execute(
                            "UPDATE sigmamind_dialers SET heartbeat_at = now() WHERE dialer = $1",
                            &[&dialer],
                        )
                        .await;
                }
            })
        };
        Ok(PostgresJournal {
            connections: prepared,
            next: AtomicUsize::new(0),
            campaign_id,
            campaign: campaign.to_owned(),
            dialer,
            lock_key,
            database,
            recovered,
            heartbeat,
        })
    }

    fn connection(&self) -> &Connection {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.connections.len();
        &self.connections[i]
    }

    /// Marks the rows of the campaign's dead dialers `unknown`.
    async fn reap(&self) -> Result<(), String> {
        let client = &self.connections[0].client;
        let others = client
            .query(
                "SELECT dialer, lock_key FROM sigmamind_dialers \
                 WHERE campaign_id = $1 AND finished_at IS NULL AND dialer <> $2",
                &[&self.campaign_id, &self.dialer],
            )
            .await
            .map_err(db)?;
        for other in others {
            let (dialer, key): (String, i64) = (other.get(0), other.get(1));
            let free: bool = client
                .query_one("SELECT pg_try_advisory_lock($1)", &[&key])
                .await
                .map_err(db)?
                .get(0);
            if !free {
                continue; // alive: its connection holds the lock
            }
            client
                .execute("SELECT pg_advisory_unlock($1)", &[&key])
                .await
                .map_err(db)?;
            client
                .execute(
                    "UPDATE sigmamind_calls SET state = 'unknown', finished_at = now(), \
                       error = 'no outcome recorded: its dialer (' || dialer || ') stopped while placing this call' \
                     WHERE campaign_id = $1 AND dialer = $2 AND state = 'sending'",
                    &[&self.campaign_id, &dialer],
                )
                .await
                .map_err(db)?;
            client
                .execute(
                    "UPDATE sigmamind_dialers SET finished_at = now() WHERE dialer = $1",
                    &[&dialer],
                )
                .await
                .map_err(db)?;
        }
        Ok(())
    }

    /// The number's row, as an outcome for this dialer.
    pub(crate) async fn state(&self, key: u64) -> Result<Option<Outcome>, String> {
        let connection = self.connection();
        let phone = numbers::phone(key);
        let row = connection
            .client
            .query_opt(&connection.state, &[&self.campaign_id, &phone])
            .await
            .map_err(db)?;
        Ok(row.map(|row| {
            let state: String = row.get(0);
            let dialer: String = row.get(4);
            match JournalState::parse(&state) {
                Some(state) => Finished {
                    state,
                    call_id: row.get(1),
                    status: row.get::<_, Option<i32>>(2).map(|s| s as u16),
                    error: row.get(3),
                }
                .outcome(),
                // `sending`: in flight, another dialer's (or a dead one's,
                // until it is reaped: either way not to be dialled).
                None => Outcome::Elsewhere { dialer },
            }
        }))
    }

    async fn claim_row(&self, row: JournalRow<'_>, retry_unknown: bool) -> Result<Claim, String> {
        let connection = self.connection();
        let phone = numbers::phone(row.key);
        let claimed = connection
            .client
            .query_opt(
                &connection.claim,
                &[
                    &self.campaign_id,
                    &phone,
                    &(row.row as i64),
                    &self.dialer,
                    &retry_unknown,
                ],
            )
            .await
            .map_err(db)?;
        if claimed.is_some() {
            return Ok(Claim::Claimed);
        }
        let outcome = self.state(row.key).await?.unwrap_or(Outcome::Elsewhere {
            dialer: "(another dialer)".to_owned(),
        });
        Ok(Claim::Settled(outcome))
    }

    async fn record_finish(&self, key: u64, finished: Finished, attempts: u32) -> Result<(), String> {
        let connection = self.connection();
        let phone = numbers::phone(key);
        let updated = connection
            .client
            .execute(
                &connection.finish,
                &[
                    &self.campaign_id,
                    &phone,
                    &finished.state.name(),
                    &finished.call_id,
                    &finished.status.map(i32::from),
                    &finished.error,
                    &(attempts as i32),
                    &self.dialer,
                ],
            )
            .await
            .map_err(db)?;
        if updated == 0 {
            return Err(format!(
                "the journal no longer holds {phone} as this dialer's: was this dialer taken for dead?"
            ));
        }
        Ok(())
    }

    /// The run ended: this dialer is done; the campaign's dead dialers reaped.
    async fn close_run(&self) {
        let _ = self.reap().await;
        let client = &self.connections[0].client;
        let _ = client
            .execute(
                "UPDATE sigmamind_dialers SET finished_at = now(), heartbeat_at = now() WHERE dialer = $1",
                &[&self.dialer],
            )
            .await;
        let _ = client
            .execute("SELECT pg_advisory_unlock($1)", &[&self.lock_key])
            .await;
    }
}

impl Store for PostgresJournal {
    fn location(&self) -> String {
        format!(
            "{}, campaign {} (dialer {})",
            self.database, self.campaign, self.dialer
        )
    }

    /// What the campaign holds (`records` and `torn_bytes` are a file's:
    /// always 0 here).
    fn recovered(&self) -> &Recovered {
        &self.recovered
    }

    /// A run begins: the rows of dialers that died are unknown now.
    fn begin_run<'a>(&'a self, _: RunStart<'a>) -> StoreFuture<'a, Result<(), String>> {
        Box::pin(self.reap())
    }

    fn last_outcome(&self, key: u64) -> StoreFuture<'_, Result<Option<Outcome>, String>> {
        Box::pin(self.state(key))
    }

    fn claim<'a>(
        &'a self,
        row: JournalRow<'a>,
        retry_unknown: bool,
    ) -> StoreFuture<'a, Result<Claim, String>> {
        Box::pin(self.claim_row(row, retry_unknown))
    }

    fn finish<'a>(
        &'a self,
        row: JournalRow<'a>,
        finished: Finished,
        attempts: u32,
    ) -> StoreFuture<'a, Result<(), String>> {
        Box::pin(self.record_finish(row.key, finished, attempts))
    }

    fn end_run(&self) -> StoreFuture<'_, ()> {
        Box::pin(self.close_run())
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}

fn random_key() -> i64 {
    use std::hash::BuildHasher;
    std::collections::hash_map::RandomState::new().hash_one(std::process::id()) as i64
}

#[cfg(test)]
mod tests {
    /// The README sends a database administrator to the schema the
    /// journal runs, and pastes no copy of it that could fall behind.
    #[test]
    fn readme_points_at_the_schema_it_runs() {
        let readme = include_str!("../../README.md");
        assert!(readme.contains("`src/journal/postgres_schema.sql`"));
        assert!(!readme.contains("CREATE TABLE"), "README pastes the schema");
        assert!(super::SCHEMA.contains("CREATE TABLE IF NOT EXISTS sigmamind_calls"));
    }
}
