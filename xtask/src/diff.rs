//! What a spec change means for users of the generated crate.
//!
//! Two layers, so that the report fails closed:
//! 1. **Rules** compare the two effective specs and name each change with a
//!    rule id (as oasdiff names its checks) and a level, following what the
//!    generated Rust does: a change that can stop a user's code from compiling
//!    or a request from being accepted is breaking; one that compiles but
//!    behaves differently is a warning; additions users can ignore are
//!    compatible; text is docs.
//! 2. **The generated surface** of both sides (the snapshot listing) is
//!    compared too. A type or operation whose surface lines moved without a
//!    rule naming it is reported as breaking: `unclassified-surface-change`.
//!    Docs-only means the surface is identical.
//!
//! Conventions of the generated code the rules rely on: response enums are
//! open (a new value parses as `Unknown` until regenerated), request-only
//! enums are closed Rust enums; structs are `#[non_exhaustive]` and built
//! through builders (a new optional field breaks nobody); optional fields are
//! `Option<T>` whatever their `default` (the server applies its default);
//! responses ignore request rules.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use heck::ToUpperCamelCase;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sigmamind_codegen::schema::{shape, single_all_of, unwrap};
use sigmamind_codegen::spec::{deref, operations, schema_name};
use sigmamind_codegen::{generate_file, surface, Options, Spec};

/// How a change affects users.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Users' code may stop compiling, or their requests stop being accepted.
    Breaking,
    /// Compiles, but behaves differently.
    Warning,
    /// New things users may ignore.
    Compatible,
    /// No change to the generated surface (docs, examples).
    Docs,
}

/// The version bump the crate needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Bump {
    /// Breaking changes.
    Major,
    /// Additions, or behaviour changes (warnings).
    Minor,
    /// Nothing users can observe in the API.
    Patch,
    /// The specs are identical.
    None,
}

/// One classified change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// The rule that found it (`request-enum-value-added`).
    pub rule: &'static str,
    /// Breaking, warning, compatible or docs.
    pub level: Level,
    /// Where: operation, side and field path, or component.
    pub location: String,
    /// What changed, in Rust terms.
    pub message: String,
    /// Why a breaking change was accepted (`openapi/accepted-breaks.toml`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accepted: Option<String>,
    /// The generated types whose surface this change explains.
    #[serde(skip)]
    pub types: Vec<String>,
}

/// A breaking change the maintainers accepted, by rule and location
/// (`openapi/accepted-breaks.toml`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AcceptedBreak {
    /// The rule id.
    pub rule: String,
    /// The location, exactly as the report prints it.
    pub location: String,
    /// Why it is acceptable.
    pub reason: String,
}

/// The accepted-breaks file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct AcceptedBreaks {
    /// Each accepted break.
    #[serde(default)]
    pub accept: Vec<AcceptedBreak>,
}

impl AcceptedBreaks {
    /// Parses the TOML file.
    pub fn parse(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| format!("not a valid accepted-breaks file: {e}"))
    }
}

/// The report for one pair of specs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// `info.version` of the old spec.
    pub old_version: String,
    /// `info.version` of the new spec.
    pub new_version: String,
    /// The version bump needed.
    pub semver: Bump,
    /// Every change, breaking first.
    pub changes: Vec<Change>,
    /// Why the generated surfaces were not compared, if they were not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub surface_not_compared: Option<String>,
}

impl Report {
    /// Whether a breaking change was not accepted.
    pub fn is_breaking(&self) -> bool {
        self.changes
            .iter()
            .any(|c| c.level == Level::Breaking && c.accepted.is_none())
    }

    /// Counts of (breaking, warning, compatible, docs).
    pub fn counts(&self) -> (usize, usize, usize, usize) {
        let count = |l| self.changes.iter().filter(|c| c.level == l).count();
        (
            count(Level::Breaking),
            count(Level::Warning),
            count(Level::Compatible),
            count(Level::Docs),
        )
    }

    /// One line for changelogs.
    pub fn summary(&self) -> String {
        let (b, w, c, d) = self.counts();
        let bump = match self.semver {
            Bump::Major => "major bump (0.x: minor)",
            Bump::Minor => "minor bump (0.x: patch)",
            Bump::Patch => "patch bump",
            Bump::None => "no bump",
        };
        let accepted = self.changes.iter().filter(|c| c.accepted.is_some()).count();
        let accepted = if accepted > 0 {
            format!(" ({accepted} accepted)")
        } else {
            String::new()
        };
        format!("{b} breaking{accepted}, {w} warning, {c} compatible, {d} docs-only change(s): {bump}")
    }

    /// The report as Markdown, for a pull request.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "## Spec changes: {} → {}\n",
            self.old_version, self.new_version
        );
        let _ = writeln!(out, "**{}**\n", self.summary());
        for (level, title) in [
            (Level::Breaking, "Breaking"),
            (Level::Warning, "Warnings (compiles, behaves differently)"),
            (Level::Compatible, "Compatible"),
            (Level::Docs, "Documentation only"),
        ] {
            let items: Vec<&Change> = self.changes.iter().filter(|c| c.level == level).collect();
            if items.is_empty() {
                continue;
            }
            let _ = writeln!(out, "### {title}\n");
            for c in items {
                let _ = write!(out, "- `{}` [{}]: {}", c.location, c.rule, c.message);
                if let Some(reason) = &c.accepted {
                    let _ = write!(out, " (accepted: {reason})");
                }
                out.push('\n');
            }
            out.push('\n');
        }
        if let Some(why) = &self.surface_not_compared {
            let _ = writeln!(out, "_The generated surfaces were not compared: {why}._\n");
        }
        out
    }

    /// The report as JSON, for tools.
    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self).expect("reports serialise")
    }

    /// Marks the breaking changes `accepted` names as accepted.
    pub fn accept(&mut self, accepted: &AcceptedBreaks) {
        for change in self.changes.iter_mut().filter(|c| c.level == Level::Breaking) {
            if let Some(a) = accepted
                .accept
                .iter()
                .find(|a| a.rule == change.rule && a.location == change.location)
            {
                change.accepted = Some(a.reason.clone());
            }
        }
    }
}

/// Compares two effective specs, surfaces included, with the crate's own
/// generator settings.
pub fn diff(old: &Value, new: &Value) -> Report {
    diff_with(old, new, &crate::generator_options::sigmamind_options())
}

/// [`diff`] with other generator settings (for documents that are not ours).
pub fn diff_with(old: &Value, new: &Value, options: &Options) -> Report {
    let mut d = Differ {
        old,
        new,
        changes: Vec::new(),
        seen: BTreeSet::new(),
        context: Vec::new(),
        open_enums: response_components(new),
    };
    d.operations();
    d.components();
    d.security_and_servers();
    let surface_not_compared = match (surface_of(old, options), surface_of(new, options)) {
        (Ok(o), Ok(n)) => {
            d.unclassified(&o, &n);
            None
        }
        (Err(e), _) | (_, Err(e)) => Some(e),
    };
    let identical = old == new;
    if !identical && d.changes.is_empty() {
        d.push(
            "spec-text-changed",
            Level::Docs,
            "spec",
            "descriptions, examples or other text changed",
        );
    }
    d.changes
        .sort_by(|a, b| (a.level, &a.location).cmp(&(b.level, &b.location)));
    let semver = if identical {
        Bump::None
    } else if d.changes.iter().any(|c| c.level == Level::Breaking) {
        Bump::Major
    } else if d
        .changes
        .iter()
        .any(|c| matches!(c.level, Level::Compatible | Level::Warning))
    {
        Bump::Minor
    } else {
        Bump::Patch
    };
    let version = |doc: &Value| doc["info"]["version"].as_str().unwrap_or("?").to_owned();
    Report {
        old_version: version(old),
        new_version: version(new),
        semver,
        changes: d.changes,
        surface_not_compared,
    }
}

/// The surface listing of an effective spec, without its title line.
fn surface_of(document: &Value, options: &Options) -> Result<String, String> {
    let spec = Spec::from_value("spec", document.clone()).map_err(|e| e.problem)?;
    let file = generate_file(&spec, options).map_err(|e| e.problem)?;
    Ok(surface::render(&spec, &file)
        .lines()
        .skip(1)
        .collect::<Vec<_>>()
        .join("\n"))
}

/// Names of the components a response can carry (their enums are open).
fn response_components(document: &Value) -> BTreeSet<String> {
    let mut roots = Vec::new();
    for (_, _, operation) in operations(document) {
        for response in operation["responses"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(_, r)| r)
        {
            let response = deref(document, response).unwrap_or(response);
            for media in response["content"].as_object().into_iter().flatten() {
                roots.push(&media.1["schema"]);
            }
        }
    }
    let mut seen = BTreeSet::new();
    let mut queue: Vec<String> = Vec::new();
    let collect = |v: &Value, queue: &mut Vec<String>| {
        let mut refs = BTreeSet::new();
        sigmamind_codegen::spec::collect_refs(v, &mut refs);
        queue.extend(refs.iter().filter_map(|r| schema_name(r)).map(str::to_owned));
    };
    roots.iter().for_each(|r| collect(r, &mut queue));
    while let Some(name) = queue.pop() {
        if seen.insert(name.clone()) {
            if let Some(schema) = document.pointer(&format!("/components/schemas/{name}")) {
                collect(schema, &mut queue);
            }
        }
    }
    seen
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
    seen: BTreeSet<String>,
    /// The generated types being compared, outermost first.
    context: Vec<String>,
    /// Components a response of the new spec can carry.
    open_enums: BTreeSet<String>,
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

/// The name of an operation's generated error-body enum.
fn error_body_enum(operation: &Value) -> String {
    format!(
        "{}ErrorBody",
        operation["operationId"]
            .as_str()
            .unwrap_or("")
            .to_upper_camel_case()
    )
}

/// The component a schema refers to (through a one-member `allOf`).
fn component_of(schema: &Value) -> Option<&str> {
    let inner = single_all_of(schema).unwrap_or(schema);
    inner.get("$ref").and_then(Value::as_str).and_then(schema_name)
}

impl<'a> Differ<'a> {
    fn push(&mut self, rule: &'static str, level: Level, location: &str, message: impl Into<String>) {
        // A change explains the surface of the types it sits in: the one
        // being compared and its parent (whose field line may change).
        let types = self.context.iter().rev().take(2).cloned().collect();
        self.changes.push(Change {
            rule,
            level,
            location: location.to_owned(),
            message: message.into(),
            accepted: None,
            types,
        });
    }

    fn operations(&mut self) {
        let (old_ops, new_ops) = (ops(self.old), ops(self.new));
        for (key, (old_item, old_op)) in &old_ops {
            let Some((new_item, new_op)) = new_ops.get(key) else {
                // Its error-body enum goes with it.
                self.context = vec![error_body_enum(old_op)];
                self.push(
                    "operation-removed",
                    Level::Breaking,
                    key,
                    "operation removed (its client method is gone)",
                );
                self.context.clear();
                continue;
            };
            self.operation(key, (old_item, old_op), (new_item, new_op));
        }
        for key in new_ops.keys().filter(|k| !old_ops.contains_key(*k)) {
            let id = new_ops[key].1["operationId"].as_str().unwrap_or("?");
            self.context = vec![error_body_enum(new_ops[key].1)];
            self.push(
                "operation-added",
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
            self.push(
                "operation-id-changed",
                Level::Breaking,
                key,
                format!(
                    "operationId changed from {} to {} (the client method is renamed)",
                    old["operationId"], new["operationId"]
                ),
            );
        }
        let (old_codes, new_codes) = (codes(old, true), codes(new, true));
        if old_codes != new_codes {
            self.push(
                "response-success-status-changed",
                Level::Breaking,
                key,
                format!(
                    "success status changed from {} to {}",
                    list(&old_codes),
                    list(&new_codes)
                ),
            );
        }
        let security = |doc: &Value, op: &Value| op.get("security").or(doc.get("security")).cloned();
        if security(self.old, old) != security(self.new, new) {
            self.push(
                "security-requirements-changed",
                Level::Breaking,
                key,
                "security requirements changed",
            );
        }
        self.parameters(key, (old_item, old), (new_item, new));
        self.request_body(key, old, new);
        for code in old_codes.intersection(&new_codes) {
            self.response(key, code, old, new, Side::Response);
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
                "request-body-removed",
                Level::Breaking,
                &location,
                "request body removed",
            ),
            (None, Some(_)) if required(nb) => self.push(
                "new-required-request-body",
                Level::Breaking,
                &location,
                "required request body added",
            ),
            (None, Some(_)) => self.push(
                "new-optional-request-body",
                Level::Compatible,
                &location,
                "optional request body added",
            ),
            (Some(o), Some(n)) => {
                if !required(ob) && required(nb) {
                    self.push(
                        "request-body-became-required",
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

    /// Every media type of a body or response, compared by media type.
    fn media(&mut self, side: Side, location: &str, old: &'a Value, new: &'a Value) {
        let content = |v: &'a Value| v["content"].as_object();
        let (oc, nc) = (content(old), content(new));
        let (empty_o, empty_n) = (oc.is_none_or(|c| c.is_empty()), nc.is_none_or(|c| c.is_empty()));
        match (empty_o, empty_n) {
            (false, true) => {
                let rule = match side {
                    Side::Request => "request-body-removed",
                    Side::Response => "response-body-removed",
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
                    Side::Request => ("request-body-added", Level::Breaking),
                    Side::Response => ("response-body-added", Level::Compatible),
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
                        "request-media-type-removed"
                    } else {
                        "response-media-type-removed"
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
                    "request-media-type-added"
                } else {
                    "response-media-type-added"
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
                "error-response-removed",
                Level::Breaking,
                &format!("{key} response {code}"),
                format!("error status {code} no longer documented (its error-body variant is gone)"),
            );
        }
        for code in nc.difference(&oc) {
            self.push(
                "error-response-added",
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
                    "request-parameter-removed",
                    Level::Breaking,
                    &location,
                    "parameter removed",
                ),
                Some(n) => {
                    if o["required"] != Value::Bool(true) && n["required"] == Value::Bool(true) {
                        self.push(
                            "request-parameter-became-required",
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
                    "new-required-request-parameter",
                    Level::Breaking,
                    &location,
                    "required parameter added",
                );
            } else {
                self.push(
                    "new-optional-request-parameter",
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
        let first = (oname.is_none() && nname.is_none())
            || self
                .seen
                .insert(format!("{}|{required}|{oname:?}|{nname:?}", side.name()));
        if first && !place_changed {
            self.compare(side, location, old, new, nname);
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
        let ty = |s: &Value| {
            format!(
                "{}{}",
                s["type"].as_str().unwrap_or("any"),
                s["format"]
                    .as_str()
                    .map(|f| format!(" ({f})"))
                    .unwrap_or_default()
            )
        };
        if ty(o) != ty(n) {
            let rule = match side {
                Side::Request => "request-property-type-changed",
                Side::Response => "response-property-type-changed",
            };
            self.push(
                rule,
                Level::Breaking,
                location,
                format!("type changed from {} to {}", ty(o), ty(n)),
            );
            return true;
        }
        if o_nullable != n_nullable {
            let (rule, level, what): (&'static str, Level, &str) = match (side, n_nullable, required) {
                (Side::Request, true, true) => (
                    "request-property-became-nullable",
                    Level::Breaking,
                    "became nullable: its Rust type `T` becomes `Option<T>`",
                ),
                (Side::Request, true, false) => (
                    "request-property-became-nullable",
                    Level::Compatible,
                    "now accepts null (already an `Option`)",
                ),
                (Side::Request, false, _) => (
                    "request-property-became-not-nullable",
                    Level::Breaking,
                    "no longer accepts null",
                ),
                (Side::Response, _, false) => (
                    "response-property-nullability-changed",
                    Level::Docs,
                    "nullability changed (an optional response field is an `Option` either way)",
                ),
                (Side::Response, true, true) => (
                    "response-property-became-nullable",
                    Level::Breaking,
                    "may now be null: its Rust type becomes `Option`",
                ),
                (Side::Response, false, true) => (
                    "response-property-became-not-nullable",
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
                "property-default-changed",
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
        self.composition(side, location, o, n);
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
            (Some(ov), Some(nv)) => {
                for removed in ov.difference(&nv) {
                    let (rule, why) = match side {
                        Side::Request => (
                            "request-enum-value-removed",
                            "enum value removed (its Rust variant disappears; requests using it are refused)",
                        ),
                        Side::Response => (
                            "response-enum-value-removed",
                            "enum value removed (its Rust variant disappears)",
                        ),
                    };
                    self.push(rule, Level::Breaking, location, format!("{why}: {removed}"));
                }
                for added in nv.difference(&ov) {
                    let (rule, level, why) = match (side, open) {
                        (Side::Request, false) => (
                            "request-enum-value-added",
                            Level::Breaking,
                            "new value of a request-only enum: a closed Rust enum gains a variant, \
                             and an exhaustive `match` on it stops compiling",
                        ),
                        (Side::Request, true) => (
                            "request-enum-value-added",
                            Level::Compatible,
                            "new value of an open (non-exhaustive) enum",
                        ),
                        (Side::Response, _) => (
                            "response-enum-value-added",
                            Level::Warning,
                            "new value in responses: it came back as `Unknown(..)` and now comes back \
                             as a new variant",
                        ),
                    };
                    self.push(rule, level, location, format!("{why}: {added}"));
                }
            }
            (None, Some(_)) => self.push(
                "property-became-enum",
                Level::Breaking,
                location,
                "now restricted to an enum (the Rust type changes)",
            ),
            (Some(_), None) => self.push(
                "property-no-longer-enum",
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
                "request-property-pattern-added",
                Level::Breaking,
                location,
                format!("pattern {p} added: values accepted before may be refused"),
            ),
            (Some(a), Some(b)) if a != b => self.push(
                "request-property-pattern-changed",
                Level::Warning,
                location,
                format!("pattern changed from {a} to {b}; it cannot be proven looser"),
            ),
            (Some(_), None) => self.push(
                "request-property-pattern-removed",
                Level::Compatible,
                location,
                "pattern removed",
            ),
            _ => {}
        }
        // (keyword, rule id, larger is looser)
        for (keyword, rule, larger_is_looser) in [
            ("maxLength", "request-property-max-length", true),
            ("maximum", "request-property-maximum", true),
            ("maxItems", "request-property-max-items", true),
            ("maxProperties", "request-property-max-properties", true),
            ("minLength", "request-property-min-length", false),
            ("minimum", "request-property-minimum", false),
            ("minItems", "request-property-min-items", false),
            ("minProperties", "request-property-min-properties", false),
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
            ("exclusiveMinimum", "request-property-exclusive-minimum"),
            ("exclusiveMaximum", "request-property-exclusive-maximum"),
            ("uniqueItems", "request-property-unique-items"),
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
            "request-property-multiple-of",
            "multipleOf",
            tighter,
            &show(om),
            &show(nm),
        );
    }

    fn tightness(
        &mut self,
        location: &str,
        rule: &'static str,
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
    /// changes with them.
    fn composition(&mut self, side: Side, location: &str, o: &'a Value, n: &'a Value) {
        for key in ["oneOf", "anyOf", "allOf"] {
            let members = |s: &'a Value| s.get(key).and_then(Value::as_array);
            match (members(o), members(n)) {
                (None, None) => {}
                (Some(om), Some(nm)) if om.len() == nm.len() => {
                    for (i, (a, b)) in om.iter().zip(nm).enumerate() {
                        self.schema(side, &format!("{location}.{key}[{i}]"), a, b, true);
                    }
                }
                (om, nm) => self.push(
                    "schema-composition-changed",
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
                    "request-property-removed"
                } else {
                    "response-property-removed"
                };
                self.push(rule, Level::Breaking, &field, format!("{s} field removed"));
                continue;
            };
            match (oreq.contains(name), nreq.contains(name)) {
                (false, true) => self.push(
                    if side == Side::Request {
                        "request-property-became-required"
                    } else {
                        "response-property-became-required"
                    },
                    Level::Breaking,
                    &field,
                    "became required (its Rust type loses Option)",
                ),
                (true, false) => self.push(
                    if side == Side::Request {
                        "request-property-became-optional"
                    } else {
                        "response-property-became-optional"
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
                    "new-required-request-property",
                    Level::Breaking,
                    &field,
                    "new required request field (every request must now set it)",
                ),
                (Side::Request, false) => self.push(
                    "new-optional-request-property",
                    Level::Compatible,
                    &field,
                    "new optional request field (structs are non-exhaustive: builders need no change)",
                ),
                (Side::Response, _) => self.push(
                    "response-property-added",
                    Level::Compatible,
                    &field,
                    "new response field (structs are non-exhaustive)",
                ),
            }
        }
    }

    /// Components added, removed or renamed (a removed and an added one of
    /// the same shape).
    fn components(&mut self) {
        let names = |doc: &'a Value| -> BTreeMap<String, &'a Value> {
            doc.pointer("/components/schemas")
                .and_then(Value::as_object)
                .map(|m| m.iter().map(|(k, v)| (k.clone(), v)).collect())
                .unwrap_or_default()
        };
        let (old, new) = (names(self.old), names(self.new));
        let removed: Vec<&String> = old.keys().filter(|k| !new.contains_key(*k)).collect();
        let mut added: Vec<&String> = new.keys().filter(|k| !old.contains_key(*k)).collect();
        for name in removed {
            let same_shape = added.iter().position(|a| shape(new[*a]) == shape(old[name]));
            let location = format!("components.schemas.{name}");
            if let Some(i) = same_shape {
                let to = added.remove(i);
                self.context = vec![name.clone(), to.clone()];
                self.push(
                    "component-renamed",
                    Level::Breaking,
                    &location,
                    format!("type `{name}` renamed to `{to}`"),
                );
            } else {
                self.context = vec![name.clone()];
                self.push(
                    "component-removed",
                    Level::Breaking,
                    &location,
                    format!("type `{name}` removed"),
                );
            }
        }
        for name in added {
            self.context = vec![name.clone()];
            self.push(
                "component-added",
                Level::Compatible,
                &format!("components.schemas.{name}"),
                format!("new type `{name}`"),
            );
        }
        self.context.clear();
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
        for (name, o) in os {
            let location = format!("components.securitySchemes.{name}");
            match ns.get(name) {
                None => self.push(
                    "security-scheme-removed",
                    Level::Breaking,
                    &location,
                    "security scheme removed",
                ),
                Some(n) => {
                    for key in ["type", "in", "name", "scheme"] {
                        if o.get(key) != n.get(key) {
                            self.push(
                                "security-scheme-changed",
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
        for name in ns.keys().filter(|k| !os.contains_key(*k)) {
            self.push(
                "security-scheme-added",
                Level::Compatible,
                &format!("components.securitySchemes.{name}"),
                "security scheme added",
            );
        }
        let server = |doc: &Value| doc.pointer("/servers/0/url").cloned();
        if server(self.old) != server(self.new) {
            self.context = vec!["DEFAULT_BASE_URL".into()];
            self.push(
                "server-url-changed",
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

    /// Fail closed: surface sections whose lines moved with no rule naming
    /// their type or operation are breaking.
    fn unclassified(&mut self, old: &str, new: &str) {
        let (old, new) = (sections(old), sections(new));
        let keys: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
        let empty = Vec::new();
        for key in keys {
            let (o, n) = (old.get(key).unwrap_or(&empty), new.get(key).unwrap_or(&empty));
            if o == n {
                continue;
            }
            // Only a change that alters the API explains a moved line.
            let explained = self.changes.iter().filter(|c| c.level != Level::Docs).any(|c| {
                c.types.iter().any(|t| t == key)
                    || section_is_operation(key)
                        && (c.location == *key || c.location.starts_with(&format!("{key} ")))
            });
            if explained {
                continue;
            }
            let moved: Vec<String> = o
                .iter()
                .filter(|l| !n.contains(l))
                .map(|l| format!("-{l}"))
                .chain(n.iter().filter(|l| !o.contains(l)).map(|l| format!("+{l}")))
                .collect();
            self.push(
                "unclassified-surface-change",
                Level::Breaking,
                key,
                format!(
                    "unclassified change to the generated API (no rule explains it): {}",
                    moved.join(" | ")
                ),
            );
        }
    }
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

fn show(v: Option<f64>) -> String {
    v.map_or("none".into(), |v| v.to_string())
}
