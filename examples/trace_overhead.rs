//! What does recording a trace cost? Renders the same view sequentially with
//! the traced executor (two clock reads and a record per tile) and with a bare
//! loop over the same tiles, interleaved, and prints the median overhead per
//! tile size, for each kernel. Run: `cargo run --release --example trace_overhead`.

use parlab::engine::exec::schedule::Schedule;
use parlab::engine::mandelbrot::kernel::Kernel;
use parlab::engine::mandelbrot::render::{IterImage, RenderSettings, compute_tile, render};
use parlab::engine::mandelbrot::tiling::Tiling;
use parlab::engine::mandelbrot::view::View;
use std::time::Instant;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Cost of recording alone: the sequential executor over empty tasks, with the
/// same sink work as a render (lock, push a record).
fn nanos_per_record() -> Result<f64, parlab::engine::exec::ExecError> {
    use parlab::engine::exec::schedule::execute;
    use std::sync::Mutex;
    use std::sync::atomic::AtomicBool;
    let n = 1_000_000;
    let records = Mutex::new(Vec::with_capacity(n));
    let cancel = AtomicBool::new(false);
    let t = Instant::now();
    execute(
        Schedule::Sequential,
        None,
        n,
        &cancel,
        Instant::now(),
        |i| (std::hint::black_box(i), 0),
        |r, _| {
            if let Ok(mut v) = records.lock() {
                v.push(r);
            }
        },
    )?;
    Ok(t.elapsed().as_nanos() as f64 / n as f64)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let per_record = median(
        (0..5)
            .map(|_| nanos_per_record())
            .collect::<Result<_, _>>()?,
    );
    println!("recording alone (two clock reads, lock, push): {per_record:.0} ns per task");
    let view = View::new((-0.75, 0.0), 3.5, 1024, 768, 500)?;
    // "measured" is traced/bare − 1 (noisy: a few % either way on a busy machine);
    // "recording share" is the recording cost measured alone × tiles / bare time.
    let reps = 7;
    for kernel in Kernel::ALL {
        println!(
            "view 1024×768, 500 iterations, {} kernel, sequential, median of {reps}",
            kernel.label()
        );
        println!(
            "{:>8} {:>8} {:>12} {:>12} {:>10} {:>18}",
            "tiling", "tiles", "bare ms", "traced ms", "measured", "recording share"
        );
        for tiling in [
            Tiling::Square { tile_px: 4 },
            Tiling::Square { tile_px: 16 },
            Tiling::Square { tile_px: 64 },
            Tiling::Bands { band_rows: 1 },
        ] {
            let settings = RenderSettings {
                view,
                tiling,
                schedule: Schedule::Sequential,
                num_workers: 1,
                kernel,
                placement: Default::default(),
            };
            let tiles = tiling.tiles(view.width_px(), view.height_px());
            let (mut bare, mut traced) = (Vec::new(), Vec::new());
            for _ in 0..reps {
                let t = Instant::now();
                let mut image = IterImage::new(&view);
                for tile in &tiles {
                    let (pixels, _) = compute_tile(kernel, &view, tile);
                    image.blit(tile, &pixels);
                }
                std::hint::black_box(&image);
                bare.push(t.elapsed().as_secs_f64());

                let t = Instant::now();
                std::hint::black_box(render(&settings, None)?);
                traced.push(t.elapsed().as_secs_f64());
            }
            let (b, tr) = (median(bare), median(traced));
            println!(
                "{:>8} {:>8} {:>12.2} {:>12.2} {:>9.2}% {:>17.3}%",
                tiling.to_string(),
                tiles.len(),
                b * 1e3,
                tr * 1e3,
                (tr / b - 1.0) * 100.0,
                per_record * tiles.len() as f64 / (b * 1e9) * 100.0
            );
        }
    }
    Ok(())
}
