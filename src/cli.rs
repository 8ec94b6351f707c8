//! The `parlab` command line. With no subcommand it opens the window; each
//! subcommand does the same work headless, for handouts, grading and CI.

mod bench;
mod bench_bg;
mod bench_kernel;
mod render;

use crate::engine::kernel::Kernel;
use crate::engine::pool::{MAX_WORKERS, logical_cores};
use crate::engine::schedule::Schedule;
use crate::engine::tiling::Tiling;
use crate::engine::view::View;
use clap::{Args, Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

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
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Render a Mandelbrot view in parallel and write a PNG (and a trace).
    Render(render::RenderArgs),
    /// Benchmarks: `bench kernel`, `bench bg N`.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
}

/// An error from a subcommand: a message and the exit code it maps to.
#[derive(Debug)]
pub enum CliError {
    /// Bad input (exit code 2); nothing was written.
    Usage(String),
    /// The work itself failed (exit code 1).
    Failed(String),
}

impl CliError {
    fn exit(&self) -> ExitCode {
        match self {
            CliError::Usage(m) => {
                eprintln!("parlab: error: {m}");
                ExitCode::from(2)
            }
            CliError::Failed(m) => {
                eprintln!("parlab: {m}");
                ExitCode::from(1)
            }
        }
    }
}

/// Entry point for the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Render(args)) => render::run(&args),
        Some(Command::Bench(command)) => bench::run(&command),
        None => open_window(&cli.window),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => e.exit(),
    }
}

fn open_window(_args: &WindowArgs) -> Result<(), CliError> {
    use clap::CommandFactory;
    let _ = Cli::command().print_help();
    Err(CliError::Usage(
        "this build has no window (built without the `gui` feature): use a subcommand".into(),
    ))
}

/// The view options shared by every Mandelbrot subcommand.
#[derive(Args, Debug, Clone)]
pub struct ViewArgs {
    /// Image width in pixels (1..=16384).
    #[arg(long, default_value_t = 1024)]
    pub width: u32,
    /// Image height in pixels (1..=16384; at most 64 Mpx in all).
    #[arg(long, default_value_t = 768)]
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
    #[arg(long, default_value_t = 3.5)]
    pub view_width: f64,
    /// Iteration limit (1..=1000000).
    #[arg(long, default_value_t = 500)]
    pub max_iter: u32,
}

impl ViewArgs {
    pub fn to_view(&self) -> Result<View, CliError> {
        let center = parse_center(&self.center).map_err(CliError::Usage)?;
        View::new(
            center,
            self.view_width,
            self.width,
            self.height,
            self.max_iter,
        )
        .map_err(|e| CliError::Usage(e.to_string()))
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
    s.parse().map_err(CliError::Usage)
}

pub fn parse_kernel(s: &str) -> Result<Kernel, CliError> {
    s.parse().map_err(CliError::Usage)
}

/// Checks a worker count against the pool's limits.
pub fn check_workers(n: usize) -> Result<usize, CliError> {
    if (1..=MAX_WORKERS).contains(&n) {
        Ok(n)
    } else {
        Err(CliError::Usage(format!(
            "--workers must be 1..={MAX_WORKERS}, got {n} (this machine has {} logical cores)",
            logical_cores()
        )))
    }
}

/// Tiling from `--tile PX` or `--bands [ROWS]`.
pub fn tiling_from(tile_px: Option<u32>, bands: Option<u32>) -> Result<Tiling, CliError> {
    match (tile_px, bands) {
        (Some(_), Some(_)) => Err(CliError::Usage(
            "give either --tile or --bands, not both".into(),
        )),
        (_, Some(rows)) => Tiling::bands(rows).map_err(CliError::Usage),
        (Some(px), None) => Tiling::square(px).map_err(CliError::Usage),
        (None, None) => Ok(Tiling::default()),
    }
}

/// Refuses an output path whose folder does not exist, before any work is done.
pub fn check_output(path: &Path, flag: &str) -> Result<(), CliError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if path.file_name().is_none() {
        return Err(CliError::Usage(format!(
            "{flag} {}: names no file",
            path.display()
        )));
    }
    if !dir.is_dir() {
        return Err(CliError::Usage(format!(
            "{flag} {}: folder {} does not exist",
            path.display(),
            dir.display()
        )));
    }
    if path.is_dir() {
        return Err(CliError::Usage(format!(
            "{flag} {}: is a folder",
            path.display()
        )));
    }
    Ok(())
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
