//! `parlab bench kernel`: the scalar reference against each vector kernel
//! this CPU has (AVX2 and AVX-512 side by side) on three fixed views, one
//! core each, with the clock and the FMA ceiling of each vector width.
//!
//! Throughput is *iterations executed* (the sum of the pixels' escape
//! counts) per second on one thread. Each width's ceiling is **measured**:
//! the fastest run of a loop of independent FMAs of that width, times the
//! lanes, ÷ 3 multiplies per iteration. It is not assumed from the width:
//! a core with two 256-bit FMA pipes allows at most 8/3 iterations a cycle
//! on 4 f64 lanes, and on 8 lanes either 16/3 (two 512-bit pipes, as Zen 5
//! desktop and server cores) or again 8/3 (each 512-bit FMA run as two
//! 256-bit halves, as Zen 4). A kernel's fraction of it is its median run
//! ÷ the fastest peak run.

#[cfg(test)]
use crate::engine::mandelbrot::kernel::{FMA_PEAK_ADDEND, FMA_PEAK_MULTIPLIER};
use crate::engine::mandelbrot::kernel::{Kernel, TilePixels};
use crate::engine::mandelbrot::tiling::Tile;
use crate::engine::mandelbrot::view::View;
use crate::engine::util::stats::median_u64;
use serde::Serialize;
use std::hint::black_box;
use std::time::Instant;

/// Multiplies per iteration (fma(−zi, zi, cr), fma(zr, zr, ·) and
/// fma(2zr, zi, ci)); the add 2zr runs beside them on Zen cores (separate
/// FADD pipes; on Intel cores it shares the FMA ports).
pub const MULTIPLIES_PER_ITER: f64 = 3.0;
/// FMA pipes per core assumed for a width no peak loop measures: the
/// portable kernel, off x86-64 or on an x86-64 CPU without AVX2 and FMA
/// (where it may not hold: the report labels it assumed).
pub const ASSUMED_FMA_PIPES: f64 = 2.0;
/// FMAs in one timed run of a width's peak loop (≈ 25 ms at one zmm FMA
/// a cycle and 4 GHz).
const PEAK_FMAS: u64 = 100_000_000;
/// Runs of each width's peak loop before the views, and again after.
const PEAK_RUNS: usize = 3;
/// The clock assumed when none can be measured, in GHz.
pub const ASSUMED_GHZ: f64 = 3.1;
/// Rows per band when every row is measured.
const BAND_ROWS: u32 = 16;

/// One of the fixed benchmark views.
#[derive(Clone, Debug, Serialize)]
pub struct BenchView {
    pub name: &'static str,
    pub description: &'static str,
    pub view: View,
    /// The scalar reference measures every `reference_row_stride`-th row
    /// only (it is ~20× slower); the SIMD kernel measures every row.
    pub reference_row_stride: u32,
}

/// The three fixed views every kernel measurement uses, so that numbers from
/// different machines and commits compare:
/// - **K0** ("kernel"): a square wholly inside the main cardioid, every pixel
///   runs all 2000 iterations. No escapes, no branches taken: the pure
///   arithmetic throughput, the one to hold against the FMA ceiling.
/// - **B2** ("benchmark 2"): the whole set at 4K, 1000 iterations. A mix of
///   fast escapes, slow boundary pixels and the inside: the typical picture.
/// - **B3** ("benchmark 3"): a deep zoom (width 2e-5) into Seahorse Valley at
///   4K, 5000 iterations. Nearly every pixel is near the boundary, so escape
///   counts vary from lane to lane: the hardest case for vectors.
///
/// Pixel centres: column x is at left + (x + ½)·pixel, so K0's 1024 columns
/// span [−0.5, 0] exactly.
pub fn bench_views() -> Vec<BenchView> {
    let view = |c, w, wpx, hpx, it| View::new(c, w, wpx, hpx, it).expect("fixed views are valid");
    vec![
        BenchView {
            name: "K0",
            description: "1024×1024, x∈[−0.5,0], y∈[−0.25,0.25], 2000 it (all inside)",
            view: view((-0.25, 0.0), 0.5, 1024, 1024, 2000),
            reference_row_stride: 8,
        },
        BenchView {
            name: "B2",
            description: "3840×2160, x∈[−2.5,1], y∈±0.984375, 1000 it",
            view: view((-0.75, 0.0), 3.5, 3840, 2160, 1000),
            reference_row_stride: 16,
        },
        BenchView {
            name: "B3",
            description: "3840×2160, centre (−0.743643887037151, 0.131825904205330), width 2e-5, 5000 it",
            view: view(
                (-0.743643887037151, 0.131825904205330),
                2e-5,
                3840,
                2160,
                5000,
            ),
            reference_row_stride: 48,
        },
    ]
}

/// Timings of one kernel on one view.
#[derive(Clone, Debug, Serialize)]
pub struct KernelTiming {
    pub kernel: &'static str,
    /// Rows measured: every `row_stride`-th of the view's.
    pub row_stride: u32,
    pub rows: u32,
    /// Iterations executed per run (the same in every run).
    pub iterations: u64,
    pub runs: usize,
    pub median_nanos: u64,
    pub min_nanos: u64,
    pub max_nanos: u64,
    /// G iterations/s at the median time.
    pub giga_iters_per_sec: f64,
    /// G iterations/s at the fastest and slowest run.
    pub giga_iters_per_sec_best: f64,
    pub giga_iters_per_sec_worst: f64,
    /// Median CPU time of this thread per run (Linux only): on a shared
    /// machine it leaves out the time other processes held the core.
    pub median_cpu_nanos: Option<u64>,
    /// G iterations per second of CPU time, at the median CPU time.
    pub giga_iters_per_cpu_sec: Option<f64>,
}

/// One vector kernel on one view, against the ceiling of its width.
#[derive(Clone, Debug, Serialize)]
pub struct VectorResult {
    pub timing: KernelTiming,
    /// f64 lanes per vector (4: AVX2 or portable, 8: AVX-512).
    pub lanes: usize,
    /// This width's [`FmaCeiling`], G it/s.
    pub ceiling_giga_iters_per_sec: f64,
    /// This kernel ÷ reference, G/s at the medians.
    pub speedup: f64,
    /// This kernel's G/s ÷ its width's ceiling.
    pub fraction_of_ceiling: f64,
    /// The same two ratios from CPU time (Linux only).
    pub speedup_cpu: Option<f64>,
    pub fraction_of_ceiling_cpu: Option<f64>,
}

/// Every kernel on one view.
#[derive(Clone, Debug, Serialize)]
pub struct ViewResult {
    pub name: &'static str,
    pub description: &'static str,
    pub reference: KernelTiming,
    /// The vector kernels this CPU has, narrowest first.
    pub vector: Vec<VectorResult>,
}

/// The vector kernels to compare on this CPU, narrowest first, with their
/// lanes: AVX2 and AVX-512 where present, else the portable SIMD kernel.
pub fn vector_kernels() -> Vec<(Kernel, usize)> {
    let forced: Vec<_> = [(Kernel::Avx2, 4), (Kernel::Avx512, 8)]
        .into_iter()
        .filter(|(k, _)| k.is_available())
        .collect();
    if forced.is_empty() {
        vec![(Kernel::Simd, 4)]
    } else {
        forced
    }
}

/// The clock the ceiling is computed from.
#[derive(Clone, Debug, Serialize)]
pub struct ClockEstimate {
    pub ghz: f64,
    /// Every calibration run, in GHz, in the order they ran (empty when
    /// the clock is assumed).
    pub readings_ghz: Vec<f64>,
    pub source: String,
}

/// One vector width's ceiling: the fastest of its peak loop's runs (a
/// loop of independent FMAs, see [`Kernel::fma_peak`]), as iterations.
#[derive(Clone, Debug, Serialize)]
pub struct FmaCeiling {
    /// The kernel of this width.
    pub kernel: &'static str,
    pub lanes: usize,
    /// Every run of the peak loop, G vector FMAs (of `lanes` lanes each)
    /// per second, in the order they ran (empty where the peak is assumed).
    pub readings_giga_fmas_per_sec: Vec<f64>,
    /// The fastest run (or the assumed pipes at the clock), G vector
    /// FMAs/s.
    pub giga_fmas_per_sec: f64,
    /// That ÷ the calibrated clock: the vector FMAs of this width the core
    /// starts per cycle of that clock (a core that lowers its clock for
    /// wide vectors reads fewer than its pipes).
    pub fmas_per_cycle: f64,
    /// The ceiling: G FMAs/s × lanes ÷ [`MULTIPLIES_PER_ITER`], G it/s.
    pub giga_iters_per_sec: f64,
    pub source: String,
}

/// The ceiling of `kernel`'s width from its peak loop's readings (G
/// FMAs/s): the fastest, which no other process slowed; where there are
/// none, [`ASSUMED_FMA_PIPES`] at the clock, and the source says so.
pub fn fma_ceiling(
    kernel: Kernel,
    lanes: usize,
    readings: &[f64],
    clock: &ClockEstimate,
) -> FmaCeiling {
    let fastest = readings.iter().copied().fold(f64::NAN, f64::max);
    let (giga_fmas_per_sec, source) = if fastest.is_finite() {
        let slowest = readings.iter().copied().fold(f64::INFINITY, f64::min);
        (
            fastest,
            format!(
                "measured: a loop of independent FMAs of this width (more chains than \
                 latency × pipes), fastest of {} runs by wall time, half before the views \
                 and half after; runs read {slowest:.2}–{fastest:.2} G FMAs/s",
                readings.len()
            ),
        )
    } else {
        (
            ASSUMED_FMA_PIPES * clock.ghz,
            format!(
                "assumed: {ASSUMED_FMA_PIPES} FMA pipes of this width at the clock (no peak loop for this kernel)"
            ),
        )
    };
    FmaCeiling {
        kernel: kernel.name(),
        lanes,
        readings_giga_fmas_per_sec: if fastest.is_finite() {
            readings.to_vec()
        } else {
            Vec::new()
        },
        giga_fmas_per_sec,
        fmas_per_cycle: giga_fmas_per_sec / clock.ghz,
        giga_iters_per_sec: giga_fmas_per_sec * lanes as f64 / MULTIPLIES_PER_ITER,
        source,
    }
}

/// One run of `fmas` FMAs of `kernel`'s peak loop, G FMAs/s by the wall clock; `None`
/// where it has none.
fn fma_peak_run(kernel: Kernel, fmas: u64) -> Option<f64> {
    let start = Instant::now();
    let peak = kernel.fma_peak(black_box(fmas))?;
    let secs = start.elapsed().as_secs_f64();
    black_box(peak.sum);
    Some(peak.fmas as f64 / secs.max(1e-9) / 1e9)
}

/// [`PEAK_RUNS`] runs of `fmas` FMAs of each kernel's peak loop, G FMAs/s
/// (an empty list for a kernel with none).
pub fn fma_peak_readings(kernels: &[(Kernel, usize)], fmas: u64) -> Vec<Vec<f64>> {
    kernels
        .iter()
        .map(|(kernel, _)| {
            (0..PEAK_RUNS)
                .filter_map(|_| fma_peak_run(*kernel, fmas))
                .collect()
        })
        .collect()
}

/// The whole report.
#[derive(Clone, Debug, Serialize)]
pub struct KernelBenchReport {
    /// What `--kernel simd` runs on this CPU.
    pub simd_backend: &'static str,
    pub clock: ClockEstimate,
    /// Each vector width's measured ceiling, narrowest first.
    pub ceilings: Vec<FmaCeiling>,
    pub views: Vec<ViewResult>,
}

/// Links in one run of the clock's chain (≈ 50 ms at 4 GHz).
const CLOCK_LINKS: u64 = 50_000_000;
/// Runs of the chain before the views and again after them.
const CLOCK_RUNS: usize = 5;

/// One run of a dependent chain of 64-bit multiply-adds (xor 1 cycle +
/// imul 3 cycles = 4 cycles a link on x86-64), in GHz by the wall clock.
///
/// Wall time: time the core spent on another process only lowers a
/// reading, and the fastest of several runs leaves it out. (This thread's
/// CPU time, as read from schedstat until then, moved in 4 ms scheduler
/// ticks, a tenth of a run, and made the best of five read up to 7 % high:
/// 4.17–4.40 GHz for a clock the wall time reads at 4.08–4.13.)
fn clock_run_ghz() -> f64 {
    let k = black_box(0x9E37_79B9_7F4A_7C15u64);
    let mut x = black_box(1u64);
    let start = Instant::now();
    for _ in 0..CLOCK_LINKS {
        x = (x ^ k).wrapping_mul(k);
    }
    black_box(x);
    let secs = start.elapsed().as_secs_f64();
    4.0 * CLOCK_LINKS as f64 / secs.max(1e-9) / 1e9
}

/// [`CLOCK_RUNS`] runs of the clock's chain, in GHz; empty where no
/// calibrated loop exists for this CPU.
pub fn clock_readings() -> Vec<f64> {
    if cfg!(not(target_arch = "x86_64")) {
        return Vec::new();
    }
    (0..CLOCK_RUNS).map(|_| clock_run_ghz()).collect()
}

/// The clock from the chain's readings (before and after the views): the
/// fastest run, which no other process slowed; [`ASSUMED_GHZ`] where
/// there are none.
pub fn clock_estimate(readings: &[f64]) -> ClockEstimate {
    let fastest = readings.iter().copied().fold(f64::NAN, f64::max);
    if !fastest.is_finite() {
        return ClockEstimate {
            ghz: ASSUMED_GHZ,
            readings_ghz: Vec::new(),
            source: format!("assumed {ASSUMED_GHZ} GHz (no calibrated loop for this CPU)"),
        };
    }
    let slowest = readings.iter().copied().fold(f64::INFINITY, f64::min);
    ClockEstimate {
        ghz: fastest,
        readings_ghz: readings.to_vec(),
        source: format!(
            "calibrated: dependent xor+imul chain, 4 cycles/link, fastest of {} runs \
             by wall time, half before the views and half after; runs read \
             {slowest:.2}–{fastest:.2} GHz",
            readings.len()
        ),
    }
}

/// CPU time this thread has run so far, in ns (Linux: `clock_gettime` of
/// `CLOCK_THREAD_CPUTIME_ID`, which counts the running slice to the
/// nanosecond; /proc/thread-self/schedstat, read before, moved only in
/// scheduler ticks, 4 ms on this project's machine); `None` elsewhere.
pub fn thread_cpu_nanos() -> Option<u64> {
    #[cfg(target_os = "linux")]
    {
        let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
        let secs = u64::try_from(t.tv_sec).ok()?;
        let nanos = u64::try_from(t.tv_nsec).ok()?;
        secs.checked_mul(1_000_000_000)?.checked_add(nanos)
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}

/// Times `kernel` on every `row_stride`-th row of `view`, on this thread.
pub fn time_kernel(kernel: Kernel, view: &View, row_stride: u32, runs: usize) -> KernelTiming {
    let width = view.width_px();
    let tiles: Vec<Tile> = if row_stride <= 1 {
        (0..view.height_px())
            .step_by(BAND_ROWS as usize)
            .map(|y| Tile {
                index: y / BAND_ROWS,
                x: 0,
                y,
                width,
                height: BAND_ROWS.min(view.height_px() - y),
            })
            .collect()
    } else {
        (0..view.height_px())
            .step_by(row_stride as usize)
            .enumerate()
            .map(|(i, y)| Tile {
                index: i as u32,
                x: 0,
                y,
                width,
                height: 1,
            })
            .collect()
    };
    let rows = tiles.iter().map(|t| t.height).sum();
    let mut buffers: Vec<TilePixels> = tiles.iter().map(TilePixels::for_tile).collect();
    let mut nanos = Vec::with_capacity(runs);
    let mut cpu_nanos = Vec::with_capacity(runs);
    let mut iterations = 0;
    for _ in 0..runs.max(1) {
        let cpu_start = thread_cpu_nanos();
        let start = Instant::now();
        iterations = tiles
            .iter()
            .zip(buffers.iter_mut())
            .map(|(t, out)| kernel.compute_tile(view, t, out))
            .sum::<u64>();
        nanos.push(start.elapsed().as_nanos() as u64);
        if let (Some(a), Some(b)) = (cpu_start, thread_cpu_nanos()) {
            cpu_nanos.push(b.saturating_sub(a));
        }
        black_box(&buffers);
    }
    nanos.sort_unstable();
    cpu_nanos.sort_unstable();
    let median_cpu_nanos = (cpu_nanos.len() == nanos.len()).then(|| median_u64(&cpu_nanos));
    let rate = |ns: u64| iterations as f64 / ns.max(1) as f64;
    KernelTiming {
        kernel: kernel.name(),
        row_stride: row_stride.max(1),
        rows,
        iterations,
        runs: nanos.len(),
        median_nanos: median_u64(&nanos),
        min_nanos: nanos[0],
        max_nanos: nanos[nanos.len() - 1],
        giga_iters_per_sec: rate(median_u64(&nanos)),
        giga_iters_per_sec_best: rate(nanos[0]),
        giga_iters_per_sec_worst: rate(nanos[nanos.len() - 1]),
        median_cpu_nanos,
        giga_iters_per_cpu_sec: median_cpu_nanos.map(rate),
    }
}

/// Runs the whole benchmark; `progress` is told each step before it runs.
pub fn run(runs: usize, views: &[BenchView], mut progress: impl FnMut(&str)) -> KernelBenchReport {
    let kernels = vector_kernels();
    progress("measuring the clock and the FMA peaks");
    let mut readings = clock_readings();
    let mut peaks = fma_peak_readings(&kernels, PEAK_FMAS);
    let mut timings = Vec::new();
    for bv in views {
        progress(&format!("{}: scalar reference", bv.name));
        let reference = time_kernel(Kernel::Reference, &bv.view, bv.reference_row_stride, runs);
        let vector: Vec<_> = kernels
            .iter()
            .map(|&(kernel, lanes)| {
                progress(&format!("{}: {}", bv.name, kernel.label()));
                (lanes, time_kernel(kernel, &bv.view, 1, runs))
            })
            .collect();
        timings.push((bv, reference, vector));
    }
    progress("measuring the clock and the FMA peaks again");
    readings.extend(clock_readings());
    for (all, more) in peaks.iter_mut().zip(fma_peak_readings(&kernels, PEAK_FMAS)) {
        all.extend(more);
    }
    let clock = clock_estimate(&readings);
    let ceilings: Vec<FmaCeiling> = kernels
        .iter()
        .zip(&peaks)
        .map(|(&(kernel, lanes), peak)| fma_ceiling(kernel, lanes, peak, &clock))
        .collect();
    let mut results = Vec::new();
    for (bv, reference, vector) in timings {
        let vector = vector
            .into_iter()
            .zip(&ceilings)
            .map(|((lanes, timing), ceiling)| {
                let ceiling = ceiling.giga_iters_per_sec;
                VectorResult {
                    lanes,
                    ceiling_giga_iters_per_sec: ceiling,
                    speedup: timing.giga_iters_per_sec / reference.giga_iters_per_sec,
                    fraction_of_ceiling: timing.giga_iters_per_sec / ceiling,
                    speedup_cpu: timing
                        .giga_iters_per_cpu_sec
                        .zip(reference.giga_iters_per_cpu_sec)
                        .map(|(s, r)| s / r),
                    fraction_of_ceiling_cpu: timing.giga_iters_per_cpu_sec.map(|s| s / ceiling),
                    timing,
                }
            })
            .collect();
        results.push(ViewResult {
            name: bv.name,
            description: bv.description,
            reference,
            vector,
        });
    }
    KernelBenchReport {
        simd_backend: crate::engine::mandelbrot::kernel::simd_backend_name(),
        clock,
        ceilings,
        views: results,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A busy loop of well under a scheduler tick (4 ms here) advances
    /// this thread's CPU time: it is not counted in ticks.
    #[test]
    #[cfg(target_os = "linux")]
    fn thread_cpu_time_moves_within_a_tick() {
        let before = thread_cpu_nanos().expect("readable on Linux");
        let mut x = black_box(1u64);
        for _ in 0..20_000 {
            x = black_box(x.wrapping_mul(3) ^ 5);
        }
        let after = thread_cpu_nanos().expect("readable on Linux");
        assert!(after > before, "{before} → {after} ns after {x} steps");
    }

    #[test]
    fn the_clock_is_the_fastest_reading_and_says_its_spread() {
        let clock = clock_estimate(&[4.08, 4.13, 3.2, 4.11]);
        assert_eq!(clock.ghz, 4.13);
        assert_eq!(clock.readings_ghz.len(), 4);
        assert!(
            clock.source.contains("fastest of 4 runs"),
            "{}",
            clock.source
        );
        assert!(clock.source.contains("3.20–4.13 GHz"), "{}", clock.source);
        let assumed = clock_estimate(&[]);
        assert_eq!(assumed.ghz, ASSUMED_GHZ);
        assert!(assumed.source.starts_with("assumed"), "{}", assumed.source);
        if cfg!(target_arch = "x86_64") {
            let readings = clock_readings();
            assert_eq!(readings.len(), CLOCK_RUNS);
            assert!(
                readings.iter().all(|g| g.is_finite() && *g > 0.0),
                "{readings:?}"
            );
        }
    }

    #[test]
    fn views_match_the_issue() {
        let views = bench_views();
        let k0 = &views[0].view;
        let half_px = 0.5 * k0.pixel_size();
        assert_eq!(k0.re(0) - half_px, -0.5);
        assert_eq!(k0.re(1023) + half_px, 0.0);
        assert_eq!(k0.im(0) + half_px, 0.25);
        let b2 = &views[1].view;
        assert_eq!(b2.re(0) - 0.5 * b2.pixel_size(), -2.5);
        assert_eq!(b2.view_height(), 2.0 * 0.984375);
    }

    #[test]
    fn timing_counts_the_same_iterations_as_a_render() {
        let view = View::new((-0.75, 0.0), 3.0, 40, 33, 50).expect("view");
        let all = time_kernel(Kernel::Simd, &view, 1, 1);
        let serial = crate::engine::mandelbrot::render::render_serial(&view, Kernel::Reference);
        let expected: u64 = serial.counts.iter().map(|&c| u64::from(c)).sum();
        assert_eq!(all.iterations, expected);
        assert_eq!(all.rows, 33);
        let strided = time_kernel(Kernel::Reference, &view, 4, 1);
        assert_eq!(strided.rows, 9);
        if cfg!(target_os = "linux") {
            assert!(
                all.median_cpu_nanos.is_some(),
                "thread CPU time is readable on Linux"
            );
        }
    }

    #[test]
    fn vector_kernels_are_the_available_ones_and_agree() {
        let kernels = vector_kernels();
        assert!(!kernels.is_empty());
        assert!(kernels.iter().all(|(k, _)| k.is_available()));
        let view = View::new((-0.75, 0.0), 3.0, 21, 9, 40).expect("view");
        let counts: Vec<u64> = kernels
            .iter()
            .map(|(k, _)| time_kernel(*k, &view, 1, 1).iterations)
            .collect();
        assert!(counts.windows(2).all(|w| w[0] == w[1]), "{counts:?}");
    }

    #[test]
    fn a_ceiling_is_the_fastest_peak_run_as_iterations() {
        let clock = clock_estimate(&[3.5, 4.0]);
        let c = fma_ceiling(Kernel::Avx512, 8, &[3.9, 4.0, 2.5], &clock);
        assert_eq!(c.giga_fmas_per_sec, 4.0);
        assert_eq!(c.fmas_per_cycle, 1.0);
        // 4 G FMAs/s × 8 lanes ÷ 3 multiplies per iteration.
        assert_eq!(c.giga_iters_per_sec, 32.0 / 3.0);
        assert_eq!(c.readings_giga_fmas_per_sec, [3.9, 4.0, 2.5]);
        assert!(c.source.starts_with("measured"), "{}", c.source);
        assert!(c.source.contains("2.50–4.00"), "{}", c.source);
        // Two pipes read twice the FMAs a cycle and twice the ceiling.
        let two = fma_ceiling(Kernel::Avx512, 8, &[8.0], &clock);
        assert_eq!(two.fmas_per_cycle, 2.0);
        assert_eq!(two.giga_iters_per_sec, 2.0 * c.giga_iters_per_sec);
    }

    #[test]
    fn a_width_without_a_peak_loop_says_its_ceiling_is_assumed() {
        let clock = clock_estimate(&[3.0]);
        let c = fma_ceiling(Kernel::Simd, 4, &[], &clock);
        assert_eq!(c.fmas_per_cycle, ASSUMED_FMA_PIPES);
        assert_eq!(c.giga_iters_per_sec, 3.0 * ASSUMED_FMA_PIPES * 4.0 / 3.0);
        assert!(c.readings_giga_fmas_per_sec.is_empty());
        assert!(c.source.starts_with("assumed"), "{}", c.source);
    }

    /// The peak loop runs where its kernel does, at least the FMAs asked
    /// for, and gives a reading for every run; nothing for the scalar and
    /// auto kernels.
    #[test]
    fn peak_loops_run_where_their_kernels_do() {
        for kernel in [Kernel::Avx2, Kernel::Avx512] {
            match kernel.fma_peak(1000) {
                Some(peak) => {
                    assert!(kernel.is_available(), "{kernel}");
                    // Whole rounds of every chain: 1000 rounded up.
                    let rounds = 1000u64.div_ceil(peak.chains as u64);
                    assert_eq!(peak.fmas, rounds * peak.chains as u64, "{kernel}");
                    // The loop did the work: the same recurrence, scalar
                    // (each FMA rounds once, as mul_add; only the final
                    // sum's order differs).
                    let expected: f64 = (0..peak.chains)
                        .map(|i| {
                            let mut a = 0.01 * i as f64;
                            for _ in 0..rounds {
                                a = a.mul_add(FMA_PEAK_MULTIPLIER, FMA_PEAK_ADDEND);
                            }
                            a * peak.lanes as f64
                        })
                        .sum();
                    assert!(
                        (peak.sum - expected).abs() <= 1e-12 * expected,
                        "{kernel}: {} vs {expected}",
                        peak.sum
                    );
                }
                None => assert!(!kernel.is_available(), "{kernel}"),
            }
        }
        assert_eq!(Kernel::Reference.fma_peak(1000), None);
        assert_eq!(Kernel::Simd.fma_peak(1000), None);
        let kernels = vector_kernels();
        for ((kernel, _), runs) in kernels.iter().zip(fma_peak_readings(&kernels, 10_000)) {
            if *kernel == Kernel::Simd {
                assert!(runs.is_empty());
            } else {
                assert_eq!(runs.len(), PEAK_RUNS, "{kernel}");
                assert!(runs.iter().all(|g| g.is_finite() && *g > 0.0), "{runs:?}");
            }
        }
    }
}
