//! How every plot in the window behaves and is labelled: the mouse wheel
//! scrolls the page (ctrl + wheel or a drag moves the plot, a double-click
//! resets it), axes that count time or speedup stay at or above zero,
//! ticks read apart, and legends sit in a row under the plot instead of
//! over its data.

use crate::engine::speedup::charts::data::{LegendColour, LegendEntry, LegendLine, LegendMarker};
use crate::engine::util::num::{si, tick};
use crate::gui::widgets::palette;
use egui::{Color32, Pos2, Sense, Shape, Stroke, Vec2};
use egui_plot::{GridInput, GridMark, Plot, PlotUi};

/// The hint under every plot: how to move it and how to get back.
pub const PLOT_HINT: &str = "drag: pan · ctrl + wheel: zoom · double-click: reset";

/// A plot that leaves the wheel to the page: only ctrl + wheel (zoom) or a
/// drag (pan) moves it, double-click resets it. Ticks by [`tick`]; no
/// auto-bounds margin (it would reach below zero): give headroom with
/// `include_x`/`include_y`.
pub fn lab_plot<'a>(id: &str) -> Plot<'a> {
    Plot::new(id)
        .id(plot_id(id))
        .allow_scroll(false)
        .allow_zoom(true)
        .allow_double_click_reset(true)
        .set_margin_fraction(Vec2::ZERO)
        .x_axis_formatter(|mark, _| tick(mark.value, mark.step_size))
        .y_axis_formatter(|mark, _| tick(mark.value, mark.step_size))
}

/// The egui id of the plot [`lab_plot`] made as `name` (its
/// `egui_plot::PlotMemory` holds the bounds shown last): one per name.
pub fn plot_id(name: &str) -> egui::Id {
    egui::Id::unique(("parlab-plot", name))
}

/// Marks for an axis drawn as log10 of the value: the decades, and 2 and 5
/// within each when fewer than three decades show, so that no two ticks
/// carry the same label (see [`log_tick`]).
pub fn log_grid(input: GridInput) -> Vec<GridMark> {
    let (lo, hi) = input.bounds;
    if !(lo.is_finite() && hi.is_finite()) || hi <= lo {
        return Vec::new();
    }
    let mut marks = Vec::new();
    let fine = hi - lo < 3.0;
    let mut decade = lo.floor();
    while decade <= hi.ceil() && marks.len() < 200 {
        if (lo..=hi).contains(&decade) {
            marks.push(GridMark {
                value: decade,
                step_size: 1.0,
            });
        }
        if fine {
            for m in [2f64, 5.0] {
                let v = decade + m.log10();
                if (lo..=hi).contains(&v) {
                    marks.push(GridMark {
                        value: v,
                        step_size: 0.3,
                    });
                }
            }
        }
        decade += 1.0;
    }
    marks
}

/// The label of a [`log_grid`] mark: the value it stands for, in SI steps.
pub fn log_tick(mark: GridMark) -> String {
    si(10f64.powf(mark.value))
}

/// Keeps a panned or zoomed plot at or above zero on the axes that count
/// time, speedups or workers (`x`, `y`); call inside `show`. Auto-bounded
/// axes are left alone (their bounds come from the data and the includes).
pub fn keep_non_negative(plot_ui: &mut PlotUi<'_>, x: bool, y: bool) {
    let b = plot_ui.plot_bounds();
    let auto = plot_ui.auto_bounds();
    let (min, max) = (b.min(), b.max());
    if x && !auto.x && min[0] < 0.0 && b.is_valid_x() {
        plot_ui.set_plot_bounds_x(0.0..=max[0] - min[0]);
    }
    if y && !auto.y && min[1] < 0.0 && b.is_valid_y() {
        plot_ui.set_plot_bounds_y(0.0..=max[1] - min[1]);
    }
}

/// The window's colour for a legend colour.
pub fn legend_colour(c: LegendColour) -> Color32 {
    match c {
        LegendColour::Series(i) => palette::series(i),
        LegendColour::Ideal => palette::IDEAL,
        LegendColour::Amdahl => palette::MODEL,
        LegendColour::Predicted => palette::PREDICTED,
        LegendColour::PredictedBeyond => palette::PREDICTED.gamma_multiply(0.5),
        LegendColour::Brent => palette::BOUND,
        LegendColour::CoreMark => palette::CORE_MARK,
        LegendColour::Rgb([r, g, b]) => Color32::from_rgb(r, g, b),
    }
}

/// The egui_plot line style of a legend line.
pub fn line_style(line: LegendLine) -> egui_plot::LineStyle {
    match line {
        LegendLine::Solid => egui_plot::LineStyle::Solid,
        LegendLine::Dashed => egui_plot::LineStyle::dashed_loose(),
        LegendLine::Dotted => egui_plot::LineStyle::dotted_loose(),
    }
}

/// A sample of an entry's line and marker in `rect`.
fn paint_swatch(painter: &egui::Painter, rect: egui::Rect, entry: &LegendEntry) {
    let colour = legend_colour(entry.colour);
    let stroke = Stroke::new(2.0, colour);
    let (a, b) = (rect.left_center(), rect.right_center());
    match entry.line {
        LegendLine::Solid => {
            painter.line_segment([a, b], stroke);
        }
        LegendLine::Dashed => {
            painter.extend(Shape::dashed_line(&[a, b], stroke, 6.0, 3.0));
        }
        LegendLine::Dotted => {
            painter.extend(Shape::dotted_line(&[a, b], colour, 4.0, 1.2));
        }
    }
    let c: Pos2 = rect.center();
    match entry.marker {
        LegendMarker::Circle => {
            painter.circle_filled(c, 4.0, colour);
        }
        LegendMarker::Square => {
            painter.rect_filled(
                egui::Rect::from_center_size(c, Vec2::splat(7.0)),
                0.0,
                colour,
            );
        }
        LegendMarker::Plain => {}
    }
}

/// One entry as one widget (swatch and text never split across rows), named
/// by its label for screen readers and tests.
fn entry_ui(ui: &mut egui::Ui, entry: &LegendEntry) -> egui::Response {
    let swatch = Vec2::new(26.0, 12.0);
    let gap = 4.0;
    let galley = ui.painter().layout_no_wrap(
        entry.label.clone(),
        egui::TextStyle::Small.resolve(ui.style()),
        ui.visuals().text_color(),
    );
    let size = Vec2::new(
        swatch.x + gap + galley.size().x,
        swatch.y.max(galley.size().y),
    );
    let (rect, response) = ui.allocate_exact_size(size, Sense::hover());
    if ui.is_rect_visible(rect) {
        let swatch_rect = egui::Rect::from_min_size(
            Pos2::new(rect.left(), rect.center().y - swatch.y / 2.0),
            swatch,
        );
        paint_swatch(ui.painter(), swatch_rect, entry);
        let text_at = Pos2::new(
            swatch_rect.right() + gap,
            rect.center().y - galley.size().y / 2.0,
        );
        ui.painter()
            .galley(text_at, galley, ui.visuals().text_color());
    }
    response
        .widget_info(|| egui::WidgetInfo::labeled(egui::Role::Label, true, entry.label.clone()));
    response
}

/// The legend as a wrapped row under the plot (never over its data), in
/// the given order, then [`PLOT_HINT`].
pub fn legend_row_ui(ui: &mut egui::Ui, entries: &[LegendEntry]) {
    ui.horizontal_wrapped(|ui| {
        ui.spacing_mut().item_spacing = Vec2::new(12.0, 2.0);
        for e in entries {
            entry_ui(ui, e);
        }
    });
    ui.label(egui::RichText::new(PLOT_HINT).weak().small());
}
