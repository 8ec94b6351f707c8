//! The SIMD kernel (dispatched and portable) gives exactly the reference's
//! counts and smooth values, pixel for pixel, on every kind of view and tile.

use parlab::engine::exec::schedule::Schedule;
use parlab::engine::mandelbrot::kernel::{Kernel, TilePixels, reference_tile, simd, simd_tile};
use parlab::engine::mandelbrot::render::{RenderSettings, render, render_serial};
use parlab::engine::mandelbrot::tiling::{Tile, Tiling};
use parlab::engine::mandelbrot::view::View;
use proptest::prelude::*;

type TileFn = fn(&View, &Tile, &mut TilePixels) -> u64;

const FAST: [(&str, TileFn); 2] = [
    ("dispatched", simd_tile),
    ("portable", simd::compute_tile_portable),
];

fn tiles_of(view: &View, tile_px: u32) -> Vec<Tile> {
    Tiling::Square { tile_px }.tiles(view.width_px(), view.height_px())
}

/// Every tile of `view` (at several tile sizes) equals the reference.
fn check_view(view: View) {
    for tile_px in [1, 3, 8, 64, 1024] {
        if tile_px == 1 && view.num_pixels() > 400 {
            continue;
        }
        for tile in tiles_of(&view, tile_px) {
            let mut expected = TilePixels::for_tile(&tile);
            let expected_iters = reference_tile(&view, &tile, &mut expected);
            for (name, fast) in FAST {
                let mut got = TilePixels::for_tile(&tile);
                let got_iters = fast(&view, &tile, &mut got);
                assert_eq!(got.counts, expected.counts, "{name} counts, tile {tile:?}");
                assert_eq!(got.smooth, expected.smooth, "{name} smooth, tile {tile:?}");
                assert_eq!(got_iters, expected_iters, "{name} iterations");
            }
        }
    }
}

#[test]
fn whole_set() {
    check_view(View::new((-0.75, 0.0), 3.5, 97, 61, 300).expect("view"));
}

#[test]
fn whole_set_past_the_edges() {
    // |c| > 2 everywhere near the corners: escapes at n = 0 and 1.
    check_view(View::new((-0.5, 0.0), 6.0, 41, 37, 64).expect("view"));
}

#[test]
fn deep_zoom() {
    check_view(
        View::new((-0.743643887037151, 0.131825904205330), 2e-5, 64, 36, 5000).expect("view"),
    );
}

#[test]
fn all_inside_like_k0() {
    let view = View::new((-0.25, 0.0), 0.5, 32, 32, 2000).expect("view");
    check_view(view);
    let serial = render_serial(&view, Kernel::Simd);
    assert!(serial.counts.iter().all(|&c| c == 2000), "K0 is all inside");
}

#[test]
fn boundary_and_cusp() {
    // Points that hover near |z|² = 4 and near the cusp for long.
    check_view(View::new((0.25, 0.0), 0.01, 45, 29, 3000).expect("view"));
    check_view(View::new((-2.0, 0.0), 0.02, 45, 29, 500).expect("view"));
}

#[test]
fn small_iteration_limits_around_the_block_length() {
    for max_iter in [1, 2, 7, 8, 9, 15, 16, 17] {
        check_view(View::new((-0.75, 0.1), 3.0, 23, 13, max_iter).expect("view"));
    }
}

#[test]
fn odd_widths_that_do_not_fill_the_vectors() {
    for width_px in [1, 2, 3, 5, 19, 21, 33] {
        check_view(View::new((-0.6, 0.2), 2.5, width_px, 7, 200).expect("view"));
    }
}

#[test]
fn kernel_enum_names_and_labels() {
    assert_eq!(Kernel::ALL, [Kernel::Reference, Kernel::Simd]);
    assert_eq!("simd".parse::<Kernel>(), Ok(Kernel::Simd));
    assert_eq!(Kernel::Simd.label(), "SIMD");
    assert_eq!(Kernel::Reference.label(), "scalar reference");
    assert!("avx".parse::<Kernel>().is_err());
}

#[test]
fn parallel_schedules_with_simd_equal_the_serial_reference() {
    let view = View::new((-0.7436, 0.1318), 0.01, 83, 47, 1500).expect("view");
    let serial = render_serial(&view, Kernel::Reference);
    let mut schedules = Schedule::ALL.to_vec();
    schedules.push(Schedule::Dynamic { chunk: 3 });
    for schedule in schedules {
        for num_workers in [1, 2, 5] {
            for tiling in [
                Tiling::Square { tile_px: 16 },
                Tiling::Bands { band_rows: 1 },
            ] {
                let settings = RenderSettings {
                    view,
                    tiling,
                    schedule,
                    num_workers,
                    kernel: Kernel::Simd,
                };
                let r = render(&settings, None).expect("render");
                assert_eq!(r.image, serial, "{schedule} {num_workers} {tiling}");
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]
    #[test]
    fn random_views(
        cx in -2.2f64..0.7,
        cy in -1.3f64..1.3,
        log_width in -9.0f64..0.7,
        w in 1u32..40,
        h in 1u32..30,
        max_iter in 1u32..700,
    ) {
        let view = View::new((cx, cy), 10f64.powf(log_width), w, h, max_iter).expect("view");
        check_view(view);
    }
}
