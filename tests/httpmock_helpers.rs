//! progenitor's typed httpmock helpers (feature `httpmock`) stub exact
//! responses for the generated client.
#![cfg(feature = "httpmock")]

use httpmock::MockServer;
use sigmamind::httpmock::MockServerExt;
use sigmamind::types::{Call, CallStatus, CreateCallRequest};

#[tokio::test]
async fn a_typed_stub_answers_the_generated_client() {
    let server = MockServer::start_async().await;
    let request = CreateCallRequest::try_from(
        CreateCallRequest::builder()
            .from_phone_number("+14155552671")
            .to_phone_number("+14155552672"),
    )
    .unwrap();
    // Generated structs are non-exhaustive: built with their builders.
    let answer = Call::try_from(
        Call::builder()
            .call_id("call_stub".to_owned())
            .status(CallStatus::Ended),
    )
    .unwrap();
    let mock = server.create_call(|when, then| {
        when.body(&request);
        then.created(&answer);
    });
    let client = sigmamind::Client::builder()
        .api_key("k")
        .base_url(server.base_url())
        .build()
        .unwrap();
    let call = client
        .create_call()
        .body(request.clone())
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(call, answer);
    mock.assert_async().await;
}
