//! The SIMD kernels (dispatched, portable, and AVX2 and AVX-512 forced where
//! the CPU has them) give exactly the reference's counts and smooth values,
//! pixel for pixel, on every kind of view and tile.

use parlab::engine::exec::schedule::Schedule;
use parlab::engine::mandelbrot::kernel::{
    Kernel, TilePixels, avx2_tile, avx512_tile, reference_tile, simd, simd_backend_name, simd_tile,
};
use parlab::engine::mandelbrot::render::{RenderSettings, render, render_serial};
use parlab::engine::mandelbrot::tiling::{Tile, Tiling};
use parlab::engine::mandelbrot::view::View;
use proptest::prelude::*;

type TileFn = fn(&View, &Tile, &mut TilePixels) -> u64;

/// The fast kernels this CPU can run (a forced width it lacks is left out,
/// and said so once).
fn fast_kernels() -> Vec<(&'static str, TileFn)> {
    let mut fast: Vec<(&str, TileFn)> = vec![
        ("dispatched", simd_tile),
        ("portable", simd::compute_tile_portable),
    ];
    for (name, kernel, f) in [
        ("avx2", Kernel::Avx2, avx2 as TileFn),
        ("avx512", Kernel::Avx512, avx512 as TileFn),
    ] {
        if kernel.is_available() {
            fast.push((name, f));
        } else {
            eprintln!("this CPU lacks {name}: its kernel is not tested here");
        }
    }
    fast
}

fn avx2(view: &View, tile: &Tile, out: &mut TilePixels) -> u64 {
    avx2_tile(view, tile, out).expect("checked available")
}

fn avx512(view: &View, tile: &Tile, out: &mut TilePixels) -> u64 {
    avx512_tile(view, tile, out).expect("checked available")
}

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
            for (name, fast) in fast_kernels() {
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
    // Blocks are 8 steps (AVX2, portable) and 16 (AVX-512).
    for max_iter in [1, 2, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33] {
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
    assert_eq!(
        Kernel::ALL,
        [
            Kernel::Reference,
            Kernel::Simd,
            Kernel::Avx2,
            Kernel::Avx512
        ]
    );
    assert_eq!("simd".parse::<Kernel>(), Ok(Kernel::Simd));
    assert_eq!("avx2".parse::<Kernel>(), Ok(Kernel::Avx2));
    assert_eq!("avx512".parse::<Kernel>(), Ok(Kernel::Avx512));
    assert_eq!(Kernel::Simd.label(), "SIMD");
    assert_eq!(Kernel::Reference.label(), "scalar reference");
    assert!("avx".parse::<Kernel>().is_err());
}

#[test]
fn simd_picks_the_widest_available_and_forced_kernels_say_what_they_need() {
    let expected = if Kernel::Avx512.is_available() {
        "AVX-512F+FMA"
    } else if Kernel::Avx2.is_available() {
        "AVX2+FMA"
    } else {
        "portable"
    };
    assert_eq!(simd_backend_name(), expected);
    assert!(Kernel::Reference.check_available().is_ok());
    assert!(Kernel::Simd.check_available().is_ok());
    for k in [Kernel::Avx2, Kernel::Avx512] {
        match k.check_available() {
            Ok(()) => assert!(k.is_available()),
            Err(message) => assert!(message.to_string().contains(k.name()), "{message}"),
        }
    }
}

#[test]
fn parallel_schedules_with_every_kernel_equal_the_serial_reference() {
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
                for kernel in Kernel::ALL.into_iter().filter(Kernel::is_available) {
                    let settings = RenderSettings {
                        view,
                        tiling,
                        schedule,
                        num_workers,
                        kernel,
                        placement: Default::default(),
                    };
                    let r = render(&settings, None).expect("render");
                    assert_eq!(
                        r.image, serial,
                        "{schedule} {num_workers} {tiling} {kernel}"
                    );
                }
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
