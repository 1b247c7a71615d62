//! `cargo xtask bench-journal`: what the shared PostgreSQL journal costs
//! against the file journal. Each round, a release `sigmamind calls
//! create-batch` dials one generated list against `sigmamind mock serve`
//! (another process, zero latency, so that the journal is what is
//! measured): with a file journal; with a PostgreSQL journal and one
//! dialer; with three dialers at once splitting the list. The database is a
//! real PostgreSQL server started for the bench (the tests' own, on a Unix
//! socket, `fsync` on), so a round trip is the cheapest there is: over a
//! network, add the round-trip time for every round trip counted here.
//!
//! Printed per run: rows/s (the list's rows over the wall time until the
//! last dialer ended), peak RSS of the largest dialer, and the database's
//! transactions per row (`pg_stat_database.xact_commit`): every statement
//! the journal sends is its own transaction and its own round trip, so
//! this is also round trips per row.

use std::time::Instant;

use super::bench_campaign::{dial_with, write_list, Server};
use crate::flags::BenchJournal;
use crate::workspace::Workspace;

/// Runs the command.
pub fn run(ws: &Workspace, args: &BenchJournal) -> Result<(), String> {
    let binary = crate::bench::release_cli(ws)?;
    let dir = crate::bench::scratch(ws, "bench-journal")?;
    let list = dir.join("list.csv");
    write_list(&list, 0, args.rows)?;
    let pg = sigmamind_test_servers::postgres::Postgres::start();
    println!(
        "{} rows, {} in flight per dialer; PostgreSQL on a Unix socket",
        args.rows, args.concurrency
    );
    println!(
        "{:>6} {:>22} {:>10} {:>10} {:>12} {:>12}",
        "round", "journal", "seconds", "rows/s", "peak RSS MB", "xact/row"
    );
    let runs = ["file", "postgres, 1 dialer", "postgres, 3 dialers"];
    let mut rates: Vec<Vec<f64>> = vec![Vec::new(); runs.len()];
    for round in 1..=args.rounds {
        for (which, name) in runs.iter().enumerate() {
            let _ = std::fs::remove_file(dir.join("list.csv.journal.jsonl"));
            let server = Server::start(&binary)?;
            let dialers = if which == 2 { 3 } else { 1 };
            let campaign = format!("bench-{round}-{which}");
            let before = commits(&pg)?;
            let started = Instant::now();
            let peaks = std::thread::scope(|scope| {
                let handles: Vec<_> = (0..dialers)
                    .map(|n| {
                        let (binary, server, list, pg) = (&binary, &server, &list, &pg);
                        let campaign = campaign.clone();
                        let results = dir.join(format!("results-{n}.csv")).display().to_string();
                        scope.spawn(move || {
                            let url = pg.url();
                            let mut extra = vec!["--results", &results, "--overwrite-results"];
                            if which > 0 {
                                extra.extend(["--journal", &url, "--campaign", &campaign]);
                            }
                            dial_with(binary, server, list, args.concurrency, &extra).map(|(_, peak)| peak)
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().expect("a dialer's thread"))
                    .collect::<Result<Vec<u64>, String>>()
            })?;
            let seconds = started.elapsed().as_secs_f64();
            let transactions = commits(&pg)? - before;
            let rate = args.rows as f64 / seconds;
            rates[which].push(rate);
            let peak_kb = peaks.into_iter().max().unwrap_or(0);
            let per_row = if which == 0 {
                "-".to_owned()
            } else {
                format!("{:.2}", transactions as f64 / args.rows as f64)
            };
            println!(
                "{round:>6} {name:>22} {seconds:>10.1} {rate:>10.0} {:>12.1} {per_row:>12}",
                peak_kb as f64 / 1024.0
            );
            placed_once(&pg, &campaign, args.rows, which)?;
        }
    }
    let file = crate::bench::median_rate(&rates[0]);
    for (which, name) in runs.iter().enumerate() {
        let rate = crate::bench::median_rate(&rates[which]);
        println!(
            "median of {} rounds: {name}: {rate:.0} rows/s ({:.3}× the file journal)",
            args.rounds,
            rate / file
        );
    }
    drop(pg);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// Transactions the database has committed so far.
fn commits(pg: &sigmamind_test_servers::postgres::Postgres) -> Result<u64, String> {
    // The statistics of sessions that ended are flushed when they end; the
    // dialers' have all ended when this is read after a run.
    let rows = pg.sql("SELECT sum(xact_commit) FROM pg_stat_database");
    rows.first()
        .and_then(|n| n.trim().parse().ok())
        .ok_or_else(|| format!("pg_stat_database said {rows:?}"))
}

/// The run placed every row once (a bench that dialled some rows twice, or
/// none, would measure something else).
fn placed_once(
    pg: &sigmamind_test_servers::postgres::Postgres,
    campaign: &str,
    rows: usize,
    which: usize,
) -> Result<(), String> {
    if which == 0 {
        return Ok(());
    }
    let placed = pg.sql(&format!(
        "SELECT count(*) FROM sigmamind_calls JOIN sigmamind_campaigns USING (campaign_id) \
         WHERE name = '{campaign}' AND state = 'placed'"
    ));
    if placed.first().map(String::as_str) == Some(&rows.to_string()) {
        Ok(())
    } else {
        Err(format!("campaign {campaign}: {placed:?} rows placed of {rows}"))
    }
}
