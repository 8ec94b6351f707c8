//! The lock lab: live throughput-vs-threads plot per lock kind, a Tracy-style
//! contention timeline, and the deadlock demo (detected, fixed by lock order,
//! and the seed's start/join exchange).

pub mod deadlock;
pub mod timeline;

use crate::engine::exec::pool::logical_cores;
use crate::engine::exec::task::{BackgroundTask, Emitter};
use crate::engine::locks::contention::{
    ContentionConfig, ContentionTimeline, MAX_CONTENTION_ITERATIONS, MAX_CONTENTION_MICROS,
    MAX_CONTENTION_THREADS, record_contention,
};
use crate::engine::locks::deadlock::{
    DeadlockConfig, DeadlockReport, LockOrder, MAX_TIMEOUT_MILLIS, run_deadlock,
};
use crate::engine::locks::plot::{throughput_csv, write_throughput_plot};
use crate::engine::locks::throughput::{
    LockKind, MAX_OPS, PAD_BYTES, ThroughputConfig, ThroughputPoint, run_throughput,
};
use crate::engine::race::presets::{StartJoinComparison, compare_start_join};
use crate::engine::util::files::write_atomic;
use crate::gui::locks::deadlock::{order_words, report_ui, start_join_ui};
use crate::gui::locks::timeline::timeline_ui;
use crate::gui::measuring::{MeasureGuard, Measuring, refused_message, release_when_done};
use crate::gui::widgets::drain::{drain_tasks, repaint_notifier};
use crate::gui::widgets::labelled::drag;
use crate::gui::widgets::palette;
use serde::{Deserialize, Serialize};

/// Thread counts offered as checkboxes.
const THREAD_CHOICES: [usize; 7] = [1, 2, 3, 4, 8, 16, 32];

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum LocksView {
    #[default]
    Throughput,
    Contention,
    Deadlock,
}

pub enum LocksMsg {
    Point(ThroughputPoint),
    ThroughputEnded(Option<String>),
    Contention(Result<ContentionTimeline, String>),
    Deadlock(Result<DeadlockReport, String>),
    StartJoin(Result<StartJoinComparison, String>),
}

#[derive(Default)]
struct Runtime {
    throughput_task: Option<BackgroundTask<LocksMsg>>,
    points: Vec<ThroughputPoint>,
    throughput_error: Option<String>,
    side_task: Option<BackgroundTask<LocksMsg>>,
    contention: Option<ContentionTimeline>,
    deadlock: Option<DeadlockReport>,
    start_join: Option<StartJoinComparison>,
    side_error: Option<String>,
    /// The window's one-measurement token, held while each task runs.
    throughput_guard: Option<MeasureGuard>,
    side_guard: Option<MeasureGuard>,
}

#[derive(Serialize, Deserialize)]
#[serde(default)]
pub struct LocksPanel {
    pub view: LocksView,
    pub throughput: ThroughputConfig,
    pub contention: ContentionConfig,
    pub deadlock_timeout_millis: u64,
    /// Delay between read and write for the start/join comparison.
    pub start_join_delay_micros: u64,
    /// Where "Save" writes the sweep: `.csv`, `.png` or `.svg`.
    pub export_path: String,
    #[serde(skip)]
    export_status: Option<Result<String, String>>,
    /// The window-wide one-measurement-at-a-time token (shared with the other panels).
    #[serde(skip)]
    pub measuring: Measuring,
    #[serde(skip)]
    runtime: Runtime,
}

impl Default for LocksPanel {
    fn default() -> Self {
        LocksPanel {
            view: LocksView::Throughput,
            throughput: ThroughputConfig::default(),
            contention: ContentionConfig::default(),
            deadlock_timeout_millis: DeadlockConfig::default().timeout_millis,
            start_join_delay_micros: 20_000,
            export_path: "locks.png".into(),
            export_status: None,
            measuring: Measuring::default(),
            runtime: Runtime::default(),
        }
    }
}

impl LocksPanel {
    pub fn points(&self) -> &[ThroughputPoint] {
        &self.runtime.points
    }
    pub fn deadlock_report(&self) -> Option<&DeadlockReport> {
        self.runtime.deadlock.as_ref()
    }
    pub fn contention_timeline(&self) -> Option<&ContentionTimeline> {
        self.runtime.contention.as_ref()
    }
    pub fn start_join(&self) -> Option<&StartJoinComparison> {
        self.runtime.start_join.as_ref()
    }
    pub fn is_busy(&self) -> bool {
        self.runtime.throughput_task.is_some() || self.runtime.side_task.is_some()
    }

    pub fn start_throughput(&mut self, ctx: &egui::Context) {
        let config = self.throughput.clone();
        if let Err(e) = config.validate() {
            self.runtime.throughput_error = Some(e.to_string());
            return;
        }
        let guard = match self.measuring.try_begin("the locks lab's throughput sweep") {
            Ok(g) => g,
            Err(holder) => {
                self.runtime.throughput_error = Some(refused_message(&holder));
                return;
            }
        };
        self.runtime.points.clear();
        self.runtime.throughput_error = None;
        let task = BackgroundTask::spawn(
            "parlab-locks-throughput",
            Some(repaint_notifier(ctx)),
            move |e: &Emitter<LocksMsg>| {
                let r = run_throughput(&config, e.cancel_flag(), |p| {
                    e.send(LocksMsg::Point(p.clone()));
                });
                e.send(LocksMsg::ThroughputEnded(r.err().map(|e| e.to_string())));
            },
        );
        match task {
            Ok(t) => {
                self.runtime.throughput_task = Some(t);
                self.runtime.throughput_guard = Some(guard);
            }
            Err(e) => self.runtime.throughput_error = Some(format!("could not start: {e}")),
        }
    }

    fn start_side(
        &mut self,
        ctx: &egui::Context,
        body: impl FnOnce() -> LocksMsg + Send + 'static,
    ) {
        let guard = match self.measuring.try_begin("the locks lab's demo") {
            Ok(g) => g,
            Err(holder) => {
                self.runtime.side_error = Some(refused_message(&holder));
                return;
            }
        };
        self.runtime.side_error = None;
        let task = BackgroundTask::spawn(
            "parlab-locks-demo",
            Some(repaint_notifier(ctx)),
            move |e: &Emitter<LocksMsg>| {
                e.send(body());
            },
        );
        match task {
            Ok(t) => {
                self.runtime.side_task = Some(t);
                self.runtime.side_guard = Some(guard);
            }
            Err(e) => self.runtime.side_error = Some(format!("could not start: {e}")),
        }
    }

    pub fn start_contention(&mut self, ctx: &egui::Context) {
        let c = self.contention;
        self.start_side(ctx, move || {
            LocksMsg::Contention(record_contention(&c).map_err(|e| e.to_string()))
        });
    }

    pub fn start_deadlock(&mut self, ctx: &egui::Context, order: LockOrder) {
        let c = DeadlockConfig {
            order,
            timeout_millis: self.deadlock_timeout_millis,
            ..DeadlockConfig::default()
        };
        self.start_side(ctx, move || {
            LocksMsg::Deadlock(run_deadlock(&c).map_err(|e| e.to_string()))
        });
    }

    pub fn start_start_join(&mut self, ctx: &egui::Context) {
        let delay = self.start_join_delay_micros;
        self.start_side(ctx, move || {
            let cancel = std::sync::atomic::AtomicBool::new(false);
            LocksMsg::StartJoin(compare_start_join(delay, 1, &cancel).map_err(|e| e.to_string()))
        });
    }

    fn drain(&mut self, ctx: &egui::Context) {
        let mut msgs = Vec::new();
        drain_tasks(
            ctx,
            &mut [
                &mut self.runtime.throughput_task,
                &mut self.runtime.side_task,
            ],
            &mut msgs,
        );
        release_when_done(
            &self.runtime.throughput_task,
            &mut self.runtime.throughput_guard,
        );
        release_when_done(&self.runtime.side_task, &mut self.runtime.side_guard);
        for m in msgs {
            match m {
                LocksMsg::Point(p) => self.runtime.points.push(p),
                LocksMsg::ThroughputEnded(err) => self.runtime.throughput_error = err,
                LocksMsg::Contention(r) => match r {
                    Ok(t) => self.runtime.contention = Some(t),
                    Err(e) => self.runtime.side_error = Some(e),
                },
                LocksMsg::Deadlock(r) => match r {
                    Ok(d) => self.runtime.deadlock = Some(d),
                    Err(e) => self.runtime.side_error = Some(e),
                },
                LocksMsg::StartJoin(r) => match r {
                    Ok(c) => self.runtime.start_join = Some(c),
                    Err(e) => self.runtime.side_error = Some(e),
                },
            }
        }
    }

    pub fn ui(&mut self, ui: &mut egui::Ui) {
        self.drain(ui.ctx());
        ui.horizontal(|ui| {
            ui.selectable_value(&mut self.view, LocksView::Throughput, "Throughput");
            ui.selectable_value(&mut self.view, LocksView::Contention, "Contention timeline");
            ui.selectable_value(&mut self.view, LocksView::Deadlock, "Deadlock");
        });
        ui.separator();
        egui::ScrollArea::vertical()
            .id_salt("locks-panel-scroll")
            .show(ui, |ui| match self.view {
                LocksView::Throughput => self.throughput_ui(ui),
                LocksView::Contention => self.contention_ui(ui),
                LocksView::Deadlock => self.deadlock_ui(ui),
            });
    }

    fn throughput_ui(&mut self, ui: &mut egui::Ui) {
        ui.label(format!(
            "Each kind runs the same number of operations, split over the threads, started together on a barrier. \
             This machine has {} logical cores. Padded counters are {PAD_BYTES}-byte aligned: \
             lines are 64 bytes but the adjacent-line prefetcher pulls pairs.",
            logical_cores()
        ));
        ui.horizontal_wrapped(|ui| {
            ui.label("threads:");
            for n in THREAD_CHOICES {
                let mut on = self.throughput.thread_counts.contains(&n);
                if ui.checkbox(&mut on, n.to_string()).changed() {
                    if on {
                        self.throughput.thread_counts.push(n);
                        self.throughput.thread_counts.sort_unstable();
                    } else {
                        self.throughput.thread_counts.retain(|&t| t != n);
                    }
                }
            }
        });
        ui.horizontal_wrapped(|ui| {
            ui.label("kinds:");
            for k in LockKind::ALL {
                let mut on = self.throughput.kinds.contains(&k);
                let text = egui::RichText::new(k.label()).color(palette::lock_kind(k));
                if ui.checkbox(&mut on, text).changed() {
                    if on {
                        self.throughput.kinds.push(k);
                        self.throughput
                            .kinds
                            .sort_by_key(|x| LockKind::ALL.iter().position(|y| y == x));
                    } else {
                        self.throughput.kinds.retain(|&x| x != k);
                    }
                }
            }
        });
        ui.horizontal_wrapped(|ui| {
            let l = ui.label("operations per measurement");
            ui.add(
                egui::DragValue::new(&mut self.throughput.ops)
                    .range(1..=MAX_OPS)
                    .speed(10_000.0),
            )
            .labelled_by(l.id);
            drag(ui, "repeats", &mut self.throughput.repeats, 1..=50, "");
            let running = self.runtime.throughput_task.is_some();
            if ui
                .add_enabled(!running, egui::Button::new("Measure"))
                .clicked()
            {
                self.start_throughput(ui.ctx());
            }
            if running {
                if ui.button("Cancel").clicked()
                    && let Some(t) = &self.runtime.throughput_task
                {
                    t.cancel();
                }
                ui.spinner();
            }
        });
        if let Some(e) = &self.runtime.throughput_error {
            ui.colored_label(palette::BAD, e);
        }
        if !self.runtime.points.is_empty() {
            throughput_plot_ui(ui, &self.runtime.points);
            throughput_table_ui(ui, &self.runtime.points);
            self.export_ui(ui);
        }
    }

    /// Saves the measured points as CSV, or the plot as PNG/SVG (by extension).
    pub fn save_export(&mut self) {
        let path = std::path::PathBuf::from(self.export_path.trim());
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        let points = &self.runtime.points;
        let result = match ext.as_deref() {
            Some("csv") => {
                write_atomic(&path, throughput_csv(points).as_bytes()).map_err(|e| e.to_string())
            }
            Some("png" | "svg") => write_throughput_plot(&path, points).map_err(|e| e.to_string()),
            _ => Err(format!(
                "{}: give a name ending in .csv, .png or .svg",
                path.display()
            )),
        };
        self.export_status = Some(result.map(|()| format!("saved {}", path.display())));
    }

    fn export_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal_wrapped(|ui| {
            let l = ui.label("save to");
            ui.add(egui::TextEdit::singleline(&mut self.export_path).desired_width(280.0))
                .labelled_by(l.id);
            let busy = self.runtime.throughput_task.is_some();
            if ui
                .add_enabled(!busy, egui::Button::new("Save"))
                .on_hover_text(".csv: every point and sample; .png or .svg: the plot")
                .clicked()
            {
                self.save_export();
            }
            match &self.export_status {
                Some(Ok(m)) => {
                    ui.colored_label(palette::GOOD, m);
                }
                Some(Err(e)) => {
                    ui.colored_label(palette::BAD, e);
                }
                None => {}
            }
        });
    }

    fn contention_ui(&mut self, ui: &mut egui::Ui) {
        ui.label(
            "Each thread sleeps (think), then locks a Mutex and busy-works inside it (hold). \
             Timestamps before lock(), after acquiring and before release, plus an atomic count of waiters, classify every moment.",
        );
        ui.horizontal_wrapped(|ui| {
            drag(
                ui,
                "threads",
                &mut self.contention.num_threads,
                1..=MAX_CONTENTION_THREADS,
                "",
            );
            drag(
                ui,
                "iterations",
                &mut self.contention.iterations,
                1..=MAX_CONTENTION_ITERATIONS,
                "",
            );
            drag(
                ui,
                "hold",
                &mut self.contention.hold_micros,
                0..=MAX_CONTENTION_MICROS,
                " µs",
            );
            drag(
                ui,
                "think",
                &mut self.contention.think_micros,
                0..=MAX_CONTENTION_MICROS,
                " µs",
            );
            let busy = self.runtime.side_task.is_some();
            if ui
                .add_enabled(!busy, egui::Button::new("Record timeline"))
                .clicked()
            {
                self.start_contention(ui.ctx());
            }
            if busy {
                ui.spinner();
            }
        });
        if let Some(e) = &self.runtime.side_error {
            ui.colored_label(palette::BAD, e);
        }
        if let Some(tl) = &self.runtime.contention {
            timeline_ui(ui, tl);
        }
    }

    fn deadlock_ui(&mut self, ui: &mut egui::Ui) {
        ui.label(
            "Two threads, two locks. Nobody blocks in lock(): threads spin on try_lock and publish what they hold and \
             wait for; a monitor builds the wait-for graph and reports a cycle that outlives the timeout, then one \
             victim gives up so the run always ends.",
        );
        let busy = self.runtime.side_task.is_some();
        ui.horizontal_wrapped(|ui| {
            drag(
                ui,
                "timeout",
                &mut self.deadlock_timeout_millis,
                1..=MAX_TIMEOUT_MILLIS,
                " ms",
            );
            if ui
                .add_enabled(!busy, egui::Button::new("Run (opposite lock order)"))
                .on_hover_text(order_words(LockOrder::Opposite))
                .clicked()
            {
                self.start_deadlock(ui.ctx(), LockOrder::Opposite);
            }
            if ui
                .add_enabled(!busy, egui::Button::new("Run with a global lock order"))
                .on_hover_text(order_words(LockOrder::Global))
                .clicked()
            {
                self.start_deadlock(ui.ctx(), LockOrder::Global);
            }
            if busy {
                ui.spinner();
            }
        });
        if let Some(e) = &self.runtime.side_error {
            ui.colored_label(palette::BAD, e);
        }
        if let Some(r) = &self.runtime.deadlock {
            ui.label(order_words(r.config.order));
            report_ui(ui, r);
        }
        ui.separator();
        ui.strong("The seed's other fix: exchange t2.start() and t1.join() (thread2.py)");
        ui.horizontal_wrapped(|ui| {
            drag(
                ui,
                "sleep between read and write",
                &mut self.start_join_delay_micros,
                1..=200_000,
                " µs",
            );
            if ui
                .add_enabled(!busy, egui::Button::new("Compare start/join orders"))
                .clicked()
            {
                self.start_start_join(ui.ctx());
            }
        });
        if let Some(c) = &self.runtime.start_join {
            start_join_ui(ui, c);
        }
    }
}

/// Live plot: median ops/s per kind against threads (log scale), whiskers min–max, baseline dashed.
pub fn throughput_plot_ui(ui: &mut egui::Ui, points: &[ThroughputPoint]) {
    let log = |v: f64| v.max(1.0).log10();
    egui_plot::Plot::new("locks-throughput")
        .height(320.0)
        .x_axis_label("threads")
        .y_axis_label("operations per second (log scale)")
        .y_axis_formatter(|mark, _| format!("{:.0e}", 10f64.powf(mark.value)))
        .legend(egui_plot::Legend::default())
        .allow_scroll(false)
        .include_x(0.0)
        .show(ui, |plot_ui| {
            for kind in LockKind::ALL {
                let mut series: Vec<&ThroughputPoint> =
                    points.iter().filter(|p| p.kind == kind).collect();
                if series.is_empty() {
                    continue;
                }
                series.sort_by_key(|p| p.num_threads);
                let colour = palette::lock_kind(kind);
                if kind.single_threaded() {
                    plot_ui.hline(
                        egui_plot::HLine::new(kind.label(), log(series[0].median_ops_per_sec))
                            .color(colour)
                            .style(egui_plot::LineStyle::dashed_loose()),
                    );
                    continue;
                }
                let pts: Vec<[f64; 2]> = series
                    .iter()
                    .map(|p| [p.num_threads as f64, log(p.median_ops_per_sec)])
                    .collect();
                plot_ui.line(
                    egui_plot::Line::new(kind.label(), pts.clone())
                        .color(colour)
                        .width(2.0),
                );
                plot_ui.points(
                    egui_plot::Points::new(kind.label(), pts)
                        .color(colour)
                        .radius(3.5)
                        .filled(true),
                );
                for p in series {
                    let x = p.num_threads as f64;
                    plot_ui.line(
                        egui_plot::Line::new(
                            kind.label(),
                            vec![[x, log(p.min_ops_per_sec)], [x, log(p.max_ops_per_sec)]],
                        )
                        .color(colour)
                        .width(1.0),
                    );
                }
            }
        });
}

/// The numbers behind the plot.
fn throughput_table_ui(ui: &mut egui::Ui, points: &[ThroughputPoint]) {
    egui::CollapsingHeader::new("measured values")
        .id_salt("locks-table")
        .show(ui, |ui| {
            egui::Grid::new("locks-points")
                .num_columns(4)
                .striped(true)
                .spacing([14.0, 2.0])
                .show(ui, |ui| {
                    ui.strong("kind");
                    ui.strong("threads");
                    ui.strong("median ops/s");
                    ui.strong("min – max");
                    ui.end_row();
                    for p in points {
                        ui.colored_label(palette::lock_kind(p.kind), p.kind.label());
                        ui.label(p.num_threads.to_string());
                        ui.colored_label(
                            palette::MEASURED,
                            format!("{:.3e}", p.median_ops_per_sec),
                        );
                        ui.label(format!(
                            "{:.2e} – {:.2e}",
                            p.min_ops_per_sec, p.max_ops_per_sec
                        ));
                        ui.end_row();
                    }
                });
        });
}
