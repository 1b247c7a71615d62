use sigmamind_downstream_example::{dial, outcome, request, CallRecord, Outcome};
use sigmamind_mock::{Fault, MockServer};

#[tokio::test]
async fn dials_through_the_public_api_and_stores_the_call() {
    let server = MockServer::start().await;
    let req = request("+14155552671", "+14155552672", "agent_1", "Michael").unwrap();
    let record = dial(&server.client(), "cust_1", req).await.unwrap();
    assert_eq!(record.outcome, Outcome::Pending);
    let stored = serde_json::to_string(&record).unwrap();
    assert_eq!(serde_json::from_str::<CallRecord>(&stored).unwrap(), record);
}

#[tokio::test]
async fn values_added_by_the_vendor_later_are_kept_and_reviewed() {
    let server = MockServer::start().await;
    server.push_fault(Fault::UnknownEnumValues);
    let req = request("+14155552671", "+14155552672", "agent_1", "Michael").unwrap();
    let record = dial(&server.client(), "cust_2", req).await.unwrap();
    assert_eq!(record.outcome, Outcome::NeedsReview);
    let stored: serde_json::Value = serde_json::to_value(&record).unwrap();
    assert_eq!(stored["call"]["status"], "scheduled_v2");
    assert_eq!(stored["call"]["terminationReason"], "silence_timed_out_v2");
}

#[test]
fn finished_calls_map_to_outcomes() {
    let call = |reason: &str| {
        serde_json::from_value(serde_json::json!({"status": "ended", "terminationReason": reason})).unwrap()
    };
    assert_eq!(outcome(&call("user_ended_call")), Outcome::Reached);
    assert_eq!(outcome(&call("dial_busy")), Outcome::RetryLater);
    assert_eq!(outcome(&call("dial_invalid_destination")), Outcome::GiveUp);
    assert_eq!(outcome(&call("error_llm")), Outcome::NeedsReview);
}

#[test]
fn bad_input_is_refused_with_the_field_and_rule() {
    let err = request("4155552671", "+14155552672", "agent_1", "M")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("from_phone_number") && err.contains("doesn't match pattern"),
        "{err}"
    );
    let err = request("+14155552671", "+14155552672", &"a".repeat(65), "M")
        .unwrap_err()
        .to_string();
    assert!(err.contains("longer than 64 characters"), "{err}");
}

#[test]
fn embedding_types_have_a_json_schema() {
    let schema = serde_json::to_value(schemars::schema_for!(CallRecord)).unwrap();
    assert!(schema["definitions"]["Call"].is_object(), "{schema}");
}

#[tokio::test]
async fn a_rejected_key_gives_the_documented_401_body_typed() {
    use sigmamind::types::{CreateCallErrorBody, LocalServerErrorBody};

    let server = MockServer::start().await;
    let client = sigmamind::Client::builder()
        .api_key("sk_not_the_right_one")
        .base_url(server.base_url())
        .build()
        .unwrap();
    let req = request("+14155552671", "+14155552672", "agent_1", "Michael").unwrap();
    let err = client.create_call().body(req).send().await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(401));
    let Some(CreateCallErrorBody::Status401(LocalServerErrorBody {
        error,
        message,
        status,
        ..
    })) = err.error_body::<CreateCallErrorBody>()
    else {
        panic!("no typed 401 body in {err:?}");
    };
    assert_eq!(error, "Unauthorized");
    assert_eq!(status, Some(401));
    assert!(message.contains("X-API-Key"), "{message}");
    // The raw JSON stays on the error too.
    let sigmamind::Error::Api { json: Some(json), .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(json["path"], "/v1/calls");
}

#[test]
fn generated_structs_are_built_with_builders_and_matched_with_rest_patterns() {
    use sigmamind::types::CallStatus;
    use sigmamind_downstream_example::{ended_call_id, fixture_call};
    let call = fixture_call(CallStatus::Ended).unwrap();
    assert_eq!(ended_call_id(&call), Some("call_fixture"));
    assert_eq!(ended_call_id(&fixture_call(CallStatus::Scheduled).unwrap()), None);
}
