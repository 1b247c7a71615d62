//! OpenAPI 3.1 to the 3.0.3 the generator reads, keeping the vendor's text:
//! key order, descriptions and examples stay as written. What has no 3.0
//! equivalent is refused with the place and the reason.

use serde_yaml::{Mapping, Value};

/// The outcome of a conversion.
#[derive(Debug, Clone, PartialEq)]
pub struct Converted {
    /// The 3.0.3 document.
    pub document: Value,
    /// What was changed or dropped, for the maintainer to read.
    pub notes: Vec<String>,
}

/// Schema keywords with no 3.0 counterpart; refused rather than dropped,
/// because dropping them would change what is valid.
const UNCONVERTIBLE: [&str; 9] = [
    "prefixItems",
    "if",
    "then",
    "else",
    "dependentSchemas",
    "dependentRequired",
    "unevaluatedProperties",
    "unevaluatedItems",
    "patternProperties",
];

/// Converts a 3.0.x or 3.1.x document to 3.0.3 (3.0.x passes through).
pub fn to_openapi_30(mut document: Value) -> Result<Converted, String> {
    // An unquoted `openapi: 2.0` is a YAML number.
    let version = match document.get("openapi") {
        Some(Value::String(s)) => s.clone(),
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
    let root = document.as_mapping_mut().ok_or("the document is not a mapping")?;
    root.insert("openapi".into(), "3.0.3".into());
    notes.push(format!("converted OpenAPI {version} to 3.0.3"));
    if root.contains_key("webhooks") {
        return Err(
            "`webhooks` has no OpenAPI 3.0 equivalent; remove it or ask the vendor for a 3.0 spec".into(),
        );
    }
    if root.remove("jsonSchemaDialect").is_some() {
        notes.push("dropped `jsonSchemaDialect` (3.0 has one fixed dialect)".into());
    }
    if let Some(license) = root
        .get_mut("info")
        .and_then(|i| i.get_mut("license"))
        .and_then(Value::as_mapping_mut)
    {
        if license.remove("identifier").is_some() {
            notes.push("dropped `info.license.identifier` (not in 3.0)".into());
        }
    }
    if let Some(info) = root.get_mut("info").and_then(Value::as_mapping_mut) {
        if info.remove("summary").is_some() {
            notes.push("dropped `info.summary` (not in 3.0)".into());
        }
    }
    if !root.contains_key("paths") {
        root.insert("paths".into(), Value::Mapping(Mapping::new()));
    }
    walk(&mut document, "")?;
    Ok(Converted { document, notes })
}

/// Finds every schema in the document (by where OpenAPI allows them) and
/// converts it.
fn walk(value: &mut Value, path: &str) -> Result<(), String> {
    match value {
        Value::Mapping(map) => {
            let keys: Vec<Value> = map.keys().cloned().collect();
            for key in keys {
                let name = key.as_str().unwrap_or_default().to_owned();
                let child_path = format!("{path}/{name}");
                let child = map.get_mut(&key).expect("key just listed");
                if name == "schema" {
                    schema(child, &child_path)?;
                } else if name == "schemas" && path.ends_with("/components") {
                    if let Some(schemas) = child.as_mapping_mut() {
                        for (schema_name, s) in schemas.iter_mut() {
                            let p = format!("{child_path}/{}", schema_name.as_str().unwrap_or_default());
                            schema(s, &p)?;
                        }
                    }
                } else {
                    walk(child, &child_path)?;
                }
            }
        }
        Value::Sequence(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                walk(item, &format!("{path}/{i}"))?;
            }
        }
        _ => {}
    }
    Ok(())
}

fn is_null_type(v: &Value) -> bool {
    v.get("type").and_then(Value::as_str) == Some("null") && v.as_mapping().is_some_and(|m| m.len() == 1)
}

/// Converts one schema object and everything nested in it.
fn schema(value: &mut Value, path: &str) -> Result<(), String> {
    let Some(map) = value.as_mapping_mut() else {
        return Ok(()); // `true` / `false` schemas are fine as they are
    };
    for keyword in UNCONVERTIBLE {
        if map.contains_key(keyword) {
            return Err(format!("{path}: `{keyword}` has no OpenAPI 3.0 equivalent"));
        }
    }
    for dropped in ["$schema", "$id", "$comment"] {
        map.remove(dropped);
    }
    if map.contains_key("$defs") {
        return Err(format!(
            "{path}: `$defs` has no OpenAPI 3.0 equivalent; move them to components/schemas"
        ));
    }

    // type: [T, "null"] -> type: T, nullable: true
    if let Some(Value::Sequence(types)) = map.get("type").cloned() {
        let non_null: Vec<&Value> = types.iter().filter(|t| t.as_str() != Some("null")).collect();
        let nullable = non_null.len() < types.len();
        match non_null.as_slice() {
            [single] => {
                map.insert("type".into(), (*single).clone());
            }
            [] => return Err(format!("{path}: `type: [null]` has no OpenAPI 3.0 equivalent")),
            _ => {
                return Err(format!(
                    "{path}: `type` lists several types ({}); OpenAPI 3.0 allows one",
                    non_null
                        .iter()
                        .filter_map(|t| t.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            }
        }
        if nullable {
            map.insert("nullable".into(), true.into());
        }
    } else if map.get("type").and_then(Value::as_str) == Some("null") {
        return Err(format!("{path}: `type: null` has no OpenAPI 3.0 equivalent"));
    }

    // anyOf/oneOf: [X, {type: null}] -> X made nullable
    for key in ["anyOf", "oneOf"] {
        let Some(Value::Sequence(options)) = map.get(key).cloned() else {
            continue;
        };
        if !options.iter().any(is_null_type) {
            continue;
        }
        let rest: Vec<Value> = options.into_iter().filter(|o| !is_null_type(o)).collect();
        map.remove(key);
        if rest.len() == 1 {
            map.insert("allOf".into(), Value::Sequence(rest));
        } else {
            map.insert(key.into(), Value::Sequence(rest));
        }
        map.insert("nullable".into(), true.into());
    }

    // examples: [a, ...] -> example: a
    if let Some(Value::Sequence(examples)) = map.get("examples").cloned() {
        map.remove("examples");
        if let Some(first) = examples.into_iter().next() {
            if !map.contains_key("example") {
                map.insert("example".into(), first);
            }
        }
    }

    // const: v -> enum: [v]
    if let Some(constant) = map.remove("const") {
        map.insert("enum".into(), Value::Sequence(vec![constant]));
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
        let mut only_ref = Mapping::new();
        only_ref.insert("$ref".into(), reference);
        let mut rebuilt = Mapping::new();
        rebuilt.insert("allOf".into(), Value::Sequence(vec![Value::Mapping(only_ref)]));
        for (k, v) in std::mem::take(map) {
            rebuilt.insert(k, v);
        }
        *map = rebuilt;
    }

    // Nested schemas.
    for key in ["items", "additionalProperties", "not"] {
        if let Some(child) = map.get_mut(key) {
            schema(child, &format!("{path}/{key}"))?;
        }
    }
    if let Some(Value::Mapping(properties)) = map.get_mut("properties") {
        for (name, child) in properties.iter_mut() {
            schema(
                child,
                &format!("{path}/properties/{}", name.as_str().unwrap_or_default()),
            )?;
        }
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        if let Some(Value::Sequence(items)) = map.get_mut(key) {
            for (i, child) in items.iter_mut().enumerate() {
                schema(child, &format!("{path}/{key}/{i}"))?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn convert(yaml: &str) -> Result<Value, String> {
        to_openapi_30(serde_yaml::from_str(yaml).unwrap()).map(|c| c.document)
    }

    fn schema_of(doc: &Value) -> &Value {
        &doc["components"]["schemas"]["X"]
    }

    const HEAD: &str = "openapi: 3.1.0\ninfo: {title: t, version: '1'}\ncomponents:\n  schemas:\n    X:\n";

    #[test]
    fn nullable_type_arrays_examples_const_and_bounds() {
        let doc = convert(&format!(
            "{HEAD}      type: object\n      properties:\n        a: {{type: [string, 'null'], examples: [x, y]}}\n        b: {{const: fixed}}\n        c: {{type: integer, exclusiveMinimum: 0, exclusiveMaximum: 10}}\n        d: {{anyOf: [{{$ref: '#/components/schemas/Y'}}, {{type: 'null'}}]}}\n        e: {{$ref: '#/components/schemas/Y', description: kept}}\n"
        ))
        .unwrap();
        let p = &schema_of(&doc)["properties"];
        assert_eq!(doc["openapi"], "3.0.3");
        assert_eq!(
            serde_yaml::to_string(&p["a"]).unwrap(),
            "type: string\nnullable: true\nexample: x\n"
        );
        assert_eq!(serde_yaml::to_string(&p["b"]).unwrap(), "enum:\n- fixed\n");
        assert_eq!(
            serde_yaml::to_string(&p["c"]).unwrap(),
            "type: integer\nexclusiveMinimum: true\nexclusiveMaximum: true\nminimum: 0\nmaximum: 10\n"
        );
        assert_eq!(
            serde_yaml::to_string(&p["d"]).unwrap(),
            "allOf:\n- $ref: '#/components/schemas/Y'\nnullable: true\n"
        );
        assert_eq!(
            serde_yaml::to_string(&p["e"]).unwrap(),
            "allOf:\n- $ref: '#/components/schemas/Y'\ndescription: kept\n"
        );
        assert!(doc.get("paths").is_some(), "3.0 requires paths");
    }

    #[test]
    fn what_cannot_be_converted_is_refused_by_place() {
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
    }

    #[test]
    fn openapi_30_passes_through_untouched() {
        let text = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\n";
        let doc = convert(text).unwrap();
        assert_eq!(doc, serde_yaml::from_str::<Value>(text).unwrap());
    }
}
