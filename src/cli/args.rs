//! What the user typed: the clap structures for every flag shared across
//! subcommands and the window, and the checks that turn raw flags into
//! engine values (view, schedule, kernel, workers, tiling, output paths).
//! Bad input here is a [`CliError::Usage`]: a message and exit code 2.

use super::{
    CliError, bench, deadlock, gridsearch, lesson, locks, mpi_rank, open, py, race, render, whole,
    workload, workspan,
};
use crate::engine::exec::pool::{MAX_WORKERS, logical_cores};
use crate::engine::exec::schedule::Schedule;
use crate::engine::mandelbrot::kernel::Kernel;
use crate::engine::mandelbrot::tiling::Tiling;
use crate::engine::mandelbrot::view::{MAX_EDGE_PX, MAX_ITER, View};
use clap::{Args, Parser, Subcommand};
use std::path::{Path, PathBuf};

/// Make parallel execution visible.
#[derive(Parser, Debug)]
#[command(name = "parlab", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub window: WindowArgs,
}

/// Options for the window (no subcommand).
#[derive(Args, Debug, Default, Clone)]
pub struct WindowArgs {
    /// Open the window, wait until the panel's work is complete, save an in-app screenshot here and exit.
    #[arg(long, value_name = "PNG")]
    pub screenshot: Option<PathBuf>,
    /// Panel to show first (explorer, system, …).
    #[arg(long, value_name = "NAME")]
    pub panel: Option<String>,
    /// Print UI frame-time percentiles after this many frames, then exit.
    #[arg(long, value_name = "N")]
    pub frame_stats: Option<u32>,
    /// Start from default settings, ignoring the saved ones.
    #[arg(long)]
    pub reset_settings: bool,
    /// Explorer image size to start with, as WIDTHxHEIGHT.
    #[arg(long, value_name = "WxH")]
    pub size: Option<String>,
    /// Window size in points, as WIDTHxHEIGHT (e.g. 1280x720, a lab projector);
    /// default 1500x950.
    #[arg(long, value_name = "WxH")]
    pub window: Option<String>,
    /// Named place to start at (whole-set, lopsided, seahorse-valley, …).
    #[arg(long, value_name = "NAME")]
    pub place: Option<String>,
    /// Worker count to start with.
    #[arg(long, value_name = "N")]
    pub workers: Option<usize>,
    /// Schedule to start with (see `parlab render --help`).
    #[arg(long, value_name = "NAME")]
    pub schedule: Option<String>,
    /// Tile size to start with: PX, or bands(ROWS) / bandsROWS (bands alone: bands(1)).
    #[arg(long, value_name = "PX|bands(ROWS)")]
    pub tile: Option<String>,
    /// Palette to start with (classic, fire, ocean, grey).
    #[arg(long, value_name = "NAME")]
    pub palette: Option<String>,
    /// Worker overlay on or off at start.
    #[arg(long, value_name = "BOOL")]
    pub overlay: Option<bool>,
    /// Explorer workers are threads, processes or mpi (see `parlab render --help`).
    #[arg(long, value_name = "threads|processes|mpi")]
    pub backend: Option<String>,
    /// Open on the Lessons tab at lesson N.
    #[arg(long, value_name = "N")]
    pub lesson: Option<u32>,
    /// Read the lessons from this folder (*.toml) instead of the shipped ones.
    #[arg(long, value_name = "DIR")]
    pub lessons: Option<PathBuf>,
}

// Parsed once per run: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Render a Mandelbrot view in parallel and write a PNG (and a trace).
    Render(render::RenderArgs),
    /// Divide-and-conquer matmul: measured work T1, span T∞, parallelism and the Brent checks.
    Workspan(workspan::WorkSpanArgs),
    /// Workers a grid search needs to meet a deadline, in whole rounds (the course's grid-search exercise).
    Gridsearch(gridsearch::GridSearchArgs),
    /// The course's workloads (primes, dot, matmul, io) headless.
    #[command(subcommand)]
    Workload(workload::WorkloadCommand),
    /// Threads add to one counter: expected vs actual, lost updates, wall time.
    Race(race::RaceArgs),
    /// Lock throughput vs thread count (Mutex, RwLock, atomic, padded vs packed counters).
    Locks(locks::LocksArgs),
    /// Two threads take two locks in opposite order: detect the deadlock (or complete with --fix ordering).
    Deadlock(deadlock::DeadlockArgs),
    /// The guided lab's lessons: list them, or run one's measurement headless.
    #[command(subcommand)]
    Lesson(lesson::LessonCommand),
    /// Measure: speedup sweeps and other benchmarks, with exports.
    Bench(bench::BenchArgs),
    /// One worker process of `render --backend processes` (started by parlab, not by hand).
    #[command(hide = true)]
    Worker,
    /// One rank of an MPI render that parlab launched through mpirun (not by hand).
    #[command(hide = true)]
    MpiRank(mpi_rank::MpiRankArgs),
    /// Run a Python program (a file or a shipped course program) and see every worker process and thread.
    Py(py::PyArgs),
    /// Read a Chrome trace (parlab's, VizTracer's, py-spy's) and print lanes, busy time and utilisation.
    Open(open::OpenArgs),
    /// Check that a PNG is readable and not blank (used by CI on the window's screenshot).
    #[command(hide = true)]
    CheckPng {
        /// The PNG to check.
        file: PathBuf,
    },
}

/// The view options shared by every Mandelbrot subcommand.
/// How `--backend mpi` launches its ranks when parlab starts mpirun itself:
/// the same flags for `render` and `bench sweep`.
#[derive(Args, Debug, Clone, Default)]
pub struct MpiLaunchArgs {
    /// With --backend mpi: rank 0 computes tiles too (in a thread) besides
    /// handing them out, so N ranks are N workers (and a sweep's run
    /// launches `mpirun -np P` instead of P+1).
    #[arg(long)]
    pub mpi_master_computes: bool,
    /// With --backend mpi launched by parlab: seconds mpirun may take to start
    /// every rank (ssh to each host, MPI_Init) before parlab stops it; default 30.
    #[arg(long, value_name = "S", allow_negative_numbers = true,
          value_parser = whole::<u32>(1, 600))]
    pub mpi_startup_s: Option<u32>,
    /// The mpirun that `--backend mpi` starts when parlab launches the job itself (default: on PATH).
    #[arg(long, value_name = "PATH")]
    pub mpirun: Option<PathBuf>,
    /// More arguments for that mpirun, one string (e.g. "--oversubscribe" to run more ranks than cores).
    #[arg(long, value_name = "ARGS", allow_hyphen_values = true)]
    pub mpirun_args: Option<String>,
    /// Hostfile for that mpirun: the machines of a lab (same parlab path on each, ssh keys).
    #[arg(long, value_name = "FILE")]
    pub hostfile: Option<PathBuf>,
}

impl MpiLaunchArgs {
    /// The typed launch plan the farm receives.
    pub fn launch(&self) -> crate::engine::farm::MpiLaunch {
        crate::engine::farm::MpiLaunch {
            mpirun: self.mpirun.clone(),
            hostfile: self.hostfile.clone(),
            args: crate::engine::farm::MpiLaunch::split_args(
                self.mpirun_args.as_deref().unwrap_or(""),
            ),
            master_computes: self.mpi_master_computes,
            startup_limit: self
                .mpi_startup_s
                .map(|s| std::time::Duration::from_secs(s.into())),
        }
    }
}

#[derive(Args, Debug, Clone)]
pub struct ViewArgs {
    /// Image width in pixels (1..=16384).
    #[arg(long, default_value_t = 1024, allow_negative_numbers = true,
          value_parser = whole::<u32>(1, MAX_EDGE_PX.into()))]
    pub width: u32,
    /// Image height in pixels (1..=16384; at most 64 Mpx in all).
    #[arg(long, default_value_t = 768, allow_negative_numbers = true,
          value_parser = whole::<u32>(1, MAX_EDGE_PX.into()))]
    pub height: u32,
    /// Centre of the view in the complex plane, as X,Y.
    #[arg(
        long,
        default_value = "-0.75,0",
        allow_hyphen_values = true,
        value_name = "X,Y"
    )]
    pub center: String,
    /// Width of the view in the complex plane.
    #[arg(long, default_value_t = 3.5, allow_negative_numbers = true)]
    pub view_width: f64,
    /// Iteration limit (1..=1000000).
    #[arg(long, default_value_t = 500, allow_negative_numbers = true,
          value_parser = whole::<u32>(1, MAX_ITER.into()))]
    pub max_iter: u32,
}

impl ViewArgs {
    pub fn to_view(&self) -> Result<View, CliError> {
        let center = parse_center(&self.center).map_err(CliError::Usage)?;
        Ok(View::new(
            center,
            self.view_width,
            self.width,
            self.height,
            self.max_iter,
        )?)
    }
}

/// Parses `X,Y` into a finite centre.
pub fn parse_center(s: &str) -> Result<(f64, f64), String> {
    let (x, y) = s
        .split_once(',')
        .ok_or_else(|| format!("--center {s:?}: expected X,Y such as -0.75,0.1"))?;
    let parse = |v: &str, axis: &str| {
        v.trim()
            .parse::<f64>()
            .map_err(|_| format!("--center {s:?}: {axis} {v:?} is not a number"))
    };
    Ok((parse(x, "x")?, parse(y, "y")?))
}

/// Parses a schedule name (see `Schedule::ALL`).
pub fn parse_schedule(s: &str) -> Result<Schedule, CliError> {
    Ok(s.parse::<Schedule>()?)
}

/// Parses a kernel name (see `Kernel::ALL`) and checks that this CPU can
/// run it: forcing `avx512` on a CPU without AVX-512 is a usage error.
pub fn parse_kernel(s: &str) -> Result<Kernel, CliError> {
    let kernel: Kernel = s.parse()?;
    kernel.check_available()?;
    Ok(kernel)
}

/// Checks a worker count against the pool's limits.
pub fn check_workers(n: usize) -> Result<usize, CliError> {
    crate::engine::exec::pool::check_workers(n).map_err(|_| {
        CliError::Usage(format!(
            "--workers must be 1..={MAX_WORKERS}, got {n} (this machine has {} logical cores)",
            logical_cores()
        ))
    })
}

/// The `--workers` value parser: whole numbers, negative ones reaching the range message.
pub fn workers_arg() -> impl Fn(&str) -> Result<usize, String> + Clone + Send + Sync + 'static {
    whole::<usize>(1, MAX_WORKERS as i128)
}

/// Tiling from `--tile PX` or `--bands [ROWS]`.
pub fn tiling_from(tile_px: Option<u32>, bands: Option<u32>) -> Result<Tiling, CliError> {
    match (tile_px, bands) {
        (Some(_), Some(_)) => Err(CliError::Usage(
            "give either --tile or --bands, not both".into(),
        )),
        (_, Some(rows)) => Ok(Tiling::bands(rows)?),
        (Some(px), None) => Ok(Tiling::square(px)?),
        (None, None) => Ok(Tiling::default()),
    }
}

/// Refuses an output path that cannot be written, before any work is done
/// (see [`super::outputs::check_outputs`], which also refuses a path given twice).
pub fn check_output(path: &Path, flag: &str) -> Result<(), CliError> {
    super::outputs::check_outputs(&[(flag, path)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn center_parsing() {
        assert_eq!(parse_center("-0.75,0.1"), Ok((-0.75, 0.1)));
        assert_eq!(parse_center(" 1 , -2 "), Ok((1.0, -2.0)));
        assert!(parse_center("1;2").is_err());
        assert!(parse_center("a,2").is_err());
    }

    #[test]
    fn nan_center_is_refused_by_the_view() {
        let args = ViewArgs {
            width: 10,
            height: 10,
            center: "NaN,0".into(),
            view_width: 1.0,
            max_iter: 10,
        };
        match args.to_view() {
            Err(CliError::Usage(m)) => assert!(m.contains("center x"), "{m}"),
            other => panic!("expected a usage error, got {other:?}"),
        }
    }
}
