//! `sigmamind calls create-batch` with a region, calling hours and a
//! suppression list, run as a user would, against a local server that
//! counts every request: a CRM's export (a byte-order mark, blank lines,
//! numbers as people write them, an extension, a duplicate only after
//! normalising) is dialled once per person allowed now, and the results
//! keep each original cell. The clock is the real one: each row's own
//! `timezone` is chosen by the test so that it is noon there, or midnight.

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Output};

use chrono::Timelike;
use sigmamind_mock::MockServer;

/// An `Etc/GMT` zone where the local hour is now `hour` (note the POSIX
/// sign: `Etc/GMT-5` is five hours ahead of UTC).
fn zone_where_it_is(hour: i32) -> String {
    let now = chrono::Utc::now().hour() as i32;
    let mut ahead = hour - now;
    if ahead > 14 {
        ahead -= 24;
    }
    if ahead < -12 {
        ahead += 24;
    }
    match ahead {
        0 => "Etc/GMT".to_owned(),
        a if a > 0 => format!("Etc/GMT-{a}"),
        a => format!("Etc/GMT+{}", -a),
    }
}

fn run(server: &MockServer, dir: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sigmamind"))
        .current_dir(dir)
        .args(["calls", "create-batch", "contacts.csv", "--from", "+14155552671"])
        .args(extra)
        .env("SIGMAMIND_API_KEY", server.api_key())
        .env("SIGMAMIND_BASE_URL", server.base_url())
        .output()
        .expect("run the sigmamind binary")
}

/// The results CSV, row by row, by column name (read with the csv crate).
fn results(dir: &Path) -> Vec<HashMap<String, String>> {
    let mut reader = csv::Reader::from_path(dir.join("contacts.csv.results.csv")).unwrap();
    let headers = reader.headers().unwrap().clone();
    let mut rows: Vec<HashMap<String, String>> = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            headers
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.to_owned(), v.to_owned()))
                .collect()
        })
        .collect();
    rows.sort_by_key(|r| r["row"].parse::<usize>().unwrap());
    rows
}

fn received(server: &MockServer) -> Vec<String> {
    let mut phones: Vec<String> = server
        .requests()
        .iter()
        .map(|r| r.json().unwrap()["toPhoneNumber"].as_str().unwrap().to_owned())
        .collect();
    phones.sort();
    phones
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crm_export_is_dialled_once_per_person_allowed_now() {
    let server = MockServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (noon, midnight) = (zone_where_it_is(12), zone_where_it_is(0));
    let list = format!(
        "\u{feff}name,phone,timezone\n\
         \n\
         Ann,(415) 555-0101,{noon}\n\
         Bo,415.555.0102,{midnight}\n\
         Cy,'+14155550103,{noon}\n\
         \n\
         Di,+1 415 555 0101,{noon}\n\
         Ed,(415) 555-0104 ext. 2,{noon}\n\
         Fay,+1234567,{noon}\n\
         Gus,00 44 20 7946 0958,{noon}\n\
         Hal,=HYPERLINK(\"x\"),{noon}\n"
    );
    std::fs::write(dir.path().join("contacts.csv"), list).unwrap();
    std::fs::write(
        dir.path().join("dnc.txt"),
        "1 (415) 555-0103\n\n+44 20 7946 0958\n",
    )
    .unwrap();
    let args = [
        "--region",
        "us",
        "--calling-hours",
        "06:00-18:00",
        "--suppress",
        "dnc.txt",
    ];
    let output = run(&server, dir.path(), &args);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stderr.contains("suppression list dnc.txt: 2 numbers"), "{stderr}");
    assert!(
        stderr.contains("note: 1 row(s) were outside their calling hours"),
        "{stderr}"
    );
    // Only Ann is dialled: Bo is at midnight, Cy and Gus are on the list.
    assert_eq!(received(&server), ["+14155550101"]);
    let rows = results(dir.path());
    let summary: Vec<(&str, &str, &str, &str)> = rows
        .iter()
        .map(|r| {
            (
                r["row"].as_str(),
                r["phone"].as_str(),
                r["given_phone"].as_str(),
                r["outcome"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("1", "'+14155550101", "(415) 555-0101", "placed"),
            ("2", "'+14155550102", "415.555.0102", "deferred"),
            ("3", "'+14155550103", "'+14155550103", "suppressed"),
            ("4", "'+14155550101", "'+1 415 555 0101", "invalid"),
            ("5", "(415) 555-0104 ext. 2", "", "invalid"),
            ("6", "'+1234567", "", "invalid"),
            ("7", "'+442079460958", "00 44 20 7946 0958", "suppressed"),
            ("8", "'=HYPERLINK(\"x\")", "", "invalid"),
        ]
    );
    assert!(
        rows[1]["error"].contains("outside the calling hours (06:00-18:00)"),
        "{:?}",
        rows[1]
    );
    assert!(
        rows[3]["error"].contains("duplicate phone number"),
        "{:?}",
        rows[3]
    );
    assert!(rows[4]["error"].contains("extension"), "{:?}", rows[4]);
    assert!(
        rows[5]["error"].contains("such as (201) 555-0123"),
        "{:?}",
        rows[5]
    );

    // A rerun at the same hour dials nobody new: Ann is placed, Bo still
    // deferred, the list still suppresses.
    let output = run(&server, dir.path(), &args);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(received(&server), ["+14155550101"]);
    // Without the calling hours Bo is dialled; the list still holds.
    let output = run(&server, dir.path(), &["--region", "US", "--suppress", "dnc.txt"]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(received(&server), ["+14155550101", "+14155550102"]);
}

#[tokio::test]
async fn bad_flags_are_refused_before_anything_is_sent() {
    let server = MockServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("contacts.csv"), "phone\n+14155550101\n").unwrap();
    std::fs::write(dir.path().join("bad.txt"), "+14155550101\nnobody\n").unwrap();
    for (args, expect) in [
        (
            &["--region", "USA"][..],
            "--region: \"USA\" is not a region libphonenumber knows",
        ),
        (
            &["--calling-hours", "21:00-08:00"],
            "--calling-hours: the window must end after it starts",
        ),
        (
            &["--calling-hours", "--days", "funday"],
            "--days: \"funday\" is not a day of the week",
        ),
        (
            &["--calling-hours", "--fallback-zone", "Mars/Base"],
            "--fallback-zone \"Mars/Base\" is not an IANA time zone",
        ),
        (
            &["--suppress", "bad.txt"],
            "--suppress: suppression list bad.txt: line 2: \"nobody\" is not a phone number",
        ),
        (&["--suppress", "missing.txt"], "--suppress missing.txt"),
        (
            &["--suppress", "/dev/zero"],
            "--suppress /dev/zero: not a regular file",
        ),
        (&["--suppress", "."], "--suppress .: not a regular file"),
    ] {
        let output = run(&server, dir.path(), args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(expect), "{args:?}: {stderr}");
    }
    // --wait and --days need calling hours (clap says so).
    let output = run(&server, dir.path(), &["--wait"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(server.request_count(), 0);
}
