//! For every generated type, the JSON Schema schemars derives agrees with
//! the spec's schema: properties, required set, types, formats, enum values,
//! patterns and length limits. Each disagreement is named.
//!
//! Deliberate differences, by design of the generation step:
//! - a field the spec does not mark nullable may still be nullable in Rust
//!   when it is optional (`Option`, never sent as `null`; tolerated in
//!   responses from newer servers); the reverse is a disagreement;
//! - where the spec names no format, Rust may pick one (`int64` for a bare
//!   `integer`);
//! - responses drop request rules; the spec's response-only schemas have none.

use std::collections::BTreeSet;

use schemars::r#gen::SchemaSettings;
use serde_json::Value;

use crate::registry;
use crate::spec::{spec_lookup, unwrap, SPEC};

struct Compare<'a> {
    rust_definitions: &'a Value,
    problems: Vec<String>,
    seen: BTreeSet<String>,
}

impl<'a> Compare<'a> {
    fn rust_lookup(&self) -> impl Fn(&str) -> Option<&'a Value> + 'a {
        let defs = self.rust_definitions;
        move |r: &str| defs.get(r.strip_prefix("#/components/schemas/")?)
    }

    fn problem(&mut self, at: &str, what: String) {
        self.problems.push(format!("{at}: {what}"));
    }

    fn compare(&mut self, at: &str, spec: &'static Value, rust: &'a Value) {
        let key = format!(
            "{}|{}",
            spec.get("$ref").map(Value::to_string).unwrap_or_default(),
            at
        );
        if spec.get("$ref").is_some() && !self.seen.insert(key) {
            return;
        }
        let (s, s_nullable) = unwrap(spec, &spec_lookup);
        let (r, r_nullable) = unwrap(rust, &self.rust_lookup());
        if s_nullable && !r_nullable {
            self.problem(at, "the spec allows null, the Rust type does not".into());
        }
        for key in [
            "type",
            "pattern",
            "maxLength",
            "minLength",
            "additionalProperties",
        ] {
            let (sv, rv) = (s.get(key), r.get(key));
            let same = match key {
                // `additionalProperties: true` is the default either way.
                "additionalProperties" => {
                    sv.unwrap_or(&Value::Bool(true)) == rv.unwrap_or(&Value::Bool(true))
                        || (sv.is_some_and(Value::is_object) && rv.is_some_and(Value::is_object))
                }
                _ => sv == rv,
            };
            if !same {
                self.problem(at, format!("{key}: spec {} vs Rust {}", show(sv), show(rv)));
            }
        }
        if let Some(format) = s.get("format") {
            if r.get("format") != Some(format) {
                self.problem(
                    at,
                    format!("format: spec {format} vs Rust {}", show(r.get("format"))),
                );
            }
        }
        let values = |v: &Value| -> Option<BTreeSet<String>> {
            v.get("enum")
                .and_then(Value::as_array)
                .map(|a| a.iter().map(Value::to_string).collect())
        };
        if values(s) != values(r) {
            self.problem(at, format!("enum: spec {:?} vs Rust {:?}", values(s), values(r)));
        }
        let names = |v: &Value, key: &str| -> BTreeSet<String> {
            match v.get(key) {
                Some(Value::Object(m)) => m.keys().cloned().collect(),
                Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
                _ => BTreeSet::new(),
            }
        };
        let (sp, rp) = (names(s, "properties"), names(r, "properties"));
        for missing in sp.difference(&rp) {
            self.problem(
                at,
                format!("property `{missing}` is in the spec, not in the Rust type"),
            );
        }
        for extra in rp.difference(&sp) {
            self.problem(
                at,
                format!("property `{extra}` is in the Rust type, not in the spec"),
            );
        }
        let (sr, rr) = (names(s, "required"), names(r, "required"));
        if sr != rr {
            self.problem(at, format!("required: spec {sr:?} vs Rust {rr:?}"));
        }
        for name in sp.intersection(&rp) {
            let child = format!("{at}.{name}");
            self.compare(&child, &s["properties"][name], &r["properties"][name]);
        }
        if let (Some(si), Some(ri)) = (s.get("items"), r.get("items")) {
            self.compare(&format!("{at}[]"), si, ri);
        }
    }
}

fn show(v: Option<&Value>) -> String {
    v.map_or_else(|| "(none)".to_owned(), Value::to_string)
}

/// Disagreements between every registered type and its spec schema.
pub fn disagreements() -> Vec<String> {
    let mut problems = Vec::new();
    for name in registry::NAMES {
        let mut generator = SchemaSettings::openapi3().into_generator();
        let rust = serde_json::to_value(registry::schema(name, &mut generator)).unwrap();
        let definitions = serde_json::to_value(generator.definitions()).unwrap();
        let spec = &SPEC["components"]["schemas"][*name];
        let mut compare = Compare {
            rust_definitions: &definitions,
            problems: Vec::new(),
            seen: BTreeSet::new(),
        };
        compare.compare(name, spec, &rust);
        problems.extend(compare.problems);
    }
    problems
}

#[test]
fn generated_json_schemas_agree_with_the_spec() {
    let problems = disagreements();
    assert!(
        problems.is_empty(),
        "the generated types disagree with the spec:\n{}",
        problems.join("\n")
    );
}
