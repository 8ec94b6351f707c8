//! The Python sweep's exports, as the speedup lab makes them: the speedup
//! plot as drawn (PNG or SVG, the lab's plotters code), and CSV or JSON (the
//! lab's report, both modes in one, the method in its meta block), written
//! atomically into the export folder.

use super::PythonPanel;
use crate::engine::python::sweep::modes_report;
use crate::engine::speedup::charts::data::{overlay_speedup_charts, speedup_chart};
use crate::engine::speedup::charts::draw::{Chart, write_plot};
use crate::engine::util::files::{write_atomic, write_json};
use crate::gui::speedup::Export;
use crate::gui::widgets::palette;
use egui::RichText;
use std::path::PathBuf;

impl PythonPanel {
    pub(super) fn export_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal_wrapped(|ui| {
            let l = ui.label("export folder");
            let mut folder = self.settings.export_folder.display().to_string();
            if ui
                .add(egui::TextEdit::singleline(&mut folder).desired_width(220.0))
                .labelled_by(l.id)
                .changed()
            {
                self.settings.export_folder = PathBuf::from(folder);
            }
            let ready = self.runtime.sweep_task.is_none()
                && self
                    .runtime
                    .sweeps
                    .iter()
                    .any(|s| s.results.num_measured() > 0);
            for (label, what) in [
                ("Export PNG", Export::Png),
                ("Export SVG", Export::Svg),
                ("Export CSV", Export::Csv),
                ("Export JSON", Export::Json),
            ] {
                if ui.add_enabled(ready, egui::Button::new(label)).clicked() {
                    self.runtime.export_message = Some(self.export_sweep(what));
                }
            }
        });
        match &self.runtime.export_message {
            Some(Ok(m)) => {
                ui.label(RichText::new(m).color(palette::GOOD));
            }
            Some(Err(e)) => {
                ui.label(RichText::new(e).color(palette::BAD));
            }
            None => {}
        }
    }

    /// Writes the sweep's `what` into the export folder (created if
    /// missing): `python-speedup.png|svg`, `python-sweep.csv|json`.
    pub fn export_sweep(&self, what: Export) -> Result<String, String> {
        let sweeps = &self.runtime.sweeps;
        let report = modes_report(sweeps).ok_or("nothing measured yet")?;
        let folder = &self.settings.export_folder;
        std::fs::create_dir_all(folder)
            .map_err(|e| format!("could not create {}: {e}", folder.display()))?;
        let folder = folder.canonicalize().unwrap_or_else(|_| folder.clone());
        let (name, result) = match what {
            Export::Png | Export::Svg => {
                let name = if what == Export::Png {
                    "python-speedup.png"
                } else {
                    "python-speedup.svg"
                };
                let charts: Vec<(String, _)> = sweeps
                    .iter()
                    .map(|s| {
                        let table = s.results.row_table();
                        (s.mode.to_string(), speedup_chart(&s.results, &table))
                    })
                    .collect();
                let chart = overlay_speedup_charts(&charts).ok_or("nothing measured yet")?;
                (name, write_plot(&folder.join(name), Chart::Speedup(&chart)))
            }
            Export::Csv => {
                let name = "python-sweep.csv";
                let bytes = report.to_csv().into_bytes();
                (name, write_atomic(&folder.join(name), &bytes))
            }
            Export::Json => {
                let name = "python-sweep.json";
                (name, write_json(&folder.join(name), &report.to_json()))
            }
        };
        result.map_err(|e| e.to_string())?;
        Ok(format!("wrote {}", folder.join(name).display()))
    }
}
