//! Fail closed: the generated surfaces of both sides, section by section
//! (a type, or `METHOD /path`); a section whose lines moved with no rule
//! naming it is an `unclassified-surface-change`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use sigmamind_codegen::{generate_file, surface, Options, Spec};

use super::{rules, Change, Level};

/// The surface listing of an effective spec, without its title line.
pub(super) fn of(document: &Value, options: &Options) -> Result<String, String> {
    let spec = Spec::from_value("spec", document.clone()).map_err(|e| e.problem)?;
    let file = generate_file(&spec, options).map_err(|e| e.problem)?;
    Ok(surface::render(&spec, &file)
        .lines()
        .skip(1)
        .collect::<Vec<_>>()
        .join("\n"))
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
        if o == n {
            continue;
        }
        // Only a change that alters the API explains a moved line.
        let named = explained.iter().filter(|c| c.level != Level::Docs).any(|c| {
            c.types.iter().any(|t| t == key)
                || section_is_operation(key)
                    && (c.location == *key || c.location.starts_with(&format!("{key} ")))
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
