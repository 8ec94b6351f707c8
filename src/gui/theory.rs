//! The theory panel: Amdahl and Gustafson curves (predictions, with measured
//! points overlaid), Brent's band drawn from a divide-and-conquer matmul's
//! measured work and span, and the course's grid-search calculator.

use crate::engine::exec::pool::{MAX_WORKERS, build_pool, logical_cores};
use crate::engine::theory::{
    amdahl_limit, amdahl_speedup, brent_bounds, grid_search, gustafson_speedup, quantised_speedup,
};
use crate::engine::workloads::matmul::{
    MIN_WORK_SPAN_RUNS, WORK_SPAN_METHOD, WorkSpanReport, WorkSpanSpread, work_span,
};
use crate::gui::measuring::{MeasureGuard, Measuring};
use crate::gui::widgets::palette;
use crate::gui::widgets::plot_frame::lab_plot;
use egui::RichText;
// Legends sit in the corner these plots leave empty: above the diagonal
// S = P (nothing measured or predicted exceeds it), or, for Brent's
// falling times, top right.
use egui_plot::{Corner, FilledArea, HLine, Legend, Line, LineStyle, PlotPoints, Points};
use serde::{Deserialize, Serialize};
use std::sync::mpsc::{Receiver, TryRecvError, sync_channel};

/// Matrix edges the Brent run offers.
const SIZES: [usize; 5] = [64, 128, 256, 512, 1024];
/// Cutoffs the Brent run offers.
const CUTOFFS: [usize; 6] = [8, 16, 32, 64, 128, 256];

/// What the background matmul run sends back.
type BrentMessage = Result<(WorkSpanReport, WorkSpanSpread), String>;

/// Persisted settings and runtime state of the theory panel.
#[derive(Serialize, Deserialize)]
#[serde(default)]
pub struct TheoryPanel {
    /// Amdahl/Gustafson serial fraction f, 0..=1.
    pub serial_fraction: f64,
    /// Workers the laws are evaluated at.
    pub workers: u32,
    /// Right end of the curves' worker axis.
    pub max_workers: u32,
    /// With measured points, the Amdahl plot's axis ends just past the
    /// largest measured worker count (instead of at `max_workers`), so the
    /// points are not squashed at the origin.
    pub fit_to_measured: bool,
    /// Matmul edge and cutoff for the Brent run.
    pub matmul_n: usize,
    pub matmul_cutoff: usize,
    /// Worker threads of the Brent run.
    pub brent_workers: usize,
    /// Grid search: tasks, seconds per task, deadline in seconds.
    pub grid_tasks: u64,
    pub grid_task_s: f64,
    pub grid_deadline_s: f64,
    /// Measured (workers, speedup) points from the speedup lab, drawn over
    /// the Amdahl curve; set with [`TheoryPanel::set_measured_points`].
    #[serde(skip)]
    measured: Vec<[f64; 2]>,
    #[serde(skip)]
    brent: Option<WorkSpanReport>,
    /// Every figure's spread over the runs of the last measurement.
    #[serde(skip)]
    brent_spread: Option<WorkSpanSpread>,
    #[serde(skip)]
    brent_error: Option<String>,
    #[serde(skip)]
    brent_job: Option<Receiver<BrentMessage>>,
    /// The window-wide one-measurement-at-a-time token.
    #[serde(skip)]
    pub measuring: Measuring,
    /// Held while the work/span measurement runs.
    #[serde(skip)]
    guard: Option<MeasureGuard>,
}

impl Default for TheoryPanel {
    fn default() -> Self {
        TheoryPanel {
            serial_fraction: 0.1,
            workers: 8,
            max_workers: 64,
            fit_to_measured: true,
            // 512, not 256: a 256x256 product is a ~3-ms run whose 2-worker
            // speedup read 1.04-1.05 on a quiet 2-core machine (parallelism
            // ~33 notwithstanding), the wrong lesson; 512 read 1.34-1.88 in
            // ~1.4 s for the 5 runs of both.
            matmul_n: 512,
            matmul_cutoff: 64,
            brent_workers: logical_cores(),
            grid_tasks: 125,
            grid_task_s: 70.0,
            grid_deadline_s: 1200.0,
            measured: Vec::new(),
            brent: None,
            brent_spread: None,
            brent_error: None,
            brent_job: None,
            measuring: Measuring::default(),
            guard: None,
        }
    }
}

impl TheoryPanel {
    /// Measured speedups (workers, speedup) to overlay on the Amdahl plot.
    pub fn set_measured_points(&mut self, points: Vec<[f64; 2]>) {
        self.measured = points;
    }

    /// True while the background matmul run is going.
    pub fn is_measuring(&self) -> bool {
        self.brent_job.is_some()
    }

    /// The last Brent measurement, if any.
    pub fn brent_report(&self) -> Option<&WorkSpanReport> {
        self.brent.as_ref()
    }

    /// Starts the matmul run on a named background thread owning its pools.
    /// Measures work and span of a matmul run in the background (the button does this).
    pub fn start_brent(&mut self, ctx: &egui::Context) {
        let (n, cutoff, workers) = (self.matmul_n, self.matmul_cutoff, self.brent_workers);
        match self
            .measuring
            .try_begin("the Theory panel's work/span measurement")
        {
            Ok(g) => self.guard = Some(g),
            Err(holder) => {
                self.brent_error = Some(format!(
                    "refused: {holder} is measuring (one measurement at a time); try again when it ends"
                ));
                return;
            }
        }
        let (tx, rx) = sync_channel::<BrentMessage>(1);
        let ctx = ctx.clone();
        let spawned = std::thread::Builder::new()
            .name("parlab-brent".into())
            .spawn(move || {
                let result = build_pool(workers)
                    .map_err(crate::engine::workloads::WorkloadError::from)
                    .and_then(|pool| {
                        let one = build_pool(1)?;
                        let mut reports = Vec::with_capacity(MIN_WORK_SPAN_RUNS);
                        for _ in 0..MIN_WORK_SPAN_RUNS {
                            reports.push(work_span(n, cutoff, &pool, &one, 1)?);
                        }
                        let spread = WorkSpanSpread::of(&reports);
                        reports.sort_by_key(|r| r.parallel.wall_nanos);
                        let median = reports.swap_remove(reports.len() / 2);
                        Ok((median, spread))
                    });
                let result = result.map_err(|e| e.to_string());
                // The panel may be gone; then nobody needs the result.
                let _ = tx.send(result);
                ctx.request_repaint();
            });
        match spawned {
            Ok(_) => {
                self.brent_job = Some(rx);
                self.brent_error = None;
            }
            Err(e) => {
                self.guard = None;
                self.brent_error = Some(format!("could not start the run: {e}"));
            }
        }
    }

    /// Takes in a finished measurement (and gives the token back) while
    /// another tab is shown.
    pub fn tick(&mut self) {
        self.poll_brent();
    }

    fn poll_brent(&mut self) {
        let Some(rx) = &self.brent_job else { return };
        match rx.try_recv() {
            Ok(Ok((report, spread))) => {
                self.brent = Some(report);
                self.brent_spread = Some(spread);
                self.brent_job = None;
            }
            Ok(Err(e)) => {
                self.brent_error = Some(e);
                self.brent_job = None;
            }
            Err(TryRecvError::Empty) => {}
            Err(TryRecvError::Disconnected) => {
                self.brent_error = Some("the run stopped without a result".into());
                self.brent_job = None;
            }
        }
        if self.brent_job.is_none() {
            self.guard = None;
        }
    }

    pub fn ui(&mut self, ui: &mut egui::Ui) {
        self.poll_brent();
        egui::ScrollArea::vertical().show(ui, |ui| {
            self.laws_ui(ui);
            ui.separator();
            self.brent_ui(ui);
            ui.separator();
            self.grid_ui(ui);
        });
    }

    fn laws_ui(&mut self, ui: &mut egui::Ui) {
        ui.heading("Amdahl and Gustafson (predictions)");
        ui.horizontal(|ui| {
            use crate::gui::widgets::labelled::slider;
            slider(
                ui,
                "serial fraction f",
                egui::Slider::new(&mut self.serial_fraction, 0.0..=1.0),
            );
            slider(
                ui,
                "workers P",
                egui::Slider::new(&mut self.workers, 1..=MAX_WORKERS as u32),
            );
            slider(
                ui,
                "axis up to",
                egui::Slider::new(&mut self.max_workers, 2..=MAX_WORKERS as u32).logarithmic(true),
            );
        });
        let f = self.serial_fraction;
        let p = f64::from(self.workers);
        let limit = amdahl_limit(f);
        let limit_text = if limit.is_finite() {
            format!("{limit:.2}")
        } else {
            "∞".to_owned()
        };
        ui.label(format!(
            "Amdahl S({p}) = 1/(f + (1−f)/P) = {:.2}; limit 1/f = {limit_text}",
            amdahl_speedup(f, p)
        ));
        ui.label(format!(
            "Gustafson S({p}) = P − f·(P − 1) = {:.2} (the problem grows with P)",
            gustafson_speedup(f, p)
        ));
        let max_p = f64::from(self.max_workers.max(2));
        let curve = |law: fn(f64, f64) -> f64| -> Vec<[f64; 2]> {
            (0..=200)
                .map(|k| {
                    let x = 1.0 + (max_p - 1.0) * f64::from(k) / 200.0;
                    [x, law(f, x)]
                })
                .collect()
        };
        let ideal: Vec<[f64; 2]> = vec![[1.0, 1.0], [max_p, max_p]];
        if !self.measured.is_empty() {
            ui.checkbox(
                &mut self.fit_to_measured,
                "Amdahl plot: fit the axes to the speedup lab's measured points (labelled with their speedup)",
            );
        }
        let largest_measured = self.measured.iter().map(|p| p[0]).fold(0.0, f64::max);
        let amdahl_p = if self.fit_to_measured && largest_measured > 0.0 {
            (largest_measured * 1.5).ceil().max(4.0)
        } else {
            max_p
        };
        // Fitted: the speedup axis ends a little above the points and the
        // curve (the ideal line and the 1/f limit are cut there), so the
        // measured points are not squashed at the bottom either.
        let fitted = self.fit_to_measured && largest_measured > 0.0;
        let top_speedup = if fitted {
            let highest = self.measured.iter().map(|p| p[1]).fold(0.0, f64::max);
            highest.max(amdahl_speedup(f, amdahl_p)) * 1.25
        } else {
            f64::INFINITY
        };
        let ideal_end = amdahl_p.min(top_speedup);
        let amdahl_curve: Vec<[f64; 2]> = (0..=200)
            .map(|k| {
                let x = 1.0 + (amdahl_p - 1.0) * f64::from(k) / 200.0;
                [x, amdahl_speedup(f, x)]
            })
            .collect();
        ui.columns(2, |cols| {
            lab_plot("amdahl")
                .height(220.0)
                .include_x(0.0)
                .include_x(max_p * 1.03)
                .include_y(0.0)
                .include_y(max_p * 1.05)
                .legend(Legend::default().position(Corner::LeftTop))
                .x_axis_label("workers P")
                .y_axis_label("speedup")
                .show(&mut cols[0], |plot| {
                    crate::gui::widgets::plot_frame::keep_non_negative(plot, true, true);
                    plot.line(
                        Line::new(
                            "ideal S = P",
                            PlotPoints::from(vec![[1.0, 1.0], [ideal_end, ideal_end]]),
                        )
                        .color(palette::IDEAL),
                    );
                    plot.line(
                        Line::new("Amdahl (predicted)", PlotPoints::from(amdahl_curve))
                            .color(palette::PREDICTED)
                            .style(LineStyle::Dashed { length: 8.0 }),
                    );
                    if limit.is_finite() && limit <= (amdahl_p * 2.0).min(top_speedup) {
                        plot.hline(
                            HLine::new("limit 1/f", limit)
                                .color(palette::PREDICTED)
                                .style(LineStyle::Dotted { spacing: 6.0 }),
                        );
                    }
                    if !self.measured.is_empty() {
                        plot.points(
                            Points::new(
                                "measured (speedup lab)",
                                PlotPoints::from(self.measured.clone()),
                            )
                            .color(palette::MEASURED)
                            .filled(true)
                            .radius(4.5),
                        );
                        // Each point says what it measured (P is its x), above it.
                        for &[x, y] in &self.measured {
                            plot.text(
                                egui_plot::Text::new(
                                    "measured (speedup lab)",
                                    egui_plot::PlotPoint::new(x, y),
                                    RichText::new(format!("{y:.2}×\n"))
                                        .color(palette::MEASURED)
                                        .size(12.0),
                                )
                                .anchor(egui::Align2::CENTER_BOTTOM),
                            );
                        }
                    }
                });
            lab_plot("gustafson")
                .height(220.0)
                .include_x(0.0)
                .include_x(max_p * 1.03)
                .include_y(0.0)
                .include_y(max_p * 1.05)
                .legend(Legend::default().position(Corner::LeftTop))
                .x_axis_label("workers P")
                .y_axis_label("scaled speedup")
                .show(&mut cols[1], |plot| {
                    crate::gui::widgets::plot_frame::keep_non_negative(plot, true, true);
                    plot.line(
                        Line::new("ideal S = P", PlotPoints::from(ideal)).color(palette::IDEAL),
                    );
                    plot.line(
                        Line::new(
                            "Gustafson (predicted)",
                            PlotPoints::from(curve(gustafson_speedup)),
                        )
                        .color(palette::PREDICTED)
                        .style(LineStyle::Dashed { length: 8.0 }),
                    );
                });
        });
        ui.label(
            egui::RichText::new(crate::gui::widgets::plot_frame::PLOT_HINT)
                .weak()
                .small(),
        );
    }

    fn brent_ui(&mut self, ui: &mut egui::Ui) {
        ui.heading("Brent: T1/P ≤ TP ≤ T1/P + T∞");
        ui.label(
            "Work T1 and span T∞ are measured by instrumenting the divide-and-conquer \
             matrix product (8 half-size products in parallel, then a parallel add).",
        );
        ui.horizontal(|ui| {
            crate::gui::widgets::labelled::combo(
                ui,
                "n",
                "n-combo",
                &(self.matmul_n.to_string()).to_string(),
                |ui| {
                    for n in SIZES {
                        ui.selectable_value(&mut self.matmul_n, n, n.to_string());
                    }
                },
            );
            crate::gui::widgets::labelled::combo(
                ui,
                "cutoff",
                "cutoff-combo",
                &(self.matmul_cutoff.to_string()).to_string(),
                |ui| {
                    for c in CUTOFFS {
                        ui.selectable_value(&mut self.matmul_cutoff, c, c.to_string());
                    }
                },
            );
            crate::gui::widgets::labelled::slider(
                ui,
                "workers",
                egui::Slider::new(&mut self.brent_workers, 1..=64),
            );
            self.matmul_cutoff = self.matmul_cutoff.min(self.matmul_n);
            let measuring = self.is_measuring();
            if ui
                .add_enabled(!measuring, egui::Button::new("Measure work and span"))
                .clicked()
            {
                self.start_brent(ui.ctx());
            }
            if measuring {
                // Text, not a spinner: a spinner redraws the window every frame.
                ui.label(format!("measuring ({MIN_WORK_SPAN_RUNS} runs)..."));
            }
        });
        if let Some(e) = &self.brent_error {
            ui.colored_label(palette::BAD, e);
        }
        let Some(r) = &self.brent else {
            ui.label("No measurement yet.");
            return;
        };
        let m = &r.parallel;
        let ms = |nanos: u64| nanos as f64 / 1e6;
        let one = &r.one_worker;
        ui.label(format!(
            "n = {}, cutoff {}, {} (median-TP run): 1-worker run T1 = {:.2} ms, T∞ = {:.3} ms, \
             parallelism T1/T∞ = {:.1}; TP = {:.2} ms",
            m.n,
            m.cutoff,
            crate::engine::util::words::count_of(m.num_workers, "worker"),
            ms(one.work_nanos),
            ms(one.span_nanos),
            r.parallelism(),
            ms(m.wall_nanos),
        ));
        if let Some(sp) = &self.brent_spread {
            egui::Grid::new("work-span-spread")
                .striped(true)
                .show(ui, |ui| {
                    ui.label(RichText::new(format!("over {} runs", sp.runs)).strong());
                    ui.label(RichText::new("min / median / max").strong());
                    ui.end_row();
                    for (name, v, d, unit) in [
                        ("T1 (1-worker run)", sp.work_ms, 3, "ms"),
                        ("T-inf (1-worker run)", sp.span_ms, 3, "ms"),
                        ("parallelism T1/T-inf", sp.parallelism, 1, ""),
                        ("join overhead", sp.join_overhead_ns, 0, "ns"),
                        ("burdened T-inf", sp.burdened_span_ms, 3, "ms"),
                        ("burdened parallelism", sp.burdened_parallelism, 1, ""),
                        (
                            "T-inf in the P-worker run (includes preemption)",
                            sp.p_worker_span_ms,
                            3,
                            "ms",
                        ),
                        ("TP", sp.wall_ms, 3, "ms"),
                        ("1-worker wall", sp.one_worker_wall_ms, 3, "ms"),
                    ] {
                        ui.label(name);
                        ui.label(format!("{} {unit}", v.show(d)));
                        ui.end_row();
                    }
                });
        }
        ui.label(RichText::new(WORK_SPAN_METHOD).weak().small());
        let verdict = |ok: bool| if ok { "holds" } else { "does not hold" };
        ui.colored_label(
            if r.matches_serial {
                palette::GOOD
            } else {
                palette::BAD
            },
            format!(
                "product equals the triple loop: {}; with the P-worker run's own T1 and T∞: T∞ ≤ TP {}; T1/P ≤ TP {}; TP ≤ T1/P + T∞ {}",
                if r.matches_serial { "yes" } else { "NO" },
                verdict(r.span_bound_holds()),
                verdict(r.work_bound_holds()),
                verdict(r.brent_upper_holds())
            ),
        );
        let top = (m.num_workers * 2).max(8);
        // The band is predicted from the instrumented 1-worker run's T1 and
        // T∞, as Cilkscale does and as the figures above say; the P-worker
        // run's own work and span include contention and preemption (its
        // bound checks above use them, as structural checks of one run).
        let (work, span) = (ms(one.work_nanos), ms(one.span_nanos));
        let xs: Vec<f64> = (1..=top).map(f64::from).collect();
        let bounds: Vec<_> = xs
            .iter()
            .filter_map(|&p| brent_bounds(work, span.min(work), p).ok())
            .collect();
        if bounds.len() != xs.len() {
            return;
        }
        let lower: Vec<f64> = bounds.iter().map(|b| b.lower).collect();
        let upper: Vec<f64> = bounds.iter().map(|b| b.upper).collect();
        let t_max = upper
            .iter()
            .copied()
            .fold(ms(r.one_worker.wall_nanos), f64::max);
        lab_plot("brent")
            .height(220.0)
            .include_x(0.0)
            .include_x(f64::from(top) * 1.03)
            .include_y(0.0)
            .include_y(t_max * 1.08)
            .legend(Legend::default().position(Corner::RightTop))
            .x_axis_label("workers P")
            .y_axis_label("time ms")
            .show(ui, |plot| {
                crate::gui::widgets::plot_frame::keep_non_negative(plot, true, true);
                plot.add(
                    FilledArea::new(
                        "Brent band (predicted from the 1-worker run's T1, T∞)",
                        &xs,
                        &lower,
                        &upper,
                    )
                    .fill_color(palette::PREDICTED.gamma_multiply(0.3)),
                );
                plot.hline(HLine::new("T∞", span).color(palette::IDEAL));
                plot.points(
                    Points::new(
                        "measured TP",
                        PlotPoints::from(vec![
                            [1.0, ms(r.one_worker.wall_nanos)],
                            [f64::from(m.num_workers), ms(m.wall_nanos)],
                        ]),
                    )
                    .color(palette::MEASURED)
                    .radius(5.0),
                );
            });
        // The measured point against the band it is drawn with.
        let p = f64::from(m.num_workers.max(1));
        let predicted_upper = work / p + span;
        let tp = ms(m.wall_nanos);
        ui.label(if tp <= predicted_upper {
            format!(
                "measured TP on {} workers {tp:.2} ms is inside the band (T1/P + T∞ = {predicted_upper:.2} ms from the 1-worker run)",
                m.num_workers
            )
        } else {
            format!(
                "measured TP on {} workers {tp:.2} ms is {:.2} ms above the band's T1/P + T∞ = {predicted_upper:.2} ms \
                 (from the 1-worker run): Brent's bound leaves out the scheduler's overhead and the time the \
                 workers wait for each other, which the P-worker run's own T1 and T∞ include",
                m.num_workers,
                tp - predicted_upper
            )
        });
        ui.label(
            egui::RichText::new(crate::gui::widgets::plot_frame::PLOT_HINT)
                .weak()
                .small(),
        );
    }

    fn grid_ui(&mut self, ui: &mut egui::Ui) {
        ui.heading("Grid search: workers for a deadline");
        ui.horizontal(|ui| {
            let l = ui.label("tasks");
            crate::gui::widgets::labelled::checked_drag(
                ui,
                egui::DragValue::new(&mut self.grid_tasks).range(0..=1_000_000_000u64),
            )
            .labelled_by(l.id);
            let l = ui.label("seconds per task");
            crate::gui::widgets::labelled::checked_drag(
                ui,
                egui::DragValue::new(&mut self.grid_task_s)
                    .range(0.001..=1e9)
                    .speed(1.0),
            )
            .labelled_by(l.id);
            let l = ui.label("deadline s");
            crate::gui::widgets::labelled::checked_drag(
                ui,
                egui::DragValue::new(&mut self.grid_deadline_s)
                    .range(0.0..=1e12)
                    .speed(10.0),
            )
            .labelled_by(l.id);
        });
        let plan = match grid_search(self.grid_tasks, self.grid_task_s, self.grid_deadline_s) {
            Ok(plan) => plan,
            Err(e) => {
                ui.colored_label(palette::BAD, e.to_string());
                return;
            }
        };
        if plan.tasks == 0 {
            ui.label("No tasks: nothing to run.");
            return;
        }
        ui.label(format!(
            "{} fit, so it needs {} ({}, done at {} s); \
             the naive tasks × t / deadline = {:.2} is not enough",
            crate::engine::util::words::count_of(plan.rounds_allowed, "whole round"),
            crate::engine::util::words::count_of(plan.min_workers, "worker"),
            crate::engine::util::words::count_of(plan.rounds, "round"),
            plan.makespan_s,
            plan.naive_workers
        ));
        let top = (plan.min_workers * 2).clamp(8, 256).min(plan.tasks.max(1));
        let speedups: Vec<[f64; 2]> = (1..=top)
            .map(|p| [p as f64, quantised_speedup(plan.tasks, p)])
            .collect();
        lab_plot("grid")
            .height(200.0)
            .include_x(0.0)
            .include_x(top as f64 * 1.03)
            .include_y(0.0)
            .include_y(top as f64 * 1.05)
            .legend(Legend::default().position(Corner::LeftTop))
            .x_axis_label("workers P")
            .y_axis_label("speedup")
            .show(ui, |plot| {
                crate::gui::widgets::plot_frame::keep_non_negative(plot, true, true);
                plot.line(
                    Line::new(
                        "ideal S = P",
                        PlotPoints::from(vec![[1.0, 1.0], [top as f64, top as f64]]),
                    )
                    .color(palette::IDEAL),
                );
                plot.points(
                    Points::new(
                        "tasks / ceil(tasks/P) (predicted)",
                        PlotPoints::from(speedups),
                    )
                    .color(palette::PREDICTED)
                    .radius(3.0),
                );
            });
        ui.label(
            egui::RichText::new(crate::gui::widgets::plot_frame::PLOT_HINT)
                .weak()
                .small(),
        );
    }
}

impl crate::gui::panel::Panel for TheoryPanel {
    fn ui(&mut self, ui: &mut egui::Ui) {
        TheoryPanel::ui(self, ui);
    }

    fn is_idle(&self) -> bool {
        !self.is_measuring()
    }

    /// Measures work and span of the matmul run (Brent's bound).
    fn start_work(&mut self, ctx: &egui::Context) {
        self.start_brent(ctx);
    }

    /// A finished measurement is taken in (and its token given back).
    fn while_hidden(&mut self, _ctx: &egui::Context) {
        self.tick();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable;

    fn harness() -> Harness<'static, TheoryPanel> {
        Harness::new_ui_state(
            |ui, panel: &mut TheoryPanel| panel.ui(ui),
            TheoryPanel::default(),
        )
    }

    #[test]
    fn grid_search_shows_the_seed_answer_and_the_impossible() {
        let mut h = harness();
        h.run();
        h.get_by_label_contains("needs 8 workers");
        h.state_mut().grid_deadline_s = 60.0;
        h.run();
        assert!(h.query_by_label_contains("needs 8 workers").is_none());
        h.get_by_label_contains("impossible");
    }

    #[test]
    fn serial_fraction_sets_the_amdahl_limit() {
        let mut h = harness();
        h.state_mut().serial_fraction = 0.25;
        h.run();
        h.get_by_label_contains("limit 1/f = 4.00");
        h.state_mut().serial_fraction = 0.0;
        h.run();
        h.get_by_label_contains("limit 1/f = ∞");
    }

    #[test]
    fn measure_button_runs_matmul_in_background() {
        let mut h = harness();
        {
            let s = h.state_mut();
            s.matmul_n = 64;
            s.matmul_cutoff = 16;
            s.brent_workers = 2;
        }
        h.run();
        h.get_by_label_contains("No measurement yet");
        h.get_by_label("Measure work and span").click();
        for _ in 0..6000 {
            h.step();
            if h.state().brent_report().is_some() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        h.run();
        let report = h.state().brent_report().expect("measured");
        assert!(report.matches_serial);
        assert_eq!(report.parallel.n, 64);
        h.get_by_label_contains("parallelism T1/T∞");
        h.get_by_label_contains("T∞ ≤ TP holds");
    }
}
