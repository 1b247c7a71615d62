//! The `sigmamind` binary, run as a user would.
#![cfg(feature = "cli")]

use std::process::{Command, Output};

use sigmamind::mock::{MockOptions, MockServer};

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
    let server = MockServer::start_with(MockOptions {
        api_key: Some(server_key.into()),
        ..Default::default()
    })
    .await;
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
