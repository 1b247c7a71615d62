//! Calling hours in each callee's local time, with an injected clock (no
//! test waits for a real hour): which rows a run dials at chosen instants,
//! daylight saving time, a row's own zone, a row with no zone, and a run
//! that waits for deferred rows (the clock moved by the test). Calls are
//! counted by the local server, per number.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use sigmamind_dialler::{
    self as batch, Batch, CallingHours, Clock, Contact, Journal, Options, Outcome, RowResult,
};
use sigmamind_mock::MockServer;

/// A clock the test sets; sleepers wake when it passes their time.
#[derive(Default)]
struct TestClock {
    now: Mutex<Option<DateTime<Utc>>>,
    moved: tokio::sync::Notify,
    sleepers: AtomicUsize,
    /// Sleeps begun, in all.
    waits: AtomicUsize,
}

impl TestClock {
    fn at(text: &str) -> Arc<Self> {
        let clock = Arc::new(Self::default());
        clock.set(text);
        clock
    }

    fn set(&self, text: &str) {
        *self.now.lock().unwrap() = Some(text.parse().unwrap());
        self.moved.notify_waiters();
    }
}

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        self.now.lock().unwrap().expect("set")
    }

    fn sleep_until(&self, at: DateTime<Utc>) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(async move {
            self.waits.fetch_add(1, Ordering::SeqCst);
            loop {
                let moved = self.moved.notified();
                tokio::pin!(moved);
                moved.as_mut().enable();
                if self.now() >= at {
                    return;
                }
                self.sleepers.fetch_add(1, Ordering::SeqCst);
                moved.await;
                self.sleepers.fetch_sub(1, Ordering::SeqCst);
            }
        })
    }
}

/// New York, Chicago, Denver, Los Angeles, Honolulu, London and Tokyo.
const CITIES: [(&str, &str); 7] = [
    ("new_york", "+12125550101"),
    ("chicago", "+13125550102"),
    ("denver", "+13035550103"),
    ("los_angeles", "+14155550104"),
    ("honolulu", "+18085550105"),
    ("london", "+442079460958"),
    ("tokyo", "+81312345678"),
];

fn list() -> Vec<Contact> {
    CITIES
        .iter()
        .map(|(city, phone)| Contact::new(*phone).variable("city", *city))
        .collect()
}

/// One run at `now`: each row's outcome by city, and the calls the
/// server saw, by number.
async fn dial_at(
    server: &MockServer,
    batch: &Batch,
    list: Vec<Contact>,
    now: &str,
) -> HashMap<String, RowResult> {
    let dir = tempfile::tempdir().unwrap();
    let journal = Journal::open(dir.path().join("j"), batch, server.base_url()).unwrap();
    let options = Options::default().clock(TestClock::at(now));
    let mut rows = HashMap::new();
    let cities: Vec<String> = list.iter().map(|c| c.variables["city"].clone()).collect();
    batch::run(
        &server.client(),
        batch,
        list.into_iter().map(Ok),
        &journal,
        &options,
        |row| {
            rows.insert(cities[row.row - 1].clone(), row.clone());
        },
    )
    .await;
    rows
}

fn dialled(rows: &HashMap<String, RowResult>) -> Vec<&str> {
    let mut cities: Vec<&str> = rows
        .iter()
        .filter(|(_, row)| row.outcome.name() == "placed")
        .map(|(city, _)| city.as_str())
        .collect();
    cities.sort();
    cities
}

fn sent_to(server: &MockServer) -> Vec<String> {
    let mut phones: Vec<String> = server
        .placed_calls()
        .iter()
        .map(|c| c.to_phone_number().unwrap().to_owned())
        .collect();
    phones.sort();
    phones
}

#[tokio::test]
async fn each_row_is_dialled_only_inside_its_own_hours() {
    let batch = Batch::new("+14155552671")
        .unwrap()
        .calling_hours(CallingHours::default());
    // (UTC instant, the cities inside 08:00-21:00 then), in December.
    let cases = [
        // 09:00 New York, 04:00 Honolulu, 14:00 London, 23:00 Tokyo.
        ("2026-12-03T14:00:00Z", vec!["chicago", "london", "new_york"]),
        // 13:00 New York, 08:00 Honolulu, 18:00 London, 03:00 Tokyo; 10:00 Los Angeles, 11:00 Denver.
        (
            "2026-12-03T18:00:00Z",
            vec![
                "chicago",
                "denver",
                "honolulu",
                "london",
                "los_angeles",
                "new_york",
            ],
        ),
        // 00:30 London, 09:30 Tokyo, 19:30 New York, 14:30 Honolulu.
        (
            "2026-12-04T00:30:00Z",
            vec![
                "chicago",
                "denver",
                "honolulu",
                "los_angeles",
                "new_york",
                "tokyo",
            ],
        ),
        // 03:00 New York, 22:00 Honolulu (yesterday), 12:00 Tokyo.
        ("2026-12-04T08:00:00Z", vec!["london", "tokyo"]),
    ];
    for (now, inside) in cases {
        let server = MockServer::start().await;
        let rows = dial_at(&server, &batch, list(), now).await;
        assert_eq!(dialled(&rows), inside, "at {now}");
        assert_eq!(server.placed_calls().len(), inside.len(), "at {now}");
        for (city, row) in &rows {
            if !inside.contains(&city.as_str()) {
                let Outcome::Deferred { opens, error } = &row.outcome else {
                    panic!("{city} at {now}: {row:?}")
                };
                let opens = opens.expect("every city's hours open within a day");
                assert!(opens > now.parse::<DateTime<Utc>>().unwrap(), "{city} at {now}");
                assert!(error.contains("08:00-21:00"), "{error}");
                assert_eq!(row.attempts, 0);
            }
        }
    }
}

#[tokio::test]
async fn a_number_spanning_two_zones_waits_for_both() {
    // Idaho's 208-2xx spans Boise (Mountain) and Los Angeles (Pacific):
    // 08:00 in Boise is 07:00 in Los Angeles.
    let batch = Batch::new("+14155552671")
        .unwrap()
        .calling_hours(CallingHours::default());
    assert_eq!(
        batch::zones_of("+12082995555").map(|z| z.len()),
        Some(2),
        "the map's two zones for 208-2"
    );
    let list = || vec![Contact::new("+12082995555").variable("city", "idaho")];
    let server = MockServer::start().await;
    // 15:30 UTC: 08:30 in Boise, 07:30 in Los Angeles.
    let rows = dial_at(&server, &batch, list(), "2026-12-03T15:30:00Z").await;
    let Outcome::Deferred { opens, .. } = &rows["idaho"].outcome else {
        panic!("{:?}", rows["idaho"])
    };
    assert_eq!(*opens, Some("2026-12-03T16:00:00Z".parse().unwrap()));
    assert!(server.placed_calls().is_empty());
    let rows = dial_at(&server, &batch, list(), "2026-12-03T16:00:00Z").await;
    assert_eq!(rows["idaho"].outcome.name(), "placed");
}

#[tokio::test]
async fn daylight_saving_time_moves_the_hours() {
    let batch = Batch::new("+14155552671")
        .unwrap()
        .calling_hours(CallingHours::default());
    let list = || vec![Contact::new("+12125550101").variable("city", "new_york")];
    // 12:30 UTC is 07:30 in New York on Saturday 7 March 2026 (EST), and
    // 08:30 on Monday 9 March (EDT: DST began on the 8th).
    let server = MockServer::start().await;
    let before = dial_at(&server, &batch, list(), "2026-03-07T12:30:00Z").await;
    assert_eq!(before["new_york"].outcome.name(), "deferred");
    let after = dial_at(&server, &batch, list(), "2026-03-09T12:30:00Z").await;
    assert_eq!(after["new_york"].outcome.name(), "placed");
    assert_eq!(sent_to(&server), ["+12125550101"]);
}

#[tokio::test]
async fn a_rows_own_zone_overrides_and_a_row_with_none_is_held() {
    let hours = CallingHours::default();
    let batch = Batch::new("+14155552671").unwrap().calling_hours(hours);
    // A New York number whose callee lives in Tokyo (the list says so), and
    // a number libphonenumber maps to no zone (+800, international freephone).
    let list = || {
        vec![
            Contact::new("+12125550101")
                .variable("city", "moved")
                .timezone("Asia/Tokyo"),
            Contact::new("+80012345678").variable("city", "nowhere"),
        ]
    };
    let mut errors = Vec::new();
    batch
        .check(list().into_iter().map(Ok), |e| errors.push(e.to_string()))
        .unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with("Row 2: no time zone is known"),
        "{errors:?}"
    );
    let server = MockServer::start().await;
    // 14:00 UTC: 09:00 in New York, 23:00 in Tokyo.
    let rows = dial_at(&server, &batch, list(), "2026-12-03T14:00:00Z").await;
    assert_eq!(rows["moved"].outcome.name(), "deferred");
    assert_eq!(rows["nowhere"].outcome.name(), "invalid");
    assert!(server.placed_calls().is_empty());
    // 00:00 UTC: 09:00 in Tokyo; with a fallback zone the +800 row is dialled too.
    let batch = Batch::new("+14155552671")
        .unwrap()
        .calling_hours(hours.fallback_zone(chrono_tz::Asia::Tokyo));
    let rows = dial_at(&server, &batch, list(), "2026-12-04T00:00:00Z").await;
    assert_eq!(dialled(&rows), ["moved", "nowhere"]);
    assert_eq!(sent_to(&server), ["+12125550101", "+80012345678"]);
}

/// `run_waiting` over [`list`] on a task of its own: its report and every
/// row it reported.
fn waiting_run(
    server: &MockServer,
    batch: &Batch,
    journal: &Journal,
    options: &Options,
) -> tokio::task::JoinHandle<(sigmamind_dialler::Report, Vec<RowResult>)> {
    let (client, batch, journal, options) =
        (server.client(), batch.clone(), journal.clone(), options.clone());
    tokio::spawn(async move {
        let mut rows = Vec::new();
        let report = batch::run_waiting(
            &client,
            &batch,
            || list().into_iter().map(Ok),
            &journal,
            &options,
            |row| rows.push(row.clone()),
        )
        .await;
        (report, rows)
    })
}

/// `run_waiting`: rows inside their hours first, then the others when
/// their hours open, each exactly once; every row reported once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_run_dials_deferred_rows_when_their_hours_open() {
    let server = MockServer::start().await;
    let batch = Batch::new("+14155552671")
        .unwrap()
        .calling_hours(CallingHours::default());
    let dir = tempfile::tempdir().unwrap();
    let journal = Journal::open(dir.path().join("j"), &batch, server.base_url()).unwrap();
    // 14:00 UTC: New York, Chicago and London inside; Denver opens at
    // 15:00, Los Angeles 16:00, Honolulu 18:00, Tokyo 23:00.
    let clock = TestClock::at("2026-12-03T14:00:00Z");
    let options = Options::default().clock(clock.clone());
    let run = waiting_run(&server, &batch, &journal, &options);
    // The run's `n`th wait has begun (the rows it could dial were dialled).
    let waiting = |n: usize| {
        let clock = clock.clone();
        async move {
            for _ in 0..3000 {
                if clock.waits.load(Ordering::SeqCst) >= n && clock.sleepers.load(Ordering::SeqCst) > 0 {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            panic!("the run never began wait {n}");
        }
    };
    waiting(1).await;
    assert_eq!(server.placed_calls().len(), 3);
    let expect = [
        ("2026-12-03T15:00:00Z", 4),
        ("2026-12-03T16:00:00Z", 5),
        ("2026-12-03T18:00:00Z", 6),
    ];
    for (n, (at, placed)) in expect.into_iter().enumerate() {
        clock.set(at);
        waiting(n + 2).await;
        assert_eq!(server.placed_calls().len(), placed, "at {at}");
    }
    clock.set("2026-12-03T23:00:00Z");
    let (report, rows) = tokio::time::timeout(Duration::from_secs(30), run)
        .await
        .expect("the run ends once every row is dialled")
        .unwrap();
    assert_eq!(report.counts().placed, 7, "{report:?}");
    assert_eq!(report.counts().deferred, 0);
    assert!(report.next_window.is_none());
    assert_eq!(rows.len(), 7, "every row reported once: {rows:?}");
    let mut phones: Vec<String> = CITIES.iter().map(|(_, p)| p.to_string()).collect();
    phones.sort();
    assert_eq!(sent_to(&server), phones, "each number dialled once");
}

/// A waiting run that is cancelled while it waits reports the rows still
/// waiting as deferred, once, with when they open; a rerun dials them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_run_cancelled_reports_what_still_waits() {
    let server = MockServer::start().await;
    let batch = Batch::new("+14155552671")
        .unwrap()
        .calling_hours(CallingHours::default());
    let dir = tempfile::tempdir().unwrap();
    let journal = Journal::open(dir.path().join("j"), &batch, server.base_url()).unwrap();
    let clock = TestClock::at("2026-12-03T14:00:00Z");
    let cancel = batch::Cancel::new();
    let options = Options::default().clock(clock.clone()).cancel(cancel.clone());
    let run = waiting_run(&server, &batch, &journal, &options);
    for _ in 0..3000 {
        if clock.sleepers.load(Ordering::SeqCst) > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    cancel.cancel();
    let (report, rows) = tokio::time::timeout(Duration::from_secs(30), run)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(report.counts().placed, 3);
    assert_eq!(report.counts().deferred, 4);
    assert_eq!(report.stopped.as_deref(), Some("cancelled"));
    assert_eq!(report.next_window, Some("2026-12-03T15:00:00Z".parse().unwrap()));
    assert_eq!(rows.len(), 7);
    let deferred: Vec<&RowResult> = rows.iter().filter(|r| r.outcome.name() == "deferred").collect();
    assert!(deferred
        .iter()
        .all(|r| r.attempts == 0 && r.outcome.error().unwrap().contains("open at")));
    assert_eq!(server.placed_calls().len(), 3);
    // The next run, at 23:00, dials the four (the journal skips the three).
    let options = Options::default().clock(TestClock::at("2026-12-03T23:00:00Z"));
    let mut again = Vec::new();
    let report = batch::run(
        &server.client(),
        &batch,
        list().into_iter().map(Ok),
        &journal,
        &options,
        |r| again.push(r.clone()),
    )
    .await;
    assert_eq!(
        (report.counts().placed, report.counts().placed_earlier),
        (4, 3),
        "{again:#?} {:?}",
        sent_to(&server)
    );
    assert_eq!(server.placed_calls().len(), 7);
}
