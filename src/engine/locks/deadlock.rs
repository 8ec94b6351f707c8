//! A deadlock shown safely: two threads take two locks in opposite order.
//!
//! Nobody ever blocks in `lock()`: threads spin on `try_lock` (with short
//! sleeps) and publish what they hold and what they wait for. A monitor builds
//! the wait-for graph from that table; when it finds a cycle whose threads have
//! all waited longer than the timeout, it reports the cycle and tells one
//! victim to give up and release its lock, so the other finishes and the demo
//! always ends (a hard deadline makes every thread give up if anything else fails). With a global lock order (both
//! take A before B) the same program completes.

use super::LocksError;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, TryLockError};
use std::time::{Duration, Instant};

/// Lock names, by index.
pub const LOCK_NAMES: [&str; 2] = ["A", "B"];
const NUM_THREADS: usize = 2;
/// Longest wait a user can set before the monitor calls it a deadlock.
pub const MAX_TIMEOUT_MILLIS: u64 = 10_000;
/// Upper bound on the wait for the partner to take its first lock (or to queue
/// behind ours). The rendezvous makes the opposite-order run deadlock every
/// time, however late the OS starts the second thread.
const RENDEZVOUS: Duration = Duration::from_secs(2);
const RETRY_SLEEP: Duration = Duration::from_micros(200);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum LockOrder {
    /// T1 takes A then B; T2 takes B then A: deadlock.
    #[default]
    Opposite,
    /// Both take A then B (a global lock order): completes.
    Global,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeadlockConfig {
    pub order: LockOrder,
    /// A cycle in the wait-for graph that lasts this long is reported as a deadlock.
    pub timeout_millis: u64,
    /// Work done while holding both locks.
    pub work_millis: u64,
}

impl Default for DeadlockConfig {
    fn default() -> Self {
        DeadlockConfig {
            order: LockOrder::Opposite,
            timeout_millis: 300,
            work_millis: 20,
        }
    }
}

impl DeadlockConfig {
    pub fn validate(&self) -> Result<(), LocksError> {
        if !(1..=MAX_TIMEOUT_MILLIS).contains(&self.timeout_millis) {
            return Err(LocksError::Timeout {
                got: self.timeout_millis,
                max: MAX_TIMEOUT_MILLIS,
            });
        }
        if self.work_millis > 1000 {
            return Err(LocksError::Work {
                got: self.work_millis,
                max: 1000,
            });
        }
        Ok(())
    }

    /// The order thread `t` takes the locks in.
    pub fn order_of(&self, t: usize) -> [usize; 2] {
        match (self.order, t) {
            (LockOrder::Opposite, 1) => [1, 0],
            _ => [0, 1],
        }
    }

    /// Everything finishes well within this, whatever the scheduler does.
    pub fn hard_deadline(&self) -> Duration {
        Duration::from_millis(4 * self.timeout_millis + 4 * self.work_millis + 2000)
    }
}

/// One edge of the wait-for graph: `thread` holds `holds` and waits for `waits_for`, which `held_by` holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitEdge {
    pub thread: usize,
    pub holds: Option<usize>,
    pub waits_for: usize,
    pub held_by: usize,
}

impl WaitEdge {
    pub fn describe(&self) -> String {
        let holds = self
            .holds
            .map_or("nothing".to_string(), |l| LOCK_NAMES[l].to_string());
        format!(
            "T{} holds {holds}, waits for {} (held by T{})",
            self.thread + 1,
            LOCK_NAMES[self.waits_for],
            self.held_by + 1
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    /// A wait-for cycle outlived the timeout; a victim gave up so the other could finish.
    Detected,
    /// Both threads got both locks and finished.
    Completed,
}

/// One line of the story, for the panel and `--json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Step {
    pub time_nanos: u64,
    pub thread: Option<usize>,
    pub text: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeadlockReport {
    pub config: DeadlockConfig,
    pub outcome: Outcome,
    /// The cycle found (empty when completed).
    pub cycle: Vec<WaitEdge>,
    /// From start to the monitor's verdict.
    pub detected_after_nanos: Option<u64>,
    pub wall_nanos: u64,
    pub steps: Vec<Step>,
}

/// The table threads publish and the monitor reads.
struct Status {
    /// Bit l set: holds lock l.
    holding: [AtomicU8; NUM_THREADS],
    /// 0: not waiting; l + 1: waiting for lock l.
    waiting_for: [AtomicU8; NUM_THREADS],
    waiting_since_nanos: [AtomicU64; NUM_THREADS],
    /// Per thread: stop waiting, release what you hold.
    give_up: [AtomicBool; NUM_THREADS],
    arrived: AtomicUsize,
}

/// Finds a cycle in a wait-for graph where each thread waits for at most one
/// other (`next[t]`); returns the threads on it, starting from the smallest.
pub fn find_cycle(next: &[Option<usize>]) -> Option<Vec<usize>> {
    for start in 0..next.len() {
        let mut path = vec![start];
        let mut cur = start;
        while let Some(n) = next.get(cur).copied().flatten() {
            if let Some(pos) = path.iter().position(|&p| p == n) {
                let mut cycle = path[pos..].to_vec();
                let min_pos = cycle
                    .iter()
                    .enumerate()
                    .min_by_key(|(_, t)| **t)
                    .map_or(0, |(i, _)| i);
                cycle.rotate_left(min_pos);
                return Some(cycle);
            }
            if path.len() > next.len() {
                break;
            }
            path.push(n);
            cur = n;
        }
    }
    None
}

/// Runs the demo and returns what happened. Always returns within `hard_deadline()`.
pub fn run_deadlock(config: &DeadlockConfig) -> Result<DeadlockReport, LocksError> {
    config.validate()?;
    let locks = [Mutex::new(()), Mutex::new(())];
    let status = Status {
        holding: [AtomicU8::new(0), AtomicU8::new(0)],
        waiting_for: [AtomicU8::new(0), AtomicU8::new(0)],
        waiting_since_nanos: [AtomicU64::new(0), AtomicU64::new(0)],
        give_up: [AtomicBool::new(false), AtomicBool::new(false)],
        arrived: AtomicUsize::new(0),
    };
    let origin = Instant::now();
    let timeout_nanos = config.timeout_millis * 1_000_000;
    let (thread_steps, monitor) = std::thread::scope(|s| {
        let handles: Vec<_> = (0..NUM_THREADS)
            .map(|t| {
                let (locks, status) = (&locks, &status);
                std::thread::Builder::new()
                    .name(format!("parlab-deadlock-{t}"))
                    .spawn_scoped(s, move || lock_thread(config, t, locks, status, origin))
                    .map_err(|e| LocksError::Spawn {
                        thread: t,
                        source: e,
                    })
            })
            .collect();
        // Monitor: runs on the calling thread until both workers end.
        let mut verdict: Option<(u64, Vec<WaitEdge>)> = None;
        let mut monitor_steps = Vec::new();
        let started = handles.iter().all(|h| h.is_ok());
        let give_up_all = || {
            for g in &status.give_up {
                g.store(true, Ordering::SeqCst);
            }
        };
        if !started {
            give_up_all();
        }
        while handles
            .iter()
            .any(|h| h.as_ref().is_ok_and(|h| !h.is_finished()))
        {
            let now = origin.elapsed().as_nanos() as u64;
            if verdict.is_none() {
                let edges = wait_for_graph(&status);
                let mut next = [None; NUM_THREADS];
                for e in &edges {
                    next[e.thread] = Some(e.held_by);
                }
                if let Some(cycle) = find_cycle(&next) {
                    let stalled = cycle.iter().all(|&t| {
                        now.saturating_sub(status.waiting_since_nanos[t].load(Ordering::SeqCst))
                            >= timeout_nanos
                    });
                    if stalled {
                        let cycle_edges: Vec<WaitEdge> = cycle
                            .iter()
                            .filter_map(|&t| edges.iter().find(|e| e.thread == t).copied())
                            .collect();
                        // Break the cycle the way databases do: one victim gives up.
                        let victim = cycle.iter().copied().max().unwrap_or(0);
                        monitor_steps.push(Step {
                            time_nanos: now,
                            thread: None,
                            text: format!(
                                "monitor: wait-for cycle for over {} ms: {} — deadlock; T{} is the victim: it gives up and releases its lock",
                                config.timeout_millis,
                                cycle_edges
                                    .iter()
                                    .map(WaitEdge::describe)
                                    .collect::<Vec<_>>()
                                    .join("; "),
                                victim + 1
                            ),
                        });
                        verdict = Some((now, cycle_edges));
                        status.give_up[victim].store(true, Ordering::SeqCst);
                    }
                }
            }
            if origin.elapsed() > config.hard_deadline() {
                give_up_all();
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        let mut steps = Vec::new();
        for h in handles {
            steps.extend(h?.join().map_err(|_| LocksError::Panicked {
                what: "deadlock thread",
            })?);
        }
        Ok::<_, LocksError>((steps, (verdict, monitor_steps)))
    })?;
    let wall_nanos = origin.elapsed().as_nanos() as u64;
    let (verdict, monitor_steps) = monitor;
    let mut steps: Vec<Step> = thread_steps.into_iter().chain(monitor_steps).collect();
    steps.sort_by_key(|s| s.time_nanos);
    let (outcome, cycle, detected_after_nanos) = match verdict {
        Some((at, cycle)) => (Outcome::Detected, cycle, Some(at)),
        None => (Outcome::Completed, Vec::new(), None),
    };
    Ok(DeadlockReport {
        config: *config,
        outcome,
        cycle,
        detected_after_nanos,
        wall_nanos,
        steps,
    })
}

/// Edges "t waits for a lock that u holds", from the published table.
fn wait_for_graph(status: &Status) -> Vec<WaitEdge> {
    let mut edges = Vec::new();
    for t in 0..NUM_THREADS {
        let w = status.waiting_for[t].load(Ordering::SeqCst);
        if w == 0 {
            continue;
        }
        let lock = usize::from(w - 1);
        for u in (0..NUM_THREADS).filter(|&u| u != t) {
            if status.holding[u].load(Ordering::SeqCst) & (1 << lock) != 0 {
                let mine = status.holding[t].load(Ordering::SeqCst);
                edges.push(WaitEdge {
                    thread: t,
                    holds: (0..LOCK_NAMES.len()).find(|l| mine & (1 << l) != 0),
                    waits_for: lock,
                    held_by: u,
                });
            }
        }
    }
    edges
}

/// Spins on `try_lock` until it succeeds or the monitor says give up.
fn acquire<'a>(
    lock: &'a Mutex<()>,
    l: usize,
    t: usize,
    status: &Status,
    origin: Instant,
) -> Option<MutexGuard<'a, ()>> {
    status.waiting_since_nanos[t].store(origin.elapsed().as_nanos() as u64, Ordering::SeqCst);
    status.waiting_for[t].store(l as u8 + 1, Ordering::SeqCst);
    let guard = loop {
        match lock.try_lock() {
            Ok(g) => break Some(g),
            Err(TryLockError::Poisoned(p)) => break Some(p.into_inner()),
            Err(TryLockError::WouldBlock) => {
                if status.give_up[t].load(Ordering::SeqCst) {
                    break None;
                }
                std::thread::sleep(RETRY_SLEEP);
            }
        }
    };
    if guard.is_some() {
        status.holding[t].fetch_or(1 << l, Ordering::SeqCst);
    }
    status.waiting_for[t].store(0, Ordering::SeqCst);
    guard
}

fn lock_thread(
    config: &DeadlockConfig,
    t: usize,
    locks: &[Mutex<()>; 2],
    status: &Status,
    origin: Instant,
) -> Vec<Step> {
    let mut steps = Vec::new();
    let mut say = |text: String| {
        steps.push(Step {
            time_nanos: origin.elapsed().as_nanos() as u64,
            thread: Some(t),
            text,
        });
    };
    let name = format!("T{}", t + 1);
    let [first, second] = config.order_of(t);
    let (f, s) = (LOCK_NAMES[first], LOCK_NAMES[second]);
    say(format!("{name} wants {f}, then {s}"));
    let Some(g1) = acquire(&locks[first], first, t, status, origin) else {
        say(format!("{name} gave up waiting for {f}; holds nothing"));
        return steps;
    };
    say(format!("{name} took {f}"));
    // Wait (bounded) until the partner also holds its first lock, or is queued
    // behind ours (with a global order it cannot take its first lock before we finish).
    status.arrived.fetch_add(1, Ordering::SeqCst);
    let partner = 1 - t;
    let rendezvous = Instant::now();
    while status.arrived.load(Ordering::SeqCst) < NUM_THREADS
        && status.waiting_for[partner].load(Ordering::SeqCst) != first as u8 + 1
        && rendezvous.elapsed() < RENDEZVOUS
        && !status.give_up[t].load(Ordering::SeqCst)
    {
        std::thread::sleep(RETRY_SLEEP);
    }
    say(format!("{name} holds {f}, tries {s}"));
    let Some(g2) = acquire(&locks[second], second, t, status, origin) else {
        drop(g1);
        status.holding[t].fetch_and(!(1 << first), Ordering::SeqCst);
        say(format!("{name} gave up waiting for {s}; released {f}"));
        return steps;
    };
    say(format!(
        "{name} took {s}; works for {} ms",
        config.work_millis
    ));
    std::thread::sleep(Duration::from_millis(config.work_millis));
    drop(g2);
    status.holding[t].fetch_and(!(1 << second), Ordering::SeqCst);
    drop(g1);
    status.holding[t].fetch_and(!(1 << first), Ordering::SeqCst);
    say(format!("{name} released {s} and {f}: done"));
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opposite_order_is_detected_within_the_deadline_and_ends() {
        let c = DeadlockConfig {
            order: LockOrder::Opposite,
            timeout_millis: 100,
            work_millis: 5,
        };
        let r = run_deadlock(&c).expect("runs");
        assert_eq!(r.outcome, Outcome::Detected);
        assert_eq!(r.cycle.len(), 2);
        assert_eq!(
            r.cycle[0],
            WaitEdge {
                thread: 0,
                holds: Some(0),
                waits_for: 1,
                held_by: 1
            }
        );
        assert_eq!(
            r.cycle[1],
            WaitEdge {
                thread: 1,
                holds: Some(1),
                waits_for: 0,
                held_by: 0
            }
        );
        assert_eq!(
            r.cycle[0].describe(),
            "T1 holds A, waits for B (held by T2)"
        );
        let at = r.detected_after_nanos.expect("detected");
        assert!(at >= 100_000_000, "not before the timeout");
        assert_eq!(
            r.steps
                .iter()
                .filter(|s| s.text.contains("gave up"))
                .count(),
            1
        );
        assert!(
            r.steps
                .iter()
                .any(|s| s.text == "T2 gave up waiting for A; released B")
        );
        assert!(
            r.steps
                .iter()
                .any(|s| s.text == "T1 released B and A: done")
        );
    }

    #[test]
    fn a_global_lock_order_completes() {
        let c = DeadlockConfig {
            order: LockOrder::Global,
            timeout_millis: 100,
            work_millis: 5,
        };
        let r = run_deadlock(&c).expect("runs");
        assert_eq!(r.outcome, Outcome::Completed);
        assert!(r.cycle.is_empty());
        assert_eq!(
            r.steps.iter().filter(|s| s.text.ends_with("done")).count(),
            2
        );
    }

    #[test]
    fn cycles_are_found_only_where_they_are() {
        assert_eq!(find_cycle(&[Some(1), Some(0)]), Some(vec![0, 1]));
        assert_eq!(find_cycle(&[Some(1), None]), None);
        assert_eq!(
            find_cycle(&[None, Some(2), Some(3), Some(1)]),
            Some(vec![1, 2, 3])
        );
        assert_eq!(find_cycle(&[]), None);
    }

    #[test]
    fn bad_timeouts_are_refused() {
        let mut c = DeadlockConfig {
            timeout_millis: 0,
            ..DeadlockConfig::default()
        };
        assert!(run_deadlock(&c).is_err());
        c.timeout_millis = MAX_TIMEOUT_MILLIS + 1;
        assert!(c.validate().is_err());
    }
}
