//! The Python tab's controls: program or file, workers, mode, start method
//! and timeout, Run and Cancel, the trace to open, and the file dialogs.

use super::{DialogFor, MAX_TIMEOUT_S, Mode, PythonPanel, Source, max_workers};
use crate::engine::python::programs::PROGRAMS;
use crate::engine::python::runner::StartMethod;
use egui::RichText;
use egui_file::FileDialog;
use std::path::Path;

impl PythonPanel {
    pub(super) fn controls_ui(&mut self, ui: &mut egui::Ui) {
        let busy = self.runtime.task.is_some();
        ui.horizontal_wrapped(|ui| {
            let s = &mut self.settings;
            let selected = match &s.source {
                Source::Shipped(name) => name.clone(),
                Source::File => "a file...".to_string(),
            };
            crate::gui::widgets::labelled::combo(
                ui,
                "program",
                "program-combo",
                &(selected).to_string(),
                |ui| {
                    for p in PROGRAMS {
                        ui.selectable_value(&mut s.source, Source::shipped(p.name), p.name)
                            .on_hover_text(p.title());
                    }
                    ui.selectable_value(&mut s.source, Source::File, "a file...");
                },
            );
            if s.source == Source::File {
                let l = ui.label("file");
                ui.add(
                    egui::TextEdit::singleline(&mut s.file_path)
                        .hint_text("path/to/script.py")
                        .desired_width(240.0),
                )
                .labelled_by(l.id);
                if ui
                    .button("Browse...")
                    .on_hover_text("choose a Python file")
                    .clicked()
                {
                    self.runtime.dialog = Some(open_dialog(
                        &s.file_path,
                        "Open a Python file",
                        DialogFor::Script,
                    ));
                }
            }
        });
        if let Some(p) = self.settings.source.program() {
            ui.label(RichText::new(p.title()).strong());
            ui.label(p.description());
        }
        let knobs = self.knobs();
        ui.horizontal_wrapped(|ui| {
            let s = &mut self.settings;
            ui.add_enabled_ui(knobs.workers, |ui| {
                crate::gui::widgets::labelled::drag(
                    ui,
                    "workers",
                    &mut s.workers,
                    1..=max_workers(),
                    "",
                );
            });
            ui.add_enabled_ui(knobs.mode, |ui| {
                ui.selectable_value(&mut s.mode, Mode::Threads, "threads");
                ui.selectable_value(&mut s.mode, Mode::Processes, "processes");
            });
            ui.add_enabled_ui(knobs.processes, |ui| {
                ui.label("start method");
                ui.selectable_value(&mut s.start_method, None, "default");
                ui.selectable_value(&mut s.start_method, Some(StartMethod::Fork), "fork");
                ui.selectable_value(&mut s.start_method, Some(StartMethod::Spawn), "spawn");
            });
            crate::gui::widgets::labelled::drag(
                ui,
                "timeout s",
                &mut s.timeout_s,
                1.0..=MAX_TIMEOUT_S,
                "",
            );
        });
        ui.horizontal_wrapped(|ui| {
            let can_run = !busy && !self.runtime.pending_run;
            if ui.add_enabled(can_run, egui::Button::new("Run")).clicked() {
                self.start_run(&ui.ctx().clone());
            }
            let pending = self.runtime.pending_run;
            if ui
                .add_enabled(busy || pending, egui::Button::new("Cancel"))
                .clicked()
            {
                if let Some(t) = &self.runtime.task {
                    t.cancel();
                }
                if pending {
                    self.runtime.pending_run = false;
                    if !self.runtime.pending_sweep {
                        self.runtime.waiting = None;
                    }
                }
            }
            ui.separator();
            let l = ui.label("trace");
            ui.add(
                egui::TextEdit::singleline(&mut self.settings.trace_path)
                    .hint_text("trace.json (Chrome trace)")
                    .desired_width(220.0),
            )
            .labelled_by(l.id);
            if ui
                .add_enabled(!busy, egui::Button::new("Browse trace..."))
                .on_hover_text("choose a Chrome trace (JSON) to open")
                .clicked()
            {
                self.runtime.dialog = Some(open_dialog(
                    &self.settings.trace_path,
                    "Open trace",
                    DialogFor::Trace,
                ));
            }
            if ui
                .add_enabled(
                    !busy && !self.settings.trace_path.trim().is_empty(),
                    egui::Button::new("Open trace"),
                )
                .clicked()
            {
                self.start_open(&ui.ctx().clone());
            }
        });
    }

    /// The open file dialog, while shown: a chosen script fills the file
    /// path; a chosen trace fills the trace path and is opened.
    pub(super) fn dialog_ui(&mut self, ctx: &egui::Context) {
        let Some((dialog, what)) = &mut self.runtime.dialog else {
            return;
        };
        let what = *what;
        if dialog.show(ctx).selected() {
            let chosen = dialog.path().map(|p| p.display().to_string());
            self.runtime.dialog = None;
            if let Some(path) = chosen {
                match what {
                    DialogFor::Script => {
                        self.settings.file_path = path;
                        self.settings.source = Source::File;
                    }
                    DialogFor::Trace => {
                        self.settings.trace_path = path;
                        if self.runtime.task.is_none() {
                            self.start_open(ctx);
                        }
                    }
                }
            }
        } else if !dialog.visible() {
            self.runtime.dialog = None;
        }
    }
}

/// A file dialog to open a file, starting in the folder of `current` when
/// that is a path to something that exists, else in the working folder.
fn open_dialog(current: &str, title: &str, what: DialogFor) -> (FileDialog, DialogFor) {
    let current = Path::new(current.trim());
    let start = if current.is_dir() {
        Some(current.to_path_buf())
    } else {
        current
            .parent()
            .filter(|p| p.is_dir() && !p.as_os_str().is_empty())
            .map(Path::to_path_buf)
    };
    let mut d = FileDialog::open_file()
        .initial_path(start.unwrap_or_else(|| std::env::current_dir().unwrap_or_default()))
        .title(title);
    d.open();
    (d, what)
}
