//! Answers the spec itself gives: for an operation the local server has no
//! behaviour of its own for, the success response's example, or a value
//! built from its schema. So a new operation in the spec is answered
//! without code.

use http::StatusCode;
use serde_json::{json, Map, Value};

use super::routes::Route;

/// The spec's own answer: the documented success status, with the example
/// the spec gives for it or a value built from its schema (`204`, no body,
/// for an operation that documents no success).
pub(crate) fn documented_answer(spec: &Value, route: &Route<'_>) -> (StatusCode, Value) {
    let Some((code, response)) = route.success() else {
        return (StatusCode::NO_CONTENT, Value::Null);
    };
    let media = response.pointer("/content/application~1json");
    let example = media.and_then(|m| {
        m.get("example")
            .or_else(|| m.pointer("/examples").and_then(first_example))
    });
    let body = match (example, media.and_then(|m| m.get("schema"))) {
        (Some(example), _) => example.clone(),
        (None, Some(schema)) => instance(spec, schema, 0),
        (None, None) => Value::Null,
    };
    (success_status(code), body)
}

/// The status of a documented success key: `201` as it is, `2XX` as `200`.
pub(crate) fn success_status(code: &str) -> StatusCode {
    code.parse()
        .ok()
        .and_then(|c| StatusCode::from_u16(c).ok())
        .unwrap_or(StatusCode::OK)
}

fn first_example(examples: &Value) -> Option<&Value> {
    examples.as_object()?.values().next()?.get("value")
}

/// A value valid for `schema`: its example where it has one, else the
/// simplest value of its type (every property filled, the first enum value).
pub(crate) fn instance(spec: &Value, schema: &Value, depth: u32) -> Value {
    if depth > 16 {
        return Value::Null;
    }
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let target = super::spec::resolve(spec, reference);
        return target.map_or(Value::Null, |t| instance(spec, t, depth + 1));
    }
    if let Some(example) = schema.get("example") {
        return example.clone();
    }
    if let Some(first) = schema
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|v| v.first())
    {
        return first.clone();
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(first) = schema.get(key).and_then(Value::as_array).and_then(|m| m.first()) {
            return instance(spec, first, depth + 1);
        }
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        let mut merged = Map::new();
        for part in all {
            match instance(spec, part, depth + 1) {
                Value::Object(map) => merged.extend(map),
                other if all.len() == 1 => return other,
                _ => {}
            }
        }
        return Value::Object(merged);
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("string") => match schema.get("format").and_then(Value::as_str) {
            Some("date-time") => json!("2024-04-20T10:00:00.000Z"),
            Some("date") => json!("2024-04-20"),
            _ => {
                let min = schema.get("minLength").and_then(Value::as_u64).unwrap_or(0);
                Value::String("x".repeat(min.max(1) as usize))
            }
        },
        Some("integer") | Some("number") => {
            json!(schema.get("minimum").and_then(Value::as_i64).unwrap_or(0))
        }
        Some("boolean") => json!(false),
        Some("array") => match schema.get("items") {
            Some(items) if schema.get("minItems").and_then(Value::as_u64).unwrap_or(0) > 0 => {
                json!([instance(spec, items, depth + 1)])
            }
            _ => json!([]),
        },
        _ => {
            let properties = schema.get("properties").and_then(Value::as_object);
            Value::Object(
                properties
                    .into_iter()
                    .flatten()
                    .map(|(name, s)| (name.clone(), instance(spec, s, depth + 1)))
                    .collect(),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::Method;

    /// FIXTURE: a spec with an operation the local server has no behaviour for.
    fn spec() -> Value {
        json!({"paths": {"/v1/things/{id}": {"get": {
            "operationId": "get_thing",
            "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}}}
        }}}, "components": {"schemas": {"Thing": {
            "type": "object",
            "required": ["id", "state"],
            "properties": {
                "id": {"type": "string", "pattern": "^t_", "example": "t_1"},
                "state": {"type": "string", "enum": ["on", "off"]},
                "at": {"type": "string", "format": "date-time"},
                "n": {"type": "integer", "minimum": 3},
                "tags": {"type": "array", "items": {"type": "string"}},
                "either": {"oneOf": [{"type": "integer"}, {"type": "string"}]}
            }
        }}}})
    }

    #[test]
    fn an_operation_without_behaviour_is_answered_from_its_schema() {
        let spec = spec();
        let route = Route::find(&spec, &Method::GET, "/v1/things/t_1").unwrap();
        let (status, body) = documented_answer(&spec, &route);
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            body,
            json!({"id": "t_1", "state": "on", "at": "2024-04-20T10:00:00.000Z", "n": 3, "tags": [], "either": 0})
        );
    }
}
