//! What the world does that no earlier test list named: secrets in URLs
//! and keys, a configuration that lost its secret, files a user owns,
//! signals mid-pause, a rejected key, a day-long `Retry-After`, journals
//! fed whatever bytes, and text meant for a terminal. Real binaries, real
//! files (links included), servers on loopback.

use sigmamind_test_servers as support;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use sigmamind::Client;
use sigmamind_dialler::{self as batch, Batch, Contact, Journal, Options};
use sigmamind_mock::{MockOptions, MockServer};
use support::hostile::{HostileServer, Mode};

fn sigmamind(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sigmamind"));
    command
        .current_dir(dir)
        .args(args)
        .env_remove("SIGMAMIND_API_KEY")
        .env_remove("SIGMAMIND_BASE_URL");
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().expect("run the sigmamind binary")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const CREATE: [&str; 6] = [
    "calls",
    "create",
    "--from",
    "+14155552671",
    "--to",
    "+14155552672",
];

fn contacts(dir: &Path, rows: usize) {
    let mut csv = String::from("phone,customer_name\n");
    for i in 0..rows {
        csv.push_str(&format!("+1415555{i:04},C{i}\n"));
    }
    std::fs::write(dir.join("contacts.csv"), csv).unwrap();
}

fn batch_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["calls", "create-batch", "contacts.csv", "--from", "+14155552671"];
    args.extend_from_slice(extra);
    args
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

// ---- secrets ----

#[test]
fn a_password_in_the_base_url_is_refused_and_never_shown() {
    let error = Client::builder()
        .api_key("k")
        .base_url("https://dialer:hunter2@api.sigmamind.ai")
        .build()
        .unwrap_err()
        .to_string();
    assert!(error.contains("carries a user name or password"), "{error}");
    assert!(!error.contains("hunter2"), "{error}");
    // Not even a URL too broken to parse echoes it, nor the builder's Debug.
    let error = Client::builder()
        .api_key("k")
        .base_url("https://dialer:hunter2@api sigmamind")
        .build()
        .unwrap_err()
        .to_string();
    assert!(!error.contains("hunter2"), "{error}");
    let debug = format!(
        "{:?}",
        Client::builder()
            .api_key("sk_secret")
            .base_url("https://u:hunter2@h")
    );
    assert!(
        !debug.contains("hunter2") && !debug.contains("sk_secret"),
        "{debug}"
    );
    // Through the CLI, the same.
    let dir = tempfile::tempdir().unwrap();
    let out = sigmamind(
        dir.path(),
        &CREATE,
        &[
            ("SIGMAMIND_API_KEY", "k"),
            ("SIGMAMIND_BASE_URL", "https://dialer:hunter2@127.0.0.1:9"),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(!text(&out.stderr).contains("hunter2"), "{}", text(&out.stderr));
}

#[test]
fn a_key_that_is_not_printable_ascii_is_refused_without_being_echoed() {
    for key in ["sk_caf\u{e9}", "sk_\u{1b}[2J", "sk_a b", "sk_\u{200b}x"] {
        let error = Client::builder().api_key(key).build().unwrap_err().to_string();
        assert!(error.contains("not printable ASCII"), "{error}");
        assert!(!error.contains("sk_"), "{error}");
    }
    // Surrounding white space (a pasted newline) is not the key's.
    assert!(Client::builder().api_key(" sk_ok\n").build().is_ok());
}

#[test]
fn a_database_password_never_reaches_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    contacts(dir.path(), 2);
    // Nothing listens on port 9: connecting fails, and says where, not how.
    let out = sigmamind(
        dir.path(),
        &batch_args(&[
            "--local",
            "--journal",
            "postgres://dialer:hunter2@127.0.0.1:9/calls",
        ]),
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("database calls on 127.0.0.1"), "{stderr}");
    assert!(!stderr.contains("hunter2"), "{stderr}");
}

// ---- no silent rehearsal ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_base_url_without_its_key_sends_nothing_and_says_why() {
    let server = MockServer::start().await;
    let url = server.base_url().to_owned();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_owned();
    let out = blocking(move || sigmamind(&path, &CREATE, &[("SIGMAMIND_BASE_URL", &url)])).await;
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("SIGMAMIND_BASE_URL is set but SIGMAMIND_API_KEY is not"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
    assert_eq!(server.request_count(), 0);
}

#[test]
fn a_batch_rehearses_on_the_local_server_only_when_told_and_says_so_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    contacts(dir.path(), 3);
    let out = sigmamind(dir.path(), &batch_args(&[]), &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("pass --local"),
        "{}",
        text(&out.stderr)
    );
    assert!(!dir.path().join("contacts.csv.results.csv").exists());

    let out = sigmamind(dir.path(), &batch_args(&["--local"]), &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("on the local server: nothing was dialled"));
    let results = std::fs::read_to_string(dir.path().join("contacts.csv.results.csv")).unwrap();
    assert_eq!(results.lines().count(), 4);
    assert!(
        results
            .lines()
            .skip(1)
            // `target`, then an empty `journal_error` (the journal recorded every outcome)
            .all(|l| l.ends_with(",the local server (nothing was dialled),")),
        "{results}"
    );
    let journal = std::fs::read_to_string(dir.path().join("contacts.csv.journal.jsonl")).unwrap();
    assert!(journal
        .lines()
        .next()
        .unwrap()
        .contains("\"api\":\"the local server\""));
}

// ---- a wrong key, a day-long Retry-After ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_key_stops_the_batch_and_leaves_the_rest_for_the_next_run() {
    let server = MockServer::start_with(MockOptions::default().api_key("the-right-key")).await;
    let dir = tempfile::tempdir().unwrap();
    contacts(dir.path(), 300);
    let url = server.base_url().to_owned();
    let path = dir.path().to_owned();
    let out = blocking(move || {
        sigmamind(
            &path,
            &batch_args(&["--concurrency", "4"]),
            &[("SIGMAMIND_API_KEY", "a-wrong-key"), ("SIGMAMIND_BASE_URL", &url)],
        )
    })
    .await;
    assert_eq!(out.status.code(), Some(1));
    // At most the requests already in flight when the first 401 came.
    assert!(server.request_count() <= 4, "{} requests", server.request_count());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("refused the API key") && stderr.contains("SIGMAMIND_API_KEY"),
        "{stderr}"
    );
    let stdout = text(&out.stdout);
    assert!(stdout.contains("not_sent"), "{stdout}");

    // With the right key, the next run dials every row once.
    let url = server.base_url().to_owned();
    let path = dir.path().to_owned();
    let out = blocking(move || {
        sigmamind(
            &path,
            &batch_args(&["--concurrency", "4"]),
            &[
                ("SIGMAMIND_API_KEY", "the-right-key"),
                ("SIGMAMIND_BASE_URL", &url),
            ],
        )
    })
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(server.placed_calls().len(), 300);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_day_long_retry_after_stops_the_batch_at_once_and_says_until_when() {
    let server = MockServer::start_with(MockOptions::default().rate_limit_every(1, "86400")).await;
    let dir = tempfile::tempdir().unwrap();
    contacts(dir.path(), 20);
    let (url, key) = (server.base_url().to_owned(), server.api_key().to_owned());
    let path = dir.path().to_owned();
    let started = Instant::now();
    let out = blocking(move || {
        sigmamind(
            &path,
            &batch_args(&["--concurrency", "2", "--max-retries", "2"]),
            &[("SIGMAMIND_API_KEY", &key), ("SIGMAMIND_BASE_URL", &url)],
        )
    })
    .await;
    assert!(started.elapsed() < Duration::from_secs(20), "it waited");
    assert_eq!(out.status.code(), Some(1));
    assert!(server.request_count() <= 2, "{} requests", server.request_count());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("asked every request to wait 86400s") && stderr.contains("run it again after 20"),
        "{stderr}"
    );
}

// ---- stopping means stopping ----

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_a_429_pause_stops_at_once_and_nothing_is_left_unknown() {
    // Every request is refused with a 20 s Retry-After (under the 30 s the
    // run waits at most): the workers pause.
    let server = MockServer::start_with(MockOptions::default().rate_limit_every(1, "20")).await;
    let dir = tempfile::tempdir().unwrap();
    contacts(dir.path(), 20);
    let child = Command::new(env!("CARGO_BIN_EXE_sigmamind"))
        .current_dir(dir.path())
        .args(batch_args(&["--concurrency", "4"]))
        .env("SIGMAMIND_API_KEY", server.api_key())
        .env("SIGMAMIND_BASE_URL", server.base_url())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for the first 429, and for the requests already on their way
    // when it came to land (none for half a second), so that the count
    // below is what was sent before the signal, however loaded the machine.
    let deadline = Instant::now() + Duration::from_secs(30);
    while server.request_count() == 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut at_signal = server.request_count();
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = server.request_count();
        if now == at_signal || Instant::now() > deadline {
            break;
        }
        at_signal = now;
    }
    assert!(at_signal >= 1);
    let signalled = Instant::now();
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let out = blocking(move || child.wait_with_output().unwrap()).await;
    // Promptly: not after the 20 s pause, let alone after ten retries (a
    // margin wide enough for a loaded machine).
    assert!(
        signalled.elapsed() < Duration::from_secs(12),
        "took {:?}",
        signalled.elapsed()
    );
    assert_eq!(server.request_count(), at_signal, "a request left after SIGTERM");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    // A 429 proves nothing was placed: no row is unknown, none left sending.
    let results = std::fs::read_to_string(dir.path().join("contacts.csv.results.csv")).unwrap();
    assert!(!results.contains(",unknown,"), "{results}");
    assert_eq!(results.lines().count(), 21);
    let journal = std::fs::read_to_string(dir.path().join("contacts.csv.journal.jsonl")).unwrap();
    let mut open = std::collections::HashSet::new();
    for line in journal.lines() {
        let record: serde_json::Value = serde_json::from_str(line).unwrap();
        match record["event"].as_str() {
            Some("sending") => open.insert(record["phone"].to_string()),
            Some("outcome") => open.remove(&record["phone"].to_string()),
            _ => false,
        };
    }
    assert!(open.is_empty(), "left sending: {open:?}");
}

// ---- files the user owns ----

#[test]
fn results_never_overwrite_the_list_or_the_journal_whatever_the_name() {
    let dir = tempfile::tempdir().unwrap();
    contacts(dir.path(), 3);
    // A journal to protect.
    assert!(sigmamind(dir.path(), &batch_args(&["--local"]), &[])
        .status
        .success());
    let list = std::fs::read(dir.path().join("contacts.csv")).unwrap();
    let journal = std::fs::read(dir.path().join("contacts.csv.journal.jsonl")).unwrap();
    std::fs::hard_link(dir.path().join("contacts.csv"), dir.path().join("hard.csv")).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(
        dir.path().join("contacts.csv.journal.jsonl"),
        dir.path().join("soft.csv"),
    )
    .unwrap();
    let mut names = vec![
        "contacts.csv",
        "./contacts.csv",
        "hard.csv",
        "contacts.csv.journal.jsonl",
    ];
    if cfg!(unix) {
        names.push("soft.csv");
    }
    for name in names {
        let out = sigmamind(dir.path(), &batch_args(&["--local", "--results", name]), &[]);
        assert_eq!(out.status.code(), Some(2), "{name}: {}", text(&out.stderr));
        assert!(text(&out.stderr).contains("nothing was sent"), "{name}");
        assert_eq!(
            std::fs::read(dir.path().join("contacts.csv")).unwrap(),
            list,
            "{name}"
        );
        assert_eq!(
            std::fs::read(dir.path().join("contacts.csv.journal.jsonl")).unwrap(),
            journal,
            "{name}"
        );
    }
}

#[test]
fn an_existing_results_file_of_another_batch_is_refused_unless_told() {
    let dir = tempfile::tempdir().unwrap();
    contacts(dir.path(), 2);
    std::fs::write(dir.path().join("report.csv"), "someone else's work\n").unwrap();
    let out = sigmamind(
        dir.path(),
        &batch_args(&["--local", "--results", "report.csv"]),
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--overwrite-results"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("report.csv")).unwrap(),
        "someone else's work\n"
    );
    let out = sigmamind(
        dir.path(),
        &batch_args(&["--local", "--results", "report.csv", "--overwrite-results"]),
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    // The journal now knows it: a rerun writes it again without being told.
    let out = sigmamind(
        dir.path(),
        &batch_args(&["--local", "--results", "report.csv"]),
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report = std::fs::read_to_string(dir.path().join("report.csv")).unwrap();
    assert!(report.starts_with("row,phone,given_phone,outcome"), "{report}");
}

#[cfg(unix)]
#[test]
fn a_journal_that_is_not_a_regular_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    contacts(dir.path(), 2);
    let fifo = dir.path().join("fifo");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    for journal in [
        "/dev/zero",
        "/dev/null",
        fifo.to_str().unwrap(),
        dir.path().to_str().unwrap(),
    ] {
        let out = sigmamind(dir.path(), &batch_args(&["--local", "--journal", journal]), &[]);
        assert_eq!(out.status.code(), Some(2), "{journal}: {}", text(&out.stderr));
        assert!(
            text(&out.stderr).contains("not a regular file"),
            "{journal}: {}",
            text(&out.stderr)
        );
    }
}

/// A file that is not a journal, whatever its last line, is refused and
/// left as it was (an incomplete last line is cut only from a journal).
#[test]
fn a_file_that_is_not_a_journal_is_never_cut() {
    let dir = tempfile::tempdir().unwrap();
    contacts(dir.path(), 2);
    for (name, content) in [
        ("one-line.csv", "phone,name"),
        ("list.csv", "phone\n+14155550001"),
    ] {
        std::fs::write(dir.path().join(name), content).unwrap();
        let out = sigmamind(dir.path(), &batch_args(&["--local", "--journal", name]), &[]);
        assert_eq!(out.status.code(), Some(2), "{name}");
        assert_eq!(
            std::fs::read_to_string(dir.path().join(name)).unwrap(),
            content,
            "{name}"
        );
    }
}

// ---- journals read back whatever they wrote ----

/// Call ids of any length and any Unicode survive a run and a resume: the
/// resumed run reads them back (clipped if absurd) and dials nobody again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_call_id_a_server_sends_resumes() {
    for mode in [Mode::MultibyteCallId, Mode::LongCallId, Mode::EscapeSequences] {
        let server = HostileServer::start(mode).await;
        let client = Client::builder()
            .api_key("k")
            .base_url(server.base_url())
            .build()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let plan = Batch::new("+14155552671").unwrap();
        let list = [Contact::new("+14155550001"), Contact::new("+14155550002")];
        for run in 0..2 {
            let journal = Journal::open(dir.path().join("j"), &plan, &server.base_url()).unwrap();
            let mut rows = Vec::new();
            let report = batch::run(
                &client,
                &plan,
                list.iter().cloned().map(Ok),
                &journal,
                &Options::default(),
                |r| rows.push(r.clone()),
            )
            .await;
            assert!(report.all_placed(), "{mode:?} run {run}: {rows:?}");
            assert!(rows.iter().all(|r| r.earlier_run == (run == 1)), "{mode:?}");
            assert!(rows.iter().all(|r| r.outcome.call_id().is_some()), "{mode:?}");
        }
        assert_eq!(server.requests(), 2, "{mode:?}: dialled again");
    }
}

/// A refusal that names a call is unknown, and a rerun does not dial it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_naming_a_call_is_never_dialled_again() {
    let server = HostileServer::start(Mode::BadRequestNamingCall).await;
    let client = Client::builder()
        .api_key("k")
        .base_url(server.base_url())
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let plan = Batch::new("+14155552671").unwrap();
    for _ in 0..2 {
        let journal = Journal::open(dir.path().join("j"), &plan, &server.base_url()).unwrap();
        let report = batch::run(
            &client,
            &plan,
            (0..20).map(|i| Ok(Contact::new(format!("+1415555{i:04}")))),
            &journal,
            &Options::default(),
            |_| {},
        )
        .await;
        assert_eq!(report.counts().unknown, 20);
    }
    assert_eq!(server.requests(), 20);
}

mod journal_bytes {
    use super::*;
    use proptest::prelude::*;

    fn open(bytes: &[u8]) -> Result<(), String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j");
        std::fs::write(&path, bytes).unwrap();
        let plan = Batch::new("+14155552671").unwrap();
        Journal::open(&path, &plan, "http://api")
            .map(drop)
            .map_err(|e| e.to_string())
    }

    fn a_journal() -> Vec<u8> {
        [
            r#"{"event":"journal","format":"sigmamind-batch-journal","version":1,"from":"+14155552671","agent":null,"api":"http://api","at":"t"}"#,
            r#"{"event":"run","at":"t","retryUnknown":false}"#,
            r#"{"event":"sending","row":1,"phone":"+14155550101","at":"t"}"#,
            r#"{"event":"outcome","row":1,"phone":"+14155550101","state":"placed","callId":"call_é","at":"t"}"#,
        ]
        .join("\n")
        .into_bytes()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Any bytes: the reader opens them or refuses, naming the line
        /// where it can; it never panics.
        #[test]
        fn any_bytes_open_or_are_refused(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            if let Err(error) = open(&bytes) {
                prop_assert!(error.starts_with("journal "), "{}", error);
            }
        }

        /// A real journal with bytes changed, cut or inserted anywhere.
        #[test]
        fn a_damaged_journal_opens_or_is_refused_by_line(
            at in 0usize..400,
            insert in proptest::collection::vec(any::<u8>(), 0..40),
            cut in 0usize..40,
        ) {
            let mut bytes = a_journal();
            let at = at.min(bytes.len());
            let end = (at + cut).min(bytes.len());
            bytes.splice(at..end, insert);
            if let Err(error) = open(&bytes) {
                prop_assert!(
                    error.contains("line ") || error.contains("no header") || error.contains("another batch")
                        || error.contains("format") || error.contains("reads"),
                    "{}", error
                );
            }
        }
    }

    #[test]
    fn an_endless_line_is_refused_without_reading_it_whole() {
        let mut bytes = a_journal();
        bytes.push(b'\n');
        bytes.extend(std::iter::repeat_n(b'x', 1 << 20));
        let error = open(&bytes).unwrap_err();
        assert!(error.contains("line 5 is longer than any record"), "{error}");
    }
}

// ---- the terminal ----

#[test]
fn a_contact_list_cannot_write_to_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("contacts.csv"),
        "phone,customer_name\n\"+1\u{1b}]0;pwned\u{7}\",x\n=HYPERLINK(\"http://x\"),y\n",
    )
    .unwrap();
    let out = sigmamind(dir.path(), &batch_args(&["--local"]), &[]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        !stderr.contains('\u{1b}') && !stderr.contains('\u{7}'),
        "{stderr:?}"
    );
    assert!(stderr.contains("\\u{1b}]0;pwned\\u{7}"), "{stderr}");
    let results = std::fs::read_to_string(dir.path().join("contacts.csv.results.csv")).unwrap();
    let mut reader = csv::Reader::from_reader(results.as_bytes());
    let phones: Vec<String> = reader.records().map(|r| r.unwrap()[1].to_owned()).collect();
    assert!(
        phones.contains(&"'=HYPERLINK(\"http://x\")".to_owned()),
        "{phones:?}"
    );
}
