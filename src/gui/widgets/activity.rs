//! Utilisation at a glance, drawn: the activity strip (busy workers over
//! time, as ThreadScope draws it above its lanes) and the concurrency
//! histogram (share of the wall time with k workers busy, as VTune's). The
//! figures come from [`crate::engine::exec::activity::Activity`].

use crate::engine::exec::activity::Activity;
use crate::engine::exec::trace::Trace;
use crate::gui::widgets::palette;
use egui::{Align2, FontId, Pos2, Rect, Sense, Vec2};

/// The activity of a trace, recomputed only when the trace changes.
#[derive(Default)]
pub struct ActivityCache {
    /// (records, wall, first record's start) of the trace it was made from.
    key: (usize, u64, u64),
    activity: Activity,
}

impl ActivityCache {
    pub fn get(&mut self, trace: &Trace) -> &Activity {
        let key = (
            trace.records.len(),
            trace.wall_nanos,
            trace.records.first().map_or(0, |r| r.start_nanos),
        );
        if key != self.key || self.activity.num_workers != trace.num_workers.max(1) {
            self.activity = Activity::of(trace);
            self.key = key;
        }
        &self.activity
    }
}

/// A strip `height` points tall across the width, lined up with the
/// timeline's plot area (`label_w` points of labels on the left, as the
/// timeline leaves): bar height = busy workers / workers.
pub fn activity_strip_ui(ui: &mut egui::Ui, activity: &Activity, label_w: f32, height: f32) {
    let width = ui.available_width().max(label_w + 50.0);
    let (rect, response) = ui.allocate_exact_size(Vec2::new(width, height), Sense::hover());
    let painter = ui.painter_at(rect);
    let plot = Rect::from_min_max(
        Pos2::new(rect.left() + label_w, rect.top()),
        Pos2::new(rect.right() - 4.0, rect.bottom()),
    );
    painter.rect_filled(plot, 0.0, palette::LANE_BG);
    painter.text(
        Pos2::new(rect.left() + 2.0, rect.center().y),
        Align2::LEFT_CENTER,
        "busy",
        FontId::proportional(11.0),
        ui.visuals().text_color(),
    );
    let bins = plot.width().max(1.0) as usize;
    let n = activity.num_workers.max(1) as f32;
    for (i, busy) in activity
        .binned(bins, activity.wall_nanos)
        .into_iter()
        .enumerate()
    {
        if busy <= 0.0 {
            continue;
        }
        let x = plot.left() + i as f32;
        let h = (busy / n).min(1.0) * plot.height();
        painter.rect_filled(
            Rect::from_min_max(
                Pos2::new(x, plot.bottom() - h),
                Pos2::new(x + 1.0, plot.bottom()),
            ),
            0.0,
            palette::MEASURED,
        );
    }
    response.on_hover_text(format!(
        "busy workers over time (bar height = busy / {}); mean {:.2} busy",
        crate::engine::util::words::count_of(activity.num_workers, "worker"),
        activity.mean_busy()
    ));
}

/// One small bar per k = 0..=workers: the share of the wall time with
/// exactly k workers busy.
pub fn concurrency_histogram_ui(ui: &mut egui::Ui, activity: &Activity) {
    ui.horizontal_wrapped(|ui| {
        ui.label("concurrency:").on_hover_text(
            "share of the wall time (first task start to last task end) with k workers busy",
        );
        let bar_w = 14.0;
        let bar_h = 28.0;
        for k in 0..activity.histogram_nanos.len() {
            let share = activity.share(k) as f32;
            ui.vertical(|ui| {
                let (rect, resp) = ui.allocate_exact_size(Vec2::new(bar_w, bar_h), Sense::hover());
                ui.painter().rect_filled(rect, 0.0, palette::LANE_BG);
                let h = share.clamp(0.0, 1.0) * rect.height();
                let colour = if k == 0 {
                    palette::IDLE_SHARE
                } else {
                    palette::MEASURED
                };
                ui.painter().rect_filled(
                    Rect::from_min_max(
                        Pos2::new(rect.left(), rect.bottom() - h),
                        rect.right_bottom(),
                    ),
                    0.0,
                    colour,
                );
                resp.on_hover_text(format!("{k} busy: {:.1} % of the wall time", 100.0 * share));
                ui.label(egui::RichText::new(k.to_string()).small());
            });
        }
    });
}
