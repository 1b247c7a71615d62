//! What one `create_call` costs the client, in instructions: `cargo xtask
//! bench-instructions` runs this under `valgrind --tool=callgrind`, against
//! `sigmamind mock serve` in another process, so that only the client's
//! work is counted. Run by hand: `call_cost sdk|reqwest CALLS BASE_URL KEY`.
//!
//! Both sides send the same request (`support::plain_create_call` says
//! what "the same" covers) and decode the answer into `types::Call`, one
//! call after another on one thread (a current-thread runtime: no worker
//! threads waking each other, so the count repeats for the same binary and
//! input). `reqwest` is reqwest and serde alone; `sdk` is the SDK's whole
//! path.

#[path = "support/request.rs"]
mod support;
use support::{plain_client, plain_create_call, request};

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
                let http = plain_client();
                let url = format!("{base_url}/v1/calls");
                let key = reqwest::header::HeaderValue::from_str(key).unwrap();
                for _ in 0..calls {
                    let call = plain_create_call(&http, &url, &key, body.clone()).await;
                    assert!(call.call_id.is_some());
                }
            }
            other => panic!("mode {other}: sdk or reqwest"),
        }
    });
}
