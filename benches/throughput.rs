//! Client throughput against the local server, SDK vs plain reqwest, in one
//! run: `cargo bench --bench throughput [-- REQUESTS ROUNDS]`.
//!
//! Both sides send the same request (`support::plain_create_call` says what
//! "the same" covers) to the same `MockServer` and decode the answer into
//! `types::Call`; what differs is the SDK layer (builder checks, authorisation,
//! retry loop, error mapping).
//! Rounds alternate SDK and plain, each going first in every other round,
//! after a round of each that is not counted, so that machine noise hits
//! both; medians are reported, and their ratio is the number that matters.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sigmamind::types::Call;

#[path = "support/request.rs"]
mod support;
use sigmamind_mock::{MockOptions, MockServer};
use support::{plain_client, plain_create_call, request};
use tokio::sync::Semaphore;

/// What one round took: wall-clock time, and the CPU time of the whole
/// process (client and server), which the machine's other tenants disturb
/// less than the wall clock.
#[derive(Clone, Copy)]
struct Took {
    wall: Duration,
    cpu: Duration,
}

/// CPU time the process has used (user and system, every thread), from
/// `/proc/self/stat` (Linux; zero elsewhere).
fn cpu_used() -> Duration {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return Duration::ZERO;
    };
    // Fields after the command name, which is in brackets and may hold spaces.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    // utime and stime are fields 14 and 15 of the line, 12 and 13 here; the
    // kernel counts them in USER_HZ, 100 a second on Linux.
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

async fn run<F, Fut>(requests: usize, concurrency: usize, one: F) -> Took
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Call> + Send,
{
    let one = Arc::new(one);
    let permits = Arc::new(Semaphore::new(concurrency));
    let (started, cpu) = (Instant::now(), cpu_used());
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
    Took {
        wall: started.elapsed(),
        cpu: cpu_used().saturating_sub(cpu),
    }
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
            "{:>11} {:>14} {:>14} {:>8} {:>12} {:>12} {:>8}",
            "concurrency", "sdk req/s", "reqwest req/s", "ratio", "sdk cpu µs", "reqwest µs", "ratio"
        );
        for concurrency in [1usize, 64] {
            let (mut sdk_times, mut raw_times) = (Vec::new(), Vec::new());
            let sdk_round = || {
                let (client, req) = (sdk.clone(), body.clone());
                run(requests, concurrency, move || {
                    let (client, req) = (client.clone(), req.clone());
                    async move { client.create_call().body(req).send().await.unwrap().into_inner() }
                })
            };
            let raw_round = || {
                let (http, url, key, req) = (raw.clone(), url.clone(), key.clone(), body.clone());
                run(requests, concurrency, move || {
                    let (http, url, key, req) = (http.clone(), url.clone(), key.clone(), req.clone());
                    async move { plain_create_call(&http, &url, &key, req).await }
                })
            };
            // A round of each first, not counted (connections, the server's
            // memory); then the side that goes first alternates, so that
            // neither always runs on a machine the other has warmed.
            sdk_round().await;
            raw_round().await;
            for round in 0..rounds {
                if round % 2 == 0 {
                    sdk_times.push(sdk_round().await);
                    raw_times.push(raw_round().await);
                } else {
                    raw_times.push(raw_round().await);
                    sdk_times.push(sdk_round().await);
                }
            }
            let rate = |d: Duration| requests as f64 / d.as_secs_f64();
            let wall = |times: &[Took]| rate(median(times.iter().map(|t| t.wall).collect()));
            let cpu = |times: &[Took]| {
                median(times.iter().map(|t| t.cpu).collect()).as_secs_f64() * 1e6 / requests as f64
            };
            let (s, r) = (wall(&sdk_times), wall(&raw_times));
            let (s_cpu, r_cpu) = (cpu(&sdk_times), cpu(&raw_times));
            println!(
                "{concurrency:>11} {s:>14.0} {r:>14.0} {:>8.3} {s_cpu:>12.1} {r_cpu:>12.1} {:>8.3}",
                s / r,
                s_cpu / r_cpu
            );
        }
    });
}
