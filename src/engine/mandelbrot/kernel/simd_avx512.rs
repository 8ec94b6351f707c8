//! AVX-512F + FMA kernel, chosen at run time: 8-lane zmm vectors, with
//! escapes handled *inside* the vector loop. Same counts and smooth values
//! as [`reference`], bit for bit.
//!
//! The loop runs blocks of [`AVX512_BLOCK_ITERS`] untested steps on all vectors
//! (the same arithmetic as `reference::step`), back to back in registers,
//! and tests `!(|z|² <= 4)` after each (see `simd` for why a block-end test
//! finds every escape). A lane that failed, or that has fewer than a
//! block's iterations left before `max_iter`, is marked *done*: masked
//! moves keep the z it had at the block's start, and it runs on, ignored,
//! with no branch on which lanes escaped. Once [`SERVICE_LANES`] lanes are
//! done, one *service* goes over every vector: the done lanes are
//! *compressed* (masked `vcompresspd`) into a pending batch and *refilled*
//! with the tile's next pixels (masked `vexpandpd` from a small feed buffer
//! and a masked blend of z to 0). The vector state never leaves for a
//! per-pixel loop: the loop ends only when the tile runs out of pixels.
//!
//! Every [`PENDING_BATCH`] escapes, the batch is finished: a vector replay
//! of the block, [`REPLAY_GROUPS`] groups of eight side by side, with the
//! reference's test before each step (the first failing test, or
//! `max_iter`, gives the count and |z|² exactly), then the smooth values
//! eight at a time with a vector copy of `log2_fast` (`vgetexppd`/
//! `vgetmantpd` split x into 2ᵉ·m exactly; then the same operations, each
//! rounded once, in the same order, so the f32 is identical).
//!
//! Like `simd_avx2`, one of the few modules allowed `unsafe` (a test scans
//! `src/`): the call into the `#[target_feature]` function after the CPU
//! was checked, and the vector loads and stores from bounds-checked slices.
#![allow(unsafe_code)]

use super::simd::PixelCursor;
use super::{TilePixels, reference, smooth_value};
use crate::engine::mandelbrot::tiling::Tile;
use crate::engine::mandelbrot::view::View;
use std::arch::x86_64::{
    __m512d, __mmask8, _CMP_GE_OQ, _CMP_GT_OQ, _CMP_LT_OQ, _CMP_NLE_UQ, _MM_MANT_NORM_1_2,
    _MM_MANT_SIGN_SRC, _mm256_storeu_ps, _mm512_add_pd, _mm512_cmp_pd_mask, _mm512_cvtpd_ps,
    _mm512_cvttpd_epu32, _mm512_div_pd, _mm512_fmadd_pd, _mm512_fnmadd_pd, _mm512_getexp_pd,
    _mm512_getmant_pd, _mm512_loadu_pd, _mm512_mask_add_pd, _mm512_mask_blend_pd,
    _mm512_mask_expand_pd, _mm512_mask_mov_pd, _mm512_mask_mul_pd, _mm512_mask_sub_pd,
    _mm512_maskz_compress_pd, _mm512_max_pd, _mm512_mul_pd, _mm512_reduce_min_pd, _mm512_set1_pd,
    _mm512_setzero_pd, _mm512_storeu_pd, _mm512_sub_pd,
};
use std::sync::OnceLock;

/// f64 lanes in a zmm register.
pub const LANES: usize = 8;
/// Vectors in flight: one step is a ~8-cycle dependency chain (two FMAs
/// in a row) of 3 FMAs and an add, and the core starts two zmm FMAs per
/// cycle, so it takes 8 × 2 ÷ 3 ≈ 5.3 vectors to keep both FMA pipes busy.
/// Measured on K0 (CPU time, this project's Zen machine): 4 vectors 57 % of
/// the FMA ceiling, 5: 66 %, 6: 73 %, 7: 76 %, 8: 67 % (spills); 6 is also
/// the best on B2 and B3. 6 × (z, c, block-start z) is more than the 32
/// registers: the compiler keeps some of them on the stack (a store and a
/// load per block, or c as an FMA's memory operand).
pub const AVX512_VECTORS: usize = 6;
/// Steps between two escape tests: twice the AVX2 kernel's
/// `simd::BLOCK_ITERS`, so the block-end test and the refills that follow
/// it come half as often, for a longer replay of each escaped pixel (which
/// stops once its group is done). Against 8, by CPU time on one core:
/// K0 74 → 79 % of the ceiling, B3 36 → 39 %, B2 unchanged (40 %), the
/// default view at 3840×2160 and 500 iterations 3 % faster.
pub const AVX512_BLOCK_ITERS: u32 = 16;
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
/// then (a block costs it ~3 cycles); each service costs ~100 cycles
/// whatever the number of lanes, and has no branch on them.
const SERVICE_LANES: usize = 16;
/// Pixels the feed buffer holds.
const FEED_CAP: usize = 128;
/// The pixel index of a lane that holds no pixel (c = 0: it never escapes).
const NO_PIXEL: f64 = -1.0;

/// Whether this CPU has AVX-512F and FMA (checked once).
pub fn available() -> bool {
    static DETECTED: OnceLock<bool> = OnceLock::new();
    *DETECTED.get_or_init(|| is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("fma"))
}

/// The AVX-512 kernel, or `None` if the CPU lacks AVX-512F or FMA.
pub fn compute_tile(view: &View, tile: &Tile, out: &mut TilePixels) -> Option<u64> {
    if !available() {
        return None;
    }
    // SAFETY: `available()` checked that the CPU supports avx512f and fma,
    // the only requirement of this `#[target_feature]` function.
    Some(unsafe { compute_tile_avx512(view, tile, out) })
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

/// The tile's next pixels (c and index), padded past the end with lanes
/// that hold no pixel, read eight at a time by the refill.
struct Feed<'a> {
    cursor: PixelCursor<'a>,
    cr: [f64; FEED_CAP],
    ci: [f64; FEED_CAP],
    pixel: [f64; FEED_CAP],
    pos: usize,
    len: usize,
}

impl<'a> Feed<'a> {
    fn new(view: &'a View, tile: &'a Tile) -> Self {
        Feed {
            cursor: PixelCursor::new(view, tile),
            cr: [0.0; FEED_CAP],
            ci: [0.0; FEED_CAP],
            pixel: [NO_PIXEL; FEED_CAP],
            pos: 0,
            len: 0,
        }
    }

    /// Makes at least `n` entries (at most [`FEED_CAP`]) readable from `pos`.
    #[inline(always)]
    fn ensure(&mut self, n: usize) {
        if self.len - self.pos >= n {
            return;
        }
        let kept = self.len - self.pos;
        self.cr.copy_within(self.pos..self.len, 0);
        self.ci.copy_within(self.pos..self.len, 0);
        self.pixel.copy_within(self.pos..self.len, 0);
        for i in kept..FEED_CAP {
            let (pixel, cr, ci) = self
                .cursor
                .next_pixel()
                .map_or((NO_PIXEL, 0.0, 0.0), |(p, cr, ci)| (f64::from(p), cr, ci));
            self.cr[i] = cr;
            self.ci[i] = ci;
            self.pixel[i] = pixel;
        }
        self.pos = 0;
        self.len = FEED_CAP;
    }
}

/// Pixels waiting for their exact finish, as columns: z at the start of
/// the block they left in, c, the iterations executed before that block,
/// and the pixel index.
struct Pending {
    zr: [f64; PENDING_CAP],
    zi: [f64; PENDING_CAP],
    cr: [f64; PENDING_CAP],
    ci: [f64; PENDING_CAP],
    iters: [f64; PENDING_CAP],
    pixel: [f64; PENDING_CAP],
    len: usize,
}

/// One vector of lanes.
#[derive(Clone, Copy)]
struct Vector {
    zr: __m512d,
    zi: __m512d,
    cr: __m512d,
    ci: __m512d,
    /// The tile's step counter when each lane got its pixel (+∞: none, or
    /// the lane is done and waits for its refill).
    start: __m512d,
    /// Each lane's pixel index in the tile, or [`NO_PIXEL`].
    pixel: __m512d,
    /// Lanes whose pixel is done (escaped, or due at `max_iter`): they run
    /// on, ignored, until the next [`Lanes::service`] hands them to the
    /// exact finish and refills them.
    done: __mmask8,
    /// For done lanes: z at the start of the block they left in, and the
    /// iterations executed before it.
    done_zr: __m512d,
    done_zi: __m512d,
    done_iters: __m512d,
}

impl Vector {
    /// Marks the lanes of `k` done, with z = (`zr`, `zi`) after `at_step`
    /// tile steps; returns how many.
    #[target_feature(enable = "avx512f,fma")]
    #[inline]
    fn mark_done(&mut self, k: __mmask8, zr: __m512d, zi: __m512d, at_step: __m512d) -> usize {
        self.done_zr = _mm512_mask_mov_pd(self.done_zr, k, zr);
        self.done_zi = _mm512_mask_mov_pd(self.done_zi, k, zi);
        self.done_iters = _mm512_mask_sub_pd(self.done_iters, k, at_step, self.start);
        self.start = _mm512_mask_mov_pd(self.start, k, _mm512_set1_pd(f64::INFINITY));
        self.done |= k;
        k.count_ones() as usize
    }
}

/// Every vector and the bookkeeping around them.
struct Lanes<'a> {
    vectors: [Vector; AVX512_VECTORS],
    feed: Feed<'a>,
    pending: Pending,
    /// Pixels taken from the feed (real or not).
    taken: usize,
    num_pixels: usize,
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
    #[target_feature(enable = "avx512f,fma")]
    fn service(&mut self, out: &mut TilePixels) {
        self.feed.ensure(LANES * AVX512_VECTORS);
        let steps = self.steps as f64;
        for vector in &mut self.vectors {
            let k = vector.done;
            self.pending.push(k, vector);
            self.in_lanes -= k.count_ones() as usize;
            self.in_lanes += refill(
                &mut self.feed,
                vector,
                k,
                steps,
                &mut self.taken,
                self.num_pixels,
            );
            vector.done = 0;
        }
        self.num_done = 0;
        if self.pending.len >= PENDING_BATCH {
            self.iterations += self.pending.finish(out, self.max_iter, false);
        }
    }
}

#[target_feature(enable = "avx512f,fma")]
fn compute_tile_avx512(view: &View, tile: &Tile, out: &mut TilePixels) -> u64 {
    const V: usize = AVX512_VECTORS;
    let max_iter = view.max_iter();
    let max_iter_f = f64::from(max_iter);
    let four = _mm512_set1_pd(4.0);
    let empty = Vector {
        zr: _mm512_setzero_pd(),
        zi: _mm512_setzero_pd(),
        cr: _mm512_setzero_pd(),
        ci: _mm512_setzero_pd(),
        start: _mm512_set1_pd(f64::INFINITY),
        pixel: _mm512_set1_pd(NO_PIXEL),
        done: 0,
        done_zr: _mm512_setzero_pd(),
        done_zi: _mm512_setzero_pd(),
        done_iters: _mm512_setzero_pd(),
    };
    let mut lanes = Lanes {
        vectors: [empty; V],
        feed: Feed::new(view, tile),
        pending: Pending {
            zr: [0.0; PENDING_CAP],
            zi: [0.0; PENDING_CAP],
            cr: [0.0; PENDING_CAP],
            ci: [0.0; PENDING_CAP],
            iters: [0.0; PENDING_CAP],
            pixel: [NO_PIXEL; PENDING_CAP],
            len: 0,
        },
        taken: 0,
        num_pixels: tile.num_pixels(),
        in_lanes: 0,
        num_done: 0,
        steps: 0,
        max_iter,
        iterations: 0,
    };
    lanes.feed.ensure(LANES * V);
    for vector in &mut lanes.vectors {
        lanes.in_lanes += refill(
            &mut lanes.feed,
            vector,
            0xFF,
            0.0,
            &mut lanes.taken,
            lanes.num_pixels,
        );
    }
    let mut deadline = next_deadline(&lanes.vectors, max_iter_f);
    loop {
        // Lanes with fewer than a block's iterations left go to the exact
        // finish as they are (at most a few times per `max_iter` steps).
        while (lanes.steps + u64::from(AVX512_BLOCK_ITERS)) as f64 > deadline {
            let steps_f = _mm512_set1_pd(lanes.steps as f64);
            let threshold =
                _mm512_set1_pd(lanes.steps as f64 + f64::from(AVX512_BLOCK_ITERS) - max_iter_f);
            for vector in &mut lanes.vectors {
                let due = _mm512_cmp_pd_mask::<_CMP_LT_OQ>(vector.start, threshold);
                lanes.num_done += vector.mark_done(due, vector.zr, vector.zi, steps_f);
            }
            lanes.service(out);
            deadline = next_deadline(&lanes.vectors, max_iter_f);
        }
        if lanes.in_lanes == 0 {
            break;
        }
        if lanes.num_done == lanes.in_lanes {
            // Every real pixel is done: nothing left to run a block for.
            lanes.service(out);
            deadline = next_deadline(&lanes.vectors, max_iter_f);
            continue;
        }
        // Blocks on all vectors, in registers, until some lane escapes or
        // the next block would pass the deadline.
        let max_blocks = ((deadline - lanes.steps as f64) / f64::from(AVX512_BLOCK_ITERS)) as u64;
        let vectors = &mut lanes.vectors;
        let mut zr: [__m512d; V] = std::array::from_fn(|v| vectors[v].zr);
        let mut zi: [__m512d; V] = std::array::from_fn(|v| vectors[v].zi);
        let cr: [__m512d; V] = std::array::from_fn(|v| vectors[v].cr);
        let ci: [__m512d; V] = std::array::from_fn(|v| vectors[v].ci);
        let done: [__mmask8; V] = std::array::from_fn(|v| vectors[v].done);
        let mut blocks = 0;
        let (saved, escaped) = loop {
            let saved = (zr, zi);
            for _ in 0..AVX512_BLOCK_ITERS {
                for v in 0..V {
                    // Exactly reference::step: zi' = fma(zr + zr, zi, ci),
                    // zr' = fma(zr, zr, fma(-zi, zi, cr)).
                    let cr_minus_zi2 = _mm512_fnmadd_pd(zi[v], zi[v], cr[v]);
                    let twice_zr = _mm512_add_pd(zr[v], zr[v]);
                    zi[v] = _mm512_fmadd_pd(twice_zr, zi[v], ci[v]);
                    zr[v] = _mm512_fmadd_pd(zr[v], zr[v], cr_minus_zi2);
                }
            }
            blocks += 1;
            let mut any = 0;
            let escaped: [__mmask8; V] = std::array::from_fn(|v| {
                // reference::mag2 = fma(zr, zr, zi·zi); NLE_UQ: !(m <= 4),
                // NaN too; lanes already done do not count.
                let m = _mm512_fmadd_pd(zr[v], zr[v], _mm512_mul_pd(zi[v], zi[v]));
                let k = _mm512_cmp_pd_mask::<_CMP_NLE_UQ>(m, four) & !done[v];
                any |= k;
                k
            });
            if any != 0 || blocks >= max_blocks {
                break (saved, escaped);
            }
        };
        let block_start =
            _mm512_set1_pd((lanes.steps + (blocks - 1) * u64::from(AVX512_BLOCK_ITERS)) as f64);
        lanes.steps += blocks * u64::from(AVX512_BLOCK_ITERS);
        for v in 0..V {
            vectors[v].zr = zr[v];
            vectors[v].zi = zi[v];
            // No branch on which lanes escaped: a mask of 0 changes nothing.
            lanes.num_done += vectors[v].mark_done(escaped[v], saved.0[v], saved.1[v], block_start);
        }
        if lanes.num_done >= SERVICE_LANES {
            lanes.service(out);
        }
    }
    lanes.iterations + lanes.pending.finish(out, max_iter, true)
}

/// The earliest step at which some lane reaches `max_iter` (+∞ if none
/// holds a pixel).
#[target_feature(enable = "avx512f,fma")]
fn next_deadline(vectors: &[Vector], max_iter: f64) -> f64 {
    let earliest = vectors
        .iter()
        .map(|v| _mm512_reduce_min_pd(v.start))
        .fold(f64::INFINITY, f64::min);
    earliest + max_iter
}

/// Refills the lanes of `k` in `vector` with the feed's next pixels
/// (z = 0, started now); returns how many of them are real pixels. The
/// feed must hold at least `k`'s lanes.
#[target_feature(enable = "avx512f,fma")]
#[inline]
fn refill(
    feed: &mut Feed,
    vector: &mut Vector,
    k: __mmask8,
    steps: f64,
    taken: &mut usize,
    num_pixels: usize,
) -> usize {
    let p = feed.pos;
    vector.cr = _mm512_mask_expand_pd(vector.cr, k, load(&feed.cr[p..]));
    vector.ci = _mm512_mask_expand_pd(vector.ci, k, load(&feed.ci[p..]));
    vector.pixel = _mm512_mask_expand_pd(vector.pixel, k, load(&feed.pixel[p..]));
    let real = _mm512_cmp_pd_mask::<_CMP_GE_OQ>(vector.pixel, _mm512_setzero_pd()) & k;
    let starts = _mm512_mask_blend_pd(real, _mm512_set1_pd(f64::INFINITY), _mm512_set1_pd(steps));
    vector.start = _mm512_mask_mov_pd(vector.start, k, starts);
    vector.zr = _mm512_mask_mov_pd(vector.zr, k, _mm512_setzero_pd());
    vector.zi = _mm512_mask_mov_pd(vector.zi, k, _mm512_setzero_pd());
    let n = k.count_ones() as usize;
    feed.pos += n;
    let before = (*taken).min(num_pixels);
    *taken += n;
    (*taken).min(num_pixels) - before
}

impl Pending {
    /// Appends the done lanes of `k` of `vector`.
    #[target_feature(enable = "avx512f,fma")]
    #[inline]
    fn push(&mut self, k: __mmask8, vector: &Vector) {
        let n = self.len;
        store(
            &mut self.zr[n..],
            _mm512_maskz_compress_pd(k, vector.done_zr),
        );
        store(
            &mut self.zi[n..],
            _mm512_maskz_compress_pd(k, vector.done_zi),
        );
        store(&mut self.cr[n..], _mm512_maskz_compress_pd(k, vector.cr));
        store(&mut self.ci[n..], _mm512_maskz_compress_pd(k, vector.ci));
        let iters = _mm512_maskz_compress_pd(k, vector.done_iters);
        store(&mut self.iters[n..], iters);
        store(
            &mut self.pixel[n..],
            _mm512_maskz_compress_pd(k, vector.pixel),
        );
        self.len += k.count_ones() as usize;
    }

    /// Finishes whole groups of eight (and the rest too if `all`); keeps
    /// the rest for later. Returns the iterations of the finished pixels.
    ///
    /// Every group's replay runs first, then every group's smooth value,
    /// then the stores: the smooth values' long dependency chains (two
    /// logarithms, three divisions) are independent from group to group,
    /// so the core overlaps them instead of waiting for each in turn.
    #[target_feature(enable = "avx512f,fma")]
    fn finish(&mut self, out: &mut TilePixels, max_iter: u32, all: bool) -> u64 {
        let whole = self.len / LANES * LANES;
        let end = if all { self.len } else { whole };
        let mut results = Replayed {
            count: [0.0; PENDING_CAP],
            mag: [0.0; PENDING_CAP],
            end_zr: [0.0; PENDING_CAP],
            end_zi: [0.0; PENDING_CAP],
            found: [0; PENDING_CAP.div_ceil(LANES)],
        };
        for i in (0..end).step_by(REPLAY_PX) {
            self.replay(i, end - i, max_iter, &mut results);
        }
        // Counts, pixel indices and smooth values, eight at a time; a count
        // at max_iter takes the value max_iter (exact in f32: ≤ 2²⁴).
        let limit = _mm512_set1_pd(f64::from(max_iter));
        let mut counts = [0u32; PENDING_CAP];
        let mut pixels = [0u32; PENDING_CAP];
        let mut smooth = [0.0f32; PENDING_CAP];
        for i in (0..end).step_by(LANES) {
            let count = load(&results.count[i..]);
            let inside = _mm512_cmp_pd_mask::<_CMP_GE_OQ>(count, limit);
            let values =
                _mm512_mask_mov_pd(smooth_values(count, load(&results.mag[i..])), inside, limit);
            store_f32(&mut smooth[i..], _mm512_cvtpd_ps(values));
            store_u32(&mut counts[i..], _mm512_cvttpd_epu32(count));
            store_u32(
                &mut pixels[i..],
                _mm512_cvttpd_epu32(load(&self.pixel[i..])),
            );
        }
        let mut iterations = 0;
        for j in 0..end {
            let pixel = pixels[j] as usize;
            let (n, s) = if results.found[j / LANES] & (1 << (j % LANES)) != 0 {
                (counts[j], smooth[j])
            } else {
                // Not reached by the construction (an entry failed the
                // block-end test or had under a block left); kept exact.
                let (n, m) = reference::escape_from(
                    results.end_zr[j],
                    results.end_zi[j],
                    self.iters[j] as u32 + AVX512_BLOCK_ITERS,
                    self.cr[j],
                    self.ci[j],
                    max_iter,
                );
                (n, smooth_value(n, m, max_iter))
            };
            out.counts[pixel] = n;
            out.smooth[pixel] = s;
            iterations += u64::from(n);
        }
        for column in [
            &mut self.zr,
            &mut self.zi,
            &mut self.cr,
            &mut self.ci,
            &mut self.iters,
            &mut self.pixel,
        ] {
            column.copy_within(end..self.len, 0);
        }
        self.len -= end;
        iterations
    }

    /// Replays entries `i..i + used.min(REPLAY_PX)` ([`REPLAY_GROUPS`]
    /// groups of eight side by side, so that their dependency chains
    /// overlap; lanes past `used` are ignored): the reference's test before
    /// each step, for up to one block. Writes each lane's count and |z|² at
    /// its first failing test (or at `max_iter`) into `results`, z after
    /// the block (for a lane that never failed), and the lanes that failed.
    #[target_feature(enable = "avx512f,fma")]
    fn replay(&self, i: usize, used: usize, max_iter: u32, results: &mut Replayed) {
        const G: usize = REPLAY_GROUPS;
        let four = _mm512_set1_pd(4.0);
        let limit = _mm512_set1_pd(f64::from(max_iter));
        let at = |g: usize| i + g * LANES;
        let cr: [__m512d; G] = std::array::from_fn(|g| load(&self.cr[at(g)..]));
        let ci: [__m512d; G] = std::array::from_fn(|g| load(&self.ci[at(g)..]));
        let mut zr: [__m512d; G] = std::array::from_fn(|g| load(&self.zr[at(g)..]));
        let mut zi: [__m512d; G] = std::array::from_fn(|g| load(&self.zi[at(g)..]));
        let mut n: [__m512d; G] = std::array::from_fn(|g| load(&self.iters[at(g)..]));
        // Lanes past `used` count as found, so that the replay can stop
        // as soon as every used lane has its result.
        let unused: [__mmask8; G] = std::array::from_fn(|g| {
            let lanes = used.saturating_sub(g * LANES).min(LANES);
            !(u8::MAX.checked_shr((LANES - lanes) as u32).unwrap_or(0))
        });
        let mut found = unused;
        let mut count = [_mm512_setzero_pd(); G];
        let mut mag = [_mm512_setzero_pd(); G];
        let one = _mm512_set1_pd(1.0);
        for j in 0..=AVX512_BLOCK_ITERS {
            let mut all = u8::MAX;
            for g in 0..G {
                let m = _mm512_fmadd_pd(zr[g], zr[g], _mm512_mul_pd(zi[g], zi[g]));
                // The reference stops at the first |z|² > 4, or at max_iter.
                let stop = _mm512_cmp_pd_mask::<_CMP_GT_OQ>(m, four)
                    | _mm512_cmp_pd_mask::<_CMP_GE_OQ>(n[g], limit);
                let first = stop & !found[g];
                count[g] = _mm512_mask_mov_pd(count[g], first, n[g]);
                mag[g] = _mm512_mask_mov_pd(mag[g], first, m);
                found[g] |= stop;
                all &= found[g];
            }
            if all == u8::MAX {
                break;
            }
            if j < AVX512_BLOCK_ITERS {
                for g in 0..G {
                    let cr_minus_zi2 = _mm512_fnmadd_pd(zi[g], zi[g], cr[g]);
                    let twice_zr = _mm512_add_pd(zr[g], zr[g]);
                    zi[g] = _mm512_fmadd_pd(twice_zr, zi[g], ci[g]);
                    zr[g] = _mm512_fmadd_pd(zr[g], zr[g], cr_minus_zi2);
                    n[g] = _mm512_add_pd(n[g], one);
                }
            }
        }
        for g in 0..G {
            let k = at(g);
            store(&mut results.count[k..], count[g]);
            store(&mut results.mag[k..], mag[g]);
            store(&mut results.end_zr[k..], zr[g]);
            store(&mut results.end_zi[k..], zi[g]);
            results.found[k / LANES] = found[g] & !unused[g];
        }
    }
}

/// What [`Pending::replay`] found for each pending entry.
struct Replayed {
    count: [f64; PENDING_CAP],
    mag: [f64; PENDING_CAP],
    end_zr: [f64; PENDING_CAP],
    end_zi: [f64; PENDING_CAP],
    /// Bit `l` of `found[g]`: entry `8g + l` failed a test in the replay.
    found: [u8; PENDING_CAP.div_ceil(LANES)],
}

/// `smooth_value` for eight escaped pixels (counts below `max_iter`,
/// |z|² finite and > 4): the same operations as the scalar one.
#[target_feature(enable = "avx512f,fma")]
fn smooth_values(count: __m512d, mag2: __m512d) -> __m512d {
    let log2_zn = _mm512_mul_pd(_mm512_set1_pd(0.5), log2_fast(mag2));
    let nu = log2_fast(log2_zn);
    let value = _mm512_sub_pd(_mm512_add_pd(count, _mm512_set1_pd(1.0)), nu);
    _mm512_max_pd(value, _mm512_setzero_pd())
}

/// `kernel::log2_fast` for positive normal finite lanes: x = 2ᵉ·m with
/// m ∈ [1, 2) exactly as the scalar one's bit masks give them.
#[target_feature(enable = "avx512f,fma")]
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
    // SAFETY: `available()` checked that the CPU supports avx512f (and fma,
    // unused here), the only requirement of this `#[target_feature]` fn.
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
    use crate::engine::mandelbrot::kernel::reference_tile;
    use crate::engine::mandelbrot::kernel::tests::run;

    /// Tiles of about as many pixels as the lanes, the service threshold
    /// and the pending batch (so that lanes wait for a service with and
    /// without a full threshold, and the tile ends with done lanes), on a
    /// view that mixes fast escapes, slow ones and the inside.
    #[test]
    fn tiles_around_the_lane_and_service_counts_equal_the_reference() {
        if !available() {
            return;
        }
        let view = View::new((-0.75, 0.05), 3.0, 160, 9, 300).expect("view");
        let lanes = LANES * AVX512_VECTORS;
        for width in [
            1,
            SERVICE_LANES - 1,
            SERVICE_LANES,
            SERVICE_LANES + 1,
            lanes - 1,
            lanes,
            lanes + 1,
            PENDING_BATCH + 1,
            lanes + SERVICE_LANES,
            160,
        ] {
            for y in 0..9 {
                let tile = Tile {
                    index: 0,
                    x: 0,
                    y,
                    width: width as u32,
                    height: 1,
                };
                let fast = |v: &View, t: &Tile, o: &mut TilePixels| {
                    compute_tile(v, t, o).expect("checked available")
                };
                assert_eq!(
                    run(fast, &view, &tile),
                    run(reference_tile, &view, &tile),
                    "width {width}, row {y}"
                );
            }
        }
    }
}
