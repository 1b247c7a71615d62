//! `cargo xtask bench-scale`: build.rs and compile time as the spec grows.

use sigmamind_codegen::{Options, Spec};

use crate::flags::BenchScale;
use crate::workspace::Workspace;

/// Runs the command.
pub fn run(ws: &Workspace, args: &BenchScale) -> Result<(), String> {
    let sizes = &args.sizes;
    use crate::bench::{scratch, secs, timed_cargo};
    let dir = scratch(ws, "bench-scale")?;
    let target = dir.join("target");
    println!(
        "{:>10} {:>10} {:>14} {:>14} {:>16}",
        "operations", "types", "build.rs work", "pretty lines", "crate compile"
    );
    for &n in sizes {
        let spec = crate::scale::synthetic_spec(n);
        let spec = Spec::from_value(format!("synthetic-{n}.json"), spec).map_err(|e| e.to_string())?;
        let options = Options::standalone();
        // What build.rs does: generate and write token text.
        let started = std::time::Instant::now();
        let file = sigmamind_codegen::generate_file(&spec, &options).map_err(|e| e.to_string())?;
        let source = sigmamind_codegen::render_compact(&file);
        let generation = started.elapsed();
        let lines = sigmamind_codegen::render(&file).lines().count();
        let krate = dir.join(format!("ops-{n}"));
        crate::scale::write_crate(&krate, &source)?;
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
