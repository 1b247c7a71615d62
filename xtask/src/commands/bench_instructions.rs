//! `cargo xtask bench-instructions`: what one `create_call` costs the
//! client, counted in instructions by `valgrind --tool=callgrind` (the same
//! count for the same binary and input, whatever else the machine does),
//! for the SDK and for plain reqwest and serde doing the same work
//! (`benches/call_cost.rs`). The server, `sigmamind mock serve`, runs in
//! another process, so only the client is counted. Each side runs twice, a
//! tenth of the calls and all of them; the difference per call leaves the
//! start-up (runtime, connection, TLS roots) out. Then both run without
//! valgrind, for their wall-clock time one call at a time.
//!
//! Goal (issue 30): the SDK at most 1.05× plain reqwest and serde.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use super::bench_campaign::Server;
use crate::flags::BenchInstructions;
use crate::workspace::Workspace;

/// Runs the command.
pub fn run(ws: &Workspace, args: &BenchInstructions) -> Result<(), String> {
    let valgrind = Command::new("valgrind").arg("--version").output();
    if !valgrind.is_ok_and(|o| o.status.success()) {
        return Err("bench-instructions needs valgrind (Debian: apt-get install valgrind)".into());
    }
    let cli = crate::bench::release_cli(ws)?;
    let bench = build_bench(ws)?;
    let dir = crate::bench::scratch(ws, "bench-instructions")?;
    let server = Server::start(&cli)?;
    let (short, long) = (args.calls / 10, args.calls);
    println!("instructions per create_call, client only (callgrind; server in another process)");
    println!("{:>10} {:>16} {:>16} {:>14}", "client", short, long, "per call");
    let mut per_call = Vec::new();
    for mode in ["reqwest", "sdk"] {
        let a = instructions(&bench, &dir, &server, mode, short)?;
        let b = instructions(&bench, &dir, &server, mode, long)?;
        let each = (b - a) as f64 / (long - short) as f64;
        println!("{mode:>10} {a:>16} {b:>16} {each:>14.0}");
        per_call.push(each);
    }
    let ratio = per_call[1] / per_call[0];
    println!("sdk / reqwest + serde: {ratio:.3} (goal ≤ 1.05)");
    wall_clock(&bench, &server, long * 10)?;
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
    if ratio > 1.05 {
        return Err(format!(
            "goal missed: the SDK costs {ratio:.3}× plain reqwest per call"
        ));
    }
    Ok(())
}

/// The same clients without valgrind, in wall-clock time: `WALL_RUNS` runs
/// of `calls` calls a side, the side that goes first alternating, medians.
/// The client has its own process and thread, the server another: at one
/// call at a time this is the wall-clock figure the machine's noise
/// disturbs least (the in-process throughput bench cannot tell a 10%
/// difference at concurrency 1 on two cores).
fn wall_clock(bench: &Path, server: &Server, calls: usize) -> Result<(), String> {
    const WALL_RUNS: usize = 7;
    let mut took: [Vec<Duration>; 2] = [Vec::new(), Vec::new()];
    for run in 0..WALL_RUNS {
        let order = if run % 2 == 0 { [0, 1] } else { [1, 0] };
        for side in order {
            let mode = ["reqwest", "sdk"][side];
            let started = Instant::now();
            crate::bench::output_of(
                Command::new(bench).args([mode, &calls.to_string(), &server.base_url, &server.key]),
                format_args!("call_cost {mode} {calls}"),
            )?;
            took[side].push(started.elapsed());
        }
    }
    let [reqwest, sdk] = took.map(|mut runs| {
        runs.sort();
        runs[runs.len() / 2]
    });
    println!(
        "wall clock, one call at a time, {calls} calls, median of {WALL_RUNS} runs: reqwest {:.2} s, sdk {:.2} s; \
         sdk / reqwest throughput {:.3}",
        reqwest.as_secs_f64(),
        sdk.as_secs_f64(),
        reqwest.as_secs_f64() / sdk.as_secs_f64()
    );
    Ok(())
}

/// Builds `benches/call_cost.rs` (release) and says where cargo put it.
fn build_bench(ws: &Workspace) -> Result<PathBuf, String> {
    let out = crate::bench::output_of(
        ws.cargo().args([
            "bench",
            "--package",
            "sigmamind",
            "--bench",
            "call_cost",
            "--no-run",
            "--message-format=json",
        ]),
        "building benches/call_cost.rs",
    )?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|message| message["target"]["name"] == "call_cost")
        .find_map(|message| message["executable"].as_str().map(PathBuf::from))
        .ok_or_else(|| "cargo did not say where it built call_cost".to_owned())
}

/// The instructions `calls` calls take, start-up included.
fn instructions(bench: &Path, dir: &Path, server: &Server, mode: &str, calls: usize) -> Result<u64, String> {
    let out_file = dir.join(format!("callgrind.{mode}.{calls}"));
    crate::bench::output_of(
        Command::new("valgrind")
            .arg("--tool=callgrind")
            .arg(format!("--callgrind-out-file={}", out_file.display()))
            .arg(bench)
            .args([mode, &calls.to_string(), &server.base_url, &server.key]),
        format_args!("call_cost {mode} {calls} under callgrind"),
    )?;
    let profile = std::fs::read_to_string(&out_file).map_err(|e| format!("{}: {e}", out_file.display()))?;
    profile
        .lines()
        .find_map(|line| {
            line.strip_prefix("summary:")
                .or_else(|| line.strip_prefix("totals:"))
        })
        .and_then(|total| total.split_whitespace().next()?.parse().ok())
        .ok_or_else(|| format!("{}: no instruction total", out_file.display()))
}
