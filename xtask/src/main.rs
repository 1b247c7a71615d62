//! `cargo xtask <command>`: see `cargo xtask --help`. Each command's body
//! lives in `commands/`; this only dispatches.

use std::process::ExitCode;

use clap::Parser;
use xtask::commands;
use xtask::flags::{Command, Xtask};
use xtask::workspace::Workspace;

fn main() -> ExitCode {
    let Xtask { command } = Xtask::parse();
    let ws = Workspace::find();
    let result = match command {
        Command::UpdateSpec(args) => commands::update_spec::run(&ws, &args),
        Command::Diff(args) => commands::diff::run(&ws, &args),
        Command::Check => commands::check::run(&ws),
        Command::Drift(args) => commands::drift::run(&ws, &args),
        Command::Generate(args) => commands::generate::run(&ws, &args),
        Command::BenchBuild(args) => commands::bench_build::run(&ws, &args),
        Command::BenchScale(args) => commands::bench_scale::run(&ws, &args),
        Command::BenchCampaign(args) => commands::bench_campaign::run(&ws, &args),
        Command::BenchHostile(args) => commands::bench_hostile::run(&ws, &args),
        Command::BenchLawful(args) => commands::bench_lawful::run(&ws, &args),
        Command::BenchJournal(args) => commands::bench_journal::run(&ws, &args),
        Command::BenchInstructions(args) => commands::bench_instructions::run(&ws, &args),
        Command::NumberZones(args) => commands::number_zones::run(&ws, &args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}
