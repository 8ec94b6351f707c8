//! A short contended run recorded as a timeline, drawn the way Tracy draws
//! locks: per thread, time spent waiting for the lock, holding it while nobody
//! else wants it, and holding it while others wait.
//!
//! Each thread timestamps before `lock()`, after acquiring and after release;
//! an atomic "waiters" count says whether anyone is queued while it holds the
//! lock, and the hold is split at the moment the first waiter arrives.

use super::LocksError;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Barrier, Mutex};
use std::time::{Duration, Instant};

pub const MAX_CONTENTION_THREADS: usize = 16;
pub const MAX_CONTENTION_ITERATIONS: u32 = 500;
pub const MAX_CONTENTION_MICROS: u64 = 10_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Span {
    /// Between calling `lock()` and getting the lock.
    Waiting,
    /// Holding the lock; nobody else is waiting.
    HeldUncontended,
    /// Holding the lock while at least one other thread waits for it.
    HeldContended,
}

impl Span {
    pub const ALL: [Span; 3] = [Span::Waiting, Span::HeldUncontended, Span::HeldContended];

    pub fn label(self) -> &'static str {
        match self {
            Span::Waiting => "waiting for the lock",
            Span::HeldUncontended => "holding, nobody waiting",
            Span::HeldContended => "holding while others wait",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    pub thread: usize,
    pub span: Span,
    pub start_nanos: u64,
    pub end_nanos: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ContentionConfig {
    pub num_threads: usize,
    pub iterations: u32,
    /// Busy work inside the lock per iteration.
    pub hold_micros: u64,
    /// Sleep outside the lock per iteration (0: straight back to `lock()`).
    pub think_micros: u64,
}

impl Default for ContentionConfig {
    fn default() -> Self {
        ContentionConfig {
            num_threads: 4,
            iterations: 40,
            hold_micros: 200,
            think_micros: 300,
        }
    }
}

impl ContentionConfig {
    pub fn validate(&self) -> Result<(), LocksError> {
        if !(1..=MAX_CONTENTION_THREADS).contains(&self.num_threads) {
            return Err(LocksError::Threads {
                got: self.num_threads,
                max: MAX_CONTENTION_THREADS,
            });
        }
        if !(1..=MAX_CONTENTION_ITERATIONS).contains(&self.iterations) {
            return Err(LocksError::Iterations {
                got: self.iterations,
                max: MAX_CONTENTION_ITERATIONS,
            });
        }
        if self.hold_micros > MAX_CONTENTION_MICROS || self.think_micros > MAX_CONTENTION_MICROS {
            return Err(LocksError::HoldThink {
                max: MAX_CONTENTION_MICROS,
            });
        }
        Ok(())
    }
}

/// Per-thread totals.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ThreadTotals {
    pub waiting_nanos: u64,
    pub held_uncontended_nanos: u64,
    pub held_contended_nanos: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ContentionTimeline {
    pub config: Option<ContentionConfig>,
    pub num_threads: usize,
    pub wall_nanos: u64,
    /// Sorted by start time.
    pub intervals: Vec<Interval>,
    /// Lock acquisitions in all (a check: threads × iterations).
    pub acquisitions: u64,
}

impl ContentionTimeline {
    pub fn totals(&self) -> Vec<ThreadTotals> {
        let mut out = vec![ThreadTotals::default(); self.num_threads];
        for i in &self.intervals {
            let d = i.end_nanos.saturating_sub(i.start_nanos);
            let t = &mut out[i.thread];
            match i.span {
                Span::Waiting => t.waiting_nanos += d,
                Span::HeldUncontended => t.held_uncontended_nanos += d,
                Span::HeldContended => t.held_contended_nanos += d,
            }
        }
        out
    }
}

/// Runs the threads and returns their timeline.
pub fn record_contention(config: &ContentionConfig) -> Result<ContentionTimeline, LocksError> {
    config.validate()?;
    let lock = Mutex::new(0u64);
    let waiters = AtomicUsize::new(0);
    let start = Barrier::new(config.num_threads);
    let origin = Instant::now();
    let lanes = std::thread::scope(|s| {
        let handles: Vec<_> = (0..config.num_threads)
            .map(|t| {
                let (lock, waiters, start) = (&lock, &waiters, &start);
                std::thread::Builder::new()
                    .name(format!("parlab-contention-{t}"))
                    .spawn_scoped(s, move || {
                        start.wait();
                        contention_thread(config, t, lock, waiters, origin)
                    })
                    .map_err(|e| LocksError::Spawn {
                        thread: t,
                        source: e,
                    })
            })
            .collect();
        let mut lanes = Vec::new();
        for h in handles {
            lanes.push(h?.join().map_err(|_| LocksError::Panicked {
                what: "contention thread",
            })?);
        }
        Ok::<_, LocksError>(lanes)
    })?;
    let wall_nanos = origin.elapsed().as_nanos() as u64;
    let mut intervals: Vec<Interval> = lanes.into_iter().flatten().collect();
    intervals.sort_by_key(|i| (i.start_nanos, i.thread));
    let acquisitions = *lock.lock().map_err(|_| LocksError::Poisoned)?;
    Ok(ContentionTimeline {
        config: Some(*config),
        num_threads: config.num_threads,
        wall_nanos,
        intervals,
        acquisitions,
    })
}

fn contention_thread(
    config: &ContentionConfig,
    t: usize,
    lock: &Mutex<u64>,
    waiters: &AtomicUsize,
    origin: Instant,
) -> Vec<Interval> {
    let now = || origin.elapsed().as_nanos() as u64;
    let hold = Duration::from_micros(config.hold_micros);
    let mut out = Vec::with_capacity(3 * config.iterations as usize);
    let mut push = |span, start_nanos, end_nanos| {
        if end_nanos > start_nanos {
            out.push(Interval {
                thread: t,
                span,
                start_nanos,
                end_nanos,
            });
        }
    };
    for _ in 0..config.iterations {
        if config.think_micros > 0 {
            std::thread::sleep(Duration::from_micros(config.think_micros));
        }
        let before = now();
        waiters.fetch_add(1, Ordering::SeqCst);
        let mut guard = lock.lock().unwrap_or_else(|p| p.into_inner());
        waiters.fetch_sub(1, Ordering::SeqCst);
        let acquired = now();
        let held_from = Instant::now();
        // Busy work while holding; note when the first waiter shows up.
        let mut contended_since = (waiters.load(Ordering::SeqCst) > 0).then_some(acquired);
        while held_from.elapsed() < hold {
            if contended_since.is_none() && waiters.load(Ordering::Relaxed) > 0 {
                contended_since = Some(now());
            }
            std::hint::spin_loop();
        }
        if contended_since.is_none() && waiters.load(Ordering::SeqCst) > 0 {
            contended_since = Some(now());
        }
        *guard += 1;
        // Stamped while still holding, so held intervals of different threads cannot overlap.
        let released = now();
        drop(guard);
        push(Span::Waiting, before, acquired);
        match contended_since {
            Some(c) => {
                push(Span::HeldUncontended, acquired, c);
                push(Span::HeldContended, c, released);
            }
            None => push(Span::HeldUncontended, acquired, released),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeline_is_well_formed_and_holds_never_overlap() {
        let c = ContentionConfig {
            num_threads: 3,
            iterations: 20,
            hold_micros: 100,
            think_micros: 0,
        };
        let tl = record_contention(&c).expect("run");
        assert_eq!(tl.acquisitions, 60);
        // Mutual exclusion: the held intervals of different threads never overlap.
        let mut held: Vec<&Interval> = tl
            .intervals
            .iter()
            .filter(|i| i.span != Span::Waiting)
            .collect();
        held.sort_by_key(|i| i.start_nanos);
        for w in held.windows(2) {
            if w[0].thread != w[1].thread {
                assert!(w[0].end_nanos <= w[1].start_nanos, "{:?} {:?}", w[0], w[1]);
            }
        }
        for i in &tl.intervals {
            assert!(i.start_nanos < i.end_nanos && i.end_nanos <= tl.wall_nanos);
        }
        let totals = tl.totals();
        assert_eq!(totals.len(), 3);
        // Each thread held the lock for at least its busy work.
        for t in &totals {
            assert!(t.held_uncontended_nanos + t.held_contended_nanos >= 20 * 100_000);
        }
    }

    #[test]
    fn one_thread_never_waits_on_anyone() {
        let c = ContentionConfig {
            num_threads: 1,
            iterations: 10,
            hold_micros: 10,
            think_micros: 0,
        };
        let tl = record_contention(&c).expect("run");
        assert!(tl.intervals.iter().all(|i| i.span != Span::HeldContended));
    }

    #[test]
    fn bad_configs_are_refused() {
        let ok = ContentionConfig::default();
        assert!(ok.validate().is_ok());
        assert!(
            ContentionConfig {
                num_threads: 0,
                ..ok
            }
            .validate()
            .is_err()
        );
        assert!(
            ContentionConfig {
                iterations: 0,
                ..ok
            }
            .validate()
            .is_err()
        );
        assert!(
            ContentionConfig {
                hold_micros: 20_000,
                ..ok
            }
            .validate()
            .is_err()
        );
    }
}
