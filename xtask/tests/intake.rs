//! Taking in the vendor's document as published: a platform export of our
//! own spec changes nothing for users, and the next release keeps every name.

mod support;

use std::path::Path;

use sigmamind_codegen::{generate_file, surface, Spec};
use support::{next_release, platform_export, scratch, take_in, vendor, workspace_root};
use xtask::commands::check;
use xtask::diff::Bump;
use xtask::workspace::{EFFECTIVE, NAMES, VENDOR};

fn surface_of(path: &Path) -> String {
    let spec = Spec::load(path).unwrap();
    let file = generate_file(&spec, &xtask::generator_options::sigmamind_options()).unwrap();
    surface::render(&spec, &file)
}

/// The surface listing without its title line (`# SigmaMind API 0.1.0`).
fn without_title(surface: &str) -> String {
    surface.lines().skip(1).collect::<Vec<_>>().join("\n")
}

/// The reviewed surface snapshot, without insta's header.
fn reviewed_surface() -> String {
    let snap =
        std::fs::read_to_string(workspace_root().join("tests/snapshots/generated_surface__surface.snap"))
            .unwrap();
    snap.splitn(3, "---\n").nth(2).unwrap().to_owned()
}

#[test]
fn a_platform_export_of_our_spec_changes_nothing_for_users() {
    let ws = scratch("export");
    let export = platform_export(&vendor());
    let text = export.to_string();
    assert!(text.contains(r#""openapi":"3.1.0""#) && text.contains(r#"["string","null"]"#));
    assert!(
        !text.contains("operationId") && !text.contains("\"x-"),
        "published as a platform would"
    );
    assert!(
        !text.contains("#/components/schemas/Agent\""),
        "components written inline"
    );

    let report = take_in(&ws, &export).expect("taken in without --allow-breaking");
    assert!(!report.is_breaking(), "{}", report.markdown());

    let before = reviewed_surface();
    let after = surface_of(&ws.path(EFFECTIVE));
    assert_eq!(without_title(&after), without_title(&before));
    // Every place kept its recorded name: the name book did not move.
    assert_eq!(
        ws.read(NAMES).unwrap(),
        std::fs::read_to_string(workspace_root().join(NAMES)).unwrap()
    );
    // The document is stored as published: YAML with the same content.
    let stored = sigmamind_codegen::spec::parse_text(&ws.read(VENDOR).unwrap()).unwrap();
    assert_eq!(stored, export);
    // And it is exactly vendor + overlay, as `check` proves.
    check::effective_is_vendor_plus_ours(&ws).unwrap();
    let _ = std::fs::remove_dir_all(&ws.root);
}

#[test]
fn the_next_release_adds_without_renaming_anything() {
    let ws = scratch("next");
    let export = platform_export(&vendor());
    take_in(&ws, &export).unwrap();
    let before = surface_of(&ws.path(EFFECTIVE));

    let report = take_in(&ws, &next_release(&export)).expect("compatible: no --allow-breaking needed");
    assert_eq!(report.semver, Bump::Minor, "{}", report.markdown());
    let after = surface_of(&ws.path(EFFECTIVE));

    // Every existing line (each type, field and variant with its Rust name) is still there.
    for line in without_title(&before).lines() {
        assert!(after.lines().any(|l| l == line), "`{line}` moved:\n{after}");
    }
    for new in [
        "GET /v1/calls/{callId}  ->  Client::get_call()",
        "  param callId in path (required)",
        "  .send() -> Result<ResponseValue<types::Call>, crate::Error>",
        "  sentiment: Option<CallSentiment>",
        "enum CallSentiment (open: unknown values kept)",
        "  negative  (Negative)",
        "enum GetCallErrorBody",
        "  Status401(GetCallError401)  (Status401)",
        "  Status404(NotFound)  (Status404)",
    ] {
        assert!(after.lines().any(|l| l == new), "no `{new}` in:\n{after}");
    }
    let book = ws.read(NAMES).unwrap();
    assert!(
        book.contains(r#""GET /v1/calls/{callId}" = "get_call""#),
        "{book}"
    );
    assert!(
        book.contains(r#""GET /v1/calls/{callId} 200" = "Call""#),
        "{book}"
    );
    let _ = std::fs::remove_dir_all(&ws.root);
}

#[test]
fn check_refuses_an_effective_spec_edited_by_hand() {
    let ws = scratch("hand-edit");
    check::effective_is_vendor_plus_ours(&ws).unwrap();
    let edited = ws
        .read(EFFECTIVE)
        .unwrap()
        .replacen("\"ended\",", "\"ended\", \"paused\",", 1);
    ws.write(EFFECTIVE, &edited).unwrap();
    let err = check::effective_is_vendor_plus_ours(&ws).unwrap_err();
    assert!(
        err.starts_with("openapi/sigmamind.json differs from openapi/vendor.yaml + openapi/overlay.yaml"),
        "{err}"
    );

    let ws = scratch("hand-names");
    let names = ws.read(NAMES).unwrap().replace("\"CallStatus\"", "\"CallState\"");
    ws.write(NAMES, &names).unwrap();
    let err = check::effective_is_vendor_plus_ours(&ws).unwrap_err();
    assert!(
        err.contains("differs from"),
        "a renamed book entry renames the type: {err}"
    );
}
