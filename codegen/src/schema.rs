//! Walking OpenAPI 3.0 schemas: the one place that knows how `$ref`,
//! one-member `allOf` wrappers and `nullable` combine, and which keywords
//! exist. The generator, the intake, the change report and the conformance
//! tests all walk schemas through here.

use serde_json::Value;

use crate::spec::resolve;

/// Keywords that constrain values: checks on what we send. Responses drop
/// them (a newer server must not be rejected for them); the change report
/// compares them.
pub const VALUE_RULES: [&str; 13] = [
    "pattern",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minProperties",
    "maxProperties",
];

/// Keywords that document a schema without changing which values it accepts
/// or which Rust type it becomes.
pub const ANNOTATIONS: [&str; 6] = [
    "description",
    "title",
    "example",
    "examples",
    "externalDocs",
    "deprecated",
];

/// Keywords that belong to the place a schema is used rather than to the
/// type: kept beside a `$ref` when an inline schema becomes a named one.
pub const SITE_KEYWORDS: [&str; 8] = [
    "description",
    "nullable",
    "default",
    "deprecated",
    "readOnly",
    "writeOnly",
    "example",
    "externalDocs",
];

/// Keywords whose value is one nested schema.
pub const CHILD_SCHEMA: [&str; 3] = ["items", "additionalProperties", "not"];

/// Keywords whose value is a list of nested schemas.
pub const CHILD_SCHEMA_LISTS: [&str; 3] = ["allOf", "anyOf", "oneOf"];

/// Follows `$ref`s and one-member `allOf` wrappers (how OpenAPI 3.0 puts a
/// description or `nullable` beside a reference) to the schema that decides
/// the type. Returns it and whether any layer on the way said `nullable`.
/// An unresolvable reference stops the walk where it is.
pub fn unwrap<'a>(document: &'a Value, schema: &'a Value) -> (&'a Value, bool) {
    unwrap_with(schema, |reference| resolve(document, reference))
}

/// [`unwrap`] with references resolved by `lookup` (for documents that keep
/// their schemas elsewhere, like schemars' `definitions`).
pub fn unwrap_with<'a>(
    mut schema: &'a Value,
    lookup: impl Fn(&str) -> Option<&'a Value>,
) -> (&'a Value, bool) {
    let mut nullable = false;
    for _ in 0..64 {
        nullable |= schema.get("nullable") == Some(&Value::Bool(true));
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            match lookup(reference) {
                Some(target) => {
                    schema = target;
                    continue;
                }
                None => break,
            }
        }
        match single_all_of(schema) {
            Some(only) => schema = only,
            None => break,
        }
    }
    (schema, nullable)
}

/// The member of `allOf: [X]` when nothing but annotations and site
/// keywords stand beside it (a wrapper, not a composition).
pub fn single_all_of(schema: &Value) -> Option<&Value> {
    let map = schema.as_object()?;
    let [only] = map.get("allOf")?.as_array()?.as_slice() else {
        return None;
    };
    let wrapper_only = map.keys().all(|k| k == "allOf" || is_annotation_or_site(k));
    wrapper_only.then_some(only)
}

/// Whether a keyword only annotates or belongs to the place of use.
pub fn is_annotation_or_site(keyword: &str) -> bool {
    keyword.starts_with("x-") || ANNOTATIONS.contains(&keyword) || SITE_KEYWORDS.contains(&keyword)
}

/// The schema with annotations removed everywhere in it: two schemas with
/// the same shape accept the same values and become the same Rust type.
pub fn shape(schema: &Value) -> Value {
    match schema {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| !(k.starts_with("x-") || ANNOTATIONS.contains(&k.as_str())))
                .map(|(k, v)| {
                    // `properties` is a map of names, not a schema: keep its keys.
                    let v = if k == "properties" {
                        Value::Object(
                            v.as_object()
                                .into_iter()
                                .flatten()
                                .map(|(name, s)| (name.clone(), shape(s)))
                                .collect(),
                        )
                    } else {
                        shape(v)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(shape).collect()),
        other => other.clone(),
    }
}

/// Every nested schema directly below `schema`, with the JSON-pointer step
/// to reach it and how the intake names it (a property name, `[]` for
/// items, `{}` for map values, `allOf[0]`...).
pub fn children(schema: &Value) -> Vec<Child<'_>> {
    let mut out = Vec::new();
    let Some(map) = schema.as_object() else {
        return out;
    };
    if let Some(properties) = map.get("properties").and_then(Value::as_object) {
        for (name, child) in properties {
            out.push(Child {
                pointer: format!("/properties/{}", escape(name)),
                step: Step::Property(name.clone()),
                schema: child,
            });
        }
    }
    for key in CHILD_SCHEMA {
        if let Some(child) = map.get(key).filter(|c| c.is_object()) {
            out.push(Child {
                pointer: format!("/{key}"),
                step: match key {
                    "items" => Step::Items,
                    "additionalProperties" => Step::Values,
                    _ => Step::Not,
                },
                schema: child,
            });
        }
    }
    for key in CHILD_SCHEMA_LISTS {
        for (i, child) in map
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            out.push(Child {
                pointer: format!("/{key}/{i}"),
                step: Step::Member(key, i),
                schema: child,
            });
        }
    }
    out
}

/// A schema nested in another (see [`children`]).
#[derive(Debug, Clone)]
pub struct Child<'a> {
    /// JSON-pointer suffix from the parent schema.
    pub pointer: String,
    /// How it hangs off its parent.
    pub step: Step,
    /// The nested schema.
    pub schema: &'a Value,
}

/// How a nested schema hangs off its parent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// A named property.
    Property(String),
    /// Array items.
    Items,
    /// Map values (`additionalProperties`).
    Values,
    /// `not`.
    Not,
    /// The i-th member of `allOf`, `anyOf` or `oneOf`.
    Member(&'static str, usize),
}

/// What identifies a union member (`oneOf`, `anyOf`, `allOf`) across
/// versions of a document: the component it references (its `$ref` name),
/// which is what the generator names its variant after; else its
/// discriminator value (a `const` or one-value `enum` of the parent's
/// discriminator property); else its position. A member moved within its
/// list keeps its key, so neither the name book's places nor the change
/// report take a reordering for a change. Places write it as
/// `oneOf[repository-rule-creation]`, `oneOf[type=creation]` or `oneOf[3]`.
pub fn member_key(parent: &Value, member: &Value, index: usize) -> String {
    if let Some(name) = member
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(crate::spec::schema_name)
    {
        return name.to_owned();
    }
    let property = parent
        .pointer("/discriminator/propertyName")
        .and_then(Value::as_str);
    if let Some(property) = property {
        let value = member.pointer(&format!("/properties/{}", escape(property)));
        let tag = value.and_then(|v| {
            v.get("const").or_else(|| {
                v.get("enum")
                    .and_then(Value::as_array)
                    .filter(|e| e.len() == 1)?
                    .first()
            })
        });
        if let Some(tag) = tag.and_then(Value::as_str) {
            return format!("{property}={tag}");
        }
    }
    index.to_string()
}

/// Escapes one JSON-pointer token.
pub fn escape(token: &str) -> String {
    if token.contains(['~', '/']) {
        token.replace('~', "~0").replace('/', "~1")
    } else {
        token.to_owned()
    }
}

/// What `value.pointer(pointer)` finds, without serde_json's two new
/// strings per token (a token is unescaped only when it has a `~`): the
/// intake looks up hundreds of thousands of pointers in a large spec.
pub fn lookup<'a>(value: &'a Value, pointer: &str) -> Option<&'a Value> {
    if pointer.is_empty() {
        return Some(value);
    }
    pointer
        .strip_prefix('/')?
        .split('/')
        .try_fold(value, |target, token| {
            let token: std::borrow::Cow<str> = if token.contains('~') {
                token.replace("~1", "/").replace("~0", "~").into()
            } else {
                token.into()
            };
            match target {
                Value::Object(map) => map.get(token.as_ref()),
                // As serde_json reads an index: no sign, no leading zero.
                Value::Array(items)
                    if !token.starts_with('+') && (token == "0" || !token.starts_with('0')) =>
                {
                    items.get(token.parse::<usize>().ok()?)
                }
                _ => None,
            }
        })
}

/// The struct the generator (typify) makes inside a nullable object
/// component `name`, which becomes `newtype name(Option<Inner>)`: named
/// after the schema's `title` as typify names things (upper camel case), or
/// `{name}Inner` without one. `None` for any other schema.
pub fn nullable_object_inner(name: &str, schema: &Value) -> Option<String> {
    use heck::ToUpperCamelCase;
    let nullable = schema.get("nullable") == Some(&Value::Bool(true));
    let object =
        schema.get("type").and_then(Value::as_str) == Some("object") || schema.get("properties").is_some();
    if !(nullable && object) {
        return None;
    }
    Some(match schema.get("title").and_then(Value::as_str) {
        Some(title) => title
            .replace('\'', "")
            .replace(|c: char| !(c.is_alphanumeric() || c == '_'), "-")
            .to_upper_camel_case(),
        None => format!("{name}Inner"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// `lookup` finds what serde_json's `pointer` finds, for every node of
    /// a document with keys that need escaping, and for pointers that find
    /// nothing (bad indexes, a missing `/`, a token past a leaf).
    #[test]
    fn lookup_is_serde_jsons_pointer() {
        let doc = json!({
            "paths": {"/v1/calls/{id}": {"get": {"parameters": [{"name": "a~b"}, {"name": "c"}]}}},
            "a/b": {"~": [1, [2, {"": 3}]]}, "": {"x": null}, "0": ["y"]
        });
        fn every(value: &Value, at: String, out: &mut Vec<String>) {
            out.push(at.clone());
            match value {
                Value::Object(map) => map
                    .iter()
                    .for_each(|(k, v)| every(v, format!("{at}/{}", escape(k)), out)),
                Value::Array(items) => items
                    .iter()
                    .enumerate()
                    .for_each(|(i, v)| every(v, format!("{at}/{i}"), out)),
                _ => {}
            }
        }
        let mut pointers = Vec::new();
        every(&doc, String::new(), &mut pointers);
        assert!(pointers.len() > 15 && pointers.contains(&"/a~1b/~0/1/1/".to_owned()));
        pointers.extend(
            [
                "/0/00",
                "/0/+0",
                "/0/-0",
                "/0/1",
                "/0/01",
                "/a~1b/~0/0/x",
                "paths",
                "/paths/~2",
                "/a/b",
                "//x",
                "/0/ 0",
            ]
            .map(str::to_owned),
        );
        for pointer in &pointers {
            assert_eq!(lookup(&doc, pointer), doc.pointer(pointer), "{pointer}");
        }
    }

    #[test]
    fn unwrap_follows_refs_and_wrappers_and_collects_nullable() {
        let doc = json!({"components": {"schemas": {
            "A": {"allOf": [{"$ref": "#/components/schemas/B"}], "nullable": true, "description": "a"},
            "B": {"type": "string"}
        }}});
        let start = json!({"$ref": "#/components/schemas/A"});
        let (schema, nullable) = unwrap(&doc, &start);
        assert_eq!(schema, &json!({"type": "string"}));
        assert!(nullable);
        // Two members compose: not a wrapper.
        let both = json!({"allOf": [{"type": "object"}, {"required": ["a"]}]});
        assert_eq!(unwrap(&doc, &both).0, &both);
        // A structural sibling makes it more than a wrapper.
        let typed = json!({"allOf": [{"$ref": "#/components/schemas/B"}], "maxLength": 3});
        assert_eq!(unwrap(&doc, &typed).0, &typed);
    }

    #[test]
    fn shape_ignores_docs_but_not_property_names() {
        let a = json!({"type": "object", "description": "one", "properties": {"description": {"type": "string", "example": "x"}}});
        let b = json!({"type": "object", "description": "two", "properties": {"description": {"type": "string"}}});
        assert_eq!(shape(&a), shape(&b));
        let c = json!({"type": "object", "properties": {"title": {"type": "string"}}});
        assert_ne!(shape(&a), shape(&c));
    }
}
