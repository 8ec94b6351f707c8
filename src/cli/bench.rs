//! `parlab bench …`: measurements that are benchmarks, not tests.

use super::CliError;
use super::bench_bg::BenchBgArgs;
use super::bench_kernel::BenchKernelArgs;
use clap::Subcommand;

#[derive(Subcommand, Debug)]
pub enum BenchCommand {
    /// Scalar reference vs SIMD kernel on the fixed views K0, B2, B3 (one core each).
    Kernel(BenchKernelArgs),
    /// The Benchmarks Game mandelbrot task: an N×N PBM bitmap on stdout.
    Bg(BenchBgArgs),
}

pub fn run(command: &BenchCommand) -> Result<(), CliError> {
    match command {
        BenchCommand::Kernel(args) => super::bench_kernel::run(args),
        BenchCommand::Bg(args) => super::bench_bg::run(args),
    }
}
