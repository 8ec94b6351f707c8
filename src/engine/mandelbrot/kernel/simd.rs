//! The portable fast kernel: several interleaved 4-lane vectors as plain
//! arrays, escape tested every [`BLOCK_ITERS`] iterations, with an exact
//! per-pixel finish; and what the x86-64 kernels share with it (the pixel
//! cursor, the write of a finished pixel).
//!
//! How it stays exact. Each lane holds one pixel. A *block* runs
//! [`BLOCK_ITERS`] steps on every lane with no test at all, then tests
//! `!(|z|² <= 4)` (true for NaN as well: between tests |z| may overflow to
//! ∞ and then NaN). A lane that fails the test escaped somewhere in that
//! block: it is finished from the state saved at the start of the block,
//! one step at a time with the reference's own arithmetic (testing before
//! each step, as [`reference::escape_from`] does), which gives the
//! reference's count and |z|² exactly. These finishes are batched
//! ([`Pending`]). A lane that would pass `max_iter` inside the next block
//! is finished the same way. A finished lane is refilled with the tile's
//! next pixel at once, so the vectors stay full on tiles that mix fast and
//! slow pixels.
//!
//! Why testing at the end of a block finds every escape: in exact
//! arithmetic, once |zₙ| > 2 (and |zₙ| ≥ |c|, which holds from n = 1 on
//! when |c| > 2) |zₙ₊₁| ≥ |zₙ|² − |c| > |zₙ|, so |z| keeps growing, and a
//! lane that escaped inside a block still fails the test at its end; once
//! it overflows it stays ∞ or NaN, which fails the test too. Rounding could
//! only matter for a point whose |z|² lands within a few ulps of 4 *and*
//! whose |c| is within a few ulps of 2; the tests compare every pixel of
//! many views with the reference.
//!
//! Backends (chosen at run time by `super::simd_tile`): AVX-512F on x86-64
//! when the CPU has it (8 lanes, code in `simd_avx512`), else AVX2 + FMA
//! (4 lanes, code in `simd_avx2`); both run the same exact scheme with
//! escapes handled inside the vector loop (done lanes wait, ignored, and
//! are handed on and refilled many at a time). Else this portable safe
//! version on plain arrays, which compilers vectorise for SSE2/NEON
//! (`f64::mul_add` is a hardware FMA on aarch64; on an x86-64 without FMA
//! it is libm's exact software FMA: correct, slow).
//!
//! Throughput is reported as iterations *executed* by the pixels (the
//! sum of their counts), the same measure as the reference; the steps that
//! idle lanes run at the end of a tile are not counted.

use super::reference::{escape_from, mag2, step};
use super::{TilePixels, smooth_value};
use crate::engine::mandelbrot::tiling::Tile;
use crate::engine::mandelbrot::view::View;

/// Steps between two escape tests.
pub const BLOCK_ITERS: u32 = 8;
/// Lanes per vector (256-bit / f64).
pub const VECTOR_LANES: usize = 4;

/// Marks a lane that holds no pixel.
const NO_PIXEL: u32 = u32::MAX;

/// The portable backend's lane state: `V` vectors of [`VECTOR_LANES`]
/// lanes, as plain arrays.
#[derive(Clone, Debug)]
struct Lanes<const V: usize> {
    zr: [[f64; VECTOR_LANES]; V],
    zi: [[f64; VECTOR_LANES]; V],
    cr: [[f64; VECTOR_LANES]; V],
    ci: [[f64; VECTOR_LANES]; V],
    /// z at the start of the last block run (for the exact finish).
    saved_zr: [[f64; VECTOR_LANES]; V],
    saved_zi: [[f64; VECTOR_LANES]; V],
    /// The tile's step counter when each lane got its pixel: the pixel has
    /// executed `steps − start_steps` iterations.
    start_steps: [[u64; VECTOR_LANES]; V],
    /// Index of each lane's pixel in the tile, or [`NO_PIXEL`].
    pixel: [[u32; VECTOR_LANES]; V],
}

/// Hands out the tile's pixels in row-major order.
pub(super) struct PixelCursor<'a> {
    tile: &'a Tile,
    x: u32,
    y: u32,
    next: u32,
    ci: f64,
    view: &'a View,
    /// `view.re_parts()`, computed once (`re` divides for the pixel size).
    left: f64,
    pixel: f64,
}

impl<'a> PixelCursor<'a> {
    pub(super) fn new(view: &'a View, tile: &'a Tile) -> Self {
        let (left, pixel) = view.re_parts();
        PixelCursor {
            tile,
            x: 0,
            y: 0,
            next: 0,
            ci: view.im(tile.y),
            view,
            left,
            pixel,
        }
    }

    /// The next pixel's index and c, or `None` when the tile is used up.
    #[inline(always)]
    pub(super) fn next_pixel(&mut self) -> Option<(u32, f64, f64)> {
        if self.y >= self.tile.height || self.tile.width == 0 {
            return None;
        }
        // Exactly `View::re`.
        let cr = self.left + (f64::from(self.tile.x + self.x) + 0.5) * self.pixel;
        let item = (self.next, cr, self.ci);
        self.advance(1);
        Some(item)
    }

    /// Moves on `n` pixels within the current row (to the next row's start
    /// at its end).
    #[inline(always)]
    fn advance(&mut self, n: u32) {
        self.next += n;
        self.x += n;
        if self.x == self.tile.width {
            self.x = 0;
            self.y += 1;
            if self.y < self.tile.height {
                self.ci = self.view.im(self.tile.y + self.y);
            }
        }
    }

    /// Takes the next `n` pixels at once if they lie in one row: the first
    /// one's index and column (in the view), and the row's ci. `None`
    /// (and nothing taken) otherwise.
    #[inline(always)]
    pub(super) fn next_run(&mut self, n: u32) -> Option<(u32, u32, f64)> {
        if self.y >= self.tile.height || self.x + n > self.tile.width {
            return None;
        }
        let item = (self.next, self.tile.x + self.x, self.ci);
        self.advance(n);
        Some(item)
    }

    /// `View::re_parts` of the view: `re(x) = left + (x + ½)·pixel`.
    pub(super) fn re_parts(&self) -> (f64, f64) {
        (self.left, self.pixel)
    }
}

impl<const V: usize> Lanes<V> {
    fn empty() -> Self {
        let zero = [[0.0; VECTOR_LANES]; V];
        Lanes {
            zr: zero,
            zi: zero,
            cr: zero,
            ci: zero,
            saved_zr: zero,
            saved_zi: zero,
            start_steps: [[0; VECTOR_LANES]; V],
            pixel: [[NO_PIXEL; VECTOR_LANES]; V],
        }
    }

    /// Puts the next pixel (or nothing: c = 0 never escapes) in lane (v, l);
    /// returns whether it got one.
    #[inline(always)]
    fn refill(&mut self, v: usize, l: usize, cursor: &mut PixelCursor, steps: u64) -> bool {
        let (pixel, cr, ci) = cursor.next_pixel().unwrap_or((NO_PIXEL, 0.0, 0.0));
        self.pixel[v][l] = pixel;
        self.cr[v][l] = cr;
        self.ci[v][l] = ci;
        self.zr[v][l] = 0.0;
        self.zi[v][l] = 0.0;
        self.start_steps[v][l] = steps;
        pixel != NO_PIXEL
    }
}

/// The pixel index of a column entry or lane that holds no pixel, in the
/// x86-64 kernels (which keep indices as f64; c = 0 there: it never
/// escapes).
pub(super) const NO_PIXEL_INDEX: f64 = -1.0;

/// Pixels as columns, in the x86-64 kernels' feeds and pending batches:
/// z, c, the iterations that led to z, and the pixel index in the tile
/// ([`NO_PIXEL_INDEX`]: none). Aligned to a cache line, so that a vector
/// load at a multiple of eight entries is one line. Each kernel adds its
/// own vector stores.
#[repr(align(64))]
pub(super) struct Columns<const N: usize> {
    pub(super) zr: [f64; N],
    pub(super) zi: [f64; N],
    pub(super) cr: [f64; N],
    pub(super) ci: [f64; N],
    pub(super) iters: [f64; N],
    pub(super) pixel: [f64; N],
}

impl<const N: usize> Columns<N> {
    pub(super) fn new() -> Self {
        Columns {
            zr: [0.0; N],
            zi: [0.0; N],
            cr: [0.0; N],
            ci: [0.0; N],
            iters: [0.0; N],
            pixel: [NO_PIXEL_INDEX; N],
        }
    }

    /// Every column, in the order z, c, iterations, pixel.
    pub(super) fn all(&mut self) -> [&mut [f64; N]; 6] {
        [
            &mut self.zr,
            &mut self.zi,
            &mut self.cr,
            &mut self.ci,
            &mut self.iters,
            &mut self.pixel,
        ]
    }

    /// Moves entries `from..len` to the front.
    pub(super) fn drop_front(&mut self, from: usize, len: usize) {
        for column in self.all() {
            column.copy_within(from..len, 0);
        }
    }

    /// Makes every entry from `from` on hold no pixel.
    pub(super) fn clear_from(&mut self, from: usize) {
        for column in self.all() {
            column[from..].fill(0.0);
        }
        self.pixel[from..].fill(NO_PIXEL_INDEX);
    }
}

/// Writes one finished pixel; returns its count.
#[inline(always)]
pub fn finish(out: &mut TilePixels, pixel: u32, (n, m): (u32, f64), max_iter: u32) -> u64 {
    out.counts[pixel as usize] = n;
    out.smooth[pixel as usize] = smooth_value(n, m, max_iter);
    u64::from(n)
}

/// Pixels that escaped inside a block, waiting for their exact finish: z
/// at the start of that block and the iterations executed until then.
/// Finishing them in batches (rather than one by one as they escape) keeps
/// the replays off the vector loop.
#[derive(Clone, Debug, Default)]
struct Pending {
    zr: Vec<f64>,
    zi: Vec<f64>,
    cr: Vec<f64>,
    ci: Vec<f64>,
    iters: Vec<u32>,
    pixel: Vec<u32>,
}

/// Pending pixels finished in one batch.
const PENDING_BATCH: usize = 128;

impl Pending {
    fn with_capacity(n: usize) -> Self {
        Pending {
            zr: Vec::with_capacity(n),
            zi: Vec::with_capacity(n),
            cr: Vec::with_capacity(n),
            ci: Vec::with_capacity(n),
            iters: Vec::with_capacity(n),
            pixel: Vec::with_capacity(n),
        }
    }

    fn len(&self) -> usize {
        self.pixel.len()
    }

    fn is_empty(&self) -> bool {
        self.pixel.is_empty()
    }

    fn clear(&mut self) {
        self.zr.clear();
        self.zi.clear();
        self.cr.clear();
        self.ci.clear();
        self.iters.clear();
        self.pixel.clear();
    }

    /// Finishes entries `from..` one step at a time with the reference.
    fn finish_scalar(&self, from: usize, out: &mut TilePixels, max_iter: u32) -> u64 {
        (from..self.len())
            .map(|i| {
                let result = escape_from(
                    self.zr[i],
                    self.zi[i],
                    self.iters[i],
                    self.cr[i],
                    self.ci[i],
                    max_iter,
                );
                finish(out, self.pixel[i], result, max_iter)
            })
            .sum()
    }
}

/// The portable backend's lane bookkeeping. `run_blocks(lanes, k)` runs
/// at most `k ≥ 1` blocks, stopping after the first block in which some lane
/// fails the escape test, saves z at that block's start in `saved_*`, and
/// returns the blocks run and the failing lanes (bit `4·v + l`).
/// `finish_pending` finishes a batch of escaped pixels exactly and returns
/// their iterations.
#[inline(always)]
fn drive<const V: usize>(
    view: &View,
    tile: &Tile,
    out: &mut TilePixels,
    mut run_blocks: impl FnMut(&mut Lanes<V>, u32) -> (u32, u32),
    mut finish_pending: impl FnMut(&Pending, &mut TilePixels, u32) -> u64,
) -> u64 {
    let mut pending = Pending::with_capacity(PENDING_BATCH + VECTOR_LANES * V);
    let max_iter = view.max_iter();
    let mut cursor = PixelCursor::new(view, tile);
    let mut lanes = Lanes::<V>::empty();
    let mut busy_lanes = 0;
    for v in 0..V {
        for l in 0..VECTOR_LANES {
            busy_lanes += usize::from(lanes.refill(v, l, &mut cursor, 0));
        }
    }
    let mut iterations = 0u64;
    // Steps every lane has run since the tile started.
    let mut steps = 0u64;
    // A lower bound on the iterations any busy lane has left before max_iter.
    let mut min_left = 0u32;
    while busy_lanes > 0 {
        if min_left < BLOCK_ITERS {
            // Finish the lanes too close to max_iter for a whole block one
            // step at a time, and find the exact bound again.
            min_left = u32::MAX;
            for v in 0..V {
                for l in 0..VECTOR_LANES {
                    while lanes.pixel[v][l] != NO_PIXEL {
                        let done = (steps - lanes.start_steps[v][l]) as u32;
                        let left = max_iter - done;
                        if left >= BLOCK_ITERS {
                            min_left = min_left.min(left);
                            break;
                        }
                        let result = escape_from(
                            lanes.zr[v][l],
                            lanes.zi[v][l],
                            done,
                            lanes.cr[v][l],
                            lanes.ci[v][l],
                            max_iter,
                        );
                        iterations += finish(out, lanes.pixel[v][l], result, max_iter);
                        if !lanes.refill(v, l, &mut cursor, steps) {
                            busy_lanes -= 1;
                        }
                    }
                }
            }
            if busy_lanes == 0 {
                break;
            }
        }
        let (blocks, escaped) = run_blocks(&mut lanes, min_left / BLOCK_ITERS);
        let advanced = blocks * BLOCK_ITERS;
        steps += u64::from(advanced);
        min_left -= advanced;
        let mut escaped_lanes = escaped;
        while escaped_lanes != 0 {
            let lane = escaped_lanes.trailing_zeros() as usize;
            escaped_lanes &= escaped_lanes - 1;
            let (v, l) = (lane / VECTOR_LANES, lane % VECTOR_LANES);
            pending.zr.push(lanes.saved_zr[v][l]);
            pending.zi.push(lanes.saved_zi[v][l]);
            pending.cr.push(lanes.cr[v][l]);
            pending.ci.push(lanes.ci[v][l]);
            pending
                .iters
                .push((steps - lanes.start_steps[v][l]) as u32 - BLOCK_ITERS);
            pending.pixel.push(lanes.pixel[v][l]);
            if lanes.refill(v, l, &mut cursor, steps) {
                min_left = min_left.min(max_iter);
            } else {
                busy_lanes -= 1;
            }
        }
        if pending.len() >= PENDING_BATCH {
            iterations += finish_pending(&pending, out, max_iter);
            pending.clear();
        }
    }
    if !pending.is_empty() {
        iterations += finish_pending(&pending, out, max_iter);
    }
    iterations
}

/// Vectors in flight in the portable backend.
const PORTABLE_VECTORS: usize = 2;

/// The portable backend's blocks: the same steps on plain arrays.
#[inline(always)]
fn portable_blocks<const V: usize>(lanes: &mut Lanes<V>, max_blocks: u32) -> (u32, u32) {
    for block in 1..=max_blocks {
        lanes.saved_zr = lanes.zr;
        lanes.saved_zi = lanes.zi;
        for _ in 0..BLOCK_ITERS {
            for v in 0..V {
                for l in 0..VECTOR_LANES {
                    (lanes.zr[v][l], lanes.zi[v][l]) = step(
                        lanes.zr[v][l],
                        lanes.zi[v][l],
                        lanes.cr[v][l],
                        lanes.ci[v][l],
                    );
                }
            }
        }
        let mut escaped = 0u32;
        for v in 0..V {
            for l in 0..VECTOR_LANES {
                let within = mag2(lanes.zr[v][l], lanes.zi[v][l]) <= 4.0;
                escaped |= u32::from(!within) << (VECTOR_LANES * v + l);
            }
        }
        if escaped != 0 {
            return (block, escaped);
        }
    }
    (max_blocks, 0)
}

/// The portable (safe, any CPU) version of the fast kernel. Public so that
/// tests cover it on machines where AVX2 is used.
pub fn compute_tile_portable(view: &View, tile: &Tile, out: &mut TilePixels) -> u64 {
    drive::<PORTABLE_VECTORS>(
        view,
        tile,
        out,
        portable_blocks,
        |pending, out, max_iter| pending.finish_scalar(0, out, max_iter),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::mandelbrot::kernel::reference;
    use crate::engine::mandelbrot::kernel::tests::{run, whole};

    #[test]
    fn portable_equals_reference_on_a_mixed_view() {
        for max_iter in [1, 2, 7, 8, 9, 100] {
            let view = View::new((-0.75, 0.0), 3.0, 33, 19, max_iter).expect("view");
            let tile = whole(&view);
            assert_eq!(
                run(compute_tile_portable, &view, &tile),
                run(reference::compute_tile, &view, &tile),
                "max_iter {max_iter}"
            );
        }
    }

    #[test]
    fn cursor_visits_each_pixel_once_in_row_major_order() {
        let view = View::new((0.0, 0.0), 1.0, 10, 10, 10).expect("view");
        let tile = Tile {
            index: 0,
            x: 2,
            y: 3,
            width: 3,
            height: 2,
        };
        let mut cursor = PixelCursor::new(&view, &tile);
        let mut seen = Vec::new();
        while let Some((i, cr, ci)) = cursor.next_pixel() {
            seen.push((i, cr, ci));
        }
        let expected: Vec<_> = (0..6)
            .map(|i| (i, view.re(2 + i % 3), view.im(3 + i / 3)))
            .collect();
        assert_eq!(seen, expected);
    }
}
