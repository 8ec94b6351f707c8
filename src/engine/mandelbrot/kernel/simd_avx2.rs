//! AVX2 + FMA code paths, chosen at run time: the SIMD kernel's blocks and
//! batched exact finish, the reference compiled with hardware FMA, and the
//! Benchmarks Game row. One of the two modules of the crate that may use
//! `unsafe`, with `simd_avx512` (a test scans `src/` for it): the calls
//! into the `#[target_feature]` functions, made only after the CPU was
//! checked (detection is cached), and the vector loads and stores from
//! arrays. Since Rust 1.87 the
//! arithmetic intrinsics themselves are safe inside those functions.
#![allow(unsafe_code)]

use super::simd::{BLOCK_ITERS, Lanes, Pending, VECTOR_LANES, drive, finish};
use super::{TilePixels, reference};
use crate::engine::mandelbrot::tiling::Tile;
use crate::engine::mandelbrot::view::View;
use std::arch::x86_64::{
    __m256d, _CMP_NLE_UQ, _mm256_add_pd, _mm256_cmp_pd, _mm256_fmadd_pd, _mm256_fnmadd_pd,
    _mm256_loadu_pd, _mm256_movemask_pd, _mm256_mul_pd, _mm256_set1_pd, _mm256_storeu_pd,
};
use std::sync::OnceLock;

/// Vectors in flight: the FMA latency (4 cycles) times the 2 FMA pipes,
/// over the ~8-cycle dependency chain of one step, needs 4–6.
pub const AVX2_VECTORS: usize = 5;

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
    // SAFETY: `available()` checked that the CPU supports avx2 and fma, the
    // only requirement of this `#[target_feature]` function.
    Some(unsafe { compute_tile_avx2(view, tile, out) })
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

#[target_feature(enable = "avx2,fma")]
fn compute_tile_avx2(view: &View, tile: &Tile, out: &mut TilePixels) -> u64 {
    drive::<AVX2_VECTORS>(
        view,
        tile,
        out,
        |lanes, max_blocks| avx2_blocks(lanes, max_blocks),
        |pending, out, max_iter| avx2_finish(pending, out, max_iter),
    )
}

#[inline(always)]
fn load(a: &[f64; VECTOR_LANES]) -> __m256d {
    // SAFETY: `a` is 4 readable f64s; loadu has no alignment requirement.
    // The caller is compiled with avx enabled (only called from avx2 fns).
    unsafe { _mm256_loadu_pd(a.as_ptr()) }
}

#[inline(always)]
fn store(a: &mut [f64; VECTOR_LANES], v: __m256d) {
    // SAFETY: `a` is 4 writable f64s; storeu has no alignment requirement.
    // The caller is compiled with avx enabled (only called from avx2 fns).
    unsafe { _mm256_storeu_pd(a.as_mut_ptr(), v) }
}

/// Finishes escaped pixels four at a time: replays the block they escaped
/// in, testing `|z|² > 4` before each step exactly as the reference does,
/// and keeps each lane's first escape. Each pending pixel escaped within
/// the replayed block; one that did not fail a test in its first 7 steps
/// (the 8th z is tested by the reference only if it is below max_iter) is
/// finished by the scalar reference from where the replay left it.
#[target_feature(enable = "avx2,fma")]
fn avx2_finish(pending: &Pending, out: &mut TilePixels, max_iter: u32) -> u64 {
    use std::arch::x86_64::{
        _CMP_GT_OQ, _mm256_andnot_pd, _mm256_blendv_pd, _mm256_or_pd, _mm256_setzero_pd,
    };
    let four = _mm256_set1_pd(4.0);
    let whole = pending.len() / VECTOR_LANES * VECTOR_LANES;
    let mut iterations = 0;
    let quad = |v: &[f64], i: usize| -> __m256d {
        load(v[i..i + VECTOR_LANES].try_into().expect("4 lanes"))
    };
    for i in (0..whole).step_by(VECTOR_LANES) {
        let (cr, ci) = (quad(&pending.cr, i), quad(&pending.ci, i));
        let (mut zr, mut zi) = (quad(&pending.zr, i), quad(&pending.zi, i));
        let mut found = _mm256_setzero_pd();
        let mut first_step = _mm256_setzero_pd();
        let mut first_mag = _mm256_setzero_pd();
        for k in 0..BLOCK_ITERS {
            let m = _mm256_fmadd_pd(zr, zr, _mm256_mul_pd(zi, zi));
            let now = _mm256_cmp_pd::<_CMP_GT_OQ>(m, four);
            // Failing now and never before (andnot(a, b) = !a & b).
            let first = _mm256_andnot_pd(found, now);
            first_step = _mm256_blendv_pd(first_step, _mm256_set1_pd(f64::from(k)), first);
            first_mag = _mm256_blendv_pd(first_mag, m, first);
            found = _mm256_or_pd(found, now);
            let cr_minus_zi2 = _mm256_fnmadd_pd(zi, zi, cr);
            let twice_zr = _mm256_add_pd(zr, zr);
            zi = _mm256_fmadd_pd(twice_zr, zi, ci);
            zr = _mm256_fmadd_pd(zr, zr, cr_minus_zi2);
        }
        let found_mask = _mm256_movemask_pd(found);
        let mut steps = [0.0; VECTOR_LANES];
        let mut mags = [0.0; VECTOR_LANES];
        let mut end_zr = [0.0; VECTOR_LANES];
        let mut end_zi = [0.0; VECTOR_LANES];
        store(&mut steps, first_step);
        store(&mut mags, first_mag);
        store(&mut end_zr, zr);
        store(&mut end_zi, zi);
        for l in 0..VECTOR_LANES {
            let j = i + l;
            let result = if found_mask & (1 << l) != 0 {
                (pending.iters[j] + steps[l] as u32, mags[l])
            } else {
                reference::escape_from(
                    end_zr[l],
                    end_zi[l],
                    pending.iters[j] + BLOCK_ITERS,
                    pending.cr[j],
                    pending.ci[j],
                    max_iter,
                )
            };
            iterations += finish(out, pending.pixel[j], result, max_iter);
        }
    }
    iterations + pending.finish_scalar(whole, out, max_iter)
}

/// Runs up to `max_blocks` blocks of [`BLOCK_ITERS`] steps on all vectors
/// in registers (see [`drive`] for the contract).
#[target_feature(enable = "avx2,fma")]
fn avx2_blocks<const V: usize>(lanes: &mut Lanes<V>, max_blocks: u32) -> (u32, u32) {
    let four = _mm256_set1_pd(4.0);
    let mut zr: [__m256d; V] = std::array::from_fn(|v| load(&lanes.zr[v]));
    let mut zi: [__m256d; V] = std::array::from_fn(|v| load(&lanes.zi[v]));
    let cr: [__m256d; V] = std::array::from_fn(|v| load(&lanes.cr[v]));
    let ci: [__m256d; V] = std::array::from_fn(|v| load(&lanes.ci[v]));
    let mut saved_zr = zr;
    let mut saved_zi = zi;
    let mut blocks = 0;
    let mut escaped = 0u32;
    while blocks < max_blocks {
        saved_zr = zr;
        saved_zi = zi;
        for _ in 0..BLOCK_ITERS {
            for v in 0..V {
                // Exactly reference::step: zi' = fma(zr + zr, zi, ci),
                // zr' = fma(zr, zr, fma(-zi, zi, cr)).
                let cr_minus_zi2 = _mm256_fnmadd_pd(zi[v], zi[v], cr[v]);
                let twice_zr = _mm256_add_pd(zr[v], zr[v]);
                zi[v] = _mm256_fmadd_pd(twice_zr, zi[v], ci[v]);
                zr[v] = _mm256_fmadd_pd(zr[v], zr[v], cr_minus_zi2);
            }
        }
        blocks += 1;
        for v in 0..V {
            // reference::mag2 = fma(zr, zr, zi·zi); NLE_UQ: !(m <= 4), NaN too.
            let m = _mm256_fmadd_pd(zr[v], zr[v], _mm256_mul_pd(zi[v], zi[v]));
            let out = _mm256_cmp_pd::<_CMP_NLE_UQ>(m, four);
            escaped |= (_mm256_movemask_pd(out) as u32) << (VECTOR_LANES * v);
        }
        if escaped != 0 {
            break;
        }
    }
    for v in 0..V {
        store(&mut lanes.zr[v], zr[v]);
        store(&mut lanes.zi[v], zi[v]);
        store(&mut lanes.saved_zr[v], saved_zr[v]);
        store(&mut lanes.saved_zi[v], saved_zi[v]);
    }
    (blocks, escaped)
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
