//! Client throughput against the local server, SDK vs plain reqwest, in one
//! run: `cargo bench --bench throughput [-- REQUESTS ROUNDS]`.
//!
//! Both sides send the same request (`support::plain_create_call` says what
//! "the same" covers) to the same `MockServer` and decode the answer into
//! `types::Call`; what differs is the SDK layer (builder checks, authorisation,
//! retry loop, error mapping).
//! Rounds alternate SDK and plain so that machine noise hits both; medians
//! are reported, and their ratio is the number that matters.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sigmamind::types::Call;

#[path = "support/request.rs"]
mod support;
use sigmamind_mock::{MockOptions, MockServer};
use support::{plain_client, plain_create_call, request};
use tokio::sync::Semaphore;

async fn run<F, Fut>(requests: usize, concurrency: usize, one: F) -> Duration
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Call> + Send,
{
    let one = Arc::new(one);
    let permits = Arc::new(Semaphore::new(concurrency));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(requests);
    for _ in 0..requests {
        let permit = permits.clone().acquire_owned().await.unwrap();
        let one = one.clone();
        tasks.push(tokio::spawn(async move {
            let call = one().await;
            drop(permit);
            assert!(call.call_id.is_some());
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    started.elapsed()
}

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let requests = args.first().copied().unwrap_or(10_000);
    let rounds = args.get(1).copied().unwrap_or(3);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let server = MockServer::start_with(MockOptions::default().record_requests(false)).await;
        let sdk = server.client();
        let raw = plain_client();
        let url = format!("{}/v1/calls", server.base_url());
        let key = reqwest::header::HeaderValue::from_str(server.api_key()).unwrap();
        let body = request();
        println!(
            "create_call, {requests} requests per round, {rounds} rounds, medians (one run, same server)"
        );
        println!(
            "{:>11} {:>14} {:>14} {:>8}",
            "concurrency", "sdk req/s", "reqwest req/s", "ratio"
        );
        for concurrency in [1usize, 64] {
            let (mut sdk_times, mut raw_times) = (Vec::new(), Vec::new());
            for _ in 0..rounds {
                let (client, req) = (sdk.clone(), body.clone());
                sdk_times.push(
                    run(requests, concurrency, move || {
                        let (client, req) = (client.clone(), req.clone());
                        async move { client.create_call().body(req).send().await.unwrap().into_inner() }
                    })
                    .await,
                );
                let (http, url, key, req) = (raw.clone(), url.clone(), key.clone(), body.clone());
                raw_times.push(
                    run(requests, concurrency, move || {
                        let (http, url, key, req) = (http.clone(), url.clone(), key.clone(), req.clone());
                        async move { plain_create_call(&http, &url, &key, req).await }
                    })
                    .await,
                );
            }
            let rate = |d: Duration| requests as f64 / d.as_secs_f64();
            let (s, r) = (rate(median(sdk_times)), rate(median(raw_times)));
            println!("{concurrency:>11} {s:>14.0} {r:>14.0} {:>8.3}", s / r);
        }
    });
}
