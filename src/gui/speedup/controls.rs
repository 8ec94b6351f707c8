//! The speedup lab's controls: workload, lists, repetitions, schedule,
//! kernel, Run/Cancel, status, and the prediction's granularity.

use super::workload_pick::granularity_hint;
use super::{SpeedupPanel, SweepState};
use crate::engine::exec::placement::PINNING_HELP;
use crate::engine::exec::pool::logical_cores;
use crate::engine::exec::schedule::Schedule;
use crate::engine::mandelbrot::kernel::Kernel;
use crate::engine::speedup::results::SweepResults;
use crate::engine::workloads::WORKLOAD_NAMES;
use crate::gui::widgets::palette;
use egui::RichText;

impl SpeedupPanel {
    /// Chooses whose task times the prediction plot replays.
    pub(super) fn prediction_choice_ui(&mut self, ui: &mut egui::Ui) {
        let grans = self
            .results
            .as_ref()
            .map(SweepResults::granularities)
            .unwrap_or_default();
        let mut predict_for = self.predict_for;
        crate::gui::widgets::labelled::combo(
            ui,
            "prediction replays",
            "prediction replays-combo",
            &(predict_for.map_or_else(|| "best-scaling granularity".into(), |g| g.to_string()))
                .to_string(),
            |ui| {
                ui.selectable_value(&mut predict_for, None, "best-scaling granularity");
                for g in grans {
                    ui.selectable_value(&mut predict_for, Some(g), g.to_string());
                }
            },
        )
        .on_hover_text(
            "whose measured 1-worker task times the prediction replays on 1..=64 virtual workers",
        );
        if predict_for != self.predict_for {
            self.predict_for = predict_for;
            self.refresh();
        }
    }

    pub(super) fn controls_ui(&mut self, ui: &mut egui::Ui) {
        if cfg!(debug_assertions) {
            ui.label(
                RichText::new("debug build: timings are not representative, build with --release")
                    .color(palette::WARN),
            );
        }
        let idle = self.is_idle();
        let mut picked = None;
        ui.add_enabled_ui(idle, |ui| {
            ui.horizontal(|ui| {
                crate::gui::widgets::labelled::combo(ui, "workload", "workload-combo", &self.settings.workload, |ui| {
                        for name in WORKLOAD_NAMES {
                            if ui
                                .selectable_label(self.settings.workload == name, name)
                                .clicked()
                            {
                                picked = Some(name);
                            }
                        }
                    });
                if self.settings.workload == "mandelbrot" {
                    crate::gui::widgets::labelled::combo(ui, "workers are", "workers are-combo", self.settings.backend.name(), |ui| {
                            for b in crate::engine::farm::Backend::offered() {
                                ui.selectable_value(&mut self.settings.backend, b, b.name())
                                    .on_hover_text(b.describe());
                            }
                        })
                        .on_hover_text(crate::gui::explorer::controls::BACKEND_HELP);
                }
                if self.settings.workload != "mandelbrot" {
                    let l = ui.label("parameters");
                    ui.add(
                        egui::TextEdit::singleline(&mut self.settings.workload_params)
                            .desired_width(200.0),
                    )
                    .labelled_by(l.id)
                    .on_hover_text(
                        "key=value, comma-separated; primes: start, count, trial (naive/sqrt); \
                         dot: len, seed; matmul: n, seed; io: tasks, wait-ms, rounds; left out: defaults",
                    );
                    ui.checkbox(&mut self.settings.gil, "GIL mode").on_hover_text(
                        "every task computes under one global lock, as CPython threads do: \
                         CPU-bound speedup stays near 1 while I/O waits still overlap",
                    );
                }
                ui.checkbox(&mut self.settings.pin_workers, "pin workers to cores")
                    .on_hover_text(PINNING_HELP);
            });
        });
        if let Some(name) = picked.filter(|n| *n != self.settings.workload) {
            self.select_workload(name);
        }
        if self.settings.workload != "mandelbrot" {
            ui.label(
                RichText::new(format!(
                    "{}: granularity = {}; data built once before timing, every run checked \
                     against the serial result after timing",
                    self.workload_spec(),
                    granularity_hint(&self.settings.workload)
                ))
                .weak()
                .small(),
            );
        }
        ui.add_enabled_ui(idle, |ui| {
            ui.horizontal(|ui| {
                let l = ui.label("workers");
                ui.add(egui::TextEdit::singleline(&mut self.settings.workers).desired_width(160.0))
                    .labelled_by(l.id)
                    .on_hover_text("worker counts, comma-separated; above the logical cores is oversubscription");
                let l = ui.label("granularities");
                ui.add(egui::TextEdit::singleline(&mut self.settings.granularities).desired_width(220.0))
                    .labelled_by(l.id)
                    .on_hover_text(granularity_hint(&self.settings.workload));
                if ui
                    .button("defaults")
                    .on_hover_text(
                        "both lists back to their defaults: workers 1 to the logical cores, \
                         then 2× and 4× them (oversubscribed), and the workload's log-spaced \
                         granularities",
                    )
                    .clicked()
                {
                    self.reset_lists();
                }
            });
            ui.horizontal(|ui| {
                let l = ui.label("repetitions");
                crate::gui::widgets::labelled::checked_drag(ui, egui::DragValue::new(&mut self.settings.reps).range(1..=100))
                    .labelled_by(l.id);
                let l = ui.label("warm-up runs");
                crate::gui::widgets::labelled::checked_drag(ui, egui::DragValue::new(&mut self.settings.warmup).range(0..=10))
                    .labelled_by(l.id);
                crate::gui::widgets::labelled::combo(ui, "schedule", "schedule-combo", self.settings.schedule.name(), |ui| {
                        for s in Schedule::ALL.into_iter().filter(Schedule::uses_pool) {
                            ui.selectable_value(&mut self.settings.schedule, s, s.name())
                                .on_hover_text(s.describe());
                        }
                    });
                if self.settings.workload == "mandelbrot" {
                    crate::gui::widgets::labelled::combo(ui, "kernel", "kernel-combo", self.settings.kernel.label(), |ui| {
                            for k in Kernel::ALL.into_iter().filter(Kernel::is_available) {
                                ui.selectable_value(&mut self.settings.kernel, k, k.label());
                            }
                        });
                }
            });
        });
        ui.horizontal(|ui| {
            if ui.add_enabled(idle, egui::Button::new("Run")).clicked() {
                let notify = Self::sweep_notify(ui.ctx());
                self.start(Some(notify));
            }
            if ui.add_enabled(!idle, egui::Button::new("Cancel")).clicked() {
                self.cancel();
            }
            let measured = self.results.as_ref().is_some_and(|r| r.num_measured() > 0);
            if ui
                .add_enabled(idle && measured, egui::Button::new("Pin for comparison"))
                .on_hover_text(
                    "keep this sweep's speedup lines on the plot, then run another workload \
                     (e.g. io beside primes) to see both on one plot",
                )
                .clicked()
            {
                self.pin_for_comparison();
            }
            if let Some(label) = self.pinned_label().map(str::to_owned)
                && ui
                    .button(format!("Unpin {label}"))
                    .on_hover_text("model curves return once no comparison is pinned")
                    .clicked()
            {
                self.clear_pinned();
            }
            if let Some(job) = &self.job {
                let (done, total) = job.progress();
                ui.add(
                    egui::ProgressBar::new(done as f32 / total.max(1) as f32)
                        .desired_width(160.0)
                        .text(format!("{done}/{total}")),
                );
                if let Some(text) = self.progress_text() {
                    ui.label(text);
                }
            }
        });
        if let Some(e) = &self.input_error {
            ui.label(RichText::new(e).color(palette::BAD));
        }
    }

    pub(super) fn status_ui(&self, ui: &mut egui::Ui) {
        let measured = self.results.as_ref().map_or(0, SweepResults::num_measured);
        let (text, colour) = match &self.state {
            SweepState::Idle => ("press Run to measure".to_string(), palette::IDEAL),
            SweepState::Preparing => ("preparing (nothing timed yet)...".into(), palette::WARN),
            SweepState::WarmingUp => ("warming up (untimed runs)...".into(), palette::WARN),
            SweepState::Measuring => (
                format!(
                    "measuring: {} so far",
                    crate::engine::util::words::count_of(measured, "run")
                ),
                palette::MEASURED,
            ),
            SweepState::Done => (
                format!(
                    "done: {}",
                    crate::engine::util::words::count_of(measured, "run")
                ),
                palette::GOOD,
            ),
            SweepState::Cancelled => (
                format!(
                    "cancelled after {}",
                    crate::engine::util::words::count_of(measured, "run")
                ),
                palette::WARN,
            ),
            SweepState::Failed(e) => (format!("failed: {e}"), palette::BAD),
        };
        ui.horizontal(|ui| {
            ui.label(RichText::new(text).color(colour));
            if let Some(load) = self.results.as_ref().and_then(|r| r.load_average_start) {
                let busy = load > logical_cores() as f64;
                ui.label(
                    RichText::new(format!("load average at start {load:.2}")).color(if busy {
                        palette::WARN
                    } else {
                        palette::IDEAL
                    }),
                )
                .on_hover_text(
                    "runnable threads (1-minute average); above the core count, other programs \
                     compete with the measurement",
                );
            }
        });
        if let Some(w) = &self.waiting {
            ui.label(RichText::new(w).color(palette::WARN));
        }
        if let Some(r) = &self.results
            && r.other_cpu.windows > 0
        {
            let other = &r.other_cpu;
            let colour = if other.is_busy() {
                palette::BAD
            } else {
                palette::IDEAL
            };
            ui.label(RichText::new(other.describe()).color(colour))
                .on_hover_text(crate::engine::exec::other_cpu::BUSY_RULE);
        }
        if let Some(d) = &self.derived
            && d.rows.iter().any(|(_, row)| row.superlinear)
        {
            ui.label(
                RichText::new(crate::engine::speedup::results::SUPERLINEAR_NOTE)
                    .color(palette::WARN),
            );
        }
    }
}
