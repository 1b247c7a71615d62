//! Placing a plan's calls: workers, retries that cannot dial twice, journal.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use super::journal::{now, Appender, Journal, Record};
use super::pacer::Pacer;
use super::{Cancel, Event, EventHandler, Options, Outcome, Plan, PlannedCall, Report, RowResult};
use crate::fate::{Fate, Resend};
use crate::retry::{jitter, Attempt, RetryPolicy};
use crate::{Client, Error};

/// Places `plan`'s calls through `client`, recording each in `journal`
/// before it is sent; see the [module docs](super). Never fails as a whole:
/// a journal that stops accepting records stops the run (nothing is sent
/// that is not recorded first), and [`Report::stopped`] says why.
pub async fn run(client: &Client, plan: &Plan, journal: &Journal, options: &Options) -> Report {
    let started = std::time::Instant::now();
    let appender = journal.appender();
    let stop = Stop::default();
    let run = Record::Run {
        at: now(),
        retry_unknown: options.retry_unknown,
    };
    if let Err(error) = appender.append(&run).await {
        stop.set(error);
    }
    let mut rows = refuse_invalid_rows(plan, &appender, &stop).await;

    let mut todo = Vec::new();
    for call in &plan.calls {
        let earlier = match journal.previous(&call.phone) {
            Some(placed @ Outcome::Placed { .. }) => Some(placed.clone()),
            Some(Outcome::Unknown { error }) if !options.retry_unknown => Some(Outcome::Unknown {
                error: format!("{error}; not dialled again (retry-unknown would dial it)"),
            }),
            _ => None,
        };
        match earlier {
            Some(outcome) => rows.push(RowResult {
                row: call.row,
                phone: call.phone.clone(),
                outcome,
                attempts: 0,
                earlier_run: true,
            }),
            None => todo.push(call.clone()),
        }
    }

    let shared = Arc::new(Shared {
        // Retries happen here, so that a wait pauses every worker: the
        // client sends each request once.
        client: client.with_retry_policy(RetryPolicy {
            max_retries: 0,
            ..client.retry_policy().clone()
        }),
        // The client's policy, made safe: only what was not taken in is resent.
        policy: RetryPolicy {
            max_retries: options.max_retries,
            retry_non_idempotent: false,
            ..client.retry_policy().clone()
        },
        pacer: Pacer::new(options.rate),
        journal: appender,
        next: AtomicUsize::new(0),
        rate_limited: AtomicU32::new(0),
        stop,
        cancel: options.cancel.clone().unwrap_or_default(),
        on_event: options.on_event.clone(),
        sent: todo.iter().map(|_| AtomicBool::new(false)).collect(),
        results: Mutex::default(),
        todo,
    });
    shared.emit(Event::Started {
        to_send: shared.todo.len(),
        not_sent: rows.len(),
    });
    let workers = options.concurrency.max(1).min(shared.todo.len());
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..workers {
        set.spawn(worker(shared.clone()));
    }
    // A worker cannot panic short of a bug; the row it was placing is then
    // judged below by whether its request may have left.
    while set.join_next().await.is_some() {}
    let finished = std::mem::take(&mut *shared.results.lock().expect("results lock"));
    let mut done: BTreeMap<usize, RowResult> = finished.into_iter().map(|r| (r.row, r)).collect();
    let stopped = shared.stop.reason();
    for (call, sent) in shared.todo.iter().zip(&shared.sent) {
        done.entry(call.row).or_insert_with(|| {
            if sent.load(Ordering::SeqCst) {
                let error = "no outcome: the worker placing it stopped unexpectedly".to_owned();
                return unfinished(call, Outcome::Unknown { error });
            }
            let error = format!(
                "not sent: the run stopped ({})",
                stopped.as_deref().unwrap_or("a worker stopped unexpectedly")
            );
            unfinished(call, Outcome::Refused { error })
        });
    }
    rows.extend(done.into_values());
    rows.sort_by_key(|r| r.row);
    Report {
        rows,
        rate_limited: shared.rate_limited.load(Ordering::SeqCst),
        stopped,
        elapsed: started.elapsed(),
    }
}

struct Shared {
    client: Client,
    policy: RetryPolicy,
    pacer: Pacer,
    journal: Appender,
    /// The index in `todo` of the next row to take.
    next: AtomicUsize,
    rate_limited: AtomicU32,
    stop: Stop,
    cancel: Cancel,
    on_event: Option<EventHandler>,
    todo: Vec<PlannedCall>,
    /// Per row of `todo`: its `sending` record is on disk, so its request
    /// may have left.
    sent: Vec<AtomicBool>,
    /// Rows finished, kept as they finish (a worker that dies loses none).
    results: Mutex<Vec<RowResult>>,
}

impl Shared {
    /// Whether a worker may start another row.
    fn may_start(&self) -> bool {
        if self.cancel.is_cancelled() {
            self.stop.set("cancelled".to_owned());
        }
        !self.stop.is_set()
    }

    fn emit(&self, event: Event<'_>) {
        if let Some(handler) = &self.on_event {
            handler(event);
        }
    }
}

/// Set once, when the run must send nothing more.
#[derive(Default)]
struct Stop(Mutex<Option<String>>);

impl Stop {
    fn set(&self, reason: String) {
        self.0.lock().expect("stop lock").get_or_insert(reason);
    }

    fn reason(&self) -> Option<String> {
        self.0.lock().expect("stop lock").clone()
    }

    fn is_set(&self) -> bool {
        self.0.lock().expect("stop lock").is_some()
    }
}

/// A row of this run that has no outcome of its own (0 attempts counted).
fn unfinished(call: &PlannedCall, outcome: Outcome) -> RowResult {
    RowResult {
        row: call.row,
        phone: call.phone.clone(),
        outcome,
        attempts: 0,
        earlier_run: false,
    }
}

/// Invalid rows are refused, one record each (all their problems, joined).
async fn refuse_invalid_rows(plan: &Plan, journal: &Appender, stop: &Stop) -> Vec<RowResult> {
    let mut by_row: BTreeMap<usize, (String, Vec<String>)> = BTreeMap::new();
    for error in &plan.errors {
        by_row
            .entry(error.row)
            .or_insert_with(|| (error.phone.clone(), Vec::new()))
            .1
            .push(error.to_string());
    }
    let mut rows = Vec::new();
    for (row, (phone, messages)) in by_row {
        let error = messages.join("; ");
        let record = Record::Invalid {
            row,
            phone: phone.clone(),
            error: error.clone(),
            at: now(),
        };
        if let Err(e) = journal.append(&record).await {
            stop.set(e);
        }
        rows.push(RowResult {
            row,
            phone,
            outcome: Outcome::Refused { error },
            attempts: 0,
            earlier_run: false,
        });
    }
    rows
}

async fn worker(shared: Arc<Shared>) {
    let finish = |result: RowResult| shared.results.lock().expect("results lock").push(result);
    loop {
        if !shared.may_start() {
            break;
        }
        let index = shared.next.fetch_add(1, Ordering::SeqCst);
        let Some(call) = shared.todo.get(index) else {
            break;
        };
        shared.pacer.wait().await;
        // The wait may have been long (a rate, a pause).
        if !shared.may_start() {
            break;
        }
        let sending = Record::Sending {
            row: call.row,
            phone: call.phone.clone(),
            at: now(),
        };
        // Nothing is sent that is not on disk first.
        if let Err(error) = shared.journal.append(&sending).await {
            shared
                .stop
                .set(format!("the journal could not record a request: {error}"));
            let error = format!(
                "not sent: the journal could not record it ({error}); if the journal shows it as \
                 sending, it was not sent"
            );
            finish(unfinished(call, Outcome::Refused { error }));
            break;
        }
        shared.sent[index].store(true, Ordering::SeqCst);
        let (outcome, attempts) = place(&shared, call).await;
        let result = RowResult {
            row: call.row,
            phone: call.phone.clone(),
            outcome,
            attempts,
            earlier_run: false,
        };
        let record = Record::Outcome {
            row: result.row,
            phone: result.phone.clone(),
            outcome: result.outcome.clone(),
            at: now(),
        };
        if let Err(error) = shared.journal.append(&record).await {
            shared
                .stop
                .set(format!("the journal could not record an outcome: {error}"));
        }
        shared.emit(Event::RowDone(&result));
        finish(result);
    }
}

/// Sends the row's request until it is answered, or may have been
/// processed, or the retries run out; returns the outcome and the requests sent.
async fn place(shared: &Shared, call: &PlannedCall) -> (Outcome, u32) {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let sent = shared
            .client
            .create_call()
            .body(call.request.clone())
            .send()
            .await;
        let error = match sent {
            Ok(call) => {
                let call_id = call.into_inner().call_id;
                return (Outcome::Placed { call_id }, attempt);
            }
            Err(error) => error,
        };
        let verdict = error.verdict();
        if verdict.resend == Resend::Throttled {
            shared.rate_limited.fetch_add(1, Ordering::SeqCst);
        }
        let retry = Attempt {
            number: attempt,
            resend: verdict.resend,
            idempotent: false,
            retry_after: error.retry_after(),
        };
        if let Some(wait) = shared.policy.next_delay(&retry, jitter()) {
            shared.pacer.pause(wait);
            let status = error.status().map(|s| s.as_u16());
            shared.emit(Event::Paused { wait, status });
            shared.pacer.wait().await;
            continue;
        }
        return (outcome_of(&error, verdict.fate), attempt);
    }
}

/// A final error's outcome, as the classifier judged it ([`crate::fate`]).
fn outcome_of(error: &Error, fate: Fate) -> Outcome {
    let text = error.to_string();
    match fate {
        // A 2xx whose body could not be read: the call exists.
        Fate::Processed => Outcome::Placed {
            call_id: error.call_id().map(str::to_owned),
        },
        Fate::Refused => Outcome::Failed {
            status: error.status().map(|s| s.as_u16()),
            error: text,
        },
        Fate::NotSent => Outcome::Refused { error: text },
        _ => Outcome::Unknown { error: text },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::{Batch, Contact};
    use crate::mock::{Fault, MockServer};

    fn contacts(n: usize) -> Vec<Contact> {
        (0..n)
            .map(|i| Contact::new(format!("+1415555{i:04}")).variable("customer_name", format!("C{i}")))
            .collect()
    }

    /// One worker: faults pushed on the server meet the rows in order.
    async fn one_at_a_time(server: &MockServer, plan: &Plan, journal: &Journal) -> Report {
        run(
            &server.client(),
            plan,
            journal,
            &Options::default().concurrency(1),
        )
        .await
    }

    fn phones_sent(server: &MockServer) -> Vec<String> {
        server
            .requests()
            .iter()
            .filter_map(|r| r.json()?["toPhoneNumber"].as_str().map(str::to_owned))
            .collect()
    }

    #[tokio::test]
    async fn outcomes_follow_what_the_answer_proves() {
        let server = MockServer::start().await;
        let batch = Batch::new("+14155552671", contacts(4)).unwrap();
        let plan = batch.plan();
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(dir.path().join("j"), &batch, server.base_url()).unwrap();
        // In row order with one worker: 422, then a 500, then a lost
        // connection, then a normal answer.
        server.push_fault(Fault::Json(422, serde_json::json!({"error": "bad"})));
        server.push_fault(Fault::Status(500));
        server.push_fault(Fault::DropConnection);
        let report = one_at_a_time(&server, &plan, &journal).await;
        let names: Vec<_> = report.rows.iter().map(|r| r.outcome.name()).collect();
        assert_eq!(names, ["failed", "unknown", "unknown", "placed"]);
        assert_eq!(
            report.rows[0].outcome,
            Outcome::Failed {
                status: Some(422),
                error: report.rows[0].outcome.error().unwrap().to_owned(),
            }
        );
        assert!(report.rows[3].outcome.call_id().unwrap().starts_with("call_"));
        // Each row was sent once: a 500 or a lost connection may have placed it.
        assert_eq!(server.request_count(), 4);
        drop(journal);

        // A rerun retries the failed row only.
        let journal = Journal::open(dir.path().join("j"), &batch, server.base_url()).unwrap();
        let report = run(&server.client(), &plan, &journal, &Options::default()).await;
        let names: Vec<_> = report
            .rows
            .iter()
            .map(|r| (r.outcome.name(), r.earlier_run))
            .collect();
        assert_eq!(
            names,
            [
                ("placed", false),
                ("unknown", true),
                ("unknown", true),
                ("placed", true)
            ]
        );
        assert_eq!(
            phones_sent(&server)
                .iter()
                .filter(|p| *p == "+14155550000")
                .count(),
            2
        );
        assert_eq!(server.request_count(), 5);
    }

    #[tokio::test]
    async fn a_duplicate_row_never_unmasks_an_unknown_outcome() {
        let server = MockServer::start().await;
        let mut list = contacts(2);
        list.push(list[0].clone()); // row 3 repeats row 1's number
        let batch = Batch::new("+14155552671", list).unwrap();
        let plan = batch.plan();
        assert_eq!(plan.errors.len(), 1);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j");
        server.push_fault(Fault::Status(503)); // row 1: unknown
        for run_number in 0..3 {
            let journal = Journal::open(&path, &batch, server.base_url()).unwrap();
            let report = one_at_a_time(&server, &plan, &journal).await;
            assert_eq!(report.rows[0].outcome.name(), "unknown", "run {run_number}");
            assert_eq!(report.rows[2].outcome.name(), "refused", "run {run_number}");
        }
        assert_eq!(
            phones_sent(&server)
                .iter()
                .filter(|p| *p == "+14155550000")
                .count(),
            1
        );
    }

    #[tokio::test]
    async fn a_cancelled_run_finishes_what_is_in_flight_and_starts_nothing_more() {
        let server = MockServer::start().await;
        server.set_latency(std::time::Duration::from_millis(50));
        let batch = Batch::new("+14155552671", contacts(20)).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(dir.path().join("j"), &batch, server.base_url()).unwrap();
        let cancel = Cancel::new();
        let options = Options::default()
            .concurrency(2)
            .cancel(cancel.clone())
            .on_event(move |event| {
                if let Event::RowDone(result) = event {
                    if result.row == 3 {
                        cancel.cancel();
                    }
                }
            });
        let report = run(&server.client(), &batch.plan(), &journal, &options).await;
        let counts = report.counts();
        // Rows 1-4 were in flight or done when row 3 finished; nothing after.
        assert!((3..=4).contains(&counts.placed), "{counts:?}");
        assert_eq!(counts.placed + counts.refused, 20);
        assert_eq!(counts.unknown, 0);
        assert_eq!(server.request_count(), counts.placed);
        assert_eq!(report.stopped.as_deref(), Some("cancelled"));
        let not_sent = report
            .rows
            .iter()
            .find(|r| r.outcome.name() == "refused")
            .unwrap();
        assert_eq!(
            not_sent.outcome.error(),
            Some("not sent: the run stopped (cancelled)")
        );
        drop(journal);
        // A rerun dials the rest.
        let journal = Journal::open(dir.path().join("j"), &batch, server.base_url()).unwrap();
        let report = run(&server.client(), &batch.plan(), &journal, &Options::default()).await;
        assert!(report.all_placed());
        assert_eq!(server.request_count(), 20);
    }

    /// A worker that dies (here: an event handler that panics) leaves its
    /// row unknown, never "not sent"; the rows it never took are not sent.
    #[tokio::test]
    async fn a_worker_that_dies_leaves_its_row_unknown() {
        let server = MockServer::start().await;
        let batch = Batch::new("+14155552671", contacts(4)).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(dir.path().join("j"), &batch, server.base_url()).unwrap();
        let options = Options::default().concurrency(1).on_event(|event| {
            if matches!(event, Event::RowDone(r) if r.row == 2) {
                panic!("a handler bug");
            }
        });
        let report = run(&server.client(), &batch.plan(), &journal, &options).await;
        let names: Vec<_> = report.rows.iter().map(|r| r.outcome.name()).collect();
        assert_eq!(names, ["placed", "unknown", "refused", "refused"]);
        assert_eq!(
            report.rows[2].outcome.error(),
            Some("not sent: the run stopped (a worker stopped unexpectedly)")
        );
        assert_eq!(server.request_count(), 2);
    }

    #[tokio::test]
    async fn a_refused_connection_is_retried_and_then_refused() {
        // Nothing listens on port 9.
        let client = Client::builder()
            .api_key("k")
            .base_url("http://127.0.0.1:9")
            .retry_policy(RetryPolicy {
                initial_backoff: std::time::Duration::from_millis(1),
                max_backoff: std::time::Duration::from_millis(2),
                ..Default::default()
            })
            .build()
            .unwrap();
        let batch = Batch::new("+14155552671", contacts(2)).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(dir.path().join("j"), &batch, "local").unwrap();
        let report = run(
            &client,
            &batch.plan(),
            &journal,
            &Options::default().max_retries(3),
        )
        .await;
        for row in &report.rows {
            assert_eq!(row.outcome.name(), "refused", "{row:?}");
            assert_eq!(row.attempts, 4);
        }
    }
}
