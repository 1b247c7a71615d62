//! `cargo xtask bench-build`: what generating at build time costs, measured
//! on this machine in one run, as ratios against the same generated code
//! compiled without a build script.

use std::fmt::Display;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use sigmamind_codegen::Spec;

/// Copies the files git knows (tracked and untracked-not-ignored) of the
/// workspace at `root` into `to`.
pub fn copy_workspace(root: &Path, to: &Path) -> Result<(), String> {
    let out = Command::new("git")
        .current_dir(root)
        .args(["ls-files", "--cached", "--others", "--exclude-standard"])
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    for file in String::from_utf8_lossy(&out.stdout).lines() {
        let (from, dest) = (root.join(file), to.join(file));
        if from.is_file() {
            std::fs::create_dir_all(dest.parent().expect("a file has a parent"))
                .map_err(|e| e.to_string())?;
            std::fs::copy(&from, &dest).map_err(|e| format!("copy {file}: {e}"))?;
        }
    }
    Ok(())
}

/// A crate with the same source, dependencies and lock file as `sigmamind`,
/// but with the generated code written in and no build script.
pub fn plain_crate(root: &Path, to: &Path) -> Result<(), String> {
    let spec = Spec::load(root.join(crate::workspace::EFFECTIVE)).map_err(|e| e.to_string())?;
    let generated = sigmamind_codegen::generate(&spec, &crate::generator_options::sigmamind_options())
        .map_err(|e| e.to_string())?;
    let manifest: toml::Table = std::fs::read_to_string(root.join("Cargo.toml"))
        .map_err(|e| e.to_string())?
        .parse()
        .map_err(|e| format!("Cargo.toml: {e}"))?;
    let mut plain = toml::Table::new();
    let mut package = manifest["package"].as_table().cloned().ok_or("no [package]")?;
    package.insert("edition".into(), "2021".into());
    package.insert("build".into(), false.into());
    // Keys inherited from the workspace, which the plain crate is not in.
    package.retain(|_, value| value.get("workspace").is_none());
    package.remove("include");
    plain.insert("package".into(), package.into());
    for key in ["dependencies", "features"] {
        plain.insert(key.into(), manifest[key].clone());
    }
    plain.insert("workspace".into(), toml::Table::new().into());
    let src = to.join("src");
    std::fs::create_dir_all(&src).map_err(|e| e.to_string())?;
    std::fs::write(
        to.join("Cargo.toml"),
        toml::to_string(&plain).map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())?;
    std::fs::copy(root.join("Cargo.lock"), to.join("Cargo.lock")).map_err(|e| e.to_string())?;
    copy_dir(&root.join("src"), &src)?;
    let _ = std::fs::remove_dir_all(src.join("bin"));
    std::fs::write(src.join("generated.rs"), generated).map_err(|e| e.to_string())?;
    std::fs::write(src.join("spec.json"), sigmamind_codegen::spec_json(&spec)).map_err(|e| e.to_string())?;
    let lib = std::fs::read_to_string(src.join("lib.rs")).map_err(|e| e.to_string())?;
    let lib = lib
        .replace(
            r#"include!(concat!(env!("OUT_DIR"), "/sigmamind.rs"))"#,
            r#"include!("generated.rs")"#,
        )
        .replace(
            r#"include_str!(concat!(env!("OUT_DIR"), "/sigmamind.json"))"#,
            r#"include_str!("spec.json")"#,
        );
    if !lib.contains(r#"include!("generated.rs")"#) {
        return Err("src/lib.rs no longer includes OUT_DIR/sigmamind.rs as expected".into());
    }
    std::fs::write(src.join("lib.rs"), lib).map_err(|e| e.to_string())?;
    Ok(())
}

fn copy_dir(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::create_dir_all(to).map_err(|e| e.to_string())?;
    for entry in std::fs::read_dir(from).map_err(|e| e.to_string())? {
        let entry = entry.map_err(|e| e.to_string())?;
        let dest = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &dest)?;
        } else {
            std::fs::copy(entry.path(), dest).map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

/// `output` if its command succeeded; otherwise an error saying that `what`
/// failed, with what it wrote to stderr. Every bench reports a failed run so.
pub fn succeeded(output: Output, what: impl Display) -> Result<Output, String> {
    if output.status.success() {
        return Ok(output);
    }
    Err(format!(
        "{what} failed ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    ))
}

/// Runs `command` to its end: its output, or an error saying that `what`
/// could not run or failed (see [`succeeded`]).
pub fn output_of(command: &mut Command, what: impl Display) -> Result<Output, String> {
    let output = command.output().map_err(|e| format!("cannot run {what}: {e}"))?;
    succeeded(output, what)
}

/// A user's crate at `to` that depends on `sigmamind` as packaged from the
/// workspace at `ws` (`cargo package`, unpacked), with default features.
pub fn downstream_of_package(ws: &Path, to: &Path) -> Result<PathBuf, String> {
    output_of(
        Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .current_dir(ws)
            .args([
                "package",
                "--quiet",
                "--no-verify",
                "--allow-dirty",
                "--package",
                "sigmamind-codegen",
                "--package",
                "sigmamind",
            ]),
        "cargo package",
    )?;
    // `cargo package` writes where cargo builds, wherever that is.
    let packages = crate::workspace::target_dir(ws)?.join("package");
    let unpacked = to.join("unpacked");
    std::fs::create_dir_all(&unpacked).map_err(|e| e.to_string())?;
    for krate in ["sigmamind-codegen", "sigmamind"] {
        let version = "0.1.0";
        let file = packages.join(format!("{krate}-{version}.crate"));
        let status = Command::new("tar")
            .args(["xzf"])
            .arg(&file)
            .arg("-C")
            .arg(&unpacked)
            .status()
            .map_err(|e| format!("cannot run tar: {e}"))?;
        if !status.success() {
            return Err(format!("cannot unpack {}", file.display()));
        }
    }
    let manifest = format!(
        "[package]\nname = \"user-crate\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n\
         [dependencies]\nsigmamind = {{ path = \"{0}/sigmamind-0.1.0\" }}\n\
         tokio = {{ version = \"1\", features = [\"macros\", \"rt\"] }}\n\n\
         [patch.crates-io]\nsigmamind-codegen = {{ path = \"{0}/sigmamind-codegen-0.1.0\" }}\n\n[workspace]\n",
        unpacked.display()
    );
    std::fs::create_dir_all(to.join("src")).map_err(|e| e.to_string())?;
    std::fs::write(to.join("Cargo.toml"), manifest).map_err(|e| e.to_string())?;
    std::fs::write(
        to.join("src/main.rs"),
        "#[tokio::main(flavor = \"current_thread\")]\nasync fn main() {\n    \
         let _ = sigmamind::Client::from_env();\n}\n",
    )
    .map_err(|e| e.to_string())?;
    // The same dependency versions as the workspace.
    std::fs::copy(ws.join("Cargo.lock"), to.join("Cargo.lock")).map_err(|e| e.to_string())?;
    Ok(to.to_path_buf())
}

/// Runs cargo with `args` in `dir`, building into `target`; returns the
/// wall time.
pub fn timed_cargo(dir: &Path, target: &Path, args: &[&str]) -> Result<Duration, String> {
    let started = Instant::now();
    output_of(
        Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .current_dir(dir)
            .env("CARGO_TARGET_DIR", target)
            .env_remove("RUSTFLAGS")
            .args(args),
        format_args!("cargo {args:?} in {}", dir.display()),
    )?;
    Ok(started.elapsed())
}

/// The median of rates measured in rounds; an even number of rounds takes
/// the mean of the middle two (not the higher one, which would flatter the
/// slower run); none, 0.
pub fn median_rate(rates: &[f64]) -> f64 {
    let mut sorted = rates.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 0 => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
        n => sorted[n / 2],
    }
}

/// The median of `runs` timings of `f`.
pub fn median_of<T>(runs: usize, mut f: impl FnMut() -> Result<T, String>) -> Result<Duration, String> {
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        f()?;
        times.push(started.elapsed());
    }
    times.sort();
    Ok(times[times.len() / 2])
}

/// The time `build.rs` spends, split into its steps, measured in-process on
/// the same code `build.rs` runs (median of `runs`).
pub fn build_script_steps(spec_path: &Path, runs: usize) -> Result<Vec<(&'static str, Duration)>, String> {
    let out = std::env::temp_dir().join(format!("bench-build-out-{}", std::process::id()));
    std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
    let options = crate::generator_options::sigmamind_options();
    let load = median_of(runs, || Spec::load(spec_path).map_err(|e| e.to_string()))?;
    let spec = Spec::load(spec_path).map_err(|e| e.to_string())?;
    let tokens = median_of(runs, || {
        sigmamind_codegen::generate_file(&spec, &options).map_err(|e| e.to_string())
    })?;
    let file = sigmamind_codegen::generate_file(&spec, &options).map_err(|e| e.to_string())?;
    // build.rs writes token text (codegen without its `pretty` feature).
    let render = median_of(runs, || Ok::<_, String>(sigmamind_codegen::render_compact(&file)))?;
    let pretty = median_of(runs, || Ok::<_, String>(sigmamind_codegen::render(&file)))?;
    let total = median_of(runs, || {
        let spec = Spec::load(spec_path).map_err(|e| e.to_string())?;
        let file = sigmamind_codegen::generate_file(&spec, &options).map_err(|e| e.to_string())?;
        let source = sigmamind_codegen::render_compact(&file);
        std::fs::write(out.join("sigmamind.rs"), source).map_err(|e| e.to_string())?;
        std::fs::write(out.join("sigmamind.json"), sigmamind_codegen::spec_json(&spec))
            .map_err(|e| e.to_string())
    })?;
    let _ = std::fs::remove_dir_all(&out);
    Ok(vec![
        ("read + check the spec", load),
        ("transform + progenitor + rewrite", tokens),
        ("render the source (token text)", render),
        ("whole build.rs work", total),
        ("(pretty-printing instead, not done)", pretty),
    ])
}

/// Builds the release `sigmamind` binary (the CLI) and returns its path.
pub fn release_cli(ws: &crate::workspace::Workspace) -> Result<PathBuf, String> {
    let built = ws
        .cargo()
        .args([
            "build",
            "--release",
            "--package",
            "sigmamind-cli",
            "--bin",
            "sigmamind",
        ])
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !built.success() {
        return Err("the release build failed".into());
    }
    Ok(ws.target_dir()?.join("release/sigmamind"))
}

/// Runs `program` with `args` under GNU `time` (peak RSS measured by the
/// operating system), as `configure` sets it up (directory, environment);
/// returns its output and its peak RSS in KB. `usage` is where `time`
/// writes the figure.
pub fn with_peak_rss(
    program: &Path,
    args: &[&std::ffi::OsStr],
    usage: &Path,
    configure: impl FnOnce(&mut Command),
) -> Result<(std::process::Output, u64), String> {
    let mut command = Command::new("/usr/bin/time");
    command
        .args(["-f", "%M", "-o"])
        .arg(usage)
        .arg(program)
        .args(args);
    configure(&mut command);
    let output = command
        .output()
        .map_err(|e| format!("cannot run /usr/bin/time (GNU time: Debian package `time`): {e}"))?;
    let peak = std::fs::read_to_string(usage)
        .map_err(|e| e.to_string())?
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .ok_or("GNU time printed no peak")?;
    Ok((output, peak))
}

/// A scratch directory `name` where cargo builds the workspace
/// ([`Workspace::target_dir`](crate::workspace::Workspace::target_dir):
/// `CARGO_TARGET_DIR` when set, never a `target/` it did not choose), emptied.
pub fn scratch(ws: &crate::workspace::Workspace, name: &str) -> Result<PathBuf, String> {
    let dir = ws.target_dir()?.join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    Ok(dir)
}

/// Seconds with two decimals.
pub fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_run_is_an_error_naming_it_with_its_stderr() {
        let err = output_of(
            Command::new("sh").args(["-c", "echo broken >&2; exit 3"]),
            "the probe",
        )
        .unwrap_err();
        assert!(err.starts_with("the probe failed (exit status: 3):"), "{err}");
        assert!(err.contains("broken"), "{err}");
        let ok = output_of(Command::new("sh").args(["-c", "echo fine"]), "the probe").unwrap();
        assert_eq!(ok.stdout, b"fine\n");
        let missing = output_of(&mut Command::new("/nonexistent/tool"), "the tool").unwrap_err();
        assert!(missing.starts_with("cannot run the tool: "), "{missing}");
    }
}
