//! Tidy checks that keep the map true: ARCHITECTURE.md names only paths
//! that exist, and names every source file of the workspace's crates; the
//! READMEs and `docs/` name only paths that exist.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A backticked span that is a path: a name with a `/`, or with a file
/// extension; not a Rust path, a command or a placeholder.
fn is_path(token: &str) -> bool {
    let plain = token
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/'));
    let extension = [".rs", ".sql", ".toml", ".yaml", ".json", ".md"]
        .iter()
        .any(|e| token.ends_with(e));
    // `a/b` with no extension and no trailing slash is a MIME type or a
    // rate (`application/json`, `10/s`), not a path.
    let file_or_folder = extension || token.ends_with('/') || token.matches('/').count() > 1;
    plain && (token.contains('/') || extension) && file_or_folder && !token.starts_with('.')
        || token == ".ci/run"
}

/// Every path the document names, resolved: a path from the workspace
/// root, or a name relative to the folder of the path named before it
/// (`src/batch/` then `plan.rs`, `journal/` then `file.rs`).
fn named_paths(doc: &str, root: &Path) -> Result<BTreeSet<PathBuf>, Vec<String>> {
    let mut named = BTreeSet::new();
    let mut missing = Vec::new();
    let mut folder = PathBuf::new();
    let mut in_code_block = false;
    for line in doc.lines() {
        if line.trim_start().starts_with("```") {
            in_code_block = !in_code_block;
            continue;
        }
        if in_code_block {
            continue;
        }
        for (i, token) in line.split('`').enumerate() {
            if i % 2 == 0 || !is_path(token) {
                continue;
            }
            let rooted = root.join(token);
            let relative = root.join(&folder).join(token);
            let found = if rooted.exists() && (token.contains('/') || folder.as_os_str().is_empty()) {
                PathBuf::from(token)
            } else if relative.exists() {
                folder.join(token)
            } else if rooted.exists() {
                PathBuf::from(token)
            } else {
                missing.push(format!(
                    "`{token}` (looked in the root and in {})",
                    folder.display()
                ));
                continue;
            };
            folder = if token.ends_with('/') {
                found.clone()
            } else {
                found.parent().map(Path::to_path_buf).unwrap_or_default()
            };
            named.insert(found);
        }
    }
    if missing.is_empty() {
        Ok(named)
    } else {
        Err(missing)
    }
}

fn source_files(dir: &Path, root: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            source_files(&path, root, out);
        } else if matches!(path.extension().and_then(|e| e.to_str()), Some("rs" | "sql")) {
            out.push(path.strip_prefix(root).unwrap().to_path_buf());
        }
    }
}

#[test]
fn architecture_md_names_only_paths_that_exist_and_every_source_file() {
    let root = root().canonicalize().unwrap();
    let doc = std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap();
    let named = named_paths(&doc, &root).unwrap_or_else(|missing| {
        panic!(
            "ARCHITECTURE.md names paths that do not exist:\n{}",
            missing.join("\n")
        )
    });

    let mut sources = Vec::new();
    for crate_src in ["src", "codegen/src", "xtask/src", "build"] {
        source_files(&root.join(crate_src), &root, &mut sources);
    }
    for krate in std::fs::read_dir(root.join("crates")).unwrap() {
        source_files(&krate.unwrap().path().join("src"), &root, &mut sources);
    }
    let unnamed: Vec<String> = sources
        .iter()
        .filter(|file| !named.contains(*file))
        .map(|file| file.display().to_string())
        .collect();
    assert!(
        unnamed.is_empty(),
        "ARCHITECTURE.md's code map does not name these files (add each where it belongs):\n{}",
        unnamed.join("\n")
    );
}

#[test]
fn a_renamed_file_is_caught() {
    let root = root().canonicalize().unwrap();
    let missing = named_paths("the classifier: `src/fate.rs`; then `src/fates.rs`", &root).unwrap_err();
    assert_eq!(missing.len(), 1, "{missing:?}");
    assert!(missing[0].contains("src/fates.rs"), "{missing:?}");
    // A bare name is looked up in the folder of the path named before it.
    let named = named_paths(
        "`crates/sigmamind-dialler/src/`: `plan.rs`, `journal/`: `format.rs`",
        &root,
    )
    .unwrap();
    assert!(
        named.contains(Path::new("crates/sigmamind-dialler/src/journal/format.rs")),
        "{named:?}"
    );
    assert!(named_paths("`crates/sigmamind-dialler/src/`: `respond.rs`", &root).is_err());
}

/// Every guide a user or a maintainer reads names only paths that exist: a
/// crate's README from its crate's directory, the rest from the root.
#[test]
fn readmes_and_docs_name_only_paths_that_exist() {
    let root = root().canonicalize().unwrap();
    let mut docs = vec![(root.join("README.md"), root.clone())];
    for krate in std::fs::read_dir(root.join("crates")).unwrap() {
        let dir = krate.unwrap().path();
        if dir.join("README.md").exists() {
            docs.push((dir.join("README.md"), dir));
        }
    }
    for doc in std::fs::read_dir(root.join("docs")).unwrap() {
        docs.push((doc.unwrap().path(), root.clone()));
    }
    let mut problems = Vec::new();
    for (doc, base) in docs {
        let text = std::fs::read_to_string(&doc).unwrap();
        if let Err(missing) = named_paths(&text, &base) {
            problems.push(format!("{}: {}", doc.display(), missing.join(", ")));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// xtask finds cargo's output only through `Workspace::target_dir`
/// (`CARGO_TARGET_DIR`, `build.target-dir` or `target/`, as cargo says):
/// a path spelt `target/…` from the workspace's root breaks every command
/// for anyone whose builds go elsewhere (tests/target_dir.rs runs one).
#[test]
fn xtask_names_no_target_directory_of_its_own() {
    let mut files = Vec::new();
    source_files(&root().join("xtask/src"), &root(), &mut files);
    let mut found = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(root().join(&file)).unwrap();
        for (number, line) in text.lines().enumerate() {
            let spelt = line.contains("\"target/")
                || line.contains("root.join(\"target\")")
                || line.contains("root().join(\"target\")");
            if spelt {
                found.push(format!("{}:{}: {}", file.display(), number + 1, line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "use Workspace::target_dir:\n{}",
        found.join("\n")
    );
}
