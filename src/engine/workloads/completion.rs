//! Order of completion (the course's HelloWorld): tasks are submitted in order
//! 0, 1, 2, … but finish in whatever order the workers get to them. Each task
//! does the same small piece of work ("Hello World from worker w") and takes a
//! completion ticket from a shared counter as its last act; repeated runs show
//! how often, and how far, the completion order departs from submission order.

use crate::engine::exec::schedule::{Schedule, execute};
use crate::engine::workloads::WorkloadError;
use rayon::ThreadPool;
use serde::{Deserialize, Serialize};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Instant;

/// One run: which task finished first, second, …
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CompletionRun {
    /// Task ids in completion order.
    pub completion_order: Vec<u32>,
    /// Worker that ran each task (by task id).
    pub worker_of_task: Vec<u32>,
    /// Tasks that did not finish in their submission position.
    pub displaced: u32,
    /// Pairs (i < j) where j finished before i.
    pub inversions: u64,
}

impl CompletionRun {
    pub fn in_order(&self) -> bool {
        self.displaced == 0
    }
}

/// Many runs and how often they were out of order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CompletionSummary {
    pub num_tasks: u32,
    pub num_workers: u32,
    pub schedule: String,
    pub runs: Vec<CompletionRun>,
}

impl CompletionSummary {
    pub fn runs_out_of_order(&self) -> usize {
        self.runs.iter().filter(|r| !r.in_order()).count()
    }
    pub fn mean_displaced(&self) -> f64 {
        let n = self.runs.len().max(1) as f64;
        self.runs
            .iter()
            .map(|r| f64::from(r.displaced))
            .sum::<f64>()
            / n
    }
    /// How many different completion orders were seen.
    pub fn distinct_orders(&self) -> usize {
        let mut orders: Vec<&Vec<u32>> = self.runs.iter().map(|r| &r.completion_order).collect();
        orders.sort();
        orders.dedup();
        orders.len()
    }
}

fn inversions(order: &[u32]) -> u64 {
    let mut count = 0;
    for (a, &x) in order.iter().enumerate() {
        count += order[a + 1..].iter().filter(|&&y| y < x).count() as u64;
    }
    count
}

/// The "hello" body: `rounds` of hashing, so each task does equal work.
fn hello(task: usize, rounds: u32) -> u64 {
    let mut h = task as u64 + 1;
    for _ in 0..rounds {
        h = h.wrapping_mul(0x2545_F491_4F6C_DD1D).rotate_left(7);
    }
    h
}

/// Runs `num_tasks` equal hello tasks `repeats` times under `schedule`.
pub fn completion_order(
    num_tasks: usize,
    rounds: u32,
    repeats: usize,
    schedule: Schedule,
    pool: &ThreadPool,
) -> Result<CompletionSummary, WorkloadError> {
    if !(1..=100_000).contains(&num_tasks) {
        return Err(WorkloadError::CompletionTasks {
            got: num_tasks,
            max: 100_000,
        });
    }
    let cancel = AtomicBool::new(false);
    let mut runs = Vec::with_capacity(repeats);
    for _ in 0..repeats {
        let ticket = AtomicU32::new(0);
        let finished = Mutex::new(vec![(0u32, 0u32); num_tasks]);
        execute(
            schedule,
            Some(pool),
            num_tasks,
            &cancel,
            Instant::now(),
            |i| {
                // black_box: the hash is otherwise unused and would be optimised away.
                let h = std::hint::black_box(hello(i, std::hint::black_box(rounds)));
                let seq = ticket.fetch_add(1, Ordering::SeqCst);
                ((seq, h), 1)
            },
            |rec, (seq, _)| {
                finished.lock().unwrap_or_else(|p| p.into_inner())[rec.task as usize] =
                    (seq, rec.worker);
            },
        )?;
        let finished = finished.into_inner().unwrap_or_else(|p| p.into_inner());
        let mut order: Vec<u32> = (0..num_tasks as u32).collect();
        order.sort_by_key(|&t| finished[t as usize].0);
        let displaced = order
            .iter()
            .enumerate()
            .filter(|(pos, t)| *pos as u32 != **t)
            .count() as u32;
        runs.push(CompletionRun {
            inversions: inversions(&order),
            displaced,
            worker_of_task: finished.iter().map(|f| f.1).collect(),
            completion_order: order,
        });
    }
    Ok(CompletionSummary {
        num_tasks: num_tasks as u32,
        num_workers: if schedule.uses_pool() {
            pool.current_num_threads() as u32
        } else {
            1
        },
        schedule: schedule.to_string(),
        runs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::exec::pool::build_pool;

    #[test]
    fn sequential_always_completes_in_order() {
        let pool = build_pool(2).expect("pool");
        let s = completion_order(10, 100, 5, Schedule::Sequential, &pool).expect("runs");
        assert_eq!(s.runs_out_of_order(), 0);
        assert_eq!(s.distinct_orders(), 1);
        assert_eq!(s.mean_displaced(), 0.0);
    }

    #[test]
    fn every_task_completes_exactly_once() {
        for workers in [1, 2, 3, 7] {
            let pool = build_pool(workers).expect("pool");
            for schedule in Schedule::ALL {
                let s = completion_order(20, 1000, 3, schedule, &pool).expect("runs");
                for r in &s.runs {
                    let mut seen = r.completion_order.clone();
                    seen.sort_unstable();
                    assert_eq!(seen, (0..20).collect::<Vec<_>>());
                    assert_eq!(r.in_order(), r.inversions == 0);
                }
            }
        }
    }

    #[test]
    fn one_worker_in_order_for_index_order_schedules() {
        // With one worker, the claim-order schedules run tasks in submission order.
        let pool = build_pool(1).expect("pool");
        for schedule in [Schedule::StaticBlock, Schedule::Dynamic { chunk: 1 }] {
            let s = completion_order(15, 10, 3, schedule, &pool).expect("runs");
            assert_eq!(s.runs_out_of_order(), 0, "{schedule}");
        }
    }

    #[test]
    fn inversion_count_by_hand() {
        assert_eq!(inversions(&[0, 1, 2]), 0);
        assert_eq!(inversions(&[2, 1, 0]), 3);
        assert_eq!(inversions(&[1, 0, 2]), 1);
    }
}
