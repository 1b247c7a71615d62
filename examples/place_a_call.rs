//! Place one call. With `SIGMAMIND_API_KEY` set it goes to the API (or
//! `SIGMAMIND_BASE_URL`); without, to a local SigmaMind server started here,
//! so that the example runs anywhere and dials nobody.
//!
//! ```sh
//! cargo run --example place_a_call
//! ```

use sigmamind::types::{AgentId, CallStatus, CreateCallRequest};

#[tokio::main]
async fn main() -> Result<(), sigmamind::Error> {
    let local;
    let client = if std::env::var_os(sigmamind::client::API_KEY_ENV).is_some() {
        sigmamind::Client::from_env()?
    } else {
        local = sigmamind_mock::MockServer::start().await;
        eprintln!(
            "SIGMAMIND_API_KEY is not set: using a local server at {}",
            local.base_url()
        );
        local.client()
    };

    let call = client
        .create_call()
        .body(
            CreateCallRequest::builder()
                .from_phone_number("+14155552671")
                .to_phone_number("+14155552672")
                .agent_id("D5D0p7TUs66TTAEAx".parse::<AgentId>()?)
                // Free-form values: `sigmamind::serde_json`, no extra dependency.
                .dynamic_variables(sigmamind::serde_json::Map::from_iter([(
                    "customer_name".to_owned(),
                    "Michael".into(),
                )])),
        )
        .send()
        .await?
        .into_inner();

    match call.status {
        Some(CallStatus::Scheduled) => println!("call {:?} is queued", call.call_id),
        Some(other) => println!("call {:?} is {other}", call.call_id), // values added later too
        None => println!("call {:?}", call.call_id),
    }
    Ok(())
}
