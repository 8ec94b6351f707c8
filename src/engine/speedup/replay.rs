//! Virtual-worker replay: what would the measured tasks take on P workers?
//!
//! The measured duration of every task (in task order) is handed to P virtual
//! workers by the rule of a [`Schedule`], and the makespan (when the last
//! worker finishes) gives a *predicted* speedup. The replay assumes task
//! durations do not change with P (no memory-bandwidth contention, no
//! scheduling overhead, no turbo changes), so it is an optimistic prediction
//! and is always labelled as one.
//!
//! Work stealing is approximated as greedy list scheduling in task order
//! (dynamic with chunk 1): rayon's real splitting order is not modelled.

use crate::engine::exec::schedule::Schedule;
use crate::engine::theory::brent_time_bound;
use serde::{Deserialize, Serialize};
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Largest virtual pool the window and exports predict for.
pub const MAX_VIRTUAL_WORKERS: usize = 64;

/// What the replay says about one P.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    pub workers: usize,
    pub makespan_nanos: u64,
    /// Sum of durations / makespan.
    pub speedup: f64,
    /// Speedup implied by Brent's bound T1 / (T1/P + T∞), T∞ = longest task.
    pub brent_speedup: f64,
}

/// Makespan of `durations_nanos` (task i takes `durations_nanos[i]`) on
/// `workers` virtual workers under `schedule`.
pub fn makespan(durations_nanos: &[u64], schedule: Schedule, workers: usize) -> u64 {
    let n = durations_nanos.len();
    let p = workers.max(1);
    match schedule {
        Schedule::Sequential => durations_nanos.iter().sum(),
        Schedule::StaticBlock => (0..p)
            .map(|w| durations_nanos[w * n / p..(w + 1) * n / p].iter().sum())
            .max()
            .unwrap_or(0),
        Schedule::StaticCyclic => (0..p)
            .map(|w| durations_nanos.iter().skip(w).step_by(p).sum())
            .max()
            .unwrap_or(0),
        Schedule::Dynamic { chunk } => list_schedule(durations_nanos, p, |_| chunk.max(1) as usize),
        Schedule::Guided { min_chunk } => list_schedule(durations_nanos, p, |remaining| {
            remaining.div_ceil(p).max(min_chunk.max(1) as usize)
        }),
        Schedule::WorkStealing => list_schedule(durations_nanos, p, |_| 1),
    }
}

/// Greedy list scheduling in task order: the next chunk (of the size
/// `chunk_for(remaining)` says) goes to the worker that is free first
/// (lowest id on a tie), as a shared counter hands out work.
fn list_schedule(durations: &[u64], p: usize, chunk_for: impl Fn(usize) -> usize) -> u64 {
    let mut free_at: BinaryHeap<Reverse<(u64, usize)>> = (0..p).map(|w| Reverse((0, w))).collect();
    let mut next = 0;
    while next < durations.len() {
        let chunk = chunk_for(durations.len() - next).max(1);
        let hi = (next + chunk).min(durations.len());
        let Some(Reverse((t, w))) = free_at.pop() else {
            break;
        };
        let busy: u64 = durations[next..hi].iter().sum();
        free_at.push(Reverse((t + busy, w)));
        next = hi;
    }
    free_at
        .into_iter()
        .map(|Reverse((t, _))| t)
        .max()
        .unwrap_or(0)
}

/// Predicted speedup for every P in `1..=max_workers`.
pub fn predict(durations_nanos: &[u64], schedule: Schedule, max_workers: usize) -> Vec<Prediction> {
    let work: u64 = durations_nanos.iter().sum();
    let span = durations_nanos.iter().copied().max().unwrap_or(0);
    (1..=max_workers.max(1))
        .map(|p| {
            let m = makespan(durations_nanos, schedule, p);
            let bound = brent_time_bound(work as f64, span as f64, p as f64);
            Prediction {
                workers: p,
                makespan_nanos: m,
                speedup: if m > 0 { work as f64 / m as f64 } else { 1.0 },
                brent_speedup: if bound > 0.0 {
                    work as f64 / bound
                } else {
                    1.0
                },
            }
        })
        .collect()
}

/// Task durations of a trace in task order (the replay's input).
pub fn durations_in_task_order(trace: &crate::engine::exec::trace::Trace) -> Vec<u64> {
    let mut records = trace.records.clone();
    records.sort_by_key(|r| r.task);
    records.iter().map(|r| r.duration_nanos()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Task costs 8 1 1 1 1 1 1 2 (sum 16, longest 8).
    const TASKS: [u64; 8] = [8, 1, 1, 1, 1, 1, 1, 2];

    #[test]
    fn known_makespans_by_hand() {
        let m = |s, p| makespan(&TASKS, s, p);
        assert_eq!(m(Schedule::Sequential, 4), 16);
        // Blocks of 4: [8 1 1 1] = 11, [1 1 1 2] = 5.
        assert_eq!(m(Schedule::StaticBlock, 2), 11);
        // Cyclic on 2: even tasks 8+1+1+1 = 11, odd 1+1+1+2 = 5.
        assert_eq!(m(Schedule::StaticCyclic, 2), 11);
        // Cyclic on 3: w0 8+1+1 = 10, w1 1+1+2 = 4, w2 1+1 = 2.
        assert_eq!(m(Schedule::StaticCyclic, 3), 10);
        // Dynamic 1 on 2: w0 takes 8; w1 takes the other seven (8): makespan 8.
        assert_eq!(m(Schedule::Dynamic { chunk: 1 }, 2), 8);
        // Dynamic 3 on 2: chunks [8 1 1]=10 → w0, [1 1 1]=3 → w1 (t=3),
        // [1 2]=3 → w1 (t=6): makespan 10.
        assert_eq!(m(Schedule::Dynamic { chunk: 3 }, 2), 10);
        // Guided on 2: chunk ceil(8/2)=4 [8 1 1 1]=11 → w0; ceil(4/2)=2 [1 1] → w1 (2);
        // ceil(2/2)=1 [1] → w1 (3); [2] → w1 (5): makespan 11.
        assert_eq!(m(Schedule::Guided { min_chunk: 1 }, 2), 11);
        // Work stealing is replayed as dynamic 1.
        assert_eq!(m(Schedule::WorkStealing, 2), 8);
        // More workers than tasks: the longest task.
        for s in Schedule::ALL.into_iter().skip(1) {
            assert_eq!(m(s, 64), 8, "{s}");
        }
    }

    #[test]
    fn static_block_with_uneven_split() {
        // 5 tasks on 2: blocks [0,2) and [2,5).
        assert_eq!(makespan(&[5, 5, 1, 1, 1], Schedule::StaticBlock, 2), 10);
        assert_eq!(makespan(&[], Schedule::StaticBlock, 3), 0);
        assert_eq!(makespan(&[], Schedule::Dynamic { chunk: 1 }, 3), 0);
    }

    #[test]
    fn predictions_obey_brent_for_greedy_schedules() {
        let tasks: Vec<u64> = (0..200).map(|i| (i * 37 % 101) as u64 + 1).collect();
        let preds = predict(&tasks, Schedule::Dynamic { chunk: 1 }, MAX_VIRTUAL_WORKERS);
        assert_eq!(preds.len(), MAX_VIRTUAL_WORKERS);
        assert!((preds[0].speedup - 1.0).abs() < 1e-12);
        for p in &preds {
            // Graham: greedy list scheduling is within T1/P + T∞.
            assert!(p.speedup >= p.brent_speedup - 1e-12, "{p:?}");
            assert!(p.speedup <= p.workers as f64 + 1e-12, "{p:?}");
        }
    }

    #[test]
    fn durations_come_back_in_task_order() {
        use crate::engine::exec::trace::{TaskRecord, Trace};
        let rec = |task, start, end| TaskRecord {
            task,
            worker: 0,
            start_nanos: start,
            end_nanos: end,
            work: 0,
            cpu: None,
        };
        let trace = Trace {
            num_workers: 1,
            wall_nanos: 10,
            records: vec![rec(1, 0, 3), rec(0, 3, 10)],
        };
        assert_eq!(durations_in_task_order(&trace), vec![7, 3]);
    }
}
