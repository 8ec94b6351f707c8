//! A short contended run recorded as a timeline, drawn the way Tracy draws
//! locks: per thread, time spent waiting for the lock, holding it while nobody
//! else wants it, and holding it while others wait.
//!
//! Each thread counts itself as a waiter and timestamps before `lock()`,
//! stamps after acquiring and before releasing; while it holds the lock it
//! looks at the waiter count, and the hold is split at the last stamp before a
//! look that still saw nobody. So the record keeps two invariants (checked in
//! the tests): at most one thread holds at any instant, and no thread is shown
//! "holding, nobody waiting" while another is shown waiting. (Splitting at
//! the look that first saw a waiter, as before, broke the second whenever the
//! holder was descheduled mid-hold: the waiters arrived meanwhile and the whole
//! gap was drawn as uncontended.)

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

impl ContentionTimeline {
    /// The first place where the record contradicts itself, if any: two
    /// threads holding at once, or a thread shown "holding, nobody waiting"
    /// while another thread is shown waiting.
    pub fn inconsistency(&self) -> Option<String> {
        let overlap = |a: &Interval, b: &Interval| {
            a.thread != b.thread && a.start_nanos.max(b.start_nanos) < a.end_nanos.min(b.end_nanos)
        };
        let held: Vec<&Interval> = self
            .intervals
            .iter()
            .filter(|i| i.span != Span::Waiting)
            .collect();
        let waiting: Vec<&Interval> = self
            .intervals
            .iter()
            .filter(|i| i.span == Span::Waiting)
            .collect();
        for (k, a) in held.iter().enumerate() {
            if let Some(b) = held[k + 1..].iter().find(|b| overlap(a, b)) {
                return Some(format!("two holders at once: {a:?} and {b:?}"));
            }
            if a.span == Span::HeldUncontended
                && let Some(w) = waiting.iter().find(|w| overlap(a, w))
            {
                return Some(format!("'nobody waiting' while {w:?} waits: {a:?}"));
            }
        }
        None
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
        // Counted as a waiter first, stamped second: whenever this thread's
        // "waiting" span has begun, a holder that looks at the count sees it.
        waiters.fetch_add(1, Ordering::SeqCst);
        let before = now();
        let mut guard = lock.lock().unwrap_or_else(|p| p.into_inner());
        waiters.fetch_sub(1, Ordering::SeqCst);
        let acquired = now();
        let held_from = Instant::now();
        // Busy work while holding. `free_until` is the last stamp taken
        // *before* a look at the waiter count that saw nobody: a waiter that
        // began waiting before that stamp was counted before the look, so up
        // to `free_until` nobody waited. When a look sees a waiter, the
        // contended span starts at `free_until`, not at the look: the holder
        // may have been descheduled between the two, and the waiter may have
        // arrived at any moment since.
        let mut free_until = acquired;
        let mut contended_since = None;
        loop {
            let stamp = now();
            if waiters.load(Ordering::SeqCst) > 0 {
                contended_since = Some(free_until);
                break;
            }
            free_until = stamp;
            if held_from.elapsed() >= hold {
                break;
            }
            std::hint::spin_loop();
        }
        while held_from.elapsed() < hold {
            std::hint::spin_loop();
        }
        *guard += 1;
        // Stamped while still holding, so held intervals of different threads
        // cannot overlap; the last look comes after the stamp, so a waiter
        // that began before the release is seen.
        let released = now();
        if contended_since.is_none() && waiters.load(Ordering::SeqCst) > 0 {
            contended_since = Some(free_until);
        }
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

    /// The recorded data never contradicts itself: at any instant at most one
    /// holder, and "holding, nobody waiting" never overlaps another thread's
    /// waiting span. More threads than this machine's cores, no think time and
    /// a short hold, so holders are descheduled mid-hold (the case that once
    /// drew a holder "uncontended" over others' waiting).
    #[test]
    fn recorded_timeline_has_one_holder_and_no_uncontended_hold_over_a_wait() {
        for (threads, hold) in [(4, 50), (8, 20), (3, 0)] {
            let c = ContentionConfig {
                num_threads: threads,
                iterations: 100,
                hold_micros: hold,
                think_micros: 0,
            };
            let tl = record_contention(&c).expect("run");
            assert_eq!(tl.acquisitions, threads as u64 * 100);
            assert_eq!(
                tl.inconsistency(),
                None,
                "{threads} threads, hold {hold} µs"
            );
            // Contention did happen, so the check had something to check.
            assert!(
                hold == 0 || tl.intervals.iter().any(|i| i.span == Span::HeldContended),
                "{threads} threads, hold {hold} µs"
            );
        }
    }

    #[test]
    fn the_check_finds_a_hold_drawn_uncontended_over_a_wait() {
        let iv = |thread, span, start_nanos, end_nanos| Interval {
            thread,
            span,
            start_nanos,
            end_nanos,
        };
        let mut tl = ContentionTimeline {
            num_threads: 2,
            wall_nanos: 100,
            intervals: vec![
                iv(0, Span::HeldUncontended, 0, 50),
                iv(1, Span::Waiting, 10, 50),
                iv(1, Span::HeldUncontended, 50, 60),
            ],
            ..ContentionTimeline::default()
        };
        assert!(tl.inconsistency().is_some());
        tl.intervals[0].span = Span::HeldContended;
        assert_eq!(tl.inconsistency(), None);
        tl.intervals[2].start_nanos = 40;
        assert!(tl.inconsistency().is_some(), "two holders");
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
