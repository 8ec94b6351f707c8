//! `parlab bench …`: measurements that are benchmarks, not tests.

mod bench_game;
mod kernel;
mod sweep;

use crate::cli::CliError;
use bench_game::BenchBgArgs;
use clap::{Args, Subcommand};
use kernel::BenchKernelArgs;
use sweep::SweepArgs;

#[derive(Args, Debug)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub command: BenchCommand,
}

// Parsed once at start-up: the size difference between variants costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
pub enum BenchCommand {
    /// Sweep worker counts × task granularities: speedup with its spread, models and exports.
    Sweep(SweepArgs),
    /// Scalar reference vs SIMD kernel on the fixed views K0, B2, B3 (one core each).
    Kernel(BenchKernelArgs),
    /// The Benchmarks Game mandelbrot task: an N×N PBM bitmap on stdout.
    Bg(BenchBgArgs),
}

pub fn run(args: &BenchArgs) -> Result<(), CliError> {
    match &args.command {
        BenchCommand::Sweep(a) => sweep::run(a),
        BenchCommand::Kernel(a) => kernel::run(a),
        BenchCommand::Bg(a) => bench_game::run(a),
    }
}
