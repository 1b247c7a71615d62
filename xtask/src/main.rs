//! Maintainer commands: `cargo xtask <command>`; see `cargo xtask help`.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use sigmamind_codegen::{lint, Options, Spec};
use xtask::diff::{diff, Report};

const USAGE: &str = "\
cargo xtask <command>

commands:
  update-spec <file> [--allow-breaking]
             take in a vendor spec (YAML or JSON, OpenAPI 3.0 or 3.1): convert it to
             3.0.3, write openapi/sigmamind.yaml, append to openapi/CHANGELOG.md,
             regenerate, and print the change report and the snapshots to review.
             Refuses breaking changes unless --allow-breaking.
  diff [<old>] <new> [--format markdown|json] [--allow-breaking]
             what changed for users of the crate, and the semver bump it needs;
             <old> defaults to openapi/sigmamind.yaml at git HEAD. Exits 1 on
             breaking changes unless --allow-breaking.
  bench-build [--skip-release]
             what build-time generation costs: clean builds (debug, release) against
             the same generated code without a build script, no-op and spec-edit
             rebuilds, time inside build.rs; as ratios, in one run
  bench-scale [--sizes 1,10,100,500]
             build.rs time and compile time as the spec grows (synthetic specs)
  check      everything CI checks about the spec: it parses and generates, lint
             rules, no pending or orphaned snapshots, snapshots match
  generate [--surface] [<file>]
             print the code build.rs generates (or its surface listing)
  help       this text";

/// The drift-snapshot tests, as `update-spec` and `check` run them.
const SNAPSHOT_TEST: [&str; 6] = [
    "test",
    "--quiet",
    "--package",
    "sigmamind",
    "--test",
    "generated_surface",
];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (flags, positional): (Vec<&String>, Vec<&String>) =
        args.iter().skip(1).partition(|a| a.starts_with("--"));
    let flag = |name: &str| flags.iter().any(|f| *f == name);
    let result = match args.first().map(String::as_str) {
        Some("update-spec") => match positional.as_slice() {
            [file] => update_spec(Path::new(file.as_str()), flag("--allow-breaking")),
            _ => Err(format!("update-spec takes one file\n\n{USAGE}")),
        },
        Some("diff") => {
            let json = args.windows(2).any(|w| w[0] == "--format" && w[1] == "json") || flag("--format=json");
            let positional: Vec<&&String> = positional
                .iter()
                .filter(|p| !["json", "markdown"].contains(&p.as_str()))
                .collect();
            match positional.as_slice() {
                [new] => run_diff(None, Path::new(new.as_str()), json, flag("--allow-breaking")),
                [old, new] => run_diff(
                    Some(Path::new(old.as_str())),
                    Path::new(new.as_str()),
                    json,
                    flag("--allow-breaking"),
                ),
                _ => Err(format!("diff takes one or two files\n\n{USAGE}")),
            }
        }
        Some("check") => check(),
        Some("bench-build") => bench_build(flag("--skip-release")),
        Some("bench-scale") => {
            let sizes = args
                .windows(2)
                .find(|w| w[0] == "--sizes")
                .map(|w| w[1].split(',').filter_map(|n| n.trim().parse().ok()).collect())
                .unwrap_or_else(|| vec![1, 10, 100, 500]);
            bench_scale(&sizes)
        }
        Some("generate") => generate(
            positional.first().map(|p| Path::new(p.as_str())),
            flag("--surface"),
        ),
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

/// The workspace root: the current directory if it holds the spec (so the
/// commands work on any checkout), else the one this xtask was built in.
fn root() -> PathBuf {
    let here = std::env::current_dir().unwrap_or_default();
    if here.join("openapi/sigmamind.yaml").exists() {
        return here;
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

fn spec_path() -> PathBuf {
    root().join("openapi/sigmamind.yaml")
}

fn cargo() -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command.current_dir(root());
    command
}

fn head_spec() -> Result<Spec, String> {
    let output = Command::new("git")
        .current_dir(root())
        .args(["show", "HEAD:openapi/sigmamind.yaml"])
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "git show HEAD:openapi/sigmamind.yaml failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let text = String::from_utf8_lossy(&output.stdout);
    xtask::ingest_text(Path::new("HEAD:openapi/sigmamind.yaml"), &text).map(|(spec, _, _)| spec)
}

fn run_diff(old: Option<&Path>, new: &Path, json: bool, allow_breaking: bool) -> Result<(), String> {
    let old = match old {
        Some(path) => xtask::ingest(path)?.0,
        None => head_spec()?,
    };
    let (new, _, _) = xtask::ingest(new)?;
    let report = diff(&old.document, &new.document);
    println!("{}", if json { report.json() } else { report.markdown() });
    refuse_breaking(&report, allow_breaking)
}

fn refuse_breaking(report: &Report, allow_breaking: bool) -> Result<(), String> {
    if report.is_breaking() && !allow_breaking {
        return Err(format!(
            "{} breaking change(s); if intended, pass --allow-breaking and bump the version",
            report.counts().0
        ));
    }
    Ok(())
}

fn update_spec(file: &Path, allow_breaking: bool) -> Result<(), String> {
    let (new, yaml, notes) = xtask::ingest(file)?;
    sigmamind_codegen::generate(&new, &Options::sigmamind()).map_err(|e| e.to_string())?;
    let current = Spec::load(spec_path()).map_err(|e| e.to_string())?;
    let report = diff(&current.document, &new.document);
    for note in &notes {
        println!("note: {note}");
    }
    println!("{}", report.markdown());
    refuse_breaking(&report, allow_breaking)?;

    let header = format!(
        "# Normalised by `cargo xtask update-spec` from {}; edit through that command.\n",
        file.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("the vendor's spec")
    );
    std::fs::write(spec_path(), format!("{header}{yaml}"))
        .map_err(|e| format!("cannot write the spec: {e}"))?;
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    xtask::append_changelog(
        &root().join("openapi/CHANGELOG.md"),
        &xtask::changelog_entry(&report, &today),
    )
    .map_err(|e| format!("cannot write openapi/CHANGELOG.md: {e}"))?;
    println!("wrote openapi/sigmamind.yaml and appended to openapi/CHANGELOG.md");

    // Regenerate: the crate, hand-written layer included, must still build.
    let built = cargo()
        .args(SNAPSHOT_TEST)
        .arg("--no-run")
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !built.success() {
        return Err("the regenerated crate does not build: see the compiler errors above".into());
    }
    // Compare with the snapshots; changes land as .snap.new for review.
    let status = cargo()
        .env("INSTA_UPDATE", "new")
        .env_remove("CI")
        .args(SNAPSHOT_TEST)
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if status.success() {
        println!("the generated surface is unchanged");
    } else {
        println!(
            "the generated surface changed: review tests/snapshots/*.snap.new with `cargo insta review` \
             (or accept them one by one), then run `cargo xtask check`"
        );
    }
    Ok(())
}

fn bench_build(skip_release: bool) -> Result<(), String> {
    use xtask::bench::{
        build_script_steps, copy_workspace, median_of, plain_crate, scratch, secs, timed_cargo,
    };
    let root = root();
    let dir = scratch(&root, "bench-build")?;
    let (ws, plain) = (dir.join("workspace"), dir.join("plain"));
    copy_workspace(&root, &ws)?;
    plain_crate(&root, &plain)?;
    println!(
        "bench-build: {} cores; each clean build starts from an empty target directory
",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    let mut rows = Vec::new();
    let profiles: &[&str] = if skip_release {
        &["debug"]
    } else {
        &["debug", "release"]
    };
    for profile in profiles {
        let release: &[&str] = if *profile == "release" {
            &["--release"]
        } else {
            &[]
        };
        let ws_args: Vec<&str> = ["build", "--quiet", "--package", "sigmamind"]
            .iter()
            .chain(release)
            .copied()
            .collect();
        let plain_args: Vec<&str> = ["build", "--quiet"].iter().chain(release).copied().collect();
        let generated = timed_cargo(&ws, &dir.join(format!("target-ws-{profile}")), &ws_args)?;
        let handwritten = timed_cargo(&plain, &dir.join(format!("target-plain-{profile}")), &plain_args)?;
        rows.push((format!("clean build, {profile}"), generated, handwritten));
    }
    println!(
        "{:<28} {:>14} {:>16} {:>7}",
        "", "with build.rs", "without (plain)", "ratio"
    );
    for (name, a, b) in &rows {
        println!(
            "{name:<28} {:>14} {:>16} {:>7.3}",
            secs(*a),
            secs(*b),
            a.as_secs_f64() / b.as_secs_f64()
        );
    }

    let target = dir.join("target-ws-debug");
    let build = ["build", "--quiet", "--package", "sigmamind"];
    let noop = median_of(5, || timed_cargo(&ws, &target, &build))?;
    let spec_file = ws.join("openapi/sigmamind.yaml");
    let original = std::fs::read_to_string(&spec_file).map_err(|e| e.to_string())?;
    let mut edits = 0;
    let touched = median_of(3, || {
        // A real edit: one new CallStatus value, so generated types change.
        edits += 1;
        let edited = original.replacen(
            "        - error\n",
            &format!("        - error\n        - bench_{edits}\n"),
            1,
        );
        if edited == original {
            return Err("the spec no longer has the CallStatus value this benchmark edits".to_owned());
        }
        std::fs::write(&spec_file, edited).map_err(|e| e.to_string())?;
        timed_cargo(&ws, &target, &build)
    })?;
    std::fs::write(&spec_file, &original).map_err(|e| e.to_string())?;
    println!("\n{:<28} {:>14}", "no-op rebuild, debug", secs(noop));
    println!(
        "{:<28} {:>14}  (one new enum value; incremental)",
        "rebuild after a spec edit",
        secs(touched)
    );
    println!("\ntime inside build.rs (in-process, median of 5):");
    for (step, time) in build_script_steps(&spec_path(), 5)? {
        println!("  {step:<34} {:>8.1} ms", time.as_secs_f64() * 1000.0);
    }
    Ok(())
}

fn bench_scale(sizes: &[usize]) -> Result<(), String> {
    use xtask::bench::{scratch, secs, timed_cargo};
    let root = root();
    let dir = scratch(&root, "bench-scale")?;
    let target = dir.join("target");
    println!(
        "{:>10} {:>10} {:>14} {:>14} {:>16}",
        "operations", "types", "build.rs work", "pretty lines", "crate compile"
    );
    for &n in sizes {
        let spec = xtask::scale::synthetic_spec(n);
        let spec = Spec::from_value(format!("synthetic-{n}.json"), spec).map_err(|e| e.to_string())?;
        let options = Options::standalone();
        // What build.rs does: generate and write token text.
        let started = std::time::Instant::now();
        let file = sigmamind_codegen::generate_file(&spec, &options).map_err(|e| e.to_string())?;
        let source = sigmamind_codegen::render_compact(&file);
        let generation = started.elapsed();
        let lines = sigmamind_codegen::render(&file).lines().count();
        let krate = dir.join(format!("ops-{n}"));
        xtask::scale::write_crate(&krate, &source)?;
        // Dependencies first (shared), then the crate alone, timed.
        timed_cargo(&krate, &target, &["build", "--quiet"])?;
        let lib = krate.join("src/lib.rs");
        let text = std::fs::read_to_string(&lib).map_err(|e| e.to_string())?;
        std::fs::write(&lib, format!("{text}\n")).map_err(|e| e.to_string())?;
        // Non-incremental, so the whole crate is compiled again.
        std::env::set_var("CARGO_INCREMENTAL", "0");
        let compile = timed_cargo(&krate, &target, &["build", "--quiet"]);
        std::env::remove_var("CARGO_INCREMENTAL");
        let compile = compile?;
        println!(
            "{n:>10} {:>10} {:>14} {:>14} {:>16}",
            spec.document["components"]["schemas"]
                .as_object()
                .map_or(0, |m| m.len()),
            format!("{:.0} ms", generation.as_secs_f64() * 1000.0),
            lines,
            secs(compile)
        );
    }
    Ok(())
}

fn generate(path: Option<&Path>, surface: bool) -> Result<(), String> {
    let spec = Spec::load(path.map_or_else(spec_path, Path::to_path_buf)).map_err(|e| e.to_string())?;
    let options = Options::sigmamind();
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
    sigmamind_codegen::generate(&spec, &Options::sigmamind()).map_err(|e| e.to_string())?;
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

    let status = cargo()
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
    Ok(())
}

/// Pending snapshots (`.snap.new`, `.pending-snap`) and snapshot files whose
/// test file or snapshot name no longer exists.
fn snapshot_problems(tests: &Path) -> Result<Vec<String>, String> {
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
