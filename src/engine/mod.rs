//! Everything that computes. No egui here: this module builds and tests with
//! `--no-default-features`.
//!
//! One folder per concept: [`exec`] runs tasks on workers, [`mandelbrot`] is
//! the fractal and its kernels, [`workloads`] lists what can be measured,
//! [`speedup`] sweeps and reports, [`race`] and [`locks`] are the labs,
//! [`theory`] holds the laws, [`util`] the small shared helpers.

pub mod exec;
pub mod locks;
pub mod mandelbrot;
pub mod race;
pub mod speedup;
pub mod theory;
pub mod util;
pub mod workloads;
