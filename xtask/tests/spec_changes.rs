//! Spec pairs and how `cargo xtask diff` classifies them.

use std::process::Command;

use serde_json::{json, Value};
use sigmamind_codegen::intake;
use sigmamind_codegen::{generate_file, surface, Spec};
use xtask::diff::{diff, Bump, Level};

mod support;

use support::{changed, shipped};

/// (kind, location, message) of each change.
fn changes(old: &Value, new: &Value) -> Vec<(Level, String, String)> {
    diff(old, new)
        .changes
        .into_iter()
        .map(|c| (c.level, c.location, c.message))
        .collect()
}

fn one(old: &Value, new: &Value) -> (Level, String, String) {
    let all = changes(old, new);
    assert_eq!(all.len(), 1, "{all:#?}");
    all.into_iter().next().unwrap()
}

const CALL: &str = "/components/schemas/Call/properties";
const REQUEST: &str = "/components/schemas/CreateCallRequest";

#[test]
fn identical_specs_need_no_bump() {
    let report = diff(&shipped(), &shipped());
    assert_eq!(report.semver, Bump::None);
    assert!(report.changes.is_empty());
}

#[test]
fn text_only_changes_are_a_patch() {
    let new = changed(|s| s["info"]["description"] = json!("Reworded."));
    let report = diff(&shipped(), &new);
    assert_eq!(report.semver, Bump::Patch);
    assert_eq!(report.changes[0].level, Level::Docs);
}

#[test]
fn new_optional_request_field_is_compatible() {
    let new = changed(|s| {
        s.pointer_mut(&format!("{REQUEST}/properties")).unwrap()["language"] =
            json!({"type": "string", "description": "Spoken language."})
    });
    assert_eq!(
        one(&shipped(), &new),
        (
            Level::Compatible,
            "POST /v1/calls request.language".into(),
            "new optional request field (structs are non-exhaustive: builders need no change)".into()
        )
    );
    assert_eq!(diff(&shipped(), &new).semver, Bump::Minor);
}

#[test]
fn new_required_request_field_is_breaking() {
    let new = changed(|s| {
        s.pointer_mut(&format!("{REQUEST}/properties")).unwrap()["language"] =
            json!({"type": "string", "description": "Spoken language."});
        s.pointer_mut(&format!("{REQUEST}/required"))
            .unwrap()
            .as_array_mut()
            .unwrap()
            .push(json!("language"));
    });
    assert_eq!(
        one(&shipped(), &new),
        (
            Level::Breaking,
            "POST /v1/calls request.language".into(),
            "new required request field (every request must now set it)".into()
        )
    );
    assert_eq!(diff(&shipped(), &new).semver, Bump::Major);
}

#[test]
fn new_response_enum_value_is_a_warning() {
    let new = changed(|s| {
        s.pointer_mut("/components/schemas/CallStatus/enum")
            .unwrap()
            .as_array_mut()
            .unwrap()
            .push(json!("queued"))
    });
    let (kind, location, message) = one(&shipped(), &new);
    assert_eq!(
        (kind, location.as_str()),
        (Level::Warning, "POST /v1/calls response 201.status")
    );
    assert!(
        message.contains("it came back as `Unknown(..)` and now comes back as a new variant")
            && message.contains("queued"),
        "{message}"
    );
}

#[test]
fn removed_response_field_is_breaking() {
    let new = changed(|s| {
        s.pointer_mut(CALL)
            .unwrap()
            .as_object_mut()
            .unwrap()
            .remove("transcript");
    });
    assert_eq!(
        one(&shipped(), &new),
        (
            Level::Breaking,
            "POST /v1/calls response 201.transcript".into(),
            "response field removed".into()
        )
    );
}

#[test]
fn new_response_field_is_compatible() {
    let new = changed(|s| {
        s.pointer_mut(CALL).unwrap()["sentiment"] = json!({"type": "number", "description": "Score."})
    });
    assert_eq!(one(&shipped(), &new).0, Level::Compatible);
}

#[test]
fn narrowed_type_is_breaking() {
    // duration: int32 -> string
    let new = changed(|s| {
        s.pointer_mut(CALL).unwrap()["duration"] =
            json!({"type": "string", "nullable": true, "description": "d"})
    });
    assert_eq!(
        one(&shipped(), &new),
        (
            Level::Breaking,
            "POST /v1/calls response 201.duration".into(),
            "type changed from integer (int32) to string: its Rust type changes (`i32` becomes `String`), \
             so code that reads or builds it stops compiling"
                .into()
        )
    );
}

#[test]
fn removed_request_enum_value_is_breaking() {
    let with_priority = |values: Value| {
        changed(|s| {
            s.pointer_mut(&format!("{REQUEST}/properties")).unwrap()["priority"] =
                json!({"type": "string", "enum": values, "description": "Dialling priority."})
        })
    };
    let old = with_priority(json!(["low", "high"]));
    let new = with_priority(json!(["low"]));
    let (kind, location, message) = one(&old, &new);
    assert_eq!(
        (kind, location.as_str()),
        (Level::Breaking, "POST /v1/calls request.priority")
    );
    assert!(
        message.contains("requests using it are refused") && message.contains("high"),
        "{message}"
    );
}

#[test]
fn tightened_and_loosened_request_limits() {
    let agent_max = |n: u64| changed(|s| s["components"]["schemas"]["AgentId"]["maxLength"] = json!(n));
    assert_eq!(one(&shipped(), &agent_max(32)).0, Level::Breaking);
    assert_eq!(one(&shipped(), &agent_max(128)).0, Level::Compatible);
    // A changed pattern cannot be proven looser: compiles, refuses differently.
    let pattern =
        changed(|s| s["components"]["schemas"]["E164PhoneNumber"]["pattern"] = json!(r"^\+1[0-9]{10}$"));
    let all = changes(&shipped(), &pattern);
    assert!(
        all.iter()
            .all(|c| c.0 == Level::Warning && c.2.starts_with("pattern changed")),
        "{all:#?}"
    );
}

#[test]
fn new_operation_is_compatible() {
    let new = changed(|s| {
        s["paths"]["/v1/calls/{callId}"] = json!({"get": {
            "operationId": "get_call",
            "parameters": [{"name": "callId", "in": "path", "required": true, "schema": {"type": "string"}}],
            "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Call"}}}}}
        }})
    });
    assert_eq!(
        one(&shipped(), &new),
        (
            Level::Compatible,
            "GET /v1/calls/{callId}".into(),
            "new operation `get_call`".into()
        )
    );
}

#[test]
fn removed_operation_changed_success_code_and_security() {
    let removed = changed(|s| s["paths"] = json!({}));
    let all = changes(&shipped(), &removed);
    assert!(
        all.contains(&(
            Level::Breaking,
            "POST /v1/calls".into(),
            "operation removed (its client method is gone)".into()
        )),
        "{all:#?}"
    );
    // What follows from it (types no longer open, no error-body enum) is
    // breaking too, and listed.
    assert!(all.iter().all(|c| c.0 == Level::Breaking), "{all:#?}");

    let code = changed(|s| {
        let responses = s
            .pointer_mut("/paths/~1v1~1calls/post/responses")
            .unwrap()
            .as_object_mut()
            .unwrap();
        let created = responses.remove("201").unwrap();
        responses.insert("200".into(), created);
    });
    // Any 2xx is the operation's success: a warning, not a break.
    let (level, location, message) = one(&shipped(), &code);
    assert_eq!((level, location.as_str()), (Level::Warning, "POST /v1/calls"));
    assert!(
        message.starts_with("success status changed from 201 to 200: every 2xx is a success"),
        "{message}"
    );

    let security = changed(|s| s["paths"]["/v1/calls"]["post"]["security"] = json!([]));
    assert_eq!(one(&shipped(), &security).2, "security requirements changed");
}

/// The shipped spec rewritten the way a 3.1 vendor would write it.
fn as_openapi_31(value: &Value) -> Value {
    fn schema(v: &mut Value) {
        let Some(map) = v.as_object_mut() else { return };
        if map.remove("nullable") == Some(Value::Bool(true)) {
            if let Some(t) = map.get("type").cloned() {
                map.insert("type".into(), json!([t, "null"]));
            } else if let Some(Value::Array(all)) = map.remove("allOf") {
                map.insert("anyOf".into(), json!([all[0], {"type": "null"}]));
            }
        }
        if let Some(Value::Array(all)) = map.get("allOf").cloned() {
            if all.len() == 1 && all[0].get("$ref").is_some() {
                map.remove("allOf");
                map.insert("$ref".into(), all[0]["$ref"].clone());
            }
        }
        if let Some(example) = map.remove("example") {
            map.insert("examples".into(), json!([example]));
        }
        for (_, child) in map.iter_mut() {
            match child {
                Value::Object(props) => props.values_mut().for_each(schema),
                Value::Array(items) => items.iter_mut().for_each(schema),
                _ => {}
            }
        }
        for key in ["items", "additionalProperties"] {
            if let Some(child) = map.get_mut(key) {
                schema(child);
            }
        }
    }
    let mut doc = value.clone();
    doc["openapi"] = json!("3.1.0");
    for s in doc["components"]["schemas"].as_object_mut().unwrap().values_mut() {
        schema(s);
    }
    doc
}

#[test]
fn an_openapi_31_copy_generates_the_same_surface() {
    let original = Spec::from_value("sigmamind.json", shipped()).unwrap();
    let v31 = as_openapi_31(&original.document);
    assert!(
        v31.to_string().contains(r#"["string","null"]"#),
        "the copy really uses 3.1 forms"
    );
    let taken = intake::run(&v31, None, &support::book(), true).unwrap();
    assert_eq!(taken.notes[0], "converted OpenAPI 3.1.0 to 3.0.3");
    let converted = Spec::from_value("vendor-3.1.json", taken.document).unwrap();
    let render = |spec: &Spec| {
        surface::render(
            spec,
            &generate_file(spec, &xtask::generator_options::sigmamind_options()).unwrap(),
        )
    };
    assert_eq!(render(&converted), render(&original));
    assert_eq!(
        diff(&original.document, &converted.document)
            .changes
            .iter()
            .filter(|c| c.level != Level::Docs)
            .count(),
        0
    );
}

fn xtask(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn diff_exits_non_zero_on_breaking_changes_unless_allowed() {
    let dir = std::env::temp_dir().join(format!("xtask-diff-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, v: &Value| {
        let path = dir.join(name);
        std::fs::write(&path, serde_json::to_string(v).unwrap()).unwrap();
        path.to_string_lossy().into_owned()
    };
    let old = write("old.json", &shipped());
    let breaking = write("breaking.json", &changed(|s| s["paths"] = json!({})));
    let compatible = write(
        "compatible.json",
        &changed(|s| {
            s.pointer_mut(CALL).unwrap()["sentiment"] = json!({"type": "number", "description": "d"})
        }),
    );

    let out = xtask(&["diff", "--standalone", &old, &breaking]);
    assert_eq!(out.status.code(), Some(1));
    let markdown = String::from_utf8_lossy(&out.stdout);
    assert!(
        markdown.contains("### Breaking") && markdown.contains("operation removed"),
        "{markdown}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("--allow-breaking"));

    assert_eq!(
        xtask(&["diff", "--standalone", &old, &breaking, "--allow-breaking"])
            .status
            .code(),
        Some(0)
    );

    let out = xtask(&["diff", "--standalone", &old, &compatible, "--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["semver"], "minor");
    assert_eq!(report["changes"][0]["level"], "compatible");
    assert_eq!(report["changes"][0]["rule"], "response-property-added");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn help_is_there_for_every_command() {
    for args in [
        &["--help"][..],
        &["-h"],
        &["help"],
        &["update-spec", "--help"],
        &["diff", "--help"],
        &["check", "--help"],
        &["generate", "--help"],
        &["drift", "--help"],
        &["bench-build", "--help"],
        &["bench-scale", "--help"],
        &["help", "diff"],
    ] {
        let out = xtask(args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("Usage:"),
            "{args:?}"
        );
    }
    // A file named like a format value is still a file (it used to vanish).
    let dir = std::env::temp_dir().join(format!("xtask-json-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("json"), serde_json::to_string(&shipped()).unwrap()).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .current_dir(&dir)
        .args(["diff", "--standalone", "json", "json", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["semver"], "none");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn diff_compares_documents_the_generator_cannot_generate_and_names_those_operations() {
    let dir = std::env::temp_dir().join(format!("xtask-blocked-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let old = shipped();
    // Two success statuses with different bodies: progenitor cannot generate it.
    let mut new = shipped();
    new["paths"]["/v1/calls"]["post"]["responses"]["200"] = json!({
        "description": "Already placed", "content": {"application/json": {"schema": {"type": "string"}}}
    });
    new.pointer_mut(CALL).unwrap()["sentiment"] = json!({"type": "number", "description": "d"});
    std::fs::write(dir.join("old.json"), old.to_string()).unwrap();
    std::fs::write(dir.join("new.json"), new.to_string()).unwrap();
    let out = xtask(&[
        "diff",
        "--standalone",
        dir.join("old.json").to_str().unwrap(),
        dir.join("new.json").to_str().unwrap(),
        "--allow-breaking",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("new response field"),
        "the rest is classified: {stdout}"
    );
    assert!(
        stdout.contains("### Operations the generator cannot generate as written")
            && stdout.contains("- POST /v1/calls: its success responses have 2 different body schemas"),
        "{stdout}"
    );
    std::fs::remove_dir_all(&dir).ok();
}
