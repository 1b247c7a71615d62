//! Generates the client and types from `openapi/sigmamind.yaml` into
//! `$OUT_DIR/sigmamind.rs`. All logic lives in the `sigmamind-codegen` crate.

fn main() {
    let spec = "openapi/sigmamind.yaml";
    println!("cargo:rerun-if-changed={spec}");
    println!("cargo:rerun-if-changed=build.rs");
    let options = sigmamind_codegen::Options::sigmamind();
    let generated = sigmamind_codegen::Spec::load(spec).and_then(|spec| {
        let source = sigmamind_codegen::generate(&spec, &options)?;
        Ok((source, sigmamind_codegen::spec_json(&spec)))
    });
    let (source, json) = match generated {
        Ok(generated) => generated,
        Err(error) => {
            // One line, naming the file and the problem; no panic backtrace.
            println!("cargo::error=cannot generate the SigmaMind client: {error}");
            return;
        }
    };
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out.join("sigmamind.rs"), source).expect("write the generated client to OUT_DIR");
    std::fs::write(out.join("sigmamind.json"), json).expect("write the spec as JSON to OUT_DIR");

    // Typed httpmock helpers only when asked for (feature `httpmock`).
    if std::env::var_os("CARGO_FEATURE_HTTPMOCK").is_some() {
        let mocks = sigmamind_codegen::Spec::load(spec)
            .and_then(|spec| sigmamind_codegen::generate_httpmock(&spec, "crate"));
        match mocks {
            Ok(source) => {
                std::fs::write(out.join("sigmamind_httpmock.rs"), source).expect("write httpmock helpers")
            }
            Err(error) => println!("cargo::error=cannot generate the httpmock helpers: {error}"),
        }
    }
}
