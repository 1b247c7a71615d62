//! The PostgreSQL journal over TLS, against a real PostgreSQL server
//! started with `ssl=on`, a certificate for `localhost` signed by an
//! authority made in the test, and `hostssl` only for TCP (plain TCP is
//! refused by the server itself). Run through the binary, against the
//! local server, which counts every request: a journal that cannot be
//! reached safely stops the run before anything is dialled.

use std::path::Path;
use std::process::{Command, Output};

use sigmamind_mock::MockServer;
use sigmamind_test_servers::postgres::{Postgres, TestAuthority};

fn dial(server: &MockServer, dir: &Path, journal: &str, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sigmamind"))
        .current_dir(dir)
        .args(["calls", "create-batch", "contacts.csv", "--from", "+14155552671"])
        .args(["--journal", journal, "--campaign", "tls"])
        .args(extra)
        .env("SIGMAMIND_API_KEY", server.api_key())
        .env("SIGMAMIND_BASE_URL", server.base_url())
        .output()
        .expect("run the sigmamind binary")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tls_only_database_is_reached_only_with_its_authority() {
    let authority = TestAuthority::new("localhost");
    let pg = Postgres::start_with_tls(&authority);
    let server = MockServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("contacts.csv"),
        "phone\n+14155550101\n+14155550102\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("ca.pem"), &authority.ca_pem).unwrap();
    let ca = dir.path().join("ca.pem").display().to_string();
    let port = pg.port();

    // Each of these fails before anything is dialled, saying why, and
    // never printing the password.
    let refused = [
        (
            format!("postgres://sigmamind:hunter2@localhost:{port}/postgres?sslmode=verify-full"),
            "UnknownIssuer",
        ),
        (
            format!(
                "postgres://sigmamind:hunter2@127.0.0.1:{port}/postgres?sslmode=verify-full&sslrootcert={ca}"
            ),
            "certificate not valid for name \"127.0.0.1\"",
        ),
        (
            format!("postgres://sigmamind:hunter2@localhost:{port}/postgres?sslmode=disable"),
            "no encryption",
        ),
        (
            "postgres://sigmamind:hunter2@db.example.internal/campaigns?sslmode=allow".to_owned(),
            "plain text",
        ),
        (
            format!(
                "host={} user=sigmamind password=hunter2 sslmode=require",
                pg.socket()
            ),
            "Unix socket",
        ),
    ];
    for (url, why) in refused {
        let output = dial(&server, dir.path(), &url, &[]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{url}: {stderr}");
        assert!(stderr.contains(why), "{url}: expected {why:?} in {stderr}");
        assert!(
            !stderr.contains("hunter2"),
            "{url}: the password was printed: {stderr}"
        );
        assert_eq!(server.request_count(), 0, "{url}: something was dialled");
    }

    // With the authority, verify-full connects (and so does verify-ca with
    // the address the certificate does not name): the batch runs.
    let url = format!("postgres://sigmamind@localhost:{port}/postgres?sslmode=verify-full&sslrootcert={ca}");
    let output = dial(&server, dir.path(), &url, &[]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(server.request_count(), 2);
    // The server takes TCP connections only with TLS (hostssl): the rows
    // arrived over it.
    assert_eq!(
        pg.sql("SELECT count(*) FROM sigmamind_calls WHERE state = 'placed'"),
        ["2"]
    );
    let url = format!("postgres://sigmamind@127.0.0.1:{port}/postgres?sslmode=verify-ca&sslrootcert={ca}");
    let output = dial(&server, dir.path(), &url, &["--results", "again.csv"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(server.request_count(), 2, "a rerun dials nobody twice");
}
