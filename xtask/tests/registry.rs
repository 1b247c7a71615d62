//! The rule registry is complete: every rule names a test, that test exists
//! and mentions the rule's id, ids are unique, and the printed table lists every rule.

use xtask::diff::RULES;

fn test_source(file: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/{file}.rs"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The text of `fn name` in `source`, up to the next test.
fn body<'a>(source: &'a str, name: &str) -> Option<&'a str> {
    let start = source.find(&format!("fn {name}("))?;
    let rest = &source[start..];
    let end = rest[1..].find("\n#[test]").map_or(rest.len(), |i| i + 1);
    Some(&rest[..end])
}

#[test]
fn every_rule_has_a_test_that_names_it() {
    let mut missing = Vec::new();
    for rule in RULES {
        let (file, name) = rule.test.split_once("::").expect("file::function");
        match body(&test_source(file), name) {
            Some(text) if text.contains(&format!("\"{}\"", rule.id)) => {}
            Some(_) => missing.push(format!("{}: {} does not mention it", rule.id, rule.test)),
            None => missing.push(format!("{}: no test {}", rule.id, rule.test)),
        }
    }
    assert!(
        missing.is_empty(),
        "rules without a test:\n{}",
        missing.join("\n")
    );
}

#[test]
fn rule_ids_are_unique_and_the_printed_table_lists_every_one() {
    let mut ids: Vec<&str> = RULES.iter().map(|r| r.id).collect();
    ids.sort_unstable();
    let before = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), before, "duplicate rule ids");
    // What `cargo xtask diff --rules` prints: a row per rule.
    let table = xtask::diff::rules::markdown();
    for id in ids {
        assert!(table.contains(&format!("| `{id}` |")), "{id} is not in the table");
    }
    // The maintainers' guide sends readers to the command, and pastes no
    // copy of the table that could fall behind.
    let guide = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/maintaining.md"),
    )
    .unwrap();
    assert!(guide.contains("`cargo xtask diff --rules`"));
    assert!(
        !guide.contains(table.lines().next().unwrap()),
        "docs/maintaining.md pastes the table"
    );
}
