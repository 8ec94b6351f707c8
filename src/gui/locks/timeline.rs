//! The contention timeline, drawn as Tracy draws locks: one lane per thread,
//! red while waiting for the lock, yellow while holding it with others
//! waiting, green while holding it with nobody waiting.

use crate::engine::locks::contention::{ContentionTimeline, Span};
use crate::gui::widgets::palette;
use egui::{Align2, FontId, Pos2, Rect, Sense, Vec2};

const LABEL_W: f32 = 40.0;
const LANE_H: f32 = 22.0;

pub fn timeline_ui(ui: &mut egui::Ui, tl: &ContentionTimeline) {
    let lanes = tl.num_threads.max(1);
    let width = ui.available_width().max(200.0);
    let (response, painter) = ui.allocate_painter(
        Vec2::new(width, lanes as f32 * LANE_H + 18.0),
        Sense::hover(),
    );
    let rect = response.rect;
    let x0 = rect.left() + LABEL_W;
    let w = rect.right() - x0 - 4.0;
    let scale = w / tl.wall_nanos.max(1) as f32;
    let lane_top = |t: usize| rect.top() + t as f32 * LANE_H;
    for t in 0..lanes {
        let lane =
            Rect::from_min_size(Pos2::new(x0, lane_top(t) + 2.0), Vec2::new(w, LANE_H - 4.0));
        painter.rect_filled(lane, 2.0, palette::IDLE);
        painter.text(
            Pos2::new(rect.left() + 4.0, lane_top(t) + LANE_H * 0.5),
            Align2::LEFT_CENTER,
            format!("T{}", t + 1),
            FontId::proportional(13.0),
            palette::thread_label(t),
        );
    }
    let mut hovered = None;
    let pointer = response.hover_pos();
    for iv in &tl.intervals {
        let r = Rect::from_min_max(
            Pos2::new(
                x0 + iv.start_nanos as f32 * scale,
                lane_top(iv.thread) + 2.0,
            ),
            Pos2::new(
                (x0 + iv.end_nanos as f32 * scale).max(x0 + iv.start_nanos as f32 * scale + 0.5),
                lane_top(iv.thread) + LANE_H - 2.0,
            ),
        );
        painter.rect_filled(r, 0.0, palette::lock_span(iv.span));
        if pointer.is_some_and(|p| r.expand2(Vec2::new(1.0, 0.0)).contains(p)) {
            hovered = Some(*iv);
        }
    }
    let axis_y = rect.top() + lanes as f32 * LANE_H + 2.0;
    painter.text(
        Pos2::new(x0, axis_y),
        Align2::LEFT_TOP,
        "0",
        FontId::proportional(11.0),
        palette::IDEAL,
    );
    painter.text(
        Pos2::new(x0 + w, axis_y),
        Align2::RIGHT_TOP,
        format!("{:.2} ms", tl.wall_nanos as f64 * 1e-6),
        FontId::proportional(11.0),
        palette::IDEAL,
    );
    if let Some(iv) = hovered {
        response.on_hover_text(format!(
            "T{}: {} for {:.1} µs (from {:.3} ms)",
            iv.thread + 1,
            iv.span.label(),
            (iv.end_nanos - iv.start_nanos) as f64 * 1e-3,
            iv.start_nanos as f64 * 1e-6
        ));
    }
    // Key.
    ui.horizontal_wrapped(|ui| {
        for s in Span::ALL {
            ui.label(
                egui::RichText::new("■")
                    .monospace()
                    .color(palette::lock_span(s)),
            );
            ui.label(s.label());
        }
    });
    // Totals per thread.
    egui::Grid::new("contention-totals")
        .num_columns(5)
        .spacing([14.0, 2.0])
        .show(ui, |ui| {
            ui.strong("thread");
            ui.strong("waiting");
            ui.strong("held, nobody waiting");
            ui.strong("held while others wait");
            ui.strong("share of wall time waiting");
            ui.end_row();
            for (t, tot) in tl.totals().iter().enumerate() {
                ui.colored_label(palette::thread_label(t), format!("T{}", t + 1));
                ui.label(format!("{:.2} ms", tot.waiting_nanos as f64 * 1e-6));
                ui.label(format!(
                    "{:.2} ms",
                    tot.held_uncontended_nanos as f64 * 1e-6
                ));
                ui.label(format!("{:.2} ms", tot.held_contended_nanos as f64 * 1e-6));
                ui.label(format!(
                    "{:.0} %",
                    100.0 * tot.waiting_nanos as f64 / tl.wall_nanos.max(1) as f64
                ));
                ui.end_row();
            }
        });
}
