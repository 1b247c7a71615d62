//! How the PostgreSQL journal reaches its database: `sslmode` and
//! `sslrootcert` read from the connection string as libpq reads them, TLS
//! through rustls (with the aws-lc-rs cryptography the HTTP client's rustls
//! already builds), certificates always verified. Fail closed: a database
//! that is not on this machine is never reached in plain text unless the
//! string says `sslmode=disable`.
//!
//! | `sslmode` | on a Unix socket or loopback | elsewhere |
//! |---|---|---|
//! | `disable` | plain | plain |
//! | `allow` | plain | refused before connecting: it asks for plain text first |
//! | absent, `prefer` | plain | TLS, chain and host name verified (libpq would fall back to plain: never here) |
//! | `require` | TLS, chain and host name verified (stricter than libpq, which checks nothing) | same |
//! | `verify-ca` | TLS, chain verified, host name not | same |
//! | `verify-full` | TLS, chain and host name verified | same |
//!
//! TLS over a Unix socket is not something PostgreSQL offers: asking for it
//! there is an error. The authorities trusted are the system's and the
//! `sslrootcert` file's (PEM).

use std::net::IpAddr;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_postgres::config::{Host, SslMode};
use tokio_postgres::{Client, Config, NoTls};
use tokio_postgres_rustls::MakeRustlsConnect;

/// A database to connect to, and how.
#[derive(Clone)]
pub(crate) struct Target {
    pub config: Config,
    tls: Option<MakeRustlsConnect>,
}

/// What a connection string asks for TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Disable,
    /// `allow`: plain text first.
    Allow,
    /// Absent, or `prefer`.
    Unsaid,
    Require,
    VerifyCa,
    VerifyFull,
}

impl Target {
    /// Reads `url` (a `postgres://` URL or `key=value` settings).
    pub(crate) fn parse(url: &str) -> Result<Target, String> {
        let (rest, mode, root_cert) = split_tls_settings(url)?;
        let mut config: Config = rest
            .parse()
            .map_err(|e| format!("not a PostgreSQL connection string: {e}"))?;
        // A database that vanishes is noticed (the journal's module docs).
        config
            .keepalives(true)
            .keepalives_idle(std::time::Duration::from_secs(30))
            .keepalives_interval(std::time::Duration::from_secs(10))
            .keepalives_retries(3);
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(std::time::Duration::from_secs(10));
        }
        let hosts = config.get_hosts();
        let socket = hosts.iter().any(|h| !matches!(h, Host::Tcp(_)));
        let local = hosts.iter().all(|h| match h {
            Host::Tcp(name) => is_loopback(name),
            #[cfg(unix)]
            Host::Unix(_) => true,
        });
        let verify = match mode {
            Mode::Disable => None,
            Mode::Unsaid | Mode::Allow if local => None,
            Mode::Allow => {
                return Err(
                    "sslmode=allow would send the journal (every phone number of the campaign) in plain \
                     text to a database that is not on this machine: say sslmode=verify-full for TLS, or \
                     sslmode=disable if plain text is meant"
                        .to_owned(),
                )
            }
            Mode::Unsaid | Mode::Require | Mode::VerifyFull => Some(true),
            Mode::VerifyCa => Some(false),
        };
        let Some(host_names) = verify else {
            config.ssl_mode(SslMode::Disable);
            return Ok(Target { config, tls: None });
        };
        if socket {
            return Err(
                "sslmode asks for TLS, which PostgreSQL does not offer on a Unix socket: give a host \
                 name, or sslmode=disable for the socket"
                    .to_owned(),
            );
        }
        let roots = roots(root_cert.as_deref())?;
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()
            .map_err(|e| format!("cannot build the certificate verifier: {e}"))?;
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS: {e}"))?;
        let client = if host_names {
            builder.with_webpki_verifier(verifier).with_no_client_auth()
        } else {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(ChainOnly(verifier)))
                .with_no_client_auth()
        };
        config.ssl_mode(SslMode::Require);
        Ok(Target {
            config,
            tls: Some(MakeRustlsConnect::new(client)),
        })
    }

    /// Whether connections are encrypted.
    #[cfg(test)]
    pub(crate) fn encrypted(&self) -> bool {
        self.tls.is_some()
    }

    /// One connection; its driver runs on its own task until the client
    /// is dropped or the server goes away.
    pub(crate) async fn connect(&self) -> Result<Client, tokio_postgres::Error> {
        match &self.tls {
            None => {
                let (client, connection) = self.config.connect(NoTls).await?;
                tokio::spawn(async move {
                    let _ = connection.await;
                });
                Ok(client)
            }
            Some(tls) => {
                let (client, connection) = self.config.connect(tls.clone()).await?;
                tokio::spawn(async move {
                    let _ = connection.await;
                });
                Ok(client)
            }
        }
    }
}

fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost") || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The system's authorities and the `sslrootcert` file's.
/// A bundle of certificates is far smaller than this (a cloud's global
/// bundle is about 200 KB).
const MOST_BUNDLE_BYTES: u64 = 16 << 20;

/// The `sslrootcert` file, read only if it is a regular file of a bundle's
/// size: a device or a pipe named there would be read forever, or block.
fn read_bundle(path: &str) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("not a regular file (a bundle of certificates in PEM is expected)".to_owned());
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|file| file.take(MOST_BUNDLE_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > MOST_BUNDLE_BYTES {
        return Err(format!(
            "larger than any bundle of certificates ({} MiB at most)",
            MOST_BUNDLE_BYTES >> 20
        ));
    }
    Ok(bytes)
}

fn roots(root_cert: Option<&str>) -> Result<RootCertStore, String> {
    let mut roots = RootCertStore::empty();
    let (added, _) = roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    let _ = added;
    if let Some(path) = root_cert {
        use rustls::pki_types::pem::PemObject;
        let bytes = read_bundle(path).map_err(|e| format!("sslrootcert {path}: {e}"))?;
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&bytes)
            .collect::<Result<_, _>>()
            .map_err(|e| format!("sslrootcert {path}: {e}"))?;
        if certs.is_empty() {
            return Err(format!("sslrootcert {path}: no certificate in it (PEM expected)"));
        }
        for cert in certs {
            roots.add(cert).map_err(|e| format!("sslrootcert {path}: {e}"))?;
        }
    }
    if roots.is_empty() {
        return Err(
            "TLS needs an authority to trust: this system has none, and no sslrootcert was given".to_owned(),
        );
    }
    Ok(roots)
}

/// `sslmode=verify-ca`: the chain is verified, the host name is not.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidForName
                | rustls::CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// `url` without its `sslmode` and `sslrootcert` (which tokio-postgres
/// reads differently, or not at all), and their values.
fn split_tls_settings(url: &str) -> Result<(String, Mode, Option<String>), String> {
    let mut mode = None;
    let mut root_cert = None;
    let mut take = |key: &str, value: String| -> Result<bool, String> {
        match key {
            "sslmode" => {
                mode = Some(match value.as_str() {
                    "disable" => Mode::Disable,
                    "allow" => Mode::Allow,
                    "prefer" => Mode::Unsaid,
                    "require" => Mode::Require,
                    "verify-ca" => Mode::VerifyCa,
                    "verify-full" => Mode::VerifyFull,
                    other => {
                        return Err(format!(
                        "sslmode={other}: expected disable, allow, prefer, require, verify-ca or verify-full"
                    ))
                    }
                });
                Ok(true)
            }
            "sslrootcert" => {
                root_cert = Some(value);
                Ok(true)
            }
            _ => Ok(false),
        }
    };
    let rest = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        match url.split_once('?') {
            None => url.to_owned(),
            Some((base, query)) => {
                let mut kept = Vec::new();
                for pair in query.split('&').filter(|p| !p.is_empty()) {
                    let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                    if !take(key, percent_decode(value)?)? {
                        kept.push(pair);
                    }
                }
                if kept.is_empty() {
                    base.to_owned()
                } else {
                    format!("{base}?{}", kept.join("&"))
                }
            }
        }
    } else {
        let mut kept = Vec::new();
        for setting in url.split_whitespace() {
            let (key, value) = setting.split_once('=').unwrap_or((setting, ""));
            let value = value.trim_matches('\'').to_owned();
            if !take(key.trim(), value)? {
                kept.push(setting);
            }
        }
        kept.join(" ")
    };
    Ok((rest, mode.unwrap_or(Mode::Unsaid), root_cert))
}

fn percent_decode(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("a bad percent-escape in {text:?}"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| format!("{text:?} is not UTF-8 once decoded"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_settings_are_read_as_libpq_reads_them() {
        let (rest, mode, cert) = split_tls_settings(
            "postgres://u:p@db.example/c?application_name=x&sslmode=verify-ca&sslrootcert=%2Ftmp%2Fca.pem",
        )
        .unwrap();
        assert_eq!(rest, "postgres://u:p@db.example/c?application_name=x");
        assert_eq!(mode, Mode::VerifyCa);
        assert_eq!(cert.as_deref(), Some("/tmp/ca.pem"));
        let (rest, mode, cert) =
            split_tls_settings("host=db user=u sslmode=require sslrootcert='/etc/ca.pem'").unwrap();
        assert_eq!((rest.as_str(), mode), ("host=db user=u", Mode::Require));
        assert_eq!(cert.as_deref(), Some("/etc/ca.pem"));
        assert_eq!(split_tls_settings("postgres://h/d").unwrap().1, Mode::Unsaid);
        let error = split_tls_settings("postgres://h/d?sslmode=maybe").unwrap_err();
        assert!(error.contains("sslmode=maybe: expected disable"), "{error}");
    }

    /// A device, a pipe or a directory named as `sslrootcert` is refused
    /// before it is read (a device never ends; a pipe would block).
    #[test]
    fn a_root_certificate_that_is_not_a_file_is_refused_unread() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
        assert!(made.success());
        for path in [
            "/dev/zero".to_owned(),
            fifo.display().to_string(),
            dir.path().display().to_string(),
        ] {
            let url = format!("postgres://u@db.example/c?sslmode=verify-full&sslrootcert={path}");
            let error = Target::parse(&url).err().expect("refused");
            assert!(
                error.contains(&format!("sslrootcert {path}: not a regular file")),
                "{error}"
            );
        }
    }

    #[test]
    fn plain_text_is_for_this_machine_only() {
        for local in [
            "postgres://u@localhost/d",
            "postgres://u@127.0.0.1:5433/d",
            "host=/run/postgresql user=u",
            "postgres://u@[::1]/d",
        ] {
            assert!(!Target::parse(local).unwrap().encrypted(), "{local}");
        }
        for remote in [
            "postgres://u@db.example.internal/c",
            "postgres://u@10.0.0.5/c?sslmode=prefer",
            "host=db.example user=u",
        ] {
            assert!(Target::parse(remote).unwrap().encrypted(), "{remote}");
        }
        assert!(!Target::parse("postgres://u@db.example/c?sslmode=disable")
            .unwrap()
            .encrypted());
        assert!(Target::parse("postgres://u@localhost/c?sslmode=require")
            .unwrap()
            .encrypted());
        assert!(!Target::parse("postgres://u@localhost/c?sslmode=allow")
            .unwrap()
            .encrypted());
        let error = Target::parse("postgres://u:secret@db.example/c?sslmode=allow")
            .err()
            .unwrap();
        assert!(
            error.contains("plain text") && !error.contains("secret"),
            "{error}"
        );
        let error = Target::parse("host=/run/postgresql user=u sslmode=require")
            .err()
            .unwrap();
        assert!(error.contains("Unix socket"), "{error}");
        let error = Target::parse("postgres://u@db/c?sslmode=verify-full&sslrootcert=/nonexistent.pem")
            .err()
            .unwrap();
        assert!(error.contains("sslrootcert /nonexistent.pem"), "{error}");
    }
}
