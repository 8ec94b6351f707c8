use parlab::engine::kernel::{Kernel, TilePixels};
use parlab::engine::kernel_bench::bench_views;
use parlab::engine::tiling::Tile;
fn cpu_secs() -> f64 {
    let s = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
    let f: Vec<&str> = s.rsplit(')').next().unwrap().split_whitespace().collect();
    (f[11].parse::<f64>().unwrap() + f[12].parse::<f64>().unwrap()) / 100.0
}
fn main() {
    let which: String = std::env::args().nth(1).unwrap_or("B3".into());
    let runs: usize = std::env::args()
        .nth(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let kernel = if std::env::args().nth(3).is_some() {
        Kernel::Reference
    } else {
        Kernel::Simd
    };
    for v in bench_views().into_iter().filter(|v| which.contains(v.name)) {
        let view = v.view;
        let tiles: Vec<Tile> = (0..view.height_px())
            .step_by(16)
            .map(|y| Tile {
                index: 0,
                x: 0,
                y,
                width: view.width_px(),
                height: 16.min(view.height_px() - y),
            })
            .collect();
        let mut bufs: Vec<_> = tiles.iter().map(TilePixels::for_tile).collect();
        let mut rates = vec![];
        let mut walls = vec![];
        for _ in 0..runs {
            let c0 = cpu_secs();
            let t0 = std::time::Instant::now();
            let it: u64 = tiles
                .iter()
                .zip(bufs.iter_mut())
                .map(|(t, b)| kernel.compute_tile(&view, t, b))
                .sum();
            let c = cpu_secs() - c0;
            rates.push(it as f64 / c / 1e9);
            walls.push(it as f64 / t0.elapsed().as_secs_f64() / 1e9);
        }
        rates.sort_by(|a, b| a.partial_cmp(b).unwrap());
        walls.sort_by(|a, b| a.partial_cmp(b).unwrap());
        println!(
            "{} cpu-time G/s median {:.3} {:?}  wall G/s median {:.3}",
            v.name,
            rates[runs / 2],
            rates,
            walls[runs / 2]
        );
    }
}
