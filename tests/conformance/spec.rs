//! The spec as JSON, and helpers to walk it.

use std::sync::LazyLock;

use serde_json::Value;

pub static SPEC: LazyLock<Value> = LazyLock::new(|| serde_json::from_str(sigmamind::SPEC_JSON).unwrap());

/// Follows `$ref`s and one-item `allOf`s; returns the schema and whether a
/// layer on the way said `nullable`.
pub fn unwrap<'a>(mut schema: &'a Value, lookup: &dyn Fn(&str) -> Option<&'a Value>) -> (&'a Value, bool) {
    let mut nullable = false;
    for _ in 0..32 {
        nullable |= schema.get("nullable") == Some(&Value::Bool(true));
        if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
            schema = lookup(r).unwrap_or_else(|| panic!("unresolved {r}"));
            continue;
        }
        match schema.get("allOf").and_then(Value::as_array).map(Vec::as_slice) {
            Some([only]) => schema = only,
            _ => break,
        }
    }
    (schema, nullable)
}

pub fn spec_lookup(reference: &str) -> Option<&'static Value> {
    SPEC.pointer(reference.strip_prefix('#')?)
}

/// Timestamps compared as instants: chrono writes `10:00:00Z` for the
/// spec's `10:00:00.000Z`.
pub fn same_instants(value: &Value) -> Value {
    match value {
        Value::String(s) => match chrono::DateTime::parse_from_rfc3339(s) {
            Ok(t) => serde_json::json!({ "instant_ns": t.timestamp_nanos_opt() }),
            Err(_) => value.clone(),
        },
        Value::Array(items) => Value::Array(items.iter().map(same_instants).collect()),
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), same_instants(v))).collect()),
        other => other.clone(),
    }
}
