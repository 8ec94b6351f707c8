//! Everything that computes. No egui here: this module builds and tests with
//! `--no-default-features`.
//!
//! One folder per concept: [`exec`] runs tasks on workers, [`mandelbrot`] is
//! the fractal and its kernels, [`workloads`] lists what can be measured,
//! [`farm`] hands the same tiles to worker processes, [`speedup`] sweeps and
//! reports, [`race`] and [`locks`] are the labs,
//! [`python`] runs real CPython programs and traces every worker,
//! [`theory`] holds the laws, [`lessons`] the guided lab (lesson files, their
//! measurements, the lab report), [`util`] the small shared helpers.

pub mod exec;
pub mod farm;
pub mod lessons;
pub mod locks;
pub mod mandelbrot;
pub mod python;
pub mod race;
pub mod speedup;
pub mod theory;
pub mod util;
pub mod workloads;

/// Whose fault an error is: the person's input (a value out of range, a
/// name that does not exist, a file that does not parse) or the work itself
/// (a thread that would not start, a write that failed). Every concept's
/// error type says which; the CLI turns the first into exit code 2 and the
/// second into exit code 1, in one place (`cli::CliError`).
pub trait BadInput: std::error::Error {
    /// True when the input was at fault and nothing was done.
    fn is_bad_input(&self) -> bool;
}
