//! Generates the client and types from the effective spec
//! (`openapi/sigmamind.json`) into `$OUT_DIR`. All logic lives in the
//! `sigmamind-codegen` crate; this crate's settings for it are in
//! `build/generator_options.rs`.

#[path = "build/generator_options.rs"]
mod generator_options;

use std::path::PathBuf;

const SPEC: &str = "openapi/sigmamind.json";

fn main() {
    println!("cargo::rerun-if-changed={SPEC}");
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=build/generator_options.rs");
    if let Err(error) = generate() {
        // One line, naming the file and the problem; no panic backtrace.
        println!("cargo::error=cannot generate the SigmaMind client: {error}");
    }
}

fn generate() -> Result<(), String> {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").ok_or("cargo sets OUT_DIR")?);
    let spec = sigmamind_codegen::Spec::load(SPEC).map_err(|e| e.to_string())?;
    let source = sigmamind_codegen::generate(&spec, &generator_options::sigmamind_options())
        .map_err(|e| e.to_string())?;
    write(&out.join("sigmamind.rs"), &source)?;
    write(&out.join("sigmamind.json"), &sigmamind_codegen::spec_json(&spec))?;
    // Typed httpmock helpers only when asked for (feature `httpmock`).
    if std::env::var_os("CARGO_FEATURE_HTTPMOCK").is_some() {
        let mocks = sigmamind_codegen::generate_httpmock(&spec, &generator_options::httpmock_crate_path())
            .map_err(|e| format!("the httpmock helpers: {e}"))?;
        write(&out.join("sigmamind_httpmock.rs"), &mocks)?;
    }
    Ok(())
}

fn write(path: &std::path::Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}
