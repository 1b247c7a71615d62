//! `cargo xtask diff [OLD] NEW`: the change report, on any two OpenAPI 3.0 or
//! 3.1 documents. It never runs the generator: documents progenitor cannot
//! generate from are compared all the same, and the operations it could not
//! generate are named.

use serde_json::Value;
use sigmamind_codegen::intake::{self, NameBook};
use sigmamind_codegen::spec::generation_blockers;

use sigmamind_codegen::Options;

use crate::diff::{diff, diff_with};
use crate::flags::{Diff, Format};
use crate::workspace::{read_document, Workspace};

/// Runs the command.
pub fn run(ws: &Workspace, args: &Diff) -> Result<(), String> {
    let (old_path, new_path) = match &args.new {
        Some(new) => (Some(&args.old), new),
        None => (None, &args.old),
    };
    let (overlay, names) = if args.standalone {
        (None, NameBook::default())
    } else {
        (ws.overlay()?, ws.names()?)
    };
    let (old, old_names, mut notes) = match old_path {
        Some(path) => {
            let (value, _) = read_document(path)?;
            let taken = intake::run(&value, overlay.as_ref(), &names, false)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            (taken.document, taken.names, taken.notes)
        }
        None => (ws.effective_at_head()?, names, Vec::new()),
    };
    let (value, _) = read_document(new_path)?;
    let new = intake::run(&value, overlay.as_ref(), &old_names, false)
        .map_err(|e| format!("{}: {e}", new_path.display()))?;
    notes.extend(new.notes);
    let mut report = if args.standalone {
        diff_with(&old, &new.document, &Options::standalone())
    } else {
        diff(&old, &new.document)
    };
    if !args.standalone {
        report.accept(&ws.accepted_breaks()?);
    }
    match args.format {
        Format::Json => println!("{}", report.json()),
        Format::Markdown => {
            println!("{}", report.markdown());
            print_blockers(&new.document);
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
