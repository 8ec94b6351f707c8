//! A speedup sweep: every (granularity, worker count) configuration measured
//! several times, in the background, streaming each measurement as it lands.
//!
//! Measurement rules: every pool is built before any timing; warm-up runs are
//! made and thrown away; the timed runs are interleaved (each repetition runs
//! every configuration once, in an order shuffled with a fixed seed) so that
//! drift in the machine's speed spreads over all configurations instead of
//! biasing some; the baseline is the same code on a 1-worker pool, which is
//! always measured (the `sequential` schedule is measured and shown apart,
//! on the 1-worker pool's own thread so that "vs seq" compares like with
//! like: the same thread, so the same core while that thread stays there);
//! other processes' CPU use is measured over every timed run (see
//! [`crate::engine::exec::other_cpu`]). A window that shows the sweep's
//! progress is woken only between timed runs, and the next run starts a
//! moment later ([`ProgressWake`]), so that drawing the progress is not timed.

use crate::engine::exec::other_cpu::{OtherCpu, OtherCpuMeter, QuietStart};
use crate::engine::exec::placement::Placement;
use crate::engine::exec::pool::build_pool_placed;
use crate::engine::exec::schedule::Schedule;
use crate::engine::exec::task::{BackgroundTask, Emitter, Notify};
use crate::engine::exec::trace::Trace;
use crate::engine::speedup::SweepError;
use crate::engine::util::rng::SplitMix64;
use crate::engine::workloads::{Granularity, Workload, WorkloadError};
use rayon::ThreadPool;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Most repetitions a sweep accepts.
pub const MAX_REPS: u32 = 1000;
/// Most warm-up runs per configuration.
pub const MAX_WARMUP: u32 = 100;

/// Default worker counts: 1, 2, …, logical cores, then 2× and 4× logical
/// cores to show oversubscription.
pub fn default_worker_counts(logical_cores: usize) -> Vec<usize> {
    let n = logical_cores.clamp(1, crate::engine::exec::pool::MAX_WORKERS / 4);
    (1..=n).chain([2 * n, 4 * n]).collect()
}

/// What to measure.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepPlan {
    pub workers: Vec<usize>,
    pub granularities: Vec<Granularity>,
    /// Schedule of the parallel runs (the baseline uses it on 1 worker).
    pub schedule: Schedule,
    /// Timed runs per configuration.
    pub reps: u32,
    /// Untimed runs per configuration before timing starts.
    pub warmup: u32,
    /// Also measure the `sequential` schedule (no pool) per granularity.
    pub include_sequential: bool,
    /// Seed of the run-order shuffle.
    pub shuffle_seed: u64,
    /// Free or pinned workers; pinned, the sequential baseline is pinned
    /// with the 1-worker pool (it runs on that pool's thread).
    #[serde(default)]
    pub placement: Placement,
}

/// One configuration of a sweep.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigKey {
    pub granularity: Granularity,
    pub schedule: Schedule,
    pub workers: usize,
}

/// How run orders are interleaved, in words for exports.
pub const RUN_ORDER_RULE: &str = "warm-up runs first (untimed), then each repetition runs every configuration once, \
     in an order shuffled per repetition with splitmix64 (seed in the plan); in the window, progress \
     is redrawn at most once a second, between timed runs, and the next run starts 150 ms after \
     the redraw was asked for and once the window's drawing threads are quiet (under 0.15 cores \
     over 150 ms; at most 1 s), so that drawing is not timed";

/// How a sweep wakes the window that shows its progress: between timed runs
/// only, never during one, and then not again for a while. (Headless, nothing
/// is woken: the caller blocks on the events.)
#[derive(Clone)]
pub struct ProgressWake {
    /// Asks the window to redraw now.
    pub notify: Notify,
    /// Shortest time between two wake-ups.
    pub every: Duration,
    /// After a wake-up, the next timed run starts after a pause long enough
    /// for one frame and then once this process's drawing is quiet (at most
    /// a second): the redraw then does not compete with the workers. The
    /// sweep's own thread waits, never a worker, and never for the UI itself.
    pub settle: QuietStart,
}

impl ProgressWake {
    /// What the window uses: a redraw at most once a second, 150 ms to draw it.
    pub fn for_window(notify: Notify) -> Self {
        ProgressWake {
            notify,
            every: Duration::from_millis(1000),
            settle: QuietStart {
                pause: Duration::from_millis(150),
                limit: Duration::from_secs(1),
            },
        }
    }
}

impl std::fmt::Debug for ProgressWake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProgressWake")
            .field("every", &self.every)
            .field("settle", &self.settle)
            .finish_non_exhaustive()
    }
}

impl SweepPlan {
    /// Refuses empty lists, zero repetitions and out-of-range values.
    pub fn validate(&self) -> Result<(), SweepError> {
        if self.workers.is_empty() {
            return Err(SweepError::NoWorkers);
        }
        if let Some(&w) = self
            .workers
            .iter()
            .find(|&&w| !(1..=crate::engine::exec::pool::MAX_WORKERS).contains(&w))
        {
            return Err(SweepError::Workers {
                got: w,
                max: crate::engine::exec::pool::MAX_WORKERS,
            });
        }
        if self.granularities.is_empty() {
            return Err(SweepError::NoGranularities);
        }
        if !(1..=MAX_REPS).contains(&self.reps) {
            return Err(SweepError::Reps {
                got: self.reps,
                max: MAX_REPS,
            });
        }
        if self.warmup > MAX_WARMUP {
            return Err(SweepError::Warmup {
                got: self.warmup,
                max: MAX_WARMUP,
            });
        }
        if !self.schedule.uses_pool() {
            return Err(SweepError::Sequential);
        }
        Ok(())
    }

    /// Worker counts, sorted, without repeats, with 1 (the baseline) always in.
    pub fn worker_counts(&self) -> Vec<usize> {
        let mut w: Vec<usize> = self.workers.iter().copied().chain([1]).collect();
        w.sort_unstable();
        w.dedup();
        w
    }

    /// Every configuration: per granularity, sequential (if asked) then each worker count.
    pub fn configs(&self) -> Vec<ConfigKey> {
        let mut grans = self.granularities.clone();
        grans.dedup();
        let mut out = Vec::new();
        for (i, &granularity) in grans.iter().enumerate() {
            if grans[..i].contains(&granularity) {
                continue;
            }
            if self.include_sequential {
                out.push(ConfigKey {
                    granularity,
                    schedule: Schedule::Sequential,
                    workers: 1,
                });
            }
            for workers in self.worker_counts() {
                out.push(ConfigKey {
                    granularity,
                    schedule: self.schedule,
                    workers,
                });
            }
        }
        out
    }

    /// Timed runs in the order they are made: (config index, repetition).
    pub fn run_order(&self) -> Vec<(usize, u32)> {
        let n = self.configs().len();
        let mut rng = SplitMix64::new(self.shuffle_seed);
        let mut order = Vec::with_capacity(n * self.reps as usize);
        for rep in 0..self.reps {
            let mut round: Vec<usize> = (0..n).collect();
            rng.shuffle(&mut round);
            order.extend(round.into_iter().map(|c| (c, rep)));
        }
        order
    }

    pub fn total_runs(&self) -> usize {
        self.configs().len() * self.reps as usize
    }
}

/// One timed run.
#[derive(Clone, Debug)]
pub struct Measurement {
    pub config: usize,
    pub rep: u32,
    /// Wall time of the whole run (tasks built, run, results collected).
    pub nanos: u64,
    pub trace: Trace,
    /// Other processes' CPU during this run (`None` where it cannot be read).
    pub other_cpu: Option<OtherCpu>,
}

/// How a sweep ended.
#[derive(Debug)]
pub struct SweepEnd {
    pub completed: usize,
    pub cancelled: bool,
    /// Why the sweep stopped before its last run, if it did.
    pub error: Option<SweepError>,
}

/// What a sweep job sends back.
#[derive(Debug)]
pub enum SweepEvent {
    /// The workload's data is built and every pool exists; the warm-up runs
    /// (untimed) start.
    Prepared,
    /// Warm-up is over; timing starts.
    WarmedUp,
    Measured(Measurement),
    Finished(SweepEnd),
}

const CHANNEL_CAPACITY: usize = 64;

/// A sweep in progress. Drop it to cancel (within one run).
pub struct SweepJob {
    pub plan: SweepPlan,
    pub configs: Vec<ConfigKey>,
    task: BackgroundTask<SweepEvent>,
    completed: Arc<AtomicUsize>,
    total: usize,
}

impl SweepJob {
    /// Validates the plan and starts the job thread (`parlab-sweep-job`);
    /// `wake`, when given, wakes a window between timed runs.
    pub fn start(
        workload: Arc<dyn Workload>,
        plan: SweepPlan,
        wake: Option<ProgressWake>,
    ) -> Result<Self, SweepError> {
        plan.validate()?;
        let configs = plan.configs();
        let total = plan.total_runs();
        let completed = Arc::new(AtomicUsize::new(0));
        let task = {
            let (plan, configs, completed) = (plan.clone(), configs.clone(), completed.clone());
            // Nothing wakes the window per event: `run_sweep` does, between runs.
            BackgroundTask::spawn_with_capacity(
                "parlab-sweep-job",
                CHANNEL_CAPACITY,
                None,
                move |emitter| {
                    let end = run_sweep(
                        &*workload,
                        &plan,
                        &configs,
                        emitter,
                        &completed,
                        wake.as_ref(),
                    );
                    emitter.finish(SweepEvent::Finished(end));
                    if let Some(w) = &wake {
                        (w.notify)();
                    }
                },
            )
            .map_err(SweepError::Thread)?
        };
        Ok(SweepJob {
            plan,
            configs,
            task,
            completed,
            total,
        })
    }

    pub fn try_next(&self) -> Option<SweepEvent> {
        self.task.try_next()
    }

    /// Blocks for the next event; `None` once the job has ended and all was read.
    pub fn next_blocking(&self) -> Option<SweepEvent> {
        self.task.next_blocking()
    }

    /// (timed runs finished, timed runs in all).
    pub fn progress(&self) -> (usize, usize) {
        (self.completed.load(Ordering::Relaxed), self.total)
    }

    pub fn cancel(&self) {
        self.task.cancel();
    }

    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }
}

fn run_sweep(
    workload: &dyn Workload,
    plan: &SweepPlan,
    configs: &[ConfigKey],
    emitter: &Emitter<SweepEvent>,
    completed: &AtomicUsize,
    wake: Option<&ProgressWake>,
) -> SweepEnd {
    let cancel = emitter.cancel_flag();
    // Wakes the window when a redraw is due, then lets it draw before the
    // next timed run; `force` for the first results.
    let mut last_wake: Option<Instant> = None;
    let mut wake_between_runs = |force: bool| {
        let Some(w) = wake else { return };
        if force || last_wake.is_none_or(|t| t.elapsed() >= w.every) {
            (w.notify)();
            last_wake = Some(Instant::now());
            w.settle.wait(cancel);
        }
    };
    let end = |error: Option<SweepError>| SweepEnd {
        completed: completed.load(Ordering::Relaxed),
        cancelled: cancel.load(Ordering::Relaxed),
        error,
    };
    // The workload's data (and serial results) exist before anything is timed.
    let grans: Vec<_> = plan.granularities.clone();
    if let Err(e) = workload.prepare(&grans) {
        return end(Some(e.into()));
    }
    // Every pool exists before the first timed run.
    let mut pools: BTreeMap<usize, ThreadPool> = BTreeMap::new();
    for c in configs.iter().filter(|c| c.schedule.uses_pool()) {
        if let std::collections::btree_map::Entry::Vacant(slot) = pools.entry(c.workers) {
            match build_pool_placed(c.workers, plan.placement) {
                Ok(p) => {
                    slot.insert(p);
                }
                Err(e) => return end(Some(WorkloadError::from(e).into())),
            }
        }
    }
    let run = |c: &ConfigKey| -> Result<(u64, Trace), WorkloadError> {
        if c.schedule.uses_pool() {
            return workload.run_timed(c.granularity, c.schedule, pools.get(&c.workers));
        }
        // The sequential baseline runs on the 1-worker pool's thread (timed
        // inside it), so that it and the 1-worker pool share a thread and core.
        match pools.get(&1) {
            Some(one) => one.install(|| workload.run_timed(c.granularity, c.schedule, None)),
            None => workload.run_timed(c.granularity, c.schedule, None),
        }
    };
    if !emitter.send(SweepEvent::Prepared) {
        return end(None);
    }
    // Show "warming up" (nothing is timed yet).
    wake_between_runs(true);
    let mut rng = SplitMix64::new(plan.shuffle_seed ^ 0x3a3a_3a3a);
    for _ in 0..plan.warmup {
        let mut round: Vec<usize> = (0..configs.len()).collect();
        rng.shuffle(&mut round);
        for c in round {
            if cancel.load(Ordering::Relaxed) {
                return end(None);
            }
            if let Err(e) = run(&configs[c]) {
                return end(Some(e.into()));
            }
        }
    }
    if !emitter.send(SweepEvent::WarmedUp) {
        return end(None);
    }
    wake_between_runs(true);
    for (config, rep) in plan.run_order() {
        if cancel.load(Ordering::Relaxed) {
            return end(None);
        }
        let meter = if workload.runs_child_processes() {
            OtherCpuMeter::start_counting_children()
        } else {
            OtherCpuMeter::start()
        };
        let outcome = run(&configs[config]);
        let other_cpu = meter.stop();
        match outcome {
            Ok((nanos, trace)) => {
                completed.fetch_add(1, Ordering::Relaxed);
                let m = Measurement {
                    config,
                    rep,
                    nanos,
                    trace,
                    other_cpu,
                };
                if !emitter.send(SweepEvent::Measured(m)) {
                    // Nobody is listening (the send cancelled the job).
                    return end(None);
                }
                wake_between_runs(false);
            }
            Err(e) => return end(Some(e.into())),
        }
    }
    end(None)
}

/// Small plans and workloads shared by the engine's sweep tests.
#[cfg(test)]
pub(crate) mod tests_support {
    use super::*;
    use crate::engine::mandelbrot::kernel::Kernel;
    use crate::engine::mandelbrot::tiling::Tiling;
    use crate::engine::mandelbrot::view::View;
    use crate::engine::workloads::Mandelbrot;

    pub(crate) fn tiny_plan() -> SweepPlan {
        SweepPlan {
            workers: vec![2],
            granularities: vec![
                Granularity::Tiles(Tiling::Square { tile_px: 8 }),
                Granularity::Tiles(Tiling::Bands { band_rows: 1 }),
            ],
            schedule: Schedule::default(),
            reps: 3,
            warmup: 1,
            include_sequential: true,
            shuffle_seed: 7,
            placement: Default::default(),
        }
    }

    pub(crate) fn tiny_workload() -> Arc<dyn Workload> {
        Arc::new(Mandelbrot::new(
            View::new((-0.75, 0.0), 3.0, 32, 24, 50).expect("view"),
            Kernel::Reference,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::tests_support::{tiny_plan, tiny_workload};
    use super::*;

    #[test]
    fn configs_always_include_the_one_worker_baseline() {
        let plan = tiny_plan();
        let configs = plan.configs();
        // Per granularity: sequential, 1 worker, 2 workers.
        assert_eq!(configs.len(), 6);
        assert_eq!(configs[0].schedule, Schedule::Sequential);
        assert_eq!(configs[1].workers, 1);
        assert_eq!(configs[2].workers, 2);
        assert_eq!(plan.total_runs(), 18);
    }

    #[test]
    fn run_order_interleaves_every_config_per_repetition() {
        let plan = tiny_plan();
        let order = plan.run_order();
        assert_eq!(order.len(), 18);
        for rep in 0..3 {
            let mut round: Vec<usize> = order[rep * 6..(rep + 1) * 6]
                .iter()
                .map(|&(c, r)| {
                    assert_eq!(r, rep as u32);
                    c
                })
                .collect();
            round.sort_unstable();
            assert_eq!(round, (0..6).collect::<Vec<_>>());
        }
        assert_eq!(order, plan.run_order(), "fixed seed, same order");
    }

    #[test]
    fn default_workers_show_oversubscription() {
        assert_eq!(default_worker_counts(2), vec![1, 2, 4, 8]);
        assert_eq!(default_worker_counts(4), vec![1, 2, 3, 4, 8, 16]);
        assert_eq!(default_worker_counts(1), vec![1, 2, 4]);
    }

    #[test]
    fn the_window_is_woken_between_runs_only_when_due() {
        use std::sync::atomic::AtomicUsize;
        let wakes_with = |every: Duration| {
            let count = Arc::new(AtomicUsize::new(0));
            let c = count.clone();
            let wake = ProgressWake {
                notify: Arc::new(move || {
                    c.fetch_add(1, Ordering::Relaxed);
                }),
                every,
                settle: QuietStart::default(),
            };
            let job = SweepJob::start(tiny_workload(), tiny_plan(), Some(wake)).expect("start");
            while job.next_blocking().is_some() {}
            count.load(Ordering::Relaxed)
        };
        // Due every time: prepared, warmed up, after each of the 18 runs, at the end.
        assert_eq!(wakes_with(Duration::ZERO), 2 + 18 + 1);
        // Never due again: prepared, warmed up and the end only.
        assert_eq!(wakes_with(Duration::from_secs(3600)), 3);
    }

    #[test]
    fn bad_plans_are_refused() {
        let mut p = tiny_plan();
        p.reps = 0;
        assert!(p.validate().is_err());
        let mut p = tiny_plan();
        p.workers = vec![0];
        assert!(p.validate().is_err());
        let mut p = tiny_plan();
        p.granularities.clear();
        assert!(p.validate().is_err());
        let mut p = tiny_plan();
        p.schedule = Schedule::Sequential;
        assert!(p.validate().is_err());
        assert!(tiny_plan().validate().is_ok());
    }

    #[test]
    fn job_streams_every_measurement_then_finishes() {
        let plan = tiny_plan();
        let job = SweepJob::start(tiny_workload(), plan.clone(), None).expect("start");
        let mut measured = vec![0; job.configs.len()];
        let mut end = None;
        while let Some(ev) = job.next_blocking() {
            match ev {
                SweepEvent::Measured(m) => {
                    assert!(!m.trace.records.is_empty());
                    measured[m.config] += 1;
                }
                SweepEvent::Finished(e) => end = Some(e),
                SweepEvent::Prepared | SweepEvent::WarmedUp => {}
            }
        }
        let end = end.expect("finished");
        assert!(end.error.is_none(), "{:?}", end.error);
        assert!(!end.cancelled);
        assert_eq!(end.completed, 18);
        assert!(measured.iter().all(|&n| n == 3));
    }

    /// Child processes that spin on a core until dropped.
    struct Burners(Vec<std::process::Child>);

    impl Drop for Burners {
        fn drop(&mut self) {
            for c in &mut self.0 {
                let _ = c.kill();
                let _ = c.wait();
            }
        }
    }

    #[test]
    fn a_cpu_burning_process_beside_a_sweep_sets_the_busy_flag() {
        use crate::engine::exec::other_cpu::CpuCounters;
        use crate::engine::mandelbrot::kernel::Kernel;
        use crate::engine::mandelbrot::view::View;
        use crate::engine::speedup::results::SweepResults;
        use crate::engine::workloads::Mandelbrot;
        assert!(
            CpuCounters::read(crate::engine::exec::other_cpu::current_tid()).is_some(),
            "parlab measures other processes from /proc"
        );
        let burners = Burners(
            (0..2)
                .map(|_| {
                    std::process::Command::new("sh")
                        .args(["-c", "while :; do :; done"])
                        .spawn()
                        .expect("start a CPU burner")
                })
                .collect(),
        );
        let workload: Arc<dyn Workload> = Arc::new(Mandelbrot::new(
            View::new((-0.75, 0.0), 3.0, 160, 120, 400).expect("view"),
            Kernel::Reference,
        ));
        let mut plan = tiny_plan();
        plan.granularities.truncate(1);
        plan.reps = 12;
        plan.warmup = 0;
        let mut results = SweepResults::new(plan.clone(), &*workload, 2, 2);
        let job = SweepJob::start(workload, plan, None).expect("start");
        while let Some(ev) = job.next_blocking() {
            if let SweepEvent::Measured(m) = ev {
                assert!(m.other_cpu.is_some(), "every timed run is watched");
                results.add(m);
            }
        }
        drop(burners);
        assert_eq!(results.other_cpu.windows, 36);
        assert!(
            results.machine_busy(),
            "two spinning processes went unnoticed: {:?}",
            results.other_cpu
        );
        assert!(results.busy_tag().contains("machine busy"));
        let report =
            crate::engine::speedup::report::SweepReport::build(&results, &*tiny_workload(), true);
        assert!(report.meta.machine_busy);
        assert!(report.meta.warning.is_some());
    }

    #[test]
    fn cancel_stops_the_job() {
        let mut plan = tiny_plan();
        plan.reps = 1000;
        let job = SweepJob::start(tiny_workload(), plan, None).expect("start");
        job.cancel();
        let mut end = None;
        while let Some(ev) = job.next_blocking() {
            if let SweepEvent::Finished(e) = ev {
                end = Some(e);
            }
        }
        let end = end.expect("finished");
        assert!(end.cancelled);
        assert!(end.completed < 6000);
    }
}
