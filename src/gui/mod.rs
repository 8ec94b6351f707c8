//! The eframe window: one file per panel, each a struct with `fn ui(&mut self, ui: &mut egui::Ui)`.

pub mod deadlock_view;
pub mod lab_widgets;
pub mod locks_panel;
pub mod locks_timeline;
pub mod palette;
pub mod race_lanes;
pub mod race_panel;
pub mod scheduler_game;
pub mod speedup_panel;
pub mod speedup_plots;
pub mod speedup_table;
pub mod theory_panel;
