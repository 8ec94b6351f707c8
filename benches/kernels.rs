//! Kernel micro-benchmarks (divan): the scalar reference, the SIMD kernel
//! (dispatched, and the portable fallback) on small versions of the issue-7
//! views, and one Benchmarks Game bitmap. Throughput is in iterations
//! executed ("items"). Run with `cargo bench --bench kernels`; the full
//! measurement is `parlab bench kernel`.

use divan::Bencher;
use divan::counter::ItemsCount;
use parlab::engine::mandelbrot::bench_game;
use parlab::engine::mandelbrot::kernel::{Kernel, TilePixels, simd, simd_tile};
use parlab::engine::mandelbrot::tiling::Tile;
use parlab::engine::mandelbrot::view::View;

fn main() {
    divan::main();
}

/// 128×128 cuts of K0 (all inside), B2 (whole set) and B3 (deep zoom).
fn view(name: &str) -> View {
    match name {
        "K0" => View::new((-0.25, 0.0), 0.5, 128, 128, 2000),
        "B2" => View::new((-0.75, 0.0), 3.5, 128, 72, 1000),
        _ => View::new((-0.743643887037151, 0.131825904205330), 2e-5, 128, 72, 5000),
    }
    .expect("valid view")
}

fn whole(view: &View) -> Tile {
    Tile {
        index: 0,
        x: 0,
        y: 0,
        width: view.width_px(),
        height: view.height_px(),
    }
}

fn bench_tile(bencher: Bencher, name: &str, f: fn(&View, &Tile, &mut TilePixels) -> u64) {
    let view = view(name);
    let tile = whole(&view);
    let mut out = TilePixels::for_tile(&tile);
    let iterations = Kernel::Reference.compute_tile(&view, &tile, &mut out);
    bencher
        .counter(ItemsCount::new(iterations))
        .bench_local(|| f(&view, &tile, &mut out));
}

const VIEWS: [&str; 3] = ["K0", "B2", "B3"];

#[divan::bench(args = VIEWS, sample_count = 10, sample_size = 1)]
fn scalar_reference(bencher: Bencher, name: &str) {
    bench_tile(bencher, name, |v, t, o| {
        Kernel::Reference.compute_tile(v, t, o)
    });
}

#[divan::bench(args = VIEWS, sample_count = 20, sample_size = 1)]
fn simd_dispatched(bencher: Bencher, name: &str) {
    bench_tile(bencher, name, simd_tile);
}

#[divan::bench(args = VIEWS, sample_count = 10, sample_size = 1)]
fn simd_portable(bencher: Bencher, name: &str) {
    bench_tile(bencher, name, simd::compute_tile_portable);
}

#[divan::bench(args = [true, false], sample_count = 10, sample_size = 1)]
fn benchmarks_game_bitmap_800(bencher: Bencher, fast: bool) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("pool");
    bencher
        .counter(ItemsCount::new(800u64 * 800))
        .bench_local(|| pool.install(|| bench_game::bitmap(800, fast)));
}
