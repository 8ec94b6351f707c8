//! The deadlock demo's pictures: the wait-for cycle as a small graph (threads
//! as circles, locks as squares, "holds" and "waits for" edges) and the story
//! of the run.

use crate::engine::locks::deadlock::{DeadlockReport, LOCK_NAMES, LockOrder, Outcome};
use crate::gui::widgets::palette;
use egui::{Align2, FontId, Pos2, Rect, Sense, Stroke, StrokeKind, Vec2};

/// Verdict, graph and story of one deadlock run.
pub fn report_ui(ui: &mut egui::Ui, r: &DeadlockReport) {
    match r.outcome {
        Outcome::Detected => {
            ui.colored_label(
                palette::BAD,
                egui::RichText::new(format!(
                    "deadlock detected after {:.1} ms (timeout {} ms)",
                    r.detected_after_nanos.unwrap_or(0) as f64 * 1e-6,
                    r.config.timeout_millis
                ))
                .strong(),
            );
            for e in &r.cycle {
                ui.colored_label(palette::BAD, e.describe());
            }
            cycle_graph_ui(ui, r);
        }
        Outcome::Completed => {
            ui.colored_label(
                palette::GOOD,
                egui::RichText::new(format!(
                    "completed in {:.1} ms: with a global lock order (A before B) no cycle can form",
                    r.wall_nanos as f64 * 1e-6
                ))
                .strong(),
            );
        }
    }
    egui::CollapsingHeader::new("what happened, step by step")
        .id_salt("deadlock-steps")
        .default_open(true)
        .show(ui, |ui| {
            for s in &r.steps {
                let colour = s.thread.map_or(palette::IDEAL, palette::thread_label);
                ui.horizontal_wrapped(|ui| {
                    ui.monospace(format!("{:>9.3} ms", s.time_nanos as f64 * 1e-6));
                    ui.colored_label(colour, &s.text);
                });
            }
        });
}

/// The resource-allocation picture of the cycle: T1 and T2 left and right, A on
/// top and B below; grey arrows "lock → holder", red arrows "thread → lock it waits for".
fn cycle_graph_ui(ui: &mut egui::Ui, r: &DeadlockReport) {
    let size = Vec2::new(380.0, 220.0);
    let (response, painter) = ui.allocate_painter(size, Sense::hover());
    let rect = response.rect;
    let c = rect.center();
    let thread_pos = |t: usize| {
        Pos2::new(
            if t == 0 {
                rect.left() + 50.0
            } else {
                rect.right() - 50.0
            },
            c.y,
        )
    };
    let lock_pos = |l: usize| {
        Pos2::new(
            c.x,
            if l == 0 {
                rect.top() + 30.0
            } else {
                rect.bottom() - 30.0
            },
        )
    };
    // Each label sits outside the diamond the four arrows make, anchored at
    // the corner nearest the arrow, so its text extends away from every arrow.
    let arrow = |from: Pos2, to: Pos2, colour, label: &str| {
        let dir = (to - from).normalized();
        let (a, b) = (from + dir * 24.0, to - dir * 24.0);
        painter.arrow(a, b - a, Stroke::new(2.5, colour));
        let mid = a + (b - a) * 0.5;
        let outward = (mid - c).normalized();
        let side = |v: f32| {
            if v < 0.0 {
                egui::Align::Max
            } else {
                egui::Align::Min
            }
        };
        painter.text(
            mid + outward * 8.0,
            Align2([side(outward.x), side(outward.y)]),
            label,
            FontId::proportional(12.0),
            colour,
        );
    };
    for e in &r.cycle {
        if let Some(h) = e.holds {
            arrow(lock_pos(h), thread_pos(e.thread), palette::IDEAL, "held by");
        }
        arrow(
            thread_pos(e.thread),
            lock_pos(e.waits_for),
            palette::BAD,
            "waits for",
        );
    }
    for t in 0..2 {
        painter.circle_filled(thread_pos(t), 20.0, palette::thread_label(t));
        painter.text(
            thread_pos(t),
            Align2::CENTER_CENTER,
            format!("T{}", t + 1),
            FontId::proportional(15.0),
            palette::LANE_BG,
        );
    }
    for (l, name) in LOCK_NAMES.iter().enumerate() {
        let r = Rect::from_center_size(lock_pos(l), Vec2::splat(34.0));
        painter.rect_filled(r, 4.0, palette::LANE_BG);
        painter.rect_stroke(
            r,
            4.0,
            Stroke::new(2.0, palette::HIGHLIGHT),
            StrokeKind::Inside,
        );
        painter.text(
            lock_pos(l),
            Align2::CENTER_CENTER,
            *name,
            FontId::proportional(16.0),
            palette::HIGHLIGHT,
        );
    }
}

/// One line for a lock order.
pub fn order_words(order: LockOrder) -> &'static str {
    match order {
        LockOrder::Opposite => "T1 takes A then B, T2 takes B then A",
        LockOrder::Global => "both take A then B (global lock order)",
    }
}
