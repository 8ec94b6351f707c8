//! Operations per second against thread count, for several ways of sharing a counter.
//!
//! Every kind runs the same total number of operations, split evenly across the
//! threads, which start together on a barrier. Points stream out as they are
//! measured so a plot can grow live.

use super::LocksError;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Barrier, Mutex, RwLock};
use std::time::Instant;

/// Most threads a throughput run starts.
pub const MAX_THREADS: usize = 64;
/// Most operations per measurement.
pub const MAX_OPS: u64 = 100_000_000;

/// Bytes each padded counter occupies. 128, not 64: x86 cores (Intel since Sandy
/// Bridge, AMD Zen) have 64-byte lines but the L2's adjacent-line prefetcher pulls
/// lines in 128-byte pairs, so two counters 64 bytes apart still interfere;
/// Apple M-series lines are 128 bytes. (crossbeam's `CachePadded` uses 128 on x86-64 too.)
pub const PAD_BYTES: usize = 128;

/// A counter alone on its (pair of) cache line(s).
#[repr(align(128))]
#[derive(Default)]
pub struct Padded(pub AtomicU64);

/// What is being measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LockKind {
    /// One thread, a `Mutex` nobody else wants: the price of lock + unlock
    /// alone. The same loop and the same measurement as `Mutex` at one thread
    /// (a sweep with both measures it once, see [`run_throughput`]).
    Uncontended,
    Mutex,
    /// `RwLock`, 90 % reads, 10 % writes.
    RwLockReadHeavy,
    /// `RwLock`, 10 % reads, 90 % writes.
    RwLockWriteHeavy,
    /// One shared `AtomicU64`, `fetch_add`.
    Atomic,
    /// One counter per thread, each on its own 128-byte block.
    PaddedCounters,
    /// One counter per thread, side by side in one array: false sharing.
    PackedCounters,
}

impl LockKind {
    pub const ALL: [LockKind; 7] = [
        LockKind::Uncontended,
        LockKind::Mutex,
        LockKind::RwLockReadHeavy,
        LockKind::RwLockWriteHeavy,
        LockKind::Atomic,
        LockKind::PaddedCounters,
        LockKind::PackedCounters,
    ];

    pub fn name(self) -> &'static str {
        match self {
            LockKind::Uncontended => "uncontended",
            LockKind::Mutex => "mutex",
            LockKind::RwLockReadHeavy => "rwlock-read-heavy",
            LockKind::RwLockWriteHeavy => "rwlock-write-heavy",
            LockKind::Atomic => "atomic",
            LockKind::PaddedCounters => "padded-counters",
            LockKind::PackedCounters => "packed-counters",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            LockKind::Uncontended => "uncontended Mutex (1 thread)",
            LockKind::Mutex => "Mutex",
            LockKind::RwLockReadHeavy => "RwLock 90% reads",
            LockKind::RwLockWriteHeavy => "RwLock 10% reads",
            LockKind::Atomic => "atomic fetch_add",
            LockKind::PaddedCounters => "per-thread, padded (128 B)",
            LockKind::PackedCounters => "per-thread, packed (false sharing)",
        }
    }

    /// The baseline runs on one thread whatever the thread count.
    pub fn single_threaded(self) -> bool {
        self == LockKind::Uncontended
    }

    /// Percent of operations that only read (RwLock mixes).
    pub fn read_percent(self) -> u32 {
        match self {
            LockKind::RwLockReadHeavy => 90,
            LockKind::RwLockWriteHeavy => 10,
            _ => 0,
        }
    }
}

impl std::str::FromStr for LockKind {
    type Err = LocksError;
    fn from_str(s: &str) -> Result<Self, LocksError> {
        LockKind::ALL
            .into_iter()
            .find(|k| k.name() == s.trim())
            .ok_or_else(|| {
                let names: Vec<_> = LockKind::ALL.iter().map(|k| k.name()).collect();
                LocksError::UnknownKind {
                    input: s.to_string(),
                    known: names.join(", "),
                }
            })
    }
}

/// A throughput sweep.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ThroughputConfig {
    pub thread_counts: Vec<usize>,
    /// Operations per measurement, split across the threads.
    pub ops: u64,
    pub kinds: Vec<LockKind>,
    /// Measurements per point (the spread is shown).
    pub repeats: usize,
}

impl Default for ThroughputConfig {
    fn default() -> Self {
        ThroughputConfig {
            thread_counts: vec![1, 2, 4, 8],
            ops: 2_000_000,
            kinds: LockKind::ALL.to_vec(),
            repeats: 3,
        }
    }
}

impl ThroughputConfig {
    pub fn validate(&self) -> Result<(), LocksError> {
        if self.thread_counts.is_empty() {
            return Err(LocksError::NoThreadCounts);
        }
        if let Some(&t) = self
            .thread_counts
            .iter()
            .find(|&&t| !(1..=MAX_THREADS).contains(&t))
        {
            return Err(LocksError::ThreadCount {
                got: t,
                max: MAX_THREADS,
            });
        }
        if !(1..=MAX_OPS).contains(&self.ops) {
            return Err(LocksError::Ops {
                got: self.ops,
                max: MAX_OPS,
            });
        }
        if self.kinds.is_empty() {
            return Err(LocksError::NoKinds);
        }
        if !(1..=50).contains(&self.repeats) {
            return Err(LocksError::Repeats {
                got: self.repeats,
                max: 50,
            });
        }
        Ok(())
    }
}

/// One measured point: a kind at a thread count.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ThroughputPoint {
    pub kind: LockKind,
    /// Threads that ran (1 for the uncontended baseline).
    pub num_threads: usize,
    pub ops: u64,
    /// Operations per second of each repeat.
    pub samples_ops_per_sec: Vec<f64>,
    pub median_ops_per_sec: f64,
    pub min_ops_per_sec: f64,
    pub max_ops_per_sec: f64,
    /// The counter's final value equalled the writes performed (a check, not a measurement).
    pub counted_right: bool,
}

/// Runs the sweep, calling `on_point` as each point is ready. Returns all points.
/// The baseline is measured once (on one thread), not per thread count.
pub fn run_throughput(
    config: &ThroughputConfig,
    cancel: &AtomicBool,
    mut on_point: impl FnMut(&ThroughputPoint),
) -> Result<Vec<ThroughputPoint>, LocksError> {
    config.validate()?;
    let mut points = Vec::new();
    // The uncontended baseline and the Mutex at one thread are the same loop
    // on one thread: measured once and reported under both, so the two figures
    // can never disagree (measured separately they differed by run-to-run
    // noise alone, up to ~30 % on a busy 2-core machine).
    let mut one_thread_mutex: Option<(Vec<f64>, bool)> = None;
    for &kind in &config.kinds {
        let counts: Vec<usize> = if kind.single_threaded() {
            vec![1]
        } else {
            config.thread_counts.clone()
        };
        for threads in counts {
            if cancel.load(Ordering::Relaxed) {
                return Ok(points);
            }
            let same_as_one_thread_mutex =
                matches!(kind, LockKind::Uncontended | LockKind::Mutex) && threads == 1;
            let (samples, counted_right) = match &one_thread_mutex {
                Some(done) if same_as_one_thread_mutex => done.clone(),
                _ => {
                    let mut samples = Vec::with_capacity(config.repeats);
                    let mut counted_right = true;
                    for _ in 0..config.repeats {
                        let (wall_nanos, ok) = measure(kind, threads, config.ops, cancel)?;
                        if cancel.load(Ordering::Relaxed) {
                            // A cut-short measurement is not a measurement.
                            return Ok(points);
                        }
                        counted_right &= ok;
                        samples.push(config.ops as f64 / (wall_nanos.max(1) as f64 * 1e-9));
                    }
                    if same_as_one_thread_mutex {
                        one_thread_mutex = Some((samples.clone(), counted_right));
                    }
                    (samples, counted_right)
                }
            };
            let mut sorted = samples.clone();
            sorted.sort_by(f64::total_cmp);
            let p = ThroughputPoint {
                kind,
                num_threads: threads,
                ops: config.ops,
                median_ops_per_sec: sorted[sorted.len() / 2],
                min_ops_per_sec: sorted[0],
                max_ops_per_sec: sorted[sorted.len() - 1],
                samples_ops_per_sec: samples,
                counted_right,
            };
            on_point(&p);
            points.push(p);
        }
    }
    Ok(points)
}

/// Cheap per-thread random numbers for the read/write mix (xorshift64).
fn next_random(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// Shared state for one measurement.
struct Shared {
    mutex: Mutex<u64>,
    rwlock: RwLock<u64>,
    atomic: AtomicU64,
    padded: Vec<Padded>,
    packed: Vec<AtomicU64>,
}

/// One measurement: (wall ns from barrier to last join, counter check).
/// Operations between two looks at the cancel flag (one relaxed load per chunk: negligible).
const CHUNK_OPS: u64 = 1 << 16;

/// One measurement; stops early (with a consistent count) when `cancel` is set.
pub fn measure(
    kind: LockKind,
    num_threads: usize,
    ops: u64,
    cancel: &AtomicBool,
) -> Result<(u64, bool), LocksError> {
    let threads = if kind.single_threaded() {
        1
    } else {
        num_threads
    };
    let shared = Shared {
        mutex: Mutex::new(0),
        rwlock: RwLock::new(0),
        atomic: AtomicU64::new(0),
        padded: (0..threads).map(|_| Padded::default()).collect(),
        packed: (0..threads).map(|_| AtomicU64::new(0)).collect(),
    };
    let per_thread: Vec<u64> = (0..threads as u64)
        .map(|t| ops / threads as u64 + u64::from(t < ops % threads as u64))
        .collect();
    let start = Barrier::new(threads + 1);
    let origin = Instant::now();
    let (wall_nanos, writes) = std::thread::scope(|s| {
        let mut handles = Vec::new();
        for (t, &n) in per_thread.iter().enumerate() {
            let (shared, start) = (&shared, &start);
            let h = std::thread::Builder::new()
                .name(format!("parlab-locks-{t}"))
                .spawn_scoped(s, move || {
                    start.wait();
                    // Each thread times itself: the main thread may be descheduled
                    // right after the barrier and would miss the start.
                    let begin = origin.elapsed();
                    let mut rng = 0x9E37_79B9_7F4A_7C15u64
                        ^ (t as u64 + 1).wrapping_mul(0xD1B5_4A32_D192_ED03);
                    let (mut writes, mut left) = (0, n);
                    while left > 0 && !cancel.load(Ordering::Relaxed) {
                        let chunk = left.min(CHUNK_OPS);
                        writes += op_loop(kind, t, chunk, shared, &mut rng);
                        left -= chunk;
                    }
                    (begin, origin.elapsed(), writes)
                })
                .map_err(|e| LocksError::Spawn {
                    thread: t,
                    source: e,
                });
            match h {
                Ok(h) => handles.push(h),
                Err(e) => {
                    // Open the barrier for those already waiting; they run their share and exit.
                    std::thread::scope(|s2| {
                        for _ in t..threads {
                            s2.spawn(|| start.wait());
                        }
                        start.wait();
                    });
                    return Err(e);
                }
            }
        }
        start.wait();
        let mut writes = 0;
        let (mut first, mut last) = (None, None);
        for h in handles {
            let (begin, end, w) = h.join().map_err(|_| LocksError::Panicked {
                what: "lock worker",
            })?;
            writes += w;
            first = Some(first.map_or(begin, |f: std::time::Duration| f.min(begin)));
            last = Some(last.map_or(end, |l: std::time::Duration| l.max(end)));
        }
        let wall = last
            .unwrap_or_default()
            .saturating_sub(first.unwrap_or_default());
        Ok((wall.as_nanos() as u64, writes))
    })?;
    let total = match kind {
        LockKind::Uncontended | LockKind::Mutex => {
            *shared.mutex.lock().map_err(|_| LocksError::Poisoned)?
        }
        LockKind::RwLockReadHeavy | LockKind::RwLockWriteHeavy => {
            *shared.rwlock.read().map_err(|_| LocksError::Poisoned)?
        }
        LockKind::Atomic => shared.atomic.load(Ordering::SeqCst),
        LockKind::PaddedCounters => shared
            .padded
            .iter()
            .map(|p| p.0.load(Ordering::SeqCst))
            .sum(),
        LockKind::PackedCounters => shared.packed.iter().map(|p| p.load(Ordering::SeqCst)).sum(),
    };
    Ok((wall_nanos, total == writes))
}

/// Runs `n` operations; returns how many of them wrote (incremented).
fn op_loop(kind: LockKind, t: usize, n: u64, shared: &Shared, rng: &mut u64) -> u64 {
    let mut writes = 0;
    let mut seen = 0u64;
    match kind {
        LockKind::Uncontended | LockKind::Mutex => {
            for _ in 0..n {
                *shared.mutex.lock().unwrap_or_else(|p| p.into_inner()) += 1;
            }
            writes = n;
        }
        LockKind::RwLockReadHeavy | LockKind::RwLockWriteHeavy => {
            let read_percent = u64::from(kind.read_percent());
            for _ in 0..n {
                if next_random(rng) % 100 < read_percent {
                    seen =
                        seen.wrapping_add(*shared.rwlock.read().unwrap_or_else(|p| p.into_inner()));
                } else {
                    *shared.rwlock.write().unwrap_or_else(|p| p.into_inner()) += 1;
                    writes += 1;
                }
            }
        }
        LockKind::Atomic => {
            for _ in 0..n {
                shared.atomic.fetch_add(1, Ordering::Relaxed);
            }
            writes = n;
        }
        // The same `fetch_add` as the shared atomic, each thread on its own counter: the
        // only difference between the three is which cache line is shared (one counter:
        // true sharing; packed: false sharing; padded: none). A plain load and store
        // would let the compiler keep the value in a register and measure nothing.
        LockKind::PaddedCounters => {
            let c = &shared.padded[t].0;
            for _ in 0..n {
                c.fetch_add(1, Ordering::Relaxed);
            }
            writes = n;
        }
        LockKind::PackedCounters => {
            let c = &shared.packed[t];
            for _ in 0..n {
                c.fetch_add(1, Ordering::Relaxed);
            }
            writes = n;
        }
    }
    std::hint::black_box(seen);
    writes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_is_what_we_say() {
        assert_eq!(std::mem::align_of::<Padded>(), PAD_BYTES);
        assert_eq!(std::mem::size_of::<Padded>(), PAD_BYTES);
        let v: Vec<Padded> = (0..2).map(|_| Padded::default()).collect();
        let a = std::ptr::addr_of!(v[0]) as usize;
        let b = std::ptr::addr_of!(v[1]) as usize;
        assert_eq!(b - a, PAD_BYTES);
    }

    #[test]
    fn every_kind_counts_right_and_streams_its_points() {
        let config = ThroughputConfig {
            thread_counts: vec![1, 3],
            ops: 30_001,
            kinds: LockKind::ALL.to_vec(),
            repeats: 2,
        };
        let mut streamed = 0;
        let points =
            run_throughput(&config, &AtomicBool::new(false), |_| streamed += 1).expect("run");
        // Baseline once, six kinds at two counts.
        assert_eq!(points.len(), 1 + 6 * 2);
        assert_eq!(streamed, points.len());
        for p in &points {
            assert!(p.counted_right, "{:?} at {}", p.kind, p.num_threads);
            assert_eq!(p.samples_ops_per_sec.len(), 2);
            assert!(p.min_ops_per_sec <= p.median_ops_per_sec);
            assert!(p.median_ops_per_sec <= p.max_ops_per_sec);
        }
    }

    #[test]
    fn the_baseline_and_the_mutex_at_one_thread_are_one_measurement() {
        let config = ThroughputConfig {
            thread_counts: vec![1, 2],
            ops: 20_000,
            kinds: vec![LockKind::Uncontended, LockKind::Mutex],
            repeats: 3,
        };
        let points = run_throughput(&config, &AtomicBool::new(false), |_| {}).expect("run");
        let find = |kind, n| {
            points
                .iter()
                .find(|p| p.kind == kind && p.num_threads == n)
                .expect("point")
        };
        let (base, one) = (find(LockKind::Uncontended, 1), find(LockKind::Mutex, 1));
        assert_eq!(base.samples_ops_per_sec, one.samples_ops_per_sec);
        assert_eq!(base.median_ops_per_sec, one.median_ops_per_sec);
        // Two threads are measured on their own.
        assert_ne!(
            find(LockKind::Mutex, 2).samples_ops_per_sec,
            one.samples_ops_per_sec
        );
    }

    #[test]
    fn bad_sweeps_are_refused() {
        let ok = ThroughputConfig::default();
        assert!(ok.validate().is_ok());
        for bad in [
            ThroughputConfig {
                thread_counts: vec![],
                ..ok.clone()
            },
            ThroughputConfig {
                thread_counts: vec![0],
                ..ok.clone()
            },
            ThroughputConfig {
                ops: 0,
                ..ok.clone()
            },
            ThroughputConfig {
                kinds: vec![],
                ..ok.clone()
            },
        ] {
            assert!(bad.validate().is_err());
        }
        assert_eq!("atomic".parse::<LockKind>().ok(), Some(LockKind::Atomic));
        assert!("spin".parse::<LockKind>().is_err());
    }

    #[test]
    fn a_cancelled_measurement_stops_with_a_consistent_count() {
        for kind in LockKind::ALL {
            let (_, ok) = measure(kind, 4, MAX_OPS, &AtomicBool::new(true)).expect("measure");
            assert!(ok, "{kind:?}");
        }
    }

    #[test]
    fn a_cancelled_sweep_stops() {
        let points = run_throughput(&ThroughputConfig::default(), &AtomicBool::new(true), |_| {})
            .expect("run");
        assert!(points.is_empty());
    }
}
