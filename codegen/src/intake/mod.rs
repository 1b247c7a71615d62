//! From the vendor's document as published to the effective spec the
//! generator reads (feature `intake`; `cargo xtask` and the tests use it,
//! `build.rs` reads its output).
//!
//! ```text
//! openapi/vendor.yaml ──► overlay.yaml applied ──► 3.1 → 3.0.3 ──► names (rust-names.toml) ──► openapi/sigmamind.json
//!   (as published)          (our corrections)       (convert)       (hoist inline schemas)       (effective spec)
//! ```
//!
//! The steps run in that fixed order, so our overlay is written against the
//! vendor's document as the vendor publishes it.

pub mod convert;
pub mod hoist;
pub mod names;
pub mod overlay;

use serde_json::Value;

pub use names::NameBook;
pub use overlay::{FilledGap, OverlayOutcome, StaleAction};

/// The effective spec, and what the intake has to say about it.
#[derive(Debug, Clone)]
pub struct Intake {
    /// The effective OpenAPI 3.0.3 document.
    pub document: Value,
    /// The names it gives, to record in `openapi/rust-names.toml`.
    pub names: NameBook,
    /// What the conversion and the naming changed or decided.
    pub notes: Vec<String>,
    /// What applying our overlay found: stale corrections, gaps the vendor
    /// filled. The caller decides what a stale correction means (`update-spec`
    /// refuses; an older document is compared without it).
    pub overlay: OverlayOutcome,
}

/// Top-level key of the effective spec that says where it comes from.
pub const PROVENANCE_KEY: &str = "x-effective-spec";

/// What [`PROVENANCE_KEY`] says.
pub const PROVENANCE: &str = "openapi/vendor.yaml with openapi/overlay.yaml applied, converted to OpenAPI \
     3.0.3 and named by openapi/rust-names.toml; written by `cargo xtask update-spec`, checked by `cargo \
     xtask check`: do not edit";

/// Runs the intake (see the module docs). `strict`: refuse what cannot be
/// generated (for the crate); lenient keeps it, with a note (for the change
/// report).
pub fn run(vendor: &Value, overlay: Option<&Value>, book: &NameBook, strict: bool) -> Result<Intake, String> {
    let mut document = vendor.clone();
    let outcome = match overlay {
        Some(overlay) => overlay::apply(&mut document, overlay)?,
        None => OverlayOutcome::default(),
    };
    // A name our gap-filling content pinned goes with that content: the
    // vendor's schema at the place takes its own name.
    let mut book = book.clone();
    for place in outcome.filled_by_vendor.iter().flat_map(|f| &f.places) {
        book.types
            .retain(|location, _| !names::is_at_or_below(location, place));
    }
    let converted = convert::to_openapi_30(document, strict)?;
    let named = hoist::name_and_hoist(&converted.document, &book)?;
    let mut document = named.document;
    if let Some(root) = document.as_object_mut() {
        root.insert(PROVENANCE_KEY.into(), Value::String(PROVENANCE.into()));
    }
    let mut notes = converted.notes;
    notes.extend(named.notes);
    Ok(Intake {
        document,
        names: named.names,
        notes,
        overlay: outcome,
    })
}

/// The names [`run`] would give `document`'s places with `book`, without
/// our overlay and without writing the effective spec (the change report
/// compares names by place).
pub fn names(document: &Value, book: &NameBook) -> Result<NameBook, String> {
    let converted = convert::to_openapi_30(document.clone(), false)?;
    Ok(hoist::names(&converted.document, book))
}

/// The effective spec's file text: pretty JSON, keys sorted, a final newline.
pub fn effective_text(document: &Value) -> String {
    let mut text = serde_json::to_string_pretty(document).expect("JSON values serialise");
    text.push('\n');
    text
}
