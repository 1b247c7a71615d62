//! Dial a contact list from code: every row checked before anything is
//! sent, a journal that makes a rerun safe, and the second run dialling
//! nobody again. Against the local server (nothing is dialled).
//!
//! ```sh
//! cargo run -p sigmamind-dialler --example dial_a_list
//! ```

use sigmamind::ClientInfo; // baseurl()
use sigmamind_dialler::{run, Batch, Contact, Journal, Options};
use sigmamind_mock::MockServer;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = MockServer::start().await;
    let client = server.client();
    let contacts = || {
        vec![
            Contact::new("+14155550101").variable("customer_name", "Michael"),
            Contact::new("(415) 555-0102").variable("customer_name", "Ann"),
            Contact::new("+14155550103").variable("customer_name", ""),
        ]
    };
    let batch = Batch::new("+14155552671")?.require(["customer_name"]);
    let checked = batch.check(contacts().into_iter().map(Ok), |error| {
        println!("refused before sending: {error}")
    })?;
    println!("{} of {} rows may be dialled", checked.valid, checked.rows);

    let dir = std::env::temp_dir().join(format!("dial_a_list-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    for attempt in ["first run", "rerun"] {
        let journal = Journal::open(dir.join("journal.jsonl"), &batch, client.baseurl())?;
        let report = run(
            &client,
            &batch,
            contacts().into_iter().map(Ok),
            &journal,
            &Options::default(),
            |row| {
                println!("  row {} {}: {}", row.row, row.phone, row.outcome.name());
            },
        )
        .await;
        println!("{attempt}: {:?}", report.counts());
    }
    // One request per valid row, over both runs.
    assert_eq!(server.requests().len(), checked.valid);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
