//! Every example in the spec parses into its generated type and serialises
//! back to equivalent JSON.

use serde_json::Value;

use crate::registry;
use crate::spec::{same_instants, SPEC};

/// (where, component name, example) for every example the spec gives a
/// named type: request and response bodies, component schemas, and
/// properties that reference a component.
fn examples() -> Vec<(String, String, Value)> {
    let mut found = Vec::new();
    let component_of = |schema: &Value| -> Option<String> {
        let r = schema
            .get("$ref")
            .or_else(|| schema.pointer("/allOf/0/$ref"))
            .and_then(Value::as_str)?;
        r.strip_prefix("#/components/schemas/").map(str::to_owned)
    };
    for (path, item) in SPEC["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let mut media = Vec::new();
            if let Some(content) = op.pointer("/requestBody/content").and_then(Value::as_object) {
                media.extend(
                    content
                        .iter()
                        .map(|(t, m)| (format!("{method} {path} request {t}"), m)),
                );
            }
            for (code, response) in op["responses"].as_object().into_iter().flatten() {
                for (t, m) in response["content"].as_object().into_iter().flatten() {
                    media.push((format!("{method} {path} response {code} {t}"), m));
                }
            }
            for (place, m) in media {
                let Some(name) = component_of(&m["schema"]) else {
                    continue;
                };
                if let Some(example) = m.get("example") {
                    found.push((place.clone(), name.clone(), example.clone()));
                }
                for (key, named) in m["examples"].as_object().into_iter().flatten() {
                    found.push((
                        format!("{place} examples.{key}"),
                        name.clone(),
                        named["value"].clone(),
                    ));
                }
            }
        }
    }
    for (name, schema) in SPEC["components"]["schemas"].as_object().unwrap() {
        if let Some(example) = schema.get("example") {
            found.push((
                format!("components.schemas.{name}"),
                name.clone(),
                example.clone(),
            ));
        }
        for (prop, p) in schema["properties"].as_object().into_iter().flatten() {
            if let (Some(target), Some(example)) = (component_of(p), p.get("example")) {
                found.push((
                    format!("components.schemas.{name}.{prop}"),
                    target,
                    example.clone(),
                ));
            }
        }
    }
    found
}

#[test]
fn every_example_round_trips() {
    let all = examples();
    assert!(all.len() >= 8, "the walk found too few examples: {all:#?}");
    let mut failures = Vec::new();
    for (place, name, example) in &all {
        match registry::roundtrip(name, example) {
            Ok(back) if same_instants(&back) == same_instants(example) => {}
            Ok(back) => failures.push(format!(
                "{place} ({name}): serialises back as {back}, not {example}"
            )),
            Err(e) => failures.push(format!("{place} ({name}): does not parse: {e}")),
        }
    }
    assert!(
        failures.is_empty(),
        "examples that disagree with their types:\n{}",
        failures.join("\n")
    );
}

#[test]
fn every_example_is_valid_against_its_schema() {
    // The examples themselves obey the spec (as the mock's validator reads it).
    for (place, name, example) in examples() {
        if let Err(violations) = sigmamind_mock::validate_component(&name, &example) {
            panic!("{place}: example breaks {violations:?}");
        }
    }
}
