//! The local server itself: faithful to the spec, recording, faults.

use std::time::{Duration, Instant};

use serde_json::json;
use sigmamind::mock::{validate_component, Fault, MockOptions, MockServer};

async fn post(server: &MockServer, key: Option<&str>, body: serde_json::Value) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .post(format!("{}/v1/calls", server.base_url()))
        .json(&body);
    if let Some(key) = key {
        request = request.header("x-api-key", key);
    }
    request.send().await.unwrap()
}

fn valid() -> serde_json::Value {
    json!({
        "fromPhoneNumber": "+14155552671",
        "toPhoneNumber": "+14155552672",
        "agentId": "D5D0p7TUs66TTAEAx",
        "dynamicVariables": {"customer_name": "Michael", "account_id": "ACC-001"}
    })
}

#[tokio::test]
async fn answers_a_call_that_is_valid_against_the_spec() {
    let server = MockServer::start().await;
    let response = post(&server, Some(server.api_key()), valid()).await;
    assert_eq!(response.status().as_u16(), 201);
    assert_eq!(response.headers()["content-type"], "application/json");
    let call: serde_json::Value = response.json().await.unwrap();
    validate_component("Call", &call).unwrap();
    assert_eq!(call["callType"], "outbound");
    assert_eq!(call["status"], "scheduled");
    assert_eq!(call["dynamicVariables"], valid()["dynamicVariables"]);
    assert_eq!(call["agent"]["agentId"], "D5D0p7TUs66TTAEAx");
    assert_eq!(call["createdAt"], call["updatedAt"]);
    let created = chrono::DateTime::parse_from_rfc3339(call["createdAt"].as_str().unwrap()).unwrap();
    assert!((chrono::Utc::now() - created.to_utc()).num_seconds().abs() < 60);

    let second: serde_json::Value = post(&server, Some(server.api_key()), valid())
        .await
        .json()
        .await
        .unwrap();
    assert_ne!(second["callId"], call["callId"], "every call gets a fresh id");
}

#[tokio::test]
async fn requires_the_api_key() {
    let server = MockServer::start_with(MockOptions {
        api_key: Some("test-key".into()),
        ..Default::default()
    })
    .await;
    assert_eq!(server.api_key(), "test-key");
    for key in [None, Some("wrong")] {
        let response = post(&server, key, valid()).await;
        assert_eq!(response.status().as_u16(), 401);
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["error"], "unauthorized");
    }
    assert_eq!(
        post(&server, Some("test-key"), valid()).await.status().as_u16(),
        201
    );
}

#[tokio::test]
async fn rejects_what_the_spec_rejects_naming_each_field() {
    let server = MockServer::start().await;
    let key = Some(server.api_key());
    let cases = [
        (
            json!({"toPhoneNumber": "+14155552672"}),
            json!([{"field": "fromPhoneNumber", "rule": "required"}]),
        ),
        (
            json!({"fromPhoneNumber": "4155552671", "toPhoneNumber": "+14155552672"}),
            json!([{"field": "fromPhoneNumber", "rule": r"pattern ^\+[1-9][0-9]{6,14}$"}]),
        ),
        (
            json!({"fromPhoneNumber": "+14155552671", "toPhoneNumber": 14155552672_u64}),
            json!([{"field": "toPhoneNumber", "rule": "type string"}]),
        ),
        (
            json!({"fromPhoneNumber": "+14155552671", "toPhoneNumber": "+14155552672", "dynamicVariables": "x"}),
            json!([{"field": "dynamicVariables", "rule": "type object"}]),
        ),
    ];
    for (body, errors) in cases {
        let response = post(&server, key, body.clone()).await;
        assert_eq!(response.status().as_u16(), 422, "{body}");
        let answer: serde_json::Value = response.json().await.unwrap();
        assert_eq!(answer["errors"], errors, "{body}");
        assert_eq!(answer["error"], "validation_failed");
    }
    let response = reqwest::Client::new()
        .post(format!("{}/v1/calls", server.base_url()))
        .header("x-api-key", server.api_key())
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let response = reqwest::Client::new()
        .get(format!("{}/v1/calls", server.base_url()))
        .header("x-api-key", server.api_key())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 404, "the spec has no GET /v1/calls");
}

#[tokio::test]
async fn records_every_request() {
    let server = MockServer::start().await;
    post(&server, None, valid()).await;
    post(&server, Some(server.api_key()), valid()).await;
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].method, reqwest::Method::POST);
    assert_eq!(requests[0].path, "/v1/calls");
    assert_eq!(requests[0].header("x-api-key"), None);
    assert_eq!(requests[1].header("x-api-key"), Some(server.api_key()));
    assert_eq!(requests[1].json().unwrap(), valid());
}

#[tokio::test]
async fn faults_apply_in_order_then_the_server_recovers() {
    let server = MockServer::start().await;
    let key = Some(server.api_key());
    server.push_fault(Fault::TooManyRequests {
        retry_after: "7".into(),
    });
    server.push_fault(Fault::Status(503));
    server.push_fault(Fault::MalformedBody);
    let response = post(&server, key, valid()).await;
    assert_eq!(response.status().as_u16(), 429);
    assert_eq!(response.headers()["retry-after"], "7");
    assert_eq!(post(&server, key, valid()).await.status().as_u16(), 503);
    let malformed = post(&server, key, valid()).await;
    assert_eq!(malformed.headers()["content-type"], "text/html");
    assert!(serde_json::from_slice::<serde_json::Value>(&malformed.bytes().await.unwrap()).is_err());
    assert_eq!(post(&server, key, valid()).await.status().as_u16(), 201);
}

#[tokio::test]
async fn unknown_enum_values_are_what_a_newer_server_would_send() {
    let server = MockServer::start().await;
    server.push_fault(Fault::UnknownEnumValues);
    let call: serde_json::Value = post(&server, Some(server.api_key()), valid())
        .await
        .json()
        .await
        .unwrap();
    let violations = validate_component("Call", &call).unwrap_err();
    let fields: Vec<&str> = violations.iter().map(|v| v.field.as_str()).collect();
    assert_eq!(fields, ["callType", "status", "terminationReason"]);
    assert!(call.get("sentiment").is_some());
}

#[tokio::test]
async fn dropped_connections_and_truncated_bodies_fail_on_the_wire() {
    let server = MockServer::start().await;
    server.push_fault(Fault::DropConnection);
    let err = reqwest::Client::new()
        .post(format!("{}/v1/calls", server.base_url()))
        .header("x-api-key", server.api_key())
        .json(&valid())
        .send()
        .await
        .unwrap_err();
    assert!(
        !err.is_connect(),
        "the request was sent, then the connection dropped"
    );
    server.push_fault(Fault::TruncatedBody);
    let response = post(&server, Some(server.api_key()), valid()).await;
    assert_eq!(response.status().as_u16(), 201);
    assert!(
        response.bytes().await.is_err(),
        "the body ends before Content-Length"
    );
    assert_eq!(server.request_count(), 2);
}

#[tokio::test]
async fn latency_delays_answers() {
    let server = MockServer::start().await;
    server.set_latency(Duration::from_millis(150));
    let started = Instant::now();
    post(&server, Some(server.api_key()), valid()).await;
    assert!(started.elapsed() >= Duration::from_millis(150));
    server.set_latency(Duration::ZERO);
    server.push_fault(Fault::Delay(Duration::from_millis(100)));
    let started = Instant::now();
    post(&server, Some(server.api_key()), valid()).await;
    assert!(started.elapsed() >= Duration::from_millis(100));
}

#[tokio::test]
async fn recording_can_be_turned_off_for_load_tests() {
    let server = MockServer::start_with(MockOptions {
        record_requests: false,
        ..Default::default()
    })
    .await;
    assert_eq!(
        post(&server, Some(server.api_key()), valid())
            .await
            .status()
            .as_u16(),
        201
    );
    assert_eq!(server.request_count(), 1, "still counted");
    assert!(server.requests().is_empty(), "but not kept");
}

/// Guard: every operation of the spec gets its documented success status
/// and a body valid against its response schema; a new operation without
/// an answer fails here.
#[tokio::test]
async fn every_operation_in_the_spec_is_answered() {
    let spec: serde_json::Value = serde_json::from_str(sigmamind::SPEC_JSON).unwrap();
    let server = MockServer::start().await;
    let http = reqwest::Client::new();
    let mut answered = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let Ok(method) = method.to_uppercase().parse::<reqwest::Method>() else {
                continue; // `parameters`, `summary`: not an operation
            };
            let concrete: String = path
                .split('/')
                .map(|s| if s.starts_with('{') { "x1" } else { s })
                .collect::<Vec<_>>()
                .join("/");
            let mut request = http
                .request(method.clone(), format!("{}{concrete}", server.base_url()))
                .header("x-api-key", server.api_key());
            if let Some(media) = operation.pointer("/requestBody/content/application~1json") {
                let body = media
                    .get("example")
                    .cloned()
                    .expect("request bodies have an example");
                request = request.json(&body);
            }
            let response = request.send().await.unwrap();
            let (code, documented) = operation["responses"]
                .as_object()
                .unwrap()
                .iter()
                .find(|(code, _)| code.starts_with('2'))
                .expect("a success response");
            let id = operation["operationId"].as_str().unwrap();
            assert_eq!(response.status().as_str(), code, "{method} {path} ({id})");
            let body: serde_json::Value = response.json().await.unwrap();
            if let Some(schema) = documented.pointer("/content/application~1json/schema") {
                sigmamind::mock::validate(schema, &body)
                    .unwrap_or_else(|v| panic!("{method} {path} ({id}) answered off-spec: {v:?}"));
            }
            answered += 1;
        }
    }
    assert!(answered >= 1);
}

/// Guard: the spec uses no schema keyword the server's validator does not
/// implement (it would pass requests through unchecked).
#[test]
fn the_validator_implements_every_keyword_the_spec_uses() {
    use sigmamind::mock::{CHECKED_KEYWORDS, IGNORED_KEYWORDS};
    fn keywords(schema: &serde_json::Value, out: &mut std::collections::BTreeSet<String>) {
        let Some(map) = schema.as_object() else { return };
        for (key, value) in map {
            out.insert(key.clone());
            match key.as_str() {
                "properties" => value.as_object().unwrap().values().for_each(|s| keywords(s, out)),
                "items" | "additionalProperties" | "not" => keywords(value, out),
                "allOf" | "anyOf" | "oneOf" => {
                    value.as_array().unwrap().iter().for_each(|s| keywords(s, out))
                }
                _ => {}
            }
        }
    }
    let spec: serde_json::Value = serde_json::from_str(sigmamind::SPEC_JSON).unwrap();
    let mut used = std::collections::BTreeSet::new();
    for schema in spec["components"]["schemas"].as_object().unwrap().values() {
        keywords(schema, &mut used);
    }
    for item in spec["paths"].as_object().unwrap().values() {
        for operation in item.as_object().unwrap().values() {
            if let Some(schema) = operation.pointer("/requestBody/content/application~1json/schema") {
                keywords(schema, &mut used);
            }
        }
    }
    let unknown: Vec<&String> = used
        .iter()
        .filter(|k| !k.starts_with("x-"))
        .filter(|k| !CHECKED_KEYWORDS.contains(&k.as_str()) && !IGNORED_KEYWORDS.contains(&k.as_str()))
        .collect();
    assert!(
        unknown.is_empty(),
        "the mock's validator does not implement {unknown:?}"
    );
    // Every rule the generator enforces on requests is one the server checks
    // too, or the spec does not use it yet.
    for rule in sigmamind_codegen::schema::VALUE_RULES {
        assert!(
            CHECKED_KEYWORDS.contains(&rule) || !used.contains(rule),
            "the spec uses `{rule}`, which the server does not check"
        );
    }
}
