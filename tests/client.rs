//! The production client against the local server: auth, errors, retries
//! that never dial twice, timeouts, undecodable bodies, forward compatibility.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sigmamind::types::{builder, CallStatus, CallType, CreateCallRequest, TerminationReason};
use sigmamind::{Client, Error, RetryPolicy};
use sigmamind_mock::{Fault, MockServer};

fn request() -> builder::CreateCallRequest {
    CreateCallRequest::builder()
        .from_phone_number("+14155552671")
        .to_phone_number("+14155552672")
        .dynamic_variables(serde_json::Map::from_iter([(
            "customer_name".to_owned(),
            "Michael".into(),
        )]))
}

/// Quick retries, so tests do not sleep for real backoff.
fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        max_retries: 3,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(20),
        ..RetryPolicy::default()
    }
}

fn client_for(server: &MockServer) -> Client {
    Client::builder()
        .api_key(server.api_key())
        .base_url(server.base_url())
        .retry_policy(fast_retries())
        .build()
        .unwrap()
}

#[tokio::test]
async fn creates_a_call_with_key_user_agent_and_body() {
    let server = MockServer::start().await;
    let call = client_for(&server)
        .create_call()
        .body(request().agent_id("agent_1".parse::<sigmamind::types::AgentId>().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(call.status().as_u16(), 201);
    let call = call.into_inner();
    assert_eq!(call.status, Some(CallStatus::Scheduled));
    assert_eq!(call.call_type, Some(CallType::Outbound));
    assert!(call.call_id.unwrap().starts_with("call_"));
    assert_eq!(call.agent.unwrap().agent_id.as_deref(), Some("agent_1"));
    assert_eq!(call.dynamic_variables.unwrap()["customer_name"], "Michael");

    let sent = server.requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].header("x-api-key"), Some(server.api_key()));
    assert_eq!(
        sent[0].header("user-agent"),
        Some(concat!("sigmamind-rust/", env!("CARGO_PKG_VERSION")))
    );
    assert_eq!(sent[0].header("api-version"), Some("0.1.0"));
    assert_eq!(
        sent[0].json().unwrap(),
        serde_json::json!({
            "fromPhoneNumber": "+14155552671",
            "toPhoneNumber": "+14155552672",
            "agentId": "agent_1",
            "dynamicVariables": {"customer_name": "Michael"}
        })
    );
}

/// The client parses an operation's URL once and reuses it; a `Client`
/// made by hand from another client's state and another base URL still
/// sends to its own base URL, and the first client to its own.
#[tokio::test]
async fn a_client_made_from_another_clients_state_sends_to_its_own_base_url() {
    let first = MockServer::start().await;
    let second = MockServer::start().await;
    let client = client_for(&first);
    client.create_call().body(request()).send().await.unwrap();
    let state = sigmamind::ClientInfo::inner(&client).clone();
    let other = Client::new_with_client(second.base_url(), reqwest::Client::new(), state);
    for _ in 0..2 {
        // The first server's key: the second server refuses it.
        let err = other.create_call().body(request()).send().await.unwrap_err();
        assert_eq!(err.status().map(|s| s.as_u16()), Some(401), "{err}");
        client.create_call().body(request()).send().await.unwrap();
    }
    assert_eq!(second.requests().len(), 2);
    assert_eq!(first.requests().len(), 3);
}

#[tokio::test]
async fn a_custom_user_agent_comes_first() {
    let server = MockServer::start().await;
    let client = Client::builder()
        .api_key(server.api_key())
        .base_url(server.base_url())
        .user_agent("dialer/2.1")
        .build()
        .unwrap();
    client.create_call().body(request()).send().await.unwrap();
    assert_eq!(
        server.requests()[0].header("user-agent"),
        Some(concat!("dialer/2.1 sigmamind-rust/", env!("CARGO_PKG_VERSION")))
    );
}

#[tokio::test]
async fn a_wrong_key_is_an_api_error_with_status_and_body() {
    let server = MockServer::start().await;
    let client = Client::builder()
        .api_key("sk_live_wrong_key_123")
        .base_url(server.base_url())
        .build()
        .unwrap();
    let err = client.create_call().body(request()).send().await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(401));
    let Error::Api {
        json, body, attempts, ..
    } = &err
    else {
        panic!("{err:?}")
    };
    // The shape the vendor's pages show: the reason phrase, the status, the path.
    let json = json.as_ref().unwrap();
    assert_eq!(json["error"], "Unauthorized");
    assert_eq!(json["status"], 401);
    assert_eq!(json["path"], "/v1/calls");
    assert!(body.contains("X-API-Key"));
    assert_eq!(*attempts, 1);
    assert!(!err.is_retryable());
    assert!(!format!("{err} {err:?}").contains("sk_live_wrong_key_123"));
}

#[tokio::test]
async fn a_422_lists_each_broken_rule() {
    // Bypass the client-side checks to see the server's verdict.
    let server = MockServer::start().await;
    let response = reqwest::Client::new()
        .post(format!("{}/v1/calls", server.base_url()))
        .header("x-api-key", server.api_key())
        .json(&serde_json::json!({"fromPhoneNumber": "+1234", "agentId": "a".repeat(65)}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 422);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        body["errors"],
        serde_json::json!([
            {"field": "toPhoneNumber", "rule": "required"},
            {"field": "agentId", "rule": "maxLength 64"},
            {"field": "fromPhoneNumber", "rule": r"pattern ^\+[1-9][0-9]{6,14}$"}
        ])
    );
}

#[tokio::test]
async fn a_422_from_the_server_is_an_api_error() {
    let server = MockServer::start().await;
    server.push_fault(Fault::Status(422));
    let err = client_for(&server)
        .create_call()
        .body(request())
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(422));
    let Error::Api { json, .. } = &err else {
        panic!("{err:?}")
    };
    let json = json.as_ref().unwrap();
    assert_eq!(json["error"], "Unprocessable Entity");
    assert_eq!(json["message"], "failure injected by the local server");
    assert_eq!(server.request_count(), 1);
}

#[tokio::test]
async fn an_invalid_phone_number_is_refused_before_sending() {
    let server = MockServer::start().await;
    let err = client_for(&server)
        .create_call()
        .body(
            CreateCallRequest::builder()
                .from_phone_number("+1234")
                .to_phone_number("+14155552672"),
        )
        .send()
        .await
        .unwrap_err();
    let Error::InvalidRequest { field, rule, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(field.as_deref(), Some("from_phone_number"));
    assert_eq!(rule, r#"doesn't match pattern "^\+[1-9][0-9]{6,14}$""#);
    assert_eq!(
        err.to_string(),
        r#"invalid request, nothing was sent: `from_phone_number` doesn't match pattern "^\+[1-9][0-9]{6,14}$""#
    );
    assert_eq!(server.request_count(), 0);
}

#[tokio::test]
async fn a_429_is_retried_after_retry_after_then_succeeds() {
    let server = MockServer::start().await;
    server.push_fault(Fault::TooManyRequests {
        retry_after: "1".into(),
    });
    let started = Instant::now();
    let call = client_for(&server)
        .create_call()
        .body(request())
        .send()
        .await
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "Retry-After was not honoured"
    );
    assert_eq!(call.into_inner().status, Some(CallStatus::Scheduled));
    assert_eq!(server.request_count(), 2);
}

#[tokio::test]
async fn repeated_429s_give_up_with_a_retryable_error() {
    let server = MockServer::start().await;
    for _ in 0..4 {
        server.push_fault(Fault::TooManyRequests {
            retry_after: "0".into(),
        });
    }
    let client = client_for(&server).with_retry_policy(fast_retries());
    let err = client.create_call().body(request()).send().await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(429));
    assert!(err.is_retryable());
    assert_eq!(err.retry_after(), Some(std::time::Duration::ZERO));
    let Error::Api { attempts, .. } = err else {
        panic!()
    };
    assert_eq!(attempts, 4);
    assert_eq!(server.request_count(), 4);
}

/// A `Retry-After` longer than the policy waits ends the retries at once:
/// the request is never sent before the time the server asked for, and
/// the error says how long that is.
#[tokio::test]
async fn a_retry_after_longer_than_the_client_waits_gives_up_at_once() {
    let server = MockServer::start().await;
    for retry_after in ["7", "86400"] {
        server.push_fault(Fault::TooManyRequests {
            retry_after: retry_after.into(),
        });
        let client = client_for(&server).with_retry_policy(RetryPolicy {
            max_retry_after: std::time::Duration::from_secs(5),
            ..fast_retries()
        });
        let before = server.request_count();
        let err = client.create_call().body(request()).send().await.unwrap_err();
        assert_eq!(server.request_count(), before + 1, "sent again early");
        assert!(err.is_retryable());
        let seconds: u64 = retry_after.parse().unwrap();
        assert_eq!(err.retry_after(), Some(std::time::Duration::from_secs(seconds)));
        let Error::Api { attempts, .. } = &err else {
            panic!("{err:?}")
        };
        assert_eq!(*attempts, 1);
        let expected = if seconds == 7 { "wait 7s" } else { "wait 1d 0h" };
        assert!(err.to_string().contains(expected), "{err}");
    }
}

#[tokio::test]
async fn a_500_on_create_call_is_not_retried() {
    let server = MockServer::start().await;
    server.push_fault(Fault::Status(500));
    let err = client_for(&server)
        .create_call()
        .body(request())
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(500));
    assert!(!err.is_retryable());
    assert_eq!(
        server.request_count(),
        1,
        "a retry could have placed the call twice"
    );
}

#[tokio::test]
async fn a_500_is_retried_when_the_caller_opts_in() {
    let server = MockServer::start().await;
    server.push_fault(Fault::Status(500));
    let eager = client_for(&server).with_retry_policy(RetryPolicy {
        retry_non_idempotent: true,
        ..fast_retries()
    });
    eager.create_call().body(request()).send().await.unwrap();
    assert_eq!(server.request_count(), 2);
    // The original client keeps its safe policy.
    server.push_fault(Fault::Status(503));
    let client = client_for(&server);
    assert!(!client.retry_policy().retry_non_idempotent);
    client.create_call().body(request()).send().await.unwrap_err();
    assert_eq!(server.request_count(), 3);
}

#[tokio::test]
async fn a_connection_dropped_after_sending_is_not_retried() {
    let server = MockServer::start().await;
    server.push_fault(Fault::DropConnection);
    let err = client_for(&server)
        .create_call()
        .body(request())
        .send()
        .await
        .unwrap_err();
    let Error::Connection { maybe_processed, .. } = &err else {
        panic!("{err:?}")
    };
    assert!(*maybe_processed);
    assert!(!err.is_retryable());
    assert_eq!(server.request_count(), 1);
}

/// Fails the first `failures` lookups (a connection that fails before anything
/// is sent), then resolves to the mock server.
struct FlakyDns {
    failures: usize,
    calls: AtomicUsize,
    target: SocketAddr,
}

impl reqwest::dns::Resolve for FlakyDns {
    fn resolve(&self, _: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        let result: Result<reqwest::dns::Addrs, Box<dyn std::error::Error + Send + Sync>> =
            if n < self.failures {
                Err("injected DNS failure".into())
            } else {
                Ok(Box::new(std::iter::once(self.target)))
            };
        Box::pin(async move { result })
    }
}

#[tokio::test]
async fn a_connection_that_failed_before_sending_is_retried() {
    let server = MockServer::start().await;
    let dns = Arc::new(FlakyDns {
        failures: 2,
        calls: AtomicUsize::new(0),
        target: server.addr(),
    });
    let http = reqwest::Client::builder().dns_resolver(dns.clone());
    let client = Client::builder()
        .api_key(server.api_key())
        .base_url(format!("http://localhost:{}", server.addr().port()))
        .http_client(http)
        .retry_policy(fast_retries())
        .build()
        .unwrap();
    let call = client.create_call().body(request()).send().await.unwrap();
    assert_eq!(call.into_inner().status, Some(CallStatus::Scheduled));
    assert_eq!(dns.calls.load(Ordering::SeqCst), 3);
    assert_eq!(server.request_count(), 1, "the call was placed exactly once");
}

#[tokio::test]
async fn a_connection_that_never_works_reports_nothing_was_sent() {
    let server = MockServer::start().await;
    let dns = Arc::new(FlakyDns {
        failures: usize::MAX,
        calls: AtomicUsize::new(0),
        target: server.addr(),
    });
    let client = Client::builder()
        .api_key(server.api_key())
        .base_url(format!("http://localhost:{}", server.addr().port()))
        .http_client(reqwest::Client::builder().dns_resolver(dns.clone()))
        .retry_policy(RetryPolicy {
            max_retries: 2,
            ..fast_retries()
        })
        .build()
        .unwrap();
    let err = client.create_call().body(request()).send().await.unwrap_err();
    let Error::Connection {
        maybe_processed,
        attempts,
        ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert!(!maybe_processed);
    assert_eq!(*attempts, 3);
    assert!(err.is_retryable());
    assert!(
        err.to_string()
            .starts_with("could not connect (3 attempt(s), nothing was sent)"),
        "{err}"
    );
    assert_eq!(server.request_count(), 0);
}

#[tokio::test]
async fn a_timeout_is_reported_as_a_timeout_and_not_retried() {
    let server = MockServer::start().await;
    server.push_fault(Fault::Delay(Duration::from_millis(800)));
    let client = Client::builder()
        .api_key(server.api_key())
        .base_url(server.base_url())
        .timeout(Duration::from_millis(200))
        .retry_policy(fast_retries())
        .build()
        .unwrap();
    let err = client.create_call().body(request()).send().await.unwrap_err();
    let Error::Timeout { attempts, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(*attempts, 1);
    assert!(!err.is_retryable());
    assert_eq!(server.request_count(), 1);
}

/// The client's timeout is set on the HTTP client it builds: one the
/// caller's own `reqwest::ClientBuilder` carries gives way to it.
#[tokio::test]
async fn the_timeout_applies_over_a_callers_http_client() {
    let server = MockServer::start().await;
    server.push_fault(Fault::Delay(Duration::from_millis(800)));
    let client = Client::builder()
        .api_key(server.api_key())
        .base_url(server.base_url())
        .http_client(reqwest::Client::builder().timeout(Duration::from_secs(600)))
        .timeout(Duration::from_millis(200))
        .retry_policy(fast_retries())
        .build()
        .unwrap();
    // A timeout, not the answer the server sends after 800 ms.
    let err = client.create_call().body(request()).send().await.unwrap_err();
    assert!(matches!(err, Error::Timeout { attempts: 1, .. }), "{err:?}");
}

#[tokio::test]
async fn a_non_json_body_is_undecodable() {
    let server = MockServer::start().await;
    server.push_fault(Fault::MalformedBody);
    let err = client_for(&server)
        .create_call()
        .body(request())
        .send()
        .await
        .unwrap_err();
    let Error::Undecodable {
        status,
        content_type,
        body_start,
        ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(status.map(|s| s.as_u16()), Some(201));
    assert_eq!(content_type.as_deref(), Some("text/html"));
    assert!(body_start.starts_with("<html>"));
    assert_eq!(err.status().map(|s| s.as_u16()), Some(201));
}

#[tokio::test]
async fn a_truncated_body_is_undecodable() {
    let server = MockServer::start().await;
    server.push_fault(Fault::TruncatedBody);
    let err = client_for(&server)
        .create_call()
        .body(request())
        .send()
        .await
        .unwrap_err();
    let Error::Undecodable { status, message, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(status.map(|s| s.as_u16()), Some(201));
    assert!(message.contains("could not be read completely"), "{message}");
    assert_eq!(server.request_count(), 1);
    // The call was placed, and the half that arrived names it.
    assert_eq!(err.fate(), sigmamind::fate::Fate::Processed);
    let placed = server.placed_calls();
    assert_eq!(err.call_id(), Some(placed[0].call_id.as_str()));
}

#[tokio::test]
async fn unknown_enum_values_and_fields_from_a_newer_server_parse() {
    let server = MockServer::start().await;
    server.push_fault(Fault::UnknownEnumValues);
    let call = client_for(&server)
        .create_call()
        .body(request())
        .send()
        .await
        .unwrap()
        .into_inner();
    // Each enum of the Call, with a value the spec does not list.
    assert_eq!(call.call_type.as_ref().map(CallType::as_str), Some("inbound_v2"));
    assert_eq!(call.status.as_ref().map(CallStatus::as_str), Some("scheduled_v2"));
    assert_eq!(
        call.termination_reason.as_ref().map(TerminationReason::as_str),
        Some("silence_timed_out_v2")
    );
    assert!(matches!(call.status, Some(CallStatus::Unknown(_))));
    let back = serde_json::to_value(&call).unwrap();
    assert_eq!(back["callType"], "inbound_v2");
    assert_eq!(back["status"], "scheduled_v2");
    assert_eq!(back["terminationReason"], "silence_timed_out_v2");
    assert_eq!(back["fieldFromANewerServer"], serde_json::json!({"score": 0.9}));
}

#[test]
fn the_api_key_never_shows() {
    let secret = "sk_live_5f2b9c0d_SECRET";
    let client = Client::builder().api_key(secret).build().unwrap();
    let builder_debug = format!("{:?}", Client::builder().api_key(secret));
    for text in [format!("{client:?}"), builder_debug] {
        assert!(!text.contains(secret), "{text}");
        assert!(text.contains("[redacted]"), "{text}");
    }
    for err in [
        Client::builder()
            .api_key(format!("{secret}\n"))
            .base_url("http://example.com")
            .build()
            .unwrap_err(),
        Client::builder()
            .api_key(format!("{secret}\u{7f}"))
            .build()
            .unwrap_err(),
    ] {
        assert!(!format!("{err} {err:?}").contains(secret), "{err:?}");
    }
}

#[test]
fn configuration_errors_come_at_build() {
    let missing = Client::builder().build().unwrap_err().to_string();
    assert!(missing.contains("no API key"), "{missing}");
    assert!(Client::builder()
        .api_key("  ")
        .build()
        .unwrap_err()
        .to_string()
        .contains("empty"));
    let plain = Client::builder()
        .api_key("k")
        .base_url("http://api.sigmamind.ai")
        .build()
        .unwrap_err()
        .to_string();
    assert!(plain.contains("only https is allowed"), "{plain}");
    for ok in [
        "http://127.0.0.1:9",
        "http://localhost:8080/",
        "http://[::1]:1",
        "https://api.example.com",
    ] {
        Client::builder()
            .api_key("k")
            .base_url(ok)
            .build()
            .unwrap_or_else(|e| panic!("{ok}: {e}"));
    }
    // A caller's builder takes the connect timeout too.
    Client::builder()
        .api_key("k")
        .http_client(reqwest::Client::builder())
        .connect_timeout(Duration::from_secs(1))
        .build()
        .unwrap();
}

#[test]
fn the_default_base_url_is_the_specs_server() {
    let client = Client::builder().api_key("k").build().unwrap();
    use sigmamind::ClientInfo;
    assert_eq!(client.baseurl(), "https://api.sigmamind.ai");
    assert_eq!(sigmamind::DEFAULT_BASE_URL, "https://api.sigmamind.ai");
}

#[test]
fn from_env_reads_key_and_base_url() {
    // The only test touching these variables (tests in a binary share them).
    std::env::remove_var("SIGMAMIND_API_KEY");
    assert!(Client::from_env().is_err());
    std::env::set_var("SIGMAMIND_API_KEY", "env_key");
    std::env::set_var("SIGMAMIND_BASE_URL", "http://127.0.0.1:1");
    let client = Client::from_env().unwrap();
    use sigmamind::ClientInfo;
    assert_eq!(client.baseurl(), "http://127.0.0.1:1");
    std::env::remove_var("SIGMAMIND_API_KEY");
    std::env::remove_var("SIGMAMIND_BASE_URL");
}
