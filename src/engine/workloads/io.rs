//! I/O-bound tasks (from the course's exercises): each task waits, as for a download or
//! a disk read, with a little CPU work before and after (building the request,
//! parsing the reply). The wait uses no core, so with more workers than cores
//! the waits overlap and the speedup keeps rising past the core count, unlike
//! CPU-bound work. In GIL mode only the CPU parts take the lock.

use super::{Mismatch, TaskWorkload, WorkloadError};
use crate::engine::exec::gil::TaskEnv;
use std::time::Duration;

/// Longest accepted wait per task.
pub const MAX_WAIT_MS: u64 = 10_000;
/// Most tasks accepted.
pub const MAX_TASKS: usize = 100_000;

#[derive(Clone, Debug, PartialEq)]
pub struct IoBound {
    /// Requests in all (one wait each).
    pub num_tasks: usize,
    pub wait_ms: u64,
    /// Requests per task (1: each request is its own task); the speedup
    /// lab's granularity for this workload.
    pub per_task: usize,
    /// Rounds of hashing in each of the two CPU parts of a task.
    pub compute_rounds: u32,
}

impl IoBound {
    pub fn new(num_tasks: usize, wait_ms: u64, compute_rounds: u32) -> Result<Self, WorkloadError> {
        if !(1..=MAX_TASKS).contains(&num_tasks) {
            return Err(WorkloadError::IoTasks {
                got: num_tasks,
                max: MAX_TASKS,
            });
        }
        if wait_ms > MAX_WAIT_MS {
            return Err(WorkloadError::IoWait {
                got: wait_ms,
                max: MAX_WAIT_MS,
            });
        }
        Ok(IoBound {
            num_tasks,
            wait_ms,
            per_task: 1,
            compute_rounds,
        })
    }

    /// The same requests grouped `per_task` to a task (1..=requests).
    pub fn with_per_task(mut self, per_task: usize) -> Result<Self, WorkloadError> {
        if !(1..=self.num_tasks).contains(&per_task) {
            return Err(WorkloadError::IoPerTask {
                got: per_task,
                max: self.num_tasks,
            });
        }
        self.per_task = per_task;
        Ok(self)
    }

    fn request(&self, i: usize, env: &TaskEnv, task: usize) -> u64 {
        let request = env.compute(task, || Self::reply(i, self.compute_rounds));
        env.wait(Duration::from_millis(self.wait_ms));
        env.compute(task, || Self::reply(request as usize, self.compute_rounds))
    }

    /// The "reply" for request `i`: a deterministic hash, `rounds` deep.
    pub fn reply(i: usize, rounds: u32) -> u64 {
        let mut h = i as u64 ^ 0x5151_5151;
        for _ in 0..rounds {
            h = h.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(17) ^ 0xA5A5;
        }
        h
    }
}

impl TaskWorkload for IoBound {
    /// The replies of the task's requests, in request order.
    type Output = Vec<u64>;
    /// One reply per request, in request order.
    type Result = Vec<u64>;

    fn name(&self) -> &'static str {
        "io"
    }
    fn task_label(&self) -> &'static str {
        "request"
    }
    fn work_unit(&self) -> &'static str {
        "µs waited"
    }
    fn num_tasks(&self) -> usize {
        self.num_tasks.div_ceil(self.per_task.max(1))
    }
    fn run_task(&self, i: usize, env: &TaskEnv) -> (Vec<u64>, u64) {
        let per_task = self.per_task.max(1);
        let requests = (i * per_task)..((i + 1) * per_task).min(self.num_tasks);
        let waited_micros = self.wait_ms * 1000 * requests.len() as u64;
        let replies = requests.map(|r| self.request(r, env, i)).collect();
        (replies, waited_micros)
    }
    fn combine(&self, outputs: Vec<Vec<u64>>) -> Vec<u64> {
        outputs.into_iter().flatten().collect()
    }
    /// The replies computed one after another; the waits are left out since
    /// they do not change the answer (the sequential schedule times them).
    fn serial(&self) -> Vec<u64> {
        (0..self.num_tasks)
            .map(|i| {
                Self::reply(
                    Self::reply(i, self.compute_rounds) as usize,
                    self.compute_rounds,
                )
            })
            .collect()
    }
    fn results_agree(&self, parallel: &Vec<u64>, serial: &Vec<u64>) -> Result<(), Mismatch> {
        if parallel == serial {
            Ok(())
        } else {
            let first = parallel.iter().zip(serial).position(|(a, b)| a != b);
            Err(Mismatch::Io { first })
        }
    }
    fn summarise(&self, r: &Vec<u64>) -> String {
        format!(
            "{} requests, each waiting {} ms (serial wait {} ms)",
            r.len(),
            self.wait_ms,
            self.wait_ms * self.num_tasks as u64
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::exec::gil::disjoint;
    use crate::engine::exec::pool::build_pool;
    use crate::engine::exec::schedule::Schedule;
    use crate::engine::workloads::run;
    use crate::engine::workloads::test_util::check_all_schedules;
    use std::sync::atomic::AtomicBool;

    #[test]
    fn parallel_equals_serial_for_every_schedule() {
        check_all_schedules(&IoBound::new(12, 1, 100).expect("valid"));
        let batched = IoBound::new(11, 1, 100)
            .and_then(|w| w.with_per_task(3))
            .expect("valid");
        assert_eq!(batched.num_tasks(), 4);
        check_all_schedules(&batched);
        assert!(
            IoBound::new(4, 1, 1)
                .and_then(|w| w.with_per_task(5))
                .is_err()
        );
    }

    #[test]
    fn gil_locks_only_the_cpu_parts() {
        let w = IoBound::new(8, 2, 5_000).expect("valid");
        let pool = build_pool(4).expect("pool");
        let r = run(
            &w,
            Schedule::Dynamic { chunk: 1 },
            Some(&pool),
            &AtomicBool::new(false),
            true,
        )
        .expect("runs");
        let held = r.gil.expect("gil log");
        // Two CPU parts per task, each under the lock, never overlapping.
        assert_eq!(held.len(), 16);
        let spans: Vec<_> = held.iter().map(|h| (h.start_nanos, h.end_nanos)).collect();
        assert!(disjoint(&spans));
        // Each task's interval covers its wait: at least wait_ms long.
        for rec in &r.trace.records {
            assert!(rec.duration_nanos() >= 2_000_000, "{rec:?}");
        }
        assert_eq!(r.result.expect("done"), w.serial());
    }

    #[test]
    fn bad_parameters_are_refused() {
        assert!(IoBound::new(0, 1, 1).is_err());
        assert!(IoBound::new(1, MAX_WAIT_MS + 1, 1).is_err());
    }
}
