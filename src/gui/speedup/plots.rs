//! The speedup lab's live plots (egui_plot), drawn from the engine's plain
//! chart data so that the window and the exports show the same thing.

use crate::engine::speedup::charts::data::{EfficiencyMap, GranularityChart, SpeedupChart};
use crate::gui::widgets::palette;
use egui::{Align2, Color32, FontId, RichText, Sense, Stroke, Vec2};
use egui_plot::{
    Corner, HoverPosition, Legend, Line, LineStyle, MarkerShape, Plot, PlotPoint, Points, VLine,
};

/// Screen distance (points) within which a click picks a plot point.
const PICK_RADIUS: f32 = 12.0;

/// Finds the candidate nearest to the click, within [`PICK_RADIUS`].
fn picked(plot_ui: &egui_plot::PlotUi<'_>, candidates: &[(usize, [f64; 2])]) -> Option<usize> {
    if !plot_ui.response().clicked() {
        return None;
    }
    let pointer = plot_ui.response().interact_pointer_pos()?;
    candidates
        .iter()
        .map(|&(c, [x, y])| {
            let at = plot_ui.screen_from_plot(PlotPoint::new(x, y));
            (c, at.distance(pointer))
        })
        .filter(|(_, d)| *d <= PICK_RADIUS)
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(c, _)| c)
}

/// Hover text: for a measured point its speedup, interval and Karp–Flatt e.
fn speedup_hover_text(chart: &SpeedupChart, pos: &HoverPosition<'_>) -> Option<String> {
    let HoverPosition::NearDataPoint {
        plot_name,
        position,
        ..
    } = pos
    else {
        return None;
    };
    let label = plot_name.strip_prefix("measured ");
    let point = label.and_then(|l| {
        chart
            .series
            .iter()
            .find(|s| s.label == l)?
            .points
            .iter()
            .find(|p| (p.workers - position.x).abs() < 1e-9)
    });
    Some(match point {
        Some(p) => {
            let mut text = format!("{plot_name}\nP = {}: S = {:.2}", p.workers, p.speedup);
            if let Some([lo, hi]) = p.ci95 {
                text += &format!(" (95% CI {lo:.2}-{hi:.2})");
            }
            if let Some(e) = p.karp_flatt {
                text += &format!(
                    "\nKarp-Flatt e = {}",
                    crate::engine::speedup::results::describe_karp_flatt(e)
                );
            }
            if p.oversubscribed {
                text += "\noversubscribed";
            }
            text + "\nclick: open this run's trace"
        }
        None => format!("{plot_name}\nP = {:.1}: S = {:.2}", position.x, position.y),
    })
}

/// Speedup vs workers; returns the configuration of a clicked measured point.
pub fn speedup_plot_ui(
    ui: &mut egui::Ui,
    id: &str,
    chart: &SpeedupChart,
    height: f32,
) -> Option<usize> {
    ui.label(RichText::new(&chart.title).strong());
    let response = Plot::new(id)
        .height(height)
        .legend(Legend::default().position(Corner::LeftTop))
        .x_axis_label("workers P")
        .y_axis_label("speedup T1/TP")
        .include_x(0.0)
        .include_x(chart.x_max * 1.03)
        .include_y(0.0)
        .include_y(chart.y_max)
        .allow_scroll(false)
        .label_formatter(|pos| speedup_hover_text(chart, pos))
        .show(ui, |plot_ui| {
            let top = chart.x_max.min(chart.y_max);
            plot_ui.line(
                Line::new("ideal S = P", vec![[1.0, 1.0], [top, top]])
                    .color(palette::IDEAL)
                    .width(1.0),
            );
            let mut marks = vec![(chart.physical_cores, "physical cores")];
            if chart.logical_cores != chart.physical_cores {
                marks.push((chart.logical_cores, "logical cores"));
            } else {
                marks[0].1 = "cores (physical = logical)";
            }
            for (cores, label) in marks {
                plot_ui.vline(
                    VLine::new(format!("{label} ({cores})"), cores as f64)
                        .color(palette::CORE_MARK)
                        .style(LineStyle::dotted_loose()),
                );
            }
            if let Some(a) = &chart.amdahl {
                plot_ui.line(
                    Line::new(
                        a.label.clone(),
                        a.points.iter().map(|&(x, y)| [x, y]).collect::<Vec<_>>(),
                    )
                    .color(palette::MODEL)
                    .width(1.0),
                );
            }
            if let Some(p) = &chart.predicted {
                // Beyond the physical cores no measurement backs the
                // prediction: drawn dotted and paler, and named so.
                let (within, beyond) = p.split_at_cores(chart.physical_cores);
                plot_ui.line(
                    Line::new(
                        within.label.clone(),
                        within
                            .points
                            .iter()
                            .map(|&(x, y)| [x, y])
                            .collect::<Vec<_>>(),
                    )
                    .color(palette::PREDICTED)
                    .style(LineStyle::dashed_loose())
                    .width(2.0),
                );
                if let Some(b) = beyond {
                    plot_ui.line(
                        Line::new(
                            b.label.clone(),
                            b.points.iter().map(|&(x, y)| [x, y]).collect::<Vec<_>>(),
                        )
                        .color(palette::PREDICTED.gamma_multiply(0.5))
                        .style(LineStyle::dotted_loose())
                        .width(1.5),
                    );
                }
            }
            if let Some(b) = &chart.brent {
                plot_ui.line(
                    Line::new(
                        b.label.clone(),
                        b.points.iter().map(|&(x, y)| [x, y]).collect::<Vec<_>>(),
                    )
                    .color(palette::BOUND)
                    .style(LineStyle::dashed_dense())
                    .width(1.5),
                );
            }
            let mut candidates = Vec::new();
            for s in &chart.series {
                let colour = palette::series(s.colour_index);
                let name = format!("measured {}", s.label);
                plot_ui.line(
                    Line::new(
                        name.clone(),
                        s.points
                            .iter()
                            .map(|p| [p.workers, p.speedup])
                            .collect::<Vec<_>>(),
                    )
                    .color(colour)
                    .width(2.0),
                );
                for (k, p) in s.points.iter().enumerate() {
                    if let Some([lo, hi]) = p.bar {
                        plot_ui.line(
                            Line::new("", vec![[p.workers, lo], [p.workers, hi]])
                                .id(("bar", s.colour_index, k))
                                .color(colour)
                                .width(1.0),
                        );
                    }
                    candidates.push((p.config, [p.workers, p.speedup]));
                }
                let (over, within): (Vec<_>, Vec<_>) =
                    s.points.iter().partition(|p| p.oversubscribed);
                plot_ui.points(
                    Points::new(
                        name.clone(),
                        within
                            .iter()
                            .map(|p| [p.workers, p.speedup])
                            .collect::<Vec<_>>(),
                    )
                    .color(colour)
                    .shape(MarkerShape::Circle)
                    .radius(4.0),
                );
                if !over.is_empty() {
                    plot_ui.points(
                        Points::new(
                            name,
                            over.iter()
                                .map(|p| [p.workers, p.speedup])
                                .collect::<Vec<_>>(),
                        )
                        .id(("over", s.colour_index))
                        .color(colour)
                        .shape(MarkerShape::Diamond)
                        .filled(false)
                        .radius(6.0),
                    );
                }
            }
            picked(plot_ui, &candidates)
        });
    ui.label(RichText::new(&chart.note).weak().small());
    response.inner
}

/// Time vs granularity, x = log10(tasks); returns a clicked configuration.
pub fn granularity_plot_ui(
    ui: &mut egui::Ui,
    chart: &GranularityChart,
    height: f32,
) -> Option<usize> {
    ui.label(RichText::new(&chart.title).strong());
    let response = Plot::new("speedup-granularity")
        .height(height)
        .legend(Legend::default().position(Corner::RightTop))
        .x_axis_label("tasks per run (log scale; finer ->)")
        .y_axis_label("median time (ms)")
        .x_axis_formatter(|mark, _| {
            let v = 10f64.powf(mark.value);
            if v >= 1000.0 {
                format!("{:.0}k", v / 1000.0)
            } else {
                format!("{v:.0}")
            }
        })
        .include_y(0.0)
        .allow_scroll(false)
        .show(ui, |plot_ui| {
            let mut candidates = Vec::new();
            for s in &chart.series {
                let colour = palette::series(s.colour_index);
                let pts: Vec<[f64; 2]> = s
                    .points
                    .iter()
                    .map(|p| [p.tasks.log10(), p.median_s * 1e3])
                    .collect();
                let name = match s.best.and_then(|b| s.points.get(b)) {
                    Some(best) => format!("{} (best: {})", s.label, best.label),
                    None => s.label.clone(),
                };
                plot_ui.line(
                    Line::new(name.clone(), pts.clone())
                        .color(colour)
                        .width(2.0),
                );
                plot_ui.points(Points::new(name, pts).color(colour).radius(3.5));
                for (k, p) in s.points.iter().enumerate() {
                    let x = p.tasks.log10();
                    plot_ui.line(
                        Line::new("", vec![[x, p.q1_s * 1e3], [x, p.q3_s * 1e3]])
                            .id(("iqr", s.workers, k))
                            .color(colour)
                            .width(1.0),
                    );
                    candidates.push((p.config, [x, p.median_s * 1e3]));
                }
                if let Some(best) = s.best.and_then(|b| s.points.get(b)) {
                    let at = [best.tasks.log10(), best.median_s * 1e3];
                    plot_ui.points(
                        Points::new("", vec![at])
                            .id(("best", s.workers))
                            .color(colour)
                            .filled(false)
                            .radius(8.0),
                    );
                }
            }
            picked(plot_ui, &candidates)
        });
    ui.label(RichText::new(&chart.note).weak().small());
    response.inner
}

/// Efficiency as a coloured grid, workers (rows) × granularity (columns).
pub fn efficiency_map_ui(ui: &mut egui::Ui, map: &EfficiencyMap) {
    ui.label(RichText::new("Efficiency S/P (workers × granularity)").strong());
    if map.workers.is_empty() || map.granularities.is_empty() {
        return;
    }
    let label_w = 70.0;
    let cell = Vec2::new(
        ((ui.available_width() - label_w) / map.granularities.len() as f32).clamp(36.0, 90.0),
        22.0,
    );
    let size = Vec2::new(
        label_w + cell.x * map.granularities.len() as f32,
        cell.y * (map.workers.len() + 1) as f32,
    );
    let (rect, _) = ui.allocate_exact_size(size, Sense::hover());
    let painter = ui.painter_at(rect);
    let font = FontId::proportional(12.0);
    let text = ui.visuals().text_color();
    for (j, g) in map.granularities.iter().enumerate() {
        let at = rect.min + Vec2::new(label_w + cell.x * (j as f32 + 0.5), cell.y * 0.5);
        painter.text(at, Align2::CENTER_CENTER, g, font.clone(), text);
    }
    for (i, w) in map.workers.iter().enumerate() {
        let y = cell.y * (i + 1) as f32;
        painter.text(
            rect.min + Vec2::new(label_w - 6.0, y + cell.y * 0.5),
            Align2::RIGHT_CENTER,
            format!("{w} workers"),
            font.clone(),
            text,
        );
        for (j, e) in map.cells[i].iter().enumerate() {
            let r = egui::Rect::from_min_size(
                rect.min + Vec2::new(label_w + cell.x * j as f32, y),
                cell,
            )
            .shrink(1.0);
            match e {
                Some(e) => {
                    painter.rect_filled(r, 2.0, palette::efficiency(*e));
                    painter.text(
                        r.center(),
                        Align2::CENTER_CENTER,
                        format!("{e:.2}"),
                        font.clone(),
                        Color32::BLACK,
                    );
                }
                None => {
                    painter.rect_stroke(
                        r,
                        2.0,
                        Stroke::new(1.0, palette::IDLE),
                        egui::StrokeKind::Inside,
                    );
                }
            }
        }
    }
}
