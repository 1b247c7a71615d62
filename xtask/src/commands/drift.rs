//! `cargo xtask drift INPUT [--write]`: proposed spec changes from drift.

use crate::drift::{overlay_actions, read, yaml_actions};
use crate::flags::Drift;
use crate::workspace::{Workspace, EFFECTIVE, OVERLAY};

/// Runs the command.
pub fn run(ws: &Workspace, args: &Drift) -> Result<(), String> {
    let seen = read(&args.input, &ws.read(EFFECTIVE)?)?;
    if seen.is_empty() {
        println!("no drift: every response matched the spec");
        return Ok(());
    }
    let vendor = ws.sources()?.vendor;
    let actions = overlay_actions(&seen, &vendor, &ws.names()?)?;
    let yaml = yaml_actions(&actions)?;
    if args.write {
        let mut overlay = ws.read(OVERLAY)?;
        if !overlay.ends_with('\n') {
            overlay.push('\n');
        }
        overlay.push_str("\n  # Proposed by `cargo xtask drift` from live responses: review, then `cargo xtask update-spec`.\n");
        overlay.push_str(&yaml);
        ws.write(OVERLAY, &overlay)?;
        println!(
            "appended {} action(s) to {OVERLAY}; now run `cargo xtask update-spec`",
            actions.len()
        );
    } else {
        print!("{yaml}");
    }
    Ok(())
}
