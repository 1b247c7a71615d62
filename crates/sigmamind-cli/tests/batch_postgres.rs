//! The batch journal in PostgreSQL, shared by several dialers, against a
//! real PostgreSQL server each test starts (`sigmamind_test_servers::postgres`) and
//! the local server, which counts every request.

use sigmamind_test_servers as support;

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sigmamind::ClientInfo;
use sigmamind_dialler::{self as batch, Batch, Contact, Journal, Options};
use sigmamind_mock::{MockOptions, MockServer};
use support::postgres::Postgres;

const ROWS: usize = 600;
/// The local server's answer time while the dialers run.
const LATENCY: Duration = Duration::from_millis(50);
/// Its answer time around the kill: long enough to look and kill on a
/// loaded machine, well under the client's 30 s timeout.
const HOLD: Duration = Duration::from_secs(6);

fn phone(i: usize) -> String {
    format!("+1415{i:07}")
}

/// Requests the server received, per destination number.
fn received(server: &MockServer) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for request in server.requests() {
        if let Some(to) = request
            .json()
            .and_then(|b| b["toPhoneNumber"].as_str().map(str::to_owned))
        {
            *counts.entry(to).or_default() += 1;
        }
    }
    counts
}

fn dialer(server: &MockServer, pg: &Postgres, dir: &Path, results: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_sigmamind"))
        .current_dir(dir)
        .args([
            "calls",
            "create-batch",
            "contacts.csv",
            "--from",
            "+14155552671",
            "--concurrency",
            "5",
        ])
        .args([
            "--journal",
            &pg.url(),
            "--campaign",
            "spring-outreach",
            "--results",
            results,
        ])
        .env("SIGMAMIND_API_KEY", server.api_key())
        .env("SIGMAMIND_BASE_URL", server.base_url())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start a dialer")
}

/// One list run by two dialers of one process at once, each with its journal.
async fn both(
    client: &sigmamind::Client,
    batch: &Batch,
    list: &[Contact],
    [a, b]: [&Journal; 2],
    options: &Options,
) -> (batch::Report, batch::Report) {
    let run = |journal| {
        batch::run(
            client,
            batch,
            list.iter().cloned().map(Ok),
            journal,
            options,
            |_| {},
        )
    };
    tokio::join!(run(a), run(b))
}

fn wait_for(mut done: impl FnMut() -> bool, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Three dialer processes, one list, one database; one SIGKILLed mid-way
/// and started again. As counted by the server: no number is dialled twice;
/// every row that was not in flight at the kill is placed exactly once; the
/// rows the killed dialer left `sending` are `unknown` and not dialled
/// again. The rows read back with plain SQL (`psql`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_dialers_split_one_list_and_a_killed_one_dials_nobody_twice() {
    let pg = Postgres::start();
    let server = MockServer::start_with(MockOptions::default().latency(LATENCY)).await;
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from("phone,customer_name\n");
    for i in 0..ROWS {
        csv.push_str(&format!("{},C{i}\n", phone(i)));
    }
    std::fs::write(dir.path().join("contacts.csv"), csv).unwrap();

    // The dialer to kill starts first and is killed while it is dialling:
    // on a loaded machine a process's start can lag behind the others', and
    // the kill must catch calls in flight.
    let mut dialers = vec![dialer(&server, &pg, dir.path(), "results-0.csv")];
    let killed = dialers[0].id();
    let dialling = format!(
        "SELECT count(*) > 0 FROM sigmamind_calls WHERE state = 'sending' AND dialer LIKE '%:{killed}:%'"
    );
    let is_dialling = || pg.sql(&dialling) == ["t"];
    wait_for(
        || server.request_count() > 0 && is_dialling(),
        "the first dialer to be dialling",
    );
    dialers.extend((1..3).map(|n| dialer(&server, &pg, dir.path(), &format!("results-{n}.csv"))));
    wait_for(|| server.request_count() >= ROWS / 4, "a quarter of the list");
    // From here every answer is held back, so that what the first dialer
    // has in flight stays in flight until the kill: without the hold, a
    // loaded machine (CI once did) lets its last answers land between the
    // look at the database and the kill, and the kill catches nothing.
    server.set_latency(HOLD);
    std::thread::sleep(Duration::from_millis(300)); // answers sent before the hold land
    wait_for(is_dialling, "the first dialer to have calls in flight");
    dialers[0].kill().expect("SIGKILL");
    dialers[0].wait().unwrap();
    // What it left in flight, before anyone looks at it.
    let left: HashSet<String> = pg
        .sql(&format!(
            "SELECT phone FROM sigmamind_calls WHERE state = 'sending' AND dialer LIKE '%:{killed}:%'"
        ))
        .into_iter()
        .collect();
    let at_kill = server.request_count();
    assert!(at_kill < ROWS, "the kill came mid-way ({at_kill} requests)");
    assert!(!left.is_empty(), "the kill caught calls in flight");
    server.set_latency(LATENCY);

    dialers[0] = dialer(&server, &pg, dir.path(), "results-0-again.csv");
    for child in &mut dialers {
        let status = child.wait().unwrap();
        // 0: all placed; 3: the killed dialer's rows are unknown.
        assert!(matches!(status.code(), Some(0 | 3)), "{status:?}");
    }

    let received = received(&server);
    assert!(received.values().all(|&n| n == 1), "a number was dialled twice");
    let states: HashMap<String, String> = pg
        .sql("SELECT phone, state FROM sigmamind_calls c JOIN sigmamind_campaigns USING (campaign_id) WHERE name = 'spring-outreach'")
        .into_iter()
        .map(|line| {
            let (phone, state) = line.split_once('|').unwrap();
            (phone.to_owned(), state.to_owned())
        })
        .collect();
    assert_eq!(states.len(), ROWS, "every row is in the journal");
    for i in 0..ROWS {
        let number = phone(i);
        if left.contains(&number) {
            assert_eq!(states[&number], "unknown", "{number} was in flight at the kill");
            assert!(received.get(&number).copied().unwrap_or(0) <= 1);
        } else {
            assert_eq!(states[&number], "placed", "{number}");
            assert_eq!(received.get(&number), Some(&1), "{number} placed exactly once");
        }
    }
    // They split the list between them.
    let placing: Vec<String> = pg.sql("SELECT DISTINCT dialer FROM sigmamind_calls WHERE state = 'placed'");
    assert!(placing.len() >= 3, "{placing:?}");
    // And say who ran.
    let dialers_seen = pg.sql("SELECT count(*) FROM sigmamind_dialers WHERE finished_at IS NOT NULL");
    assert_eq!(dialers_seen, ["4"]);
}

/// Two dialers in one process share a campaign: each number once. A
/// journal for another caller number is refused; retrying unknown rows
/// claims each once however many dialers try.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dialers_in_one_process_share_a_campaign_and_its_identity_is_checked() {
    let pg = Postgres::start();
    let server = MockServer::start_with(MockOptions::default().latency(Duration::from_millis(5))).await;
    let client = server.client();
    let batch = Batch::new("+14155552671").unwrap();
    let list: Vec<Contact> = (0..100).map(|i| Contact::new(phone(i))).collect();
    let (a, b) = (
        Journal::postgres(&pg.url(), "shared", &batch, client.baseurl())
            .await
            .unwrap(),
        Journal::postgres(&pg.url(), "shared", &batch, client.baseurl())
            .await
            .unwrap(),
    );
    let options = Options::default().concurrency(8);
    let (ra, rb) = both(&client, &batch, &list, [&a, &b], &options).await;
    let (ca, cb) = (ra.counts(), rb.counts());
    assert_eq!(ca.placed + cb.placed, 100, "{ca:?} {cb:?}");
    assert_eq!(server.request_count(), 100);
    assert!(received(&server).values().all(|&n| n == 1));
    assert_eq!(ca.total(), 100);
    assert_eq!(cb.total(), 100);

    // Unknown rows, retried by two dialers at once: each dialled once more.
    pg.sql("UPDATE sigmamind_calls SET state = 'unknown' WHERE phone IN ('+14150000000', '+14150000001')");
    let retry = Options::default().concurrency(8).retry_unknown(true);
    let (ra, rb) = both(&client, &batch, &list, [&a, &b], &retry).await;
    assert_eq!(ra.counts().placed + rb.counts().placed, 2);
    assert_eq!(server.request_count(), 102);

    let other = Batch::new("+14155552672").unwrap();
    let error = Journal::postgres(&pg.url(), "shared", &other, client.baseurl())
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("belongs to another batch"), "{error}");
    assert!(!error.contains("password"), "{error}");

    // Asked to encrypt, it refuses rather than send the numbers in the clear.
    let tls = format!("{} sslmode=require", pg.url());
    let error = Journal::postgres(&tls, "shared", &batch, client.baseurl())
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("TLS"), "{error}");
}
