//! The local server itself: faithful to the spec, recording, faults.

use std::time::{Duration, Instant};

use serde_json::json;
use sigmamind_mock::{validate_component, Fault, MockOptions, MockServer};

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
    let server = MockServer::start_with(MockOptions::default().api_key("test-key")).await;
    assert_eq!(server.api_key(), "test-key");
    for key in [None, Some("wrong")] {
        let response = post(&server, key, valid()).await;
        assert_eq!(response.status().as_u16(), 401);
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["error"], "Unauthorized");
        assert_eq!(body["status"], 401);
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
        assert_eq!(answer["error"], "Unprocessable Entity");
    }
    let response = reqwest::Client::new()
        .post(format!("{}/v1/calls", server.base_url()))
        .header("x-api-key", server.api_key())
        .header("content-type", "application/json")
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
    assert_eq!(response.status().as_u16(), 405, "the spec has no GET /v1/calls");
    let response = reqwest::Client::new()
        .get(format!("{}/v1/nothing", server.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 404, "no such path");
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
    assert!(call.get("fieldFromANewerServer").is_some());
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
    let server = MockServer::start_with(MockOptions::default().record_requests(false)).await;
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
                sigmamind_mock::validate(schema, &body)
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
    use sigmamind_mock::{CHECKED_KEYWORDS, IGNORED_KEYWORDS};
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

async fn raw(
    server: &MockServer,
    method: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .request(method.parse().unwrap(), format!("{}/v1/calls", server.base_url()))
        .header("x-api-key", server.api_key())
        .body(body);
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn http_semantics_405_with_allow_options_head_415_and_413() {
    let server = MockServer::start().await;
    for method in ["TRACE", "GET", "DELETE", "PUT", "PATCH"] {
        let response = raw(&server, method, None, vec![]).await;
        assert_eq!(response.status().as_u16(), 405, "{method}");
        assert_eq!(response.headers()["allow"], "POST, OPTIONS", "{method}");
    }
    let options = raw(&server, "OPTIONS", None, vec![]).await;
    assert_eq!(options.status().as_u16(), 204);
    assert_eq!(options.headers()["allow"], "POST, OPTIONS");
    // HEAD is GET without the body; this path has no GET.
    let head = raw(&server, "HEAD", None, vec![]).await;
    assert_eq!(head.status().as_u16(), 405);
    assert!(head.bytes().await.unwrap().is_empty());

    let body = serde_json::to_vec(&valid()).unwrap();
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        None,
    ] {
        let response = raw(&server, "POST", content_type, body.clone()).await;
        assert_eq!(response.status().as_u16(), 415, "{content_type:?}");
    }
    let ok = raw(&server, "POST", Some("application/json; charset=utf-8"), body).await;
    assert_eq!(ok.status().as_u16(), 201);

    let big = vec![b' '; sigmamind_mock::BODY_LIMIT + 1];
    let response = raw(&server, "POST", Some("application/json"), big).await;
    assert_eq!(response.status().as_u16(), 413);
    let error: serde_json::Value = response.json().await.unwrap();
    assert_eq!(error["error"], "Payload Too Large");
    assert_eq!(error["status"], 413);
    // At the limit it is read (and judged as JSON).
    let at_limit = vec![b' '; sigmamind_mock::BODY_LIMIT];
    assert_eq!(
        raw(&server, "POST", Some("application/json"), at_limit)
            .await
            .status()
            .as_u16(),
        400
    );
}

#[tokio::test]
async fn call_ids_are_reproducible_with_a_seed() {
    let ids = |seed| async move {
        let server = MockServer::start_with(MockOptions::default().seed(seed)).await;
        let mut ids = Vec::new();
        for _ in 0..3 {
            let call: serde_json::Value = post(&server, Some(server.api_key()), valid())
                .await
                .json()
                .await
                .unwrap();
            ids.push(call["callId"].as_str().unwrap().to_owned());
        }
        ids
    };
    let (a, b, c) = (ids(7).await, ids(7).await, ids(8).await);
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert_eq!(a.iter().collect::<std::collections::BTreeSet<_>>().len(), 3);
}

mod never_a_5xx {
    use super::*;
    use proptest::prelude::*;

    fn method() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("POST".to_owned()),
            Just("GET".to_owned()),
            Just("PUT".to_owned()),
            Just("DELETE".to_owned()),
            Just("PATCH".to_owned()),
            Just("HEAD".to_owned()),
            Just("OPTIONS".to_owned()),
            Just("TRACE".to_owned()),
            "[A-Z]{3,8}",
        ]
    }

    fn path() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("/v1/calls".to_owned()),
            Just("/v1/calls?x=1".to_owned()),
            "/[a-z0-9/]{0,20}",
        ]
    }

    fn body() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..200),
            // Valid requests with one field replaced by something else.
            (
                "fromPhoneNumber|toPhoneNumber|agentId|dynamicVariables|other",
                any::<i64>(),
                "\\PC{0,30}",
                any::<bool>()
            )
                .prop_map(|(field, n, text, as_text)| {
                    let mut request = valid();
                    request[field.as_str()] = if as_text { json!(text) } else { json!(n) };
                    serde_json::to_vec(&request).unwrap()
                }),
            Just(serde_json::to_vec(&valid()).unwrap()),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

        /// Random methods, paths, headers and bodies: always an answer, in
        /// time, and never a server error.
        #[test]
        fn for_any_method_path_header_or_body(
            method in method(),
            path in path(),
            content_type in prop_oneof![Just(None), Just(Some("application/json".to_owned())), "[a-z]{1,10}/[a-z+]{1,10}".prop_map(Some)],
            key in prop_oneof![Just(true), Just(false)],
            extra in proptest::collection::vec(("x-[a-z]{1,8}", "[ -~]{0,20}"), 0..3),
            body in body(),
        ) {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async {
                let server = shared_server().await;
                let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
                let mut request = client
                    .request(method.parse().unwrap(), format!("http://{}{path}", server.0))
                    .body(body);
                if key {
                    request = request.header("x-api-key", server.1.as_str());
                }
                if let Some(content_type) = &content_type {
                    request = request.header("content-type", content_type);
                }
                for (name, value) in &extra {
                    request = request.header(name.as_str(), value.as_str());
                }
                let response = request.send().await.expect("an answer, in time");
                prop_assert!(response.status().as_u16() < 500, "{method} {path}: {}", response.status());
                Ok(())
            })?;
        }
    }

    /// One server for all cases, on its own runtime thread.
    async fn shared_server() -> (std::net::SocketAddr, String) {
        static SERVER: std::sync::OnceLock<(std::net::SocketAddr, String)> = std::sync::OnceLock::new();
        SERVER
            .get_or_init(|| {
                let (tx, rx) = std::sync::mpsc::channel();
                std::thread::spawn(move || {
                    let runtime = tokio::runtime::Runtime::new().unwrap();
                    runtime.block_on(async {
                        let server =
                            MockServer::start_with(MockOptions::default().record_requests(false)).await;
                        tx.send((server.addr(), server.api_key().to_owned())).unwrap();
                        std::future::pending::<()>().await;
                    });
                });
                rx.recv().unwrap()
            })
            .clone()
    }
}
