//! AVX2 + FMA code paths, chosen at run time: the 4-lane kernel, the
//! reference compiled with hardware FMA, the FMA peak loop, the
//! Benchmarks Game row and the colouring of eight pixels at a time. One of the two modules of the crate that may use
//! `unsafe`, with `simd_avx512` (a test scans `src/` for it): the calls
//! into the `#[target_feature]` functions, made only after the CPU was
//! checked (detection is cached), and the vector loads and stores from
//! arrays. Since Rust 1.87 the arithmetic intrinsics themselves are safe
//! inside those functions.
//!
//! The kernel is the AVX-512 one's design on 4-lane ymm vectors, with the
//! mask registers, compresses and expands it lacks done as lane bits (a
//! `movemask`), blends, and a short scalar loop per lane where pixels
//! change places. Same counts and smooth values as [`reference`], bit for
//! bit:
//! - **Pre-pass** ([`Feed`]): pixels run their first [`PREPASS_ITERS`]
//!   steps with the reference's test before each, sixteen side by side;
//!   those that stop there (most of a wide view) are finished at once.
//! - **Block loop** ([`Lanes::run_blocks`]): blocks of [`AVX2_BLOCK_ITERS`]
//!   untested steps on [`AVX2_VECTORS`] vectors in registers, `!(|z|² <= 4)`
//!   tested after each (see `simd` for why a block-end test finds every
//!   escape). A lane that failed, or that has less than a block left before
//!   `max_iter`, is *done*: a blended store keeps the z it had at the
//!   block's start, and it runs on, ignored. The loop leaves the registers
//!   only once [`SERVICE_LANES`] lanes are done; one *service* then hands
//!   them to a pending batch and refills them from the pre-pass.
//! - **Finish** ([`Pending`]): every [`PENDING_BATCH`] escapes, a replay of
//!   the block, sixteen pixels side by side, half a block untested to find
//!   the half the stop lies in, then that half with the reference's test
//!   before each step; then the smooth values of those sixteen, four
//!   vectors side by side, with a vector copy of `log2_fast` (the
//!   pre-pass's finished pixels too): one vector's two logarithms are a
//!   long chain.
#![allow(unsafe_code)]

use super::simd::{Columns, NO_PIXEL_INDEX as NO_PIXEL, PixelCursor, VECTOR_LANES, finish};
use super::{TilePixels, reference};
use crate::engine::mandelbrot::tiling::Tile;
use crate::engine::mandelbrot::view::View;
use std::arch::x86_64::{
    __m128, __m128i, __m256d, _CMP_GE_OQ, _CMP_GT_OQ, _CMP_LT_OQ, _CMP_NLE_UQ, _mm_storeu_ps,
    _mm_storeu_si128, _mm256_add_pd, _mm256_and_pd, _mm256_and_si256, _mm256_blendv_pd,
    _mm256_castpd_si256, _mm256_castsi256_pd, _mm256_cmp_pd, _mm256_cmpeq_epi64, _mm256_cvtpd_ps,
    _mm256_cvttpd_epi32, _mm256_div_pd, _mm256_fmadd_pd, _mm256_fnmadd_pd, _mm256_loadu_pd,
    _mm256_max_pd, _mm256_min_pd, _mm256_movemask_pd, _mm256_mul_pd, _mm256_or_pd, _mm256_or_si256,
    _mm256_set_epi64x, _mm256_set1_epi64x, _mm256_set1_pd, _mm256_setzero_pd, _mm256_srli_epi64,
    _mm256_storeu_pd, _mm256_sub_pd,
};
use std::cell::Cell;
use std::sync::OnceLock;

/// Vectors in flight. One step is an 8-cycle dependency chain (two FMAs
/// in a row) of 3 FMAs and an add; two FMA pipes take 1.5 cycles a vector,
/// so it takes 8 ÷ 1.5 ≈ 5.3 vectors to keep both busy. Six leave the pipes
/// some slack and still fit the 16 registers (z in registers, c read from
/// memory by the FMAs). On the 2-core Zen 3 (one core, median ms of 4
/// alternating rounds), 5 vectors: K0 380, B2 550, B3 980; 6: 335, 480,
/// 938.
pub const AVX2_VECTORS: usize = 6;

/// Whether this CPU has AVX2 and FMA (checked once).
pub fn available() -> bool {
    static DETECTED: OnceLock<bool> = OnceLock::new();
    *DETECTED.get_or_init(|| is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma"))
}

/// Whether this CPU has FMA (checked once).
pub fn has_fma() -> bool {
    static DETECTED: OnceLock<bool> = OnceLock::new();
    *DETECTED.get_or_init(|| is_x86_feature_detected!("fma"))
}

/// The fast kernel on AVX2+FMA, or `None` if the CPU lacks them.
pub fn compute_tile(view: &View, tile: &Tile, out: &mut TilePixels) -> Option<u64> {
    if !available() {
        return None;
    }
    let mut scratch = SCRATCH.take().unwrap_or_else(Scratch::boxed);
    // SAFETY: `available()` checked that the CPU supports avx2 and fma, the
    // only requirement of this `#[target_feature]` function.
    let iterations = unsafe { compute_tile_avx2(view, tile, out, &mut scratch) };
    SCRATCH.set(Some(scratch));
    Some(iterations)
}

/// The reference kernel with hardware FMA, or `None` if the CPU lacks it.
pub fn reference_tile(view: &View, tile: &Tile, out: &mut TilePixels) -> Option<u64> {
    if !has_fma() {
        return None;
    }
    // SAFETY: `has_fma()` checked that the CPU supports fma, the only
    // requirement of this `#[target_feature]` function.
    Some(unsafe { reference_tile_fma(view, tile, out) })
}

/// Independent accumulators in [`fma_peak`]: more than the FMA latency
/// (4–5 cycles) times the pipes (2), so the pipes bound the loop, not the
/// chains; 12 of the 16 ymm registers, with the two operands.
const FMA_PEAK_CHAINS: usize = 12;

/// Runs at least `fmas` ymm FMAs, [`FMA_PEAK_CHAINS`] independent ones a
/// round (the peak a 4-lane kernel could reach on this core), and says what
/// it ran, or `None` without AVX2 and FMA. The caller times it.
pub fn fma_peak(fmas: u64) -> Option<super::FmaPeak> {
    if !available() {
        return None;
    }
    let rounds = fmas.div_ceil(FMA_PEAK_CHAINS as u64);
    // SAFETY: `available()` checked that the CPU supports avx2 and fma, the
    // only requirement of this `#[target_feature]` function.
    let sum = std::hint::black_box(unsafe { fma_peak_avx2(rounds) });
    Some(super::FmaPeak {
        fmas: rounds * FMA_PEAK_CHAINS as u64,
        chains: FMA_PEAK_CHAINS,
        lanes: VECTOR_LANES,
        sum,
    })
}

#[target_feature(enable = "avx2,fma")]
fn fma_peak_avx2(rounds: u64) -> f64 {
    use std::hint::black_box;
    let m = _mm256_set1_pd(black_box(super::FMA_PEAK_MULTIPLIER));
    let b = _mm256_set1_pd(black_box(super::FMA_PEAK_ADDEND));
    let mut acc: [__m256d; FMA_PEAK_CHAINS] =
        std::array::from_fn(|i| _mm256_set1_pd(0.01 * i as f64));
    for _ in 0..rounds {
        for a in &mut acc {
            *a = _mm256_fmadd_pd(*a, m, b);
        }
    }
    let mut sum = [0.0; VECTOR_LANES];
    store(
        &mut sum,
        acc.into_iter()
            .fold(_mm256_set1_pd(0.0), |s, a| _mm256_add_pd(s, a)),
    );
    sum.iter().sum()
}

#[target_feature(enable = "fma")]
fn reference_tile_fma(view: &View, tile: &Tile, out: &mut TilePixels) -> u64 {
    reference::compute_tile(view, tile, out)
}

#[inline(always)]
fn load(a: &[f64; VECTOR_LANES]) -> __m256d {
    // SAFETY: `a` is 4 readable f64s; loadu has no alignment requirement.
    // Every caller runs only after `available()` found AVX2 (avx2 fns, and
    // tests that check it first).
    unsafe { _mm256_loadu_pd(a.as_ptr()) }
}

#[inline(always)]
fn store(a: &mut [f64; VECTOR_LANES], v: __m256d) {
    // SAFETY: `a` is 4 writable f64s; storeu has no alignment requirement.
    // Every caller runs only after `available()` found AVX2 (avx2 fns, and
    // tests that check it first).
    unsafe { _mm256_storeu_pd(a.as_mut_ptr(), v) }
}

#[inline(always)]
fn store_i32(v: __m128i) -> [i32; LANES] {
    let mut a = [0; LANES];
    // SAFETY: `a` is 16 writable bytes; storeu has no alignment
    // requirement. SSE2 is part of x86-64.
    unsafe { _mm_storeu_si128(a.as_mut_ptr().cast(), v) };
    a
}

#[inline(always)]
fn store_f32(v: __m128) -> [f32; LANES] {
    let mut a = [0.0; LANES];
    // SAFETY: `a` is 16 writable bytes; storeu has no alignment
    // requirement. SSE is part of x86-64.
    unsafe { _mm_storeu_ps(a.as_mut_ptr(), v) };
    a
}

// ---------------------------------------------------------------------------
// The block kernel: escapes handled inside the vector loop.
// ---------------------------------------------------------------------------

/// f64 lanes in a ymm register.
const LANES: usize = VECTOR_LANES;
/// Steps between two escape tests (even). Longer blocks stop for escapes
/// less often, for a longer replay of each escaped pixel.
pub const AVX2_BLOCK_ITERS: u32 = 20;
/// Writes its statements out [`AVX2_BLOCK_ITERS`] times (5 × 4).
macro_rules! write_out_block_steps {
    (@4 $($step:tt)*) => {
        $($step)*
        $($step)*
        $($step)*
        $($step)*
    };
    ($($step:tt)*) => {
        write_out_block_steps!(@4 $($step)*);
        write_out_block_steps!(@4 $($step)*);
        write_out_block_steps!(@4 $($step)*);
        write_out_block_steps!(@4 $($step)*);
        write_out_block_steps!(@4 $($step)*);
    };
}
const _: () = assert!(
    AVX2_BLOCK_ITERS == 5 * 4,
    "write_out_block_steps writes 20 steps"
);
/// Untested steps a replay runs before it tests the middle of the block.
const HALF_BLOCK_ITERS: u32 = AVX2_BLOCK_ITERS / 2;
/// Lanes of all vectors (bit `4v + l` of a `u32` lane mask).
const ALL_LANES: usize = LANES * AVX2_VECTORS;
const _: () = assert!(ALL_LANES <= 32, "lane masks are u32");
/// Done lanes that make the block loop stop to hand them to the exact
/// finish and refill them ([`Lanes::service`]); a done lane idles until
/// then. 4, 8, 12 and 16 read alike within this machine's noise.
const SERVICE_LANES: usize = 12;
/// Escaped pixels finished together (a multiple of [`REPLAY_PX`]).
const PENDING_BATCH: usize = 64;
/// Groups of four pending pixels replayed side by side: one group's
/// replay is a chain of dependent FMAs, four in step keep the pipes busy.
const REPLAY_GROUPS: usize = 4;
/// Pending pixels one replay covers.
const REPLAY_PX: usize = REPLAY_GROUPS * LANES;
/// Pending room: a full batch minus one, one service's lanes, and the
/// whole replay read past the end.
const PENDING_CAP: usize = PENDING_BATCH + ALL_LANES + REPLAY_PX;
/// Pixels the feed buffer holds.
const FEED_CAP: usize = 64;
/// Room in the feed's columns: one vector past the whole-vector stores,
/// which end by [`FEED_CAP`].
const FEED_ROOM: usize = FEED_CAP + LANES;
/// Steps a pixel runs in the feed's pre-pass, each after the reference's
/// test, before it takes a lane.
const PREPASS_ITERS: u32 = 32;
/// Steps after which a pre-pass chunk in which no pixel has stopped ends.
const PREPASS_PROBE_ITERS: u32 = 8;
/// Bits of the four lanes of one vector in a lane bitmask.
const VECTOR_BITS: u32 = (1 << LANES) - 1;

/// The lanes set in `bits` (bit `l`: lane `l`) as a vector mask.
#[target_feature(enable = "avx2,fma")]
#[inline]
fn lane_mask(bits: u32) -> __m256d {
    let lane_bits = _mm256_set_epi64x(8, 4, 2, 1);
    let picked = _mm256_and_si256(_mm256_set1_epi64x(i64::from(bits)), lane_bits);
    _mm256_castsi256_pd(_mm256_cmpeq_epi64(picked, lane_bits))
}

/// Lanes whose mask lane is set, as bits.
#[target_feature(enable = "avx2,fma")]
#[inline]
fn lane_bits(mask: __m256d) -> u32 {
    _mm256_movemask_pd(mask) as u32
}

#[inline(always)]
fn load_at(a: &[f64]) -> __m256d {
    load(a[..LANES].try_into().expect("4 lanes"))
}

#[inline(always)]
fn store_at(a: &mut [f64], v: __m256d) {
    store((&mut a[..LANES]).try_into().expect("4 lanes"), v)
}

/// Overwrites the lanes of `bits` of `a` with those of `v`.
#[target_feature(enable = "avx2,fma")]
#[inline]
fn store_lanes(a: &mut [f64; LANES], bits: u32, v: __m256d) {
    store(a, _mm256_blendv_pd(load(a), v, lane_mask(bits)));
}

/// One step z → z² + c, exactly `reference::step`:
/// zi' = fma(zr + zr, zi, ci), zr' = fma(zr, zr, fma(−zi, zi, cr)).
#[target_feature(enable = "avx2,fma")]
#[inline]
fn step(zr: __m256d, zi: __m256d, cr: __m256d, ci: __m256d) -> (__m256d, __m256d) {
    let cr_minus_zi2 = _mm256_fnmadd_pd(zi, zi, cr);
    let twice_zr = _mm256_add_pd(zr, zr);
    (
        _mm256_fmadd_pd(zr, zr, cr_minus_zi2),
        _mm256_fmadd_pd(twice_zr, zi, ci),
    )
}

/// |z|², exactly `reference::mag2`: fma(zr, zr, zi·zi).
#[target_feature(enable = "avx2,fma")]
#[inline]
fn mag2(zr: __m256d, zi: __m256d) -> __m256d {
    _mm256_fmadd_pd(zr, zr, _mm256_mul_pd(zi, zi))
}

/// The reference's test (before a step), kept as a tally instead of which
/// test failed first (see [`Pending::replay`]): in the lanes that fail,
/// one more failed test and |z|² folded into the least failing one.
/// NLE_UQ: a NaN (z overflowed after the stop) fails too; min(m, least)
/// keeps `least` where m is NaN. Returns the failing lanes.
#[target_feature(enable = "avx2,fma")]
#[inline]
fn tally_test(zr: __m256d, zi: __m256d, failed: &mut __m256d, least: &mut __m256d) -> u32 {
    let m = mag2(zr, zi);
    let fails = _mm256_cmp_pd::<_CMP_NLE_UQ>(m, _mm256_set1_pd(4.0));
    *least = _mm256_blendv_pd(*least, _mm256_min_pd(m, *least), fails);
    *failed = _mm256_add_pd(*failed, _mm256_and_pd(fails, _mm256_set1_pd(1.0)));
    lane_bits(fails)
}

/// The count a tally of `tests` tests from `start` iterations gives: the
/// stop after the tests passed (each followed by a step), or `limit`
/// (max_iter) if that comes first, as the reference stops there. Exact:
/// small integers.
#[target_feature(enable = "avx2,fma")]
#[inline]
fn tallied_count(start: __m256d, tests: __m256d, failed: __m256d, limit: __m256d) -> __m256d {
    _mm256_min_pd(_mm256_add_pd(start, _mm256_sub_pd(tests, failed)), limit)
}

/// For [`REPLAY_GROUPS`] groups of four entries of which the first `used`
/// are real: the lanes of each group past `used`, as bits.
fn lanes_past(used: usize) -> [u32; REPLAY_GROUPS] {
    std::array::from_fn(|g| {
        let real = used.saturating_sub(g * LANES).min(LANES);
        VECTOR_BITS & !((1u32 << real) - 1)
    })
}

/// `smooth_value` for `G` groups of four escaped pixels (counts below
/// `max_iter`, |z|² finite and > 4): the same operations as the scalar
/// one, so the f32 is identical. The groups go side by side, each
/// operation for all of them: one group's two logarithms, each with a
/// division, are a chain of about 120 cycles that one group alone leaves
/// the pipes idle through.
#[target_feature(enable = "avx2,fma")]
#[inline]
fn smooth_values<const G: usize>(count: [__m256d; G], mag2: [__m256d; G]) -> [__m256d; G] {
    let log2_mag2 = log2_fast(mag2);
    let log2_zn: [__m256d; G] = each(|g| _mm256_mul_pd(_mm256_set1_pd(0.5), log2_mag2[g]));
    let nu = log2_fast(log2_zn);
    each(|g| {
        let value = _mm256_sub_pd(_mm256_add_pd(count[g], _mm256_set1_pd(1.0)), nu[g]);
        _mm256_max_pd(value, _mm256_setzero_pd())
    })
}

/// One vector per group, made by `f` from the group's index.
#[inline(always)]
fn each<const G: usize>(f: impl FnMut(usize) -> __m256d) -> [__m256d; G] {
    std::array::from_fn(f)
}

/// `kernel::log2_fast` for `G` vectors of positive normal finite lanes,
/// side by side: x = 2ᵉ·m split with the scalar one's bit masks, e made
/// exact through 2⁵² (its bits or-ed into the mantissa of 2⁵², then
/// 2⁵² + 1023 taken off), then the same operations, each rounded once, in
/// the same order.
#[target_feature(enable = "avx2,fma")]
#[inline]
fn log2_fast<const G: usize>(x: [__m256d; G]) -> [__m256d; G] {
    const TWO_52: f64 = 4_503_599_627_370_496.0;
    let one = _mm256_set1_pd(1.0);
    let c = |v: f64| _mm256_set1_pd(v);
    let bits: [_; G] = std::array::from_fn(|g| _mm256_castpd_si256(x[g]));
    let mut e: [__m256d; G] = each(|g| {
        let biased = _mm256_srli_epi64::<52>(bits[g]);
        _mm256_sub_pd(
            _mm256_castsi256_pd(_mm256_or_si256(
                biased,
                _mm256_set1_epi64x(TWO_52.to_bits() as i64),
            )),
            c(TWO_52 + 1023.0),
        )
    });
    let mut m: [__m256d; G] = each(|g| {
        _mm256_castsi256_pd(_mm256_or_si256(
            _mm256_and_si256(bits[g], _mm256_set1_epi64x(0x000f_ffff_ffff_ffff)),
            _mm256_set1_epi64x(0x3ff0_0000_0000_0000),
        ))
    });
    for g in 0..G {
        let big = _mm256_cmp_pd::<_CMP_GT_OQ>(m[g], c(std::f64::consts::SQRT_2));
        m[g] = _mm256_blendv_pd(m[g], _mm256_mul_pd(m[g], c(0.5)), big);
        e[g] = _mm256_blendv_pd(e[g], _mm256_add_pd(e[g], one), big);
    }
    let s: [__m256d; G] =
        each(|g| _mm256_div_pd(_mm256_sub_pd(m[g], one), _mm256_add_pd(m[g], one)));
    let s2: [__m256d; G] = each(|g| _mm256_mul_pd(s[g], s[g]));
    let mut series: [__m256d; G] =
        each(|g| _mm256_add_pd(c(1.0 / 7.0), _mm256_mul_pd(s2[g], c(1.0 / 9.0))));
    for term in [1.0 / 5.0, 1.0 / 3.0, 1.0] {
        series = each(|g| _mm256_add_pd(c(term), _mm256_mul_pd(s2[g], series[g])));
    }
    each(|g| {
        _mm256_add_pd(
            e[g],
            _mm256_mul_pd(_mm256_mul_pd(s[g], series[g]), c(super::TWO_OVER_LN_2)),
        )
    })
}

/// Writes finished pixels, `G` groups of four side by side: the lanes of
/// `bits[g]` of each group's counts (below or at `limit`) and |z|², pixel
/// indices in `pixel`. Returns their iterations.
#[target_feature(enable = "avx2,fma")]
#[inline]
fn put_finished<const G: usize>(
    out: &mut TilePixels,
    bits: [u32; G],
    count: [__m256d; G],
    mag: [__m256d; G],
    pixel: [__m256d; G],
    limit: __m256d,
) -> u64 {
    let smooth = smooth_values(count, mag);
    let mut iterations = 0;
    for g in 0..G {
        if bits[g] == 0 {
            continue;
        }
        let inside = _mm256_cmp_pd::<_CMP_GE_OQ>(count[g], limit);
        let values = _mm256_blendv_pd(smooth[g], limit, inside);
        // Counts (integers ≤ MAX_ITER) and pixel indices (< 2³¹) convert
        // exactly; the f64 → f32 rounding is to nearest even, the scalar
        // `as f32`.
        let counts = store_i32(_mm256_cvttpd_epi32(count[g]));
        let pixels = store_i32(_mm256_cvttpd_epi32(pixel[g]));
        let values = store_f32(_mm256_cvtpd_ps(values));
        let mut left = bits[g];
        while left != 0 {
            let lane = left.trailing_zeros() as usize;
            left &= left - 1;
            let p = pixels[lane] as usize;
            out.counts[p] = counts[lane] as u32;
            out.smooth[p] = values[lane];
            iterations += u64::from(counts[lane] as u32);
        }
    }
    iterations
}

/// The feed's and the pending batch's columns, kept by each thread from
/// tile to tile (made afresh they were cleared for every tile, which costs
/// more than the pixels of a small tile). Whole groups are loaded past the
/// entries in use, which may hold an earlier tile's data; those lanes are
/// ignored, so nothing past the end affects a result.
struct Scratch {
    feed: Columns<FEED_ROOM>,
    pending: Pending,
}

impl Scratch {
    fn boxed() -> Box<Self> {
        Box::new(Scratch {
            feed: Columns::new(),
            pending: Pending {
                cols: Columns::new(),
                len: 0,
                results: Replayed {
                    count: [0.0; PENDING_CAP],
                    mag: [0.0; PENDING_CAP],
                    end_zr: [0.0; PENDING_CAP],
                    end_zi: [0.0; PENDING_CAP],
                    end_n: [0.0; PENDING_CAP],
                    found: [0; PENDING_CAP.div_ceil(LANES)],
                },
            },
        })
    }
}

thread_local! {
    /// This thread's [`Scratch`]; taken for a tile and put back after it
    /// (a call that finds it taken makes its own).
    static SCRATCH: Cell<Option<Box<Scratch>>> = const { Cell::new(None) };
}

impl<const N: usize> Columns<N> {
    /// Stores one vector per column from entry `n` on.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    fn put4(&mut self, n: usize, [zr, zi, cr, ci, iters, pixel]: [__m256d; 6]) {
        store_at(&mut self.zr[n..], zr);
        store_at(&mut self.zi[n..], zi);
        store_at(&mut self.cr[n..], cr);
        store_at(&mut self.ci[n..], ci);
        store_at(&mut self.iters[n..], iters);
        store_at(&mut self.pixel[n..], pixel);
    }

    /// The lanes of `bits` of one vector per column, packed from entry `n`
    /// on; returns how many.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    fn put4_lanes(&mut self, n: usize, bits: u32, columns: [__m256d; 6]) -> usize {
        if bits == VECTOR_BITS {
            self.put4(n, columns);
            return LANES;
        }
        let mut lanes = [[0.0; LANES]; 6];
        for (lane, v) in lanes.iter_mut().zip(columns) {
            store(lane, v);
        }
        let mut at = n;
        let mut left = bits;
        while left != 0 {
            let l = left.trailing_zeros() as usize;
            left &= left - 1;
            for (column, lane) in self.all().into_iter().zip(&lanes) {
                column[at] = lane[l];
            }
            at += 1;
        }
        at - n
    }
}

/// The tile's next pixels, each past its first [`PREPASS_ITERS`] steps
/// (z, c, iterations run, index), padded past the end with lanes that hold
/// no pixel.
///
/// The *pre-pass*: pixels come from the cursor [`REPLAY_PX`] at a time and
/// run their first steps with the reference's test before each step, four
/// groups of four side by side. Most pixels of a wide view escape in a few
/// steps: they are finished there, exactly, and never take a lane in the
/// block loop (where each would cost a block, a replay and a service). A
/// chunk in which no pixel stopped within [`PREPASS_PROBE_ITERS`] steps
/// (deep in a zoom, or inside the set) ends its pre-pass there, and the
/// chunk after it runs those steps untested with one test after them (an
/// escape stays one, as at a block's end): if no pixel failed it, none
/// stopped, and the chunk enters the feed as the tested probe would have
/// left it; else it is redone with the test.
struct Feed<'a> {
    cursor: PixelCursor<'a>,
    exhausted: bool,
    cols: &'a mut Columns<FEED_ROOM>,
    pos: usize,
    len: usize,
    max_iter: u32,
    /// Iterations of the pixels the pre-pass finished.
    iterations: u64,
    /// The last chunk had no pixel stop within [`PREPASS_PROBE_ITERS`]
    /// steps: the next one probes them untested first.
    quiet: bool,
}

impl<'a> Feed<'a> {
    fn new(view: &'a View, tile: &'a Tile, cols: &'a mut Columns<FEED_ROOM>) -> Self {
        Feed {
            cursor: PixelCursor::new(view, tile),
            exhausted: false,
            cols,
            pos: 0,
            len: 0,
            max_iter: view.max_iter(),
            iterations: 0,
            quiet: false,
        }
    }

    /// Makes at least `n` entries (at most [`FEED_CAP`] − [`REPLAY_PX`])
    /// readable from `pos`, finishing into `out` the pixels the pre-pass
    /// finds done.
    #[target_feature(enable = "avx2,fma")]
    fn ensure(&mut self, n: usize, out: &mut TilePixels) {
        if self.len - self.pos >= n {
            return;
        }
        self.cols.drop_front(self.pos, self.len);
        self.len -= self.pos;
        self.pos = 0;
        while self.len + REPLAY_PX <= FEED_CAP && !self.exhausted {
            self.prepass(out);
        }
        if self.exhausted {
            // Padding: lanes that hold no pixel (c = 0 never escapes).
            self.cols.clear_from(self.len);
            self.len = FEED_CAP;
        }
    }

    /// Takes the cursor's next [`REPLAY_PX`] pixels through the pre-pass:
    /// finishes those that stop within it, appends the others.
    #[target_feature(enable = "avx2,fma")]
    fn prepass(&mut self, out: &mut TilePixels) {
        const G: usize = REPLAY_GROUPS;
        let mut cr = [0.0; REPLAY_PX];
        let mut ci = [0.0; REPLAY_PX];
        let mut pixel = [NO_PIXEL; REPLAY_PX];
        let mut real = 0;
        if let Some((first, column, row_ci)) = self.cursor.next_run(REPLAY_PX as u32) {
            // A run within one row: the same operations as `View::re`.
            let (left, size) = self.cursor.re_parts();
            for k in 0..REPLAY_PX {
                cr[k] = left + (f64::from(column + k as u32) + 0.5) * size;
                ci[k] = row_ci;
                pixel[k] = f64::from(first + k as u32);
            }
            real = REPLAY_PX;
        }
        while real < REPLAY_PX {
            let Some((p, r, i)) = self.cursor.next_pixel() else {
                self.exhausted = true;
                break;
            };
            cr[real] = r;
            ci[real] = i;
            pixel[real] = f64::from(p);
            real += 1;
        }
        if real == 0 {
            return;
        }
        let steps = PREPASS_ITERS.min(self.max_iter);
        let at_limit = steps == self.max_iter;
        let four = _mm256_set1_pd(4.0);
        let at = |g: usize| g * LANES;
        let crv: [__m256d; G] = std::array::from_fn(|g| load_at(&cr[at(g)..]));
        let civ: [__m256d; G] = std::array::from_fn(|g| load_at(&ci[at(g)..]));
        let pixels: [__m256d; G] = std::array::from_fn(|g| load_at(&pixel[at(g)..]));
        // Lanes past `real` are not pixels: the tested pre-pass makes them
        // fail every test (z = ∞), so they count as found.
        let unused = lanes_past(real);
        if self.quiet && steps > PREPASS_PROBE_ITERS {
            // After a quiet chunk: the probe's steps untested, and one
            // test after them. If no pixel failed it, none stopped within
            // the probe, and every one enters the feed as the tested probe
            // leaves it.
            let mut zr = [_mm256_setzero_pd(); G];
            let mut zi = [_mm256_setzero_pd(); G];
            for _ in 0..PREPASS_PROBE_ITERS {
                for g in 0..G {
                    (zr[g], zi[g]) = step(zr[g], zi[g], crv[g], civ[g]);
                }
            }
            let mut failed = 0;
            for g in 0..G {
                let m = mag2(zr[g], zi[g]);
                failed |= lane_bits(_mm256_cmp_pd::<_CMP_NLE_UQ>(m, four)) & !unused[g];
            }
            if failed == 0 {
                // The real lanes come first: whole vectors.
                let iters = _mm256_set1_pd(f64::from(PREPASS_PROBE_ITERS));
                for g in 0..G {
                    self.cols
                        .put4(self.len, [zr[g], zi[g], crv[g], civ[g], iters, pixels[g]]);
                    self.len += (VECTOR_BITS & !unused[g]).count_ones() as usize;
                }
                return;
            }
            self.quiet = false;
        }
        // The reference's test before each step, kept as a tally (see
        // `Pending::replay`): the count is the tests passed, |z|² at the
        // stop the least failing one.
        let infinity = _mm256_set1_pd(f64::INFINITY);
        let zero = _mm256_setzero_pd();
        let mut zr: [__m256d; G] =
            std::array::from_fn(|g| _mm256_blendv_pd(zero, infinity, lane_mask(unused[g])));
        let mut zi = [zero; G];
        let mut failed = [zero; G];
        let mut mag = [infinity; G];
        let mut ran = 0;
        for j in 0..=steps {
            let mut all = VECTOR_BITS;
            for g in 0..G {
                all &= tally_test(zr[g], zi[g], &mut failed[g], &mut mag[g]);
            }
            ran = j;
            let at_max = at_limit && j == steps;
            // Done: every pixel stopped, or the pre-pass is over, or none
            // stopped in its first steps (a view near the set: the block
            // loop runs them faster).
            if j == PREPASS_PROBE_ITERS && !at_max {
                let any = (0..G).fold(0, |any, g| {
                    any | (lane_bits(_mm256_cmp_pd::<_CMP_GT_OQ>(failed[g], zero)) & !unused[g])
                });
                if any == 0 {
                    self.quiet = true;
                    break;
                }
            }
            if all == VECTOR_BITS || j == steps {
                break;
            }
            for g in 0..G {
                (zr[g], zi[g]) = step(zr[g], zi[g], crv[g], civ[g]);
            }
        }
        let limit = _mm256_set1_pd(f64::from(self.max_iter));
        let iters = _mm256_set1_pd(f64::from(ran));
        // A pixel that passed every test up to max_iter stops there.
        let at_max = if at_limit && ran == steps {
            VECTOR_BITS
        } else {
            0
        };
        let tests = _mm256_set1_pd(f64::from(ran + 1));
        let count = each(|g| tallied_count(zero, tests, failed[g], limit));
        let found: [u32; G] = std::array::from_fn(|g| {
            lane_bits(_mm256_cmp_pd::<_CMP_GT_OQ>(failed[g], zero)) | at_max
        });
        let finished = std::array::from_fn(|g| found[g] & !unused[g]);
        if finished.iter().any(|&bits| bits != 0) {
            self.iterations += put_finished(out, finished, count, mag, pixels, limit);
        }
        for g in 0..G {
            let survivors = VECTOR_BITS & !found[g];
            let columns = [zr[g], zi[g], crv[g], civ[g], iters, pixels[g]];
            self.len += self.cols.put4_lanes(self.len, survivors, columns);
        }
    }
}

/// Pixels waiting for their exact finish, as columns: z at the start of
/// the block they left in, c, the iterations executed before that block,
/// and the pixel index.
struct Pending {
    cols: Columns<PENDING_CAP>,
    len: usize,
    /// What the last replay found.
    results: Replayed,
}

/// What [`Pending::replay`] found for each pending entry.
#[repr(align(32))]
struct Replayed {
    count: [f64; PENDING_CAP],
    mag: [f64; PENDING_CAP],
    end_zr: [f64; PENDING_CAP],
    end_zi: [f64; PENDING_CAP],
    /// Iterations run to reach (`end_zr`, `end_zi`).
    end_n: [f64; PENDING_CAP],
    /// Bit `l` of `found[g]`: entry `4g + l` failed a test in the replay or
    /// reached `max_iter`.
    found: [u32; PENDING_CAP.div_ceil(LANES)],
}

impl Pending {
    /// Finishes whole groups of four (and the rest too if `all`); keeps
    /// the rest for later. Returns the iterations of the finished pixels.
    #[target_feature(enable = "avx2,fma")]
    fn finish(&mut self, out: &mut TilePixels, max_iter: u32, all: bool) -> u64 {
        let whole = self.len / LANES * LANES;
        let end = if all { self.len } else { whole };
        let limit = _mm256_set1_pd(f64::from(max_iter));
        let mut iterations = 0;
        for i in (0..end).step_by(REPLAY_PX) {
            self.replay(i, end - i, max_iter);
            let at = |g: usize| i + g * LANES;
            // The lanes of each group before `end`.
            let used = lanes_past(end - i).map(|past| VECTOR_BITS & !past);
            let found: [u32; REPLAY_GROUPS] =
                std::array::from_fn(|g| self.results.found[at(g) / LANES] & used[g]);
            iterations += put_finished(
                out,
                found,
                each(|g| load_at(&self.results.count[at(g)..])),
                each(|g| load_at(&self.results.mag[at(g)..])),
                each(|g| load_at(&self.cols.pixel[at(g)..])),
                limit,
            );
            for g in 0..REPLAY_GROUPS {
                let mut rest = used[g] & !found[g];
                while rest != 0 {
                    // Not reached by the construction (an entry failed the
                    // block-end test or had under a block left); kept exact.
                    let j = at(g) + rest.trailing_zeros() as usize;
                    rest &= rest - 1;
                    let results = &self.results;
                    let (n, m) = reference::escape_from(
                        results.end_zr[j],
                        results.end_zi[j],
                        results.end_n[j] as u32,
                        self.cols.cr[j],
                        self.cols.ci[j],
                        max_iter,
                    );
                    iterations += finish(out, self.cols.pixel[j] as u32, (n, m), max_iter);
                }
            }
        }
        self.cols.drop_front(end, self.len);
        self.len -= end;
        iterations
    }

    /// Replays entries `i..i + used.min(REPLAY_PX)` ([`REPLAY_GROUPS`]
    /// groups of four side by side, so that their dependency chains
    /// overlap; lanes past `used` are ignored): half a block untested and
    /// a test, to find the half the stop lies in, then that half with the
    /// reference's test before each step. Writes each lane's count (its
    /// first failing test, or `max_iter`) and |z|² at that test into
    /// `results`, z and its iterations at the end (for a lane that did
    /// neither), and the lanes that did.
    ///
    /// The tested half keeps no per-lane record of *which* test failed
    /// first: once |z|² > 4, |z| keeps growing (the reason a block-end test
    /// finds every escape, with the same rounding caveat, see `simd`), so
    /// every test after the first failing one fails too, and |z|² only
    /// grows: the count is the start plus the tests passed, and |z|² at the
    /// stop is the least of the failing ones ([`tally_test`],
    /// [`tallied_count`]).
    #[target_feature(enable = "avx2,fma")]
    fn replay(&mut self, i: usize, used: usize, max_iter: u32) {
        const G: usize = REPLAY_GROUPS;
        let results = &mut self.results;
        let four = _mm256_set1_pd(4.0);
        let limit = _mm256_set1_pd(f64::from(max_iter));
        let at = |g: usize| i + g * LANES;
        let cr: [__m256d; G] = std::array::from_fn(|g| load_at(&self.cols.cr[at(g)..]));
        let ci: [__m256d; G] = std::array::from_fn(|g| load_at(&self.cols.ci[at(g)..]));
        let start_zr: [__m256d; G] = std::array::from_fn(|g| load_at(&self.cols.zr[at(g)..]));
        let start_zi: [__m256d; G] = std::array::from_fn(|g| load_at(&self.cols.zi[at(g)..]));
        let start_n: [__m256d; G] = std::array::from_fn(|g| load_at(&self.cols.iters[at(g)..]));
        // Which half of the block holds the stop: half a block untested,
        // then the block-end test at the middle (an escape there stays
        // one) and the limit.
        let mut zr = start_zr;
        let mut zi = start_zi;
        for _ in 0..HALF_BLOCK_ITERS {
            for g in 0..G {
                (zr[g], zi[g]) = step(zr[g], zi[g], cr[g], ci[g]);
            }
        }
        let half = _mm256_set1_pd(f64::from(HALF_BLOCK_ITERS));
        let mut n = start_n;
        for g in 0..G {
            let m = mag2(zr[g], zi[g]);
            let mid_n = _mm256_add_pd(start_n[g], half);
            let first_half = _mm256_or_pd(
                _mm256_cmp_pd::<_CMP_NLE_UQ>(m, four),
                _mm256_cmp_pd::<_CMP_GE_OQ>(mid_n, limit),
            );
            zr[g] = _mm256_blendv_pd(zr[g], start_zr[g], first_half);
            zi[g] = _mm256_blendv_pd(zi[g], start_zi[g], first_half);
            n[g] = _mm256_blendv_pd(mid_n, start_n[g], first_half);
        }
        // The tested half. Lanes past `used` fail every test (z = ∞, then
        // NaN), so the replay stops as soon as every used lane has failed.
        let unused = lanes_past(used);
        for g in 0..G {
            zr[g] = _mm256_blendv_pd(zr[g], _mm256_set1_pd(f64::INFINITY), lane_mask(unused[g]));
        }
        let mut failed = [_mm256_setzero_pd(); G];
        let mut mag = [_mm256_set1_pd(f64::INFINITY); G];
        let one = _mm256_set1_pd(1.0);
        let mut tests = 0.0;
        for j in 0..=HALF_BLOCK_ITERS {
            let mut all = VECTOR_BITS;
            for g in 0..G {
                all &= tally_test(zr[g], zi[g], &mut failed[g], &mut mag[g]);
            }
            tests += 1.0;
            if all == VECTOR_BITS {
                break;
            }
            if j < HALF_BLOCK_ITERS {
                for g in 0..G {
                    (zr[g], zi[g]) = step(zr[g], zi[g], cr[g], ci[g]);
                }
            }
        }
        let tests = _mm256_set1_pd(tests);
        for g in 0..G {
            let count = tallied_count(n[g], tests, failed[g], limit);
            let found = lane_bits(_mm256_or_pd(
                _mm256_cmp_pd::<_CMP_GT_OQ>(failed[g], _mm256_setzero_pd()),
                _mm256_cmp_pd::<_CMP_GE_OQ>(count, limit),
            ));
            // z at the end: one step after each test but the last.
            let end_n = _mm256_add_pd(n[g], _mm256_sub_pd(tests, one));
            let k = at(g);
            store_at(&mut results.count[k..], count);
            store_at(&mut results.mag[k..], mag[g]);
            store_at(&mut results.end_zr[k..], zr[g]);
            store_at(&mut results.end_zi[k..], zi[g]);
            store_at(&mut results.end_n[k..], end_n);
            results.found[k / LANES] = found & !unused[g];
        }
    }
}

/// Every vector's lanes and the bookkeeping around them. The lane state
/// lives in plain arrays between runs of blocks; [`Lanes::run_blocks`]
/// holds z in registers.
struct Lanes<'a> {
    zr: [[f64; LANES]; AVX2_VECTORS],
    zi: [[f64; LANES]; AVX2_VECTORS],
    cr: [[f64; LANES]; AVX2_VECTORS],
    ci: [[f64; LANES]; AVX2_VECTORS],
    /// The tile's step counter when each lane got its pixel, less the
    /// iterations it had already run (+∞: the lane holds no pixel).
    start: [[f64; LANES]; AVX2_VECTORS],
    /// Each lane's pixel index in the tile, or [`NO_PIXEL`].
    pixel: [[f64; LANES]; AVX2_VECTORS],
    /// z at the start of the last block each lane ran, and the tile step
    /// it started at: kept as they are once the lane is done (the block it
    /// escaped in, or the block it was due at).
    block_zr: [[f64; LANES]; AVX2_VECTORS],
    block_zi: [[f64; LANES]; AVX2_VECTORS],
    block_at: [[f64; LANES]; AVX2_VECTORS],
    /// Lanes whose pixel is done (bit `4v + l`): they run on, ignored,
    /// until the next [`Lanes::service`] hands them to the exact finish
    /// and refills them.
    done: u32,
    feed: Feed<'a>,
    pending: &'a mut Pending,
    /// Real pixels in lanes, done ones included.
    in_lanes: usize,
    /// Steps every lane has run since the tile started.
    steps: u64,
    max_iter: u32,
    /// Iterations of the finished pixels.
    iterations: u64,
}

impl Lanes<'_> {
    /// Puts the feed's next pixel in lane (v, l), started now; returns
    /// whether it is a real pixel. The feed must hold one.
    #[inline(always)]
    fn refill(&mut self, v: usize, l: usize) -> bool {
        let f = self.feed.pos;
        let feed = &*self.feed.cols;
        self.zr[v][l] = feed.zr[f];
        self.zi[v][l] = feed.zi[f];
        self.cr[v][l] = feed.cr[f];
        self.ci[v][l] = feed.ci[f];
        self.pixel[v][l] = feed.pixel[f];
        let real = feed.pixel[f] >= 0.0;
        // A lane's start: the step it would have started at from z = 0.
        self.start[v][l] = if real {
            self.steps as f64 - feed.iters[f]
        } else {
            f64::INFINITY
        };
        self.feed.pos += 1;
        real
    }

    /// Hands every done lane to the pending batch, refills it with the
    /// feed's next pixel, and finishes the batch if it is full.
    #[target_feature(enable = "avx2,fma")]
    fn service(&mut self, out: &mut TilePixels) {
        self.feed.ensure(ALL_LANES, out);
        let mut done = self.done;
        let mut n = self.pending.len;
        while done != 0 {
            let lane = done.trailing_zeros() as usize;
            done &= done - 1;
            let (v, l) = (lane / LANES, lane % LANES);
            let cols = &mut self.pending.cols;
            cols.zr[n] = self.block_zr[v][l];
            cols.zi[n] = self.block_zi[v][l];
            cols.cr[n] = self.cr[v][l];
            cols.ci[n] = self.ci[v][l];
            cols.iters[n] = self.block_at[v][l] - self.start[v][l];
            cols.pixel[n] = self.pixel[v][l];
            n += 1;
            if !self.refill(v, l) {
                self.in_lanes -= 1;
            }
        }
        self.pending.len = n;
        self.done = 0;
        if self.pending.len >= PENDING_BATCH {
            self.iterations += self.pending.finish(out, self.max_iter, false);
        }
    }

    /// Runs blocks on every vector, in registers, until [`SERVICE_LANES`]
    /// lanes are done or every real pixel in them is. Before a block that
    /// could reach a lane's `max_iter`, a lane with fewer than a block's
    /// iterations left is marked done as it is; after each block, a lane
    /// whose |z|² fails the test is marked done with the z it had at the
    /// block's start. Done lanes keep that z (blended stores skip the
    /// others) and run on, ignored: no branch on which lanes.
    #[target_feature(enable = "avx2,fma")]
    #[inline(never)]
    fn run_blocks(&mut self) {
        const V: usize = AVX2_VECTORS;
        let four = _mm256_set1_pd(4.0);
        let max_iter_f = f64::from(self.max_iter);
        let block_f = f64::from(AVX2_BLOCK_ITERS);
        let left_margin = block_f - max_iter_f;
        let mut zr: [__m256d; V] = std::array::from_fn(|v| load(&self.zr[v]));
        let mut zi: [__m256d; V] = std::array::from_fn(|v| load(&self.zi[v]));
        let cr: [__m256d; V] = std::array::from_fn(|v| load(&self.cr[v]));
        let ci: [__m256d; V] = std::array::from_fn(|v| load(&self.ci[v]));
        let mut done = self.done;
        let mut steps = self.steps;
        let stop_at = SERVICE_LANES.min(self.in_lanes) as u32;
        // The step before which no running lane can be due: the due test
        // runs only when a block would pass it.
        let mut deadline = f64::NEG_INFINITY;
        loop {
            let block_start = steps as f64;
            if block_start + block_f > deadline {
                // Due: start + max_iter < block_start + a block. Due lanes
                // are done as they are: z now, at this block's start.
                let due_before = _mm256_set1_pd(block_start + left_margin);
                let at = _mm256_set1_pd(block_start);
                let mut earliest = _mm256_set1_pd(f64::INFINITY);
                for v in 0..V {
                    let shift = LANES as u32 * v as u32;
                    let start = load(&self.start[v]);
                    let running = VECTOR_BITS & !(done >> shift);
                    let due = lane_bits(_mm256_cmp_pd::<_CMP_LT_OQ>(start, due_before)) & running;
                    store_lanes(&mut self.block_zr[v], due, zr[v]);
                    store_lanes(&mut self.block_zi[v], due, zi[v]);
                    store_lanes(&mut self.block_at[v], due, at);
                    done |= due << shift;
                    let still = _mm256_blendv_pd(
                        _mm256_set1_pd(f64::INFINITY),
                        start,
                        lane_mask(running & !due),
                    );
                    earliest = _mm256_min_pd(earliest, still);
                }
                let mut starts = [0.0; LANES];
                store(&mut starts, earliest);
                deadline = starts.iter().fold(f64::INFINITY, |a, &b| a.min(b)) + max_iter_f;
                if done.count_ones() >= stop_at {
                    break;
                }
            }
            let saved = (zr, zi);
            // The block's steps written out, with no loop: looped (two,
            // four or five steps a pass) the register allocator kept one
            // or two z vectors on the stack, and the store and reload per
            // pass lengthened that chain, which sets the pace of all.
            write_out_block_steps!(for v in 0..V {
                // Exactly reference::step.
                let cr_minus_zi2 = _mm256_fnmadd_pd(zi[v], zi[v], cr[v]);
                let twice_zr = _mm256_add_pd(zr[v], zr[v]);
                zi[v] = _mm256_fmadd_pd(twice_zr, zi[v], ci[v]);
                zr[v] = _mm256_fmadd_pd(zr[v], zr[v], cr_minus_zi2);
            });
            steps += u64::from(AVX2_BLOCK_ITERS);
            let mut escaped = 0;
            for v in 0..V {
                // NLE_UQ: !(|z|² <= 4), NaN too.
                let m = mag2(zr[v], zi[v]);
                escaped |=
                    lane_bits(_mm256_cmp_pd::<_CMP_NLE_UQ>(m, four)) << (LANES as u32 * v as u32);
            }
            // Lanes already done do not count.
            escaped &= !done;
            if escaped != 0 {
                // Escaped lanes are done with the z of this block's start.
                let at = _mm256_set1_pd(block_start);
                for v in 0..V {
                    let bits = (escaped >> (LANES as u32 * v as u32)) & VECTOR_BITS;
                    store_lanes(&mut self.block_zr[v], bits, saved.0[v]);
                    store_lanes(&mut self.block_zi[v], bits, saved.1[v]);
                    store_lanes(&mut self.block_at[v], bits, at);
                }
                done |= escaped;
                if done.count_ones() >= stop_at {
                    break;
                }
            }
        }
        for v in 0..V {
            store(&mut self.zr[v], zr[v]);
            store(&mut self.zi[v], zi[v]);
        }
        self.done = done;
        self.steps = steps;
    }
}

#[target_feature(enable = "avx2,fma")]
fn compute_tile_avx2(view: &View, tile: &Tile, out: &mut TilePixels, scratch: &mut Scratch) -> u64 {
    const V: usize = AVX2_VECTORS;
    let max_iter = view.max_iter();
    let empty = [[0.0; LANES]; V];
    let Scratch { feed, pending } = scratch;
    pending.len = 0;
    let mut lanes = Lanes {
        zr: empty,
        zi: empty,
        cr: empty,
        ci: empty,
        start: [[f64::INFINITY; LANES]; V],
        pixel: [[NO_PIXEL; LANES]; V],
        block_zr: empty,
        block_zi: empty,
        block_at: empty,
        done: 0,
        feed: Feed::new(view, tile, feed),
        pending,
        in_lanes: 0,
        steps: 0,
        max_iter,
        iterations: 0,
    };
    lanes.feed.ensure(ALL_LANES, out);
    for v in 0..V {
        for l in 0..LANES {
            lanes.in_lanes += usize::from(lanes.refill(v, l));
        }
    }
    while lanes.in_lanes > 0 {
        lanes.run_blocks();
        lanes.service(out);
    }
    lanes.iterations + lanes.feed.iterations + lanes.pending.finish(out, max_iter, true)
}

/// f32 lanes in a ymm register: the pixels [`colour_pixels`] colours at
/// once.
const COLOUR_LANES: usize = 8;
/// Palette stops [`colour_pixels`] takes (the palettes have 3 to 6; more
/// go the scalar way).
const COLOUR_STOPS_MAX: usize = 8;

/// See `kernel::colour_pixels_simd`: `Palette::colour` on eight pixels
/// at once, the same IEEE operations in the same order (sqrt, × 0.22, the
/// exact fract below 2²³, the segment as the count of inner stops passed
/// (they ascend), one division, the clamp, `a + (b − a)·f` per channel,
/// round half up from the exact remainder), so the same bytes.
pub fn colour_pixels(
    stops: &[(f32, [u8; 3])],
    counts: &[u32],
    smooth: &[f32],
    max_iter: u32,
    out: &mut [u8],
) -> usize {
    debug_assert!(
        stops.windows(2).all(|w| w[0].0 < w[1].0),
        "the segment count needs stops that ascend"
    );
    if !available() || !(2..=COLOUR_STOPS_MAX).contains(&stops.len()) {
        return 0;
    }
    // SAFETY: `available()` checked that the CPU supports avx2 and fma,
    // the only requirement of this `#[target_feature]` fn.
    unsafe { colour_pixels_avx2(stops, counts, smooth, max_iter, out) }
}

#[target_feature(enable = "avx2,fma")]
fn colour_pixels_avx2(
    stops: &[(f32, [u8; 3])],
    counts: &[u32],
    smooth: &[f32],
    max_iter: u32,
    out: &mut [u8],
) -> usize {
    use std::arch::x86_64::{
        __m256, __m256i, _CMP_GE_OQ, _CMP_GT_OQ, _CMP_LT_OQ, _mm256_add_ps, _mm256_blendv_epi8,
        _mm256_blendv_ps, _mm256_castps_si256, _mm256_cmp_ps, _mm256_cmpeq_epi32,
        _mm256_cvtepi32_ps, _mm256_cvttps_epi32, _mm256_div_ps, _mm256_loadu_ps,
        _mm256_loadu_si256, _mm256_max_epu32, _mm256_max_ps, _mm256_min_ps, _mm256_movemask_ps,
        _mm256_mul_ps, _mm256_or_si256, _mm256_set1_epi32, _mm256_set1_ps, _mm256_setzero_ps,
        _mm256_sqrt_ps, _mm256_storeu_si256, _mm256_sub_epi32, _mm256_sub_ps,
    };
    const L: usize = COLOUR_LANES;
    let n = counts.len().min(smooth.len()).min(out.len() / 4);
    // Each stop's position and channels as f32, converted once, not per
    // eight pixels.
    let mut table = [[0.0f32; 4]; COLOUR_STOPS_MAX];
    for (row, (position, rgb)) in table.iter_mut().zip(stops) {
        *row = [*position, rgb[0].into(), rgb[1].into(), rgb[2].into()];
    }
    let position = |stop: usize| _mm256_set1_ps(table[stop][0]);
    let channel = |stop: usize, c: usize| _mm256_set1_ps(table[stop][1 + c]);
    let zero = _mm256_setzero_ps();
    let one = _mm256_set1_ps(1.0);
    let limit = _mm256_set1_epi32(max_iter as i32);
    let opaque = _mm256_set1_epi32(0xff00_0000_u32 as i32);
    let mut at = 0;
    while at + L <= n {
        let values: &[f32; L] = smooth[at..at + L].try_into().expect("8 lanes");
        let n_lanes: &[u32; L] = counts[at..at + L].try_into().expect("8 lanes");
        // SAFETY: 8 readable f32s / u32s; loadu has no alignment requirement.
        let (value, count): (__m256, __m256i) = unsafe {
            (
                _mm256_loadu_ps(values.as_ptr()),
                _mm256_loadu_si256(n_lanes.as_ptr().cast()),
            )
        };
        // max(NaN, 0) is 0 (the second operand), as f32::max gives it.
        let x = _mm256_mul_ps(
            _mm256_sqrt_ps(_mm256_max_ps(value, zero)),
            _mm256_set1_ps(0.22),
        );
        if _mm256_movemask_ps(_mm256_cmp_ps::<_CMP_LT_OQ>(x, _mm256_set1_ps(8_388_608.0))) != 0xff {
            // A position the exact fract below 2²³ does not cover: these
            // eight go the scalar way.
            break;
        }
        // fract_positive: x − trunc(x) (exact below 2²³), + 0 for −0.
        let t = _mm256_add_ps(
            _mm256_sub_ps(x, _mm256_cvtepi32_ps(_mm256_cvttps_epi32(x))),
            zero,
        );
        // The segment [k, k + 1]: the last inner stop t is past.
        let mut t0 = position(0);
        let mut t1 = position(1);
        let mut c0 = [channel(0, 0), channel(0, 1), channel(0, 2)];
        let mut c1 = [channel(1, 0), channel(1, 1), channel(1, 2)];
        for k in 1..stops.len() - 1 {
            let past = _mm256_cmp_ps::<_CMP_GT_OQ>(t, position(k));
            t0 = _mm256_blendv_ps(t0, position(k), past);
            t1 = _mm256_blendv_ps(t1, position(k + 1), past);
            for c in 0..3 {
                c0[c] = _mm256_blendv_ps(c0[c], channel(k, c), past);
                c1[c] = _mm256_blendv_ps(c1[c], channel(k + 1, c), past);
            }
        }
        // clamp(0, 1); f is not NaN here (t is finite, t1 > t0).
        let f = _mm256_max_ps(
            _mm256_min_ps(
                _mm256_div_ps(_mm256_sub_ps(t, t0), _mm256_sub_ps(t1, t0)),
                one,
            ),
            zero,
        );
        let mut rgba = opaque;
        for c in 0..3 {
            let mixed = _mm256_add_ps(c0[c], _mm256_mul_ps(_mm256_sub_ps(c1[c], c0[c]), f));
            // round_u8: in [0, 255] here; the remainder after truncation
            // is exact, ≥ ½ rounds up (−1 where the mask is set).
            let whole = _mm256_cvttps_epi32(mixed);
            let up = _mm256_cmp_ps::<_CMP_GE_OQ>(
                _mm256_sub_ps(mixed, _mm256_cvtepi32_ps(whole)),
                _mm256_set1_ps(0.5),
            );
            let byte = _mm256_sub_epi32(whole, _mm256_castps_si256(up));
            rgba = _mm256_or_si256(rgba, shift_left_bytes(byte, c));
        }
        // Inside the set (count ≥ max_iter, unsigned): black.
        let inside = _mm256_cmpeq_epi32(_mm256_max_epu32(count, limit), count);
        let rgba = _mm256_blendv_epi8(rgba, opaque, inside);
        let bytes: &mut [u8; 4 * L] = (&mut out[4 * at..4 * at + 4 * L])
            .try_into()
            .expect("8 pixels");
        // SAFETY: 32 writable bytes; storeu has no alignment requirement.
        unsafe { _mm256_storeu_si256(bytes.as_mut_ptr().cast(), rgba) };
        at += L;
    }
    at
}

/// Channel `c` (0 red, 1 green, 2 blue) of a pixel at its byte of the
/// little-endian RGBA word.
#[target_feature(enable = "avx2,fma")]
#[inline]
fn shift_left_bytes(v: std::arch::x86_64::__m256i, c: usize) -> std::arch::x86_64::__m256i {
    use std::arch::x86_64::_mm256_slli_epi32;
    match c {
        0 => v,
        1 => _mm256_slli_epi32::<8>(v),
        _ => _mm256_slli_epi32::<16>(v),
    }
}

/// Pixels per group in the Benchmarks Game row: 4 vectors, 2 output bytes.
const BG_GROUP_PX: usize = 16;
/// Steps between two "all escaped?" tests (7 × 7 + the first step = 50).
const BG_BLOCK: u32 = 7;

/// One Benchmarks Game row (see `engine::bg`) with AVX2, plain mul + add.
/// `real` holds at least `out.len()` rounded up to 16 pixels. Returns
/// `false` (and does nothing) if the CPU lacks AVX2.
pub fn bg_row(real: &[f64], ci: f64, n: usize, out: &mut [u8]) -> bool {
    if !available() {
        return false;
    }
    assert!(real.len() >= out.len().div_ceil(2) * BG_GROUP_PX && out.len() * 8 >= n);
    // SAFETY: `available()` checked that the CPU supports avx2 (and fma,
    // unused here), the only requirement of this `#[target_feature]` fn.
    unsafe { bg_row_avx2(real, ci, n, out) };
    true
}

/// Bits of a 4-lane movemask in PBM order (lane 0 is the most significant).
const REVERSED_NIBBLE: [u8; 16] = [0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15];

#[target_feature(enable = "avx2")]
fn bg_row_avx2(real: &[f64], ci: f64, n: usize, out: &mut [u8]) {
    use std::arch::x86_64::{_CMP_LE_OQ, _mm256_sub_pd};
    let four = _mm256_set1_pd(4.0);
    let civ = _mm256_set1_pd(ci);
    for (group, bytes) in out.chunks_mut(2).enumerate() {
        let base = group * BG_GROUP_PX;
        let cr: [__m256d; 4] = std::array::from_fn(|v| {
            let lanes: &[f64; VECTOR_LANES] = real[base + 4 * v..base + 4 * v + 4]
                .try_into()
                .expect("4 lanes");
            load(lanes)
        });
        // The first step from z = 0 gives z = c exactly.
        let mut zr = cr;
        let mut zi = [civ; 4];
        let mut squares_r: [__m256d; 4] = std::array::from_fn(|v| _mm256_mul_pd(zr[v], zr[v]));
        let mut squares_i: [__m256d; 4] = std::array::from_fn(|v| _mm256_mul_pd(zi[v], zi[v]));
        for _ in 0..(BG_ITERATIONS_AFTER_FIRST / BG_BLOCK) {
            for _ in 0..BG_BLOCK {
                for v in 0..4 {
                    let twice_zr = _mm256_add_pd(zr[v], zr[v]);
                    zi[v] = _mm256_add_pd(_mm256_mul_pd(twice_zr, zi[v]), civ);
                    zr[v] = _mm256_add_pd(_mm256_sub_pd(squares_r[v], squares_i[v]), cr[v]);
                    squares_r[v] = _mm256_mul_pd(zr[v], zr[v]);
                    squares_i[v] = _mm256_mul_pd(zi[v], zi[v]);
                }
            }
            let mut any_inside = 0;
            for v in 0..4 {
                let m = _mm256_add_pd(squares_r[v], squares_i[v]);
                any_inside |= _mm256_movemask_pd(_mm256_cmp_pd::<_CMP_LE_OQ>(m, four));
            }
            if any_inside == 0 {
                break;
            }
        }
        let inside: [usize; 4] = std::array::from_fn(|v| {
            let m = _mm256_add_pd(squares_r[v], squares_i[v]);
            _mm256_movemask_pd(_mm256_cmp_pd::<_CMP_LE_OQ>(m, four)) as usize
        });
        for (b, byte) in bytes.iter_mut().enumerate() {
            *byte = (REVERSED_NIBBLE[inside[2 * b]] << 4) | REVERSED_NIBBLE[inside[2 * b + 1]];
        }
        // Pixels past N (the row's padding) must be 0.
        let last_px = base + 8 * bytes.len();
        if last_px > n {
            let used = 8 * bytes.len() - (last_px - n);
            let last = bytes.len() - 1;
            let keep_bits = used - 8 * last;
            bytes[last] &= !(0xFFu8 >> keep_bits);
        }
    }
}

/// Steps after the first one (which is z = c).
const BG_ITERATIONS_AFTER_FIRST: u32 = super::BG_ITERATIONS - 1;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::mandelbrot::kernel::edge_tests::{self, Entry, Shape};
    use crate::engine::mandelbrot::kernel::smooth_value;

    /// This kernel as `run` takes it (each test checks `available()`).
    fn fast(view: &View, tile: &Tile, out: &mut TilePixels) -> u64 {
        compute_tile(view, tile, out).expect("checked available")
    }

    const SHAPE: Shape = Shape {
        all_lanes: LANES * AVX2_VECTORS,
        service_lanes: SERVICE_LANES,
        pending_batch: PENDING_BATCH,
        replay_px: REPLAY_PX,
        block_iters: AVX2_BLOCK_ITERS,
        prepass_iters: PREPASS_ITERS,
        prepass_probe_iters: PREPASS_PROBE_ITERS,
    };

    #[test]
    fn tiles_around_the_lane_and_service_counts_equal_the_reference() {
        if available() {
            edge_tests::tiles_around_the_lanes_and_service(fast, &SHAPE);
        }
    }

    #[test]
    fn the_pre_pass_at_its_edges_equals_the_reference() {
        if available() {
            edge_tests::pre_pass_at_its_edges(fast, &SHAPE);
        }
    }

    /// This kernel's pending batch on made entries (see
    /// `edge_tests::finish_of_made_entries`).
    #[test]
    fn the_finish_of_made_entries_equals_the_reference() {
        if !available() {
            return;
        }
        edge_tests::finish_of_made_entries(&SHAPE, |entries: &[Entry], max_iter| {
            let mut scratch = Scratch::boxed();
            let pending = &mut scratch.pending;
            for (j, &(zr, zi, cr, ci, n)) in entries.iter().enumerate() {
                let cols = &mut pending.cols;
                (cols.zr[j], cols.zi[j], cols.cr[j], cols.ci[j]) = (zr, zi, cr, ci);
                (cols.iters[j], cols.pixel[j]) = (f64::from(n), j as f64);
            }
            pending.len = entries.len();
            let mut out = TilePixels {
                counts: vec![0; entries.len()],
                smooth: vec![0.0; entries.len()],
            };
            // SAFETY: `available()` checked the CPU's features.
            let iterations = unsafe { pending.finish(&mut out, max_iter, true) };
            (out, iterations, pending.len)
        });
    }

    #[test]
    fn a_quiet_chunk_then_early_escapes_equal_the_reference() {
        if available() {
            edge_tests::quiet_chunk_then_early_escapes(fast, &SHAPE);
        }
    }

    /// The vector `log2_fast` and smooth values give the scalar ones' bits,
    /// on both sides of √2 and powers of two, over the whole range |z|²
    /// takes at a stop (just past 4 to far beyond).
    #[test]
    fn vector_smooth_values_equal_the_scalar_ones_bit_for_bit() {
        if !available() {
            return;
        }
        let mut xs = vec![4.0f64.next_up(), 4.5, 5.0, 7.999, 8.0, 16.0, 1e10, 1e300];
        let mut x = 1e-300;
        while x < 1e300 {
            for f in [
                1.0,
                1.3,
                std::f64::consts::SQRT_2,
                std::f64::consts::SQRT_2.next_up(),
                1.9999,
            ] {
                xs.push(x * f);
            }
            x *= 7.3;
        }
        // Four groups side by side, each with its own values and count (a
        // group that took another's chain would differ).
        const G: usize = 4;
        let group_counts = [17.0, 18.0, 900.0, 4.0];
        for chunk in xs.chunks(G * LANES) {
            let mut values = [chunk[0]; G * LANES];
            values[..chunk.len()].copy_from_slice(chunk);
            let group = |g: usize| -> &[f64; LANES] {
                values[g * LANES..(g + 1) * LANES]
                    .try_into()
                    .expect("4 lanes")
            };
            let mut logs = [[0.0; LANES]; G];
            let mut smooth = [[0.0; LANES]; G];
            // SAFETY: `available()` checked the CPU's features.
            unsafe {
                let x: [__m256d; G] = std::array::from_fn(|g| load(group(g)));
                let counts = group_counts.map(|n| _mm256_set1_pd(n));
                for (out, v) in logs.iter_mut().zip(log2_fast(x)) {
                    store(out, v);
                }
                for (out, v) in smooth.iter_mut().zip(smooth_values(counts, x)) {
                    store(out, v);
                }
            }
            for g in 0..G {
                for l in 0..LANES {
                    let x = group(g)[l];
                    assert_eq!(
                        logs[g][l].to_bits(),
                        crate::engine::mandelbrot::kernel::log2_fast(x).to_bits(),
                        "log2 {x}"
                    );
                    if x > 4.0 {
                        let count = group_counts[g] as u32;
                        assert_eq!(
                            (smooth[g][l] as f32).to_bits(),
                            smooth_value(count, x, 1000).to_bits(),
                            "smooth {x} after {count}"
                        );
                    }
                }
            }
        }
    }
}
