//! AVX-512F + FMA kernel, chosen at run time: 8-lane zmm vectors, with
//! escapes handled *inside* the vector loop. Same counts and smooth values
//! as [`reference`], bit for bit.
//!
//! **Pre-pass.** Pixels come from the tile [`REPLAY_PX`] at a time (c made
//! eight at a time within a row) and run up to [`PREPASS_ITERS`] steps with
//! the reference's test before each, four groups of eight side by side.
//! Those that stop there (most pixels of a wide view escape in a few
//! steps) are finished at once, exactly; the rest wait in a small *feed*
//! with their z. A chunk in which no pixel stopped within
//! [`PREPASS_PROBE_ITERS`] steps (deep in a zoom, or inside the set) ends
//! its pre-pass there, and the chunk after it runs those steps untested
//! with one test after them (an escape stays one, as at a block's end): if
//! no pixel failed it, none stopped, and the chunk enters the feed as the
//! tested probe would have left it; else it is redone with the test.
//!
//! **Block loop.** Blocks of [`AVX512_BLOCK_ITERS`] untested steps run on
//! every vector (the same arithmetic as `reference::step`), in registers,
//! with `!(|z|² <= 4)` tested after each (see `simd` for why a block-end
//! test finds every escape). A lane that failed, or that has fewer than a
//! block's iterations left before `max_iter`, is marked *done*: a masked
//! store keeps the z it had at the block's start, and it runs on, ignored,
//! with no branch on which lanes. The loop leaves the registers only once
//! [`SERVICE_LANES`] lanes are done: one *service* then goes over every
//! vector, *compresses* (masked `vcompresspd`) the done lanes into a
//! pending batch and *refills* them from the feed (masked `vexpandpd`).
//!
//! **Finish.** Every [`PENDING_BATCH`] escapes, the batch is finished: a
//! vector replay of the block, [`REPLAY_GROUPS`] groups of eight side by
//! side, with the reference's test before each step: the first failing
//! test gives the count and |z|² exactly, or `max_iter` the count. As |z|
//! keeps growing once past 2 (up to the rounding caveat in `simd`), that
//! is the tests passed and the least failing |z|², kept with no mask work
//! per step. Then the smooth
//! values eight at a time with a vector copy of `log2_fast` (`vgetexppd`/
//! `vgetmantpd` split x into 2ᵉ·m exactly; then the same operations, each
//! rounded once, in the same order, so the f32 is identical).
//!
//! Like `simd_avx2`, one of the few modules allowed `unsafe` (a test scans
//! `src/`): the call into the `#[target_feature]` function after the CPU
//! was checked, and the vector loads and stores from bounds-checked slices.
#![allow(unsafe_code)]

use super::simd::{Columns, NO_PIXEL_INDEX as NO_PIXEL, PixelCursor};
use super::{TilePixels, reference, smooth_value};
use crate::engine::mandelbrot::tiling::Tile;
use crate::engine::mandelbrot::view::View;
use std::arch::x86_64::{
    __m512d, __mmask8, _CMP_GE_OQ, _CMP_GT_OQ, _CMP_LT_OQ, _CMP_NLE_UQ, _MM_MANT_NORM_1_2,
    _MM_MANT_SIGN_SRC, _mm256_storeu_ps, _mm512_add_pd, _mm512_cmp_pd_mask, _mm512_cvtpd_ps,
    _mm512_cvttpd_epu32, _mm512_div_pd, _mm512_fmadd_pd, _mm512_fnmadd_pd, _mm512_getexp_pd,
    _mm512_getmant_pd, _mm512_loadu_pd, _mm512_mask_add_pd, _mm512_mask_blend_pd,
    _mm512_mask_cmp_pd_mask, _mm512_mask_expand_pd, _mm512_mask_min_pd, _mm512_mask_mov_pd,
    _mm512_mask_mul_pd, _mm512_mask_reduce_add_pd, _mm512_mask_storeu_pd, _mm512_maskz_compress_pd,
    _mm512_maskz_expand_pd, _mm512_max_pd, _mm512_min_pd, _mm512_mul_pd, _mm512_reduce_add_pd,
    _mm512_reduce_min_pd, _mm512_set_pd, _mm512_set1_pd, _mm512_setzero_pd, _mm512_storeu_pd,
    _mm512_sub_pd,
};
use std::cell::Cell;
use std::sync::OnceLock;

// The figures in the docs of the constants below were measured on this
// project's Zen 5 server machine (two 512-bit FMA pipes), release build,
// one core; a "% of the ceiling" there is of those two pipes. A Zen 4 core
// starts one zmm FMA a cycle (each as two 256-bit halves): the same
// kernel there runs at about half those G it/s.

/// f64 lanes in a zmm register.
pub const LANES: usize = 8;
/// Vectors in flight: one step is a ~8-cycle dependency chain (two FMAs
/// in a row) of 3 FMAs and an add, and a Zen 5 server core starts two zmm
/// FMAs per cycle, so it takes 8 × 2 ÷ 3 ≈ 5.3 vectors to keep both FMA
/// pipes busy, and more to leave the scheduler slack. With the block-start
/// z kept in memory for done lanes only (masked stores), 8 × (z, c) fit
/// the 32 registers. G iterations/s: 6 vectors K0 17.8, B2 12.6–13.0, B3
/// 10.8–11.0; 7: 18.8, 13.2–13.4, 11.2–11.3; 8: 19.2, 13.2–13.4, 11.3.
pub const AVX512_VECTORS: usize = 8;
/// Steps between two escape tests (even: the loop runs two a pass): longer
/// blocks test and stop for escapes less often, for a longer replay of each
/// escaped pixel and more steps run past an escape. Against 8, by CPU time
/// on one core: 16 took K0 from 74 to 79 % of the ceiling, B3 36 → 39 %,
/// B2 unchanged (40 %). Later, one core, median of 7 in three alternating
/// rounds, ms for K0, B2, B3: 12 steps 108, 136, 261; 16: 107.5, 135.5,
/// 256; 18: 106, 135.5, 254; 20: 105.5, 134.5, 253; 24: 105, 136.5, 254.
pub const AVX512_BLOCK_ITERS: u32 = 20;
/// Untested steps a replay runs before it tests the middle of the block.
const HALF_BLOCK_ITERS: u32 = AVX512_BLOCK_ITERS / 2;
/// Escaped pixels finished together (a multiple of [`REPLAY_PX`]). Against
/// 64, by CPU time on one core: B2 +2 %, B3 +2 %; 256 was no better.
pub const PENDING_BATCH: usize = 128;
/// Groups of eight pending pixels replayed side by side: one group's
/// replay is a chain of dependent FMAs (latency-bound, ~8 cycles a step);
/// four in step keep both FMA pipes busy.
const REPLAY_GROUPS: usize = 4;
/// Pending pixels one replay covers.
const REPLAY_PX: usize = REPLAY_GROUPS * LANES;
/// Pending room: a full batch minus one, one block's escapes, and the
/// whole-vector store past the end.
const PENDING_CAP: usize = PENDING_BATCH + LANES * AVX512_VECTORS + REPLAY_PX;
/// Done lanes that make the vector loop stop to hand them to the exact
/// finish and refill them ([`Lanes::service`]). A done lane idles until
/// then; each service costs the same whatever the number of lanes, and has
/// no branch on them. Of the 64 lanes, G it/s on B2 and B3: 16 lanes 13.5,
/// 11.5; 24: 13.6, 11.5; 32: 13.6, 11.4.
const SERVICE_LANES: usize = 24;
/// Pixels the feed buffer holds.
const FEED_CAP: usize = 128;
/// Room in the feed's columns: whole-vector stores and loads past the end.
const FEED_ROOM: usize = FEED_CAP + LANES;
/// Steps a pixel runs in the feed's pre-pass, each after the reference's
/// test, before it takes a lane. With 6 vectors, G it/s on B2 and B3
/// (probe 4): 8 steps 12.1, 10.7; 16: 12.2, 10.7; 24: 12.2, 10.9;
/// 32: 12.3, 10.8; without the pre-pass 11.2, 11.0.
const PREPASS_ITERS: u32 = 32;
/// Steps after which a pre-pass chunk in which no pixel has stopped ends.
/// With 6 vectors and 16 pre-pass steps, B2 and B3: probe 2 11.6, 10.9;
/// 4: 12.2, 10.7; 8: 12.5–12.7, 10.6–10.8; 16: 12.8, 10.7. Running the
/// probe untested after a quiet chunk took B3 from 268–275 to 264–265 ms
/// (one core, median of 7), B2 unchanged.
const PREPASS_PROBE_ITERS: u32 = 8;

/// Whether this CPU has AVX-512F, AVX-512VL (masked 256-bit stores of a
/// pre-pass's counts), FMA and POPCNT (checked once). Every AVX-512 CPU
/// but the Xeon Phi has them all.
pub fn available() -> bool {
    static DETECTED: OnceLock<bool> = OnceLock::new();
    *DETECTED.get_or_init(|| {
        is_x86_feature_detected!("avx512f")
            && is_x86_feature_detected!("avx512vl")
            && is_x86_feature_detected!("fma")
            && is_x86_feature_detected!("popcnt")
    })
}

/// The AVX-512 kernel, or `None` if the CPU lacks one of [`available`]'s
/// features.
pub fn compute_tile(view: &View, tile: &Tile, out: &mut TilePixels) -> Option<u64> {
    if !available() {
        return None;
    }
    let mut scratch = SCRATCH.take().unwrap_or_else(Scratch::boxed);
    // SAFETY: `available()` checked that the CPU supports avx512f,
    // avx512vl, fma and popcnt, the only requirement of this
    // `#[target_feature]` function.
    let iterations = unsafe { compute_tile_avx512(view, tile, out, &mut scratch) };
    SCRATCH.set(Some(scratch));
    Some(iterations)
}

/// Independent accumulators in [`fma_peak`]: well over the FMA latency
/// (4–5 cycles) times the pipes (at most 2), so the pipes bound the loop,
/// not the chains; 24 of the 32 zmm registers, with the two operands.
const FMA_PEAK_CHAINS: usize = 24;

/// Runs at least `fmas` zmm FMAs, [`FMA_PEAK_CHAINS`] independent ones a
/// round (the peak an 8-lane kernel could reach on this core: two a cycle
/// where the core has two 512-bit FMA pipes, one where it runs each as two
/// 256-bit halves, as Zen 4 does), and says what it ran, or `None`
/// without [`available`]'s features. The caller times it.
pub fn fma_peak(fmas: u64) -> Option<super::FmaPeak> {
    if !available() {
        return None;
    }
    let rounds = fmas.div_ceil(FMA_PEAK_CHAINS as u64);
    // SAFETY: `available()` checked that the CPU supports avx512f,
    // avx512vl, fma and popcnt, the only requirement of this
    // `#[target_feature]` function.
    let sum = std::hint::black_box(unsafe { fma_peak_avx512(rounds) });
    Some(super::FmaPeak {
        fmas: rounds * FMA_PEAK_CHAINS as u64,
        chains: FMA_PEAK_CHAINS,
        lanes: LANES,
        sum,
    })
}

#[target_feature(enable = "avx512f,avx512vl,fma,popcnt")]
fn fma_peak_avx512(rounds: u64) -> f64 {
    use std::hint::black_box;
    let m = _mm512_set1_pd(black_box(super::FMA_PEAK_MULTIPLIER));
    let b = _mm512_set1_pd(black_box(super::FMA_PEAK_ADDEND));
    let mut acc: [__m512d; FMA_PEAK_CHAINS] =
        std::array::from_fn(|i| _mm512_set1_pd(0.01 * i as f64));
    for _ in 0..rounds {
        for a in &mut acc {
            *a = _mm512_fmadd_pd(*a, m, b);
        }
    }
    _mm512_reduce_add_pd(
        acc.into_iter()
            .fold(_mm512_setzero_pd(), |s, a| _mm512_add_pd(s, a)),
    )
}

#[inline(always)]
fn load(a: &[f64]) -> __m512d {
    let a: &[f64; LANES] = a[..LANES].try_into().expect("8 lanes");
    // SAFETY: `a` is 8 readable f64s; loadu has no alignment requirement.
    // Only called from avx512f functions (the caller checked the CPU).
    unsafe { _mm512_loadu_pd(a.as_ptr()) }
}

#[inline(always)]
fn store(a: &mut [f64], v: __m512d) {
    let a: &mut [f64; LANES] = (&mut a[..LANES]).try_into().expect("8 lanes");
    // SAFETY: `a` is 8 writable f64s; storeu has no alignment requirement.
    // Only called from avx512f functions (the caller checked the CPU).
    unsafe { _mm512_storeu_pd(a.as_mut_ptr(), v) }
}

/// The feed's and the pending batch's columns (~27 KB), kept by each
/// thread from tile to tile: made afresh, they were cleared for every tile,
/// which at 4-px tiles (16 pixels each) cost more than the pixels. Nothing
/// is read from them that this tile did not write (lanes past the end are
/// masked, and the feed's padding is written when the tile runs out).
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
    /// Stores one vector per column from entry `n` on: z, c, the
    /// iterations that led to z, and the pixel index.
    #[target_feature(enable = "avx512f,avx512vl,fma,popcnt")]
    #[inline]
    fn put8(&mut self, n: usize, [zr, zi, cr, ci, iters, pixel]: [__m512d; 6]) {
        store(&mut self.zr[n..], zr);
        store(&mut self.zi[n..], zi);
        store(&mut self.cr[n..], cr);
        store(&mut self.ci[n..], ci);
        store(&mut self.iters[n..], iters);
        store(&mut self.pixel[n..], pixel);
    }

    /// [`Self::put8`] of the lanes of `k` only, packed to the front.
    #[target_feature(enable = "avx512f,avx512vl,fma,popcnt")]
    #[inline]
    fn put8_lanes(&mut self, n: usize, k: __mmask8, columns: [__m512d; 6]) {
        self.put8(n, columns.map(|v| _mm512_maskz_compress_pd(k, v)));
    }
}

/// The tile's next pixels, each past its first [`PREPASS_ITERS`] steps
/// (z, c, iterations run, index), padded past the end with lanes that
/// hold no pixel, read eight at a time by the refill.
///
/// The *pre-pass*: pixels come from the cursor [`REPLAY_PX`] at a time and
/// run their first steps with the reference's test before each step,
/// four groups of eight side by side. Most pixels of a wide view escape
/// in a few steps: they are finished there, exactly, and never take a lane
/// in the block loop (where each would cost a block, a replay and a
/// service). The rest enter the feed with z after those steps.
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
    #[target_feature(enable = "avx512f,avx512vl,fma,popcnt")]
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
    #[target_feature(enable = "avx512f,avx512vl,fma,popcnt")]
    fn prepass(&mut self, out: &mut TilePixels) {
        const G: usize = REPLAY_GROUPS;
        let mut cr = [0.0; REPLAY_PX];
        let mut ci = [0.0; REPLAY_PX];
        let mut pixel = [NO_PIXEL; REPLAY_PX];
        let mut real = 0;
        if let Some((first, column, row_ci)) = self.cursor.next_run(REPLAY_PX as u32) {
            // A run within one row: c eight at a time, with the same
            // operations as `View::re` (x + ½ is exact; then ·pixel, +left).
            let (left, size) = self.cursor.re_parts();
            let lane = _mm512_set_pd(7.0, 6.0, 5.0, 4.0, 3.0, 2.0, 1.0, 0.0);
            for g in 0..G {
                let offset = (g * LANES) as f64;
                let x = _mm512_add_pd(_mm512_set1_pd(f64::from(column) + offset), lane);
                let centre = _mm512_add_pd(x, _mm512_set1_pd(0.5));
                let re = _mm512_add_pd(
                    _mm512_set1_pd(left),
                    _mm512_mul_pd(centre, _mm512_set1_pd(size)),
                );
                store(&mut cr[g * LANES..], re);
                store(&mut ci[g * LANES..], _mm512_set1_pd(row_ci));
                store(
                    &mut pixel[g * LANES..],
                    _mm512_add_pd(_mm512_set1_pd(f64::from(first) + offset), lane),
                );
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
        let four = _mm512_set1_pd(4.0);
        let at = |g: usize| g * LANES;
        let crv: [__m512d; G] = std::array::from_fn(|g| load(&cr[at(g)..]));
        let civ: [__m512d; G] = std::array::from_fn(|g| load(&ci[at(g)..]));
        // Lanes past `real` are not pixels: the tested pre-pass makes them
        // fail every test (z = ∞), so they count as found.
        let unused = lanes_past(real);
        if self.quiet && steps > PREPASS_PROBE_ITERS {
            // After a quiet chunk: the probe's steps untested, and one
            // test after them (an escape stays one, as at a block's end).
            // If no pixel failed it, none stopped within the probe, and
            // every one enters the feed as the tested probe leaves it.
            let mut zr = [_mm512_setzero_pd(); G];
            let mut zi = [_mm512_setzero_pd(); G];
            for _ in 0..PREPASS_PROBE_ITERS {
                for g in 0..G {
                    (zr[g], zi[g]) = step(zr[g], zi[g], crv[g], civ[g]);
                }
            }
            let mut failed = 0;
            for g in 0..G {
                let m = mag2(zr[g], zi[g]);
                failed |= _mm512_mask_cmp_pd_mask::<_CMP_NLE_UQ>(!unused[g], m, four);
            }
            if failed == 0 {
                // The real lanes come first: no compress needed.
                let iters = _mm512_set1_pd(f64::from(PREPASS_PROBE_ITERS));
                for g in 0..G {
                    let columns = [zr[g], zi[g], crv[g], civ[g], iters, load(&pixel[at(g)..])];
                    self.cols.put8(self.len, columns);
                    self.len += (!unused[g]).count_ones() as usize;
                }
                return;
            }
            self.quiet = false;
        }
        // The reference's test before each step, with no record per lane
        // of which test failed first (see `Pending::replay`): the count is
        // the tests passed, |z|² at the stop the least failing one. Lanes
        // past `real` fail every test (z = ∞, then NaN).
        let infinity = _mm512_set1_pd(f64::INFINITY);
        let zero = _mm512_setzero_pd();
        let mut zr: [__m512d; G] =
            std::array::from_fn(|g| _mm512_mask_mov_pd(zero, unused[g], infinity));
        let mut zi = [zero; G];
        let mut failed = [zero; G];
        let mut mag = [infinity; G];
        let mut ran = 0;
        for j in 0..=steps {
            let mut all = u8::MAX;
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
                    any | (_mm512_cmp_pd_mask::<_CMP_GT_OQ>(failed[g], zero) & !unused[g])
                });
                if any == 0 {
                    self.quiet = true;
                    break;
                }
            }
            if all == u8::MAX || j == steps {
                break;
            }
            for g in 0..G {
                (zr[g], zi[g]) = step(zr[g], zi[g], crv[g], civ[g]);
            }
        }
        let limit = _mm512_set1_pd(f64::from(self.max_iter));
        let iters = _mm512_set1_pd(f64::from(ran));
        // A pixel that passed every test up to max_iter stops there.
        let at_max: __mmask8 = if at_limit && ran == steps { u8::MAX } else { 0 };
        let tests = _mm512_set1_pd(f64::from(ran + 1));
        let count: [__m512d; G] =
            std::array::from_fn(|g| tallied_count(zero, tests, failed[g], limit));
        let found: [__mmask8; G] =
            std::array::from_fn(|g| _mm512_cmp_pd_mask::<_CMP_GT_OQ>(failed[g], zero) | at_max);
        // The chunk's pixels have consecutive indices from `first`.
        let first = pixel[0] as usize;
        for g in 0..G {
            let finished = found[g] & !unused[g];
            if finished != 0 {
                let inside = _mm512_cmp_pd_mask::<_CMP_GE_OQ>(count[g], limit);
                let values = _mm512_mask_mov_pd(smooth_values(count[g], mag[g]), inside, limit);
                let base = first + g * LANES;
                let last = base + (LANES - 1 - finished.leading_zeros() as usize);
                store_u32_masked(
                    &mut out.counts[base..=last],
                    finished,
                    _mm512_cvttpd_epu32(count[g]),
                );
                store_f32_masked(
                    &mut out.smooth[base..=last],
                    finished,
                    _mm512_cvtpd_ps(values),
                );
                self.iterations += _mm512_mask_reduce_add_pd(finished, count[g]) as u64;
            }
            let survivors = !found[g];
            let columns = [zr[g], zi[g], crv[g], civ[g], iters, load(&pixel[at(g)..])];
            self.cols.put8_lanes(self.len, survivors, columns);
            self.len += survivors.count_ones() as usize;
        }
    }
}

/// Pixels waiting for their exact finish, as columns: z at the start of
/// the block they left in, c, the iterations executed before that block,
/// and the pixel index.
struct Pending {
    cols: Columns<PENDING_CAP>,
    len: usize,
    /// What the last replay found, kept here so that no finish clears it.
    results: Replayed,
}

/// One vector of lanes.
#[derive(Clone, Copy)]
struct Vector {
    zr: __m512d,
    zi: __m512d,
    cr: __m512d,
    ci: __m512d,
    /// The tile's step counter when each lane got its pixel, less the
    /// iterations it had already run (+∞: the lane holds no pixel).
    start: __m512d,
    /// Each lane's pixel index in the tile, or [`NO_PIXEL`].
    pixel: __m512d,
    /// Lanes whose pixel is done (escaped, or due at `max_iter`): they run
    /// on, ignored, until the next [`Lanes::service`] hands them to the
    /// exact finish and refills them.
    done: __mmask8,
    /// z at the start of the last block each lane ran, and the tile step
    /// it started at: kept as they are once the lane is done (the block it
    /// escaped in, or the block it was due at).
    block_zr: [f64; LANES],
    block_zi: [f64; LANES],
    block_at: [f64; LANES],
}

/// Every vector and the bookkeeping around them.
struct Lanes<'a> {
    vectors: [Vector; AVX512_VECTORS],
    feed: Feed<'a>,
    pending: &'a mut Pending,
    /// Real pixels in lanes, done ones included.
    in_lanes: usize,
    /// Done lanes waiting for [`Self::service`].
    num_done: usize,
    /// Steps every lane has run since the tile started.
    steps: u64,
    max_iter: u32,
    /// Iterations of the finished pixels.
    iterations: u64,
}

impl Lanes<'_> {
    /// Hands every done lane to the pending batch, refills it with the
    /// feed's next pixel, and finishes the batch if it is full. All
    /// vectors at once, with no branch on which lanes are done: masked
    /// compresses, expands and moves (a lane mask of 0 changes nothing).
    #[target_feature(enable = "avx512f,avx512vl,fma,popcnt")]
    fn service(&mut self, out: &mut TilePixels) {
        self.feed.ensure(LANES * AVX512_VECTORS, out);
        let steps = self.steps as f64;
        // The counts in locals: kept in `self`, they went to memory and
        // back for every vector, and every load and store of the next
        // vector waited for them (B3 260–264 → 256 ms, B2 −1 %).
        let mut pending_len = self.pending.len;
        let mut feed_pos = self.feed.pos;
        let mut in_lanes = self.in_lanes;
        for vector in &mut self.vectors {
            let k = vector.done;
            // The done lanes, with z at the start of the block each
            // stopped in and the iterations before it.
            let iters = _mm512_sub_pd(load(&vector.block_at), vector.start);
            let columns = [
                load(&vector.block_zr),
                load(&vector.block_zi),
                vector.cr,
                vector.ci,
                iters,
                vector.pixel,
            ];
            self.pending.cols.put8_lanes(pending_len, k, columns);
            pending_len += k.count_ones() as usize;
            in_lanes -= k.count_ones() as usize;
            in_lanes += refill(self.feed.cols, feed_pos, vector, k, steps);
            feed_pos += k.count_ones() as usize;
            vector.done = 0;
        }
        self.pending.len = pending_len;
        self.feed.pos = feed_pos;
        self.in_lanes = in_lanes;
        self.num_done = 0;
        if self.pending.len >= PENDING_BATCH {
            self.iterations += self.pending.finish(out, self.max_iter, false);
        }
    }

    /// Runs blocks on every vector, in registers, until [`SERVICE_LANES`]
    /// lanes are done or every real pixel in them is. Before each block, a
    /// lane with fewer than a block's iterations left is marked done as it
    /// is; after it, a lane whose |z|² fails the test is marked done with
    /// the z it had at the block's start. Done lanes keep that z (masked
    /// stores skip them) and run on, ignored: no branch on which lanes.
    /// Kept out of line: inlined into the tile function (since the scratch
    /// buffers moved out of it) its registers came out worse, B3 −2–4 %.
    #[target_feature(enable = "avx512f,avx512vl,fma,popcnt")]
    #[inline(never)]
    fn run_blocks(&mut self) {
        const V: usize = AVX512_VECTORS;
        let four = _mm512_set1_pd(4.0);
        let max_iter_f = f64::from(self.max_iter);
        let left_margin = f64::from(AVX512_BLOCK_ITERS) - max_iter_f;
        let vectors = &mut self.vectors;
        let mut zr: [__m512d; V] = std::array::from_fn(|v| vectors[v].zr);
        let mut zi: [__m512d; V] = std::array::from_fn(|v| vectors[v].zi);
        let cr: [__m512d; V] = std::array::from_fn(|v| vectors[v].cr);
        let ci: [__m512d; V] = std::array::from_fn(|v| vectors[v].ci);
        let mut done: [__mmask8; V] = std::array::from_fn(|v| vectors[v].done);
        let mut num_done;
        let mut steps = self.steps;
        let stop_at = SERVICE_LANES.min(self.in_lanes);
        let block_f = f64::from(AVX512_BLOCK_ITERS);
        // The step before which no running lane can be due: the due test
        // runs only when a block would pass it.
        let mut deadline = f64::NEG_INFINITY;
        loop {
            let block_start = steps as f64;
            if block_start + block_f > deadline {
                // Due: start + max_iter < block_start + a block. Due lanes
                // are done as they are: z now, at this block's start.
                let due_before = _mm512_set1_pd(block_start + left_margin);
                let at = _mm512_set1_pd(block_start);
                let mut earliest = _mm512_set1_pd(f64::INFINITY);
                for v in 0..V {
                    let due = _mm512_mask_cmp_pd_mask::<_CMP_LT_OQ>(
                        !done[v],
                        vectors[v].start,
                        due_before,
                    );
                    store_masked(&mut vectors[v].block_zr, due, zr[v]);
                    store_masked(&mut vectors[v].block_zi, due, zi[v]);
                    store_masked(&mut vectors[v].block_at, due, at);
                    done[v] |= due;
                    earliest = _mm512_mask_min_pd(earliest, !done[v], earliest, vectors[v].start);
                }
                deadline = _mm512_reduce_min_pd(earliest) + max_iter_f;
                num_done = count_lanes(&done);
                if num_done >= stop_at {
                    break;
                }
            }
            let saved = (zr, zi);
            // Two steps per pass: the FMAs' results land in other
            // registers than their inputs, and an even count lets them
            // come back without a copy per step.
            for _ in 0..AVX512_BLOCK_ITERS / 2 {
                for _ in 0..2 {
                    for v in 0..V {
                        // Exactly reference::step: zi' = fma(zr + zr, zi, ci),
                        // zr' = fma(zr, zr, fma(-zi, zi, cr)).
                        let cr_minus_zi2 = _mm512_fnmadd_pd(zi[v], zi[v], cr[v]);
                        let twice_zr = _mm512_add_pd(zr[v], zr[v]);
                        zi[v] = _mm512_fmadd_pd(twice_zr, zi[v], ci[v]);
                        zr[v] = _mm512_fmadd_pd(zr[v], zr[v], cr_minus_zi2);
                    }
                }
            }
            steps += u64::from(AVX512_BLOCK_ITERS);
            let mut any = 0;
            let escaped: [__mmask8; V] = std::array::from_fn(|v| {
                // NLE_UQ: !(|z|² <= 4), NaN too; lanes already done do
                // not count.
                let m = mag2(zr[v], zi[v]);
                let k = _mm512_mask_cmp_pd_mask::<_CMP_NLE_UQ>(!done[v], m, four);
                any |= k;
                k
            });
            if any != 0 {
                // Escaped lanes are done with the z of this block's start.
                let at = _mm512_set1_pd(block_start);
                for v in 0..V {
                    store_masked(&mut vectors[v].block_zr, escaped[v], saved.0[v]);
                    store_masked(&mut vectors[v].block_zi, escaped[v], saved.1[v]);
                    store_masked(&mut vectors[v].block_at, escaped[v], at);
                    done[v] |= escaped[v];
                }
                num_done = count_lanes(&done);
                if num_done >= stop_at {
                    break;
                }
            }
        }
        for v in 0..V {
            vectors[v].zr = zr[v];
            vectors[v].zi = zi[v];
            vectors[v].done = done[v];
        }
        self.num_done = num_done;
        self.steps = steps;
    }
}

#[target_feature(enable = "avx512f,avx512vl,fma,popcnt")]
fn compute_tile_avx512(
    view: &View,
    tile: &Tile,
    out: &mut TilePixels,
    scratch: &mut Scratch,
) -> u64 {
    const V: usize = AVX512_VECTORS;
    let max_iter = view.max_iter();
    let empty = Vector {
        zr: _mm512_setzero_pd(),
        zi: _mm512_setzero_pd(),
        cr: _mm512_setzero_pd(),
        ci: _mm512_setzero_pd(),
        start: _mm512_set1_pd(f64::INFINITY),
        pixel: _mm512_set1_pd(NO_PIXEL),
        done: 0,
        block_zr: [0.0; LANES],
        block_zi: [0.0; LANES],
        block_at: [0.0; LANES],
    };
    let Scratch { feed, pending } = scratch;
    pending.len = 0;
    let mut lanes = Lanes {
        vectors: [empty; V],
        feed: Feed::new(view, tile, feed),
        pending,
        in_lanes: 0,
        num_done: 0,
        steps: 0,
        max_iter,
        iterations: 0,
    };
    lanes.feed.ensure(LANES * V, out);
    for vector in &mut lanes.vectors {
        lanes.in_lanes += refill(lanes.feed.cols, lanes.feed.pos, vector, 0xFF, 0.0);
        lanes.feed.pos += LANES;
    }
    while lanes.in_lanes > 0 {
        lanes.run_blocks();
        lanes.service(out);
    }
    lanes.iterations + lanes.feed.iterations + lanes.pending.finish(out, max_iter, true)
}

/// One step z → z² + c on eight lanes, exactly `reference::step`:
/// zi' = fma(zr + zr, zi, ci), zr' = fma(zr, zr, fma(−zi, zi, cr)). (The
/// block loop writes it out: its 8 vectors' registers are planned there.)
#[target_feature(enable = "avx512f,avx512vl,fma,popcnt")]
#[inline]
fn step(zr: __m512d, zi: __m512d, cr: __m512d, ci: __m512d) -> (__m512d, __m512d) {
    let cr_minus_zi2 = _mm512_fnmadd_pd(zi, zi, cr);
    let twice_zr = _mm512_add_pd(zr, zr);
    (
        _mm512_fmadd_pd(zr, zr, cr_minus_zi2),
        _mm512_fmadd_pd(twice_zr, zi, ci),
    )
}

/// |z|² on eight lanes, exactly `reference::mag2`: fma(zr, zr, zi·zi).
#[target_feature(enable = "avx512f,avx512vl,fma,popcnt")]
#[inline]
fn mag2(zr: __m512d, zi: __m512d) -> __m512d {
    _mm512_fmadd_pd(zr, zr, _mm512_mul_pd(zi, zi))
}

/// The reference's test (before a step) on eight lanes, kept as a tally
/// instead of which test failed first (see [`Pending::replay`]): in the
/// lanes that fail, one more failed test and |z|² folded into the least
/// failing one. NLE_UQ: a NaN (z overflowed after the stop) fails too;
/// min(m, least) keeps `least` where m is NaN. Returns the failing lanes.
#[target_feature(enable = "avx512f,avx512vl,fma,popcnt")]
#[inline]
fn tally_test(zr: __m512d, zi: __m512d, failed: &mut __m512d, least: &mut __m512d) -> __mmask8 {
    let m = mag2(zr, zi);
    let fails = _mm512_cmp_pd_mask::<_CMP_NLE_UQ>(m, _mm512_set1_pd(4.0));
    *least = _mm512_mask_min_pd(*least, fails, m, *least);
    *failed = _mm512_mask_add_pd(*failed, fails, *failed, _mm512_set1_pd(1.0));
    fails
}

/// The count a tally of `tests` tests from `start` iterations gives: the
/// stop after the tests passed (each followed by a step), or `limit`
/// (max_iter) if that comes first, as the reference stops there. Exact:
/// small integers.
#[target_feature(enable = "avx512f,avx512vl,fma,popcnt")]
#[inline]
fn tallied_count(start: __m512d, tests: __m512d, failed: __m512d, limit: __m512d) -> __m512d {
    _mm512_min_pd(_mm512_add_pd(start, _mm512_sub_pd(tests, failed)), limit)
}

/// For [`REPLAY_GROUPS`] groups of eight entries of which the first `used`
/// are real: the lanes of each group past `used`.
fn lanes_past(used: usize) -> [__mmask8; REPLAY_GROUPS] {
    std::array::from_fn(|g| {
        let lanes = used.saturating_sub(g * LANES).min(LANES);
        !(u8::MAX.checked_shr((LANES - lanes) as u32).unwrap_or(0))
    })
}

/// Lanes set in all masks: one `popcnt` (a sum of six per-mask counts
/// is vectorised into a dozen byte shuffles).
#[inline(always)]
fn count_lanes(masks: &[__mmask8; AVX512_VECTORS]) -> usize {
    let packed = masks
        .iter()
        .enumerate()
        .fold(0u64, |all, (v, &k)| all | (u64::from(k) << (LANES * v)));
    packed.count_ones() as usize
}

#[inline(always)]
fn store_masked(a: &mut [f64; LANES], k: __mmask8, v: __m512d) {
    // SAFETY: `a` is 8 writable f64s; the masked store has no alignment
    // requirement. Only called from avx512f functions (the caller checked
    // the CPU).
    unsafe { _mm512_mask_storeu_pd(a.as_mut_ptr(), k, v) }
}
/// Refills the lanes of `k` in `vector` with the feed's pixels from
/// `pos` on (z and iterations from the pre-pass, started now); returns how
/// many of them are real pixels. The feed must hold `k`'s lanes from `pos`.
#[target_feature(enable = "avx512f,avx512vl,fma,popcnt")]
#[inline]
fn refill(
    feed: &Columns<FEED_ROOM>,
    p: usize,
    vector: &mut Vector,
    k: __mmask8,
    steps: f64,
) -> usize {
    vector.cr = _mm512_mask_expand_pd(vector.cr, k, load(&feed.cr[p..]));
    vector.ci = _mm512_mask_expand_pd(vector.ci, k, load(&feed.ci[p..]));
    vector.pixel = _mm512_mask_expand_pd(vector.pixel, k, load(&feed.pixel[p..]));
    vector.zr = _mm512_mask_expand_pd(vector.zr, k, load(&feed.zr[p..]));
    vector.zi = _mm512_mask_expand_pd(vector.zi, k, load(&feed.zi[p..]));
    let real = _mm512_cmp_pd_mask::<_CMP_GE_OQ>(vector.pixel, _mm512_setzero_pd()) & k;
    // A lane's start: the step it would have started at from z = 0.
    let iters = _mm512_maskz_expand_pd(k, load(&feed.iters[p..]));
    let starts = _mm512_mask_blend_pd(
        real,
        _mm512_set1_pd(f64::INFINITY),
        _mm512_sub_pd(_mm512_set1_pd(steps), iters),
    );
    vector.start = _mm512_mask_mov_pd(vector.start, k, starts);
    real.count_ones() as usize
}

impl Pending {
    /// Finishes whole groups of eight (and the rest too if `all`); keeps
    /// the rest for later. Returns the iterations of the finished pixels.
    ///
    /// Every group's replay runs first, then every group's smooth value,
    /// then the stores: the smooth values' long dependency chains (two
    /// logarithms, three divisions) are independent from group to group,
    /// so the core overlaps them instead of waiting for each in turn.
    #[target_feature(enable = "avx512f,avx512vl,fma,popcnt")]
    fn finish(&mut self, out: &mut TilePixels, max_iter: u32, all: bool) -> u64 {
        let whole = self.len / LANES * LANES;
        let end = if all { self.len } else { whole };
        for i in (0..end).step_by(REPLAY_PX) {
            self.replay(i, end - i, max_iter);
        }
        // Counts and smooth values eight at a time, then into the tile; a
        // count at max_iter takes the value max_iter (exact in f32: ≤ 2²⁴).
        let limit = _mm512_set1_pd(f64::from(max_iter));
        let mut iterations = 0;
        // The counts of whole groups summed as f64, exactly: integers,
        // fewer than PENDING_CAP of them, each at most u32::MAX (< 2⁵³).
        let mut counted = _mm512_setzero_pd();
        for i in (0..end).step_by(LANES) {
            let results = &self.results;
            let count = load(&results.count[i..]);
            let inside = _mm512_cmp_pd_mask::<_CMP_GE_OQ>(count, limit);
            let values =
                _mm512_mask_mov_pd(smooth_values(count, load(&results.mag[i..])), inside, limit);
            let mut counts = [0u32; LANES];
            let mut pixels = [0u32; LANES];
            let mut smooth = [0.0f32; LANES];
            store_f32(&mut smooth, _mm512_cvtpd_ps(values));
            store_u32(&mut counts, _mm512_cvttpd_epu32(count));
            store_u32(
                &mut pixels,
                _mm512_cvttpd_epu32(load(&self.cols.pixel[i..])),
            );
            if i + LANES <= end && results.found[i / LANES] == u8::MAX {
                // The usual case: eight pixels that each stopped in the
                // replay. No test per lane, and the sum in a vector (B3
                // and B2 −1 %, K0 −0.5–1 %).
                for lane in 0..LANES {
                    let pixel = pixels[lane] as usize;
                    out.counts[pixel] = counts[lane];
                    out.smooth[pixel] = smooth[lane];
                }
                counted = _mm512_add_pd(counted, count);
                continue;
            }
            for lane in 0..LANES.min(end - i) {
                let j = i + lane;
                let pixel = pixels[lane] as usize;
                let (n, s) = if results.found[i / LANES] & (1 << lane) != 0 {
                    (counts[lane], smooth[lane])
                } else {
                    // Not reached by the construction (an entry failed the
                    // block-end test or had under a block left); kept exact.
                    let (n, m) = reference::escape_from(
                        results.end_zr[j],
                        results.end_zi[j],
                        results.end_n[j] as u32,
                        self.cols.cr[j],
                        self.cols.ci[j],
                        max_iter,
                    );
                    (n, smooth_value(n, m, max_iter))
                };
                out.counts[pixel] = n;
                out.smooth[pixel] = s;
                iterations += u64::from(n);
            }
        }
        self.cols.drop_front(end, self.len);
        self.len -= end;
        iterations + _mm512_reduce_add_pd(counted) as u64
    }

    /// Replays entries `i..i + used.min(REPLAY_PX)` ([`REPLAY_GROUPS`]
    /// groups of eight side by side, so that their dependency chains
    /// overlap; lanes past `used` are ignored): half a block untested and
    /// a test, to find the half the stop lies in, then that half with the
    /// reference's test before each step. Writes each lane's count (its
    /// first failing test, or `max_iter`) and |z|² at that test (unused at
    /// `max_iter`) into `results`, z and its iterations at the end (for a
    /// lane that did neither), and the lanes that did.
    ///
    /// The tested half keeps no per-lane record of *which* test failed
    /// first (a mask and two masked moves per lane and step, and their
    /// mask arithmetic, were most of its work). Once |z|² > 4, |z| keeps
    /// growing (the reason a block-end test finds every escape, with the
    /// same rounding caveat, see `simd`), so every test after the first
    /// failing one fails too, and |z|² only grows: the count is the start
    /// plus the tests passed, and the |z|² at the stop is the least of the
    /// failing ones ([`tally_test`], [`tallied_count`]).
    #[target_feature(enable = "avx512f,avx512vl,fma,popcnt")]
    fn replay(&mut self, i: usize, used: usize, max_iter: u32) {
        let results = &mut self.results;
        const G: usize = REPLAY_GROUPS;
        let four = _mm512_set1_pd(4.0);
        let limit = _mm512_set1_pd(f64::from(max_iter));
        let at = |g: usize| i + g * LANES;
        let cr: [__m512d; G] = std::array::from_fn(|g| load(&self.cols.cr[at(g)..]));
        let ci: [__m512d; G] = std::array::from_fn(|g| load(&self.cols.ci[at(g)..]));
        let start_zr: [__m512d; G] = std::array::from_fn(|g| load(&self.cols.zr[at(g)..]));
        let start_zi: [__m512d; G] = std::array::from_fn(|g| load(&self.cols.zi[at(g)..]));
        let start_n: [__m512d; G] = std::array::from_fn(|g| load(&self.cols.iters[at(g)..]));
        // Which half of the block holds the stop: half a block of untested
        // steps, then the block-end test at the middle (an escape there
        // stays one, as at the block's end) and the limit. The tested
        // replay then covers that half only.
        let mut zr = start_zr;
        let mut zi = start_zi;
        for _ in 0..HALF_BLOCK_ITERS {
            for g in 0..G {
                (zr[g], zi[g]) = step(zr[g], zi[g], cr[g], ci[g]);
            }
        }
        let half = _mm512_set1_pd(f64::from(HALF_BLOCK_ITERS));
        let mut n = start_n;
        for g in 0..G {
            let m = mag2(zr[g], zi[g]);
            let mid_n = _mm512_add_pd(start_n[g], half);
            let first_half = _mm512_cmp_pd_mask::<_CMP_NLE_UQ>(m, four)
                | _mm512_cmp_pd_mask::<_CMP_GE_OQ>(mid_n, limit);
            zr[g] = _mm512_mask_mov_pd(zr[g], first_half, start_zr[g]);
            zi[g] = _mm512_mask_mov_pd(zi[g], first_half, start_zi[g]);
            n[g] = _mm512_mask_mov_pd(mid_n, first_half, start_n[g]);
        }
        // The tested half: per lane, the failed tests and the least |z|²
        // of them. Lanes past `used` fail every test (z = ∞, then NaN),
        // so that the replay stops as soon as every used lane has failed.
        let unused = lanes_past(used);
        for g in 0..G {
            zr[g] = _mm512_mask_mov_pd(zr[g], unused[g], _mm512_set1_pd(f64::INFINITY));
        }
        let mut failed = [_mm512_setzero_pd(); G];
        let mut mag = [_mm512_set1_pd(f64::INFINITY); G];
        let one = _mm512_set1_pd(1.0);
        let mut tests = 0.0;
        for j in 0..=HALF_BLOCK_ITERS {
            let mut all = u8::MAX;
            for g in 0..G {
                all &= tally_test(zr[g], zi[g], &mut failed[g], &mut mag[g]);
            }
            tests += 1.0;
            if all == u8::MAX {
                break;
            }
            if j < HALF_BLOCK_ITERS {
                for g in 0..G {
                    (zr[g], zi[g]) = step(zr[g], zi[g], cr[g], ci[g]);
                }
            }
        }
        let tests = _mm512_set1_pd(tests);
        let mut count = [_mm512_setzero_pd(); G];
        let mut found = [0u8; G];
        for g in 0..G {
            count[g] = tallied_count(n[g], tests, failed[g], limit);
            found[g] = _mm512_cmp_pd_mask::<_CMP_GT_OQ>(failed[g], _mm512_setzero_pd())
                | _mm512_cmp_pd_mask::<_CMP_GE_OQ>(count[g], limit);
            // z at the end: one step after each test but the last.
            n[g] = _mm512_add_pd(n[g], _mm512_sub_pd(tests, one));
        }
        for g in 0..G {
            let k = at(g);
            store(&mut results.count[k..], count[g]);
            store(&mut results.mag[k..], mag[g]);
            store(&mut results.end_zr[k..], zr[g]);
            store(&mut results.end_zi[k..], zi[g]);
            store(&mut results.end_n[k..], n[g]);
            results.found[k / LANES] = found[g] & !unused[g];
        }
    }
}

/// What [`Pending::replay`] found for each pending entry (aligned as
/// [`Columns`]).
#[repr(align(64))]
struct Replayed {
    count: [f64; PENDING_CAP],
    mag: [f64; PENDING_CAP],
    end_zr: [f64; PENDING_CAP],
    end_zi: [f64; PENDING_CAP],
    /// Iterations run to reach (`end_zr`, `end_zi`).
    end_n: [f64; PENDING_CAP],
    /// Bit `l` of `found[g]`: entry `8g + l` failed a test in the replay.
    found: [u8; PENDING_CAP.div_ceil(LANES)],
}

/// `smooth_value` for eight escaped pixels (counts below `max_iter`,
/// |z|² finite and > 4): the same operations as the scalar one.
#[target_feature(enable = "avx512f,avx512vl,fma,popcnt")]
fn smooth_values(count: __m512d, mag2: __m512d) -> __m512d {
    let log2_zn = _mm512_mul_pd(_mm512_set1_pd(0.5), log2_fast(mag2));
    let nu = log2_fast(log2_zn);
    let value = _mm512_sub_pd(_mm512_add_pd(count, _mm512_set1_pd(1.0)), nu);
    _mm512_max_pd(value, _mm512_setzero_pd())
}

/// `kernel::log2_fast` for positive normal finite lanes: x = 2ᵉ·m with
/// m ∈ [1, 2) exactly as the scalar one's bit masks give them.
#[target_feature(enable = "avx512f,avx512vl,fma,popcnt")]
fn log2_fast(x: __m512d) -> __m512d {
    let one = _mm512_set1_pd(1.0);
    let mut e = _mm512_getexp_pd(x);
    let mut m = _mm512_getmant_pd::<_MM_MANT_NORM_1_2, _MM_MANT_SIGN_SRC>(x);
    let big = _mm512_cmp_pd_mask::<_CMP_GT_OQ>(m, _mm512_set1_pd(std::f64::consts::SQRT_2));
    m = _mm512_mask_mul_pd(m, big, m, _mm512_set1_pd(0.5));
    e = _mm512_mask_add_pd(e, big, e, one);
    let s = _mm512_div_pd(_mm512_sub_pd(m, one), _mm512_add_pd(m, one));
    let s2 = _mm512_mul_pd(s, s);
    let c = |v: f64| _mm512_set1_pd(v);
    let mut series = _mm512_add_pd(c(1.0 / 7.0), _mm512_mul_pd(s2, c(1.0 / 9.0)));
    series = _mm512_add_pd(c(1.0 / 5.0), _mm512_mul_pd(s2, series));
    series = _mm512_add_pd(c(1.0 / 3.0), _mm512_mul_pd(s2, series));
    series = _mm512_add_pd(one, _mm512_mul_pd(s2, series));
    _mm512_add_pd(
        e,
        _mm512_mul_pd(_mm512_mul_pd(s, series), c(super::TWO_OVER_LN_2)),
    )
}

#[inline(always)]
fn store_f32(a: &mut [f32], v: std::arch::x86_64::__m256) {
    let a: &mut [f32; LANES] = (&mut a[..LANES]).try_into().expect("8 lanes");
    // SAFETY: `a` is 8 writable f32s; storeu has no alignment requirement.
    // Only called from avx512f functions (the caller checked the CPU).
    unsafe { _mm256_storeu_ps(a.as_mut_ptr(), v) }
}

/// Stores the lanes of `k` of `v` into `a`; every lane of `k` must lie
/// within `a`.
#[inline(always)]
fn store_u32_masked(a: &mut [u32], k: __mmask8, v: std::arch::x86_64::__m256i) {
    assert!(
        u32::from(k) >> a.len().min(LANES) == 0,
        "lanes past the slice"
    );
    // SAFETY: every lane the mask writes lies within `a` (checked above);
    // a masked store touches no other memory and needs no alignment. Only
    // called from avx512f+avx512vl functions (the caller checked the CPU).
    unsafe { std::arch::x86_64::_mm256_mask_storeu_epi32(a.as_mut_ptr().cast(), k, v) }
}

/// Stores the lanes of `k` of `v` into `a`; every lane of `k` must lie
/// within `a`.
#[inline(always)]
fn store_f32_masked(a: &mut [f32], k: __mmask8, v: std::arch::x86_64::__m256) {
    assert!(
        u32::from(k) >> a.len().min(LANES) == 0,
        "lanes past the slice"
    );
    // SAFETY: as `store_u32_masked`.
    unsafe { std::arch::x86_64::_mm256_mask_storeu_ps(a.as_mut_ptr(), k, v) }
}

#[inline(always)]
fn store_u32(a: &mut [u32], v: std::arch::x86_64::__m256i) {
    let a: &mut [u32; LANES] = (&mut a[..LANES]).try_into().expect("8 lanes");
    // SAFETY: `a` is 8 writable u32s (32 bytes); storeu has no alignment
    // requirement. Only called from avx512f functions (the caller checked
    // the CPU).
    unsafe { std::arch::x86_64::_mm256_storeu_si256(a.as_mut_ptr().cast(), v) }
}

/// Vectors (and output bytes) per group in the Benchmarks Game row: one
/// step is ~10 cycles of dependent adds and multiplies, so 4 vectors left
/// the pipes idle; one core's CPU time for every 8th row at N = 16000:
/// 4 vectors 71 ms, 5: 63 ms, 6: 59 ms, 8: 68 ms (spills).
const BG_VECTORS: usize = 6;
/// Pixels per group in the Benchmarks Game row.
pub const BG_GROUP_PX: usize = LANES * BG_VECTORS;
/// Steps between two "all escaped?" tests (7 × 7 + the first step = 50).
const BG_BLOCK: u32 = 7;
/// Steps after the first one (which is z = c).
const BG_ITERATIONS_AFTER_FIRST: u32 = super::BG_ITERATIONS - 1;

/// One Benchmarks Game row (see `engine::bg`) with AVX-512F, plain mul +
/// add as the reference program. `real` holds at least `out.len()` bytes
/// rounded up to whole groups, in pixels. Returns `false` (and does
/// nothing) without AVX-512F.
pub fn bg_row(real: &[f64], ci: f64, n: usize, out: &mut [u8]) -> bool {
    if !available() {
        return false;
    }
    assert!(real.len() >= out.len().div_ceil(BG_VECTORS) * BG_GROUP_PX && out.len() * 8 >= n);
    // SAFETY: `available()` checked that the CPU supports avx512f (and the
    // rest, unused here), the only requirement of this `#[target_feature]` fn.
    unsafe { bg_row_avx512(real, ci, n, out) };
    true
}

#[target_feature(enable = "avx512f")]
fn bg_row_avx512(real: &[f64], ci: f64, n: usize, out: &mut [u8]) {
    use std::arch::x86_64::_CMP_LE_OQ;
    let four = _mm512_set1_pd(4.0);
    let civ = _mm512_set1_pd(ci);
    for (group, bytes) in out.chunks_mut(BG_VECTORS).enumerate() {
        let base = group * BG_GROUP_PX;
        let cr: [__m512d; BG_VECTORS] = std::array::from_fn(|v| load(&real[base + LANES * v..]));
        // The first step from z = 0 gives z = c exactly.
        let mut zr = cr;
        let mut zi = [civ; BG_VECTORS];
        let mut squares_r: [__m512d; BG_VECTORS] =
            std::array::from_fn(|v| _mm512_mul_pd(zr[v], zr[v]));
        let mut squares_i: [__m512d; BG_VECTORS] =
            std::array::from_fn(|v| _mm512_mul_pd(zi[v], zi[v]));
        for _ in 0..(BG_ITERATIONS_AFTER_FIRST / BG_BLOCK) {
            for _ in 0..BG_BLOCK {
                for v in 0..BG_VECTORS {
                    // Zi = 2·Zr·Zi + Ci; Zr = Tr − Ti + Cr; Tr = Zr²; Ti = Zi².
                    let twice_zr = _mm512_add_pd(zr[v], zr[v]);
                    zi[v] = _mm512_add_pd(_mm512_mul_pd(twice_zr, zi[v]), civ);
                    zr[v] = _mm512_add_pd(_mm512_sub_pd(squares_r[v], squares_i[v]), cr[v]);
                    squares_r[v] = _mm512_mul_pd(zr[v], zr[v]);
                    squares_i[v] = _mm512_mul_pd(zi[v], zi[v]);
                }
            }
            let mut any_inside = 0;
            for v in 0..BG_VECTORS {
                let m = _mm512_add_pd(squares_r[v], squares_i[v]);
                any_inside |= _mm512_cmp_pd_mask::<_CMP_LE_OQ>(m, four);
            }
            if any_inside == 0 {
                break;
            }
        }
        for (b, byte) in bytes.iter_mut().enumerate() {
            let m = _mm512_add_pd(squares_r[b], squares_i[b]);
            // Lane 0 is the leftmost pixel: the byte's most significant bit.
            *byte = _mm512_cmp_pd_mask::<_CMP_LE_OQ>(m, four).reverse_bits();
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::mandelbrot::kernel::edge_tests::{self, Entry, Shape};

    /// This kernel as `run` takes it (each test checks `available()`).
    fn fast(view: &View, tile: &Tile, out: &mut TilePixels) -> u64 {
        compute_tile(view, tile, out).expect("checked available")
    }

    const SHAPE: Shape = Shape {
        all_lanes: LANES * AVX512_VECTORS,
        service_lanes: SERVICE_LANES,
        pending_batch: PENDING_BATCH,
        replay_px: REPLAY_PX,
        block_iters: AVX512_BLOCK_ITERS,
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
}
