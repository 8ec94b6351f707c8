//! parlab: make parallel execution visible.
//!
//! Three layers, arrows one way: [`cli`] -> [`gui`] -> [`engine`] (and
//! [`cli`] -> [`engine`] for the headless subcommands).
//!
//! - [`engine`] computes: the worker pool and schedules (`exec`), the
//!   Mandelbrot kernels and renders (`mandelbrot`), the workloads, the
//!   speedup lab (`speedup`), the race and lock labs, the theory, and small
//!   shared helpers (`util`). It never touches egui.
//! - [`gui`] draws it: one folder per tab, shared widgets.
//! - [`cli`] parses what was typed, hands the window a typed plan, and runs
//!   the same work headless.
//!
//! See ARCHITECTURE.md for the data flow and where to add things.

pub mod cli;
pub mod engine;
#[cfg(feature = "gui")]
pub mod gui;
