//! parlab: make parallel execution visible.
//!
//! [`engine`] computes (fractals, schedulers, traces, statistics, demos, exports)
//! and never touches egui; [`gui`] draws it; [`cli`] runs the same work headless.

pub mod cli;
pub mod engine;
#[cfg(feature = "gui")]
pub mod gui;
