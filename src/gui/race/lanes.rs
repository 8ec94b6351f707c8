//! The interleaving view: one lane per thread, every read (circle), add (dot)
//! and write (square) in global ticket order; each read linked to the write it
//! led to; lost writes marked in the BAD colour, with the reason.

use crate::engine::race::analysis::Analysis;
use crate::engine::race::events::{Event, EventKind, EventLog, thread_name};
use crate::gui::widgets::palette;
use egui::{Align2, FontId, Pos2, Rect, Sense, Stroke, StrokeKind, Vec2};

const LABEL_W: f32 = 40.0;
const LANE_H: f32 = 46.0;
const STEP_W: f32 = 24.0;
/// Room above the first lane for the lost-write arcs.
const ARC_ROOM: f32 = 26.0;
/// Room under the last lane for the time axis.
const AXIS_H: f32 = 22.0;

/// Where events go along the lane.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, Default)]
pub enum LaneAxis {
    /// Evenly spaced in global order (the ticket): every interleaving is readable.
    #[default]
    Order,
    /// At the measured time (recorded runs only): shows how close accesses were.
    Time,
}

fn describe(e: &Event, analysis: &Analysis) -> String {
    let t = thread_name(e.thread);
    let what = match e.kind {
        EventKind::Read => format!("{t} read {}", e.value),
        EventKind::Add => format!("{t} computed {} in its local copy", e.value),
        EventKind::Write => format!("{t} wrote {}", e.value),
    };
    let time = if e.time_nanos > 0 {
        format!(", at {:.1} µs", e.time_nanos as f64 * 1e-3)
    } else {
        String::new()
    };
    let mut s = format!("{what} (ticket {}{time})", e.ticket);
    if let Some(l) = analysis.lost_of(e.ticket) {
        s.push_str("\nLOST: ");
        s.push_str(&l.explanation);
    }
    if e.kind == EventKind::Read
        && let Some(src) = analysis
            .read_sources
            .iter()
            .find(|r| r.read_ticket == e.ticket)
    {
        match src.write_ticket {
            Some(w) => s.push_str(&format!("\nsaw the write with ticket {w}")),
            None => s.push_str("\nsaw the initial value"),
        }
    }
    s
}

/// A write: a square in the thread's colour; a lost one crossed out in the BAD
/// colour on a dark square, so it never looks like a thread that happens to be red.
fn paint_write(painter: &egui::Painter, p: Pos2, colour: egui::Color32, lost: bool) {
    let r = Rect::from_center_size(p, Vec2::splat(13.0));
    if lost {
        let bad = Stroke::new(2.5, palette::BAD);
        painter.rect_filled(r, 2.0, palette::LANE_BG);
        painter.rect_stroke(r, 2.0, bad, StrokeKind::Outside);
        let c = r.shrink(2.0);
        painter.line_segment([c.left_top(), c.right_bottom()], bad);
        painter.line_segment([c.right_top(), c.left_bottom()], bad);
    } else {
        painter.rect_filled(r, 2.0, colour);
        painter.rect_stroke(
            r,
            2.0,
            Stroke::new(1.0, palette::HIGHLIGHT.gamma_multiply(0.4)),
            StrokeKind::Outside,
        );
    }
}

/// Draws the lanes; `ui` gets a horizontal scroll area when the log is long.
pub fn lanes_ui(ui: &mut egui::Ui, log: &EventLog, analysis: &Analysis, axis: LaneAxis) {
    if log.events.is_empty() {
        ui.weak("No steps yet.");
        return;
    }
    let n = log.events.len();
    let lanes = log.num_threads.max(1);
    let width = (LABEL_W + (n as f32 + 1.0) * STEP_W).max(ui.available_width() - 8.0);
    // The time axis runs from the first event to the last: the thread start-up
    // before the first access is not the race.
    let first_time = log.events.iter().map(|e| e.time_nanos).min().unwrap_or(0);
    let last_time = log.events.iter().map(|e| e.time_nanos).max().unwrap_or(0);
    let timed = axis == LaneAxis::Time && last_time > first_time;
    let height = ARC_ROOM + lanes as f32 * LANE_H + 8.0 + if timed { AXIS_H } else { 0.0 };
    egui::ScrollArea::horizontal()
        .id_salt("race-lanes-scroll")
        .stick_to_right(true)
        .show(ui, |ui| {
            let (response, painter) = ui.allocate_painter(Vec2::new(width, height), Sense::hover());
            let rect = response.rect;
            let plot_x0 = rect.left() + LABEL_W + STEP_W * 0.5;
            let plot_w = rect.right() - plot_x0 - STEP_W * 0.5;
            let span_nanos = last_time.saturating_sub(first_time).max(1) as f32;
            // Spread short logs over the width, but never wider than 3 steps apart.
            let step = (plot_w / (n.max(2) - 1) as f32).clamp(STEP_W, 3.0 * STEP_W);
            let x_of = |i: usize, e: &Event| -> f32 {
                if timed {
                    plot_x0 + plot_w * ((e.time_nanos - first_time) as f32 / span_nanos)
                } else {
                    plot_x0 + i as f32 * step
                }
            };
            let lanes_top = rect.top() + ARC_ROOM;
            let lane_y = |t: usize| lanes_top + 4.0 + (t as f32 + 0.5) * LANE_H;
            for t in 0..lanes {
                let lane = Rect::from_min_max(
                    Pos2::new(rect.left(), lane_y(t) - LANE_H * 0.5 + 2.0),
                    Pos2::new(rect.right(), lane_y(t) + LANE_H * 0.5 - 2.0),
                );
                painter.rect_filled(lane, 3.0, palette::LANE_BG);
                painter.text(
                    Pos2::new(rect.left() + 6.0, lane_y(t)),
                    Align2::LEFT_CENTER,
                    thread_name(t),
                    FontId::proportional(14.0),
                    palette::worker(t as u32),
                );
            }
            if timed {
                let axis_y = lane_y(lanes - 1) + LANE_H * 0.5 + 2.0;
                time_axis(&painter, plot_x0, plot_w, axis_y, last_time - first_time);
            }
            let pos: Vec<Pos2> = log
                .events
                .iter()
                .enumerate()
                .map(|(i, e)| Pos2::new(x_of(i, e), lane_y(e.thread)))
                .collect();
            let index_of =
                |ticket: u64| log.events.binary_search_by_key(&ticket, |e| e.ticket).ok();
            // Where each read got its value: from the write it saw (thin grey line).
            for src in &analysis.read_sources {
                if let (Some(r), Some(w)) = (
                    index_of(src.read_ticket),
                    src.write_ticket.and_then(index_of),
                ) {
                    painter.line_segment([pos[w], pos[r]], Stroke::new(1.0, palette::LINK));
                }
            }
            // Each read linked to the write (and add) it led to, under the lane.
            for (i, e) in log.events.iter().enumerate() {
                if e.kind == EventKind::Write
                    && let Some(r) = e.read_ticket.and_then(index_of)
                {
                    let colour = palette::worker(e.thread as u32);
                    let y = pos[i].y + 13.0;
                    painter.line(
                        vec![
                            Pos2::new(pos[r].x, pos[r].y + 7.0),
                            Pos2::new(pos[r].x, y),
                            Pos2::new(pos[i].x, y),
                            Pos2::new(pos[i].x, pos[i].y + 7.0),
                        ],
                        Stroke::new(1.5, colour.gamma_multiply(0.7)),
                    );
                }
            }
            // Lost writes: an arrow from the write that overwrote them.
            for l in &analysis.lost {
                if let (Some(x), Some(o)) = (
                    index_of(l.write_ticket),
                    l.overwritten_by.and_then(index_of),
                ) {
                    let (from, to) = (pos[o], pos[x]);
                    // Peaks above the higher lane's value labels, inside the room kept for it.
                    let mid = Pos2::new(
                        (from.x + to.x) * 0.5,
                        (from.y.min(to.y) - LANE_H * 0.5 - 8.0).max(rect.top() + 3.0),
                    );
                    painter.line(vec![from, mid, to], Stroke::new(2.0, palette::BAD));
                }
            }
            for (i, e) in log.events.iter().enumerate() {
                let p = pos[i];
                let colour = palette::worker(e.thread as u32);
                let lost = e.kind == EventKind::Write && analysis.is_lost(e.ticket);
                match e.kind {
                    EventKind::Read => {
                        painter.circle_filled(p, 7.0, palette::LANE_BG);
                        painter.circle_stroke(p, 7.0, Stroke::new(2.0, colour));
                    }
                    EventKind::Add => {
                        painter.circle_filled(p, 3.5, colour);
                    }
                    EventKind::Write => paint_write(&painter, p, colour, lost),
                }
                painter.text(
                    Pos2::new(p.x, p.y - 10.0),
                    Align2::CENTER_BOTTOM,
                    e.value.to_string(),
                    FontId::monospace(11.0),
                    if lost {
                        palette::BAD
                    } else {
                        palette::HIGHLIGHT.gamma_multiply(0.8)
                    },
                );
                let hit = Rect::from_center_size(p, Vec2::splat(16.0));
                ui.interact(hit, response.id.with(("event", e.ticket)), Sense::hover())
                    .on_hover_text(describe(e, analysis));
            }
        });
}

/// Ticks along the time axis: from the first event (0) to the last, at a
/// round step, labelled with their unit.
fn time_axis(painter: &egui::Painter, x0: f32, w: f32, y: f32, span_nanos: u64) {
    let colour = palette::IDEAL;
    painter.line_segment(
        [Pos2::new(x0, y), Pos2::new(x0 + w, y)],
        Stroke::new(1.0, colour),
    );
    let step = nice_step(span_nanos as f64 / 6.0);
    let (unit, scale) = if span_nanos as f64 >= 2e6 {
        ("ms", 1e-6)
    } else if span_nanos >= 2_000 {
        ("µs", 1e-3)
    } else {
        ("ns", 1.0)
    };
    let decimals = if step * scale >= 1.0 { 0 } else { 1 };
    let mut t = 0.0;
    while t <= span_nanos as f64 * 1.0001 {
        let x = x0 + w * (t / span_nanos as f64) as f32;
        painter.line_segment(
            [Pos2::new(x, y), Pos2::new(x, y + 4.0)],
            Stroke::new(1.0, colour),
        );
        painter.text(
            Pos2::new(x, y + 5.0),
            Align2::CENTER_TOP,
            format!("{:.*} {unit}", decimals, t * scale),
            FontId::proportional(11.0),
            colour,
        );
        t += step;
    }
}

/// A round step (1, 2 or 5 times a power of ten) near `raw`.
fn nice_step(raw: f64) -> f64 {
    let raw = raw.max(1.0);
    let mag = 10f64.powf(raw.log10().floor());
    let f = raw / mag;
    mag * if f < 1.5 {
        1.0
    } else if f < 3.5 {
        2.0
    } else if f < 7.5 {
        5.0
    } else {
        10.0
    }
}

/// The verdict under the lanes: final vs expected, and each lost update explained.
pub fn analysis_ui(ui: &mut egui::Ui, analysis: &Analysis) {
    let lost = analysis.lost.len();
    ui.horizontal_wrapped(|ui| {
        ui.label(format!(
            "counter {} · expected {} after {} completed increments ·",
            analysis.final_value, analysis.expected, analysis.completed_increments
        ));
        let (colour, text) = if lost == 0 {
            (palette::GOOD, "no update lost".to_string())
        } else {
            (
                palette::BAD,
                format!("{lost} update{} lost", if lost == 1 { "" } else { "s" }),
            )
        };
        ui.colored_label(colour, text);
    });
    for l in &analysis.lost {
        ui.colored_label(
            palette::BAD,
            format!("lost at ticket {}: {}", l.write_ticket, l.explanation),
        );
    }
}

/// A one-line key to the symbols.
pub fn legend_ui(ui: &mut egui::Ui) {
    // The same shapes as in the lanes, painted (the text fonts lack most of them).
    let symbol = |ui: &mut egui::Ui, kind: Option<EventKind>, lost: bool| {
        let (rect, _) = ui.allocate_exact_size(Vec2::splat(18.0), Sense::hover());
        let p = ui.painter();
        let c = rect.center();
        let colour = palette::HIGHLIGHT.gamma_multiply(0.8);
        match kind {
            Some(EventKind::Read) => {
                p.circle_stroke(c, 6.0, Stroke::new(2.0, colour));
            }
            Some(EventKind::Add) => {
                p.circle_filled(c, 3.5, colour);
            }
            _ => paint_write(p, c, colour, lost),
        }
    };
    ui.horizontal_wrapped(|ui| {
        symbol(ui, Some(EventKind::Read), false);
        ui.weak("read ·");
        symbol(ui, Some(EventKind::Add), false);
        ui.weak("add ·");
        symbol(ui, Some(EventKind::Write), false);
        ui.weak("write ·");
        symbol(ui, None, true);
        ui.colored_label(
            palette::BAD,
            "lost write (red arc from the write that overwrote it)",
        );
        ui.weak("· grey line: where a read got its value · bracket under a lane: a read and the write it led to");
    });
}

#[cfg(test)]
mod tests {
    use super::nice_step;

    #[test]
    fn steps_are_round() {
        assert_eq!(nice_step(1.2), 1.0);
        assert_eq!(nice_step(2_900.0), 2_000.0);
        assert_eq!(nice_step(4_100.0), 5_000.0);
        assert_eq!(nice_step(80.0), 100.0);
    }
}
