//! `cargo xtask diff [OLD] NEW`: the change report, on any two OpenAPI 3.0 or
//! 3.1 documents. No rule runs the generator: documents progenitor cannot
//! generate from are compared all the same, and the operations it could not
//! generate are named. Our overlay is applied to both sides; on OLD, a
//! correction that matches nothing simply does not apply (the overlay was
//! written for today's document), on NEW it is a finding of the report.
//! `--rules` lists the rules.

use serde_json::Value;
use sigmamind_codegen::intake::{self, NameBook};
use sigmamind_codegen::spec::generation_blockers;
use sigmamind_codegen::Options;

use crate::diff::{diff, diff_with, Report};
use crate::flags::{Diff, Format};
use crate::workspace::{read_document, Workspace};

/// Runs the command.
pub fn run(ws: &Workspace, args: &Diff) -> Result<(), String> {
    if args.rules {
        print_rules(args.format);
        return Ok(());
    }
    let first = args.old.as_ref().ok_or("diff needs OLD (or --rules)")?;
    let (old, new) = match &args.new {
        Some(new) => (Some(read_document(first)?.0), read_document(new)?.0),
        None => (None, read_document(first)?.0),
    };
    let Compared {
        mut report,
        new_document,
        notes,
    } = compare(ws, old.as_ref(), &new, args.standalone)?;
    if !args.standalone {
        report.accept(&ws.accepted_breaks()?);
    }
    match args.format {
        Format::Json => println!("{}", report.json()),
        Format::Markdown => {
            println!("{}", report.markdown_with(args.verbose));
            print_blockers(&new_document);
            for note in notes {
                eprintln!("note: {note}");
            }
        }
    }
    if report.is_breaking() && !args.allow_breaking {
        return Err(format!(
            "{} breaking change(s); if intended, accept each in openapi/accepted-breaks.toml (or pass \
             --allow-breaking) and bump the version",
            report.counts().0
        ));
    }
    Ok(())
}

/// The report on two documents, and what their intake noted.
pub struct Compared {
    /// The change report.
    pub report: Report,
    /// NEW, taken in (the effective spec it makes).
    pub new_document: Value,
    /// What the intake decided (names, conversions).
    pub notes: Vec<String>,
}

/// Compares `old` (the effective spec at git HEAD when `None`) with `new`,
/// both taken in as `update-spec` would: with our overlay and name book,
/// or, `standalone`, with neither. On OLD a correction that matches nothing
/// does not apply; on NEW it is a finding of the report.
pub fn compare(
    ws: &Workspace,
    old: Option<&Value>,
    new: &Value,
    standalone: bool,
) -> Result<Compared, String> {
    let (overlay, names) = if standalone {
        (None, NameBook::default())
    } else {
        (ws.overlay()?, ws.names()?)
    };
    let (old, old_names, mut notes) = match old {
        Some(value) => {
            let taken =
                intake::run(value, overlay.as_ref(), &names, false).map_err(|e| format!("OLD: {e}"))?;
            (taken.document, taken.names, taken.notes)
        }
        None => (ws.effective_at_head()?, names, Vec::new()),
    };
    let new = intake::run(new, overlay.as_ref(), &old_names, false).map_err(|e| format!("NEW: {e}"))?;
    notes.extend(new.notes);
    let mut report = if standalone {
        diff_with(&old, &new.document, &Options::standalone())
    } else {
        diff(&old, &new.document)
    };
    report.note_overlay(&new.overlay);
    Ok(Compared {
        report,
        new_document: new.document,
        notes,
    })
}

fn print_rules(format: Format) {
    match format {
        Format::Markdown => print!("{}", crate::diff::rules::markdown()),
        Format::Json => {
            let rules: Vec<Value> = crate::diff::RULES
                .iter()
                .map(|r| serde_json::json!({"id": r.id, "levels": r.levels, "doc": r.doc, "test": r.test}))
                .collect();
            println!(
                "{}",
                serde_json::to_string_pretty(&rules).expect("rules serialise")
            );
        }
    }
}

fn print_blockers(document: &Value) {
    let blockers = generation_blockers(document);
    if blockers.is_empty() {
        return;
    }
    println!("### Operations the generator cannot generate as written\n");
    for blocker in blockers {
        println!("- {blocker}");
    }
    println!();
}
