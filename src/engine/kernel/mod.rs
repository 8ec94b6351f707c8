//! Escape-time kernels. [`reference`] is the readable ground truth; every faster
//! kernel must give the same iteration counts for the same arithmetic.

pub mod reference;
pub mod simd;
#[cfg(target_arch = "x86_64")]
mod simd_avx2;
#[cfg(target_arch = "x86_64")]
pub use simd_avx2::bg_row as bg_row_avx2;

use crate::engine::tiling::Tile;
use crate::engine::view::View;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Which kernel computes the pixels.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Kernel {
    /// Plain scalar f64, one pixel at a time: the readable baseline.
    #[default]
    Reference,
    /// Interleaved 4-lane f64 vectors (AVX2+FMA when the CPU has it),
    /// same counts as the reference: the production kernel.
    Simd,
}

impl Kernel {
    pub const ALL: [Kernel; 2] = [Kernel::Reference, Kernel::Simd];

    pub fn name(&self) -> &'static str {
        match self {
            Kernel::Reference => "scalar",
            Kernel::Simd => "simd",
        }
    }
    pub fn label(&self) -> &'static str {
        match self {
            Kernel::Reference => "scalar reference",
            Kernel::Simd => "SIMD",
        }
    }

    /// Computes every pixel of `tile` into `out`, returning the iterations executed.
    pub fn compute_tile(&self, view: &View, tile: &Tile, out: &mut TilePixels) -> u64 {
        match self {
            Kernel::Reference => reference::compute_tile(view, tile, out),
            Kernel::Simd => simd::compute_tile(view, tile, out),
        }
    }
}

impl fmt::Display for Kernel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Kernel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Kernel::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| {
                let names: Vec<_> = Kernel::ALL.iter().map(|k| k.name()).collect();
                format!("unknown kernel {s:?}: expected one of {}", names.join(", "))
            })
    }
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
}

/// Continuous escape value: `n + 1 - log2(ln |z|)` for a point that escaped
/// after `n` iterations with |z|² = `mag2`; `max_iter` for a point inside.
#[inline]
pub fn smooth_value(n: u32, mag2: f64, max_iter: u32) -> f32 {
    if n >= max_iter {
        return max_iter as f32;
    }
    let log_zn = 0.5 * mag2.ln();
    let nu = (log_zn / std::f64::consts::LN_2).log2();
    ((f64::from(n) + 1.0 - nu).max(0.0)) as f32
}
