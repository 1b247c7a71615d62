//! Drift: responses keep what the spec does not know, and the client says so.

use serde_json::json;
use sigmamind::types::{CallStatus, CreateCallRequest};
use sigmamind::{DriftKind, DriftSummary};
use sigmamind_mock::{Fault, MockServer};

fn request() -> sigmamind::types::builder::CreateCallRequest {
    CreateCallRequest::builder()
        .from_phone_number("+14155552671")
        .to_phone_number("+14155552672")
}

/// FIXTURE: what a newer server might send: a new `status` value and two
/// new fields, one of them nested.
fn newer() -> serde_json::Value {
    json!({
        "callId": "call_AuUKK371Spr5nHJS",
        "callType": "outbound",
        "status": "voicemail_left",
        "createdAt": "2024-04-20T09:59:50.123Z",
        "sentiment": {"score": 0.9, "label": "positive"},
        "agent": {"agentId": "agent_D5D0p7TUs66TTAEAx", "name": "New AI Agent", "voiceId": "v_42"}
    })
}

#[tokio::test]
async fn a_newer_response_round_trips_and_its_drift_is_counted() {
    let server = MockServer::start().await;
    let client = server.client();
    for _ in 0..1_000 {
        server.push_fault(Fault::Json(201, newer()));
    }
    let mut first = None;
    for _ in 0..1_000 {
        let call = client
            .create_call()
            .body(request())
            .send()
            .await
            .unwrap()
            .into_inner();
        first.get_or_insert(call);
    }
    let call = first.unwrap();
    // Lossless: serialised back, the call is what the server sent.
    assert_eq!(serde_json::to_value(&call).unwrap(), newer());
    assert!(matches!(&call.status, Some(CallStatus::Unknown(v)) if v.as_str() == "voicemail_left"));
    assert_eq!(call.extra["sentiment"]["label"], "positive");
    assert_eq!(call.agent.as_ref().unwrap().extra["voiceId"], "v_42");

    let summary = client.drift();
    /// (operation, path, kind, value, JSON type, count)
    type Row<'a> = (&'a str, &'a str, DriftKind, &'a str, Option<&'a str>, u64);
    let seen: Vec<Row<'_>> = summary
        .entries
        .iter()
        .map(|e| {
            (
                e.operation.as_str(),
                e.path.as_str(),
                e.kind,
                e.value.as_str(),
                e.json_type.as_deref(),
                e.count,
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            (
                "create_call",
                "",
                DriftKind::Field,
                "sentiment",
                Some("object"),
                1_000
            ),
            (
                "create_call",
                "agent",
                DriftKind::Field,
                "voiceId",
                Some("string"),
                1_000
            ),
            (
                "create_call",
                "status",
                DriftKind::EnumValue,
                "voicemail_left",
                None,
                1_000
            ),
        ]
    );
    assert_eq!(summary.overflow, 0);
    // Nothing but names and unknown enum values: responses hold personal data.
    let text = serde_json::to_string(&summary).unwrap();
    for value in [
        "call_AuUKK371Spr5nHJS",
        "0.9",
        "positive",
        "v_42",
        "New AI Agent",
        "agent_D5D0p7TUs66TTAEAx",
    ] {
        assert!(!text.contains(value), "{value} in {text}");
    }
    // The JSON form reads back (what `cargo xtask drift` takes).
    assert_eq!(serde_json::from_str::<DriftSummary>(&text).unwrap(), summary);
}

#[tokio::test]
async fn a_response_the_spec_describes_leaves_no_drift() {
    let server = MockServer::start().await;
    let client = server.client();
    client.create_call().body(request()).send().await.unwrap();
    assert_eq!(client.drift(), DriftSummary::default());
}
