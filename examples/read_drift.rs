//! Read drift: what live responses carry that the spec does not (a new enum
//! value, a new field). The call still succeeds; `client.drift()` says what
//! to add to the overlay. Against the local server, told to answer as a
//! newer server would.
//!
//! ```sh
//! cargo run --example read_drift
//! ```

use sigmamind::types::CreateCallRequest;
use sigmamind_mock::{Fault, MockServer};

#[tokio::main]
async fn main() -> Result<(), sigmamind::Error> {
    let server = MockServer::start().await;
    let client = server.client();
    server.push_fault(Fault::UnknownEnumValues);
    let call = client
        .create_call()
        .body(
            CreateCallRequest::builder()
                .from_phone_number("+14155552671")
                .to_phone_number("+14155552672"),
        )
        .send()
        .await?
        .into_inner();
    // An unknown value is kept, not lost: it prints as the server sent it.
    println!(
        "status {}",
        call.status.map(|s| s.to_string()).unwrap_or_default()
    );
    let drift = client.drift();
    assert!(!drift.entries.is_empty(), "a newer server's answer is drift");
    for entry in &drift.entries {
        println!(
            "{} {}: {:?} {}",
            entry.operation, entry.path, entry.kind, entry.value
        );
    }
    Ok(())
}
