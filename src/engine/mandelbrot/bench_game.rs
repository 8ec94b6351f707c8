//! The Benchmarks Game "mandelbrot" task, so that parlab can be timed
//! head-to-head with the published programs on the same machine.
//!
//! N×N pixels over x ∈ [−1.5, 0.5], y ∈ [−1, 1]; pixel (x, y) is
//! c = (2x/N − 1.5, 2y/N − 1), the corner of its cell (not the centre,
//! unlike parlab's views). 50 iterations with *plain multiply and add*
//! (no FMA), exactly as the reference C program:
//!
//! ```text
//! Zi = 2·Zr·Zi + Ci;  Zr = Tr − Ti + Cr;  Tr = Zr²;  Ti = Zi²
//! ```
//!
//! a pixel is set (1) while Tr + Ti ≤ 4. The output is PBM P4: the header
//! `P4\nN N\n`, then each row as bits, most significant first, padded with
//! zeros to whole bytes.
//!
//! The fast paths (AVX-512F in `simd_avx512`, 48 pixels at a time, else
//! AVX2 in `simd_avx2`, 16 at a time) run with no test
//! inside blocks of 7 steps; a pixel that escaped keeps |z|² > 4 (or NaN)
//! afterwards (see `kernel::simd` for why), so the bits are the same.

use rayon::prelude::*;

/// Iterations per pixel (defined beside the kernels, which need it too).
pub use super::kernel::BG_ITERATIONS;

/// Bytes in one PBM row of `n` pixels.
pub fn row_bytes(n: usize) -> usize {
    n.div_ceil(8)
}

/// Real parts of the row's pixels, `2x/N − 1.5`, continued past N to whole
/// bytes and 64 more pixels (the fast paths read whole groups of up to 8
/// bytes, 64 pixels).
pub fn real_parts(n: usize) -> Vec<f64> {
    let padded = n.div_ceil(8) * 8 + 64;
    (0..padded)
        .map(|x| 2.0 * x as f64 / n as f64 - 1.5)
        .collect()
}

/// Imaginary part of row `y`, `2y/N − 1`.
pub fn imag_part(y: usize, n: usize) -> f64 {
    2.0 * y as f64 / n as f64 - 1.0
}

/// Whether c stays within |z|² ≤ 4 for 50 iterations: the reference C
/// program's loop, one pixel at a time.
pub fn inside_scalar(cr: f64, ci: f64) -> bool {
    let (mut zr, mut zi, mut tr, mut ti) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
    let mut i = 0;
    while i < BG_ITERATIONS && tr + ti <= 4.0 {
        zi = 2.0 * zr * zi + ci;
        zr = tr - ti + cr;
        tr = zr * zr;
        ti = zi * zi;
        i += 1;
    }
    tr + ti <= 4.0
}

/// One row with the scalar loop.
pub fn row_scalar(real: &[f64], ci: f64, n: usize, out: &mut [u8]) {
    for (byte_index, byte) in out.iter_mut().enumerate() {
        let mut bits = 0u8;
        for bit in 0..8 {
            let x = byte_index * 8 + bit;
            if x < n && inside_scalar(real[x], ci) {
                bits |= 0x80 >> bit;
            }
        }
        *byte = bits;
    }
}

/// One row with the fastest path this CPU has.
pub fn row(real: &[f64], ci: f64, n: usize, out: &mut [u8]) {
    #[cfg(target_arch = "x86_64")]
    if crate::engine::mandelbrot::kernel::bg_row_avx512(real, ci, n, out)
        || crate::engine::mandelbrot::kernel::bg_row_avx2(real, ci, n, out)
    {
        return;
    }
    row_scalar(real, ci, n, out);
}

/// The bitmap rows (no header), computed in parallel over rows on the
/// current rayon pool. `fast = false` uses the scalar loop.
pub fn bitmap(n: usize, fast: bool) -> Vec<u8> {
    let mut bits = vec![0u8; row_bytes(n) * n];
    bitmap_into(n, fast, &mut bits);
    bits
}

/// Computes the bitmap rows into `bits` (`row_bytes(n) · n` bytes).
fn bitmap_into(n: usize, fast: bool, bits: &mut [u8]) {
    rows_into(n, fast, &real_parts(n), 0, bits);
}

/// Computes rows `first_row..` of the bitmap into `bits` (whole rows), in
/// parallel over rows on the current rayon pool.
fn rows_into(n: usize, fast: bool, real: &[f64], first_row: usize, bits: &mut [u8]) {
    let stride = row_bytes(n);
    if stride == 0 {
        return;
    }
    bits.par_chunks_mut(stride)
        .enumerate()
        .for_each(|(y, out)| {
            let ci = imag_part(first_row + y, n);
            if fast {
                row(real, ci, n, out);
            } else {
                row_scalar(real, ci, n, out);
            }
        });
}

/// Rows per band in [`write_pbm`]: 1 MiB of bitmap at N = 16000.
pub const BAND_BYTES: usize = 1 << 20;

/// The whole PBM file, written to `write` band by band: each band of rows
/// (about [`BAND_BYTES`]) is computed in parallel on `pool`, then written
/// (on the calling thread), so that the bitmap is never whole in memory (peak memory
/// one band, not the 32 MB of a 16000² bitmap). Same bytes as [`pbm`].
pub fn write_pbm(
    pool: &rayon::ThreadPool,
    n: usize,
    fast: bool,
    mut write: impl FnMut(&[u8]) -> std::io::Result<()>,
) -> std::io::Result<()> {
    write(format!("P4\n{n} {n}\n").as_bytes())?;
    let stride = row_bytes(n);
    if stride == 0 {
        return Ok(());
    }
    let real = real_parts(n);
    let band_rows = (BAND_BYTES / stride).clamp(1, n);
    let mut band = vec![0u8; band_rows * stride];
    for first_row in (0..n).step_by(band_rows) {
        let rows = band_rows.min(n - first_row);
        let bits = &mut band[..rows * stride];
        pool.install(|| rows_into(n, fast, &real, first_row, bits));
        write(bits)?;
    }
    Ok(())
}

/// The whole PBM file, computed in place after its header: one buffer of
/// the file's size, no copy of the bitmap.
pub fn pbm(n: usize, fast: bool) -> Vec<u8> {
    let header = format!("P4\n{n} {n}\n").into_bytes();
    let mut file = vec![0u8; header.len() + row_bytes(n) * n];
    file[..header.len()].copy_from_slice(&header);
    bitmap_into(n, fast, &mut file[header.len()..]);
    file
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_pixels() {
        assert!(inside_scalar(0.0, 0.0));
        assert!(inside_scalar(-1.0, 0.0));
        assert!(!inside_scalar(0.5, 0.5));
        assert!(!inside_scalar(-1.5, -1.0));
    }

    #[test]
    fn header_and_size() {
        let file = pbm(10, true);
        assert!(file.starts_with(b"P4\n10 10\n"));
        assert_eq!(file.len(), "P4\n10 10\n".len() + 2 * 10);
        assert_eq!(&file["P4\n10 10\n".len()..], bitmap(10, true).as_slice());
    }

    #[test]
    fn written_in_bands_equals_the_whole_file() {
        // 3000 rows of 375 bytes: three bands, the last one short.
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .expect("pool");
        for (n, fast) in [(1, true), (13, false), (3000, true)] {
            let mut written = Vec::new();
            write_pbm(&pool, n, fast, |b| {
                written.extend_from_slice(b);
                Ok(())
            })
            .expect("in memory");
            assert_eq!(written, pbm(n, fast), "n = {n}");
        }
    }

    #[test]
    fn padding_bits_are_zero() {
        let n = 13;
        let bits = bitmap(n, true);
        for row in bits.chunks(row_bytes(n)) {
            assert_eq!(row[1] & 0b0000_0111, 0);
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn each_vector_width_equals_scalar() {
        use crate::engine::mandelbrot::kernel::{bg_row_avx2, bg_row_avx512};
        for n in [1, 7, 9, 16, 31, 32, 33, 100, 201] {
            let real = real_parts(n);
            for y in (0..n).step_by(7) {
                let ci = imag_part(y, n);
                let mut expected = vec![0; row_bytes(n)];
                row_scalar(&real, ci, n, &mut expected);
                for (name, row) in [("avx2", bg_row_avx2 as RowFn), ("avx512", bg_row_avx512)] {
                    let mut got = vec![0xAA; row_bytes(n)];
                    if row(&real, ci, n, &mut got) {
                        assert_eq!(got, expected, "{name} n={n} y={y}");
                    }
                }
            }
        }
    }

    #[cfg(target_arch = "x86_64")]
    type RowFn = fn(&[f64], f64, usize, &mut [u8]) -> bool;

    #[test]
    fn fast_equals_scalar() {
        for n in [1, 7, 8, 9, 16, 17, 33, 100, 201] {
            assert_eq!(bitmap(n, true), bitmap(n, false), "n = {n}");
        }
    }
}
