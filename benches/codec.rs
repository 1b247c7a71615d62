//! Serialising a `CreateCallRequest` and parsing the vendor's example `Call`,
//! compared with `serde_json` on hand-written structs of the same shape:
//! `cargo bench --bench codec`. Rounds alternate generated and hand-written
//! code; medians of ns per operation and their ratio are printed.

use std::hint::black_box;
use std::time::Instant;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sigmamind::types::{Call, CreateCallRequest};

#[derive(Serialize, Deserialize)]
struct PlainRequest {
    #[serde(rename = "agentId", skip_serializing_if = "Option::is_none")]
    agent_id: Option<String>,
    #[serde(rename = "dynamicVariables", default, skip_serializing_if = "Map::is_empty")]
    dynamic_variables: Map<String, Value>,
    #[serde(rename = "fromPhoneNumber")]
    from_phone_number: String,
    #[serde(rename = "toPhoneNumber")]
    to_phone_number: String,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum PlainCallType {
    Inbound,
    Outbound,
    Web,
    Chat,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum PlainStatus {
    Scheduled,
    InProgress,
    Ended,
    NotConnected,
    Error,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum PlainReason {
    SilenceTimedOut,
    AgentEndedCall,
    UserEndedCall,
    VoicemailDetected,
    IvrDetected,
    AgentTransferredCall,
    MaxCallDurationExceeded,
    DialTelephonyPermissionDenied,
    DialInvalidDestination,
    DialNoAnswer,
    DialUserDeclined,
    DialBusy,
    DialFailed,
    ErrorCreditLimitReached,
    ErrorLlm,
    ErrorTts,
    ErrorAsr,
    ErrorSigmamind,
    ErrorTelephony,
    ErrorUnknown,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PlainAgent {
    agent_id: Option<String>,
    name: Option<String>,
    status: Option<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PlainPhoneNumber {
    active: Option<bool>,
    friendly_name: Option<String>,
    inbound_agent_id: Option<String>,
    outbound_agent_id: Option<String>,
    outbound_phone_number: Option<String>,
    provider: Option<String>,
    sip_phone_number: Option<String>,
    #[serde(rename = "terminationSipURI")]
    termination_sip_uri: Option<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PlainCampaign {
    agent: Option<PlainAgent>,
    campaign_id: Option<String>,
    campaign_name: Option<String>,
    campaign_status: Option<String>,
    concurrent_calls: Option<i64>,
    errors: Option<Vec<String>>,
    phone_number: Option<PlainPhoneNumber>,
    scheduled: Option<bool>,
    scheduled_date: Option<DateTime<Utc>>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PlainCall {
    agent: Option<PlainAgent>,
    call_id: Option<String>,
    call_type: Option<PlainCallType>,
    campaign: Option<PlainCampaign>,
    created_at: Option<DateTime<Utc>>,
    duration: Option<i32>,
    dynamic_variables: Option<Map<String, Value>>,
    end_time: Option<DateTime<Utc>>,
    phone_number: Option<PlainPhoneNumber>,
    recording_url: Option<String>,
    start_time: Option<DateTime<Utc>>,
    status: Option<PlainStatus>,
    termination_reason: Option<PlainReason>,
    transcript: Option<String>,
    updated_at: Option<DateTime<Utc>>,
}

fn example(pointer: &str) -> String {
    let spec: Value = serde_json::from_str(sigmamind::SPEC_JSON).unwrap();
    spec.pointer(pointer).unwrap().to_string()
}

/// Median ns per call of `f` over `rounds` rounds of `iters` calls.
fn ns_per_op(iters: u32, mut f: impl FnMut()) -> f64 {
    let started = Instant::now();
    for _ in 0..iters {
        f();
    }
    started.elapsed().as_nanos() as f64 / iters as f64
}

fn compare(name: &str, rounds: usize, iters: u32, mut generated: impl FnMut(), mut plain: impl FnMut()) {
    let (mut g, mut p) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        g.push(ns_per_op(iters, &mut generated));
        p.push(ns_per_op(iters, &mut plain));
    }
    g.sort_by(f64::total_cmp);
    p.sort_by(f64::total_cmp);
    let (g, p) = (g[rounds / 2], p[rounds / 2]);
    println!("{name:<34} {g:>10.0} {p:>12.0} {:>7.3}", g / p);
}

fn main() {
    let request_json = example("/paths/~1v1~1calls/post/requestBody/content/application~1json/example");
    let call_json = example("/paths/~1v1~1calls/post/responses/201/content/application~1json/example");
    let request: CreateCallRequest = serde_json::from_str(&request_json).unwrap();
    let plain_request: PlainRequest = serde_json::from_str(&request_json).unwrap();
    let (rounds, iters) = (7, 100_000);
    println!(
        "{:<34} {:>10} {:>12} {:>7}",
        "ns per operation (median of 7)", "generated", "hand-written", "ratio"
    );
    compare(
        "serialise CreateCallRequest",
        rounds,
        iters,
        || drop(black_box(serde_json::to_vec(black_box(&request)).unwrap())),
        || drop(black_box(serde_json::to_vec(black_box(&plain_request)).unwrap())),
    );
    compare(
        "parse the vendor's example Call",
        rounds,
        iters / 4,
        || {
            drop(black_box(
                serde_json::from_str::<Call>(black_box(&call_json)).unwrap(),
            ))
        },
        || {
            drop(black_box(
                serde_json::from_str::<PlainCall>(black_box(&call_json)).unwrap(),
            ))
        },
    );
}
