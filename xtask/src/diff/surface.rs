//! Fail closed: the generated surfaces of both sides, section by section
//! (a type, or `METHOD /path`); a section whose lines moved with no rule
//! naming it is an `unclassified-surface-change`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use sigmamind_codegen::spec::{blocked_operations, mixed_success_kinds, schema_name, METHODS};
use sigmamind_codegen::{enum_failures, surface, transform, unnameable_enum_values, Options, Spec};

use super::{rules, Change, Level};

/// The operations left out of the surface comparison: those the generator
/// cannot generate as written in either document (`METHOD /path: why`).
/// Both sides leave out the same ones, so the rest compares like for like.
pub(super) fn left_out(old: &Value, new: &Value) -> Vec<String> {
    let mut out: Vec<String> = [old, new]
        .into_iter()
        .flat_map(|document| {
            let mut blocked = blocked_operations(document);
            blocked.extend(transform::operations_refused_for_shared_rules(document));
            blocked
        })
        .map(|b| format!("{} {}: {}", b.method.to_uppercase(), b.path, b.why))
        .collect();
    out.sort();
    out.dedup_by(|a, b| same_operation(a, b));
    out
}

/// The two surfaces, compared without the operations the generator cannot
/// generate: those [`left_out`] finds by looking, then those a failed
/// generation names (enum values whose Rust variant names collide: the
/// operations holding that enum), a few rounds at most. Returns the
/// surfaces, or why they could not be had, and what was left out.
pub(super) fn both(
    old: &Value,
    new: &Value,
    options: &Options,
) -> (Result<(Side, Side), String>, Vec<String>) {
    let mut left = left_out(old, new);
    // What progenitor stops on, seen in the document it is given.
    let success = match options.send_adapter {
        Some(_) => transform::Success::AnyTwoHundred,
        None => transform::Success::AsDocumented,
    };
    // And the enums typify cannot name apart, found without a failed
    // round of the whole generation.
    let refused = |document: &Value| -> Vec<String> {
        let Ok(spec) = Spec::from_value("spec", without(document, &left)) else {
            return Vec::new();
        };
        let Ok((prepared, _)) = transform::prepare(&spec, success) else {
            return Vec::new();
        };
        let mut out: Vec<String> = mixed_success_kinds(&prepared)
            .into_iter()
            .map(|b| format!("{} {}: {}", b.method.to_uppercase(), b.path, b.why))
            .collect();
        for failure in enum_failures(&prepared) {
            out.extend(named_by(&failure, old, new));
        }
        out
    };
    let (in_old, in_new) = super::at_once(|| refused(old), || refused(new));
    left.extend(in_old.into_iter().chain(in_new));
    tidy(&mut left);
    // Then what a failed generation names, a few rounds at most. The two
    // documents at once: each generation is the report's longest step (the
    // other thread takes the settings as text).
    let text = options.to_text();
    for _ in 0..8 {
        let (o, n) = super::at_once(|| of(old, &left, &text.options()), || of(new, &left, options));
        let errors: Vec<String> = match (o, n) {
            (Ok(o), Ok(n)) => return (Ok((o, n)), left),
            (o, n) => {
                let mut errors: Vec<String> = [o.err(), n.err()].into_iter().flatten().collect();
                errors.dedup();
                errors
            }
        };
        let mut named: Vec<String> = errors
            .iter()
            .flat_map(|error| named_by(error, old, new))
            .collect();
        named.retain(|n| !left.iter().any(|l| same_operation(l, n)));
        if named.is_empty() {
            return (Err(errors.join("; ")), left);
        }
        left.extend(named);
        tidy(&mut left);
    }
    (
        Err("the generator kept failing after leaving out what it named".into()),
        left,
    )
}

fn tidy(left: &mut Vec<String>) {
    left.sort();
    left.dedup_by(|a, b| same_operation(a, b));
}

fn same_operation(a: &str, b: &str) -> bool {
    a.split(':').next() == b.split(':').next()
}

/// The operations a generator failure names, as `METHOD /path: why`:
/// for "unexpected content type: X", those whose request or responses
/// carry X; for "Failed to make unique variant names for [a,b]", those
/// holding an enum with those values.
fn named_by(error: &str, old: &Value, new: &Value) -> Vec<String> {
    const CONTENT_TYPE: &str = "unexpected content type: ";
    if let Some(at) = error.find(CONTENT_TYPE) {
        let media = error[at + CONTENT_TYPE.len()..]
            .split(|c: char| c.is_whitespace() || c == ',')
            .next()
            .unwrap_or_default()
            .trim_end_matches('.');
        let mut out = Vec::new();
        for document in [old, new] {
            for (path, method, operation) in sigmamind_codegen::spec::operations(document) {
                let carries = |v: &Value| v.get("content").and_then(|c| c.get(media)).is_some();
                let in_body = operation
                    .get("requestBody")
                    .and_then(|b| sigmamind_codegen::spec::deref(document, b))
                    .is_some_and(carries);
                let in_responses = operation["responses"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .filter_map(|(_, r)| sigmamind_codegen::spec::deref(document, r))
                    .any(carries);
                if in_body || in_responses {
                    out.push(format!(
                        "{} {path}: the generator does not handle its content type {media}",
                        method.to_uppercase()
                    ));
                }
            }
        }
        return out;
    }
    let Some(values) = unnameable_enum_values(error) else {
        return operations_named_in(error, old, new);
    };
    let mut out = Vec::new();
    for document in [old, new] {
        let mut pointers = Vec::new();
        enums_with(document, &values, String::new(), &mut pointers);
        for pointer in pointers {
            for (path, method) in transform::operations_reaching(document, &pointer) {
                out.push(format!(
                    "{} {path}: the generator cannot name the values of one of its enums apart ({})",
                    method.to_uppercase(),
                    values.join(", ")
                ));
            }
        }
    }
    out
}

/// The operations whose Rust name (`markdown_render_raw`) the error names
/// as a word: progenitor names the operation it could not generate.
fn operations_named_in(error: &str, old: &Value, new: &Value) -> Vec<String> {
    let words: std::collections::BTreeSet<&str> = error
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .collect();
    let mut out = Vec::new();
    for document in [old, new] {
        for (path, method, operation) in sigmamind_codegen::spec::operations(document) {
            let name = sigmamind_codegen::intake::names::operation_name(
                method,
                path,
                operation.get("operationId").and_then(Value::as_str),
            );
            if words.contains(name.as_str()) {
                out.push(format!(
                    "{} {path}: the generator failed on it: {error}",
                    method.to_uppercase()
                ));
            }
        }
    }
    out
}

/// Pointers to the enums of `value` that hold every one of `values`.
fn enums_with(value: &Value, values: &[&str], pointer: String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(list) = map.get("enum").and_then(Value::as_array) {
                if values.iter().all(|v| list.iter().any(|x| x.as_str() == Some(v))) {
                    out.push(pointer.clone());
                }
            }
            for (key, child) in map {
                let token = key.replace('~', "~0").replace('/', "~1");
                enums_with(child, values, format!("{pointer}/{token}"), out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                enums_with(child, values, format!("{pointer}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// `document` without the operations `left_out` names, nor the components
/// only they reached (the generator makes a type of every component).
fn without(document: &Value, left_out: &[String]) -> Value {
    if left_out.is_empty() {
        return document.clone();
    }
    let reached_before = transform::reached_components(document);
    let mut document = document.clone();
    for entry in left_out {
        let operation = entry.split(':').next().unwrap_or_default();
        let Some((method, path)) = operation.split_once(' ') else {
            continue;
        };
        if let Some(item) = document
            .get_mut("paths")
            .and_then(|paths| paths.get_mut(path))
            .and_then(Value::as_object_mut)
        {
            item.remove(&method.to_lowercase());
            // A path with no operation left generates nothing either.
            if !item.keys().any(|k| METHODS.contains(&k.as_str())) {
                document["paths"].as_object_mut().map(|p| p.remove(path));
            }
        }
    }
    let reached_after = transform::reached_components(&document);
    let mut unreached: BTreeSet<String> = reached_before.difference(&reached_after).cloned().collect();
    // A component that something left in the document still names (a
    // shared parameter under `components`, another kept component) stays,
    // and so does what it names, or the document would point at nothing.
    loop {
        let mut named = BTreeSet::new();
        schema_refs_outside(&document, &unreached, &mut named);
        let still: Vec<String> = unreached.intersection(&named).cloned().collect();
        if still.is_empty() {
            break;
        }
        for name in still {
            unreached.remove(&name);
        }
    }
    if let Some(schemas) = document
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        schemas.retain(|name, _| !unreached.contains(name));
    }
    document
}

/// The schemas `document` names by `$ref`, outside the components in
/// `skipped` (`/components/schemas/NAME`).
fn schema_refs_outside(document: &Value, skipped: &BTreeSet<String>, out: &mut BTreeSet<String>) {
    fn walk(value: &Value, out: &mut BTreeSet<String>) {
        match value {
            Value::Object(map) => {
                if let Some(name) = map.get("$ref").and_then(Value::as_str).and_then(schema_name) {
                    out.insert(name.to_owned());
                }
                map.values().for_each(|child| walk(child, out));
            }
            Value::Array(items) => items.iter().for_each(|child| walk(child, out)),
            _ => {}
        }
    }
    let Value::Object(root) = document else { return };
    for (key, value) in root {
        if key != "components" {
            walk(value, out);
            continue;
        }
        let Value::Object(components) = value else {
            continue;
        };
        for (kind, entries) in components {
            match (kind.as_str(), entries) {
                ("schemas", Value::Object(schemas)) => schemas
                    .iter()
                    .filter(|(name, _)| !skipped.contains(*name))
                    .for_each(|(_, schema)| walk(schema, out)),
                _ => walk(entries, out),
            }
        }
    }
}

/// One side's generated surface: its listing, and the form of each of its
/// types, judged on the document the listing is generated from.
pub(super) struct Side {
    /// The surface listing, without its title line.
    pub listing: String,
    /// Each component's form (see [`transform::Form`]).
    pub forms: BTreeMap<String, transform::Form>,
}

/// The surface of an effective spec without the operations `left_out`
/// names.
pub(super) fn of(document: &Value, left_out: &[String], options: &Options) -> Result<Side, String> {
    let document = without(document, left_out);
    let spec = Spec::from_value("spec", document).map_err(|e| e.problem)?;
    let listing = surface::listing(&spec, options)
        .map_err(|e| e.problem)?
        .lines()
        .skip(1)
        .collect::<Vec<_>>()
        .join("\n");
    Ok(Side {
        listing,
        forms: transform::forms(&spec.document),
    })
}

/// The types the generator makes in another form because where the API
/// uses them changed (see [`rules::TYPE_FORM_CHANGED`]), judged on the
/// documents the surfaces come from: an operation left out can leave a
/// type only responses use. Located at the first operation of `new`
/// reaching the type, the others its reach.
pub(super) fn forms_changed(old: &Side, new: &Side, new_document: &Value) -> Vec<Change> {
    use transform::Form::{Lenient, Open, Strict};
    let mut out = Vec::new();
    for (name, was) in &old.forms {
        let Some(is) = new.forms.get(name) else { continue };
        let (level, what) = match (was, is) {
            (Strict, Open(_)) => (
                Level::Breaking,
                format!(
                    "a response now carries `{name}`: generated open, `{name}::Unknown` added (a `match` \
                     without a wildcard stops compiling)"
                ),
            ),
            (Open(_), Strict) => (
                Level::Breaking,
                format!("no response carries `{name}` any more: generated closed, `{name}::Unknown` removed"),
            ),
            (Strict, Lenient) => (
                Level::Warning,
                format!(
                    "only responses use `{name}` now: it keeps the fields the spec does not know \
                     (`.extra`) and reads a mistyped optional field as absent"
                ),
            ),
            (Lenient, Strict) => (
                Level::Breaking,
                format!("`{name}` is no longer only in responses: `.extra` removed, decoded strictly"),
            ),
            _ => continue,
        };
        let mut reach: Vec<String> =
            transform::operations_reaching(new_document, &format!("/components/schemas/{name}"))
                .into_iter()
                .map(|(path, method)| format!("{} {path}", method.to_uppercase()))
                .collect();
        let location = match reach.is_empty() {
            true => format!("components.schemas.{name}"),
            false => reach.remove(0),
        };
        let mut change = Change::new(
            rules::TYPE_FORM_CHANGED,
            level,
            &location,
            what,
            vec![name.clone()],
        );
        change.also_at = reach;
        out.push(change);
    }
    out
}

/// The sections of `new` whose lines moved from `old` with no change of
/// `explained` (docs aside) naming their type or operation.
pub(super) fn unclassified(old: &str, new: &str, explained: &[Change]) -> Vec<Change> {
    let (old, new) = (sections(old), sections(new));
    let keys: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    let empty = Vec::new();
    let mut out = Vec::new();
    for key in keys {
        let (o, n) = (old.get(key).unwrap_or(&empty), new.get(key).unwrap_or(&empty));
        // The same lines in another order (variants of a reordered union)
        // are the same API.
        let sorted = |lines: &Vec<String>| {
            let mut lines = lines.clone();
            lines.sort();
            lines
        };
        if o == n || sorted(o) == sorted(n) {
            continue;
        }
        // Only a change that alters the API explains a moved line.
        let named = explained.iter().filter(|c| c.level != Level::Docs).any(|c| {
            c.types.iter().any(|t| t == key)
                || section_is_operation(key)
                    && (c.location == *key
                        || c.location.starts_with(&format!("{key} "))
                        || c.also_at.iter().any(|operation| operation == key))
        });
        if named {
            continue;
        }
        let moved: Vec<String> = o
            .iter()
            .filter(|l| !n.contains(l))
            .map(|l| format!("-{l}"))
            .chain(n.iter().filter(|l| !o.contains(l)).map(|l| format!("+{l}")))
            .collect();
        out.push(Change::new(
            rules::UNCLASSIFIED_SURFACE_CHANGE,
            Level::Breaking,
            key,
            format!(
                "unclassified change to the generated API (no rule explains it): {}",
                moved.join(" | ")
            ),
            Vec::new(),
        ));
    }
    out
}

/// Surface lines grouped by section: a type name or `METHOD /path`.
fn sections(surface: &str) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut current = String::new();
    for line in surface.lines() {
        if line.is_empty() || line.starts_with("## ") {
            continue;
        }
        if !line.starts_with(' ') {
            let mut words = line.split_whitespace();
            let first = words.next().unwrap_or_default();
            current = match first {
                "struct" | "enum" | "newtype" => words
                    .next()
                    .unwrap_or_default()
                    .split('(')
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
                method => format!("{method} {}", words.next().unwrap_or_default()),
            };
        }
        out.entry(current.clone()).or_default().push(line.to_owned());
    }
    out
}

fn section_is_operation(key: &str) -> bool {
    key.contains(' ')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Seen on GitHub's description: a shared parameter under
    /// `components/parameters` names a schema only a left-out operation
    /// used. The schema stays (and what it names), or the document would
    /// point at nothing; one nothing names goes.
    #[test]
    fn leaving_an_operation_out_keeps_what_the_document_still_names() {
        let document = json!({
            "openapi": "3.0.3",
            "paths": {
                "/search": {"get": {
                    "operationId": "search",
                    "parameters": [{"$ref": "#/components/parameters/kind"}],
                    "responses": {"200": {"description": "ok", "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/Found"}
                    }}}}
                }},
                "/kept": {"get": {"operationId": "kept", "responses": {"204": {"description": "none"}}}}
            },
            "components": {
                "parameters": {"kind": {"name": "kind", "in": "query", "schema": {"$ref": "#/components/schemas/Kind"}}},
                "schemas": {
                    "Kind": {"allOf": [{"$ref": "#/components/schemas/KindBase"}]},
                    "KindBase": {"type": "string", "enum": ["a", "b"]},
                    "Found": {"type": "object", "properties": {"n": {"type": "integer"}}}
                }
            }
        });
        let left = without(&document, &["GET /search: cannot be generated".to_owned()]);
        let schemas = left.pointer("/components/schemas").unwrap().as_object().unwrap();
        assert!(
            schemas.contains_key("Kind") && schemas.contains_key("KindBase"),
            "{schemas:?}"
        );
        assert!(!schemas.contains_key("Found"), "{schemas:?}");
        assert!(left.pointer("/paths/~1search").is_none());
    }

    /// Seen on GitHub's description: `SimpleUser` became `TeamMember` at
    /// the members lists of two operations, named once at the first; the
    /// other operation's `send()` line changed too, and the change's reach
    /// (`also_at`) explains it.
    #[test]
    fn a_change_explains_the_operations_it_reaches() {
        let old = "GET /teams/{id}/members  ->  Client::members()\n  .send() -> Vec<SimpleUser>\n";
        let new = "GET /teams/{id}/members  ->  Client::members()\n  .send() -> Vec<TeamMember>\n";
        let mut change = Change::new(
            rules::TYPE_RENAMED_AT_PLACE,
            Level::Breaking,
            "GET /orgs/{org}/teams/{slug}/members 200[]",
            "the type here is now `TeamMember` (was `SimpleUser`)",
            Vec::new(),
        );
        let unexplained = unclassified(old, new, std::slice::from_ref(&change));
        assert_eq!(unexplained.len(), 1, "{unexplained:#?}");
        change.also_at = vec!["GET /teams/{id}/members".to_owned()];
        assert!(unclassified(old, new, &[change]).is_empty());
    }
}
