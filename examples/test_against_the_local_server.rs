//! Test your own code against the local server: a function of yours that
//! places calls, run against `sigmamind_mock::MockServer` the way a test
//! would, including a fault the real API may answer with.
//!
//! ```sh
//! cargo run --example test_against_the_local_server
//! ```

use sigmamind::types::{builder, CreateCallRequest};
use sigmamind_mock::{Fault, MockServer};

/// Your code: remind a customer. It takes the request builder, so that the
/// caller can add what it likes before it is sent.
async fn remind(
    client: &sigmamind::Client,
    request: builder::CreateCallRequest,
) -> Result<String, sigmamind::Error> {
    let call = client.create_call().body(request).send().await?.into_inner();
    Ok(call.call_id.unwrap_or_default())
}

fn request() -> builder::CreateCallRequest {
    CreateCallRequest::builder()
        .from_phone_number("+14155552671")
        .to_phone_number("+14155552672")
}

#[tokio::main]
async fn main() {
    let server = MockServer::start().await;
    let client = server.client();

    // It places the call, and the server saw exactly one request.
    let id = remind(&client, request()).await.expect("placed");
    assert!(id.starts_with("call_"), "{id}");
    assert_eq!(server.requests().len(), 1);

    // A 500 from the server: your code sees an error whose fate says the
    // call may exist (the client does not resend a call on its own).
    server.push_fault(Fault::Status(500));
    let error = remind(&client, request()).await.expect_err("a 500");
    assert_eq!(error.fate(), sigmamind::fate::Fate::Unknown);
    println!("placed {id}; then a 500: {error}");
}
