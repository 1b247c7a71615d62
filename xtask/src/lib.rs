//! The logic behind `cargo xtask` (see `cargo xtask --help`): one module per
//! command under [`commands`], the change report in [`diff`], the argument
//! parser in [`flags`], paths and spec sources in [`workspace`].

pub mod bench;
pub mod changelog;
pub mod commands;
pub mod diff;
pub mod drift;
pub mod flags;
/// The `sigmamind` crate's generator settings, shared with its `build.rs`.
#[path = "../../build/generator_options.rs"]
pub mod generator_options;
pub mod scale;
pub mod version_gate;
pub mod workspace;
