//! Widgets the panels share: the window's colours, the per-worker timeline,
//! the task grid and small labelled inputs.

pub mod drain;
pub mod labelled;
pub mod palette;
pub mod task_grid;
pub mod timeline;
