//! `sigmamind`: place SigmaMind calls from the command line.
//!
//! With `SIGMAMIND_API_KEY` set it talks to the API (or `SIGMAMIND_BASE_URL`);
//! without one it starts the crate's local server in-process and places the
//! call there, so it runs on a fresh machine with no account.

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use sigmamind::client::API_KEY_ENV;
use sigmamind::mock::MockServer;
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
    let Command::Calls {
        command: CallsCommand::Create(args),
    } = Cli::parse().command;
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
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
