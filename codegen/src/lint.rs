//! Rules that keep the spec generating good code: stable names, documented
//! fields. Run by `cargo xtask check` (and so by CI).

use serde_json::Value;

use crate::spec::{deref, operations, Spec};

/// Marks a schema whose properties the vendor documents no description for;
/// the description rule then accepts them without one (we do not invent text).
pub const UNDOCUMENTED_FIELDS: &str = "x-fields-undocumented-by-vendor";

/// One broken lint rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Where in the spec (a JSON-pointer-like path).
    pub location: String,
    /// What is wrong and why it matters.
    pub message: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

/// All findings for `spec`, in document order.
pub fn lint(spec: &Spec) -> Vec<Finding> {
    let doc = &spec.document;
    let mut findings = Vec::new();
    for (path, method, operation) in operations(doc) {
        let here = format!("paths.{path}.{method}");
        if operation.get("operationId").and_then(Value::as_str).is_none() {
            findings.push(Finding {
                location: here.clone(),
                message: "no operationId: the generated method name would be unstable".into(),
            });
        }
        for (code, response) in operation
            .get("responses")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let Some(content) = deref(doc, response)
                .and_then(|r| r.get("content"))
                .and_then(Value::as_object)
            else {
                continue;
            };
            for (media, body) in content {
                if let Some(schema) = body.get("schema") {
                    inline_types(
                        schema,
                        &format!("{here}.responses.{code}.{media}"),
                        true,
                        &mut findings,
                    );
                }
            }
        }
    }
    for (name, schema) in doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let here = format!("components.schemas.{name}");
        inline_types(schema, &here, false, &mut findings);
        if schema.get(UNDOCUMENTED_FIELDS) == Some(&Value::Bool(true)) {
            continue;
        }
        for (field, property) in schema
            .get("properties")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let described = property.get("description").is_some()
                || property
                    .get("$ref")
                    .and_then(Value::as_str)
                    .and_then(|r| crate::spec::resolve(doc, r))
                    .is_some_and(|target| target.get("description").is_some());
            if !described {
                findings.push(Finding {
                    location: format!("{here}.properties.{field}"),
                    message: format!(
                        "no description: the generated field has no docs (if the vendor gives none, \
                         set `{UNDOCUMENTED_FIELDS}: true` on the schema)"
                    ),
                });
            }
        }
    }
    findings
}

/// Objects and enums written inline where a named component belongs: in a
/// response or inside a component, the generated name would be made up from
/// the path. `top` is a response's own schema; a component may itself be an
/// object or enum, only its parts may not.
fn inline_types(schema: &Value, here: &str, top: bool, findings: &mut Vec<Finding>) {
    let Some(map) = schema.as_object() else { return };
    if map.contains_key("$ref") {
        return;
    }
    for (key, child) in map {
        let nested: Vec<(String, &Value)> = match key.as_str() {
            "properties" => child
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, v)| (format!("{here}.properties.{k}"), v))
                .collect(),
            "items" | "additionalProperties" => vec![(format!("{here}.{key}"), child)],
            "allOf" | "anyOf" | "oneOf" => child
                .as_array()
                .into_iter()
                .flatten()
                .enumerate()
                .map(|(i, v)| (format!("{here}.{key}.{i}"), v))
                .collect(),
            _ => continue,
        };
        for (location, value) in nested {
            let is_enum = value.get("enum").is_some();
            let is_object = value.get("properties").is_some();
            if is_enum || is_object {
                findings.push(Finding {
                    location: location.clone(),
                    message: format!(
                        "inline {}: make it a named schema under components/schemas so the generated \
                         type has a stable, readable name",
                        if is_enum { "enum" } else { "object" }
                    ),
                });
            }
            inline_types(value, &location, false, findings);
        }
    }
    if top && (map.contains_key("enum") || map.contains_key("properties")) {
        findings.push(Finding {
            location: here.to_owned(),
            message: "inline response schema: make it a named schema under components/schemas".into(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(document: Value) -> Spec {
        Spec::from_value("test.yaml", document).unwrap()
    }

    #[test]
    fn the_shipped_spec_is_clean() {
        let spec = Spec::load(concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi/sigmamind.yaml")).unwrap();
        assert_eq!(lint(&spec), vec![]);
    }

    #[test]
    fn inline_types_and_missing_descriptions_are_found() {
        let findings = lint(&spec(json!({
            "openapi": "3.0.3",
            "info": {"title": "t", "version": "1"},
            "paths": {"/x": {"get": {"operationId": "get_x", "responses": {"200": {
                "description": "ok",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/X"}}}
            }}}}},
            "components": {"schemas": {"X": {"type": "object", "properties": {
                "state": {"type": "string", "enum": ["a"], "description": "d"},
                "plain": {"type": "string"}
            }}}}
        })));
        let text: Vec<String> = findings.iter().map(ToString::to_string).collect();
        assert_eq!(text.len(), 2, "{text:#?}");
        assert!(
            text[0].starts_with("components.schemas.X.properties.state: inline enum"),
            "{text:#?}"
        );
        assert!(
            text[1].starts_with("components.schemas.X.properties.plain: no description"),
            "{text:#?}"
        );
    }
}
