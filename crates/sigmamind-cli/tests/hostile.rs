//! The client, the CLI and the batch against a hostile server (test
//! support imitating misbehaving servers, proxies and networks; FIXTURE
//! behaviour, not the vendor's): every mode of `support::hostile`, with
//! what it must prove about the call.
//!
//! | mode | fate | call id |
//! |---|---|---|
//! | endless, huge, dripping or cut-off `2xx` bodies holding the id | `Processed` | from the part read |
//! | `2xx` bodies that are not the call (HTML, empty, UTF-16, gzip, `[]`, `null`, no body) | `Processed` | none |
//! | odd but readable `2xx` bodies (BOM, long or multi-byte or escaped ids, duplicate keys, text/plain) | `Processed` | the id |
//! | `400` (Spring), `401`, `403`, `429` that never lets up | `Refused` | none |
//! | `400` whose body names a call | `Unknown` | evidence beats status |
//! | `3xx`, `409`, `418`, `5xx`, `599`, `999`, garbage status, headers past limits | `Unknown` | none |
//! | closed before or after headers of an error, hung, reset, slow headers | `Unknown` | none |
//!
//! Each row is in `EXPECTED` below; a mode without a row fails the test.

use sigmamind_test_servers as support;

use std::process::Command;
use std::time::Duration;

use sigmamind::fate::Fate;
use sigmamind::types::CreateCallRequest;
use sigmamind::{Client, RetryPolicy};
use sigmamind_dialler::{self as batch, Batch, Contact, Journal, Options};
use support::hostile::{HostileServer, Mode, CALL_ID};

/// What a mode's answer must leave of the call's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Id {
    /// [`CALL_ID`], read from whatever arrived.
    Hostile,
    /// Some id (the modes whose point is the id itself).
    Some,
    /// None.
    Absent,
}

/// How many requests a mode gets from one `create_call` with
/// [`policy`]'s two retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sent {
    Once,
    /// Refused but not for long: every retry is used.
    Thrice,
}

use Fate::{Processed, Refused, Unknown};
use Id::{Absent, Hostile};
use Sent::{Once, Thrice};

const EXPECTED: &[(Mode, Fate, Id, Sent)] = &[
    (Mode::EndlessChunked, Processed, Hostile, Once),
    (Mode::EndlessWithLength, Processed, Hostile, Once),
    (Mode::HugeFinite, Processed, Hostile, Once),
    (Mode::LargeUnderLimit, Processed, Hostile, Once),
    (Mode::Dripping, Processed, Hostile, Once),
    (Mode::CutShort, Processed, Hostile, Once),
    (Mode::Html, Processed, Absent, Once),
    (Mode::EmptyBody, Processed, Absent, Once),
    (Mode::ByteOrderMark, Processed, Hostile, Once),
    (Mode::Utf16, Processed, Absent, Once),
    (Mode::InvalidUtf8, Processed, Hostile, Once),
    (Mode::DeepNesting, Processed, Hostile, Once),
    (Mode::UnaskedGzip, Processed, Absent, Once),
    (Mode::LongCallId, Processed, Id::Some, Once),
    (Mode::MultibyteCallId, Processed, Id::Some, Once),
    (Mode::EscapeSequences, Processed, Id::Some, Once),
    (Mode::ArrayBody, Processed, Absent, Once),
    (Mode::NullBody, Processed, Absent, Once),
    (Mode::DuplicateKeys, Processed, Id::Some, Once),
    // A call id of the wrong type reads as absent (lenient responses).
    (Mode::NumericCallId, Processed, Absent, Once),
    (Mode::Created, Processed, Hostile, Once),
    (Mode::Accepted, Processed, Hostile, Once),
    (Mode::Status299, Processed, Hostile, Once),
    (Mode::NoContent, Processed, Absent, Once),
    (Mode::ContinueThenCreated, Processed, Hostile, Once),
    (Mode::MovedPermanently, Unknown, Absent, Once),
    (Mode::SeeOther, Unknown, Absent, Once),
    (Mode::BadRequest, Refused, Absent, Once),
    (Mode::BadRequestNamingCall, Unknown, Absent, Once),
    (Mode::Unauthorized, Refused, Absent, Once),
    (Mode::Forbidden, Refused, Absent, Once),
    (Mode::Conflict, Unknown, Absent, Once),
    (Mode::Teapot, Unknown, Absent, Once),
    (Mode::TooManyNow, Refused, Absent, Thrice),
    (Mode::TooManyForADay, Refused, Absent, Once),
    (Mode::TooManyUntilImfDate, Refused, Absent, Once),
    // "99" is 1999 (RFC 9110: a two-digit year more than 50 years ahead
    // is in the past): no wait at all.
    (Mode::TooManyUntilRfc850Date, Refused, Absent, Thrice),
    (Mode::TooManyUntilAsctime, Refused, Absent, Once),
    (Mode::TooManyUnreadable, Refused, Absent, Thrice),
    (Mode::TooManyNegative, Refused, Absent, Thrice),
    (Mode::TooManyForever, Refused, Absent, Once),
    (Mode::ServerError, Unknown, Absent, Once),
    (Mode::Unavailable, Unknown, Absent, Once),
    (Mode::Status599, Unknown, Absent, Once),
    (Mode::Status999, Unknown, Absent, Once),
    (Mode::GarbageStatusLine, Unknown, Absent, Once),
    (Mode::Http10CloseDelimited, Processed, Hostile, Once),
    (Mode::HugeHeader, Unknown, Absent, Once),
    (Mode::ManyHeaders, Unknown, Absent, Once),
    (Mode::TextPlainJson, Processed, Hostile, Once),
    (Mode::NonUtf8RequestId, Refused, Absent, Once),
    (Mode::LengthTooShort, Processed, Absent, Once),
    (Mode::CloseWithoutAnswer, Unknown, Absent, Once),
    (Mode::CloseAfterHeaders, Processed, Absent, Once),
    (Mode::CloseAfterErrorHeaders, Unknown, Absent, Once),
    (Mode::Hang, Unknown, Absent, Once),
    (Mode::Reset, Unknown, Absent, Once),
    (Mode::SlowHeaders, Unknown, Absent, Once),
    (Mode::BadChunk, Processed, Hostile, Once),
    (Mode::KeepAliveDropped, Processed, Hostile, Once),
];

/// The per-attempt limit every run here uses: the modes that never finish
/// end with it. Long enough that no mode that does finish (a 3 MiB body,
/// sixty servers answering at once) meets it on a loaded two-core machine,
/// and shorter than every never-ending mode (`SlowHeaders` takes ten
/// seconds to send its head).
const TIMEOUT: Duration = Duration::from_secs(4);
const TIMEOUT_FLAG: &str = "4s";

fn policy() -> RetryPolicy {
    RetryPolicy {
        max_retries: 2,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(10),
        max_retry_after: Duration::from_secs(5),
        ..RetryPolicy::default()
    }
}

fn client(server: &HostileServer) -> Client {
    Client::builder()
        .api_key("k")
        .base_url(server.base_url())
        .timeout(TIMEOUT)
        .retry_policy(policy())
        .build()
        .unwrap()
}

fn request() -> CreateCallRequest {
    CreateCallRequest::try_from(
        CreateCallRequest::builder()
            .from_phone_number("+14155552671")
            .to_phone_number("+14155552672"),
    )
    .unwrap()
}

#[test]
fn every_mode_has_an_expectation() {
    for mode in Mode::ALL {
        assert!(EXPECTED.iter().any(|(m, ..)| *m == mode), "{mode:?} has no row");
    }
    assert!(Mode::ALL.len() >= 40);
}

/// What one `create_call` through `client` to `server` proved, and the id it kept.
async fn create_on(server: HostileServer, client: Client) -> (Fate, Option<String>, usize) {
    let sent = client.create_call().body(request()).send().await;
    let (fate, id) = match sent {
        Ok(call) => (Processed, call.into_inner().call_id),
        Err(error) => (error.fate(), error.call_id().map(str::to_owned)),
    };
    (fate, id, server.requests())
}

async fn create(mode: Mode) -> (Fate, Option<String>, usize) {
    let server = HostileServer::start(mode).await;
    let client = client(&server);
    create_on(server, client).await
}

/// A server and a client for every mode, built before anything is sent:
/// building a client loads the TLS roots, work that would otherwise hold
/// the runtime while other requests' timeouts run.
async fn every_mode() -> Vec<(HostileServer, Client)> {
    let mut pairs = Vec::new();
    for &(mode, ..) in EXPECTED {
        let server = HostileServer::start(mode).await;
        let client = client(&server);
        pairs.push((server, client));
    }
    pairs
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_judges_every_mode_as_the_table_says() {
    let runs = every_mode()
        .await
        .into_iter()
        .map(|(server, client)| tokio::spawn(create_on(server, client)));
    let results = futures_join(runs).await;
    let mut wrong = Vec::new();
    for (&(mode, fate, id, sent), (got_fate, got_id, requests)) in EXPECTED.iter().zip(results) {
        let id_ok = match id {
            Hostile => got_id.as_deref() == Some(CALL_ID),
            Id::Some => got_id.is_some(),
            Absent => got_id.is_none(),
        };
        let sent_ok = requests == if sent == Once { 1 } else { 3 };
        if got_fate != fate || !id_ok || !sent_ok {
            wrong.push(format!(
                "{mode:?}: fate {got_fate:?} (want {fate:?}), id {:?} (want {id:?}), {requests} request(s)",
                got_id.map(|i| sigmamind::text::clip(&i, 40).into_owned())
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

async fn futures_join<T: Send + 'static>(tasks: impl Iterator<Item = tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut out = Vec::new();
    for task in tasks.collect::<Vec<_>>() {
        out.push(task.await.unwrap());
    }
    out
}

/// The long call ids arrive whole; the escaped one keeps its bytes (it is
/// data: only printing escapes it).
#[tokio::test]
async fn odd_call_ids_arrive_whole() {
    let (_, id, _) = create(Mode::LongCallId).await;
    assert_eq!(id.unwrap().len(), 100_000);
    let (_, id, _) = create(Mode::MultibyteCallId).await;
    assert_eq!(id.unwrap().chars().count(), 70_000);
    let (_, id, _) = create(Mode::EscapeSequences).await;
    assert!(id.unwrap().contains('\u{1b}'));
}

/// The exit status `calls create` gives a fate.
fn exit_of(fate: Fate) -> i32 {
    match fate {
        Processed => 0,
        Refused => 1,
        _ => 3,
    }
}

/// `calls create` against every mode: the exit status says what the fate
/// says, a placed call's id is printed, and nothing the server sent
/// reaches the terminal as a control character.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_exits_as_the_fate_says_and_prints_no_control_characters() {
    let mut servers = Vec::new();
    for &(mode, ..) in EXPECTED {
        servers.push(HostileServer::start(mode).await);
    }
    let urls: Vec<String> = servers.iter().map(HostileServer::base_url).collect();
    let outputs = tokio::task::spawn_blocking(move || {
        // Eight at a time: enough to be quick, few enough for two cores.
        let mut outputs = Vec::new();
        for chunk in urls.chunks(8) {
            let children: Vec<_> = chunk
                .iter()
                .map(|url| {
                    Command::new(env!("CARGO_BIN_EXE_sigmamind"))
                        .args([
                            "calls",
                            "create",
                            "--from",
                            "+14155552671",
                            "--to",
                            "+14155552672",
                        ])
                        .args(["--timeout", TIMEOUT_FLAG])
                        .env("SIGMAMIND_API_KEY", "k")
                        .env("SIGMAMIND_BASE_URL", url)
                        .stdout(std::process::Stdio::piped())
                        .stderr(std::process::Stdio::piped())
                        .spawn()
                        .unwrap()
                })
                .collect();
            outputs.extend(children.into_iter().map(|c| c.wait_with_output().unwrap()));
        }
        outputs
    })
    .await
    .unwrap();
    let mut wrong = Vec::new();
    for (&(mode, fate, id, _), out) in EXPECTED.iter().zip(outputs) {
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        if out.status.code() != Some(exit_of(fate)) {
            wrong.push(format!(
                "{mode:?}: exit {:?}, want {}: {stderr}",
                out.status.code(),
                exit_of(fate)
            ));
        }
        if id == Hostile && !stdout.contains(CALL_ID) {
            wrong.push(format!("{mode:?}: the call id is not printed: {stdout}"));
        }
        for text in [&stdout, &stderr] {
            if text.chars().any(|c| c.is_control() && c != '\n') || text.contains('\u{202e}') {
                wrong.push(format!(
                    "{mode:?}: a control character reached the terminal: {text:?}"
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// `--output json` escapes what JSON leaves raw (C1 controls, bidi
/// overrides) and stays JSON with the same value.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_output_escapes_what_json_leaves_raw() {
    let server = HostileServer::start(Mode::EscapeSequences).await;
    let url = server.base_url();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_sigmamind"))
            .args([
                "calls",
                "create",
                "--from",
                "+14155552671",
                "--to",
                "+14155552672",
                "--output",
                "json",
            ])
            .env("SIGMAMIND_API_KEY", "k")
            .env("SIGMAMIND_BASE_URL", url)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        !stdout
            .chars()
            .any(|c| (c.is_control() && c != '\n') || c == '\u{202e}'),
        "{stdout:?}"
    );
    let call: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(call["callId"], "call_\u{1b}]0;pwned\u{7}\u{1b}[2J");
    assert_eq!(call["agent"]["agentId"], "\u{202e}evil");
}

/// What the batch makes of a mode: the first row's outcome, the second's,
/// the requests the server got, and why the run stopped.
async fn batch_against(server: HostileServer, client: Client) -> (String, String, usize, Option<String>) {
    let dir = tempfile::tempdir().unwrap();
    let plan = Batch::new("+14155552671").unwrap();
    let journal = Journal::open(dir.path().join("j"), &plan, &server.base_url()).unwrap();
    let contacts = [Contact::new("+14155550001"), Contact::new("+14155550002")];
    let mut rows = Vec::new();
    // 5/s: the second row leaves 200 ms after the first, after the first
    // connection went idle (and, for KeepAliveDropped, after the server
    // dropped it, 20 ms after its answer). At 20/s a loaded machine let the
    // answer and the drop come later than the second row, which then went
    // out on the connection being dropped: `unknown`, rightly, but not the
    // case this mode is about.
    let options = Options::default()
        .concurrency(1)
        .max_retries(2)
        .rate("5/s".parse().unwrap());
    let report = batch::run(
        &client,
        &plan,
        contacts.into_iter().map(Ok),
        &journal,
        &options,
        |row| rows.push(row.clone()),
    )
    .await;
    rows.sort_by_key(|r| r.row);
    let name = |i: usize| rows[i].outcome.name().to_owned();
    (name(0), name(1), server.requests(), report.stopped)
}

/// The outcome a row gets for a fate (the batch's words for the classifier's).
fn outcome_of(fate: Fate) -> &'static str {
    match fate {
        Processed => "placed",
        Refused => "refused",
        _ => "unknown",
    }
}

/// The batch against every mode: each row ends as the fate says; a key the
/// server rejects, or a `Retry-After` longer than the run waits, stops the
/// run after the first request (the second row is `not_sent`, left for a
/// rerun); anything else leaves the second row to meet the same answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_batch_records_every_mode_as_the_fate_says() {
    let runs = every_mode()
        .await
        .into_iter()
        .map(|(server, client)| tokio::spawn(batch_against(server, client)));
    let results = futures_join(runs).await;
    let mut wrong = Vec::new();
    for (&(mode, fate, _, sent), (first, second, requests, stopped)) in EXPECTED.iter().zip(results) {
        let halts = matches!(
            mode,
            Mode::Unauthorized
                | Mode::Forbidden
                | Mode::TooManyForADay
                | Mode::TooManyUntilImfDate
                | Mode::TooManyUntilAsctime
                | Mode::TooManyForever
        );
        let per_row = if sent == Once { 1 } else { 3 };
        let (want_second, want_requests) = if halts {
            ("not_sent", 1)
        } else {
            (outcome_of(fate), 2 * per_row)
        };
        if first != outcome_of(fate)
            || second != want_second
            || requests != want_requests
            || stopped.is_some() != halts
        {
            wrong.push(format!(
                "{mode:?}: rows {first}/{second} (want {}/{want_second}), {requests} request(s) \
                 (want {want_requests}), stopped {stopped:?}",
                outcome_of(fate)
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
