//! Responses a server may send, generated from the spec's own response
//! schema (plus nulls, missing fields, unknown fields and enum values), all
//! parse; arbitrary bytes give an error, never a panic.

use proptest::prelude::*;
use serde_json::{Map, Value};
use sigmamind::types::Call;

use crate::spec::{spec_lookup, unwrap, SPEC};

/// Any JSON value valid for `schema`, or what a newer server might send
/// instead (null for optional fields, unknown enum values, extra fields).
fn arb(schema: &'static Value, depth: u32) -> BoxedStrategy<Value> {
    let (s, _) = unwrap(schema, &spec_lookup);
    if let Some(values) = s.get("enum").and_then(Value::as_array) {
        let known = proptest::sample::select(values.clone());
        return prop_oneof![3 => known, 1 => "[a-z_]{1,20}".prop_map(Value::from)].boxed();
    }
    match s.get("type").and_then(Value::as_str) {
        Some("string") if s.get("format").and_then(Value::as_str) == Some("date-time") => {
            (0i64..4_102_444_800, 0u32..1000)
                .prop_map(|(secs, ms)| {
                    let t = chrono::DateTime::from_timestamp(secs, ms * 1_000_000).unwrap();
                    Value::from(t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
                })
                .boxed()
        }
        Some("string") => "\\PC{0,40}".prop_map(Value::from).boxed(),
        Some("integer") if s.get("format").and_then(Value::as_str) == Some("int32") => {
            any::<i32>().prop_map(Value::from).boxed()
        }
        Some("integer") => any::<i64>().prop_map(Value::from).boxed(),
        Some("number") => any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from)
            .boxed(),
        Some("boolean") => any::<bool>().prop_map(Value::from).boxed(),
        Some("array") if depth > 0 => proptest::collection::vec(arb(&s["items"], depth - 1), 0..3)
            .prop_map(Value::from)
            .boxed(),
        Some("object") if depth > 0 && s.get("properties").is_some() => object(s, depth),
        Some("object") => proptest::collection::btree_map("[a-z_]{1,8}", "\\PC{0,8}", 0..3)
            .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k, Value::from(v))).collect()))
            .boxed(),
        _ => Just(Value::Null).boxed(),
    }
}

/// Each property: absent, null, or a value; plus an unknown field sometimes.
fn object(schema: &'static Value, depth: u32) -> BoxedStrategy<Value> {
    let fields: Vec<BoxedStrategy<Option<(String, Value)>>> = schema["properties"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(name, property)| {
            let name = name.clone();
            let value = prop_oneof![
                1 => Just(None),
                1 => Just(Some(Value::Null)),
                4 => arb(property, depth - 1).prop_map(Some),
            ];
            proptest::option::of(value)
                .prop_map(move |v| v.flatten().map(|v| (name.clone(), v)))
                .boxed()
        })
        .collect();
    (fields, proptest::option::of(("x_[a-z]{1,8}", "\\PC{0,8}")))
        .prop_map(|(fields, extra)| {
            let mut map: Map<String, Value> = fields.into_iter().flatten().collect();
            if let Some((k, v)) = extra {
                map.insert(k, Value::from(v));
            }
            Value::Object(map)
        })
        .boxed()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn every_response_a_server_may_send_parses(call in arb(&SPEC["components"]["schemas"]["Call"], 3)) {
        let parsed: Call = serde_json::from_value(call.clone())
            .map_err(|e| TestCaseError::fail(format!("{e}: {call}")))?;
        // What was known or unknown comes back as it was sent.
        for field in ["callType", "status", "terminationReason"] {
            if let Some(Value::String(sent)) = call.get(field) {
                prop_assert_eq!(&serde_json::to_value(&parsed).unwrap()[field], &Value::from(sent.as_str()));
            }
        }
    }

    #[test]
    fn arbitrary_bytes_are_an_error_not_a_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = serde_json::from_slice::<Call>(&bytes);
    }

    #[test]
    fn arbitrary_json_is_an_error_or_a_call(text in "\\{(\"[a-zA-Z]{1,12}\":(null|true|1|\"[a-z_]{0,8}\"|\\[\\]|\\{\\}),?){0,6}\\}") {
        let _ = serde_json::from_str::<Call>(&text);
    }
}
