//! A PostgreSQL journal that goes away in the middle of a run: a
//! terminated session, a restarted server, a server that does not come
//! back. Against a real PostgreSQL server each test starts and the local
//! server, which counts every request and knows every call it placed.

use sigmamind_test_servers as support;

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use sigmamind_mock::{MockOptions, MockServer};
use support::postgres::Postgres;

const ROWS: usize = 300;
/// The local server's answer time while the dialer runs.
const LATENCY: Duration = Duration::from_millis(20);
/// Its answer time around the outage: the calls in flight stay in flight
/// while the database goes away (well under the client's 30 s timeout).
const HOLD: Duration = Duration::from_secs(4);

fn phone(i: usize) -> String {
    format!("+1415{i:07}")
}

fn write_list(dir: &Path) {
    let mut csv = String::from("phone,customer_name\n");
    for i in 0..ROWS {
        csv.push_str(&format!("{},C{i}\n", phone(i)));
    }
    std::fs::write(dir.join("contacts.csv"), csv).unwrap();
}

fn dialer(
    server: &MockServer,
    pg: &Postgres,
    dir: &Path,
    results: &str,
    outage: &str,
) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_sigmamind"))
        .current_dir(dir)
        .args(["calls", "create-batch", "contacts.csv", "--from", "+14155552671"])
        .args([
            "--concurrency",
            "5",
            "--journal",
            &pg.url(),
            "--campaign",
            "outage",
        ])
        .args(["--results", results, "--journal-outage", outage])
        .env("SIGMAMIND_API_KEY", server.api_key())
        .env("SIGMAMIND_BASE_URL", server.base_url())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start a dialer")
}

fn wait_for(mut done: impl FnMut() -> bool, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The calls the server placed: number → call id; none placed twice.
fn placed(server: &MockServer) -> HashMap<String, String> {
    let mut calls = HashMap::new();
    for call in server.placed_calls() {
        let to = call.to_phone_number().unwrap().to_owned();
        assert!(
            calls.insert(to.clone(), call.call_id).is_none(),
            "{to} was dialled twice"
        );
    }
    calls
}

/// The journal's rows: number → (state, call id).
fn journal(pg: &Postgres) -> HashMap<String, (String, String)> {
    pg.sql("SELECT phone, state, coalesce(call_id, '') FROM sigmamind_calls")
        .into_iter()
        .map(|line| {
            let mut cells = line.split('|').map(str::to_owned);
            let phone = cells.next().unwrap();
            (phone, (cells.next().unwrap(), cells.next().unwrap()))
        })
        .collect()
}

/// The numbers the dialer holds `sending`: its calls in flight.
fn sending(pg: &Postgres) -> HashSet<String> {
    pg.sql("SELECT phone FROM sigmamind_calls WHERE state = 'sending'")
        .into_iter()
        .collect()
}

/// Starts a dialer, waits until it is dialling, holds every answer so that
/// calls are in flight, runs `outage` on the database, and lets the answers
/// go. Returns the numbers in flight when the outage began and the dialer's
/// output.
fn run_through(
    server: &MockServer,
    pg: &Postgres,
    dir: &Path,
    outage_secs: &str,
    outage: impl FnOnce(),
) -> (HashSet<String>, Output) {
    write_list(dir);
    let child = dialer(server, pg, dir, "results.csv", outage_secs);
    wait_for(|| server.request_count() >= ROWS / 5, "a fifth of the list");
    server.set_latency(HOLD);
    std::thread::sleep(Duration::from_millis(300)); // answers sent before the hold land
    wait_for(|| !sending(pg).is_empty(), "calls in flight");
    let in_flight = sending(pg);
    outage();
    server.set_latency(LATENCY);
    let output = child.wait_with_output().unwrap();
    (in_flight, output)
}

/// What every outage must leave: nobody dialled twice, every call the
/// server placed `placed` in the journal with the server's call id (or
/// listed by the dialer for reconciliation: `unrecorded`), and a rerun
/// that dials the rest, each once.
fn check_and_resume(server: &MockServer, pg: &Postgres, dir: &Path, unrecorded: &HashSet<String>) {
    let calls = placed(server);
    let rows = journal(pg);
    for (number, call_id) in &calls {
        if unrecorded.contains(number) {
            continue;
        }
        assert_eq!(
            rows.get(number),
            Some(&("placed".to_owned(), call_id.clone())),
            "{number}: the server placed {call_id}"
        );
    }
    assert!(calls.len() < ROWS, "the outage came mid-way");
    let rerun = dialer(server, pg, dir, "results-again.csv", "120")
        .wait_with_output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&rerun.stderr);
    let calls = placed(server); // and again: nobody twice
    let rows = journal(pg);
    for i in 0..ROWS {
        let number = phone(i);
        if unrecorded.contains(&number) {
            // Its call exists, the journal could not say so: never dialled
            // again, unknown until a person reconciles it.
            assert_eq!(rows[&number].0, "unknown", "{number}");
            assert!(calls.contains_key(&number), "{number}");
        } else {
            assert_eq!(
                rows[&number],
                ("placed".to_owned(), calls[&number].clone()),
                "{number}"
            );
        }
    }
    let expected = if unrecorded.is_empty() { 0 } else { 3 };
    assert_eq!(rerun.status.code(), Some(expected), "{stderr}");
}

/// A run that lost its journal and got it back: it stopped claiming (exit
/// 1, saying why), and what was in flight is placed, its call id recorded
/// after the loss; nothing is left for a person to reconcile.
fn recorded_after_the_loss(pg: &Postgres, in_flight: &HashSet<String>, output: &Output) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("the connection to the journal was lost"),
        "{stderr}"
    );
    assert!(!stderr.contains("not in the journal"), "{stderr}");
    let rows = journal(pg);
    for number in in_flight {
        assert_eq!(rows[number].0, "placed", "{number} was in flight");
    }
}

/// The dialer's sessions are terminated by the database
/// (`pg_terminate_backend`, as an administrator or an idle timeout in a
/// proxy would) while calls are in flight: no new row is claimed, the
/// outcomes in flight are written on new sessions, the run says why it
/// stopped and exits non-zero, and a rerun dials the rest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_terminated_session_loses_no_outcome() {
    let pg = Postgres::start();
    let server = MockServer::start_with(MockOptions::default().latency(LATENCY)).await;
    let dir = tempfile::tempdir().unwrap();
    let (in_flight, output) = run_through(&server, &pg, dir.path(), "120", || {
        let ended = pg.sql(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 10000)) FROM pg_stat_activity \
             WHERE application_name LIKE 'sigmamind dialer %'",
        );
        // Its four sessions, and its heartbeat's once it has beaten.
        let ended: usize = ended[0].parse().unwrap();
        assert!(ended >= 4, "{ended} sessions ended");
    });
    recorded_after_the_loss(&pg, &in_flight, &output);
    check_and_resume(&server, &pg, dir.path(), &HashSet::new());
}

/// The database stops (`pg_ctl stop -m fast`, as a restart or a failover
/// does) while calls are in flight, and is still away when their answers
/// come: their outcomes wait for it, with backoff, and are written once it
/// is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_away_for_a_while_loses_no_outcome() {
    let pg = Postgres::start();
    let server = MockServer::start_with(MockOptions::default().latency(LATENCY)).await;
    let dir = tempfile::tempdir().unwrap();
    let (in_flight, output) = run_through(&server, &pg, dir.path(), "120", || {
        pg.stop();
        // Every answer in flight lands while nothing answers for the journal.
        std::thread::sleep(HOLD);
        wait_for(|| server.in_flight() == 0, "the answers in flight");
        std::thread::sleep(Duration::from_secs(1));
        pg.start_again();
    });
    recorded_after_the_loss(&pg, &in_flight, &output);
    check_and_resume(&server, &pg, dir.path(), &HashSet::new());
}

/// The database goes away and is not back within `--journal-outage`: the
/// outcomes in flight are printed and written to the results file (with a
/// `journal_error`), the dialer exits 3 saying so; once the database is
/// back, those rows are unknown (never dialled again) and the rest resumes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_that_stays_away_leaves_the_outcomes_to_the_results() {
    let pg = Postgres::start();
    let server = MockServer::start_with(MockOptions::default().latency(LATENCY)).await;
    let dir = tempfile::tempdir().unwrap();
    let (in_flight, output) = run_through(&server, &pg, dir.path(), "2", || pg.stop());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("the journal could not record"), "{stderr}");
    // The results name every call the journal could not take, with the
    // server's call id; the terminal lists them too.
    let calls = placed(&server);
    let results = std::fs::read_to_string(dir.path().join("results.csv")).unwrap();
    let mut reader = csv::Reader::from_reader(results.as_bytes());
    let header = reader.headers().unwrap().clone();
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    let mut unrecorded = HashSet::new();
    for record in reader.records() {
        let record = record.unwrap();
        if record[column("journal_error")].is_empty() {
            continue;
        }
        let number = record[column("phone")].trim_start_matches('\'').to_owned();
        assert_eq!(&record[column("outcome")], "placed", "{number}");
        assert_eq!(record[column("call_id")], calls[&number], "{number}");
        assert!(
            stderr.contains(&format!(
                "not in the journal: row {} ({number}) placed, call id {}",
                &record[column("row")],
                calls[&number]
            )),
            "{stderr}"
        );
        unrecorded.insert(number);
    }
    assert_eq!(
        unrecorded, in_flight,
        "every call in flight is listed, and only those"
    );
    pg.start_again();
    check_and_resume(&server, &pg, dir.path(), &unrecorded);
}
