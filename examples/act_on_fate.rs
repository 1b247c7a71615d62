//! Act on what a failure proves: `err.fate()` says whether the call may
//! exist, so that your code never places it twice. Against the local
//! server, told to answer each way in turn.
//!
//! ```sh
//! cargo run --example act_on_fate
//! ```

use sigmamind::fate::Fate;
use sigmamind::types::CreateCallRequest;
use sigmamind_mock::{Fault, MockServer};

#[tokio::main]
async fn main() {
    let server = MockServer::start().await;
    let client = server.client();
    let faults = [
        ("a 422", Fault::Status(422)),
        ("a 503", Fault::Status(503)),
        ("a body that is not JSON", Fault::MalformedBody),
        ("a dropped connection", Fault::DropConnection),
    ];
    for (what, fault) in faults {
        server.push_fault(fault);
        let sent = client
            .create_call()
            .body(
                CreateCallRequest::builder()
                    .from_phone_number("+14155552671")
                    .to_phone_number("+14155552672"),
            )
            .send()
            .await;
        let advice = match sent {
            Ok(call) => format!("placed {:?}", call.into_inner().call_id),
            Err(error) => match error.fate() {
                Fate::NotSent | Fate::Refused => format!("not placed: fix it and send it again ({error})"),
                Fate::Processed => {
                    format!("placed (id {:?}), but the answer was unreadable", error.call_id())
                }
                // `Unknown`, and any fate added later: look before dialling again.
                _ => format!("may be placed: check before dialling again ({error})"),
            },
        };
        println!("{what}: {advice}");
    }
}
