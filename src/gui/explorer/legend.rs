//! The overlay legend (per worker: tiles, busy time, share of the work) and
//! the stats strip (wall, utilisation, imbalance, speedup against a baseline).

use crate::engine::exec::placement::WorkerCpus;
use crate::engine::exec::trace::TraceStats;
use crate::gui::widgets::palette;
use crate::gui::widgets::timeline::fmt_ms;
use egui::{RichText, Sense, Vec2};

/// A table row per worker, with a swatch in the worker's overlay colour.
pub fn legend_ui(ui: &mut egui::Ui, stats: &TraceStats, cpus: &[WorkerCpus]) {
    legend_ui_as(ui, "worker-legend", stats, cpus, "tiles");
}

/// The legend for tasks called `tasks_header` (`chunks`, `leaves`…); `id`
/// keeps two legends on one screen apart. `cpus` (per worker, may be empty)
/// adds a column with the CPUs each worker's tasks started on.
pub fn legend_ui_as(
    ui: &mut egui::Ui,
    id: &str,
    stats: &TraceStats,
    cpus: &[WorkerCpus],
    tasks_header: &str,
) {
    let total_work = stats.work.max(1) as f64;
    let show_cpus = cpus.iter().any(|c| !c.cpus.is_empty());
    egui::Grid::new(id)
        .num_columns(if show_cpus { 6 } else { 5 })
        .striped(true)
        .spacing([10.0, 2.0])
        .show(ui, |ui| {
            ui.label("");
            ui.label(RichText::new("worker").strong());
            ui.label(RichText::new(tasks_header).strong());
            ui.label(RichText::new("busy").strong())
                .on_hover_text(BUSY_MORE);
            ui.label(RichText::new("share of work").strong())
                .on_hover_text("this worker's work units (iterations, items) ÷ all of the run's");
            if show_cpus {
                ui.label(RichText::new("cpus").strong());
            }
            ui.end_row();
            for w in &stats.workers {
                let (rect, _) = ui.allocate_exact_size(Vec2::splat(12.0), Sense::hover());
                ui.painter().rect_filled(rect, 2.0, palette::worker(w.id));
                ui.label(w.id.to_string());
                ui.label(crate::engine::util::words::thousands(w.tasks as u64));
                ui.label(fmt_ms(w.busy_nanos));
                ui.label(format!("{:.1} %", 100.0 * w.work as f64 / total_work));
                if show_cpus {
                    let c = cpus.get(w.id as usize).cloned().unwrap_or_default();
                    ui.label(
                        c.describe()
                            .trim_start_matches("cpus ")
                            .trim_start_matches("cpu "),
                    );
                }
                ui.end_row();
            }
        });
    ui.label(RichText::new(BUSY_MEANING).weak().small())
        .on_hover_text(BUSY_MORE);
}

/// What the legend's "busy" column counts, said once under it (one line;
/// the header's hover says more).
pub const BUSY_MEANING: &str = "busy includes time the OS had the thread descheduled";

/// The hover of the "busy" header.
pub const BUSY_MORE: &str = "busy = wall time inside this worker's tasks, including time the OS \
     had its thread descheduled: with more workers than cores a worker can be busy for long \
     while doing a small share of the work";

/// A finished 1-worker render of the same view, for the speedup figure.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Baseline {
    pub wall_nanos: u64,
    /// When it was measured (shown beside the speedup).
    pub measured_at: std::time::SystemTime,
}

impl Baseline {
    /// "measured 42 s ago" (ASCII).
    pub fn age_text(&self) -> String {
        let s = self.measured_at.elapsed().map_or(0, |d| d.as_secs());
        match s {
            0..=119 => format!("measured {s} s ago"),
            120..=7199 => format!("measured {} min ago", s / 60),
            _ => format!("measured {} h ago", s / 3600),
        }
    }
}

/// What the strip asks for.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct StripAction {
    pub measure_baseline: bool,
}

/// One line of figures under the image.
pub fn stats_strip_ui(
    ui: &mut egui::Ui,
    stats: &TraceStats,
    complete: bool,
    baseline: Option<Baseline>,
    baseline_running: bool,
) -> StripAction {
    let mut action = StripAction::default();
    ui.horizontal_wrapped(|ui| {
        let tag = if complete { "" } else { " (so far)" };
        ui.label(format!("wall {}{tag}", fmt_ms(stats.wall_nanos)))
            .on_hover_text("time from the first tile's start to the last tile's end, measured");
        ui.separator();
        ui.label(format!("utilisation {:.0} %", 100.0 * stats.utilisation))
            .on_hover_text("busy time of all workers ÷ (wall time × workers)");
        ui.separator();
        ui.label(format!("imbalance {:.2}", stats.imbalance))
            .on_hover_text("busiest worker's busy time ÷ mean busy time; 1.00 is perfect balance");
        ui.separator();
        match (baseline, complete) {
            (Some(b), true) if stats.wall_nanos > 0 => {
                let s = b.wall_nanos as f64 / stats.wall_nanos as f64;
                ui.label(RichText::new(format!("speedup x{s:.2}")).color(palette::MEASURED))
                    .on_hover_text(format!(
                        "1-worker render of this view took {} ({}); this one {}. One run each: \
                         a single pair of measurements, no spread",
                        fmt_ms(b.wall_nanos),
                        b.age_text(),
                        fmt_ms(stats.wall_nanos)
                    ));
                ui.label(RichText::new(format!("baseline {}", b.age_text())).weak());
            }
            (Some(_), false) => {
                ui.label("speedup: when this render completes");
            }
            _ => {
                ui.label(RichText::new("no baseline yet").color(palette::WARN))
                    .on_hover_text("speedup needs a 1-worker render of the same view");
            }
        }
        if baseline_running {
            // No spinner: it would redraw the window every frame during the measurement.
            ui.label("measuring 1-worker baseline...");
        } else if ui
            .button("Measure 1-worker baseline")
            .on_hover_text("renders this view on a 1-worker pool in the background (not shown)")
            .clicked()
        {
            action.measure_baseline = true;
        }
    });
    action
}
