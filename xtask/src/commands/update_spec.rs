//! `cargo xtask update-spec [FILE]`: take in the vendor's document as
//! published. Nothing in it is edited by hand: our corrections and name pins
//! live in the overlay, the names in the name book.

use sigmamind_codegen::intake::effective_text;
use sigmamind_codegen::Spec;

use crate::diff::{diff, Bump, Report};
use crate::flags::UpdateSpec;
use crate::workspace::{
    read_document, vendor_yaml, Workspace, ACCEPTED_BREAKS, CHANGELOG, EFFECTIVE, NAMES, OVERLAY,
    SNAPSHOT_TEST, VENDOR,
};

/// Runs the command.
pub fn run(ws: &Workspace, args: &UpdateSpec) -> Result<(), String> {
    take_in(ws, args)?;
    if args.no_build {
        return Ok(());
    }
    // Regenerate: the crate, hand-written layer included, must still build.
    let built = ws
        .cargo()
        .args(SNAPSHOT_TEST)
        .arg("--no-run")
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !built.success() {
        return Err("the regenerated crate does not build: see the compiler errors above".into());
    }
    // Compare with the snapshots; changes land as .snap.new for review.
    let status = ws
        .cargo()
        .env("INSTA_UPDATE", "new")
        .env_remove("CI")
        .args(SNAPSHOT_TEST)
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if status.success() {
        println!("the generated surface is unchanged");
    } else {
        println!(
            "the generated surface changed: review tests/snapshots/*.snap.new with `cargo insta review` \
             (or accept them one by one), then run `cargo xtask check`"
        );
    }
    Ok(())
}

/// Everything but the build: writes the vendor document, the name book, the
/// effective spec and the changelog entry, and returns the change report.
/// Refuses (writing nothing) when the change breaks users, unless allowed.
pub fn take_in(ws: &Workspace, args: &UpdateSpec) -> Result<Report, String> {
    let mut sources = ws.sources()?;
    let text = match &args.file {
        Some(file) => {
            let (value, text) = read_document(file)?;
            sources.vendor = value;
            text
        }
        None => ws.read(VENDOR)?,
    };
    let intake = sources.intake()?;
    let new = Spec::from_value(EFFECTIVE, intake.document.clone()).map_err(|e| e.to_string())?;
    sigmamind_codegen::generate(&new, &crate::generator_options::sigmamind_options())
        .map_err(|e| e.to_string())?;

    let current = Spec::load(ws.path(EFFECTIVE)).map_err(|e| e.to_string())?;
    let mut report = diff(&current.document, &new.document);
    report.note_overlay(&intake.overlay);
    report.accept(&ws.accepted_breaks()?);
    for note in &intake.notes {
        println!("note: {note}");
    }
    println!("{}", report.markdown());
    if let Some(stale) = intake.overlay.stale.first() {
        return Err(format!(
            "{} correction(s) of {OVERLAY} no longer apply to this document (action {}: {}: `{}` \
             matches nothing): remove each from {OVERLAY}, or retarget it to where the vendor now \
             writes that schema, then run `cargo xtask update-spec` again; nothing was written",
            intake.overlay.stale.len(),
            stale.number,
            stale.description,
            stale.target
        ));
    }
    if report.is_breaking() && !args.allow_breaking {
        return Err(format!(
            "{} breaking change(s); if intended, accept each in {ACCEPTED_BREAKS} (or pass \
             --allow-breaking) and bump the version",
            report.counts().0
        ));
    }

    ws.write(VENDOR, &vendor_yaml(&text)?)?;
    ws.write(NAMES, &intake.names.to_toml())?;
    ws.write(EFFECTIVE, &effective_text(&intake.document))?;
    println!("wrote {VENDOR}, {NAMES} and {EFFECTIVE}");
    if report.semver != Bump::None {
        let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
        crate::changelog::append(&ws.path(CHANGELOG), &crate::changelog::entry(&report, &today))
            .map_err(|e| format!("cannot write {CHANGELOG}: {e}"))?;
        println!("appended the report to {CHANGELOG}");
    }
    Ok(report)
}
