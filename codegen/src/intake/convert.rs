//! OpenAPI 3.1 to the 3.0.3 the generator reads. What has no 3.0
//! equivalent is refused with its place (strict) or left as written with a
//! note (lenient: the change report compares documents it cannot generate).

use serde_json::{Map, Value};

/// Schema keywords with no 3.0 counterpart; refused rather than dropped,
/// because dropping them would change what is valid.
const UNCONVERTIBLE: [&str; 10] = [
    "prefixItems",
    "if",
    "then",
    "else",
    "dependentSchemas",
    "dependentRequired",
    "unevaluatedProperties",
    "unevaluatedItems",
    "patternProperties",
    "$defs",
];

/// The outcome of a conversion.
#[derive(Debug, Clone, PartialEq)]
pub struct Converted {
    /// The 3.0.3 document.
    pub document: Value,
    /// What was changed, dropped or left alone, for the maintainer to read.
    pub notes: Vec<String>,
}

/// Converts a 3.0.x or 3.1.x document to 3.0.3 (3.0.x passes through).
/// `strict`: refuse what has no 3.0 equivalent; otherwise keep it and say so.
pub fn to_openapi_30(mut document: Value, strict: bool) -> Result<Converted, String> {
    let version = match document.get("openapi") {
        Some(Value::String(s)) => s.clone(),
        // An unquoted `openapi: 2.0` is a YAML number.
        Some(Value::Number(n)) => n.to_string(),
        _ => return Err("no `openapi` version field: is this an OpenAPI document?".into()),
    };
    let mut notes = Vec::new();
    if version.starts_with("3.0.") {
        return Ok(Converted { document, notes });
    }
    if !version.starts_with("3.1.") {
        return Err(format!(
            "OpenAPI {version} is not supported: expected 3.0.x or 3.1.x"
        ));
    }
    let root = document.as_object_mut().ok_or("the document is not a mapping")?;
    root.insert("openapi".into(), "3.0.3".into());
    notes.push(format!("converted OpenAPI {version} to 3.0.3"));
    if root.remove("webhooks").is_some() {
        let message = "`webhooks` has no OpenAPI 3.0 equivalent";
        if strict {
            return Err(format!(
                "{message}; remove it with the overlay (openapi/overlay.yaml)"
            ));
        }
        notes.push(format!("{message}: ignored"));
    }
    if root.remove("jsonSchemaDialect").is_some() {
        notes.push("dropped `jsonSchemaDialect` (3.0 has one fixed dialect)".into());
    }
    if let Some(info) = root.get_mut("info").and_then(Value::as_object_mut) {
        if info.remove("summary").is_some() {
            notes.push("dropped `info.summary` (not in 3.0)".into());
        }
        if let Some(license) = info.get_mut("license").and_then(Value::as_object_mut) {
            if license.remove("identifier").is_some() {
                notes.push("dropped `info.license.identifier` (not in 3.0)".into());
            }
        }
    }
    root.entry("paths").or_insert_with(|| Value::Object(Map::new()));
    let mut converter = Converter { strict, notes };
    converter.walk(&mut document, "")?;
    Ok(Converted {
        document,
        notes: converter.notes,
    })
}

struct Converter {
    strict: bool,
    notes: Vec<String>,
}

fn is_null_type(v: &Value) -> bool {
    v.get("type").and_then(Value::as_str) == Some("null") && v.as_object().is_some_and(|m| m.len() == 1)
}

impl Converter {
    fn refuse(&mut self, path: &str, problem: String) -> Result<(), String> {
        if self.strict {
            Err(format!("{path}: {problem}"))
        } else {
            self.notes.push(format!("{path}: {problem}; left as written"));
            Ok(())
        }
    }

    /// Finds every schema in the document (by where OpenAPI allows them).
    fn walk(&mut self, value: &mut Value, path: &str) -> Result<(), String> {
        match value {
            Value::Object(map) => {
                for (name, child) in map.iter_mut() {
                    let child_path = format!("{path}/{name}");
                    if name == "schema" {
                        self.schema(child, &child_path)?;
                    } else if name == "schemas" && path.ends_with("/components") {
                        for (schema_name, s) in child.as_object_mut().into_iter().flatten() {
                            self.schema(s, &format!("{child_path}/{schema_name}"))?;
                        }
                    } else if name != "example" && name != "examples" {
                        self.walk(child, &child_path)?;
                    }
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter_mut().enumerate() {
                    self.walk(item, &format!("{path}/{i}"))?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Converts one schema object and everything nested in it.
    fn schema(&mut self, value: &mut Value, path: &str) -> Result<(), String> {
        let Some(map) = value.as_object_mut() else {
            return Ok(()); // `true` / `false` schemas are fine as they are
        };
        for keyword in UNCONVERTIBLE {
            if map.contains_key(keyword) {
                self.refuse(path, format!("`{keyword}` has no OpenAPI 3.0 equivalent"))?;
            }
        }
        for dropped in ["$schema", "$id", "$comment", "$anchor"] {
            map.remove(dropped);
        }

        // type: [T, "null"] -> type: T, nullable: true
        if let Some(Value::Array(types)) = map.get("type").cloned() {
            let non_null: Vec<&Value> = types.iter().filter(|t| t.as_str() != Some("null")).collect();
            let nullable = non_null.len() < types.len();
            match non_null.as_slice() {
                [single] => {
                    map.insert("type".into(), (*single).clone());
                }
                [] => self.refuse(path, "`type: [null]` has no OpenAPI 3.0 equivalent".into())?,
                several => {
                    let names: Vec<&str> = several.iter().filter_map(|t| t.as_str()).collect();
                    self.refuse(
                        path,
                        format!(
                            "`type` lists several types ({}); OpenAPI 3.0 allows one",
                            names.join(", ")
                        ),
                    )?
                }
            }
            if nullable {
                map.insert("nullable".into(), true.into());
            }
        } else if map.get("type").and_then(Value::as_str) == Some("null") {
            self.refuse(path, "`type: null` has no OpenAPI 3.0 equivalent".into())?;
        }

        // anyOf/oneOf: [X, {type: null}] -> X made nullable
        for key in ["anyOf", "oneOf"] {
            let Some(Value::Array(options)) = map.get(key).cloned() else {
                continue;
            };
            if !options.iter().any(is_null_type) {
                continue;
            }
            let rest: Vec<Value> = options.into_iter().filter(|o| !is_null_type(o)).collect();
            map.remove(key);
            if rest.len() == 1 {
                map.insert("allOf".into(), Value::Array(rest));
            } else {
                map.insert(key.into(), Value::Array(rest));
            }
            map.insert("nullable".into(), true.into());
        }

        // An enum of a nullable type lists `null` as a value (3.1 and 3.0.3 alike);
        // `nullable` says it, so the value list keeps the real values only.
        if map.get("nullable") == Some(&Value::Bool(true)) {
            if let Some(Value::Array(values)) = map.get_mut("enum") {
                values.retain(|v| !v.is_null());
            }
        }

        // examples: [a, ...] -> example: a
        if let Some(Value::Array(examples)) = map.get("examples").cloned() {
            map.remove("examples");
            if let Some(first) = examples.into_iter().next() {
                map.entry("example").or_insert(first);
            }
        }

        // const: v -> enum: [v]
        if let Some(constant) = map.remove("const") {
            map.insert("enum".into(), Value::Array(vec![constant]));
        }

        // exclusiveMinimum: n -> minimum: n, exclusiveMinimum: true (and max)
        for (exclusive, inclusive) in [("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")] {
            if let Some(bound @ Value::Number(_)) = map.get(exclusive).cloned() {
                map.insert(inclusive.into(), bound);
                map.insert(exclusive.into(), true.into());
            }
        }

        // contentEncoding: base64 -> format: byte
        if let Some(encoding) = map.remove("contentEncoding") {
            if encoding.as_str() == Some("base64") {
                map.insert("format".into(), "byte".into());
            }
            map.remove("contentMediaType");
        }

        // $ref with siblings (allowed in 3.1, ignored in 3.0) -> allOf: [$ref]
        if map.contains_key("$ref") && map.len() > 1 {
            let reference = map.remove("$ref").expect("checked");
            let mut only_ref = Map::new();
            only_ref.insert("$ref".into(), reference);
            map.insert("allOf".into(), Value::Array(vec![Value::Object(only_ref)]));
        }

        // Nested schemas.
        for key in ["items", "additionalProperties", "not"] {
            if let Some(child) = map.get_mut(key) {
                self.schema(child, &format!("{path}/{key}"))?;
            }
        }
        if let Some(Value::Object(properties)) = map.get_mut("properties") {
            for (name, child) in properties.iter_mut() {
                self.schema(child, &format!("{path}/properties/{name}"))?;
            }
        }
        for key in ["allOf", "anyOf", "oneOf"] {
            if let Some(Value::Array(items)) = map.get_mut(key) {
                for (i, child) in items.iter_mut().enumerate() {
                    self.schema(child, &format!("{path}/{key}/{i}"))?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn convert(yaml: &str) -> Result<Value, String> {
        to_openapi_30(crate::spec::parse_text(yaml).unwrap(), true).map(|c| c.document)
    }

    fn schema_of(doc: &Value) -> &Value {
        &doc["components"]["schemas"]["X"]
    }

    const HEAD: &str = "openapi: 3.1.0\ninfo: {title: t, version: '1'}\ncomponents:\n  schemas:\n    X:\n";

    #[test]
    fn nullable_type_arrays_examples_const_and_bounds() {
        let doc = convert(&format!(
            "{HEAD}      type: object\n      properties:\n        a: {{type: [string, 'null'], examples: [x, y]}}\n        b: {{const: fixed}}\n        c: {{type: integer, exclusiveMinimum: 0, exclusiveMaximum: 10}}\n        d: {{anyOf: [{{$ref: '#/components/schemas/Y'}}, {{type: 'null'}}]}}\n        e: {{$ref: '#/components/schemas/Y', description: kept}}\n        f: {{type: [string, 'null'], enum: [on, off, null]}}\n"
        ))
        .unwrap();
        let p = &schema_of(&doc)["properties"];
        assert_eq!(doc["openapi"], "3.0.3");
        assert_eq!(
            p["a"],
            json!({"type": "string", "nullable": true, "example": "x"})
        );
        assert_eq!(p["b"], json!({"enum": ["fixed"]}));
        assert_eq!(
            p["c"],
            json!({"type": "integer", "exclusiveMinimum": true, "exclusiveMaximum": true, "minimum": 0, "maximum": 10})
        );
        assert_eq!(
            p["d"],
            json!({"allOf": [{"$ref": "#/components/schemas/Y"}], "nullable": true})
        );
        assert_eq!(
            p["e"],
            json!({"allOf": [{"$ref": "#/components/schemas/Y"}], "description": "kept"})
        );
        // `on`/`off` stay strings; `null` moves into `nullable`.
        assert_eq!(
            p["f"],
            json!({"type": "string", "nullable": true, "enum": ["on", "off"]})
        );
        assert!(doc.get("paths").is_some(), "3.0 requires paths");
    }

    #[test]
    fn what_cannot_be_converted_is_refused_by_place_or_noted_when_lenient() {
        let err = convert(&format!("{HEAD}      type: [string, integer]\n")).unwrap_err();
        assert_eq!(
            err,
            "/components/schemas/X: `type` lists several types (string, integer); OpenAPI 3.0 allows one"
        );
        let err = convert(&format!(
            "{HEAD}      type: array\n      prefixItems: [{{type: string}}]\n"
        ))
        .unwrap_err();
        assert_eq!(
            err,
            "/components/schemas/X: `prefixItems` has no OpenAPI 3.0 equivalent"
        );
        let err = convert("openapi: 3.1.0\ninfo: {title: t, version: '1'}\nwebhooks: {}\n").unwrap_err();
        assert!(
            err.starts_with("`webhooks` has no OpenAPI 3.0 equivalent"),
            "{err}"
        );
        let err = convert("openapi: '2.0'\ninfo: {title: t, version: '1'}\n").unwrap_err();
        assert_eq!(err, "OpenAPI 2.0 is not supported: expected 3.0.x or 3.1.x");
        let err = convert("openapi: 2.0\ninfo: {title: t, version: '1'}\n").unwrap_err();
        assert_eq!(err, "OpenAPI 2.0 is not supported: expected 3.0.x or 3.1.x");

        let lenient = to_openapi_30(
            crate::spec::parse_text(&format!("{HEAD}      type: [string, integer]\n")).unwrap(),
            false,
        )
        .unwrap();
        assert!(
            lenient
                .notes
                .iter()
                .any(|n| n.contains("several types") && n.ends_with("left as written")),
            "{:?}",
            lenient.notes
        );
    }

    #[test]
    fn openapi_30_passes_through_untouched() {
        let text = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\n";
        let doc = convert(text).unwrap();
        assert_eq!(doc, crate::spec::parse_text(text).unwrap());
    }
}
