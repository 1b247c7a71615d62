//! Placing a list's calls as a stream: rows are read and checked in list
//! order, dialled by a bounded pool of workers, and their results handed
//! on as they finish. Memory is bounded by what is in flight, plus what
//! the guarantees need for the whole list: each number's first row (for
//! duplicates) and, in a file journal, each earlier outcome, compactly.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;

use super::hours::{CallingHours, Clock};
use super::journal::{Claim, Journal};
use super::numbers;
use super::pacer::Pacer;
use super::plan::Row;
use super::{
    Batch, BatchError, Cancel, Contact, Counts, Event, EventHandler, Options, Outcome, PlannedCall, Report,
    RowResult,
};
use sigmamind::fate::{Fate, Resend};
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use sigmamind::retry::{Attempt, RetryPolicy, RetryWait};
use sigmamind::{Client, Error};

/// Places the calls of `contacts` (a stream of rows, in list order) through
/// `client`, recording each in `journal` before it is sent; see the
/// [module docs](super). Every row's result goes to `results` as it
/// finishes (not in row order). Rows are checked again as they are read,
/// by the same rules as [`Batch::check`]: a row with a problem is never
/// sent. Never fails as a whole: a journal that stops accepting records, or
/// a contact list that cannot be read, stops the run (nothing is sent that
/// is not recorded first), and [`Report::stopped`] says why; the rows not
/// tried are reported refused with that reason. Rows outside their
/// [calling hours](Batch::calling_hours) are reported
/// [`Outcome::Deferred`], and [`Report::next_window`] says when the first
/// of them opens; [`run_waiting`] waits for them.
///
/// Contacts from memory: `contacts.into_iter().map(Ok)`; from a CSV:
/// [`read_contacts`](super::read_contacts).
pub async fn run<I>(
    client: &Client,
    batch: &Batch,
    contacts: I,
    journal: &Journal,
    options: &Options,
    mut results: impl FnMut(&RowResult),
) -> Report
where
    I: IntoIterator<Item = Result<Contact, BatchError>>,
{
    let pass = Pass {
        only: None,
        hold: false,
    };
    run_pass(client, batch, contacts, journal, options, &pass, &mut results)
        .await
        .0
}

/// Like [`run`], and then waits for the rows outside their calling hours:
/// when the first of them opens ([`Report::next_window`]), the list is read
/// again (`contacts` makes a new stream of the same list) and the rows
/// still waiting are dialled, until none is left or the run is cancelled
/// (or stops). Each row's result goes to `results` once: a deferred row's
/// when it is dialled, or, if the run ends first, as deferred. Memory: a
/// few bytes per waiting row, whatever the list's length.
pub async fn run_waiting<F, I>(
    client: &Client,
    batch: &Batch,
    mut contacts: F,
    journal: &Journal,
    options: &Options,
    mut results: impl FnMut(&RowResult),
) -> Report
where
    F: FnMut() -> I,
    I: IntoIterator<Item = Result<Contact, BatchError>>,
{
    let started = std::time::Instant::now();
    let cancel = options.cancel.clone().unwrap_or_default();
    let mut total = Report::default();
    let mut only: Option<Vec<u32>> = None;
    loop {
        let pass = Pass {
            only: only.as_deref(),
            hold: true,
        };
        let (report, held) = run_pass(client, batch, contacts(), journal, options, &pass, &mut results).await;
        total.counts = total.counts.plus(&report.counts);
        total.rate_limited += report.rate_limited;
        total.unrecorded += report.unrecorded;
        total.stopped = report.stopped;
        total.next_window = report.next_window;
        let Some(opens) = held.iter().map(|h| h.opens).min() else {
            break;
        };
        let mut end_with = |total: &mut Report, held: Vec<Held>| {
            for waiting in held {
                let result = waiting.result();
                total.counts.add(&result);
                results(&result);
            }
            total.next_window = Some(opens);
        };
        if total.stopped.is_some() {
            end_with(&mut total, held);
            break;
        }
        if let Some(handler) = &options.on_event {
            handler(Event::Waiting {
                until: opens,
                rows: held.len(),
            });
        }
        tokio::select! {
            () = options.clock.sleep_until(opens) => {}
            () = cancel.cancelled() => {
                total.stopped = Some("cancelled".to_owned());
                end_with(&mut total, held);
                break;
            }
        }
        let mut rows: Vec<u32> = held.iter().map(|h| h.row).collect();
        rows.sort_unstable();
        only = Some(rows);
    }
    total.elapsed = started.elapsed();
    total
}

/// Which rows a pass tries, and what it does with deferred ones.
struct Pass<'a> {
    /// Only these rows (sorted), when a waiting run comes back for them.
    only: Option<&'a [u32]>,
    /// Keep deferred rows for a later pass instead of reporting them.
    hold: bool,
}

impl Pass<'_> {
    fn tries(&self, row: usize) -> bool {
        self.only
            .is_none_or(|only| u32::try_from(row).is_ok_and(|row| only.binary_search(&row).is_ok()))
    }
}

/// A row a waiting run comes back for: what its result needs, compactly.
struct Held {
    row: u32,
    key: u64,
    opens: chrono::DateTime<chrono::Utc>,
    error: String,
}

impl Held {
    fn result(self) -> RowResult {
        RowResult {
            row: self.row as usize,
            phone: numbers::phone(self.key),
            given_phone: None,
            outcome: Outcome::Deferred {
                error: self.error,
                opens: Some(self.opens),
            },
            attempts: 0,
            earlier_run: false,
            journal_error: None,
        }
    }
}

async fn run_pass<I>(
    client: &Client,
    batch: &Batch,
    contacts: I,
    journal: &Journal,
    options: &Options,
    pass: &Pass<'_>,
    results: &mut impl FnMut(&RowResult),
) -> (Report, Vec<Held>)
where
    I: IntoIterator<Item = Result<Contact, BatchError>>,
{
    let started = std::time::Instant::now();
    let concurrency = options.concurrency.max(1);
    let shared = Arc::new(RunState {
        // The client's policy, made safe: only what was not taken in is
        // resent. Its retry loop waits as each row's `RowWait` says, so
        // that a wait pauses every worker.
        client: client.with_retry_policy(RetryPolicy {
            max_retries: options.max_retries,
            retry_non_idempotent: false,
            ..client.retry_policy().clone()
        }),
        pacer: Pacer::new(options.rate),
        journal: journal.clone(),
        retry_unknown: options.retry_unknown,
        rate_limited: AtomicU32::new(0),
        stop: Stop::default(),
        cancel: options.cancel.clone().unwrap_or_default(),
        on_event: options.on_event.clone(),
        in_hand: (0..concurrency).map(|_| Mutex::new(None)).collect(),
        hours: batch.hours().copied(),
        clock: options.clock.clone(),
    });
    let mut counts = Counts::default();
    let mut unrecorded = 0;
    let mut held = Vec::new();
    let mut next_window: Option<chrono::DateTime<chrono::Utc>> = None;
    let mut report = |result: &RowResult| {
        if let Outcome::Deferred {
            opens: Some(opens),
            error,
        } = &result.outcome
        {
            next_window = Some(next_window.map_or(*opens, |next| next.min(*opens)));
            if pass.hold {
                if let (Ok(row), Some(key)) = (u32::try_from(result.row), numbers::key(&result.phone)) {
                    held.push(Held {
                        row,
                        key,
                        opens: *opens,
                        error: error.clone(),
                    });
                    return;
                }
            }
        }
        counts.add(result);
        unrecorded += usize::from(result.journal_error.is_some());
        results(result);
    };
    if let Err(error) = journal.begin_run(options).await {
        shared
            .stop
            .set(format!("the journal could not record the run: {error}"));
    }

    let (work, queue) = mpsc::channel::<PlannedCall>(concurrency);
    let queue = Arc::new(tokio::sync::Mutex::new(queue));
    let (finished, mut done) = mpsc::channel::<RowResult>(concurrency * 2);
    let mut workers = tokio::task::JoinSet::new();
    let mut worker_of = HashMap::new();
    for index in 0..concurrency {
        let task = workers.spawn(worker(shared.clone(), index, queue.clone(), finished.clone()));
        worker_of.insert(task.id(), index);
    }
    drop(finished);

    let mut checker = batch.checker(options.expected_rows);
    let mut contacts = contacts.into_iter();
    let mut work = Some(work);
    let mut next: Option<PlannedCall> = None;
    loop {
        // The next row to hand out; invalid ones are refused on the way.
        while work.is_some() && next.is_none() {
            if !shared.may_start() {
                break;
            }
            match contacts.next() {
                None => work = None,
                Some(Err(error)) => shared
                    .stop
                    .set(format!("the contact list could not be read: {error}")),
                Some(Ok(contact)) => match checker.next(&contact) {
                    Row::Call(call) if pass.tries(call.row) => next = Some(call),
                    Row::Call(_) => {}
                    Row::Invalid { row, .. } | Row::Suppressed { row, .. } if !pass.tries(row) => {}
                    Row::Suppressed {
                        row,
                        phone,
                        given_phone,
                        list,
                    } => {
                        // A number an earlier run placed (or may have) says
                        // so: the list came too late for it.
                        let key = numbers::key(&phone).expect("a suppressed row has a +E.164 number");
                        if let Ok(Some(earlier @ (Outcome::Placed { .. } | Outcome::Unknown { .. }))) =
                            journal.settled(key, false).await
                        {
                            report(&RowResult {
                                row,
                                given_phone: other_than(&phone, given_phone),
                                phone,
                                outcome: earlier,
                                attempts: 0,
                                earlier_run: true,
                                journal_error: None,
                            });
                            continue;
                        }
                        // Recorded like an invalid row: never sent.
                        let error = format!("suppressed: on the list {list}");
                        if let Err(e) = journal.invalid(row, &phone, &error).await {
                            shared
                                .stop
                                .set(format!("the journal could not record a suppressed row: {e}"));
                        }
                        report(&suppressed(row, phone, given_phone, list));
                    }
                    Row::Invalid {
                        row,
                        phone,
                        given_phone,
                        errors,
                    } => {
                        let error = errors
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join("; ");
                        if let Err(e) = journal.invalid(row, &phone, &error).await {
                            shared
                                .stop
                                .set(format!("the journal could not record an invalid row: {e}"));
                        }
                        report(&RowResult {
                            row,
                            given_phone: other_than(&phone, given_phone),
                            phone,
                            outcome: Outcome::Invalid { error },
                            attempts: 0,
                            earlier_run: false,
                            journal_error: None,
                        });
                    }
                },
            }
        }
        if work.is_some() && !shared.may_start() {
            // Stopped: what was not handed out is not sent, and said so.
            work = None;
            let reason = shared.stop.reason().unwrap_or_default();
            if let Some(call) = next.take() {
                report(&stopped_before_sending(
                    call.row,
                    call.phone,
                    call.given_phone,
                    &reason,
                ));
            }
            for contact in contacts.by_ref() {
                let Ok(contact) = contact else { break };
                let (row, phone, given_phone) = match checker.next(&contact) {
                    Row::Call(call) => (call.row, call.phone, call.given_phone),
                    Row::Invalid {
                        row,
                        phone,
                        given_phone,
                        ..
                    } => (row, phone, given_phone),
                    Row::Suppressed {
                        row,
                        phone,
                        given_phone,
                        list,
                    } => {
                        if pass.tries(row) {
                            report(&suppressed(row, phone, given_phone, list));
                        }
                        continue;
                    }
                };
                if pass.tries(row) {
                    report(&stopped_before_sending(row, phone, given_phone, &reason));
                }
            }
        }
        tokio::select! {
            permit = async { work.as_ref().expect("guarded").reserve().await }, if work.is_some() && next.is_some() => {
                match permit {
                    Ok(permit) => permit.send(next.take().expect("guarded")),
                    Err(_) => shared.stop.set("the workers stopped unexpectedly".to_owned()),
                }
            }
            Some(result) = done.recv() => report(&result),
            Some(joined) = workers.join_next_with_id(), if !workers.is_empty() => {
                if let Err(error) = joined {
                    // A worker cannot panic short of a bug; its row is
                    // judged by whether its request may have left.
                    let index = worker_of.get(&error.id()).copied();
                    shared.stop.set("a worker stopped unexpectedly".to_owned());
                    if let Some(slot) = index.and_then(|i| shared.in_hand[i].lock().expect("slot").take()) {
                        report(&slot.abandoned());
                    }
                }
            }
            else => break,
        }
    }
    // Rows handed out that no worker took (every worker stopped): not sent.
    let reason = shared.stop.reason().unwrap_or_default();
    while let Ok(call) = queue.lock().await.try_recv() {
        report(&stopped_before_sending(
            call.row,
            call.phone,
            call.given_phone,
            &reason,
        ));
    }
    journal.end_run().await;
    let report = Report {
        counts,
        rate_limited: shared.rate_limited.load(Ordering::SeqCst),
        next_window,
        stopped: shared.stop.reason(),
        unrecorded,
        elapsed: started.elapsed(),
    };
    (report, held)
}

/// The result of a row on a suppression list (never sent).
fn suppressed(row: usize, phone: String, given_phone: String, list: String) -> RowResult {
    RowResult {
        row,
        given_phone: other_than(&phone, given_phone),
        phone,
        outcome: Outcome::Suppressed { list },
        attempts: 0,
        earlier_run: false,
        journal_error: None,
    }
}

/// The number as the list gave it, when it is not the one dialled.
fn other_than(phone: &str, given_phone: String) -> Option<String> {
    (given_phone != phone).then_some(given_phone)
}

struct RunState {
    client: Client,
    pacer: Pacer,
    journal: Journal,
    retry_unknown: bool,
    rate_limited: AtomicU32,
    stop: Stop,
    cancel: Cancel,
    on_event: Option<EventHandler>,
    /// The row each worker holds, and whether its claim is durable (its
    /// request may have left).
    in_hand: Vec<Mutex<Option<InHand>>>,
    hours: Option<CallingHours>,
    clock: std::sync::Arc<dyn Clock>,
}

/// A worker's row.
struct InHand {
    row: usize,
    phone: String,
    given_phone: String,
    claimed: bool,
}

impl InHand {
    /// The result of a row whose worker stopped unexpectedly.
    fn abandoned(self) -> RowResult {
        if !self.claimed {
            return stopped_before_sending(
                self.row,
                self.phone,
                self.given_phone,
                "a worker stopped unexpectedly",
            );
        }
        RowResult {
            row: self.row,
            given_phone: other_than(&self.phone, self.given_phone),
            phone: self.phone,
            outcome: Outcome::Unknown {
                error: "no outcome: the worker placing it stopped unexpectedly".to_owned(),
            },
            attempts: 0,
            earlier_run: false,
            journal_error: None,
        }
    }
}

/// The result of a row the run stopped before sending (not placed).
fn stopped_before_sending(row: usize, phone: String, given_phone: String, reason: &str) -> RowResult {
    RowResult {
        row,
        given_phone: other_than(&phone, given_phone),
        phone,
        outcome: Outcome::NotSent {
            error: format!("not sent: the run stopped ({reason})"),
        },
        attempts: 0,
        earlier_run: false,
        journal_error: None,
    }
}

impl RunState {
    /// Whether a worker may start another row.
    fn may_start(&self) -> bool {
        if self.cancel.is_cancelled() {
            self.stop.set("cancelled".to_owned());
        }
        !self.stop.is_set()
    }

    /// Returns once the run must send nothing more (cancelled, or stopped):
    /// what a worker waiting to send races against.
    async fn halted(&self) {
        tokio::select! {
            () = self.cancel.cancelled() => {}
            () = self.stop.set_ever() => {}
        }
    }

    /// The row's deferral, if its calling hours are not open now.
    fn outside_hours(&self, call: &PlannedCall) -> Option<Outcome> {
        let hours = self.hours.as_ref()?;
        let zones = call.zones.as_slice();
        let now = self.clock.now();
        if hours.is_open(zones, now) {
            return None;
        }
        let opens = hours.next_open(zones, now);
        let named: Vec<&str> = zones.iter().take(3).map(|z| z.name()).collect();
        let more = match zones.len().saturating_sub(3) {
            0 => String::new(),
            more => format!(" and {more} more"),
        };
        let when = opens.map_or_else(
            || "they do not open in all of them within eight days: give the row a timezone".to_owned(),
            |at| {
                format!(
                    "they open at {}",
                    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                )
            },
        );
        Some(Outcome::Deferred {
            error: format!(
                "deferred: outside the calling hours ({}) in {}{more}; {when}",
                hours.window(),
                named.join(", ")
            ),
            opens,
        })
    }

    fn emit(&self, event: Event<'_>) {
        if let Some(handler) = &self.on_event {
            handler(event);
        }
    }
}

/// Set once, when the run must send nothing more; setting it wakes every
/// worker that waits to send.
#[derive(Default)]
struct Stop {
    reason: Mutex<Option<String>>,
    woken: tokio::sync::Notify,
}

impl Stop {
    fn set(&self, reason: String) {
        self.reason.lock().expect("stop lock").get_or_insert(reason);
        self.woken.notify_waiters();
    }

    fn reason(&self) -> Option<String> {
        self.reason.lock().expect("stop lock").clone()
    }

    fn is_set(&self) -> bool {
        self.reason.lock().expect("stop lock").is_some()
    }

    /// Returns once the stop is set.
    async fn set_ever(&self) {
        loop {
            let woken = self.woken.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            if self.is_set() {
                return;
            }
            woken.await;
        }
    }
}

async fn worker(
    shared: Arc<RunState>,
    index: usize,
    queue: Arc<tokio::sync::Mutex<mpsc::Receiver<PlannedCall>>>,
    done: mpsc::Sender<RowResult>,
) {
    loop {
        let Some(call) = queue.lock().await.recv().await else {
            return;
        };
        *shared.in_hand[index].lock().expect("slot") = Some(InHand {
            row: call.row,
            phone: call.phone.clone(),
            given_phone: call.given_phone.clone(),
            claimed: false,
        });
        let result = take(&shared, index, &call).await;
        shared.emit(Event::RowDone(&result));
        *shared.in_hand[index].lock().expect("slot") = None;
        if done.send(result).await.is_err() {
            return;
        }
    }
}

/// One row: settled earlier, or claimed, placed and recorded.
async fn take(shared: &Arc<RunState>, index: usize, call: &PlannedCall) -> RowResult {
    let key = numbers::key(&call.phone).expect("a checked row has a +E.164 number");
    let result = |outcome: Outcome, attempts: u32, earlier_run: bool| RowResult {
        row: call.row,
        phone: call.phone.clone(),
        given_phone: other_than(&call.phone, call.given_phone.clone()),
        outcome,
        attempts,
        earlier_run,
        journal_error: None,
    };
    let stopped = || {
        let reason = shared.stop.reason().unwrap_or_default();
        stopped_before_sending(call.row, call.phone.clone(), call.given_phone.clone(), &reason)
    };
    if !shared.may_start() {
        return stopped();
    }
    // A settled row is skipped without waiting for the rate.
    match shared.journal.settled(key, shared.retry_unknown).await {
        Ok(Some(outcome)) => return result(earlier(outcome), 0, true),
        Ok(None) => {}
        Err(error) => {
            shared.stop.set(format!("the journal could not be read: {error}"));
            return stopped();
        }
    }
    // Calling hours are checked when the row's turn comes, and again
    // after the wait for the rate (which may be long).
    if let Some(deferred) = shared.outside_hours(call) {
        return result(deferred, 0, false);
    }
    // The wait may be long (a rate, a pause): a stop ends it.
    tokio::select! {
        () = shared.pacer.wait() => {}
        () = shared.halted() => {}
    }
    if !shared.may_start() {
        return stopped();
    }
    if let Some(deferred) = shared.outside_hours(call) {
        return result(deferred, 0, false);
    }
    // Nothing is sent that is not recorded first.
    match shared.journal.claim(call, key, shared.retry_unknown).await {
        Ok(Claim::Claimed) => {}
        Ok(Claim::Settled(outcome)) => return result(earlier(outcome), 0, true),
        Err(error) => {
            shared
                .stop
                .set(format!("the journal could not record a request: {error}"));
            let error = format!(
                "not sent: the journal could not record it ({error}); if the journal shows it as sending, it was not sent"
            );
            return result(Outcome::NotSent { error }, 0, false);
        }
    }
    if let Some(slot) = shared.in_hand[index].lock().expect("slot").as_mut() {
        slot.claimed = true;
    }
    let (outcome, attempts) = place(shared, call).await;
    let mut row = result(outcome, attempts, false);
    // A store that cannot record waits for its database, within
    // `journal_outage`; after that the outcome lives only in the results.
    if let Err(error) = shared.journal.finish(call, key, &row.outcome, attempts).await {
        shared
            .stop
            .set(format!("the journal could not record an outcome: {error}"));
        row.journal_error = Some(error);
    }
    row
}

/// An earlier outcome, as this run reports it.
fn earlier(outcome: Outcome) -> Outcome {
    match outcome {
        Outcome::Unknown { error } => Outcome::Unknown {
            error: format!("{error}; not dialled again (a run that retries unknown outcomes would dial it)"),
        },
        other => other,
    }
}

/// Sends the row's request through the client's one retry loop, and
/// returns the outcome and the requests sent. What a request proved is the
/// classifier's, and whether to resend the policy's; what the run does
/// about it (pause everyone, stop everyone) is decided here, in the wait
/// the client is given ([`RowWait`]) and on the final error:
/// - a `429` or a refused connection pauses every worker for the
///   server's `Retry-After` (or the policy's backoff), and the row is sent
///   again after it: never before;
/// - a `Retry-After` longer than the policy waits (`max_retry_after`), or a
///   rejected key (`401`, `403`), stops the run: every other row would
///   meet the same answer, and the rows not sent are left for a rerun;
/// - a stop (or a cancel) while a row waits ends the wait: the row is not
///   sent again, and its last answer (a refusal) is its outcome.
async fn place(shared: &Arc<RunState>, call: &PlannedCall) -> (Outcome, u32) {
    let wait = Arc::new(RowWait {
        shared: shared.clone(),
        resends: AtomicU32::new(0),
    });
    let sent = shared
        .client
        .with_retry_wait(wait.clone())
        .create_call()
        .body(call.request.clone())
        .send()
        .await;
    let attempts = 1 + wait.resends.load(Ordering::SeqCst);
    let error = match sent {
        Ok(call) => {
            let call_id = call.into_inner().call_id;
            return (Outcome::Placed { call_id }, attempts);
        }
        Err(error) => error,
    };
    let verdict = error.verdict();
    let status = error.status().map(|s| s.as_u16());
    match verdict.resend {
        Resend::Throttled => {
            shared.rate_limited.fetch_add(1, Ordering::SeqCst);
            if let Some(wait) = error
                .retry_after()
                .filter(|w| *w > shared.client.retry_policy().max_retry_after)
            {
                shared.stop.set(too_long_a_wait(wait, status));
            }
        }
        Resend::NotWithThisKey => shared.stop.set(format!(
            "the server refused the API key ({}): check SIGMAMIND_API_KEY, and that the key may \
             place calls from this number; every other row would be refused the same way",
            error.status().map_or_else(String::new, |s| s.to_string()),
        )),
        _ => {}
    }
    (outcome_of(&error, verdict.fate), attempts)
}

/// How a row's client waits before resending: every worker pauses (the
/// server asked the run to wait, not one request), the pause ends early on
/// a stop or a cancel (and the row is not resent), and each resend is
/// counted for the journal.
struct RowWait {
    shared: Arc<RunState>,
    resends: AtomicU32,
}

impl RetryWait for RowWait {
    fn wait<'a>(
        &'a self,
        attempt: &'a Attempt,
        delay: Duration,
    ) -> Pin<Box<dyn Future<Output = bool> + Send + 'a>> {
        Box::pin(async move {
            let shared = &self.shared;
            if shared.stop.is_set() || shared.cancel.is_cancelled() {
                return false;
            }
            shared.pacer.pause(delay);
            shared.emit(Event::Paused {
                wait: delay,
                status: attempt.status,
            });
            let resend = tokio::select! {
                () = shared.pacer.wait() => shared.may_start(),
                () = shared.halted() => false,
            };
            if resend {
                // Counted here only when resent: otherwise this attempt's
                // error is the row's, and `place` counts it.
                self.resends.fetch_add(1, Ordering::SeqCst);
                if attempt.resend == Resend::Throttled {
                    shared.rate_limited.fetch_add(1, Ordering::SeqCst);
                }
            }
            resend
        })
    }
}

/// Why a run stopped for a `Retry-After` longer than it waits, with the
/// time a rerun may start.
fn too_long_a_wait(wait: std::time::Duration, status: Option<u16>) -> String {
    let until = chrono::Duration::from_std(wait)
        .ok()
        .and_then(|wait| chrono::Utc::now().checked_add_signed(wait))
        .map_or_else(
            || "a time too far away to name".to_owned(),
            |at| at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        );
    format!(
        "the server ({}) asked every request to wait {}s, longer than this run waits: \
         run it again after {until}",
        status.map_or_else(|| "no status".to_owned(), |s| s.to_string()),
        wait.as_secs()
    )
}

/// A final error's outcome, as the classifier judged it ([`sigmamind::fate`]).
fn outcome_of(error: &Error, fate: Fate) -> Outcome {
    let text = error.to_string();
    match fate {
        // A 2xx whose body could not be read: the call exists.
        Fate::Processed => Outcome::Placed {
            call_id: error.call_id().map(str::to_owned),
        },
        Fate::Refused => Outcome::Refused {
            status: error.status().map(|s| s.as_u16()),
            error: text,
        },
        Fate::NotSent => Outcome::NotSent { error: text },
        _ => Outcome::Unknown { error: text },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Batch, Contact};
    use sigmamind_mock::{Fault, MockServer};

    fn contacts(n: usize) -> Vec<Contact> {
        (0..n)
            .map(|i| Contact::new(format!("+1415555{i:04}")).variable("customer_name", format!("C{i}")))
            .collect()
    }

    /// A run over `list`; its rows sorted by row number.
    async fn go(
        client: &Client,
        batch: &Batch,
        list: &[Contact],
        journal: &Journal,
        options: &Options,
    ) -> (Report, Vec<RowResult>) {
        let mut rows = Vec::new();
        let report = run(
            client,
            batch,
            list.iter().cloned().map(Ok),
            journal,
            options,
            |r| rows.push(r.clone()),
        )
        .await;
        rows.sort_by_key(|r| r.row);
        (report, rows)
    }

    /// One worker: faults pushed on the server meet the rows in order.
    async fn one_at_a_time(
        server: &MockServer,
        batch: &Batch,
        list: &[Contact],
        journal: &Journal,
    ) -> (Report, Vec<RowResult>) {
        go(
            &server.client(),
            batch,
            list,
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
        let batch = Batch::new("+14155552671").unwrap();
        let list = contacts(4);
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(dir.path().join("j"), &batch, server.base_url()).unwrap();
        // In row order with one worker: 422, then a 500, then a lost
        // connection, then a normal answer.
        server.push_fault(Fault::Json(422, serde_json::json!({"error": "bad"})));
        server.push_fault(Fault::Status(500));
        server.push_fault(Fault::DropConnection);
        let (_, rows) = one_at_a_time(&server, &batch, &list, &journal).await;
        let names: Vec<_> = rows.iter().map(|r| r.outcome.name()).collect();
        assert_eq!(names, ["refused", "unknown", "unknown", "placed"]);
        assert_eq!(
            rows[0].outcome,
            Outcome::Refused {
                status: Some(422),
                error: rows[0].outcome.error().unwrap().to_owned(),
            }
        );
        assert!(rows[3].outcome.call_id().unwrap().starts_with("call_"));
        // Each row was sent once: a 500 or a lost connection may have placed it.
        assert_eq!(server.request_count(), 4);
        drop(journal);

        // A rerun retries the failed row only.
        let journal = Journal::open(dir.path().join("j"), &batch, server.base_url()).unwrap();
        let (_, rows) = go(&server.client(), &batch, &list, &journal, &Options::default()).await;
        let names: Vec<_> = rows.iter().map(|r| (r.outcome.name(), r.earlier_run)).collect();
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
        let batch = Batch::new("+14155552671").unwrap();
        let checked = batch.check(list.iter().cloned().map(Ok), |_| {}).unwrap();
        assert_eq!(checked.errors, 1);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j");
        server.push_fault(Fault::Status(503)); // row 1: unknown
        for run_number in 0..3 {
            let journal = Journal::open_again(&path, &batch, server.base_url());
            let (_, rows) = one_at_a_time(&server, &batch, &list, &journal).await;
            assert_eq!(rows[0].outcome.name(), "unknown", "run {run_number}");
            assert_eq!(rows[2].outcome.name(), "invalid", "run {run_number}");
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
        let server = std::sync::Arc::new(MockServer::start().await);
        server.set_latency(std::time::Duration::from_millis(50));
        let batch = Batch::new("+14155552671").unwrap();
        let list = contacts(20);
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(dir.path().join("j"), &batch, server.base_url()).unwrap();
        let cancel = Cancel::new();
        // Requests the server had when the run was cancelled.
        let at_cancel = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(usize::MAX));
        let (seen, watching) = (at_cancel.clone(), server.clone());
        let options = Options::default()
            .concurrency(2)
            .cancel(cancel.clone())
            .on_event(move |event| {
                if let Event::RowDone(result) = event {
                    if result.row == 3 {
                        seen.store(watching.request_count(), std::sync::atomic::Ordering::SeqCst);
                        cancel.cancel();
                    }
                }
            });
        let (report, rows) = go(&server.client(), &batch, &list, &journal, &options).await;
        let counts = report.counts();
        // Rows 1-3 were done when row 3 finished; after it, at most the
        // other worker's request (in flight, or past its last look at the
        // cancel) reached the server, however the two workers were paced.
        let at_cancel = at_cancel.load(std::sync::atomic::Ordering::SeqCst);
        assert!(counts.placed >= 3, "{counts:?}");
        assert!(
            counts.placed <= at_cancel + 1,
            "{counts:?}, {at_cancel} requests at the cancel"
        );
        assert_eq!(counts.placed + counts.not_sent, 20);
        assert_eq!(counts.unknown, 0);
        assert_eq!(server.request_count(), counts.placed);
        assert_eq!(report.stopped.as_deref(), Some("cancelled"));
        let not_sent = rows.iter().find(|r| r.outcome.name() == "not_sent").unwrap();
        assert_eq!(
            not_sent.outcome.error(),
            Some("not sent: the run stopped (cancelled)")
        );
        drop(journal);
        // A rerun dials the rest.
        let journal = Journal::open(dir.path().join("j"), &batch, server.base_url()).unwrap();
        let (report, _) = go(&server.client(), &batch, &list, &journal, &Options::default()).await;
        assert!(report.all_placed());
        assert_eq!(server.request_count(), 20);
    }

    /// A worker that dies (here: an event handler that panics) leaves its
    /// row unknown, never "not sent"; the rows it never took are not sent.
    #[tokio::test]
    async fn a_worker_that_dies_leaves_its_row_unknown() {
        let server = MockServer::start().await;
        let batch = Batch::new("+14155552671").unwrap();
        let list = contacts(4);
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(dir.path().join("j"), &batch, server.base_url()).unwrap();
        let options = Options::default().concurrency(1).on_event(|event| {
            if matches!(event, Event::RowDone(r) if r.row == 2) {
                panic!("a handler bug");
            }
        });
        let (_, rows) = go(&server.client(), &batch, &list, &journal, &options).await;
        let names: Vec<_> = rows.iter().map(|r| r.outcome.name()).collect();
        assert_eq!(names, ["placed", "unknown", "not_sent", "not_sent"]);
        assert_eq!(
            rows[2].outcome.error(),
            Some("not sent: the run stopped (a worker stopped unexpectedly)")
        );
        assert_eq!(server.request_count(), 2);
    }

    #[tokio::test]
    async fn a_refused_connection_is_retried_and_then_not_sent() {
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
        let batch = Batch::new("+14155552671").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(dir.path().join("j"), &batch, "local").unwrap();
        let (_, rows) = go(
            &client,
            &batch,
            &contacts(2),
            &journal,
            &Options::default().max_retries(3),
        )
        .await;
        assert_eq!(rows.len(), 2);
        for row in &rows {
            assert_eq!(row.outcome.name(), "not_sent", "{row:?}");
            assert_eq!(row.attempts, 4);
        }
    }
}
