//! Schedulers: the policies that hand tasks to workers, all over the same task list.
//!
//! Each runs `num_tasks` tasks through a closure and records, for every task,
//! the worker that ran it and when ([`TaskRecord`]). Cancellation is checked
//! before every task, so a cancelled run stops within one task per worker.

use crate::engine::exec::placement::current_cpu;
use crate::engine::exec::trace::TaskRecord;
use crate::engine::exec::{ExecError, ScheduleError};
use rayon::ThreadPool;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

/// How tasks are assigned to workers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Schedule {
    /// One thread, tasks in order, no pool: the baseline.
    Sequential,
    /// Worker w runs the w-th contiguous equal share (OpenMP `schedule(static)`).
    StaticBlock,
    /// Task i goes to worker i mod N (OpenMP `schedule(static, 1)`).
    StaticCyclic,
    /// Workers take the next `chunk` tasks from a shared atomic counter.
    Dynamic { chunk: u32 },
    /// Like dynamic, with chunks of remaining/N shrinking to `min_chunk`.
    Guided { min_chunk: u32 },
    /// rayon's own `par_iter`: recursive splitting and work stealing.
    WorkStealing,
}

impl Default for Schedule {
    fn default() -> Self {
        Schedule::Dynamic { chunk: 1 }
    }
}

impl Schedule {
    /// One of each, with default parameters, in teaching order.
    pub const ALL: [Schedule; 6] = [
        Schedule::Sequential,
        Schedule::StaticBlock,
        Schedule::StaticCyclic,
        Schedule::Dynamic { chunk: 1 },
        Schedule::Guided { min_chunk: 1 },
        Schedule::WorkStealing,
    ];

    pub fn name(&self) -> &'static str {
        match self {
            Schedule::Sequential => "sequential",
            Schedule::StaticBlock => "static-block",
            Schedule::StaticCyclic => "static-cyclic",
            Schedule::Dynamic { .. } => "dynamic",
            Schedule::Guided { .. } => "guided",
            Schedule::WorkStealing => "work-stealing",
        }
    }

    /// One line on what the policy does, for tooltips and help.
    pub fn describe(&self) -> &'static str {
        match self {
            Schedule::Sequential => "one thread, tasks in order, no pool: the baseline",
            Schedule::StaticBlock => {
                "worker w gets the w-th contiguous equal share (OpenMP static)"
            }
            Schedule::StaticCyclic => "task i goes to worker i mod N (round robin)",
            Schedule::Dynamic { .. } => "workers take the next chunk from a shared atomic counter",
            Schedule::Guided { .. } => "dynamic, with chunks shrinking as work runs out",
            Schedule::WorkStealing => "rayon par_iter: split in halves, idle workers steal",
        }
    }

    /// Checks a schedule that came from elsewhere (a saved file) with the
    /// same rules as parsing it (a chunk size of 0 is refused).
    pub fn validate(&self) -> Result<Self, ScheduleError> {
        self.to_string().parse()
    }

    pub fn uses_pool(&self) -> bool {
        !matches!(self, Schedule::Sequential)
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Schedule::Dynamic { chunk } if *chunk != 1 => write!(f, "dynamic:{chunk}"),
            Schedule::Guided { min_chunk } if *min_chunk != 1 => write!(f, "guided:{min_chunk}"),
            s => f.write_str(s.name()),
        }
    }
}

impl std::str::FromStr for Schedule {
    type Err = ScheduleError;
    /// Parses a name from [`Schedule::ALL`]; `dynamic:K` and `guided:K` set the chunk.
    fn from_str(s: &str) -> Result<Self, ScheduleError> {
        let (name, arg) = match s.split_once(':') {
            Some((n, a)) => (n, Some(a)),
            None => (s, None),
        };
        let chunk = match arg {
            None => 1,
            Some(a) => match a.parse::<u32>() {
                Ok(k) if k >= 1 => k,
                _ => {
                    return Err(ScheduleError::Chunk {
                        input: s.to_string(),
                    });
                }
            },
        };
        let schedule = match name {
            "sequential" => Schedule::Sequential,
            "static-block" | "static" => Schedule::StaticBlock,
            "static-cyclic" | "cyclic" => Schedule::StaticCyclic,
            "dynamic" => Schedule::Dynamic { chunk },
            "guided" => Schedule::Guided { min_chunk: chunk },
            "work-stealing" | "rayon" => Schedule::WorkStealing,
            _ => {
                let names: Vec<_> = Schedule::ALL.iter().map(|s| s.name()).collect();
                return Err(ScheduleError::Unknown {
                    input: s.to_string(),
                    known: names.join(", "),
                });
            }
        };
        if arg.is_some() && !matches!(schedule, Schedule::Dynamic { .. } | Schedule::Guided { .. })
        {
            return Err(ScheduleError::NoChunk {
                name: name.to_string(),
            });
        }
        Ok(schedule)
    }
}

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub completed: usize,
    pub cancelled: bool,
}

/// Runs task `i` for every `i < num_tasks` under `schedule`.
///
/// `run(i)` returns the task's result and its work; `sink(record, result)` is
/// called on the worker right after each task. `pool` must be given for every
/// schedule but [`Schedule::Sequential`], which runs on the calling thread as
/// worker 0. Times are measured from `origin`.
pub fn execute<R, F, S>(
    schedule: Schedule,
    pool: Option<&ThreadPool>,
    num_tasks: usize,
    cancel: &AtomicBool,
    origin: Instant,
    run: F,
    sink: S,
) -> Result<Outcome, ExecError>
where
    F: Fn(usize) -> (R, u64) + Sync,
    S: Fn(TaskRecord, R) + Sync,
{
    let completed = AtomicUsize::new(0);
    let one = |i: usize, worker: usize| {
        let start_cpu = current_cpu();
        let start = origin.elapsed();
        let (result, work) = run(i);
        let end = origin.elapsed();
        sink(
            TaskRecord {
                task: i as u32,
                worker: worker as u32,
                start_nanos: start.as_nanos() as u64,
                end_nanos: end.as_nanos() as u64,
                work,
                cpu: start_cpu,
            },
            result,
        );
        completed.fetch_add(1, Ordering::Relaxed);
    };
    let cancelled = || cancel.load(Ordering::Relaxed);
    let worker_id = |fallback: usize| rayon::current_thread_index().unwrap_or(fallback);

    match (schedule, pool) {
        (Schedule::Sequential, _) => {
            for i in 0..num_tasks {
                if cancelled() {
                    break;
                }
                one(i, 0);
            }
        }
        (_, None) => return Err(ExecError::NoPool { schedule }),
        (Schedule::StaticBlock, Some(pool)) => {
            let n = pool.current_num_threads();
            pool.broadcast(|ctx| {
                let w = ctx.index();
                let (lo, hi) = (w * num_tasks / n, (w + 1) * num_tasks / n);
                for i in lo..hi {
                    if cancelled() {
                        break;
                    }
                    one(i, worker_id(w));
                }
            });
        }
        (Schedule::StaticCyclic, Some(pool)) => {
            let n = pool.current_num_threads();
            pool.broadcast(|ctx| {
                let w = ctx.index();
                for i in (w..num_tasks).step_by(n) {
                    if cancelled() {
                        break;
                    }
                    one(i, worker_id(w));
                }
            });
        }
        (Schedule::Dynamic { chunk }, Some(pool)) => {
            let chunk = chunk.max(1) as usize;
            let next = AtomicUsize::new(0);
            pool.broadcast(|ctx| {
                let w = worker_id(ctx.index());
                'claim: loop {
                    let lo = next.fetch_add(chunk, Ordering::Relaxed);
                    if lo >= num_tasks {
                        break;
                    }
                    for i in lo..(lo + chunk).min(num_tasks) {
                        if cancelled() {
                            break 'claim;
                        }
                        one(i, w);
                    }
                }
            });
        }
        (Schedule::Guided { min_chunk }, Some(pool)) => {
            let n = pool.current_num_threads();
            let min_chunk = min_chunk.max(1) as usize;
            let next = AtomicUsize::new(0);
            pool.broadcast(|ctx| {
                let w = worker_id(ctx.index());
                'claim: loop {
                    let mut lo = next.load(Ordering::Relaxed);
                    let hi = loop {
                        if lo >= num_tasks {
                            break 'claim;
                        }
                        let chunk = (num_tasks - lo).div_ceil(n).max(min_chunk);
                        let hi = (lo + chunk).min(num_tasks);
                        match next.compare_exchange_weak(
                            lo,
                            hi,
                            Ordering::Relaxed,
                            Ordering::Relaxed,
                        ) {
                            Ok(_) => break hi,
                            Err(seen) => lo = seen,
                        }
                    };
                    for i in lo..hi {
                        if cancelled() {
                            break 'claim;
                        }
                        one(i, w);
                    }
                }
            });
        }
        (Schedule::WorkStealing, Some(pool)) => {
            pool.install(|| {
                (0..num_tasks).into_par_iter().for_each(|i| {
                    if !cancelled() {
                        one(i, worker_id(0));
                    }
                });
            });
        }
    }
    let completed = completed.into_inner();
    Ok(Outcome {
        completed,
        cancelled: completed < num_tasks,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::exec::pool::build_pool;
    use std::sync::Mutex;

    fn run_all(schedule: Schedule, workers: usize, num_tasks: usize) -> Vec<TaskRecord> {
        let pool = build_pool(workers).expect("pool");
        let records = Mutex::new(Vec::new());
        let cancel = AtomicBool::new(false);
        let outcome = execute(
            schedule,
            Some(&pool),
            num_tasks,
            &cancel,
            Instant::now(),
            |i| (i * 2, i as u64),
            |r, result| {
                assert_eq!(result, r.task as usize * 2);
                records.lock().expect("lock").push(r);
            },
        )
        .expect("runs");
        assert_eq!(outcome.completed, num_tasks);
        records.into_inner().expect("lock")
    }

    #[test]
    fn every_schedule_runs_every_task_once() {
        for schedule in Schedule::ALL.into_iter().chain([
            Schedule::Dynamic { chunk: 3 },
            Schedule::Guided { min_chunk: 2 },
        ]) {
            for workers in [1, 2, 3, 7] {
                for num_tasks in [0, 1, 5, 100] {
                    let mut tasks: Vec<u32> = run_all(schedule, workers, num_tasks)
                        .iter()
                        .map(|r| {
                            assert!((r.worker as usize) < workers);
                            r.task
                        })
                        .collect();
                    tasks.sort_unstable();
                    assert_eq!(
                        tasks,
                        (0..num_tasks as u32).collect::<Vec<_>>(),
                        "{schedule}"
                    );
                }
            }
        }
    }

    #[test]
    fn static_schedules_place_tasks_by_rule() {
        for r in run_all(Schedule::StaticCyclic, 3, 30) {
            assert_eq!(r.worker, r.task % 3);
        }
        for r in run_all(Schedule::StaticBlock, 3, 30) {
            assert_eq!(r.worker, r.task / 10);
        }
    }

    #[test]
    fn cancelled_before_start_runs_nothing() {
        let pool = build_pool(2).expect("pool");
        let cancel = AtomicBool::new(true);
        for schedule in Schedule::ALL {
            let out = execute(
                schedule,
                Some(&pool),
                50,
                &cancel,
                Instant::now(),
                |_| ((), 0),
                |_, _| {},
            )
            .expect("runs");
            assert_eq!(out.completed, 0);
            assert!(out.cancelled);
        }
    }

    #[test]
    fn names_round_trip() {
        for s in Schedule::ALL
            .into_iter()
            .chain([Schedule::Dynamic { chunk: 4 }])
        {
            assert_eq!(s.to_string().parse::<Schedule>(), Ok(s));
        }
        assert!("fastest".parse::<Schedule>().is_err());
        assert!("dynamic:0".parse::<Schedule>().is_err());
        assert!("static-block:2".parse::<Schedule>().is_err());
    }

    #[test]
    fn parallel_needs_a_pool() {
        let cancel = AtomicBool::new(false);
        let r = execute(
            Schedule::WorkStealing,
            None,
            3,
            &cancel,
            Instant::now(),
            |_| ((), 0),
            |_, _| {},
        );
        assert!(r.is_err());
    }
}
