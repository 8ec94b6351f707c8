//! A sweep's measurements and what follows from them: per-configuration
//! statistics, speedups with intervals, efficiency, Karp–Flatt, Amdahl fits,
//! the best granularity and the virtual-worker predictions.
//!
//! Plain data, computed here once, drawn by the window and the CLI alike.

use crate::engine::exec::other_cpu::{BUSY_WARNING, OtherCpu};
use crate::engine::exec::schedule::Schedule;
use crate::engine::exec::trace::Trace;
use crate::engine::speedup::replay::{Prediction, durations_in_task_order, predict};
use crate::engine::speedup::sweep::{ConfigKey, Measurement, SweepPlan};
use crate::engine::theory::{fit_amdahl, karp_flatt};
use crate::engine::util::stats::{Summary, bootstrap_ratio_of_medians, median};
use crate::engine::workloads::{Granularity, Workload};
use serde::{Deserialize, Serialize};

/// The baseline, in words for exports and the window.
pub const BASELINE_RULE: &str = "speedup S = median(T1) / median(TP), where T1 is the same schedule and granularity \
     on a 1-worker pool (same code, same pool machinery); the `sequential` schedule (no pool) is measured \
     and reported apart as speedup_vs_sequential, run on the 1-worker pool's own thread so that both \
     baselines share a thread (and so a core while the OS keeps it there)";

/// How speedup error bars are drawn, in words for plots and exports.
pub const ERROR_BAR_RULE: &str =
    "error bars: median(T1) / Q3(TP) .. median(T1) / Q1(TP), i.e. the interquartile range of TP";

/// Every measurement of a sweep, by configuration.
#[derive(Clone, Debug)]
pub struct SweepResults {
    pub plan: SweepPlan,
    pub configs: Vec<ConfigKey>,
    /// Tasks per run, per configuration.
    pub num_tasks: Vec<usize>,
    /// Wall times in run order, per configuration.
    pub times_nanos: Vec<Vec<u64>>,
    /// The trace of every timed run, parallel to `times_nanos`.
    pub traces: Vec<Vec<Trace>>,
    pub logical_cores: usize,
    pub physical_cores: usize,
    /// The OS's 1-minute load average when the sweep began (None where not reported).
    pub load_average_start: Option<f64>,
    /// Other processes' CPU summed over every timed run so far (`windows` = 0
    /// where it could not be read).
    pub other_cpu: OtherCpu,
    /// GIL mode: the workload's compute runs under one global lock.
    pub gil: bool,
}

/// What a speedup above P on P <= physical cores most likely means.
pub const SUPERLINEAR_NOTE: &str = "superlinear (speedup > P on P <= physical cores): likely causes are \
     cache (each worker's share of the data fits its core's cache, one worker's did not), noise \
     (the 1-worker runs were slowed by other processes or a slower core) or frequency changes; not a gain to rely on";

/// The OS's 1-minute load average (runnable threads), if it reports one.
/// Above the core count, other programs compete with the measurement.
pub fn load_average_1m() -> Option<f64> {
    sysinfo::System::load_average()
        .ok()
        .map(|l| l.one)
        .filter(|&l| l > 0.0)
}

/// One configuration's figures (what a table row and an export record show).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResultRow {
    pub granularity: String,
    pub tasks: usize,
    pub schedule: String,
    pub workers: usize,
    /// More workers than logical cores.
    pub oversubscribed: bool,
    /// Every timed run, seconds, in run order.
    pub times_s: Vec<f64>,
    pub n: usize,
    pub median_s: f64,
    pub mean_s: f64,
    pub stddev_s: f64,
    pub min_s: f64,
    pub max_s: f64,
    pub mad_s: f64,
    pub q1_s: f64,
    pub q3_s: f64,
    /// Indices into `times_s` flagged as outliers (kept, never dropped).
    pub outliers: Vec<usize>,
    /// vs the 1-worker pool of the same schedule and granularity.
    pub speedup: Option<f64>,
    pub speedup_ci95: Option<[f64; 2]>,
    /// Error bar of the speedup (IQR of TP, see [`ERROR_BAR_RULE`]).
    pub speedup_iqr: Option<[f64; 2]>,
    pub efficiency: Option<f64>,
    pub karp_flatt: Option<f64>,
    /// vs the sequential schedule (no pool) at the same granularity.
    pub speedup_vs_sequential: Option<f64>,
    /// Speedup above P on 1 < P <= physical cores: flagged, see [`SUPERLINEAR_NOTE`].
    #[serde(default)]
    pub superlinear: bool,
}

/// Amdahl's serial fraction fitted to one granularity's speedups.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AmdahlFit {
    pub granularity: String,
    pub serial_fraction: f64,
    /// Points used, P > 1 only: (workers, speedup).
    pub points: Vec<(f64, f64)>,
}

impl AmdahlFit {
    /// What the figure rests on, in words (ASCII): with one point it is no
    /// fit but the Karp-Flatt serial fraction of that point.
    pub fn describe(&self) -> String {
        let f = self.serial_fraction;
        let limit = if f > 0.0 {
            format!("limit 1/f = {:.1}", 1.0 / f)
        } else {
            "no limit (f = 0)".into()
        };
        match self.points.as_slice() {
            [(p, _)] => format!(
                "{}: Karp-Flatt serial fraction e = {f:.3} from the one point P = {p} ({limit}); a fit needs two or more worker counts",
                self.granularity
            ),
            pts => format!(
                "{}: Amdahl fit over {} points (P = {}): serial fraction f = {f:.3}, {limit}",
                self.granularity,
                pts.len(),
                pts.iter()
                    .map(|(p, _)| p.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

/// A Karp-Flatt value in words: a negative one is explained, not printed bare.
pub fn describe_karp_flatt(e: f64) -> String {
    if e < 0.0 {
        format!("{e:.3} (negative: speedup above P, i.e. superlinear or noise in T1 or TP)")
    } else {
        format!("{e:.3}")
    }
}

/// The replay's prediction for one granularity.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PredictionSet {
    pub granularity: String,
    pub schedule: String,
    /// Tasks durations come from the median 1-worker run.
    pub source: String,
    pub predictions: Vec<Prediction>,
}

impl SweepResults {
    pub fn new(
        plan: SweepPlan,
        workload: &dyn Workload,
        logical_cores: usize,
        physical_cores: usize,
    ) -> Self {
        let configs = plan.configs();
        let num_tasks = configs
            .iter()
            .map(|c| workload.num_tasks(c.granularity))
            .collect();
        let n = configs.len();
        SweepResults {
            plan,
            configs,
            num_tasks,
            times_nanos: vec![Vec::new(); n],
            traces: vec![Vec::new(); n],
            logical_cores,
            physical_cores,
            load_average_start: load_average_1m(),
            other_cpu: OtherCpu::default(),
            gil: workload.params()["gil"].as_bool() == Some(true),
        }
    }

    /// Other processes took more than the threshold during the timed runs.
    pub fn machine_busy(&self) -> bool {
        self.other_cpu.is_busy()
    }

    /// `" - machine busy - figures unreliable"` for titles when busy, else empty.
    pub fn busy_tag(&self) -> String {
        if self.machine_busy() {
            format!(" [{BUSY_WARNING}]")
        } else {
            String::new()
        }
    }

    /// Records one measurement (ignored if its config is unknown).
    pub fn add(&mut self, m: Measurement) {
        if let (Some(t), Some(tr)) = (
            self.times_nanos.get_mut(m.config),
            self.traces.get_mut(m.config),
        ) {
            t.push(m.nanos);
            tr.push(m.trace);
            if let Some(o) = &m.other_cpu {
                self.other_cpu.add(o);
            }
        }
    }

    pub fn num_measured(&self) -> usize {
        self.times_nanos.iter().map(Vec::len).sum()
    }

    pub fn times_s(&self, config: usize) -> Vec<f64> {
        self.times_nanos[config]
            .iter()
            .map(|&t| t as f64 * 1e-9)
            .collect()
    }

    /// The configuration with the same granularity and schedule on `workers`.
    pub fn find(
        &self,
        granularity: Granularity,
        schedule: Schedule,
        workers: usize,
    ) -> Option<usize> {
        self.configs.iter().position(|c| {
            c.granularity == granularity && c.schedule == schedule && c.workers == workers
        })
    }

    /// The trace of the run whose time is the (lower) median of its configuration.
    pub fn median_trace(&self, config: usize) -> Option<&Trace> {
        let times = self.times_nanos.get(config)?;
        let mut order: Vec<usize> = (0..times.len()).collect();
        order.sort_by_key(|&i| times[i]);
        let pick = *order.get(order.len().saturating_sub(1) / 2)?;
        self.traces.get(config)?.get(pick)
    }

    /// Drops every trace but each configuration's median one (saves memory after a sweep).
    pub fn keep_only_median_traces(&mut self) {
        for c in 0..self.configs.len() {
            if let Some(t) = self.median_trace(c).cloned() {
                let times = &self.times_nanos[c];
                let mut order: Vec<usize> = (0..times.len()).collect();
                order.sort_by_key(|&i| times[i]);
                let pick = order[order.len().saturating_sub(1) / 2];
                // Keep the vectors parallel: other slots get an empty trace.
                for (i, slot) in self.traces[c].iter_mut().enumerate() {
                    if i != pick {
                        *slot = Trace::default();
                    }
                }
                self.traces[c][pick] = t;
            }
        }
    }

    /// Figures for one configuration; `None` until it has a measurement.
    pub fn row(&self, config: usize) -> Option<ResultRow> {
        let key = *self.configs.get(config)?;
        let times = self.times_s(config);
        if times.is_empty() {
            return None;
        }
        let s = Summary::of(&times);
        let base = self
            .find(key.granularity, key.schedule, 1)
            .map(|b| self.times_s(b))
            .filter(|t| !t.is_empty() && key.schedule.uses_pool());
        let base_median = base.as_ref().map(|b| median(b));
        let speedup = base_median.map(|b| b / s.median);
        let p = key.workers as f64;
        let seq = self
            .find(key.granularity, Schedule::Sequential, 1)
            .map(|b| self.times_s(b))
            .filter(|t| !t.is_empty());
        Some(ResultRow {
            granularity: key.granularity.to_string(),
            tasks: self.num_tasks[config],
            schedule: key.schedule.to_string(),
            workers: key.workers,
            oversubscribed: key.workers > self.logical_cores,
            n: s.n,
            median_s: s.median,
            mean_s: s.mean,
            stddev_s: s.stddev,
            min_s: s.min,
            max_s: s.max,
            mad_s: s.mad,
            q1_s: s.q1,
            q3_s: s.q3,
            outliers: s.outliers.clone(),
            speedup,
            speedup_ci95: base
                .as_ref()
                .and_then(|b| bootstrap_ratio_of_medians(b, &times))
                .map(|(lo, hi)| [lo, hi]),
            speedup_iqr: base_median.map(|b| [b / s.q3, b / s.q1]),
            efficiency: speedup.map(|x| x / p),
            karp_flatt: speedup.and_then(|x| karp_flatt(x, p)),
            speedup_vs_sequential: seq.map(|t| median(&t) / s.median),
            superlinear: speedup
                .is_some_and(|x| key.workers > 1 && key.workers <= self.physical_cores && x > p),
            times_s: times,
        })
    }

    /// Rows for every measured configuration, in configuration order.
    pub fn rows(&self) -> Vec<(usize, ResultRow)> {
        (0..self.configs.len())
            .filter_map(|c| self.row(c).map(|r| (c, r)))
            .collect()
    }

    /// Every configuration's row (`None` until measured), indexed by
    /// configuration: compute it once and hand it to the chart builders.
    pub fn row_table(&self) -> Vec<Option<ResultRow>> {
        (0..self.configs.len()).map(|c| self.row(c)).collect()
    }

    /// Median time of a configuration in seconds (cheap: no interval).
    pub fn median_s(&self, config: usize) -> Option<f64> {
        let t = self.times_s(config);
        (!t.is_empty()).then(|| median(&t))
    }

    /// Distinct granularities, by value ([`Granularity::value_order`]).
    pub fn granularities(&self) -> Vec<Granularity> {
        let mut out: Vec<Granularity> = Vec::new();
        for c in &self.configs {
            if !out.contains(&c.granularity) {
                out.push(c.granularity);
            }
        }
        // By value (4px, 16px, 128px, then bands), not as typed or as text.
        out.sort_by_key(Granularity::value_order);
        out
    }

    /// Amdahl fit per granularity, over 1 < P ≤ logical cores.
    pub fn fits(&self) -> Vec<AmdahlFit> {
        self.fits_from(&self.row_table())
    }

    /// [`Self::fits`] from a precomputed [`Self::row_table`].
    pub fn fits_from(&self, table: &[Option<ResultRow>]) -> Vec<AmdahlFit> {
        self.granularities()
            .into_iter()
            .filter_map(|g| {
                let points: Vec<(f64, f64)> = table
                    .iter()
                    .enumerate()
                    .filter_map(|(c, r)| Some((self.configs[c], r.as_ref()?)))
                    .filter(|(k, r)| {
                        k.granularity == g
                            && k.schedule.uses_pool()
                            && r.workers > 1
                            && r.workers <= self.logical_cores
                    })
                    .filter_map(|(_, r)| r.speedup.map(|s| (r.workers as f64, s)))
                    .collect();
                fit_amdahl(&points).map(|f| AmdahlFit {
                    granularity: g.to_string(),
                    serial_fraction: f,
                    points,
                })
            })
            .collect()
    }

    /// The granularity with the lowest median time on `workers` (parallel schedule).
    pub fn best_granularity(&self, workers: usize) -> Option<usize> {
        (0..self.configs.len())
            .filter(|&c| self.configs[c].schedule.uses_pool() && self.configs[c].workers == workers)
            .filter_map(|c| Some((c, self.median_s(c)?)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(c, _)| c)
    }

    /// Replays the median 1-worker run's task durations on 1..=`max_workers`
    /// virtual workers under the sweep's schedule, per granularity.
    pub fn predictions(&self, max_workers: usize) -> Vec<PredictionSet> {
        self.granularities()
            .into_iter()
            .filter_map(|g| self.prediction_for(g, max_workers))
            .collect()
    }

    /// [`Self::predictions`] for one granularity (`None` until its 1-worker run is measured).
    pub fn prediction_for(
        &self,
        granularity: Granularity,
        max_workers: usize,
    ) -> Option<PredictionSet> {
        let c = self.find(granularity, self.plan.schedule, 1)?;
        let durations = durations_in_task_order(self.median_trace(c)?);
        let mut predictions = predict(&durations, self.plan.schedule, max_workers);
        let mut source = "task durations of the median 1-worker run".to_string();
        if self.gil {
            // GIL mode: the tasks' compute holds one global lock, so it runs
            // one task at a time however many workers there are.
            let serial: u64 = durations.iter().sum();
            for q in &mut predictions {
                q.makespan_nanos = q.makespan_nanos.max(serial);
                q.speedup = serial as f64 / q.makespan_nanos.max(1) as f64;
                q.brent_speedup = q.brent_speedup.min(q.speedup);
            }
            source += "; GIL mode: compute serialised under the lock, so makespan >= the sum of task times";
        }
        Some(PredictionSet {
            granularity: granularity.to_string(),
            schedule: self.plan.schedule.to_string(),
            source,
            predictions,
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::engine::exec::trace::TaskRecord;
    use crate::engine::speedup::sweep::tests_support::{tiny_plan, tiny_workload};
    use crate::engine::speedup::sweep::{SweepEvent, SweepJob};

    /// Results with hand-made times: T1 = 4 s, T2 = 2 s (outlier 9 s), sequential 3.8 s.
    pub(crate) fn synthetic() -> SweepResults {
        let mut plan = tiny_plan();
        plan.granularities.truncate(1);
        let w = tiny_workload();
        let mut r = SweepResults::new(plan, &*w, 2, 2);
        let trace = |n: u64| Trace {
            num_workers: 1,
            wall_nanos: n,
            records: (0..4)
                .map(|i| TaskRecord {
                    task: i,
                    worker: 0,
                    start_nanos: 0,
                    end_nanos: n / 4,
                    work: 1,
                    cpu: None,
                })
                .collect(),
        };
        let secs = [
            (0, [3.8, 3.8, 3.8, 3.8, 3.8]),
            (1, [4.0, 4.1, 3.9, 4.0, 4.0]),
            (2, [2.0, 2.0, 9.0, 2.1, 1.9]),
        ];
        for (config, times) in secs {
            for (rep, t) in times.into_iter().enumerate() {
                let nanos = (t * 1e9) as u64;
                r.add(Measurement {
                    config,
                    rep: rep as u32,
                    nanos,
                    trace: trace(nanos),
                    other_cpu: None,
                });
            }
        }
        r
    }

    #[test]
    fn gil_mode_predicts_no_speedup_at_any_worker_count() {
        let mut r = synthetic();
        let g = r.granularities()[0];
        // Four equal tasks: free of the GIL, the replay predicts 4x on 4 workers.
        let free = r.prediction_for(g, 64).expect("prediction");
        assert!(free.predictions.iter().any(|q| q.speedup > 1.1));
        r.gil = true;
        let gil = r.prediction_for(g, 64).expect("prediction");
        assert_eq!(gil.predictions.len(), 64);
        for q in &gil.predictions {
            assert!(q.speedup <= 1.1, "P = {}: {}", q.workers, q.speedup);
            assert!(
                q.brent_speedup <= 1.1,
                "P = {}: {}",
                q.workers,
                q.brent_speedup
            );
        }
        assert!(gil.source.contains("GIL"));
    }

    #[test]
    fn one_point_is_named_karp_flatt_not_a_fit() {
        let r = synthetic();
        let fits = r.fits();
        assert_eq!(fits.len(), 1);
        // Only P = 2 lies in 1 < P <= logical cores here.
        assert_eq!(fits[0].points.len(), 1);
        let text = fits[0].describe();
        assert!(text.contains("Karp-Flatt serial fraction"), "{text}");
        assert!(!text.contains("fit over"), "{text}");
        let two = AmdahlFit {
            points: vec![(2.0, 1.9), (4.0, 3.5)],
            ..fits[0].clone()
        };
        assert!(two.describe().contains("Amdahl fit over 2 points"));
        assert!(describe_karp_flatt(-0.05).contains("superlinear"));
    }

    #[test]
    fn rows_by_hand() {
        let r = synthetic();
        let rows = r.rows();
        assert_eq!(rows.len(), 3);
        let seq = &rows[0].1;
        assert_eq!(seq.schedule, "sequential");
        assert_eq!(seq.speedup, None, "sequential has no pool baseline");
        let one = &rows[1].1;
        assert!((one.speedup.expect("s") - 1.0).abs() < 1e-9);
        assert_eq!(one.karp_flatt, None);
        let two = &rows[2].1;
        assert!((two.median_s - 2.0).abs() < 1e-9);
        assert!((two.speedup.expect("s") - 2.0).abs() < 1e-9);
        assert!((two.efficiency.expect("e") - 1.0).abs() < 1e-9);
        assert_eq!(two.outliers, vec![2]);
        assert_eq!(two.times_s.len(), 5, "the outlier is kept");
        assert!((two.speedup_vs_sequential.expect("s") - 1.9).abs() < 1e-9);
        let [lo, hi] = two.speedup_ci95.expect("ci");
        assert!(lo <= 2.0 && 2.0 <= hi);
        let [a, b] = two.speedup_iqr.expect("iqr");
        assert!(a <= 2.0 && 2.0 <= b);
        assert!(!two.oversubscribed);
        let fits = r.fits();
        assert_eq!(fits.len(), 1);
        assert!(fits[0].serial_fraction.abs() < 1e-9);
        assert_eq!(r.best_granularity(2), Some(2));
        let preds = r.predictions(8);
        assert_eq!(preds.len(), 1);
        // Four equal tasks: perfect up to 4 workers, flat after.
        assert!((preds[0].predictions[3].speedup - 4.0).abs() < 1e-9);
        assert!((preds[0].predictions[7].speedup - 4.0).abs() < 1e-9);
    }

    #[test]
    fn median_trace_survives_pruning() {
        let mut r = synthetic();
        let before = r.median_trace(2).cloned().expect("trace");
        assert_eq!(before.wall_nanos, 2_000_000_000);
        r.keep_only_median_traces();
        assert_eq!(r.median_trace(2), Some(&before));
    }

    #[test]
    fn a_real_tiny_sweep_fills_every_row() {
        let plan = tiny_plan();
        let w = tiny_workload();
        let mut results = SweepResults::new(plan.clone(), &*w, 2, 1);
        let job = SweepJob::start(w, plan, None).expect("start");
        while let Some(ev) = job.next_blocking() {
            if let SweepEvent::Measured(m) = ev {
                results.add(m);
            }
        }
        let rows = results.rows();
        assert_eq!(rows.len(), results.configs.len());
        assert!(rows.iter().all(|(_, r)| r.n == 3 && r.median_s > 0.0));
        assert_eq!(results.predictions(64).len(), 2);
    }
}
