//! `cargo xtask bench-lawful`: what calling hours and suppression lists
//! cost at campaign scale. A release `sigmamind calls create-batch` dials
//! a generated list against `sigmamind mock serve` (another process, zero
//! latency) twice per round, interleaved: plainly, and with calling hours
//! (every row's zone looked up and its window checked when its turn comes;
//! the window is the whole day, so that every row is dialled whatever the
//! hour the bench runs at) and a suppression list of ten million numbers
//! (one +E.164 number a line; one row in a hundred
//! of the contact list is on it).
//!
//! Goals (issue 28): peak RSS ≤ 128 MB at 1,000,000 rows with the
//! 10,000,000-number list; rows/s with them at least 0.8× the plain run's
//! (medians of the rounds).

use std::io::Write;
use std::path::Path;

use super::bench_campaign::{dial_with, write_list, Server};
use crate::flags::BenchLawful;
use crate::workspace::Workspace;

/// Runs the command.
pub fn run(ws: &Workspace, args: &BenchLawful) -> Result<(), String> {
    let binary = crate::bench::release_cli(ws)?;
    let dir = crate::bench::scratch(ws, "bench-lawful")?;
    let list = dir.join("list.csv");
    let dnc = dir.join("dnc.txt");
    write_list(&list, 0, args.rows)?;
    write_suppression(&dnc, args.suppressed, args.rows)?;
    let dnc_arg = dnc.display().to_string();
    let lawful: Vec<&str> = vec!["--calling-hours", "00:00-24:00", "--suppress", &dnc_arg];
    println!(
        "{} rows, {} numbers on the suppression list, {} in flight",
        args.rows, args.suppressed, args.concurrency
    );
    println!(
        "{:>6} {:>26} {:>10} {:>12} {:>12}",
        "round", "run", "seconds", "rows/s", "peak RSS MB"
    );
    let (mut plain_rates, mut lawful_rates) = (Vec::new(), Vec::new());
    let mut misses = Vec::new();
    for round in 1..=args.rounds {
        for (name, extra) in [("plain", &[][..]), ("hours + suppression", &lawful[..])] {
            let _ = std::fs::remove_file(dir.join("list.csv.journal.jsonl"));
            let _ = std::fs::remove_file(dir.join("list.csv.results.csv"));
            let server = Server::start(&binary)?;
            let (seconds, peak_kb) = dial_with(&binary, &server, &list, args.concurrency, extra)?;
            let rate = args.rows as f64 / seconds;
            println!(
                "{round:>6} {name:>26} {seconds:>10.1} {rate:>12.0} {:>12.1}",
                peak_kb as f64 / 1024.0
            );
            if name == "plain" {
                plain_rates.push(rate);
            } else {
                lawful_rates.push(rate);
                if peak_kb > 128 * 1024 {
                    misses.push(format!("round {round}: peak RSS {} MB > 128 MB", peak_kb / 1024));
                }
            }
        }
    }
    for (round, (plain, lawful)) in plain_rates.iter().zip(&lawful_rates).enumerate() {
        println!("round {}: ratio {:.3}", round + 1, lawful / plain);
    }
    let (plain, lawful) = (
        crate::bench::median_rate(&plain_rates),
        crate::bench::median_rate(&lawful_rates),
    );
    let ratio = lawful / plain;
    println!(
        "median rows/s of {} rounds: {plain:.0} plain, {lawful:.0} with hours and suppression: ratio {ratio:.3} (goal ≥ 0.8)",
        args.rounds
    );
    if ratio < 0.8 {
        misses.push(format!("rows/s fell to {ratio:.3} of the plain run's"));
    }
    let _ = std::fs::remove_dir_all(&dir);
    if misses.is_empty() {
        Ok(())
    } else {
        Err(format!("goals missed: {}", misses.join("; ")))
    }
}

/// `numbers` US numbers in +E.164, one a line: every hundredth row of the
/// contact list (`+1415` and seven digits, see `write_list`) and the rest
/// spread over other area codes, in no order.
fn write_suppression(path: &Path, numbers: usize, rows: usize) -> Result<(), String> {
    let file = std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = std::io::BufWriter::new(file);
    let mut write = || -> std::io::Result<()> {
        let on_list = (0..rows).step_by(100).take(numbers);
        let mut written = 0;
        for i in on_list {
            writeln!(out, "+1415{i:07}")?;
            written += 1;
        }
        // A fixed pseudo-random walk (an LCG): the same list every run.
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        while written < numbers {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let area = 200 + (state >> 33) % 800;
            if area == 415 {
                continue;
            }
            let line = (state >> 10) % 10_000_000;
            writeln!(out, "+1{area}{line:07}")?;
            written += 1;
        }
        out.flush()
    };
    write().map_err(|e| format!("{}: {e}", path.display()))
}
