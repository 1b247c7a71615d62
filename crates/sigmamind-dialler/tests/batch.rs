//! `sigmamind_dialler` against the local server: concurrency bound, 429
//! storms, pauses shared by every worker, resuming.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sigmamind::ClientInfo;
use sigmamind_dialler::{self as batch, Batch, Contact, Event, Journal, Options, Outcome, Report, RowResult};
use sigmamind_mock::{MockOptions, MockServer, RequestLog};

fn contacts(n: usize) -> Vec<Contact> {
    (0..n)
        .map(|i| Contact::new(format!("+1415{i:07}")).variable("customer_name", format!("Customer {i}")))
        .collect()
}

/// A run over `list`, and every row's result.
async fn run(
    client: &sigmamind::Client,
    batch: &Batch,
    list: Vec<Contact>,
    journal: &Journal,
    options: &Options,
) -> (Report, Vec<RowResult>) {
    let mut rows = Vec::new();
    let report = batch::run(client, batch, list.into_iter().map(Ok), journal, options, |r| {
        rows.push(r.clone())
    })
    .await;
    (report, rows)
}

/// Calls the server placed, per destination number.
fn placed_per_phone(server: &MockServer) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for call in server.placed_calls() {
        *counts
            .entry(call.to_phone_number().unwrap().to_owned())
            .or_default() += 1;
    }
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_rows_never_exceed_the_concurrency_and_are_placed_once() {
    let server = MockServer::start_with(MockOptions::default().latency(Duration::from_millis(20))).await;
    let client = server.client();
    let batch = Batch::new("+14155552671").unwrap().require(["customer_name"]);
    let checked = batch
        .check(contacts(1000).into_iter().map(Ok), |e| panic!("{e}"))
        .unwrap();
    assert_eq!(checked.valid, 1000);
    let dir = tempfile::tempdir().unwrap();
    let journal = Journal::open(dir.path().join("journal.jsonl"), &batch, client.baseurl()).unwrap();

    let (report, rows) = run(
        &client,
        &batch,
        contacts(1000),
        &journal,
        &Options::default().concurrency(50),
    )
    .await;

    // How long it took is a benchmark's business (`cargo bench --bench
    // batch`); here: the bound, and every row exactly once.
    assert!(
        server.max_in_flight() <= 50,
        "{} in flight",
        server.max_in_flight()
    );
    assert!(
        server.max_in_flight() > 1,
        "the rows were not dialled concurrently"
    );
    assert_eq!(report.counts().placed, 1000);
    assert!(report.all_placed());
    let placed = placed_per_phone(&server);
    assert_eq!(placed.len(), 1000);
    assert!(placed.values().all(|&n| n == 1));
    // The reported call ids are the server's.
    let ids: std::collections::HashSet<_> = server.placed_calls().into_iter().map(|c| c.call_id).collect();
    assert_eq!(rows.len(), 1000);
    assert!(rows.iter().all(|r| ids.contains(r.outcome.call_id().unwrap())));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_storm_places_every_row_exactly_once_and_pauses_every_worker() {
    // Answer times and statuses, as the server saw them.
    let log: Arc<Mutex<Vec<(Instant, u16)>>> = Arc::default();
    let server = MockServer::start_with(MockOptions::default().rate_limit_every(3, "1").on_request({
        let log = log.clone();
        move |entry: &RequestLog| {
            let status = entry.status.map_or(0, |s| s.as_u16());
            log.lock().unwrap().push((Instant::now(), status));
        }
    }))
    .await;
    let client = server.client();
    let batch = Batch::new("+14155552671").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let journal = Journal::open(dir.path().join("journal.jsonl"), &batch, client.baseurl()).unwrap();
    let pauses = Arc::new(Mutex::new(Vec::new()));
    let paused_at: Arc<Mutex<Vec<Instant>>> = Arc::default();
    let options = Options::default().concurrency(10).on_event({
        let (pauses, paused_at) = (pauses.clone(), paused_at.clone());
        move |event| {
            if let Event::Paused { wait, status } = event {
                paused_at.lock().unwrap().push(Instant::now());
                pauses.lock().unwrap().push((wait, status));
            }
        }
    });

    let (report, rows) = run(&client, &batch, contacts(30), &journal, &options).await;

    assert!(report.all_placed(), "{rows:#?}");
    let placed = placed_per_phone(&server);
    assert_eq!(placed.len(), 30);
    assert!(placed.values().all(|&n| n == 1), "{placed:?}");
    let log = log.lock().unwrap().clone();
    let refused: Vec<Instant> = log.iter().filter(|(_, s)| *s == 429).map(|(t, _)| *t).collect();
    assert_eq!(refused.len() as u32, report.rate_limited);
    assert!(refused.len() >= 10, "a third of the requests are refused");
    assert_eq!(log.len(), 30 + refused.len());
    // Retry-After: 1 paused every worker, not only the refused one.
    // Counted, not timed, so that a loaded machine cannot break it: once a
    // worker has paused (the event's time, on the client), no worker starts
    // a request for the wait, so what reaches the server in the next 0.8 s
    // is only what was already on its way: a request per worker at most.
    // Were only the refused worker held back, the other nine would send
    // the rest of the list in that time.
    let paused_at = paused_at.lock().unwrap().clone();
    assert_eq!(paused_at.len() as u32, report.rate_limited);
    for at in &paused_at {
        let during = log
            .iter()
            .filter(|(t, _)| *t > *at && *t < *at + Duration::from_millis(800))
            .count();
        assert!(
            during <= 10,
            "{during} request(s) reached the server during a pause"
        );
    }
    let pauses = pauses.lock().unwrap();
    assert!(pauses
        .iter()
        .all(|(wait, status)| *wait == Duration::from_secs(1) && *status == Some(429)));
}

#[tokio::test]
async fn a_rerun_skips_placed_rows_and_dials_the_rest_once() {
    let server = MockServer::start().await;
    let client = server.client();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.jsonl");

    // The first run sees the first 10 rows only (a list that grew later).
    let batch = Batch::new("+14155552671").unwrap();
    let journal = Journal::open(&path, &batch, client.baseurl()).unwrap();
    let (report, _) = run(&client, &batch, contacts(10), &journal, &Options::default()).await;
    assert_eq!(report.counts().placed, 10);
    drop(journal);

    // The whole list, reversed: numbers are the key, not positions.
    let mut all = contacts(25);
    all.reverse();
    let journal = Journal::open(&path, &batch, client.baseurl()).unwrap();
    assert_eq!(journal.recovered().runs, 1);
    assert_eq!(journal.recovered().numbers, 10);
    let (report, rows) = run(&client, &batch, all, &journal, &Options::default()).await;
    let counts = report.counts();
    assert_eq!((counts.placed, counts.placed_earlier), (15, 10));
    assert!(placed_per_phone(&server).values().all(|&n| n == 1));
    assert_eq!(server.placed_calls().len(), 25);
    // Earlier rows keep their call ids.
    let earlier = rows.iter().find(|r| r.earlier_run).unwrap();
    assert!(matches!(&earlier.outcome, Outcome::Placed { call_id: Some(id) } if id.starts_with("call_")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rate_spaces_the_calls() {
    let arrivals: Arc<Mutex<Vec<Instant>>> = Arc::default();
    let server = MockServer::start_with(MockOptions::default().on_request({
        let arrivals = arrivals.clone();
        move |_: &RequestLog| arrivals.lock().unwrap().push(Instant::now())
    }))
    .await;
    let client = server.client();
    let batch = Batch::new("+14155552671").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let journal = Journal::open(dir.path().join("j"), &batch, client.baseurl()).unwrap();
    let options = Options::default().concurrency(6).rate("10/s".parse().unwrap());
    let began = Instant::now();
    let (report, _) = run(&client, &batch, contacts(6), &journal, &options).await;
    assert!(report.all_placed());
    // Six workers, yet one call per 100 ms. Request k cannot start before
    // (k - 1) × 100 ms, and reaches the server later still, so the k-th
    // arrival is at least that far from the start however the machine
    // delays each request (gaps between arrivals are not: a request held
    // up on its way makes the gap after it short).
    let mut arrivals = arrivals.lock().unwrap().clone();
    arrivals.sort();
    assert_eq!(arrivals.len(), 6);
    for (k, at) in arrivals.iter().enumerate() {
        let earliest = Duration::from_millis(100) * k as u32;
        assert!(*at - began >= earliest, "arrival {k} after {:?}", *at - began);
    }
}
