//! Rendering a view: settings, the assembled iteration image, and the
//! synchronous render that the CLI, benchmarks and tests use.

use crate::engine::exec::ExecError;
use crate::engine::exec::placement::Placement;
use crate::engine::exec::pool::build_pool_placed;
use crate::engine::exec::schedule::{Schedule, execute};
use crate::engine::exec::trace::Trace;
use crate::engine::mandelbrot::kernel::{Kernel, TilePixels};
use crate::engine::mandelbrot::tiling::{Tile, Tiling};
use crate::engine::mandelbrot::view::View;
use rayon::ThreadPool;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::sync::Mutex;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

/// Everything that decides how a render runs.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct RenderSettings {
    pub view: View,
    pub tiling: Tiling,
    pub schedule: Schedule,
    pub num_workers: usize,
    pub kernel: Kernel,
    /// Free or pinned workers (threads backend only).
    pub placement: Placement,
}

impl RenderSettings {
    /// Workers that actually run: 1 for the sequential schedule.
    pub fn effective_workers(&self) -> usize {
        if self.schedule.uses_pool() {
            self.num_workers
        } else {
            1
        }
    }
}

/// Escape counts and smooth values for a whole image, row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct IterImage {
    pub width_px: u32,
    pub height_px: u32,
    pub max_iter: u32,
    pub counts: Vec<u32>,
    pub smooth: Vec<f32>,
}

impl IterImage {
    pub fn new(view: &View) -> Self {
        IterImage {
            width_px: view.width_px(),
            height_px: view.height_px(),
            max_iter: view.max_iter(),
            counts: vec![0; view.num_pixels()],
            smooth: vec![0.0; view.num_pixels()],
        }
    }

    /// [`Self::new`] with the zeros written on `pool`'s threads (on this one
    /// if `None`). A fresh image's pages are mapped on first write; here
    /// that happens in parallel, before the tiles start, instead of inside
    /// the render's blit lock, one tile at a time (at 3840×2160 it was a
    /// fifth of one worker's render time, and serial between workers).
    pub fn new_on(view: &View, pool: Option<&ThreadPool>) -> Self {
        let Some(pool) = pool else {
            return Self::new(view);
        };
        let n = view.num_pixels();
        let (mut counts, mut smooth) = (Vec::new(), Vec::new());
        pool.install(|| {
            (0..n)
                .into_par_iter()
                .map(|_| 0)
                .collect_into_vec(&mut counts);
            (0..n)
                .into_par_iter()
                .map(|_| 0.0)
                .collect_into_vec(&mut smooth);
        });
        IterImage {
            width_px: view.width_px(),
            height_px: view.height_px(),
            max_iter: view.max_iter(),
            counts,
            smooth,
        }
    }

    /// Copies a finished tile into place.
    pub fn blit(&mut self, tile: &Tile, pixels: &TilePixels) {
        let w = tile.width as usize;
        for row in 0..tile.height as usize {
            let dst = (tile.y as usize + row) * self.width_px as usize + tile.x as usize;
            self.counts[dst..dst + w].copy_from_slice(&pixels.counts[row * w..(row + 1) * w]);
            self.smooth[dst..dst + w].copy_from_slice(&pixels.smooth[row * w..(row + 1) * w]);
        }
    }
}

/// A finished render: the image and who computed what, when.
#[derive(Clone, Debug)]
pub struct Rendered {
    pub image: IterImage,
    pub tiles: Vec<Tile>,
    pub trace: Trace,
}

/// Why a render did not finish.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The pool would not start, or the schedule could not run.
    #[error(transparent)]
    Exec(#[from] ExecError),
    /// A worker panicked while holding the image.
    #[error("a worker panicked")]
    WorkerPanicked,
}

impl crate::engine::BadInput for RenderError {
    fn is_bad_input(&self) -> bool {
        match self {
            RenderError::Exec(e) => e.is_bad_input(),
            RenderError::WorkerPanicked => false,
        }
    }
}

/// Computes one tile (the task body shared by every schedule and the job).
pub fn compute_tile(kernel: Kernel, view: &View, tile: &Tile) -> (TilePixels, u64) {
    let mut pixels = TilePixels::for_tile(tile);
    let work = kernel.compute_tile(view, tile, &mut pixels);
    (pixels, work)
}

/// Renders on the calling thread, using `pool` (built here if `None`) for
/// every schedule but sequential. The pool is built before timing starts.
pub fn render(
    settings: &RenderSettings,
    pool: Option<&ThreadPool>,
) -> Result<Rendered, RenderError> {
    let owned;
    let pool = match (settings.schedule.uses_pool(), pool) {
        (false, _) => None,
        (true, Some(p)) => Some(p),
        (true, None) => {
            owned = build_pool_placed(settings.num_workers, settings.placement)?;
            Some(&owned)
        }
    };
    let view = settings.view;
    let tiles = settings.tiling.tiles(view.width_px(), view.height_px());
    // Workers blit straight into the image under a short lock (a tile memcpy),
    // so no second copy of the pixels is kept.
    let assembled = Mutex::new((
        IterImage::new_on(&view, pool),
        Vec::with_capacity(tiles.len()),
    ));
    let cancel = AtomicBool::new(false);
    let origin = Instant::now();
    execute(
        settings.schedule,
        pool,
        tiles.len(),
        &cancel,
        origin,
        |i| compute_tile(settings.kernel, &view, &tiles[i]),
        |record, pixels| {
            if let Ok(mut guard) = assembled.lock() {
                let (image, records) = &mut *guard;
                image.blit(&tiles[record.task as usize], &pixels);
                records.push(record);
            }
        },
    )?;
    let (image, records) = assembled
        .into_inner()
        .map_err(|_| RenderError::WorkerPanicked)?;
    let num_workers = pool.map_or(1, |p| p.current_num_threads()) as u32;
    Ok(Rendered {
        image,
        tiles,
        // wall = first tile start to last tile end (the timeline's axis).
        trace: Trace::from_run(num_workers, records),
    })
}

/// The plainest possible render: one loop over all pixels, no tiles, no
/// pool. Every parallel render is tested against this.
pub fn render_serial(view: &View, kernel: Kernel) -> IterImage {
    let whole = Tile {
        index: 0,
        x: 0,
        y: 0,
        width: view.width_px(),
        height: view.height_px(),
    };
    let (pixels, _) = compute_tile(kernel, view, &whole);
    IterImage {
        width_px: view.width_px(),
        height_px: view.height_px(),
        max_iter: view.max_iter(),
        counts: pixels.counts,
        smooth: pixels.smooth,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parallel_equals_serial_on_a_small_view() {
        let view = View::new((-0.6, 0.1), 2.5, 37, 23, 200).expect("view");
        let serial = render_serial(&view, Kernel::Reference);
        for schedule in Schedule::ALL {
            let r = render(
                &RenderSettings {
                    view,
                    tiling: Tiling::Square { tile_px: 7 },
                    schedule,
                    num_workers: 3,
                    kernel: Kernel::Reference,
                    placement: Default::default(),
                },
                None,
            )
            .expect("render");
            assert_eq!(r.image, serial, "{schedule}");
            assert_eq!(r.trace.records.len(), r.tiles.len());
        }
        let pool = crate::engine::exec::pool::build_pool(2).expect("pool");
        assert_eq!(IterImage::new_on(&view, Some(&pool)), IterImage::new(&view));
    }
}
