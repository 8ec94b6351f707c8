//! Rendering a view: settings, the assembled iteration image, and the
//! synchronous render that the CLI, benchmarks and tests use.

use crate::engine::exec::ExecError;
use crate::engine::exec::placement::Placement;
use crate::engine::exec::pool::build_pool_placed;
use crate::engine::exec::schedule::{Schedule, execute};
use crate::engine::exec::trace::{TaskRecord, Trace};
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

/// The image cut into one writable place per tile, its rows, each behind a
/// lock of its own that only the tile's one worker ever takes: workers put
/// finished tiles in place at the same time. Tiles must be a grid in
/// row-major order, as [`Tiling::tiles`] makes them.
struct TilePlaces<'r, 'a> {
    places: Vec<Mutex<TilePlace<'r, 'a>>>,
}

struct TilePlace<'r, 'a> {
    counts: &'r mut [Option<&'a mut [u32]>],
    smooth: &'r mut [Option<&'a mut [f32]>],
    record: Option<TaskRecord>,
}

/// Every tile's rows of both of an image's buffers, in tile order.
struct TileRows<'a> {
    counts: Vec<Option<&'a mut [u32]>>,
    smooth: Vec<Option<&'a mut [f32]>>,
}

impl<'a> TileRows<'a> {
    /// The two lists are made at once on `pool` if there is one (each is
    /// ~2 MB at 3840×2160 in 64-px tiles, a millisecond before any tile).
    fn new(image: &'a mut IterImage, tiles: &[Tile], pool: Option<&ThreadPool>) -> Self {
        let width = image.width_px as usize;
        let (counts, smooth) = (&mut image.counts, &mut image.smooth);
        let (counts, smooth) = match pool {
            Some(pool) => pool.join(
                || rows_by_tile(counts, width, tiles),
                || rows_by_tile(smooth, width, tiles),
            ),
            None => (
                rows_by_tile(counts, width, tiles),
                rows_by_tile(smooth, width, tiles),
            ),
        };
        TileRows { counts, smooth }
    }
}

impl<'r, 'a> TilePlaces<'r, 'a> {
    fn new(rows: &'r mut TileRows<'a>, tiles: &[Tile]) -> Self {
        let (mut counts, mut smooth) = (&mut rows.counts[..], &mut rows.smooth[..]);
        let mut places = Vec::with_capacity(tiles.len());
        for t in tiles {
            let h = (t.height as usize).min(counts.len()).min(smooth.len());
            let (c, c_rest) = std::mem::take(&mut counts).split_at_mut(h);
            let (s, s_rest) = std::mem::take(&mut smooth).split_at_mut(h);
            (counts, smooth) = (c_rest, s_rest);
            places.push(Mutex::new(TilePlace {
                counts: c,
                smooth: s,
                record: None,
            }));
        }
        TilePlaces { places }
    }

    /// Copies a finished tile into its rows and keeps its record.
    fn put(&self, record: TaskRecord, pixels: &TilePixels) {
        let Some(Ok(mut place)) = self.places.get(record.task as usize).map(Mutex::lock) else {
            return;
        };
        let place = &mut *place;
        for (row, dst) in place.counts.iter_mut().flatten().enumerate() {
            let w = dst.len();
            dst.copy_from_slice(&pixels.counts[row * w..(row + 1) * w]);
        }
        for (row, dst) in place.smooth.iter_mut().flatten().enumerate() {
            let w = dst.len();
            dst.copy_from_slice(&pixels.smooth[row * w..(row + 1) * w]);
        }
        place.record = Some(record);
    }

    /// The records of the tiles that ran, in tile order.
    fn into_records(self) -> Result<Vec<TaskRecord>, RenderError> {
        let mut records = Vec::with_capacity(self.places.len());
        for place in self.places {
            let place = place
                .into_inner()
                .map_err(|_| RenderError::WorkerPanicked)?;
            records.extend(place.record);
        }
        Ok(records)
    }
}

/// Each tile's rows of a row-major buffer `width` wide, as mutable slices,
/// all in one list: tile 0's rows top to bottom, then tile 1's, and so on
/// (one list, not one per tile: at 4-px tiles a list per tile cost more
/// than the lock it replaces). `tiles` is a grid in row-major order.
fn rows_by_tile<'a, T>(buf: &'a mut [T], width: usize, tiles: &[Tile]) -> Vec<Option<&'a mut [T]>> {
    let total: usize = tiles.iter().map(|t| t.height as usize).sum();
    let mut out: Vec<Option<&'a mut [T]>> = Vec::with_capacity(total);
    out.resize_with(total, || None);
    let mut rows = buf.chunks_mut(width.max(1));
    // The tiles of one grid row share their image rows: cut each of those
    // rows at the tiles' left edges.
    let (mut first, mut first_slot) = (0, 0);
    while first < tiles.len() {
        let (y, height) = (tiles[first].y, tiles[first].height as usize);
        let band = &tiles[first..];
        let band_len = band.iter().take_while(|t| t.y == y).count();
        for r in 0..height {
            let Some(mut row) = rows.next() else { break };
            for (k, t) in band[..band_len].iter().enumerate() {
                let w = (t.width as usize).min(row.len());
                let (seg, rest) = row.split_at_mut(w);
                if let Some(slot) = out.get_mut(first_slot + k * height + r) {
                    *slot = Some(seg);
                }
                row = rest;
            }
        }
        first += band_len;
        first_slot += band_len * height;
    }
    out
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
    let mut image = IterImage::new_on(&view, pool);
    // Workers copy each finished tile straight into its own rows of the
    // image (no second copy of the pixels is kept), with no lock shared
    // between them: with one lock for the image, 4-px tiles on 2 workers
    // read 66 ms in one run and 109 ms in the next (a convoy on the lock;
    // 1 worker took 108 ms).
    let mut rows = TileRows::new(&mut image, &tiles, pool);
    let places = TilePlaces::new(&mut rows, &tiles);
    let cancel = AtomicBool::new(false);
    let origin = Instant::now();
    execute(
        settings.schedule,
        pool,
        tiles.len(),
        &cancel,
        origin,
        |i| compute_tile(settings.kernel, &view, &tiles[i]),
        |record, pixels| places.put(record, &pixels),
    )?;
    let records = places.into_records()?;
    drop(rows);
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
    fn each_tile_gets_exactly_its_own_rows() {
        for (tiling, w, h) in [
            (Tiling::Square { tile_px: 4 }, 10, 7),
            (Tiling::Square { tile_px: 16 }, 16, 16),
            (Tiling::Square { tile_px: 3 }, 1, 1),
            (Tiling::Bands { band_rows: 2 }, 5, 5),
        ] {
            let tiles = tiling.tiles(w, h);
            let mut buf = vec![u32::MAX; (w * h) as usize];
            let mut rows = rows_by_tile(&mut buf, w as usize, &tiles).into_iter();
            for tile in &tiles {
                for _ in 0..tile.height {
                    let row = rows.next().flatten().expect("a row for every tile row");
                    assert_eq!(row.len(), tile.width as usize, "{tiling:?} {tile:?}");
                    row.fill(tile.index);
                }
            }
            assert!(rows.next().is_none(), "no rows left over");
            for t in &tiles {
                for y in t.y..t.y + t.height {
                    for x in t.x..t.x + t.width {
                        assert_eq!(
                            buf[(y * w + x) as usize],
                            t.index,
                            "{tiling:?} at ({x}, {y})"
                        );
                    }
                }
            }
        }
    }

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
