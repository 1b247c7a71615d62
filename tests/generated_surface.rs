//! Drift snapshots: the generated code and a readable listing of its surface.
//! A spec change that changes what users get fails here until the snapshot
//! diff is reviewed (`cargo insta review`).

#[path = "../build/generator_options.rs"]
mod generator_options;

use generator_options::sigmamind_options;
use sigmamind_codegen::{generate, generate_file, surface, Spec};

fn spec() -> Spec {
    Spec::load(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/sigmamind.json")).expect("the spec loads")
}

#[test]
fn surface_listing() {
    let spec = spec();
    let file = generate_file(&spec, &sigmamind_options()).expect("the spec generates");
    insta::assert_snapshot!("surface", surface::render(&spec, &file));
}

/// The change report lists each side's surface without generating what
/// the listing never reads (typify's struct builders): the same text.
#[test]
fn the_change_reports_listing_is_the_same_surface() {
    let spec = spec();
    let file = generate_file(&spec, &sigmamind_options()).expect("the spec generates");
    let listing = surface::listing(&spec, &sigmamind_options()).expect("the spec lists");
    assert_eq!(listing, surface::render(&spec, &file));
}

#[test]
fn generated_source() {
    insta::assert_snapshot!(
        "source",
        generate(&spec(), &sigmamind_options()).expect("the spec generates")
    );
}
