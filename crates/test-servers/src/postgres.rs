//! A real PostgreSQL server for a test: `initdb` and `pg_ctl` from the
//! machine's PostgreSQL (found with `pg_config --bindir`), run as an
//! unprivileged user (PostgreSQL refuses root: as root, the `postgres`
//! user), listening on a Unix socket in a temporary directory only. Stopped
//! when dropped. Never a mock.

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Postgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    owner: Option<String>,
}

fn bin_dir() -> PathBuf {
    let found = Command::new("pg_config")
        .arg("--bindir")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
        .filter(|dir| dir.join("initdb").exists());
    found
        .or_else(|| {
            let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
                .ok()?
                .filter_map(|e| Some(e.ok()?.path().join("bin")))
                .filter(|dir| dir.join("initdb").exists())
                .collect();
            dirs.sort();
            dirs.pop()
        })
        .expect(
            "these tests need a PostgreSQL server installed (Debian: `apt-get install postgresql`; \
             .ci/run installs it)",
        )
}

impl Postgres {
    pub fn start() -> Postgres {
        let bin = bin_dir();
        let dir = tempfile::Builder::new()
            .prefix("sigmamind-pg-")
            .tempdir()
            .unwrap();
        let root = is_root();
        let owner = root.then(|| "postgres".to_owned());
        if let Some(owner) = &owner {
            let status = Command::new("chown").arg(owner).arg(dir.path()).status().unwrap();
            assert!(status.success(), "chown {owner} {}", dir.path().display());
        }
        let pg = Postgres { dir, bin, owner };
        pg.run(
            "initdb",
            &[
                "-D",
                &pg.data(),
                "-A",
                "trust",
                "-U",
                "sigmamind",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        let options = format!("-k {} -c listen_addresses='' -c max_connections=100", pg.socket());
        pg.run(
            "pg_ctl",
            &[
                "-D",
                &pg.data(),
                "-o",
                &options,
                "-l",
                &format!("{}/log", pg.socket()),
                "-w",
                "start",
            ],
        );
        pg
    }

    fn data(&self) -> String {
        format!("{}/data", self.socket())
    }

    /// The directory of its Unix socket.
    pub fn socket(&self) -> String {
        self.dir.path().display().to_string()
    }

    /// The connection string a dialer is given.
    pub fn url(&self) -> String {
        format!("host={} user=sigmamind dbname=postgres", self.socket())
    }

    fn run(&self, program: &str, args: &[&str]) {
        let path = self.bin.join(program);
        let mut command = match &self.owner {
            Some(owner) => {
                let mut c = Command::new("runuser");
                c.args(["-u", owner, "--"]).arg(&path);
                c
            }
            None => Command::new(&path),
        };
        let output = command.args(args).current_dir(Path::new("/")).output().unwrap();
        assert!(
            output.status.success(),
            "{program} {args:?}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// Plain SQL through `psql`, the rows as `|`-separated lines.
    pub fn sql(&self, query: &str) -> Vec<String> {
        let psql = self.bin.join("psql");
        let output = Command::new(if psql.exists() { psql } else { "psql".into() })
            .args([
                "-h",
                &self.socket(),
                "-U",
                "sigmamind",
                "-d",
                "postgres",
                "-tA",
                "-c",
                query,
            ])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{query}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let path = self.bin.join("pg_ctl");
        let mut command = match &self.owner {
            Some(owner) => {
                let mut c = Command::new("runuser");
                c.args(["-u", owner, "--"]).arg(&path);
                c
            }
            None => Command::new(&path),
        };
        let _ = command
            .args(["-D", &self.data(), "-m", "immediate", "stop"])
            .current_dir("/")
            .output();
    }
}

fn is_root() -> bool {
    // `id -u` rather than libc: no dependency for one number.
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}
