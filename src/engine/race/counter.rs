//! N real threads adding to one shared counter, in five ways.
//!
//! Safe Rust cannot have a data race, so the *unsynchronised* mode is the
//! seed's `local_copy = value; local_copy += 1; value = local_copy` done with
//! an atomic load, optional work in between, and a separate atomic store: each
//! access is atomic, the read-modify-write as a whole is not, and updates are
//! lost exactly as in the Python programs — with no undefined behaviour.

use super::RaceError;
use crate::engine::util::stats::median;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Barrier, Mutex, RwLock};
use std::time::{Duration, Instant};

/// Most threads a race run starts.
pub const MAX_THREADS: usize = 64;
/// Most increments per thread.
pub const MAX_INCREMENTS: u64 = 10_000_000;
/// Longest delay between read and write, or pause before each increment.
pub const MAX_DELAY_MICROS: u64 = 1_000_000;

/// How the threads update the shared counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum Mode {
    /// Atomic load, gap, separate atomic store: updates get lost.
    #[default]
    Unsync,
    /// `Mutex<i64>` held for the whole read-modify-write (gap included, as thread4.py).
    Mutex,
    /// One `fetch_add` per increment (the gap does not apply: there is no gap in one instruction).
    Atomic,
    /// Each thread counts in its own variable; the main thread sums at the end.
    Sharded,
    /// `RwLock<i64>` taken for writing.
    RwLock,
}

impl Mode {
    pub const ALL: [Mode; 5] = [
        Mode::Unsync,
        Mode::Mutex,
        Mode::Atomic,
        Mode::Sharded,
        Mode::RwLock,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Mode::Unsync => "unsync",
            Mode::Mutex => "mutex",
            Mode::Atomic => "atomic",
            Mode::Sharded => "sharded",
            Mode::RwLock => "rwlock",
        }
    }

    /// Words for a person.
    pub fn label(self) -> &'static str {
        match self {
            Mode::Unsync => "unsynchronised read-modify-write",
            Mode::Mutex => "Mutex",
            Mode::Atomic => "atomic fetch_add",
            Mode::Sharded => "per-thread counters, summed",
            Mode::RwLock => "RwLock (write)",
        }
    }

    /// Whether a gap between read and write means anything in this mode.
    pub fn has_gap(self) -> bool {
        matches!(self, Mode::Unsync | Mode::Mutex | Mode::RwLock)
    }
}

impl std::str::FromStr for Mode {
    type Err = RaceError;
    fn from_str(s: &str) -> Result<Self, RaceError> {
        Mode::ALL
            .into_iter()
            .find(|m| m.name() == s.trim().to_ascii_lowercase())
            .ok_or_else(|| RaceError::UnknownMode {
                input: s.to_string(),
            })
    }
}

/// What a thread does between reading the counter and writing it back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Gap {
    /// Nothing: the window is a few nanoseconds wide.
    #[default]
    None,
    /// `thread::yield_now()`: offer the core to another thread.
    Yield,
    /// `thread::sleep` (as the seed's `time.sleep`); the OS rounds up, typically by ~50 µs.
    SleepMicros(u64),
    /// Every thread reads, then all wait on a barrier, then all write: a deterministic
    /// worst case (each round of N increments leaves +1). Unsynchronised mode only;
    /// inside a lock it means no gap (a barrier there would never open).
    Lockstep,
}

/// Which way each thread counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Direction {
    /// Every thread adds 1.
    #[default]
    AllAdd,
    /// Even threads add 1, odd threads subtract 1 (value2.py / value3.py): expected 0 for an even count.
    AddSubtract,
}

/// How the threads are started: the seed's thread2.py and its "exchange start and join" fix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Launch {
    /// Start all, then join all; a barrier makes them begin together.
    #[default]
    Overlapped,
    /// Start one, join it, start the next: no race, and no parallelism.
    Serialised,
}

/// One race run's parameters.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RaceConfig {
    pub num_threads: usize,
    /// Increments (or decrements) per thread.
    pub increments: u64,
    pub mode: Mode,
    pub gap: Gap,
    /// Sleep before each increment, outside any lock (value2.py's `time.sleep(0.01)`); 0 = none.
    pub pause_micros: u64,
    pub direction: Direction,
    pub launch: Launch,
}

impl Default for RaceConfig {
    fn default() -> Self {
        RaceConfig {
            num_threads: 4,
            increments: 1_000_000,
            mode: Mode::Unsync,
            gap: Gap::None,
            pause_micros: 0,
            direction: Direction::AllAdd,
            launch: Launch::Overlapped,
        }
    }
}

impl RaceConfig {
    /// Checks the limits; the message names the bad field.
    pub fn validate(&self) -> Result<(), RaceError> {
        if !(1..=MAX_THREADS).contains(&self.num_threads) {
            return Err(RaceError::Threads {
                got: self.num_threads,
                max: MAX_THREADS,
            });
        }
        if !(1..=MAX_INCREMENTS).contains(&self.increments) {
            return Err(RaceError::Increments {
                got: self.increments,
                max: MAX_INCREMENTS,
            });
        }
        if let Gap::SleepMicros(d) = self.gap
            && d > MAX_DELAY_MICROS
        {
            return Err(RaceError::Delay {
                got: d,
                max: MAX_DELAY_MICROS,
            });
        }
        if self.pause_micros > MAX_DELAY_MICROS {
            return Err(RaceError::Pause {
                got: self.pause_micros,
                max: MAX_DELAY_MICROS,
            });
        }
        if self.gap == Gap::Lockstep && self.launch == Launch::Serialised {
            return Err(RaceError::LockstepSerialised);
        }
        Ok(())
    }

    /// +1 or −1 for thread `t`.
    pub fn delta(&self, t: usize) -> i64 {
        match self.direction {
            Direction::AddSubtract if t % 2 == 1 => -1,
            _ => 1,
        }
    }

    /// The value the counter must end at if nothing is lost.
    pub fn expected(&self) -> i64 {
        (0..self.num_threads)
            .map(|t| self.delta(t) * self.increments as i64)
            .sum()
    }

    /// Read-modify-writes in all.
    pub fn total_increments(&self) -> u64 {
        self.num_threads as u64 * self.increments
    }
}

/// What one run measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RaceResult {
    pub config: RaceConfig,
    pub expected: i64,
    pub actual: i64,
    /// Updates that vanished. For all-add runs `expected − actual` (never negative);
    /// for add/subtract runs `|expected − actual|`, a lower bound (lost +1s and −1s cancel).
    pub lost: u64,
    pub lost_pct: f64,
    /// From the barrier opening to the last thread finishing.
    pub wall_nanos: u64,
    pub increments_per_sec: f64,
    /// Increments actually performed (less than planned when cancelled).
    pub performed: u64,
    pub cancelled: bool,
}

impl RaceResult {
    /// `expected_done`: what the counter should read after the increments that were performed.
    fn new(
        config: RaceConfig,
        actual: i64,
        expected_done: i64,
        wall_nanos: u64,
        performed: u64,
    ) -> Self {
        let cancelled = performed < config.total_increments();
        let lost = expected_done.abs_diff(actual);
        let lost_pct = if performed == 0 {
            0.0
        } else {
            100.0 * lost as f64 / performed as f64
        };
        RaceResult {
            config,
            expected: config.expected(),
            actual,
            lost,
            lost_pct,
            wall_nanos,
            increments_per_sec: performed as f64 / (wall_nanos.max(1) as f64 * 1e-9),
            performed,
            cancelled,
        }
    }
}

/// How often workers look at the cancel flag when they have no gap.
const CANCEL_CHECK_EVERY: u64 = 4096;

/// The shared state every thread sees.
struct Shared {
    atomic: AtomicI64,
    mutex: Mutex<i64>,
    rwlock: RwLock<i64>,
    /// Only for unsynchronised lockstep runs.
    lockstep: Option<Barrier>,
    /// Set by the barrier leader between a round's two waits: every thread sees the same value.
    lockstep_stop: AtomicBool,
}

/// Runs one race and returns what it measured. `cancel` stops the workers early.
pub fn run_race(config: &RaceConfig, cancel: &AtomicBool) -> Result<RaceResult, RaceError> {
    config.validate()?;
    let config = *config;
    let shared = Shared {
        atomic: AtomicI64::new(0),
        mutex: Mutex::new(0),
        rwlock: RwLock::new(0),
        lockstep: (config.mode == Mode::Unsync && config.gap == Gap::Lockstep)
            .then(|| Barrier::new(config.num_threads)),
        lockstep_stop: AtomicBool::new(false),
    };
    let Totals {
        wall_nanos,
        performed,
        expected_done,
        sharded_sum,
    } = match config.launch {
        Launch::Overlapped => run_overlapped(&config, &shared, cancel)?,
        Launch::Serialised => run_serialised(&config, &shared, cancel)?,
    };
    let actual = match config.mode {
        Mode::Unsync | Mode::Atomic => shared.atomic.load(Ordering::SeqCst),
        Mode::Mutex => *shared.mutex.lock().map_err(|_| RaceError::WorkerPanicked)?,
        Mode::RwLock => *shared
            .rwlock
            .read()
            .map_err(|_| RaceError::WorkerPanicked)?,
        Mode::Sharded => sharded_sum,
    };
    Ok(RaceResult::new(
        config,
        actual,
        expected_done,
        wall_nanos,
        performed,
    ))
}

/// What the threads report back together.
#[derive(Default)]
struct Totals {
    wall_nanos: u64,
    performed: u64,
    expected_done: i64,
    sharded_sum: i64,
}

impl Totals {
    fn add(&mut self, config: &RaceConfig, t: usize, (done, local): (u64, i64)) {
        self.performed += done;
        self.expected_done += config.delta(t) * done as i64;
        self.sharded_sum += local;
    }
}

/// Start all, barrier, join all.
fn run_overlapped(
    config: &RaceConfig,
    shared: &Shared,
    cancel: &AtomicBool,
) -> Result<Totals, RaceError> {
    let start = Barrier::new(config.num_threads + 1);
    let origin = Instant::now();
    std::thread::scope(|s| {
        let mut handles = Vec::with_capacity(config.num_threads);
        for t in 0..config.num_threads {
            let start = &start;
            let h = std::thread::Builder::new()
                .name(format!("parlab-race-{t}"))
                .spawn_scoped(s, move || {
                    start.wait();
                    // Each thread times itself: the main thread may be descheduled
                    // right after the barrier and would miss the start.
                    let begin = origin.elapsed();
                    let r = worker(*config, t, shared, cancel);
                    (begin, origin.elapsed(), r)
                });
            match h {
                Ok(h) => handles.push(h),
                Err(e) => {
                    // Release the threads already waiting, tell them to stop, and report.
                    cancel_started(start, config.num_threads + 1 - t, cancel);
                    return Err(RaceError::Spawn {
                        thread: t,
                        source: e,
                    });
                }
            }
        }
        start.wait();
        let mut totals = Totals::default();
        let (mut first, mut last) = (Duration::MAX, Duration::ZERO);
        for (t, h) in handles.into_iter().enumerate() {
            let (begin, end, r) = h.join().map_err(|_| RaceError::RaceWorkerPanicked)?;
            totals.add(config, t, r);
            first = first.min(begin);
            last = last.max(end);
        }
        totals.wall_nanos = last.saturating_sub(first).as_nanos() as u64;
        Ok(totals)
    })
}

/// When spawning fails midway, the barrier still needs `missing` more arrivals.
fn cancel_started(start: &Barrier, missing: usize, cancel: &AtomicBool) {
    cancel.store(true, Ordering::Relaxed);
    std::thread::scope(|s| {
        for _ in 1..missing {
            s.spawn(|| start.wait());
        }
        start.wait();
    });
}

/// thread2.py with `t2.start()` and `t1.join()` exchanged: one thread at a time.
fn run_serialised(
    config: &RaceConfig,
    shared: &Shared,
    cancel: &AtomicBool,
) -> Result<Totals, RaceError> {
    let t0 = Instant::now();
    let mut totals = Totals::default();
    for t in 0..config.num_threads {
        let r = std::thread::scope(|s| {
            std::thread::Builder::new()
                .name(format!("parlab-race-{t}"))
                .spawn_scoped(s, || worker(*config, t, shared, cancel))
                .map_err(|e| RaceError::Spawn {
                    thread: t,
                    source: e,
                })?
                .join()
                .map_err(|_| RaceError::RaceWorkerPanicked)
        })?;
        totals.add(config, t, r);
    }
    totals.wall_nanos = t0.elapsed().as_nanos() as u64;
    Ok(totals)
}

/// Sleeps or yields; `Lockstep` is handled by [`lockstep_round`] (and means nothing inside a lock).
fn gap(g: Gap) {
    match g {
        Gap::None | Gap::Lockstep | Gap::SleepMicros(0) => {}
        Gap::Yield => std::thread::yield_now(),
        Gap::SleepMicros(us) => std::thread::sleep(Duration::from_micros(us)),
    }
}

/// All threads have read; wait for each other, and agree whether to stop after this
/// round (the leader copies the cancel flag between two waits, so nobody is left
/// alone at a barrier that will never open).
fn lockstep_round(b: &Barrier, stop: &AtomicBool, cancel: &AtomicBool) -> bool {
    if b.wait().is_leader() {
        stop.store(cancel.load(Ordering::Relaxed), Ordering::Relaxed);
    }
    b.wait();
    stop.load(Ordering::Relaxed)
}

/// One thread's loop. Returns (increments performed, its own count for sharded mode).
fn worker(config: RaceConfig, t: usize, shared: &Shared, cancel: &AtomicBool) -> (u64, i64) {
    let delta = config.delta(t);
    let lockstep = shared.lockstep.as_ref();
    let slow = config.pause_micros > 0 || !matches!(config.gap, Gap::None);
    let mut local: i64 = 0;
    let mut done = 0;
    while done < config.increments {
        // Lockstep threads must all run the same number of rounds: they stop together
        // through `lockstep_round`, never here.
        let check = slow || done % CANCEL_CHECK_EVERY == 0;
        if check && lockstep.is_none() && cancel.load(Ordering::Relaxed) {
            break;
        }
        if config.pause_micros > 0 {
            std::thread::sleep(Duration::from_micros(config.pause_micros));
        }
        match config.mode {
            Mode::Unsync => {
                let read = shared.atomic.load(Ordering::Relaxed);
                let local_copy = read + delta;
                let stop = match lockstep {
                    Some(b) => lockstep_round(b, &shared.lockstep_stop, cancel),
                    None => {
                        gap(config.gap);
                        false
                    }
                };
                shared.atomic.store(local_copy, Ordering::Relaxed);
                if stop {
                    done += 1;
                    break;
                }
            }
            Mode::Mutex => {
                // A poisoned lock only means another worker panicked; the count is still an i64.
                let mut v = shared.mutex.lock().unwrap_or_else(|p| p.into_inner());
                let local_copy = *v + delta;
                gap(config.gap);
                *v = local_copy;
            }
            Mode::RwLock => {
                let mut v = shared.rwlock.write().unwrap_or_else(|p| p.into_inner());
                let local_copy = *v + delta;
                gap(config.gap);
                *v = local_copy;
            }
            Mode::Atomic => {
                shared.atomic.fetch_add(delta, Ordering::Relaxed);
            }
            Mode::Sharded => {
                local = std::hint::black_box(local + delta);
            }
        }
        done += 1;
    }
    (done, local)
}

/// Runs `repeat` races one after another, calling `on_run` after each; stops early when cancelled.
pub fn run_repeated(
    config: &RaceConfig,
    repeat: usize,
    cancel: &AtomicBool,
    mut on_run: impl FnMut(usize, &RaceResult),
) -> Result<Vec<RaceResult>, RaceError> {
    config.validate()?;
    let mut runs = Vec::with_capacity(repeat);
    for i in 0..repeat {
        if cancel.load(Ordering::Relaxed) {
            break;
        }
        let r = run_race(config, cancel)?;
        on_run(i, &r);
        runs.push(r);
    }
    Ok(runs)
}

/// Summary of lost updates over repeated runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LostSummary {
    pub runs: usize,
    pub min: u64,
    pub median: f64,
    pub mean: f64,
    pub max: u64,
    /// Runs that lost at least one update.
    pub runs_with_loss: usize,
    pub median_wall_nanos: f64,
}

pub fn summarise(runs: &[RaceResult]) -> Option<LostSummary> {
    if runs.is_empty() {
        return None;
    }
    let mut lost: Vec<f64> = runs.iter().map(|r| r.lost as f64).collect();
    lost.sort_by(f64::total_cmp);
    let mut wall: Vec<f64> = runs.iter().map(|r| r.wall_nanos as f64).collect();
    wall.sort_by(f64::total_cmp);
    Some(LostSummary {
        runs: runs.len(),
        min: runs.iter().map(|r| r.lost).min().unwrap_or(0),
        median: median(&lost),
        mean: lost.iter().sum::<f64>() / lost.len() as f64,
        max: runs.iter().map(|r| r.lost).max().unwrap_or(0),
        runs_with_loss: runs.iter().filter(|r| r.lost > 0).count(),
        median_wall_nanos: median(&wall),
    })
}

/// One histogram bar: runs whose lost count is in `lo..=hi`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Bin {
    pub lo: u64,
    pub hi: u64,
    pub count: usize,
}

/// Histogram of lost updates per run: at most `max_bins` bars. Runs that lost
/// nothing get a bar of their own (0..=0), so "nothing lost" never hides among
/// "a few lost"; the rest are equal-width bars covering their min..=max.
pub fn lost_histogram(runs: &[RaceResult], max_bins: usize) -> Vec<Bin> {
    let zero = runs.iter().filter(|r| r.lost == 0).count();
    let lossy: Vec<u64> = runs.iter().map(|r| r.lost).filter(|&l| l > 0).collect();
    let mut out = Vec::new();
    if zero > 0 {
        out.push(Bin {
            lo: 0,
            hi: 0,
            count: zero,
        });
    }
    let (Some(&min), Some(&max)) = (lossy.iter().min(), lossy.iter().max()) else {
        return out;
    };
    let span = max - min + 1;
    let bins = (max_bins.saturating_sub(out.len()).max(1) as u64).min(span);
    let width = span.div_ceil(bins);
    let n = span.div_ceil(width);
    let first = out.len();
    out.extend((0..n).map(|i| Bin {
        lo: min + i * width,
        hi: (min + (i + 1) * width - 1).min(max),
        count: 0,
    }));
    for l in lossy {
        out[first + ((l - min) / width) as usize].count += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(mode: Mode, threads: usize, increments: u64) -> RaceConfig {
        RaceConfig {
            num_threads: threads,
            increments,
            mode,
            ..RaceConfig::default()
        }
    }

    fn go(c: &RaceConfig) -> RaceResult {
        run_race(c, &AtomicBool::new(false)).expect("run")
    }

    #[test]
    fn synchronised_modes_lose_nothing() {
        for mode in [Mode::Mutex, Mode::Atomic, Mode::Sharded, Mode::RwLock] {
            for threads in [2, 4, 8] {
                let increments = 1_000_000 / threads as u64 + 1; // ≥ 10⁶ in all
                let r = go(&cfg(mode, threads, increments));
                assert!(r.performed >= 1_000_000);
                assert_eq!(r.expected, (threads as u64 * increments) as i64);
                assert_eq!(r.actual, r.expected, "{mode:?} at {threads} threads");
                assert_eq!(r.lost, 0);
                assert!(!r.cancelled);
            }
        }
    }

    #[test]
    fn lockstep_unsync_loses_all_but_one_per_round() {
        // Deterministic: every thread reads before any writes, so each round adds exactly 1.
        for threads in [2, 3, 8] {
            let mut c = cfg(Mode::Unsync, threads, 50);
            c.gap = Gap::Lockstep;
            let r = go(&c);
            assert_eq!(r.actual, 50);
            assert_eq!(r.lost, (threads as u64 - 1) * 50);
        }
    }

    #[test]
    fn unsync_with_a_sleep_between_read_and_write_loses_updates() {
        // thread2.py: both threads start on a barrier, read, sleep 20 ms, write. Losing
        // nothing would need the OS to keep the second thread off every core for 20 ms,
        // five times in a row.
        let mut c = cfg(Mode::Unsync, 2, 5);
        c.gap = Gap::SleepMicros(20_000);
        let r = go(&c);
        assert!(r.lost >= 1, "{r:?}");
        assert!(r.actual < r.expected);
    }

    #[test]
    fn serialised_launch_loses_nothing_even_with_a_sleep() {
        let mut c = cfg(Mode::Unsync, 2, 3);
        c.gap = Gap::SleepMicros(1_000);
        c.launch = Launch::Serialised;
        let r = go(&c);
        assert_eq!((r.actual, r.lost), (6, 0));
    }

    #[test]
    fn add_subtract_with_a_lock_ends_at_zero() {
        let mut c = cfg(Mode::Mutex, 2, 10_000);
        c.direction = Direction::AddSubtract;
        c.gap = Gap::Yield;
        let r = go(&c);
        assert_eq!((r.expected, r.actual, r.lost), (0, 0, 0));
    }

    #[test]
    fn bad_configs_are_refused() {
        assert!(cfg(Mode::Atomic, 0, 10).validate().is_err());
        assert!(cfg(Mode::Atomic, 65, 10).validate().is_err());
        assert!(cfg(Mode::Atomic, 2, 0).validate().is_err());
        assert!(cfg(Mode::Atomic, 2, MAX_INCREMENTS + 1).validate().is_err());
        let mut c = cfg(Mode::Unsync, 2, 10);
        c.gap = Gap::SleepMicros(MAX_DELAY_MICROS + 1);
        assert!(run_race(&c, &AtomicBool::new(false)).is_err());
        assert_eq!("RwLock".parse::<Mode>().ok(), Some(Mode::RwLock));
        assert!("spin".parse::<Mode>().is_err());
    }

    #[test]
    fn a_cancelled_lockstep_run_stops_every_thread_together() {
        let mut c = cfg(Mode::Unsync, 4, MAX_INCREMENTS);
        c.gap = Gap::Lockstep;
        let r = run_race(&c, &AtomicBool::new(true)).expect("run");
        assert!(r.cancelled);
        // One round, then everyone stops: each thread did exactly one increment.
        assert_eq!((r.performed, r.actual), (4, 1));
        // Inside a lock, lockstep means no gap, and cancelling works as usual.
        let mut m = cfg(Mode::Mutex, 2, MAX_INCREMENTS);
        m.gap = Gap::Lockstep;
        assert_eq!(
            run_race(&m, &AtomicBool::new(true)).expect("run").performed,
            0
        );
    }

    #[test]
    fn cancel_stops_a_long_run() {
        let mut c = cfg(Mode::Unsync, 2, MAX_INCREMENTS);
        c.gap = Gap::SleepMicros(1000);
        let r = run_race(&c, &AtomicBool::new(true)).expect("run");
        assert!(r.cancelled);
        assert_eq!(r.performed, 0);
    }

    #[test]
    fn histogram_covers_every_run() {
        let mk = |lost| RaceResult::new(cfg(Mode::Atomic, 1, 100), 100 - lost as i64, 100, 1, 100);
        let runs: Vec<_> = [0u64, 3, 3, 7, 10, 10, 10].into_iter().map(mk).collect();
        let h = lost_histogram(&runs, 4);
        assert_eq!(h.len(), 4);
        assert_eq!(h.iter().map(|b| b.count).sum::<usize>(), runs.len());
        // The run that lost nothing has its own bar.
        assert_eq!(
            h[0],
            Bin {
                lo: 0,
                hi: 0,
                count: 1
            }
        );
        assert_eq!(h[1].lo, 3);
        assert_eq!(h.last().map(|b| b.hi), Some(10));
        assert_eq!(h.last().map(|b| b.count), Some(3));
        let s = summarise(&runs).expect("summary");
        assert_eq!((s.min, s.max, s.median, s.runs_with_loss), (0, 10, 7.0, 6));
        assert_eq!(lost_histogram(&runs[..1], 10).len(), 1);
    }
}
