//! The speedup lab's export buttons: plots (the shared plotters code), CSV
//! and JSON, written into a folder, with the paths or the error shown.

use super::{SpeedupPanel, SweepState};
use crate::engine::speedup::charts::data::{granularity_chart, predicted_chart, speedup_chart};
use crate::engine::speedup::charts::draw::{Chart, write_plot};
use crate::engine::speedup::report::SweepReport;
use crate::gui::widgets::palette;
use egui::RichText;
use std::path::PathBuf;

impl SpeedupPanel {
    pub(super) fn export_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            let l = ui.label("export folder");
            let mut folder = self.settings.export_folder.display().to_string();
            if ui
                .add(egui::TextEdit::singleline(&mut folder).desired_width(260.0))
                .labelled_by(l.id)
                .changed()
            {
                self.settings.export_folder = PathBuf::from(folder);
            }
            let ready = self.results.as_ref().is_some_and(|r| r.num_measured() > 0);
            for (label, what) in [
                ("Export PNG", Export::Png),
                ("Export SVG", Export::Svg),
                ("Export CSV", Export::Csv),
                ("Export JSON", Export::Json),
            ] {
                if ui.add_enabled(ready, egui::Button::new(label)).clicked() {
                    self.export_message = Some(self.export(what));
                }
            }
        });
        match &self.export_message {
            Some(Ok(m)) => {
                ui.label(RichText::new(m).color(palette::GOOD));
            }
            Some(Err(e)) => {
                ui.label(RichText::new(e).color(palette::BAD));
            }
            None => {}
        }
    }

    /// Writes the chosen export into the export folder (created if missing).
    pub fn export(&self, what: Export) -> Result<String, String> {
        let (Some(r), Some(w)) = (&self.results, &self.workload) else {
            return Err("nothing measured yet".into());
        };
        let folder = &self.settings.export_folder;
        std::fs::create_dir_all(folder)
            .map_err(|e| format!("could not create {}: {e}", folder.display()))?;
        let folder = folder.canonicalize().unwrap_or_else(|_| folder.clone());
        let complete = self.is_idle() && self.state == SweepState::Done;
        let table = r.row_table();
        let mut written = Vec::new();
        let mut write =
            |name: &str, result: Result<(), crate::engine::util::files::ExportError>| {
                result.map_err(|e| e.to_string())?;
                written.push(folder.join(name).display().to_string());
                Ok::<(), String>(())
            };
        match what {
            Export::Png | Export::Svg => {
                let ext = if what == Export::Png { "png" } else { "svg" };
                // As drawn: with any pinned comparison lines.
                let (s, p, g) = (
                    self.speedup_chart()
                        .cloned()
                        .unwrap_or_else(|| speedup_chart(r, &table)),
                    predicted_chart(r, &table),
                    granularity_chart(r, &table),
                );
                for (name, chart) in [
                    ("speedup", Chart::Speedup(&s)),
                    ("predicted", Chart::Speedup(&p)),
                    ("granularity", Chart::Granularity(&g)),
                ] {
                    let file = format!("{name}.{ext}");
                    write(&file, write_plot(&folder.join(&file), chart))?;
                }
            }
            Export::Csv => {
                let report = SweepReport::build(r, &**w, complete);
                let bytes = report.to_csv().into_bytes();
                write(
                    "sweep.csv",
                    crate::engine::util::files::write_atomic(&folder.join("sweep.csv"), &bytes),
                )?;
            }
            Export::Json => {
                let report = SweepReport::build(r, &**w, complete);
                write(
                    "sweep.json",
                    crate::engine::util::files::write_json(
                        &folder.join("sweep.json"),
                        &report.to_json(),
                    ),
                )?;
            }
        }
        Ok(format!("wrote {}", written.join(", ")))
    }
}

/// What an export button writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Export {
    Png,
    Svg,
    Csv,
    Json,
}
