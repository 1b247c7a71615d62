//! Requests built through the builders, captured on the wire by the local
//! server, validate against the spec's request schema with an independent
//! JSON Schema validator; invalid inputs are refused before sending.

use std::sync::LazyLock;

use proptest::prelude::*;
use serde_json::{json, Value};
use sigmamind::types::{AgentId, CreateCallRequest};
use sigmamind_mock::{MockOptions, MockServer};

use crate::spec::SPEC;

static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
});
static SERVER: LazyLock<MockServer> =
    LazyLock::new(|| RUNTIME.block_on(MockServer::start_with(MockOptions::default())));
/// Only invalid requests are aimed here, so its count must stay zero.
static UNTOUCHED: LazyLock<MockServer> = LazyLock::new(|| RUNTIME.block_on(MockServer::start()));

/// The spec's request schema as a JSON Schema document (OpenAPI 3.0 schemas
/// are draft-4 JSON Schema plus annotations; our request has no `nullable`).
static REQUEST_SCHEMA: LazyLock<jsonschema::Validator> = LazyLock::new(|| {
    let schema = json!({
        "$ref": "#/components/schemas/CreateCallRequest",
        "components": SPEC["components"],
    });
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .build(&schema)
        .unwrap()
});

fn phone() -> impl Strategy<Value = String> {
    "\\+[1-9][0-9]{6,14}"
}

fn agent() -> impl Strategy<Value = Option<String>> {
    proptest::option::of("\\PC{0,64}")
}

fn variables() -> impl Strategy<Value = serde_json::Map<String, Value>> {
    let value = prop_oneof![
        "\\PC{0,20}".prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<bool>().prop_map(Value::from),
    ];
    proptest::collection::btree_map("[a-z_]{1,12}", value, 0..5).prop_map(|m| m.into_iter().collect())
}

fn send_to(
    server: &MockServer,
    request: sigmamind::types::builder::CreateCallRequest,
) -> Result<(), sigmamind::Error> {
    RUNTIME.block_on(async {
        server
            .client()
            .create_call()
            .body(request)
            .send()
            .await
            .map(|_| ())
    })
}

fn last_body() -> Value {
    SERVER
        .requests()
        .last()
        .and_then(|r| r.json())
        .expect("a request reached the server")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn valid_input_sends_json_that_the_spec_accepts(
        from in phone(), to in phone(), agent in agent(), vars in variables()
    ) {
        let mut builder = CreateCallRequest::builder()
            .from_phone_number(from.as_str())
            .to_phone_number(to.as_str())
            .dynamic_variables(vars.clone());
        if let Some(agent) = &agent {
            builder = builder.agent_id(agent.parse::<AgentId>().unwrap());
        }
        send_to(&SERVER, builder).unwrap();
        let sent = last_body();
        let errors: Vec<String> = REQUEST_SCHEMA.iter_errors(&sent).map(|e| e.to_string()).collect();
        prop_assert!(errors.is_empty(), "{sent} breaks the spec: {errors:?}");
        prop_assert_eq!(&sent["fromPhoneNumber"], &json!(from));
        prop_assert_eq!(&sent["toPhoneNumber"], &json!(to));
        prop_assert_eq!(sent.get("agentId").cloned(), agent.map(Value::from));
        if !vars.is_empty() {
            prop_assert_eq!(&sent["dynamicVariables"], &Value::Object(vars));
        }
    }

    #[test]
    fn invalid_phone_numbers_are_refused_before_sending(
        bad in prop_oneof![
            "[1-9][0-9]{6,14}",          // no leading +
            "\\+0[0-9]{6,14}",           // country code cannot start with 0
            "\\+[1-9][0-9]{0,5}",        // too short
            "\\+[1-9][0-9]{15,20}",      // too long
            "\\+[1-9][0-9]{3}[ -][0-9]{4}", // formatting characters
        ],
        to in phone(),
    ) {
        let err = send_to(&UNTOUCHED, CreateCallRequest::builder().from_phone_number(bad.as_str()).to_phone_number(to.as_str()))
            .unwrap_err();
        let is_invalid = matches!(&err, sigmamind::Error::InvalidRequest { field: Some(f), .. } if f == "from_phone_number");
        prop_assert!(is_invalid, "{err:?}");
        prop_assert_eq!(UNTOUCHED.request_count(), 0);
        // The independent validator agrees that it is invalid.
        let body = json!({"fromPhoneNumber": bad, "toPhoneNumber": to});
        prop_assert!(!REQUEST_SCHEMA.is_valid(&body), "the validator accepted {}", body);
    }

    #[test]
    fn over_long_agent_ids_are_refused(agent in "\\PC{65,100}") {
        prop_assert!(agent.parse::<AgentId>().is_err());
        let body = json!({"fromPhoneNumber": "+14155552671", "toPhoneNumber": "+14155552672", "agentId": agent});
        prop_assert!(!REQUEST_SCHEMA.is_valid(&body), "the validator accepted {}", body);
    }
}
