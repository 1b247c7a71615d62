//! Feature `tracing`: one span per HTTP attempt, never the key or the body.
#![cfg(feature = "tracing")]

use std::sync::{Arc, Mutex};

use sigmamind::types::CreateCallRequest;
use sigmamind_mock::{Fault, MockServer};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// Keeps every span's name and fields as text.
#[derive(Clone, Default)]
struct Spans(Arc<Mutex<Vec<String>>>);

impl Spans {
    /// The recorded lines that start with `prefix`.
    fn starting_with(&self, prefix: &str) -> Vec<String> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|s| s.starts_with(prefix))
            .cloned()
            .collect()
    }
}

/// One valid `create_call` on `server` (the destination number is what the
/// tests look for in the output).
async fn place_call(server: &MockServer) {
    server
        .client()
        .create_call()
        .body(
            CreateCallRequest::builder()
                .from_phone_number("+14155552671")
                .to_phone_number("+19995550100"),
        )
        .send()
        .await
        .unwrap();
}

struct Text<'a>(&'a mut String);

impl Visit for Text<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!(" {}={:?}", field.name(), value));
    }
}

impl Subscriber for Spans {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let mut spans = self.0.lock().unwrap();
        let mut line = span.metadata().name().to_owned();
        span.record(&mut Text(&mut line));
        spans.push(line);
        Id::from_u64(spans.len() as u64)
    }
    fn record(&self, id: &Id, values: &Record<'_>) {
        let mut spans = self.0.lock().unwrap();
        let line = &mut spans[id.into_u64() as usize - 1];
        values.record(&mut Text(line));
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut line = format!("event {}", event.metadata().target());
        event.record(&mut Text(&mut line));
        self.0.lock().unwrap().push(line);
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

#[tokio::test]
async fn each_attempt_gets_a_span_without_secrets() {
    let spans = Spans::default();
    let _guard = tracing::subscriber::set_default(spans.clone());
    let server = MockServer::start().await;
    server.push_fault(Fault::TooManyRequests {
        retry_after: "0".into(),
    });
    place_call(&server).await;
    let ours = spans.starting_with("sigmamind.request");
    assert_eq!(ours.len(), 2, "{ours:#?}");
    for (attempt, (line, status)) in ours.iter().zip(["429", "201"]).enumerate() {
        assert!(line.contains("operation_id=\"create_call\""), "{line}");
        assert!(line.contains("method=POST"), "{line}");
        assert!(line.contains(&format!("attempt={}", attempt + 1)), "{line}");
        assert!(line.contains(&format!("status={status}")), "{line}");
        assert!(line.contains("latency_ms="), "{line}");
        assert!(!line.contains(server.api_key()), "{line}");
        assert!(!line.contains("+19995550100"), "{line}");
    }
}

#[tokio::test]
async fn drift_is_an_event_with_names_and_unknown_values_only() {
    let spans = Spans::default();
    let _guard = tracing::subscriber::set_default(spans.clone());
    let server = MockServer::start().await;
    server.push_fault(Fault::Json(
        201,
        serde_json::json!({"callId": "call_secret_id", "status": "voicemail_left", "sentiment": {"score": 0.987}}),
    ));
    place_call(&server).await;
    let events = spans.starting_with("event sigmamind::drift");
    assert_eq!(events.len(), 2, "{events:#?}");
    assert!(
        events
            .iter()
            .any(|e| e.contains("enum_value=voicemail_left") && e.contains("path=status")),
        "{events:#?}"
    );
    assert!(
        events
            .iter()
            .any(|e| e.contains("field=sentiment") && e.contains("json_type=\"object\"")),
        "{events:#?}"
    );
    for event in &events {
        assert!(event.contains("operation=\"create_call\""), "{event}");
        for secret in ["call_secret_id", "0.987", "+19995550100", server.api_key()] {
            assert!(!event.contains(secret), "{event}");
        }
    }
}
