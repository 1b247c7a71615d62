//! From a client's drift summary to a named variant: `cargo xtask drift`,
//! then `update-spec`, reviewed in the surface.

mod support;

use xtask::commands::{drift, update_spec};
use xtask::flags::{Drift, UpdateSpec};
use xtask::workspace::{Workspace, EFFECTIVE, OVERLAY};

fn scratch(name: &str) -> Workspace {
    let dir = std::env::temp_dir().join(format!("sigmamind-drift-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("openapi")).unwrap();
    for entry in std::fs::read_dir(support::workspace_root().join("openapi")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.join("openapi").join(entry.file_name())).unwrap();
    }
    Workspace::at(dir)
}

fn surface(ws: &Workspace) -> String {
    let spec = sigmamind_codegen::Spec::load(ws.path(EFFECTIVE)).unwrap();
    let options = xtask::generator_options::sigmamind_options();
    let file = sigmamind_codegen::generate_file(&spec, &options).unwrap();
    sigmamind_codegen::surface::render(&spec, &file)
}

#[test]
fn a_drift_summary_becomes_named_variants_and_fields_after_review() {
    let ws = scratch("summary");
    // FIXTURE: what `serde_json::to_string(&client.drift())` gives after a
    // newer server answered.
    let summary = serde_json::json!({
        "entries": [
            {"operation": "create_call", "path": "status", "kind": "enum_value", "value": "voicemail", "count": 3, "first_seen": "2026-11-25T10:00:00.000Z"},
            {"operation": "create_call", "path": "", "kind": "field", "value": "sentiment", "json_type": "string", "count": 3, "first_seen": "2026-11-25T10:00:00.000Z"},
            {"operation": "create_call", "path": "campaign.agent", "kind": "field", "value": "voiceId", "json_type": "string", "count": 1, "first_seen": "2026-11-25T10:00:00.000Z"}
        ],
        "overflow": 0
    });
    let file = ws.path("drift.json");
    std::fs::write(&file, summary.to_string()).unwrap();
    drift::run(
        &ws,
        &Drift {
            input: file,
            write: true,
        },
    )
    .unwrap();
    let overlay = ws.read(OVERLAY).unwrap();
    assert!(
        overlay.contains("target: $.components.schemas['CallStatus']"),
        "{overlay}"
    );
    assert!(
        overlay.contains("target: $.components.schemas['Agent']"),
        "{overlay}"
    );

    let report = update_spec::take_in(
        &ws,
        &UpdateSpec {
            file: None,
            allow_breaking: false,
            no_build: true,
        },
    )
    .unwrap();
    assert!(!report.is_breaking(), "{}", report.markdown());
    let surface = surface(&ws);
    let status = surface
        .split("enum CallStatus")
        .nth(1)
        .unwrap()
        .split("\n\n")
        .next()
        .unwrap();
    assert!(status.contains("  voicemail  (Voicemail)"), "{status}");
    assert!(surface.contains("  sentiment: Option<String>"), "{surface}");
    let agent = surface
        .split("struct Agent\n")
        .nth(1)
        .unwrap()
        .split("\n\n")
        .next()
        .unwrap();
    assert!(agent.contains("  voiceId (.voice_id): Option<String>"), "{agent}");
    let _ = std::fs::remove_dir_all(&ws.root);
}

#[test]
fn recorded_bodies_give_the_same_proposal() {
    let ws = scratch("bodies");
    let dir = ws.path("bodies/create_call");
    std::fs::create_dir_all(&dir).unwrap();
    // FIXTURE: a recorded body of a newer server.
    std::fs::write(
        dir.join("1.json"),
        serde_json::json!({"callId": "c", "status": "voicemail", "sentiment": "positive"}).to_string(),
    )
    .unwrap();
    let seen = xtask::drift::read(&ws.path("bodies"), &ws.read(EFFECTIVE).unwrap()).unwrap();
    let names: Vec<(&str, bool, &str)> = seen
        .iter()
        .map(|s| (s.path.as_str(), s.enum_value, s.value.as_str()))
        .collect();
    assert_eq!(
        names,
        vec![("", false, "sentiment"), ("status", true, "voicemail")]
    );
    let _ = std::fs::remove_dir_all(&ws.root);
}
