//! Suppression lists against the local server (which counts every call,
//! per number): a row on any list never reaches it, formatted entries
//! match normalised contacts, and a list added before a rerun protects
//! the rows that rerun would dial.

use std::sync::Arc;

use sigmamind_dialler::{
    self as batch, Batch, Cancel, Contact, Event, Journal, Options, Outcome, RowResult, Suppression,
};
use sigmamind_mock::MockServer;

/// A CRM's export, as people write numbers.
fn list() -> Vec<Contact> {
    [
        "(415) 555-0101",
        "415.555.0102",
        "+1 415 555 0103",
        "'+14155550104",
        "(415) 555-0105",
        "00 44 20 7946 0958",
    ]
    .iter()
    .map(|phone| Contact::new(*phone))
    .collect()
}

fn sent(server: &MockServer) -> Vec<String> {
    let mut phones: Vec<String> = server
        .placed_calls()
        .iter()
        .map(|c| c.to_phone_number().unwrap().to_owned())
        .collect();
    phones.sort();
    phones
}

async fn go(server: &MockServer, batch: &Batch, journal: &Journal, options: &Options) -> Vec<RowResult> {
    let mut rows = Vec::new();
    batch::run(
        &server.client(),
        batch,
        list().into_iter().map(Ok),
        journal,
        options,
        |row| rows.push(row.clone()),
    )
    .await;
    rows.sort_by_key(|r| r.row);
    rows
}

#[tokio::test]
async fn rows_on_a_list_never_reach_the_server() {
    let server = MockServer::start().await;
    let mut lists = Suppression::in_region("US").unwrap();
    lists
        .read_list("dnc.txt", "4155550102\n\n1 (415) 555-0104\n".as_bytes(), "phone")
        .unwrap();
    lists
        .read_list(
            "opt-outs.csv",
            "name,phone\nDi,+44 20 7946 0958\n".as_bytes(),
            "phone",
        )
        .unwrap();
    let batch = Batch::new("+14155552671")
        .unwrap()
        .region("US")
        .unwrap()
        .suppress(Arc::new(lists));
    let checked = batch
        .check(list().into_iter().map(Ok), |e| panic!("{e}"))
        .unwrap();
    assert_eq!((checked.valid, checked.suppressed), (3, 3));
    let dir = tempfile::tempdir().unwrap();
    let journal = Journal::open(dir.path().join("j"), &batch, server.base_url()).unwrap();
    let rows = go(&server, &batch, &journal, &Options::default()).await;
    assert_eq!(sent(&server), ["+14155550101", "+14155550103", "+14155550105"]);
    let outcomes: Vec<(&str, &str, Option<&str>)> = rows
        .iter()
        .map(|r| (r.phone.as_str(), r.outcome.name(), r.given_phone.as_deref()))
        .collect();
    assert_eq!(
        outcomes,
        [
            ("+14155550101", "placed", Some("(415) 555-0101")),
            ("+14155550102", "suppressed", Some("415.555.0102")),
            ("+14155550103", "placed", Some("+1 415 555 0103")),
            ("+14155550104", "suppressed", Some("'+14155550104")),
            ("+14155550105", "placed", Some("(415) 555-0105")),
            ("+442079460958", "suppressed", Some("00 44 20 7946 0958")),
        ]
    );
    assert_eq!(
        rows[1].outcome,
        Outcome::Suppressed {
            list: "dnc.txt".into()
        }
    );
    assert_eq!(
        rows[5].outcome,
        Outcome::Suppressed {
            list: "opt-outs.csv".into()
        }
    );
    assert_eq!(rows[1].attempts, 0);
}

#[tokio::test]
async fn a_list_added_before_a_rerun_protects_it() {
    let server = MockServer::start().await;
    let plain = Batch::new("+14155552671").unwrap().region("US").unwrap();
    let dir = tempfile::tempdir().unwrap();
    // The first run is stopped after its first call.
    let cancel = Cancel::new();
    let options = Options::default()
        .concurrency(1)
        .cancel(cancel.clone())
        .on_event(move |event| {
            if matches!(event, Event::RowDone(_)) {
                cancel.cancel();
            }
        });
    let journal = Journal::open(dir.path().join("j"), &plain, server.base_url()).unwrap();
    go(&server, &plain, &journal, &options).await;
    assert_eq!(sent(&server), ["+14155550101"]);
    drop(journal);
    // Then two people opt out, one of them already called; the rerun
    // dials the rest, never them.
    let mut lists = Suppression::in_region("US").unwrap();
    lists
        .read_list(
            "opt-outs.txt",
            "(415) 555-0101\n415-555-0103\n".as_bytes(),
            "phone",
        )
        .unwrap();
    let batch = plain.suppress(Arc::new(lists));
    let journal = Journal::open(dir.path().join("j"), &batch, server.base_url()).unwrap();
    let rows = go(&server, &batch, &journal, &Options::default()).await;
    assert_eq!(
        sent(&server),
        [
            "+14155550101",
            "+14155550102",
            "+14155550104",
            "+14155550105",
            "+442079460958"
        ]
    );
    // The one already called says so (the list came too late for it).
    let names: Vec<(&str, bool)> = rows.iter().map(|r| (r.outcome.name(), r.earlier_run)).collect();
    assert_eq!(
        names,
        [
            ("placed", true),
            ("placed", false),
            ("suppressed", false),
            ("placed", false),
            ("placed", false),
            ("placed", false)
        ]
    );
}
