//! The PostgreSQL journal's sessions, and its group commit: the claims
//! (and the outcomes) that a run's workers ask for at about the same time
//! go to the database as one statement, one transaction, one commit. Each
//! worker still waits for the commit of its own claim before its request
//! leaves (claimed durably before sent, as ever); nothing waits to fill a
//! batch: a batch is whatever queued while the previous one was being
//! committed. A commit waits for the database's disk, so one commit for
//! many rows is what lets a dialer go faster than its disk's flushes.

use std::collections::HashSet;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::{mpsc, oneshot};
use tokio_postgres::{Client, Statement};

use super::postgres_tls::Target;

/// A database error with its causes (a TLS handshake's reason is one), and
/// what to do about the TLS ones. tokio-postgres's messages never hold the
/// password.
pub(super) fn db(error: tokio_postgres::Error) -> String {
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
    } else if text.contains("must be owner of table sigmamind_") {
        " (the journal's tables are of format 1: the first dialer of format 2 renames their states, \
         which needs the tables' owner; run it once as the owner, or have the owner apply \
         src/journal/postgres_schema.sql)"
    } else if text.contains("server does not support TLS") {
        " (the server offers no TLS: enable it there; sslmode=disable would send the journal in plain text)"
    } else {
        ""
    };
    text.push_str(hint);
    text
}

/// What every session asks of the server: probe a silent dialer's socket
/// (a machine that vanished) so that its session, and its lock, end within
/// about 60 s. Ignored on a Unix socket.
const SESSION_SETTINGS: &str =
    "SET tcp_keepalives_idle = 30; SET tcp_keepalives_interval = 10; SET tcp_keepalives_count = 3";

/// Rows a statement carries at most.
const MOST: usize = 256;

/// Statements of one kind on the wire at once: while one batch waits for
/// its commit, the next is formed and sent (the database flushes the
/// commits that wait together at once).
const IN_FLIGHT: usize = 2;

/// Times a statement the database chose as a deadlock's victim is tried
/// again (nothing of it was committed).
const DEADLOCK_TRIES: usize = 5;

// Every batch statement finds its rows through the primary key, one
// number at a time (a LATERAL probe, or ON CONFLICT's arbiter index),
// whatever the planner believes of the table: a campaign's first run
// fills a table never analyzed, and a join the planner chose on that
// belief (a scan of the whole campaign per batch) made each batch slower
// than the last.

/// The rows of the numbers asked for (a read: no commit to wait for).
const STATE_SQL: &str = "SELECT c.phone, c.state, c.call_id, c.status, c.error, c.dialer \
     FROM unnest($2::text[]) AS u(phone) \
     CROSS JOIN LATERAL (SELECT * FROM sigmamind_calls WHERE campaign_id = $1 AND phone = u.phone) AS c";

/// Claims the rows it can, in the order of their numbers (so that two
/// dialers claiming overlapping batches lock rows in one order), and
/// returns the numbers claimed.
const CLAIM_SQL: &str = "INSERT INTO sigmamind_calls (campaign_id, phone, row_number, state, dialer) \
     SELECT $1, c.phone, c.row_number, 'sending', $4 \
       FROM unnest($2::text[], $3::int8[]) AS c(phone, row_number) ORDER BY c.phone \
     ON CONFLICT (campaign_id, phone) DO UPDATE SET state = 'sending', \
       dialer = EXCLUDED.dialer, row_number = EXCLUDED.row_number, claimed_at = now(), \
       call_id = NULL, status = NULL, error = NULL, attempts = 0, finished_at = NULL \
     WHERE sigmamind_calls.state IN ('refused', 'not_sent') \
        OR (sigmamind_calls.state = 'unknown' AND $5) \
     RETURNING phone";

/// The outcomes of this dialer's rows: over its claim, over an `unknown`
/// another dialer wrote for it while it was away (`$10` is how such an
/// error begins), or over the same outcome written before (a write whose
/// answer was lost). Returns the numbers written. An upsert, so that each
/// row is found by the arbiter index; a claimed row always exists (rows
/// are never deleted), so nothing is inserted.
const FINISH_SQL: &str = "INSERT INTO sigmamind_calls AS c \
       (campaign_id, phone, row_number, state, call_id, status, error, attempts, dialer, finished_at) \
     SELECT $1, u.phone, u.row_number, u.state, u.call_id, u.status, u.error, u.attempts, $9, now() \
       FROM unnest($2::text[], $3::int8[], $4::text[], $5::text[], $6::int4[], $7::text[], $8::int4[]) \
         AS u(phone, row_number, state, call_id, status, error, attempts) \
     ON CONFLICT (campaign_id, phone) DO UPDATE SET state = EXCLUDED.state, \
       call_id = EXCLUDED.call_id, status = EXCLUDED.status, error = EXCLUDED.error, \
       attempts = EXCLUDED.attempts, finished_at = now() \
     WHERE c.dialer = $9 \
       AND (c.state = 'sending' \
            OR (c.state = 'unknown' AND starts_with(c.error, $10)) \
            OR (c.state = EXCLUDED.state AND c.call_id IS NOT DISTINCT FROM EXCLUDED.call_id)) \
     RETURNING c.phone";

/// A session with the journal's settings and statements.
pub(super) struct Connection {
    pub client: Client,
    state: Statement,
    claim: Statement,
    finish: Statement,
}

impl Connection {
    /// A new session.
    async fn open(target: &Target) -> Result<Connection, tokio_postgres::Error> {
        let client = target.connect().await?;
        Connection::prepare(client).await
    }

    /// A session opened already (the first: it created the tables).
    pub(super) async fn prepare(client: Client) -> Result<Connection, tokio_postgres::Error> {
        client.batch_execute(SESSION_SETTINGS).await?;
        let state = client.prepare(STATE_SQL).await?;
        let claim = client.prepare(CLAIM_SQL).await?;
        let finish = client.prepare(FINISH_SQL).await?;
        Ok(Connection {
            client,
            state,
            claim,
            finish,
        })
    }
}

/// Whether an error means the session is gone (a restart, a failover, a
/// terminated backend, a network that failed), so that the statement may
/// be tried again on a new connection.
pub(super) fn connection_lost(error: &tokio_postgres::Error) -> bool {
    if error.is_closed() {
        return true;
    }
    match error.code() {
        // connection_exception; admin_shutdown, crash_shutdown, cannot_connect_now
        Some(code) => code.code().starts_with("08") || matches!(code.code(), "57P01" | "57P02" | "57P03"),
        // Not the server's answer: the socket failed, or the connection ended.
        None => error.as_db_error().is_none(),
    }
}

/// A dialer's sessions; the first holds its advisory lock. A slot whose
/// session has closed is given a new one when next used, and the journal
/// is lost for the rest of the run (the lock went with the session).
pub(super) struct Sessions {
    target: Target,
    slots: Vec<Mutex<Arc<Connection>>>,
    next: AtomicUsize,
    lost: AtomicBool,
}

impl Sessions {
    /// `first`, and `more` new sessions beside it.
    pub(super) async fn open(
        target: Target,
        first: Connection,
        more: usize,
    ) -> Result<Sessions, tokio_postgres::Error> {
        let mut slots = vec![Mutex::new(Arc::new(first))];
        for _ in 0..more {
            slots.push(Mutex::new(Arc::new(Connection::open(&target).await?)));
        }
        Ok(Sessions {
            target,
            slots,
            next: AtomicUsize::new(0),
            lost: AtomicBool::new(false),
        })
    }

    /// The next session in turn.
    pub(super) async fn any(&self) -> Result<Arc<Connection>, tokio_postgres::Error> {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.slots.len();
        self.at(i).await
    }

    /// The session in slot `i`, opened again if it has closed.
    pub(super) async fn at(&self, i: usize) -> Result<Arc<Connection>, tokio_postgres::Error> {
        let current = self.slots[i].lock().expect("journal session").clone();
        if !current.client.is_closed() {
            return Ok(current);
        }
        self.lost.store(true, Ordering::SeqCst);
        let fresh = Arc::new(Connection::open(&self.target).await?);
        *self.slots[i].lock().expect("journal session") = fresh.clone();
        Ok(fresh)
    }

    /// Whether a session was lost during the run (the lock's too).
    pub(super) fn is_lost(&self) -> bool {
        if self.slots[0].lock().expect("journal session").client.is_closed() {
            self.lost.store(true, Ordering::SeqCst);
        }
        self.lost.load(Ordering::SeqCst)
    }

    /// Notes that a session was lost.
    pub(super) fn lose(&self) {
        self.lost.store(true, Ordering::SeqCst);
    }

    /// Where new sessions go.
    pub(super) fn target(&self) -> &Target {
        &self.target
    }
}

/// Why a batch's statement did not do its work.
#[derive(Debug, Clone)]
pub(super) enum Unwritten {
    /// The session is gone: worth trying again on a new one.
    Lost(String),
    /// The database answered no: trying again would not help.
    Refused(String),
}

impl Unwritten {
    fn of(error: tokio_postgres::Error) -> Unwritten {
        if connection_lost(&error) {
            Unwritten::Lost(db(error))
        } else {
            Unwritten::Refused(db(error))
        }
    }
}

/// A claim a worker asks for.
pub(super) struct ClaimItem {
    pub phone: String,
    pub row: i64,
    pub retry_unknown: bool,
}

/// An outcome a worker writes.
pub(super) struct FinishItem {
    pub phone: String,
    pub row: i64,
    pub state: &'static str,
    pub call_id: Option<String>,
    pub status: Option<i32>,
    pub error: Option<String>,
    pub attempts: i32,
}

type Reply<R> = oneshot::Sender<Result<R, Unwritten>>;

/// One task that sends what the workers queue, a batch per statement.
pub(super) struct Batcher<T, R> {
    queue: mpsc::UnboundedSender<(T, Reply<R>)>,
    task: tokio::task::JoinHandle<()>,
}

impl<T: Send + 'static, R: Send + 'static> Batcher<T, R> {
    /// Starts the task; `write` sends one batch and says, item for item,
    /// what became of it.
    fn start<F, Fut>(write: F) -> Self
    where
        F: Fn(Vec<T>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Vec<R>, Unwritten>> + Send + 'static,
    {
        let (queue, mut queued) = mpsc::unbounded_channel::<(T, Reply<R>)>();
        let write = Arc::new(write);
        let slots = Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT));
        let task = tokio::spawn(async move {
            while let Some(first) = queued.recv().await {
                // A batch leaves when a statement may: what queued meanwhile goes with it.
                let Ok(slot) = slots.clone().acquire_owned().await else {
                    return;
                };
                let mut batch = vec![first];
                while batch.len() < MOST {
                    match queued.try_recv() {
                        Ok(item) => batch.push(item),
                        Err(_) => break,
                    }
                }
                let write = write.clone();
                tokio::spawn(async move {
                    let (items, replies): (Vec<T>, Vec<Reply<R>>) = batch.into_iter().unzip();
                    let answer = write(items).await;
                    drop(slot);
                    match answer {
                        Ok(results) => {
                            for (reply, result) in replies.into_iter().zip(results) {
                                let _ = reply.send(Ok(result));
                            }
                        }
                        Err(error) => {
                            for reply in replies {
                                let _ = reply.send(Err(error.clone()));
                            }
                        }
                    }
                });
            }
        });
        Batcher { queue, task }
    }

    /// Queues `item` and waits for its batch's answer.
    pub(super) async fn ask(&self, item: T) -> Result<R, Unwritten> {
        let (reply, answer) = oneshot::channel();
        if self.queue.send((item, reply)).is_err() {
            return Err(Unwritten::Refused("the journal's writer has stopped".to_owned()));
        }
        answer
            .await
            .unwrap_or_else(|_| Err(Unwritten::Refused("the journal's writer has stopped".to_owned())))
    }
}

impl<T, R> Drop for Batcher<T, R> {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What a batch statement needs to know of the dialer.
#[derive(Clone)]
pub(super) struct Owner {
    pub sessions: Arc<Sessions>,
    pub campaign_id: i64,
    pub dialer: String,
    /// How an error begins when another dialer left the row `unknown`.
    pub left_by_its_dialer: &'static str,
}

/// A number's row as the journal holds it.
#[derive(Debug, Clone)]
pub(super) struct Found {
    pub state: String,
    pub call_id: Option<String>,
    pub status: Option<i32>,
    pub error: Option<String>,
    pub dialer: String,
}

/// The lookups' batcher: for each number, its row if it has one.
pub(super) fn lookups(owner: Owner) -> Batcher<String, Option<Found>> {
    Batcher::start(move |phones: Vec<String>| {
        let owner = owner.clone();
        async move {
            let rows = with_deadlock_tries(|| async {
                let connection = owner.sessions.any().await?;
                Ok(connection
                    .client
                    .query(&connection.state, &[&owner.campaign_id, &phones])
                    .await?)
            })
            .await?;
            let found: std::collections::HashMap<String, Found> = rows
                .into_iter()
                .map(|row| {
                    let found = Found {
                        state: row.get(1),
                        call_id: row.get(2),
                        status: row.get(3),
                        error: row.get(4),
                        dialer: row.get(5),
                    };
                    (row.get(0), found)
                })
                .collect();
            Ok(phones.iter().map(|phone| found.get(phone).cloned()).collect())
        }
    })
}

/// The claims' batcher: for each item, whether it was claimed.
pub(super) fn claims(owner: Owner) -> Batcher<ClaimItem, bool> {
    Batcher::start(move |items: Vec<ClaimItem>| {
        let owner = owner.clone();
        async move {
            let mut claimed = HashSet::new();
            // One statement per kind of run (retrying unknown rows or not),
            // and per repeat of a number (one statement may not touch a row
            // twice); in practice one statement.
            for round in rounds(&items, |item| (item.retry_unknown, item.phone.as_str())) {
                let retry_unknown = items[round[0]].retry_unknown;
                let phones: Vec<&str> = round.iter().map(|&i| items[i].phone.as_str()).collect();
                let rows: Vec<i64> = round.iter().map(|&i| items[i].row).collect();
                let done = with_deadlock_tries(|| async {
                    let connection = owner.sessions.any().await?;
                    // A claim after the journal was lost (this session may
                    // be a new one, without the lock) is never made.
                    if owner.sessions.is_lost() {
                        return Err(Failed::JournalLost);
                    }
                    Ok(connection
                        .client
                        .query(
                            &connection.claim,
                            &[&owner.campaign_id, &phones, &rows, &owner.dialer, &retry_unknown],
                        )
                        .await?)
                })
                .await?;
                for row in done {
                    claimed.insert((retry_unknown, row.get::<_, String>(0)));
                }
            }
            Ok(items
                .iter()
                .map(|item| claimed.contains(&(item.retry_unknown, item.phone.clone())))
                .collect())
        }
    })
}

/// The outcomes' batcher: for each item, whether it was written.
pub(super) fn finishes(owner: Owner) -> Batcher<FinishItem, bool> {
    Batcher::start(move |items: Vec<FinishItem>| {
        let owner = owner.clone();
        async move {
            let mut written = HashSet::new();
            for round in rounds(&items, |item| ((), item.phone.as_str())) {
                // One array per column, borrowed from the items.
                let members: Vec<&FinishItem> = round.iter().map(|&i| &items[i]).collect();
                let phones: Vec<&str> = members.iter().map(|item| item.phone.as_str()).collect();
                let states: Vec<&str> = members.iter().map(|item| item.state).collect();
                let call_ids: Vec<Option<&str>> =
                    members.iter().map(|item| item.call_id.as_deref()).collect();
                let errors: Vec<Option<&str>> = members.iter().map(|item| item.error.as_deref()).collect();
                let rows: Vec<i64> = members.iter().map(|item| item.row).collect();
                let statuses: Vec<Option<i32>> = members.iter().map(|item| item.status).collect();
                let attempts: Vec<i32> = members.iter().map(|item| item.attempts).collect();
                let done = with_deadlock_tries(|| async {
                    let connection = owner.sessions.any().await?;
                    Ok(connection
                        .client
                        .query(
                            &connection.finish,
                            &[
                                &owner.campaign_id,
                                &phones,
                                &rows,
                                &states,
                                &call_ids,
                                &statuses,
                                &errors,
                                &attempts,
                                &owner.dialer,
                                &owner.left_by_its_dialer,
                            ],
                        )
                        .await?)
                })
                .await?;
                for row in done {
                    written.insert(row.get::<_, String>(0));
                }
            }
            Ok(items.iter().map(|item| written.contains(&item.phone)).collect())
        }
    })
}

/// The items split into statements: each statement's items share a kind,
/// and no number twice.
fn rounds<T, K: PartialEq + Copy>(items: &[T], key: impl Fn(&T) -> (K, &str)) -> Vec<Vec<usize>> {
    let mut rounds: Vec<(K, HashSet<&str>, Vec<usize>)> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let (kind, phone) = key(item);
        match rounds
            .iter_mut()
            .find(|(k, phones, _)| *k == kind && !phones.contains(phone))
        {
            Some((_, phones, members)) => {
                phones.insert(phone);
                members.push(i);
            }
            None => rounds.push((kind, HashSet::from([phone]), vec![i])),
        }
    }
    rounds.into_iter().map(|(_, _, members)| members).collect()
}

/// Runs a one-statement transaction, again if the database ended it as a
/// deadlock's victim (two dialers' batches waiting on each other's rows):
/// nothing of it was committed.
async fn with_deadlock_tries<F, Fut, R>(statement: F) -> Result<R, Unwritten>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<R, Failed>>,
{
    let mut tries = 1;
    loop {
        match statement().await {
            Ok(done) => return Ok(done),
            Err(Failed::Database(error))
                if error.code() == Some(&tokio_postgres::error::SqlState::T_R_DEADLOCK_DETECTED)
                    && tries < DEADLOCK_TRIES =>
            {
                tries += 1;
            }
            Err(Failed::Database(error)) => return Err(Unwritten::of(error)),
            Err(Failed::JournalLost) => {
                return Err(Unwritten::Lost(
                    "a session was lost earlier in the run".to_owned(),
                ))
            }
        }
    }
}

/// Why a statement was not run, or failed.
enum Failed {
    Database(tokio_postgres::Error),
    /// A claim met a journal lost earlier in the run.
    JournalLost,
}

impl From<tokio_postgres::Error> for Failed {
    fn from(error: tokio_postgres::Error) -> Self {
        Failed::Database(error)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_number_twice_goes_into_a_second_statement() {
        let items = [("a", true), ("b", true), ("a", true), ("c", false), ("a", true)];
        let rounds = super::rounds(&items, |(phone, kind)| (*kind, *phone));
        assert_eq!(rounds, [vec![0, 1], vec![2], vec![3], vec![4]]);
    }
}
