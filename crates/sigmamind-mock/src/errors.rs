//! The local server's error bodies, in the shape the spec documents for the
//! status: each documented property that says what went wrong is filled
//! (`error` with the HTTP reason phrase, `code` with it in snake case,
//! `message`, `status`, `path`, `timestamp`, `errors` with one entry per
//! broken rule), any other required one from the schema. Where the spec documents no body for the status, the
//! shape the vendor's pages show for their errors
//! (`{error, message, path, status, timestamp}`, Spring's), as the live API
//! most likely sends it. So when a vendor release documents its own error
//! bodies, the local server answers with them, unchanged code.

use http::StatusCode;
use serde_json::{json, Map, Value};

use super::routes::Route;
use super::spec::{deref, unwrap};
use super::synthesize::instance;
use super::validate::Violation;

/// What went wrong, to be put into the documented error body.
pub(crate) struct Problem<'a> {
    pub status: StatusCode,
    pub message: &'a str,
    pub violations: &'a [Violation],
    /// The request's path, without the query.
    pub path: &'a str,
}

/// The error body for `problem`, for the operation `route` (when the
/// request matched one).
pub(crate) fn body(spec: &Value, route: Option<&Route<'_>>, problem: &Problem<'_>) -> Value {
    let schema = route.and_then(|r| documented_schema(spec, r, problem.status.as_u16()));
    let Some(schema) = schema
        .map(|s| unwrap(spec, s))
        .filter(|s| s.get("properties").is_some())
    else {
        return vendor_shape(problem);
    };
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let mut body = Map::new();
    for (name, property) in schema
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let value = match fill(name, problem) {
            Some(value) => value,
            None if required.contains(&name.as_str()) => instance(spec, property, 0),
            None => continue,
        };
        body.insert(name.clone(), value);
    }
    Value::Object(body)
}

/// The value of a property that describes the problem, by its name.
fn fill(name: &str, problem: &Problem<'_>) -> Option<Value> {
    Some(match name {
        "error" => json!(problem.status.canonical_reason().unwrap_or("Error")),
        "code" => json!(problem
            .status
            .canonical_reason()
            .unwrap_or("error")
            .to_ascii_lowercase()
            .replace([' ', '-'], "_")),
        "message" => json!(problem.message),
        "status" => json!(problem.status.as_u16()),
        "path" => json!(problem.path),
        "timestamp" => json!(now()),
        "errors" if !problem.violations.is_empty() => {
            serde_json::to_value(problem.violations).expect("violations serialise")
        }
        _ => return None,
    })
}

/// The shape of the vendor's error examples, with `errors` when rules broke.
fn vendor_shape(problem: &Problem<'_>) -> Value {
    let mut body = json!({
        "error": problem.status.canonical_reason().unwrap_or("Error"),
        "message": problem.message,
        "path": problem.path,
        "status": problem.status.as_u16(),
        "timestamp": now(),
    });
    if let Some(errors) = fill("errors", problem) {
        body["errors"] = errors;
    }
    body
}

/// The JSON schema documented for `code`: exactly, by its class, or `default`.
fn documented_schema<'a>(spec: &'a Value, route: &Route<'a>, code: u16) -> Option<&'a Value> {
    let responses = route.operation.get("responses")?.as_object()?;
    let response = [
        code.to_string(),
        format!("{}XX", code / 100),
        "default".to_owned(),
    ]
    .iter()
    .find_map(|key| responses.get(key))?;
    deref(spec, response).pointer("/content/application~1json/schema")
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::Method;

    fn problem<'a>(violations: &'a [Violation]) -> Problem<'a> {
        Problem {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            message: "`toPhoneNumber` breaks required",
            violations,
            path: "/v1/calls",
        }
    }

    #[test]
    fn without_a_documented_body_it_is_the_vendors_shape() {
        let body = body(&json!({}), None, &problem(&[]));
        assert_eq!(body["error"], "Unprocessable Entity");
        assert_eq!(body["status"], 422);
        assert_eq!(body["path"], "/v1/calls");
        assert!(chrono::DateTime::parse_from_rfc3339(body["timestamp"].as_str().unwrap()).is_ok());
        assert!(body.get("errors").is_none());
    }

    /// FIXTURE: a vendor release documenting its own 422 body.
    #[test]
    fn a_documented_body_is_filled_as_documented() {
        let spec = json!({"paths": {"/v1/calls": {"post": {"operationId": "create_call", "responses": {
            "422": {"description": "invalid", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ValidationError"}}}}
        }}}}, "components": {"schemas": {"ValidationError": {
            "type": "object",
            "required": ["message", "code"],
            "properties": {
                "message": {"type": "string"},
                "code": {"type": "string"},
                "errors": {"type": "array"},
                "hint": {"type": "string"}
            }
        }}}});
        let route = Route::find(&spec, &Method::POST, "/v1/calls").unwrap();
        let broken = [Violation {
            field: "toPhoneNumber".into(),
            rule: "required".into(),
        }];
        let body = body(&spec, Some(&route), &problem(&broken));
        assert_eq!(
            body,
            json!({
                "message": "`toPhoneNumber` breaks required",
                "code": "unprocessable_entity",
                "errors": [{"field": "toPhoneNumber", "rule": "required"}]
            })
        );
    }
}
