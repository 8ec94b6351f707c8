//! The explorer's image as pixels: the escape values, the coloured base image,
//! and what is on screen (base, worker overlay, replay state). Only tiles
//! that change are recoloured, and only the changed region is uploaded.

use crate::engine::exec::trace::TaskRecord;
use crate::engine::mandelbrot::colour::{Palette, overlay_tile, worker_colour};
use crate::engine::mandelbrot::kernel::TilePixels;
use crate::engine::mandelbrot::render::IterImage;
use crate::engine::mandelbrot::tiling::Tile;
use image::RgbaImage;

/// Colour of pixels not computed yet (dark, so finished tiles stand out).
pub const PENDING_RGBA: [u8; 4] = [24, 24, 28, 255];

/// Above this many dirty tiles in a frame, one bounding rectangle is uploaded
/// instead of one upload per tile.
const MAX_SEPARATE_UPLOADS: usize = 32;

/// A pixel rectangle: x, y, width, height.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PxRect {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

impl PxRect {
    pub fn of_tile(t: &Tile) -> Self {
        PxRect {
            x: t.x,
            y: t.y,
            width: t.width,
            height: t.height,
        }
    }
    fn union(self, o: PxRect) -> PxRect {
        let x0 = self.x.min(o.x);
        let y0 = self.y.min(o.y);
        let x1 = (self.x + self.width).max(o.x + o.width);
        let y1 = (self.y + self.height).max(o.y + o.height);
        PxRect {
            x: x0,
            y: y0,
            width: x1 - x0,
            height: y1 - y0,
        }
    }
}

/// The image of one render and what is shown of it.
pub struct Canvas {
    pub image: IterImage,
    pub tiles: Vec<Tile>,
    /// Trace record of each tile, once it has finished.
    pub record_of_tile: Vec<Option<TaskRecord>>,
    /// Whether a tile's computed pixels are on screen (live: finished; replay: finished by t).
    shown: Vec<bool>,
    /// Palette colours of finished tiles, no overlay, row-major RGBA.
    base: Vec<u8>,
    /// What the texture holds.
    display: Vec<u8>,
    palette: Palette,
    overlay: bool,
    dirty: Vec<PxRect>,
    /// The whole display changed: upload all of it.
    dirty_all: bool,
}

impl Canvas {
    /// A canvas for a new render. Pixels of `previous` (same size) stay on
    /// screen until their tiles are replaced, so a re-render does not flash.
    pub fn new(
        image: IterImage,
        tiles: Vec<Tile>,
        palette: Palette,
        overlay: bool,
        previous: Option<Canvas>,
    ) -> Self {
        let n = image.width_px as usize * image.height_px as usize * 4;
        // Reusing the previous pixels also spares a whole-texture upload.
        let (base, display, dirty_all) = match previous {
            Some(p) if p.base.len() == n => {
                let dirty = p.dirty_all || !p.dirty.is_empty();
                (p.base, p.display, dirty)
            }
            _ => {
                let blank: Vec<u8> = PENDING_RGBA.iter().copied().cycle().take(n).collect();
                (blank.clone(), blank, true)
            }
        };
        Canvas {
            record_of_tile: vec![None; tiles.len()],
            shown: vec![false; tiles.len()],
            image,
            tiles,
            base,
            display,
            palette,
            overlay,
            dirty: Vec::new(),
            dirty_all,
        }
    }

    pub fn width_px(&self) -> u32 {
        self.image.width_px
    }
    pub fn height_px(&self) -> u32 {
        self.image.height_px
    }
    pub fn overlay(&self) -> bool {
        self.overlay
    }
    pub fn palette(&self) -> Palette {
        self.palette
    }
    /// The RGBA bytes on screen.
    pub fn display(&self) -> &[u8] {
        &self.display
    }

    /// Stores a finished tile's values and shows it.
    pub fn put_tile(&mut self, record: TaskRecord, pixels: &TilePixels) {
        let Some(tile) = self.tiles.get(record.task as usize).copied() else {
            return;
        };
        self.image.blit(&tile, pixels);
        self.record_of_tile[tile.index as usize] = Some(record);
        self.colour_tile(&tile);
        self.set_shown(tile.index as usize, true);
    }

    /// Recolours the base pixels of one tile from the kept escape values.
    fn colour_tile(&mut self, tile: &Tile) {
        let w = self.image.width_px as usize;
        for row in tile.y as usize..(tile.y + tile.height) as usize {
            let from = row * w + tile.x as usize;
            let to = from + tile.width as usize;
            self.palette.colour_into(
                &self.image.counts[from..to],
                &self.image.smooth[from..to],
                self.image.max_iter,
                &mut self.base[from * 4..to * 4],
            );
        }
    }

    /// Shows or hides one tile's computed pixels and redraws its region.
    pub fn set_shown(&mut self, index: usize, shown: bool) {
        let Some(tile) = self.tiles.get(index).copied() else {
            return;
        };
        self.shown[index] = shown;
        self.compose_tile(&tile);
        self.dirty.push(PxRect::of_tile(&tile));
    }

    /// Writes one tile of the display from the base (plus overlay), or the pending colour.
    fn compose_tile(&mut self, tile: &Tile) {
        let w = self.image.width_px as usize;
        let index = tile.index as usize;
        let shown = self.shown[index];
        for row in tile.y as usize..(tile.y + tile.height) as usize {
            let from = (row * w + tile.x as usize) * 4;
            let to = from + tile.width as usize * 4;
            if shown {
                self.display[from..to].copy_from_slice(&self.base[from..to]);
            } else {
                for px in self.display[from..to].chunks_exact_mut(4) {
                    px.copy_from_slice(&PENDING_RGBA);
                }
            }
        }
        let worker = self.record_of_tile[index].map(|r| r.worker);
        if let (true, true, Some(worker)) = (shown, self.overlay, worker) {
            // Tint via the engine's overlay on a tile-sized image, then copy back.
            let mut patch = RgbaImage::new(tile.width, tile.height);
            for r in 0..tile.height as usize {
                let from = ((tile.y as usize + r) * w + tile.x as usize) * 4;
                let len = tile.width as usize * 4;
                patch.as_mut()[r * len..(r + 1) * len]
                    .copy_from_slice(&self.display[from..from + len]);
            }
            let local = Tile {
                x: 0,
                y: 0,
                ..*tile
            };
            overlay_tile(&mut patch, &local, worker_colour(worker));
            for r in 0..tile.height as usize {
                let from = ((tile.y as usize + r) * w + tile.x as usize) * 4;
                let len = tile.width as usize * 4;
                self.display[from..from + len]
                    .copy_from_slice(&patch.as_raw()[r * len..(r + 1) * len]);
            }
        }
    }

    /// Redraws every tile (after an overlay or palette change).
    fn compose_all(&mut self) {
        for i in 0..self.tiles.len() {
            let tile = self.tiles[i];
            if self.shown[i] || self.record_of_tile[i].is_some() {
                self.compose_tile(&tile);
            }
        }
        self.dirty.clear();
        self.dirty_all = true;
    }

    /// Colours and shows every tile that has a record (an image handed in whole).
    pub fn recolour_finished(&mut self) {
        for i in 0..self.tiles.len() {
            if self.record_of_tile[i].is_some() {
                let tile = self.tiles[i];
                self.colour_tile(&tile);
                self.shown[i] = true;
            }
        }
        self.compose_all();
    }

    pub fn set_overlay(&mut self, overlay: bool) {
        if overlay != self.overlay {
            self.overlay = overlay;
            self.compose_all();
        }
    }

    /// Recolours from the kept escape values: no re-render.
    pub fn set_palette(&mut self, palette: Palette) {
        if palette == self.palette {
            return;
        }
        self.palette = palette;
        for i in 0..self.tiles.len() {
            if self.record_of_tile[i].is_some() {
                let tile = self.tiles[i];
                self.colour_tile(&tile);
            }
        }
        self.compose_all();
    }

    /// Shows exactly the tiles finished by `t_nanos` (`None`: every finished tile).
    pub fn replay_to(&mut self, t_nanos: Option<u64>) {
        for i in 0..self.tiles.len() {
            let want = match (self.record_of_tile[i], t_nanos) {
                (None, _) => false,
                (Some(_), None) => true,
                (Some(r), Some(t)) => r.end_nanos <= t,
            };
            if want != self.shown[i] {
                self.set_shown(i, want);
            }
        }
    }

    /// Regions to upload since the last call, as images ready for the texture.
    /// Dirty tiles in the same tile row are merged into one strip; beyond
    /// [`MAX_SEPARATE_UPLOADS`] strips, one bounding rectangle is sent.
    pub fn take_uploads(&mut self) -> Vec<(PxRect, egui::ColorImage)> {
        let rects: Vec<PxRect> = if self.dirty_all {
            vec![PxRect {
                x: 0,
                y: 0,
                width: self.width_px(),
                height: self.height_px(),
            }]
        } else {
            let mut strips: Vec<PxRect> = Vec::new();
            self.dirty.sort_unstable_by_key(|r| (r.y, r.height, r.x));
            for r in &self.dirty {
                match strips.last_mut() {
                    Some(last) if last.y == r.y && last.height == r.height => {
                        *last = last.union(*r)
                    }
                    _ => strips.push(*r),
                }
            }
            if strips.len() > MAX_SEPARATE_UPLOADS {
                let first = strips[0];
                vec![strips.iter().fold(first, |a, b| a.union(*b))]
            } else {
                strips
            }
        };
        self.dirty.clear();
        self.dirty_all = false;
        rects.into_iter().map(|r| (r, self.region(r))).collect()
    }

    /// Moves the pixels on screen by (`dx`, `dy`) pixels (after a pan), so the
    /// picture stays where it was dragged until the new tiles arrive.
    pub fn shift(&mut self, dx: i64, dy: i64) {
        let (w, h) = (i64::from(self.width_px()), i64::from(self.height_px()));
        for buf in [&mut self.base, &mut self.display] {
            let old = buf.clone();
            for px in buf.chunks_exact_mut(4) {
                px.copy_from_slice(&PENDING_RGBA);
            }
            for y in 0..h {
                let sy = y - dy;
                if !(0..h).contains(&sy) {
                    continue;
                }
                let x0 = dx.max(0);
                let x1 = (w + dx).min(w);
                if x0 >= x1 {
                    continue;
                }
                let dst = ((y * w + x0) * 4) as usize;
                let src = ((sy * w + x0 - dx) * 4) as usize;
                let len = ((x1 - x0) * 4) as usize;
                buf[dst..dst + len].copy_from_slice(&old[src..src + len]);
            }
        }
        self.mark_all_dirty();
    }

    /// The next upload is the whole image (e.g. for a new texture).
    pub fn mark_all_dirty(&mut self) {
        self.dirty.clear();
        self.dirty_all = true;
    }

    /// A dirty region is pending (so the texture must be refreshed).
    pub fn has_uploads(&self) -> bool {
        self.dirty_all || !self.dirty.is_empty()
    }

    /// A region of the display as an image (alpha is always opaque, so no unmultiplying).
    fn region(&self, r: PxRect) -> egui::ColorImage {
        let w = self.image.width_px as usize;
        let mut pixels = Vec::with_capacity(r.width as usize * r.height as usize);
        for row in r.y as usize..(r.y + r.height) as usize {
            let from = (row * w + r.x as usize) * 4;
            pixels.extend(
                self.display[from..from + r.width as usize * 4]
                    .chunks_exact(4)
                    .map(|p| egui::Color32::from_rgba_premultiplied(p[0], p[1], p[2], p[3])),
            );
        }
        egui::ColorImage::new([r.width as usize, r.height as usize], pixels)
    }

    /// The finished image at full resolution, with or without the worker overlay.
    pub fn export_image(&self, overlay: bool) -> RgbaImage {
        let mut img = RgbaImage::new(self.width_px(), self.height_px());
        img.as_mut().copy_from_slice(&self.base);
        if overlay {
            for (tile, rec) in self.tiles.iter().zip(&self.record_of_tile) {
                if let Some(r) = rec {
                    overlay_tile(&mut img, tile, worker_colour(r.worker));
                }
            }
        }
        img
    }

    /// Index of the tile holding pixel (`x`, `y`).
    pub fn tile_at(&self, x: u32, y: u32) -> Option<u32> {
        // Tiles are row-major and of equal size but for the last row/column.
        let first = self.tiles.first()?;
        let (tw, th) = (first.width.max(1), first.height.max(1));
        let cols = self.image.width_px.div_ceil(tw);
        let guess = (y / th) * cols + (x / tw);
        let t = self.tiles.get(guess as usize)?;
        t.contains(x, y).then_some(t.index)
    }

    /// Number of tiles finished.
    pub fn num_finished(&self) -> usize {
        self.record_of_tile.iter().filter(|r| r.is_some()).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::exec::schedule::Schedule;
    use crate::engine::mandelbrot::kernel::Kernel;
    use crate::engine::mandelbrot::render::{RenderSettings, render};
    use crate::engine::mandelbrot::tiling::Tiling;
    use crate::engine::mandelbrot::view::View;

    fn rendered_canvas(overlay: bool) -> Canvas {
        let view = View::new((-0.6, 0.0), 3.0, 40, 30, 100).expect("view");
        let settings = RenderSettings {
            view,
            tiling: Tiling::Square { tile_px: 8 },
            schedule: Schedule::Dynamic { chunk: 1 },
            num_workers: 2,
            kernel: Kernel::Reference,
            placement: Default::default(),
        };
        let r = render(&settings, None).expect("render");
        let mut c = Canvas::new(
            IterImage::new(&view),
            r.tiles.clone(),
            Palette::Classic,
            overlay,
            None,
        );
        for rec in &r.trace.records {
            let t = r.tiles[rec.task as usize];
            let mut counts = Vec::new();
            let mut smooth = Vec::new();
            for y in t.y..t.y + t.height {
                let from = (y * view.width_px() + t.x) as usize;
                counts.extend_from_slice(&r.image.counts[from..from + t.width as usize]);
                smooth.extend_from_slice(&r.image.smooth[from..from + t.width as usize]);
            }
            c.put_tile(*rec, &TilePixels { counts, smooth });
        }
        c
    }

    #[test]
    fn assembled_base_equals_whole_image_colouring() {
        let c = rendered_canvas(false);
        let expected = Palette::Classic.colourise(&c.image);
        assert_eq!(c.display(), expected.as_raw().as_slice());
        assert_eq!(c.export_image(false), expected);
    }

    #[test]
    fn overlay_and_palette_change_the_display_and_come_back() {
        let mut c = rendered_canvas(false);
        let plain = c.display().to_vec();
        c.set_overlay(true);
        assert_ne!(c.display(), plain.as_slice());
        c.set_overlay(false);
        assert_eq!(c.display(), plain.as_slice());
        c.set_palette(Palette::Fire);
        assert_eq!(
            c.display(),
            Palette::Fire.colourise(&c.image).as_raw().as_slice()
        );
    }

    #[test]
    fn replay_hides_tiles_finished_later() {
        let mut c = rendered_canvas(false);
        c.replay_to(Some(0));
        let hidden = c
            .display()
            .chunks_exact(4)
            .filter(|p| *p == PENDING_RGBA)
            .count();
        assert!(hidden > 0);
        c.replay_to(None);
        assert_eq!(
            c.display(),
            Palette::Classic.colourise(&c.image).as_raw().as_slice()
        );
    }

    #[test]
    fn uploads_cover_the_dirty_tiles_in_strips() {
        let mut c = rendered_canvas(false);
        let _ = c.take_uploads();
        assert!(!c.has_uploads());
        c.set_shown(0, true);
        c.set_shown(2, true);
        c.set_shown(6, true); // second tile row (5 tiles per row)
        let ups = c.take_uploads();
        let rects: Vec<PxRect> = ups.iter().map(|u| u.0).collect();
        assert_eq!(
            rects,
            [
                PxRect {
                    x: 0,
                    y: 0,
                    width: 24,
                    height: 8
                },
                PxRect {
                    x: 8,
                    y: 8,
                    width: 8,
                    height: 8
                }
            ]
        );
        let w = c.width_px() as usize;
        let px = &ups[1].1.pixels[0];
        assert_eq!(
            px.to_array(),
            c.display()[(8 * w + 8) * 4..(8 * w + 8) * 4 + 4]
        );
    }

    #[test]
    fn shift_moves_pixels_and_fills_the_gap() {
        let mut c = rendered_canvas(false);
        let before = c.display().to_vec();
        let w = c.width_px() as usize;
        c.shift(3, 2);
        let at =
            |buf: &[u8], x: usize, y: usize| buf[(y * w + x) * 4..(y * w + x) * 4 + 4].to_vec();
        assert_eq!(at(c.display(), 10, 10), at(&before, 7, 8));
        assert_eq!(at(c.display(), 0, 0), PENDING_RGBA.to_vec());
        assert_eq!(at(c.display(), 2, 20), PENDING_RGBA.to_vec());
        assert!(c.has_uploads());
    }

    #[test]
    fn tile_lookup_finds_the_right_tile() {
        let c = rendered_canvas(false);
        for t in &c.tiles {
            assert_eq!(c.tile_at(t.x, t.y), Some(t.index));
            assert_eq!(
                c.tile_at(t.x + t.width - 1, t.y + t.height - 1),
                Some(t.index)
            );
        }
    }
}
