//! `cargo xtask drift`: from what live responses carried (a client's drift
//! summary, or recorded response bodies) to proposed spec changes, written
//! as Overlay actions on the vendor's document, so that accepting drift is
//! one command and one review:
//! - an unknown enum value: the value appended to the enum;
//! - an unknown field: the field added, with its JSON type;
//! - a mistyped field: the field widened to its documented type or the one
//!   seen (`oneOf`), or, for a string in another format, the format dropped.
//!   A breaking change for users (the Rust type changes): the change report
//!   says so, and `update-spec` needs `--allow-breaking`;
//! - an undocumented success status: the status documented with the
//!   operation's success body.
//!
//! The summary is read into typed entries: a kind this xtask does not know
//! (written by a newer sigmamind) is refused, never guessed.

use std::collections::BTreeSet;
use std::path::Path;

use serde::Deserialize;
use serde_json::{json, Value};
use sigmamind_codegen::intake::NameBook;
use sigmamind_codegen::spec::{operations, parse_text, resolve};

/// What kind of thing the spec does not know: the SDK's own type, as its
/// summary writes it.
pub use sigmamind::DriftKind;

/// One thing responses carried that the spec does not know (an entry of
/// the SDK's `DriftSummary`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
pub struct DriftEntry {
    /// The operation's Rust name (`create_call`).
    pub operation: String,
    /// JSON path in the response body (`campaign.agent`, `` for the root).
    pub path: String,
    /// What kind of thing.
    pub kind: DriftKind,
    /// The enum value, the field name, or the status.
    pub value: String,
    /// For a field or a type, the JSON type seen.
    #[serde(default)]
    pub json_type: Option<String>,
}

#[derive(Deserialize)]
struct Summary {
    entries: Vec<DriftEntry>,
}

/// Reads a drift summary (the JSON of `Client::drift()`).
pub fn from_summary(text: &str) -> Result<Vec<DriftEntry>, String> {
    let summary: Summary = serde_json::from_str(text).map_err(|e| {
        let unknown = e.to_string().contains("unknown variant");
        let hint = if unknown {
            " (a kind of drift this xtask does not know: a newer sigmamind wrote it; update xtask first)"
        } else {
            ""
        };
        format!("not a drift summary: {e}{hint}")
    })?;
    Ok(summary.entries)
}

/// Walks recorded response bodies, laid out as `DIR/<operation>/*.json`,
/// against the effective spec's success response of each operation.
/// (Bodies carry no status: undocumented statuses come from summaries.)
pub fn from_bodies(dir: &Path, effective: &Value) -> Result<Vec<DriftEntry>, String> {
    let mut seen = BTreeSet::new();
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for op_dir in entries.filter_map(Result::ok).filter(|e| e.path().is_dir()) {
        let operation = op_dir.file_name().to_string_lossy().into_owned();
        let schema = operations(effective)
            .into_iter()
            .find(|(_, _, op)| op["operationId"] == operation.as_str())
            .and_then(|(_, _, op)| success_schema(op))
            .ok_or_else(|| {
                format!(
                    "{}: no operation `{operation}` with a JSON success body",
                    dir.display()
                )
            })?;
        for file in std::fs::read_dir(op_dir.path())
            .map_err(|e| e.to_string())?
            .filter_map(Result::ok)
        {
            let text = std::fs::read_to_string(file.path()).map_err(|e| e.to_string())?;
            let body: Value =
                serde_json::from_str(&text).map_err(|e| format!("{}: {e}", file.path().display()))?;
            let mut walk = Walk {
                doc: effective,
                operation: &operation,
                out: &mut seen,
            };
            walk.value(schema, &body, "");
        }
    }
    Ok(seen.into_iter().collect())
}

fn success_schema(op: &Value) -> Option<&Value> {
    op["responses"]
        .as_object()?
        .iter()
        .find(|(code, _)| code.starts_with('2'))
        .and_then(|(_, r)| r.pointer("/content/application~1json/schema"))
}

struct Walk<'a> {
    doc: &'a Value,
    operation: &'a str,
    out: &'a mut BTreeSet<DriftEntry>,
}

impl Walk<'_> {
    fn found(&mut self, path: &str, kind: DriftKind, value: &str, json_type: Option<&str>) {
        self.out.insert(DriftEntry {
            operation: self.operation.to_owned(),
            path: path.to_owned(),
            kind,
            value: value.to_owned(),
            json_type: json_type.map(str::to_owned),
        });
    }

    fn value(&mut self, schema: &Value, body: &Value, path: &str) {
        let (schema, _) = sigmamind_codegen::schema::unwrap(self.doc, schema);
        let join = |step: &str| {
            if path.is_empty() {
                step.to_owned()
            } else {
                format!("{path}.{step}")
            }
        };
        match body {
            Value::String(s) => {
                if let Some(values) = schema["enum"].as_array() {
                    if !values.iter().any(|v| v == body) {
                        self.found(path, DriftKind::EnumValue, s, None);
                    }
                }
            }
            Value::Object(map) => {
                let Some(properties) = schema["properties"].as_object() else {
                    return;
                };
                for (name, value) in map {
                    match properties.get(name) {
                        Some(sub) if !fits(self.doc, sub, value) => {
                            self.found(path, DriftKind::Type, name, Some(json_type(value)));
                        }
                        Some(sub) => self.value(sub, value, &join(name)),
                        None => self.found(path, DriftKind::Field, name, Some(json_type(value))),
                    }
                }
            }
            Value::Array(items) => {
                for item in items {
                    self.value(&schema["items"], item, &format!("{path}[]"));
                }
            }
            _ => {}
        }
    }
}

/// Whether `value` is of the JSON type (and date-time format) `schema`
/// documents; `null` fits every place (responses accept it).
fn fits(doc: &Value, schema: &Value, value: &Value) -> bool {
    let (schema, _) = sigmamind_codegen::schema::unwrap(doc, schema);
    if value.is_null() {
        return true;
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(members) = schema.get(key).and_then(Value::as_array) {
            return members.iter().any(|m| fits(doc, m, value));
        }
    }
    let kind = schema["type"]
        .as_str()
        .or_else(|| schema.get("properties").map(|_| "object"));
    match (kind, value) {
        (None, _) => true,
        (Some("string"), Value::String(s)) => {
            schema["format"] != "date-time" || chrono::DateTime::parse_from_rfc3339(s).is_ok()
        }
        (Some("integer"), Value::Number(n)) => n.is_i64() || n.is_u64(),
        (Some("number"), Value::Number(_)) => true,
        (Some("boolean"), Value::Bool(_)) => true,
        (Some("array"), Value::Array(_)) => true,
        (Some("object"), Value::Object(_)) => true,
        _ => false,
    }
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// The Overlay actions that would make the vendor's document describe what
/// was seen, targeting the schema where the vendor writes it.
pub fn overlay_actions(seen: &[DriftEntry], vendor: &Value, names: &NameBook) -> Result<Vec<Value>, String> {
    let mut actions = Vec::new();
    let mut done = BTreeSet::new();
    for s in seen {
        let location = names
            .operations
            .iter()
            .find(|(_, name)| **name == s.operation)
            .map(|(location, _)| location.clone())
            .ok_or_else(|| format!("no operation `{}` in the name book", s.operation))?;
        let (method, path) = location.split_once(' ').ok_or("a malformed operation location")?;
        let method = method.to_lowercase();
        let op_pointer = format!("/paths/{}/{method}", path.replace('~', "~0").replace('/', "~1"));
        let op = vendor
            .pointer(&op_pointer)
            .ok_or_else(|| format!("the vendor's document has no {location}"))?;
        let code = op["responses"]
            .as_object()
            .and_then(|r| r.keys().find(|c| c.starts_with('2')).cloned())
            .ok_or_else(|| format!("{location} has no success response"))?;
        if s.kind == DriftKind::Status {
            if done.insert((location.clone(), s.kind, s.value.clone())) {
                let mut response = op["responses"][&code].clone();
                response["description"] = json!(format!(
                    "Seen in live responses: the live API answers {} where the vendor documents {code} \
                     (cargo xtask drift).",
                    s.value
                ));
                actions.push(json!({
                    "target": format!("$.paths['{path}'].{method}.responses"),
                    "description": format!("drift: success status {} seen for {} (cargo xtask drift)", s.value, s.operation),
                    "update": {s.value.clone(): response}
                }));
            }
            continue;
        }
        let mut target =
            format!("$.paths['{path}'].{method}.responses['{code}'].content['application/json'].schema");
        let mut node = op
            .pointer(&format!(
                "/responses/{}/content/application~1json/schema",
                code.replace('/', "~1")
            ))
            .ok_or_else(|| format!("{location} {code} has no JSON body"))?;
        let steps: Vec<&str> = if s.path.is_empty() {
            Vec::new()
        } else {
            s.path.split('.').collect()
        };
        for step in steps {
            (node, target) = settle(vendor, node, target)?;
            let (name, items) = match step.strip_suffix("[]") {
                Some(name) => (name, true),
                None => (step, false),
            };
            node = node
                .pointer(&format!(
                    "/properties/{}",
                    name.replace('~', "~0").replace('/', "~1")
                ))
                .ok_or_else(|| format!("{location}: no property `{name}` on the way to `{}`", s.path))?;
            target = format!("{target}.properties['{name}']");
            if items {
                (node, target) = settle(vendor, node, target)?;
                node = &node["items"];
                target = format!("{target}.items");
            }
        }
        let (node, target) = settle(vendor, node, target)?;
        if !done.insert((target.clone(), s.kind, s.value.clone())) {
            continue;
        }
        let at = if s.path.is_empty() {
            "the body".to_owned()
        } else {
            format!("`{}`", s.path)
        };
        match s.kind {
            DriftKind::EnumValue => actions.push(json!({
                "target": target,
                "description": format!("drift: `{}` seen at {at} of {} responses (cargo xtask drift)", s.value, s.operation),
                "update": {"enum": [s.value]}
            })),
            DriftKind::Field => {
                let mut field = match s.json_type.as_deref() {
                    Some("array") => json!({"type": "array", "items": {}}),
                    Some("null") | None => json!({}),
                    Some(t) => json!({"type": t}),
                };
                field["description"] =
                    json!("Seen in live responses; not documented by the vendor (cargo xtask drift).");
                actions.push(json!({
                    "target": target,
                    "description": format!("drift: field `{}` seen at {at} of {} responses (cargo xtask drift)", s.value, s.operation),
                    "update": {"properties": {s.value.clone(): field}}
                }));
            }
            DriftKind::Type => {
                let documented = node["properties"]
                    .get(&s.value)
                    .ok_or_else(|| format!("{location}: no property `{}` at {at}", s.value))?;
                let seen_type = s.json_type.as_deref().unwrap_or("string");
                let description = format!(
                    "drift: `{}` at {at} of {} responses seen as {seen_type}, not its documented type \
                     (cargo xtask drift; a breaking change in Rust)",
                    s.value, s.operation
                );
                let property = format!("{target}.properties['{}']", s.value);
                // Overlay 1.0 merges updates: to replace a property, remove it, then add it back.
                actions.push(json!({"target": property, "description": description, "remove": true}));
                actions.push(json!({
                    "target": format!("{target}.properties"),
                    "description": description,
                    "update": {s.value.clone(): widened(vendor, documented, seen_type)}
                }));
            }
            DriftKind::Status => unreachable!("handled above"),
            other => {
                return Err(format!(
                    "{location}: drift of a kind this xtask has no correction for ({other:?}): update xtask"
                ))
            }
        }
    }
    Ok(actions)
}

/// A property schema that accepts both its documented type and the one seen.
fn widened(vendor: &Value, documented: &Value, seen: &str) -> Value {
    let note = "Seen in live responses in another type than the vendor documents (cargo xtask drift).";
    let description = documented
        .get("description")
        .and_then(Value::as_str)
        .map_or(note.to_owned(), |d| format!("{d} {note}"));
    let (resolved, _) = sigmamind_codegen::schema::unwrap(vendor, documented);
    let kind = resolved["type"].as_str();
    // A string in another format: the same type, without the format.
    if kind == Some("string") && seen == "string" {
        let mut plain = resolved.clone();
        if let Some(map) = plain.as_object_mut() {
            map.remove("format");
            map.insert("description".into(), json!(description));
            map.remove("example");
        }
        return plain;
    }
    // A float where an integer is documented: every integer is a number.
    if kind == Some("integer") && seen == "number" {
        return json!({"type": "number", "nullable": documented.get("nullable").cloned().unwrap_or(json!(false)), "description": description});
    }
    let mut member = documented.clone();
    if let Some(map) = member.as_object_mut() {
        for site in ["description", "example", "nullable"] {
            map.remove(site);
        }
    }
    let mut out = json!({"oneOf": [member, {"type": seen}], "description": description});
    if documented.get("nullable") == Some(&json!(true)) {
        out["nullable"] = json!(true);
    }
    out
}

/// Follows a `$ref` (then the target is the component), a one-member
/// `allOf`, or a 3.1 `anyOf`/`oneOf` with `null`, to the schema that holds
/// the properties or the enum.
fn settle<'a>(
    doc: &'a Value,
    mut node: &'a Value,
    mut target: String,
) -> Result<(&'a Value, String), String> {
    for _ in 0..32 {
        if let Some(reference) = node.get("$ref").and_then(Value::as_str) {
            let name = reference
                .strip_prefix("#/components/schemas/")
                .ok_or_else(|| format!("a `$ref` outside components/schemas: {reference}"))?;
            node = resolve(doc, reference).ok_or_else(|| format!("`{reference}` points at nothing"))?;
            target = format!("$.components.schemas['{name}']");
            continue;
        }
        if let Some(only) = sigmamind_codegen::schema::single_all_of(node) {
            node = only;
            target = format!("{target}.allOf[0]");
            continue;
        }
        let nullable_union = ["anyOf", "oneOf"].into_iter().find_map(|key| {
            let members = node.get(key)?.as_array()?;
            let real: Vec<(usize, &Value)> = members
                .iter()
                .enumerate()
                .filter(|(_, m)| m["type"] != "null")
                .collect();
            (real.len() == 1 && members.len() == 2).then(|| (key, real[0]))
        });
        if let Some((key, (i, member))) = nullable_union {
            node = member;
            target = format!("{target}.{key}[{i}]");
            continue;
        }
        return Ok((node, target));
    }
    Err("schema references nest too deep".into())
}

/// The actions as YAML list items, to append under `actions:`.
pub fn yaml_actions(actions: &[Value]) -> Result<String, String> {
    let yaml = serde_yaml_ng::to_string(&Value::Array(actions.to_vec())).map_err(|e| e.to_string())?;
    Ok(yaml.lines().map(|l| format!("  {l}\n")).collect())
}

/// Reads a summary file or a directory of bodies.
pub fn read(input: &Path, effective_text: &str) -> Result<Vec<DriftEntry>, String> {
    if input.is_dir() {
        let effective = parse_text(effective_text)?;
        return from_bodies(input, &effective);
    }
    let text = std::fs::read_to_string(input).map_err(|e| format!("{}: {e}", input.display()))?;
    from_summary(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kind_this_xtask_does_not_know_is_refused() {
        let summary = json!({"entries": [{"operation": "create_call", "path": "", "kind": "shape", "value": "x", "count": 1, "first_seen": ""}], "overflow": 0});
        let error = from_summary(&summary.to_string()).unwrap_err();
        assert!(
            error.contains("unknown variant `shape`") && error.contains("update xtask first"),
            "{error}"
        );
    }
}
