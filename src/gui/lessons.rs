//! The Lessons tab: the guided lab. Each lesson shows why it matters, takes
//! the student's prediction, and its Run button sets up the panel it is
//! about (the app applies [`lesson_setup`] to that panel) and runs the
//! lesson's measurement in the background (engine code shared with
//! `parlab lesson run`), holding the one-measurement token. The result sits
//! beside the prediction with its spread and the busy-machine verdict, then
//! the explanation and a question. The lab report and *New student* are at
//! the top. Predictions, answers and the student's name persist.

use crate::engine::exec::task::BackgroundTask;
use crate::engine::lessons::measure::{LessonResult, Measure, worker_count, worker_counts};
use crate::engine::lessons::report::{LabReport, Machine, ReportEntry, now_utc, write_report};
use crate::engine::lessons::{Agreement, Lesson, LessonError, judge};
use crate::gui::measuring::{MeasureGuard, Measuring};
use crate::gui::panel::{Panel, Tab};
use crate::gui::widgets::palette;
use egui::{Color32, RichText};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Longest prediction, answer or name kept (characters).
pub const MAX_TEXT_CHARS: usize = 10_000;

/// What a student typed for one lesson.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LessonEntry {
    pub prediction: String,
    pub answer: String,
}

/// What persists: the student's work and where the report goes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LessonsSettings {
    /// The lesson shown.
    pub selected: u32,
    pub student: String,
    /// By lesson number.
    pub entries: BTreeMap<u32, LessonEntry>,
    /// Folder the lab report is written to.
    pub report_folder: PathBuf,
}

impl Default for LessonsSettings {
    fn default() -> Self {
        LessonsSettings {
            selected: 1,
            student: String::new(),
            entries: BTreeMap::new(),
            report_folder: std::env::temp_dir(),
        }
    }
}

fn capped(s: &mut String) -> bool {
    if s.chars().count() > MAX_TEXT_CHARS {
        *s = s.chars().take(MAX_TEXT_CHARS).collect();
        true
    } else {
        false
    }
}

impl LessonsSettings {
    /// Checks saved values against the lessons loaded: entries of lessons
    /// that do not exist are dropped, over-long text is cut, and a selected
    /// lesson that does not exist becomes the first. Returns what was reset.
    pub fn check(&mut self, lessons: &[Lesson]) -> Vec<String> {
        let mut resets = Vec::new();
        let before = self.entries.len();
        self.entries
            .retain(|n, _| lessons.iter().any(|l| l.number == *n));
        if self.entries.len() != before {
            resets.push("answers of lessons that no longer exist".to_string());
        }
        let mut cut = capped(&mut self.student);
        for e in self.entries.values_mut() {
            cut |= capped(&mut e.prediction);
            cut |= capped(&mut e.answer);
        }
        if cut {
            resets.push(format!("text over {MAX_TEXT_CHARS} characters (cut)"));
        }
        if !lessons.iter().any(|l| l.number == self.selected) {
            self.selected = lessons.first().map_or(1, |l| l.number);
        }
        resets
    }
}

type LessonMessage = Result<LessonResult, LessonError>;

/// A lesson's measurement running in the background.
struct Job {
    number: u32,
    task: BackgroundTask<LessonMessage>,
    cancel: Arc<AtomicBool>,
}

impl Drop for Job {
    fn drop(&mut self) {
        self.cancel.store(true, Ordering::Relaxed);
    }
}

/// The Lessons tab.
pub struct LessonsPanel {
    pub settings: LessonsSettings,
    pub lessons: Vec<Lesson>,
    /// Lesson files that could not be read (name and line).
    pub problems: Vec<String>,
    pub measuring: Measuring,
    results: BTreeMap<u32, LessonResult>,
    errors: BTreeMap<u32, String>,
    job: Option<Job>,
    guard: Option<MeasureGuard>,
    textures: BTreeMap<(u32, usize), egui::TextureHandle>,
    confirm_new_student: bool,
    report_status: Option<Result<String, String>>,
    /// Run was clicked: the app sets up this lesson's panel.
    setup_request: Option<u32>,
    /// "Go to" was clicked.
    goto_request: Option<Tab>,
    /// Run was clicked while another measurement held the token: starts when it ends.
    waiting: Option<u32>,
}

impl LessonsPanel {
    pub fn new(settings: LessonsSettings, lessons: Vec<Lesson>, problems: Vec<String>) -> Self {
        LessonsPanel {
            settings,
            lessons,
            problems,
            measuring: Measuring::default(),
            results: BTreeMap::new(),
            errors: BTreeMap::new(),
            job: None,
            guard: None,
            textures: BTreeMap::new(),
            confirm_new_student: false,
            report_status: None,
            setup_request: None,
            goto_request: None,
            waiting: None,
        }
    }

    pub fn lesson(&self, number: u32) -> Option<&Lesson> {
        self.lessons.iter().find(|l| l.number == number)
    }

    /// The result of lesson `number`'s last run.
    pub fn result(&self, number: u32) -> Option<&LessonResult> {
        self.results.get(&number)
    }

    /// Why lesson `number`'s last run failed.
    pub fn run_error(&self, number: u32) -> Option<&str> {
        self.errors.get(&number).map(String::as_str)
    }

    /// Shows lesson `number` (if it exists).
    pub fn select(&mut self, number: u32) -> bool {
        let exists = self.lesson(number).is_some();
        if exists {
            self.settings.selected = number;
        }
        exists
    }

    pub fn entry_mut(&mut self, number: u32) -> &mut LessonEntry {
        self.settings.entries.entry(number).or_default()
    }

    /// Taken by the app after drawing: the lesson whose panel to set up.
    pub fn take_setup_request(&mut self) -> Option<u32> {
        self.setup_request.take()
    }

    /// Taken by the app after drawing: the tab to show.
    pub fn take_goto_request(&mut self) -> Option<Tab> {
        self.goto_request.take()
    }

    /// Clears every prediction and answer and the results (the student's
    /// name too); keeps the lessons, the report folder and every panel's settings.
    pub fn new_student(&mut self) {
        self.settings.entries.clear();
        self.settings.student.clear();
        self.results.clear();
        self.errors.clear();
        self.textures.clear();
        self.report_status = None;
        self.settings.selected = self.lessons.first().map_or(1, |l| l.number);
    }

    /// Starts lesson `number`'s measurement (and asks the app to set up its
    /// panel). Refused, with the reason shown, while something else measures.
    pub fn run_lesson(&mut self, number: u32, ctx: &egui::Context) {
        let Some(lesson) = self.lesson(number).cloned() else {
            return;
        };
        if self.job.is_some() {
            return;
        }
        self.setup_request = Some(number);
        let guard = match self.measuring.try_begin(&format!("lesson {number}")) {
            Ok(g) => g,
            Err(holder) => {
                // Waits for the token, as a render or a sweep does.
                self.waiting = Some(number);
                self.errors.insert(
                    number,
                    Measuring::wait_message(&holder, &format!("lesson {number}")),
                );
                return;
            }
        };
        self.waiting = None;
        self.errors.remove(&number);
        let cancel = Arc::new(AtomicBool::new(false));
        let notify = crate::gui::widgets::drain::repaint_notifier(ctx);
        let body_cancel = cancel.clone();
        let measure = lesson.measure.clone();
        let spawned = BackgroundTask::spawn(
            "parlab-lesson",
            Some(notify),
            move |e: &crate::engine::exec::task::Emitter<LessonMessage>| {
                let r = crate::engine::lessons::run(number, &measure, &body_cancel);
                e.finish(r);
            },
        );
        match spawned {
            Ok(task) => {
                self.guard = Some(guard);
                self.job = Some(Job {
                    number,
                    task,
                    cancel,
                });
            }
            Err(e) => {
                self.errors
                    .insert(number, format!("could not start the measurement: {e}"));
            }
        }
    }

    /// The lesson being measured, if any.
    pub fn running(&self) -> Option<u32> {
        self.job.as_ref().map(|j| j.number)
    }

    /// Starts a waiting run once the token is free; takes in a finished
    /// measurement and gives the token back.
    fn poll(&mut self, ctx: &egui::Context) {
        if let Some(n) = self.waiting
            && self.job.is_none()
            && !self.measuring.is_busy()
        {
            self.run_lesson(n, ctx);
        }
        let Some(job) = &self.job else { return };
        let number = job.number;
        if let Some(message) = job.task.try_next() {
            match message {
                Ok(r) => {
                    self.textures.retain(|(n, _), _| *n != number);
                    self.results.insert(number, r);
                }
                Err(e) => {
                    self.errors.insert(number, e.to_string());
                }
            }
            self.job = None;
            self.guard = None;
        } else if job.task.is_finished() && job.task.try_next().is_none() {
            self.errors
                .insert(number, "the measurement ended without a result".into());
            self.job = None;
            self.guard = None;
        }
    }

    fn stop(&mut self) {
        self.waiting = None;
        if let Some(job) = self.job.take() {
            job.cancel.store(true, Ordering::Relaxed);
            self.errors.insert(job.number, "stopped".into());
        }
        self.guard = None;
    }

    /// Writes the lab report (HTML and Markdown with PNGs) to the report folder.
    pub fn write_report(&mut self) -> Result<String, String> {
        let empty = LessonEntry::default();
        let entries = self
            .lessons
            .iter()
            .map(|l| {
                let e = self.settings.entries.get(&l.number).unwrap_or(&empty);
                ReportEntry {
                    lesson: l,
                    prediction: &e.prediction,
                    answer: &e.answer,
                    result: self.results.get(&l.number),
                }
            })
            .collect();
        let report = LabReport {
            student: &self.settings.student,
            date: now_utc(),
            machine: Machine::current(),
            entries,
        };
        let r = write_report(&self.settings.report_folder, &report)
            .map(|f| {
                format!(
                    "wrote {} and {} (+{} PNG)",
                    f.html.display(),
                    f.markdown.display(),
                    f.pngs.len()
                )
            })
            .map_err(|e| e.to_string());
        self.report_status = Some(r.clone());
        r
    }

    fn header_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            let label = ui.label("Student:");
            ui.add(
                egui::TextEdit::singleline(&mut self.settings.student)
                    .desired_width(180.0)
                    .hint_text("your name"),
            )
            .labelled_by(label.id);
            ui.separator();
            let label = ui.label("Report folder:");
            let mut folder = self.settings.report_folder.display().to_string();
            if ui
                .add(egui::TextEdit::singleline(&mut folder).desired_width(220.0))
                .labelled_by(label.id)
                .changed()
            {
                self.settings.report_folder = PathBuf::from(folder);
            }
            if ui
                .button("Write lab report")
                .on_hover_text(
                    "HTML (plots inside, print it to PDF from a browser) and Markdown with PNGs",
                )
                .clicked()
            {
                let _ = self.write_report();
            }
            ui.separator();
            if self.confirm_new_student {
                ui.label(RichText::new("Clear every prediction and answer?").color(palette::WARN));
                if ui.button("Yes, clear").clicked() {
                    self.new_student();
                    self.confirm_new_student = false;
                }
                if ui.button("Cancel").clicked() {
                    self.confirm_new_student = false;
                }
            } else if ui
                .button("New student")
                .on_hover_text(
                    "clears predictions, answers and results; keeps every panel's settings",
                )
                .clicked()
            {
                self.confirm_new_student = true;
            }
        });
        match &self.report_status {
            Some(Ok(m)) => {
                ui.label(RichText::new(m).color(palette::GOOD));
            }
            Some(Err(m)) => {
                ui.label(RichText::new(format!("report not written: {m}")).color(palette::BAD));
            }
            None => {}
        }
        for p in &self.problems {
            ui.label(RichText::new(format!("lesson file skipped: {p}")).color(palette::WARN));
        }
    }

    fn list_ui(&mut self, ui: &mut egui::Ui) {
        for l in &self.lessons {
            let mark = match (
                self.results.get(&l.number),
                self.settings.entries.get(&l.number),
            ) {
                (Some(_), _) => "* ",
                (None, Some(e)) if !e.prediction.is_empty() => "~ ",
                _ => "   ",
            };
            let text = format!("{mark}{}. {}", l.number, l.title);
            if ui
                .selectable_label(self.settings.selected == l.number, text)
                .clicked()
            {
                self.settings.selected = l.number;
            }
        }
    }

    fn lesson_ui(&mut self, ui: &mut egui::Ui, lesson: &Lesson) {
        let n = lesson.number;
        ui.heading(format!("{}. {}", n, lesson.title));
        ui.label(&lesson.why);
        ui.add_space(6.0);
        let has_result = self.results.contains_key(&n);
        let running = self.running() == Some(n);
        ui.label(RichText::new("Your prediction").strong());
        let prompt = ui.label(&lesson.prediction.prompt);
        let locked = has_result || running;
        ui.add_enabled_ui(!locked, |ui| {
            let entry = self.settings.entries.entry(n).or_default();
            if lesson.prediction.is_choice() {
                ui.horizontal_wrapped(|ui| {
                    for c in &lesson.prediction.choices {
                        ui.radio_value(&mut entry.prediction, c.clone(), c);
                    }
                });
            } else {
                ui.horizontal(|ui| {
                    ui.add(
                        egui::TextEdit::singleline(&mut entry.prediction)
                            .desired_width(100.0)
                            .hint_text("a number"),
                    )
                    .labelled_by(prompt.id);
                    ui.label(&lesson.prediction.unit);
                });
            }
        });
        if locked {
            ui.weak("(the prediction is fixed once the lesson has run; New student clears it)");
        }
        ui.add_space(6.0);
        ui.horizontal(|ui| {
            let busy = self.job.is_some();
            if ui
                .add_enabled(!busy, egui::Button::new(format!("Run lesson {n}")))
                .on_hover_text(format!(
                    "sets up the {} tab and measures ({})",
                    lesson.panel,
                    lesson.measure.kind()
                ))
                .clicked()
            {
                self.run_lesson(n, ui.ctx());
            }
            if self.waiting == Some(n) && ui.button("Cancel").clicked() {
                self.stop();
            }
            if running {
                ui.spinner();
                ui.label("measuring…");
                if ui.button("Stop").clicked() {
                    self.stop();
                }
            }
            if let Ok(tab) = Tab::from_slug(&lesson.panel)
                && ui.button(format!("Go to {}", tab.label())).clicked()
            {
                self.setup_request = Some(n);
                self.goto_request = Some(tab);
            }
        });
        if let Some(e) = self.errors.get(&n) {
            ui.label(RichText::new(e).color(palette::BAD));
        }
        if let Some(r) = self.results.get(&n).cloned() {
            self.result_ui(ui, lesson, &r);
        }
        ui.add_space(8.0);
        ui.label(RichText::new("Question").strong());
        let question = ui.label(&lesson.question);
        let entry = self.settings.entries.entry(n).or_default();
        ui.add(
            egui::TextEdit::multiline(&mut entry.answer)
                .desired_rows(4)
                .desired_width(f32::INFINITY)
                .hint_text("your answer"),
        )
        .labelled_by(question.id);
    }

    fn result_ui(&mut self, ui: &mut egui::Ui, lesson: &Lesson, r: &LessonResult) {
        let n = lesson.number;
        ui.add_space(6.0);
        ui.label(RichText::new("Result").strong());
        let entered = self
            .settings
            .entries
            .get(&n)
            .map(|e| e.prediction.clone())
            .unwrap_or_default();
        let v = judge(&lesson.prediction, &entered, r);
        let colour = match v.agreement {
            Agreement::Right => palette::GOOD,
            Agreement::Wrong => palette::BAD,
            _ => palette::WARN,
        };
        egui::Grid::new(("lesson-vs", n))
            .num_columns(2)
            .show(ui, |ui| {
                ui.label("predicted");
                ui.label(if entered.is_empty() {
                    "-".to_string()
                } else {
                    format!(
                        "{entered} {}",
                        if lesson.prediction.is_choice() {
                            ""
                        } else {
                            lesson.prediction.unit.as_str()
                        }
                    )
                });
                ui.end_row();
                ui.label("measured");
                ui.label(RichText::new(&v.measured).strong());
                ui.end_row();
            });
        ui.label(RichText::new(&v.words).color(colour));
        let busy_colour = if r.machine_busy() {
            palette::BAD
        } else {
            Color32::GRAY
        };
        ui.label(RichText::new(r.busy_verdict()).color(busy_colour));
        egui::CollapsingHeader::new(format!("All figures ({})", r.figures.len()))
            .id_salt(("lesson-figures", n))
            .show(ui, |ui| {
                egui::Grid::new(("lesson-figures-grid", n))
                    .striped(true)
                    .num_columns(2)
                    .show(ui, |ui| {
                        for f in &r.figures {
                            ui.label(&f.label);
                            ui.label(f.show());
                            ui.end_row();
                        }
                    });
                for note in &r.notes {
                    ui.weak(note);
                }
            });
        for (k, plot) in r.plots.iter().enumerate() {
            let key = (n, k);
            if !self.textures.contains_key(&key)
                && let Ok(img) =
                    image::load_from_memory_with_format(&plot.png, image::ImageFormat::Png)
            {
                let rgba = img.to_rgba8();
                let size = [rgba.width() as usize, rgba.height() as usize];
                let ci = egui::ColorImage::from_rgba_unmultiplied(size, rgba.as_raw());
                let tex = ui.ctx().load_texture(
                    format!("lesson-{n}-plot-{k}"),
                    ci,
                    egui::TextureOptions::LINEAR,
                );
                self.textures.insert(key, tex);
            }
            if let Some(tex) = self.textures.get(&key) {
                let w = ui.available_width().min(640.0);
                let [tw, th] = tex.size();
                let h = w * th as f32 / tw.max(1) as f32;
                ui.add(egui::Image::new((tex.id(), egui::vec2(w, h))));
            }
        }
        ui.add_space(6.0);
        ui.label(RichText::new("What happened").strong());
        ui.label(&lesson.explain);
    }
}

impl Panel for LessonsPanel {
    fn ui(&mut self, ui: &mut egui::Ui) {
        self.poll(&ui.ctx().clone());
        self.header_ui(ui);
        ui.separator();
        let selected = self.settings.selected;
        egui::Panel::left("lessons-list")
            .resizable(true)
            .default_size(300.0)
            .show(ui, |ui| {
                egui::ScrollArea::vertical()
                    .id_salt("lessons-list-scroll")
                    .show(ui, |ui| self.list_ui(ui));
            });
        egui::CentralPanel::default().show(ui, |ui| {
            egui::ScrollArea::vertical()
                .id_salt("lesson-scroll")
                .show(ui, |ui| match self.lesson(selected).cloned() {
                    Some(l) => self.lesson_ui(ui, &l),
                    None => {
                        ui.label("No lessons loaded.");
                    }
                });
        });
        // Drawing a lesson makes its entry; only what was typed is kept.
        self.settings
            .entries
            .retain(|_, e| *e != LessonEntry::default());
    }

    fn is_idle(&self) -> bool {
        self.job.is_none() && self.waiting.is_none()
    }

    fn error(&self) -> Option<String> {
        self.errors.get(&self.settings.selected).cloned()
    }

    fn start_work(&mut self, ctx: &egui::Context) {
        let n = self.settings.selected;
        if !self.results.contains_key(&n) {
            self.run_lesson(n, ctx);
        }
    }

    fn while_hidden(&mut self, ctx: &egui::Context) {
        self.poll(ctx);
    }
}

/// Sets up the panel a lesson is about from its measurement's settings, as
/// a student would by hand (the panels stay fully usable).
pub fn lesson_setup(app: &mut crate::gui::app::App, lesson: &Lesson) {
    let cores = crate::engine::exec::pool::logical_cores();
    match &lesson.measure {
        Measure::Render {
            center,
            view_width,
            max_iter,
            variants,
            ..
        } => {
            let e = &mut app.explorer;
            if let Some(v) = variants.first() {
                if let Ok(n) = worker_count(&v.workers, cores) {
                    e.settings.num_workers = n;
                }
                if let Ok(s) = v.schedule.parse() {
                    e.settings.schedule = s;
                }
                if let Ok(t) = v.tile.parse() {
                    e.settings.tiling = t;
                }
            }
            e.set_overlay(true);
            let base = e.view();
            if let Ok(view) = crate::engine::mandelbrot::view::View::new(
                (center[0], center[1]),
                *view_width,
                base.width_px(),
                base.height_px(),
                *max_iter,
            ) {
                e.set_view(view, true);
            }
        }
        Measure::Sweep {
            workload,
            workers,
            granularities,
            schedule,
            reps,
            warmup,
            ..
        } => {
            let s = &mut app.speedup.settings;
            let (name, params) = workload.split_once(':').unwrap_or((workload, ""));
            s.workload = name.to_string();
            s.workload_params = params.to_string();
            if let Ok(list) = worker_counts(workers, cores) {
                s.workers = list
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(",");
            }
            if let Some(g) = granularities {
                s.granularities = g.clone();
            }
            if let Ok(sch) = schedule.parse() {
                s.schedule = sch;
            }
            s.reps = *reps;
            s.warmup = *warmup;
        }
        Measure::Python {
            program,
            workers,
            reps,
            ..
        } => {
            let s = &mut app.python.settings;
            s.source = crate::gui::python::Source::shipped(program);
            if let Ok(list) = worker_counts(workers, cores) {
                s.sweep_workers = list
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(",");
            }
            s.sweep_reps = *reps;
        }
        Measure::Race { presets, .. } => {
            if let Some(p) = presets
                .first()
                .and_then(|p| crate::engine::lessons::measure::race_preset(p))
            {
                app.race.apply_preset(p);
            }
        }
        Measure::Locks {
            kinds,
            threads,
            ops,
            repeats,
        } => {
            let parsed: Vec<_> = kinds.iter().filter_map(|k| k.parse().ok()).collect();
            if let Ok(t) = worker_counts(threads, cores) {
                app.locks.throughput.thread_counts = t;
            }
            app.locks.throughput.kinds = parsed;
            app.locks.throughput.ops = *ops;
            app.locks.throughput.repeats = *repeats;
        }
        Measure::Workspan {
            n, cutoff, workers, ..
        } => {
            app.theory.matmul_n = *n;
            app.theory.matmul_cutoff = *cutoff;
            if let Ok(w) = worker_count(workers, cores) {
                app.theory.brent_workers = w;
            }
        }
        Measure::Gridsearch {
            tasks,
            task_ms,
            deadline_ms,
            ..
        } => {
            app.theory.grid_tasks = *tasks;
            app.theory.grid_task_s = *task_ms as f64 / 1000.0;
            app.theory.grid_deadline_s = *deadline_ms as f64 / 1000.0;
        }
    }
}
