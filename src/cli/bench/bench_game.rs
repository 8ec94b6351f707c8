//! `parlab bench bg N`: the Benchmarks Game mandelbrot output on stdout,
//! byte-identical to the reference program, computed on all cores and written
//! band by band (the bitmap is never whole in memory).

use crate::cli::{CliError, check_workers};
use crate::engine::exec::pool::{build_pool, logical_cores};
use crate::engine::mandelbrot::bench_game::{row_bytes, write_pbm};
use clap::Args;
use std::io::Write;
use std::time::Instant;

/// Largest N (a 32768² bitmap is 128 MiB).
pub const MAX_BG_N: usize = 32_768;

#[derive(Args, Debug, Clone)]
pub struct BenchBgArgs {
    /// Image edge in pixels (1..=32768); the Benchmarks Game uses 16000.
    #[arg(allow_negative_numbers = true, value_parser = crate::cli::whole::<usize>(1, MAX_BG_N as i128))]
    pub n: usize,
    /// Worker threads (1..=256); default: all logical cores.
    #[arg(long, allow_negative_numbers = true, value_parser = crate::cli::workers_arg())]
    pub workers: Option<usize>,
    /// Use the plain scalar loop instead of SIMD (same bytes, slower).
    #[arg(long)]
    pub scalar: bool,
    /// Print the compute time to stderr.
    #[arg(long)]
    pub timing: bool,
}

pub fn run(args: &BenchBgArgs) -> Result<(), CliError> {
    if !(1..=MAX_BG_N).contains(&args.n) {
        return Err(CliError::Usage(format!(
            "N must be 1..={MAX_BG_N}, got {}",
            args.n
        )));
    }
    let num_workers = check_workers(args.workers.unwrap_or_else(logical_cores))?;
    let pool = build_pool(num_workers)?;
    let start = Instant::now();
    let mut stdout = std::io::stdout().lock();
    let mut bytes = 0;
    write_pbm(&pool, args.n, !args.scalar, |band| {
        bytes += band.len();
        stdout.write_all(band)
    })
    .and_then(|()| stdout.flush())
    .unwrap_or_else(|e| crate::cli::output::stdout_failed(&e));
    let elapsed = start.elapsed();
    if args.timing {
        eprintln!(
            "bench bg {}: {:.3} s compute and write on {num_workers} worker(s), {bytes} bytes \
             ({} rows of {} bytes)",
            args.n,
            elapsed.as_secs_f64(),
            args.n,
            row_bytes(args.n)
        );
    }
    Ok(())
}
