//! The generated types against the vendor page's own examples and rules.

use serde_json::{json, Value};
use sigmamind::types::{
    builder, AgentId, Call, CallStatus, CallType, CreateCallRequest, E164PhoneNumber, TerminationReason,
};

fn spec() -> Value {
    serde_json::from_str(sigmamind::SPEC_JSON).unwrap()
}

fn example(pointer: &str) -> Value {
    spec()
        .pointer(pointer)
        .unwrap_or_else(|| panic!("no example at {pointer}"))
        .clone()
}

const RESPONSE_EXAMPLE: &str = "/paths/~1v1~1calls/post/responses/201/content/application~1json/example";
const REQUEST_EXAMPLE: &str = "/paths/~1v1~1calls/post/requestBody/content/application~1json/example";

/// chrono writes `10:00:00Z` for the page's `10:00:00.000Z`: the same
/// instant. Compare timestamps as instants, everything else exactly.
fn same_instants(value: &Value) -> Value {
    match value {
        Value::String(s) => match chrono::DateTime::parse_from_rfc3339(s) {
            Ok(t) => json!(t.timestamp_nanos_opt()),
            Err(_) => value.clone(),
        },
        Value::Array(items) => Value::Array(items.iter().map(same_instants).collect()),
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), same_instants(v))).collect()),
        other => other.clone(),
    }
}

#[test]
fn the_pages_response_example_round_trips() {
    let page = example(RESPONSE_EXAMPLE);
    let call: Call = serde_json::from_value(page.clone()).expect("the page's example is a Call");
    assert_eq!(call.call_id.as_deref(), Some("call_AuUKK371Spr5nHJS"));
    assert_eq!(call.call_type, Some(CallType::Outbound));
    assert_eq!(call.status, Some(CallStatus::Ended));
    assert_eq!(call.termination_reason, Some(TerminationReason::UserEndedCall));
    assert_eq!(call.duration, Some(120));
    assert_eq!(call.campaign.as_ref().unwrap().concurrent_calls, Some(5));
    let back = serde_json::to_value(&call).unwrap();
    // Every field survives; only the timestamp spelling may differ.
    assert_eq!(back.as_object().unwrap().len(), page.as_object().unwrap().len());
    assert_eq!(same_instants(&back), same_instants(&page));
    assert_eq!(back["startTime"], "2024-04-20T10:00:00Z");
}

#[test]
fn the_pages_request_example_parses_and_round_trips() {
    let page = example(REQUEST_EXAMPLE);
    let request: CreateCallRequest =
        serde_json::from_value(page.clone()).expect("the page's example is a request");
    assert_eq!(request.from_phone_number.as_str(), "+14155552671");
    assert_eq!(
        request.agent_id.as_deref().map(|s| s.as_str()),
        Some("D5D0p7TUs66TTAEAx")
    );
    assert_eq!(serde_json::to_value(&request).unwrap(), page);
}

#[test]
fn phone_numbers_follow_e164() {
    for bad in ["+1234", "4155552671", "+04155552671", "+1415555267123456", ""] {
        let err = bad.parse::<E164PhoneNumber>().expect_err(bad).to_string();
        assert_eq!(err, r#"doesn't match pattern "^\+[1-9][0-9]{6,14}$""#, "{bad}");
    }
    for good in ["+14155552671", "+4930123456", "+1234567"] {
        good.parse::<E164PhoneNumber>().expect(good);
    }
    // The rule also holds when a request arrives as JSON.
    let err = serde_json::from_value::<CreateCallRequest>(
        json!({"fromPhoneNumber": "+1234", "toPhoneNumber": "+14155552671"}),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("doesn't match pattern"), "{err}");
}

#[test]
fn agent_id_is_at_most_64_characters() {
    assert_eq!(
        "a".repeat(65).parse::<AgentId>().unwrap_err().to_string(),
        "longer than 64 characters"
    );
    "a".repeat(64).parse::<AgentId>().unwrap();
    let err = serde_json::from_value::<CreateCallRequest>(json!({
        "fromPhoneNumber": "+14155552671", "toPhoneNumber": "+14155552672", "agentId": "a".repeat(65)
    }))
    .unwrap_err()
    .to_string();
    assert!(err.contains("longer than 64 characters"), "{err}");
}

#[test]
fn the_builder_names_the_field_and_the_rule() {
    let err = CreateCallRequest::try_from(
        builder::CreateCallRequest::default()
            .from_phone_number("4155552671")
            .to_phone_number("+14155552672"),
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        err,
        r#"error converting supplied value for from_phone_number: doesn't match pattern "^\+[1-9][0-9]{6,14}$""#
    );
    let err =
        CreateCallRequest::try_from(builder::CreateCallRequest::default().from_phone_number("+14155552671"))
            .unwrap_err()
            .to_string();
    assert_eq!(err, "no value supplied for to_phone_number");
}

#[test]
fn responses_do_not_inherit_request_rules() {
    // A SIP address where the request would want E.164, and a long agent id.
    let call: Call = serde_json::from_value(json!({
        "phoneNumber": {"sipPhoneNumber": "sip:support@example.com"},
        "agent": {"agentId": "x".repeat(200)}
    }))
    .unwrap();
    assert_eq!(
        call.phone_number.unwrap().sip_phone_number.as_deref(),
        Some("sip:support@example.com")
    );
    assert_eq!(call.agent.unwrap().agent_id.unwrap().len(), 200);
}

#[test]
fn responses_from_a_newer_server_parse_and_reserialise_unchanged() {
    let newer = json!({
        "callId": "call_1",
        "callType": "carrier_pigeon",
        "status": "on_hold",
        "terminationReason": "solar_flare",
        "sentiment": {"score": 0.9},
        "campaign": {"errors": null, "agent": null, "scheduled": null, "concurrentCalls": null},
        "phoneNumber": null,
        "transcript": null,
        "duration": null
    });
    let call: Call = serde_json::from_value(newer).expect("newer responses parse");
    let call_type = call.call_type.clone().unwrap();
    assert!(!call_type.is_known());
    assert_eq!(call_type.as_str(), "carrier_pigeon");
    assert!(matches!(&call.status, Some(CallStatus::Unknown(v)) if v.as_str() == "on_hold"));
    assert_eq!(
        call.termination_reason.as_ref().unwrap().to_string(),
        "solar_flare"
    );
    let back = serde_json::to_value(&call).unwrap();
    assert_eq!(back["callType"], "carrier_pigeon");
    assert_eq!(back["status"], "on_hold");
    assert_eq!(back["terminationReason"], "solar_flare");
    // Unknown fields are kept, readable by name, and sent back.
    assert_eq!(call.extra["sentiment"], serde_json::json!({"score": 0.9}));
    assert_eq!(back["sentiment"], serde_json::json!({"score": 0.9}));
}

#[test]
fn open_enums_stay_strict_for_text_from_users() {
    assert_eq!(
        "in_progress".parse::<CallStatus>().unwrap(),
        CallStatus::InProgress
    );
    let err = "paused".parse::<CallStatus>().unwrap_err().to_string();
    assert_eq!(err, "`paused` is not a known CallStatus (expected one of: scheduled, in_progress, ended, not_connected, error)");
    assert_eq!(TerminationReason::KNOWN_VALUES.len(), 20);
    assert_eq!(CallType::KNOWN_VALUES, ["inbound", "outbound", "web", "chat"]);
}

#[test]
fn maps_serialise_in_a_stable_order() {
    let request: CreateCallRequest = serde_json::from_str(
        r#"{"fromPhoneNumber":"+14155552671","toPhoneNumber":"+14155552672","dynamicVariables":{"z":"1","a":"2","m":"3"}}"#,
    )
    .unwrap();
    let text = serde_json::to_string(&request).unwrap();
    assert!(
        text.contains(r#""dynamicVariables":{"a":"2","m":"3","z":"1"}"#),
        "{text}"
    );
}

/// Found by the fuzz target once unknown fields were kept: a long decimal
/// must come back as the same number (serde_json's `float_roundtrip`).
#[test]
fn unknown_fields_keep_their_numbers_exactly() {
    let body = br#"{"t":333333333333333333333333333333333333333337.777}"#;
    let call: Call = serde_json::from_slice(body).unwrap();
    let again: Call = serde_json::from_slice(&serde_json::to_vec(&call).unwrap()).unwrap();
    assert_eq!(again, call);
    // In this workspace another crate turns the feature on too; users get it
    // only from our own dependency, so that is what must ask for it.
    let manifest = include_str!("../Cargo.toml");
    let line = manifest
        .lines()
        .find(|l| l.starts_with("serde_json ="))
        .expect("sigmamind depends on serde_json");
    assert!(line.contains("float_roundtrip"), "{line}");
}
