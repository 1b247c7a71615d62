//! The dialler's number-to-time-zone table is exactly what
//! `cargo xtask number-zones` generates from the vendored copy of
//! libphonenumber's map, byte for byte; a table edited by hand fails.

use xtask::commands::number_zones::{generate, vendored, TABLE};
use xtask::workspace::Workspace;

#[test]
fn the_table_is_generated_byte_for_byte() {
    let ws = Workspace::find();
    let (version, source) = vendored(&ws).unwrap();
    let committed = ws.read(TABLE).unwrap();
    assert_eq!(generate(&version, &source).unwrap(), committed);
    assert!(committed.contains("Apache License 2.0"));
    assert!(committed.contains(&format!("release {version},")));
    // The release the dialler says it carries is this one.
    let zones_rs = ws.read("crates/sigmamind-dialler/src/zones.rs").unwrap();
    assert!(
        zones_rs.contains(&format!("LIBPHONENUMBER_RELEASE: &str = \"{version}\"")),
        "zones.rs names another release than {version}"
    );
}

#[test]
fn the_check_fails_on_a_table_edited_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let real = Workspace::find();
    for file in [TABLE, "xtask/data/libphonenumber/tzdata-phonenumbers-9.0.33.py"] {
        let to = dir.path().join(file);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(real.path(file), &to).unwrap();
    }
    let ws = Workspace::at(dir.path());
    let check = xtask::flags::NumberZones {
        fetch: None,
        check: true,
    };
    xtask::commands::number_zones::run(&ws, &check).unwrap();
    let edited = ws
        .read(TABLE)
        .unwrap()
        .replace("1808|Pacific/Honolulu", "1808|America/New_York");
    ws.write(TABLE, &edited).unwrap();
    let error = xtask::commands::number_zones::run(&ws, &check).unwrap_err();
    assert!(error.contains("never edit it"), "{error}");
    // Regenerating mends it.
    let regenerate = xtask::flags::NumberZones {
        fetch: None,
        check: false,
    };
    xtask::commands::number_zones::run(&ws, &regenerate).unwrap();
    xtask::commands::number_zones::run(&ws, &check).unwrap();
}
