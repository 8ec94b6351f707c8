//! The course workloads (primes, dot, matmul, io) as speedup-lab
//! [`Workload`]s, so every sweep, statistic, replay, export and plot applies
//! to them as it does to Mandelbrot.
//!
//! What the granularity means per workload (items per task, log-spaced by
//! default):
//! * `primes`: numbers tested per task (`chunk`), default 1, 2, 4, …, 64;
//! * `dot`: vector elements per task (the vectors are cut into
//!   ⌈len / items⌉ chunks), default 2¹⁰, 2¹², …, 2²²;
//! * `matmul`: the cutoff size of the 8-way split (leaves of cutoff³), default
//!   16, 32, …, n/2 where the leaf products fit in memory;
//! * `io`: requests per task (`per-task`), default 1, 2, 4, 8, 16.
//!
//! Data is built once per granularity in [`Workload::prepare`], before any
//! pool exists or any run is timed (the dot vectors once in all, shared by
//! every chunking); the serial result each run is checked against is computed
//! there too. A timed run is the workload's own run (tasks built, run,
//! outputs combined in task order); the check against the serial result is
//! made after the clock stops, and a mismatch ends the sweep with an error.

use super::workload::{Granularity, Workload};
use crate::engine::exec::ExecError;
use crate::engine::exec::schedule::Schedule;
use crate::engine::exec::trace::Trace;
use crate::engine::mandelbrot::render::RenderSettings;
use crate::engine::workloads::dot::Dot;
use crate::engine::workloads::{DynWorkload, Prepared, WorkloadError, WorkloadSpec};
use rayon::ThreadPool;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, OnceLock};

/// A course workload cut at the sweep's granularities, optionally in GIL mode.
pub struct CourseWorkload {
    /// The parameters; its chunk/cutoff/per-task is replaced per granularity.
    spec: WorkloadSpec,
    gil: bool,
    /// The dot product's vectors, built once and shared by every chunking.
    dot_data: OnceLock<Dot>,
    prepared: Mutex<Vec<(Granularity, Arc<dyn DynWorkload>)>>,
}

impl CourseWorkload {
    /// The workload `spec` (validated), with every task under one global lock
    /// when `gil` is on.
    pub fn new(spec: WorkloadSpec, gil: bool) -> Result<Self, WorkloadError> {
        spec.validate()?;
        Ok(CourseWorkload {
            spec,
            gil,
            dot_data: OnceLock::new(),
            prepared: Mutex::new(Vec::new()),
        })
    }

    pub fn spec(&self) -> &WorkloadSpec {
        &self.spec
    }

    pub fn gil(&self) -> bool {
        self.gil
    }

    /// What one granularity step means for this workload, in words.
    pub fn granularity_meaning(&self) -> &'static str {
        match self.spec {
            WorkloadSpec::Primes { .. } => "numbers tested per task (chunk)",
            WorkloadSpec::Dot { .. } => "vector elements per task (chunks = ceil(len / items))",
            WorkloadSpec::Matmul { .. } => {
                "cutoff size of the 8-way recursive split (leaf = cutoff³)"
            }
            WorkloadSpec::Io { .. } => "requests per task (per-task)",
        }
    }

    /// The spec with its granularity parameter set to `g`.
    pub fn spec_at(&self, g: Granularity) -> Result<WorkloadSpec, WorkloadError> {
        let mut spec = self.spec.clone();
        match (&mut spec, g) {
            (WorkloadSpec::Primes { chunk, .. }, Granularity::Chunk { items }) => {
                *chunk = u64::from(items);
            }
            (WorkloadSpec::Dot { len, chunks, .. }, Granularity::Chunk { items }) => {
                *chunks = len.div_ceil(items.max(1) as usize);
            }
            (WorkloadSpec::Matmul { cutoff, .. }, Granularity::Cutoff { size }) => {
                *cutoff = size as usize;
            }
            (WorkloadSpec::Io { per_task, .. }, Granularity::Chunk { items }) => {
                *per_task = items as usize;
            }
            _ => {
                return Err(WorkloadError::Granularity {
                    workload: self.spec.name(),
                    granularity: g,
                });
            }
        }
        spec.validate()?;
        Ok(spec)
    }

    /// The prepared workload at `g`, built now if it was not yet.
    fn prepared_at(&self, g: Granularity) -> Result<Arc<dyn DynWorkload>, WorkloadError> {
        let mut cache = self.prepared.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, w)) = cache.iter().find(|(k, _)| *k == g) {
            return Ok(w.clone());
        }
        let spec = self.spec_at(g)?;
        let w: Arc<dyn DynWorkload> = match spec {
            WorkloadSpec::Dot {
                len, chunks, seed, ..
            } => {
                let base = match self.dot_data.get() {
                    Some(d) => d,
                    None => {
                        let d = Dot::new(len, 1, seed)?;
                        self.dot_data.get_or_init(|| d)
                    }
                };
                Arc::new(Prepared::new(base.with_chunks(chunks)?, spec))
            }
            _ => Arc::from(spec.prepare()?),
        };
        // The serial result, computed here rather than inside a timed run.
        w.compute_serial();
        cache.push((g, w.clone()));
        Ok(w)
    }

    /// One run, checked against the serial result after the clock stopped;
    /// returns the timed nanoseconds (run + combine) and the trace.
    fn checked_run(
        &self,
        g: Granularity,
        schedule: Schedule,
        pool: Option<&ThreadPool>,
    ) -> Result<(u64, Trace), WorkloadError> {
        if schedule.uses_pool() && pool.is_none() {
            return Err(ExecError::NoPool { schedule }.into());
        }
        let w = self.prepared_at(g)?;
        let never = AtomicBool::new(false);
        let run = w.run(schedule, pool, &never, self.gil)?;
        run.check.map_err(|mismatch| WorkloadError::Differs {
            workload: self.spec.name(),
            granularity: g,
            schedule,
            mismatch,
        })?;
        Ok((run.timing.total_nanos(), run.trace))
    }
}

fn whole_number(s: &str) -> Result<u32, WorkloadError> {
    s.trim()
        .replace('_', "")
        .parse::<u32>()
        .ok()
        .filter(|&n| n > 0)
        .ok_or_else(|| WorkloadError::GranularityNumber {
            input: s.to_string(),
        })
}

impl Workload for CourseWorkload {
    fn name(&self) -> &'static str {
        self.spec.name()
    }
    fn task_label(&self) -> &'static str {
        match self.spec {
            WorkloadSpec::Primes { .. } | WorkloadSpec::Dot { .. } => "chunk",
            WorkloadSpec::Matmul { .. } => "leaf",
            WorkloadSpec::Io { .. } => "request",
        }
    }
    fn work_unit(&self) -> &'static str {
        // The same units as the workloads' `TaskWorkload::work_unit`.
        match self.spec {
            WorkloadSpec::Primes { .. } => "divisions",
            WorkloadSpec::Dot { .. } | WorkloadSpec::Matmul { .. } => "multiply-adds",
            WorkloadSpec::Io { .. } => "µs waited",
        }
    }
    fn describe(&self) -> String {
        format!(
            "{}{}; granularity = {}",
            self.spec,
            if self.gil { ", GIL mode" } else { "" },
            self.granularity_meaning()
        )
    }
    fn params(&self) -> serde_json::Value {
        serde_json::json!({
            "spec": self.spec.to_string(),
            "parameters": self.spec,
            "gil": self.gil,
            "io_bound": self.spec.is_io_bound(),
            "granularity": self.granularity_meaning(),
            "check": "every timed run's result is compared with the serial result after timing \
                      (exact; dot: within its stated floating-point tolerance)",
        })
    }
    fn parse_granularity(&self, s: &str) -> Result<Granularity, WorkloadError> {
        let n = whole_number(s)?;
        let g = match self.spec {
            WorkloadSpec::Matmul { .. } => Granularity::Cutoff { size: n },
            _ => Granularity::Chunk { items: n },
        };
        self.spec_at(g).map(|_| g)
    }
    fn default_granularities(&self) -> Vec<Granularity> {
        let candidates: Vec<Granularity> = match self.spec {
            WorkloadSpec::Primes { .. } => (0..7)
                .map(|k| Granularity::Chunk { items: 1 << k })
                .collect(),
            WorkloadSpec::Dot { .. } => (0..7)
                .map(|k| Granularity::Chunk {
                    items: 1 << (10 + 2 * k),
                })
                .collect(),
            WorkloadSpec::Matmul { n, .. } => (4..12)
                .map(|k| 1u32 << k)
                .filter(|&c| (c as usize) < n.max(2))
                .map(|size| Granularity::Cutoff { size })
                .collect(),
            WorkloadSpec::Io { .. } => (0..5)
                .map(|k| Granularity::Chunk { items: 1 << k })
                .collect(),
        };
        let mut ok: Vec<Granularity> = candidates
            .into_iter()
            .filter(|&g| self.spec_at(g).is_ok())
            .collect();
        // Dot: the same chunk count twice is the same configuration.
        ok.dedup_by_key(|g| self.num_tasks(*g));
        if ok.is_empty() {
            // Whatever the spec itself says.
            ok.push(match self.spec {
                WorkloadSpec::Primes { chunk, .. } => Granularity::Chunk {
                    items: u32::try_from(chunk).unwrap_or(u32::MAX),
                },
                WorkloadSpec::Dot { len, chunks, .. } => Granularity::Chunk {
                    items: u32::try_from(len.div_ceil(chunks)).unwrap_or(u32::MAX),
                },
                WorkloadSpec::Matmul { cutoff, .. } => Granularity::Cutoff {
                    size: cutoff as u32,
                },
                WorkloadSpec::Io { per_task, .. } => Granularity::Chunk {
                    items: per_task as u32,
                },
            });
        }
        ok
    }
    fn num_tasks(&self, granularity: Granularity) -> usize {
        match self.spec_at(granularity) {
            Ok(WorkloadSpec::Primes { count, chunk, .. }) => count.div_ceil(chunk) as usize,
            Ok(WorkloadSpec::Dot { chunks, .. }) => chunks,
            Ok(WorkloadSpec::Matmul { n, cutoff, .. }) => (n / cutoff).pow(3),
            Ok(WorkloadSpec::Io {
                tasks, per_task, ..
            }) => tasks.div_ceil(per_task),
            Err(_) => 0,
        }
    }
    fn prepare(&self, granularities: &[Granularity]) -> Result<(), WorkloadError> {
        for &g in granularities {
            self.prepared_at(g)?;
        }
        Ok(())
    }
    fn run(
        &self,
        granularity: Granularity,
        schedule: Schedule,
        pool: Option<&ThreadPool>,
    ) -> Result<Trace, WorkloadError> {
        self.checked_run(granularity, schedule, pool)
            .map(|(_, trace)| trace)
    }
    fn run_timed(
        &self,
        granularity: Granularity,
        schedule: Schedule,
        pool: Option<&ThreadPool>,
    ) -> Result<(u64, Trace), WorkloadError> {
        self.checked_run(granularity, schedule, pool)
    }
    fn verify(
        &self,
        granularity: Granularity,
        schedule: Schedule,
        pool: Option<&ThreadPool>,
    ) -> Result<(), WorkloadError> {
        self.checked_run(granularity, schedule, pool).map(|_| ())
    }
    fn render_settings(
        &self,
        _granularity: Granularity,
        _schedule: Schedule,
        _num_workers: usize,
    ) -> Option<RenderSettings> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::exec::pool::build_pool;
    use crate::engine::workloads::Mismatch;

    fn tiny(s: &str, gil: bool) -> CourseWorkload {
        CourseWorkload::new(s.parse().expect("spec"), gil).expect("valid")
    }

    const TINY: [&str; 4] = [
        "primes:start=1000,count=60,chunk=5",
        "dot:len=5000,chunks=4",
        "matmul:n=32,cutoff=8",
        "io:tasks=6,wait-ms=1,rounds=10",
    ];

    #[test]
    fn work_unit_is_the_task_workloads_own() {
        for s in TINY {
            let w = tiny(s, false);
            let g = w.default_granularities()[0];
            let prepared = w.prepared_at(g).expect("prepares");
            assert_eq!(Workload::work_unit(&w), prepared.work_unit(), "{s}");
        }
    }

    #[test]
    fn every_workload_agrees_with_serial_at_every_default_granularity() {
        let pool = build_pool(3).expect("pool");
        for s in TINY {
            for gil in [false, true] {
                let w = tiny(s, gil);
                let grans = w.default_granularities();
                assert!(!grans.is_empty(), "{s}");
                w.prepare(&grans).expect("prepares");
                for &g in &grans {
                    for schedule in [Schedule::WorkStealing, Schedule::Dynamic { chunk: 1 }] {
                        let (nanos, trace) = w.run_timed(g, schedule, Some(&pool)).expect("runs");
                        assert!(nanos > 0);
                        assert_eq!(trace.records.len(), w.num_tasks(g), "{s} at {g}");
                        assert_eq!(trace.num_workers, 3);
                        w.verify(g, schedule, Some(&pool)).expect("agrees");
                    }
                    let seq = w.run(g, Schedule::Sequential, None).expect("sequential");
                    assert_eq!(seq.num_workers, 1);
                }
            }
        }
    }

    #[test]
    fn granularity_sets_the_workload_parameter() {
        let p = tiny(TINY[0], false);
        let g = p.parse_granularity("7").expect("7 per task");
        assert_eq!(g, Granularity::Chunk { items: 7 });
        assert_eq!(p.num_tasks(g), 9);
        let d = tiny(TINY[1], false);
        assert_eq!(d.num_tasks(Granularity::Chunk { items: 1000 }), 5);
        let m = tiny(TINY[2], false);
        let g = m.parse_granularity("16").expect("cutoff");
        assert_eq!(g, Granularity::Cutoff { size: 16 });
        assert_eq!(m.num_tasks(g), 8);
        assert!(m.parse_granularity("12").is_err(), "not a power of two");
        let io = tiny(TINY[3], false);
        assert_eq!(io.num_tasks(Granularity::Chunk { items: 4 }), 2);
        assert!(io.parse_granularity("7").is_err(), "more than the requests");
        assert!(io.parse_granularity("0").is_err());
        assert!(io.parse_granularity("bands").is_err());
        assert!(
            io.run(
                Granularity::Chunk { items: 1 },
                Schedule::WorkStealing,
                None
            )
            .is_err()
        );
    }

    /// Sums 0..n in tasks, but its "serial" answer is off by one: a broken
    /// parallel version, to show that a mismatch stops the sweep.
    struct OffByOne;

    impl crate::engine::workloads::TaskWorkload for OffByOne {
        type Output = u64;
        type Result = u64;
        fn name(&self) -> &'static str {
            "primes"
        }
        fn task_label(&self) -> &'static str {
            "chunk"
        }
        fn work_unit(&self) -> &'static str {
            "adds"
        }
        fn num_tasks(&self) -> usize {
            4
        }
        fn run_task(&self, i: usize, _env: &crate::engine::exec::gil::TaskEnv) -> (u64, u64) {
            (i as u64, 1)
        }
        fn combine(&self, outputs: Vec<u64>) -> u64 {
            outputs.iter().sum()
        }
        fn serial(&self) -> u64 {
            7
        }
        fn results_agree(&self, parallel: &u64, serial: &u64) -> Result<(), Mismatch> {
            if parallel == serial {
                Ok(())
            } else {
                Err(Mismatch::Value {
                    what: "sum".into(),
                    parallel: parallel.to_string(),
                    serial: serial.to_string(),
                })
            }
        }
        fn summarise(&self, result: &u64) -> String {
            result.to_string()
        }
    }

    #[test]
    fn a_result_that_differs_from_serial_ends_the_sweep_with_an_error() {
        use crate::engine::speedup::sweep::{SweepEvent, SweepJob, SweepPlan};
        let w = tiny(TINY[0], false);
        let g = Granularity::Chunk { items: 5 };
        let spec = w.spec_at(g).expect("spec");
        w.prepared
            .lock()
            .expect("lock")
            .push((g, Arc::new(Prepared::new(OffByOne, spec))));
        let pool = build_pool(2).expect("pool");
        let e = w
            .run(g, Schedule::WorkStealing, Some(&pool))
            .expect_err("mismatch")
            .to_string();
        assert!(
            e.contains("differs from the serial result") && e.contains("6 ≠ 7"),
            "{e}"
        );
        let plan = SweepPlan {
            workers: vec![2],
            granularities: vec![g],
            schedule: Schedule::WorkStealing,
            reps: 2,
            warmup: 0,
            include_sequential: true,
            shuffle_seed: 1,
            placement: Default::default(),
        };
        let job = SweepJob::start(Arc::new(w), plan, None).expect("starts");
        let mut end = None;
        while let Some(ev) = job.next_blocking() {
            if let SweepEvent::Finished(e) = ev {
                end = Some(e);
            }
        }
        let end = end.expect("finished");
        assert!(
            end.error
                .is_some_and(|e| e.to_string().contains("differs from the serial result")),
            "never silently ignored"
        );
        assert_eq!(end.completed, 0);
    }

    #[test]
    fn defaults_are_log_spaced_and_valid() {
        let d = CourseWorkload::new(WorkloadSpec::default_for("primes").expect("p"), false)
            .expect("valid");
        let items: Vec<u32> = d
            .default_granularities()
            .into_iter()
            .map(|g| match g {
                Granularity::Chunk { items } => items,
                other => panic!("{other}"),
            })
            .collect();
        assert_eq!(items, vec![1, 2, 4, 8, 16, 32, 64]);
        let m = CourseWorkload::new(WorkloadSpec::default_for("matmul").expect("m"), false)
            .expect("valid");
        assert!(
            m.default_granularities()
                .iter()
                .all(|g| matches!(g, Granularity::Cutoff { size } if size.is_power_of_two()))
        );
    }
}
