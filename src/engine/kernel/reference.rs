//! The scalar f64 reference kernel, written for clarity.
//!
//! z₀ = 0, zₙ₊₁ = zₙ² + c; a point escapes at the first n with |zₙ|² > 4.
//! The count is the number of iterations executed (`max_iter` if it never
//! escaped). The arithmetic is plain multiply and add, no fused multiply-add:
//!
//! ```text
//! zr² = zr·zr;  zi² = zi·zi
//! zi' = (zr + zr)·zi + ci      // 2·zr·zi + ci; doubling is exact
//! zr' = (zr² − zi²) + cr
//! ```
//! Faster kernels are tested against exactly this sequence of roundings.

use super::{TilePixels, smooth_value};
use crate::engine::tiling::Tile;
use crate::engine::view::View;

/// Escape count and |z|² at escape for the point c = (`cr`, `ci`).
#[inline]
pub fn escape(cr: f64, ci: f64, max_iter: u32) -> (u32, f64) {
    let (mut zr, mut zi) = (0.0f64, 0.0f64);
    for n in 0..max_iter {
        let zr2 = zr * zr;
        let zi2 = zi * zi;
        let mag2 = zr2 + zi2;
        if mag2 > 4.0 {
            return (n, mag2);
        }
        zi = (zr + zr) * zi + ci;
        zr = (zr2 - zi2) + cr;
    }
    (max_iter, zr * zr + zi * zi)
}

/// Computes one tile pixel by pixel; returns the iterations executed.
pub fn compute_tile(view: &View, tile: &Tile, out: &mut TilePixels) -> u64 {
    let max_iter = view.max_iter();
    let mut iterations = 0u64;
    let mut i = 0;
    for y in tile.y..tile.y + tile.height {
        let ci = view.im(y);
        for x in tile.x..tile.x + tile.width {
            let (n, mag2) = escape(view.re(x), ci, max_iter);
            out.counts[i] = n;
            out.smooth[i] = smooth_value(n, mag2, max_iter);
            iterations += u64::from(n);
            i += 1;
        }
    }
    iterations
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_points() {
        assert_eq!(escape(0.0, 0.0, 100).0, 100, "origin is inside");
        assert_eq!(
            escape(-1.0, 0.0, 1000).0,
            1000,
            "period-2 bulb centre is inside"
        );
        // c = 2: z1 = 2 (|z|²=4, not > 4), z2 = 6 → escapes at n = 2.
        assert_eq!(escape(2.0, 0.0, 100).0, 2);
        // c = 3: z1 = 3 → |z1|² = 9 > 4 at n = 1.
        assert_eq!(escape(3.0, 0.0, 100).0, 1);
        // c = 0.25 + 0.0001 i hovers near the cusp for long, then escapes.
        let (n, _) = escape(0.26, 0.0, 10_000);
        assert!(n > 20 && n < 10_000, "{n}");
    }

    #[test]
    fn smooth_is_continuous_ish_and_bounded() {
        let (n, m) = escape(0.5, 0.5, 100);
        let s = smooth_value(n, m, 100);
        assert!(s > n as f32 - 1.0 && s < n as f32 + 2.0, "{n} {s}");
        assert_eq!(smooth_value(100, 0.1, 100), 100.0);
    }
}
