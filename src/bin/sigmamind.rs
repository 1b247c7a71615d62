//! `sigmamind`: place SigmaMind calls from the command line.
//!
//! With `SIGMAMIND_API_KEY` set it talks to the API (or `SIGMAMIND_BASE_URL`);
//! without one it starts the crate's local server in-process and places the
//! call there, so it runs on a fresh machine with no account.

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use sigmamind::client::API_KEY_ENV;
use sigmamind::mock::{MockOptions, MockServer, RequestLog};
use sigmamind::types::{AgentId, Call, CreateCallRequest};
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
    Serve(ServeArgs),
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Port to listen on (0: any free port).
    #[arg(long, default_value_t = 4010)]
    port: u16,
    /// Address to listen on. Anything but loopback needs --allow-remote.
    #[arg(long, default_value = "127.0.0.1")]
    host: std::net::IpAddr,
    /// Listen on a non-loopback --host: other machines can then reach the server.
    #[arg(long)]
    allow_remote: bool,
    /// The API key clients must send (X-API-Key); random when absent.
    #[arg(long, env = "SIGMAMIND_MOCK_API_KEY", hide_env_values = true)]
    api_key: Option<String>,
    /// Delay before every answer, e.g. 50ms or 1s.
    #[arg(long, value_parser = parse_duration, default_value = "0ms")]
    latency: std::time::Duration,
    /// Seed for call ids: the same seed gives the same ids.
    #[arg(long)]
    seed: Option<u64>,
    /// One line per request on stderr: method, path, status, latency.
    #[arg(long)]
    verbose: bool,
}

fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
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

async fn serve(args: ServeArgs) -> ExitCode {
    if !args.host.is_loopback() && !args.allow_remote {
        eprintln!(
            "error: --host {} is not a loopback address; pass --allow-remote to let other machines reach the server",
            args.host
        );
        return ExitCode::from(2);
    }
    let mut options = MockOptions::default()
        .listen(args.host, args.port)
        .latency(args.latency);
    if let Some(key) = args.api_key {
        options = options.api_key(key);
    }
    if let Some(seed) = args.seed {
        options = options.seed(seed);
    }
    if args.verbose {
        options = options.on_request(|entry: &RequestLog| eprintln!("{entry}"));
    }
    let server = match MockServer::try_start_with(options).await {
        Ok(server) => server,
        Err(error) => {
            eprintln!("error: cannot listen on {}:{}: {error}", args.host, args.port);
            return ExitCode::FAILURE;
        }
    };
    println!(
        "SigmaMind local server at {} with API key {}",
        server.base_url(),
        server.api_key()
    );
    let _ = std::io::Write::flush(&mut std::io::stdout());
    shutdown_signal().await;
    drop(server);
    eprintln!("stopped");
    ExitCode::SUCCESS
}

/// Ctrl-C, or SIGTERM where there is one.
async fn shutdown_signal() {
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

#[derive(Subcommand)]
enum CallsCommand {
    /// Place one outbound call (POST /v1/calls).
    #[command(after_help = "\
Example:
  sigmamind calls create --from +14155552671 --to +14155552672 \\
      --agent D5D0p7TUs66TTAEAx --var customer_name=Michael --var account_id=ACC-001

Without SIGMAMIND_API_KEY the call goes to a local SigmaMind server started
in-process (nothing is dialled). SIGMAMIND_BASE_URL overrides the API address.")]
    Create(CreateArgs),
}

#[derive(clap::Args)]
struct CreateArgs {
    /// Caller number in +E.164 format, provisioned in SigmaMind (e.g. +14155552671).
    #[arg(long = "from", value_name = "E164")]
    from: String,
    /// Destination number in +E.164 format (e.g. +14155552672).
    #[arg(long = "to", value_name = "E164")]
    to: String,
    /// Agent that handles the call (at most 64 characters); default: the caller number's agent.
    #[arg(long = "agent", value_name = "ID")]
    agent: Option<String>,
    /// A dynamic variable for the agent, as NAME=VALUE; repeat for more.
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = parse_var)]
    vars: Vec<(String, String)>,
    /// How to print the created call.
    #[arg(long, value_enum, default_value_t = Output::Table)]
    output: Output,
}

#[derive(Clone, Copy, ValueEnum)]
enum Output {
    Json,
    Table,
}

fn parse_var(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name.to_owned(), value.to_owned())),
        _ => Err(format!("`{text}` is not NAME=VALUE")),
    }
}

/// The builder field names, as the flags the user typed.
fn flag_for(field: &str) -> &str {
    match field {
        "from_phone_number" => "--from",
        "to_phone_number" => "--to",
        "agent_id" => "--agent",
        "dynamic_variables" => "--var",
        other => other,
    }
}

fn build_request(args: &CreateArgs) -> Result<CreateCallRequest, String> {
    let mut builder = CreateCallRequest::builder()
        .from_phone_number(args.from.as_str())
        .to_phone_number(args.to.as_str())
        .dynamic_variables(serde_json::Map::from_iter(
            args.vars
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::Value::from(v.as_str()))),
        ));
    if let Some(agent) = &args.agent {
        let agent: AgentId = agent.parse().map_err(|e| format!("--agent: {e}"))?;
        builder = builder.agent_id(agent);
    }
    CreateCallRequest::try_from(builder).map_err(|e| {
        // "error converting supplied value for from_phone_number: <rule>"
        let text = e.to_string();
        let text = text
            .strip_prefix("error converting supplied value for ")
            .unwrap_or(&text);
        match text.split_once(": ") {
            Some((field, rule)) => format!("{}: {rule}", flag_for(field)),
            None => text.to_owned(),
        }
    })
}

/// One stderr line when the response carried what the spec does not know.
fn report_drift(client: &Client) {
    let drift = client.drift();
    if drift.entries.is_empty() {
        return;
    }
    let items: Vec<String> = drift
        .entries
        .iter()
        .map(|e| {
            let at = if e.path.is_empty() {
                String::new()
            } else {
                format!("{}: ", e.path)
            };
            match e.kind {
                sigmamind::DriftKind::EnumValue => format!("{at}value `{}`", e.value),
                _ => format!("{at}field `{}`", e.value),
            }
        })
        .collect();
    eprintln!(
        "note: the response drifted from the spec this sigmamind was built from: {}",
        items.join(", ")
    );
}

fn print_call(call: &Call, output: Output) {
    match output {
        Output::Json => println!(
            "{}",
            serde_json::to_string_pretty(call).expect("a Call serialises")
        ),
        Output::Table => {
            let value = serde_json::to_value(call).expect("a Call serialises");
            for (key, value) in value.as_object().into_iter().flatten() {
                let shown = match value {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                println!("{key:<18} {shown}");
            }
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Calls {
            command: CallsCommand::Create(args),
        } => create_call(args).await,
        Command::Mock {
            command: MockCommand::Serve(args),
        } => serve(args).await,
    }
}

async fn create_call(args: CreateArgs) -> ExitCode {
    let request = match build_request(&args) {
        Ok(request) => request,
        Err(message) => {
            eprintln!("error: invalid request, nothing was sent: {message}");
            return ExitCode::from(2);
        }
    };
    // Kept alive until the call is placed.
    let mut _local = None;
    let client = if std::env::var_os(API_KEY_ENV).is_some() {
        Client::from_env()
    } else {
        let server = MockServer::start().await;
        eprintln!(
            "{API_KEY_ENV} is not set: placing the call on a local SigmaMind server at {} (nothing is dialled)",
            server.base_url()
        );
        let client = Ok(server.client());
        _local = Some(server);
        client
    };
    let client = match client {
        Ok(client) => client,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    match client.create_call().body(request).send().await {
        Ok(call) => {
            print_call(&call.into_inner(), args.output);
            report_drift(&client);
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
