//! The PostgreSQL journal (feature `postgres`, with `tokio-postgres`):
//! several dialers, on one machine or several, share one campaign's
//! journal and split its list between them.
//!
//! # How a number is claimed
//! A dialer claims a number with a statement committed before its request
//! leaves; the claims its workers ask for at about the same time share one
//! statement and one commit (`postgres_batch.rs`: group commit), and each
//! worker waits for that commit:
//!
//! ```sql
//! INSERT INTO sigmamind_calls (campaign_id, phone, row_number, state, dialer)
//! SELECT $1, phone, row_number, 'sending', $4 FROM unnest($2, $3) ... ORDER BY phone
//! ON CONFLICT (campaign_id, phone) DO UPDATE SET state = 'sending', ...
//! WHERE sigmamind_calls.state IN ('refused', 'not_sent')
//!    OR (sigmamind_calls.state = 'unknown' AND $5)   -- retry unknown
//! RETURNING phone                                    -- the numbers claimed
//! ```
//!
//! The primary key `(campaign_id, phone)` decides: of two dialers claiming
//! one number, PostgreSQL lets one insert and makes the other see the row
//! (and, for a row being updated, wait for it and judge the new version),
//! so no lock is held in a dialer's memory; batches lock their rows in the
//! order of the numbers, so two dialers' batches do not deadlock (one the
//! database picks as a deadlock's victim anyway is sent again). The
//! outcomes are written after the answers, batched the same way, only
//! over rows this dialer holds.
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
//! # A connection that drops
//! A database that restarts or fails over, or a proxy that ends an idle
//! session, ends the dialer's sessions, and with them its advisory lock.
//! From then on the dialer claims no new row (another dialer may have
//! taken it for dead): the calls already in flight finish, and each
//! outcome is written on a new connection, tried again with backoff for
//! as long as the run's [`journal_outage`](crate::Options::journal_outage)
//! allows (2 minutes by default). An outcome that still cannot be written
//! stays in the results file (`journal_error`), and the run ends saying
//! so. The journal stays lost for later runs through it too: connect
//! again ([`Journal::postgres`](super::Journal::postgres)) to dial on. Writing an outcome is idempotent (a write whose answer was lost is
//! written again harmlessly), and it also settles a row another dialer
//! marked `unknown` for this dialer while it was away, unless a run that
//! retries unknown outcomes has claimed it since.
//!
//! A dialer whose machine vanishes without closing its connections is
//! noticed by the database through TCP keepalives, which every session
//! asks for (`tcp_keepalives_idle` 30 s, then 3 probes 10 s apart): within
//! about 60 s its sessions end and its lock is free. The dialer's own
//! sockets probe the same way, so a database that vanishes is noticed as
//! quickly, and a new connection is given up on after 10 s (libpq's
//! `connect_timeout`, if the string gives one). Sessions are named
//! (`application_name`: `sigmamind dialer HOST:PID:KEY`) unless the string
//! names them, so that `pg_stat_activity` shows who is connected.
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

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio_postgres::Client;

use super::postgres_batch::{
    self, db, Batcher, ClaimItem, Connection, FinishItem, Found, Owner, Sessions, Unwritten,
};

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

/// How an outcome's write waits between tries while the database is away.
const FIRST_PAUSE: Duration = Duration::from_millis(100);
const LONGEST_PAUSE: Duration = Duration::from_secs(5);

/// How the error of a row left `sending` begins, once it is marked
/// `unknown` for a dialer that stopped or lost the journal: its dialer may
/// still write the real outcome over it.
const LEFT_BY_ITS_DIALER: &str = "no outcome recorded: its dialer (";

/// What a claim says once the journal has been lost.
const LOST: &str = "the connection to the journal was lost during the run (the database restarted, \
                    failed over or ended this dialer's session): no new row is claimed; the calls in \
                    flight are recorded once it is back; run again to dial the rest";

/// A dialer's connections to a campaign's journal.
pub(crate) struct PostgresJournal {
    sessions: Arc<Sessions>,
    /// Lookups, claims and outcomes, a batch per statement (`postgres_batch.rs`).
    lookups: Batcher<String, Option<Found>>,
    claims: Batcher<ClaimItem, bool>,
    finishes: Batcher<FinishItem, bool>,
    /// How long an outcome waits for the database, in milliseconds
    /// ([`RunStart::journal_outage`]).
    outage_ms: AtomicU64,
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

impl PostgresJournal {
    pub(crate) async fn connect(url: &str, campaign: &str, identity: &Identity) -> Result<Self, BatchError> {
        // Not the URL itself: it may carry a password.
        let target = Target::parse(url).map_err(|message| BatchError::Journal {
            at: "(a PostgreSQL URL)".into(),
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
            at: format!("{database}, campaign {campaign}"),
            message,
        };
        let lock_key = random_key();
        let dialer = format!("{}:{}:{:08x}", hostname(), std::process::id(), lock_key as u32);
        let mut target = target;
        if target.config.get_application_name().is_none() {
            target
                .config
                .application_name(format!("sigmamind dialer {dialer}"));
        }
        let first = target.connect().await.map_err(|e| fail(db(e)))?;
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
        first
            .execute("SELECT pg_advisory_lock($1)", &[&lock_key])
            .await
            .map_err(|e| fail(db(e)))?;
        let earlier = first
            .query_one(
                "SELECT (SELECT count(*) FROM sigmamind_dialers WHERE campaign_id = $1), \
                        (SELECT count(*) FROM sigmamind_calls WHERE campaign_id = $1)",
                &[&campaign_id],
            )
            .await
            .map_err(|e| fail(db(e)))?;
        let recovered = Recovered {
            runs: earlier.get::<_, i64>(0) as usize,
            numbers: earlier.get::<_, i64>(1) as usize,
            file: None,
        };
        first
            .execute(
                "INSERT INTO sigmamind_dialers (dialer, campaign_id, host, pid, lock_key) VALUES ($1, $2, $3, $4, $5)",
                &[&dialer, &campaign_id, &hostname(), &(std::process::id() as i32), &lock_key],
            )
            .await
            .map_err(|e| fail(db(e)))?;
        let first = Connection::prepare(first).await.map_err(|e| fail(db(e)))?;
        let sessions = Arc::new(
            Sessions::open(target.clone(), first, CONNECTIONS - 1)
                .await
                .map_err(|e| fail(db(e)))?,
        );
        let owner = Owner {
            sessions: sessions.clone(),
            campaign_id,
            dialer: dialer.clone(),
            left_by_its_dialer: LEFT_BY_ITS_DIALER,
        };
        let heartbeat = {
            let (target, dialer) = (sessions.target().clone(), dialer.clone());
            tokio::spawn(async move {
                let mut session: Option<Client> = None;
                loop {
                    tokio::time::sleep(HEARTBEAT).await;
                    // A session lost (a restart) is opened again at the next beat.
                    if session.as_ref().is_none_or(Client::is_closed) {
                        session = target.connect().await.ok();
                    }
                    if let Some(client) = &session {
                        let _ = client
                            .execute(
                                "UPDATE sigmamind_dialers SET heartbeat_at = now() WHERE dialer = $1",
                                &[&dialer],
                            )
                            .await;
                    }
                }
            })
        };
        Ok(PostgresJournal {
            sessions,
            lookups: postgres_batch::lookups(owner.clone()),
            claims: postgres_batch::claims(owner.clone()),
            finishes: postgres_batch::finishes(owner),
            outage_ms: AtomicU64::new(120_000),
            campaign_id,
            campaign: campaign.to_owned(),
            dialer,
            lock_key,
            database,
            recovered,
            heartbeat,
        })
    }

    /// A lookup or claim that failed, as the run is told it: a lost
    /// session loses the journal.
    fn failed(&self, error: Unwritten) -> String {
        match error {
            Unwritten::Lost(error) => {
                self.sessions.lose();
                format!("{LOST} ({error})")
            }
            Unwritten::Refused(error) => error,
        }
    }

    /// Marks the rows of the campaign's dead dialers `unknown`.
    async fn reap(&self) -> Result<(), String> {
        let connection = self.sessions.at(0).await.map_err(db)?;
        let client = &connection.client;
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
                       error = $3 || dialer || ') stopped while placing this call' \
                     WHERE campaign_id = $1 AND dialer = $2 AND state = 'sending'",
                    &[&self.campaign_id, &dialer, &LEFT_BY_ITS_DIALER],
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
        let found = self
            .lookups
            .ask(numbers::phone(key))
            .await
            .map_err(|e| self.failed(e))?;
        Ok(found.map(|row| match JournalState::parse(&row.state, VERSION) {
            Some(state) => Finished {
                state,
                call_id: row.call_id,
                status: row.status.map(|s| s as u16),
                error: row.error,
            }
            .outcome(),
            // `sending`: in flight, another dialer's (or a dead one's,
            // until it is reaped: either way not to be dialled).
            None => Outcome::Elsewhere { dialer: row.dialer },
        }))
    }

    async fn claim_row(&self, row: JournalRow<'_>, retry_unknown: bool) -> Result<Claim, String> {
        // Once a session is lost, so is the lock that tells other dialers
        // this one lives: they may mark its rows unknown. It claims no more.
        if self.sessions.is_lost() {
            return Err(LOST.to_owned());
        }
        let claim = ClaimItem {
            phone: numbers::phone(row.key),
            row: row.row as i64,
            retry_unknown,
        };
        if self.claims.ask(claim).await.map_err(|e| self.failed(e))? {
            return Ok(Claim::Claimed);
        }
        let outcome = self.state(row.key).await?.unwrap_or(Outcome::Elsewhere {
            dialer: "(another dialer)".to_owned(),
        });
        Ok(Claim::Settled(outcome))
    }

    /// Writes the outcome, on a new session if the database went away,
    /// trying again with backoff within the run's `journal_outage`.
    async fn record_finish(
        &self,
        row: usize,
        key: u64,
        finished: Finished,
        attempts: u32,
    ) -> Result<(), String> {
        let outage = Duration::from_millis(self.outage_ms.load(Ordering::SeqCst));
        // An outage longer than the clock can count waits as long as it must.
        let deadline = tokio::time::Instant::now().checked_add(outage);
        let mut pause = FIRST_PAUSE;
        loop {
            let error = match self.write_finish(row, key, &finished, attempts).await {
                Ok(()) => return Ok(()),
                Err(Unwritten::Refused(message)) => return Err(message),
                Err(Unwritten::Lost(error)) => error,
            };
            self.sessions.lose();
            if deadline.is_some_and(|deadline| tokio::time::Instant::now() + pause > deadline) {
                return Err(format!(
                    "the database did not come back within {} s ({error}): this outcome is known \
                     only from the results",
                    outage.as_secs(),
                ));
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(LONGEST_PAUSE);
        }
    }

    async fn write_finish(
        &self,
        row: usize,
        key: u64,
        finished: &Finished,
        attempts: u32,
    ) -> Result<(), Unwritten> {
        let phone = numbers::phone(key);
        let item = FinishItem {
            phone: phone.clone(),
            row: row as i64,
            state: finished.state.name(VERSION),
            call_id: finished.call_id.clone(),
            status: finished.status.map(i32::from),
            error: finished.error.clone(),
            attempts: attempts as i32,
        };
        if self.finishes.ask(item).await? {
            return Ok(());
        }
        Err(Unwritten::Refused(format!(
            "the journal no longer holds {phone} as this dialer's: was this dialer taken for dead, \
             and the number claimed again by a run that retries unknown outcomes?"
        )))
    }

    /// The run ended: rows this dialer still holds (outcomes it could not
    /// write) are unknown to the others; this dialer is done; the
    /// campaign's dead dialers reaped.
    async fn close_run(&self) {
        let _ = self.reap().await;
        let Ok(connection) = self.sessions.at(0).await else {
            return; // the database is away: the others reap this dialer
        };
        let client = &connection.client;
        let _ = client
            .execute(
                "UPDATE sigmamind_calls SET state = 'unknown', finished_at = now(), \
                   error = $3 || dialer || ') could not record its outcome: see that dialer''s results' \
                 WHERE campaign_id = $1 AND dialer = $2 AND state = 'sending'",
                &[&self.campaign_id, &self.dialer, &LEFT_BY_ITS_DIALER],
            )
            .await;
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

    /// What the campaign holds (no file: [`Recovered::file`] is `None`).
    fn recovered(&self) -> &Recovered {
        &self.recovered
    }

    /// A run begins: the rows of dialers that died are unknown now.
    fn begin_run<'a>(&'a self, run: RunStart<'a>) -> StoreFuture<'a, Result<(), String>> {
        let outage = u64::try_from(run.journal_outage.as_millis()).unwrap_or(u64::MAX);
        self.outage_ms.store(outage, Ordering::SeqCst);
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
        Box::pin(self.record_finish(row.row, row.key, finished, attempts))
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
    use super::super::contract::{batch, call};
    use super::super::Identity;
    use sigmamind_test_servers::postgres::{Postgres, TestAuthority};

    /// An error says which journal it is about: the database, host and
    /// campaign, or for a URL that cannot be read only that it is one (the
    /// URL may carry a password); never a made-up path.
    #[tokio::test]
    async fn an_error_names_the_database_and_campaign_never_the_password() {
        let identity = Identity::of(&batch(), "http://api");
        // Nothing listens on port 9 of loopback.
        let url = "postgres://dialer:s3cret@127.0.0.1:9/campaigns?connect_timeout=2";
        let err = super::PostgresJournal::connect(url, "spring", &identity)
            .await
            .err()
            .unwrap();
        let crate::BatchError::Journal { at, .. } = &err else {
            panic!("{err:?}")
        };
        assert_eq!(at, "database campaigns on 127.0.0.1, campaign spring");
        assert!(!err.to_string().contains("s3cret"), "{err}");
        let unreadable = "postgres://dialer:s3cret@db.example/campaigns?sslmode=sometimes";
        let err = super::PostgresJournal::connect(unreadable, "spring", &identity)
            .await
            .err()
            .unwrap();
        assert!(
            err.to_string().starts_with("journal (a PostgreSQL URL): "),
            "{err}"
        );
        assert!(!err.to_string().contains("s3cret"), "{err}");
    }

    /// Over TCP, every session asks the server to probe its socket (a
    /// dialer whose machine vanished is noticed within about 60 s), its own
    /// socket probes the server, and it is named for `pg_stat_activity`;
    /// a name the string gives is kept.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sessions_ask_for_keepalives_and_say_who_they_are() {
        let authority = TestAuthority::new("localhost");
        let ca_pem = authority.ca_pem.clone();
        let pg = tokio::task::spawn_blocking(move || Postgres::start_with_tls(&authority))
            .await
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let ca = dir.path().join("ca.pem");
        std::fs::write(&ca, ca_pem).unwrap();
        let url = format!(
            "postgres://sigmamind@localhost:{}/postgres?sslmode=verify-full&sslrootcert={}",
            pg.port(),
            ca.display()
        );
        let identity = Identity::of(&batch(), "http://api");
        let journal = super::PostgresJournal::connect(&url, "keepalives", &identity)
            .await
            .unwrap();
        let config = &journal.sessions.target().config;
        assert!(config.get_keepalives());
        assert_eq!(config.get_keepalives_idle(), std::time::Duration::from_secs(30));
        for _ in 0..super::CONNECTIONS {
            let session = journal.sessions.any().await.unwrap();
            let row = session
                .client
                .query_one(
                    "SELECT current_setting('tcp_keepalives_idle'), current_setting('tcp_keepalives_interval'), \
                            current_setting('tcp_keepalives_count'), current_setting('application_name')",
                    &[],
                )
                .await
                .unwrap();
            let (idle, interval, count, name): (String, String, String, String) =
                (row.get(0), row.get(1), row.get(2), row.get(3));
            assert_eq!(
                (idle.as_str(), interval.as_str(), count.as_str()),
                ("30", "10", "3")
            );
            assert_eq!(name, format!("sigmamind dialer {}", journal.dialer));
        }
        let named = super::PostgresJournal::connect(
            &format!("{url}&application_name=campaign-east"),
            "keepalives",
            &identity,
        )
        .await
        .unwrap();
        let session = named.sessions.any().await.unwrap();
        let name: String = session
            .client
            .query_one("SELECT current_setting('application_name')", &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(name, "campaign-east");
    }

    use super::super::{Claim, Journal};
    use crate::{Options, Outcome};

    /// A dialer whose sessions were ended while it placed a call, and
    /// which another dialer took for dead (its row `unknown`), still writes
    /// the call's real outcome once it has a session again, and writing it
    /// twice (an answer lost) is harmless; but it claims nothing more.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_outcome_written_after_the_session_was_lost_is_kept() {
        let pg = tokio::task::spawn_blocking(sigmamind_test_servers::postgres::Postgres::start)
            .await
            .unwrap();
        let url = pg.url();
        let away = Journal::postgres(&url, "lost", &batch(), "http://api")
            .await
            .unwrap();
        // However long it may wait: the longest outage a run can ask for.
        away.begin_run(&Options::default().journal_outage(std::time::Duration::MAX))
            .await
            .unwrap();
        let (placing, key) = call(1, "+14155550101");
        assert!(matches!(
            away.claim(&placing, key, false).await.unwrap(),
            Claim::Claimed
        ));
        // Its sessions end (its lock with them); another dialer begins and
        // marks what it held unknown.
        let ended = pg.sql(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 10000)) FROM pg_stat_activity \
             WHERE application_name LIKE 'sigmamind dialer %'",
        );
        // Its four sessions, and its heartbeat's once it has beaten.
        let ended: usize = ended[0].parse().unwrap();
        assert!(ended >= super::CONNECTIONS, "{ended} sessions ended");
        let other = Journal::postgres(&url, "lost", &batch(), "http://api")
            .await
            .unwrap();
        other.begin_run(&Options::default()).await.unwrap();
        assert!(matches!(
            other.settled(key, false).await.unwrap(),
            Some(Outcome::Unknown { .. })
        ));
        // The call's answer comes: written on a new session, over the unknown.
        let placed = Outcome::Placed {
            call_id: Some("call_1".into()),
        };
        away.finish(&placing, key, &placed, 1).await.unwrap();
        away.finish(&placing, key, &placed, 1).await.unwrap();
        assert_eq!(other.settled(key, false).await.unwrap(), Some(placed.clone()));
        // No new claim from the dialer that lost its journal.
        let (next, next_key) = call(2, "+14155550102");
        let refused = away.claim(&next, next_key, false).await.unwrap_err();
        assert!(
            refused.contains("the connection to the journal was lost"),
            "{refused}"
        );
        assert!(matches!(
            other.claim(&next, next_key, false).await.unwrap(),
            Claim::Claimed
        ));
        // A row claimed again by a run that retries unknown outcomes is
        // that run's: the first dialer's late answer is not written over it.
        let (third, third_key) = call(3, "+14155550103");
        let late = Journal::postgres(&url, "lost", &batch(), "http://api")
            .await
            .unwrap();
        late.begin_run(&Options::default()).await.unwrap();
        assert!(matches!(
            late.claim(&third, third_key, false).await.unwrap(),
            Claim::Claimed
        ));
        pg.sql(&format!(
            "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity WHERE application_name LIKE 'sigmamind dialer %{}'",
            late.location().rsplit(':').next().unwrap().trim_end_matches(')')
        ));
        let retrying = Journal::postgres(&url, "lost", &batch(), "http://api")
            .await
            .unwrap();
        retrying
            .begin_run(&Options::default().retry_unknown(true))
            .await
            .unwrap();
        assert!(matches!(
            retrying.claim(&third, third_key, true).await.unwrap(),
            Claim::Claimed
        ));
        let refused = late.finish(&third, third_key, &placed, 1).await.unwrap_err();
        assert!(refused.contains("no longer holds"), "{refused}");
    }

    /// The README sends a database administrator to the schema the
    /// journal runs, and pastes no copy of it that could fall behind.
    #[test]
    fn readme_points_at_the_schema_it_runs() {
        let readme = include_str!("../../README.md");
        assert!(readme.contains("`src/journal/postgres_schema.sql`"));
        assert!(!readme.contains("CREATE TABLE"), "README pastes the schema");
        assert!(super::SCHEMA.contains("CREATE TABLE IF NOT EXISTS sigmamind_calls"));
    }

    /// The tables as a release of journal format 1 created them.
    const SCHEMA_OF_FORMAT_1: &str = "
        CREATE TABLE sigmamind_campaigns (
            campaign_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL UNIQUE,
            from_number text NOT NULL, agent text NOT NULL, api text NOT NULL,
            format_version integer NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
        CREATE TABLE sigmamind_calls (
            campaign_id bigint NOT NULL REFERENCES sigmamind_campaigns (campaign_id),
            phone text NOT NULL, row_number bigint NOT NULL,
            state text NOT NULL CHECK (state IN ('sending', 'placed', 'failed', 'refused', 'unknown')),
            call_id text, status integer, error text, attempts integer NOT NULL DEFAULT 0,
            dialer text NOT NULL, claimed_at timestamptz NOT NULL DEFAULT now(), finished_at timestamptz,
            PRIMARY KEY (campaign_id, phone));
        CREATE TABLE sigmamind_dialers (
            dialer text PRIMARY KEY, campaign_id bigint NOT NULL REFERENCES sigmamind_campaigns (campaign_id),
            host text NOT NULL, pid integer NOT NULL, lock_key bigint NOT NULL,
            started_at timestamptz NOT NULL DEFAULT now(), heartbeat_at timestamptz NOT NULL DEFAULT now(),
            finished_at timestamptz);";

    /// A campaign of format 1 and its rows, as a format 1 dialer wrote them:
    /// `failed` (the server refused it) and `refused` (never sent).
    fn format_1_campaign(pg: &Postgres, name: &str) {
        pg.sql(&format!(
            "INSERT INTO sigmamind_campaigns (name, from_number, agent, api, format_version) \
             VALUES ('{name}', '+14155552671', '', 'http://api', 1)"
        ));
        pg.sql(&format!(
            "INSERT INTO sigmamind_calls (campaign_id, phone, row_number, state, call_id, status, error, dialer) \
             SELECT campaign_id, v.* FROM sigmamind_campaigns, (VALUES \
               ('+14155550101', 1, 'placed', 'call_1', NULL::integer, NULL, 'old:1:a'), \
               ('+14155550102', 2, 'failed', NULL, 422, 'no', 'old:1:a'), \
               ('+14155550103', 3, 'refused', NULL, NULL, 'stopped', 'old:1:a'), \
               ('+14155550104', 4, 'unknown', NULL, NULL, 'timed out', 'old:1:a')) \
               AS v(phone, row_number, state, call_id, status, error, dialer) \
             WHERE name = '{name}'"
        ));
    }

    fn states(pg: &Postgres, campaign: &str) -> Vec<String> {
        pg.sql(&format!(
            "SELECT c.state FROM sigmamind_calls c JOIN sigmamind_campaigns k USING (campaign_id) \
             WHERE k.name = '{campaign}' ORDER BY c.row_number"
        ))
    }

    /// Tables of format 1 are renamed once, when a dialer of format 2 first
    /// opens them: what each row meant is kept (the server's refusals stay
    /// refusals, with their status; a request never sent stays never sent,
    /// and both are dialled again), the campaign says format 2 (a format 1
    /// release then refuses it), and a format 1 dialer still running can no
    /// longer write its old name for a refusal. A campaign that a format 1
    /// dialer starts later is renamed at the next opening.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn tables_of_format_1_are_renamed_when_format_2_first_opens_them() {
        let pg = tokio::task::spawn_blocking(Postgres::start).await.unwrap();
        pg.sql(SCHEMA_OF_FORMAT_1);
        format_1_campaign(&pg, "spring");
        let journal = Journal::postgres(&pg.url(), "spring", &batch(), "http://api")
            .await
            .unwrap();
        assert_eq!(
            states(&pg, "spring"),
            ["placed", "refused", "not_sent", "unknown"]
        );
        assert_eq!(
            pg.sql("SELECT DISTINCT format_version FROM sigmamind_campaigns"),
            [super::VERSION.to_string()]
        );
        let key = |phone| crate::numbers::key(phone).unwrap();
        assert_eq!(
            journal.store.last_outcome(key("+14155550102")).await.unwrap(),
            Some(Outcome::Refused {
                status: Some(422),
                error: "no".into()
            })
        );
        assert_eq!(
            journal.store.last_outcome(key("+14155550103")).await.unwrap(),
            Some(Outcome::NotSent {
                error: "stopped".into()
            })
        );
        journal.begin_run(&Options::default()).await.unwrap();
        for (row, phone, dialled_again) in [
            (1, "+14155550101", false),
            (2, "+14155550102", true),
            (3, "+14155550103", true),
            (4, "+14155550104", false),
        ] {
            let (call, key) = call(row, phone);
            let claim = journal.claim(&call, key, false).await.unwrap();
            assert_eq!(
                matches!(claim, Claim::Claimed),
                dialled_again,
                "{phone}: {claim:?}"
            );
        }
        journal.end_run().await;
        drop(journal);

        // A format 1 dialer that was running: its name for a refusal is refused.
        let (client, connection) = tokio_postgres::connect(&pg.url(), tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        let old_write = client
            .execute(
                "UPDATE sigmamind_calls SET state = 'failed' WHERE phone = '+14155550102'",
                &[],
            )
            .await
            .unwrap_err();
        assert!(
            format!("{old_write:?}").contains("sigmamind_calls_state_check"),
            "{old_write:?}"
        );

        // A campaign a format 1 release starts afterwards (its dialer never
        // writes `failed` now), renamed when format 2 opens the tables again;
        // the campaign already renamed is left as it is.
        pg.sql(
            "INSERT INTO sigmamind_campaigns (name, from_number, agent, api, format_version) \
             VALUES ('summer', '+14155552671', '', 'http://api', 1)",
        );
        pg.sql(
            "INSERT INTO sigmamind_calls (campaign_id, phone, row_number, state, error, dialer) \
             SELECT campaign_id, '+14155550105', 5, 'refused', 'stopped', 'old:2:b' \
             FROM sigmamind_campaigns WHERE name = 'summer'",
        );
        let before = states(&pg, "spring");
        Journal::postgres(&pg.url(), "summer", &batch(), "http://api")
            .await
            .unwrap();
        assert_eq!(states(&pg, "summer"), ["not_sent"]);
        assert_eq!(states(&pg, "spring"), before);
        assert_eq!(
            pg.sql("SELECT DISTINCT format_version FROM sigmamind_campaigns"),
            [super::VERSION.to_string()]
        );
    }
}
