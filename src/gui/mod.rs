//! The eframe window: one file per panel, each a struct with `fn ui(&mut self, ui: &mut egui::Ui)`.

pub mod palette;
pub mod theory_panel;
