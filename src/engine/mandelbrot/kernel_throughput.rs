//! `parlab bench kernel`: the scalar reference against the SIMD kernel on
//! three fixed views, one core each, with the clock and the FMA ceiling.
//!
//! Throughput is *iterations executed* (the sum of the pixels' escape
//! counts) per second on one thread. The ceiling assumes two 256-bit FMA
//! pipes: 4 f64 lanes × 2 pipes ÷ 3 multiplies per iteration = 8/3
//! iterations per cycle (≈ 8.3 G/s at 3.1 GHz).

use crate::engine::mandelbrot::kernel::{Kernel, TilePixels};
use crate::engine::mandelbrot::tiling::Tile;
use crate::engine::mandelbrot::view::View;
use crate::engine::util::stats::median_u64;
use serde::Serialize;
use std::hint::black_box;
use std::time::Instant;

/// Iterations per cycle per core that two 256-bit FMA pipes allow.
pub const ITERS_PER_CYCLE_CEILING: f64 = 8.0 / 3.0;
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

/// Both kernels on one view.
#[derive(Clone, Debug, Serialize)]
pub struct ViewResult {
    pub name: &'static str,
    pub description: &'static str,
    pub reference: KernelTiming,
    pub simd: KernelTiming,
    /// SIMD ÷ reference, G/s at the medians.
    pub speedup: f64,
    /// SIMD G/s ÷ the ceiling.
    pub fraction_of_ceiling: f64,
    /// The same two ratios from CPU time (Linux only).
    pub speedup_cpu: Option<f64>,
    pub fraction_of_ceiling_cpu: Option<f64>,
}

/// The clock the ceiling is computed from.
#[derive(Clone, Debug, Serialize)]
pub struct ClockEstimate {
    pub ghz: f64,
    pub source: String,
}

/// The whole report.
#[derive(Clone, Debug, Serialize)]
pub struct KernelBenchReport {
    pub simd_backend: &'static str,
    pub clock: ClockEstimate,
    pub ceiling_giga_iters_per_sec: f64,
    pub views: Vec<ViewResult>,
}

/// Measures the clock with a dependent chain of 64-bit multiply-adds
/// (xor 1 cycle + imul 3 cycles = 4 cycles a link on x86-64); the best of
/// five runs. Falls back to [`ASSUMED_GHZ`] elsewhere.
pub fn measure_clock() -> ClockEstimate {
    if cfg!(not(target_arch = "x86_64")) {
        return ClockEstimate {
            ghz: ASSUMED_GHZ,
            source: format!("assumed {ASSUMED_GHZ} GHz (no calibrated loop for this CPU)"),
        };
    }
    const LINKS: u64 = 50_000_000;
    let mut best = f64::MAX;
    for _ in 0..5 {
        let k = black_box(0x9E37_79B9_7F4A_7C15u64);
        let mut x = black_box(1u64);
        let start = Instant::now();
        for _ in 0..LINKS {
            x = (x ^ k).wrapping_mul(k);
        }
        black_box(x);
        best = best.min(start.elapsed().as_secs_f64());
    }
    let ghz = 4.0 * LINKS as f64 / best / 1e9;
    ClockEstimate {
        ghz,
        source: "calibrated: dependent xor+imul chain, 4 cycles/link, best of 5".into(),
    }
}

/// CPU time this thread has run so far, in ns, where the OS tells it
/// (Linux: /proc/thread-self/schedstat); `None` elsewhere.
pub fn thread_cpu_nanos() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
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
    progress("measuring the clock");
    let clock = measure_clock();
    let ceiling = clock.ghz * ITERS_PER_CYCLE_CEILING;
    let mut results = Vec::new();
    for bv in views {
        progress(&format!("{}: scalar reference", bv.name));
        let reference = time_kernel(Kernel::Reference, &bv.view, bv.reference_row_stride, runs);
        progress(&format!("{}: SIMD", bv.name));
        let simd = time_kernel(Kernel::Simd, &bv.view, 1, runs);
        results.push(ViewResult {
            name: bv.name,
            description: bv.description,
            speedup: simd.giga_iters_per_sec / reference.giga_iters_per_sec,
            fraction_of_ceiling: simd.giga_iters_per_sec / ceiling,
            speedup_cpu: simd
                .giga_iters_per_cpu_sec
                .zip(reference.giga_iters_per_cpu_sec)
                .map(|(s, r)| s / r),
            fraction_of_ceiling_cpu: simd.giga_iters_per_cpu_sec.map(|s| s / ceiling),
            reference,
            simd,
        });
    }
    KernelBenchReport {
        simd_backend: crate::engine::mandelbrot::kernel::simd_backend_name(),
        clock,
        ceiling_giga_iters_per_sec: ceiling,
        views: results,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
                "schedstat is readable on Linux"
            );
        }
    }
}
