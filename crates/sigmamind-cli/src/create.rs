//! `sigmamind calls create`: one call.

use std::process::ExitCode;

use clap::ValueEnum;
use sigmamind::fate::Fate;
use sigmamind::text::printable;
use sigmamind::types::{AgentId, Call, CreateCallRequest};
use sigmamind::Client;

#[derive(clap::Args)]
pub(crate) struct CreateArgs {
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
    /// Limit on each attempt, from sending until the whole answer has
    /// arrived (e.g. 30s, 500ms).
    #[arg(long, value_parser = crate::parse_duration, default_value = "30s")]
    timeout: std::time::Duration,
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
        "region" => "--region",
        "calling_hours" => "--calling-hours",
        "days" => "--days",
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
    CreateCallRequest::try_from(builder).map_err(|e| flagged(e.into()))
}

/// An invalid-request error, worded with the flag the user typed
/// (`--from: doesn't match pattern …`).
pub(crate) fn flagged(error: sigmamind::Error) -> String {
    match error {
        sigmamind::Error::InvalidRequest {
            field: Some(field),
            rule,
            ..
        } => format!("{}: {rule}", flag_for(&field)),
        other => other.to_string(),
    }
}

/// One stderr line when the response carried what the spec does not know.
pub(crate) fn report_drift(client: &Client) {
    let drift = client.drift();
    if drift.entries.is_empty() {
        return;
    }
    let items: Vec<String> = drift
        .entries
        .iter()
        .map(|e| {
            let mut e = e.clone();
            e.path = printable(&e.path).into_owned();
            e.value = printable(&e.value).into_owned();
            let at = if e.path.is_empty() {
                String::new()
            } else {
                format!("{}: ", e.path)
            };
            let json_type = e.json_type.as_deref().unwrap_or("?");
            match e.kind {
                sigmamind::DriftKind::EnumValue => format!("{at}value `{}`", e.value),
                sigmamind::DriftKind::Type => {
                    format!("{at}field `{}` is {json_type}, not its documented type", e.value)
                }
                sigmamind::DriftKind::Status => format!("status {}", e.value),
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
            crate::printable_json(&serde_json::to_string_pretty(call).expect("a Call serialises"))
        ),
        Output::Table => {
            let value = serde_json::to_value(call).expect("a Call serialises");
            for (key, value) in value.as_object().into_iter().flatten() {
                let shown = match value {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                println!("{:<18} {}", printable(key), printable(&shown));
            }
        }
    }
}

pub(crate) async fn create_call(args: CreateArgs) -> ExitCode {
    let request = match build_request(&args) {
        Ok(request) => request,
        Err(message) => {
            eprintln!("error: invalid request, nothing was sent: {message}");
            return ExitCode::from(2);
        }
    };
    // The local server, if any, lives until the call is placed.
    let target = match crate::target("the call", crate::Fallback::WhenUnconfigured, args.timeout).await {
        Ok(target) => target,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    let client = &target.client;
    match client.create_call().body(request).send().await {
        Ok(call) => {
            print_call(&call.into_inner(), args.output);
            report_drift(client);
            ExitCode::SUCCESS
        }
        Err(error) => match error.fate() {
            // A 2xx whose body could not be read: the call exists.
            Fate::Processed => {
                let call_id = error.call_id().map_or("(not in the answer)".into(), printable);
                match args.output {
                    Output::Json => println!(
                        "{}",
                        crate::printable_json(&serde_json::json!({ "callId": error.call_id() }).to_string())
                    ),
                    Output::Table => println!("{:<18} {call_id}", "callId"),
                }
                eprintln!("warning: the call was placed, but its answer could not be read: {error}");
                ExitCode::SUCCESS
            }
            Fate::Unknown => {
                eprintln!("error: {error}");
                eprintln!("warning: the call may have been placed; check before placing it again");
                ExitCode::from(UNKNOWN)
            }
            _ => {
                eprintln!("error: {error}");
                ExitCode::FAILURE
            }
        },
    }
}

/// Exit status when the call may or may not have been placed (as `create-batch`).
pub(crate) const UNKNOWN: u8 = 3;
