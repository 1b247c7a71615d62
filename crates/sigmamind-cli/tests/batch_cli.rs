//! `sigmamind calls create-batch`, run as a user would: killed with SIGKILL
//! mid-way, then resumed, against a local server that counts every request.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sigmamind_mock::{Fault, MockOptions, MockServer};

const VALID_ROWS: usize = 40;

fn phone(i: usize) -> String {
    format!("+1415{i:07}")
}

/// 40 valid rows, then an invalid number, a missing variable, a duplicate.
fn write_contacts(path: &Path) {
    let mut csv = String::from("phone,customer_name,account_id\n");
    for i in 0..VALID_ROWS {
        csv.push_str(&format!("{},Customer {i},ACC-{i}\n", phone(i)));
    }
    csv.push_str("+1234,Ann,ACC-x\n");
    csv.push_str(&format!("{},,ACC-y\n", phone(100)));
    csv.push_str(&format!("{},Again,ACC-z\n", phone(3)));
    std::fs::write(path, csv).unwrap();
}

fn start(server: &MockServer, dir: &Path, extra: &[&str]) -> Child {
    start_from(server, dir, "+14155552671", extra)
}

fn start_from(server: &MockServer, dir: &Path, from: &str, extra: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_sigmamind"))
        .current_dir(dir)
        .args([
            "calls",
            "create-batch",
            "contacts.csv",
            "--from",
            from,
            "--require",
            "customer_name",
            "--concurrency",
            "4",
        ])
        .args(extra)
        .env("SIGMAMIND_API_KEY", server.api_key())
        .env("SIGMAMIND_BASE_URL", server.base_url())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the sigmamind binary")
}

/// Requests the server received (placed or not), per destination number.
fn received_per_phone(server: &MockServer) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for request in server.requests() {
        let to = request.json().unwrap()["toPhoneNumber"]
            .as_str()
            .unwrap()
            .to_owned();
        *counts.entry(to).or_default() += 1;
    }
    counts
}

/// Numbers with a `sending` record and no outcome after it.
fn sent_without_outcome(journal: &Path) -> HashSet<String> {
    let mut open = HashSet::new();
    for line in std::fs::read_to_string(journal).unwrap().lines() {
        let Ok(record) = serde_json::from_str::<serde_json::Value>(line) else {
            continue; // a torn last line
        };
        let Some(phone) = record["phone"].as_str() else {
            continue;
        };
        match record["event"].as_str().unwrap() {
            "sending" => {
                open.insert(phone.to_owned());
            }
            "outcome" => {
                open.remove(phone);
            }
            _ => {}
        }
    }
    open
}

/// `phone#row → outcome` from the results CSV (read with the csv crate).
/// Every row names where the calls went; a number's leading `+` is kept
/// from spreadsheets by a `'` (OWASP), which is taken off here.
fn results(dir: &Path) -> HashMap<String, String> {
    let mut reader = csv::Reader::from_path(dir.join("contacts.csv.results.csv")).unwrap();
    let headers = reader.headers().unwrap().clone();
    assert_eq!(
        headers.iter().collect::<Vec<_>>(),
        [
            "row",
            "phone",
            "given_phone",
            "outcome",
            "call_id",
            "status",
            "error",
            "attempts",
            "earlier_run",
            "target",
            "journal_error"
        ]
    );
    reader
        .records()
        .map(|record| {
            let record = record.unwrap();
            assert!(record[9].starts_with("http://127.0.0.1:"), "{record:?}");
            assert_eq!(
                &record[10], "",
                "a file journal recorded every outcome: {record:?}"
            );
            let phone = record[1].strip_prefix('\'').expect("a number is never a formula");
            (format!("{phone}#{}", &record[0]), record[3].to_owned())
        })
        .collect()
}

fn outcome_of(results: &HashMap<String, String>, phone: &str) -> String {
    let mut found: Vec<_> = results
        .iter()
        .filter(|(k, _)| k.split('#').next() == Some(phone))
        .map(|(_, v)| v.clone())
        .collect();
    found.sort();
    found.join("+")
}

fn finish(child: Child) -> std::process::Output {
    child.wait_with_output().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_killed_mid_way_resumes_without_dialling_anyone_twice() {
    let server = MockServer::start_with(MockOptions::default().latency(Duration::from_millis(300))).await;
    let dir = tempfile::tempdir().unwrap();
    write_contacts(&dir.path().join("contacts.csv"));
    let journal = dir.path().join("contacts.csv.journal.jsonl");

    // Kill it while the third round of requests is in flight.
    let mut child = start(&server, dir.path(), &[]);
    let deadline = Instant::now() + Duration::from_secs(60);
    while !(server.request_count() >= 9 && server.in_flight() > 0) {
        assert!(Instant::now() < deadline, "the batch never got going");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    // Let the server finish what it was handling.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let before = received_per_phone(&server);
    let unknown = sent_without_outcome(&journal);
    let in_flight: HashSet<_> = unknown
        .iter()
        .filter(|p| before.contains_key(*p))
        .cloned()
        .collect();
    assert!(!in_flight.is_empty(), "the kill must catch requests in flight");
    assert!(before.len() < VALID_ROWS, "the kill must come mid-way");
    assert!(before.values().all(|&n| n == 1));

    // Resume: the same command.
    let output = finish(start(&server, dir.path(), &[]));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(3),
        "unknown rows exit 3; stderr: {stderr}"
    );
    assert!(stderr.contains("resuming"), "{stderr}");
    assert!(
        stderr.contains("Row 41: invalid phone number '+1234'"),
        "{stderr}"
    );
    assert!(
        stderr.contains("Row 42: missing required variable 'customer_name'"),
        "{stderr}"
    );

    let after = received_per_phone(&server);
    let results = results(dir.path());
    for i in 0..VALID_ROWS {
        let phone = phone(i);
        let sent = after.get(&phone).copied().unwrap_or(0);
        if unknown.contains(&phone) {
            // In flight (or about to be) at the kill: reported unknown, never re-dialled.
            assert_eq!(
                sent,
                before.get(&phone).copied().unwrap_or(0),
                "{phone} re-dialled"
            );
            assert_eq!(outcome_of(&results, &phone), "unknown", "{phone}");
        } else {
            assert_eq!(sent, 1, "{phone} must be placed exactly once");
            let outcome = outcome_of(&results, &phone);
            // Row 4's number is also row 43 (a duplicate, invalid).
            let expected = if i == 3 { "invalid+placed" } else { "placed" };
            assert_eq!(outcome, expected, "{phone}");
        }
    }
    assert_eq!(after.get("+1234"), None);
    assert_eq!(after.get(&phone(100)), None);

    // A third run, told to: the unknown rows are dialled, once more each.
    let output = finish(start(&server, dir.path(), &["--retry-unknown"]));
    assert_eq!(
        output.status.code(),
        Some(1),
        "the invalid rows are still invalid"
    );
    let last = received_per_phone(&server);
    for i in 0..VALID_ROWS {
        let phone = phone(i);
        let expected = after.get(&phone).copied().unwrap_or(0) + usize::from(unknown.contains(&phone));
        assert_eq!(last.get(&phone).copied().unwrap_or(0), expected, "{phone}");
    }
    let summary = String::from_utf8_lossy(&output.stdout);
    assert!(summary.contains("unknown                         0"), "{summary}");
}

#[tokio::test]
async fn a_dry_run_sends_nothing_and_names_the_bad_rows() {
    let server = MockServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    write_contacts(&dir.path().join("contacts.csv"));
    let output = finish(start(&server, dir.path(), &["--dry-run"]));
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("40 of 43 rows would be dialled (3 invalid, 0 suppressed)"),
        "{stdout}"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("Row 43: duplicate phone number '+14150000003' (already in row 4)"),
        "{stderr}"
    );
    assert_eq!(server.request_count(), 0);
    assert!(!dir.path().join("contacts.csv.journal.jsonl").exists());
}

#[tokio::test]
async fn bad_arguments_are_refused_before_anything_is_sent() {
    let server = MockServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    write_contacts(&dir.path().join("contacts.csv"));
    let output = finish(start_from(&server, dir.path(), "4155552671", &[]));
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--from: doesn't match pattern"), "{stderr}");
    let output = finish(start(&server, dir.path(), &["--phone-column", "mobile"]));
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no column `mobile`"), "{stderr}");
    assert_eq!(server.request_count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_run_finishes_the_calls_in_flight_and_starts_no_more() {
    let server = MockServer::start_with(MockOptions::default().latency(Duration::from_millis(300))).await;
    let dir = tempfile::tempdir().unwrap();
    write_contacts(&dir.path().join("contacts.csv"));
    let child = start(&server, dir.path(), &[]);
    let deadline = Instant::now() + Duration::from_secs(60);
    while !(server.request_count() >= 5 && server.in_flight() > 0) {
        assert!(Instant::now() < deadline, "the batch never got going");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // Ctrl-C.
    let interrupted = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupted.success());
    let output = finish(child);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("stopping: no new calls"), "{stderr}");

    // Every request the server received was answered and recorded: none unknown.
    let journal = dir.path().join("contacts.csv.journal.jsonl");
    assert!(sent_without_outcome(&journal).is_empty());
    let received = received_per_phone(&server);
    let results = results(dir.path());
    let placed = results.values().filter(|o| *o == "placed").count();
    assert_eq!(placed, received.len());
    assert!(placed < VALID_ROWS, "it stopped early");
    assert!(!results.values().any(|o| o == "unknown"));

    // The next run dials the rest, once each.
    let output = finish(start(&server, dir.path(), &[]));
    assert_eq!(output.status.code(), Some(1), "the invalid rows are refused");
    let received = received_per_phone(&server);
    assert_eq!(received.len(), VALID_ROWS);
    assert!(received.values().all(|&n| n == 1));
}

// Multi-threaded: the test thread blocks on the child while the server answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn results_as_json_lines_drift_noted_and_a_journal_for_another_target_refused() {
    let server = MockServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    write_contacts(&dir.path().join("contacts.csv"));
    // One answer from a newer server: placed all the same, and said once.
    server.push_fault(Fault::UnknownEnumValues);
    let output = finish(start(&server, dir.path(), &["--results", "out.jsonl"]));
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("note: the response drifted"), "{stderr}");
    let text = std::fs::read_to_string(dir.path().join("out.jsonl")).unwrap();
    // Rows as they finished: looked up by their number.
    let rows: HashMap<u64, serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .map(|row| (row["row"].as_u64().unwrap(), row))
        .collect();
    assert_eq!(rows.len(), VALID_ROWS + 3);
    assert_eq!(rows[&1]["outcome"], "placed");
    assert!(rows[&1]["callId"].as_str().unwrap().starts_with("call_"));
    assert_eq!(rows[&41]["outcome"], "invalid");
    assert_eq!(
        rows[&41]["error"],
        "Row 41: invalid phone number '+1234' (expected +E.164: '+', the country code and the number, \
         digits only, such as +14155550101; numbers written as people write them need a region)"
    );

    // The same journal, another caller number: refused, nothing sent.
    let sent = server.request_count();
    let output = finish(start_from(&server, dir.path(), "+14155552672", &[]));
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("belongs to another batch"), "{stderr}");
    assert_eq!(server.request_count(), sent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_list_of_row_errors_is_cut_on_screen_and_whole_in_the_results() {
    let server = MockServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from("phone,customer_name\n");
    for i in 0..25 {
        csv.push_str(&format!("+1{i},Customer {i}\n")); // too short to be E.164
    }
    csv.push_str("+14155550100,Last\n");
    std::fs::write(dir.path().join("contacts.csv"), csv).unwrap();
    let output = finish(start(&server, dir.path(), &[]));
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        stderr.lines().filter(|l| l.starts_with("Row ")).count(),
        20,
        "{stderr}"
    );
    assert!(
        stderr.contains("... and 5 more row errors (all of them are in the results file)"),
        "{stderr}"
    );
    let results = results(dir.path());
    assert_eq!(results.values().filter(|o| *o == "invalid").count(), 25);
    assert_eq!(results.values().filter(|o| *o == "placed").count(), 1);
}
