//! Checks JSON against the spec's own schemas (the OpenAPI 3.0 subset the
//! spec uses), so the mock server judges requests by the same rules the
//! vendor documents, and tests can check what the mock answers.
//!
//! A subset, not the `jsonschema` crate: that crate would add about 21 s to
//! a clean debug build of the `mock` feature on a 2-core machine (7.7 s →
//! 29.0 s for the same base dependencies, measured in one run; see
//! BENCHMARKS.md), which every downstream test suite pays. The subset is kept
//! honest instead: a keyword it does not implement is refused loudly, at
//! server start ([`unsupported_keywords`]) and in every check, never passed
//! through; and the conformance tests cross-check requests with `jsonschema`.

use std::fmt;

use serde_json::Value;

use super::spec::crate_spec;

/// One rule a value breaks.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Violation {
    /// Where, as a dotted JSON path (`fromPhoneNumber`, `campaign.agent.name`);
    /// empty for the document itself.
    pub field: String,
    /// The rule, as the spec states it (`pattern ^\+[1-9][0-9]{6,14}$`,
    /// `maxLength 64`, `required`, `type string`).
    pub rule: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "body breaks {}", self.rule)
        } else {
            write!(f, "`{}` breaks {}", self.field, self.rule)
        }
    }
}

/// The schema keywords this validator checks.
pub const CHECKED_KEYWORDS: [&str; 17] = [
    "$ref",
    "nullable",
    "allOf",
    "anyOf",
    "oneOf",
    "type",
    "enum",
    "required",
    "properties",
    "additionalProperties",
    "items",
    "maxLength",
    "minLength",
    "pattern",
    "format",
    "minimum",
    "maximum",
];

/// Keywords that say nothing about which values are valid (documentation,
/// and `readOnly`/`writeOnly`, which the server does not enforce). Any other
/// keyword in the spec is one this validator does not implement: a test
/// fails on it (`tests/mock_server.rs`).
pub const IGNORED_KEYWORDS: [&str; 8] = [
    "description",
    "default",
    "title",
    "example",
    "externalDocs",
    "deprecated",
    "readOnly",
    "writeOnly",
];

/// Schema keywords in the spec that this validator does not implement, with
/// where they are: the server refuses to start on any (see the module docs).
pub fn unsupported_keywords(spec: &Value) -> Vec<String> {
    fn walk(schema: &Value, at: &str, out: &mut Vec<String>) {
        let Some(map) = schema.as_object() else { return };
        for (key, value) in map {
            if !is_known(key) {
                out.push(format!("`{key}` at {at}"));
            }
            match key.as_str() {
                "properties" => {
                    for (name, s) in value.as_object().into_iter().flatten() {
                        walk(s, &format!("{at}/properties/{name}"), out);
                    }
                }
                "items" | "additionalProperties" | "not" => walk(value, &format!("{at}/{key}"), out),
                "allOf" | "anyOf" | "oneOf" => {
                    for (i, s) in value.as_array().into_iter().flatten().enumerate() {
                        walk(s, &format!("{at}/{key}/{i}"), out);
                    }
                }
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    for (name, schema) in spec
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        walk(schema, &format!("#/components/schemas/{name}"), &mut out);
    }
    for (path, item) in spec.get("paths").and_then(Value::as_object).into_iter().flatten() {
        for (method, operation) in item.as_object().into_iter().flatten() {
            if let Some(schema) = operation.pointer("/requestBody/content/application~1json/schema") {
                walk(schema, &format!("{method} {path} request"), &mut out);
            }
        }
    }
    out
}

fn is_known(keyword: &str) -> bool {
    keyword.starts_with("x-") || CHECKED_KEYWORDS.contains(&keyword) || IGNORED_KEYWORDS.contains(&keyword)
}

/// Validates `value` against the crate's spec's component schema `name`
/// (`"Call"`, `"CreateCallRequest"`, ...).
pub fn validate_component(name: &str, value: &Value) -> Result<(), Vec<Violation>> {
    let spec = crate_spec();
    let schema = spec
        .pointer(&format!("/components/schemas/{name}"))
        .unwrap_or_else(|| panic!("the spec has no component schema `{name}`"));
    validate_in(spec, schema, value)
}

/// Validates `value` against a schema taken from the crate's spec.
pub fn validate(schema: &Value, value: &Value) -> Result<(), Vec<Violation>> {
    validate_in(crate_spec(), schema, value)
}

/// Validates `value` against a schema of `spec` (its `$ref`s resolve there).
pub(crate) fn validate_in(spec: &Value, schema: &Value, value: &Value) -> Result<(), Vec<Violation>> {
    let mut violations = Vec::new();
    check(spec, schema, value, "", &mut violations);
    if violations.is_empty() {
        Ok(())
    } else {
        Err(violations)
    }
}

/// Validates a path parameter's text against its parameter object's
/// schema: read as the JSON type the schema names (`integer` from `42`).
pub(crate) fn validate_parameter(spec: &Value, parameter: &Value, raw: &str) -> Result<(), Vec<Violation>> {
    let name = parameter.get("name").and_then(Value::as_str).unwrap_or("?");
    let Some(schema) = parameter.get("schema") else {
        return Ok(());
    };
    let value = match type_of(spec, schema) {
        Some("integer") | Some("number") => serde_json::from_str::<serde_json::Number>(raw)
            .map(Value::Number)
            .unwrap_or_else(|_| Value::String(raw.to_owned())),
        Some("boolean") => match raw {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => Value::String(raw.to_owned()),
        },
        _ => Value::String(raw.to_owned()),
    };
    let mut violations = Vec::new();
    check(spec, schema, &value, name, &mut violations);
    if violations.is_empty() {
        Ok(())
    } else {
        Err(violations)
    }
}

/// The `type` a schema names, through `$ref`s and one-member `allOf`s.
fn type_of<'a>(spec: &'a Value, schema: &'a Value) -> Option<&'a str> {
    super::spec::unwrap(spec, schema)
        .get("type")
        .and_then(Value::as_str)
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn fail(out: &mut Vec<Violation>, path: &str, rule: String) {
    out.push(Violation {
        field: path.to_owned(),
        rule,
    });
}

fn check(spec: &Value, schema: &Value, value: &Value, path: &str, out: &mut Vec<Violation>) {
    let Some(schema) = schema.as_object() else {
        return; // `true` / `{}`: anything goes
    };
    // Never pass a rule through unchecked: an unknown keyword is a violation.
    for keyword in schema.keys().filter(|k| !is_known(k)) {
        fail(
            out,
            path,
            format!("{keyword} (a keyword this validator does not implement)"),
        );
    }
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let target = reference
            .strip_prefix('#')
            .and_then(|p| spec.pointer(p))
            .unwrap_or_else(|| panic!("unresolved $ref {reference}"));
        return check(spec, target, value, path, out);
    }
    if value.is_null() {
        if schema.get("nullable") != Some(&Value::Bool(true)) {
            fail(out, path, "not null (the spec does not mark it nullable)".into());
        }
        return;
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        for sub in all {
            check(spec, sub, value, path, out);
        }
    }
    // anyOf: at least one member accepts it; oneOf: exactly one does.
    for (keyword, exactly_one) in [("anyOf", false), ("oneOf", true)] {
        let Some(members) = schema.get(keyword).and_then(Value::as_array) else {
            continue;
        };
        let accepted = members
            .iter()
            .filter(|member| {
                let mut inner = Vec::new();
                check(spec, member, value, path, &mut inner);
                inner.is_empty()
            })
            .count();
        let ok = if exactly_one { accepted == 1 } else { accepted >= 1 };
        if !ok {
            fail(
                out,
                path,
                format!("{keyword} ({accepted} of {} members accept it)", members.len()),
            );
        }
    }
    if let Some(kind) = schema.get("type").and_then(Value::as_str) {
        let ok = match kind {
            "string" => value.is_string(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "boolean" => value.is_boolean(),
            "object" => value.is_object(),
            "array" => value.is_array(),
            _ => true,
        };
        if !ok {
            return fail(out, path, format!("type {kind}"));
        }
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array) {
        if !allowed.contains(value) {
            let list: Vec<String> = allowed.iter().map(|v| v.to_string()).collect();
            fail(out, path, format!("enum [{}]", list.join(", ")));
        }
    }
    match value {
        Value::String(s) => check_string(schema, s, path, out),
        Value::Number(n) => check_number(schema, n, path, out),
        Value::Object(map) => {
            let properties = schema.get("properties").and_then(Value::as_object);
            for name in schema
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(name) = name.as_str() {
                    if !map.contains_key(name) {
                        fail(out, &join(path, name), "required".into());
                    }
                }
            }
            for (key, item) in map {
                match properties.and_then(|p| p.get(key)) {
                    Some(sub) => check(spec, sub, item, &join(path, key), out),
                    None => match schema.get("additionalProperties") {
                        Some(Value::Bool(false)) => {
                            fail(out, &join(path, key), "additionalProperties false".into())
                        }
                        Some(sub @ Value::Object(_)) => check(spec, sub, item, &join(path, key), out),
                        _ => {}
                    },
                }
            }
        }
        Value::Array(items) => {
            if let Some(sub) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    check(spec, sub, item, &join(path, &i.to_string()), out);
                }
            }
        }
        _ => {}
    }
}

fn check_string(schema: &serde_json::Map<String, Value>, s: &str, path: &str, out: &mut Vec<Violation>) {
    let chars = s.chars().count() as u64;
    if let Some(max) = schema.get("maxLength").and_then(Value::as_u64) {
        if chars > max {
            fail(out, path, format!("maxLength {max}"));
        }
    }
    if let Some(min) = schema.get("minLength").and_then(Value::as_u64) {
        if chars < min {
            fail(out, path, format!("minLength {min}"));
        }
    }
    if let Some(pattern) = schema.get("pattern").and_then(Value::as_str) {
        let matches = regress::Regex::new(pattern)
            .map(|re| re.find(s).is_some())
            .unwrap_or(false);
        if !matches {
            fail(out, path, format!("pattern {pattern}"));
        }
    }
    if schema.get("format").and_then(Value::as_str) == Some("date-time")
        && chrono::DateTime::parse_from_rfc3339(s).is_err()
    {
        fail(out, path, "format date-time".into());
    }
}

fn check_number(
    schema: &serde_json::Map<String, Value>,
    n: &serde_json::Number,
    path: &str,
    out: &mut Vec<Violation>,
) {
    if schema.get("format").and_then(Value::as_str) == Some("int32")
        && n.as_i64().is_none_or(|v| i32::try_from(v).is_err())
    {
        fail(out, path, "format int32".into());
    }
    let v = n.as_f64().unwrap_or(f64::NAN);
    if let Some(min) = schema.get("minimum").and_then(Value::as_f64) {
        if v < min {
            fail(out, path, format!("minimum {min}"));
        }
    }
    if let Some(max) = schema.get("maximum").and_then(Value::as_f64) {
        if v > max {
            fail(out, path, format!("maximum {max}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keywords_it_does_not_implement_are_refused_loudly() {
        let spec = serde_json::json!({"components": {"schemas": {"X": {
            "type": "object",
            "properties": {"a": {"not": {"type": "string"}}}
        }}}});
        assert_eq!(
            unsupported_keywords(&spec),
            vec!["`not` at #/components/schemas/X/properties/a".to_owned()]
        );
        let schema = serde_json::json!({"not": {"type": "string"}, "description": "d"});
        let violations = validate(&schema, &serde_json::json!(1)).unwrap_err();
        assert_eq!(
            violations[0].rule,
            "not (a keyword this validator does not implement)"
        );
        // The shipped spec uses none.
        assert_eq!(unsupported_keywords(crate_spec()), Vec::<String>::new());
    }

    #[test]
    fn any_of_and_one_of_count_the_members_that_accept() {
        let widened = json!({"oneOf": [{"type": "string"}, {"type": "integer"}]});
        assert_eq!(validate(&widened, &json!("+14155552671")), Ok(()));
        assert_eq!(validate(&widened, &json!(14155552671u64)), Ok(()));
        let violations = validate(&widened, &json!(true)).unwrap_err();
        assert_eq!(violations[0].rule, "oneOf (0 of 2 members accept it)");
        let overlapping = json!({"oneOf": [{"type": "number"}, {"type": "integer"}]});
        assert!(
            validate(&overlapping, &json!(3)).is_err(),
            "both accept an integer"
        );
        let any = json!({"anyOf": [{"type": "number"}, {"type": "integer"}]});
        assert_eq!(validate(&any, &json!(3)), Ok(()));
    }

    #[test]
    fn path_parameters_are_read_as_their_type() {
        let spec = json!({});
        let id = json!({"name": "callId", "in": "path", "schema": {"type": "string", "pattern": "^call_"}});
        assert_eq!(validate_parameter(&spec, &id, "call_1"), Ok(()));
        let violations = validate_parameter(&spec, &id, "x1").unwrap_err();
        assert_eq!(violations[0].to_string(), "`callId` breaks pattern ^call_");
        let page = json!({"name": "page", "in": "path", "schema": {"type": "integer", "minimum": 1}});
        assert_eq!(validate_parameter(&spec, &page, "2"), Ok(()));
        assert_eq!(
            validate_parameter(&spec, &page, "two").unwrap_err()[0].rule,
            "type integer"
        );
        assert_eq!(
            validate_parameter(&spec, &page, "0").unwrap_err()[0].rule,
            "minimum 1"
        );
    }

    fn rules(name: &str, value: Value) -> Vec<String> {
        match validate_component(name, &value) {
            Ok(()) => vec![],
            Err(v) => v.iter().map(|v| v.to_string()).collect(),
        }
    }

    #[test]
    fn request_rules_come_from_the_spec() {
        assert_eq!(
            rules(
                "CreateCallRequest",
                json!({"fromPhoneNumber": "+14155552671", "toPhoneNumber": "+14155552672"})
            ),
            Vec::<String>::new()
        );
        assert_eq!(
            rules(
                "CreateCallRequest",
                json!({"fromPhoneNumber": "+1234", "agentId": "a".repeat(65), "dynamicVariables": []})
            ),
            vec![
                "`toPhoneNumber` breaks required",
                "`agentId` breaks maxLength 64",
                "`dynamicVariables` breaks type object",
                r"`fromPhoneNumber` breaks pattern ^\+[1-9][0-9]{6,14}$",
            ]
        );
    }

    #[test]
    fn response_rules_cover_enums_nulls_and_formats() {
        assert_eq!(
            rules(
                "Call",
                json!({"status": "ended", "duration": null, "startTime": null})
            ),
            Vec::<String>::new()
        );
        assert_eq!(
            rules("Call", json!({"status": "paused", "transcript": null, "createdAt": "yesterday", "duration": 1e12})),
            vec![
                "`createdAt` breaks format date-time",
                "`duration` breaks type integer",
                "`status` breaks enum [\"scheduled\", \"in_progress\", \"ended\", \"not_connected\", \"error\"]",
                "`transcript` breaks not null (the spec does not mark it nullable)",
            ]
        );
    }
}
