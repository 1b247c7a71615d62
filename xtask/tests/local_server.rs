//! The local server serving a vendor release it has no code for: the next
//! release FIXTURE (support::next_release, labelled as such: the vendor has
//! published none of it) is taken in by the intake, as `update-spec` would,
//! and given to the local server at run time. `GET /v1/calls/{callId}` then
//! answers the call `POST /v1/calls` created, with nothing written for it but
//! a behaviour keyed by its method and path template; faults and error
//! bodies follow its own spec.

mod support;

use serde_json::{json, Value};
use sigmamind_mock::{Fault, MockOptions, MockServer};
use support::{book, next_release, platform_export, vendor, workspace_root};

fn effective_next_release() -> Value {
    let overlay = std::fs::read_to_string(workspace_root().join("openapi/overlay.yaml")).unwrap();
    let overlay = sigmamind_codegen::spec::parse_text(&overlay).unwrap();
    let release = next_release(&platform_export(&vendor()));
    sigmamind_codegen::intake::run(&release, Some(&overlay), &book(), true)
        .expect("the FIXTURE release takes in")
        .document
}

async fn serve(options: MockOptions) -> MockServer {
    MockServer::start_with(options.spec(effective_next_release()).api_key("k")).await
}

async fn create(server: &MockServer) -> Value {
    let response = reqwest::Client::new()
        .post(format!("{}/v1/calls", server.base_url()))
        .header("x-api-key", "k")
        .json(&json!({"fromPhoneNumber": "+14155552671", "toPhoneNumber": "+14155552672"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    response.json().await.unwrap()
}

async fn get(server: &MockServer, id: &str, key: Option<&str>) -> reqwest::Response {
    let mut request = reqwest::Client::new().get(format!("{}/v1/calls/{id}", server.base_url()));
    if let Some(key) = key {
        request = request.header("x-api-key", key);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn get_call_answers_the_call_post_created_and_404_for_another() {
    let server = serve(MockOptions::default()).await;
    let created = create(&server).await;
    let id = created["callId"].as_str().unwrap();
    let found = get(&server, id, Some("k")).await;
    assert_eq!(found.status().as_u16(), 200, "the release documents 200");
    assert_eq!(found.json::<Value>().await.unwrap(), created);

    // The release's own error bodies: its NotFound for 404, its inline 401.
    let missing = get(&server, "call_nobody", Some("k")).await;
    assert_eq!(missing.status().as_u16(), 404);
    let body: Value = missing.json().await.unwrap();
    assert_eq!(
        body,
        json!({"code": "not_found"}),
        "NotFound: required `code` only"
    );
    let unauthorized = get(&server, id, None).await;
    assert_eq!(unauthorized.status().as_u16(), 401);
    let body: Value = unauthorized.json().await.unwrap();
    assert_eq!(body, json!({"message": "missing or invalid X-API-Key header"}));
}

#[tokio::test]
async fn injected_faults_apply_to_it_with_its_own_statuses_and_schema() {
    let server = serve(MockOptions::default()).await;
    let id = create(&server).await["callId"].as_str().unwrap().to_owned();

    server.push_fault(Fault::Status(503));
    assert_eq!(get(&server, &id, Some("k")).await.status().as_u16(), 503);

    // Its own enums, the release's new one included, get unknown values.
    server.push_fault(Fault::UnknownEnumValues);
    let drifted: Value = get(&server, &id, Some("k")).await.json().await.unwrap();
    assert_eq!(drifted["status"], "scheduled_v2");
    assert_eq!(drifted["sentiment"], "positive_v2");

    // Cut short under its documented success status, not POST's 201.
    server.push_fault(Fault::TruncatedBody);
    let cut = get(&server, &id, Some("k")).await;
    assert_eq!(cut.status().as_u16(), 200);
    assert!(cut.bytes().await.is_err(), "the body breaks off");
}

#[tokio::test]
async fn the_calls_kept_for_look_ups_are_the_latest_only() {
    let server = serve(MockOptions::default().keep_calls(2).record_requests(false)).await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(create(&server).await["callId"].as_str().unwrap().to_owned());
    }
    assert_eq!(get(&server, &ids[0], Some("k")).await.status().as_u16(), 404);
    for id in &ids[1..] {
        assert_eq!(get(&server, id, Some("k")).await.status().as_u16(), 200);
    }
    assert!(server.requests().is_empty(), "recording was off");
    assert_eq!(server.request_count(), 6, "the counters stay");
}
