//! The explorer's image on screen and pointer navigation: drag to pan, wheel
//! to zoom around the pointer, shift+drag or right-drag to box-zoom, hover a
//! tile to find its timeline bar, click it for details.

use crate::gui::explorer::Explorer;
use crate::gui::widgets::palette;
use egui::{Color32, PointerButton, Pos2, Rect, Sense, Stroke, StrokeKind, Vec2};
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

impl Explorer {
    /// The image, scaled to fit, with the navigation gestures.
    pub(crate) fn image_ui(&mut self, ui: &mut egui::Ui) {
        let Some(tex) = &self.texture else {
            // Text, not a spinner: a spinner redraws the window every frame.
            ui.label("no image yet");
            return;
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
        if resp.dragged_by(PointerButton::Primary) && !box_gesture && self.nav.box_start.is_none() {
            self.nav.pan_offset += resp.drag_delta();
        }
        if box_gesture && self.nav.box_start.is_none() {
            self.nav.box_start = resp.interact_pointer_pos().map(|p| p - resp.drag_delta());
        }
        let uv = Rect::from_min_max(Pos2::ZERO, Pos2::new(1.0, 1.0));
        painter.rect_filled(rect, 0.0, Color32::from_gray(16));
        painter.image(
            tex_id,
            rect.translate(self.nav.pan_offset),
            uv,
            Color32::WHITE,
        );

        let to_px = |p: Pos2| ((p.x - rect.left()) / scale, (p.y - rect.top()) / scale);
        if resp.drag_stopped() {
            if let Some(start) = self.nav.box_start.take() {
                if let Some(end) = resp.interact_pointer_pos().or(resp.hover_pos()) {
                    let (x0, y0) = to_px(start);
                    let (x1, y1) = to_px(end);
                    if (x1 - x0).abs() >= 4.0 && (y1 - y0).abs() >= 4.0 {
                        match self.view.boxed(
                            f64::from(x0),
                            f64::from(y0),
                            f64::from(x1),
                            f64::from(y1),
                        ) {
                            Ok(v) => self.set_view(v, true),
                            Err(e) => self.input_error = Some(format!("cannot zoom further: {e}")),
                        }
                    }
                }
            } else if self.nav.pan_offset != Vec2::ZERO {
                let d = self.nav.pan_offset / scale;
                self.nav.pan_offset = Vec2::ZERO;
                let (dx, dy) = (d.x.round(), d.y.round());
                match self.view.panned_px(f64::from(dx), f64::from(dy)) {
                    Ok(v) => {
                        if let Some(r) = &mut self.render {
                            r.canvas.shift(dx as i64, dy as i64);
                        }
                        self.set_view(v, true);
                    }
                    Err(e) => self.input_error = Some(e.to_string()),
                }
            }
        }
        if let (Some(start), Some(now)) = (self.nav.box_start, resp.interact_pointer_pos()) {
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
                match self.view.zoomed_at(f64::from(x), f64::from(y), factor) {
                    Ok(v) => {
                        let merge = self
                            .nav
                            .last_wheel
                            .is_some_and(|t| t.elapsed() < WHEEL_MERGE);
                        self.nav.last_wheel = Some(Instant::now());
                        if merge {
                            self.history.replace_current(&v);
                        }
                        self.set_view(v, !merge);
                    }
                    Err(e) => self.input_error = Some(format!("cannot zoom further: {e}")),
                }
            }
        }

        // Tile under the pointer, linked with the timeline.
        let hovered_px = resp.hover_pos().map(to_px);
        let mut image_hover = None;
        if let (Some((x, y)), Some(r)) = (hovered_px, &self.render)
            && x >= 0.0
            && y >= 0.0
        {
            image_hover = r.canvas.tile_at(x as u32, y as u32);
        }
        if resp.clicked() && image_hover.is_some() {
            self.selected_tile = image_hover;
        }
        self.hovered_tile = image_hover;
        if let Some(r) = &self.render {
            let outline = |tile: Option<u32>, colour: Color32| {
                if let Some(t) = tile.and_then(|t| r.canvas.tiles.get(t as usize)) {
                    let min = rect.min + Vec2::new(t.x as f32, t.y as f32) * scale;
                    let tile_rect = Rect::from_min_size(
                        min,
                        Vec2::new(t.width as f32, t.height as f32) * scale,
                    );
                    painter.rect_stroke(
                        tile_rect.expand(1.0),
                        0.0,
                        Stroke::new(2.0, colour),
                        StrokeKind::Outside,
                    );
                }
            };
            outline(self.selected_tile, palette::WARN);
            outline(self.nav.timeline_hover.or(image_hover), palette::HIGHLIGHT);
        }
    }
}
