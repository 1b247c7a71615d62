//! `sigmamind`: place SigmaMind calls from the command line.
//!
//! With `SIGMAMIND_API_KEY` set it talks to the API (or `SIGMAMIND_BASE_URL`);
//! without one it starts the crate's local server in-process and places the
//! call there, so it runs on a fresh machine with no account.

mod create;
mod create_batch;
mod mock_serve;

use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use sigmamind::client::{API_KEY_ENV, BASE_URL_ENV};
use sigmamind::Client;
use sigmamind_mock::{MockOptions, MockServer};

#[derive(Parser)]
#[command(
    name = "sigmamind",
    version,
    about = "Place AI phone calls with the SigmaMind API"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Phone calls.
    Calls {
        #[command(subcommand)]
        command: CallsCommand,
    },
    /// The local SigmaMind server, for tests in any language.
    Mock {
        #[command(subcommand)]
        command: MockCommand,
    },
}

#[derive(Subcommand)]
enum MockCommand {
    /// Serve the spec's operations over HTTP until Ctrl-C or SIGTERM.
    #[command(after_help = "\
Prints one line with the base URL and the API key, e.g.
  SigmaMind local server at http://127.0.0.1:4010 with API key mock_0123...

Then, from any language:
  curl -s http://127.0.0.1:4010/v1/calls -H 'X-API-Key: <key>' \\
       -H 'Content-Type: application/json' \\
       -d '{\"fromPhoneNumber\": \"+14155552671\", \"toPhoneNumber\": \"+14155552672\"}'")]
    Serve(mock_serve::ServeArgs),
}

#[derive(Subcommand)]
enum CallsCommand {
    /// Place one outbound call (POST /v1/calls).
    #[command(after_help = "\
Example:
  sigmamind calls create --from +14155552671 --to +14155552672 \\
      --agent D5D0p7TUs66TTAEAx --var customer_name=Michael --var account_id=ACC-001

Without SIGMAMIND_API_KEY the call goes to a local SigmaMind server started
in-process (nothing is dialled). SIGMAMIND_BASE_URL overrides the API address.

Exit status: 0 the call was placed; 1 it was not (refused, or never sent);
2 bad arguments; 3 it may have been placed (a timeout, a 5xx, a redirect):
check before placing it again.")]
    Create(create::CreateArgs),
    /// Dial every row of a CSV contact list, at most once each.
    #[command(after_help = create_batch::AFTER_HELP)]
    CreateBatch(Box<create_batch::BatchArgs>),
}

pub(crate) fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(at) => text.split_at(at),
        None => (text, "ms"),
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration like 50ms or 1s"))?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        _ => return Err(format!("`{text}`: use ms or s")),
    };
    // A number too large for a Duration is refused, not a panic.
    std::time::Duration::try_from_secs_f64(seconds).map_err(|_| format!("`{text}` is too long a duration"))
}

/// Where calls go, and how a command asked for it.
pub(crate) struct Target {
    pub client: Client,
    /// Names the target in journals: the API's base URL, or `the local server`.
    pub name: String,
    /// The local server, alive while this lives; `None` for the API.
    pub local: Option<MockServer>,
}

/// When the built-in local server may stand in for the API.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fallback {
    /// When neither `SIGMAMIND_API_KEY` nor `SIGMAMIND_BASE_URL` is set
    /// (`calls create`: the README's first command).
    WhenUnconfigured,
    /// Only when asked (`create-batch --local`): a list must never be
    /// "dialled" on a rehearsal server because a secret went missing.
    OnlyWhenAsked { asked: bool },
}

/// The target: the API with `SIGMAMIND_API_KEY` set, else the local server
/// as `fallback` allows, else an error (nothing is sent). A base URL without
/// a key is a configuration that lost its secret, never a rehearsal.
pub(crate) async fn target(what: &str, fallback: Fallback, timeout: Duration) -> Result<Target, String> {
    let key = std::env::var_os(API_KEY_ENV).is_some();
    let base_url = std::env::var_os(BASE_URL_ENV).is_some();
    let local = match fallback {
        Fallback::OnlyWhenAsked { asked } => asked,
        Fallback::WhenUnconfigured => !key && !base_url,
    };
    if !local {
        if !key {
            return Err(match (fallback, base_url) {
                (_, true) => format!(
                    "{BASE_URL_ENV} is set but {API_KEY_ENV} is not: nothing was sent. Set the key; \
                     the built-in local server stands in only when neither is set"
                ),
                (Fallback::OnlyWhenAsked { .. }, false) => format!(
                    "{API_KEY_ENV} is not set: nothing was sent. Set it to place real calls, or pass \
                     --local to rehearse on the built-in local server (nothing is dialled)"
                ),
                (Fallback::WhenUnconfigured, false) => unreachable!("unconfigured falls back"),
            });
        }
        let mut builder = Client::builder().timeout(timeout);
        if let Ok(key) = std::env::var(API_KEY_ENV) {
            builder = builder.api_key(key);
        }
        if let Ok(url) = std::env::var(BASE_URL_ENV) {
            builder = builder.base_url(url);
        }
        let client = builder.build().map_err(|e| e.to_string())?;
        let name = sigmamind::ClientInfo::baseurl(&client).to_owned();
        return Ok(Target {
            client,
            name,
            local: None,
        });
    }
    // Nothing reads its recordings: counters only, memory flat for any list.
    let server = MockServer::start_with(MockOptions::default().record_requests(false)).await;
    let why = match fallback {
        Fallback::WhenUnconfigured => format!("{API_KEY_ENV} is not set: "),
        Fallback::OnlyWhenAsked { .. } => "--local: ".to_owned(),
    };
    eprintln!(
        "{why}placing {what} on a local SigmaMind server at {} (nothing is dialled)",
        server.base_url()
    );
    Ok(Target {
        client: server.client(),
        name: LOCAL_TARGET.to_owned(),
        local: Some(server),
    })
}

/// How journals and results name the built-in local server.
pub(crate) const LOCAL_TARGET: &str = "the local server";

/// A JSON text as a terminal shows it: serde_json escapes C0 controls, not
/// C1 controls nor bidirectional overrides; those become `\uXXXX` too (they
/// can only stand inside strings, so the JSON stays valid and equal).
pub(crate) fn printable_json(json: &str) -> String {
    let mut shown = String::with_capacity(json.len());
    for c in json.chars() {
        let mut buffer = [0; 4];
        // Raw C0 in serde_json's output is only its own layout (newlines).
        let layout = c.is_ascii_whitespace();
        if layout
            || matches!(
                sigmamind::text::printable(c.encode_utf8(&mut buffer)),
                std::borrow::Cow::Borrowed(_)
            )
        {
            shown.push(c);
        } else {
            shown.push_str(&format!("\\u{:04x}", c as u32));
        }
    }
    shown
}

/// Ctrl-C, or SIGTERM where there is one.
pub(crate) async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate()).expect("listen for SIGTERM");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Calls {
            command: CallsCommand::Create(args),
        } => create::create_call(args).await,
        Command::Calls {
            command: CallsCommand::CreateBatch(args),
        } => create_batch::create_batch(*args).await,
        Command::Mock {
            command: MockCommand::Serve(args),
        } => mock_serve::serve(args).await,
    }
}
