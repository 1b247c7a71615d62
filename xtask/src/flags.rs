//! The command line of `cargo xtask`, declared (so `--help` works everywhere).

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// Maintainer commands for the sigmamind crate.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask", about, long_about = None, disable_version_flag = true)]
pub struct Xtask {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// One command; each lives in its own module under `commands/`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Take in the vendor's document as published.
    ///
    /// YAML or JSON, OpenAPI 3.0 or 3.1: store it as openapi/vendor.yaml, apply openapi/overlay.yaml, name every type
    /// (openapi/rust-names.toml), write the effective spec openapi/sigmamind.json,
    /// append to openapi/CHANGELOG.md, rebuild, and list the snapshots to review.
    UpdateSpec(UpdateSpec),
    /// What changed for users of the crate, and the semver bump it needs.
    ///
    /// Compares two vendor documents (or one against the effective spec at git
    /// HEAD). Exits 1 on breaking changes unless accepted or --allow-breaking.
    Diff(Diff),
    /// Everything CI checks about the spec.
    ///
    /// The effective spec is exactly vendor + overlay + names; it generates;
    /// lint rules; the version gate; snapshots.
    Check,
    /// Turn drift seen in live responses into Overlay actions.
    ///
    /// INPUT is a `Client::drift()` summary as JSON, or a folder of recorded
    /// bodies (DIR/<operation>/*.json).
    Drift(Drift),
    /// Print the code build.rs generates (or its surface listing).
    Generate(Generate),
    /// What generating at build time costs.
    ///
    /// Clean builds and checks against the same code without a build script,
    /// a downstream crate of the packaged crate, no-op and spec-edit rebuilds,
    /// time inside build.rs.
    BenchBuild(BenchBuild),
    /// build.rs time and compile time as the spec grows (synthetic specs).
    BenchScale(BenchScale),
    /// Campaign scale: a release dialler's speed and peak memory on long lists, and a soak of `mock serve`.
    BenchCampaign(BenchCampaign),
    /// What a body that never ends costs: peak RSS of `calls create` and a batch, endless against normal bodies.
    BenchHostile(BenchHostile),
    /// What calling hours and a ten-million-number suppression list cost a campaign-sized run.
    BenchLawful(BenchLawful),
    /// What the PostgreSQL journal costs against the file journal: rows/s, peak RSS, round trips per row.
    BenchJournal(BenchJournal),
    /// Instructions per call (callgrind), the SDK against plain reqwest and serde; then their wall-clock time.
    BenchInstructions(BenchInstructions),
    /// The dialler's number-to-time-zone table, from libphonenumber's data.
    ///
    /// Regenerates crates/sigmamind-dialler/src/number_zones.txt from the
    /// vendored copy of libphonenumber's map (xtask/data/libphonenumber/);
    /// --fetch VERSION first downloads that release's copy from PyPI.
    NumberZones(NumberZones),
}

/// `cargo xtask bench-lawful`.
#[derive(Debug, clap::Args)]
pub struct BenchLawful {
    /// Rows of the contact list.
    #[arg(long, default_value_t = 1_000_000)]
    pub rows: usize,
    /// Numbers on the suppression list.
    #[arg(long, default_value_t = 10_000_000)]
    pub suppressed: usize,
    /// Requests in flight.
    #[arg(long, default_value_t = 50)]
    pub concurrency: usize,
    /// Rounds, each a plain run and a run with hours and suppression.
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
}

/// `cargo xtask bench-journal`.
#[derive(Debug, clap::Args)]
pub struct BenchJournal {
    /// Rows of the contact list.
    #[arg(long, default_value_t = 100_000)]
    pub rows: usize,
    /// Requests in flight, per dialer.
    #[arg(long, default_value_t = 50)]
    pub concurrency: usize,
    /// Rounds, each a file journal run, one dialer and three on PostgreSQL.
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
}

/// `cargo xtask bench-instructions`.
#[derive(Debug, clap::Args)]
pub struct BenchInstructions {
    /// Calls of the longer run; the shorter makes a tenth of them, and the
    /// difference, per call, leaves start-up out.
    #[arg(long, default_value_t = 2_000)]
    pub calls: usize,
}

/// `cargo xtask number-zones`.
#[derive(Debug, clap::Args)]
pub struct NumberZones {
    /// Download this release of the PyPI package `phonenumbers` (which
    /// carries libphonenumber's map, release for release) and vendor its map.
    #[arg(long, value_name = "VERSION")]
    pub fetch: Option<String>,
    /// Regenerate in memory and fail if the committed table differs.
    #[arg(long, conflicts_with = "fetch")]
    pub check: bool,
}

/// `cargo xtask update-spec`.
#[derive(Debug, clap::Args)]
pub struct UpdateSpec {
    /// The vendor's new document; without it, openapi/vendor.yaml again (after
    /// editing the overlay).
    pub file: Option<PathBuf>,
    /// Take it in even when the change report says it breaks users.
    #[arg(long)]
    pub allow_breaking: bool,
    /// Only write the files; do not build the crate or run the snapshot tests.
    #[arg(long)]
    pub no_build: bool,
}

/// `cargo xtask diff`.
#[derive(Debug, clap::Args)]
pub struct Diff {
    /// The old document; without NEW, this is NEW and the old one is the
    /// effective spec at git HEAD.
    #[arg(required_unless_present = "rules")]
    pub old: Option<PathBuf>,
    /// The new document.
    pub new: Option<PathBuf>,
    /// Report format.
    #[arg(long, value_enum, default_value_t = Format::Markdown)]
    pub format: Format,
    /// Exit 0 even when a change is breaking.
    #[arg(long)]
    pub allow_breaking: bool,
    /// The documents are not this crate's: apply no overlay, and name new
    /// things by the rules starting from OLD's names.
    #[arg(long)]
    pub standalone: bool,
    /// List every rule of the report (id, level, meaning) and exit.
    #[arg(long, conflicts_with_all = ["old", "new"])]
    pub rules: bool,
    /// Under each change in a shared schema, list every other operation it
    /// reaches (JSON always lists them, as `alsoAt`).
    #[arg(long, short)]
    pub verbose: bool,
}

/// Report formats of `diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For a pull request.
    Markdown,
    /// For tools.
    Json,
}

/// `cargo xtask drift`.
#[derive(Debug, clap::Args)]
pub struct Drift {
    /// A drift summary (JSON) or a folder of recorded response bodies.
    pub input: PathBuf,
    /// Append the actions to openapi/overlay.yaml instead of printing them.
    #[arg(long)]
    pub write: bool,
}

/// `cargo xtask generate`.
#[derive(Debug, clap::Args)]
pub struct Generate {
    /// An effective (OpenAPI 3.0) spec; default openapi/sigmamind.json.
    pub file: Option<PathBuf>,
    /// Print the surface listing instead of the source.
    #[arg(long)]
    pub surface: bool,
}

/// `cargo xtask bench-build`.
#[derive(Debug, clap::Args)]
pub struct BenchBuild {
    /// Skip the clean release builds.
    #[arg(long)]
    pub skip_release: bool,
}

/// `cargo xtask bench-campaign`.
#[derive(Debug, clap::Args)]
pub struct BenchCampaign {
    /// List sizes, each dialled fresh then resumed from its fully placed journal.
    #[arg(long, value_delimiter = ',', default_values_t = [100_000usize, 1_000_000])]
    pub rows: Vec<usize>,
    /// Requests in flight.
    #[arg(long, default_value_t = 50)]
    pub concurrency: usize,
    /// Rounds of every size, interleaved; the medians are compared.
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
    /// Requests of the `mock serve` soak (its RSS after the first 10,000 and at the end).
    #[arg(long, default_value_t = 1_000_000)]
    pub soak: usize,
}

/// `cargo xtask bench-hostile`.
#[derive(Debug, clap::Args)]
pub struct BenchHostile {
    /// Rows of the batch.
    #[arg(long, default_value_t = 1000)]
    pub rows: usize,
    /// Requests in flight in the batch.
    #[arg(long, default_value_t = 5)]
    pub concurrency: usize,
}

/// `cargo xtask bench-scale`.
#[derive(Debug, clap::Args)]
pub struct BenchScale {
    /// Numbers of operations to generate specs for.
    #[arg(long, value_delimiter = ',', default_value = "1,10,100,500")]
    pub sizes: Vec<usize>,
}
