//! The journal's contract (module docs of `journal`), as one suite that
//! every store runs: a new store adds one test at the end of this file.
//!
//! Each case opens the journal, acts as a run would, and opens it again as
//! a rerun (or another dialer) would see it: a file is reopened from its
//! path, the database through a new connection, memory through a clone.

use std::future::Future;

use super::{Claim, Journal};
use crate::{numbers, Batch, Options, Outcome, PlannedCall};

pub(super) fn batch() -> Batch {
    Batch::new("+14155552671").unwrap()
}

pub(super) fn call(row: usize, phone: &str) -> (PlannedCall, u64) {
    let request = sigmamind::types::CreateCallRequest::try_from(
        sigmamind::types::CreateCallRequest::builder()
            .from_phone_number("+14155552671")
            .to_phone_number(phone),
    )
    .unwrap();
    let planned = PlannedCall {
        row,
        phone: phone.to_owned(),
        given_phone: phone.to_owned(),
        zones: crate::plan::Zones::None,
        request,
    };
    (planned, numbers::key(phone).unwrap())
}

async fn claimed(journal: &Journal, row: usize, phone: &str, retry_unknown: bool) -> Result<(), Outcome> {
    let (call, key) = call(row, phone);
    match journal.claim(&call, key, retry_unknown).await.unwrap() {
        Claim::Claimed => Ok(()),
        Claim::Settled(outcome) => Err(outcome),
    }
}

async fn finish(journal: &Journal, row: usize, phone: &str, outcome: Outcome) {
    let (call, key) = call(row, phone);
    journal.finish(&call, key, &outcome, 1).await.unwrap();
}

/// Runs every case against a store: `open` opens the same journal again,
/// as a rerun would (the journal before it is dropped first).
pub(super) async fn keeps_the_contract<F, O>(open: O)
where
    O: Fn() -> F,
    F: Future<Output = Journal>,
{
    let journal = open().await;
    journal.begin_run(&Options::default()).await.unwrap();
    // A number is claimed once, and its outcome recorded after.
    assert_eq!(claimed(&journal, 1, "+14155550101", false).await, Ok(()));
    finish(
        &journal,
        1,
        "+14155550101",
        Outcome::Placed {
            call_id: Some("call_1".into()),
        },
    )
    .await;
    assert_eq!(claimed(&journal, 2, "+14155550102", false).await, Ok(()));
    finish(
        &journal,
        2,
        "+14155550102",
        Outcome::Unknown {
            error: "timed out".into(),
        },
    )
    .await;
    assert_eq!(claimed(&journal, 3, "+14155550103", false).await, Ok(()));
    finish(
        &journal,
        3,
        "+14155550103",
        Outcome::Refused {
            status: Some(422),
            error: "no".into(),
        },
    )
    .await;
    assert_eq!(claimed(&journal, 4, "+14155550104", false).await, Ok(()));
    finish(
        &journal,
        4,
        "+14155550104",
        Outcome::NotSent {
            error: "stopped".into(),
        },
    )
    .await;
    // Claimed, and the run stopped before its outcome was recorded.
    assert_eq!(claimed(&journal, 5, "+14155550105", false).await, Ok(()));
    // A call id longer than any real one, multi-byte: kept clipped, whole characters.
    let long_id = "é".repeat(5000);
    assert_eq!(claimed(&journal, 6, "+14155550106", false).await, Ok(()));
    finish(
        &journal,
        6,
        "+14155550106",
        Outcome::Placed {
            call_id: Some(long_id),
        },
    )
    .await;
    journal.end_run().await;
    // A second run through the same journal, in the same process, knows
    // what the first recorded: nothing placed or unknown is claimed again.
    journal.begin_run(&Options::default()).await.unwrap();
    for phone in ["+14155550101", "+14155550102", "+14155550105", "+14155550106"] {
        let again = claimed(&journal, 1, phone, false).await;
        assert!(
            matches!(
                again,
                Err(Outcome::Placed { .. } | Outcome::Unknown { .. } | Outcome::Elsewhere { .. })
            ),
            "{phone}: {again:?}"
        );
    }
    journal.end_run().await;
    drop(journal);

    let rerun = open().await;
    rerun.begin_run(&Options::default()).await.unwrap();
    // Placed: never claimed again, and its call id comes back.
    let placed = claimed(&rerun, 1, "+14155550101", false).await;
    assert_eq!(
        placed,
        Err(Outcome::Placed {
            call_id: Some("call_1".into())
        })
    );
    let (_, key) = call(1, "+14155550101");
    assert!(matches!(
        rerun.settled(key, true).await.unwrap(),
        Some(Outcome::Placed { .. })
    ));
    // Unknown: claimed again only by a run that retries unknown outcomes.
    assert!(matches!(
        claimed(&rerun, 2, "+14155550102", false).await,
        Err(Outcome::Unknown { .. })
    ));
    // Refused by the server, or never sent: not placed, dialled again.
    assert_eq!(claimed(&rerun, 3, "+14155550103", false).await, Ok(()));
    assert_eq!(claimed(&rerun, 4, "+14155550104", false).await, Ok(()));
    // Claimed without an outcome: it may have been placed; never dialled
    // again without being told.
    let unfinished = claimed(&rerun, 5, "+14155550105", false).await;
    assert!(
        matches!(
            unfinished,
            Err(Outcome::Unknown { .. } | Outcome::Elsewhere { .. })
        ),
        "{unfinished:?}"
    );
    // The long call id: clipped at a character boundary, at most 1 KiB,
    // and read back as it was kept (the same in every store).
    match claimed(&rerun, 6, "+14155550106", false).await {
        Err(Outcome::Placed { call_id: Some(id) }) => {
            assert!(id.len() <= 1024, "{} bytes", id.len());
            assert_eq!(id, sigmamind::text::clip_within(&"é".repeat(5000), 1024));
        }
        other => panic!("{other:?}"),
    }
    // Rows are keyed by number: the same number at another row is the same.
    assert!(claimed(&rerun, 99, "+14155550101", false).await.is_err());
    rerun.end_run().await;
    drop(rerun);

    let retrying = open().await;
    retrying
        .begin_run(&Options::default().retry_unknown(true))
        .await
        .unwrap();
    assert_eq!(claimed(&retrying, 2, "+14155550102", true).await, Ok(()));
    assert!(
        claimed(&retrying, 1, "+14155550101", true).await.is_err(),
        "placed stays placed"
    );
    retrying.end_run().await;
}

#[tokio::test]
async fn the_file_store_keeps_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.jsonl");
    keeps_the_contract(|| {
        let path = path.clone();
        async move { Journal::open_again(&path, &batch(), "http://api") }
    })
    .await;
    // What opening found: every run begun (the first open began two), the
    // six numbers, and the file's complete records.
    let opened = Journal::open_again(&path, &batch(), "http://api");
    let recovered = opened.recovered();
    assert_eq!((recovered.runs, recovered.numbers), (4, 6), "{recovered:?}");
    let file = recovered.file.as_ref().expect("a file journal reads a file");
    assert_eq!(file.torn_bytes, 0);
    assert!(file.records > 6, "{file:?}");
}

#[tokio::test]
async fn the_memory_store_keeps_the_contract() {
    let journal = Journal::in_memory(&batch(), "http://api");
    keeps_the_contract(|| {
        let journal = journal.clone();
        async move { journal }
    })
    .await;
}

#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_postgres_store_keeps_the_contract() {
    let pg = tokio::task::spawn_blocking(sigmamind_test_servers::postgres::Postgres::start)
        .await
        .unwrap();
    let url = pg.url();
    keeps_the_contract(|| {
        let url = url.clone();
        async move {
            Journal::postgres(&url, "contract", &batch(), "http://api")
                .await
                .unwrap()
        }
    })
    .await;
    // What joining the campaign found: a run per dialer that joined before
    // (three), the six numbers, and no file.
    let opened = Journal::postgres(&url, "contract", &batch(), "http://api")
        .await
        .unwrap();
    let recovered = opened.recovered();
    assert_eq!((recovered.runs, recovered.numbers), (3, 6), "{recovered:?}");
    assert_eq!(recovered.file, None);
}
