//! Test fixtures that imitate vendor releases (labelled as such: the vendor
//! has published none of this).

#![allow(dead_code)] // each test binary uses some of these

use serde_json::{json, Map, Value};

/// The workspace this test crate lives in.
pub fn workspace_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The shipped effective spec.
pub fn shipped() -> Value {
    sigmamind_codegen::Spec::load(workspace_root().join("openapi/sigmamind.json"))
        .unwrap()
        .document
}

/// The shipped name book.
pub fn book() -> sigmamind_codegen::intake::NameBook {
    let text = std::fs::read_to_string(workspace_root().join("openapi/rust-names.toml")).unwrap();
    sigmamind_codegen::intake::NameBook::parse(&text).unwrap()
}

/// FIXTURE: the shipped effective spec, edited by `f`, then taken in as
/// `update-spec` would (so inline schemas get their names, as in every real
/// comparison).
pub fn changed(f: impl FnOnce(&mut Value)) -> Value {
    let mut v = shipped();
    f(&mut v);
    let taken = sigmamind_codegen::intake::run(&v, None, &book(), true).expect("test specs take in");
    sigmamind_codegen::Spec::from_value("changed.json", taken.document.clone())
        .expect("test specs are valid");
    taken.document
}

/// FIXTURE like [`changed`], for a document the generator cannot take as
/// written (an operation it cannot generate: a request body of two media
/// types, a content type it does not send): the rules compare it all the
/// same, and the surface check leaves the operation out.
pub fn changed_beyond_the_generator(f: impl FnOnce(&mut Value)) -> Value {
    let mut v = shipped();
    f(&mut v);
    let taken = sigmamind_codegen::intake::run(&v, None, &book(), true).expect("test specs take in");
    let refused = sigmamind_codegen::Spec::from_value("changed.json", taken.document.clone())
        .expect_err("the generator takes this document: use `changed`");
    assert!(
        refused.problem.contains(": its request body"),
        "refused for another reason than an operation's body: {refused:?}"
    );
    taken.document
}

/// (rule, level, location, message) of each change between two specs.
pub fn rules(old: &Value, new: &Value) -> Vec<(&'static str, xtask::diff::Level, String, String)> {
    xtask::diff::diff(old, new)
        .changes
        .into_iter()
        .map(|c| (c.rule, c.level, c.location, c.message))
        .collect()
}

/// Our vendor document, as JSON.
pub fn vendor() -> Value {
    let text = std::fs::read_to_string(workspace_root().join("openapi/vendor.yaml")).unwrap();
    sigmamind_codegen::spec::parse_text(&text).unwrap()
}

/// FIXTURE, imitating a docs platform's export of the same wire contract as
/// `vendor`: OpenAPI 3.1; every component written inline where it is used,
/// except `Call`, kept under another component name (`CallDetails`);
/// `nullable` written as type arrays and `anyOf [.., {type: null}]`; schema
/// `example` as `examples`; no operationId; no `x-` extensions.
pub fn platform_export(vendor: &Value) -> Value {
    let components = vendor["components"]["schemas"].as_object().unwrap().clone();
    let mut doc = vendor.clone();
    doc["openapi"] = json!("3.1.0");
    strip_extensions(&mut doc);
    for item in doc["paths"].as_object_mut().unwrap().values_mut() {
        for op in item.as_object_mut().unwrap().values_mut() {
            op.as_object_mut().unwrap().remove("operationId");
        }
    }
    let call = inline(&components["Call"], &components);
    let mut schemas = Map::new();
    schemas.insert("CallDetails".into(), call);
    doc["components"]["schemas"] = Value::Object(schemas);
    // Bodies and responses: inline too (Call becomes a ref to CallDetails).
    for_each_body_schema(&mut doc, |schema| *schema = inline(schema, &components));
    to_31_schemas(&mut doc);
    doc
}

fn strip_extensions(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|k, _| !k.starts_with("x-"));
            map.values_mut().for_each(strip_extensions);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_extensions),
        _ => {}
    }
}

/// Replaces every `$ref` by the schema it names (`Call` by a ref to
/// `CallDetails`); a one-member `allOf` wrapper becomes the member with the
/// wrapper's keywords written over it, as a platform inlining it would.
fn inline(schema: &Value, components: &Map<String, Value>) -> Value {
    let Some(map) = schema.as_object() else {
        return schema.clone();
    };
    if let Some(reference) = map.get("$ref").and_then(Value::as_str) {
        let name = reference.trim_start_matches("#/components/schemas/");
        if name == "Call" {
            return json!({"$ref": "#/components/schemas/CallDetails"});
        }
        return inline(&components[name], components);
    }
    if let Some([only]) = map.get("allOf").and_then(Value::as_array).map(Vec::as_slice) {
        let mut merged = inline(only, components);
        if merged.get("$ref").is_some() {
            // 3.1 allows keywords beside a $ref.
            for (k, v) in map.iter().filter(|(k, _)| *k != "allOf") {
                merged[k] = v.clone();
            }
            return merged;
        }
        for (k, v) in map.iter().filter(|(k, _)| *k != "allOf") {
            merged[k] = v.clone();
        }
        return merged;
    }
    let mut out = Map::new();
    for (k, v) in map {
        let v = match k.as_str() {
            "properties" => Value::Object(
                v.as_object()
                    .unwrap()
                    .iter()
                    .map(|(p, s)| (p.clone(), inline(s, components)))
                    .collect(),
            ),
            "items" | "additionalProperties" if v.is_object() => inline(v, components),
            "allOf" | "anyOf" | "oneOf" => Value::Array(
                v.as_array()
                    .unwrap()
                    .iter()
                    .map(|s| inline(s, components))
                    .collect(),
            ),
            _ => v.clone(),
        };
        out.insert(k.clone(), v);
    }
    Value::Object(out)
}

/// 3.0 schema forms to 3.1 in every schema of the document.
fn to_31_schemas(doc: &mut Value) {
    for schema in doc["components"]["schemas"].as_object_mut().unwrap().values_mut() {
        to_31(schema);
    }
    for_each_body_schema(doc, to_31);
}

/// Calls `f` on the schema of every request body and response.
fn for_each_body_schema(doc: &mut Value, mut f: impl FnMut(&mut Value)) {
    for item in doc["paths"].as_object_mut().unwrap().values_mut() {
        for op in item.as_object_mut().unwrap().values_mut() {
            let bodies = op
                .pointer_mut("/requestBody/content")
                .and_then(Value::as_object_mut);
            bodies
                .into_iter()
                .flatten()
                .for_each(|(_, media)| f(&mut media["schema"]));
            for response in op["responses"].as_object_mut().unwrap().values_mut() {
                let content = response.get_mut("content").and_then(Value::as_object_mut);
                content
                    .into_iter()
                    .flatten()
                    .for_each(|(_, media)| f(&mut media["schema"]));
            }
        }
    }
}

fn to_31(schema: &mut Value) {
    let Some(map) = schema.as_object_mut() else { return };
    if let Some(example) = map.remove("example") {
        map.insert("examples".into(), json!([example]));
    }
    if map.remove("nullable") == Some(Value::Bool(true)) {
        if let Some(reference) = map.remove("$ref") {
            map.insert("anyOf".into(), json!([{"$ref": reference}, {"type": "null"}]));
        } else if let Some(Value::String(t)) = map.get("type").cloned() {
            map.insert("type".into(), json!([t, "null"]));
            if let Some(Value::Array(values)) = map.get_mut("enum") {
                values.push(Value::Null);
            }
        }
    }
    if let Some(Value::Object(properties)) = map.get_mut("properties") {
        properties.values_mut().for_each(to_31);
    }
    for key in ["items", "additionalProperties"] {
        if let Some(child) = map.get_mut(key) {
            to_31(child);
        }
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        if let Some(Value::Array(items)) = map.get_mut(key) {
            items.iter_mut().for_each(to_31);
        }
    }
}

/// FIXTURE, imitating a next vendor release on top of `platform_export`:
/// `GET /v1/calls/{callId}` (camelCase operationId, a path parameter),
/// per-status error bodies (a named one for 404, an inline one for 401), and
/// a new nullable inline enum in the `Call` response.
pub fn next_release(export: &Value) -> Value {
    let mut doc = export.clone();
    doc["info"]["version"] = json!("0.2.0");
    doc["components"]["schemas"]["CallDetails"]["properties"]["sentiment"] = json!({
        "type": ["string", "null"],
        "enum": ["positive", "neutral", "negative", null],
        "description": "Overall sentiment of the conversation; null until the call ends."
    });
    doc["components"]["schemas"]["NotFound"] = json!({
        "type": "object",
        "description": "No such resource.",
        "required": ["code"],
        "properties": {
            "code": {"type": "string", "description": "Always not_found."},
            "detail": {"type": "string", "description": "What was not found."}
        }
    });
    doc["paths"]["/v1/calls/{callId}"] = json!({"get": {
        "operationId": "getCall",
        "summary": "Get Call",
        "description": "Full details of a single call.",
        "security": [{"ApiKeyAuth": []}],
        "parameters": [{"name": "callId", "in": "path", "required": true, "description": "The call.", "schema": {"type": "string"}}],
        "responses": {
            "200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CallDetails"}}}},
            "401": {"description": "Unauthorized", "content": {"application/json": {"schema": {
                "type": "object",
                "properties": {"message": {"type": "string", "description": "Why."}}
            }}}},
            "404": {"description": "Not found", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/NotFound"}}}}
        }
    }});
    doc
}

/// A scratch workspace holding a copy of `openapi/` (all the intake reads).
pub fn scratch(name: &str) -> xtask::workspace::Workspace {
    let dir = std::env::temp_dir().join(format!("sigmamind-intake-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("openapi")).unwrap();
    for entry in std::fs::read_dir(workspace_root().join("openapi")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.join("openapi").join(entry.file_name())).unwrap();
    }
    xtask::workspace::Workspace::at(dir)
}

/// `cargo xtask update-spec FILE --no-build` in `ws`, with `document` as FILE.
pub fn take_in(ws: &xtask::workspace::Workspace, document: &Value) -> Result<xtask::diff::Report, String> {
    take_in_with(ws, document, false)
}

/// [`take_in`], with `--allow-breaking` when `allow_breaking`.
pub fn take_in_with(
    ws: &xtask::workspace::Workspace,
    document: &Value,
    allow_breaking: bool,
) -> Result<xtask::diff::Report, String> {
    let file = ws.path("incoming.json");
    std::fs::write(&file, serde_json::to_string_pretty(document).unwrap()).unwrap();
    xtask::commands::update_spec::take_in(
        ws,
        &xtask::flags::UpdateSpec {
            file: Some(file),
            allow_breaking,
            no_build: true,
        },
    )
}
