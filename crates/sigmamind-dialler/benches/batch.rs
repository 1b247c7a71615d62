//! A batch against the local server, against its ideal time:
//! `cargo bench --bench batch [-- ROWS CONCURRENCY LATENCY_MS ROUNDS]`
//! (default 1000 rows, 50 in flight, 20 ms, 5 rounds).
//!
//! The ideal is rows ÷ concurrency × latency (400 ms by default): what the
//! run would take if the client, the journal (one `fdatasync` per group of
//! records) and the machine cost nothing. The goal is at most 1.3× the
//! ideal; the bench prints every round, the best and the median, and exits
//! non-zero when the median misses the goal. It also checks that the server
//! never had more requests in flight than the concurrency. With a latency of
//! 0 it only prints the times: the fixed cost per row (client, journal and
//! server on the same cores).

use std::time::Duration;

use sigmamind::ClientInfo;
use sigmamind_dialler::{self as batch, Batch, Contact, Journal, Options};
use sigmamind_mock::{MockOptions, MockServer};

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .filter_map(|a| a.parse().ok())
        .collect();
    let rows = args.first().copied().unwrap_or(1000);
    let concurrency = args.get(1).copied().unwrap_or(50);
    let latency = Duration::from_millis(args.get(2).copied().unwrap_or(20) as u64);
    let rounds = args.get(3).copied().unwrap_or(5);
    let ideal = latency * (rows.div_ceil(concurrency) as u32);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut ratios = Vec::new();
    runtime.block_on(async {
        for round in 1..=rounds {
            let server = MockServer::start_with(
                MockOptions::default().latency(latency).record_requests(false),
            )
            .await;
            let client = server.client();
            let contacts = (0..rows).map(|i| Ok(Contact::new(format!("+1415{i:07}")).variable("customer_name", "Michael")));
            let batch = Batch::new("+14155552671").unwrap();
            let dir = tempfile::tempdir().unwrap();
            let journal = Journal::open(dir.path().join("journal.jsonl"), &batch, client.baseurl()).unwrap();
            let options = Options::default().concurrency(concurrency);
            let report = batch::run(&client, &batch, contacts, &journal, &options, |_| {}).await;
            assert_eq!(report.counts().placed, rows, "every row placed");
            assert!(server.max_in_flight() <= concurrency, "{} in flight", server.max_in_flight());
            let ratio = report.elapsed.as_secs_f64() / ideal.as_secs_f64();
            println!(
                "round {round}: {rows} rows, {concurrency} in flight (server saw at most {}), {latency:?} latency: \
                 {:.0} ms, ideal {:.0} ms, ratio {ratio:.3}",
                server.max_in_flight(),
                report.elapsed.as_secs_f64() * 1000.0,
                ideal.as_secs_f64() * 1000.0,
            );
            ratios.push(ratio);
        }
    });
    if ideal.is_zero() {
        // No latency: the rounds measure the fixed cost per row, no ratio.
        return;
    }
    ratios.sort_by(f64::total_cmp);
    let median = ratios[ratios.len() / 2];
    println!("best {:.3}, median {median:.3} (goal ≤ 1.3)", ratios[0]);
    if median > 1.3 {
        eprintln!("the median run missed the goal of 1.3× the ideal");
        std::process::exit(1);
    }
}
