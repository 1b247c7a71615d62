//! What one `create_call` costs the client, in instructions: `cargo xtask
//! bench-instructions` runs this under `valgrind --tool=callgrind`, against
//! `sigmamind mock serve` in another process, so that only the client's
//! work is counted. Run by hand: `call_cost sdk|reqwest CALLS BASE_URL KEY`.
//!
//! Both sides send the same `CreateCallRequest` JSON with the same key and
//! decode the answer into `types::Call`, one call after another on one
//! thread (a current-thread runtime: no worker threads waking each other,
//! so the count repeats for the same binary and input). `plain` is reqwest
//! and serde alone; `sdk` is the SDK's whole path.

use sigmamind::types::Call;

#[path = "support/request.rs"]
mod support;
use support::request;

fn main() {
    // `cargo bench` runs every bench with `--bench`: this one only on purpose.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let [mode, calls, base_url, key] = args.as_slice() else {
        eprintln!("call_cost sdk|reqwest CALLS BASE_URL KEY (cargo xtask bench-instructions runs it)");
        return;
    };
    let calls: usize = calls.parse().expect("CALLS is a number");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let body = request();
    runtime.block_on(async {
        match mode.as_str() {
            "sdk" => {
                let client = sigmamind::Client::builder()
                    .api_key(key.as_str())
                    .base_url(base_url.as_str())
                    .build()
                    .unwrap();
                for _ in 0..calls {
                    let call = client.create_call().body(body.clone()).send().await.unwrap();
                    assert!(call.into_inner().call_id.is_some());
                }
            }
            "reqwest" => {
                let http = reqwest::Client::new();
                let url = format!("{base_url}/v1/calls");
                for _ in 0..calls {
                    let response = http
                        .post(&url)
                        .header("x-api-key", key.as_str())
                        .json(&body)
                        .send()
                        .await
                        .unwrap();
                    assert!(response.status().is_success());
                    let call: Call = response.json().await.unwrap();
                    assert!(call.call_id.is_some());
                }
            }
            other => panic!("mode {other}: sdk or reqwest"),
        }
    });
}
