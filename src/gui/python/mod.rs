//! The Python tab: run a shipped course program (or a file) under real
//! CPython, or open a Chrome trace, and see every worker process and thread
//! on the shared timeline: tasks in worker colours, worker start-up bars,
//! CPU/wall per task (the GIL made visible), the script's output; and a
//! sweep over workers x {threads, processes} on the speedup lab's plot.
//!
//! All work runs on background threads (`BackgroundTask`); the script's
//! output reaches the window through a shared buffer, so the runner never
//! waits for the UI. Dropping the panel cancels the run and kills the
//! script's process group. The choices persist ([`PythonSettings`]); the
//! runtime (tasks, what is shown, dialogs) is kept apart and never saved.
//!
//! A run or a sweep is a measurement: it takes the window's one-measurement
//! token (waiting, with a message naming the holder, while another panel
//! measures), and other processes' CPU is measured over it (the interpreter
//! and its workers counted as the run's own) for the busy-machine flag.

mod export;

use crate::engine::exec::activity::Activity;
use crate::engine::exec::other_cpu::{BUSY_RULE, OtherCpu, OtherCpuMeter};
use crate::engine::exec::pool::{MAX_WORKERS, logical_cores};
use crate::engine::exec::task::Notify;
use crate::engine::exec::task::{BackgroundTask, Emitter};
use crate::engine::exec::trace::Trace;
use crate::engine::python::chrome::{Imported, import_file};
use crate::engine::python::lanes::{LaneTrace, LaneTraceSummary};
use crate::engine::python::programs::{self, PROGRAMS, Program};
use crate::engine::python::runner::{self, RunOutcome, RunPlan, Script, StartMethod};
use crate::engine::python::sweep::{ModeSweep, cpu_per_wall, sweep_modes};
use crate::engine::speedup::charts::data::{SpeedupChart, overlay_speedup_charts, speedup_chart};
use crate::gui::measuring::{MeasureGuard, Measuring};
use crate::gui::speedup::plots::speedup_plot_ui;
use crate::gui::widgets::activity::{activity_strip_ui, concurrency_histogram_ui};
use crate::gui::widgets::palette;
use crate::gui::widgets::timeline::{TimelineCache, TimelineOptions, fmt_ms, timeline_ui};
use egui::{Color32, Pos2, Rect, RichText};
use egui_file::FileDialog;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Lane height of the Python timeline, points.
const LANE_H: f32 = 18.0;
/// Lane-label column: wide enough for `ForkPoolWorker-12 pid 123456`.
const LANE_LABEL_W: f32 = 180.0;
/// Start-up bars: drawn over the lane, thinner than a task.
const STARTUP_COLOUR: Color32 = Color32::from_gray(150);
/// Output shown live, at most (the runner keeps everything up to its cap).
const LIVE_OUTPUT_CHARS: usize = 64 * 1024;
/// Rows of the per-task table.
const TASK_ROWS: usize = 500;

/// Threads or processes (passed to the program as `--mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Mode {
    Threads,
    Processes,
}

impl Mode {
    fn arg(self) -> &'static str {
        match self {
            Mode::Threads => "threads",
            Mode::Processes => "processes",
        }
    }
}

/// Where the script comes from: a shipped program by name (`pool_primes`),
/// or the file at [`PythonSettings::file_path`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Source {
    Shipped(String),
    File,
}

impl Source {
    /// The shipped program called `name`.
    pub fn shipped(name: &str) -> Source {
        Source::Shipped(name.to_string())
    }

    /// The shipped program, if this is one that exists.
    pub fn program(&self) -> Option<&'static Program> {
        match self {
            Source::Shipped(name) => programs::find(name),
            Source::File => None,
        }
    }
}

/// The most workers the tab offers: 4x the logical cores (within the pool's limit).
pub fn max_workers() -> usize {
    (4 * logical_cores().max(1)).min(MAX_WORKERS)
}

/// Timed runs per configuration of a sweep, at most.
pub const MAX_SWEEP_REPS: u32 = 50;
/// Longest timeout the tab offers, seconds.
pub const MAX_TIMEOUT_S: f64 = 3600.0;

/// The tab's choices, saved with the window's other settings (checked on
/// load: see `gui::settings`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PythonSettings {
    pub source: Source,
    /// The script run when [`Source::File`] is chosen.
    pub file_path: String,
    /// The Chrome trace "Open trace" reads.
    pub trace_path: String,
    pub workers: usize,
    pub mode: Mode,
    /// `None`: the interpreter's default start method.
    pub start_method: Option<StartMethod>,
    pub timeout_s: f64,
    /// Worker counts of the sweep, comma-separated.
    pub sweep_workers: String,
    /// Timed runs per configuration of the sweep.
    pub sweep_reps: u32,
    /// Folder the sweep's export buttons write to.
    pub export_folder: PathBuf,
}

impl Default for PythonSettings {
    fn default() -> Self {
        PythonSettings {
            source: Source::shipped("pool_primes"),
            file_path: String::new(),
            trace_path: String::new(),
            workers: logical_cores().clamp(1, 4),
            mode: Mode::Processes,
            start_method: None,
            timeout_s: 120.0,
            sweep_workers: "1,2,4,8".into(),
            sweep_reps: 3,
            export_folder: PathBuf::from("parlab-python"),
        }
    }
}

/// The sweep's worker counts from `text` (`1,2,4,8`): each 1..=[`max_workers`].
pub fn parse_sweep_workers(text: &str) -> Result<Vec<usize>, String> {
    let max = max_workers();
    let workers: Vec<usize> = text
        .split(',')
        .map(|w| {
            w.trim()
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=max).contains(n))
                .ok_or_else(|| format!("{w:?} is not a worker count (1..={max}, 4x cores)"))
        })
        .collect::<Result<_, _>>()?;
    Ok(workers)
}

/// What the background tasks send back.
enum PyMsg {
    /// The run, and other processes' CPU over it.
    Ran(Result<RunOutcome, String>, Option<OtherCpu>),
    Opened(Result<(PathBuf, Imported), String>),
    SweepProgress(&'static str, usize, usize),
    Swept(Result<Vec<ModeSweep>, String>),
}

/// A trace on screen, with what is derived from it once.
struct Shown {
    title: String,
    lanes: LaneTrace,
    /// The timeline's lane names (`ForkPoolWorker-3 pid 4812`).
    lane_labels: Vec<String>,
    trace: Trace,
    summary: LaneTraceSummary,
    /// For a run: how it ended, output, interpreter.
    outcome: Option<RunOutcome>,
    /// For an opened file: what was left out.
    note: String,
    /// Busy lanes over time and the concurrency histogram.
    activity: Activity,
    /// For a run: other processes' CPU over it.
    other_cpu: Option<OtherCpu>,
}

impl Shown {
    fn new(title: String, lanes: LaneTrace, outcome: Option<RunOutcome>, note: String) -> Self {
        let trace = lanes.to_trace();
        Shown {
            title,
            lane_labels: lanes.lanes.iter().map(|l| l.short_label()).collect(),
            activity: Activity::of(&trace),
            other_cpu: None,
            trace,
            summary: lanes.summary(),
            lanes,
            outcome,
            note,
        }
    }
}

/// Sets the flag when dropped: the sweep's runs stop, their groups killed.
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Which text field a file dialog fills.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DialogFor {
    Script,
    Trace,
}

#[derive(Default)]
struct Runtime {
    dialog: Option<(FileDialog, DialogFor)>,
    export_message: Option<Result<String, String>>,
    task: Option<BackgroundTask<PyMsg>>,
    live_output: Arc<Mutex<String>>,
    shown: Option<Shown>,
    error: Option<String>,
    cache: TimelineCache,
    sweep_task: Option<BackgroundTask<PyMsg>>,
    sweep_cancel: Option<CancelOnDrop>,
    sweep_progress: Option<(&'static str, usize, usize)>,
    sweeps: Vec<ModeSweep>,
    sweep_error: Option<String>,
    /// The one-measurement token, held while a run or a sweep measures.
    run_guard: Option<MeasureGuard>,
    sweep_guard: Option<MeasureGuard>,
    /// A run or a sweep waiting for another panel's measurement to end.
    pending_run: bool,
    pending_sweep: bool,
    /// Why it waits (names the holder).
    waiting: Option<String>,
}

/// The Python tab: its saved choices and its runtime, kept apart.
#[derive(Default)]
pub struct PythonPanel {
    pub settings: PythonSettings,
    /// The window's one-measurement token (the app shares its own).
    pub measuring: Measuring,
    runtime: Runtime,
}

fn notifier(ctx: &egui::Context) -> Notify {
    let ctx = ctx.clone();
    Arc::new(move || ctx.request_repaint())
}

impl PythonPanel {
    /// The tab with saved (already checked) choices.
    pub fn new(settings: PythonSettings) -> Self {
        PythonPanel {
            settings,
            measuring: Measuring::default(),
            runtime: Runtime::default(),
        }
    }

    /// A run, an open or a sweep is in progress or waiting to start.
    pub fn is_busy(&self) -> bool {
        self.runtime.task.is_some()
            || self.runtime.sweep_task.is_some()
            || self.runtime.pending_run
            || self.runtime.pending_sweep
    }

    /// Why a run or a sweep waits, naming who measures, if one does.
    pub fn waiting(&self) -> Option<&str> {
        self.runtime.waiting.as_deref()
    }

    /// Takes the one-measurement token for `what`, or notes why not
    /// (`Err`: the caller marks its start pending).
    fn take_token(&mut self, what: &str, short: &str) -> Result<MeasureGuard, ()> {
        match self.measuring.try_begin(what) {
            Ok(g) => Ok(g),
            Err(holder) => {
                self.runtime.waiting = Some(Measuring::wait_message(&holder, short));
                Err(())
            }
        }
    }

    /// Called every frame whichever tab is shown: takes in what the
    /// background work sent (so the token is given back when it ends) and
    /// starts a waiting run or sweep once the token is free.
    pub fn tick(&mut self, ctx: &egui::Context) {
        self.drain(ctx);
        if self.measuring.is_busy() {
            if self.runtime.pending_run || self.runtime.pending_sweep {
                ctx.request_repaint_after(Duration::from_millis(200));
            }
            return;
        }
        if self.runtime.pending_run && self.runtime.task.is_none() {
            self.start_run(ctx);
        } else if self.runtime.pending_sweep && self.runtime.sweep_task.is_none() {
            self.start_sweep(ctx);
        }
    }

    /// Whether a run's result or an opened trace is on screen.
    pub fn is_showing(&self) -> bool {
        self.runtime.shown.is_some()
    }

    /// Shows a trace read elsewhere (`parlab open TRACE.json` opens the
    /// window with it), as "Open trace" would.
    pub fn show_opened(&mut self, path: &Path, imported: Imported) {
        self.settings.trace_path = path.display().to_string();
        let note = imported.note();
        self.runtime.shown = Some(Shown::new(
            path.display().to_string(),
            imported.trace,
            None,
            note,
        ));
        self.runtime.cache = TimelineCache::default();
        self.runtime.error = None;
    }

    fn knobs(&self) -> crate::engine::python::programs::Knobs {
        self.settings
            .source
            .program()
            .map_or(FILE_KNOBS, |p| p.knobs)
    }

    /// The plan for one run with the panel's settings.
    pub fn plan(&self) -> Result<RunPlan, String> {
        let s = &self.settings;
        let script = match &s.source {
            Source::Shipped(name) => Script::Shipped(
                s.source
                    .program()
                    .ok_or_else(|| format!("no shipped program called {name:?}"))?,
            ),
            Source::File => {
                let path = PathBuf::from(s.file_path.trim());
                if !path.is_file() {
                    return Err(format!("{}: no such file", path.display()));
                }
                Script::File(path)
            }
        };
        let knobs = self.knobs();
        let mut plan = RunPlan::new(script);
        if knobs.workers {
            plan.args
                .extend(["--workers".to_string(), s.workers.to_string()]);
        }
        if knobs.mode {
            plan.args
                .extend(["--mode".to_string(), s.mode.arg().to_string()]);
        }
        plan.start_method = s.start_method;
        let timeout_s = if s.timeout_s.is_finite() {
            s.timeout_s.clamp(1.0, MAX_TIMEOUT_S)
        } else {
            PythonSettings::default().timeout_s
        };
        plan.timeout = Duration::from_secs_f64(timeout_s);
        Ok(plan)
    }

    /// Starts one run in the background.
    pub fn start_run(&mut self, ctx: &egui::Context) {
        let plan = match self.plan() {
            Ok(p) => p,
            Err(e) => {
                self.runtime.error = Some(e);
                return;
            }
        };
        self.runtime.error = None;
        self.runtime.pending_run = false;
        match self.take_token("the Python tab's run", "the Python run") {
            Ok(g) => self.runtime.run_guard = Some(g),
            Err(()) => {
                self.runtime.pending_run = true;
                return;
            }
        }
        if !self.runtime.pending_sweep {
            self.runtime.waiting = None;
        }
        let live = Arc::new(Mutex::new(String::new()));
        self.runtime.live_output = live.clone();
        let task = BackgroundTask::spawn(
            "parlab-python-run",
            Some(notifier(ctx)),
            move |e: &Emitter<PyMsg>| {
                let mut on_output = |_: runner::Stream, text: &str| {
                    if let Ok(mut s) = live.lock()
                        && s.len() < LIVE_OUTPUT_CHARS
                    {
                        s.push_str(text);
                    }
                };
                // The interpreter and its workers are waited for: their CPU
                // is the run's own, not other processes'.
                let meter = OtherCpuMeter::start_counting_children();
                let result =
                    runner::run(&plan, e.cancel_flag(), &mut on_output).map_err(|e| e.to_string());
                e.send(PyMsg::Ran(result, meter.stop()));
            },
        );
        match task {
            Ok(t) => self.runtime.task = Some(t),
            Err(e) => {
                self.runtime.run_guard = None;
                self.runtime.error = Some(format!("could not start the run: {e}"));
            }
        }
    }

    /// Opens a Chrome trace in the background (large files take a while).
    pub fn start_open(&mut self, ctx: &egui::Context) {
        let path = PathBuf::from(self.settings.trace_path.trim());
        self.runtime.error = None;
        let task = BackgroundTask::spawn(
            "parlab-python-open",
            Some(notifier(ctx)),
            move |e: &Emitter<PyMsg>| {
                let result = import_file(&path)
                    .map(|imported| (path.clone(), imported))
                    .map_err(|e| e.to_string());
                e.send(PyMsg::Opened(result));
            },
        );
        match task {
            Ok(t) => self.runtime.task = Some(t),
            Err(e) => self.runtime.error = Some(format!("could not open: {e}")),
        }
    }

    /// Starts the workers x {threads, processes} sweep.
    pub fn start_sweep(&mut self, ctx: &egui::Context) {
        let workers = parse_sweep_workers(&self.settings.sweep_workers);
        let (workers, mut plan) = match (workers, self.plan()) {
            (Ok(w), Ok(p)) => (w, p),
            (Err(e), _) | (_, Err(e)) => {
                self.runtime.sweep_error = Some(e);
                return;
            }
        };
        self.runtime.pending_sweep = false;
        match self.take_token("the Python tab's sweep", "the Python sweep") {
            Ok(g) => self.runtime.sweep_guard = Some(g),
            Err(()) => {
                self.runtime.pending_sweep = true;
                return;
            }
        }
        if !self.runtime.pending_run {
            self.runtime.waiting = None;
        }
        // The sweep adds --workers and --mode itself.
        plan.args.clear();
        let items = 0;
        let reps = self.settings.sweep_reps.clamp(1, MAX_SWEEP_REPS);
        let cancel = Arc::new(AtomicBool::new(false));
        self.runtime.sweep_cancel = Some(CancelOnDrop(cancel.clone()));
        self.runtime.sweep_error = None;
        self.runtime.sweeps.clear();
        self.runtime.sweep_progress = None;
        self.runtime.export_message = None;
        let task = BackgroundTask::spawn(
            "parlab-python-sweep",
            Some(notifier(ctx)),
            move |e: &Emitter<PyMsg>| {
                let result = sweep_modes(&plan, items, &workers, reps, &cancel, &mut |m, d, t| {
                    if !e.send(PyMsg::SweepProgress(m, d, t)) {
                        cancel.store(true, Ordering::Relaxed);
                    }
                });
                e.send(PyMsg::Swept(result.map_err(|e| e.to_string())));
            },
        );
        match task {
            Ok(t) => self.runtime.sweep_task = Some(t),
            Err(e) => {
                self.runtime.sweep_guard = None;
                self.runtime.sweep_error = Some(format!("could not start the sweep: {e}"));
            }
        }
    }

    fn drain(&mut self, ctx: &egui::Context) {
        let mut msgs = Vec::new();
        for slot in [&mut self.runtime.task, &mut self.runtime.sweep_task] {
            let Some(task) = slot.as_ref() else { continue };
            let finished = task.is_finished();
            while let Some(m) = task.try_next() {
                msgs.push(m);
            }
            if finished {
                *slot = None;
            } else {
                ctx.request_repaint_after(Duration::from_millis(100));
            }
        }
        // Work that ended gives the token back.
        if self.runtime.task.is_none() {
            self.runtime.run_guard = None;
        }
        if self.runtime.sweep_task.is_none() {
            self.runtime.sweep_guard = None;
        }
        for m in msgs {
            match m {
                PyMsg::Ran(Ok(outcome), other_cpu) => {
                    let title = match &self.settings.source {
                        Source::Shipped(name) => format!("{name}.py"),
                        Source::File => self.settings.file_path.clone(),
                    };
                    let lanes = outcome.trace.clone();
                    let mut shown = Shown::new(title, lanes, Some(outcome), String::new());
                    shown.other_cpu = other_cpu;
                    self.runtime.shown = Some(shown);
                    self.runtime.cache = TimelineCache::default();
                }
                PyMsg::Ran(Err(e), _) | PyMsg::Opened(Err(e)) => self.runtime.error = Some(e),
                PyMsg::Opened(Ok((path, imported))) => self.show_opened(&path, imported),
                PyMsg::SweepProgress(m, d, t) => self.runtime.sweep_progress = Some((m, d, t)),
                PyMsg::Swept(Ok(s)) => {
                    self.runtime.sweeps = s;
                    self.runtime.sweep_cancel = None;
                }
                PyMsg::Swept(Err(e)) => {
                    self.runtime.sweep_error = Some(e);
                    self.runtime.sweep_cancel = None;
                }
            }
        }
    }

    pub fn ui(&mut self, ui: &mut egui::Ui) {
        self.tick(ui.ctx());
        self.dialog_ui(ui.ctx());
        egui::ScrollArea::vertical().show(ui, |ui| {
            self.controls_ui(ui);
            ui.separator();
            if let Some(w) = &self.runtime.waiting {
                ui.label(RichText::new(w).color(palette::WARN));
            }
            if let Some(e) = &self.runtime.error {
                ui.label(RichText::new(e).color(palette::BAD));
            }
            if self.runtime.task.is_some() {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label("running...");
                });
                let live = self
                    .runtime
                    .live_output
                    .lock()
                    .map(|s| s.clone())
                    .unwrap_or_default();
                output_ui(ui, "live output", &live, "");
            }
            if let Some(shown) = &self.runtime.shown {
                shown_ui(ui, shown, &mut self.runtime.cache);
            }
            ui.separator();
            self.sweep_ui(ui);
        });
    }

    fn controls_ui(&mut self, ui: &mut egui::Ui) {
        let busy = self.runtime.task.is_some();
        ui.horizontal_wrapped(|ui| {
            let s = &mut self.settings;
            let selected = match &s.source {
                Source::Shipped(name) => name.clone(),
                Source::File => "a file...".to_string(),
            };
            egui::ComboBox::from_label("program")
                .selected_text(selected)
                .show_ui(ui, |ui| {
                    for p in PROGRAMS {
                        ui.selectable_value(&mut s.source, Source::shipped(p.name), p.name)
                            .on_hover_text(p.title());
                    }
                    ui.selectable_value(&mut s.source, Source::File, "a file...");
                });
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
    fn dialog_ui(&mut self, ctx: &egui::Context) {
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

    fn sweep_ui(&mut self, ui: &mut egui::Ui) {
        ui.label(RichText::new("Sweep: workers x {threads, processes}").strong());
        let knobs = self.knobs();
        if !(knobs.workers && knobs.mode) {
            ui.label("This program has no workers/mode settings to sweep; pick pool_primes, threads_vs_processes or sleep_threads.");
            return;
        }
        ui.horizontal_wrapped(|ui| {
            let l = ui.label("sweep workers");
            ui.add(
                egui::TextEdit::singleline(&mut self.settings.sweep_workers).desired_width(90.0),
            )
            .labelled_by(l.id);
            crate::gui::widgets::labelled::drag(
                ui,
                "timed runs each",
                &mut self.settings.sweep_reps,
                1..=MAX_SWEEP_REPS,
                "",
            );
            let busy = self.runtime.sweep_task.is_some();
            let pending = self.runtime.pending_sweep;
            if ui
                .add_enabled(!busy && !pending, egui::Button::new("Sweep"))
                .clicked()
            {
                self.start_sweep(&ui.ctx().clone());
            }
            if ui
                .add_enabled(busy || pending, egui::Button::new("Stop"))
                .clicked()
            {
                self.runtime.sweep_cancel = None;
                if let Some(t) = &self.runtime.sweep_task {
                    t.cancel();
                }
                if pending {
                    self.runtime.pending_sweep = false;
                    if !self.runtime.pending_run {
                        self.runtime.waiting = None;
                    }
                }
            }
            if let Some((m, d, t)) = self.runtime.sweep_progress
                && busy
            {
                ui.spinner();
                ui.label(format!("{m}: {d}/{t} runs"));
            }
        });
        if let Some(e) = &self.runtime.sweep_error {
            ui.label(RichText::new(e).color(palette::BAD));
        }
        if self.runtime.sweeps.is_empty() {
            return;
        }
        if let Some(chart) = sweep_chart(&self.runtime.sweeps) {
            speedup_plot_ui(ui, "python-speedup", &chart, 260.0);
        }
        let other = sweeps_other_cpu(&self.runtime.sweeps);
        if other.windows > 0 {
            other_cpu_ui(ui, &other);
        }
        if let Some(load) = self.runtime.sweeps[0].results.load_average_start {
            let cores = self.runtime.sweeps[0].results.logical_cores as f64;
            let text = format!("load average at start {load:.2} on {cores} logical cores");
            if load > cores {
                ui.label(
                    RichText::new(text + ": busy machine, other programs competed")
                        .color(palette::WARN),
                );
            } else {
                ui.label(text);
            }
        }
        egui::Grid::new("python-sweep-table")
            .num_columns(6)
            .striped(true)
            .show(ui, |ui| {
                for h in [
                    "mode", "workers", "median s", "IQR s", "speedup", "CPU/wall",
                ] {
                    ui.label(RichText::new(h).strong());
                }
                ui.end_row();
                for s in &self.runtime.sweeps {
                    for (config, row) in s.results.rows() {
                        ui.label(s.mode);
                        ui.label(row.workers.to_string());
                        ui.label(format!("{:.3}", row.median_s));
                        ui.label(format!("{:.3}", row.q3_s - row.q1_s));
                        ui.label(row.speedup.map_or("-".into(), |v| format!("{v:.2}")));
                        ui.label(
                            s.results
                                .median_trace(config)
                                .and_then(cpu_per_wall)
                                .map_or("-".into(), |v| format!("{v:.2}")),
                        );
                        ui.end_row();
                    }
                }
            });
        ui.label("Each timed run is the whole interpreter run (start to exit); speedup is against the same mode on 1 worker.");
        self.export_ui(ui);
    }
}

/// Both modes' speedup on one chart, as drawn and exported; the title says
/// when other processes made the figures unreliable.
pub(crate) fn sweep_chart(sweeps: &[ModeSweep]) -> Option<SpeedupChart> {
    let charts: Vec<(String, SpeedupChart)> = sweeps
        .iter()
        .map(|s| {
            (
                s.mode.to_string(),
                speedup_chart(&s.results, &s.results.row_table()),
            )
        })
        .collect();
    let mut chart = overlay_speedup_charts(&charts)?;
    let other = sweeps_other_cpu(sweeps);
    if other.is_busy() {
        chart.title.push_str(&format!(
            " [{}]",
            crate::engine::exec::other_cpu::BUSY_WARNING
        ));
    }
    Some(chart)
}

/// Other processes' CPU over every timed run of every mode.
fn sweeps_other_cpu(sweeps: &[ModeSweep]) -> OtherCpu {
    let mut all = OtherCpu::default();
    for s in sweeps {
        all.add(&s.results.other_cpu);
    }
    all
}

/// The busy-machine line, as the speedup lab shows it: the warning in red
/// when other processes took more than the threshold, else the figure.
fn other_cpu_ui(ui: &mut egui::Ui, other: &OtherCpu) {
    let colour = if other.is_busy() {
        palette::BAD
    } else {
        palette::IDEAL
    };
    ui.label(RichText::new(other.describe()).color(colour))
        .on_hover_text(BUSY_RULE);
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

/// A file of unknown shape: pass nothing, allow the start method.
const FILE_KNOBS: crate::engine::python::programs::Knobs = crate::engine::python::programs::Knobs {
    workers: false,
    mode: false,
    processes: true,
};

fn output_ui(ui: &mut egui::Ui, id: &str, stdout: &str, stderr: &str) {
    egui::CollapsingHeader::new(id)
        .default_open(true)
        .show(ui, |ui| {
            egui::ScrollArea::vertical()
                .id_salt(id)
                .max_height(160.0)
                .stick_to_bottom(true)
                .show(ui, |ui| {
                    ui.label(RichText::new(stdout).monospace());
                    if !stderr.is_empty() {
                        ui.label(RichText::new(stderr).monospace().color(palette::BAD));
                    }
                });
        });
}

fn shown_ui(ui: &mut egui::Ui, shown: &Shown, cache: &mut TimelineCache) {
    let s = &shown.summary;
    ui.label(RichText::new(&shown.title).strong());
    if let Some(o) = &shown.outcome {
        let colour = if o.succeeded() {
            palette::GOOD
        } else {
            palette::BAD
        };
        ui.label(RichText::new(o.ending_message()).color(colour));
        if let Some(py) = &o.python {
            let gil = if py.gil_enabled {
                "GIL on: one thread computes at a time".to_string()
            } else {
                "free-threaded: this interpreter runs without the GIL, threads can compute at the same time".to_string()
            };
            ui.label(format!(
                "python {} ({}), start method {}, {gil}",
                py.version, py.executable, py.start_method
            ));
        }
    } else if !shown.note.is_empty() {
        ui.label(&shown.note);
    }
    ui.label(format!(
        "{} task(s) in {} process(es) / {} thread(s); wall {}; utilisation {:.0}% of busy lanes, imbalance {:.2}",
        s.tasks,
        s.task_processes,
        s.task_threads,
        fmt_ms(s.wall_nanos),
        s.utilisation * 100.0,
        s.imbalance
    ));
    if let (Some(all), Some(med)) = (s.cpu_per_wall, s.cpu_per_wall_median) {
        ui.label(format!(
            "CPU/wall per task: median {med:.2}, all tasks {all:.2} (1.00: computing all the time; about 1/N for N threads sharing one GIL; near 0: waiting)"
        ));
    }
    for (method, median_ms, n) in &s.startup_ms {
        ui.label(format!(
            "worker start-up ({method}): median {median_ms:.1} ms over {n} process(es) (grey bars)"
        ));
    }
    if let Some(o) = shown.other_cpu.filter(|o| o.windows > 0) {
        other_cpu_ui(ui, &o);
    }
    concurrency_histogram_ui(ui, &shown.activity);
    activity_strip_ui(ui, &shown.activity, LANE_LABEL_W, LANE_H);
    let drawn = timeline_ui(
        ui,
        &shown.trace,
        cache,
        TimelineOptions {
            lane_height: LANE_H,
            task_label: "task",
            work_unit: "ns CPU",
            lane_labels: Some(&shown.lane_labels),
            label_width: LANE_LABEL_W,
            ..Default::default()
        },
    );
    startup_bars(ui, drawn.plot_rect, &shown.lanes);
    lanes_legend_ui(ui, shown);
    tasks_table_ui(ui, &shown.lanes, &shown.lane_labels);
    if let Some(o) = &shown.outcome {
        output_ui(ui, "script output", &o.stdout, &o.stderr);
    }
}

/// Grey bars over the timeline's lanes (`plot`): each worker process's start-up.
fn startup_bars(ui: &egui::Ui, plot: Rect, lanes: &LaneTrace) {
    if lanes.startups.is_empty() {
        return;
    }
    let wall = lanes.wall_nanos.max(1) as f64;
    let x_of = |t: u64| plot.left() + (t as f64 / wall) as f32 * plot.width();
    let painter = ui.painter_at(plot);
    for s in &lanes.startups {
        let top = plot.top() + s.lane as f32 * LANE_H;
        let x0 = x_of(s.start_nanos);
        let x1 = x_of(s.end_nanos).max(x0 + 1.0);
        let bar = Rect::from_min_max(
            Pos2::new(x0, top + LANE_H * 0.35),
            Pos2::new(x1, top + LANE_H * 0.65),
        );
        painter.rect_filled(bar, 0.0, STARTUP_COLOUR);
    }
}

fn lanes_legend_ui(ui: &mut egui::Ui, shown: &Shown) {
    egui::CollapsingHeader::new("lanes")
        .default_open(true)
        .show(ui, |ui| {
            egui::Grid::new("python-lanes")
                .num_columns(4)
                .striped(true)
                .show(ui, |ui| {
                    for h in ["process / thread", "tasks", "busy", "CPU"] {
                        ui.label(RichText::new(h).strong());
                    }
                    ui.end_row();
                    for (i, l) in shown.summary.lanes.iter().enumerate() {
                        ui.label(RichText::new(&l.label).color(palette::worker(i as u32)));
                        ui.label(l.tasks.to_string());
                        ui.label(fmt_ms(l.busy_nanos));
                        ui.label(fmt_ms(l.cpu_nanos));
                        ui.end_row();
                    }
                });
        });
}

fn tasks_table_ui(ui: &mut egui::Ui, lanes: &LaneTrace, lane_labels: &[String]) {
    egui::CollapsingHeader::new(format!("tasks ({}): CPU/wall per task", lanes.tasks.len()))
        .default_open(false)
        .show(ui, |ui| {
            egui::ScrollArea::vertical()
                .id_salt("python-tasks")
                .max_height(220.0)
                .show(ui, |ui| {
                    egui::Grid::new("python-task-grid")
                        .num_columns(6)
                        .striped(true)
                        .show(ui, |ui| {
                            for h in ["task", "argument", "lane", "wall", "CPU", "CPU/wall"] {
                                ui.label(RichText::new(h).strong());
                            }
                            ui.end_row();
                            for t in lanes.tasks.iter().take(TASK_ROWS) {
                                ui.label(format!("{} #{}", t.name, t.index));
                                ui.label(&t.arg);
                                let lane =
                                    lane_labels.get(t.lane as usize).map_or("?", String::as_str);
                                ui.label(RichText::new(lane).color(palette::worker(t.lane)));
                                ui.label(fmt_ms(t.wall_nanos()));
                                ui.label(t.cpu_nanos.map_or("-".into(), fmt_ms));
                                ui.label(
                                    t.cpu_per_wall().map_or("-".into(), |r| format!("{r:.2}")),
                                );
                                ui.end_row();
                            }
                        });
                });
        });
}
