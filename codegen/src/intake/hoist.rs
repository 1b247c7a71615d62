//! Gives every schema the generator will turn into a type a stable name
//! (see [`super::names`]) and makes it a named component: inline enums,
//! objects, compositions and constrained strings move under
//! `components/schemas`, vendor components are renamed to their Rust names,
//! and every operation gets its `operationId`.
//!
//! After this step the document has the shape the generator's forward
//! compatibility works on (open enums, relaxed responses are decided per
//! component), whatever shape the vendor published.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{Map, Value};

use super::names::{operation_name, type_name, Location, NameBook};
use crate::schema::{children, escape, lookup, member_key, shape, single_all_of, Step, SITE_KEYWORDS};
use crate::spec::{operations, schema_name};

/// A document with every type named, and the name book that records it.
#[derive(Debug, Clone)]
pub struct Named {
    /// The document, with named components and operation ids.
    pub document: Value,
    /// Every location's name, as it must be recorded.
    pub names: NameBook,
    /// Name conflicts resolved, for the maintainer to read.
    pub notes: Vec<String>,
}

/// Names and hoists (see the module docs). `book` is the previous name book.
pub fn name_and_hoist(document: &Value, book: &NameBook) -> Result<Named, String> {
    let namer = name(document, book);
    let component_names = vendor_components(document);
    let document = namer.emit(&component_names);
    Ok(Named {
        document,
        names: namer.out,
        notes: namer.notes,
    })
}

/// The names [`name_and_hoist`] gives, without writing the named document
/// (for tools that compare names by place: a third of the time).
pub fn names(document: &Value, book: &NameBook) -> NameBook {
    name(document, book).out
}

/// Names every place (both passes; see [`name_and_hoist`]).
fn name<'a>(document: &'a Value, book: &'a NameBook) -> Namer<'a> {
    // A name the book records is kept for its place, so a new thing may not
    // take it; but only while that place still exists. A first pass finds
    // the places this document has.
    let all_recorded: BTreeSet<String> = book.types.values().cloned().collect();
    let first = Namer::run(document, book, all_recorded, HashMap::new());
    if book.types.is_empty() {
        // Nothing reserved, nothing recorded by node: the second pass
        // would be this one again.
        return first;
    }
    let places = first.out.types;
    let reserved = book
        .types
        .iter()
        .filter(|(location, _)| places.contains_key(*location))
        .map(|(_, name)| name.clone())
        .collect();
    // The name the book records for some place of each node: a node reached
    // from a new place first (a `200` beside the documented `201`) keeps the
    // name its recorded place gave it.
    let mut node_book: HashMap<String, String> = HashMap::new();
    for (location, node) in &first.place_nodes {
        if let Some(name) = book.types.get(location) {
            node_book.entry(node.clone()).or_insert_with(|| name.clone());
        }
    }
    Namer::run(document, book, reserved, node_book)
}

fn vendor_components(document: &Value) -> Vec<String> {
    document
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

struct Namer<'a> {
    doc: &'a Value,
    book: &'a NameBook,
    out: NameBook,
    notes: Vec<String>,
    /// Pointer of each named schema node to its name.
    node_name: HashMap<String, String>,
    /// Each name to the node that defines it and that node's shape.
    owners: BTreeMap<String, (String, String)>,
    /// Pointers of the schemas operations use directly (bodies, parameters).
    roots: Vec<String>,
    /// Names the book records: not free for new things.
    reserved: BTreeSet<String>,
    /// Pointer of each operation object and its name.
    operation_ids: Vec<(String, String)>,
    /// The schema node each place uses.
    place_nodes: BTreeMap<Location, String>,
    /// The name the book records for a place of each node (second pass).
    node_book: HashMap<String, String>,
}

/// Whether the generator makes a type of this schema (so it needs a name).
fn makes_a_type(schema: &Value) -> bool {
    let Some(map) = schema.as_object() else {
        return false;
    };
    let non_empty = |key: &str| {
        map.get(key).is_some_and(|v| {
            v.as_object().is_some_and(|o| !o.is_empty()) || v.as_array().is_some_and(|a| !a.is_empty())
        })
    };
    let is_string = map.get("type").and_then(Value::as_str) == Some("string");
    non_empty("enum")
        || non_empty("properties")
        || non_empty("oneOf")
        || non_empty("anyOf")
        || map
            .get("allOf")
            .and_then(Value::as_array)
            .is_some_and(|a| a.len() > 1)
        || (is_string
            && ["pattern", "minLength", "maxLength"]
                .iter()
                .any(|k| map.contains_key(*k)))
}

fn is_success(code: &str) -> bool {
    code.starts_with('2')
}

impl<'a> Namer<'a> {
    /// Names every place of `document`: operations first, then the
    /// components no operation reaches.
    fn run(
        document: &'a Value,
        book: &'a NameBook,
        reserved: BTreeSet<String>,
        node_book: HashMap<String, String>,
    ) -> Self {
        let mut namer = Namer {
            doc: document,
            book,
            out: NameBook::default(),
            notes: Vec::new(),
            node_name: HashMap::new(),
            owners: BTreeMap::new(),
            roots: Vec::new(),
            reserved,
            operation_ids: Vec::new(),
            place_nodes: BTreeMap::new(),
            node_book,
        };
        namer.walk_operations();
        for name in vendor_components(document) {
            let pointer = format!("/components/schemas/{}", escape(&name));
            if namer.node_name.contains_key(&pointer) {
                continue; // reached from an operation: named by that place
            }
            namer.site(
                &pointer,
                format!("components.schemas.{name}"),
                type_name(&name),
                Some(&name),
            );
        }
        namer
    }

    fn walk_operations(&mut self) {
        let mut taken = BTreeSet::new();
        for (path, method, operation) in operations(self.doc) {
            let location = format!("{} {path}", method.to_uppercase());
            let op_pointer = format!("/paths/{}/{method}", escape(path));
            let wanted = operation
                .get("x-rust-name")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .or_else(|| self.book.operations.get(&location).cloned())
                .unwrap_or_else(|| {
                    operation_name(method, path, operation.get("operationId").and_then(Value::as_str))
                });
            let mut name = wanted.clone();
            let mut n = 2;
            while !taken.insert(name.clone()) {
                name = format!("{wanted}_{n}");
                n += 1;
            }
            if name != wanted {
                self.notes.push(format!(
                    "{location}: the name `{wanted}` is taken by another operation; named `{name}`"
                ));
            }
            self.out.operations.insert(location.clone(), name.clone());
            self.operation_ids.push((op_pointer.clone(), name.clone()));
            let prefix = type_name(&name);

            // Parameters: the path item's, then the operation's own.
            let item_pointer = format!("/paths/{}", escape(path));
            for owner in [item_pointer.as_str(), op_pointer.as_str()] {
                let count = lookup(self.doc, &format!("{owner}/parameters"))
                    .and_then(Value::as_array)
                    .map_or(0, Vec::len);
                for i in 0..count {
                    let Some((pointer, parameter)) = self.deref_pointer(&format!("{owner}/parameters/{i}"))
                    else {
                        continue;
                    };
                    if parameter.get("schema").is_none() {
                        continue;
                    }
                    let pname = parameter.get("name").and_then(Value::as_str).unwrap_or("?");
                    let place = parameter.get("in").and_then(Value::as_str).unwrap_or("?");
                    self.root(
                        format!("{pointer}/schema"),
                        format!("{location} param {place} {pname}"),
                        format!("{prefix}{}", type_name(pname)),
                    );
                }
            }
            self.bodies(
                &format!("{op_pointer}/requestBody"),
                &format!("{location} body"),
                format!("{prefix}Body"),
            );
            let codes: Vec<String> = operation
                .get("responses")
                .and_then(Value::as_object)
                .map(|r| r.keys().cloned().collect())
                .unwrap_or_default();
            for code in codes {
                let rule = if is_success(&code) {
                    format!("{prefix}Response")
                } else {
                    format!("{prefix}Error{}", type_name(&code).trim_start_matches("Type"))
                };
                let pointer = format!("{op_pointer}/responses/{}", escape(&code));
                self.bodies(&pointer, &format!("{location} {code}"), rule);
            }
        }
    }

    /// The schema of each media type of a request body or response at
    /// `pointer` (through a `$ref` to a component).
    fn bodies(&mut self, pointer: &str, location: &str, rule: String) {
        let Some((pointer, body)) = self.deref_pointer(pointer) else {
            return;
        };
        let media_types: Vec<String> = body
            .get("content")
            .and_then(Value::as_object)
            .map(|c| c.keys().cloned().collect())
            .unwrap_or_default();
        for media in media_types {
            self.root(
                format!("{pointer}/content/{}/schema", escape(&media)),
                media_location(location, &media),
                rule.clone(),
            );
        }
    }

    /// Follows a `$ref` to a parameter, body or response component.
    fn deref_pointer(&self, pointer: &str) -> Option<(String, &'a Value)> {
        let mut pointer = pointer.to_owned();
        for _ in 0..16 {
            let value = lookup(self.doc, &pointer)?;
            match value.get("$ref").and_then(Value::as_str) {
                Some(r) => pointer = r.strip_prefix('#')?.to_owned(),
                None => return Some((pointer, value)),
            }
        }
        None
    }

    fn root(&mut self, pointer: String, location: Location, rule: String) {
        if lookup(self.doc, &pointer).is_none() {
            return;
        }
        self.site(&pointer, location, rule, None);
        if !self.roots.contains(&pointer) {
            self.roots.push(pointer);
        }
    }

    /// The schema node a place uses: through a `$ref` to a component, or a
    /// one-member `allOf` wrapper; with the component's vendor name.
    fn resolve_site(&self, pointer: &str) -> (String, Option<String>) {
        let mut pointer = pointer.to_owned();
        let mut component = None;
        for _ in 0..64 {
            let Some(node) = lookup(self.doc, &pointer) else {
                break;
            };
            if let Some(reference) = node.get("$ref").and_then(Value::as_str) {
                component = schema_name(reference).map(str::to_owned);
                match reference.strip_prefix('#') {
                    Some(target) if lookup(self.doc, target).is_some() => {
                        pointer = target.to_owned();
                        continue;
                    }
                    _ => break,
                }
            }
            if single_all_of(node).is_some() {
                pointer.push_str("/allOf/0");
                continue;
            }
            break;
        }
        (pointer, component)
    }

    /// Names the schema at `pointer` (a place of use) and what is inside it.
    fn site(&mut self, pointer: &str, location: Location, rule: String, component: Option<&str>) {
        let (target, via_ref) = self.resolve_site(pointer);
        let component = component.map(str::to_owned).or(via_ref);
        self.place_nodes.insert(location.clone(), target.clone());
        if let Some(name) = self.node_name.get(&target) {
            self.out.types.insert(location, name.clone());
            return;
        }
        let Some(node) = lookup(self.doc, &target) else {
            return;
        };
        let pin = node.get("x-rust-name").and_then(Value::as_str).map(str::to_owned);
        let booked = self
            .book
            .types
            .get(&location)
            .or_else(|| self.node_book.get(&target))
            .cloned();
        let is_component = component.is_some() && target.starts_with("/components/schemas/");
        if !(is_component || pin.is_some() || booked.is_some() || makes_a_type(node)) {
            self.descend(&target, &location, &rule);
            return;
        }
        // Candidates in order of precedence; the recorded name first.
        let recorded: Vec<String> = pin.into_iter().chain(booked).collect();
        let mut fresh_names: Vec<String> = component
            .as_deref()
            .filter(|_| is_component)
            .map(type_name)
            .into_iter()
            .collect();
        fresh_names.push(rule);
        let node_shape = self.shape_key(&target, is_component);
        let (name, fresh) = self.claim(&recorded, &fresh_names, &target, node_shape, &location);
        self.node_name.insert(target.clone(), name.clone());
        self.out.types.insert(location.clone(), name.clone());
        if fresh {
            self.descend(&target, &location, &name);
        }
    }

    /// The shape that decides whether two places can share a type. An inline
    /// schema's `nullable` and `default` stay at its place, not in the type.
    fn shape_key(&self, pointer: &str, is_component: bool) -> String {
        // (`shape` drops `x-rust-name` with every extension.)
        let mut shaped = lookup(self.doc, pointer).map_or(Value::Null, shape);
        if let (false, Some(map)) = (is_component, shaped.as_object_mut()) {
            map.remove("nullable");
            map.remove("default");
        }
        shaped.to_string()
    }

    /// Picks the node's name: the first candidate that is free or already
    /// names a type of the same shape (then the node shares it). A name the
    /// book records for another place is not free for a new thing. When no
    /// candidate fits, the first gets `2`, `3`... appended, with a note.
    /// Returns the name and whether this node defines it.
    fn claim(
        &mut self,
        recorded: &[String],
        fresh: &[String],
        pointer: &str,
        node_shape: String,
        location: &str,
    ) -> (String, bool) {
        let candidates = recorded
            .iter()
            .map(|n| (n, true))
            .chain(fresh.iter().map(|n| (n, false)));
        for (name, is_recorded) in candidates {
            match self.owners.get(name) {
                Some((_, existing)) if *existing == node_shape => return (name.clone(), false),
                Some(_) => continue,
                None if !is_recorded && self.reserved.contains(name) => continue,
                None => {
                    self.owners.insert(name.clone(), (pointer.to_owned(), node_shape));
                    if let Some(first) = recorded.first().filter(|first| *first != name) {
                        self.notes.push(format!(
                            "{location}: `{first}` (recorded for this place) now names a type of another \
                             shape; named `{name}`"
                        ));
                    }
                    return (name.clone(), true);
                }
            }
        }
        let wanted = recorded
            .first()
            .or(fresh.last())
            .expect("the rule always gives a name");
        let mut n = 2;
        loop {
            let name = format!("{wanted}{n}");
            match self.owners.get(&name) {
                Some((_, existing)) if *existing == node_shape => return (name, false),
                Some(_) => n += 1,
                None if self.reserved.contains(&name) => n += 1,
                None => {
                    self.owners.insert(name.clone(), (pointer.to_owned(), node_shape));
                    self.notes.push(format!(
                        "{location}: `{wanted}` already names a type of another shape; named `{name}`"
                    ));
                    return (name, true);
                }
            }
        }
    }

    fn descend(&mut self, pointer: &str, location: &str, prefix: &str) {
        let Some(node) = lookup(self.doc, pointer) else {
            return;
        };
        for child in children(node) {
            let (place, rule) = match &child.step {
                Step::Property(p) => (format!("{location}.{p}"), format!("{prefix}{}", type_name(p))),
                Step::Items => (format!("{location}[]"), format!("{prefix}Item")),
                Step::Values => (format!("{location}{{}}"), format!("{prefix}Value")),
                Step::Not => (format!("{location}!"), format!("{prefix}Not")),
                // By identity, not position: a member the vendor moves keeps
                // its place, and so its recorded name.
                Step::Member(kind, i) => (
                    format!("{location}.{kind}[{}]", member_key(node, child.schema, *i)),
                    format!("{prefix}{}{i}", if *kind == "allOf" { "Part" } else { "Variant" }),
                ),
            };
            self.site(&format!("{pointer}{}", child.pointer), place, rule, None);
        }
    }

    /// Writes the named document.
    fn emit(&self, vendor_components: &[String]) -> Value {
        let mut out = self.doc.clone();
        for root in &self.roots {
            let replacement = self.emit_site(root);
            if let Some(slot) = out.pointer_mut(root) {
                *slot = replacement;
            }
        }
        let mut schemas = Map::new();
        for (name, (pointer, _)) in &self.owners {
            let mut schema = self.emit_schema(pointer);
            // An inline schema's `nullable` and `default` belong to its place
            // (which keeps them), not to the type; a component's are its own.
            let is_component = pointer
                .strip_prefix("/components/schemas/")
                .is_some_and(|name| !name.contains('/'));
            if !is_component {
                if let Some(map) = schema.as_object_mut() {
                    map.remove("nullable");
                    map.remove("default");
                }
            }
            schemas.insert(name.clone(), schema);
        }
        let components = out
            .as_object_mut()
            .expect("an OpenAPI document is an object")
            .entry("components")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Some(components) = components.as_object_mut() {
            if schemas.is_empty() {
                components.remove("schemas");
            } else {
                components.insert("schemas".into(), Value::Object(schemas));
            }
        }
        for (pointer, name) in &self.operation_ids {
            if let Some(Value::Object(op)) = out.pointer_mut(pointer) {
                op.insert("operationId".into(), Value::String(name.clone()));
                op.remove("x-rust-name");
            }
        }
        // References the walk does not reach (headers, discriminator
        // mappings) follow the components to their new names.
        let renamed: HashMap<String, String> = vendor_components
            .iter()
            .filter_map(|vendor| {
                let pointer = format!("/components/schemas/{}", escape(vendor));
                self.node_name
                    .get(&pointer)
                    .map(|name| (vendor.clone(), name.clone()))
            })
            .collect();
        let current: BTreeSet<String> = self.owners.keys().cloned().collect();
        retarget(&mut out, &renamed, &current);
        out
    }

    /// A place of use: a reference to its named type (keeping the place's
    /// own keywords beside it), or the schema written out.
    fn emit_site(&self, pointer: &str) -> Value {
        let (target, _) = self.resolve_site(pointer);
        let Some(name) = self.node_name.get(&target) else {
            return self.emit_schema(pointer);
        };
        let site = lookup(self.doc, pointer)
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let mut kept: Map<String, Value> = if target == pointer {
            site.into_iter()
                .filter(|(k, _)| SITE_KEYWORDS.contains(&k.as_str()))
                .collect()
        } else {
            site.into_iter()
                .filter(|(k, _)| k != "$ref" && k != "allOf" && k != "x-rust-name")
                .collect()
        };
        let reference = Value::Object(Map::from_iter([(
            "$ref".to_owned(),
            Value::String(format!("#/components/schemas/{name}")),
        )]));
        if kept.is_empty() {
            return reference;
        }
        kept.insert("allOf".into(), Value::Array(vec![reference]));
        Value::Object(kept)
    }

    /// A schema written out, with the places inside it emitted.
    fn emit_schema(&self, pointer: &str) -> Value {
        let Some(node) = lookup(self.doc, pointer) else {
            return Value::Null;
        };
        let mut out = node.clone();
        if let Some(map) = out.as_object_mut() {
            map.remove("x-rust-name");
        }
        for child in children(node) {
            let emitted = self.emit_site(&format!("{pointer}{}", child.pointer));
            if let Some(slot) = out.pointer_mut(&child.pointer) {
                *slot = emitted;
            }
        }
        out
    }
}

fn media_location(base: &str, media: &str) -> String {
    if media == "application/json" {
        base.to_owned()
    } else {
        format!("{base} ({media})")
    }
}

/// Points `$ref`s and discriminator mappings that still name a vendor
/// component at its new name.
fn retarget(value: &mut Value, renamed: &HashMap<String, String>, current: &BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                if key == "example" || key == "examples" {
                    continue;
                }
                if let Value::String(reference) = child {
                    if key == "$ref" || reference.starts_with("#/components/schemas/") {
                        if let Some(vendor) = schema_name(reference) {
                            if !current.contains(vendor) {
                                if let Some(name) = renamed.get(vendor) {
                                    *reference = format!("#/components/schemas/{name}");
                                }
                            }
                        }
                    }
                    continue;
                }
                retarget(child, renamed, current);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| retarget(v, renamed, current)),
        _ => {}
    }
}
