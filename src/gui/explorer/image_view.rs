//! The explorer's image on screen and pointer navigation: drag to pan, wheel
//! to zoom around the pointer, shift+drag or right-drag to box-zoom, hover a
//! tile to find its timeline bar, click it for details.

use crate::engine::mandelbrot::view::View;
use crate::gui::explorer::Explorer;
use crate::gui::explorer::canvas::Canvas;
use crate::gui::widgets::palette;
use egui::{
    Color32, PointerButton, Pos2, Rect, Sense, Stroke, StrokeKind, TextureHandle, TextureOptions,
    Vec2,
};
use std::time::{Duration, Instant};

/// Wheel steps closer together than this are one history entry.
const WHEEL_MERGE: Duration = Duration::from_millis(600);

/// Pointer state between frames.
#[derive(Default)]
pub struct NavState {
    /// Screen offset of the image while panning.
    pan_offset: Vec2,
    /// Box-zoom corners in screen coordinates.
    box_start: Option<Pos2>,
    last_wheel: Option<Instant>,
    /// Tile hovered in the timeline (highlighted in the image).
    pub timeline_hover: Option<u32>,
}

/// What the pointer asked for in one frame; the explorer applies it.
#[derive(Debug, Default)]
pub struct ImageResponse {
    /// New views to show, in order (pan or box zoom, then wheel zoom), or
    /// why a gesture could not go there.
    pub navigation: Vec<Result<Navigation, String>>,
    /// The tile under the pointer, if any.
    pub hovered_tile: Option<u32>,
    /// A tile clicked this frame.
    pub clicked_tile: Option<u32>,
}

/// One step of navigation.
#[derive(Debug)]
pub struct Navigation {
    pub view: View,
    /// Record the view in the history as a new entry.
    pub record: bool,
    /// Replace the history's current entry first (wheel steps merged into one).
    pub replace_current: bool,
    /// Shift the canvas by this many pixels before re-rendering (a pan).
    pub shift_px: Option<(i64, i64)>,
}

/// The image, scaled to fit, with the navigation gestures. Reads the
/// explorer's state, changes only the pointer state in `nav`, and returns the
/// rest for the explorer to apply.
pub fn image_ui(
    ui: &mut egui::Ui,
    nav: &mut NavState,
    texture: Option<&TextureHandle>,
    view: &View,
    canvas: Option<&Canvas>,
    selected_tile: Option<u32>,
) -> ImageResponse {
    let mut out = ImageResponse::default();
    let Some(tex) = texture else {
        // Text, not a spinner: a spinner redraws the window every frame.
        ui.label("no image yet");
        return out;
    };
    let tex_id = tex.id();
    let size = tex.size_vec2();
    let avail = ui.available_size();
    let scale = (avail.x / size.x).min(avail.y / size.y).max(0.01);
    let (rect, resp) = ui.allocate_exact_size(size * scale, Sense::click_and_drag());
    let painter = ui.painter_at(rect);
    let box_gesture = resp.dragged_by(PointerButton::Secondary)
        || (resp.dragged_by(PointerButton::Primary) && ui.input(|i| i.modifiers.shift));

    // Pan: move the picture with the pointer; re-render on release.
    if resp.dragged_by(PointerButton::Primary) && !box_gesture && nav.box_start.is_none() {
        nav.pan_offset += resp.drag_delta();
    }
    if box_gesture && nav.box_start.is_none() {
        nav.box_start = resp.interact_pointer_pos().map(|p| p - resp.drag_delta());
    }
    let uv = Rect::from_min_max(Pos2::ZERO, Pos2::new(1.0, 1.0));
    painter.rect_filled(rect, 0.0, Color32::from_gray(16));
    painter.image(tex_id, rect.translate(nav.pan_offset), uv, Color32::WHITE);

    let to_px = |p: Pos2| ((p.x - rect.left()) / scale, (p.y - rect.top()) / scale);
    if resp.drag_stopped() {
        if let Some(start) = nav.box_start.take() {
            if let Some(end) = resp.interact_pointer_pos().or(resp.hover_pos()) {
                let (x0, y0) = to_px(start);
                let (x1, y1) = to_px(end);
                if (x1 - x0).abs() >= 4.0 && (y1 - y0).abs() >= 4.0 {
                    out.navigation.push(
                        view.boxed(f64::from(x0), f64::from(y0), f64::from(x1), f64::from(y1))
                            .map(|v| Navigation {
                                view: v,
                                record: true,
                                replace_current: false,
                                shift_px: None,
                            })
                            .map_err(|e| format!("cannot zoom further: {e}")),
                    );
                }
            }
        } else if nav.pan_offset != Vec2::ZERO {
            let d = nav.pan_offset / scale;
            nav.pan_offset = Vec2::ZERO;
            let (dx, dy) = (d.x.round(), d.y.round());
            out.navigation.push(
                view.panned_px(f64::from(dx), f64::from(dy))
                    .map(|v| Navigation {
                        view: v,
                        record: true,
                        replace_current: false,
                        shift_px: Some((dx as i64, dy as i64)),
                    })
                    .map_err(|e| e.to_string()),
            );
        }
    }
    if let (Some(start), Some(now)) = (nav.box_start, resp.interact_pointer_pos()) {
        let r = Rect::from_two_pos(start, now);
        painter.rect_filled(r, 0.0, Color32::from_white_alpha(30));
        painter.rect_stroke(
            r,
            0.0,
            Stroke::new(1.5, palette::HIGHLIGHT),
            StrokeKind::Inside,
        );
    }

    // Wheel (and pinch) zoom around the pointer.
    if let Some(p) = resp.hover_pos() {
        let (scroll, pinch) = ui.input(|i| (i.smooth_scroll_delta.y, i.zoom_delta()));
        let factor = f64::from(pinch) * (f64::from(scroll) * 0.003).exp();
        if (factor - 1.0).abs() > 1e-4 {
            let (x, y) = to_px(p);
            // The view this frame's earlier gesture chose, if any, is the one zoomed.
            let base = match out.navigation.last() {
                Some(Ok(n)) => n.view,
                _ => *view,
            };
            let zoom = base.zoomed_at(f64::from(x), f64::from(y), factor).map(|v| {
                let merge = nav.last_wheel.is_some_and(|t| t.elapsed() < WHEEL_MERGE);
                nav.last_wheel = Some(Instant::now());
                Navigation {
                    view: v,
                    record: !merge,
                    replace_current: merge,
                    shift_px: None,
                }
            });
            out.navigation
                .push(zoom.map_err(|e| format!("cannot zoom further: {e}")));
        }
    }

    // Tile under the pointer, linked with the timeline.
    let hovered_px = resp.hover_pos().map(to_px);
    let mut image_hover = None;
    if let (Some((x, y)), Some(c)) = (hovered_px, canvas)
        && x >= 0.0
        && y >= 0.0
    {
        image_hover = c.tile_at(x as u32, y as u32);
    }
    let mut selected_tile = selected_tile;
    if resp.clicked() && image_hover.is_some() {
        selected_tile = image_hover;
        out.clicked_tile = image_hover;
    }
    out.hovered_tile = image_hover;
    if let Some(c) = canvas {
        let outline = |tile: Option<u32>, colour: Color32| {
            if let Some(t) = tile.and_then(|t| c.tiles.get(t as usize)) {
                let min = rect.min + Vec2::new(t.x as f32, t.y as f32) * scale;
                let tile_rect =
                    Rect::from_min_size(min, Vec2::new(t.width as f32, t.height as f32) * scale);
                painter.rect_stroke(
                    tile_rect.expand(1.0),
                    0.0,
                    Stroke::new(2.0, colour),
                    StrokeKind::Outside,
                );
            }
        };
        outline(selected_tile, palette::WARN);
        outline(nav.timeline_hover.or(image_hover), palette::HIGHLIGHT);
    }
    out
}

/// The explorer draws its image here and applies what the pointer asked for.
impl Explorer {
    /// Uploads what changed in the canvas to the texture.
    pub(super) fn sync_texture(&mut self, ctx: &egui::Context) {
        let Some(r) = &mut self.render else { return };
        let c = &mut r.canvas;
        let size = [c.width_px() as usize, c.height_px() as usize];
        let options = TextureOptions {
            magnification: egui::TextureFilter::Nearest,
            ..TextureOptions::LINEAR
        };
        let needs_new = self.texture.as_ref().is_none_or(|t| t.size() != size);
        if needs_new {
            c.mark_all_dirty();
            if let Some((_, img)) = c.take_uploads().pop() {
                self.texture = Some(ctx.load_texture("explorer-image", img, options));
            }
            return;
        }
        if !c.has_uploads() {
            return;
        }
        if let Some(tex) = &mut self.texture {
            for (rect, img) in c.take_uploads() {
                tex.set_partial([rect.x as usize, rect.y as usize], img, options);
            }
        }
    }

    /// The image with its gestures; applies what they asked for.
    pub(super) fn image_ui(&mut self, ui: &mut egui::Ui) {
        let response = image_ui(
            ui,
            &mut self.nav,
            self.texture.as_ref(),
            &self.view,
            self.render.as_ref().map(|r| &r.canvas),
            self.selected_tile,
        );
        for step in response.navigation {
            match step {
                Ok(step) => {
                    if let (Some((dx, dy)), Some(r)) = (step.shift_px, &mut self.render) {
                        r.canvas.shift(dx, dy);
                    }
                    if step.replace_current {
                        self.history.replace_current(&step.view);
                    }
                    self.set_view(step.view, step.record);
                }
                Err(e) => self.input_error = Some(e),
            }
        }
        if response.clicked_tile.is_some() {
            self.selected_tile = response.clicked_tile;
        }
        self.hovered_tile = response.hovered_tile;
    }
}
