//! Rules that keep the spec generating good code: a default server, and
//! documented fields. Run by `cargo xtask check` (and so by CI); fixes go in
//! `openapi/overlay.yaml`.

use serde_json::Value;

use crate::spec::Spec;

/// Marks a schema whose properties the vendor documents no description for;
/// the description rule then accepts them without one (we do not invent text).
pub const UNDOCUMENTED_FIELDS: &str = "x-fields-undocumented-by-vendor";

/// One broken lint rule (a problem of the spec, not a drift finding).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where in the spec (a JSON-pointer-like path).
    pub location: String,
    /// What is wrong and why it matters.
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

/// All findings for `spec`, in document order. (Names and inline schemas
/// need no rules: the intake gives every operation and type a stable name.)
pub fn lint(spec: &Spec) -> Vec<Problem> {
    let doc = &spec.document;
    let mut findings = Vec::new();
    let server = doc.pointer("/servers/0/url").and_then(Value::as_str);
    if server.is_none_or(|url| url.trim_end_matches('/').is_empty()) {
        findings.push(Problem {
            location: "servers".to_owned(),
            message: "no server URL: the client would have no default base URL (`DEFAULT_BASE_URL` \
                      would be empty); add the API's URL"
                .to_owned(),
        });
    }
    for (name, schema) in doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let here = format!("components.schemas.{name}");
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
                findings.push(Problem {
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(document: Value) -> Spec {
        Spec::from_value("test.yaml", document).unwrap()
    }

    #[test]
    fn the_shipped_spec_is_clean() {
        let spec = Spec::load(concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi/sigmamind.json")).unwrap();
        assert_eq!(lint(&spec), vec![]);
    }

    #[test]
    fn missing_descriptions_are_found() {
        let findings = lint(&spec(json!({
            "openapi": "3.0.3",
            "info": {"title": "t", "version": "1"},
            "servers": [{"url": "https://api.example.com"}],
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
        assert_eq!(text.len(), 1, "{text:#?}");
        assert!(
            text[0].starts_with("components.schemas.X.properties.plain: no description"),
            "{text:#?}"
        );
    }

    #[test]
    fn a_spec_without_a_server_is_found() {
        let findings = lint(&spec(json!({
            "openapi": "3.0.3",
            "info": {"title": "t", "version": "1"},
            "paths": {}
        })));
        assert_eq!(findings.len(), 1);
        assert!(
            findings[0].to_string().starts_with("servers: no server URL"),
            "{findings:?}"
        );
    }
}
