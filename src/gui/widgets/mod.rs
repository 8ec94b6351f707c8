//! Widgets the panels share: the window's colours, the per-worker timeline
//! with its activity strip and concurrency histogram, the task grid and
//! small labelled inputs.

pub mod activity;
pub mod drain;
pub mod labelled;
pub mod palette;
pub mod plot_frame;
pub mod task_grid;
pub mod timeline;
