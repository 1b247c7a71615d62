//! Maintainer commands: `cargo xtask <command>`. See `cargo xtask help`.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use sigmamind_codegen::{lint, Spec};

const USAGE: &str = "\
cargo xtask <command>

commands:
  check      everything CI checks about the spec: it parses and generates, lint
             rules, no pending or orphaned snapshots, snapshots match
  generate [--surface] [SPEC]
             print the code build.rs generates (or its surface listing)
  help       this text";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("check") => check(),
        Some("generate") => generate(&args[1..]),
        Some("help") | None => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(format!("unknown command `{other}`\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

fn spec_path() -> PathBuf {
    root().join("openapi/sigmamind.yaml")
}

fn generate(args: &[String]) -> Result<(), String> {
    let surface = args.iter().any(|a| a == "--surface");
    let path = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .map(PathBuf::from)
        .unwrap_or_else(spec_path);
    let spec = Spec::load(path).map_err(|e| e.to_string())?;
    let options = sigmamind_codegen::Options::sigmamind();
    if surface {
        let file = sigmamind_codegen::generate_file(&spec, &options).map_err(|e| e.to_string())?;
        print!("{}", sigmamind_codegen::surface::render(&spec, &file));
    } else {
        print!(
            "{}",
            sigmamind_codegen::generate(&spec, &options).map_err(|e| e.to_string())?
        );
    }
    Ok(())
}

fn check() -> Result<(), String> {
    let spec = Spec::load(spec_path()).map_err(|e| e.to_string())?;
    sigmamind_codegen::generate(&spec, &sigmamind_codegen::Options::sigmamind())
        .map_err(|e| e.to_string())?;
    println!("ok   spec parses, validates and generates");

    let findings = lint::lint(&spec);
    if !findings.is_empty() {
        let list: Vec<String> = findings.iter().map(|f| format!("  {f}")).collect();
        return Err(format!(
            "the spec breaks {} lint rule(s):\n{}",
            findings.len(),
            list.join("\n")
        ));
    }
    println!("ok   lint: operation ids, named response types, field descriptions");

    let problems = snapshot_problems(&root().join("tests"))?;
    if !problems.is_empty() {
        return Err(problems.join("\n"));
    }
    println!("ok   no pending or orphaned snapshots");

    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(root())
        .env("INSTA_UPDATE", "no")
        .args([
            "test",
            "--quiet",
            "--package",
            "sigmamind",
            "--test",
            "generated_surface",
        ])
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err(
            "the generated surface differs from the snapshots: review with `cargo insta review`".into(),
        );
    }
    println!("ok   the generated surface matches the snapshots");
    Ok(())
}

/// Pending snapshots (`.snap.new`, `.pending-snap`) and snapshot files whose
/// test file or snapshot name no longer exists.
fn snapshot_problems(tests: &Path) -> Result<Vec<String>, String> {
    let mut problems = Vec::new();
    let dir = tests.join("snapshots");
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(_) => return Ok(problems),
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
