//! `cargo xtask generate [FILE] [--surface]`: the code build.rs generates.

use std::path::Path;

use sigmamind_codegen::Spec;

use crate::flags::Generate;
use crate::workspace::{Workspace, EFFECTIVE};

/// Runs the command.
pub fn run(ws: &Workspace, args: &Generate) -> Result<(), String> {
    let path = args.file.clone().unwrap_or_else(|| ws.path(EFFECTIVE));
    let spec = Spec::load(Path::new(&path)).map_err(|e| e.to_string())?;
    let options = crate::generator_options::sigmamind_options();
    if args.surface {
        let file = sigmamind_codegen::generate_file(&spec, &options).map_err(|e| e.to_string())?;
        print!("{}", sigmamind_codegen::surface::render(&spec, &file));
    } else {
        print!(
            "{}",
            sigmamind_codegen::generate(&spec, &options).map_err(|e| e.to_string())?
        );
    }
    Ok(())
}
