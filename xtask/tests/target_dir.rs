//! xtask finds what cargo built wherever `CARGO_TARGET_DIR` puts it (a
//! global target directory is common): the benchmarks' `cargo package` and
//! release builds are looked for there, not under `target/`.
//!
//! One test in its own binary: it changes the process's environment.

use xtask::workspace::{target_dir, Workspace};

#[test]
fn the_target_directory_is_where_cargo_builds() {
    let ws = Workspace::find();
    std::env::remove_var("CARGO_TARGET_DIR");
    let default = target_dir(&ws.root).unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    std::env::set_var("CARGO_TARGET_DIR", elsewhere.path());
    let set = ws.target_dir().unwrap();
    std::env::remove_var("CARGO_TARGET_DIR");
    assert_eq!(set, elsewhere.path());
    assert_ne!(default, set);
    // Without the variable: the workspace's own (or the machine's
    // build.target-dir), never the directory the variable named.
    assert!(default.is_absolute(), "{}", default.display());
}
