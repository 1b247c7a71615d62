//! xtask finds what cargo built wherever `CARGO_TARGET_DIR` puts it (a
//! global target directory is common): the benchmarks' scratch directories,
//! `cargo package`'s tarballs and release builds are looked for there, not
//! under `target/`.
//!
//! One test in its own binary: it changes the process's environment.

use xtask::workspace::{target_dir, Workspace};

#[test]
fn the_target_directory_is_where_cargo_builds() {
    let ws = Workspace::find();
    std::env::remove_var("CARGO_TARGET_DIR");
    let default = target_dir(&ws.root).unwrap();
    // Without the variable: the workspace's own (or the machine's
    // build.target-dir).
    assert!(default.is_absolute(), "{}", default.display());
    assert_eq!(
        xtask::bench::scratch(&ws, "target-dir-test").unwrap(),
        default.join("target-dir-test")
    );
    std::fs::remove_dir_all(default.join("target-dir-test")).unwrap();

    let elsewhere = tempfile::tempdir().unwrap();
    std::env::set_var("CARGO_TARGET_DIR", elsewhere.path());
    // Packaging needs no network (the lock file is the workspace's).
    std::env::set_var("CARGO_NET_OFFLINE", "true");
    let set = ws.target_dir();
    // Every bench command's scratch directory (bench-build copies the
    // workspace into one) is where the variable says.
    let scratch = xtask::bench::scratch(&ws, "bench-build");
    // The step that failed for anyone with the variable set: bench-build's
    // `cargo package`, whose tarballs were looked for under `target/`.
    let downstream = elsewhere.path().join("downstream");
    let packaged = xtask::bench::downstream_of_package(&ws.root, &downstream);
    std::env::remove_var("CARGO_TARGET_DIR");
    std::env::remove_var("CARGO_NET_OFFLINE");

    assert_eq!(set.unwrap(), elsewhere.path());
    assert_ne!(default, elsewhere.path());
    assert_eq!(scratch.unwrap(), elsewhere.path().join("bench-build"));
    assert_eq!(packaged.unwrap(), downstream);
    for krate in ["sigmamind-0.1.0", "sigmamind-codegen-0.1.0"] {
        assert!(
            elsewhere
                .path()
                .join("package")
                .join(format!("{krate}.crate"))
                .is_file(),
            "{krate}.crate is not where cargo builds"
        );
        assert!(downstream
            .join("unpacked")
            .join(krate)
            .join("Cargo.toml")
            .is_file());
    }
    assert!(downstream.join("Cargo.toml").is_file());
}
