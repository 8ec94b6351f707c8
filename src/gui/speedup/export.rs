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
        let ready = self.results.as_ref().is_some_and(|r| r.num_measured() > 0);
        let clicked = export_row_ui(
            ui,
            &mut self.settings.export_folder,
            ready,
            self.export_message.as_ref(),
        );
        if let Some(what) = clicked {
            self.export_message = Some(self.export(what));
        }
    }

    /// Writes the chosen export into the export folder (created if missing).
    pub fn export(&self, what: Export) -> Result<String, String> {
        let (Some(r), Some(w)) = (&self.results, &self.workload) else {
            return Err("nothing measured yet".into());
        };
        let folder = export_folder_ready(&self.settings.export_folder)?;
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

/// Why an export with an empty folder field wrote nothing.
pub const NO_EXPORT_FOLDER: &str =
    "no export folder given: type a folder to export into (nothing was written)";

/// What an export button writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Export {
    Png,
    Svg,
    Csv,
    Json,
}

/// The export row of a lab panel (the speedup lab, the Python tab): the
/// folder, one button per format (enabled when `ready`), and the last
/// outcome (the paths written, or why not). Returns the format clicked.
pub fn export_row_ui(
    ui: &mut egui::Ui,
    folder: &mut PathBuf,
    ready: bool,
    message: Option<&Result<String, String>>,
) -> Option<Export> {
    let mut clicked = None;
    ui.horizontal_wrapped(|ui| {
        let l = ui.label("export folder");
        let mut text = folder.display().to_string();
        if ui
            .add(egui::TextEdit::singleline(&mut text).desired_width(240.0))
            .labelled_by(l.id)
            .changed()
        {
            *folder = PathBuf::from(text);
        }
        for (label, what) in [
            ("Export PNG", Export::Png),
            ("Export SVG", Export::Svg),
            ("Export CSV", Export::Csv),
            ("Export JSON", Export::Json),
        ] {
            if ui.add_enabled(ready, egui::Button::new(label)).clicked() {
                clicked = Some(what);
            }
        }
    });
    match message {
        Some(Ok(m)) => {
            ui.label(RichText::new(m).color(palette::GOOD));
        }
        Some(Err(e)) => {
            ui.label(RichText::new(e).color(palette::BAD));
        }
        None => {}
    }
    clicked
}

/// Creates the export folder if missing and returns it absolute, so that the
/// message names where the files went. An empty folder field is refused, not
/// read as the current directory: files never land somewhere unsaid.
pub fn export_folder_ready(folder: &std::path::Path) -> Result<PathBuf, String> {
    if folder.as_os_str().to_string_lossy().trim().is_empty() {
        return Err(NO_EXPORT_FOLDER.into());
    }
    std::fs::create_dir_all(folder)
        .map_err(|e| format!("could not create folder {}: {e}", folder.display()))?;
    Ok(folder
        .canonicalize()
        .unwrap_or_else(|_| folder.to_path_buf()))
}
