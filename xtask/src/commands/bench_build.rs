//! `cargo xtask bench-build`: what generating at build time costs (the
//! measuring helpers are in [`crate::bench`]).

use crate::flags::BenchBuild;
use crate::workspace::{Workspace, EFFECTIVE};

/// Runs the command.
pub fn run(ws: &Workspace, args: &BenchBuild) -> Result<(), String> {
    let skip_release = args.skip_release;
    use crate::bench::{
        build_script_steps, copy_workspace, median_of, plain_crate, scratch, secs, timed_cargo,
    };
    let root = ws.root.clone();
    let dir = scratch(ws, "bench-build")?;
    let ws_spec = ws.path(EFFECTIVE);
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
    // What an editor runs: a clean `cargo check`.
    let generated = timed_cargo(
        &ws,
        &dir.join("target-ws-check"),
        &["check", "--quiet", "--package", "sigmamind"],
    )?;
    let handwritten = timed_cargo(&plain, &dir.join("target-plain-check"), &["check", "--quiet"])?;
    rows.push(("clean check".to_owned(), generated, handwritten));
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

    // What a user pays: a crate that depends on the packaged `sigmamind`
    // (default features), built clean.
    let downstream = crate::bench::downstream_of_package(&ws, &dir.join("downstream"))?;
    let user = timed_cargo(&downstream, &dir.join("target-downstream"), &["build", "--quiet"])?;
    println!(
        "\n{:<28} {:>14}  (depends on the packaged sigmamind, default features)",
        "downstream crate, clean",
        secs(user)
    );

    let target = dir.join("target-ws-debug");
    let build = ["build", "--quiet", "--package", "sigmamind"];
    let noop = median_of(5, || timed_cargo(&ws, &target, &build))?;
    let spec_file = ws.join(EFFECTIVE);
    let original = std::fs::read_to_string(&spec_file).map_err(|e| e.to_string())?;
    let mut edits = 0;
    let touched = median_of(3, || {
        // A real edit: one new CallStatus value, so generated types change.
        edits += 1;
        let edited = original.replacen(
            "\"not_connected\",",
            &format!("\"not_connected\", \"bench_{edits}\","),
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
    for (step, time) in build_script_steps(&ws_spec, 5)? {
        println!("  {step:<34} {:>8.1} ms", time.as_secs_f64() * 1000.0);
    }
    Ok(())
}
