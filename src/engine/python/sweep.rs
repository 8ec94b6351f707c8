//! A Python program as a speedup-lab workload: the sweep, its statistics,
//! its report and its exports apply unchanged, so real Python speedup is
//! measured with the same rules as parlab's own workloads.
//!
//! The worker count reaches the script as `--workers N` (the pool the sweep
//! builds only tells how many); the mode (`threads` / `processes`) is fixed
//! per workload, so a threads-vs-processes comparison is two sweeps of the
//! same plan, one report `compared` inside the other. One timed run is the
//! whole interpreter run, start to exit, as `time python3 script.py` sees it.

use crate::engine::exec::schedule::Schedule;
use crate::engine::exec::trace::Trace;
use crate::engine::mandelbrot::render::RenderSettings;
use crate::engine::python::PythonError;
use crate::engine::python::runner::{self, RunOutcome, RunPlan, Script};
use crate::engine::workloads::{Granularity, Workload, WorkloadError};
use rayon::ThreadPool;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

/// The one granularity: tasks as the script cuts them.
pub const SCRIPT_GRANULARITY: Granularity = Granularity::Chunk { items: 1 };

/// What one timed run of a Python workload covers, for exports.
pub const PYTHON_TIMED_REGION: &str =
    "the whole interpreter run, python3 start to exit (imports, pool start-up, tasks, shutdown)";

/// How a threads-vs-processes sweep is measured, in words for exports.
pub const PYTHON_SWEEP_METHOD: &str = "threads and processes swept with one plan (the same worker counts, \
     timed runs and warm-up, in a shuffled, interleaved order); the worker count reaches the script as \
     --workers N and the mode as --mode; each mode's speedup is against the same mode on 1 worker; \
     CPU/wall per task = the thread's CPU time during the task (time.thread_time_ns) / the task's wall \
     time (CLOCK_MONOTONIC): about 1/N for N threads computing under one GIL";

/// A Python script swept over worker counts in one mode.
pub struct PythonWorkload {
    /// The run without `--workers`; `--mode` is added when `mode` is set.
    pub plan: RunPlan,
    /// `threads` or `processes` (passed as `--mode`), or `None`.
    pub mode: Option<&'static str>,
    /// Tasks per run, where known (for the table).
    pub tasks_per_run: usize,
    /// Set to stop a run in progress (its process group is killed).
    pub cancel: Arc<AtomicBool>,
}

impl PythonWorkload {
    /// The plan of one run with `num_workers`.
    pub fn plan_for(&self, num_workers: usize) -> RunPlan {
        let mut plan = self.plan.clone();
        plan.args
            .extend(["--workers".to_string(), num_workers.to_string()]);
        if let Some(mode) = self.mode {
            plan.args.extend(["--mode".to_string(), mode.to_string()]);
        }
        plan
    }

    fn run_once(&self, pool: Option<&ThreadPool>) -> Result<RunOutcome, PythonError> {
        let workers = pool.map_or(1, ThreadPool::current_num_threads);
        let outcome = runner::run(&self.plan_for(workers), &self.cancel, &mut |_, _| {})?;
        if outcome.succeeded() {
            Ok(outcome)
        } else {
            let tail: String = outcome
                .stderr
                .lines()
                .rev()
                .take(6)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect::<Vec<_>>()
                .join("\n");
            Err(PythonError::ScriptFailed {
                script: self.describe(),
                ending: outcome.ending_message(),
                tail,
            })
        }
    }
}

impl Workload for PythonWorkload {
    fn name(&self) -> &'static str {
        match self.mode {
            Some("threads") => "python-threads",
            Some("processes") => "python-processes",
            _ => "python",
        }
    }

    fn task_label(&self) -> &'static str {
        "task"
    }

    /// Each run is an interpreter (and its pool workers) that parlab waits for.
    fn runs_child_processes(&self) -> bool {
        true
    }

    fn work_unit(&self) -> &'static str {
        "ns CPU"
    }

    fn describe(&self) -> String {
        let mut s = self.plan.script.display_name();
        if let Some(m) = self.mode {
            s.push_str(&format!(" --mode {m}"));
        }
        if let Some(m) = self.plan.start_method {
            s.push_str(&format!(" (start method {})", m.name()));
        }
        s
    }

    fn params(&self) -> serde_json::Value {
        serde_json::json!({
            "script": self.plan.script.display_name(),
            "args": self.plan.args,
            "mode": self.mode,
            "start_method": self.plan.start_method.map(|m| m.name()),
            "python": self.plan.python.as_ref().map_or_else(|| "python3".to_string(), |p| p.display().to_string()),
            "timed_region": PYTHON_TIMED_REGION,
            "method": PYTHON_SWEEP_METHOD,
            "spec": self.name(),
        })
    }

    fn parse_granularity(&self, s: &str) -> Result<Granularity, WorkloadError> {
        match s {
            "script" | "1" => Ok(SCRIPT_GRANULARITY),
            _ => Err(PythonError::Granularity {
                input: s.to_string(),
            }
            .into()),
        }
    }

    fn default_granularities(&self) -> Vec<Granularity> {
        vec![SCRIPT_GRANULARITY]
    }

    fn num_tasks(&self, _granularity: Granularity) -> usize {
        self.tasks_per_run
    }

    fn run(
        &self,
        _granularity: Granularity,
        _schedule: Schedule,
        pool: Option<&ThreadPool>,
    ) -> Result<Trace, WorkloadError> {
        Ok(self.run_once(pool)?.trace.to_trace())
    }

    fn run_timed(
        &self,
        _granularity: Granularity,
        _schedule: Schedule,
        pool: Option<&ThreadPool>,
    ) -> Result<(u64, Trace), WorkloadError> {
        let outcome = self.run_once(pool)?;
        Ok((outcome.wall_nanos, outcome.trace.to_trace()))
    }

    fn verify(
        &self,
        _granularity: Granularity,
        _schedule: Schedule,
        pool: Option<&ThreadPool>,
    ) -> Result<(), WorkloadError> {
        Ok(self.run_once(pool).map(|_| ())?)
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

/// The shipped primes program as a workload in `mode`, `items` numbers of
/// `digits` digits.
pub fn primes_workload(mode: &'static str, items: usize, digits: u32) -> Option<PythonWorkload> {
    let program = crate::engine::python::programs::find("pool_primes")?;
    let mut plan = RunPlan::new(Script::Shipped(program));
    plan.args = vec![
        "--items".into(),
        items.to_string(),
        "--digits".into(),
        digits.to_string(),
    ];
    Some(PythonWorkload {
        plan,
        mode: Some(mode),
        tasks_per_run: items,
        cancel: Arc::new(AtomicBool::new(false)),
    })
}

/// One mode's sweep: the workload and its measurements.
pub struct ModeSweep {
    pub mode: &'static str,
    pub workload: std::sync::Arc<PythonWorkload>,
    pub results: crate::engine::speedup::results::SweepResults,
    pub complete: bool,
}

/// The two modes a threads-vs-processes sweep compares.
pub const MODES: [&str; 2] = ["processes", "threads"];

/// Sweeps `base` over `workers` in each of `modes`, `reps` timed runs per
/// configuration (one untimed warm-up), with the speedup lab's sweep:
/// interleaved, shuffled run order, baseline = the same mode on 1 worker.
/// Blocks (run it on a background thread); stops early when `cancel` is set.
/// `progress(mode, done, total)` is called after every timed run.
pub fn sweep_modes(
    base: &RunPlan,
    tasks_per_run: usize,
    workers: &[usize],
    reps: u32,
    cancel: &Arc<AtomicBool>,
    progress: &mut dyn FnMut(&'static str, usize, usize),
) -> Result<Vec<ModeSweep>, PythonError> {
    use crate::engine::speedup::results::SweepResults;
    use crate::engine::speedup::sweep::{SweepEvent, SweepJob, SweepPlan};
    use std::sync::atomic::Ordering;
    let mut out = Vec::new();
    for mode in MODES {
        let workload = std::sync::Arc::new(PythonWorkload {
            plan: base.clone(),
            mode: Some(mode),
            tasks_per_run,
            cancel: cancel.clone(),
        });
        let plan = SweepPlan {
            workers: workers.to_vec(),
            granularities: vec![SCRIPT_GRANULARITY],
            schedule: Schedule::Dynamic { chunk: 1 },
            reps,
            warmup: 1,
            include_sequential: false,
            shuffle_seed: 0x5eed_0013,
            placement: Default::default(),
        };
        let mut results = SweepResults::new(
            plan.clone(),
            &*workload,
            crate::engine::exec::pool::logical_cores(),
            crate::engine::exec::pool::physical_cores(),
        );
        let job = SweepJob::start(workload.clone(), plan, None)?;
        let mut complete = false;
        while let Some(event) = job.next_blocking() {
            if cancel.load(Ordering::Relaxed) {
                job.cancel();
            }
            match event {
                SweepEvent::Prepared | SweepEvent::WarmedUp => {}
                SweepEvent::Measured(m) => {
                    results.add(m);
                    let (done, total) = job.progress();
                    progress(mode, done, total);
                }
                SweepEvent::Finished(end) => {
                    if let Some(e) = end.error {
                        return Err(e.into());
                    }
                    complete = !end.cancelled;
                    break;
                }
            }
        }
        out.push(ModeSweep {
            mode,
            workload,
            results,
            complete,
        });
        if cancel.load(Ordering::Relaxed) {
            break;
        }
    }
    Ok(out)
}

/// The sweeps as one report: the first mode's, the others in `compared`.
pub fn modes_report(sweeps: &[ModeSweep]) -> Option<crate::engine::speedup::report::SweepReport> {
    use crate::engine::speedup::report::SweepReport;
    let (first, rest) = sweeps.split_first()?;
    let mut report = SweepReport::build(&first.results, &*first.workload, first.complete);
    report.meta.timed_region = PYTHON_TIMED_REGION.into();
    report.compared = rest
        .iter()
        .map(|s| {
            let mut r = SweepReport::build(&s.results, &*s.workload, s.complete);
            r.meta.timed_region = PYTHON_TIMED_REGION.into();
            r
        })
        .collect();
    Some(report)
}

/// CPU time / wall time over all tasks of a trace whose `work` is CPU ns
/// (None without tasks).
pub fn cpu_per_wall(trace: &Trace) -> Option<f64> {
    let wall: u64 = trace.records.iter().map(|r| r.duration_nanos()).sum();
    let cpu: u64 = trace.records.iter().map(|r| r.work).sum();
    (wall > 0).then(|| cpu as f64 / wall as f64)
}
