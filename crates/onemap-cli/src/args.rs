use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Where `onemap synth` writes, and everything else reads, by default.
pub const DEFAULT_DATA: &str = "data/generated/putian";

#[derive(Debug, Parser)]
#[command(
    name = "onemap",
    version,
    about = "Whole city, one map: tiles and map analytics for grassroots governance"
)]
pub struct Cli {
    /// More logging (-v info, -vv debug); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Generate a deterministic synthetic city shaped like Putian.
    Synth(SynthArgs),
    /// Check a city directory: counts, ids, parents, geometry, containment, overlaps, gaps.
    Validate(ValidateArgs),
}

#[derive(Debug, Args)]
pub struct SynthArgs {
    /// Random seed: the same seed gives byte-identical files.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Output directory (created if missing; its layer files are replaced).
    #[arg(long, default_value = DEFAULT_DATA)]
    pub out: PathBuf,
    /// Number of events [default: 1,000,000 × scale].
    #[arg(long)]
    pub events: Option<u64>,
    /// Size of the city relative to the real one, in (0, 1]: 0.02 is a small city for tests.
    #[arg(long, default_value_t = 1.0)]
    pub scale: f64,
    /// Check the generated city before writing it (slower).
    #[arg(long)]
    pub validate: bool,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// City directory written by `onemap synth` (or `onemap export`).
    #[arg(default_value = DEFAULT_DATA)]
    pub dir: PathBuf,
}
