//! The rules, place by place: every operation, body, response, parameter
//! and field of the old document is compared with what sits at the same
//! place of the new one, following `$ref`s, so that a schema moved from
//! inline into a component (or renamed) is compared as what it is.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use sigmamind_codegen::open_enum::variant_name;
use sigmamind_codegen::rewrite::error_bodies::enum_name as error_body_enum_name;
use sigmamind_codegen::schema::{member_key, single_all_of, unwrap};
use sigmamind_codegen::spec::{blocked_operations, deref, operations, schema_name};
use sigmamind_codegen::{transform, Spec};

use super::rules::{self, ReportRule};
use super::{Change, Level};

/// Every change the rules find between two effective specs (the types by
/// place are [`super::places`]'s, the surface [`super::surface`]'s).
pub(super) fn changes(old: &Value, new: &Value) -> Vec<Change> {
    let unreached = unreached_components(old, new);
    let mut d = Differ {
        old,
        new,
        changes: Vec::new(),
        seen: BTreeMap::new(),
        context: Vec::new(),
        open_enums: open_enums(new),
        merged_into: BTreeMap::new(),
    };
    d.operations();
    // The generator makes a type of every component, reached or not (a
    // webhook's payload): what no operation reaches is compared too, as a
    // response (what a webhook delivers is received, not sent).
    for (name, reference) in &unreached {
        d.schema(
            Side::Response,
            &format!("components.schemas.{name}"),
            reference,
            reference,
            true,
        );
    }
    d.security_and_servers();
    let merged_into = std::mem::take(&mut d.merged_into);
    for change in &mut d.changes {
        // The generator merges an `allOf`'s members into one struct: a
        // change to a member's type is one to every composite's.
        let mut pending = change.types.clone();
        while let Some(name) = pending.pop() {
            for composite in merged_into.get(&name).into_iter().flatten() {
                if !change.types.contains(composite) {
                    change.types.push(composite.clone());
                    pending.push(composite.clone());
                }
            }
        }
        let own = operation_of(&change.location).map(str::to_owned);
        change.also_at.sort();
        change.also_at.dedup();
        change.also_at.retain(|op| Some(op) != own.as_ref());
    }
    d.changes
}

/// The components in both documents that no operation of either reaches,
/// each with a `$ref` to it (the same text names it in both).
fn unreached_components(old: &Value, new: &Value) -> Vec<(String, Value)> {
    let reached: BTreeSet<String> = transform::reached_components(old)
        .into_iter()
        .chain(transform::reached_components(new))
        .collect();
    let names = |doc: &Value| -> BTreeSet<String> {
        doc.pointer("/components/schemas")
            .and_then(Value::as_object)
            .map(|schemas| schemas.keys().cloned().collect())
            .unwrap_or_default()
    };
    names(old)
        .intersection(&names(new))
        .filter(|name| !reached.contains(*name))
        .map(|name| {
            (
                name.clone(),
                serde_json::json!({"$ref": format!("#/components/schemas/{name}")}),
            )
        })
        .collect()
}

/// The operation (`GET /path`) a location sits in, if it sits in one.
pub(super) fn operation_of(location: &str) -> Option<&str> {
    let mut words = location.match_indices(' ');
    let (first, _) = words.next()?;
    let method = &location[..first];
    if !sigmamind_codegen::spec::METHODS.contains(&method.to_lowercase().as_str()) {
        return None;
    }
    let end = words.next().map_or(location.len(), |(at, _)| at);
    Some(&location[..end])
}

/// An empty JSON object, for a side that has none.
static EMPTY: std::sync::LazyLock<serde_json::Map<String, Value>> =
    std::sync::LazyLock::new(serde_json::Map::new);

#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Request,
    Response,
}

impl Side {
    fn name(self) -> &'static str {
        match self {
            Side::Request => "request",
            Side::Response => "response",
        }
    }
}

struct Differ<'a> {
    old: &'a Value,
    new: &'a Value,
    changes: Vec<Change>,
    /// Named schema pairs compared so far, and the changes their first
    /// comparison found (`None` while it runs): a later place that reaches
    /// the same pair adds its operation to those changes' reach instead of
    /// reporting them again.
    seen: BTreeMap<String, Option<std::ops::Range<usize>>>,
    /// The generated types being compared, outermost first.
    context: Vec<String>,
    /// Components a response of the new spec can carry.
    open_enums: BTreeSet<String>,
    /// For each component that is an `allOf` member, the composites whose
    /// generated struct merges its fields.
    merged_into: BTreeMap<String, BTreeSet<String>>,
}

fn ops(doc: &Value) -> BTreeMap<String, (&Value, &Value)> {
    operations(doc)
        .into_iter()
        .map(|(path, method, op)| {
            let item = &doc["paths"][path];
            (format!("{} {path}", method.to_uppercase()), (item, op))
        })
        .collect()
}

fn codes(op: &Value, success: bool) -> BTreeSet<String> {
    op["responses"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(code, _)| code.clone())
        .filter(|code| code.starts_with('2') == success)
        .collect()
}

fn list(values: &BTreeSet<String>) -> String {
    values.iter().cloned().collect::<Vec<_>>().join(", ")
}

/// The `default` of a place: beside a reference, or on the schema it uses.
fn default_of<'a>(document: &'a Value, schema: &'a Value) -> Option<&'a Value> {
    schema
        .get("default")
        .or_else(|| unwrap(document, schema).0.get("default"))
}

/// The name of an operation's generated error-body enum (the generator's).
fn error_body_enum(operation: &Value) -> String {
    error_body_enum_name(operation["operationId"].as_str().unwrap_or(""))
}

/// The enums the generator makes open for `document`: its own plan, not a
/// re-derivation (none, when it cannot plan the document: then every
/// request enum counts as closed, the cautious reading).
fn open_enums(document: &Value) -> BTreeSet<String> {
    let Ok(spec) = Spec::from_value("spec", document.clone()) else {
        return BTreeSet::new();
    };
    match transform::prepare(&spec, transform::Success::AsDocumented) {
        Ok((_, plan)) => plan.open_enums.into_iter().map(|e| e.name).collect(),
        Err(_) => BTreeSet::new(),
    }
}

/// Members whose key now holds another member's content: `(old key, new
/// key)` for each new member whose content differs from the old member of
/// its key and equals that of another old member, both keys being in both
/// lists. Members the generator names by position (inline ones, hoisted as
/// `…Variant3`) move so when the list is reordered; `old` and `new` hold
/// each member's content (its reference followed).
fn moved_members(old: &[(String, &Value)], new: &[(String, &Value)]) -> Vec<(String, String)> {
    fn content_at<'v>(list: &[(String, &'v Value)], key: &str) -> Option<&'v Value> {
        list.iter().find(|(k, _)| k == key).map(|(_, m)| *m)
    }
    let in_both = |key: &str| old.iter().any(|(k, _)| k == key) && new.iter().any(|(k, _)| k == key);
    let mut taken: Vec<&str> = Vec::new();
    let mut moved = Vec::new();
    for (key, member) in new.iter().filter(|(k, _)| in_both(k)) {
        if content_at(old, key) == Some(*member) {
            continue;
        }
        let twin = old.iter().find(|(k, m)| {
            k != key
                && m == member
                && in_both(k)
                && !taken.contains(&k.as_str())
                && content_at(new, k) != Some(*m)
        });
        if let Some((was, _)) = twin {
            taken.push(was);
            moved.push((was.clone(), key.clone()));
        }
    }
    moved
}

/// A schema's kind, unions by keyword only.
fn kind_of(schema: &Value) -> String {
    for key in ["oneOf", "anyOf"] {
        if schema.get(key).is_some() {
            return key.to_owned();
        }
    }
    if schema.get("properties").is_some() && schema.get("type").is_none() {
        return "object".to_owned();
    }
    let kind = schema["type"].as_str().unwrap_or("any");
    match schema["format"].as_str() {
        Some(format) => format!("{kind} ({format})"),
        None => kind.to_owned(),
    }
}

/// A schema's JSON type as the report names it: `string (date-time)`, or
/// `one of string | integer` for a union.
fn type_of(doc: &Value, schema: &Value) -> String {
    for key in ["oneOf", "anyOf"] {
        if let Some(members) = schema.get(key).and_then(Value::as_array) {
            let kinds: Vec<String> = members
                .iter()
                .map(|m| type_of(doc, unwrap(doc, m).0))
                .filter(|k| k != "null")
                .collect();
            return format!("one of {}", kinds.join(" | "));
        }
    }
    if schema.get("properties").is_some() && schema.get("type").is_none() {
        return "object".to_owned();
    }
    let kind = schema["type"].as_str().unwrap_or("any");
    match schema["format"].as_str() {
        Some(format) => format!("{kind} ({format})"),
        None => kind.to_owned(),
    }
}

/// The Rust type the generator makes of a [`type_of`] description.
fn rust_of(kind: &str) -> String {
    if let Some(scalar) = scalar_rust_of(kind) {
        return format!("`{scalar}`");
    }
    let rust = match kind {
        "array" => "a `Vec`",
        "object" => "a struct or map",
        k if k.starts_with("one of") => "an enum of the members",
        _ => "`serde_json::Value`",
    };
    rust.to_owned()
}

/// The Rust type typify makes of a scalar [`type_of`] description, as its
/// `convert_string`, `convert_integer` and `convert_number` choose by
/// format (bounds that narrow an integer are left to the surface check):
/// `None` for what is not a scalar.
fn scalar_rust_of(kind: &str) -> Option<&'static str> {
    let (base, format) = match kind.split_once(" (") {
        Some((base, format)) => (base, format.strip_suffix(')')),
        None => (kind, None),
    };
    Some(match (base, format) {
        ("string", Some("date-time")) => "DateTime<Utc>",
        ("string", Some("date")) => "NaiveDate",
        ("string", Some("uuid")) => "Uuid",
        ("string", Some("ip")) => "IpAddr",
        ("string", Some("ipv4")) => "Ipv4Addr",
        ("string", Some("ipv6")) => "Ipv6Addr",
        // Any other string format is a `String` to typify.
        ("string", _) => "String",
        ("integer", Some("int8")) => "i8",
        ("integer", Some("uint8")) => "u8",
        ("integer", Some("int16")) => "i16",
        ("integer", Some("uint16")) => "u16",
        ("integer", Some("int" | "int32")) => "i32",
        ("integer", Some("uint" | "uint32")) => "u32",
        ("integer", Some("uint64")) => "u64",
        ("integer", _) => "i64",
        ("number", Some("float")) => "f32",
        ("number", _) => "f64",
        ("boolean", _) => "bool",
        _ => return None,
    })
}

/// The credentials of a security requirement, by what the client sends
/// (type, place, header), not by the scheme's name in the document.
fn requirements(doc: &Value, op: &Value) -> Option<Vec<Vec<String>>> {
    let required = op.get("security").or(doc.get("security"))?.as_array()?;
    let schemes = doc.pointer("/components/securitySchemes");
    Some(
        required
            .iter()
            .map(|alternative| {
                let mut sent: Vec<String> = alternative
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(name, _)| {
                        let scheme = schemes.and_then(|s| s.get(name));
                        scheme.map_or(name.clone(), credential)
                    })
                    .collect();
                sent.sort();
                sent
            })
            .collect(),
    )
}

/// What a security scheme makes the client send.
fn credential(scheme: &Value) -> String {
    ["type", "in", "name", "scheme"]
        .iter()
        .map(|k| scheme.get(*k).and_then(Value::as_str).unwrap_or(""))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The component a schema refers to (through a one-member `allOf`).
fn component_of(schema: &Value) -> Option<&str> {
    let inner = single_all_of(schema).unwrap_or(schema);
    inner.get("$ref").and_then(Value::as_str).and_then(schema_name)
}

impl<'a> Differ<'a> {
    fn push(&mut self, rule: ReportRule, level: Level, location: &str, message: impl Into<String>) {
        // A change explains the surface of the types it sits in: the one
        // being compared and its parent (whose field line may change).
        let types = self.context.iter().rev().take(2).cloned().collect();
        self.changes
            .push(Change::new(rule, level, location, message, types));
    }

    fn operations(&mut self) {
        let (old_ops, new_ops) = (ops(self.old), ops(self.new));
        for (key, (old_item, old_op)) in &old_ops {
            let Some((new_item, new_op)) = new_ops.get(key) else {
                // Its error-body enum goes with it.
                self.context = vec![error_body_enum(old_op)];
                self.push(
                    rules::OPERATION_REMOVED,
                    Level::Breaking,
                    key,
                    "operation removed (its client method is gone)",
                );
                self.context.clear();
                continue;
            };
            self.operation(key, (old_item, old_op), (new_item, new_op));
        }
        // A change the rules above rate on the wire (a media type added is
        // compatible; a new operation is a new method) may leave the
        // generator unable to generate the operation: said once, with why.
        let blocked = |doc: &Value| -> BTreeMap<String, String> {
            blocked_operations(doc)
                .into_iter()
                .map(|b| (format!("{} {}", b.method.to_uppercase(), b.path), b.why))
                .collect()
        };
        let (was_blocked, now_blocked) = (blocked(self.old), blocked(self.new));
        for (key, why) in now_blocked
            .iter()
            .filter(|(key, _)| !was_blocked.contains_key(*key))
        {
            let what = if old_ops.contains_key(key) {
                "the generator cannot generate this operation any more"
            } else {
                "the generator cannot generate this new operation"
            };
            self.push(
                rules::OPERATION_NOT_GENERATABLE,
                Level::Breaking,
                key,
                format!("{what}: {why} (the crate cannot be regenerated until the overlay settles it)"),
            );
        }
        for key in new_ops.keys().filter(|k| !old_ops.contains_key(*k)) {
            let id = new_ops[key].1["operationId"].as_str().unwrap_or("?");
            self.context = vec![error_body_enum(new_ops[key].1)];
            self.push(
                rules::OPERATION_ADDED,
                Level::Compatible,
                key,
                format!("new operation `{id}`"),
            );
            self.context.clear();
        }
    }

    fn operation(&mut self, key: &str, old: (&'a Value, &'a Value), new: (&'a Value, &'a Value)) {
        let ((old_item, old), (new_item, new)) = (old, new);
        if old["operationId"] != new["operationId"] {
            let (was, is) = (error_body_enum(old), error_body_enum(new));
            self.context = vec![was.clone(), is.clone()];
            self.push(
                rules::OPERATION_ID_CHANGED,
                Level::Breaking,
                key,
                format!(
                    "operationId changed from {} to {} (the client method is renamed, and its error-body \
                     enum `{was}` becomes `{is}`)",
                    old["operationId"], new["operationId"]
                ),
            );
            self.context.clear();
        }
        let (old_codes, new_codes) = (codes(old, true), codes(new, true));
        if old_codes != new_codes {
            // Any 2xx is the operation's success, decoded as its success type.
            let (level, why) = if old_codes.is_empty() || new_codes.is_empty() {
                (Level::Breaking, "the operation's success type changes")
            } else {
                (
                    Level::Warning,
                    "every 2xx is a success, decoded as the same type, so code keeps working; which \
                     statuses are reported as drift changes",
                )
            };
            self.push(
                rules::RESPONSE_SUCCESS_STATUS_CHANGED,
                level,
                key,
                format!(
                    "success status changed from {} to {}: {why}",
                    list(&old_codes),
                    list(&new_codes)
                ),
            );
        }
        if requirements(self.old, old) != requirements(self.new, new) {
            self.push(
                rules::SECURITY_REQUIREMENTS_CHANGED,
                Level::Breaking,
                key,
                "security requirements changed",
            );
        }
        self.parameters(key, (old_item, old), (new_item, new));
        self.request_body(key, old, new);
        if let ([o], [n]) = (
            old_codes.iter().collect::<Vec<_>>().as_slice(),
            new_codes.iter().collect::<Vec<_>>().as_slice(),
        ) {
            // One success each side: the same place, whatever its status.
            self.success_response(key, (o, old), (n, new));
        } else {
            for code in old_codes.intersection(&new_codes) {
                self.response(key, code, old, new, Side::Response);
            }
        }
        self.error_responses(key, old, new);
    }

    fn request_body(&mut self, key: &str, old: &'a Value, new: &'a Value) {
        let location = format!("{key} request");
        let body = |doc: &'a Value, op: &'a Value| deref(doc, &op["requestBody"]).filter(|b| b.is_object());
        let (ob, nb) = (body(self.old, old), body(self.new, new));
        let required = |b: Option<&Value>| b.is_some_and(|b| b["required"] == Value::Bool(true));
        match (ob, nb) {
            (Some(_), None) => self.push(
                rules::REQUEST_BODY_REMOVED,
                Level::Breaking,
                &location,
                "request body removed",
            ),
            (None, Some(_)) if required(nb) => self.push(
                rules::NEW_REQUIRED_REQUEST_BODY,
                Level::Breaking,
                &location,
                "required request body added",
            ),
            (None, Some(_)) => self.push(
                rules::NEW_OPTIONAL_REQUEST_BODY,
                Level::Compatible,
                &location,
                "optional request body added",
            ),
            (Some(o), Some(n)) => {
                if !required(ob) && required(nb) {
                    self.push(
                        rules::REQUEST_BODY_BECAME_REQUIRED,
                        Level::Breaking,
                        &location,
                        "request body became required",
                    );
                }
                self.media(Side::Request, &location, o, n);
            }
            (None, None) => {}
        }
    }

    fn response(&mut self, key: &str, code: &str, old: &'a Value, new: &'a Value, side: Side) {
        let location = format!("{key} response {code}");
        let response = |doc: &'a Value, op: &'a Value| deref(doc, &op["responses"][code]);
        if let (Some(o), Some(n)) = (response(self.old, old), response(self.new, new)) {
            self.media(side, &location, o, n);
        }
    }

    /// The one success response of each side, whatever its status.
    fn success_response(
        &mut self,
        key: &str,
        (old_code, old): (&str, &'a Value),
        (new_code, new): (&str, &'a Value),
    ) {
        let location = format!("{key} response {new_code}");
        let o = deref(self.old, &old["responses"][old_code]);
        let n = deref(self.new, &new["responses"][new_code]);
        if let (Some(o), Some(n)) = (o, n) {
            self.media(Side::Response, &location, o, n);
        }
    }

    /// Every media type of a body or response, compared by media type.
    fn media(&mut self, side: Side, location: &str, old: &'a Value, new: &'a Value) {
        let content = |v: &'a Value| v["content"].as_object();
        let (oc, nc) = (content(old), content(new));
        let (empty_o, empty_n) = (oc.is_none_or(|c| c.is_empty()), nc.is_none_or(|c| c.is_empty()));
        match (empty_o, empty_n) {
            (false, true) => {
                let rule = match side {
                    Side::Request => rules::REQUEST_BODY_REMOVED,
                    Side::Response => rules::RESPONSE_BODY_REMOVED,
                };
                return self.push(
                    rule,
                    Level::Breaking,
                    location,
                    format!("{} body removed", side.name()),
                );
            }
            (true, false) => {
                let (rule, level) = match side {
                    Side::Request => (rules::REQUEST_BODY_ADDED, Level::Breaking),
                    Side::Response => (rules::RESPONSE_BODY_ADDED, Level::Compatible),
                };
                return self.push(rule, level, location, format!("{} body added", side.name()));
            }
            (true, true) => return,
            (false, false) => {}
        }
        let (oc, nc) = (oc.expect("checked"), nc.expect("checked"));
        for (media, om) in oc {
            let at = if media == "application/json" {
                location.to_owned()
            } else {
                format!("{location} ({media})")
            };
            match nc.get(media) {
                None => self.push(
                    if side == Side::Request {
                        rules::REQUEST_MEDIA_TYPE_REMOVED
                    } else {
                        rules::RESPONSE_MEDIA_TYPE_REMOVED
                    },
                    Level::Breaking,
                    &at,
                    format!("media type {media} removed"),
                ),
                Some(nm) => {
                    if let (Some(os), Some(ns)) = (om.get("schema"), nm.get("schema")) {
                        self.schema(side, &at, os, ns, true);
                    }
                }
            }
        }
        for media in nc.keys().filter(|m| !oc.contains_key(*m)) {
            self.push(
                if side == Side::Request {
                    rules::REQUEST_MEDIA_TYPE_ADDED
                } else {
                    rules::RESPONSE_MEDIA_TYPE_ADDED
                },
                Level::Compatible,
                location,
                format!("media type {media} added"),
            );
        }
    }

    /// Error responses: each documented status is a variant of the
    /// operation's `#[non_exhaustive]` error-body enum.
    fn error_responses(&mut self, key: &str, old: &'a Value, new: &'a Value) {
        let (oc, nc) = (codes(old, false), codes(new, false));
        self.context.push(error_body_enum(new));
        for code in oc.difference(&nc) {
            self.push(
                rules::ERROR_RESPONSE_REMOVED,
                Level::Breaking,
                &format!("{key} response {code}"),
                format!("error status {code} no longer documented (its error-body variant is gone)"),
            );
        }
        for code in nc.difference(&oc) {
            self.push(
                rules::ERROR_RESPONSE_ADDED,
                Level::Compatible,
                &format!("{key} response {code}"),
                format!(
                    "error status {code} documented (a new variant of the non-exhaustive error-body enum)"
                ),
            );
        }
        for code in oc.intersection(&nc) {
            self.response(key, code, old, new, Side::Response);
        }
        self.context.pop();
    }

    fn parameters(&mut self, key: &str, old: (&'a Value, &'a Value), new: (&'a Value, &'a Value)) {
        // Path-level parameters apply to every operation of the path; the
        // operation's own override them.
        let params = |doc: &'a Value, (item, op): (&'a Value, &'a Value)| -> BTreeMap<String, &'a Value> {
            [item, op]
                .into_iter()
                .flat_map(|owner| owner["parameters"].as_array().into_iter().flatten())
                .map(|p| deref(doc, p).unwrap_or(p))
                .map(|p| {
                    (
                        format!(
                            "{} {}",
                            p["in"].as_str().unwrap_or("?"),
                            p["name"].as_str().unwrap_or("?")
                        ),
                        p,
                    )
                })
                .collect()
        };
        let (old_params, new_params) = (params(self.old, old), params(self.new, new));
        for (name, o) in &old_params {
            let location = format!("{key} parameter {name}");
            match new_params.get(name) {
                None => self.push(
                    rules::REQUEST_PARAMETER_REMOVED,
                    Level::Breaking,
                    &location,
                    "parameter removed",
                ),
                Some(n) => {
                    if o["required"] != Value::Bool(true) && n["required"] == Value::Bool(true) {
                        self.push(
                            rules::REQUEST_PARAMETER_BECAME_REQUIRED,
                            Level::Breaking,
                            &location,
                            "parameter became required",
                        );
                    }
                    if let (Some(os), Some(ns)) = (o.get("schema"), n.get("schema")) {
                        let required = n["required"] == Value::Bool(true);
                        self.schema(Side::Request, &location, os, ns, required);
                    }
                }
            }
        }
        for (name, n) in new_params.iter().filter(|(k, _)| !old_params.contains_key(*k)) {
            let location = format!("{key} parameter {name}");
            if n["required"] == Value::Bool(true) {
                self.push(
                    rules::NEW_REQUIRED_REQUEST_PARAMETER,
                    Level::Breaking,
                    &location,
                    "required parameter added",
                );
            } else {
                self.push(
                    rules::NEW_OPTIONAL_REQUEST_PARAMETER,
                    Level::Compatible,
                    &location,
                    "optional parameter added",
                );
            }
        }
    }

    /// Compares two schemas on one side of the exchange; `required`: the
    /// place is required (its Rust type has no `Option` of its own).
    fn schema(&mut self, side: Side, location: &str, old: &'a Value, new: &'a Value, required: bool) {
        let (oname, nname) = (component_of(old), component_of(new));
        let pushed = nname.or(oname).map(str::to_owned);
        if let Some(name) = &pushed {
            self.context.push(name.clone());
        }
        // What belongs to the place (nullability, default) is compared at
        // every place; a named pair's content once per side and
        // required-ness: that ends recursion through self-referencing schemas
        // and reports a shared schema once, but still where an optional and a
        // required field differ.
        let place_changed = self.place(side, location, old, new, required);
        let named = oname.is_some() || nname.is_some();
        let key = format!("{}|{required}|{oname:?}|{nname:?}", side.name());
        match self.seen.get(&key) {
            _ if !named => {
                if !place_changed {
                    self.compare(side, location, old, new, nname);
                }
            }
            None => {
                self.seen.insert(key.clone(), None);
                let start = self.changes.len();
                if !place_changed {
                    self.compare(side, location, old, new, nname);
                }
                self.seen.insert(key, Some(start..self.changes.len()));
            }
            // Reached again from elsewhere: the same changes, more reach.
            Some(Some(found)) => {
                if let Some(operation) = operation_of(location) {
                    for change in &mut self.changes[found.clone()] {
                        change.also_at.push(operation.to_owned());
                    }
                }
            }
            // Reached from inside itself (a recursive schema).
            Some(None) => {}
        }
        if pushed.is_some() {
            self.context.pop();
        }
    }

    /// Nullability and default, where the schema is used. Returns whether
    /// the type itself changed (nothing more to compare then).
    fn place(&mut self, side: Side, location: &str, old: &'a Value, new: &'a Value, required: bool) -> bool {
        let (o, o_nullable) = unwrap(self.old, old);
        let (n, n_nullable) = unwrap(self.new, new);
        // A union's members are the composition rule's; the type rule sees
        // that it is one (a widening `string` → `oneOf` is a type change).
        if kind_of(o) != kind_of(n) {
            let (was, is) = (type_of(self.old, o), type_of(self.new, n));
            // A format added or changed that the generator maps to the same
            // Rust type (`integer` → `integer (int64)`: `i64` either way).
            if let Some(rust) = scalar_rust_of(&was).filter(|rust| scalar_rust_of(&is) == Some(rust)) {
                self.push(
                    rules::PROPERTY_FORMAT_CHANGED,
                    Level::Docs,
                    location,
                    format!("format changed from {was} to {is}: its Rust type stays `{rust}`"),
                );
                return true;
            }
            let rule = match side {
                Side::Request => rules::REQUEST_PROPERTY_TYPE_CHANGED,
                Side::Response => rules::RESPONSE_PROPERTY_TYPE_CHANGED,
            };
            self.push(
                rule,
                Level::Breaking,
                location,
                format!(
                    "type changed from {was} to {is}: its Rust type changes ({} becomes {}), so code \
                     that reads or builds it stops compiling",
                    rust_of(&was),
                    rust_of(&is)
                ),
            );
            return true;
        }
        if o_nullable != n_nullable {
            let (rule, level, what): (ReportRule, Level, &str) = match (side, n_nullable, required) {
                (Side::Request, true, true) => (
                    rules::REQUEST_PROPERTY_BECAME_NULLABLE,
                    Level::Breaking,
                    "became nullable: its Rust type `T` becomes `Option<T>`",
                ),
                (Side::Request, true, false) => (
                    rules::REQUEST_PROPERTY_BECAME_NULLABLE,
                    Level::Compatible,
                    "now accepts null (already an `Option`)",
                ),
                (Side::Request, false, _) => (
                    rules::REQUEST_PROPERTY_BECAME_NOT_NULLABLE,
                    Level::Breaking,
                    "no longer accepts null",
                ),
                (Side::Response, _, false) => (
                    rules::RESPONSE_PROPERTY_NULLABILITY_CHANGED,
                    Level::Docs,
                    "nullability changed (an optional response field is an `Option` either way)",
                ),
                (Side::Response, true, true) => (
                    rules::RESPONSE_PROPERTY_BECAME_NULLABLE,
                    Level::Breaking,
                    "may now be null: its Rust type becomes `Option`",
                ),
                (Side::Response, false, true) => (
                    rules::RESPONSE_PROPERTY_BECAME_NOT_NULLABLE,
                    Level::Breaking,
                    "is no longer nullable: its Rust type loses `Option`",
                ),
            };
            self.push(rule, level, location, what);
        }
        let (od, nd) = (default_of(self.old, old), default_of(self.new, new));
        if od != nd {
            let what = match (od, nd) {
                (None, Some(d)) => format!("default {d} added"),
                (Some(d), None) => format!("default {d} removed"),
                (Some(a), Some(b)) => format!("default changed from {a} to {b}"),
                (None, None) => unreachable!("they differ"),
            };
            self.push(
                rules::PROPERTY_DEFAULT_CHANGED,
                Level::Warning,
                location,
                format!(
                    "{what}: the Rust type stays `Option<T>` and the client sends nothing unless set, \
                     so what the server does when it is left out changes"
                ),
            );
        }
        false
    }

    /// A schema's content: enums, rules, members, properties, items.
    fn compare(
        &mut self,
        side: Side,
        location: &str,
        old: &'a Value,
        new: &'a Value,
        component: Option<&str>,
    ) {
        let (o, _) = unwrap(self.old, old);
        let (n, _) = unwrap(self.new, new);
        self.enums(side, location, o, n, component);
        if side == Side::Request {
            self.limits(location, o, n);
        }
        self.composition(side, location, o, n, component);
        self.properties(side, location, o, n);
        if let (Some(oi), Some(ni)) = (o.get("items"), n.get("items")) {
            self.schema(side, &format!("{location}[]"), oi, ni, true);
        }
        if let (Some(oa @ Value::Object(_)), Some(na @ Value::Object(_))) =
            (o.get("additionalProperties"), n.get("additionalProperties"))
        {
            self.schema(side, &format!("{location}{{}}"), oa, na, true);
        }
    }

    fn enums(&mut self, side: Side, location: &str, o: &Value, n: &Value, component: Option<&str>) {
        let values = |s: &Value| -> Option<BTreeSet<String>> {
            s.get("enum")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter(|v| !v.is_null()).map(|v| v.to_string()).collect())
        };
        let open = component.is_some_and(|c| self.open_enums.contains(c));
        match (values(o), values(n)) {
            (Some(mut ov), Some(mut nv)) => {
                // The same Rust variant name on both sides: a respelling.
                let variant = |v: &String| variant_name(v.trim_matches('"'));
                let respelled: Vec<(String, String)> = ov
                    .difference(&nv)
                    .filter_map(|o| {
                        let n = nv.difference(&ov).find(|n| variant(n) == variant(o))?;
                        Some((o.clone(), n.clone()))
                    })
                    .collect();
                for (was, is) in &respelled {
                    ov.remove(was);
                    nv.remove(is);
                    let rust = variant(is);
                    let (level, then) = match side {
                        Side::Request => (
                            Level::Breaking,
                            "requests now send the new spelling, and a server that still reads the old \
                             one refuses them",
                        ),
                        Side::Response => (
                            Level::Warning,
                            "a response with the old spelling now parses as `Unknown(..)`",
                        ),
                    };
                    self.push(
                        rules::ENUM_VALUE_RESPELLED,
                        level,
                        location,
                        format!(
                            "value respelled on the wire {was} → {is}, same Rust variant `{rust}`: the code \
                             compiles, and {then}"
                        ),
                    );
                }
                for removed in ov.difference(&nv) {
                    let (rule, why) = match side {
                        Side::Request => (
                            rules::REQUEST_ENUM_VALUE_REMOVED,
                            "enum value removed (its Rust variant disappears; requests using it are refused)",
                        ),
                        Side::Response => (
                            rules::RESPONSE_ENUM_VALUE_REMOVED,
                            "enum value removed (its Rust variant disappears)",
                        ),
                    };
                    self.push(rule, Level::Breaking, location, format!("{why}: {removed}"));
                }
                for added in nv.difference(&ov) {
                    let (rule, level, why) = match (side, open) {
                        (Side::Request, false) => (
                            rules::REQUEST_ENUM_VALUE_ADDED,
                            Level::Breaking,
                            "new value of a request-only enum: a closed Rust enum gains a variant, \
                             and an exhaustive `match` on it stops compiling",
                        ),
                        (Side::Request, true) => (
                            rules::REQUEST_ENUM_VALUE_ADDED,
                            Level::Compatible,
                            "new value of an open (non-exhaustive) enum",
                        ),
                        (Side::Response, _) => (
                            rules::RESPONSE_ENUM_VALUE_ADDED,
                            Level::Warning,
                            "new value in responses: it came back as `Unknown(..)` and now comes back \
                             as a new variant",
                        ),
                    };
                    self.push(rule, level, location, format!("{why}: {added}"));
                }
            }
            (None, Some(_)) => self.push(
                rules::PROPERTY_BECAME_ENUM,
                Level::Breaking,
                location,
                "now restricted to an enum (the Rust type changes)",
            ),
            (Some(_), None) => self.push(
                rules::PROPERTY_NO_LONGER_ENUM,
                Level::Breaking,
                location,
                "no longer an enum (the Rust type changes)",
            ),
            (None, None) => {}
        }
    }

    /// Request rules: tighter is breaking, looser compatible, and what cannot
    /// be proven looser a warning.
    fn limits(&mut self, location: &str, o: &Value, n: &Value) {
        match (o.get("pattern"), n.get("pattern")) {
            (None, Some(p)) => self.push(
                rules::REQUEST_PROPERTY_PATTERN_ADDED,
                Level::Breaking,
                location,
                format!("pattern {p} added: values accepted before may be refused"),
            ),
            (Some(a), Some(b)) if a != b => self.push(
                rules::REQUEST_PROPERTY_PATTERN_CHANGED,
                Level::Warning,
                location,
                format!("pattern changed from {a} to {b}; it cannot be proven looser"),
            ),
            (Some(_), None) => self.push(
                rules::REQUEST_PROPERTY_PATTERN_REMOVED,
                Level::Compatible,
                location,
                "pattern removed",
            ),
            _ => {}
        }
        // (keyword, rule id, larger is looser)
        for (keyword, rule, larger_is_looser) in [
            ("maxLength", rules::REQUEST_PROPERTY_MAX_LENGTH, true),
            ("maximum", rules::REQUEST_PROPERTY_MAXIMUM, true),
            ("maxItems", rules::REQUEST_PROPERTY_MAX_ITEMS, true),
            ("maxProperties", rules::REQUEST_PROPERTY_MAX_PROPERTIES, true),
            ("minLength", rules::REQUEST_PROPERTY_MIN_LENGTH, false),
            ("minimum", rules::REQUEST_PROPERTY_MINIMUM, false),
            ("minItems", rules::REQUEST_PROPERTY_MIN_ITEMS, false),
            ("minProperties", rules::REQUEST_PROPERTY_MIN_PROPERTIES, false),
        ] {
            let (ov, nv) = (
                o.get(keyword).and_then(Value::as_f64),
                n.get(keyword).and_then(Value::as_f64),
            );
            let tighter = match (ov, nv) {
                (None, Some(_)) => Some(true),
                (Some(_), None) => Some(false),
                (Some(a), Some(b)) if a != b => Some((b < a) == larger_is_looser),
                _ => None,
            };
            self.tightness(location, rule, keyword, tighter, &show(ov), &show(nv));
        }
        // Booleans: `true` is tighter (3.0 exclusive bounds, uniqueItems).
        for (keyword, rule) in [
            ("exclusiveMinimum", rules::REQUEST_PROPERTY_EXCLUSIVE_MINIMUM),
            ("exclusiveMaximum", rules::REQUEST_PROPERTY_EXCLUSIVE_MAXIMUM),
            ("uniqueItems", rules::REQUEST_PROPERTY_UNIQUE_ITEMS),
        ] {
            let flag = |s: &Value| s.get(keyword) == Some(&Value::Bool(true));
            let tighter = (flag(o) != flag(n)).then_some(flag(n));
            self.tightness(
                location,
                rule,
                keyword,
                tighter,
                &flag(o).to_string(),
                &flag(n).to_string(),
            );
        }
        // multipleOf: looser only when the new step divides the old one.
        let (om, nm) = (
            o.get("multipleOf").and_then(Value::as_f64),
            n.get("multipleOf").and_then(Value::as_f64),
        );
        let tighter = match (om, nm) {
            (None, Some(_)) => Some(true),
            (Some(_), None) => Some(false),
            (Some(a), Some(b)) if a != b => Some(!((a / b).fract() == 0.0)),
            _ => None,
        };
        self.tightness(
            location,
            rules::REQUEST_PROPERTY_MULTIPLE_OF,
            "multipleOf",
            tighter,
            &show(om),
            &show(nm),
        );
    }

    fn tightness(
        &mut self,
        location: &str,
        rule: ReportRule,
        keyword: &str,
        tighter: Option<bool>,
        old: &str,
        new: &str,
    ) {
        match tighter {
            Some(true) => self.push(
                rule,
                Level::Breaking,
                location,
                format!("{keyword} tightened: {old} → {new} (values accepted before may be refused)"),
            ),
            Some(false) => self.push(
                rule,
                Level::Compatible,
                location,
                format!("{keyword} loosened: {old} → {new}"),
            ),
            None => {}
        }
    }

    /// `oneOf`/`anyOf`/`allOf` members: the generated enum or merged struct
    /// changes with them. Members are paired by identity
    /// ([`member_key`]: the component they reference, their discriminator
    /// value, else their position), as the generator names its variants:
    /// a member moved within the list is the same member.
    /// `composite`: the component being compared, if it is one (the
    /// generated struct an `allOf`'s members merge into).
    fn composition(
        &mut self,
        side: Side,
        location: &str,
        o: &'a Value,
        n: &'a Value,
        composite: Option<&str>,
    ) {
        for key in ["oneOf", "anyOf", "allOf"] {
            let members = |s: &'a Value| s.get(key).and_then(Value::as_array);
            match (members(o), members(n)) {
                (None, None) => {}
                (Some(om), Some(nm)) => {
                    let keyed = |parent: &Value, list: &'a [Value]| -> Vec<(String, &'a Value)> {
                        list.iter()
                            .enumerate()
                            .map(|(i, m)| (member_key(parent, m, i), m))
                            .collect()
                    };
                    let (old_members, mut new_members) = (keyed(o, om), keyed(n, nm));
                    // Members with no name of their own are named by position
                    // (hoisted as `…Variant3`): one that moved is the same
                    // schema under another name. Found by content, each is
                    // compared with itself, and the move is reported once,
                    // as what it is.
                    let content =
                        |doc: &'a Value, list: &[(String, &'a Value)]| -> Vec<(String, &'a Value)> {
                            list.iter().map(|(k, m)| (k.clone(), unwrap(doc, m).0)).collect()
                        };
                    let moved =
                        moved_members(&content(self.old, &old_members), &content(self.new, &new_members));
                    if !moved.is_empty() {
                        let shown: Vec<String> = moved
                            .iter()
                            .map(|(was, is)| format!("{is} is what {was} was"))
                            .collect();
                        self.push(
                            rules::SCHEMA_COMPOSITION_CHANGED,
                            Level::Breaking,
                            location,
                            format!(
                                "`{key}` members reordered; {} of them have no name of their own and are named \
                                 by position, so those generated variants now hold other members ({})",
                                moved.len(),
                                shown.join(", ")
                            ),
                        );
                        // The moved members' types are what changed (their
                        // names being those of the positions they now hold).
                        if let Some(change) = self.changes.last_mut() {
                            change.types.extend(moved.iter().map(|(_, is)| is.clone()));
                        }
                        // Each member takes the key it had (all at once: keys swap).
                        for (key, _) in &mut new_members {
                            if let Some((was, _)) = moved.iter().find(|(_, is)| is == key) {
                                *key = was.clone();
                            }
                        }
                    }
                    let mut added = Vec::new();
                    for (member, nmember) in &new_members {
                        match old_members.iter().find(|(k, _)| k == member) {
                            Some((_, omember)) if key == "allOf" => {
                                let component = component_of(nmember).or(component_of(omember));
                                if let (Some(member), Some(composite)) = (component, composite) {
                                    self.merged_into
                                        .entry(member.to_owned())
                                        .or_default()
                                        .insert(composite.to_owned());
                                }
                                self.schema(
                                    side,
                                    &format!("{location}.{key}[{member}]"),
                                    omember,
                                    nmember,
                                    true,
                                )
                            }
                            Some((_, omember)) => self.schema(
                                side,
                                &format!("{location}.{key}[{member}]"),
                                omember,
                                nmember,
                                true,
                            ),
                            None => added.push(member.as_str()),
                        }
                    }
                    let removed: Vec<&str> = old_members
                        .iter()
                        .filter(|(k, _)| !new_members.iter().any(|(n, _)| n == k))
                        .map(|(k, _)| k.as_str())
                        .collect();
                    let order =
                        |list: &[(String, &Value)]| list.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>();
                    if !added.is_empty() || !removed.is_empty() {
                        let named = |keys: &[&str]| match keys {
                            [] => "none".to_owned(),
                            keys => keys.join(", "),
                        };
                        self.push(
                            rules::SCHEMA_COMPOSITION_CHANGED,
                            Level::Breaking,
                            location,
                            format!(
                                "`{key}` members changed ({} → {}; removed: {}; added: {}): the generated \
                                 type changes",
                                om.len(),
                                nm.len(),
                                named(&removed),
                                named(&added)
                            ),
                        );
                    } else if moved.is_empty() && order(&old_members) != order(&new_members) {
                        self.push(
                            rules::SCHEMA_COMPOSITION_REORDERED,
                            Level::Docs,
                            location,
                            format!(
                                "`{key}` members reordered, each the same member: the generated type keeps \
                                 its variants (an untagged enum tries them in the new order, which only \
                                 matters where members overlap)"
                            ),
                        );
                    }
                }
                (om, nm) => self.push(
                    rules::SCHEMA_COMPOSITION_CHANGED,
                    Level::Breaking,
                    location,
                    format!(
                        "`{key}` members changed ({} → {}): the generated type changes",
                        om.map_or(0, Vec::len),
                        nm.map_or(0, Vec::len)
                    ),
                ),
            }
        }
    }

    fn properties(&mut self, side: Side, location: &str, o: &'a Value, n: &'a Value) {
        let props = |s: &'a Value| s.get("properties").and_then(Value::as_object);
        let req = |s: &Value| -> BTreeSet<String> {
            s["required"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        };
        let (op, np) = match (props(o), props(n)) {
            (None, None) => return,
            (op, np) => (op.unwrap_or(&EMPTY), np.unwrap_or(&EMPTY)),
        };
        let (oreq, nreq) = (req(o), req(n));
        let s = side.name();
        for (name, oprop) in op {
            let field = format!("{location}.{name}");
            let Some(nprop) = np.get(name) else {
                let rule = if side == Side::Request {
                    rules::REQUEST_PROPERTY_REMOVED
                } else {
                    rules::RESPONSE_PROPERTY_REMOVED
                };
                self.push(rule, Level::Breaking, &field, format!("{s} field removed"));
                continue;
            };
            match (oreq.contains(name), nreq.contains(name)) {
                (false, true) => self.push(
                    if side == Side::Request {
                        rules::REQUEST_PROPERTY_BECAME_REQUIRED
                    } else {
                        rules::RESPONSE_PROPERTY_BECAME_REQUIRED
                    },
                    Level::Breaking,
                    &field,
                    "became required (its Rust type loses Option)",
                ),
                (true, false) => self.push(
                    if side == Side::Request {
                        rules::REQUEST_PROPERTY_BECAME_OPTIONAL
                    } else {
                        rules::RESPONSE_PROPERTY_BECAME_OPTIONAL
                    },
                    Level::Breaking,
                    &field,
                    "became optional (its Rust type becomes Option)",
                ),
                _ => {}
            }
            self.schema(side, &field, oprop, nprop, nreq.contains(name));
        }
        for name in np.keys().filter(|k| !op.contains_key(*k)) {
            let field = format!("{location}.{name}");
            match (side, nreq.contains(name)) {
                (Side::Request, true) => self.push(
                    rules::NEW_REQUIRED_REQUEST_PROPERTY,
                    Level::Breaking,
                    &field,
                    "new required request field (every request must now set it)",
                ),
                (Side::Request, false) => self.push(
                    rules::NEW_OPTIONAL_REQUEST_PROPERTY,
                    Level::Compatible,
                    &field,
                    "new optional request field (structs are non-exhaustive: builders need no change)",
                ),
                (Side::Response, _) => self.push(
                    rules::RESPONSE_PROPERTY_ADDED,
                    Level::Compatible,
                    &field,
                    "new response field (structs are non-exhaustive)",
                ),
            }
        }
    }

    fn security_and_servers(&mut self) {
        let schemes = |doc: &'a Value| {
            doc.pointer("/components/securitySchemes")
                .and_then(Value::as_object)
        };
        let (os, ns) = (
            schemes(self.old).unwrap_or(&EMPTY),
            schemes(self.new).unwrap_or(&EMPTY),
        );
        // A scheme renamed with the same credential is no change for the client.
        let renamed: Vec<(&String, &String)> = os
            .iter()
            .filter(|(name, _)| !ns.contains_key(*name))
            .filter_map(|(name, o)| {
                let (to, _) = ns
                    .iter()
                    .find(|(to, n)| !os.contains_key(*to) && credential(n) == credential(o))?;
                Some((name, to))
            })
            .collect();
        for (from, to) in &renamed {
            let users: Vec<String> = ops(self.new)
                .into_iter()
                .filter(|(_, (_, op))| {
                    requirements(self.new, op)
                        .into_iter()
                        .flatten()
                        .flatten()
                        .any(|c| ns.get(*to).is_some_and(|n| credential(n) == c))
                })
                .map(|(key, _)| key)
                .collect();
            for key in users {
                self.push(
                    rules::SECURITY_SCHEME_RENAMED,
                    Level::Compatible,
                    &key,
                    format!(
                        "security scheme `{from}` renamed `{to}`, with the same header: nothing changes for \
                         the client"
                    ),
                );
            }
        }
        for (name, o) in os {
            let location = format!("components.securitySchemes.{name}");
            match ns.get(name) {
                None if renamed.iter().any(|(from, _)| *from == name) => {}
                None => self.push(
                    rules::SECURITY_SCHEME_REMOVED,
                    Level::Breaking,
                    &location,
                    "security scheme removed",
                ),
                Some(n) => {
                    for key in ["type", "in", "name", "scheme"] {
                        if o.get(key) != n.get(key) {
                            self.push(
                                rules::SECURITY_SCHEME_CHANGED,
                                Level::Breaking,
                                &location,
                                format!(
                                    "`{key}` changed from {} to {} (the client sends the key as before, \
                                     which the API no longer reads)",
                                    o.get(key).unwrap_or(&Value::Null),
                                    n.get(key).unwrap_or(&Value::Null)
                                ),
                            );
                        }
                    }
                }
            }
        }
        for name in ns
            .keys()
            .filter(|k| !os.contains_key(*k) && !renamed.iter().any(|(_, to)| to == k))
        {
            self.push(
                rules::SECURITY_SCHEME_ADDED,
                Level::Compatible,
                &format!("components.securitySchemes.{name}"),
                "security scheme added",
            );
        }
        let server = |doc: &Value| doc.pointer("/servers/0/url").cloned();
        if server(self.old) != server(self.new) {
            self.context = vec!["DEFAULT_BASE_URL".into()];
            self.push(
                rules::SERVER_URL_CHANGED,
                Level::Warning,
                "servers",
                format!(
                    "the default base URL (`DEFAULT_BASE_URL`) changed from {} to {}",
                    server(self.old).unwrap_or(Value::Null),
                    server(self.new).unwrap_or(Value::Null)
                ),
            );
            self.context.clear();
        }
    }
}

fn show(v: Option<f64>) -> String {
    v.map_or("none".into(), |v| v.to_string())
}
