//! The eframe window: one file per panel, each a struct with `fn ui(&mut self, ui: &mut egui::Ui)`.

pub mod palette;
pub mod speedup_panel;
pub mod speedup_plots;
pub mod speedup_table;
