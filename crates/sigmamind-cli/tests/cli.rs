//! The `sigmamind` binary, run as a user would.

use std::process::{Command, Output};

use sigmamind_mock::{MockOptions, MockServer};

fn sigmamind(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sigmamind"));
    command
        .args(args)
        .env_remove("SIGMAMIND_API_KEY")
        .env_remove("SIGMAMIND_BASE_URL");
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().expect("run the sigmamind binary")
}

/// Runs the binary with `SIGMAMIND_API_KEY=key` against a test server that
/// accepts `server_key`; returns the output and the server.
async fn against_server(server_key: &str, key: &str, args: &'static [&'static str]) -> (Output, MockServer) {
    let server = MockServer::start_with(MockOptions::default().api_key(server_key)).await;
    let (base, key) = (server.base_url().to_owned(), key.to_owned());
    let out = tokio::task::spawn_blocking(move || {
        sigmamind(
            args,
            &[
                ("SIGMAMIND_API_KEY", key.as_str()),
                ("SIGMAMIND_BASE_URL", base.as_str()),
            ],
        )
    })
    .await
    .unwrap();
    (out, server)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn without_a_key_it_places_the_call_on_the_local_server() {
    let out = sigmamind(
        &[
            "calls",
            "create",
            "--from",
            "+14155552671",
            "--to",
            "+14155552672",
            "--var",
            "customer_name=Michael",
        ],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert_eq!(
        stderr.lines().count(),
        1,
        "one line about the local server: {stderr}"
    );
    assert!(stderr.starts_with(
        "SIGMAMIND_API_KEY is not set: placing the call on a local SigmaMind server at http://127.0.0.1:"
    ));
    let stdout = text(&out.stdout);
    assert!(
        stdout
            .lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["status", "scheduled"]),
        "{stdout}"
    );
    assert!(stdout.contains(r#"{"customer_name":"Michael"}"#), "{stdout}");
}

#[test]
fn json_output_is_a_call() {
    let out = sigmamind(
        &[
            "calls",
            "create",
            "--from",
            "+14155552671",
            "--to",
            "+14155552672",
            "--agent",
            "agent_7",
            "--output",
            "json",
        ],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let call: sigmamind::types::Call = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(call.status, Some(sigmamind::types::CallStatus::Scheduled));
    assert_eq!(call.agent.unwrap().agent_id.as_deref(), Some("agent_7"));
}

#[tokio::test]
async fn with_a_key_it_talks_to_the_configured_api() {
    let (out, server) = against_server(
        "cli-key",
        "cli-key",
        &[
            "calls",
            "create",
            "--from",
            "+14155552671",
            "--to",
            "+14155552672",
        ],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr), "", "no local-server notice when a key is set");
    assert_eq!(server.request_count(), 1);
    assert_eq!(server.requests()[0].header("x-api-key"), Some("cli-key"));
}

#[tokio::test]
async fn an_invalid_number_is_one_line_naming_the_flag_and_nothing_is_sent() {
    let (out, server) = against_server(
        "cli-key",
        "cli-key",
        &["calls", "create", "--from", "+1234", "--to", "+14155552672"],
    )
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "error: invalid request, nothing was sent: --from: doesn't match pattern \"^\\+[1-9][0-9]{6,14}$\"\n"
    );
    assert_eq!(server.request_count(), 0);
}

#[test]
fn an_over_long_agent_is_refused() {
    let agent = "a".repeat(65);
    let out = sigmamind(
        &[
            "calls",
            "create",
            "--from",
            "+14155552671",
            "--to",
            "+14155552672",
            "--agent",
            &agent,
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "error: invalid request, nothing was sent: --agent: longer than 64 characters\n"
    );
}

#[tokio::test]
async fn api_errors_exit_1_with_one_line() {
    let (out, server) = against_server(
        "right",
        "wrong",
        &[
            "calls",
            "create",
            "--from",
            "+14155552671",
            "--to",
            "+14155552672",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with("error: SigmaMind API error 401 Unauthorized: "),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1);
    assert_eq!(server.request_count(), 1, "a 401 is not retried");
}

#[test]
fn configuration_errors_exit_2_with_one_line() {
    let out = sigmamind(
        &[
            "calls",
            "create",
            "--from",
            "+14155552671",
            "--to",
            "+14155552672",
        ],
        &[
            ("SIGMAMIND_API_KEY", "k"),
            ("SIGMAMIND_BASE_URL", "http://api.sigmamind.ai"),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("only https is allowed"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(text(&out.stderr).lines().count(), 1);
}

#[test]
fn durations_too_long_or_malformed_are_refused_naming_the_flag() {
    for timeout in ["99999999999999999999999s", "1.5.2s", "-1s", "10min"] {
        let flag = format!("--timeout={timeout}");
        let out = sigmamind(
            &[
                "calls",
                "create",
                "--from",
                "+14155552671",
                "--to",
                "+14155552672",
                &flag,
            ],
            &[],
        );
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{timeout}: {stderr}");
        assert!(
            stderr.contains("--timeout") && !stderr.contains("panicked"),
            "{stderr}"
        );
    }
}

/// `--journal-outage` beyond a week (or beyond what a clock can add) is
/// refused naming the flag, before anything is read or sent.
#[test]
fn a_journal_outage_past_a_week_is_refused_naming_the_flag() {
    for outage in ["604801", "18446744073709551615", "-1", "2m"] {
        let flag = format!("--journal-outage={outage}");
        let out = sigmamind(
            &[
                "calls",
                "create-batch",
                "contacts.csv",
                "--from",
                "+14155552671",
                &flag,
            ],
            &[],
        );
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{outage}: {stderr}");
        assert!(
            stderr.contains("--journal-outage") && !stderr.contains("panicked"),
            "{stderr}"
        );
    }
}

#[test]
fn help_shows_an_example() {
    let out = sigmamind(&["calls", "create", "--help"], &[]);
    assert!(out.status.success());
    let help = text(&out.stdout);
    for expected in [
        "--from <E164>",
        "--to <E164>",
        "--agent <ID>",
        "--var <NAME=VALUE>",
        "--output",
        "Example:",
    ] {
        assert!(help.contains(expected), "{expected} missing from:\n{help}");
    }
}

/// `sigmamind mock serve` as the README starts it, in a real child process.
struct Served {
    child: std::process::Child,
    base_url: String,
    key: String,
    stderr: std::thread::JoinHandle<String>,
}

fn serve(args: &[&str]) -> Served {
    use std::io::{BufRead, Read};
    let mut child = Command::new(env!("CARGO_BIN_EXE_sigmamind"))
        .args(["mock", "serve", "--port", "0"])
        .args(args)
        .env_remove("SIGMAMIND_MOCK_API_KEY")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    // "SigmaMind local server at http://127.0.0.1:PORT with API key KEY"
    let words: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(words[..4], ["SigmaMind", "local", "server", "at"], "{line}");
    let mut stderr = child.stderr.take().unwrap();
    let stderr = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    Served {
        base_url: words[4].to_owned(),
        key: words.last().unwrap().to_string(),
        child,
        stderr,
    }
}

impl Served {
    /// SIGTERM, then the exit status and what it logged.
    fn stop(mut self) -> (std::process::ExitStatus, String) {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success());
        let status = self.child.wait().unwrap();
        (status, self.stderr.join().unwrap())
    }
}

#[tokio::test]
async fn mock_serve_answers_a_plain_http_post_and_stops_on_sigterm() {
    let served = serve(&["--api-key", "k_test", "--verbose", "--seed", "7"]);
    assert_eq!(served.key, "k_test");
    // What curl sends: the README's example.
    let response = reqwest::Client::new()
        .post(format!("{}/v1/calls", served.base_url))
        .header("X-API-Key", "k_test")
        .header("Content-Type", "application/json")
        .body(r#"{"fromPhoneNumber": "+14155552671", "toPhoneNumber": "+14155552672"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    let call: serde_json::Value = response.json().await.unwrap();
    sigmamind_mock::validate_component("Call", &call).unwrap();
    let (status, log) = served.stop();
    assert!(status.success(), "{status:?}: {log}");
    let line = log.lines().next().unwrap_or_default();
    assert!(
        line.starts_with("POST /v1/calls 201 ") && line.ends_with("ms"),
        "{log}"
    );
    assert!(log.contains("stopped"), "{log}");

    // The same seed gives the same ids.
    let again = serve(&["--api-key", "k_test", "--seed", "7"]);
    let second: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/v1/calls", again.base_url))
        .header("X-API-Key", "k_test")
        .json(&serde_json::json!({"fromPhoneNumber": "+14155552671", "toPhoneNumber": "+14155552672"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(second["callId"], call["callId"]);
    again.stop();
}

#[tokio::test]
async fn mock_serve_sheds_load_when_told() {
    let served = serve(&["--api-key", "k", "--rate-limit-every", "2", "--retry-after", "3"]);
    let mut answers = Vec::new();
    for _ in 0..4 {
        let response = reqwest::Client::new()
            .post(format!("{}/v1/calls", served.base_url))
            .header("X-API-Key", "k")
            .json(&serde_json::json!({"fromPhoneNumber": "+14155552671", "toPhoneNumber": "+14155552672"}))
            .send()
            .await
            .unwrap();
        let retry_after = response
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_owned());
        answers.push((response.status().as_u16(), retry_after));
    }
    let three = Some("3".to_owned());
    assert_eq!(
        answers,
        [(201, None), (429, three.clone()), (201, None), (429, three)]
    );
    served.stop();
}

#[test]
fn mock_serve_prints_a_random_key_and_listens_elsewhere_only_when_told() {
    let served = serve(&[]);
    assert!(
        served.key.starts_with("mock_") && served.key.len() > 20,
        "{}",
        served.key
    );
    assert!(
        served.base_url.starts_with("http://127.0.0.1:"),
        "{}",
        served.base_url
    );
    served.stop();

    let out = sigmamind(&["mock", "serve", "--host", "0.0.0.0", "--port", "0"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--allow-remote"),
        "{}",
        text(&out.stderr)
    );
}

#[tokio::test]
async fn a_drifted_response_prints_its_unknown_fields_and_one_stderr_line() {
    let server = MockServer::start_with(MockOptions::default().api_key("cli-key")).await;
    // FIXTURE: a newer server's answer.
    server.push_fault(sigmamind_mock::Fault::Json(
        201,
        serde_json::json!({"callId": "call_1", "status": "voicemail_left", "sentiment": {"score": 0.9}}),
    ));
    let base = server.base_url().to_owned();
    let out = tokio::task::spawn_blocking(move || create_at(&base, "json"))
        .await
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        printed["sentiment"],
        serde_json::json!({"score": 0.9}),
        "unknown fields are printed"
    );
    assert_eq!(printed["status"], "voicemail_left");
    let stderr = text(&out.stderr);
    let notes: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("note: the response drifted"))
        .collect();
    assert_eq!(notes.len(), 1, "{stderr}");
    assert!(
        notes[0].contains("field `sentiment`") && notes[0].contains("status: value `voicemail_left`"),
        "{stderr}"
    );
}

use sigmamind_test_servers as support;

/// `sigmamind calls create` against a loopback server (not the local
/// server) answering `answer`: what it printed, and the server.
async fn create_against(answer: support::Answer, output: &'static str) -> (Output, support::RawServer) {
    let server = support::RawServer::start(answer).await;
    let base = server.url();
    let out = tokio::task::spawn_blocking(move || create_at(&base, output))
        .await
        .unwrap();
    (out, server)
}

/// `sigmamind calls create` with a key, against the server at `base`.
fn create_at(base: &str, output: &str) -> Output {
    sigmamind(
        &[
            "calls",
            "create",
            "--from",
            "+14155552671",
            "--to",
            "+14155552672",
            "--output",
            output,
        ],
        &[("SIGMAMIND_API_KEY", "cli-key"), ("SIGMAMIND_BASE_URL", base)],
    )
}

/// FIXTURE: the live API as earlier vendor pages describe it (200 "OK"), or
/// with a field of another type: the call was placed, so the CLI prints it
/// and exits 0, and says once on stderr how the answer drifted.
#[tokio::test]
async fn a_200_or_a_mistyped_field_prints_the_call_and_exits_0() {
    let example = support::vendor_example_call();
    let mut mistyped = example.clone();
    mistyped["phoneNumber"]["sipPhoneNumber"] = serde_json::json!(14155552671u64);
    for (answer, note) in [
        (support::Answer::json(200, "OK", &example), "status 200"),
        (
            support::Answer::json(201, "Created", &mistyped),
            "phoneNumber: field `sipPhoneNumber` is integer, not its documented type",
        ),
    ] {
        let (out, server) = create_against(answer, "json").await;
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(printed["callId"], "call_AuUKK371Spr5nHJS");
        let stderr = text(&out.stderr);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.starts_with("note: the response drifted") && stderr.contains(note),
            "{stderr}"
        );
        assert_eq!(server.received().len(), 1);
    }
}

#[tokio::test]
async fn a_call_that_may_exist_exits_3_and_says_so() {
    let (out, server) = create_against(
        support::Answer::json(500, "Internal Server Error", &serde_json::json!({})),
        "table",
    )
    .await;
    assert_eq!(out.status.code(), Some(3));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("the call may have been placed"), "{stderr}");
    assert_eq!(server.received().len(), 1, "a 500 on a POST is not retried");
}

/// FIXTURE: a server that answers every call with the vendor's example and
/// status 200. Every row is placed, with its call id; running the same
/// command again dials nobody (counted by the server).
#[tokio::test]
async fn create_batch_against_a_server_that_answers_200_places_every_row_once() {
    let server =
        support::RawServer::start(support::Answer::json(200, "OK", &support::vendor_example_call())).await;
    let dir = tempfile::tempdir().unwrap();
    let contacts = dir.path().join("contacts.csv");
    let rows = 6;
    let mut csv = String::from("phone,customer_name\n");
    for i in 0..rows {
        csv.push_str(&format!("+1415555{i:04},C{i}\n"));
    }
    std::fs::write(&contacts, csv).unwrap();
    let results = dir.path().join("results.jsonl");
    let run = || {
        let (contacts, results, base) = (contacts.clone(), results.clone(), server.url());
        tokio::task::spawn_blocking(move || {
            sigmamind(
                &[
                    "calls",
                    "create-batch",
                    contacts.to_str().unwrap(),
                    "--from",
                    "+14155552671",
                    "--results",
                    results.to_str().unwrap(),
                ],
                &[("SIGMAMIND_API_KEY", "k"), ("SIGMAMIND_BASE_URL", base.as_str())],
            )
        })
    };
    let out = run().await.unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&results)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), rows);
    for line in &lines {
        assert_eq!(line["outcome"], "placed", "{line}");
        assert_eq!(line["callId"], "call_AuUKK371Spr5nHJS", "{line}");
    }
    assert_eq!(server.received().len(), rows);

    let again = run().await.unwrap();
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));
    assert_eq!(server.received().len(), rows, "the second run dialled nobody");
}

/// `mock serve` answering as the vendor's other pages describe the API,
/// for clients in any language; this crate's client still reads the call.
#[tokio::test]
async fn mock_serve_answers_as_the_vendors_other_pages_on_demand() {
    let served = serve(&["--api-key", "k", "--success-status", "200", "--mistyped-fields"]);
    let raw = reqwest::Client::new()
        .post(format!("{}/v1/calls", served.base_url))
        .header("x-api-key", "k")
        .json(&serde_json::json!({"fromPhoneNumber": "+14155552671", "toPhoneNumber": "+14155552672"}))
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status().as_u16(), 200);
    let body: serde_json::Value = raw.json().await.unwrap();
    assert_eq!(body["phoneNumber"], "Object");
    assert_eq!(body["campaign"]["phoneNumber"]["sipPhoneNumber"], 14155552671u64);
    assert_eq!(body["duration"], "120");

    let client = sigmamind::Client::builder()
        .api_key("k")
        .base_url(&served.base_url)
        .build()
        .unwrap();
    let call = client
        .create_call()
        .body(
            sigmamind::types::CreateCallRequest::builder()
                .from_phone_number("+14155552671")
                .to_phone_number("+14155552672"),
        )
        .send()
        .await
        .unwrap()
        .into_inner();
    assert!(call.call_id.is_some());
    assert_eq!((call.phone_number, call.duration), (None, None));
    let mut kinds: Vec<_> = client
        .drift()
        .entries
        .iter()
        .map(|e| (e.kind, e.value.clone()))
        .collect();
    kinds.sort();
    use sigmamind::DriftKind::{Status, Type};
    assert_eq!(
        kinds,
        [
            (Type, "duration".to_owned()),
            (Type, "phoneNumber".to_owned()),
            (Type, "sipPhoneNumber".to_owned()),
            (Status, "200".to_owned()),
        ]
    );
    let (status, _) = served.stop();
    assert!(status.success());
}

#[test]
fn mock_serve_refuses_a_spec_it_cannot_check_or_read() {
    let serve = |spec: &std::path::Path| {
        sigmamind(
            &["mock", "serve", "--port", "0", "--spec", spec.to_str().unwrap()],
            &[],
        )
    };
    let dir = tempfile::tempdir().unwrap();
    let unreadable = dir.path().join("spec.yaml");
    std::fs::write(&unreadable, "openapi: 3.0.3\n").unwrap();
    let out = serve(&unreadable);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("not JSON"), "{}", text(&out.stderr));
    // FIXTURE: a spec using a keyword the local server's validator lacks.
    let unchecked = dir.path().join("spec.json");
    let spec = serde_json::json!({"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {},
        "components": {"schemas": {"X": {"not": {"type": "string"}}}}});
    std::fs::write(&unchecked, spec.to_string()).unwrap();
    let out = serve(&unchecked);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("does not implement `not`"),
        "{}",
        text(&out.stderr)
    );
}
