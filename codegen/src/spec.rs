//! Reading the spec file and checking it before the generator sees it, so that
//! a bad spec fails with one sentence naming the file and the problem instead
//! of a panic from deep inside progenitor.

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

use openapiv3::OpenAPI;
use serde_json::Value;

/// A spec that could not be read, parsed or generated from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError {
    /// The spec file (or a label such as `<memory>` for in-memory specs).
    pub file: PathBuf,
    /// What is wrong, in one sentence.
    pub problem: String,
}

impl SpecError {
    pub(crate) fn new(file: &Path, problem: impl Into<String>) -> Self {
        Self {
            file: file.to_path_buf(),
            problem: problem.into(),
        }
    }
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.file.display(), self.problem)
    }
}

impl std::error::Error for SpecError {}

/// A loaded spec: the raw JSON document (for walking and transforming) and the
/// file it came from.
#[derive(Debug, Clone)]
pub struct Spec {
    /// Where the spec was read from.
    pub file: PathBuf,
    /// The document as JSON, exactly as written (YAML is converted).
    pub document: Value,
}

impl Spec {
    /// Reads a YAML or JSON spec file and checks it (see [`Spec::from_value`]).
    pub fn load(path: impl AsRef<Path>) -> Result<Self, SpecError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|e| SpecError::new(path, format!("cannot read the spec: {e}")))?;
        Self::parse(path, &text)
    }

    /// Parses spec text; JSON if it starts with `{`, YAML otherwise.
    pub fn parse(path: impl AsRef<Path>, text: &str) -> Result<Self, SpecError> {
        let path = path.as_ref();
        let document = parse_text(text).map_err(|problem| SpecError::new(path, problem))?;
        Self::from_value(path, document)
    }

    /// Checks a spec document: OpenAPI 3.0.x, well-formed for `openapiv3`,
    /// every `$ref` resolvable, and nothing the generator is known to panic on.
    pub fn from_value(path: impl AsRef<Path>, document: Value) -> Result<Self, SpecError> {
        let path = path.as_ref();
        let spec = Self {
            file: path.to_path_buf(),
            document,
        };
        let version = spec
            .document
            .get("openapi")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                SpecError::new(path, "no `openapi` version field: is this an OpenAPI document?")
            })?;
        if !version.starts_with("3.0.") {
            return Err(SpecError::new(
                path,
                format!(
                    "is OpenAPI {version}, but the generator reads OpenAPI 3.0.x; \
                     convert it with `cargo xtask update-spec`"
                ),
            ));
        }
        spec.openapi()?;
        spec.check_refs()?;
        spec.check_single_response_types()?;
        Ok(spec)
    }

    /// The document as typed OpenAPI; errors name the JSON path that failed.
    pub fn openapi(&self) -> Result<OpenAPI, SpecError> {
        serde_path_to_error::deserialize(&self.document).map_err(|e| {
            SpecError::new(
                &self.file,
                format!(
                    "not a valid OpenAPI 3.0 document at `{}`: {}",
                    e.path(),
                    e.inner()
                ),
            )
        })
    }

    fn check_refs(&self) -> Result<(), SpecError> {
        let mut refs = BTreeSet::new();
        collect_refs(&self.document, &mut refs);
        for reference in refs {
            if resolve(&self.document, &reference).is_none() {
                return Err(SpecError::new(
                    &self.file,
                    format!("`$ref: {reference}` points at nothing in the document"),
                ));
            }
        }
        Ok(())
    }

    /// progenitor panics on some shapes; say so plainly instead.
    fn check_single_response_types(&self) -> Result<(), SpecError> {
        match generation_blockers(&self.document).into_iter().next() {
            Some(blocker) => Err(SpecError::new(&self.file, blocker)),
            None => Ok(()),
        }
    }
}

/// Operations the generator cannot generate as written, one sentence each:
/// progenitor needs one body type for all success statuses. (Error bodies
/// may differ per status: the generator types them itself.) Needs no
/// generator, so the change report can name them for any document.
pub fn generation_blockers(document: &Value) -> Vec<String> {
    blocked_operations(document)
        .into_iter()
        .map(|blocked| {
            format!(
                "{} {}: {}",
                blocked.method.to_uppercase(),
                blocked.path,
                blocked.why
            )
        })
        .collect()
}

/// An operation the generator cannot generate as written (see
/// [`generation_blockers`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blocked {
    /// Its path.
    pub path: String,
    /// Its method, lower case (`get`).
    pub method: &'static str,
    /// Why, in a sentence.
    pub why: String,
}

/// The operations the generator cannot generate as written, by path and
/// method, so that a tool can leave them out and generate the rest.
pub fn blocked_operations(document: &Value) -> Vec<Blocked> {
    let mut blocked = Vec::new();
    for (path, method, operation) in operations(document) {
        if let Some(why) = request_body_blocker(document, operation) {
            blocked.push(Blocked {
                path: path.to_owned(),
                method,
                why,
            });
        }
        let Some(responses) = operation.get("responses").and_then(Value::as_object) else {
            continue;
        };
        let bodies: BTreeSet<String> = responses
            .iter()
            .filter(|(code, _)| code.starts_with('2'))
            .filter_map(|(_, response)| {
                let response = deref(document, response)?;
                let schema = response.pointer("/content/application~1json/schema")?;
                Some(schema.to_string())
            })
            .collect();
        if bodies.len() > 1 {
            blocked.push(Blocked {
                path: path.to_owned(),
                method,
                why: format!(
                    "its success responses have {} different body schemas; the generator needs one \
                     body type for all success statuses",
                    bodies.len()
                ),
            });
        }
    }
    blocked
}

/// Why progenitor cannot take an operation's request body, if it cannot:
/// its rule (`get_body_param`), one media type with a schema, of the kinds
/// it sends.
fn request_body_blocker(document: &Value, operation: &Value) -> Option<String> {
    /// What progenitor sends (`BodyContentType`), parameters aside.
    const SENDABLE: [&str; 5] = [
        "application/octet-stream",
        "application/json",
        "application/x-www-form-urlencoded",
        "text/plain",
        "text/x-markdown",
    ];
    let body = deref(document, operation.get("requestBody")?)?;
    let content = body.get("content")?.as_object()?;
    let (media, media_type) = match content.len() {
        0 => return None,
        1 => content.iter().next()?,
        n => {
            return Some(format!(
                "its request body has {n} media types; the generator takes one"
            ))
        }
    };
    let essence = media.split(';').next().unwrap_or_default();
    if !SENDABLE.contains(&essence) {
        return Some(format!(
            "its request body's content type {media} is not one the generator sends"
        ));
    }
    if media_type.get("schema").is_none() {
        return Some("its request body has no schema".to_owned());
    }
    None
}

/// The operations progenitor would stop on in `prepared` (the document it
/// sees, after [`crate::transform::prepare`]): success responses of more
/// than one kind (a JSON body, another content type, no content, an
/// upgrade), which it has no single return type for. Mirrors its rule: the
/// success statuses and `default`, `default` dropped beside a `2XX`.
pub fn mixed_success_kinds(prepared: &Value) -> Vec<Blocked> {
    let mut out = Vec::new();
    for (path, method, operation) in operations(prepared) {
        let Some(responses) = operation.get("responses").and_then(Value::as_object) else {
            continue;
        };
        let has_range = responses.contains_key("2XX");
        let kinds: BTreeSet<String> = responses
            .iter()
            .filter(|(code, _)| code.starts_with('2') || (code.as_str() == "default" && !has_range))
            .filter_map(|(code, response)| {
                let response = deref(prepared, response)?;
                let content = response.get("content").and_then(Value::as_object);
                let json = content.and_then(|c| {
                    c.iter().find(|(media, _)| {
                        *media == "application/json" || media.starts_with("application/json;")
                    })
                });
                Some(match (json, content) {
                    (Some((_, media)), _) => format!("a JSON body {}", media["schema"]),
                    (None, _) if code == "101" => "an upgrade".to_owned(),
                    (None, Some(c)) if !c.is_empty() => "a body of another content type".to_owned(),
                    _ => "no content".to_owned(),
                })
            })
            .collect();
        if kinds.len() > 1 {
            let described: BTreeSet<&str> = kinds
                .iter()
                .map(|k| {
                    if k.starts_with("a JSON body") {
                        "a JSON body"
                    } else {
                        k.as_str()
                    }
                })
                .collect();
            out.push(Blocked {
                path: path.to_owned(),
                method,
                why: format!(
                    "its success responses are of {} kinds ({}); the generator needs one return type",
                    kinds.len(),
                    described.into_iter().collect::<Vec<_>>().join(", ")
                ),
            });
        }
    }
    out
}

/// A YAML or JSON document as JSON: JSON if the text starts with `{`.
/// (YAML is read by the one YAML parser of the pipeline, here, with the
/// `yaml` feature: `build.rs` reads JSON and does without.)
pub fn parse_text(text: &str) -> Result<Value, String> {
    if text.trim_start().starts_with('{') {
        return serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"));
    }
    #[cfg(feature = "yaml")]
    {
        serde_yaml_ng::from_str(text).map_err(|e| format!("not valid YAML: {e}"))
    }
    #[cfg(not(feature = "yaml"))]
    {
        Err("reading YAML needs sigmamind-codegen's `yaml` feature (the effective spec is JSON)".into())
    }
}

/// The HTTP methods an OpenAPI path item can hold, in the spec's order.
pub const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Every operation in the document as (path, method, operation object).
pub fn operations(document: &Value) -> Vec<(&str, &'static str, &Value)> {
    let mut out = Vec::new();
    if let Some(paths) = document.get("paths").and_then(Value::as_object) {
        for (path, item) in paths {
            for method in METHODS {
                if let Some(operation) = item.get(method) {
                    out.push((path.as_str(), method, operation));
                }
            }
        }
    }
    out
}

/// Every operation object in the document with its method, to edit, in
/// the order of [`operations`] (paths as written, methods as [`METHODS`]).
pub fn operations_mut(document: &mut Value) -> Vec<(&'static str, &mut serde_json::Map<String, Value>)> {
    let mut out = Vec::new();
    let Some(paths) = document.get_mut("paths").and_then(Value::as_object_mut) else {
        return out;
    };
    for item in paths.values_mut().filter_map(Value::as_object_mut) {
        let mut here: Vec<(usize, &'static str, &mut serde_json::Map<String, Value>)> = item
            .iter_mut()
            .filter_map(|(key, operation)| {
                let at = METHODS.iter().position(|m| m == key)?;
                Some((at, METHODS[at], operation.as_object_mut()?))
            })
            .collect();
        here.sort_by_key(|(at, ..)| *at);
        out.extend(here.into_iter().map(|(_, method, operation)| (method, operation)));
    }
    out
}

/// A response status key of an operation as an inclusive range of codes:
/// `201` is `201..=201`, `2XX` is `200..=299`, `default` is `100..=599`.
/// `None` for a key that is none of these.
pub fn status_range(key: &str) -> Option<(u16, u16)> {
    if key == "default" {
        return Some((100, 599));
    }
    if let Ok(code) = key.parse::<u16>() {
        return (100..=599).contains(&code).then_some((code, code));
    }
    let class = key.strip_suffix("XX").or_else(|| key.strip_suffix("xx"))?;
    let class: u16 = class.parse().ok().filter(|c| (1..=5).contains(c))?;
    Some((class * 100, class * 100 + 99))
}

/// Whether a response status key documents a success (`2xx`, `2XX`).
pub fn is_success_status(key: &str) -> bool {
    key.starts_with('2')
}

/// The success statuses an operation documents, as inclusive ranges (see
/// [`status_range`]); a `default` response documents the 2xx it may be.
pub fn documented_success(operation: &Value) -> Vec<(u16, u16)> {
    let Some(responses) = operation.get("responses").and_then(Value::as_object) else {
        return Vec::new();
    };
    let mut ranges: Vec<(u16, u16)> = responses
        .keys()
        .filter(|key| is_success_status(key))
        .filter_map(|key| status_range(key))
        .collect();
    if responses.contains_key("default") {
        ranges.push((200, 299));
    }
    ranges.sort_unstable();
    ranges.dedup();
    ranges
}

/// Every `$ref` string anywhere below `value`.
pub fn collect_refs(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref") {
                out.insert(r.clone());
            }
            map.values().for_each(|v| collect_refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

/// Resolves a local `#/...` reference.
pub fn resolve<'a>(document: &'a Value, reference: &str) -> Option<&'a Value> {
    document.pointer(reference.strip_prefix('#')?)
}

/// Follows `$ref` (once per hop) until a non-reference object.
pub fn deref<'a>(document: &'a Value, mut value: &'a Value) -> Option<&'a Value> {
    for _ in 0..32 {
        match value.get("$ref").and_then(Value::as_str) {
            Some(r) => value = resolve(document, r)?,
            None => return Some(value),
        }
    }
    None
}

/// The component schema name a `#/components/schemas/Name` reference points at.
pub fn schema_name(reference: &str) -> Option<&str> {
    reference.strip_prefix("#/components/schemas/")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn status_keys_are_ranges() {
        assert_eq!(status_range("201"), Some((201, 201)));
        assert_eq!(status_range("2XX"), Some((200, 299)));
        assert_eq!(status_range("4xx"), Some((400, 499)));
        assert_eq!(status_range("default"), Some((100, 599)));
        assert_eq!(status_range("6XX"), None);
        assert_eq!(status_range("999"), None);
        let op = json!({"responses": {"201": {}, "2XX": {}, "400": {}}});
        assert_eq!(documented_success(&op), [(200, 299), (201, 201)]);
        let op = json!({"responses": {"default": {}}});
        assert_eq!(documented_success(&op), [(200, 299)]);
    }

    /// The request bodies named as blockers are exactly those progenitor
    /// stops on (run here on each, one operation a document), so the
    /// change report can leave them out before generating anything.
    #[test]
    fn request_body_blockers_are_progenitors() {
        let schema = json!({"type": "object", "properties": {"a": {"type": "string"}}});
        let text = json!({"type": "string"});
        let bodies = [
            json!({"application/json": {"schema": schema}}),
            json!({"application/json; charset=utf-8": {"schema": schema}}),
            json!({"application/x-www-form-urlencoded": {"schema": schema}}),
            json!({"text/plain": {"schema": text}}),
            json!({"text/x-markdown": {"schema": text}}),
            json!({"multipart/form-data": {"schema": schema}}),
            json!({"application/xml": {"schema": schema}}),
            json!({"application/json": {"schema": schema}, "text/plain": {"schema": text}}),
            json!({"application/json": {}}),
        ];
        for content in bodies {
            let document = json!({
                "openapi": "3.0.3",
                "info": {"title": "t", "version": "1"},
                "paths": {"/things": {"post": {
                    "operationId": "make",
                    "requestBody": {"required": true, "content": content},
                    "responses": {"204": {"description": "made"}}
                }}}
            });
            let predicted = !blocked_operations(&document).is_empty();
            let openapi: openapiv3::OpenAPI = serde_json::from_value(document).unwrap();
            let generated = std::panic::catch_unwind(|| {
                progenitor::Generator::new(&progenitor::GenerationSettings::default())
                    .generate_tokens(&openapi)
                    .is_ok()
            })
            .unwrap_or(false);
            assert_eq!(predicted, !generated, "{content}");
        }
    }
}

#[cfg(all(test, feature = "yaml"))]
mod yaml_tests {
    use super::parse_text;
    use serde_json::json;

    /// What vendor specs contain, read as OpenAPI's YAML 1.2 says.
    #[test]
    fn yaml_as_vendor_specs_write_it() {
        let doc = parse_text(
            "phone: '+14155552671'\n\
             example: \"+14155552671\"\n\
             flags: [on, off, yes, no, true]\n\
             version: 3.0.3\n\
             base: &base\n  type: string\n  maxLength: 64\n\
             copy: *base\n\
             folded: >-\n  Unique identifier of the agent\n  that will handle this call.\n\
             literal: |\n  line one\n  line two\n",
        )
        .unwrap();
        assert_eq!(doc["phone"], json!("+14155552671"), "a quoted number stays text");
        assert_eq!(doc["example"], json!("+14155552671"));
        assert_eq!(
            doc["flags"],
            json!(["on", "off", "yes", "no", true]),
            "YAML 1.2: on/off/yes/no are text"
        );
        assert_eq!(doc["version"], json!("3.0.3"));
        assert_eq!(
            doc["copy"],
            json!({"type": "string", "maxLength": 64}),
            "anchors and aliases"
        );
        assert_eq!(
            doc["folded"],
            json!("Unique identifier of the agent that will handle this call.")
        );
        assert_eq!(doc["literal"], json!("line one\nline two\n"));
    }
}
