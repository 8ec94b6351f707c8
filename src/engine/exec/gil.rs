//! GIL mode: one global lock that a task must hold while it computes, as every
//! CPython thread must hold the Global Interpreter Lock to run Python code.
//!
//! Tasks compute through [`TaskEnv::compute`] and wait for I/O through
//! [`TaskEnv::wait`]. Without a [`Gil`] both simply run. With one, `compute`
//! holds the lock for the whole closure and records the interval it held it
//! (timestamps taken *inside* the critical section, so two held intervals can
//! never overlap: the next holder reads the clock only after the previous one
//! read its end time and released the lock, and the monotonic clock is shared
//! by all cores); `wait` sleeps with the lock released, so I/O still overlaps,
//! exactly as `time.sleep` or a socket read releases the GIL in CPython.
//!
//! Simplification, stated: CPython also forces a holder to drop the GIL every
//! `sys.getswitchinterval()` (5 ms) so threads interleave; here a compute
//! section holds it to the end. Total throughput is the same (one thread runs
//! Python code at a time); only the interleaving differs.

use serde::{Deserialize, Serialize};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Why Python's `multiprocessing` exists, for the GIL toggle's help text.
pub const WHY_MULTIPROCESSING: &str = "CPython threads share one Global Interpreter Lock: only the \
thread holding it runs Python code, so CPU-bound threads take turns and their speedup stays near 1 \
(the bars in the timeline never overlap). A thread releases the lock while it waits for I/O, so \
I/O-bound threads still overlap. multiprocessing sidesteps the lock by starting separate processes, \
each with its own interpreter and its own GIL, at the price of slower start-up and of copying \
(pickling) arguments and results between processes.";

/// One interval during which a task held the GIL. Times are nanoseconds since
/// the run's origin, like [`crate::engine::exec::trace::TaskRecord`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldInterval {
    pub task: u32,
    pub worker: u32,
    pub start_nanos: u64,
    pub end_nanos: u64,
    /// How long the task waited for the lock before this interval.
    pub waited_nanos: u64,
}

/// The global lock, with the log of who held it when.
#[derive(Debug)]
pub struct Gil {
    origin: Instant,
    /// The lock itself guards the log of held intervals: whoever holds the GIL
    /// appends to it without a second lock.
    held: Mutex<Vec<HeldInterval>>,
}

impl Gil {
    /// A GIL whose timestamps count from `origin` (use the run's origin).
    pub fn new(origin: Instant) -> Self {
        Gil {
            origin,
            held: Mutex::new(Vec::new()),
        }
    }

    fn nanos(&self) -> u64 {
        self.origin.elapsed().as_nanos() as u64
    }

    /// Runs `f` holding the lock; records the held interval for `task`.
    pub fn hold<T>(&self, task: usize, f: impl FnOnce() -> T) -> T {
        let asked = self.nanos();
        // A panic in another task poisons the lock; the log is still sound.
        let mut log = self.held.lock().unwrap_or_else(|p| p.into_inner());
        let start = self.nanos();
        let out = f();
        let end = self.nanos();
        log.push(HeldInterval {
            task: task as u32,
            worker: rayon::current_thread_index().unwrap_or(0) as u32,
            start_nanos: start,
            end_nanos: end,
            waited_nanos: start.saturating_sub(asked),
        });
        out
    }

    /// Every held interval so far, in the order the lock was taken.
    pub fn intervals(&self) -> Vec<HeldInterval> {
        self.held.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Consumes the GIL, returning its log.
    pub fn into_intervals(self) -> Vec<HeldInterval> {
        self.held.into_inner().unwrap_or_else(|p| p.into_inner())
    }
}

/// What a task runs in: with or without a GIL.
#[derive(Clone, Copy, Debug, Default)]
pub struct TaskEnv<'a> {
    gil: Option<&'a Gil>,
}

impl<'a> TaskEnv<'a> {
    /// No GIL: compute sections run freely (Rust threads, or one process each).
    pub const FREE: TaskEnv<'static> = TaskEnv { gil: None };

    pub fn with_gil(gil: &'a Gil) -> Self {
        TaskEnv { gil: Some(gil) }
    }

    pub fn has_gil(&self) -> bool {
        self.gil.is_some()
    }

    /// Runs a CPU section of task `task` (under the GIL when there is one).
    pub fn compute<T>(&self, task: usize, f: impl FnOnce() -> T) -> T {
        match self.gil {
            Some(gil) => gil.hold(task, f),
            None => f(),
        }
    }

    /// Waits as for I/O: sleeps without holding the GIL.
    pub fn wait(&self, duration: Duration) {
        std::thread::sleep(duration);
    }
}

/// True when no two intervals overlap (touching ends allowed).
pub fn disjoint(intervals: &[(u64, u64)]) -> bool {
    let mut sorted = intervals.to_vec();
    sorted.sort_unstable();
    sorted.windows(2).all(|w| w[0].1 <= w[1].0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::exec::pool::build_pool;

    #[test]
    fn held_intervals_never_overlap() {
        let gil = Gil::new(Instant::now());
        let pool = build_pool(4).expect("pool");
        pool.scope(|s| {
            for t in 0..32 {
                let gil = &gil;
                s.spawn(move |_| {
                    let env = TaskEnv::with_gil(gil);
                    let sum = env.compute(t, || (0..20_000u64).map(|x| x ^ t as u64).sum::<u64>());
                    assert!(sum > 0);
                });
            }
        });
        let log = gil.into_intervals();
        assert_eq!(log.len(), 32);
        let spans: Vec<_> = log.iter().map(|h| (h.start_nanos, h.end_nanos)).collect();
        assert!(disjoint(&spans));
    }

    #[test]
    fn free_env_records_nothing_and_runs() {
        let env = TaskEnv::FREE;
        assert!(!env.has_gil());
        assert_eq!(env.compute(0, || 41 + 1), 42);
    }

    #[test]
    fn disjoint_detects_overlap() {
        assert!(disjoint(&[(0, 5), (5, 9), (10, 11)]));
        assert!(!disjoint(&[(0, 5), (4, 9)]));
        assert!(disjoint(&[]));
    }
}
