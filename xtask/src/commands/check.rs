//! `cargo xtask check`: everything CI checks about the spec (and the
//! dialler's number-to-time-zone table, generated from libphonenumber's).

use std::path::Path;

use sigmamind_codegen::intake::effective_text;
use sigmamind_codegen::{lint, Spec};

use crate::workspace::{Workspace, EFFECTIVE, NAMES, OVERLAY, SNAPSHOT_TEST, VENDOR};

/// Runs the command.
pub fn run(ws: &Workspace) -> Result<(), String> {
    effective_is_vendor_plus_ours(ws)?;
    println!("ok   {EFFECTIVE} is exactly {VENDOR} + {OVERLAY}, named by {NAMES}");

    let spec = Spec::load(ws.path(EFFECTIVE)).map_err(|e| e.to_string())?;
    sigmamind_codegen::generate(&spec, &crate::generator_options::sigmamind_options())
        .map_err(|e| e.to_string())?;
    println!("ok   the effective spec parses, validates and generates");

    let findings = lint::lint(&spec);
    if !findings.is_empty() {
        let list: Vec<String> = findings.iter().map(|f| format!("  {f}")).collect();
        return Err(format!(
            "the spec breaks {} lint rule(s) (fix them in {OVERLAY}):\n{}",
            findings.len(),
            list.join("\n")
        ));
    }
    println!("ok   lint: every field is described");

    version_gate(ws)?;

    let problems = snapshot_problems(&ws.path("tests"))?;
    if !problems.is_empty() {
        return Err(problems.join("\n"));
    }
    println!("ok   no pending or orphaned snapshots");

    let status = ws
        .cargo()
        .env("INSTA_UPDATE", "no")
        .args(SNAPSHOT_TEST)
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err(
            "the generated surface differs from the snapshots: review with `cargo insta review`".into(),
        );
    }
    println!("ok   the generated surface matches the snapshots");

    crate::commands::number_zones::run(
        ws,
        &crate::flags::NumberZones {
            fetch: None,
            check: true,
        },
    )
}

/// The crate's version must be at least what the spec changes since the
/// last release require; `cargo semver-checks` gives a second opinion.
pub fn version_gate(ws: &Workspace) -> Result<(), String> {
    let base = match crate::version_gate::base(ws) {
        Ok(base) => base,
        Err(why) => {
            println!("ok   version gate: skipped ({why})");
            return Ok(());
        }
    };
    let verdict = crate::version_gate::check(ws, &base)?;
    if !verdict.passes() {
        return Err(format!(
            "Cargo.toml's version {} is behind what the spec changes since {} ({}) require: at least {} \
             ({})\n{}",
            verdict.version,
            verdict.base,
            verdict.base_version,
            verdict.required,
            verdict.report.summary(),
            verdict.report.markdown()
        ));
    }
    println!(
        "ok   version {} covers the spec changes since {} ({}: {})",
        verdict.version,
        verdict.base,
        verdict.base_version,
        verdict.report.summary()
    );
    match crate::version_gate::semver_checks(ws, &base) {
        None => println!("ok   cargo-semver-checks: skipped (no release tag, or the tool is not installed)"),
        Some(Ok(())) if verdict.report.semver == crate::diff::Bump::Major => println!(
            "note cargo-semver-checks finds no breaking change where the spec report does: the report \
             counts behaviour the Rust API cannot show (refused requests, wire changes)"
        ),
        Some(Ok(())) => println!("ok   cargo-semver-checks agrees"),
        Some(Err(found)) if verdict.report.semver != crate::diff::Bump::Major => {
            return Err(format!(
                "cargo-semver-checks finds breaking changes the spec report does not:\n{found}"
            ))
        }
        Some(Err(_)) => println!("ok   cargo-semver-checks agrees: breaking"),
    }
    Ok(())
}

/// The effective spec and the name book must be what the intake makes of
/// the vendor's document and our overlay: nobody edits them by hand.
pub fn effective_is_vendor_plus_ours(ws: &Workspace) -> Result<(), String> {
    let sources = ws.sources()?;
    let intake = sources.intake()?;
    if let Some(stale) = intake.overlay.stale.first() {
        return Err(format!(
            "{OVERLAY} action {} ({}) matches nothing in {VENDOR}: remove or retarget it",
            stale.number, stale.description
        ));
    }
    let fix = format!("run `cargo xtask update-spec` (it rewrites both from {VENDOR} and {OVERLAY})");
    if ws.read(EFFECTIVE)? != effective_text(&intake.document) {
        return Err(format!(
            "{EFFECTIVE} differs from {VENDOR} + {OVERLAY}: it was edited by hand or not regenerated; {fix}"
        ));
    }
    // The book as recorded must name exactly what the intake names.
    if ws.names()? != intake.names {
        return Err(format!(
            "{NAMES} does not match the names the intake gives; {fix}"
        ));
    }
    Ok(())
}

/// Pending snapshots (`.snap.new`, `.pending-snap`) and snapshot files whose
/// test file or snapshot name no longer exists.
pub fn snapshot_problems(tests: &Path) -> Result<Vec<String>, String> {
    let mut problems = Vec::new();
    let Ok(entries) = std::fs::read_dir(tests.join("snapshots")) else {
        return Ok(problems);
    };
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        if name.ends_with(".snap.new") || name.ends_with(".pending-snap") {
            problems.push(format!(
                "pending snapshot {}: review it with `cargo insta review`",
                path.display()
            ));
            continue;
        }
        let Some(stem) = name.strip_suffix(".snap") else {
            continue;
        };
        let Some((test_file, snapshot)) = stem.split_once("__") else {
            continue;
        };
        let source = std::fs::read_to_string(tests.join(format!("{test_file}.rs"))).unwrap_or_default();
        if !source.contains(&format!("\"{snapshot}\"")) {
            problems.push(format!(
                "orphaned snapshot {}: no snapshot `{snapshot}` in tests/{test_file}.rs; delete it",
                path.display()
            ));
        }
    }
    Ok(problems)
}
