//! The speedup lab: sweeps over worker counts × task granularities, run in the
//! background, with live plots, a results table, models, predictions beyond
//! this machine and exports (the same plotters code as `parlab bench sweep`).

use crate::engine::exec::pool::logical_cores;
use crate::engine::exec::schedule::Schedule;
use crate::engine::exec::trace::Trace;
use crate::engine::mandelbrot::kernel::Kernel;
use crate::engine::mandelbrot::render::RenderSettings;
use crate::engine::mandelbrot::view::View;
use crate::engine::speedup::charts::data::{EfficiencyMap, GranularityChart, SpeedupChart};
use crate::engine::speedup::results::{AmdahlFit, ERROR_BAR_RULE, ResultRow, SweepResults};
use crate::engine::speedup::sweep::ProgressWake;
use crate::engine::speedup::sweep::{SweepJob, default_worker_counts};
use crate::engine::workloads::{Granularity, Workload};
use crate::gui::measuring::{MeasureGuard, Measuring};
use crate::gui::speedup::plots::{efficiency_map_ui, granularity_plot_ui, speedup_plot_ui};
use crate::gui::speedup::run_view::{RunLabel, TaskView};
use crate::gui::speedup::table::results_table_ui;
use crate::gui::widgets::palette;

mod controls;
mod export;
pub mod plots;
pub mod run_view;
mod sweep_job;
pub mod table;
mod workload_pick;

pub use workload_pick::MANDELBROT_GRANULARITIES;

use egui::RichText;
pub use export::{Export, NO_EXPORT_FOLDER, export_folder_ready, export_row_ui};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

/// What the user chose; saved between sessions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SpeedupSettings {
    /// Workload name (see `engine::workloads::WORKLOAD_NAMES`).
    pub workload: String,
    /// A course workload's parameters, `key=value,…` in `WorkloadSpec`
    /// syntax (`count=640`); empty for its defaults; unused by mandelbrot.
    pub workload_params: String,
    /// GIL mode for the course workloads (tasks compute under one global lock).
    pub gil: bool,
    /// Mandelbrot on threads or on worker processes.
    pub backend: crate::engine::farm::Backend,
    /// Worker counts, comma-separated.
    pub workers: String,
    /// Granularities, comma-separated (`8`, `32px`, `bands`, `bands4`…).
    pub granularities: String,
    pub reps: u32,
    pub warmup: u32,
    pub schedule: Schedule,
    pub kernel: Kernel,
    pub shuffle_seed: u64,
    /// Pin worker w to core w mod cores; the sequential baseline shares
    /// the 1-worker pool's pinned thread.
    pub pin_workers: bool,
    /// Folder the export buttons write to.
    pub export_folder: PathBuf,
}

impl Default for SpeedupSettings {
    fn default() -> Self {
        let workers: Vec<String> = default_worker_counts(logical_cores())
            .iter()
            .map(ToString::to_string)
            .collect();
        SpeedupSettings {
            workload: "mandelbrot".into(),
            workload_params: String::new(),
            gil: false,
            backend: crate::engine::farm::Backend::Threads,
            workers: workers.join(","),
            granularities: MANDELBROT_GRANULARITIES.into(),
            reps: 5,
            warmup: 1,
            schedule: Schedule::default(),
            kernel: Kernel::Simd,
            shuffle_seed: 1,
            pin_workers: false,
            export_folder: PathBuf::from("parlab-speedup"),
        }
    }
}

/// Figures derived from the results, refreshed as measurements land.
struct Derived {
    rows: Vec<(usize, ResultRow)>,
    fits: Vec<AmdahlFit>,
    speedup: SpeedupChart,
    predicted: SpeedupChart,
    granularity: GranularityChart,
    efficiency: EfficiencyMap,
}

/// Where the sweep stands.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum SweepState {
    #[default]
    Idle,
    /// Building the workload's data and every pool (nothing timed).
    Preparing,
    /// Untimed warm-up runs.
    WarmingUp,
    Measuring,
    Done,
    Cancelled,
    Failed(String),
}

/// The speedup lab panel.
#[derive(Serialize, Deserialize)]
#[serde(default)]
pub struct SpeedupPanel {
    pub settings: SpeedupSettings,
    /// The workload's view (the explorer's current one, via [`Self::set_default_view`]).
    #[serde(skip)]
    view: Option<View>,
    #[serde(skip)]
    job: Option<SweepJob>,
    #[serde(skip)]
    workload: Option<Arc<dyn Workload>>,
    #[serde(skip)]
    results: Option<SweepResults>,
    #[serde(skip)]
    derived: Option<Derived>,
    #[serde(skip)]
    dirty: bool,
    #[serde(skip)]
    refreshed_at: Option<Instant>,
    #[serde(skip)]
    state: SweepState,
    /// When the timed runs began (for the estimate of the time left).
    #[serde(skip)]
    measuring_since: Option<Instant>,
    #[serde(skip)]
    input_error: Option<String>,
    #[serde(skip)]
    export_message: Option<Result<String, String>>,
    #[serde(skip)]
    selected: Option<usize>,
    #[serde(skip)]
    open_trace_request: Option<(RenderSettings, Trace)>,
    /// A non-image workload's run opened from a point or a table row.
    #[serde(skip)]
    task_view: Option<TaskView>,
    /// GIL mode of the current results' sweep.
    #[serde(skip)]
    run_gil: bool,
    /// Granularity the prediction plot replays (`None`: the best-scaling one).
    #[serde(skip)]
    predict_for: Option<Granularity>,
    /// The workload of the current results, as plots label it (`io`, `primes +GIL`).
    #[serde(skip)]
    run_label: String,
    /// [`Self::workload_key`] of the current results: when the chosen
    /// workload differs, the plots are marked as the earlier workload's.
    #[serde(skip)]
    run_key: String,
    /// An earlier sweep's speedup lines kept on the plot for comparison
    /// (label, chart), e.g. I/O-bound beside CPU-bound.
    #[serde(skip)]
    pinned: Option<(String, SpeedupChart)>,
    /// The window-wide one-measurement-at-a-time token.
    #[serde(skip)]
    pub measuring: Measuring,
    /// Held while this panel's sweep runs.
    #[serde(skip)]
    guard: Option<MeasureGuard>,
    /// A sweep asked for while another measurement runs: it starts when that ends.
    #[serde(skip)]
    pending_start: Option<Option<ProgressWake>>,
    /// Why the wanted sweep has not started yet.
    #[serde(skip)]
    waiting: Option<String>,
}

impl Default for SpeedupPanel {
    fn default() -> Self {
        SpeedupPanel::new(SpeedupSettings::default())
    }
}

impl SpeedupPanel {
    pub fn new(settings: SpeedupSettings) -> Self {
        SpeedupPanel {
            settings,
            view: None,
            job: None,
            workload: None,
            results: None,
            derived: None,
            dirty: false,
            refreshed_at: None,
            state: SweepState::Idle,
            measuring_since: None,
            input_error: None,
            export_message: None,
            selected: None,
            open_trace_request: None,
            task_view: None,
            run_gil: false,
            predict_for: None,
            run_label: String::new(),
            run_key: String::new(),
            pinned: None,
            measuring: Measuring::default(),
            guard: None,
            pending_start: None,
            waiting: None,
        }
    }

    /// What the plots depend on besides the lists: workload, its
    /// parameters, GIL mode and backend.
    fn workload_key(&self) -> String {
        format!(
            "{} gil={} backend={:?}",
            self.workload_spec(),
            self.settings.gil,
            self.settings.backend
        )
    }

    /// The results shown belong to another workload than the one chosen now
    /// (the plots then say whose they are).
    pub fn results_are_of_another_workload(&self) -> bool {
        self.results.is_some() && self.run_key != self.workload_key()
    }

    /// The view the Mandelbrot workload sweeps (the explorer's current one).
    pub fn set_default_view(&mut self, view: View) {
        self.view = Some(view);
    }

    /// The view a new sweep would use: the app's, else the whole set at 640×480.
    pub fn view(&self) -> Option<View> {
        self.view.or_else(|| View::default_for_size(640, 480).ok())
    }

    /// A Mandelbrot trace the user asked to open in the explorer (clicked
    /// point or table button), once. Other workloads open in [`Self::task_view`].
    pub fn take_open_trace_request(&mut self) -> Option<(RenderSettings, Trace)> {
        self.open_trace_request.take()
    }

    /// The run view of a non-image workload's configuration, once the user
    /// clicked one of its points or its table row's trace button.
    pub fn task_view(&self) -> Option<&TaskView> {
        self.task_view.as_ref()
    }

    /// Why the last sweep could not start, if it could not.
    pub fn error(&self) -> Option<String> {
        self.input_error.clone()
    }

    /// True when no sweep is running or waiting to start.
    pub fn is_idle(&self) -> bool {
        self.job.is_none() && self.pending_start.is_none()
    }

    /// Why the wanted sweep waits, if it does.
    pub fn waiting(&self) -> Option<&str> {
        self.waiting.as_deref()
    }

    pub fn state(&self) -> &SweepState {
        &self.state
    }

    /// The measurements so far.
    pub fn results(&self) -> Option<&SweepResults> {
        self.results.as_ref()
    }

    /// The speedup chart as drawn (measured points, models, prediction).
    pub fn speedup_chart(&self) -> Option<&SpeedupChart> {
        self.derived.as_ref().map(|d| &d.speedup)
    }

    pub fn granularity_chart(&self) -> Option<&GranularityChart> {
        self.derived.as_ref().map(|d| &d.granularity)
    }

    pub fn predicted_chart(&self) -> Option<&SpeedupChart> {
        self.derived.as_ref().map(|d| &d.predicted)
    }

    /// The last export's outcome: the paths written, or why not.
    pub fn export_message(&self) -> Option<&Result<String, String>> {
        self.export_message.as_ref()
    }

    /// Records the request to open configuration `config`'s median trace.
    fn request_trace(&mut self, config: usize) {
        self.selected = Some(config);
        let (Some(r), Some(w)) = (&self.results, &self.workload) else {
            return;
        };
        let Some(key) = r.configs.get(config) else {
            return;
        };
        let Some(trace) = r.median_trace(config) else {
            return;
        };
        match w.render_settings(key.granularity, key.schedule, key.workers) {
            Some(settings) => self.open_trace_request = Some((settings, trace.clone())),
            None => {
                let label = RunLabel {
                    workload: w.name(),
                    describe: w.describe(),
                    task_label: w.task_label(),
                    work_unit: w.work_unit(),
                    granularity: key.granularity,
                    schedule: key.schedule,
                    num_workers: key.workers,
                    gil: self.run_gil,
                    num_tasks: r.num_tasks.get(config).copied().unwrap_or(0),
                };
                self.task_view = Some(TaskView::new(label, trace.clone()));
            }
        }
    }

    pub fn ui(&mut self, ui: &mut egui::Ui) {
        self.poll();
        egui::ScrollArea::vertical()
            .id_salt("speedup-lab-scroll")
            .auto_shrink([false, false])
            .show(ui, |ui| self.contents_ui(ui));
    }

    fn contents_ui(&mut self, ui: &mut egui::Ui) {
        ui.heading("Speedup lab");
        ui.label(
            RichText::new(
                "Measure T(P) for every worker count × granularity. Speedup S = T1/TP against the same \
                 code on a 1-worker pool; the sequential schedule (no pool) is measured apart. Runs are \
                 interleaved to spread machine drift; medians are quoted.",
            )
            .weak(),
        );
        ui.separator();
        self.controls_ui(ui);
        ui.separator();
        self.status_ui(ui);
        // Above the plots, so that its confirmation shows without scrolling.
        self.export_ui(ui);
        if self.derived.is_some() {
            self.prediction_choice_ui(ui);
        }
        let Some(d) = &self.derived else {
            return;
        };
        let whose = format!("plots below: the last sweep, of {}", self.run_label);
        if self.results_are_of_another_workload() {
            ui.label(
                RichText::new(format!(
                    "{whose}, not of the workload chosen above: press Run to measure that one"
                ))
                .color(palette::WARN),
            );
        } else {
            ui.label(RichText::new(whose).strong());
        }
        ui.label(
            RichText::new(
                "click a measured point, or a row's trace button, to open that configuration's \
                 median run: Mandelbrot in the explorer's timeline, the other workloads as a \
                 task grid and timeline below the plots",
            )
            .weak()
            .small(),
        );
        let mut clicked = None;
        ui.columns(2, |cols| {
            clicked = clicked.or(speedup_plot_ui(
                &mut cols[0],
                "speedup-vs-workers",
                &d.speedup,
                260.0,
            ));
            clicked = clicked.or(granularity_plot_ui(&mut cols[1], &d.granularity, 260.0));
        });
        ui.columns(2, |cols| {
            clicked = clicked.or(speedup_plot_ui(
                &mut cols[0],
                "speedup-predicted",
                &d.predicted,
                240.0,
            ));
            efficiency_map_ui(&mut cols[1], &d.efficiency);
            cols[1].add_space(8.0);
            cols[1].label(RichText::new("Amdahl model (1 < P <= logical cores)").strong());
            for f in &d.fits {
                cols[1].label(f.describe());
            }
            if d.rows
                .iter()
                .any(|(_, r)| r.karp_flatt.is_some_and(|e| e < 0.0))
            {
                cols[1].label(
                    RichText::new(
                        "a negative Karp-Flatt e means a speedup above P (superlinear, or noise \
                         in T1 or TP): no serial fraction can be read from it",
                    )
                    .color(palette::WARN),
                );
            }
            cols[1].label(RichText::new(ERROR_BAR_RULE).weak().small());
        });
        ui.separator();
        if let Some(view) = &mut self.task_view {
            if view.ui(ui).close {
                self.task_view = None;
            }
            ui.separator();
        }
        let configs = self
            .results
            .as_ref()
            .map(|r| r.configs.clone())
            .unwrap_or_default();
        if let Some(r) = self.results.as_ref().filter(|r| r.machine_busy()) {
            ui.label(RichText::new(r.other_cpu.describe()).color(palette::BAD));
        }
        let table = results_table_ui(ui, &d.rows, &configs, self.selected);
        if let Some(c) = clicked.or(table.open_trace) {
            self.request_trace(c);
        }
    }
}

impl crate::gui::panel::Panel for SpeedupPanel {
    fn ui(&mut self, ui: &mut egui::Ui) {
        SpeedupPanel::ui(self, ui);
    }

    fn is_idle(&self) -> bool {
        SpeedupPanel::is_idle(self)
    }

    fn error(&self) -> Option<String> {
        SpeedupPanel::error(self)
    }

    /// Starts a sweep of the current settings, as the Start button does.
    fn start_work(&mut self, ctx: &egui::Context) {
        self.start(Some(SpeedupPanel::sweep_notify(ctx)));
    }

    /// A sweep's results are taken in (and its token given back) whichever
    /// tab is shown.
    fn while_hidden(&mut self, _ctx: &egui::Context) {
        self.poll();
    }

    /// The sweep's medians as `parlab bench sweep` prints them (granularity,
    /// workers, median ms, speedup).
    fn screenshot_report(&self) -> Option<String> {
        use std::fmt::Write as _;
        let r = self.results()?;
        let mut out = String::from("window sweep medians: granularity workers median_ms speedup");
        for (c, row) in r.rows() {
            let workers = if r.configs[c].schedule.uses_pool() {
                row.workers.to_string()
            } else {
                "seq".into()
            };
            let _ = write!(
                out,
                "\n  {:<8} {:>4} {:>10.3} {:>6}",
                row.granularity,
                workers,
                row.median_s * 1e3,
                row.speedup
                    .map_or_else(|| "-".into(), |s| format!("{s:.2}"))
            );
        }
        let _ = write!(out, "\n  {}", r.other_cpu.describe());
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_persist_and_runtime_state_does_not() {
        let mut panel = SpeedupPanel::new(SpeedupSettings {
            workers: "1,3".into(),
            reps: 9,
            ..SpeedupSettings::default()
        });
        panel.input_error = Some("runtime only".into());
        let text = serde_json::to_string(&panel).expect("serialise");
        assert!(!text.contains("runtime only"));
        let back: SpeedupPanel = serde_json::from_str(&text).expect("deserialise");
        assert_eq!(back.settings, panel.settings);
        assert!(back.input_error.is_none() && back.is_idle());
        // Missing fields fall back to defaults.
        let empty: SpeedupPanel = serde_json::from_str("{}").expect("defaults");
        assert_eq!(empty.settings, SpeedupSettings::default());
        let partial: SpeedupSettings = serde_json::from_str(r#"{"reps": 3}"#).expect("partial");
        assert_eq!(partial.reps, 3);
        assert_eq!(partial.warmup, SpeedupSettings::default().warmup);
    }

    #[test]
    fn plan_parses_the_lists() {
        let panel = SpeedupPanel::new(SpeedupSettings {
            workers: " 1, 2 ,4 ".into(),
            granularities: "16,bands2".into(),
            ..SpeedupSettings::default()
        });
        let view = View::new((-0.75, 0.0), 3.0, 32, 24, 50).expect("view");
        let w = crate::engine::workloads::by_name("mandelbrot", view, Kernel::default())
            .expect("workload");
        let plan = panel.plan(&*w).expect("plan");
        assert_eq!(plan.workers, vec![1, 2, 4]);
        assert_eq!(plan.granularities.len(), 2);
        let bad = SpeedupPanel::new(SpeedupSettings {
            granularities: "16,huge".into(),
            ..SpeedupSettings::default()
        });
        assert!(bad.plan(&*w).is_err());
    }
}
