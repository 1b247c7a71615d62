//! `sigmamind`: place SigmaMind calls from the command line.
//!
//! With `SIGMAMIND_API_KEY` set it talks to the API (or `SIGMAMIND_BASE_URL`);
//! without one it starts the crate's local server in-process and places the
//! call there, so it runs on a fresh machine with no account.

mod create;
mod create_batch;
mod mock_serve;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use sigmamind::client::API_KEY_ENV;
use sigmamind::mock::{MockOptions, MockServer};
use sigmamind::Client;

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
    CreateBatch(create_batch::BatchArgs),
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
    Ok(std::time::Duration::from_secs_f64(seconds))
}

/// Where calls go: the API with `SIGMAMIND_API_KEY` set, else a local
/// server started in-process (kept alive by the returned handle). The text
/// names the target for messages and journals.
pub(crate) async fn client_or_local_server(
    what: &str,
) -> Result<(Client, String, Option<MockServer>), sigmamind::Error> {
    if std::env::var_os(API_KEY_ENV).is_some() {
        let client = Client::from_env()?;
        let target = sigmamind::ClientInfo::baseurl(&client).to_owned();
        return Ok((client, target, None));
    }
    // Nothing reads its recordings: counters only, memory flat for any list.
    let server = MockServer::start_with(MockOptions::default().record_requests(false)).await;
    eprintln!(
        "{API_KEY_ENV} is not set: placing {what} on a local SigmaMind server at {} (nothing is dialled)",
        server.base_url()
    );
    Ok((server.client(), "the local server".to_owned(), Some(server)))
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
        } => create_batch::create_batch(args).await,
        Command::Mock {
            command: MockCommand::Serve(args),
        } => mock_serve::serve(args).await,
    }
}
