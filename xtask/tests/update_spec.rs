//! `cargo xtask update-spec` end to end, on a copy of this workspace: a
//! vendor release with a new operation regenerates a client that has it and
//! builds, and no hand-written file changes.

use std::path::{Path, PathBuf};
use std::process::Command;

mod support;

fn run(dir: &Path, program: &str, args: &[&str]) -> std::process::Output {
    let out = Command::new(program)
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A copy of this workspace at `to`, committed in a git repository of its
/// own (so changes show in `git status`); returns the target dir to use.
fn copy_workspace(to: &Path) -> PathBuf {
    std::fs::create_dir_all(to).unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    xtask::bench::copy_workspace(root, to).unwrap();
    let identity = ["-c", "user.name=t", "-c", "user.email=t@t"];
    for args in [
        &["init", "-q"][..],
        &["add", "-A"],
        &[&identity[..], &["commit", "-qm", "copy"]].concat(),
    ] {
        run(to, "git", args);
    }
    root.join("target/xtask-e2e")
}

#[test]
fn a_vendor_release_regenerates_the_client_and_touches_no_hand_written_file() {
    // A fixed place, so that reruns reuse the compiled crate.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/xtask-e2e-workspace");
    let _ = std::fs::remove_dir_all(&dir);
    // A separate target dir: the outer `cargo test` holds the lock on its own.
    let target = copy_workspace(&dir);

    // FIXTURES: our spec as a docs platform would publish it, then a next
    // release on top of that (see tests/support).
    let export = support::platform_export(&support::vendor());
    let next = support::next_release(&export);
    let write = |name: &str, value: &serde_json::Value| {
        std::fs::write(dir.join(name), serde_json::to_string_pretty(value).unwrap()).unwrap();
    };
    write("export.json", &export);
    write("next.json", &next);
    let xtask = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
            .current_dir(&dir)
            .env("CARGO_TARGET_DIR", &target)
            .args(args)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    };
    xtask(&["update-spec", "export.json", "--no-build"]);
    let stdout = xtask(&["update-spec", "next.json"]);
    assert!(stdout.contains("new operation `get_call`"), "{stdout}");
    assert!(stdout.contains("minor bump"), "{stdout}");
    assert!(stdout.contains("the generated surface changed"), "{stdout}");

    let status = run(&dir, "git", &["status", "--porcelain", "--untracked-files=all"]);
    let mut changed: Vec<String> = String::from_utf8_lossy(&status.stdout)
        .lines()
        .map(|l| l[3..].to_owned())
        .collect();
    changed.sort();
    // Only the spec's files (and the inputs); `.snap.new` files are
    // git-ignored on purpose and checked below.
    assert_eq!(
        changed,
        [
            "export.json",
            "next.json",
            "openapi/CHANGELOG.md",
            "openapi/rust-names.toml",
            "openapi/sigmamind.json",
            "openapi/vendor.yaml"
        ]
    );
    let surface =
        std::fs::read_to_string(dir.join("tests/snapshots/generated_surface__surface.snap.new")).unwrap();
    for line in [
        "GET /v1/calls/{callId}  ->  Client::get_call()",
        "  .send() -> Result<ResponseValue<types::Call>, crate::Error>",
        "  sentiment: Option<CallSentiment>",
        "enum GetCallErrorBody",
    ] {
        assert!(surface.contains(line), "no `{line}` in {surface}");
    }
    let changelog = std::fs::read_to_string(dir.join("openapi/CHANGELOG.md")).unwrap();
    assert!(changelog.contains("## 0.2.0 ("), "{changelog}");
    assert!(
        changelog
            .contains("- compatible: `GET /v1/calls/{callId}` [operation-added]: new operation `get_call`"),
        "{changelog}"
    );

    // update-spec compiled the regenerated crate, hand-written layer
    // untouched, before comparing snapshots; it fails if that does not build.
    let _ = std::fs::remove_dir_all(&dir);
}
