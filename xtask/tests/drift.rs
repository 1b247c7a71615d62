//! From a client's drift summary to a named variant: `cargo xtask drift`,
//! then `update-spec`, reviewed in the surface.

mod support;

use xtask::commands::{drift, update_spec};
use xtask::drift::DriftKind;
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

/// `cargo xtask drift drift.json --write` on a drift summary.
fn propose(ws: &Workspace, summary: &serde_json::Value) {
    let file = ws.path("drift.json");
    std::fs::write(&file, summary.to_string()).unwrap();
    drift::run(
        ws,
        &Drift {
            input: file,
            write: true,
        },
    )
    .unwrap();
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
    propose(&ws, &summary);
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
    let names: Vec<(&str, DriftKind, &str)> = seen
        .iter()
        .map(|s| (s.path.as_str(), s.kind, s.value.as_str()))
        .collect();
    assert_eq!(
        names,
        vec![
            ("", DriftKind::Field, "sentiment"),
            ("status", DriftKind::EnumValue, "voicemail")
        ]
    );
    let _ = std::fs::remove_dir_all(&ws.root);
}

/// A mistyped field and an undocumented success status, as the SDK's
/// summary records them: `drift` proposes the corrections, `update-spec`
/// takes them in only with --allow-breaking (the widening changes a Rust
/// type, and the report calls it breaking), and the recorded bodies of a
/// live API that sends a number give the same finding.
#[test]
fn a_mistyped_field_and_another_success_status_become_corrections() {
    let ws = scratch("types");
    // FIXTURE: what the SDK recorded against a live API like the vendor's
    // List Phone Calls page (a bare number) and its earlier pages (200 OK).
    let summary = serde_json::json!({
        "entries": [
            {"operation": "create_call", "path": "", "kind": "status", "value": "200", "count": 5, "first_seen": "2026-11-25T10:00:00.000Z"},
            {"operation": "create_call", "path": "phoneNumber", "kind": "type", "value": "sipPhoneNumber", "json_type": "integer", "count": 5, "first_seen": "2026-11-25T10:00:00.000Z"},
            {"operation": "create_call", "path": "", "kind": "type", "value": "createdAt", "json_type": "string", "count": 1, "first_seen": "2026-11-25T10:00:00.000Z"}
        ],
        "overflow": 0
    });
    propose(&ws, &summary);

    let take = |allow_breaking: bool| {
        update_spec::take_in(
            &ws,
            &UpdateSpec {
                file: None,
                allow_breaking,
                no_build: true,
            },
        )
    };
    let refused = take(false).unwrap_err();
    assert!(refused.contains("breaking change"), "{refused}");
    let report = take(true).unwrap();
    let found: Vec<_> = report
        .changes
        .iter()
        .map(|c| (c.rule, c.level, c.location.as_str()))
        .collect();
    use xtask::diff::Level::{Breaking, Warning};
    assert!(
        found.contains(&("response-success-status-changed", Warning, "POST /v1/calls")),
        "{found:#?}"
    );
    let widening = report
        .changes
        .iter()
        .find(|c| {
            c.rule == "response-property-type-changed" && c.location.ends_with("phoneNumber.sipPhoneNumber")
        })
        .unwrap_or_else(|| panic!("{}", report.markdown()));
    assert_eq!(widening.level, Breaking);
    assert!(
        widening
            .message
            .contains("from string to one of string | integer"),
        "{}",
        widening.message
    );
    assert!(
        found.contains(&(
            "response-property-type-changed",
            Breaking,
            "POST /v1/calls response 201.createdAt"
        )),
        "a timestamp in another format: the format dropped, `DateTime<Utc>` becomes `String`: {found:#?}"
    );

    let effective: serde_json::Value = serde_json::from_str(&ws.read(EFFECTIVE).unwrap()).unwrap();
    let responses = &effective["paths"]["/v1/calls"]["post"]["responses"];
    assert!(responses["200"]["description"]
        .as_str()
        .unwrap()
        .starts_with("Seen in live responses"));
    let surface = surface(&ws);
    assert!(
        surface.contains("  createdAt (.created_at): Option<String>"),
        "{surface}"
    );
    assert!(
        surface.contains("  sipPhoneNumber (.sip_phone_number): Option<PhoneNumberSipPhoneNumber>"),
        "{surface}"
    );

    // Recorded bodies of that live API give the type finding too.
    let dir = ws.path("bodies/create_call");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("1.json"),
        serde_json::json!({"callId": "c", "phoneNumber": {"sipPhoneNumber": 14155552671u64}}).to_string(),
    )
    .unwrap();
    let original = std::fs::read_to_string(support::workspace_root().join(EFFECTIVE)).unwrap();
    let seen = xtask::drift::read(&ws.path("bodies"), &original).unwrap();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(
        (
            seen[0].path.as_str(),
            seen[0].kind,
            seen[0].value.as_str(),
            seen[0].json_type.as_deref()
        ),
        ("phoneNumber", DriftKind::Type, "sipPhoneNumber", Some("integer"))
    );
    let _ = std::fs::remove_dir_all(&ws.root);
}

/// What a real client writes, xtask reads: the summary of a client that met
/// a newer server (the local server told to answer as one), serialised as
/// a user would save it, comes back with every entry and kind.
#[tokio::test]
async fn a_real_clients_summary_is_read_whole() {
    let server = sigmamind_mock::MockServer::start().await;
    server.push_fault(sigmamind_mock::Fault::UnknownEnumValues);
    let client = server.client();
    client
        .create_call()
        .body(
            sigmamind::types::CreateCallRequest::builder()
                .from_phone_number("+14155552671")
                .to_phone_number("+14155552672"),
        )
        .send()
        .await
        .unwrap();
    let summary = client.drift();
    assert!(summary.entries.len() >= 2, "{summary:?}");
    let read = xtask::drift::from_summary(&serde_json::to_string(&summary).unwrap()).unwrap();
    let seen: Vec<(String, DriftKind, String)> =
        read.into_iter().map(|e| (e.path, e.kind, e.value)).collect();
    let written: Vec<(String, DriftKind, String)> = summary
        .entries
        .into_iter()
        .map(|e| (e.path, e.kind, e.value))
        .collect();
    assert_eq!(seen, written);
    assert!(seen.iter().any(|(_, kind, _)| *kind == DriftKind::EnumValue));
    assert!(seen.iter().any(|(_, kind, _)| *kind == DriftKind::Field));
}
