//! What a spec change means for users of the generated crate.
//!
//! Two layers, so that the report fails closed:
//! 1. **Rules** ([`rules`], the registry: id, level, meaning, test) compare
//!    the two effective specs **place by place** ([`compare`]): every
//!    operation, body, response, parameter and field is compared with what
//!    sits at the same place of the other document, whatever its component
//!    is called; the Rust types are identified by the places the name book
//!    records ([`places`]). A change that can stop a user's code from
//!    compiling or a request from being accepted is breaking; one that
//!    compiles but behaves differently is a warning; additions users can
//!    ignore are compatible; text is docs.
//! 2. **The generated surface** of both sides is compared too ([`surface`]):
//!    a type or operation whose surface lines moved without a rule naming it
//!    is breaking (`unclassified-surface-change`). Docs-only means the
//!    surface is identical.
//!
//! Conventions of the generated code the rules rely on: response enums are
//! open (the generator's own plan says which), request-only enums closed;
//! structs are `#[non_exhaustive]` and built through builders; optional
//! fields are `Option<T>` whatever their `default`; responses ignore request
//! rules; any 2xx is an operation's success.

mod compare;
mod places;
pub mod rules;
mod surface;

use std::fmt::Write;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sigmamind_codegen::intake::OverlayOutcome;
use sigmamind_codegen::Options;

pub use rules::{ReportRule, RULES};

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
    /// The id of the rule that found it (`request-enum-value-added`; see [`rules`]).
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
    /// The other operations this change reaches: a change in a schema
    /// that several operations share is reported once, where it was met
    /// first, with the rest here (`alsoAt` in JSON).
    #[serde(rename = "alsoAt", skip_serializing_if = "Vec::is_empty")]
    pub also_at: Vec<String>,
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
    /// Operations the generator cannot generate as written (in either
    /// document), left out of the surface comparison so that the rest is
    /// still compared: `METHOD /path: why` (`surfaceLeftOut` in JSON).
    #[serde(rename = "surfaceLeftOut", skip_serializing_if = "Vec::is_empty")]
    pub surface_left_out: Vec<String>,
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
        self.markdown_with(false)
    }

    /// The report for a pull request; `verbose`: every operation a change
    /// in a shared schema reaches, listed under it.
    pub fn markdown_with(&self, verbose: bool) -> String {
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
                match c.also_at.len() {
                    0 => {}
                    1 => out.push_str(" (and at 1 more operation)"),
                    n => {
                        let _ = write!(out, " (and at {n} more operations)");
                    }
                }
                if let Some(reason) = &c.accepted {
                    let _ = write!(out, " (accepted: {reason})");
                }
                out.push('\n');
                if verbose {
                    for operation in &c.also_at {
                        let _ = writeln!(out, "  - also `{operation}`");
                    }
                }
            }
            out.push('\n');
        }
        if !self.surface_left_out.is_empty() {
            let _ = writeln!(
                out,
                "_The generated surfaces were compared without {} operation(s) the generator cannot \
                 generate as written:_\n",
                self.surface_left_out.len()
            );
            for operation in &self.surface_left_out {
                let _ = writeln!(out, "- {operation}");
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
    // The rules by place and the types by place are independent: at once.
    let (mut changes, by_place) = at_once(|| compare::changes(old, new), || places::changes(old, new));
    changes.extend(by_place);
    with_inner_types(old, new, &mut changes);
    let (surfaces, surface_left_out) = surface::both(old, new, options);
    let surface_not_compared = match surfaces {
        Ok((o, n)) => {
            let mut formed = surface::forms_changed(&o, &n, new);
            with_inner_types(old, new, &mut formed);
            changes.extend(formed);
            let unexplained = surface::unclassified(&o.listing, &n.listing, &changes);
            changes.extend(unexplained);
            None
        }
        Err(e) => Some(e),
    };
    let identical = old == new;
    if !identical && changes.is_empty() {
        changes.push(Change::new(
            rules::SPEC_TEXT_CHANGED,
            Level::Docs,
            "spec",
            "descriptions, examples or other text changed",
            Vec::new(),
        ));
    }
    let version = |doc: &Value| doc["info"]["version"].as_str().unwrap_or("?").to_owned();
    let mut report = Report {
        old_version: version(old),
        new_version: version(new),
        semver: Bump::None,
        changes,
        surface_not_compared,
        surface_left_out,
    };
    report.settle(identical);
    report
}

/// Runs `first` on a thread of its own and `second` on this one, and
/// returns both results (a panic in either goes on as one): each side of a
/// large spec takes seconds, and the two are independent.
pub(super) fn at_once<A: Send, B>(first: impl FnOnce() -> A + Send, second: impl FnOnce() -> B) -> (A, B) {
    std::thread::scope(|scope| {
        let first = scope.spawn(first);
        let second = second();
        (
            first
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            second,
        )
    })
}

/// A change to a nullable object component also explains the struct the
/// generator makes inside it (`newtype X(Option<Inner>)`), in either
/// document.
fn with_inner_types(old: &Value, new: &Value, changes: &mut [Change]) {
    let schemas = [
        old.pointer("/components/schemas"),
        new.pointer("/components/schemas"),
    ];
    for change in changes {
        let inner: Vec<String> = change
            .types
            .iter()
            .flat_map(|name| {
                schemas.into_iter().filter_map(move |schemas| {
                    let schema = schemas?.get(name)?;
                    sigmamind_codegen::schema::nullable_object_inner(name, schema)
                })
            })
            .collect();
        for name in inner {
            if !change.types.contains(&name) {
                change.types.push(name);
            }
        }
    }
}

impl Change {
    /// A change found by `rule`, at one of the levels the rule allows.
    pub(crate) fn new(
        rule: ReportRule,
        level: Level,
        location: &str,
        message: impl Into<String>,
        types: Vec<String>,
    ) -> Self {
        debug_assert!(
            rule.levels.contains(&level),
            "rule `{}` is registered at {:?}, not {level:?}",
            rule.id,
            rule.levels
        );
        Change {
            rule: rule.id,
            level,
            location: location.to_owned(),
            message: message.into(),
            accepted: None,
            types,
            also_at: Vec::new(),
        }
    }
}

impl Report {
    /// Adds what applying our overlay to the new document found: a
    /// correction that matches nothing is stale; a gap-filling action the
    /// vendor's content now covers stepped aside.
    pub fn note_overlay(&mut self, outcome: &OverlayOutcome) {
        for stale in &outcome.stale {
            self.changes.push(Change::new(
                rules::OVERLAY_CORRECTION_STALE,
                Level::Warning,
                &format!("openapi/overlay.yaml action {}", stale.number),
                format!(
                    "this correction no longer applies ({}: `{}` matches nothing in the new \
                     document): remove it from the overlay, or retarget it",
                    stale.description, stale.target
                ),
                Vec::new(),
            ));
        }
        for filled in &outcome.filled_by_vendor {
            self.changes.push(Change::new(
                rules::OVERLAY_GAP_FILLED_BY_VENDOR,
                Level::Compatible,
                &format!("openapi/overlay.yaml action {}", filled.number),
                format!(
                    "the vendor now documents {} at `{}`: our gap-filling content ({}) steps aside \
                     and the vendor's is used",
                    filled.keys.join(", "),
                    filled.target,
                    filled.description
                ),
                Vec::new(),
            ));
        }
        let identical = self.semver == Bump::None;
        self.settle(identical);
    }

    /// Sorts the changes (breaking first) and derives the bump from the
    /// changes to the API (what the overlay found is for the maintainer).
    fn settle(&mut self, identical: bool) {
        self.changes
            .sort_by(|a, b| (a.level, &a.location, a.rule).cmp(&(b.level, &b.location, b.rule)));
        let api: Vec<&Change> = self
            .changes
            .iter()
            .filter(|c| {
                ![
                    rules::OVERLAY_CORRECTION_STALE.id,
                    rules::OVERLAY_GAP_FILLED_BY_VENDOR.id,
                ]
                .contains(&c.rule)
            })
            .collect();
        self.semver = if identical {
            Bump::None
        } else if api.iter().any(|c| c.level == Level::Breaking) {
            Bump::Major
        } else if api
            .iter()
            .any(|c| matches!(c.level, Level::Compatible | Level::Warning))
        {
            Bump::Minor
        } else {
            Bump::Patch
        };
    }

    /// The corrections of ours that match nothing in the new document.
    pub fn stale_corrections(&self) -> impl Iterator<Item = &Change> {
        self.changes
            .iter()
            .filter(|c| c.rule == rules::OVERLAY_CORRECTION_STALE.id)
    }
}
