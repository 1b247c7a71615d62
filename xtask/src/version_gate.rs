//! The version gate of `cargo xtask check`: the crate's version must be at
//! least what the spec changes since the last release require, under Cargo's
//! rules (for 0.x, a breaking change bumps the minor number, anything else
//! the patch number).

use std::process::Command;

use semver::Version;
use serde_json::Value;
use sigmamind_codegen::intake;
use sigmamind_codegen::spec::parse_text;

use crate::diff::{diff, Bump, Report};
use crate::workspace::{Workspace, EFFECTIVE};

/// What the gate compared and found.
#[derive(Debug, Clone)]
pub struct GateResult {
    /// The release tag or commit compared against.
    pub base: String,
    /// The crate's version there.
    pub base_version: Version,
    /// The crate's version now.
    pub version: Version,
    /// The lowest version the spec changes allow.
    pub required: Version,
    /// The change report between the two specs.
    pub report: Report,
}

impl GateResult {
    /// Whether the version is high enough (SemVer precedence: a pre-release
    /// is below its release).
    pub fn passes(&self) -> bool {
        self.version >= self.required
    }
}

/// The lowest version after `base` that a change of this size allows,
/// under Cargo's rules (for 0.x, a breaking change bumps the minor number,
/// anything else the patch number). After a pre-release (`0.2.0-rc.1`),
/// its release (`0.2.0`) is next whatever the change: nothing was released
/// under that number yet.
pub fn required_version(base: &Version, bump: Bump) -> Version {
    if bump == Bump::None {
        return base.clone();
    }
    if !base.pre.is_empty() {
        return Version::new(base.major, base.minor, base.patch);
    }
    let (major, minor, patch) = (base.major, base.minor, base.patch);
    match (major, bump) {
        (0, Bump::Major) => Version::new(0, minor + 1, 0),
        (0, _) => Version::new(0, minor, patch + 1),
        (_, Bump::Major) => Version::new(major + 1, 0, 0),
        (_, Bump::Minor) => Version::new(major, minor + 1, 0),
        _ => Version::new(major, minor, patch + 1),
    }
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
pub fn check(ws: &Workspace, base: &str) -> Result<GateResult, String> {
    let base_version = package_version(&git(ws, &["show", &format!("{base}:Cargo.toml")])?)?;
    let version = package_version(&ws.read("Cargo.toml")?)?;
    let base_spec = spec_at(ws, base)?;
    let current = parse_text(&ws.read(EFFECTIVE)?).map_err(|e| format!("{EFFECTIVE}: {e}"))?;
    let mut report = diff(&base_spec, &current);
    report.accept(&ws.accepted_breaks()?);
    let required = required_version(&base_version, report.semver);
    Ok(GateResult {
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

/// The `[package]` version of a manifest, `version.workspace = true`
/// read from its `[workspace.package]` (the root manifest is both here).
pub fn package_version(manifest: &str) -> Result<Version, String> {
    let table: toml::Table = manifest.parse().map_err(|e| format!("Cargo.toml: {e}"))?;
    let package = table
        .get("package")
        .and_then(toml::Value::as_table)
        .ok_or("Cargo.toml has no [package]")?;
    let text = match package.get("version") {
        Some(toml::Value::String(version)) => version.clone(),
        Some(toml::Value::Table(inherit)) if inherit.get("workspace") == Some(&toml::Value::Boolean(true)) => table
            .get("workspace")
            .and_then(|w| w.get("package"))
            .and_then(|p| p.get("version"))
            .and_then(toml::Value::as_str)
            .map(str::to_owned)
            .ok_or("Cargo.toml: package.version comes from the workspace, which sets no [workspace.package] version")?,
        Some(_) => return Err("Cargo.toml: package.version is neither a version nor `workspace = true`".into()),
        None => return Err("Cargo.toml has no package.version".into()),
    };
    Version::parse(&text).map_err(|e| format!("Cargo.toml: version `{text}` is not a semantic version: {e}"))
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

    fn v(text: &str) -> Version {
        Version::parse(text).unwrap()
    }

    #[test]
    fn cargo_rules_for_0x_and_after() {
        assert_eq!(required_version(&v("0.1.0"), Bump::Major), v("0.2.0"));
        assert_eq!(required_version(&v("0.1.3"), Bump::Minor), v("0.1.4"));
        assert_eq!(required_version(&v("0.1.3"), Bump::Patch), v("0.1.4"));
        assert_eq!(required_version(&v("0.1.3"), Bump::None), v("0.1.3"));
        assert_eq!(required_version(&v("1.2.3"), Bump::Major), v("2.0.0"));
        assert_eq!(required_version(&v("1.2.3"), Bump::Minor), v("1.3.0"));
        assert_eq!(required_version(&v("1.2.3"), Bump::Patch), v("1.2.4"));
        assert!(v("0.10.0") > v("0.9.9"));
        // A pre-release is below its release, and its release comes next.
        assert!(v("0.2.0-rc.1") < v("0.2.0"));
        assert_eq!(required_version(&v("0.2.0-rc.1"), Bump::Major), v("0.2.0"));
    }

    #[test]
    fn manifests_are_read_or_refused_with_a_reason() {
        assert_eq!(
            package_version("[package]\nversion = \"0.3.1\"\n").unwrap(),
            v("0.3.1")
        );
        let inherited = "[workspace.package]\nversion = \"1.4.0\"\n[package]\nversion.workspace = true\n";
        assert_eq!(package_version(inherited).unwrap(), v("1.4.0"));
        let junk = package_version("[package]\nversion = \"one\"\n").unwrap_err();
        assert!(junk.contains("`one` is not a semantic version"), "{junk}");
        assert_eq!(
            package_version("[workspace]\n").unwrap_err(),
            "Cargo.toml has no [package]"
        );
        let orphan = package_version("[package]\nversion.workspace = true\n").unwrap_err();
        assert!(orphan.contains("no [workspace.package] version"), "{orphan}");
    }
}
