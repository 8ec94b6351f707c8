//! Edge cases shared by the two x86-64 kernels' tests (`simd_avx2`,
//! `simd_avx512`): the same scheme on different widths, so the same cases
//! placed by each kernel's own constants. Each case compares with the
//! reference pixel for pixel (counts, and smooth values bit for bit).

use super::tests::run;
use super::{TilePixels, reference, reference_tile, smooth_value};
use crate::engine::mandelbrot::tiling::Tile;
use crate::engine::mandelbrot::view::View;

/// A kernel as `run` takes it.
pub(super) type TileFn = fn(&View, &Tile, &mut TilePixels) -> u64;

/// The constants that place a kernel's edges.
pub(super) struct Shape {
    /// Lanes of all vectors.
    pub all_lanes: usize,
    /// Done lanes that trigger a service.
    pub service_lanes: usize,
    /// Escapes finished together.
    pub pending_batch: usize,
    /// Pixels one replay or pre-pass chunk covers.
    pub replay_px: usize,
    pub block_iters: u32,
    pub prepass_iters: u32,
    pub prepass_probe_iters: u32,
}

/// The first `width_px` pixels of row `y`, by `fast` and by the reference.
fn row_from_left(
    fast: TileFn,
    view: &View,
    y: u32,
    width_px: u32,
) -> ((TilePixels, u64), (TilePixels, u64)) {
    let tile = Tile {
        index: 0,
        x: 0,
        y,
        width: width_px,
        height: 1,
    };
    (run(fast, view, &tile), run(reference_tile, view, &tile))
}

/// Tiles of about as many pixels as the lanes, the service threshold
/// and the pending batch (so that lanes wait for a service with and
/// without a full threshold, and the tile ends with done lanes), on a
/// view that mixes fast escapes, slow ones and the inside.
pub(super) fn tiles_around_the_lanes_and_service(fast: TileFn, shape: &Shape) {
    let view = View::new((-0.75, 0.05), 3.0, 160, 9, 300).expect("view");
    let (lanes, service) = (shape.all_lanes, shape.service_lanes);
    for width in [
        1,
        service - 1,
        service,
        service + 1,
        lanes - 1,
        lanes,
        lanes + 1,
        shape.pending_batch + 1,
        lanes + service,
        160,
    ] {
        for y in 0..9 {
            let (got, want) = row_from_left(fast, &view, y, width as u32);
            assert_eq!(got, want, "width {width}, row {y}");
        }
    }
}

/// The pre-pass at its edges: limits below, at and just past its steps
/// and its probe (pixels finished there, at `max_iter` there, or handed
/// on with z), chunks that run past a row's end or the tile's, tiles
/// that start mid-row, and a deep zoom where no pixel stops early.
pub(super) fn pre_pass_at_its_edges(fast: TileFn, shape: &Shape) {
    let pre = shape.prepass_iters;
    let probe = shape.prepass_probe_iters;
    let limits = [
        1,
        2,
        probe,
        probe + 1,
        pre - 1,
        pre,
        pre + 1,
        pre + shape.block_iters,
        400,
    ];
    let views = [
        ((-0.75, 0.05), 3.0, 97, 7),
        ((-0.743643887037151, 0.131825904205330), 2e-5, 70, 5),
        ((0.26, 0.0), 0.02, 45, 6),
    ];
    let tiles = [
        (0, 0, 1, 1),
        (0, 0, 31, 3),
        (3, 1, 32, 3),
        (5, 0, 33, 2),
        (0, 0, 65, 5),
        (1, 2, 96, 3),
    ];
    for (center, width, wpx, hpx) in views {
        for max_iter in limits {
            let view = View::new(center, width, wpx, hpx, max_iter).expect("view");
            for (x, y, w, h) in tiles {
                let tile = Tile {
                    index: 0,
                    x,
                    y,
                    width: w.min(wpx - x),
                    height: h.min(hpx - y),
                };
                assert_eq!(
                    run(fast, &view, &tile),
                    run(reference_tile, &view, &tile),
                    "view at {center:?}, max_iter {max_iter}, tile {x},{y} {w}×{h}"
                );
            }
        }
    }
}

/// A pending entry: z at a block's start, c, the iterations before it.
pub(super) type Entry = (f64, f64, f64, f64, u32);

/// The exact finish on entries made to order, against the reference
/// from the same z: a stop at every place in both halves of a block,
/// z that overflows to ∞ or NaN after its stop within the same half
/// (the tested half must not count those tests as passed), `max_iter`
/// in either half (before, at and after an escape, and at the start: a
/// lane due as it reached it), entries that do not stop in their block
/// (the scalar fallback), and groups left partly empty. Each entry's z
/// has |z|² ≤ 4, as a block's start z always has. `finish` finishes the
/// entries (pixel j = entry j) with a kernel's own batch and returns the
/// pixels, the iterations it reported and the entries it left pending.
pub(super) fn finish_of_made_entries(
    shape: &Shape,
    mut finish: impl FnMut(&[Entry], u32) -> (TilePixels, u64, usize),
) {
    let max_iter = 1000;
    let seeds = [
        // |z|² = 4 passes, then |z|² ≈ 36 fails, and |z|² is ∞ at
        // the last test of the first half.
        ((0.0, 2.0), (-2.0, 0.5)),
        // |c| far past 2: z is NaN by the last test of the first half.
        // (No such pixel reaches a lane, as it fails the first test;
        // the finish is exact for them all the same.)
        ((0.0, 0.0), (-12.0, 12.0)),
        ((0.0, 0.0), (20.0, -15.0)),
        // |c|² = 4.5: fails at once and overflows within a block.
        ((0.0, 0.0), (1.5, 1.5)),
        // Slow escapes, some beyond one block.
        ((0.0, 0.0), (0.26, 0.0)),
        ((0.0, 0.0), (-0.75, 0.1)),
        ((0.0, 0.0), (-1.2, 0.29)),
        // Inside: stops only at max_iter.
        ((0.0, 0.0), (-0.1, 0.0)),
    ];
    let mut entries = Vec::new();
    for ((zr0, zi0), (cr, ci)) in seeds {
        for base in [
            100,
            max_iter - 25,
            max_iter - 20,
            max_iter - 10,
            max_iter - 3,
            max_iter - 1,
        ] {
            let (mut zr, mut zi) = (zr0, zi0);
            for offset in 0..40 {
                let n = base + offset;
                if n <= max_iter && reference::mag2(zr, zi) <= 4.0 {
                    entries.push((zr, zi, cr, ci, n));
                }
                (zr, zi) = reference::step(zr, zi, cr, ci);
            }
        }
    }
    for (chunk, entries) in [shape.pending_batch, shape.replay_px + 5, 13, 1]
        .into_iter()
        .flat_map(|size| entries.chunks(size).map(move |c| (size, c)))
    {
        let len = entries.len();
        let (out, iterations, left) = finish(entries, max_iter);
        let mut want_iterations = 0;
        for (j, &(zr, zi, cr, ci, n)) in entries.iter().enumerate() {
            let (count, mag) = reference::escape_from(zr, zi, n, cr, ci, max_iter);
            let smooth = smooth_value(count, mag, max_iter);
            let entry = format!(
                "entry {j} of {len} (chunks of {chunk}): z ({zr}, {zi}), c ({cr}, {ci}), n {n}"
            );
            assert_eq!(out.counts[j], count, "{entry}");
            assert_eq!(out.smooth[j].to_bits(), smooth.to_bits(), "{entry}");
            want_iterations += u64::from(count);
        }
        assert_eq!(
            iterations, want_iterations,
            "{len} entries (chunks of {chunk})"
        );
        assert_eq!(left, 0);
    }
}

/// A quiet chunk (inside the main cardioid: no pixel stops within the
/// probe) followed by one whose pixels escape within it (c real, past
/// 0.45): the untested probe finds them and the chunk is redone with
/// the tested pre-pass; and again after each quiet stretch.
pub(super) fn quiet_chunk_then_early_escapes(fast: TileFn, shape: &Shape) {
    let chunk = shape.replay_px;
    for (center_re, wpx) in [(0.2, chunk * 2), (0.2, chunk * 2 + 5), (-0.2, 200)] {
        for max_iter in [shape.prepass_probe_iters + 1, shape.prepass_iters, 100] {
            let view = View::new((center_re, 0.0), 1.6, wpx as u32, 1, max_iter).expect("view");
            let (got, want) = row_from_left(fast, &view, 0, wpx as u32);
            assert_eq!(
                got, want,
                "centre {center_re}, {wpx} px, max_iter {max_iter}"
            );
        }
    }
}
