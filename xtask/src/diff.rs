//! What a spec change means for users of the generated crate.
//!
//! Classification follows what the generated Rust does: a change that can
//! stop a user's code from compiling or a request from being accepted is
//! breaking; additions users can ignore are compatible. Response enums are
//! open, so a new response enum value is compatible; a removed one takes a
//! variant away, so it is breaking.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use serde::Serialize;
use serde_json::Value;
use sigmamind_codegen::schema::unwrap;
use sigmamind_codegen::spec::operations;

/// How a change affects users.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Users' code or requests may stop working.
    Breaking,
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
    /// Additions.
    Minor,
    /// Nothing users can observe in the API.
    Patch,
    /// The specs are identical.
    None,
}

/// One classified change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// Breaking, compatible or docs.
    pub kind: Kind,
    /// Where: operation, side and field path.
    pub location: String,
    /// What changed.
    pub message: String,
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
}

impl Report {
    /// Whether any change is breaking.
    pub fn is_breaking(&self) -> bool {
        self.semver == Bump::Major
    }

    /// Counts of (breaking, compatible, docs).
    pub fn counts(&self) -> (usize, usize, usize) {
        let count = |k| self.changes.iter().filter(|c| c.kind == k).count();
        (count(Kind::Breaking), count(Kind::Compatible), count(Kind::Docs))
    }

    /// One line for changelogs.
    pub fn summary(&self) -> String {
        let (b, c, d) = self.counts();
        let bump = match self.semver {
            Bump::Major => "major bump (0.x: minor)",
            Bump::Minor => "minor bump (0.x: patch)",
            Bump::Patch => "patch bump",
            Bump::None => "no bump",
        };
        format!("{b} breaking, {c} compatible, {d} docs-only change(s): {bump}")
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
        for (kind, title) in [
            (Kind::Breaking, "Breaking"),
            (Kind::Compatible, "Compatible"),
            (Kind::Docs, "Documentation only"),
        ] {
            let items: Vec<&Change> = self.changes.iter().filter(|c| c.kind == kind).collect();
            if items.is_empty() {
                continue;
            }
            let _ = writeln!(out, "### {title}\n");
            for c in items {
                let _ = writeln!(out, "- `{}`: {}", c.location, c.message);
            }
            out.push('\n');
        }
        out
    }

    /// The report as JSON, for tools.
    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self).expect("reports serialise")
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Request,
    Response,
}

struct Differ<'a> {
    old: &'a Value,
    new: &'a Value,
    changes: Vec<Change>,
    seen: BTreeSet<String>,
}

/// Compares two checked OpenAPI 3.0 documents (as JSON).
pub fn diff(old: &Value, new: &Value) -> Report {
    let mut d = Differ {
        old,
        new,
        changes: Vec::new(),
        seen: BTreeSet::new(),
    };
    d.operations();
    let identical = old == new;
    if d.changes.is_empty() && !identical {
        d.push(Kind::Docs, "spec", "descriptions, examples or other text changed");
    }
    d.changes.sort_by_key(|c| c.kind);
    let semver = if identical {
        Bump::None
    } else if d.changes.iter().any(|c| c.kind == Kind::Breaking) {
        Bump::Major
    } else if d.changes.iter().any(|c| c.kind == Kind::Compatible) {
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
    }
}

fn ops(doc: &Value) -> BTreeMap<String, &Value> {
    operations(doc)
        .into_iter()
        .map(|(path, method, op)| (format!("{} {path}", method.to_uppercase()), op))
        .collect()
}

fn success_codes(op: &Value) -> BTreeSet<String> {
    op["responses"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(code, _)| code.clone())
        .filter(|code| code.starts_with('2'))
        .collect()
}

fn list(values: &BTreeSet<String>) -> String {
    values.iter().cloned().collect::<Vec<_>>().join(", ")
}

impl<'a> Differ<'a> {
    fn push(&mut self, kind: Kind, location: &str, message: impl Into<String>) {
        self.changes.push(Change {
            kind,
            location: location.to_owned(),
            message: message.into(),
        });
    }

    fn operations(&mut self) {
        let (old_ops, new_ops) = (ops(self.old), ops(self.new));
        for (key, old_op) in &old_ops {
            let Some(new_op) = new_ops.get(key) else {
                self.push(Kind::Breaking, key, "operation removed");
                continue;
            };
            self.operation(key, old_op, new_op);
        }
        for key in new_ops.keys().filter(|k| !old_ops.contains_key(*k)) {
            let id = new_ops[key]["operationId"].as_str().unwrap_or("?");
            self.push(Kind::Compatible, key, format!("new operation `{id}`"));
        }
    }

    fn operation(&mut self, key: &str, old: &'a Value, new: &'a Value) {
        if old["operationId"] != new["operationId"] {
            self.push(
                Kind::Breaking,
                key,
                format!(
                    "operationId changed from {} to {} (the client method is renamed)",
                    old["operationId"], new["operationId"]
                ),
            );
        }
        let (old_codes, new_codes) = (success_codes(old), success_codes(new));
        if old_codes != new_codes {
            self.push(
                Kind::Breaking,
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
            self.push(Kind::Breaking, key, "security requirements changed");
        }
        self.parameters(key, old, new);

        let body = |op: &'a Value| op.pointer("/requestBody/content/application~1json/schema");
        let required = |op: &Value| op.pointer("/requestBody/required") == Some(&Value::Bool(true));
        match (body(old), body(new)) {
            (Some(o), Some(n)) => self.schema(Side::Request, &format!("{key} request"), o, n, true),
            (Some(_), None) => self.push(Kind::Breaking, &format!("{key} request"), "request body removed"),
            (None, Some(_)) if required(new) => self.push(
                Kind::Breaking,
                &format!("{key} request"),
                "required request body added",
            ),
            (None, Some(_)) => self.push(
                Kind::Compatible,
                &format!("{key} request"),
                "optional request body added",
            ),
            (None, None) => {}
        }
        if !required(old) && required(new) && body(old).is_some() {
            self.push(
                Kind::Breaking,
                &format!("{key} request"),
                "request body became required",
            );
        }

        for code in old_codes.intersection(&new_codes) {
            let schema =
                |op: &'a Value| op["responses"][code.as_str()].pointer("/content/application~1json/schema");
            let location = format!("{key} response {code}");
            match (schema(old), schema(new)) {
                (Some(o), Some(n)) => self.schema(Side::Response, &location, o, n, true),
                (Some(_), None) => self.push(Kind::Breaking, &location, "response body removed"),
                (None, Some(_)) => self.push(Kind::Compatible, &location, "response body added"),
                (None, None) => {}
            }
        }
    }

    fn parameters(&mut self, key: &str, old: &'a Value, new: &'a Value) {
        let params = |doc: &'a Value, op: &'a Value| -> BTreeMap<String, &'a Value> {
            op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| deref(doc, p))
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
                None => self.push(Kind::Breaking, &location, "parameter removed"),
                Some(n) => {
                    if o["required"] != Value::Bool(true) && n["required"] == Value::Bool(true) {
                        self.push(Kind::Breaking, &location, "parameter became required");
                    }
                    if let (Some(os), Some(ns)) = (o.get("schema"), n.get("schema")) {
                        self.schema(Side::Request, &location, os, ns, true);
                    }
                }
            }
        }
        for (name, n) in new_params.iter().filter(|(k, _)| !old_params.contains_key(*k)) {
            let location = format!("{key} parameter {name}");
            if n["required"] == Value::Bool(true) {
                self.push(Kind::Breaking, &location, "required parameter added");
            } else {
                self.push(Kind::Compatible, &location, "optional parameter added");
            }
        }
    }

    /// Compares two schemas on one side of the exchange.
    fn schema(&mut self, side: Side, location: &str, old: &'a Value, new: &'a Value, required: bool) {
        // A named schema pair is compared once per side: that ends recursion
        // through self-referencing schemas and reports a shared schema once.
        if !reference(old).is_empty() || !reference(new).is_empty() {
            let side_name = if side == Side::Request {
                "request"
            } else {
                "response"
            };
            if !self
                .seen
                .insert(format!("{side_name}|{}|{}", reference(old), reference(new)))
            {
                return;
            }
        }
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
            self.push(
                Kind::Breaking,
                location,
                format!("type changed from {} to {}", ty(o), ty(n)),
            );
            return;
        }
        if o_nullable != n_nullable {
            let (kind, what) = match (side, n_nullable) {
                (Side::Request, true) => (Kind::Compatible, "now accepts null"),
                (Side::Request, false) => (Kind::Breaking, "no longer accepts null"),
                // Optional response fields are `Option` whatever the spec says.
                (Side::Response, _) if !required => (Kind::Docs, "nullability changed"),
                (Side::Response, true) => (Kind::Breaking, "may now be null (its Rust type becomes Option)"),
                (Side::Response, false) => (
                    Kind::Breaking,
                    "is no longer nullable (its Rust type loses Option)",
                ),
            };
            self.push(kind, location, what);
        }
        self.enums(side, location, o, n);
        if side == Side::Request {
            self.limits(location, o, n);
        }
        self.properties(side, location, o, n);
        if let (Some(oi), Some(ni)) = (o.get("items"), n.get("items")) {
            self.schema(side, &format!("{location}[]"), oi, ni, true);
        }
        if let (Some(oa @ Value::Object(_)), Some(na @ Value::Object(_))) =
            (o.get("additionalProperties"), n.get("additionalProperties"))
        {
            self.schema(side, &format!("{location}{{*}}"), oa, na, true);
        }
    }

    fn enums(&mut self, side: Side, location: &str, o: &Value, n: &Value) {
        let values = |s: &Value| -> Option<BTreeSet<String>> {
            s.get("enum")
                .and_then(Value::as_array)
                .map(|a| a.iter().map(|v| v.to_string()).collect())
        };
        match (values(o), values(n)) {
            (Some(ov), Some(nv)) => {
                for removed in ov.difference(&nv) {
                    let why = match side {
                        Side::Request => "enum value removed from a request (requests using it are refused)",
                        Side::Response => "enum value removed (its Rust variant disappears)",
                    };
                    self.push(Kind::Breaking, location, format!("{why}: {removed}"));
                }
                for added in nv.difference(&ov) {
                    let why = match side {
                        Side::Request => "new enum value accepted in requests",
                        Side::Response => "new enum value in responses (parsed by the open enum)",
                    };
                    self.push(Kind::Compatible, location, format!("{why}: {added}"));
                }
            }
            (None, Some(_)) => self.push(Kind::Breaking, location, "now restricted to an enum"),
            (Some(_), None) => match side {
                Side::Request => self.push(Kind::Compatible, location, "no longer restricted to an enum"),
                Side::Response => self.push(
                    Kind::Breaking,
                    location,
                    "no longer an enum (the Rust type changes)",
                ),
            },
            (None, None) => {}
        }
    }

    /// Request rules: tighter is breaking, looser compatible.
    fn limits(&mut self, location: &str, o: &Value, n: &Value) {
        if o.get("pattern") != n.get("pattern") {
            match (o.get("pattern"), n.get("pattern")) {
                (_, Some(p)) => self.push(Kind::Breaking, location, format!("pattern tightened to {p}")),
                (Some(_), None) => self.push(Kind::Compatible, location, "pattern removed"),
                (None, None) => {}
            }
        }
        // (keyword, larger is looser)
        for (keyword, larger_is_looser) in [
            ("maxLength", true),
            ("maximum", true),
            ("maxItems", true),
            ("minLength", false),
            ("minimum", false),
            ("minItems", false),
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
            match tighter {
                Some(true) => self.push(
                    Kind::Breaking,
                    location,
                    format!("{keyword} tightened: {} → {}", show(ov), show(nv)),
                ),
                Some(false) => self.push(
                    Kind::Compatible,
                    location,
                    format!("{keyword} loosened: {} → {}", show(ov), show(nv)),
                ),
                None => {}
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
        let (Some(op), Some(np)) = (props(o), props(n)) else {
            return;
        };
        let (oreq, nreq) = (req(o), req(n));
        for (name, oprop) in op {
            let field = format!("{location}.{name}");
            let Some(nprop) = np.get(name) else {
                let what = match side {
                    Side::Request => "request field removed",
                    Side::Response => "response field removed",
                };
                self.push(Kind::Breaking, &field, what);
                continue;
            };
            match (oreq.contains(name), nreq.contains(name)) {
                (false, true) => self.push(
                    Kind::Breaking,
                    &field,
                    "became required (its Rust type loses Option)",
                ),
                (true, false) => self.push(
                    Kind::Breaking,
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
                (Side::Request, true) => self.push(Kind::Breaking, &field, "new required request field"),
                (Side::Request, false) => self.push(Kind::Compatible, &field, "new optional request field"),
                (Side::Response, _) => self.push(Kind::Compatible, &field, "new response field"),
            }
        }
    }
}

fn show(v: Option<f64>) -> String {
    v.map_or("none".into(), |v| v.to_string())
}

fn reference(schema: &Value) -> &str {
    schema.get("$ref").and_then(Value::as_str).unwrap_or("")
}

fn deref<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
    sigmamind_codegen::spec::deref(doc, value).unwrap_or(value)
}
