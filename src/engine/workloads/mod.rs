//! The course's workloads beyond Mandelbrot, as task lists every parlab tool
//! applies to: the schedulers, traces, the worker-coloured task grid, the
//! timeline and the speedup lab's sweeps.
//!
//! # Interface (for whoever wires workloads into a sweep)
//!
//! * [`TaskWorkload`]: a workload is `num_tasks()` independent tasks.
//!   `run_task(i, env)` computes task `i` and returns its output and its work
//!   (in the workload's own unit, stored in `TaskRecord::work`);
//!   `combine(outputs)` builds the result from the outputs **in task order**
//!   (so a reduction's order is fixed by the task list, never by the
//!   schedule); `serial()` computes the same result with the plain serial
//!   algorithm the course shows; `results_agree(parallel, serial)` is the
//!   check (exact, or within a stated tolerance for floating-point sums).
//!   Tasks go through the one generic executor
//!   [`crate::engine::exec::schedule::execute`], so they produce the same
//!   [`Trace`]/`TaskRecord`s as Mandelbrot tiles.
//! * [`run`]: one run of a typed workload under a schedule → [`Run`] (result,
//!   trace, GIL log, [`Timing`] split into compute and overhead).
//! * [`WorkloadSpec`]: names a workload and its parameters (serde, and
//!   `FromStr` for CLI strings such as `primes`, `primes:count=640,chunk=20`,
//!   `dot:len=4000000,chunks=64`, `matmul:n=512,cutoff=64`,
//!   `io:tasks=64,wait-ms=10`). [`WorkloadSpec::prepare`] builds the data once
//!   and returns a `Box<dyn DynWorkload>`: the type-erased face a sweep needs.
//!   [`DynWorkload::run`] runs it once (schedule, pool, cancel flag, GIL on/off)
//!   and returns a [`WorkloadRun`]: the trace, the timing split, a one-line
//!   result summary and the check against the serial result (computed once,
//!   lazily, and cached).
//!
//! A sweep point is therefore:
//! ```ignore
//! let w = spec.prepare()?;                       // once per workload
//! let pool = build_pool(p)?;                     // once per worker count
//! let run = w.run(schedule, Some(&pool), &cancel, false)?;
//! run.check?;                                    // parallel == serial
//! let wall = run.trace.wall_nanos;               // the time to plot
//! ```
//! * GIL mode: `run(.., gil = true)` hands every task a
//!   [`TaskEnv`] holding one global lock ([`crate::engine::exec::gil`]); CPU parts
//!   run under it, I/O waits release it, and each task's `TaskRecord` becomes
//!   the interval it held the lock, so the timeline shows the serialised bars.
//! * [`grid_shape`]: columns × rows for drawing the tasks as a grid (task i at
//!   column i mod cols), the non-image counterpart of the Mandelbrot tiles.
//! * [`DynWorkload::compare_collectors`]: the result-collection comparison
//!   ([`collection`]) on the same prepared data.
//!
//! Other entry points: [`matmul::work_span`]/[`matmul::growth`] (the recursive
//! `rayon::join` version with measured work and span), [`completion`] (order
//! of completion), [`crate::engine::theory`] (Amdahl, Gustafson, Brent, grid
//! search). Mandelbrot is not in [`WorkloadSpec`]: the speedup lab already has it.

mod catalog;
mod collection;
pub mod completion;
mod course;
mod dot;
mod error;
mod io;
mod mandelbrot;
pub mod matmul;
mod primes;
mod spec;
mod workload;

pub use catalog::{WORKLOAD_NAMES, by_name, by_spec};
pub use collection::{CollectionRun, Collector};
pub use course::CourseWorkload;
pub use dot::{Dot, DotResult};
pub use error::{Mismatch, WorkloadError};
pub use io::IoBound;
pub use mandelbrot::Mandelbrot;
pub use primes::{Primes, Trial};
pub use spec::WorkloadSpec;
pub use workload::{Granularity, Workload};

use crate::engine::exec::gil::{Gil, HeldInterval, TaskEnv};
use crate::engine::exec::schedule::{Schedule, execute};
use crate::engine::exec::trace::{TaskRecord, Trace};
use rayon::ThreadPool;
use serde::{Deserialize, Serialize};
use std::fmt::Debug;
use std::sync::atomic::AtomicBool;
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

/// A workload as a list of independent tasks (see the module docs).
pub trait TaskWorkload: Sync {
    /// What one task returns.
    type Output: Send;
    /// What the whole workload computes.
    type Result: Clone + Debug + Send + Sync;

    /// Short name (`primes`, `dot`, …).
    fn name(&self) -> &'static str;
    /// What one task is called in traces (`chunk`, `leaf`, …).
    fn task_label(&self) -> &'static str;
    /// The unit of `TaskRecord::work` (`divisions`, `multiply-adds`, …).
    fn work_unit(&self) -> &'static str;
    fn num_tasks(&self) -> usize;
    /// Computes task `i`; CPU parts go through `env.compute`, waits through
    /// `env.wait`, so GIL mode applies. Returns the output and the work done.
    fn run_task(&self, i: usize, env: &TaskEnv) -> (Self::Output, u64);
    /// Builds the result from every task's output, in task order.
    fn combine(&self, outputs: Vec<Self::Output>) -> Self::Result;
    /// The plain serial algorithm, without tasks.
    fn serial(&self) -> Self::Result;
    /// `Ok` when `parallel` matches `serial` (exactly or within the stated
    /// tolerance); otherwise what differs.
    fn results_agree(&self, parallel: &Self::Result, serial: &Self::Result)
    -> Result<(), Mismatch>;
    /// One line describing a result, for summaries.
    fn summarise(&self, result: &Self::Result) -> String;
}

/// Where a run's time went: the seed's "profile and improve" split.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Timing {
    pub num_workers: u32,
    /// Wall time of the parallel phase (all tasks), from the trace.
    pub wall_nanos: u64,
    /// Sum of task durations: the compute the tasks did.
    pub compute_nanos: u64,
    /// Time to combine the outputs into the result, after the parallel phase.
    pub combine_nanos: u64,
    /// From the run's start to the first task starting (pool wake-up).
    pub startup_nanos: u64,
    /// From the last task ending to the caller resuming (join / wake-up).
    pub join_nanos: u64,
}

impl Timing {
    /// Ideal wall time if the compute were spread perfectly: compute / P.
    pub fn compute_per_worker_nanos(&self) -> u64 {
        self.compute_nanos / u64::from(self.num_workers.max(1))
    }
    /// Wall time not explained by compute / P: scheduling, idling and imbalance.
    pub fn overhead_nanos(&self) -> u64 {
        self.wall_nanos
            .saturating_sub(self.compute_per_worker_nanos())
    }
    /// Total time to the result: parallel phase plus collection.
    pub fn total_nanos(&self) -> u64 {
        self.wall_nanos + self.combine_nanos
    }
}

/// One run of a typed workload.
#[derive(Clone, Debug)]
pub struct Run<R> {
    /// `None` when the run was cancelled before every task finished.
    pub result: Option<R>,
    pub trace: Trace,
    pub timing: Timing,
    /// Who held the GIL when (GIL mode only).
    pub gil: Option<Vec<HeldInterval>>,
}

/// Runs every task of `workload` under `schedule`; `pool` is required for all
/// schedules but `Sequential`. With `gil`, tasks compute under one global lock
/// and each task's trace interval becomes the span from its first taking of
/// the lock to its last release: for CPU-only tasks exactly the interval it
/// held the GIL, so the timeline shows the serialised bars.
pub fn run<W: TaskWorkload>(
    workload: &W,
    schedule: Schedule,
    pool: Option<&ThreadPool>,
    cancel: &AtomicBool,
    gil: bool,
) -> Result<Run<W::Result>, WorkloadError> {
    let n = workload.num_tasks();
    let origin = Instant::now();
    let the_gil = gil.then(|| Gil::new(origin));
    let env = match &the_gil {
        Some(g) => TaskEnv::with_gil(g),
        None => TaskEnv::FREE,
    };
    let outputs: Mutex<Vec<Option<W::Output>>> = Mutex::new((0..n).map(|_| None).collect());
    let records = Mutex::new(Vec::with_capacity(n));
    let outcome = execute(
        schedule,
        pool,
        n,
        cancel,
        origin,
        |i| workload.run_task(i, &env),
        |record: TaskRecord, out| {
            let mut outs = outputs.lock().unwrap_or_else(|p| p.into_inner());
            outs[record.task as usize] = Some(out);
            drop(outs);
            records
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(record);
        },
    )?;
    let wall_nanos = origin.elapsed().as_nanos() as u64;
    let mut records = records.into_inner().unwrap_or_else(|p| p.into_inner());
    let held = the_gil.map(Gil::into_intervals);
    if let Some(held) = &held {
        apply_gil_intervals(&mut records, held);
    }
    let num_workers = match (schedule, pool) {
        (Schedule::Sequential, _) | (_, None) => 1,
        (_, Some(p)) => p.current_num_threads() as u32,
    };
    let trace = Trace {
        num_workers,
        wall_nanos,
        records,
    };
    let combine_start = Instant::now();
    let result = if outcome.cancelled {
        None
    } else {
        let outs = outputs.into_inner().unwrap_or_else(|p| p.into_inner());
        let outs: Option<Vec<W::Output>> = outs.into_iter().collect();
        outs.map(|o| workload.combine(o))
    };
    let combine_nanos = combine_start.elapsed().as_nanos() as u64;
    let timing = Timing {
        num_workers,
        wall_nanos,
        compute_nanos: trace.records.iter().map(|r| r.duration_nanos()).sum(),
        combine_nanos,
        startup_nanos: trace
            .records
            .iter()
            .map(|r| r.start_nanos)
            .min()
            .unwrap_or(0),
        join_nanos: wall_nanos
            .saturating_sub(trace.records.iter().map(|r| r.end_nanos).max().unwrap_or(0)),
    };
    Ok(Run {
        result,
        trace,
        timing,
        gil: held,
    })
}

/// Narrows each task's record to [first lock taken, last lock released].
fn apply_gil_intervals(records: &mut [TaskRecord], held: &[HeldInterval]) {
    let mut span: Vec<Option<(u64, u64)>> = vec![None; records.len().max(1)];
    let index: std::collections::HashMap<u32, usize> = records
        .iter()
        .enumerate()
        .map(|(k, r)| (r.task, k))
        .collect();
    for h in held {
        if let Some(&k) = index.get(&h.task) {
            let s = span[k].get_or_insert((h.start_nanos, h.end_nanos));
            s.0 = s.0.min(h.start_nanos);
            s.1 = s.1.max(h.end_nanos);
        }
    }
    for (r, s) in records.iter_mut().zip(span) {
        if let Some((start, end)) = s {
            r.start_nanos = start;
            r.end_nanos = end;
        }
    }
}

/// A finished run with its type erased: what a sweep point needs.
#[derive(Clone, Debug, Serialize)]
pub struct WorkloadRun {
    pub workload: String,
    pub schedule: String,
    pub gil: bool,
    pub trace: Trace,
    pub timing: Timing,
    pub cancelled: bool,
    /// One line: what was computed.
    pub summary: String,
    /// `Ok` when the result equals the serial one (within tolerance).
    #[serde(serialize_with = "ser_check")]
    pub check: Result<(), Mismatch>,
    /// Who held the GIL when (GIL mode only).
    pub gil_intervals: Option<Vec<HeldInterval>>,
}

fn ser_check<S: serde::Serializer>(c: &Result<(), Mismatch>, s: S) -> Result<S::Ok, S::Error> {
    match c {
        Ok(()) => s.serialize_str("agrees with serial"),
        Err(e) => s.serialize_str(&e.to_string()),
    }
}

/// A prepared workload behind a trait object (see [`WorkloadSpec::prepare`]).
pub trait DynWorkload: Send + Sync {
    fn name(&self) -> &'static str;
    fn task_label(&self) -> &'static str;
    fn work_unit(&self) -> &'static str;
    fn num_tasks(&self) -> usize;
    /// The parameters, as a `WorkloadSpec` string.
    fn spec(&self) -> &WorkloadSpec;
    /// Computes (once) the serial result runs are checked against, so that a
    /// caller can pay for it before timing anything.
    fn compute_serial(&self);
    /// One run; the serial result it is checked against is computed on the
    /// first call and reused.
    fn run(
        &self,
        schedule: Schedule,
        pool: Option<&ThreadPool>,
        cancel: &AtomicBool,
        gil: bool,
    ) -> Result<WorkloadRun, WorkloadError>;
    /// The three ways of collecting results, `repeats` times each, in `pool`.
    fn compare_collectors(
        &self,
        pool: &ThreadPool,
        repeats: usize,
    ) -> Vec<collection::CollectionRun>;
}

/// A typed workload with its cached serial result.
pub struct Prepared<W: TaskWorkload> {
    pub workload: W,
    spec: WorkloadSpec,
    serial: OnceLock<W::Result>,
}

impl<W: TaskWorkload> Prepared<W> {
    pub fn new(workload: W, spec: WorkloadSpec) -> Self {
        Prepared {
            workload,
            spec,
            serial: OnceLock::new(),
        }
    }

    /// The serial result, computed once.
    pub fn serial(&self) -> &W::Result {
        self.serial.get_or_init(|| self.workload.serial())
    }
}

impl<W: TaskWorkload + Send> DynWorkload for Prepared<W> {
    fn name(&self) -> &'static str {
        self.workload.name()
    }
    fn task_label(&self) -> &'static str {
        self.workload.task_label()
    }
    fn work_unit(&self) -> &'static str {
        self.workload.work_unit()
    }
    fn num_tasks(&self) -> usize {
        self.workload.num_tasks()
    }
    fn spec(&self) -> &WorkloadSpec {
        &self.spec
    }
    fn compute_serial(&self) {
        self.serial();
    }
    fn run(
        &self,
        schedule: Schedule,
        pool: Option<&ThreadPool>,
        cancel: &AtomicBool,
        gil: bool,
    ) -> Result<WorkloadRun, WorkloadError> {
        let r = run(&self.workload, schedule, pool, cancel, gil)?;
        let (summary, check) = match &r.result {
            Some(res) => (
                self.workload.summarise(res),
                self.workload.results_agree(res, self.serial()),
            ),
            None => ("cancelled".to_owned(), Err(Mismatch::Cancelled)),
        };
        Ok(WorkloadRun {
            workload: self.spec.to_string(),
            schedule: schedule.to_string(),
            gil,
            cancelled: r.result.is_none(),
            trace: r.trace,
            timing: r.timing,
            summary,
            check,
            gil_intervals: r.gil,
        })
    }
    fn compare_collectors(
        &self,
        pool: &ThreadPool,
        repeats: usize,
    ) -> Vec<collection::CollectionRun> {
        collection::compare(&self.workload, pool, repeats, self.serial())
    }
}

/// Columns and rows of a near-square grid with room for `num_tasks` cells:
/// how a task grid lays out a workload that has no image (task i sits at
/// column i mod cols, row i / cols).
pub fn grid_shape(num_tasks: usize) -> (usize, usize) {
    if num_tasks == 0 {
        return (0, 0);
    }
    let cols = num_tasks.isqrt().max(1);
    let cols = if cols * cols < num_tasks {
        cols + 1
    } else {
        cols
    };
    (cols, num_tasks.div_ceil(cols))
}

#[cfg(test)]
pub(crate) mod test_util {
    use super::*;
    use crate::engine::exec::pool::build_pool;

    /// Every schedule (and a couple of chunked variants) at 1, 2, 3, 7 workers.
    pub fn check_all_schedules<W: TaskWorkload>(w: &W) {
        let serial = w.serial();
        let cancel = AtomicBool::new(false);
        let schedules: Vec<Schedule> = Schedule::ALL
            .into_iter()
            .chain([
                Schedule::Dynamic { chunk: 3 },
                Schedule::Guided { min_chunk: 2 },
            ])
            .collect();
        for workers in [1, 2, 3, 7] {
            let pool = build_pool(workers).expect("pool");
            for &schedule in &schedules {
                let r = run(w, schedule, Some(&pool), &cancel, false).expect("runs");
                assert_eq!(r.trace.records.len(), w.num_tasks());
                let res = r.result.expect("not cancelled");
                if let Err(e) = w.results_agree(&res, &serial) {
                    panic!("{} {schedule} at {workers} workers: {e}", w.name());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_shape_fits_every_task() {
        assert_eq!(grid_shape(0), (0, 0));
        assert_eq!(grid_shape(1), (1, 1));
        assert_eq!(grid_shape(64), (8, 8));
        assert_eq!(grid_shape(65), (9, 8));
        for n in 1..500 {
            let (c, r) = grid_shape(n);
            assert!(c * r >= n && c * (r - 1) < n, "{n}");
        }
    }

    #[test]
    fn gil_mode_serialises_cpu_tasks_in_the_trace() {
        use crate::engine::exec::gil::disjoint;
        use crate::engine::exec::pool::build_pool;
        let primes = primes::Primes::new(10_000_000, 120, 4, primes::Trial::Sqrt).expect("valid");
        let dot = dot::Dot::new(20_000, 12, 3).expect("valid");
        let mm = matmul::MatmulLeaves::new(32, 8, 2).expect("valid");
        let cancel = AtomicBool::new(false);
        for workers in [2, 3, 7] {
            let pool = build_pool(workers).expect("pool");
            for schedule in Schedule::ALL {
                let traces = [
                    run(&primes, schedule, Some(&pool), &cancel, true).map(|r| r.trace),
                    run(&dot, schedule, Some(&pool), &cancel, true).map(|r| r.trace),
                    run(&mm, schedule, Some(&pool), &cancel, true).map(|r| r.trace),
                ];
                for t in traces {
                    let t = t.expect("runs");
                    let spans: Vec<_> = t
                        .records
                        .iter()
                        .map(|r| (r.start_nanos, r.end_nanos))
                        .collect();
                    assert!(disjoint(&spans), "{schedule} at {workers}: bars overlap");
                }
            }
        }
    }

    #[test]
    fn gil_run_still_agrees_with_serial() {
        use crate::engine::exec::pool::build_pool;
        let w = primes::Primes::new(1000, 300, 7, primes::Trial::Naive).expect("valid");
        let pool = build_pool(3).expect("pool");
        let r = run(
            &w,
            Schedule::Guided { min_chunk: 1 },
            Some(&pool),
            &AtomicBool::new(false),
            true,
        )
        .expect("runs");
        assert_eq!(r.result.expect("done"), w.serial());
        let held = r.gil.expect("log");
        assert_eq!(held.len(), w.num_tasks());
    }

    #[test]
    fn timing_parts_fit_inside_the_wall_time() {
        use crate::engine::exec::pool::build_pool;
        let w = primes::Primes::new(10_000_000, 200, 10, primes::Trial::Sqrt).expect("valid");
        let pool = build_pool(3).expect("pool");
        let r = run(
            &w,
            Schedule::WorkStealing,
            Some(&pool),
            &AtomicBool::new(false),
            false,
        )
        .expect("runs");
        let t = r.timing;
        // Every task lies inside [startup, wall − join], from the same clock.
        assert!(t.startup_nanos + t.join_nanos <= t.wall_nanos);
        assert!(t.compute_nanos <= t.wall_nanos * u64::from(t.num_workers));
        assert_eq!(t.total_nanos(), t.wall_nanos + t.combine_nanos);
    }

    #[test]
    fn gil_narrowing_uses_held_span() {
        let mut recs = vec![TaskRecord {
            task: 3,
            worker: 0,
            start_nanos: 0,
            end_nanos: 100,
            work: 1,
            cpu: None,
        }];
        let held = [
            HeldInterval {
                task: 3,
                worker: 0,
                start_nanos: 10,
                end_nanos: 20,
                waited_nanos: 10,
            },
            HeldInterval {
                task: 3,
                worker: 0,
                start_nanos: 50,
                end_nanos: 90,
                waited_nanos: 0,
            },
        ];
        apply_gil_intervals(&mut recs, &held);
        assert_eq!((recs[0].start_nanos, recs[0].end_nanos), (10, 90));
    }
}
