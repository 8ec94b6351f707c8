//! Result collection (the course's exercises): three ways to bring the
//! tasks' results back, timed on the same workload.
//!
//! * [`Collector::Ordered`]: `pool.map` style: rayon's indexed `collect`
//!   writes each result into its slot, so the results come back in task order
//!   with no lock ("collecting results: easy to control").
//! * [`Collector::SharedMutex`]: every task pushes `(index, output)` into one
//!   `Vec` behind a `Mutex` (the shared-memory way, with its lock); the order
//!   is the completion order, so the results are sorted afterwards.
//! * [`Collector::Channel`]: every task sends `(index, output)` down an mpsc
//!   channel, the Queue of the seeds; drained after the join and sorted.
//!
//! After sorting all three agree with the serial result exactly (they feed the
//! same `combine`).

use super::{Mismatch, TaskWorkload};
use crate::engine::exec::gil::TaskEnv;
use rayon::ThreadPool;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::Instant;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Collector {
    Ordered,
    SharedMutex,
    Channel,
}

impl Collector {
    pub const ALL: [Collector; 3] = [
        Collector::Ordered,
        Collector::SharedMutex,
        Collector::Channel,
    ];

    pub fn name(&self) -> &'static str {
        match self {
            Collector::Ordered => "ordered collect",
            Collector::SharedMutex => "shared Vec behind a Mutex",
            Collector::Channel => "mpsc channel (Queue)",
        }
    }
}

/// One timed collection.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CollectionRun {
    pub method: Collector,
    /// From the first task's start to the sorted outputs.
    pub wall_nanos: u64,
    /// Σ time tasks spent handing results over (lock + push, or send).
    pub handoff_nanos: u64,
    /// Draining the channel and sorting by task index, after the join.
    pub reorder_nanos: u64,
    /// How many results arrived out of task order before sorting.
    pub out_of_order: u32,
    /// `Ok` when the combined result equals the serial one.
    pub check: Result<(), Mismatch>,
}

/// Counts positions whose task index is not the position.
fn displaced(indices: impl Iterator<Item = usize>) -> u32 {
    indices.enumerate().filter(|(pos, i)| pos != i).count() as u32
}

/// Runs every task of `w` in `pool`, collecting with `method`.
pub fn collect_with<W: TaskWorkload>(
    w: &W,
    method: Collector,
    pool: &ThreadPool,
    serial: &W::Result,
) -> CollectionRun {
    let n = w.num_tasks();
    let handoff = AtomicU64::new(0);
    let add_handoff = |since: Instant| {
        handoff.fetch_add(since.elapsed().as_nanos() as u64, Ordering::Relaxed);
    };
    let start = Instant::now();
    let (outputs, reorder_nanos, out_of_order) = match method {
        Collector::Ordered => {
            let outs: Vec<W::Output> = pool.install(|| {
                (0..n)
                    .into_par_iter()
                    .map(|i| w.run_task(i, &TaskEnv::FREE).0)
                    .collect()
            });
            (outs, 0, 0)
        }
        Collector::SharedMutex => {
            let shared = Mutex::new(Vec::with_capacity(n));
            pool.install(|| {
                (0..n).into_par_iter().for_each(|i| {
                    let out = w.run_task(i, &TaskEnv::FREE).0;
                    let t = Instant::now();
                    shared
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push((i, out));
                    add_handoff(t);
                });
            });
            let t = Instant::now();
            let mut got = shared.into_inner().unwrap_or_else(|p| p.into_inner());
            let late = displaced(got.iter().map(|(i, _)| *i));
            got.sort_by_key(|(i, _)| *i);
            let outs = got.into_iter().map(|(_, o)| o).collect();
            (outs, t.elapsed().as_nanos() as u64, late)
        }
        Collector::Channel => {
            let (tx, rx) = mpsc::channel();
            pool.install(|| {
                (0..n).into_par_iter().for_each(|i| {
                    let out = w.run_task(i, &TaskEnv::FREE).0;
                    let t = Instant::now();
                    // The receiver outlives the loop: send cannot fail.
                    let _ = tx.send((i, out));
                    add_handoff(t);
                });
            });
            drop(tx);
            let t = Instant::now();
            let mut got: Vec<(usize, W::Output)> = rx.iter().collect();
            let late = displaced(got.iter().map(|(i, _)| *i));
            got.sort_by_key(|(i, _)| *i);
            let outs = got.into_iter().map(|(_, o)| o).collect();
            (outs, t.elapsed().as_nanos() as u64, late)
        }
    };
    let wall_nanos = start.elapsed().as_nanos() as u64;
    let check = if outputs.len() == n {
        w.results_agree(&w.combine(outputs), serial)
    } else {
        Err(Mismatch::Missing {
            arrived: outputs.len(),
            expected: n,
        })
    };
    CollectionRun {
        method,
        wall_nanos,
        handoff_nanos: handoff.into_inner(),
        reorder_nanos,
        out_of_order,
        check,
    }
}

/// All three methods on `w`, `repeats` times each (interleaved, so machine
/// load drifts affect all three alike).
pub fn compare<W: TaskWorkload>(
    w: &W,
    pool: &ThreadPool,
    repeats: usize,
    serial: &W::Result,
) -> Vec<CollectionRun> {
    let mut runs = Vec::new();
    for _ in 0..repeats.max(1) {
        for m in Collector::ALL {
            runs.push(collect_with(w, m, pool, serial));
        }
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::exec::pool::build_pool;
    use crate::engine::workloads::primes::{Primes, Trial};

    #[test]
    fn all_methods_agree_with_serial() {
        let w = Primes::new(10_000_000, 200, 5, Trial::Sqrt).expect("valid");
        for workers in [1, 2, 3, 7] {
            let pool = build_pool(workers).expect("pool");
            let runs = compare(&w, &pool, 2, &w.serial());
            assert_eq!(runs.len(), 6);
            for r in runs {
                assert_eq!(r.check, Ok(()), "{:?} at {workers}", r.method);
                if r.method == Collector::Ordered {
                    assert_eq!(r.out_of_order, 0);
                    assert_eq!(r.handoff_nanos, 0);
                }
            }
        }
    }

    #[test]
    fn displaced_counts_positions() {
        assert_eq!(displaced([0, 1, 2].into_iter()), 0);
        assert_eq!(displaced([1, 0, 2].into_iter()), 2);
    }
}
