//! The version gate: a breaking spec change since the last release tag needs
//! the version Cargo's rules ask for.

mod support;

use std::process::Command;

use serde_json::Value;
use xtask::version_gate;
use xtask::workspace::{Workspace, EFFECTIVE};

fn git(dir: &std::path::Path, args: &[&str]) {
    let out = Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@t"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_breaking_change_since_the_release_needs_the_next_minor_version_on_0x() {
    let dir = std::env::temp_dir().join(format!("sigmamind-gate-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("openapi")).unwrap();
    let root = support::workspace_root();
    std::fs::write(
        dir.join("Cargo.toml"),
        "[package]\nname = \"sigmamind\"\nversion = \"0.1.0\"\n",
    )
    .unwrap();
    for file in ["openapi/sigmamind.json", "openapi/rust-names.toml"] {
        std::fs::copy(root.join(file), dir.join(file)).unwrap();
    }
    git(&dir, &["init", "-q", "-b", "main"]);
    git(&dir, &["add", "-A"]);
    git(&dir, &["commit", "-qm", "release"]);
    git(&dir, &["tag", "v0.1.0"]);
    let ws = Workspace::at(&dir);

    let unchanged = version_gate::check(&ws, &version_gate::base(&ws).unwrap()).unwrap();
    assert_eq!(unchanged.base, "v0.1.0");
    assert!(unchanged.passes());

    // FIXTURE: the vendor removes a response field (breaking).
    let mut spec: Value = serde_json::from_str(&ws.read(EFFECTIVE).unwrap()).unwrap();
    spec["components"]["schemas"]["Call"]["properties"]
        .as_object_mut()
        .unwrap()
        .remove("transcript");
    ws.write(EFFECTIVE, &sigmamind_codegen::intake::effective_text(&spec))
        .unwrap();
    let behind = version_gate::check(&ws, "v0.1.0").unwrap();
    assert!(!behind.passes());
    assert_eq!(behind.required.to_string(), "0.2.0");
    assert!(
        behind.report.summary().starts_with("1 breaking"),
        "{}",
        behind.report.summary()
    );

    // A patch bump is not enough; the minor bump is.
    for (version, passes) in [("0.1.1", false), ("0.2.0", true)] {
        ws.write(
            "Cargo.toml",
            &format!("[package]\nname = \"sigmamind\"\nversion = \"{version}\"\n"),
        )
        .unwrap();
        assert_eq!(
            version_gate::check(&ws, "v0.1.0").unwrap().passes(),
            passes,
            "{version}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
