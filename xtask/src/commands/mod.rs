//! One module per `cargo xtask` command.

pub mod bench_build;
pub mod bench_campaign;
pub mod bench_hostile;
pub mod bench_instructions;
pub mod bench_journal;
pub mod bench_lawful;
pub mod bench_scale;
pub mod check;
pub mod diff;
pub mod drift;
pub mod generate;
pub mod number_zones;
pub mod update_spec;
