//! Where things are in the workspace, and reading the spec's sources.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use sigmamind_codegen::intake::{self, Intake, NameBook};
use sigmamind_codegen::spec::parse_text;

/// The vendor's document, as published (replaced by each update).
pub const VENDOR: &str = "openapi/vendor.yaml";
/// Our corrections and pins (OpenAPI Overlay 1.0); survives every update.
pub const OVERLAY: &str = "openapi/overlay.yaml";
/// The name book (written by `update-spec`).
pub const NAMES: &str = "openapi/rust-names.toml";
/// The effective spec `build.rs` reads (written by `update-spec`).
pub const EFFECTIVE: &str = "openapi/sigmamind.json";
/// What each update changed for users.
pub const CHANGELOG: &str = "openapi/CHANGELOG.md";
/// Breaking changes the maintainers accepted, by rule id and location.
pub const ACCEPTED_BREAKS: &str = "openapi/accepted-breaks.toml";

/// A checkout of the workspace.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// Its root directory.
    pub root: PathBuf,
}

/// The inputs of the intake: the vendor's document, our overlay, the names.
#[derive(Debug, Clone)]
pub struct Sources {
    /// The vendor's document as JSON.
    pub vendor: Value,
    /// Our overlay as JSON, if there is one.
    pub overlay: Option<Value>,
    /// The name book.
    pub names: NameBook,
}

impl Sources {
    /// The effective spec these sources make (strict: as the crate needs it).
    pub fn intake(&self) -> Result<Intake, String> {
        intake::run(&self.vendor, self.overlay.as_ref(), &self.names, true)
            .map_err(|e| format!("{VENDOR} with {OVERLAY}: {e}"))
    }
}

impl Workspace {
    /// The current directory if it holds the spec (so the commands work on
    /// any checkout, such as a test's copy), else the one xtask was built in.
    pub fn find() -> Self {
        let here = std::env::current_dir().unwrap_or_default();
        if here.join(VENDOR).exists() {
            return Self::at(here);
        }
        Self::at(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .parent()
                .expect("xtask lives in the workspace"),
        )
    }

    /// The workspace at `root`.
    pub fn at(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// A path below the root.
    pub fn path(&self, relative: &str) -> PathBuf {
        self.root.join(relative)
    }

    /// Reads a file below the root.
    pub fn read(&self, relative: &str) -> Result<String, String> {
        std::fs::read_to_string(self.path(relative)).map_err(|e| format!("cannot read {relative}: {e}"))
    }

    /// Writes a file below the root.
    pub fn write(&self, relative: &str, text: &str) -> Result<(), String> {
        std::fs::write(self.path(relative), text).map_err(|e| format!("cannot write {relative}: {e}"))
    }

    /// The intake's inputs as they are in the working tree.
    pub fn sources(&self) -> Result<Sources, String> {
        let vendor = parse_text(&self.read(VENDOR)?).map_err(|e| format!("{VENDOR}: {e}"))?;
        Ok(Sources {
            vendor,
            overlay: self.overlay()?,
            names: self.names()?,
        })
    }

    /// Our overlay, if the file exists.
    pub fn overlay(&self) -> Result<Option<Value>, String> {
        if !self.path(OVERLAY).exists() {
            return Ok(None);
        }
        parse_text(&self.read(OVERLAY)?)
            .map(Some)
            .map_err(|e| format!("{OVERLAY}: {e}"))
    }

    /// The name book (empty when the file does not exist yet).
    pub fn names(&self) -> Result<NameBook, String> {
        if !self.path(NAMES).exists() {
            return Ok(NameBook::default());
        }
        NameBook::parse(&self.read(NAMES)?).map_err(|e| format!("{NAMES}: {e}"))
    }

    /// The accepted breaking changes (none when the file does not exist).
    pub fn accepted_breaks(&self) -> Result<crate::diff::AcceptedBreaks, String> {
        if !self.path(ACCEPTED_BREAKS).exists() {
            return Ok(Default::default());
        }
        crate::diff::AcceptedBreaks::parse(&self.read(ACCEPTED_BREAKS)?)
            .map_err(|e| format!("{ACCEPTED_BREAKS}: {e}"))
    }

    /// The effective spec as committed at git `HEAD`.
    pub fn effective_at_head(&self) -> Result<Value, String> {
        let output = Command::new("git")
            .current_dir(&self.root)
            .args(["show", &format!("HEAD:{EFFECTIVE}")])
            .output()
            .map_err(|e| format!("cannot run git: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "git show HEAD:{EFFECTIVE} failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            ));
        }
        parse_text(&String::from_utf8_lossy(&output.stdout)).map_err(|e| format!("HEAD:{EFFECTIVE}: {e}"))
    }

    /// Where cargo builds this workspace: `CARGO_TARGET_DIR`, a
    /// `build.target-dir` setting or `target/`, as cargo itself says
    /// (`cargo metadata`), so that every command finds what it built
    /// wherever that is.
    pub fn target_dir(&self) -> Result<PathBuf, String> {
        target_dir(&self.root)
    }

    /// `cargo`, run in the workspace.
    pub fn cargo(&self) -> Command {
        let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        command.current_dir(&self.root);
        command
    }
}

/// The drift-snapshot tests, as `update-spec` and `check` run them.
pub const SNAPSHOT_TEST: [&str; 6] = [
    "test",
    "--quiet",
    "--package",
    "sigmamind",
    "--test",
    "generated_surface",
];

/// Where cargo builds the workspace at `root` (see [`Workspace::target_dir`]).
pub fn target_dir(root: &Path) -> Result<PathBuf, String> {
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(root)
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
        .output()
        .map_err(|e| format!("cannot run cargo metadata: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let metadata: Value = serde_json::from_slice(&out.stdout).map_err(|e| format!("cargo metadata: {e}"))?;
    metadata["target_directory"]
        .as_str()
        .map(PathBuf::from)
        .ok_or_else(|| "cargo metadata names no target directory".to_owned())
}

/// Reads a document a user names on the command line (YAML or JSON).
pub fn read_document(path: &Path) -> Result<(Value, String), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    let value = parse_text(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok((value, text))
}

/// The vendor's document as we store it: YAML text as published, or a JSON
/// document written as YAML with its content (and key order) unchanged.
pub fn vendor_yaml(text: &str) -> Result<String, String> {
    if !text.trim_start().starts_with('{') {
        return Ok(text.to_owned());
    }
    // YAML is a superset of JSON, and this parser keeps key order.
    let value: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
    serde_yaml_ng::to_string(&value).map_err(|e| e.to_string())
}
