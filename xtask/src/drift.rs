//! `cargo xtask drift`: from what live responses carried (a client's drift
//! summary, or recorded response bodies) to proposed spec changes, written
//! as Overlay actions on the vendor's document, so that accepting drift is
//! one command and one review.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::{json, Value};
use sigmamind_codegen::intake::NameBook;
use sigmamind_codegen::spec::{operations, parse_text, resolve};

/// One thing responses carried that the spec does not know.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Seen {
    /// The operation's Rust name (`create_call`).
    pub operation: String,
    /// JSON path in the response body (`campaign.agent`, `` for the root).
    pub path: String,
    /// `true`: an enum value; `false`: a field.
    pub enum_value: bool,
    /// The value or the field name.
    pub value: String,
    /// A field's JSON type.
    pub json_type: Option<String>,
}

/// Reads a drift summary (the JSON of `Client::drift()`).
pub fn from_summary(text: &str) -> Result<Vec<Seen>, String> {
    let summary: Value = serde_json::from_str(text).map_err(|e| format!("not a drift summary: {e}"))?;
    let entries = summary["entries"]
        .as_array()
        .ok_or("not a drift summary: no `entries`")?;
    entries
        .iter()
        .map(|e| {
            let text = |key: &str| {
                e[key]
                    .as_str()
                    .map(str::to_owned)
                    .ok_or(format!("an entry has no `{key}`"))
            };
            Ok(Seen {
                operation: text("operation")?,
                path: text("path")?,
                enum_value: e["kind"] == "enum_value",
                value: text("value")?,
                json_type: e["json_type"].as_str().map(str::to_owned),
            })
        })
        .collect()
}

/// Walks recorded response bodies, laid out as `DIR/<operation>/*.json`,
/// against the effective spec's success response of each operation.
pub fn from_bodies(dir: &Path, effective: &Value) -> Result<Vec<Seen>, String> {
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
            walk(effective, schema, &body, "", &operation, &mut seen);
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

fn walk(doc: &Value, schema: &Value, body: &Value, path: &str, operation: &str, out: &mut BTreeSet<Seen>) {
    let (schema, _) = sigmamind_codegen::schema::unwrap(doc, schema);
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
                    out.insert(Seen {
                        operation: operation.to_owned(),
                        path: path.to_owned(),
                        enum_value: true,
                        value: s.clone(),
                        json_type: None,
                    });
                }
            }
        }
        Value::Object(map) => {
            let Some(properties) = schema["properties"].as_object() else {
                return;
            };
            for (name, value) in map {
                match properties.get(name) {
                    Some(sub) => walk(doc, sub, value, &join(name), operation, out),
                    None => {
                        out.insert(Seen {
                            operation: operation.to_owned(),
                            path: path.to_owned(),
                            enum_value: false,
                            value: name.clone(),
                            json_type: Some(json_type(value).to_owned()),
                        });
                    }
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                walk(doc, &schema["items"], item, &format!("{path}[]"), operation, out);
            }
        }
        _ => {}
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
pub fn overlay_actions(seen: &[Seen], vendor: &Value, names: &NameBook) -> Result<Vec<Value>, String> {
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
        let op_pointer = format!(
            "/paths/{}/{}",
            path.replace('~', "~0").replace('/', "~1"),
            method.to_lowercase()
        );
        let op = vendor
            .pointer(&op_pointer)
            .ok_or_else(|| format!("the vendor's document has no {location}"))?;
        let code = op["responses"]
            .as_object()
            .and_then(|r| r.keys().find(|c| c.starts_with('2')).cloned())
            .ok_or_else(|| format!("{location} has no success response"))?;
        let mut target = format!(
            "$.paths['{path}'].{}.responses['{code}'].content['application/json'].schema",
            method.to_lowercase()
        );
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
        let (_, target) = settle(vendor, node, target)?;
        if !done.insert((target.clone(), s.enum_value, s.value.clone())) {
            continue;
        }
        let at = if s.path.is_empty() {
            "the body".to_owned()
        } else {
            format!("`{}`", s.path)
        };
        actions.push(if s.enum_value {
            json!({
                "target": target,
                "description": format!("drift: `{}` seen at {at} of {} responses (cargo xtask drift)", s.value, s.operation),
                "update": {"enum": [s.value]}
            })
        } else {
            let mut field = match s.json_type.as_deref() {
                Some("array") => json!({"type": "array", "items": {}}),
                Some("null") | None => json!({}),
                Some(t) => json!({"type": t}),
            };
            field["description"] = json!("Seen in live responses; not documented by the vendor (cargo xtask drift).");
            json!({
                "target": target,
                "description": format!("drift: field `{}` seen at {at} of {} responses (cargo xtask drift)", s.value, s.operation),
                "update": {"properties": {s.value.clone(): field}}
            })
        });
    }
    Ok(actions)
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
pub fn read(input: &Path, effective_text: &str) -> Result<Vec<Seen>, String> {
    if input.is_dir() {
        let effective = parse_text(effective_text)?;
        return from_bodies(input, &effective);
    }
    let text = std::fs::read_to_string(input).map_err(|e| format!("{}: {e}", input.display()))?;
    from_summary(&text)
}
