//! When the live API disagrees with the spec: the vendor's own pages show
//! other success statuses, other types for documented fields, and
//! redirects are possible on any network. Each answer here is a FIXTURE
//! imitating such a live API, served by a plain loopback server (not the
//! crate's local server), and none may lose a placed call.

use sigmamind_test_servers as support;

use serde_json::{json, Value};
use sigmamind::fate::Fate;
use sigmamind::types::{CreateCallRequest, E164PhoneNumber};
use sigmamind::{Client, DriftKind, Error};
use support::{vendor_example_call, Answer, RawServer};

const CALL_ID: &str = "call_AuUKK371Spr5nHJS";

fn client(base_url: &str) -> Client {
    Client::builder()
        .api_key("sk_test_key")
        .base_url(base_url)
        .build()
        .unwrap()
}

async fn create(client: &Client) -> Result<sigmamind::types::Call, Error> {
    let request = CreateCallRequest::builder()
        .from_phone_number("+14155552671".parse::<E164PhoneNumber>().unwrap())
        .to_phone_number("+14155552672");
    client
        .create_call()
        .body(request)
        .send()
        .await
        .map(|r| r.into_inner())
}

/// Timestamps as instants: chrono writes `…:00Z` for the vendor's `…:00.000Z`.
fn instants(value: &Value) -> Value {
    match value {
        Value::String(s) => match chrono::DateTime::parse_from_rfc3339(s) {
            Ok(t) => Value::String(t.to_utc().to_rfc3339()),
            Err(_) => value.clone(),
        },
        Value::Array(items) => Value::Array(items.iter().map(instants).collect()),
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), instants(v))).collect()),
        other => other.clone(),
    }
}

#[tokio::test]
async fn any_2xx_with_the_vendors_example_is_the_call_and_one_drift_finding() {
    for (status, reason) in [(200, "OK"), (202, "Accepted")] {
        let server = RawServer::start(Answer::json(status, reason, &vendor_example_call())).await;
        let client = client(&server.url());
        let call = create(&client).await.unwrap_or_else(|e| panic!("{status}: {e}"));
        assert_eq!(call.call_id.as_deref(), Some(CALL_ID), "{status}");
        let drift = client.drift();
        assert_eq!(drift.entries.len(), 1, "{status}: {drift:?}");
        let entry = &drift.entries[0];
        assert_eq!(
            (entry.kind, entry.value.as_str(), entry.path.as_str()),
            (DriftKind::Status, status.to_string().as_str(), ""),
            "{status}"
        );
        assert_eq!(server.received().len(), 1, "sent once");
    }
    // The documented status is no drift.
    let server = RawServer::start(Answer::json(201, "Created", &vendor_example_call())).await;
    let client = client(&server.url());
    create(&client).await.unwrap();
    assert_eq!(client.drift().entries, []);
}

/// One field whose value does not fit its documented type: the call is
/// still read, the field is absent, its raw value is kept (the call
/// serialises back to what was sent), and it is one drift finding.
#[tokio::test]
async fn a_mistyped_field_reads_as_absent_and_keeps_its_raw_value() {
    let cases: [(&str, Value, &str, &str, &str); 5] = [
        // (JSON pointer, value from the vendor's other pages, path, field, JSON type)
        (
            "/phoneNumber/sipPhoneNumber",
            json!(14155552671u64),
            "phoneNumber",
            "sipPhoneNumber",
            "integer",
        ),
        ("/phoneNumber", json!("Object"), "", "phoneNumber", "string"),
        ("/duration", json!("120"), "", "duration", "string"),
        ("/duration", json!(120.5), "", "duration", "number"),
        (
            "/createdAt",
            json!("2024-04-20 09:59:50"),
            "",
            "createdAt",
            "string",
        ),
    ];
    for (pointer, value, path, field, json_type) in cases {
        let mut body = vendor_example_call();
        *body.pointer_mut(pointer).unwrap() = value.clone();
        let server = RawServer::start(Answer::json(201, "Created", &body)).await;
        let client = client(&server.url());
        let call = create(&client).await.unwrap_or_else(|e| panic!("{pointer}: {e}"));
        assert_eq!(call.call_id.as_deref(), Some(CALL_ID), "{pointer}");
        let (absent, raw) = match pointer {
            "/phoneNumber/sipPhoneNumber" => {
                let number = call.phone_number.as_ref().unwrap();
                (number.sip_phone_number.is_none(), number.extra.get(field))
            }
            "/phoneNumber" => (call.phone_number.is_none(), call.extra.get(field)),
            "/duration" => (call.duration.is_none(), call.extra.get(field)),
            _ => (call.created_at.is_none(), call.extra.get(field)),
        };
        assert!(absent, "{pointer} reads as absent");
        assert_eq!(raw, Some(&value), "{pointer}: the raw value is kept");
        assert_eq!(
            instants(&serde_json::to_value(&call).unwrap()),
            instants(&body),
            "{pointer}: the call serialises back to what the server sent"
        );
        let drift = client.drift();
        assert_eq!(drift.entries.len(), 1, "{pointer}: {drift:?}");
        let entry = &drift.entries[0];
        assert_eq!(
            (
                entry.kind,
                entry.path.as_str(),
                entry.value.as_str(),
                entry.json_type.as_deref()
            ),
            (DriftKind::Type, path, field, Some(json_type)),
            "{pointer}"
        );
        let summary = serde_json::to_string(&drift).unwrap();
        if let Value::String(text) = &value {
            assert!(
                !summary.contains(text.as_str()),
                "the value itself is never recorded: {summary}"
            );
        }
    }
}

#[tokio::test]
async fn a_body_that_is_not_a_call_is_undecodable_and_still_offers_the_call_id() {
    // Not whole JSON: the id is read from the raw body.
    let cut = format!(r#"{{"callId": "{CALL_ID}", "status": "sched"#);
    let answer = Answer {
        body: cut.into_bytes(),
        ..Answer::json(201, "Created", &Value::Null)
    };
    let server = RawServer::start(answer).await;
    let err = create(&client(&server.url())).await.unwrap_err();
    assert!(matches!(err, Error::Undecodable { .. }), "{err:?}");
    assert_eq!(err.call_id(), Some(CALL_ID));
    assert_eq!(err.fate(), Fate::Processed, "a 2xx: the call was placed");
    assert!(err.to_string().contains(CALL_ID), "{err}");

    // JSON, but not an object.
    let server = RawServer::start(Answer::json(200, "OK", &json!([CALL_ID]))).await;
    let err = create(&client(&server.url())).await.unwrap_err();
    assert!(matches!(err, Error::Undecodable { .. }), "{err:?}");
    assert_eq!(err.call_id(), None);
    assert_eq!(err.fate(), Fate::Processed);
}

/// A redirect towards another host and port (`localhost` instead of
/// `127.0.0.1`, over plain http): nothing reaches that host, and the user
/// gets an error naming the `Location`. Also when the caller's own reqwest
/// builder asks to follow redirects.
#[tokio::test]
async fn a_redirect_is_never_followed_and_carries_no_key_anywhere() {
    let elsewhere = RawServer::start(Answer::json(201, "Created", &vendor_example_call())).await;
    let location = format!("http://localhost:{}/v1/calls", elsewhere.addr.port());
    for (status, reason) in [
        (307, "Temporary Redirect"),
        (308, "Permanent Redirect"),
        (302, "Found"),
    ] {
        let redirecting =
            RawServer::start(Answer::json(status, reason, &json!({})).header("location", &location)).await;
        let ours = client(&redirecting.url());
        let theirs = Client::builder()
            .api_key("sk_test_key")
            .base_url(redirecting.url())
            .http_client(reqwest::Client::builder().redirect(reqwest::redirect::Policy::limited(10)))
            .build()
            .unwrap();
        for client in [ours, theirs] {
            let err = create(&client).await.unwrap_err();
            assert_eq!(err.status().map(|s| s.as_u16()), Some(status));
            assert_eq!(err.location(), Some(location.as_str()), "{status}");
            assert!(err.to_string().contains(&location), "{err}");
            assert!(!err.to_string().contains("sk_test_key"), "{err}");
            assert_eq!(
                err.fate(),
                Fate::Unknown,
                "{status}: the request may have been processed"
            );
        }
        assert_eq!(
            redirecting.received().len(),
            2,
            "{status}: each client sent once, no retry"
        );
        assert!(
            elsewhere.received().is_empty(),
            "{status}: the other host received nothing"
        );
    }
}
