//! `openapi/CHANGELOG.md`: one entry per vendor update.

use std::path::Path;

use crate::diff::{Level, Report};

/// The changelog entry `update-spec` appends.
pub fn entry(report: &Report, date: &str) -> String {
    let mut entry = format!("## {} ({date})\n\n{}\n\n", report.new_version, report.summary());
    for change in &report.changes {
        let level = match (change.level, &change.accepted) {
            (Level::Breaking, Some(_)) => "breaking (accepted)",
            (Level::Breaking, None) => "breaking",
            (Level::Warning, _) => "warning",
            (Level::Compatible, _) => "compatible",
            (Level::Docs, _) => "docs",
        };
        entry.push_str(&format!(
            "- {level}: `{}` [{}]: {}\n",
            change.location, change.rule, change.message
        ));
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
