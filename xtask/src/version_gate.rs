//! The version gate of `cargo xtask check`: the crate's version must be at
//! least what the spec changes since the last release require, under Cargo's
//! rules (for 0.x, a breaking change bumps the minor number, anything else
//! the patch number).

use std::process::Command;

use serde_json::Value;
use sigmamind_codegen::intake;
use sigmamind_codegen::spec::parse_text;

use crate::diff::{diff, Bump, Report};
use crate::workspace::{Workspace, EFFECTIVE};

/// What the gate compared and found.
#[derive(Debug, Clone)]
pub struct Verdict {
    /// The release tag or commit compared against.
    pub base: String,
    /// The crate's version there.
    pub base_version: String,
    /// The crate's version now.
    pub version: String,
    /// The lowest version the spec changes allow.
    pub required: String,
    /// The change report between the two specs.
    pub report: Report,
}

impl Verdict {
    /// Whether the version is high enough.
    pub fn passes(&self) -> bool {
        parse(&self.version) >= parse(&self.required)
    }
}

/// The lowest version after `base` that a change of this size allows.
pub fn required_version(base: &str, bump: Bump) -> String {
    let (major, minor, patch) = parse(base);
    let next = match (major, bump) {
        (_, Bump::None) => (major, minor, patch),
        (0, Bump::Major) => (0, minor + 1, 0),
        (0, _) => (0, minor, patch + 1),
        (_, Bump::Major) => (major + 1, 0, 0),
        (_, Bump::Minor) => (major, minor + 1, 0),
        (_, Bump::Patch) => (major, minor, patch + 1),
    };
    format!("{}.{}.{}", next.0, next.1, next.2)
}

fn parse(version: &str) -> (u64, u64, u64) {
    let core = version.split(['-', '+']).next().unwrap_or(version);
    let mut parts = core.split('.').map(|p| p.parse().unwrap_or(0));
    (
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
    )
}

/// The last release tag (`v*`), or else the merge base with `main`.
pub fn base(ws: &Workspace) -> Result<String, String> {
    if let Ok(tag) = git(ws, &["describe", "--tags", "--abbrev=0", "--match", "v[0-9]*"]) {
        return Ok(tag);
    }
    git(ws, &["merge-base", "HEAD", "main"])
        .map_err(|e| format!("no release tag and no merge base with `main`: {e}"))
}

/// Runs the gate against `base`.
pub fn check(ws: &Workspace, base: &str) -> Result<Verdict, String> {
    let base_version = package_version(&git(ws, &["show", &format!("{base}:Cargo.toml")])?)?;
    let version = package_version(&ws.read("Cargo.toml")?)?;
    let base_spec = spec_at(ws, base)?;
    let current = parse_text(&ws.read(EFFECTIVE)?).map_err(|e| format!("{EFFECTIVE}: {e}"))?;
    let mut report = diff(&base_spec, &current);
    report.accept(&ws.accepted_breaks()?);
    let required = required_version(&base_version, report.semver);
    Ok(Verdict {
        base: base.to_owned(),
        base_version,
        version,
        required,
        report,
    })
}

/// The effective spec at a commit: `openapi/sigmamind.json`, or the
/// hand-curated `openapi/sigmamind.yaml` of releases before the intake.
fn spec_at(ws: &Workspace, rev: &str) -> Result<Value, String> {
    if let Ok(text) = git(ws, &["show", &format!("{rev}:{EFFECTIVE}")]) {
        return parse_text(&text).map_err(|e| format!("{rev}:{EFFECTIVE}: {e}"));
    }
    let text = git(ws, &["show", &format!("{rev}:openapi/sigmamind.yaml")])?;
    let old = parse_text(&text).map_err(|e| format!("{rev}:openapi/sigmamind.yaml: {e}"))?;
    Ok(intake::run(&old, None, &ws.names()?, false)?.document)
}

fn package_version(manifest: &str) -> Result<String, String> {
    let table: toml::Table = manifest.parse().map_err(|e| format!("Cargo.toml: {e}"))?;
    table["package"]["version"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| "Cargo.toml has no package.version".to_owned())
}

fn git(ws: &Workspace, args: &[&str]) -> Result<String, String> {
    let out = Command::new("git")
        .current_dir(&ws.root)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "git {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim_end().to_owned())
}

/// `cargo semver-checks` against the release tag, as a second opinion.
/// `None` when there is no tag or the tool is not installed.
pub fn semver_checks(ws: &Workspace, tag: &str) -> Option<Result<(), String>> {
    if !tag.starts_with('v') {
        return None;
    }
    let installed = ws.cargo().args(["semver-checks", "--version"]).output().ok()?;
    if !installed.status.success() {
        return None;
    }
    let out = ws
        .cargo()
        .args([
            "semver-checks",
            "check-release",
            "--package",
            "sigmamind",
            "--baseline-rev",
            tag,
        ])
        .output()
        .ok()?;
    Some(if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stdout).into_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cargo_rules_for_0x_and_after() {
        assert_eq!(required_version("0.1.0", Bump::Major), "0.2.0");
        assert_eq!(required_version("0.1.3", Bump::Minor), "0.1.4");
        assert_eq!(required_version("0.1.3", Bump::Patch), "0.1.4");
        assert_eq!(required_version("0.1.3", Bump::None), "0.1.3");
        assert_eq!(required_version("1.2.3", Bump::Major), "2.0.0");
        assert_eq!(required_version("1.2.3", Bump::Minor), "1.3.0");
        assert_eq!(required_version("1.2.3", Bump::Patch), "1.2.4");
        assert!(parse("0.10.0") > parse("0.9.9"));
        assert_eq!(parse("0.2.0-rc.1"), (0, 2, 0));
    }
}
