//! One run of a non-image workload (primes, dot, matmul, io) shown as the
//! explorer shows a Mandelbrot render: its tasks as a worker-coloured grid,
//! the timeline under it (hovering either highlights the other, clicking
//! either shows the task), a worker legend and the run's figures. The speedup
//! lab opens one when a point of such a workload is clicked.

use crate::engine::exec::gil::{WHY_MULTIPROCESSING, disjoint};
use crate::engine::exec::placement::{WorkerCpus, worker_cpus};
use crate::engine::exec::schedule::Schedule;
use crate::engine::exec::trace::{Trace, TraceStats};
use crate::engine::workloads::Granularity;
use crate::gui::explorer::legend::legend_ui_as;
use crate::gui::widgets::palette;
use crate::gui::widgets::task_grid::{
    CellCost, TaskGrid, TaskGridOptions, grid_caption, task_grid_ui,
};
use crate::gui::widgets::timeline::{
    TimelineCache, TimelineOptions, fmt_ms, task_summary_as, timeline_ui,
};
use egui::RichText;

/// Which run a view shows.
#[derive(Clone, Debug, PartialEq)]
pub struct RunLabel {
    /// Workload name (`primes`).
    pub workload: &'static str,
    /// The workload with its parameters, in words.
    pub describe: String,
    /// What one task is called (`chunk`).
    pub task_label: &'static str,
    /// The unit of a task's work (`divisions`).
    pub work_unit: &'static str,
    pub granularity: Granularity,
    pub schedule: Schedule,
    pub num_workers: usize,
    pub gil: bool,
    /// Tasks at this granularity (cells in the grid).
    pub num_tasks: usize,
}

/// What the user asked of the view this frame.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TaskViewAction {
    pub close: bool,
}

/// A run's median trace as a task grid and a timeline.
pub struct TaskView {
    label: RunLabel,
    title: String,
    trace: Trace,
    stats: TraceStats,
    /// Per worker, the CPUs its tasks started on.
    worker_cpus: Vec<WorkerCpus>,
    grid: TaskGrid,
    timeline: TimelineCache,
    activity: crate::gui::widgets::activity::ActivityCache,
    cost: CellCost,
    /// No two task bars overlap (the GIL's promise for CPU-bound tasks).
    bars_disjoint: bool,
    /// Hovered task last frame, in the grid or in the timeline.
    grid_hovered: Option<u32>,
    timeline_hovered: Option<u32>,
    selected: Option<u32>,
    /// Scroll the view into sight on its first frame.
    just_opened: bool,
}

impl TaskView {
    /// Builds everything the view draws, once (the trace is moved in).
    pub fn new(label: RunLabel, trace: Trace) -> Self {
        let spans: Vec<(u64, u64)> = trace
            .records
            .iter()
            .map(|r| (r.start_nanos, r.end_nanos))
            .collect();
        let schedule = if label.schedule.uses_pool() {
            format!(
                "{} · {}",
                crate::engine::util::words::count_of(label.num_workers, "worker"),
                label.schedule
            )
        } else {
            "sequential (no pool)".to_string()
        };
        let title = format!(
            "{} · {} · {schedule} · GIL {}",
            label.workload,
            label.granularity,
            if label.gil { "on" } else { "off" }
        );
        TaskView {
            title,
            stats: trace.stats(),
            worker_cpus: worker_cpus(&trace.records, trace.num_workers),
            grid: TaskGrid::new(&trace, label.num_tasks),
            bars_disjoint: disjoint(&spans),
            label,
            trace,
            timeline: TimelineCache::default(),
            activity: Default::default(),
            cost: CellCost::Duration,
            grid_hovered: None,
            timeline_hovered: None,
            selected: None,
            just_opened: true,
        }
    }

    /// `workload · granularity · workers · schedule · GIL on/off`.
    pub fn title(&self) -> &str {
        &self.title
    }

    pub fn label(&self) -> &RunLabel {
        &self.label
    }

    /// Cells in the grid: one per task.
    pub fn num_cells(&self) -> usize {
        self.grid.num_cells()
    }

    pub fn trace(&self) -> &Trace {
        &self.trace
    }

    /// True when no two tasks' bars overlap in time.
    pub fn bars_disjoint(&self) -> bool {
        self.bars_disjoint
    }

    /// The task selected by a click in the grid or the timeline.
    pub fn selected_task(&self) -> Option<u32> {
        self.selected
    }

    pub fn ui(&mut self, ui: &mut egui::Ui) -> TaskViewAction {
        let mut action = TaskViewAction::default();
        let heading = ui.horizontal(|ui| {
            ui.label(RichText::new(format!("Run view: {}", self.title)).heading());
            action.close = ui
                .button("Close run view")
                .on_hover_text("hide this run's task grid and timeline")
                .clicked();
        });
        if std::mem::take(&mut self.just_opened) {
            heading.response.scroll_to_me(Some(egui::Align::TOP));
        }
        ui.label(
            RichText::new(format!(
                "the median run of this configuration · {}",
                self.label.describe
            ))
            .weak(),
        );
        ui.horizontal_wrapped(|ui| {
            let s = &self.stats;
            ui.label(format!("wall {}", fmt_ms(s.wall_nanos)))
                .on_hover_text("the run's parallel phase, measured");
            ui.separator();
            ui.label(format!("utilisation {:.0} %", 100.0 * s.utilisation))
                .on_hover_text("busy time of all workers ÷ (wall time × workers)");
            ui.separator();
            ui.label(format!("imbalance {:.2}", s.imbalance))
                .on_hover_text(
                    "busiest worker's busy time ÷ mean busy time; 1.00 is perfect balance",
                );
            ui.separator();
            ui.label("cells show");
            ui.selectable_value(&mut self.cost, CellCost::Duration, "time");
            ui.selectable_value(&mut self.cost, CellCost::Work, self.label.work_unit);
        });
        if self.label.gil {
            self.gil_note_ui(ui);
        }
        ui.add_space(4.0);
        ui.horizontal_top(|ui| {
            let grid_w = (ui.available_width() * 0.55).max(120.0);
            ui.vertical(|ui| {
                ui.set_max_width(grid_w);
                let resp = task_grid_ui(
                    ui,
                    &mut self.grid,
                    TaskGridOptions {
                        highlight_task: self.timeline_hovered,
                        selected_task: self.selected,
                        cost: self.cost,
                        task_label: self.label.task_label,
                        work_unit: self.label.work_unit,
                        max_height: 300.0,
                    },
                );
                self.grid_hovered = resp.hovered_task;
                if resp.clicked_task.is_some() {
                    self.selected = resp.clicked_task;
                }
                ui.label(
                    RichText::new(grid_caption(&self.grid, self.cost, self.label.task_label))
                        .weak()
                        .small(),
                );
            });
            ui.vertical(|ui| {
                legend_ui_as(
                    ui,
                    "task-view-legend",
                    &self.stats,
                    &self.worker_cpus,
                    &format!("{}s", self.label.task_label),
                );
            });
        });
        ui.add_space(4.0);
        ui.label(
            RichText::new(format!(
                "timeline: one lane per worker, one bar per {}; dark = idle",
                self.label.task_label
            ))
            .weak(),
        );
        {
            use crate::gui::widgets::activity::{activity_strip_ui, concurrency_histogram_ui};
            let activity = self.activity.get(&self.trace);
            concurrency_histogram_ui(ui, activity);
            activity_strip_ui(ui, activity, 64.0, 18.0);
        }
        let resp = timeline_ui(
            ui,
            &self.trace,
            &mut self.timeline,
            TimelineOptions {
                highlight_task: self.grid_hovered,
                selected_task: self.selected,
                cursor_nanos: None,
                lane_height: (140.0 / self.trace.num_workers.max(1) as f32).clamp(4.0, 16.0),
                task_label: self.label.task_label,
                work_unit: self.label.work_unit,
                ..Default::default()
            },
        );
        self.timeline_hovered = resp.hovered_task;
        if resp.clicked_task.is_some() {
            self.selected = resp.clicked_task;
        }
        if let Some(r) = self.selected.and_then(|t| self.grid.record(t as usize)) {
            ui.label(
                RichText::new(format!(
                    "selected: {}",
                    task_summary_as(r, self.label.task_label, self.label.work_unit)
                ))
                .color(palette::WARN),
            );
        } else {
            ui.label(
                RichText::new("click a cell or a bar to show its task")
                    .weak()
                    .small(),
            );
        }
        action
    }

    fn gil_note_ui(&self, ui: &mut egui::Ui) {
        let n = self.trace.records.len();
        let line = if self.bars_disjoint {
            RichText::new(format!(
                "GIL mode: each bar is the time its {} held the one global lock; the {n} bars never \
                 overlap (checked), so the workers took turns",
                self.label.task_label
            ))
            .color(palette::GOOD)
        } else {
            RichText::new(format!(
                "GIL mode: each bar runs from its {} first taking the lock to its last release; \
                 bars overlap because tasks release the lock while they wait (I/O), so waits \
                 still overlap",
                self.label.task_label
            ))
            .color(palette::WARN)
        };
        ui.label(line);
        ui.label(RichText::new(WHY_MULTIPROCESSING).weak().small());
    }
}
