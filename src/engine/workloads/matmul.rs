//! Divide-and-conquer matrix multiplication (the course's exercise), with work and span
//! measured by instrumenting the recursion.
//!
//! # The algorithm (the course's MULT with a temporary)
//! For n > cutoff, split A, B, C into quadrants, allocate a temporary T, run
//! the eight half-size products in parallel (two groups of four under nested
//! `rayon::join`): C₁₁=A₁₁B₁₁, C₁₂=A₁₁B₁₂, C₂₁=A₂₁B₁₁, C₂₂=A₂₁B₁₂ and
//! T₁₁=A₁₂B₂₁, T₁₂=A₁₂B₂₂, T₂₁=A₂₂B₂₁, T₂₂=A₂₂B₂₂; sync; then C += T with the
//! course's ADD (four-way parallel split down to the cutoff). The two products
//! that meet in each quadrant of C write to different buffers, so the eight
//! are independent and nothing races. At n ≤ cutoff a serial i-k-j kernel runs.
//!
//! Recurrences (master theorem, a=8 or 1, b=2):
//! * work  M₁(n) = 8·M₁(n/2) + A₁(n), A₁(n) = 4·A₁(n/2) + Θ(1) = Θ(n²) ⇒ M₁ = Θ(n³);
//! * span  M∞(n) = M∞(n/2) + A∞(n),   A∞(n) = A∞(n/2) + Θ(1) = Θ(log n) ⇒ M∞ = Θ(log² n);
//!   with a cutoff c the leaves cost Θ(c³) and Θ(c²), so
//!   M∞(n) = Θ(c³ + log(n/c)·c² + log²(n/c)): it barely grows with n.
//!
//! (The alternative without T runs the two products of each quadrant one
//! after the other: span M∞(n) = 2·M∞(n/2) + Θ(1) = Θ(n), no extra memory.)
//!
//! # Storage
//! Matrices are converted to a recursive block (Z-order) layout in which every
//! quadrant is a contiguous quarter of the slice, down to cutoff×cutoff
//! row-major blocks; `split_at_mut` then hands the quadrants to the parallel
//! branches in safe Rust.
//!
//! # Measuring work and span (and why the Brent checks cannot flake)
//! Every *segment* of sequential code (a leaf product, a leaf addition, the
//! allocation and the freeing of T) is timed with integer nanoseconds from one
//! origin. Work T₁ = Σ segments. Span T∞ of a call = its own segments +
//! max over its parallel children (for the products, and for the additions).
//! Two inequalities then hold *structurally*, for any timings:
//! * T∞ ≤ T_P: by induction every call's span ≤ its own wall interval,
//!   because a child's timestamps are all read after the parent read the time
//!   before spawning it and before the parent's join returns, and the children
//!   of one phase are summed only through `max`; the root's wall interval is
//!   inside T_P.
//! * T₁/P ≤ T_P: no segment contains a `join`, so a thread never runs two
//!   segments at once; each thread's segments are disjoint and inside T_P, and
//!   at most P threads run them, so Σ segments ≤ P·T_P.
//!
//! The monotonic clock is shared by all cores and the pool's synchronisation
//! orders the reads, so no noise can break either inequality. T₁ measured
//! inside a P-worker run includes contention (shared caches, memory bus), so
//! a 1-worker run's wall time is reported beside it; the Brent upper bound
//! T_P ≤ T₁/P + T∞ is *reported*, not asserted (scheduling overhead is real).
//!
//! # Exactness
//! Inputs are small integers (−4..=4) stored as f64. Every product and partial
//! sum is then an integer of magnitude ≤ 16·n < 2⁵³, so every summation order
//! gives exactly the same result: the parallel product equals the plain
//! triple-loop serial product bit for bit.

use crate::engine::exec::trace::{TaskRecord, Trace};
use crate::engine::util::rng::SplitMix64;
use crate::engine::workloads::WorkloadError;
use rayon::ThreadPool;
use serde::{Deserialize, Serialize};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Instant;

mod leaves;
pub use leaves::{MAX_LEAF_BYTES, MatmulLeaves};

/// Largest matrix edge accepted.
pub const MAX_N: usize = 2048;

/// A square row-major matrix.
#[derive(Clone, Debug, PartialEq)]
pub struct Matrix {
    pub n: usize,
    pub data: Vec<f64>,
}

impl Matrix {
    /// Entries are integers in −4..=4 from splitmix64(`seed`).
    pub fn random_small_ints(n: usize, seed: u64) -> Self {
        let mut g = SplitMix64::new(seed);
        let data = (0..n * n)
            .map(|_| (g.next_u64() % 9) as f64 - 4.0)
            .collect();
        Matrix { n, data }
    }
}

/// The plain triple loop, `C[i][j] = Σₖ A[i][k]·B[k][j]`: the reference.
pub fn matmul_serial(a: &Matrix, b: &Matrix) -> Matrix {
    let n = a.n;
    let mut data = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            let mut s = 0.0;
            for k in 0..n {
                s += a.data[i * n + k] * b.data[k * n + j];
            }
            data[i * n + j] = s;
        }
    }
    Matrix { n, data }
}

/// Checks `n` and `cutoff`: powers of two, 1 ≤ cutoff ≤ n ≤ [`MAX_N`].
pub fn check_sizes(n: usize, cutoff: usize) -> Result<(), WorkloadError> {
    if !n.is_power_of_two() || n > MAX_N {
        return Err(WorkloadError::MatmulN { got: n, max: MAX_N });
    }
    if !cutoff.is_power_of_two() || cutoff > n {
        return Err(WorkloadError::MatmulCutoff { got: cutoff, n });
    }
    Ok(())
}

/// Row-major → Z-order blocks of `cutoff`×`cutoff`.
pub fn to_z(m: &Matrix, cutoff: usize) -> Vec<f64> {
    fn rec(m: &Matrix, r0: usize, c0: usize, s: usize, cutoff: usize, out: &mut Vec<f64>) {
        if s <= cutoff {
            for r in r0..r0 + s {
                out.extend_from_slice(&m.data[r * m.n + c0..r * m.n + c0 + s]);
            }
        } else {
            let h = s / 2;
            rec(m, r0, c0, h, cutoff, out);
            rec(m, r0, c0 + h, h, cutoff, out);
            rec(m, r0 + h, c0, h, cutoff, out);
            rec(m, r0 + h, c0 + h, h, cutoff, out);
        }
    }
    let mut out = Vec::with_capacity(m.n * m.n);
    rec(m, 0, 0, m.n, cutoff, &mut out);
    out
}

/// Z-order blocks → row-major.
pub fn from_z(z: &[f64], n: usize, cutoff: usize) -> Matrix {
    fn rec(z: &[f64], m: &mut Matrix, r0: usize, c0: usize, s: usize, cutoff: usize) {
        if s <= cutoff {
            for (k, r) in (r0..r0 + s).enumerate() {
                let row = r * m.n + c0;
                m.data[row..row + s].copy_from_slice(&z[k * s..(k + 1) * s]);
            }
        } else {
            let h = s / 2;
            let q = h * h;
            rec(&z[..q], m, r0, c0, h, cutoff);
            rec(&z[q..2 * q], m, r0, c0 + h, h, cutoff);
            rec(&z[2 * q..3 * q], m, r0 + h, c0, h, cutoff);
            rec(&z[3 * q..], m, r0 + h, c0 + h, h, cutoff);
        }
    }
    let mut m = Matrix {
        n,
        data: vec![0.0; n * n],
    };
    rec(z, &mut m, 0, 0, n, cutoff);
    m
}

/// c = a·b for s×s row-major blocks (i-k-j order, c overwritten).
fn leaf_mul(c: &mut [f64], a: &[f64], b: &[f64], s: usize) {
    c.fill(0.0);
    for i in 0..s {
        let crow = &mut c[i * s..(i + 1) * s];
        for k in 0..s {
            let aik = a[i * s + k];
            for (cv, bv) in crow.iter_mut().zip(&b[k * s..(k + 1) * s]) {
                *cv += aik * bv;
            }
        }
    }
}

fn quarters(x: &[f64]) -> [&[f64]; 4] {
    let q = x.len() / 4;
    [&x[..q], &x[q..2 * q], &x[2 * q..3 * q], &x[3 * q..]]
}

fn quarters_mut(x: &mut [f64]) -> [&mut [f64]; 4] {
    let q = x.len() / 4;
    let (x1, rest) = x.split_at_mut(q);
    let (x2, rest) = rest.split_at_mut(q);
    let (x3, x4) = rest.split_at_mut(q);
    [x1, x2, x3, x4]
}

/// Measured work and span of one call, in nanoseconds, and the number of
/// `rayon::join`s on its critical path (for the burdened span).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct WorkSpan {
    work: u64,
    span: u64,
    joins: u64,
}

impl WorkSpan {
    fn segment(start: u64, end: u64) -> Self {
        let d = end - start;
        WorkSpan {
            work: d,
            span: d,
            joins: 0,
        }
    }
    /// Parallel composition: work adds, span is the longest branch (and its joins).
    fn par(self, o: Self) -> Self {
        let longer = if (o.span, o.joins) > (self.span, self.joins) {
            o
        } else {
            self
        };
        WorkSpan {
            work: self.work + o.work,
            span: longer.span,
            joins: longer.joins,
        }
    }
    /// Sequential composition: all add.
    fn then(self, o: Self) -> Self {
        WorkSpan {
            work: self.work + o.work,
            span: self.span + o.span,
            joins: self.joins + o.joins,
        }
    }
    /// `k` nested joins lie between this call and every one of its children.
    fn joined(self, k: u64) -> Self {
        WorkSpan {
            joins: self.joins + k,
            ..self
        }
    }
}

/// Per-run instrumentation: the clock origin and the leaf records.
struct Probe {
    origin: Instant,
    cutoff: usize,
    records: Mutex<Vec<TaskRecord>>,
    products: AtomicU32,
}

impl Probe {
    fn now(&self) -> u64 {
        self.origin.elapsed().as_nanos() as u64
    }
    fn record(&self, start: u64, end: u64, work: u64) {
        let mut recs = self.records.lock().unwrap_or_else(|p| p.into_inner());
        let task = recs.len() as u32;
        recs.push(TaskRecord {
            task,
            worker: rayon::current_thread_index().unwrap_or(0) as u32,
            start_nanos: start,
            end_nanos: end,
            work,
            cpu: None,
        });
    }

    /// c = a·b (the course's MULT).
    fn mult(&self, c: &mut [f64], a: &[f64], b: &[f64], s: usize) -> WorkSpan {
        if s <= self.cutoff {
            let t0 = self.now();
            leaf_mul(c, a, b, s);
            let t1 = self.now();
            self.record(t0, t1, (s * s * s) as u64);
            self.products.fetch_add(1, Ordering::Relaxed);
            return WorkSpan::segment(t0, t1);
        }
        let t0 = self.now();
        let mut t = vec![0.0; s * s];
        let t1 = self.now();
        let alloc = WorkSpan::segment(t0, t1);
        let h = s / 2;
        let [a11, a12, a21, a22] = quarters(a);
        let [b11, b12, b21, b22] = quarters(b);
        let [c11, c12, c21, c22] = quarters_mut(c);
        let [t11, t12, t21, t22] = quarters_mut(&mut t);
        let (into_c, into_t) = rayon::join(
            || {
                let ((w1, w2), (w3, w4)) = rayon::join(
                    || {
                        rayon::join(
                            || self.mult(c11, a11, b11, h),
                            || self.mult(c12, a11, b12, h),
                        )
                    },
                    || {
                        rayon::join(
                            || self.mult(c21, a21, b11, h),
                            || self.mult(c22, a21, b12, h),
                        )
                    },
                );
                w1.par(w2).par(w3).par(w4)
            },
            || {
                let ((w1, w2), (w3, w4)) = rayon::join(
                    || {
                        rayon::join(
                            || self.mult(t11, a12, b21, h),
                            || self.mult(t12, a12, b22, h),
                        )
                    },
                    || {
                        rayon::join(
                            || self.mult(t21, a22, b21, h),
                            || self.mult(t22, a22, b22, h),
                        )
                    },
                );
                w1.par(w2).par(w3).par(w4)
            },
        );
        let add = self.add(c, &t, s);
        let t2 = self.now();
        drop(t);
        let t3 = self.now();
        alloc
            // Every product sits under three nested joins.
            .then(into_c.par(into_t).joined(3))
            .then(add)
            .then(WorkSpan::segment(t2, t3))
    }

    /// c += t (the course's ADD).
    fn add(&self, c: &mut [f64], t: &[f64], s: usize) -> WorkSpan {
        if s <= self.cutoff {
            let t0 = self.now();
            for (cv, tv) in c.iter_mut().zip(t) {
                *cv += tv;
            }
            let t1 = self.now();
            self.record(t0, t1, (s * s) as u64);
            return WorkSpan::segment(t0, t1);
        }
        let h = s / 2;
        let [c1, c2, c3, c4] = quarters_mut(c);
        let [u1, u2, u3, u4] = quarters(t);
        let ((w1, w2), (w3, w4)) = rayon::join(
            || rayon::join(|| self.add(c1, u1, h), || self.add(c2, u2, h)),
            || rayon::join(|| self.add(c3, u3, h), || self.add(c4, u4, h)),
        );
        w1.par(w2).par(w3).par(w4).joined(2)
    }
}

/// Work, span and wall time of one divide-and-conquer run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkSpanMeasure {
    pub n: usize,
    pub cutoff: usize,
    pub num_workers: u32,
    /// T₁: Σ of every timed segment in this run.
    pub work_nanos: u64,
    /// T∞: the longest chain of dependent segments in this run.
    pub span_nanos: u64,
    /// `rayon::join`s on that chain (each costs a spawn and a sync).
    #[serde(default)]
    pub span_joins: u64,
    /// T_P: wall time of the whole recursion.
    pub wall_nanos: u64,
    /// Leaf products (8^depth) and leaf additions.
    pub leaf_products: u32,
    pub leaf_additions: u32,
    /// Every leaf as a task record (work: multiply-adds for products,
    /// additions for additions), with the worker that ran it.
    pub trace: Trace,
}

impl WorkSpanMeasure {
    /// T₁/T∞: how many workers the recursion could keep busy.
    pub fn parallelism(&self) -> f64 {
        self.work_nanos as f64 / self.span_nanos.max(1) as f64
    }
    /// Brent lower bound T₁/P (in ns).
    pub fn work_bound_nanos(&self) -> f64 {
        self.work_nanos as f64 / f64::from(self.num_workers.max(1))
    }
    /// The burdened span (as Cilkscale's): T∞ plus `join_overhead_nanos` for
    /// every join on the critical path.
    pub fn burdened_span_nanos(&self, join_overhead_nanos: f64) -> f64 {
        self.span_nanos as f64 + self.span_joins as f64 * join_overhead_nanos
    }
    /// Brent upper bound T₁/P + T∞ (in ns): what a greedy scheduler with no
    /// overhead would achieve at worst.
    pub fn brent_upper_nanos(&self) -> f64 {
        self.work_bound_nanos() + self.span_nanos as f64
    }
}

/// Multiplies in the pool with the 8-way recursion and measures it; returns
/// the product (row-major) and the measurement.
pub fn multiply_dc(
    a: &Matrix,
    b: &Matrix,
    cutoff: usize,
    pool: &ThreadPool,
) -> Result<(Matrix, WorkSpanMeasure), WorkloadError> {
    let n = a.n;
    check_sizes(n, cutoff)?;
    if b.n != n {
        return Err(WorkloadError::MatmulSizes { a: n, b: b.n });
    }
    let (az, bz) = (to_z(a, cutoff), to_z(b, cutoff));
    let mut cz = vec![0.0; n * n];
    let probe = Probe {
        origin: Instant::now(),
        cutoff,
        records: Mutex::new(Vec::new()),
        products: AtomicU32::new(0),
    };
    let (ws, start, end) = pool.install(|| {
        let start = probe.now();
        let ws = probe.mult(&mut cz, &az, &bz, n);
        let end = probe.now();
        (ws, start, end)
    });
    let leaf_products = probe.products.load(Ordering::Relaxed);
    let records = probe
        .records
        .into_inner()
        .unwrap_or_else(|p| p.into_inner());
    let measure = WorkSpanMeasure {
        n,
        cutoff,
        num_workers: pool.current_num_threads() as u32,
        work_nanos: ws.work,
        span_nanos: ws.span,
        span_joins: ws.joins,
        wall_nanos: end - start,
        leaf_products,
        leaf_additions: records.len() as u32 - leaf_products,
        trace: Trace {
            num_workers: pool.current_num_threads() as u32,
            wall_nanos: end,
            records,
        },
    };
    Ok((from_z(&cz, n, cutoff), measure))
}

/// The work/span report for one size: a P-worker run and a 1-worker run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkSpanReport {
    pub parallel: WorkSpanMeasure,
    pub one_worker: WorkSpanMeasure,
    /// The parallel product equals the triple-loop product exactly.
    pub matches_serial: bool,
    /// Measured cost of one `rayon::join` in the P-worker pool (mean over
    /// [`JOIN_PROBES`] joins of empty closures), for the burdened span.
    #[serde(default)]
    pub join_overhead_nanos: f64,
}

/// Empty joins timed to measure the spawn/join overhead.
pub const JOIN_PROBES: u32 = 20_000;

/// Mean nanoseconds of one `rayon::join` of two empty closures in `pool`.
pub fn join_overhead_nanos(pool: &ThreadPool) -> f64 {
    pool.install(|| {
        let t0 = Instant::now();
        for _ in 0..JOIN_PROBES {
            rayon::join(|| std::hint::black_box(()), || std::hint::black_box(()));
        }
        t0.elapsed().as_nanos() as f64 / f64::from(JOIN_PROBES)
    })
}

impl WorkSpanReport {
    /// Parallelism T₁/T∞ as Cilkscale measures it: work and span of the
    /// instrumented 1-worker run, where no preemption or steal delays the chain.
    pub fn parallelism(&self) -> f64 {
        self.one_worker.parallelism()
    }
    /// T₁ / burdened T∞ of the 1-worker run: what the recursion could keep
    /// busy once each join on the critical path costs what it measured.
    pub fn burdened_parallelism(&self) -> f64 {
        self.one_worker.work_nanos as f64
            / self
                .one_worker
                .burdened_span_nanos(self.join_overhead_nanos)
                .max(1.0)
    }

    /// T∞ ≤ T_P (structural: see the module docs).
    pub fn span_bound_holds(&self) -> bool {
        self.parallel.span_nanos <= self.parallel.wall_nanos
    }
    /// T₁/P ≤ T_P with T₁ from the same run (structural).
    pub fn work_bound_holds(&self) -> bool {
        self.parallel.work_nanos <= self.parallel.wall_nanos * u64::from(self.parallel.num_workers)
    }
    /// T_P ≤ T₁/P + T∞, with T₁ and T∞ from the same run (reported only).
    pub fn brent_upper_holds(&self) -> bool {
        self.parallel.wall_nanos as f64 <= self.parallel.brent_upper_nanos()
    }
    /// T₁(1 worker wall)/P ≤ T_P (reported only: cache effects can break it).
    pub fn one_worker_bound_holds(&self) -> bool {
        self.one_worker.wall_nanos as f64 / f64::from(self.parallel.num_workers.max(1))
            <= self.parallel.wall_nanos as f64
    }
}

/// Runs the recursion on random small-integer matrices at `pool`'s size and
/// on one worker, and checks the product against the triple loop.
pub fn work_span(
    n: usize,
    cutoff: usize,
    pool: &ThreadPool,
    one: &ThreadPool,
    seed: u64,
) -> Result<WorkSpanReport, WorkloadError> {
    check_sizes(n, cutoff)?;
    let a = Matrix::random_small_ints(n, seed);
    let b = Matrix::random_small_ints(n, seed.wrapping_add(1));
    let (_, one_worker) = multiply_dc(&a, &b, cutoff, one)?;
    let (c, parallel) = multiply_dc(&a, &b, cutoff, pool)?;
    let matches_serial = c == matmul_serial(&a, &b);
    Ok(WorkSpanReport {
        parallel,
        one_worker,
        matches_serial,
        join_overhead_nanos: join_overhead_nanos(pool),
    })
}

/// min / median / max of one figure over repeated runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MinMedMax {
    pub min: f64,
    pub median: f64,
    pub max: f64,
}

impl MinMedMax {
    pub fn of(values: &[f64]) -> Self {
        let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
        v.sort_by(f64::total_cmp);
        let at = |i: usize| v.get(i).copied().unwrap_or(0.0);
        MinMedMax {
            min: at(0),
            median: if v.is_empty() {
                0.0
            } else {
                crate::engine::util::stats::median(&v)
            },
            max: at(v.len().saturating_sub(1)),
        }
    }
    /// "min / median / max" with `decimals`.
    pub fn show(&self, decimals: usize) -> String {
        format!(
            "{:.d$} / {:.d$} / {:.d$}",
            self.min,
            self.median,
            self.max,
            d = decimals
        )
    }
}

/// Every work/span figure over repeated runs (times in ms, overhead in ns).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkSpanSpread {
    pub runs: usize,
    /// T₁ of the 1-worker instrumented run.
    pub work_ms: MinMedMax,
    /// T∞ of the 1-worker instrumented run (the Cilkscale span).
    pub span_ms: MinMedMax,
    /// T₁/T∞ of the 1-worker run.
    pub parallelism: MinMedMax,
    /// T∞ plus the measured join overhead per join on the critical path.
    pub burdened_span_ms: MinMedMax,
    pub burdened_parallelism: MinMedMax,
    pub join_overhead_ns: MinMedMax,
    /// T∞ measured inside the P-worker run: includes preemption and steal delays.
    pub p_worker_span_ms: MinMedMax,
    /// T₁ measured inside the P-worker run (includes contention).
    pub p_worker_work_ms: MinMedMax,
    pub wall_ms: MinMedMax,
    pub one_worker_wall_ms: MinMedMax,
}

impl WorkSpanSpread {
    pub fn of(reports: &[WorkSpanReport]) -> Self {
        let ms = |f: &dyn Fn(&WorkSpanReport) -> u64| {
            MinMedMax::of(
                &reports
                    .iter()
                    .map(|r| f(r) as f64 / 1e6)
                    .collect::<Vec<_>>(),
            )
        };
        let plain = |f: &dyn Fn(&WorkSpanReport) -> f64| {
            MinMedMax::of(&reports.iter().map(f).collect::<Vec<_>>())
        };
        WorkSpanSpread {
            runs: reports.len(),
            work_ms: ms(&|r| r.one_worker.work_nanos),
            span_ms: ms(&|r| r.one_worker.span_nanos),
            parallelism: plain(&|r| r.parallelism()),
            burdened_span_ms: plain(&|r| {
                r.one_worker.burdened_span_nanos(r.join_overhead_nanos) / 1e6
            }),
            burdened_parallelism: plain(&|r| r.burdened_parallelism()),
            join_overhead_ns: plain(&|r| r.join_overhead_nanos),
            p_worker_span_ms: ms(&|r| r.parallel.span_nanos),
            p_worker_work_ms: ms(&|r| r.parallel.work_nanos),
            wall_ms: ms(&|r| r.parallel.wall_nanos),
            one_worker_wall_ms: ms(&|r| r.one_worker.wall_nanos),
        }
    }
}

/// How the work/span figures are measured, in words (ASCII) for the CLI and the window.
pub const WORK_SPAN_METHOD: &str = "as Cilkscale: work T1 and span Tinf from the instrumented \
     1-worker run (no preemption or steal delays the chain); parallelism = T1/Tinf of that run; \
     burdened span = Tinf + (joins on the critical path) x (measured cost of one rayon::join, mean of \
     20000 empty joins in the P-worker pool); the P-worker run's own span is shown beside it and \
     includes preemption and steal delays";

/// Least runs for a spread.
pub const MIN_WORK_SPAN_RUNS: usize = 5;

/// The master-theorem predictions, as text beside the measured growth.
pub const WORK_RECURRENCE: &str = "work  M₁(n) = 8·M₁(n/2) + A₁(n), A₁(n) = 4·A₁(n/2) + Θ(1) = Θ(n²)  ⇒  Θ(n³): ×8 per doubling of n";
pub const SPAN_RECURRENCE: &str = "span  M∞(n) = M∞(n/2) + A∞(n), A∞(n) = A∞(n/2) + Θ(1) = Θ(log n)  ⇒  Θ(log² n); with cutoff c: Θ(c³ + log(n/c)·c² + log²(n/c)), ≈ ×1 per doubling";

/// One row of the growth table: measured at n, with the ratio to n/2.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GrowthRow {
    pub n: usize,
    pub work_nanos: u64,
    pub span_nanos: u64,
    pub wall_nanos: u64,
    pub parallelism: f64,
    /// T₁(n)/T₁(n/2), measured (None for the first row). Predicted: 8.
    pub work_ratio: Option<f64>,
    /// T∞(n)/T∞(n/2), measured. Predicted: close to 1 (polylogarithmic).
    pub span_ratio: Option<f64>,
}

/// Measures sizes `ns` (ascending powers of two) at `cutoff` in `pool`.
pub fn growth(
    ns: &[usize],
    cutoff: usize,
    pool: &ThreadPool,
    seed: u64,
) -> Result<Vec<GrowthRow>, WorkloadError> {
    let mut rows: Vec<GrowthRow> = Vec::new();
    for &n in ns {
        check_sizes(n, cutoff)?;
        let a = Matrix::random_small_ints(n, seed);
        let b = Matrix::random_small_ints(n, seed.wrapping_add(1));
        let (_, m) = multiply_dc(&a, &b, cutoff, pool)?;
        let prev = rows.last();
        rows.push(GrowthRow {
            n,
            work_nanos: m.work_nanos,
            span_nanos: m.span_nanos,
            wall_nanos: m.wall_nanos,
            parallelism: m.parallelism(),
            work_ratio: prev.map(|p| m.work_nanos as f64 / p.work_nanos.max(1) as f64),
            span_ratio: prev.map(|p| m.span_nanos as f64 / p.span_nanos.max(1) as f64),
        });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::exec::pool::build_pool;

    #[test]
    fn workspan_parallelism_comes_from_the_one_worker_run() {
        let pool = crate::engine::exec::pool::build_pool(2).expect("pool");
        let one = crate::engine::exec::pool::build_pool(1).expect("pool");
        let r = work_span(64, 8, &pool, &one, 3).expect("runs");
        assert_eq!(r.one_worker.num_workers, 1);
        let t1_over_tinf = r.one_worker.work_nanos as f64 / r.one_worker.span_nanos.max(1) as f64;
        assert_eq!(r.parallelism(), t1_over_tinf);
        // 64/8: three product levels (3 joins each) and the adds' joins below them.
        assert!(r.one_worker.span_joins >= 9, "{}", r.one_worker.span_joins);
        assert!(r.join_overhead_nanos > 0.0);
        let burdened = r.one_worker.burdened_span_nanos(r.join_overhead_nanos);
        assert!(burdened > r.one_worker.span_nanos as f64);
        assert!(r.burdened_parallelism() < r.parallelism());
        let spread = WorkSpanSpread::of(&[r.clone(), r.clone(), r]);
        assert_eq!(spread.runs, 3);
        assert_eq!(spread.parallelism.min, spread.parallelism.max);
        assert_eq!(spread.parallelism.median, t1_over_tinf);
    }

    #[test]
    fn z_layout_round_trips() {
        let m = Matrix::random_small_ints(16, 3);
        for c in [1, 2, 4, 16] {
            assert_eq!(from_z(&to_z(&m, c), 16, c), m);
        }
    }

    #[test]
    fn dc_equals_triple_loop_exactly() {
        for (n, cutoff) in [(1, 1), (8, 1), (16, 4), (64, 8), (64, 64)] {
            let a = Matrix::random_small_ints(n, 11);
            let b = Matrix::random_small_ints(n, 12);
            for workers in [1, 2, 3, 7] {
                let pool = build_pool(workers).expect("pool");
                let (c, m) = multiply_dc(&a, &b, cutoff, &pool).expect("runs");
                assert_eq!(
                    c,
                    matmul_serial(&a, &b),
                    "n={n} cutoff={cutoff} P={workers}"
                );
                assert_eq!(m.leaf_products as usize, (n / cutoff).pow(3));
            }
        }
    }

    #[test]
    fn brent_inequalities_hold_on_real_runs() {
        // Structural (see module docs): no timing tolerance needed.
        for workers in [1, 2, 3, 7] {
            let pool = build_pool(workers).expect("pool");
            let one = build_pool(1).expect("pool");
            let r = work_span(64, 8, &pool, &one, 5).expect("runs");
            assert!(r.matches_serial);
            let p = &r.parallel;
            assert!(
                r.span_bound_holds(),
                "T∞ {} > TP {}",
                p.span_nanos,
                p.wall_nanos
            );
            assert!(
                r.work_bound_holds(),
                "T1 {} > P·TP {}",
                p.work_nanos,
                p.wall_nanos
            );
            assert!(p.span_nanos <= p.work_nanos);
            // Every leaf's interval lies inside the recursion's wall interval.
            let start = p.trace.wall_nanos - p.wall_nanos;
            for rec in &p.trace.records {
                assert!(rec.start_nanos >= start && rec.end_nanos <= p.trace.wall_nanos);
                assert!((rec.worker as usize) < workers);
            }
        }
    }

    #[test]
    fn growth_rows_have_ratios() {
        let pool = build_pool(2).expect("pool");
        let rows = growth(&[16, 32, 64], 8, &pool, 1).expect("runs");
        assert_eq!(rows.len(), 3);
        assert!(rows[0].work_ratio.is_none());
        assert!(rows[2].work_ratio.is_some());
    }

    #[test]
    fn bad_sizes_are_refused() {
        assert!(check_sizes(48, 8).is_err());
        assert!(check_sizes(64, 128).is_err());
        assert!(check_sizes(64, 3).is_err());
        assert!(check_sizes(4096, 64).is_err());
        assert!(check_sizes(64, 64).is_ok());
    }
}
