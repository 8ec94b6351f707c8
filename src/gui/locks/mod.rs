//! The lock lab: live throughput-vs-threads plot per lock kind, a Tracy-style
//! contention timeline, and the deadlock demo (detected, fixed by lock order).
//! (The seed's start/join exchange is a race topic: the race lab has it.)

pub mod deadlock;
mod throughput;
pub mod timeline;

pub use throughput::throughput_plot_ui;

use crate::engine::exec::task::{BackgroundTask, Emitter};
use crate::engine::locks::contention::{
    ContentionConfig, ContentionTimeline, MAX_CONTENTION_ITERATIONS, MAX_CONTENTION_MICROS,
    MAX_CONTENTION_THREADS, record_contention,
};
use crate::engine::locks::deadlock::{
    DeadlockConfig, DeadlockReport, LockOrder, MAX_TIMEOUT_MILLIS, run_deadlock,
};
use crate::engine::locks::throughput::{ThroughputConfig, ThroughputPoint, run_throughput};
use crate::gui::locks::deadlock::{order_words, report_ui};
use crate::gui::locks::timeline::timeline_ui;
use crate::gui::measuring::{MeasureGuard, Measuring, refused_message, release_when_done};
use crate::gui::widgets::drain::{drain_tasks, repaint_notifier};
use crate::gui::widgets::labelled::drag;
use crate::gui::widgets::palette;
use serde::{Deserialize, Serialize};

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
}

#[derive(Default)]
struct Runtime {
    throughput_task: Option<BackgroundTask<LocksMsg>>,
    points: Vec<ThroughputPoint>,
    throughput_error: Option<String>,
    side_task: Option<BackgroundTask<LocksMsg>>,
    contention: Option<ContentionTimeline>,
    deadlock: Option<DeadlockReport>,
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
                crate::gui::widgets::labelled::measuring_mark(ui);
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
                crate::gui::widgets::labelled::measuring_mark(ui);
            }
        });
        if let Some(e) = &self.runtime.side_error {
            ui.colored_label(palette::BAD, e);
        }
        if let Some(r) = &self.runtime.deadlock {
            ui.label(order_words(r.config.order));
            report_ui(ui, r);
        }
    }
}

impl crate::gui::panel::Panel for LocksPanel {
    fn ui(&mut self, ui: &mut egui::Ui) {
        LocksPanel::ui(self, ui);
    }

    fn is_idle(&self) -> bool {
        !self.is_busy()
    }

    /// The shown view's work (one measurement at a time: starting two at
    /// once refused the second): the throughput comparison, a contention
    /// timeline, or a deadlock with the locks taken in opposite orders.
    fn start_work(&mut self, ctx: &egui::Context) {
        match self.view {
            LocksView::Throughput => self.start_throughput(ctx),
            LocksView::Contention => self.start_contention(ctx),
            LocksView::Deadlock => self.start_deadlock(ctx, LockOrder::Opposite),
        }
    }
}
