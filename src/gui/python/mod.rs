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

mod controls;
mod export;
mod run_view;
mod sweep_view;

use run_view::{output_ui, shown_ui};
use sweep_view::sweep_chart;

use crate::engine::exec::activity::Activity;
use crate::engine::exec::other_cpu::{BUSY_RULE, OtherCpu, OtherCpuMeter};
use crate::engine::exec::pool::{MAX_WORKERS, logical_cores};
use crate::engine::exec::task::Notify;
use crate::engine::exec::task::{BackgroundTask, Emitter};
use crate::engine::exec::trace::Trace;
use crate::engine::python::chrome::{Imported, import_file};
use crate::engine::python::lanes::{LaneTrace, LaneTraceSummary};
use crate::engine::python::programs::{self, Program};
use crate::engine::python::runner::{self, RunOutcome, RunPlan, Script, StartMethod};
use crate::engine::python::sweep::{ModeSweep, sweep_modes};
use crate::gui::measuring::{MeasureGuard, Measuring};
use crate::gui::widgets::palette;
use crate::gui::widgets::timeline::TimelineCache;
use egui::RichText;
use egui_file::FileDialog;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Output shown live, at most (the runner keeps everything up to its cap).
const LIVE_OUTPUT_CHARS: usize = 64 * 1024;

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

/// Shortest time between window redraws while a Python run or sweep is
/// going: each redraw takes CPU (with software OpenGL ~0.1 core-seconds) from
/// the interpreters being measured, which lowered CPU/wall per task in the
/// window (0.59 against 1.00 headless for pool_primes on 2 processes; at one
/// redraw per 500 ms the window's drawing still took 0.30 cores). The end of
/// a run or sweep is drawn at once ([`wake_now`]).
const RUN_REDRAW_INTERVAL: Duration = Duration::from_millis(2000);

/// Redraws now: a run or sweep has ended.
fn wake_now(ctx: &egui::Context) -> impl Fn() + Send + 'static {
    let ctx = ctx.clone();
    move || ctx.request_repaint()
}

fn notifier(ctx: &egui::Context) -> Notify {
    let ctx = ctx.clone();
    // Coalesced: egui keeps the earliest requested time, so a burst of
    // records or output lines gives one redraw, not one each.
    Arc::new(move || ctx.request_repaint_after(RUN_REDRAW_INTERVAL))
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
        let ended = wake_now(ctx);
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
                ended();
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
        let ended = wake_now(ctx);
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
                ended();
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
                ctx.request_repaint_after(RUN_REDRAW_INTERVAL);
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
                    crate::gui::widgets::labelled::measuring_mark(ui);
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

/// A file of unknown shape: pass nothing, allow the start method.
const FILE_KNOBS: crate::engine::python::programs::Knobs = crate::engine::python::programs::Knobs {
    workers: false,
    mode: false,
    processes: true,
};

impl crate::gui::panel::Panel for PythonPanel {
    fn ui(&mut self, ui: &mut egui::Ui) {
        PythonPanel::ui(self, ui);
    }

    fn is_idle(&self) -> bool {
        !self.is_busy()
    }

    /// An opened trace is the picture; otherwise the program is run.
    fn start_work(&mut self, ctx: &egui::Context) {
        if !self.is_showing() {
            self.start_run(ctx);
        }
    }

    /// A run or a sweep (or one waiting for the token) goes on.
    fn while_hidden(&mut self, ctx: &egui::Context) {
        self.tick(ctx);
    }
}
