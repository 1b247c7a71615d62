//! The generated types, identified by where they sit in the API (the name
//! book's places), not by component name: a schema the vendor moves from
//! inline into a component, or renames, is the same type at the same place.
//! What changes for users is the Rust name at a place: a type renamed there,
//! a type no place has any more, a type at a new place. Error responses
//! speak of their error-body enum's variants. Components no operation
//! reaches have no place and are compared by name.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use sigmamind_codegen::intake::{self, names, NameBook};
use sigmamind_codegen::rewrite::error_bodies::{enum_name, variant_name};
use sigmamind_codegen::schema::shape;

use super::rules;
use super::{Change, Level};

/// Every change to the Rust types by place between two effective specs.
pub(super) fn changes(old: &Value, new: &Value) -> Vec<Change> {
    // Each document's intake is long on a large spec: both at once.
    let (old_book, new_book) = super::at_once(|| book_of(old), || book_of(new));
    let mut out = Vec::new();
    // The same place, another Rust name: grouped by (was, is).
    let mut renamed: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for (place, was) in &old_book.types {
        if let Some(is) = new_book.types.get(place).filter(|is| *is != was) {
            renamed
                .entry((was.clone(), is.clone()))
                .or_default()
                .push(place.clone());
        }
    }
    for ((was, is), places) in &renamed {
        for place in places {
            if let Some((operation, status)) = error_place(&new_book, place) {
                let (enum_name, variant) = (enum_name(operation), variant_name(status));
                out.push(Change::new(
                    rules::ERROR_BODY_TYPE_CHANGED,
                    Level::Breaking,
                    place,
                    format!("`{enum_name}::{variant}` now holds `{is}` (was `{was}`)"),
                    vec![enum_name.clone(), was.clone(), is.clone()],
                ));
            }
        }
        let fields: Vec<&String> = places
            .iter()
            .filter(|p| error_place(&new_book, p).is_none())
            .collect();
        let Some(first) = fields.first() else { continue };
        let mut types = vec![was.clone(), is.clone()];
        types.extend(fields.iter().filter_map(|p| holder(&new_book, p)));
        // Its reach: the operations of the other places (JSON `also_at`,
        // printed as "and at N more operations"); other places of its own
        // operation, or outside any, are counted here.
        let own = super::compare::operation_of(first);
        let (mut reach, mut elsewhere) = (BTreeSet::new(), 0);
        for place in &fields[1..] {
            match super::compare::operation_of(place).filter(|operation| Some(*operation) != own) {
                Some(operation) => {
                    reach.insert(operation.to_owned());
                }
                None => elsewhere += 1,
            }
        }
        let elsewhere = match elsewhere {
            0 => String::new(),
            1 => " (and at 1 more place)".to_owned(),
            n => format!(" (and at {n} more places)"),
        };
        let mut change = Change::new(
            rules::TYPE_RENAMED_AT_PLACE,
            Level::Breaking,
            first,
            format!(
                "the type here is now `{is}` (was `{was}`){elsewhere}: code naming `{was}` for this \
                 field stops compiling"
            ),
            types,
        );
        change.also_at = reach.into_iter().collect();
        out.push(change);
    }
    let (old_types, new_types) = (components(old), components(new));
    let (old_placed, new_placed) = (placed(&old_book), placed(&new_book));
    let renamed_from: BTreeSet<&String> = renamed.keys().map(|(was, _)| was).collect();
    let renamed_to: BTreeSet<&String> = renamed.keys().map(|(_, is)| is).collect();
    let mut unplaced_removed = Vec::new();
    for (name, _) in old_types.iter().filter(|(n, _)| !new_types.contains_key(*n)) {
        match old_placed.get(name) {
            Some(_) if renamed_from.contains(name) => {}
            Some(places) => out.push(Change::new(
                rules::TYPE_REMOVED,
                Level::Breaking,
                &places[0],
                format!("type `{name}` removed: no place of the API has it any more"),
                vec![name.clone()],
            )),
            None => unplaced_removed.push(name),
        }
    }
    let mut unplaced_added = Vec::new();
    for (name, _) in new_types.iter().filter(|(n, _)| !old_types.contains_key(*n)) {
        match new_placed.get(name) {
            Some(_) if renamed_to.contains(name) => {}
            Some(places) => out.push(Change::new(
                rules::TYPE_ADDED,
                Level::Compatible,
                &places[0],
                format!("new type `{name}`"),
                vec![name.clone()],
            )),
            None => unplaced_added.push(name),
        }
    }
    // Components no operation reaches: by name, a same-shape pair a rename.
    for name in unplaced_removed {
        let location = format!("components.schemas.{name}");
        let same_shape = unplaced_added
            .iter()
            .position(|a| shape(new_types[*a]) == shape(old_types[name]));
        match same_shape {
            Some(i) => {
                let to = unplaced_added.remove(i);
                out.push(Change::new(
                    rules::COMPONENT_RENAMED,
                    Level::Breaking,
                    &location,
                    format!("type `{name}` renamed to `{to}`"),
                    vec![name.clone(), to.clone()],
                ));
            }
            None => out.push(Change::new(
                rules::COMPONENT_REMOVED,
                Level::Breaking,
                &location,
                format!("type `{name}` removed"),
                vec![name.clone()],
            )),
        }
    }
    for name in unplaced_added {
        out.push(Change::new(
            rules::COMPONENT_ADDED,
            Level::Compatible,
            &format!("components.schemas.{name}"),
            format!("new type `{name}`"),
            vec![name.clone()],
        ));
    }
    out
}

/// The places of an effective spec: its components are named already, so
/// the intake's naming gives each place the name it has.
fn book_of(document: &Value) -> NameBook {
    intake::names(document, &NameBook::default()).unwrap_or_default()
}

fn components(document: &Value) -> BTreeMap<String, &Value> {
    document
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v)).collect())
        .unwrap_or_default()
}

/// Each type name and its places in the API, in the book's order
/// (a component no operation reaches has only `components.schemas.X`).
fn placed(book: &NameBook) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (place, name) in book.types.iter().filter(|(p, _)| !p.starts_with("components.")) {
        out.entry(name.clone()).or_default().push(place.clone());
    }
    out
}

/// For an error response's place (`POST /v1/calls 401`), its operation's
/// Rust name and the status.
fn error_place<'b>(book: &'b NameBook, place: &'b str) -> Option<(&'b str, &'b str)> {
    let (operation, status) = place.rsplit_once(' ')?;
    let is_error = sigmamind_codegen::spec::status_range(status).is_some()
        && !sigmamind_codegen::spec::is_success_status(status);
    let name = book.operations.get(operation)?;
    is_error.then_some((name.as_str(), status))
}

/// The type whose field sits at `place` (the nearest holder with a name).
fn holder(book: &NameBook, place: &str) -> Option<String> {
    let mut at = names::parent_location(place)?;
    loop {
        if let Some(name) = book.types.get(at) {
            return Some(name.clone());
        }
        at = names::parent_location(at)?;
    }
}
