//! Which operation of the spec a request is for, and the answer the spec
//! itself gives for an operation the mock has no behaviour of its own for:
//! the success response's example, or a value built from its schema. So a
//! new operation in the spec is answered without code.

use reqwest::{Method, StatusCode};
use serde_json::{json, Map, Value};

/// An operation of the spec, matched to a request.
#[derive(Debug, Clone)]
pub(crate) struct Route<'a> {
    /// Its `operationId`.
    pub operation_id: &'a str,
    /// Its operation object.
    pub operation: &'a Value,
}

/// Why a request has no operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RouteMiss {
    /// No path of the spec matches.
    NoPath,
    /// The path exists; `OPTIONS` asks which methods it has.
    Options { allow: String },
    /// The path exists, without this method.
    Method { allow: String },
}

impl<'a> Route<'a> {
    /// The operation at `method path` (path templates such as `{callId}`
    /// match any one segment; the query is ignored). `HEAD` is `GET`
    /// without the body, as HTTP says.
    pub fn find(spec: &'a Value, method: &Method, path: &str) -> Result<Route<'a>, RouteMiss> {
        let path = path.split('?').next().unwrap_or(path);
        let paths = spec
            .get("paths")
            .and_then(Value::as_object)
            .ok_or(RouteMiss::NoPath)?;
        let (_, item) = paths
            .iter()
            .find(|(template, _)| matches(template, path))
            .ok_or(RouteMiss::NoPath)?;
        let lookup = if method == Method::HEAD {
            "get".to_owned()
        } else {
            method.as_str().to_ascii_lowercase()
        };
        if let Some(operation) = item.get(&lookup) {
            if let Some(id) = operation.get("operationId").and_then(Value::as_str) {
                return Ok(Route {
                    operation_id: id,
                    operation,
                });
            }
        }
        let allow = allowed(item);
        if method == Method::OPTIONS {
            return Err(RouteMiss::Options { allow });
        }
        Err(RouteMiss::Method { allow })
    }

    /// The JSON schema of the request body, if the operation takes one.
    pub fn body_schema(&self) -> Option<&'a Value> {
        self.operation
            .pointer("/requestBody/content/application~1json/schema")
    }

    /// The spec's own answer: the first success status, with the example the
    /// spec gives for it or a value built from its schema.
    pub fn documented_answer(&self, spec: &Value) -> (StatusCode, Value) {
        let responses = self.operation.get("responses").and_then(Value::as_object);
        let success = responses
            .into_iter()
            .flatten()
            .find(|(code, _)| code.starts_with('2'));
        let Some((code, response)) = success else {
            return (StatusCode::NO_CONTENT, Value::Null);
        };
        let status = code.parse().ok().and_then(|c| StatusCode::from_u16(c).ok());
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
        (status.unwrap_or(StatusCode::OK), body)
    }
}

/// The `Allow` header of a path item: its methods, `HEAD` where it has
/// `GET`, and `OPTIONS`.
fn allowed(item: &Value) -> String {
    const METHODS: [&str; 7] = ["get", "put", "post", "delete", "options", "patch", "trace"];
    let mut allow: Vec<String> = METHODS
        .iter()
        .filter(|m| item.get(**m).is_some())
        .map(|m| m.to_uppercase())
        .collect();
    if item.get("get").is_some() {
        allow.push("HEAD".into());
    }
    if item.get("options").is_none() {
        allow.push("OPTIONS".into());
    }
    allow.join(", ")
}

fn first_example(examples: &Value) -> Option<&Value> {
    examples.as_object()?.values().next()?.get("value")
}

/// Whether a path template (`/v1/calls/{callId}`) matches a concrete path.
fn matches(template: &str, path: &str) -> bool {
    let (t, p): (Vec<&str>, Vec<&str>) = (template.split('/').collect(), path.split('/').collect());
    t.len() == p.len()
        && t.iter()
            .zip(&p)
            .all(|(t, p)| (t.starts_with('{') && t.ends_with('}') && !p.is_empty()) || t == p)
}

/// A value valid for `schema`: its example where it has one, else the
/// simplest value of its type (every property filled, the first enum value).
pub(crate) fn instance(spec: &Value, schema: &Value, depth: u32) -> Value {
    if depth > 16 {
        return Value::Null;
    }
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let target = reference.strip_prefix('#').and_then(|p| spec.pointer(p));
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

    /// FIXTURE: a spec with an operation the mock has no behaviour for.
    fn spec() -> Value {
        json!({"paths": {"/v1/calls/{callId}": {"get": {
            "operationId": "get_call",
            "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}}}
        }}}, "components": {"schemas": {"Thing": {
            "type": "object",
            "required": ["id", "state"],
            "properties": {
                "id": {"type": "string", "pattern": "^t_", "example": "t_1"},
                "state": {"type": "string", "enum": ["on", "off"]},
                "at": {"type": "string", "format": "date-time"},
                "n": {"type": "integer", "minimum": 3},
                "tags": {"type": "array", "items": {"type": "string"}}
            }
        }}}})
    }

    #[test]
    fn templated_paths_route_and_others_do_not() {
        let spec = spec();
        let route = Route::find(&spec, &Method::GET, "/v1/calls/call_1?x=1").unwrap();
        assert_eq!(route.operation_id, "get_call");
        assert_eq!(
            Route::find(&spec, &Method::HEAD, "/v1/calls/call_1")
                .unwrap()
                .operation_id,
            "get_call"
        );
        assert_eq!(
            Route::find(&spec, &Method::GET, "/v1/calls/").unwrap_err(),
            RouteMiss::NoPath
        );
        assert_eq!(
            Route::find(&spec, &Method::GET, "/v1/calls/a/b").unwrap_err(),
            RouteMiss::NoPath
        );
        let allow = "GET, HEAD, OPTIONS".to_owned();
        assert_eq!(
            Route::find(&spec, &Method::POST, "/v1/calls/call_1").unwrap_err(),
            RouteMiss::Method { allow: allow.clone() }
        );
        assert_eq!(
            Route::find(&spec, &Method::OPTIONS, "/v1/calls/call_1").unwrap_err(),
            RouteMiss::Options { allow }
        );
    }

    #[test]
    fn an_operation_without_behaviour_is_answered_from_its_schema() {
        let spec = spec();
        let route = Route::find(&spec, &Method::GET, "/v1/calls/call_1").unwrap();
        let (status, body) = route.documented_answer(&spec);
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            body,
            json!({"id": "t_1", "state": "on", "at": "2024-04-20T10:00:00.000Z", "n": 3, "tags": []})
        );
    }
}
