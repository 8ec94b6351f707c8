//! Colouring as pure functions: palettes for escape values, worker colours,
//! and the worker overlay composed onto an image.

use crate::engine::mandelbrot::kernel::colour_pixels_simd;
use crate::engine::mandelbrot::render::IterImage;
use crate::engine::mandelbrot::tiling::Tile;
use crate::engine::util::png::{band_rows, write_rows_with};
use image::RgbaImage;
use rayon::ThreadPool;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::io::{self, Write};

/// A colour map for escape values; points inside the set are black.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Palette {
    #[default]
    Classic,
    Fire,
    Ocean,
    Grey,
}

/// Gradient stops (position 0..1, colour), cycled along the smooth value.
fn stops(p: Palette) -> &'static [(f32, [u8; 3])] {
    match p {
        Palette::Classic => &[
            (0.0, [0, 7, 100]),
            (0.16, [32, 107, 203]),
            (0.42, [237, 255, 255]),
            (0.6425, [255, 170, 0]),
            (0.8575, [0, 2, 0]),
            (1.0, [0, 7, 100]),
        ],
        Palette::Fire => &[
            (0.0, [20, 0, 0]),
            (0.3, [180, 30, 0]),
            (0.6, [255, 170, 20]),
            (0.8, [255, 250, 200]),
            (1.0, [20, 0, 0]),
        ],
        Palette::Ocean => &[
            (0.0, [2, 20, 40]),
            (0.35, [0, 110, 140]),
            (0.65, [120, 220, 200]),
            (0.85, [240, 250, 240]),
            (1.0, [2, 20, 40]),
        ],
        Palette::Grey => &[
            (0.0, [10, 10, 10]),
            (0.5, [245, 245, 245]),
            (1.0, [10, 10, 10]),
        ],
    }
}

impl Palette {
    pub const ALL: [Palette; 4] = [
        Palette::Classic,
        Palette::Fire,
        Palette::Ocean,
        Palette::Grey,
    ];

    pub fn name(&self) -> &'static str {
        match self {
            Palette::Classic => "classic",
            Palette::Fire => "fire",
            Palette::Ocean => "ocean",
            Palette::Grey => "grey",
        }
    }

    /// Colour of one pixel from its escape count and smooth value.
    #[inline]
    pub fn colour(&self, count: u32, smooth: f32, max_iter: u32) -> [u8; 4] {
        if count >= max_iter {
            return [0, 0, 0, 255];
        }
        // Cycle along sqrt(smooth): bands stay visible both near the set and far out.
        let t = fract_positive(smooth.max(0.0).sqrt() * 0.22);
        let s = stops(*self);
        let mut k = 0;
        while k + 2 < s.len() && t > s[k + 1].0 {
            k += 1;
        }
        let (t0, c0) = s[k];
        let (t1, c1) = s[k + 1];
        let f = ((t - t0) / (t1 - t0)).clamp(0.0, 1.0);
        let mix = |a: u8, b: u8| round_u8(f32::from(a) + (f32::from(b) - f32::from(a)) * f);
        [mix(c0[0], c1[0]), mix(c0[1], c1[1]), mix(c0[2], c1[2]), 255]
    }

    /// Colours `counts`/`smooth` into RGBA bytes (4 per pixel) in `out`:
    /// [`Self::colour`] of each pixel, eight at a time with AVX2 where the
    /// CPU has it (the same operations, so the same bytes; see
    /// `kernel::colour_pixels_simd`).
    pub fn colour_into(&self, counts: &[u32], smooth: &[f32], max_iter: u32, out: &mut [u8]) {
        let n = counts.len().min(smooth.len()).min(out.len() / 4);
        let stops = stops(*self);
        let mut at = 0;
        while at < n {
            at += colour_pixels_simd(
                stops,
                &counts[at..n],
                &smooth[at..n],
                max_iter,
                &mut out[4 * at..4 * n],
            );
            // The eight the vectors left (a value they do not take, or no
            // AVX2), or the pixels past the last whole eight: the scalar way.
            let end = (at + 8).min(n);
            for p in at..end {
                let px = &mut out[4 * p..4 * p + 4];
                px.copy_from_slice(&self.colour(counts[p], smooth[p], max_iter));
            }
            at = end;
        }
    }

    /// The whole image in this palette.
    pub fn colourise(&self, img: &IterImage) -> RgbaImage {
        let mut out = RgbaImage::new(img.width_px, img.height_px);
        self.colour_into(&img.counts, &img.smooth, img.max_iter, &mut out);
        out
    }

    /// The whole image in this palette, bands of rows coloured in parallel
    /// on `pool` (the render's workers); on this thread if `None`. The
    /// same bytes as [`Self::colourise`].
    pub fn colourise_on(&self, img: &IterImage, pool: Option<&ThreadPool>) -> RgbaImage {
        let Some(pool) = pool else {
            return self.colourise(img);
        };
        let mut out = RgbaImage::new(img.width_px, img.height_px);
        let band_px = (COLOUR_BAND_ROWS * img.width_px as usize).max(1);
        pool.install(|| {
            out.par_chunks_mut(4 * band_px)
                .zip(img.counts.par_chunks(band_px))
                .zip(img.smooth.par_chunks(band_px))
                .for_each(|((rgba, counts), smooth)| {
                    self.colour_into(counts, smooth, img.max_iter, rgba);
                });
        });
        out
    }

    /// Writes the whole image in this palette to `out` as a PNG encoded
    /// for speed (see `util::png`): each band of rows is coloured and
    /// deflated by one task on `pool` (on this thread if `None`), so
    /// colouring and encoding run as one parallel pass, the RGBA image is
    /// never whole in memory, and finished bands are written while later
    /// ones are encoded. Decodes to [`Self::colourise`]'s image.
    pub fn write_png_to(
        &self,
        img: &IterImage,
        pool: Option<&ThreadPool>,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        let width = img.width_px as usize;
        write_rows_with(
            out,
            img.width_px,
            img.height_px,
            band_rows(img.width_px),
            pool,
            |y, rgba| {
                let start = y as usize * width;
                let end = start + rgba.len() / 4;
                self.colour_into(
                    &img.counts[start..end],
                    &img.smooth[start..end],
                    img.max_iter,
                    rgba,
                );
            },
        )
    }
}

impl fmt::Display for Palette {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Palette {
    type Err = PaletteError;
    fn from_str(s: &str) -> Result<Self, PaletteError> {
        Palette::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| PaletteError {
                input: s.to_string(),
            })
    }
}

/// A palette name that does not exist.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown palette {input:?}: expected classic, fire, ocean or grey")]
pub struct PaletteError {
    pub input: String,
}

impl crate::engine::BadInput for PaletteError {
    fn is_bad_input(&self) -> bool {
        true
    }
}

/// Rows per parallel colouring task.
const COLOUR_BAND_ROWS: usize = 16;

/// `x.round() as u8` (half away from zero, saturating, NaN → 0) without
/// the libm call that `f32::round` is on x86-64 without SSE4.1: truncate,
/// then compare the exact remainder with ½.
#[inline(always)]
pub fn round_u8(x: f32) -> u8 {
    if x.is_nan() || x <= 0.0 {
        return 0;
    }
    let whole = x as u32;
    let up = u32::from(x - whole as f32 >= 0.5);
    whole.saturating_add(up).min(255) as u8
}

/// `x.fract()` for `x ≥ 0` without the libm `truncf` call that
/// `f32::trunc` is on x86-64 without SSE4.1: below 2²³ an f32 converts to
/// an integer and back exactly as `trunc` gives it; larger values (and ∞,
/// NaN) take the libm path. `+ 0.0` turns −0 (from x = −0) into +0, as
/// `fract` gives it; it changes no other value.
#[inline(always)]
pub fn fract_positive(x: f32) -> f32 {
    if (0.0..8_388_608.0).contains(&x) {
        x - (x as u32) as f32 + 0.0
    } else {
        x.fract()
    }
}

/// Sixteen hand-picked, mutually distinct worker colours (Kelly/Tableau-like).
const WORKER_COLOURS: [[u8; 3]; 16] = [
    [230, 25, 75],   // red
    [60, 180, 75],   // green
    [0, 130, 200],   // blue
    [255, 225, 25],  // yellow
    [245, 130, 48],  // orange
    [145, 30, 180],  // purple
    [70, 240, 240],  // cyan
    [240, 50, 230],  // magenta
    [170, 110, 40],  // brown
    [128, 128, 0],   // olive
    [0, 128, 128],   // teal
    [250, 190, 212], // pink
    [0, 0, 128],     // navy
    [170, 255, 195], // mint
    [128, 0, 0],     // maroon
    [190, 255, 0],   // lime
];

/// Colour of worker `id`. The first 16 are hand-picked and distinct; beyond
/// that, hues step by the golden angle with alternating lightness, so
/// neighbouring ids stay distinguishable.
pub fn worker_colour(id: u32) -> [u8; 3] {
    if let Some(c) = WORKER_COLOURS.get(id as usize) {
        return *c;
    }
    let k = id - 16;
    let hue = (f64::from(k) * 137.507_764).rem_euclid(360.0);
    let (s, v) = match k % 3 {
        0 => (0.85, 0.95),
        1 => (0.65, 0.70),
        _ => (0.95, 0.50),
    };
    hsv_to_rgb(hue, s, v)
}

fn hsv_to_rgb(h: f64, s: f64, v: f64) -> [u8; 3] {
    let c = v * s;
    let hp = h / 60.0;
    let x = c * (1.0 - (hp.rem_euclid(2.0) - 1.0).abs());
    let (r, g, b) = match hp as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = v - c;
    let q = |u: f64| ((u + m) * 255.0).round().clamp(0.0, 255.0) as u8;
    [q(r), q(g), q(b)]
}

/// How strongly the overlay tints a tile (0 = invisible, 1 = solid).
pub const OVERLAY_ALPHA: f32 = 0.45;

/// Tints each tile with its worker's colour and draws a 1-px border in that
/// colour (tiles of 4 px or more). `worker_of_tile[i]` is `None` for tiles
/// not computed yet, which are left as they are.
pub fn apply_overlay(img: &mut RgbaImage, tiles: &[Tile], worker_of_tile: &[Option<u32>]) {
    for (tile, worker) in tiles.iter().zip(worker_of_tile) {
        let Some(w) = worker else { continue };
        overlay_tile(img, tile, worker_colour(*w));
    }
}

/// Tints one tile of `img` (see [`apply_overlay`]).
pub fn overlay_tile(img: &mut RgbaImage, tile: &Tile, colour: [u8; 3]) {
    let border = tile.width >= 4 && tile.height >= 4;
    for y in tile.y..tile.y + tile.height {
        for x in tile.x..tile.x + tile.width {
            let edge = border
                && (x == tile.x
                    || y == tile.y
                    || x + 1 == tile.x + tile.width
                    || y + 1 == tile.y + tile.height);
            let p = img.get_pixel_mut(x, y);
            let a = if edge { 0.9 } else { OVERLAY_ALPHA };
            for (channel, &target) in p.0.iter_mut().zip(&colour) {
                let base = f32::from(*channel);
                *channel = round_u8(base + (f32::from(target) - base) * a);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dist(a: [u8; 3], b: [u8; 3]) -> f64 {
        a.iter()
            .zip(b)
            .map(|(&x, y)| (f64::from(x) - f64::from(y)).powi(2))
            .sum::<f64>()
            .sqrt()
    }

    #[test]
    fn first_sixteen_worker_colours_are_distinct() {
        for i in 0..16 {
            for j in 0..i {
                let d = dist(worker_colour(i), worker_colour(j));
                assert!(d > 60.0, "workers {i} and {j} too close: {d}");
            }
        }
    }

    #[test]
    fn neighbouring_workers_beyond_sixteen_differ() {
        for i in 16..256 {
            let d = dist(worker_colour(i), worker_colour(i + 1));
            assert!(d > 40.0, "workers {i} and {} too close: {d}", i + 1);
        }
    }

    #[test]
    fn inside_is_black_and_palettes_differ() {
        for p in Palette::ALL {
            assert_eq!(p.colour(100, 100.0, 100), [0, 0, 0, 255]);
        }
        let c: Vec<_> = Palette::ALL.iter().map(|p| p.colour(5, 5.3, 100)).collect();
        for i in 0..c.len() {
            for j in 0..i {
                assert_ne!(c[i], c[j]);
            }
        }
    }

    /// The vector colouring's segment (the count of inner stops passed) is
    /// the search's only for stops that ascend from 0 to 1.
    #[test]
    fn palette_stops_ascend_from_0_to_1() {
        for p in Palette::ALL {
            let s = stops(p);
            assert!(s.len() >= 2, "{p}");
            assert_eq!((s[0].0, s[s.len() - 1].0), (0.0, 1.0), "{p}");
            assert!(s.windows(2).all(|w| w[0].0 < w[1].0), "{p}");
        }
    }

    #[test]
    fn inlined_rounding_equals_f32_round() {
        let mut xs = vec![f32::NAN, f32::INFINITY, -f32::INFINITY, -0.0, 1e9, -3.7];
        for k in -2..300 {
            let h = k as f32 + 0.5;
            xs.extend([k as f32, h, h.next_up(), h.next_down(), k as f32 + 0.25]);
        }
        let mut x = -1.0f32;
        while x < 260.0 {
            xs.push(x);
            x += 0.013;
        }
        for x in xs {
            assert_eq!(round_u8(x), x.round() as u8, "{x}");
        }
    }

    /// The colour with libm's `fract` and `round` (what the inlined versions replace).
    fn colour_as_written(p: Palette, count: u32, smooth: f32, max_iter: u32) -> [u8; 4] {
        if count >= max_iter {
            return [0, 0, 0, 255];
        }
        let t = (smooth.max(0.0).sqrt() * 0.22).fract();
        let s = stops(p);
        let mut k = 0;
        while k + 2 < s.len() && t > s[k + 1].0 {
            k += 1;
        }
        let ((t0, c0), (t1, c1)) = (s[k], s[k + 1]);
        let f = ((t - t0) / (t1 - t0)).clamp(0.0, 1.0);
        let mix = |a: u8, b: u8| (f32::from(a) + (f32::from(b) - f32::from(a)) * f).round() as u8;
        [mix(c0[0], c1[0]), mix(c0[1], c1[1]), mix(c0[2], c1[2]), 255]
    }

    /// `colour` and `colour_into` against the version as written, on the
    /// odd values, every 4099th f32 up to 5000, and values that put the
    /// position at each stop and beside it.
    #[test]
    fn colour_equals_the_libm_version() {
        // The odd values the vectors take (NaN, −1, −0) among ordinary
        // ones, apart from those they leave to the scalar way (1e30, ∞).
        let mut smooths = vec![3.0f32, 8.5, -1.0, -0.0, 0.0, f32::NAN, 17.25, 40.0];
        smooths.extend([2.0, 1e30, 5.0, 6.0, 7.0, f32::INFINITY, 9.0, 10.0]);
        let mut bits = 0u32;
        while f32::from_bits(bits) < 5000.0 {
            smooths.push(f32::from_bits(bits));
            bits += 4099;
        }
        for p in Palette::ALL {
            for &(position, _) in stops(p) {
                for cycle in [0.0f32, 1.0, 7.0, 40.0] {
                    let v = ((cycle + position) / 0.22).powi(2);
                    smooths.extend([v, v.next_up(), v.next_down()]);
                }
            }
        }
        let max_iter = 100;
        for p in Palette::ALL {
            // Every pixel escaped, or every one inside, then the two mixed
            // (eights with some of each).
            for count in [0, 7, 99, 100, 101, u32::MAX] {
                let counts: Vec<u32> = if count == u32::MAX {
                    (0..smooths.len())
                        .map(|i| [5, 100, 99, 3_000_000_000][i % 7 % 4])
                        .collect()
                } else {
                    vec![count; smooths.len()]
                };
                let mut rgba = vec![0; 4 * smooths.len()];
                p.colour_into(&counts, &smooths, max_iter, &mut rgba);
                for ((&s, &n), px) in smooths.iter().zip(&counts).zip(rgba.chunks_exact(4)) {
                    let want = colour_as_written(p, n, s, max_iter);
                    assert_eq!(p.colour(n, s, max_iter), want, "{p} {n} {s}");
                    assert_eq!(px, want, "{p} {n} {s}");
                }
            }
        }
    }

    #[test]
    fn inlined_fract_equals_f32_fract() {
        let mut xs = vec![
            0.0f32,
            -0.0,
            1.0,
            0.5,
            8_388_607.5,
            8_388_608.0,
            1e9,
            f32::INFINITY,
        ];
        xs.push(f32::NAN);
        let mut x = 0.0f32;
        while x < 3000.0 {
            xs.extend([x, x.next_up(), x.next_down().max(0.0)]);
            x = x * 1.37 + 0.011;
        }
        for x in xs {
            let (got, want) = (fract_positive(x), x.fract());
            assert!(
                got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()),
                "{x}"
            );
        }
    }

    #[test]
    fn parallel_colouring_equals_serial() {
        let view =
            crate::engine::mandelbrot::view::View::new((-0.6, 0.1), 2.5, 53, 41, 90).expect("view");
        let img = crate::engine::mandelbrot::render::render_serial(
            &view,
            crate::engine::mandelbrot::kernel::Kernel::Simd,
        );
        let pool = crate::engine::exec::pool::build_pool(3).expect("pool");
        for p in Palette::ALL {
            assert_eq!(p.colourise_on(&img, Some(&pool)), p.colourise(&img), "{p}");
            assert_eq!(p.colourise_on(&img, None), p.colourise(&img), "{p}");
        }
    }

    #[test]
    fn png_in_one_pass_decodes_to_the_coloured_image() {
        let view = crate::engine::mandelbrot::view::View::new((-0.6, 0.1), 2.5, 301, 203, 90)
            .expect("view");
        let img = crate::engine::mandelbrot::render::render_serial(
            &view,
            crate::engine::mandelbrot::kernel::Kernel::Simd,
        );
        let pool = crate::engine::exec::pool::build_pool(2).expect("pool");
        for p in [Palette::Classic, Palette::Grey] {
            let rgba = p.colourise(&img);
            let expected = crate::engine::util::png::png_bytes_banded(&rgba, None).expect("png");
            for pool in [None, Some(&pool)] {
                let mut bytes = Vec::new();
                p.write_png_to(&img, pool, &mut bytes).expect("png");
                assert_eq!(bytes, expected, "{p}");
            }
            let back = image::load_from_memory_with_format(&expected, image::ImageFormat::Png)
                .expect("decodes")
                .to_rgba8();
            assert_eq!(back, rgba, "{p}");
        }
    }

    #[test]
    fn overlay_tints_only_computed_tiles() {
        let mut img = RgbaImage::from_pixel(8, 4, image::Rgba([100, 100, 100, 255]));
        let tiles = crate::engine::mandelbrot::tiling::Tiling::Square { tile_px: 4 }.tiles(8, 4);
        apply_overlay(&mut img, &tiles, &[Some(0), None]);
        assert_ne!(img.get_pixel(1, 1).0, [100, 100, 100, 255]);
        assert_eq!(img.get_pixel(5, 1).0, [100, 100, 100, 255]);
    }
}
