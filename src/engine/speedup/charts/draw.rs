//! Drawing the speedup lab's charts with plotters, to PNG or SVG from the
//! same code (the window's export buttons and `parlab bench sweep` use it).
//! Text uses the shipped font ([`crate::engine::speedup::charts::font`]).

use crate::engine::mandelbrot::colour::worker_colour;
use crate::engine::speedup::charts::data::{
    Curve, GranularityChart, LegendColour, LegendEntry, LegendLine, LegendMarker, SpeedupChart,
    series_style,
};
use crate::engine::speedup::charts::font::{FONT_FAMILY, ensure_fonts};
use crate::engine::speedup::charts::{ChartError, PlotFormatError};
use crate::engine::util::files::{ExportError, write_atomic};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::Path;

/// Default exported size in pixels.
pub const PLOT_SIZE: (u32, u32) = (1000, 650);

/// The file formats a plot can be written as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlotFormat {
    Png,
    Svg,
}

impl PlotFormat {
    /// From a path's extension (`.png` or `.svg`, any case).
    pub fn from_path(path: &Path) -> Result<Self, PlotFormatError> {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("png") => Ok(PlotFormat::Png),
            Some("svg") => Ok(PlotFormat::Svg),
            _ => Err(PlotFormatError {
                path: path.to_path_buf(),
            }),
        }
    }
}

/// A chart to draw.
#[derive(Clone, Copy, Debug)]
pub enum Chart<'a> {
    Speedup(&'a SpeedupChart),
    Granularity(&'a GranularityChart),
}

const IDEAL: RGBColor = RGBColor(150, 150, 150);
const PREDICTED: RGBColor = RGBColor(230, 130, 20);
/// The prediction beyond this machine's physical cores.
const PREDICTED_BEYOND: RGBColor = RGBColor(245, 200, 150);
const BRENT: RGBColor = RGBColor(160, 90, 200);
const AMDAHL: RGBColor = RGBColor(40, 40, 40);
const CORE_MARK: RGBColor = RGBColor(120, 120, 120);

fn series_colour(i: usize) -> RGBColor {
    let [r, g, b] = worker_colour(i as u32);
    RGBColor(r, g, b)
}

fn err<E: std::error::Error + Send + Sync + 'static>(e: DrawingAreaErrorKind<E>) -> ChartError {
    ChartError::Draw(Box::new(e))
}

fn dashed<'a, DB: DrawingBackend + 'a>(
    chart: &mut ChartContext<
        'a,
        DB,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
    curve: &Curve,
    colour: RGBColor,
) -> Result<(), ChartError>
where
    DB::ErrorType: 'static,
{
    dashed_points(chart, curve.points.iter().copied(), colour, 2)
}

fn dashed_points<'a, DB: DrawingBackend + 'a>(
    chart: &mut ChartContext<
        'a,
        DB,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
    points: impl Iterator<Item = (f64, f64)> + Clone,
    colour: RGBColor,
    width: u32,
) -> Result<(), ChartError>
where
    DB::ErrorType: 'static,
{
    chart
        .draw_series(DashedLineSeries::new(
            points,
            8,
            5,
            colour.stroke_width(width),
        ))
        .map_err(err)?;
    Ok(())
}

/// The export colour of a legend colour.
fn legend_colour(c: LegendColour) -> RGBColor {
    match c {
        LegendColour::Series(i) => series_colour(i),
        LegendColour::Ideal => IDEAL,
        LegendColour::Amdahl => AMDAHL,
        LegendColour::Predicted => PREDICTED,
        LegendColour::PredictedBeyond => PREDICTED_BEYOND,
        LegendColour::Brent => BRENT,
        LegendColour::CoreMark => CORE_MARK,
        LegendColour::Rgb([r, g, b]) => RGBColor(r, g, b),
    }
}

/// Height of one legend row, pixels.
const LEGEND_ROW_PX: u32 = 18;
/// Legend columns under the chart.
const LEGEND_COLUMNS: usize = 2;
/// Height of the footer note strip, pixels.
const FOOT_PX: u32 = 36;

/// Splits `root` into the chart body, the legend strip under it (outside
/// the data: nothing is drawn over the points) and the footer note.
pub(crate) fn layout<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    entries: usize,
) -> (
    DrawingArea<DB, Shift>,
    DrawingArea<DB, Shift>,
    DrawingArea<DB, Shift>,
) {
    let height = root.dim_in_pixel().1;
    let rows = entries.div_ceil(LEGEND_COLUMNS) as u32;
    let legend_px = rows * LEGEND_ROW_PX + 6;
    let body_px = height.saturating_sub(FOOT_PX + legend_px).max(height / 3);
    let (body, rest) = root.split_vertically(body_px);
    let (legend, foot) = rest.split_vertically(legend_px);
    (body, legend, foot)
}

/// The legend entries in columns, each with a sample of its line and marker.
pub(crate) fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[LegendEntry],
) -> Result<(), ChartError>
where
    DB::ErrorType: 'static,
{
    let width = area.dim_in_pixel().0 as i32;
    let column_px = (width - 24) / LEGEND_COLUMNS as i32;
    let rows = entries.len().div_ceil(LEGEND_COLUMNS).max(1);
    for (k, e) in entries.iter().enumerate() {
        // Column-major: reading down the first column, then the second.
        let (col, row) = (k / rows, k % rows);
        let x = 24 + col as i32 * column_px;
        let y = 4 + row as i32 * LEGEND_ROW_PX as i32 + LEGEND_ROW_PX as i32 / 2;
        let colour = legend_colour(e.colour);
        let (a, b) = ((x, y), (x + 26, y));
        match e.line {
            LegendLine::Solid => area
                .draw(&PathElement::new(vec![a, b], colour.stroke_width(2)))
                .map_err(err)?,
            LegendLine::Dashed => {
                for k in 0..3 {
                    let s = x + k * 10;
                    area.draw(&PathElement::new(
                        vec![(s, y), (s + 6, y)],
                        colour.stroke_width(2),
                    ))
                    .map_err(err)?;
                }
            }
            LegendLine::Dotted => {
                for k in 0..6 {
                    area.draw(&Circle::new((x + 1 + k * 5, y), 1, colour.filled()))
                        .map_err(err)?;
                }
            }
        }
        match e.marker {
            LegendMarker::Circle => area
                .draw(&Circle::new((x + 13, y), 4, colour.filled()))
                .map_err(err)?,
            LegendMarker::Square => area
                .draw(&Rectangle::new(
                    [(x + 9, y - 4), (x + 17, y + 4)],
                    colour.filled(),
                ))
                .map_err(err)?,
            LegendMarker::Plain => {}
        }
        area.draw(&Text::new(
            e.label.clone(),
            (x + 34, y),
            (FONT_FAMILY, 13)
                .into_font()
                .color(&BLACK)
                .pos(Pos::new(HPos::Left, VPos::Center)),
        ))
        .map_err(err)?;
    }
    Ok(())
}

/// The common ending of every chart: the legend in its strip under the
/// chart, the note in the footer strip, and presenting the drawing.
fn finish_chart<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    legend: &DrawingArea<DB, Shift>,
    entries: &[LegendEntry],
    foot: &DrawingArea<DB, Shift>,
    note: &str,
) -> Result<(), ChartError>
where
    DB::ErrorType: 'static,
{
    draw_legend(legend, entries)?;
    // A long note takes two lines, split at the "; " nearest its middle.
    let lines: Vec<&str> = match note
        .match_indices("; ")
        .map(|(i, _)| i)
        .min_by_key(|i| i.abs_diff(note.len() / 2))
    {
        Some(i) if note.len() > 140 => vec![&note[..i], &note[i + 2..]],
        _ => vec![note],
    };
    for (k, line) in lines.iter().enumerate() {
        foot.draw(&Text::new(
            (*line).to_owned(),
            (12, 4 + 15 * k as i32),
            (FONT_FAMILY, 12).into_font().color(&CORE_MARK),
        ))
        .map_err(err)?;
    }
    root.present().map_err(err)
}

/// Labels near the right edge are drawn to the left of their anchor, so
/// that none is cut off by the edge of the image.
fn near_right_edge(x: f64, x_max: f64) -> bool {
    x >= x_max * 0.8
}

/// Draws a speedup chart onto any plotters area.
pub fn draw_speedup<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    c: &SpeedupChart,
) -> Result<(), ChartError>
where
    DB::ErrorType: 'static,
{
    ensure_fonts()?;
    root.fill(&WHITE).map_err(err)?;
    let entries = c.legend();
    let (body, legend, foot) = layout(root, entries.len());
    let x_end = c.x_max * 1.03;
    let mut chart = ChartBuilder::on(&body)
        .caption(&c.title, (FONT_FAMILY, 22))
        .margin(12)
        .margin_right(24)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(0.0..x_end, 0.0..c.y_max)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("workers P")
        // Whole worker counts only: no "0.2 workers".
        .x_labels((c.x_max as usize + 1).clamp(2, 12))
        .x_label_formatter(&|v| {
            if v.fract().abs() < 1e-9 {
                format!("{v:.0}")
            } else {
                String::new()
            }
        })
        .y_desc("speedup S = T1 / TP")
        .label_style((FONT_FAMILY, 14))
        .axis_desc_style((FONT_FAMILY, 15))
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(err)?;
    // Vertical marks at the core counts.
    for (cores, label) in c.core_marks() {
        let x = cores as f64;
        if x <= x_end {
            chart
                .draw_series(DashedLineSeries::new(
                    [(x, 0.0), (x, c.y_max)],
                    4,
                    4,
                    CORE_MARK.stroke_width(1),
                ))
                .map_err(err)?;
            let (text, h) = if near_right_edge(x, x_end) {
                (format!("{label} "), HPos::Right)
            } else {
                (format!(" {label}"), HPos::Left)
            };
            chart
                .draw_series([Text::new(
                    text,
                    (x, c.y_max * 0.08),
                    (FONT_FAMILY, 13)
                        .into_font()
                        .color(&CORE_MARK)
                        .pos(Pos::new(h, VPos::Top)),
                )])
                .map_err(err)?;
        }
    }
    let ideal_top = c.x_max.min(c.y_max);
    chart
        .draw_series(LineSeries::new(
            [(1.0, 1.0), (ideal_top, ideal_top)],
            IDEAL.stroke_width(1),
        ))
        .map_err(err)?;
    if let Some(a) = &c.amdahl {
        chart
            .draw_series(LineSeries::new(
                a.points.iter().copied(),
                AMDAHL.stroke_width(1),
            ))
            .map_err(err)?;
    }
    if let Some(p) = &c.predicted {
        // Beyond the physical cores the prediction is drawn paler: no
        // measurement here can back it.
        let (within, beyond) = p.split_at_cores(c.physical_cores);
        dashed(&mut chart, &within, PREDICTED)?;
        if let Some(b) = &beyond {
            dashed(&mut chart, b, PREDICTED_BEYOND)?;
        }
    }
    if let Some(b) = &c.brent {
        dashed(&mut chart, b, BRENT)?;
    }
    for s in &c.series {
        let colour = series_colour(s.colour_index);
        let (line, marker) = series_style(s.group);
        let at = s.points.iter().map(|p| (p.workers, p.speedup));
        if line == LegendLine::Solid {
            chart
                .draw_series(LineSeries::new(at, colour.stroke_width(2)))
                .map_err(err)?;
        } else {
            dashed_points(&mut chart, at, colour, 2)?;
        }
        chart
            .draw_series(s.points.iter().filter_map(|p| {
                p.bar.map(|[lo, hi]| {
                    ErrorBar::new_vertical(p.workers, lo, p.speedup, hi, colour.stroke_width(1), 8)
                })
            }))
            .map_err(err)?;
        if marker == LegendMarker::Square {
            chart
                .draw_series(s.points.iter().map(|p| {
                    let style = if p.oversubscribed {
                        colour.stroke_width(2)
                    } else {
                        colour.filled()
                    };
                    EmptyElement::at((p.workers, p.speedup))
                        + Rectangle::new([(-5, -5), (5, 5)], style)
                }))
                .map_err(err)?;
        } else {
            chart
                .draw_series(s.points.iter().map(|p| {
                    let style = if p.oversubscribed {
                        colour.stroke_width(2)
                    } else {
                        colour.filled()
                    };
                    Circle::new((p.workers, p.speedup), 5, style)
                }))
                .map_err(err)?;
        }
        if c.annotate_karp_flatt {
            chart
                .draw_series(s.points.iter().filter_map(|p| {
                    let e = p.karp_flatt?;
                    let (dx, h) = if near_right_edge(p.workers, x_end) {
                        (-7, HPos::Right)
                    } else {
                        (7, HPos::Left)
                    };
                    Some(
                        EmptyElement::at((p.workers, p.speedup))
                            + Text::new(
                                format!("e={e:.3}"),
                                (dx, 4),
                                (FONT_FAMILY, 12)
                                    .into_font()
                                    .color(&colour)
                                    .pos(Pos::new(h, VPos::Top)),
                            ),
                    )
                }))
                .map_err(err)?;
        }
    }
    finish_chart(root, &legend, &entries, &foot, &c.note)
}

/// Draws time vs granularity (log x) onto any plotters area.
pub fn draw_granularity<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    c: &GranularityChart,
) -> Result<(), ChartError>
where
    DB::ErrorType: 'static,
{
    ensure_fonts()?;
    root.fill(&WHITE).map_err(err)?;
    let entries = c.legend();
    let (body, legend, foot) = layout(root, entries.len());
    let points = || c.series.iter().flat_map(|s| s.points.iter());
    let x_min = points().map(|p| p.tasks).fold(f64::INFINITY, f64::min);
    let x_max = points().map(|p| p.tasks).fold(0.0, f64::max);
    // At least a decade wide, so that a single granularity still has ticks.
    let (x_min, x_max) = if x_min.is_finite() && x_max > 0.0 {
        let (lo, hi) = (x_min / 1.5, x_max * 1.5);
        if hi / lo < 10.0 {
            let mid = (lo * hi).sqrt();
            ((mid / 10f64.sqrt()).max(0.5), mid * 10f64.sqrt())
        } else {
            (lo.max(0.5), hi)
        }
    } else {
        (1.0, 10.0)
    };
    let y_max = points().map(|p| p.q3_s.max(p.median_s)).fold(0.0, f64::max) * 1.15;
    let y_max = if y_max > 0.0 { y_max * 1e3 } else { 1.0 };
    let mut chart = ChartBuilder::on(&body)
        .caption(&c.title, (FONT_FAMILY, 22))
        .margin(12)
        .margin_right(24)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d((x_min..x_max).log_scale(), 0.0..y_max)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("tasks per run (log scale; finer →)")
        .x_labels(8)
        .x_label_formatter(&|v| crate::engine::util::num::si(*v))
        .y_desc("median time (ms)")
        .y_label_formatter(&|v| crate::engine::util::num::num((v * 1000.0).round() / 1000.0))
        .label_style((FONT_FAMILY, 14))
        .axis_desc_style((FONT_FAMILY, 15))
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(err)?;
    for s in &c.series {
        let colour = series_colour(s.colour_index);
        // Square tiles: the solid line; band cuts: their own dashed line and
        // square markers (a band cut may share a tile size's task count).
        let at = |p: &&crate::engine::speedup::charts::data::GranularityPoint| {
            (p.tasks, p.median_s * 1e3)
        };
        let (bands, tiles): (Vec<_>, Vec<_>) = s.points.iter().partition(|p| p.band_rows.is_some());
        chart
            .draw_series(LineSeries::new(
                tiles.iter().map(at),
                colour.stroke_width(2),
            ))
            .map_err(err)?;
        if bands.len() > 1 {
            chart
                .draw_series(DashedLineSeries::new(
                    bands.iter().map(at),
                    8,
                    5,
                    colour.stroke_width(2),
                ))
                .map_err(err)?;
        }
        chart
            .draw_series(bands.iter().map(|p| {
                EmptyElement::at(at(p)) + Rectangle::new([(-4, -4), (4, 4)], colour.filled())
            }))
            .map_err(err)?;
        chart
            .draw_series(s.points.iter().map(|p| {
                ErrorBar::new_vertical(
                    p.tasks,
                    p.q1_s * 1e3,
                    p.median_s * 1e3,
                    p.q3_s * 1e3,
                    colour.stroke_width(1),
                    6,
                )
            }))
            .map_err(err)?;
        chart
            .draw_series(
                tiles
                    .iter()
                    .map(|p| Circle::new((p.tasks, p.median_s * 1e3), 4, colour.filled())),
            )
            .map_err(err)?;
        if let Some(best) = s.best.and_then(|b| s.points.get(b)) {
            let at = (best.tasks, best.median_s * 1e3);
            chart
                .draw_series([Circle::new(at, 10, colour.stroke_width(2))])
                .map_err(err)?;
        }
    }
    finish_chart(root, &legend, &entries, &foot, &c.note)
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    chart: Chart<'_>,
) -> Result<(), ChartError>
where
    DB::ErrorType: 'static,
{
    match chart {
        Chart::Speedup(c) => draw_speedup(root, c),
        Chart::Granularity(c) => draw_granularity(root, c),
    }
}

/// PNG bytes of a chart.
pub fn png_bytes(chart: Chart<'_>, size: (u32, u32)) -> Result<Vec<u8>, ChartError> {
    let mut rgb = vec![255u8; size.0 as usize * size.1 as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area();
        draw(&root, chart)?;
    }
    let img = image::RgbImage::from_raw(size.0, size.1, rgb).ok_or(ChartError::Buffer)?;
    let mut out = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)?;
    Ok(out)
}

/// SVG text of a chart.
pub fn svg_string(chart: Chart<'_>, size: (u32, u32)) -> Result<String, ChartError> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, size).into_drawing_area();
        draw(&root, chart)?;
    }
    Ok(out)
}

/// Writes a chart as PNG or SVG (by the path's extension), atomically.
pub fn write_plot(path: &Path, chart: Chart<'_>) -> Result<(), ExportError> {
    let fail = |e: ChartError| ExportError::new(path, e);
    let bytes = match PlotFormat::from_path(path).map_err(|e| fail(e.into()))? {
        PlotFormat::Png => png_bytes(chart, PLOT_SIZE).map_err(fail)?,
        PlotFormat::Svg => svg_string(chart, PLOT_SIZE).map_err(fail)?.into_bytes(),
    };
    write_atomic(path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::speedup::charts::data::{granularity_chart, predicted_chart, speedup_chart};
    use crate::engine::speedup::results::tests::synthetic;

    #[test]
    fn every_chart_draws_as_valid_png_and_svg() {
        let r = synthetic();
        let t = r.row_table();
        let (s, p, g) = (
            speedup_chart(&r, &t),
            predicted_chart(&r, &t),
            granularity_chart(&r, &t),
        );
        for chart in [
            Chart::Speedup(&s),
            Chart::Speedup(&p),
            Chart::Granularity(&g),
        ] {
            let png = png_bytes(chart, (400, 300)).expect("png");
            let img = image::load_from_memory(&png).expect("decodes").to_rgb8();
            assert_eq!(img.dimensions(), (400, 300));
            assert!(
                img.pixels().any(|px| px.0 != [255, 255, 255]),
                "something drawn"
            );
            let svg = svg_string(chart, (400, 300)).expect("svg");
            assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
            assert!(svg.contains("<text"), "labels present");
        }
        assert!(
            svg_string(Chart::Speedup(&p), (400, 300))
                .expect("svg")
                .contains("predicted")
        );
    }

    #[test]
    fn format_from_extension() {
        assert_eq!(
            PlotFormat::from_path(Path::new("a/b.PNG")),
            Ok(PlotFormat::Png)
        );
        assert_eq!(
            PlotFormat::from_path(Path::new("b.svg")),
            Ok(PlotFormat::Svg)
        );
        assert!(PlotFormat::from_path(Path::new("b.pdf")).is_err());
        assert!(PlotFormat::from_path(Path::new("b")).is_err());
    }

    #[test]
    fn write_plot_writes_files_and_refuses_bad_paths() {
        let dir = tempfile::tempdir().expect("dir");
        let r = synthetic();
        let g = granularity_chart(&r, &r.row_table());
        let path = dir.path().join("g.svg");
        write_plot(&path, Chart::Granularity(&g)).expect("write");
        assert!(std::fs::metadata(&path).expect("file").len() > 100);
        assert!(write_plot(&dir.path().join("g.gif"), Chart::Granularity(&g)).is_err());
        assert!(write_plot(&dir.path().join("no/g.png"), Chart::Granularity(&g)).is_err());
    }
}
