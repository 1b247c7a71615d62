//! `cargo xtask bench-campaign`: the batch dialler at campaign scale. A
//! release `sigmamind calls create-batch` dials generated lists against
//! `sigmamind mock serve` running in another process with zero latency, so
//! that the dialler's peak memory is its own (measured by the operating
//! system through GNU `time`); then resumes each fully placed journal,
//! which skips every row. Then a soak of `mock serve`: its resident memory
//! after the first 10,000 requests and after all of them.
//!
//! Goals (issue 22): dialler peak RSS ≤ 128 MB at 1,000,000 rows, fresh and
//! resuming; rows per second at 1,000,000 within 10% of 100,000; `mock
//! serve` RSS at the end within 2× of its RSS after 10,000 requests. The
//! command prints the figures and says which goal a figure misses.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use crate::flags::BenchCampaign;
use crate::workspace::Workspace;

/// Runs the command.
pub fn run(ws: &Workspace, args: &BenchCampaign) -> Result<(), String> {
    let binary = crate::bench::release_cli(ws)?;
    let dir = crate::bench::scratch(ws, "bench-campaign")?;
    println!(
        "{:>10} {:>8} {:>10} {:>12} {:>12} {:>12}",
        "rows", "run", "seconds", "rows/s", "peak RSS MB", "bytes/row"
    );
    // Rounds interleave the sizes, so that a slower spell of the machine
    // hits both; the medians are compared.
    let mut speeds: Vec<Vec<f64>> = vec![Vec::new(); args.rows.len()];
    let mut misses = Vec::new();
    for round in 1..=args.rounds {
        for (size, &rows) in args.rows.iter().enumerate() {
            let list = dir.join(format!("list-{rows}.csv"));
            if round == 1 {
                write_list(&list, 0, rows)?;
            }
            let _ = std::fs::remove_file(dir.join(format!("list-{rows}.csv.journal.jsonl")));
            let server = Server::start(&binary)?;
            for run in ["fresh", "resume"] {
                let (seconds, peak_kb) = dial(&binary, &server, &list, args.concurrency)?;
                let rate = rows as f64 / seconds;
                println!(
                    "{rows:>10} {run:>8} {seconds:>10.1} {rate:>12.0} {:>12.1} {:>12.0}",
                    peak_kb as f64 / 1024.0,
                    peak_kb as f64 * 1024.0 / rows as f64
                );
                if peak_kb > 128 * 1024 && rows >= 1_000_000 {
                    misses.push(format!(
                        "{rows} rows, {run}: peak RSS {} MB > 128 MB",
                        peak_kb / 1024
                    ));
                }
                if run == "fresh" {
                    speeds[size].push(rate);
                }
            }
        }
    }
    let median = |rates: &[f64]| {
        let mut sorted = rates.to_vec();
        sorted.sort_by(f64::total_cmp);
        sorted.get(sorted.len() / 2).copied().unwrap_or(0.0)
    };
    if args.rows.len() > 1 {
        let (small, large) = (median(&speeds[0]), median(&speeds[args.rows.len() - 1]));
        let ratio = large / small;
        println!(
            "median rows/s of {} rounds: {small:.0} at {} rows, {large:.0} at {} rows: ratio {ratio:.3} (goal ≥ 0.9)",
            args.rounds,
            args.rows[0],
            args.rows[args.rows.len() - 1]
        );
        if ratio < 0.9 {
            misses.push(format!("rows/s fell to {ratio:.3} of the smaller list's"));
        }
    }

    // The soak: one mock serve, 10,000 requests, then the rest.
    let server = Server::start(&binary)?;
    let first = dir.join("soak-first.csv");
    let rest = dir.join("soak-rest.csv");
    let warm = 10_000.min(args.soak);
    write_list(&first, 5_000_000, warm)?;
    write_list(&rest, 5_000_000 + warm, args.soak - warm)?;
    dial(&binary, &server, &first, args.concurrency)?;
    let after_warm = server.rss_kb()?;
    dial(&binary, &server, &rest, args.concurrency)?;
    let at_end = server.rss_kb()?;
    let ratio = at_end as f64 / after_warm as f64;
    println!(
        "mock serve: RSS {:.1} MB after {warm} requests, {:.1} MB after {} ({ratio:.2}×, goal ≤ 2×)",
        after_warm as f64 / 1024.0,
        at_end as f64 / 1024.0,
        args.soak
    );
    if ratio > 2.0 {
        misses.push(format!("mock serve grew {ratio:.2}×"));
    }
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
    if misses.is_empty() {
        Ok(())
    } else {
        Err(format!("goals missed: {}", misses.join("; ")))
    }
}

/// `rows` rows of distinct numbers from `+1415` and `first`.
pub(crate) fn write_list(path: &Path, first: usize, rows: usize) -> Result<(), String> {
    let file = std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = std::io::BufWriter::new(file);
    let write = |out: &mut std::io::BufWriter<std::fs::File>| -> std::io::Result<()> {
        writeln!(out, "phone,customer_name")?;
        for i in first..first + rows {
            writeln!(out, "+1415{i:07},Customer {i}")?;
        }
        out.flush()
    };
    write(&mut out).map_err(|e| format!("{}: {e}", path.display()))
}

/// `sigmamind mock serve` in its own process.
pub(crate) struct Server {
    child: Child,
    pub(crate) base_url: String,
    pub(crate) key: String,
}

impl Server {
    pub(crate) fn start(binary: &Path) -> Result<Server, String> {
        let mut child = Command::new(binary)
            .args(["mock", "serve", "--port", "0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start mock serve: {e}"))?;
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().expect("piped"))
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
        let words: Vec<&str> = line.split_whitespace().collect();
        let (Some(base_url), Some(key)) = (words.get(4), words.last()) else {
            return Err(format!("mock serve said: {line}"));
        };
        Ok(Server {
            base_url: base_url.to_string(),
            key: key.to_string(),
            child,
        })
    }

    /// Its resident memory now, in KB (`VmRSS`).
    fn rss_kb(&self) -> Result<u64, String> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .map_err(|e| format!("cannot read the server's memory: {e}"))?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .ok_or_else(|| "no VmRSS".to_owned())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Dials `list` with a release dialler; its wall time and peak RSS (KB).
fn dial(binary: &Path, server: &Server, list: &Path, concurrency: usize) -> Result<(f64, u64), String> {
    dial_with(binary, server, list, concurrency, &[])
}

/// [`dial`] with more arguments for `create-batch`.
pub(crate) fn dial_with(
    binary: &Path,
    server: &Server,
    list: &Path,
    concurrency: usize,
    extra: &[&str],
) -> Result<(f64, u64), String> {
    let usage: PathBuf = list.with_extension("time");
    let started = Instant::now();
    let concurrency = concurrency.to_string();
    let args: Vec<&std::ffi::OsStr> = [
        "calls".as_ref(),
        "create-batch".as_ref(),
        list.as_os_str(),
        "--from".as_ref(),
        "+14155552671".as_ref(),
        "--concurrency".as_ref(),
        concurrency.as_ref(),
    ]
    .into_iter()
    .chain(extra.iter().map(|a| a.as_ref()))
    .collect();
    let (output, peak) = crate::bench::with_peak_rss(binary, &args, &usage, |command| {
        command
            .env("SIGMAMIND_API_KEY", &server.key)
            .env("SIGMAMIND_BASE_URL", &server.base_url);
    })?;
    let seconds = started.elapsed().as_secs_f64();
    crate::bench::succeeded(output, "the dialler")?;
    Ok((seconds, peak))
}
