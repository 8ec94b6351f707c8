//! A reusable timeline of one run: a lane per worker, a bar per task in the
//! worker's colour, idle gaps left dark. It knows nothing about the explorer:
//! give it a [`Trace`], it tells you which task is hovered or clicked.
//!
//! Worker processes add two kinds of bar: a start-up bar per process (spawn
//! to its first message, [`LaneSpan`]) and, per task, its transfer back to
//! the master ([`Transfer`]: serialise + pipe + deserialise), drawn as a thin
//! darker strip along the bottom of the lane from the end of the task.

use crate::engine::exec::trace::{TaskRecord, Trace};
use crate::engine::farm::Transfer;
use crate::gui::widgets::palette;
use egui::{Align2, Color32, FontId, Pos2, Rect, Sense, Stroke, StrokeKind, Vec2};

/// Width of the lane-label column when the caller gives none, points.
pub const DEFAULT_LABEL_W: f32 = 64.0;
/// Height of the time axis under the lanes, points.
pub const AXIS_H: f32 = 16.0;

/// What the caller wants drawn besides the trace.
#[derive(Clone, Copy, Debug, Default)]
pub struct TimelineOptions<'a> {
    /// Task to highlight (e.g. hovered in the image).
    pub highlight_task: Option<u32>,
    /// Task selected by a click, outlined.
    pub selected_task: Option<u32>,
    /// Draws a vertical line here (replay position).
    pub cursor_nanos: Option<u64>,
    /// Lane height in points.
    pub lane_height: f32,
    /// What a task is called in the hover text (`chunk`); empty: `tile`.
    pub task_label: &'static str,
    /// The unit of a task's work in the hover text (`divisions`); empty: `iterations`.
    pub work_unit: &'static str,
    /// A name per lane (`ForkPoolWorker-3 pid 4812`), drawn as labels
    /// (truncated to the column, whole on hover); `None`: `worker N`.
    pub lane_labels: Option<&'a [String]>,
    /// Width of the label column, points; 0: [`DEFAULT_LABEL_W`].
    pub label_width: f32,
    /// Worker-process start-up bars, in the trace's time base.
    pub startups: &'a [LaneSpan],
    /// Each task's transfer to the master, in the trace's time base
    /// (`worker` is the lane).
    pub transfers: &'a [Transfer],
}

/// A bar in a lane that is not a task: a worker process's start-up.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LaneSpan {
    pub lane: u32,
    pub start_nanos: u64,
    pub end_nanos: u64,
    /// Shown when the bar is hovered.
    pub hover: String,
}

/// Share of the lane height a start-up bar takes (centred).
const STARTUP_BAR_H: f32 = 0.5;
/// Share of the lane height a transfer strip takes (at the bottom).
const TRANSFER_BAR_H: f32 = 0.4;

/// What happened in the widget this frame.
#[derive(Clone, Copy, Debug)]
pub struct TimelineResponse {
    pub hovered_task: Option<u32>,
    pub clicked_task: Option<u32>,
    /// Where the lanes were drawn (time 0 at the left edge, the trace's wall
    /// time at the right, lane `i` at `top + i * lane_height`), for callers
    /// that draw over them.
    pub plot_rect: Rect,
}

/// Per-trace preparation (records split into lanes, sorted by start),
/// cached between frames. Records only ever get appended to a live trace, so
/// new ones are added incrementally; any other change rebuilds.
#[derive(Default)]
pub struct TimelineCache {
    /// (workers, first record, records seen).
    key: (u32, Option<TaskRecord>, usize),
    lanes: Vec<Vec<TaskRecord>>,
}

impl TimelineCache {
    fn lanes(&mut self, trace: &Trace) -> &[Vec<TaskRecord>] {
        let first = trace.records.first().copied();
        let (workers, cached_first, seen) = self.key;
        let same_run = workers == trace.num_workers
            && cached_first == first
            && seen <= trace.records.len()
            && !self.lanes.is_empty();
        if !same_run {
            self.lanes = vec![Vec::new(); trace.num_workers.max(1) as usize];
            self.key = (trace.num_workers, first, 0);
        }
        let mut unsorted = false;
        for r in &trace.records[self.key.2..] {
            if let Some(l) = self.lanes.get_mut(r.worker as usize) {
                // A worker runs its tiles one after another, so arrival order
                // is start order; a trace from elsewhere may not be.
                unsorted |= l.last().is_some_and(|p| p.start_nanos > r.start_nanos);
                l.push(*r);
            }
        }
        if unsorted {
            for l in &mut self.lanes {
                l.sort_by_key(|r| r.start_nanos);
            }
        }
        self.key.2 = trace.records.len();
        &self.lanes
    }
}

/// Formats nanoseconds as ms with sensible precision.
pub fn fmt_ms(nanos: u64) -> String {
    let ms = nanos as f64 / 1e6;
    if ms >= 100.0 {
        format!("{ms:.0} ms")
    } else if ms >= 1.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.3} ms")
    }
}

/// Draws the timeline for `trace` across the available width.
pub fn timeline_ui(
    ui: &mut egui::Ui,
    trace: &Trace,
    cache: &mut TimelineCache,
    opts: TimelineOptions<'_>,
) -> TimelineResponse {
    let lane_h = if opts.lane_height > 0.0 {
        opts.lane_height
    } else {
        14.0
    };
    let num_lanes = trace.num_workers.max(1) as usize;
    let label_w = if opts.label_width > 0.0 {
        opts.label_width
    } else {
        DEFAULT_LABEL_W
    };
    let axis_h = AXIS_H;
    let width = ui.available_width().max(label_w + 50.0);
    let height = num_lanes as f32 * lane_h + axis_h;
    let (rect, response) = ui.allocate_exact_size(Vec2::new(width, height), Sense::click());
    let painter = ui.painter_at(rect);
    let plot = Rect::from_min_max(
        Pos2::new(rect.left() + label_w, rect.top()),
        Pos2::new(rect.right() - 4.0, rect.bottom() - axis_h),
    );
    let wall = trace.wall_nanos.max(1) as f64;
    let x_of = |t: u64| plot.left() + (t as f64 / wall) as f32 * plot.width();
    let t_of = |x: f32| (((x - plot.left()) / plot.width()).clamp(0.0, 1.0) as f64 * wall) as u64;
    let font = FontId::proportional(11.0);
    let text_colour = ui.visuals().text_color();

    let lanes = cache.lanes(trace);
    let pointer = response.hover_pos();
    let mut hovered: Option<TaskRecord> = None;
    let mut hovered_transfer: Option<Transfer> = None;
    let mut hovered_startup: Option<&LaneSpan> = None;
    for (w, lane) in lanes.iter().enumerate() {
        let top = plot.top() + w as f32 * lane_h;
        let lane_rect = Rect::from_min_max(
            Pos2::new(plot.left(), top + 1.0),
            Pos2::new(plot.right(), top + lane_h - 1.0),
        );
        painter.rect_filled(lane_rect, 0.0, palette::IDLE);
        match opts.lane_labels.and_then(|l| l.get(w)) {
            Some(name) => {
                // A real label (not painted text): it can be hovered for the
                // whole name and found by its text.
                let cell = Rect::from_min_max(
                    Pos2::new(rect.left() + 2.0, top),
                    Pos2::new(plot.left() - 2.0, top + lane_h),
                );
                let mut child = ui.new_child(
                    egui::UiBuilder::new()
                        .max_rect(cell)
                        .layout(egui::Layout::left_to_right(egui::Align::Center)),
                );
                // Truncated, it shows the whole name on hover.
                child.add(
                    egui::Label::new(
                        egui::RichText::new(name)
                            .size(11.0)
                            .color(palette::worker(w as u32)),
                    )
                    .truncate(),
                );
            }
            None => {
                painter.text(
                    Pos2::new(rect.left() + 2.0, top + lane_h * 0.5),
                    Align2::LEFT_CENTER,
                    format!("worker {w}"),
                    font.clone(),
                    palette::worker(w as u32),
                );
            }
        }
        for s in opts.startups.iter().filter(|s| s.lane as usize == w) {
            painter.rect_filled(startup_rect(lane_rect, s, x_of), 0.0, palette::STARTUP);
        }
        let colour = palette::worker(w as u32);
        // Bars narrower than a pixel are merged into runs so that a
        // million tiles cost at most one shape per pixel column.
        let mut run: Option<(f32, f32)> = None;
        for r in lane {
            let x0 = x_of(r.start_nanos);
            let x1 = x_of(r.end_nanos).max(x0 + 1.0);
            match &mut run {
                Some((_, end)) if x0 <= *end + 0.5 => *end = end.max(x1),
                _ => {
                    if let Some((a, b)) = run.take() {
                        painter.rect_filled(bar(lane_rect, a, b), 0.0, colour);
                    }
                    run = Some((x0, x1));
                }
            }
        }
        if let Some((a, b)) = run {
            painter.rect_filled(bar(lane_rect, a, b), 0.0, colour);
        }
        if let Some(p) = pointer
            && p.y >= top
            && p.y < top + lane_h
        {
            let t = t_of(p.x);
            // Task under the pointer, or the nearest within 3 px.
            let slack = (3.0 / plot.width().max(1.0)) as f64 * wall;
            let near = |start: u64, end: u64| {
                (start as f64 - slack) <= t as f64 && t as f64 <= end as f64 + slack
            };
            // A transfer strip (drawn over the next task) or a start-up bar
            // (before the first) under the pointer wins over a task nearby.
            if p.y >= transfer_rect(lane_rect, 0.0, 0.0).top() {
                hovered_transfer = opts
                    .transfers
                    .iter()
                    .filter(|x| x.worker as usize == w && near(x.start_nanos, x.end_nanos))
                    .min_by_key(|x| {
                        let inside = x.start_nanos <= t && t <= x.end_nanos;
                        if inside {
                            0
                        } else {
                            x.start_nanos.abs_diff(t).min(x.end_nanos.abs_diff(t))
                        }
                    })
                    .copied();
            }
            hovered_startup = opts
                .startups
                .iter()
                .find(|s| s.lane as usize == w && s.start_nanos <= t && t <= s.end_nanos);
            let i = lane.partition_point(|r| r.start_nanos <= t);
            let candidates = lane[i.saturating_sub(1)..(i + 1).min(lane.len())].iter();
            hovered = candidates
                .filter(|r| near(r.start_nanos, r.end_nanos))
                .min_by_key(|r| r.start_nanos.abs_diff(t))
                .copied();
        }
    }
    draw_transfers(&painter, opts.transfers, num_lanes, plot, lane_h, x_of);
    // Outline the highlighted and selected tasks.
    let outline = |task: Option<u32>, stroke: Stroke| {
        let Some(task) = task else { return };
        let Some(r) = trace.records.iter().find(|r| r.task == task) else {
            return;
        };
        let top = plot.top() + r.worker as f32 * lane_h;
        let x0 = x_of(r.start_nanos);
        let x1 = x_of(r.end_nanos).max(x0 + 3.0);
        painter.rect_stroke(
            Rect::from_min_max(Pos2::new(x0, top), Pos2::new(x1, top + lane_h)),
            1.0,
            stroke,
            StrokeKind::Outside,
        );
    };
    let hover_task = hovered.map(|r| r.task).or(opts.highlight_task);
    outline(hover_task, Stroke::new(2.0, palette::HIGHLIGHT));
    outline(opts.selected_task, Stroke::new(2.0, palette::WARN));

    // Time axis.
    let axis_y = plot.bottom() + 2.0;
    for k in 0..=4 {
        let t = (wall * f64::from(k) / 4.0) as u64;
        let x = x_of(t);
        painter.line_segment(
            [Pos2::new(x, plot.top()), Pos2::new(x, axis_y)],
            Stroke::new(1.0, Color32::from_gray(70)),
        );
        let align = match k {
            0 => Align2::LEFT_TOP,
            4 => Align2::RIGHT_TOP,
            _ => Align2::CENTER_TOP,
        };
        painter.text(
            Pos2::new(x, axis_y),
            align,
            fmt_ms(t),
            font.clone(),
            text_colour,
        );
    }
    if let Some(t) = opts.cursor_nanos {
        let x = x_of(t.min(trace.wall_nanos));
        painter.line_segment(
            [Pos2::new(x, plot.top()), Pos2::new(x, plot.bottom())],
            Stroke::new(2.0, palette::WARN),
        );
    }
    if let Some(x) = hovered_transfer {
        let top = plot.top() + x.worker as f32 * lane_h;
        let lane_rect = Rect::from_min_max(
            Pos2::new(plot.left(), top + 1.0),
            Pos2::new(plot.right(), top + lane_h - 1.0),
        );
        let x0 = x_of(x.start_nanos);
        let x1 = x_of(x.end_nanos).max(x0 + 3.0);
        painter.rect_stroke(
            transfer_rect(lane_rect, x0, x1),
            0.0,
            Stroke::new(1.0, palette::HIGHLIGHT),
            StrokeKind::Outside,
        );
        response
            .clone()
            .on_hover_text(transfer_summary(&x, opts.task_label));
    } else if let Some(s) = hovered_startup {
        hovered = None;
        response.clone().on_hover_text(&s.hover);
    } else if let Some(r) = hovered {
        response
            .clone()
            .on_hover_text(task_summary_as(&r, opts.task_label, opts.work_unit));
    }
    let hovered = hovered.or_else(|| {
        let x = hovered_transfer?;
        trace.records.iter().find(|r| r.task == x.task).copied()
    });
    TimelineResponse {
        hovered_task: hovered.map(|r| r.task),
        clicked_task: if response.clicked() {
            hovered.map(|r| r.task)
        } else {
            None
        },
        plot_rect: plot,
    }
}

fn bar(lane: Rect, x0: f32, x1: f32) -> Rect {
    Rect::from_min_max(Pos2::new(x0, lane.top()), Pos2::new(x1, lane.bottom()))
}

/// The thin strip along the bottom of `lane` where transfers are drawn.
fn transfer_rect(lane: Rect, x0: f32, x1: f32) -> Rect {
    let top = lane.bottom() - (lane.height() * TRANSFER_BAR_H).max(2.0);
    Rect::from_min_max(Pos2::new(x0, top), Pos2::new(x1, lane.bottom()))
}

/// A start-up bar, centred in `lane`, at least a pixel wide.
fn startup_rect(lane: Rect, s: &LaneSpan, x_of: impl Fn(u64) -> f32) -> Rect {
    let x0 = x_of(s.start_nanos);
    let x1 = x_of(s.end_nanos).max(x0 + 1.0);
    let pad = lane.height() * (1.0 - STARTUP_BAR_H) * 0.5;
    Rect::from_min_max(
        Pos2::new(x0, lane.top() + pad),
        Pos2::new(x1, lane.bottom() - pad),
    )
}

/// Every transfer as a thin darker strip in its worker's lane, merged into
/// runs (as the task bars are) so that many tiles stay cheap to draw.
fn draw_transfers(
    painter: &egui::Painter,
    transfers: &[Transfer],
    num_lanes: usize,
    plot: Rect,
    lane_h: f32,
    x_of: impl Fn(u64) -> f32,
) {
    if transfers.is_empty() {
        return;
    }
    let lane_rect = |w: usize| {
        let top = plot.top() + w as f32 * lane_h;
        Rect::from_min_max(
            Pos2::new(plot.left(), top + 1.0),
            Pos2::new(plot.right(), top + lane_h - 1.0),
        )
    };
    let mut runs: Vec<Option<(f32, f32)>> = vec![None; num_lanes];
    let flush = |w: usize, (a, b): (f32, f32)| {
        painter.rect_filled(
            transfer_rect(lane_rect(w), a, b),
            0.0,
            palette::transfer(w as u32),
        );
    };
    for x in transfers {
        let w = x.worker as usize;
        let Some(run) = runs.get_mut(w) else { continue };
        let x0 = x_of(x.start_nanos);
        let x1 = x_of(x.end_nanos).max(x0 + 1.0);
        match run {
            Some((a, end)) if x0 <= *end + 0.5 && x0 >= *a => *end = end.max(x1),
            _ => {
                if let Some(done) = run.take() {
                    flush(w, done);
                }
                *run = Some((x0, x1));
            }
        }
    }
    for (w, run) in runs.into_iter().enumerate() {
        if let Some(done) = run {
            flush(w, done);
        }
    }
}

/// One line about a task's transfer: `transfer: X ms of Y ms` (Y: compute
/// plus transfer) and its parts.
pub fn transfer_summary(x: &Transfer, task_label: &str) -> String {
    let label = if task_label.is_empty() {
        "tile"
    } else {
        task_label
    };
    format!(
        "transfer: {} of {} ({:.0} % of {label} {}, worker {}: compute {}, then serialise {} + pipe {} + deserialise {}; {:.1} kB through the pipe)",
        fmt_ms(x.transfer_nanos()),
        fmt_ms(x.compute_nanos + x.transfer_nanos()),
        x.share() * 100.0,
        x.task,
        x.worker,
        fmt_ms(x.compute_nanos),
        fmt_ms(x.serialise_nanos),
        fmt_ms(x.pipe_nanos),
        fmt_ms(x.deserialise_nanos),
        x.bytes as f64 / 1e3
    )
}

/// A colour swatch and its meaning, for a timeline's legend row.
pub fn swatch_ui(ui: &mut egui::Ui, colour: Color32, text: &str) -> egui::Response {
    ui.horizontal(|ui| {
        let (rect, _) = ui.allocate_exact_size(Vec2::new(18.0, 8.0), Sense::hover());
        ui.painter().rect_filled(rect, 0.0, colour);
        ui.label(egui::RichText::new(text).small());
    })
    .response
}

/// One line about a Mandelbrot tile: worker, start, duration, iterations.
pub fn task_summary(r: &TaskRecord) -> String {
    task_summary_as(r, "tile", "iterations")
}

/// One line about a task called `task_label` whose work counts in
/// `work_unit` (empty strings: `tile`, `iterations`).
pub fn task_summary_as(r: &TaskRecord, task_label: &str, work_unit: &str) -> String {
    let label = if task_label.is_empty() {
        "tile"
    } else {
        task_label
    };
    let unit = if work_unit.is_empty() {
        "iterations"
    } else {
        work_unit
    };
    let cpu = r.cpu.map(|c| format!(" · cpu {c}")).unwrap_or_default();
    format!(
        "{label} {} · worker {} · start {} · duration {} · {} {unit}{cpu}",
        r.task,
        r.worker,
        fmt_ms(r.start_nanos),
        fmt_ms(r.duration_nanos()),
        r.work
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transfer_hover_says_how_much_of_the_tile_it_took() {
        let x = Transfer {
            task: 7,
            worker: 1,
            start_nanos: 3_000_000,
            end_nanos: 3_400_000,
            serialise_nanos: 50_000,
            pipe_nanos: 300_000,
            deserialise_nanos: 50_000,
            compute_nanos: 1_600_000,
            bytes: 12_345,
        };
        let text = transfer_summary(&x, "");
        assert!(
            text.starts_with("transfer: 0.400 ms of 2.0 ms (20 % of tile 7, worker 1"),
            "{text}"
        );
        assert!(text.contains("serialise 0.050 ms + pipe 0.300 ms + deserialise 0.050 ms"));
        assert!(text.contains("12.3 kB"));
    }

    #[test]
    fn lanes_are_sorted_per_worker() {
        let rec = |task, worker, start| TaskRecord {
            task,
            worker,
            start_nanos: start,
            end_nanos: start + 5,
            work: 1,
            cpu: None,
        };
        let trace = Trace {
            num_workers: 2,
            wall_nanos: 100,
            records: vec![rec(0, 1, 50), rec(1, 0, 10), rec(2, 1, 5)],
        };
        let mut c = TimelineCache::default();
        let lanes = c.lanes(&trace);
        assert_eq!(lanes[0].iter().map(|r| r.task).collect::<Vec<_>>(), [1]);
        assert_eq!(lanes[1].iter().map(|r| r.task).collect::<Vec<_>>(), [2, 0]);
        // Appending extends the lanes without losing what was there.
        let mut longer = trace.clone();
        longer.records.push(rec(3, 0, 60));
        let lanes = c.lanes(&longer);
        assert_eq!(lanes[0].iter().map(|r| r.task).collect::<Vec<_>>(), [1, 3]);
        // A different run rebuilds.
        let other = Trace {
            num_workers: 1,
            wall_nanos: 10,
            records: vec![rec(7, 0, 1)],
        };
        let lanes = c.lanes(&other);
        assert_eq!(lanes.len(), 1);
        assert_eq!(lanes[0].iter().map(|r| r.task).collect::<Vec<_>>(), [7]);
    }
}
