//! Everything that computes. No egui here: this module builds and tests with
//! `--no-default-features`.

pub mod background;
pub mod bg;
pub mod colour;
pub mod export;
pub mod gil;
pub mod job;
pub mod kernel;
pub mod kernel_bench;
pub mod locks;
pub mod models;
pub mod plot;
pub mod plot_data;
pub mod plot_font;
pub mod pool;
pub mod python;
pub mod race;
pub mod render;
pub mod replay;
pub mod report;
pub mod schedule;
pub mod stats;
pub mod sweep;
pub mod sweep_course;
pub mod sweep_results;
pub mod sweep_workload;
pub mod theory;
pub mod tiling;
pub mod trace;
pub mod view;
pub mod workloads;
