//! Escape-time kernels. [`reference`] is the readable ground truth; every faster
//! kernel must give the same iteration counts for the same arithmetic. Also
//! the vector colouring the palettes use where the CPU has AVX2.

#[cfg(all(test, target_arch = "x86_64"))]
mod edge_tests;
mod reference;
pub mod simd;
#[cfg(target_arch = "x86_64")]
mod simd_avx2;
#[cfg(target_arch = "x86_64")]
mod simd_avx512;
#[cfg(target_arch = "x86_64")]
pub use simd_avx2::bg_row as bg_row_avx2;
#[cfg(target_arch = "x86_64")]
pub use simd_avx512::bg_row as bg_row_avx512;

use crate::engine::mandelbrot::tiling::Tile;
use crate::engine::mandelbrot::view::View;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Which kernel computes the pixels. All give the same counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Kernel {
    /// Plain scalar f64, one pixel at a time: the readable baseline.
    #[default]
    Reference,
    /// The widest vectors this CPU has (AVX-512F, else AVX2+FMA, else a
    /// portable 4-lane version): the production kernel.
    Simd,
    /// Forces the 4-lane AVX2+FMA kernel.
    Avx2,
    /// Forces the 8-lane AVX-512F kernel.
    Avx512,
}

impl Kernel {
    pub const ALL: [Kernel; 4] = [
        Kernel::Reference,
        Kernel::Simd,
        Kernel::Avx2,
        Kernel::Avx512,
    ];

    pub fn name(&self) -> &'static str {
        match self {
            Kernel::Reference => "scalar",
            Kernel::Simd => "simd",
            Kernel::Avx2 => "avx2",
            Kernel::Avx512 => "avx512",
        }
    }
    pub fn label(&self) -> &'static str {
        match self {
            Kernel::Reference => "scalar reference",
            Kernel::Simd => "SIMD",
            Kernel::Avx2 => "AVX2 (4 lanes)",
            Kernel::Avx512 => "AVX-512 (8 lanes)",
        }
    }

    /// Whether this CPU can run the kernel (the scalar and auto ones always).
    pub fn is_available(&self) -> bool {
        match self {
            Kernel::Reference | Kernel::Simd => true,
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => simd_avx2::available(),
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 => simd_avx512::available(),
            #[cfg(not(target_arch = "x86_64"))]
            Kernel::Avx2 | Kernel::Avx512 => false,
        }
    }

    /// `Ok` if this CPU can run the kernel, else a message for a person.
    pub fn check_available(&self) -> Result<(), KernelError> {
        if self.is_available() {
            return Ok(());
        }
        let needs = match self {
            Kernel::Avx512 => "AVX-512F, AVX-512VL and FMA",
            _ => "AVX2 and FMA",
        };
        Err(KernelError::Unavailable {
            kernel: self.name(),
            needs,
            best: simd_backend_name(),
        })
    }

    /// Runs at least `fmas` FMAs of this kernel's vector width in 12 (ymm)
    /// or 24 (zmm) independent chains, as fast as the core can, and returns
    /// the FMAs run and the sum of the chains' lanes (so the work cannot be
    /// left out): timed by the caller, the measured peak that the width's
    /// ceiling comes from. `None` for the scalar and auto kernels and where
    /// the CPU lacks the kernel.
    pub fn fma_peak(&self, fmas: u64) -> Option<FmaPeak> {
        match self {
            Kernel::Reference | Kernel::Simd => None,
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => simd_avx2::fma_peak(fmas),
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 => simd_avx512::fma_peak(fmas),
            #[cfg(not(target_arch = "x86_64"))]
            Kernel::Avx2 | Kernel::Avx512 => {
                let _ = fmas;
                None
            }
        }
    }

    /// Computes every pixel of `tile` into `out`, returning the iterations
    /// executed. A forced kernel the CPU lacks (see [`Self::check_available`],
    /// which callers check first) runs the portable SIMD version instead.
    pub fn compute_tile(&self, view: &View, tile: &Tile, out: &mut TilePixels) -> u64 {
        let forced = match self {
            Kernel::Reference => return reference_tile(view, tile, out),
            Kernel::Simd => return simd_tile(view, tile, out),
            Kernel::Avx2 => avx2_tile(view, tile, out),
            Kernel::Avx512 => avx512_tile(view, tile, out),
        };
        forced.unwrap_or_else(|| simd::compute_tile_portable(view, tile, out))
    }
}

impl fmt::Display for Kernel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Kernel {
    type Err = KernelError;
    fn from_str(s: &str) -> Result<Self, KernelError> {
        Kernel::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| {
                let names: Vec<_> = Kernel::ALL.iter().map(|k| k.name()).collect();
                KernelError::Unknown {
                    input: s.to_string(),
                    known: names.join(", "),
                }
            })
    }
}

/// A kernel name that does not exist, or a kernel this CPU cannot run.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KernelError {
    /// `known` lists the names, comma-separated.
    #[error("unknown kernel {input:?}: expected one of {known}")]
    Unknown { input: String, known: String },
    /// `best` is the fastest kernel this CPU has.
    #[error(
        "kernel {kernel} needs a CPU with {needs}; this one does not have them \
         (the best it has: {best}; use --kernel simd to pick it)"
    )]
    Unavailable {
        kernel: &'static str,
        needs: &'static str,
        best: &'static str,
    },
}

impl crate::engine::BadInput for KernelError {
    fn is_bad_input(&self) -> bool {
        true
    }
}

/// What one run of a width's FMA peak loop did ([`Kernel::fma_peak`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FmaPeak {
    /// Vector FMAs run.
    pub fmas: u64,
    /// Independent chains (accumulators), each `fmas ÷ chains` long.
    pub chains: usize,
    /// f64 lanes per FMA.
    pub lanes: usize,
    /// The sum over every chain and lane of its value at the end. Each
    /// chain runs a → a·m + b from 0.01 × its index, with
    /// [`FMA_PEAK_MULTIPLIER`] and [`FMA_PEAK_ADDEND`].
    pub sum: f64,
}

/// The peak loops' m: a → a·m + b converges to b ÷ (1 − m) = 0.1, with no
/// overflow and no subnormals.
pub const FMA_PEAK_MULTIPLIER: f64 = 0.999_999;
/// The peak loops' b.
pub const FMA_PEAK_ADDEND: f64 = 1e-7;

/// The Benchmarks Game's fixed iteration count: its row kernels (here and in
/// [`super::bench_game`]) stop every pixel after this many steps.
pub const BG_ITERATIONS: u32 = 50;

/// The reference kernel, compiled with hardware FMA when the CPU has it
/// (else `f64::mul_add` is a libm call on x86-64). Same counts either way.
pub fn reference_tile(view: &View, tile: &Tile, out: &mut TilePixels) -> u64 {
    #[cfg(target_arch = "x86_64")]
    if let Some(iterations) = simd_avx2::reference_tile(view, tile, out) {
        return iterations;
    }
    reference::compute_tile(view, tile, out)
}

/// The fast kernel on the widest vectors this CPU has: AVX-512F, else
/// AVX2+FMA, else the portable one.
pub fn simd_tile(view: &View, tile: &Tile, out: &mut TilePixels) -> u64 {
    if let Some(iterations) = avx512_tile(view, tile, out) {
        return iterations;
    }
    if let Some(iterations) = avx2_tile(view, tile, out) {
        return iterations;
    }
    simd::compute_tile_portable(view, tile, out)
}

/// The 4-lane AVX2+FMA kernel, or `None` if the CPU lacks AVX2 or FMA.
pub fn avx2_tile(view: &View, tile: &Tile, out: &mut TilePixels) -> Option<u64> {
    #[cfg(target_arch = "x86_64")]
    return simd_avx2::compute_tile(view, tile, out);
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (view, tile, out);
        None
    }
}

/// The 8-lane AVX-512F kernel, or `None` if the CPU lacks AVX-512F,
/// AVX-512VL or FMA.
pub fn avx512_tile(view: &View, tile: &Tile, out: &mut TilePixels) -> Option<u64> {
    #[cfg(target_arch = "x86_64")]
    return simd_avx512::compute_tile(view, tile, out);
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (view, tile, out);
        None
    }
}

/// Colours pixels from the start of `counts`/`smooth` into `out` (RGBA,
/// 4 bytes each) eight at a time with AVX2, with the same operations as
/// `Palette::colour` in the palette of `stops` (which must ascend from 0
/// to 1, as every palette's do: the segment is found as the count of inner
/// stops passed); returns how many (whole eights). It stops before an
/// eight it does not take (a smooth value whose palette position is 2²³ or
/// more, or infinite), and colours none where the CPU lacks AVX2.
pub fn colour_pixels_simd(
    stops: &[(f32, [u8; 3])],
    counts: &[u32],
    smooth: &[f32],
    max_iter: u32,
    out: &mut [u8],
) -> usize {
    #[cfg(target_arch = "x86_64")]
    return simd_avx2::colour_pixels(stops, counts, smooth, max_iter, out);
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (stops, counts, smooth, max_iter, out);
        0
    }
}

/// Which implementation [`simd_tile`] uses on this CPU.
pub fn simd_backend_name() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    if simd_avx512::available() {
        return "AVX-512F+FMA";
    }
    #[cfg(target_arch = "x86_64")]
    if simd_avx2::available() {
        return "AVX2+FMA";
    }
    "portable"
}

/// The result for one tile, row-major: escape counts (`max_iter` = inside the
/// set) and a smooth value for colouring. Owned by the worker that computed it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TilePixels {
    pub counts: Vec<u32>,
    pub smooth: Vec<f32>,
}

impl TilePixels {
    pub fn for_tile(tile: &Tile) -> Self {
        TilePixels {
            counts: vec![0; tile.num_pixels()],
            smooth: vec![0.0; tile.num_pixels()],
        }
    }

    /// [`Self::for_tile`] with every page written, so that filling it later
    /// takes no page faults (`vec![0; n]` maps fresh pages that fault on the
    /// first write: a job that keeps each tile's buffer took them all inside
    /// its timed tiles, ~35 % more busy time per worker at 3840×2160).
    pub fn for_tile_touched(tile: &Tile) -> Self {
        let n = tile.num_pixels();
        let (mut counts, mut smooth) = (Vec::with_capacity(n), Vec::with_capacity(n));
        counts.resize(n, 0);
        smooth.resize(n, 0.0);
        TilePixels { counts, smooth }
    }
}

/// Continuous escape value: `n + 1 − log2(log2 |z|)` for a point that
/// escaped after `n` iterations with |z|² = `mag2` (log2 |z| = ½·log2 |z|²);
/// `max_iter` for a point inside.
///
/// Uses [`log2_fast`] rather than libm: it is called once per pixel and
/// libm's logarithms cost a fifth of the SIMD kernel's time on busy views;
/// it also gives the same colours on every platform, and with base-2
/// logarithms throughout there is no division by ln 2.
#[inline]
pub fn smooth_value(n: u32, mag2: f64, max_iter: u32) -> f32 {
    if n >= max_iter {
        return max_iter as f32;
    }
    let log2_zn = 0.5 * log2_fast(mag2);
    let nu = log2_fast(log2_zn);
    ((f64::from(n) + 1.0 - nu).max(0.0)) as f32
}

/// 2 / ln 2: turns 2·atanh(s) = ln m into log2 m.
pub const TWO_OVER_LN_2: f64 = 2.0 / std::f64::consts::LN_2;

/// Base-2 logarithm to within ~1e-9 relative, for positive normal finite
/// `x` (anything else goes to `f64::log2`): x = m·2ᵉ with m ∈ [√½, √2),
/// log2 x = e + 2·atanh(s)/ln 2, s = (m − 1)/(m + 1), |s| ≤ 0.172, series
/// to s⁹.
#[inline]
pub fn log2_fast(x: f64) -> f64 {
    if !(x.is_normal() && x > 0.0) {
        return x.log2();
    }
    let bits = x.to_bits();
    let mut e = ((bits >> 52) & 0x7ff) as i64 - 1023;
    let mut m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
    if m > std::f64::consts::SQRT_2 {
        m *= 0.5;
        e += 1;
    }
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let series = 1.0 + s2 * (1.0 / 3.0 + s2 * (1.0 / 5.0 + s2 * (1.0 / 7.0 + s2 * (1.0 / 9.0))));
    e as f64 + s * series * TWO_OVER_LN_2
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The whole view as one tile (also used by the other kernels' tests).
    pub(super) fn whole(view: &View) -> Tile {
        Tile {
            index: 0,
            x: 0,
            y: 0,
            width: view.width_px(),
            height: view.height_px(),
        }
    }

    /// Runs one kernel entry point on `tile` (also used by the other kernels' tests).
    pub(super) fn run(
        f: fn(&View, &Tile, &mut TilePixels) -> u64,
        view: &View,
        tile: &Tile,
    ) -> (TilePixels, u64) {
        let mut out = TilePixels::for_tile(tile);
        let n = f(view, tile, &mut out);
        (out, n)
    }

    #[test]
    fn reference_with_software_fma_equals_hardware_fma() {
        // The reference as CPUs without FMA run it (libm's `fma`) against the
        // dispatched one (hardware FMA where available).
        let view = View::new((-0.74, 0.13), 0.02, 29, 17, 700).expect("view");
        let tile = whole(&view);
        assert_eq!(
            run(reference::compute_tile, &view, &tile),
            run(reference_tile, &view, &tile)
        );
    }

    #[test]
    fn dispatched_equals_reference_on_a_sub_tile() {
        let view = View::new((-0.5, 0.3), 1.0, 50, 40, 300).expect("view");
        let tile = Tile {
            index: 3,
            x: 7,
            y: 11,
            width: 13,
            height: 5,
        };
        assert_eq!(
            run(simd_tile, &view, &tile),
            run(reference_tile, &view, &tile)
        );
    }

    #[test]
    fn log2_fast_is_close_to_log2() {
        let mut x = 1e-300;
        while x < 1e300 {
            for f in [1.0, 1.3, std::f64::consts::SQRT_2, 1.5, 1.9999] {
                let v = x * f;
                let err = (log2_fast(v) - v.log2()).abs();
                assert!(err <= 1e-9 * v.log2().abs().max(1.0), "{v}: {err}");
            }
            x *= 7.3;
        }
        assert_eq!(log2_fast(1.0), 0.0);
        assert_eq!(log2_fast(8.0), 3.0);
        assert_eq!(log2_fast(f64::INFINITY), f64::INFINITY);
        assert!(log2_fast(f64::NAN).is_nan());
        assert_eq!(log2_fast(0.0), f64::NEG_INFINITY);
    }

    #[test]
    fn smooth_value_matches_the_libm_formula() {
        for (n, mag2) in [(3, 4.0001f64), (10, 7.5), (99, 30.0), (0, 1e10)] {
            let exact = f64::from(n) + 1.0 - (0.5 * mag2.ln() / std::f64::consts::LN_2).log2();
            let got = smooth_value(n, mag2, 100);
            assert!(
                (f64::from(got) - exact.max(0.0)).abs() < 1e-5,
                "{n} {mag2}: {got} {exact}"
            );
        }
        assert_eq!(smooth_value(0, f64::INFINITY, 10), 0.0);
        assert_eq!(smooth_value(10, 1.0, 10), 10.0);
    }
}
