//! The lock lab's throughput view: thread counts, lock kinds and sizes, the
//! measured operations per second per kind (plot and table), and the export
//! of the points (CSV) or the plot (PNG/SVG).

use super::LocksPanel;
use crate::engine::exec::pool::logical_cores;
use crate::engine::locks::plot::{throughput_csv, write_throughput_plot};
use crate::engine::locks::throughput::{LockKind, MAX_OPS, PAD_BYTES, ThroughputPoint};
use crate::engine::util::files::write_atomic;
use crate::gui::widgets::labelled::drag;
use crate::gui::widgets::palette;

/// Thread counts offered as checkboxes.
const THREAD_CHOICES: [usize; 7] = [1, 2, 3, 4, 8, 16, 32];

impl LocksPanel {
    pub(super) fn throughput_ui(&mut self, ui: &mut egui::Ui) {
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
                let mut check = ui.checkbox(&mut on, text);
                if k == LockKind::Uncontended {
                    check = check.on_hover_text(
                        "lock + unlock on one thread, nobody else wanting the lock: the Mutex \
                         series' 1-thread point (one measurement when both are chosen)",
                    );
                }
                if check.changed() {
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
            crate::gui::widgets::labelled::checked_drag(
                ui,
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
                crate::gui::widgets::labelled::measuring_mark(ui);
            }
        });
        if let Some(e) = &self.runtime.throughput_error {
            ui.colored_label(palette::BAD, e);
        }
        if !self.runtime.points.is_empty() {
            throughput_plot_ui(ui, &self.runtime.points);
            let kinds = &self.throughput.kinds;
            if kinds.contains(&LockKind::Uncontended)
                && kinds.contains(&LockKind::Mutex)
                && self.throughput.thread_counts.contains(&1)
            {
                ui.weak(
                    "The dashed baseline (uncontended Mutex) is the Mutex at 1 thread: the same loop, \
                     measured once and shown under both names. Measured separately, the two differed \
                     by run-to-run noise alone.",
                );
            }
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
}

/// Live plot: median ops/s per kind against threads (log scale), whiskers min–max, baseline dashed.
pub fn throughput_plot_ui(ui: &mut egui::Ui, points: &[ThroughputPoint]) {
    use crate::gui::widgets::plot_frame::{lab_plot, legend_row_ui, log_grid, log_tick};
    let log = |v: f64| v.max(1.0).log10();
    let max_threads = points
        .iter()
        .map(|p| p.num_threads)
        .max()
        .unwrap_or(1)
        .max(2);
    let lo = points
        .iter()
        .map(|p| log(p.min_ops_per_sec))
        .fold(f64::INFINITY, f64::min);
    let hi = points
        .iter()
        .map(|p| log(p.max_ops_per_sec))
        .fold(f64::NEG_INFINITY, f64::max);
    let (lo, hi) = if lo.is_finite() && hi.is_finite() {
        ((lo - 0.2).max(0.0), hi + 0.2)
    } else {
        (0.0, 1.0)
    };
    lab_plot("locks-throughput")
        .height(320.0)
        .x_axis_label("threads")
        .y_axis_label("operations per second (log scale)")
        .y_grid_spacer(log_grid)
        .y_axis_formatter(|mark, _| log_tick(mark))
        .include_x(0.5)
        .include_x(max_threads as f64 + 0.5)
        .include_y(lo)
        .include_y(hi)
        .show(ui, |plot_ui| {
            crate::gui::widgets::plot_frame::keep_non_negative(plot_ui, true, true);
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
    legend_row_ui(ui, &crate::engine::locks::plot::legend(points));
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
