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
    port: u16,
    /// The server's command-line options, for a start after a stop.
    options: std::sync::OnceLock<String>,
}

/// A server certificate for [`Postgres::start_with_tls`], and the
/// authority that signed it (made here, for one test).
pub struct TestAuthority {
    /// The authority's certificate (PEM): what a client trusts.
    pub ca_pem: String,
    /// The server's certificate (PEM), for `host`.
    pub cert_pem: String,
    /// The server's private key (PEM).
    pub key_pem: String,
}

impl TestAuthority {
    /// An authority and a server certificate for the DNS name `host`.
    pub fn new(host: &str) -> TestAuthority {
        use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
        let ca_key = KeyPair::generate().unwrap();
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(rcgen::DnType::CommonName, "sigmamind test authority");
        let ca_cert = ca.self_signed(&ca_key).unwrap();
        let issuer = rcgen::Issuer::new(ca, ca_key);
        let key = KeyPair::generate().unwrap();
        let cert = CertificateParams::new(vec![host.to_owned()])
            .unwrap()
            .signed_by(&key, &issuer)
            .unwrap();
        TestAuthority {
            ca_pem: ca_cert.pem(),
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }
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
    /// On a Unix socket only.
    pub fn start() -> Postgres {
        Self::start_inner(None)
    }

    /// Also on TCP at 127.0.0.1 (see [`Postgres::port`]), with TLS only
    /// (`hostssl` in `pg_hba.conf`, no `host`: plain TCP is refused), the
    /// server presenting `authority`'s certificate.
    pub fn start_with_tls(authority: &TestAuthority) -> Postgres {
        Self::start_inner(Some(authority))
    }

    /// Its TCP port (TLS servers only; the socket's number otherwise).
    pub fn port(&self) -> u16 {
        self.port
    }

    fn start_inner(tls: Option<&TestAuthority>) -> Postgres {
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
        let port = match tls {
            None => 5432,
            Some(_) => {
                // A free port, released for the server to take (a race
                // with another process is unlikely and fails loudly).
                let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
                probe.local_addr().unwrap().port()
            }
        };
        let pg = Postgres {
            dir,
            bin,
            owner,
            port,
            options: Default::default(),
        };
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
        let mut options = format!(
            "-k {} -p {port} -c listen_addresses='' -c max_connections=100",
            pg.socket()
        );
        if let Some(authority) = tls {
            let data = pg.data();
            let write = |name: &str, text: &str, mode: u32| {
                use std::os::unix::fs::PermissionsExt;
                let path = format!("{data}/{name}");
                std::fs::write(&path, text).unwrap();
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
                if let Some(owner) = &pg.owner {
                    let status = Command::new("chown").arg(owner).arg(&path).status().unwrap();
                    assert!(status.success());
                }
            };
            write("server.crt", &authority.cert_pem, 0o644);
            write("server.key", &authority.key_pem, 0o600);
            write(
                "pg_hba.conf",
                "local all all trust\nhostssl all all 127.0.0.1/32 trust\nhostssl all all ::1/128 trust\n",
                0o600,
            );
            options = format!(
                "-k {} -p {port} -c listen_addresses=127.0.0.1 -c max_connections=100 -c ssl=on \
                 -c ssl_cert_file=server.crt -c ssl_key_file=server.key",
                pg.socket()
            );
        }
        pg.options.set(options).expect("started once");
        pg.start_again();
        pg
    }

    /// Starts the server again after [`Postgres::stop`], as it was.
    pub fn start_again(&self) {
        let options = self.options.get().expect("started").clone();
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data(),
                "-o",
                &options,
                "-l",
                &format!("{}/log", self.socket()),
                "-w",
                "start",
            ],
        );
    }

    /// Stops the server as an administrator's restart or a failover does:
    /// every session is ended (`-m fast`), and nothing answers until
    /// [`Postgres::start_again`].
    pub fn stop(&self) {
        self.run("pg_ctl", &["-D", &self.data(), "-m", "fast", "-w", "stop"]);
    }

    /// [`Postgres::stop`], then [`Postgres::start_again`].
    pub fn restart(&self) {
        self.stop();
        self.start_again();
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
        format!(
            "host={} port={} user=sigmamind dbname=postgres",
            self.socket(),
            self.port
        )
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
                "-p",
                &self.port.to_string(),
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
