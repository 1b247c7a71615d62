//! The spec as JSON, and helpers to walk it.

use std::sync::LazyLock;

use serde_json::Value;

pub static SPEC: LazyLock<Value> = LazyLock::new(|| serde_json::from_str(sigmamind::SPEC_JSON).unwrap());

/// The one schema walker of the project (refs, `allOf` wrappers, `nullable`).
pub fn unwrap<'a>(schema: &'a Value, lookup: &dyn Fn(&str) -> Option<&'a Value>) -> (&'a Value, bool) {
    sigmamind_codegen::schema::unwrap_with(schema, lookup)
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
