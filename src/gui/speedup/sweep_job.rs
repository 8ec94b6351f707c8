//! The speedup lab's sweep: its plan from the settings, starting it (or
//! waiting for the one-measurement token), taking in what it measured within
//! a time budget, cancelling it, and the figures derived from its results.

use super::{Derived, SpeedupPanel, SweepState};
use crate::engine::exec::placement::Placement;
use crate::engine::exec::pool::{logical_cores, physical_cores};
use crate::engine::speedup::charts::data::{
    efficiency_map, granularity_chart, overlay_speedup_charts, predicted_chart,
    predicted_chart_for, speedup_chart,
};
use crate::engine::speedup::plan::{PlanError, PlanInput, sweep_plan};
use crate::engine::speedup::results::SweepResults;
use crate::engine::speedup::sweep::{ProgressWake, SweepEvent, SweepJob, SweepPlan};
use crate::engine::workloads::{Workload, by_spec};
use crate::gui::measuring::Measuring;
use crate::gui::widgets::drain::DRAIN_BUDGET;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often derived figures are refreshed while measuring.
/// The derived figures (bootstrap intervals, fits, the replayed prediction)
/// are computed on the UI thread, which shares the cores with the sweep's
/// workers: while measuring they are refreshed this rarely, and once more at
/// the end.
const REFRESH_EVERY: Duration = Duration::from_millis(3000);

impl SpeedupPanel {
    /// Parses the settings into a plan for `workload`.
    pub(super) fn plan(&self, workload: &dyn Workload) -> Result<SweepPlan, String> {
        let input = PlanInput {
            workers: Some(&self.settings.workers),
            granularities: Some(&self.settings.granularities),
            schedule: self.settings.schedule,
            reps: self.settings.reps,
            warmup: self.settings.warmup,
            shuffle_seed: self.settings.shuffle_seed,
            placement: Placement::from_pin(self.settings.pin_workers),
        };
        sweep_plan(&input, workload).map_err(|e| match e {
            PlanError::Workers(m) => format!("workers: {m}"),
            PlanError::Granularities(m) => format!("granularities: {m}"),
            PlanError::Plan(m) => m.to_string(),
        })
    }

    /// The wake-up a sweep should use: a redraw at most once a second,
    /// asked for between timed runs, with time to draw before the next one
    /// ([`ProgressWake::for_window`]). Every window redraw takes CPU from the
    /// measurement (on a 2-core lab machine with software OpenGL a frame costs
    /// tens of ms), so it must not land inside a timed run.
    pub fn sweep_notify(ctx: &egui::Context) -> ProgressWake {
        let ctx = ctx.clone();
        ProgressWake::for_window(Arc::new(move || ctx.request_repaint()))
    }

    /// Starts a sweep (cancelling any running one); `notify` wakes the window.
    /// While another panel measures, the sweep waits for it (see [`Self::poll`]).
    pub fn start(&mut self, notify: Option<ProgressWake>) {
        self.job = None;
        self.guard = None;
        match self.measuring.try_begin("the speedup lab's sweep") {
            Ok(g) => self.guard = Some(g),
            Err(holder) => {
                self.waiting = Some(Measuring::wait_message(&holder, "the sweep"));
                self.pending_start = Some(notify);
                return;
            }
        }
        self.waiting = None;
        self.pending_start = None;
        let Some(view) = self.view() else {
            self.input_error = Some("no view to measure".into());
            return;
        };
        let workload = match by_spec(
            &self.workload_spec(),
            view,
            self.settings.kernel,
            self.settings.gil,
        ) {
            Ok(w) if w.name() == "mandelbrot" => {
                let m = crate::engine::workloads::Mandelbrot {
                    backend: self.settings.backend,
                    ..crate::engine::workloads::Mandelbrot::new(view, self.settings.kernel)
                };
                Arc::new(m) as Arc<dyn Workload>
            }
            Ok(w) => w,
            Err(e) => {
                self.input_error = Some(e.to_string());
                return;
            }
        };
        let plan = match self.plan(&*workload) {
            Ok(p) => p,
            Err(e) => {
                self.input_error = Some(e);
                return;
            }
        };
        self.input_error = None;
        match SweepJob::start(workload.clone(), plan.clone(), notify) {
            Ok(job) => {
                self.results = Some(SweepResults::new(
                    plan,
                    &*workload,
                    logical_cores(),
                    physical_cores(),
                ));
                let on_processes = workload.name() == "mandelbrot"
                    && self.settings.backend != crate::engine::farm::Backend::Threads;
                self.run_label = format!(
                    "{}{}{}",
                    workload.name(),
                    if self.settings.gil && workload.name() != "mandelbrot" {
                        " +GIL"
                    } else {
                        ""
                    },
                    if on_processes {
                        format!(" ({})", self.settings.backend)
                    } else {
                        String::new()
                    }
                );
                self.run_gil = self.settings.gil && workload.name() != "mandelbrot";
                self.run_key = self.workload_key();
                self.workload = Some(workload);
                self.job = Some(job);
                self.task_view = None;
                self.predict_for = None;
                self.state = SweepState::Preparing;
                self.measuring_since = None;
                self.derived = None;
                self.selected = None;
                self.dirty = true;
            }
            Err(e) => self.state = SweepState::Failed(e.to_string()),
        }
        if self.job.is_none() {
            self.guard = None;
        }
    }

    /// Asks the running sweep to stop (within one run), or drops a waiting one.
    pub fn cancel(&mut self) {
        if let Some(job) = &self.job {
            job.cancel();
        }
        self.pending_start = None;
        self.waiting = None;
    }

    /// Takes what the job sent, within a time budget, and refreshes figures;
    /// starts a waiting sweep once the window is free. The app calls it every
    /// frame, whichever tab is shown.
    pub fn poll(&mut self) {
        if self.job.is_none()
            && !self.measuring.is_busy()
            && let Some(notify) = self.pending_start.take()
        {
            self.start(notify);
        }
        let started = Instant::now();
        let mut finished = false;
        if let (Some(job), Some(results)) = (&self.job, &mut self.results) {
            while started.elapsed() < DRAIN_BUDGET {
                match job.try_next() {
                    Some(SweepEvent::Prepared) => self.state = SweepState::WarmingUp,
                    Some(SweepEvent::WarmedUp) => {
                        self.state = SweepState::Measuring;
                        self.measuring_since = Some(Instant::now());
                    }
                    Some(SweepEvent::Measured(m)) => {
                        results.add(m);
                        self.dirty = true;
                    }
                    Some(SweepEvent::Finished(end)) => {
                        self.state = match end.error {
                            Some(e) => SweepState::Failed(e.to_string()),
                            None if end.cancelled => SweepState::Cancelled,
                            None => SweepState::Done,
                        };
                        finished = true;
                        break;
                    }
                    None => break,
                }
            }
        }
        if finished {
            self.job = None;
            self.guard = None;
            if let Some(r) = &mut self.results {
                r.keep_only_median_traces();
            }
        }
        let due = self
            .refreshed_at
            .is_none_or(|t| t.elapsed() >= REFRESH_EVERY);
        if self.dirty && (due || finished || self.job.is_none()) {
            self.refresh();
        }
    }

    pub(super) fn refresh(&mut self) {
        self.dirty = false;
        self.refreshed_at = Some(Instant::now());
        let Some(r) = &self.results else {
            self.derived = None;
            return;
        };
        let table = r.row_table();
        self.derived = Some(Derived {
            fits: r.fits_from(&table),
            speedup: {
                let chart = speedup_chart(r, &table);
                match &self.pinned {
                    // The sweep just measured first (solid), the pinned one
                    // after it (dashed, square markers).
                    Some((label, pinned)) => overlay_speedup_charts(&[
                        (self.run_label.clone(), chart.clone()),
                        (label.clone(), pinned.clone()),
                    ])
                    .unwrap_or(chart),
                    None => chart,
                }
            },
            predicted: match self.predict_for {
                Some(g) => predicted_chart_for(r, &table, Some(g)),
                None => predicted_chart(r, &table),
            },
            granularity: granularity_chart(r, &table),
            efficiency: efficiency_map(r, &table),
            rows: table
                .into_iter()
                .enumerate()
                .filter_map(|(c, row)| Some((c, row?)))
                .collect(),
        });
    }

    /// What the running sweep is doing, and once timed runs have started an
    /// estimate of the time left from the wall time of those so far (they run
    /// in a shuffled, interleaved order, so their mean stands for the rest).
    /// `None` when no sweep runs.
    pub fn progress_text(&self) -> Option<String> {
        let job = self.job.as_ref()?;
        let (done, total) = job.progress();
        Some(match (&self.state, self.measuring_since) {
            (SweepState::Preparing, _) => {
                "preparing: building the data and the worker pools (not timed)".into()
            }
            (SweepState::WarmingUp, _) => format!(
                "warming up: {} untimed run{} of each of the {} configurations",
                self.settings.warmup,
                if self.settings.warmup == 1 { "" } else { "s" },
                job.configs.len()
            ),
            (_, Some(since)) if done > 0 => {
                let left = since.elapsed().as_secs_f64() / done as f64 * (total - done) as f64;
                format!(
                    "{done}/{total} timed runs · about {} left (estimate from the {done} runs so far)",
                    duration_words(left)
                )
            }
            _ => {
                format!("{done}/{total} timed runs · estimate of the time left after the first run")
            }
        })
    }
}

/// Seconds as people read them: "8 s", "2 min 05 s", "1 h 03 min".
pub fn duration_words(secs: f64) -> String {
    let s = secs.max(0.0).round() as u64;
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min {:02} s", s / 60, s % 60),
        _ => format!("{} h {:02} min", s / 3600, (s % 3600) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::duration_words;

    #[test]
    fn durations_read_as_words() {
        assert_eq!(duration_words(7.6), "8 s");
        assert_eq!(duration_words(125.0), "2 min 05 s");
        assert_eq!(duration_words(3780.0), "1 h 03 min");
        assert_eq!(duration_words(-1.0), "0 s");
    }
}
