//! `parlab bench …`: measurements that are benchmarks, not tests.

use super::CliError;
use super::bench_bg::BenchBgArgs;
use super::bench_kernel::BenchKernelArgs;
use super::bench_sweep::{self, SweepArgs};
use clap::{Args, Subcommand};

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
    /// Scalar reference vs the AVX2 and AVX-512 kernels on the fixed views K0, B2, B3 (one core each).
    Kernel(BenchKernelArgs),
    /// The Benchmarks Game mandelbrot task: an N×N PBM bitmap on stdout.
    Bg(BenchBgArgs),
}

pub fn run(args: &BenchArgs) -> Result<(), CliError> {
    match &args.command {
        BenchCommand::Sweep(a) => bench_sweep::run(a),
        BenchCommand::Kernel(a) => super::bench_kernel::run(a),
        BenchCommand::Bg(a) => super::bench_bg::run(a),
    }
}
