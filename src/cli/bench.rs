//! `parlab bench …`: measurements, headless.

use super::CliError;
use super::bench_sweep::{self, SweepArgs};
use clap::{Args, Subcommand};

#[derive(Args, Debug)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub command: BenchCommand,
}

#[derive(Subcommand, Debug)]
pub enum BenchCommand {
    /// Sweep worker counts × task granularities: speedup with its spread, models and exports.
    Sweep(SweepArgs),
}

pub fn run(args: &BenchArgs) -> Result<(), CliError> {
    match &args.command {
        BenchCommand::Sweep(a) => bench_sweep::run(a),
    }
}
