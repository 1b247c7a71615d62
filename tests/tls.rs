//! Real TLS: every production call goes over HTTPS, so the client is tested
//! against a loopback HTTPS server whose certificate a test certificate
//! authority signed, with each TLS backend the build has (rustls by
//! default; the platform's, OpenSSL here, with feature `native-tls`).

use sigmamind_test_servers as support;

use std::sync::Arc;

use sigmamind::fate::Fate;
use sigmamind::types::CreateCallRequest;
use sigmamind::{Client, Error};
use support::{vendor_example_call, Answer, RawServer};
use tokio_rustls::rustls;

/// A certificate authority, and a server certificate it signed for
/// `localhost` and `127.0.0.1`.
struct TestPki {
    ca_pem: String,
    acceptor: tokio_rustls::TlsAcceptor,
}

fn test_pki() -> TestPki {
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "sigmamind test CA");
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);

    let leaf_params =
        rcgen::CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf = leaf_params.signed_by(&leaf_key, &issuer).unwrap();

    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone(), ca.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
        )
        .unwrap();
    TestPki {
        ca_pem: ca.pem(),
        acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
    }
}

fn request() -> sigmamind::types::builder::CreateCallRequest {
    CreateCallRequest::builder()
        .from_phone_number("+14155552671")
        .to_phone_number("+14155552672")
}

/// The client with one TLS backend, trusting `ca_pem` when given.
fn client(
    url: &str,
    backend: fn(reqwest::ClientBuilder) -> reqwest::ClientBuilder,
    ca_pem: Option<&str>,
) -> Client {
    let mut http = backend(reqwest::Client::builder());
    if let Some(pem) = ca_pem {
        http = http.add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes()).unwrap());
    }
    Client::builder()
        .api_key("sk_tls_key")
        .base_url(url)
        .http_client(http)
        .build()
        .unwrap()
}

/// A handshake with a certificate the client trusts places the call, with
/// the key inside the encrypted channel; one it does not trust fails while
/// connecting: nothing was sent.
async fn handshake_with(backend: fn(reqwest::ClientBuilder) -> reqwest::ClientBuilder) {
    let pki = test_pki();
    let server = RawServer::start_tls(
        Answer::json(201, "Created", &vendor_example_call()),
        pki.acceptor.clone(),
    )
    .await;
    for host in ["localhost", "127.0.0.1"] {
        let url = format!("https://{host}:{}", server.addr.port());
        let call = client(&url, backend, Some(&pki.ca_pem))
            .create_call()
            .body(request())
            .send()
            .await
            .unwrap_or_else(|e| panic!("{url}: {e}"))
            .into_inner();
        assert_eq!(call.call_id.as_deref(), Some("call_AuUKK371Spr5nHJS"));
    }
    let received = server.received();
    assert_eq!(received.len(), 2);
    assert_eq!(received[0].header("x-api-key").as_deref(), Some("sk_tls_key"));

    let url = format!("https://localhost:{}", server.addr.port());
    let err = client(&url, backend, None)
        .create_call()
        .body(request())
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Connection {
                maybe_processed: false,
                ..
            }
        ),
        "an untrusted certificate fails before anything is sent: {err:?}"
    );
    assert_eq!(err.fate(), Fate::NotSent);
    assert_eq!(server.received().len(), 2, "nothing reached the server");
}

#[cfg(feature = "rustls")]
#[tokio::test]
async fn rustls_verifies_the_server_and_places_the_call() {
    handshake_with(reqwest::ClientBuilder::tls_backend_rustls).await;
}

#[cfg(feature = "native-tls")]
#[tokio::test]
async fn native_tls_verifies_the_server_and_places_the_call() {
    handshake_with(reqwest::ClientBuilder::tls_backend_native).await;
}
