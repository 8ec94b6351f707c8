//! The speedup lab's live plots (egui_plot), drawn from the engine's plain
//! chart data so that the window and the exports show the same thing.

use crate::engine::speedup::charts::data::{
    EfficiencyMap, GranularityChart, GranularityPoint, LegendMarker, SpeedupChart, series_style,
};
use crate::engine::util::words::count_of;
use crate::gui::widgets::palette;
use crate::gui::widgets::plot_frame::{
    keep_non_negative, lab_plot, legend_row_ui, line_style, log_grid, log_tick,
};
use egui::{Align2, Color32, FontId, RichText, Sense, Stroke, Vec2};
use egui_plot::{HoverPosition, Line, LineStyle, MarkerShape, PlotPoint, Points, VLine};

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
/// The legend is a row under the plot ([`legend_row_ui`]), in value order.
pub fn speedup_plot_ui(
    ui: &mut egui::Ui,
    id: &str,
    chart: &SpeedupChart,
    height: f32,
) -> Option<usize> {
    ui.label(RichText::new(&chart.title).strong());
    let response = lab_plot(id)
        .height(height)
        .x_axis_label("workers P")
        .y_axis_label("speedup T1/TP")
        .include_x(0.0)
        .include_x(chart.x_max * 1.03)
        .include_y(0.0)
        .include_y(chart.y_max)
        .label_formatter(|pos| speedup_hover_text(chart, pos))
        .show(ui, |plot_ui| {
            keep_non_negative(plot_ui, true, true);
            let top = chart.x_max.min(chart.y_max);
            plot_ui.line(
                Line::new("ideal S = P", vec![[1.0, 1.0], [top, top]])
                    .color(palette::IDEAL)
                    .width(1.0),
            );
            for (cores, label) in chart.core_marks() {
                plot_ui.vline(
                    VLine::new(label, cores as f64)
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
                let (line, marker) = series_style(s.group);
                let shape = match marker {
                    LegendMarker::Square => MarkerShape::Square,
                    _ => MarkerShape::Circle,
                };
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
                    .style(line_style(line))
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
                    .shape(shape)
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
    legend_row_ui(ui, &chart.legend());
    ui.label(RichText::new(&chart.note).weak().small());
    response.inner
}

/// Hover text of a time-vs-granularity point: its granularity, tasks and time.
fn granularity_hover_text(chart: &GranularityChart, pos: &HoverPosition<'_>) -> Option<String> {
    let HoverPosition::NearDataPoint { position, .. } = pos else {
        return None;
    };
    let (series, point) = chart.series.iter().find_map(|s| {
        let p = s.points.iter().find(|p| {
            (p.tasks.log10() - position.x).abs() < 1e-9
                && (p.median_s * 1e3 - position.y).abs() < 1e-9
        })?;
        Some((s, p))
    })?;
    Some(format!(
        "{} · {}\n{} · median {:.3} ms (IQR {:.3}-{:.3})\nclick: open this run's trace",
        series.label,
        point.label,
        count_of(point.tasks.round() as u64, "task"),
        point.median_s * 1e3,
        point.q1_s * 1e3,
        point.q3_s * 1e3,
    ))
}

/// Time vs granularity, x = log10(tasks); returns a clicked configuration.
/// Square tiles make the solid line of each worker count; band cuts their
/// own dashed line with square markers (a band cut may have as many tasks
/// as a tile size, and so share its x).
pub fn granularity_plot_ui(
    ui: &mut egui::Ui,
    chart: &GranularityChart,
    height: f32,
) -> Option<usize> {
    ui.label(RichText::new(&chart.title).strong());
    let points = || chart.series.iter().flat_map(|s| s.points.iter());
    let x_lo = points()
        .map(|p| p.tasks.log10())
        .fold(f64::INFINITY, f64::min);
    let x_hi = points()
        .map(|p| p.tasks.log10())
        .fold(f64::NEG_INFINITY, f64::max);
    let (x_lo, x_hi) = if x_lo.is_finite() && x_hi.is_finite() {
        // At least a decade wide: one granularity alone still gets ticks.
        let mid = (x_lo + x_hi) / 2.0;
        let half = ((x_hi - x_lo) / 2.0 + 0.15).max(0.5);
        ((mid - half).max(0.0), mid + half)
    } else {
        (0.0, 1.0)
    };
    let y_hi = points()
        .map(|p| p.q3_s.max(p.median_s) * 1e3)
        .fold(0.0, f64::max);
    let y_hi = if y_hi > 0.0 { y_hi * 1.1 } else { 1.0 };
    let response = lab_plot("speedup-granularity")
        .height(height)
        .x_axis_label("tasks per run (log scale; finer ->)")
        .y_axis_label("median time (ms)")
        .x_grid_spacer(log_grid)
        .x_axis_formatter(|mark, _| log_tick(mark))
        .include_x(x_lo)
        .include_x(x_hi)
        .include_y(0.0)
        .include_y(y_hi)
        .label_formatter(|pos| granularity_hover_text(chart, pos))
        .show(ui, |plot_ui| {
            keep_non_negative(plot_ui, true, true);
            let mut candidates = Vec::new();
            for s in &chart.series {
                let colour = palette::series(s.colour_index);
                let at = |p: &GranularityPoint| [p.tasks.log10(), p.median_s * 1e3];
                let name = GranularityChart::series_label(s);
                let (bands, tiles): (Vec<&GranularityPoint>, Vec<&GranularityPoint>) =
                    s.points.iter().partition(|p| p.band_rows.is_some());
                let tile_pts: Vec<[f64; 2]> = tiles.iter().map(|p| at(p)).collect();
                plot_ui.line(
                    Line::new(name.clone(), tile_pts.clone())
                        .color(colour)
                        .width(2.0),
                );
                plot_ui.points(
                    Points::new(name.clone(), tile_pts)
                        .color(colour)
                        .radius(3.5),
                );
                if !bands.is_empty() {
                    let band_pts: Vec<[f64; 2]> = bands.iter().map(|p| at(p)).collect();
                    plot_ui.line(
                        Line::new(name.clone(), band_pts.clone())
                            .id(("bands-line", s.workers))
                            .color(colour)
                            .style(LineStyle::dashed_loose())
                            .width(1.5),
                    );
                    plot_ui.points(
                        Points::new(name, band_pts)
                            .id(("bands", s.workers))
                            .color(colour)
                            .shape(MarkerShape::Square)
                            .radius(4.0),
                    );
                }
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
                    plot_ui.points(
                        Points::new("", vec![at(best)])
                            .id(("best", s.workers))
                            .color(colour)
                            .filled(false)
                            .radius(8.0),
                    );
                }
            }
            picked(plot_ui, &candidates)
        });
    legend_row_ui(ui, &chart.legend());
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
            count_of(*w, "worker"),
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
