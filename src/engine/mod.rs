//! Everything that computes. No egui here: this module builds and tests with
//! `--no-default-features`.

pub mod bg;
pub mod colour;
pub mod export;
pub mod job;
pub mod kernel;
pub mod kernel_bench;
pub mod plot_font;
pub mod pool;
pub mod render;
pub mod schedule;
pub mod tiling;
pub mod trace;
pub mod view;
