//! The Python tab: run a shipped course program (or a file) under real
//! CPython, or open a Chrome trace, and see every worker process and thread
//! on the shared timeline: tasks in worker colours, worker start-up bars,
//! CPU/wall per task (the GIL made visible), the script's output; and a
//! sweep over workers x {threads, processes} on the speedup lab's plot.
//!
//! All work runs on background threads (`BackgroundTask`); the script's
//! output reaches the window through a shared buffer, so the runner never
//! waits for the UI. Dropping the panel cancels the run and kills the
//! script's process group.

use crate::engine::exec::pool::logical_cores;
use crate::engine::exec::task::Notify;
use crate::engine::exec::task::{BackgroundTask, Emitter};
use crate::engine::exec::trace::Trace;
use crate::engine::python::chrome::from_chrome_reader;
use crate::engine::python::lanes::{LaneTrace, LaneTraceSummary};
use crate::engine::python::programs::PROGRAMS;
use crate::engine::python::runner::{self, RunOutcome, RunPlan, Script, StartMethod};
use crate::engine::python::sweep::{ModeSweep, cpu_per_wall, sweep_modes};
use crate::engine::speedup::charts::data::{overlay_speedup_charts, speedup_chart};
use crate::gui::speedup::plots::speedup_plot_ui;
use crate::gui::widgets::palette;
use crate::gui::widgets::timeline::{TimelineCache, TimelineOptions, fmt_ms, timeline_ui};
use egui::{Color32, Pos2, Rect, RichText};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Lane height of the Python timeline, points (the widget's own geometry
/// below: a 64-point label column, a 16-point axis, 4 points of margin).
const LANE_H: f32 = 18.0;
const TIMELINE_LABEL_W: f32 = 64.0;
const TIMELINE_AXIS_H: f32 = 16.0;
const TIMELINE_RIGHT_MARGIN: f32 = 4.0;
/// Start-up bars: drawn over the lane, thinner than a task.
const STARTUP_COLOUR: Color32 = Color32::from_gray(150);
/// Output shown live, at most (the runner keeps everything up to its cap).
const LIVE_OUTPUT_CHARS: usize = 64 * 1024;
/// Rows of the per-task table.
const TASK_ROWS: usize = 500;

/// Threads or processes (passed to the program as `--mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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

/// Where the script comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    Shipped(usize),
    File,
}

/// What the background tasks send back.
enum PyMsg {
    Ran(Result<RunOutcome, String>),
    Opened(Result<(String, LaneTrace, String), String>),
    SweepProgress(&'static str, usize, usize),
    Swept(Result<Vec<ModeSweep>, String>),
}

/// A trace on screen, with what is derived from it once.
struct Shown {
    title: String,
    lanes: LaneTrace,
    trace: Trace,
    summary: LaneTraceSummary,
    /// For a run: how it ended, output, interpreter.
    outcome: Option<RunOutcome>,
    /// For an opened file: what was left out.
    note: String,
}

impl Shown {
    fn new(title: String, lanes: LaneTrace, outcome: Option<RunOutcome>, note: String) -> Self {
        Shown {
            title,
            trace: lanes.to_trace(),
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

#[derive(Default)]
struct Runtime {
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
}

/// The Python tab.
pub struct PythonPanel {
    pub source: Source,
    pub file_text: String,
    pub trace_text: String,
    pub workers: usize,
    pub mode: Mode,
    /// `None`: the interpreter's default start method.
    pub start_method: Option<StartMethod>,
    pub timeout_s: f64,
    pub sweep_workers_text: String,
    pub sweep_reps: u32,
    runtime: Runtime,
}

impl Default for PythonPanel {
    fn default() -> Self {
        PythonPanel {
            source: Source::Shipped(1),
            file_text: String::new(),
            trace_text: String::new(),
            workers: logical_cores().clamp(1, 4),
            mode: Mode::Processes,
            start_method: None,
            timeout_s: 120.0,
            sweep_workers_text: "1,2,4,8".into(),
            sweep_reps: 3,
            runtime: Runtime::default(),
        }
    }
}

fn notifier(ctx: &egui::Context) -> Notify {
    let ctx = ctx.clone();
    Arc::new(move || ctx.request_repaint())
}

impl PythonPanel {
    pub fn is_busy(&self) -> bool {
        self.runtime.task.is_some() || self.runtime.sweep_task.is_some()
    }

    fn knobs(&self) -> crate::engine::python::programs::Knobs {
        match self.source {
            Source::Shipped(i) => PROGRAMS.get(i).map_or(FILE_KNOBS, |p| p.knobs),
            Source::File => FILE_KNOBS,
        }
    }

    /// The plan for one run with the panel's settings.
    pub fn plan(&self) -> Result<RunPlan, String> {
        let script = match self.source {
            Source::Shipped(i) => Script::Shipped(PROGRAMS.get(i).ok_or("no such program")?),
            Source::File => {
                let path = PathBuf::from(self.file_text.trim());
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
                .extend(["--workers".to_string(), self.workers.to_string()]);
        }
        if knobs.mode {
            plan.args
                .extend(["--mode".to_string(), self.mode.arg().to_string()]);
        }
        plan.start_method = self.start_method;
        plan.timeout = Duration::from_secs_f64(self.timeout_s.clamp(1.0, 86_400.0));
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
                let result =
                    runner::run(&plan, e.cancel_flag(), &mut on_output).map_err(|e| e.to_string());
                e.send(PyMsg::Ran(result));
            },
        );
        match task {
            Ok(t) => self.runtime.task = Some(t),
            Err(e) => self.runtime.error = Some(format!("could not start the run: {e}")),
        }
    }

    /// Opens a Chrome trace in the background (large files take a while).
    pub fn start_open(&mut self, ctx: &egui::Context) {
        let path = PathBuf::from(self.trace_text.trim());
        self.runtime.error = None;
        let task = BackgroundTask::spawn(
            "parlab-python-open",
            Some(notifier(ctx)),
            move |e: &Emitter<PyMsg>| {
                let result = std::fs::File::open(&path)
                    .map_err(|err| format!("{}: cannot open: {err}", path.display()))
                    .and_then(|f| {
                        from_chrome_reader(f).map_err(|err| format!("{}: {err}", path.display()))
                    })
                    .map(|imported| {
                        let note = format!(
                            "{} nested event(s) folded, {} other event(s) skipped, {} unmatched begin/end",
                            imported.nested_events,
                            imported.skipped_events,
                            imported.unmatched_events
                        );
                        (path.display().to_string(), imported.trace, note)
                    });
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
        let workers: Result<Vec<usize>, String> = self
            .sweep_workers_text
            .split(',')
            .map(|w| {
                w.trim()
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=4 * logical_cores().max(1)).contains(n))
                    .ok_or_else(|| format!("{w:?} is not a worker count (1..=4x cores)"))
            })
            .collect();
        let (workers, mut plan) = match (workers, self.plan()) {
            (Ok(w), Ok(p)) => (w, p),
            (Err(e), _) | (_, Err(e)) => {
                self.runtime.sweep_error = Some(e);
                return;
            }
        };
        // The sweep adds --workers and --mode itself.
        plan.args.clear();
        let items = 0;
        let reps = self.sweep_reps.clamp(1, 50);
        let cancel = Arc::new(AtomicBool::new(false));
        self.runtime.sweep_cancel = Some(CancelOnDrop(cancel.clone()));
        self.runtime.sweep_error = None;
        self.runtime.sweeps.clear();
        self.runtime.sweep_progress = None;
        let task = BackgroundTask::spawn(
            "parlab-python-sweep",
            Some(notifier(ctx)),
            move |e: &Emitter<PyMsg>| {
                let result = sweep_modes(&plan, items, &workers, reps, &cancel, &mut |m, d, t| {
                    if !e.send(PyMsg::SweepProgress(m, d, t)) {
                        cancel.store(true, Ordering::Relaxed);
                    }
                });
                e.send(PyMsg::Swept(result));
            },
        );
        match task {
            Ok(t) => self.runtime.sweep_task = Some(t),
            Err(e) => self.runtime.sweep_error = Some(format!("could not start the sweep: {e}")),
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
        for m in msgs {
            match m {
                PyMsg::Ran(Ok(outcome)) => {
                    let title = match &self.source {
                        Source::Shipped(i) => {
                            PROGRAMS.get(*i).map_or_else(String::new, |p| p.file_name())
                        }
                        Source::File => self.file_text.clone(),
                    };
                    let lanes = outcome.trace.clone();
                    self.runtime.shown =
                        Some(Shown::new(title, lanes, Some(outcome), String::new()));
                    self.runtime.cache = TimelineCache::default();
                }
                PyMsg::Ran(Err(e)) | PyMsg::Opened(Err(e)) => self.runtime.error = Some(e),
                PyMsg::Opened(Ok((title, lanes, note))) => {
                    self.runtime.shown = Some(Shown::new(title, lanes, None, note));
                    self.runtime.cache = TimelineCache::default();
                }
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
        self.drain(ui.ctx());
        egui::ScrollArea::vertical().show(ui, |ui| {
            self.controls_ui(ui);
            ui.separator();
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
        ui.horizontal_wrapped(|ui| {
            let selected = match self.source {
                Source::Shipped(i) => PROGRAMS.get(i).map_or("?", |p| p.name).to_string(),
                Source::File => "a file...".to_string(),
            };
            egui::ComboBox::from_label("program")
                .selected_text(selected)
                .show_ui(ui, |ui| {
                    for (i, p) in PROGRAMS.iter().enumerate() {
                        ui.selectable_value(&mut self.source, Source::Shipped(i), p.name)
                            .on_hover_text(p.title());
                    }
                    ui.selectable_value(&mut self.source, Source::File, "a file...");
                });
            if self.source == Source::File {
                ui.add(
                    egui::TextEdit::singleline(&mut self.file_text)
                        .hint_text("path/to/script.py")
                        .desired_width(240.0),
                );
            }
        });
        if let Source::Shipped(i) = self.source
            && let Some(p) = PROGRAMS.get(i)
        {
            ui.label(RichText::new(p.title()).strong());
            ui.label(p.description());
        }
        let knobs = self.knobs();
        ui.horizontal_wrapped(|ui| {
            ui.add_enabled_ui(knobs.workers, |ui| {
                crate::gui::widgets::labelled::drag(
                    ui,
                    "workers",
                    &mut self.workers,
                    1..=4 * logical_cores().max(1),
                    "",
                );
            });
            ui.add_enabled_ui(knobs.mode, |ui| {
                ui.selectable_value(&mut self.mode, Mode::Threads, "threads");
                ui.selectable_value(&mut self.mode, Mode::Processes, "processes");
            });
            ui.add_enabled_ui(knobs.processes, |ui| {
                ui.label("start method");
                ui.selectable_value(&mut self.start_method, None, "default");
                ui.selectable_value(&mut self.start_method, Some(StartMethod::Fork), "fork");
                ui.selectable_value(&mut self.start_method, Some(StartMethod::Spawn), "spawn");
            });
            crate::gui::widgets::labelled::drag(
                ui,
                "timeout s",
                &mut self.timeout_s,
                1.0..=3600.0,
                "",
            );
        });
        ui.horizontal_wrapped(|ui| {
            let busy = self.runtime.task.is_some();
            if ui.add_enabled(!busy, egui::Button::new("Run")).clicked() {
                self.start_run(&ui.ctx().clone());
            }
            if ui.add_enabled(busy, egui::Button::new("Cancel")).clicked()
                && let Some(t) = &self.runtime.task
            {
                t.cancel();
            }
            ui.separator();
            ui.add(
                egui::TextEdit::singleline(&mut self.trace_text)
                    .hint_text("trace.json (Chrome trace)")
                    .desired_width(220.0),
            );
            if ui
                .add_enabled(
                    !busy && !self.trace_text.trim().is_empty(),
                    egui::Button::new("Open trace"),
                )
                .clicked()
            {
                self.start_open(&ui.ctx().clone());
            }
        });
    }

    fn sweep_ui(&mut self, ui: &mut egui::Ui) {
        ui.label(RichText::new("Sweep: workers x {threads, processes}").strong());
        let knobs = self.knobs();
        if !(knobs.workers && knobs.mode) {
            ui.label("This program has no workers/mode settings to sweep; pick pool_primes, threads_vs_processes or sleep_threads.");
            return;
        }
        ui.horizontal_wrapped(|ui| {
            ui.label("workers");
            ui.add(egui::TextEdit::singleline(&mut self.sweep_workers_text).desired_width(90.0));
            crate::gui::widgets::labelled::drag(
                ui,
                "timed runs each",
                &mut self.sweep_reps,
                1..=50,
                "",
            );
            let busy = self.runtime.sweep_task.is_some();
            if ui.add_enabled(!busy, egui::Button::new("Sweep")).clicked() {
                self.start_sweep(&ui.ctx().clone());
            }
            if ui.add_enabled(busy, egui::Button::new("Stop")).clicked() {
                self.runtime.sweep_cancel = None;
                if let Some(t) = &self.runtime.sweep_task {
                    t.cancel();
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
        let charts: Vec<(String, _)> = self
            .runtime
            .sweeps
            .iter()
            .map(|s| {
                (
                    s.mode.to_string(),
                    speedup_chart(&s.results, &s.results.row_table()),
                )
            })
            .collect();
        if let Some(chart) = overlay_speedup_charts(&charts) {
            speedup_plot_ui(ui, "python-speedup", &chart, 260.0);
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
    }
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
    let scope = ui.scope(|ui| {
        timeline_ui(
            ui,
            &shown.trace,
            cache,
            TimelineOptions {
                lane_height: LANE_H,
                task_label: "task",
                work_unit: "ns CPU",
                ..Default::default()
            },
        )
    });
    startup_bars(ui, scope.response.rect, &shown.lanes);
    lanes_legend_ui(ui, shown);
    tasks_table_ui(ui, &shown.lanes);
    if let Some(o) = &shown.outcome {
        output_ui(ui, "script output", &o.stdout, &o.stderr);
    }
}

/// Grey bars over the timeline: each worker process's start-up.
fn startup_bars(ui: &egui::Ui, rect: Rect, lanes: &LaneTrace) {
    if lanes.startups.is_empty() {
        return;
    }
    let plot = Rect::from_min_max(
        Pos2::new(rect.left() + TIMELINE_LABEL_W, rect.top()),
        Pos2::new(
            rect.right() - TIMELINE_RIGHT_MARGIN,
            rect.bottom() - TIMELINE_AXIS_H,
        ),
    );
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
                .num_columns(5)
                .striped(true)
                .show(ui, |ui| {
                    for h in ["lane", "process / thread", "tasks", "busy", "CPU"] {
                        ui.label(RichText::new(h).strong());
                    }
                    ui.end_row();
                    for (i, l) in shown.summary.lanes.iter().enumerate() {
                        ui.label(
                            RichText::new(format!("worker {i}")).color(palette::worker(i as u32)),
                        );
                        ui.label(&l.label);
                        ui.label(l.tasks.to_string());
                        ui.label(fmt_ms(l.busy_nanos));
                        ui.label(fmt_ms(l.cpu_nanos));
                        ui.end_row();
                    }
                });
        });
}

fn tasks_table_ui(ui: &mut egui::Ui, lanes: &LaneTrace) {
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
                                ui.label(
                                    RichText::new(format!("worker {}", t.lane))
                                        .color(palette::worker(t.lane)),
                                );
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
