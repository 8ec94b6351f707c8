//! Exports from the explorer: the image (with or without the worker overlay)
//! as PNG at full resolution, and the timeline as Chrome Trace JSON. Either
//! through an in-app save dialog (egui_file) or a quick export into a folder.
//! Files go through `engine::export`, which writes a temporary file and renames it.

use crate::engine::exec::trace::Trace;
use crate::engine::util::files::{ExportError, write_png, write_trace};
use crate::gui::explorer::canvas::Canvas;
use crate::gui::speedup::export_folder_ready;
use crate::gui::widgets::palette;
use egui::RichText;
use egui_file::FileDialog;
use std::path::{Path, PathBuf};

/// What to export.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportKind {
    Png { overlay: bool },
    ChromeTrace,
}

impl ExportKind {
    pub const ALL: [ExportKind; 3] = [
        ExportKind::Png { overlay: false },
        ExportKind::Png { overlay: true },
        ExportKind::ChromeTrace,
    ];
    pub fn label(&self) -> &'static str {
        match self {
            ExportKind::Png { overlay: false } => "image PNG",
            ExportKind::Png { overlay: true } => "image PNG + overlay",
            ExportKind::ChromeTrace => "timeline (Chrome Trace JSON)",
        }
    }
    fn file_suffix(&self) -> &'static str {
        match self {
            ExportKind::Png { overlay: false } => "image.png",
            ExportKind::Png { overlay: true } => "overlay.png",
            ExportKind::ChromeTrace => "trace.json",
        }
    }
}

/// Writes one export to `path`.
pub fn write_export(
    kind: ExportKind,
    path: &Path,
    canvas: &Canvas,
    trace: &Trace,
) -> Result<(), ExportError> {
    match kind {
        ExportKind::Png { overlay } => write_png(path, &canvas.export_image(overlay)),
        ExportKind::ChromeTrace => write_trace(path, trace, "tile"),
    }
}

/// Writes `parlab-YYYYMMDD-HHMMSS-<suffix>` into `folder` (created if
/// missing; an empty folder is refused).
pub fn quick_export(
    kind: ExportKind,
    folder: &Path,
    canvas: &Canvas,
    trace: &Trace,
) -> Result<PathBuf, String> {
    let folder = &export_folder_ready(folder)?;
    let mut path = folder.join(format!("parlab-{}-{}", timestamp(), kind.file_suffix()));
    // Two exports in the same second get distinct names.
    let mut k = 2;
    while path.exists() {
        path = folder.join(format!("parlab-{}-{k}-{}", timestamp(), kind.file_suffix()));
        k += 1;
    }
    write_export(kind, &path, canvas, trace).map_err(|e| e.to_string())?;
    Ok(path)
}

/// UTC time as `YYYYMMDD-HHMMSS`.
pub fn timestamp() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (y, m, d) = crate::engine::util::dates::civil_from_days((secs / 86_400) as i64);
    let s = secs % 86_400;
    format!(
        "{y:04}{m:02}{d:02}-{:02}{:02}{:02}",
        s / 3600,
        (s / 60) % 60,
        s % 60
    )
}

/// The save dialog for `what`, opened in `folder`. egui_file puts a floppy
/// glyph before any title and draws its own navigation and file icons; the
/// emoji fonts this build enables (egui's `monochrome_emoji_fonts`) have them.
pub fn save_dialog(folder: PathBuf, file_name: String, what: &str) -> FileDialog {
    FileDialog::save_file()
        .initial_path(folder)
        .default_filename(file_name)
        .title(&format!("Save {what}"))
        .show_rename(false)
}

/// The export section's runtime state (dialog, last result).
#[derive(Default)]
pub struct ExportState {
    dialog: Option<(FileDialog, ExportKind)>,
    /// Last outcome: Ok(path written) or Err(why not).
    pub last: Option<Result<PathBuf, String>>,
}

impl ExportState {
    /// The folder the open save dialog shows, if one is open.
    pub fn dialog_folder(&self) -> Option<&Path> {
        self.dialog.as_ref().map(|(d, _)| d.directory())
    }

    /// Buttons for every export; `ready` is false while the image is incomplete.
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        folder: &mut PathBuf,
        canvas: Option<&Canvas>,
        trace: &Trace,
        ready: bool,
    ) {
        ui.horizontal(|ui| {
            ui.label("Quick export to");
            let mut text = folder.display().to_string();
            if ui
                .add(egui::TextEdit::singleline(&mut text).desired_width(180.0))
                .on_hover_text("folder for quick exports; created if missing")
                .changed()
            {
                *folder = PathBuf::from(text);
            }
        });
        if !ready {
            ui.label(RichText::new("(the render is not complete yet)").weak());
        }
        for kind in ExportKind::ALL {
            ui.horizontal(|ui| {
                let enabled = canvas.is_some();
                if ui
                    .add_enabled(
                        enabled,
                        egui::Button::new(format!("Quick: {}", kind.label())),
                    )
                    .clicked()
                    && let Some(c) = canvas
                {
                    self.last = Some(quick_export(kind, folder, c, trace));
                }
                if ui
                    .add_enabled(enabled, egui::Button::new("Save as…"))
                    .on_hover_text(format!("choose where to save the {}", kind.label()))
                    .clicked()
                {
                    // The dialog opens in the export folder (made if missing).
                    match export_folder_ready(folder) {
                        Ok(start) => {
                            let name = format!("parlab-{}-{}", timestamp(), kind.file_suffix());
                            let mut d = save_dialog(start, name, kind.label());
                            d.open();
                            self.dialog = Some((d, kind));
                        }
                        Err(e) => self.last = Some(Err(e)),
                    }
                }
            });
        }
        if let Some((dialog, kind)) = &mut self.dialog {
            let kind = *kind;
            if dialog.show(ui.ctx()).selected() {
                if let (Some(path), Some(c)) = (dialog.path().map(Path::to_path_buf), canvas) {
                    self.last = Some(
                        write_export(kind, &path, c, trace)
                            .map(|()| path)
                            .map_err(|e| e.to_string()),
                    );
                }
                self.dialog = None;
            } else if !dialog.visible() {
                self.dialog = None;
            }
        }
        match &self.last {
            Some(Ok(p)) => {
                ui.label(RichText::new(format!("Wrote {}", p.display())).color(palette::GOOD));
            }
            Some(Err(e)) => {
                ui.label(RichText::new(e).color(palette::BAD));
            }
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn civil_dates() {
        assert_eq!(crate::engine::util::dates::civil_from_days(0), (1970, 1, 1));
        assert_eq!(
            crate::engine::util::dates::civil_from_days(19_723),
            (2024, 1, 1)
        );
        assert_eq!(
            crate::engine::util::dates::civil_from_days(19_782),
            (2024, 2, 29)
        );
    }
}
