//! The Python tab's sweep: workers x {threads, processes}, both modes'
//! speedup on the lab's plot, the busy-machine line, the table of medians,
//! and the exports.

use super::{MAX_SWEEP_REPS, PythonPanel, other_cpu_ui};
use crate::engine::exec::other_cpu::OtherCpu;
use crate::engine::python::sweep::{ModeSweep, cpu_per_wall};
use crate::engine::speedup::charts::data::{SpeedupChart, overlay_speedup_charts, speedup_chart};
use crate::gui::speedup::plots::speedup_plot_ui;
use crate::gui::widgets::palette;
use egui::RichText;

impl PythonPanel {
    pub(super) fn sweep_ui(&mut self, ui: &mut egui::Ui) {
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
                crate::gui::widgets::labelled::measuring_mark(ui);
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
