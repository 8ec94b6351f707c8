//! The scalar f64 reference kernel, written for clarity.
//!
//! z₀ = 0, zₙ₊₁ = zₙ² + c; a point escapes at the first n with |zₙ|² > 4.
//! The count is the number of iterations executed (`max_iter` if it never
//! escaped). Each step uses fused multiply-add (`f64::mul_add`, one rounding),
//! in exactly these places:
//!
//! ```text
//! |z|² = fma(zr, zr, zi·zi)            // escape test, before every update
//! zi'  = fma(zr + zr, zi, ci)          // 2·zr·zi + ci; doubling is exact
//! zr'  = fma(zr, zr, fma(−zi, zi, cr)) // zr² − zi² + cr
//! ```
//!
//! Why FMA: the update needs three multiplies and three adds; fused it is
//! three FMAs and one add, which is what lets the SIMD kernel
//! ([`super::simd`]) run near the FMA pipes' limit. `f64::mul_add` is
//! correctly rounded everywhere (hardware FMA, or libm in software), so a
//! vector FMA gives bit-identical results and the fast kernel is tested
//! against exactly this sequence of roundings. The fast kernels call
//! [`escape_from`] to finish a pixel, so there is one definition of a step.

use super::{TilePixels, smooth_value};
use crate::engine::mandelbrot::tiling::Tile;
use crate::engine::mandelbrot::view::View;

/// |z|² as the escape test computes it.
#[inline(always)]
pub fn mag2(zr: f64, zi: f64) -> f64 {
    zr.mul_add(zr, zi * zi)
}

/// One step z → z² + c.
#[inline(always)]
pub fn step(zr: f64, zi: f64, cr: f64, ci: f64) -> (f64, f64) {
    let new_zi = (zr + zr).mul_add(zi, ci);
    let new_zr = zr.mul_add(zr, (-zi).mul_add(zi, cr));
    (new_zr, new_zi)
}

/// Continues the iteration of c = (`cr`, `ci`) from zₙ = (`zr`, `zi`) with
/// `n` iterations already executed (none of z₀…zₙ₋₁ escaped): the escape
/// count and |z|² at escape (at `max_iter`, |z|² of the last z).
#[inline(always)]
pub fn escape_from(
    mut zr: f64,
    mut zi: f64,
    n: u32,
    cr: f64,
    ci: f64,
    max_iter: u32,
) -> (u32, f64) {
    for k in n..max_iter {
        let m = mag2(zr, zi);
        if m > 4.0 {
            return (k, m);
        }
        (zr, zi) = step(zr, zi, cr, ci);
    }
    (max_iter, mag2(zr, zi))
}

/// Escape count and |z|² at escape for the point c = (`cr`, `ci`).
#[inline(always)]
pub fn escape(cr: f64, ci: f64, max_iter: u32) -> (u32, f64) {
    escape_from(0.0, 0.0, 0, cr, ci, max_iter)
}

/// Computes one tile pixel by pixel; returns the iterations executed.
///
/// Calls nothing faster: [`super::reference_tile`] runs this same loop
/// compiled with the CPU's FMA instructions when it has them (inlined into a
/// target-specific copy), else as written here (`f64::mul_add` in software).
#[inline(always)]
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
    fn continuation_equals_a_fresh_start() {
        let (cr, ci, max_iter) = (-0.7436, 0.1318, 500);
        let (mut zr, mut zi) = (0.0, 0.0);
        for n in 0..40 {
            assert_eq!(
                escape_from(zr, zi, n, cr, ci, max_iter),
                escape(cr, ci, max_iter)
            );
            (zr, zi) = step(zr, zi, cr, ci);
        }
    }

    #[test]
    fn step_uses_one_rounding_per_fma() {
        // zr' = fma(zr, zr, fma(-zi, zi, cr)): with zr = 1 + 2⁻³⁰ the square
        // 1 + 2⁻²⁹ + 2⁻⁶⁰ keeps its 2⁻⁶⁰ term until the final rounding.
        let zr = 1.0 + 2f64.powi(-30);
        let cr = -1.0 - 2f64.powi(-29);
        let (new_zr, _) = step(zr, 0.0, cr, 0.0);
        assert_eq!(new_zr, 2f64.powi(-60), "fused");
        assert_ne!((zr * zr - 0.0) + cr, new_zr, "unfused rounds it away");
    }

    #[test]
    fn smooth_is_continuous_ish_and_bounded() {
        let (n, m) = escape(0.5, 0.5, 100);
        let s = smooth_value(n, m, 100);
        assert!(s > n as f32 - 1.0 && s < n as f32 + 2.0, "{n} {s}");
        assert_eq!(smooth_value(100, 0.1, 100), 100.0);
    }
}
