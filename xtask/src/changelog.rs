//! `openapi/CHANGELOG.md`: one entry per vendor update.

use std::path::Path;

use crate::diff::{Kind, Report};

/// The changelog entry `update-spec` appends.
pub fn entry(report: &Report, date: &str) -> String {
    let mut entry = format!("## {} ({date})\n\n{}\n\n", report.new_version, report.summary());
    for change in &report.changes {
        let kind = match change.kind {
            Kind::Breaking => "breaking",
            Kind::Compatible => "compatible",
            Kind::Docs => "docs",
        };
        entry.push_str(&format!("- {kind}: `{}`: {}\n", change.location, change.message));
    }
    entry.push('\n');
    entry
}

/// Appends `entry` to the changelog at `path`, creating it with a title.
pub fn append(path: &Path, entry: &str) -> std::io::Result<()> {
    let mut text = std::fs::read_to_string(path).unwrap_or_else(|_| {
        "# Spec changelog\n\nEach `cargo xtask update-spec` adds an entry: the spec's version, the date, \
         and what changed for users of the crate.\n\n"
            .to_owned()
    });
    text.push_str(entry);
    std::fs::write(path, text)
}
