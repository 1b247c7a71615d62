//! `cargo xtask bench-hostile`: what a body that never ends costs. A release
//! `sigmamind calls create` and a 1,000-row `calls create-batch` run against
//! a loopback server of this command's own (a FIXTURE imitating a
//! misbehaving server or proxy, not the vendor) that answers `201` with a
//! normal call, or with a call whose body never ends; peak RSS of each run
//! measured by the operating system through GNU `time`.
//!
//! Goal (issue 26): the client reads at most `max_response_body` (4 MiB) of
//! a body, so an endless body costs a bounded amount per request in
//! flight: the body and, while the connection is dropped and the error
//! built, transient buffers; the peak of the endless run stays within the
//! normal run's plus `concurrency` × 2 × 4 MiB (and 8 MiB of slack).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;

use crate::flags::BenchHostile;
use crate::workspace::Workspace;

const CALL: &str = r#"{"callId":"call_bench","status":"scheduled","callType":"outbound"}"#;

/// Runs the command.
pub fn run(ws: &Workspace, args: &BenchHostile) -> Result<(), String> {
    let binary = crate::bench::release_cli(ws)?;
    let dir = crate::bench::scratch(ws, "bench-hostile")?;
    let list = dir.join("contacts.csv");
    let mut csv = String::from("phone\n");
    for i in 0..args.rows {
        csv.push_str(&format!("+1415{i:07}\n"));
    }
    std::fs::write(&list, csv).map_err(|e| e.to_string())?;
    let normal = serve(false)?;
    let endless = serve(true)?;
    println!(
        "{:<34} {:>14} {:>14} {:>8}",
        "run", "normal MB", "endless MB", "ratio"
    );
    let one = [
        "calls",
        "create",
        "--from",
        "+14155552671",
        "--to",
        "+14155552672",
    ];
    let concurrency = args.concurrency.to_string();
    let rows_label = format!("create-batch, {} rows, {} in flight", args.rows, args.concurrency);
    let runs: [(&str, Vec<&str>); 2] = [
        ("calls create", one.to_vec()),
        (
            rows_label.as_str(),
            vec![
                "calls",
                "create-batch",
                "contacts.csv",
                "--from",
                "+14155552671",
                "--concurrency",
                &concurrency,
            ],
        ),
    ];
    let mut missed = Vec::new();
    for (name, words) in runs {
        let mut peaks = [0u64; 2];
        for (i, url) in [&normal, &endless].into_iter().enumerate() {
            // A fresh journal and results file for every run.
            for stale in ["contacts.csv.journal.jsonl", "contacts.csv.results.csv"] {
                let _ = std::fs::remove_file(dir.join(stale));
            }
            peaks[i] = peak_kb(&binary, &dir, &words, url)?;
        }
        let [normal_kb, endless_kb] = peaks;
        println!(
            "{name:<34} {:>14.1} {:>14.1} {:>8.2}",
            normal_kb as f64 / 1024.0,
            endless_kb as f64 / 1024.0,
            endless_kb as f64 / normal_kb as f64
        );
        let in_flight = if name == "calls create" {
            1
        } else {
            args.concurrency as u64
        };
        if endless_kb > normal_kb + in_flight * 2 * 4 * 1024 + 8 * 1024 {
            missed.push(format!("{name}: {endless_kb} KB against {normal_kb} KB"));
        }
    }
    if missed.is_empty() {
        Ok(())
    } else {
        Err(format!("over the goal: {}", missed.join("; ")))
    }
}

/// The run's peak RSS in KB (GNU time's `%M`).
fn peak_kb(binary: &Path, dir: &Path, words: &[&str], url: &str) -> Result<u64, String> {
    let usage = dir.join("usage.time");
    let args: Vec<&std::ffi::OsStr> = words.iter().map(std::ffi::OsStr::new).collect();
    let (output, peak) = crate::bench::with_peak_rss(binary, &args, &usage, |command| {
        command
            .current_dir(dir)
            .env("SIGMAMIND_API_KEY", "bench")
            .env("SIGMAMIND_BASE_URL", url);
    })?;
    // Exit 0 (placed) is what both servers must give: a 2xx is a placed call.
    crate::bench::succeeded(output, format_args!("{words:?} against {url}"))?;
    Ok(peak)
}

/// A loopback server answering every request with a `201`: the call, or
/// the call's start followed by padding that never ends. Returns its URL.
fn serve(endless: bool) -> Result<String, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let url = format!("http://{}", listener.local_addr().map_err(|e| e.to_string())?);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || answer(stream, endless));
        }
    });
    Ok(url)
}

fn answer(stream: TcpStream, endless: bool) {
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(s) => s,
        Err(_) => return,
    });
    let mut writer = stream;
    loop {
        // The request head, then its body by Content-Length.
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            if line == "\r\n" {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        if !endless {
            let head = format!(
                "HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                CALL.len()
            );
            if writer
                .write_all(head.as_bytes())
                .and_then(|()| writer.write_all(CALL.as_bytes()))
                .is_err()
            {
                return;
            }
            continue;
        }
        let start = r#"{"callId":"call_bench","padding":""#;
        let head =
            "HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ncontent-length: 1000000000000\r\n\r\n";
        if writer
            .write_all(head.as_bytes())
            .and_then(|()| writer.write_all(start.as_bytes()))
            .is_err()
        {
            return;
        }
        let padding = vec![b'x'; 64 * 1024];
        // Until the client has read its fill and gone.
        while writer.write_all(&padding).is_ok() {}
        return;
    }
}
