//! The logic behind `cargo xtask`: spec conversion, change reports,
//! changelog entries. `main.rs` only parses arguments and runs commands.

pub mod convert;
pub mod diff;

use std::path::Path;

use sigmamind_codegen::Spec;

/// Reads a vendor spec (YAML or JSON, OpenAPI 3.0 or 3.1), converts it to
/// 3.0.3 and checks it. Returns the spec, its YAML text and conversion notes.
pub fn ingest(path: &Path) -> Result<(Spec, String, Vec<String>), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    ingest_text(path, &text)
}

/// [`ingest`] for text already read.
pub fn ingest_text(path: &Path, text: &str) -> Result<(Spec, String, Vec<String>), String> {
    // YAML is a superset of JSON, and serde_yaml keeps key order.
    let value: serde_yaml::Value =
        serde_yaml::from_str(text).map_err(|e| format!("{}: not valid YAML or JSON: {e}", path.display()))?;
    let converted = convert::to_openapi_30(value).map_err(|e| format!("{}: {e}", path.display()))?;
    let yaml = serde_yaml::to_string(&converted.document).map_err(|e| e.to_string())?;
    let spec = Spec::parse(path, &yaml).map_err(|e| e.to_string())?;
    Ok((spec, yaml, converted.notes))
}

/// The changelog entry `update-spec` appends.
pub fn changelog_entry(report: &diff::Report, date: &str) -> String {
    let mut entry = format!("## {} ({date})\n\n{}\n\n", report.new_version, report.summary());
    for change in &report.changes {
        let kind = match change.kind {
            diff::Kind::Breaking => "breaking",
            diff::Kind::Compatible => "compatible",
            diff::Kind::Docs => "docs",
        };
        entry.push_str(&format!("- {kind}: `{}`: {}\n", change.location, change.message));
    }
    entry.push('\n');
    entry
}

/// Appends `entry` to the changelog at `path`, creating it with a title.
pub fn append_changelog(path: &Path, entry: &str) -> std::io::Result<()> {
    let mut text = std::fs::read_to_string(path).unwrap_or_else(|_| {
        "# Spec changelog\n\nEach `cargo xtask update-spec` adds an entry: the spec's version, the date, \
         and what changed for users of the crate.\n\n"
            .to_owned()
    });
    text.push_str(entry);
    std::fs::write(path, text)
}
pub mod bench;
pub mod scale;
