//! Drawing the speedup lab's charts with plotters, to PNG or SVG from the
//! same code (the window's export buttons and `parlab bench sweep` use it).
//! Text uses the shipped font ([`crate::engine::speedup::charts::font`]).

use crate::engine::mandelbrot::colour::worker_colour;
use crate::engine::speedup::charts::data::{Curve, GranularityChart, SpeedupChart};
use crate::engine::speedup::charts::font::{FONT_FAMILY, ensure_fonts};
use crate::engine::speedup::charts::{ChartError, PlotFormatError};
use crate::engine::util::files::{ExportError, write_atomic};
use plotters::coord::{CoordTranslate, Shift};
use plotters::prelude::*;
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
    let style = colour.stroke_width(2);
    chart
        .draw_series(DashedLineSeries::new(
            curve.points.iter().copied(),
            8,
            5,
            style,
        ))
        .map_err(err)?
        .label(curve.label.clone())
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 8, y)], style));
    Ok(())
}

/// The common ending of every chart: the legend at `legend_at`, the note in
/// the footer strip, and presenting the drawing.
fn finish_chart<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    root: &DrawingArea<DB, Shift>,
    chart: &mut ChartContext<'a, DB, CT>,
    foot: &DrawingArea<DB, Shift>,
    legend_at: SeriesLabelPosition,
    note: &str,
) -> Result<(), ChartError>
where
    DB::ErrorType: 'static,
{
    chart
        .configure_series_labels()
        .position(legend_at)
        .label_font((FONT_FAMILY, 13))
        .background_style(WHITE.mix(0.85))
        .border_style(IDEAL)
        .draw()
        .map_err(err)?;
    foot.draw(&Text::new(
        note.to_owned(),
        (12, 6),
        (FONT_FAMILY, 12).into_font().color(&CORE_MARK),
    ))
    .map_err(err)?;
    root.present().map_err(err)
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
    let (body, foot) = root.split_vertically(root.dim_in_pixel().1.saturating_sub(28));
    let mut chart = ChartBuilder::on(&body)
        .caption(&c.title, (FONT_FAMILY, 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(0.0..c.x_max * 1.03, 0.0..c.y_max)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("workers P")
        .y_desc("speedup S = T1 / TP")
        .label_style((FONT_FAMILY, 14))
        .axis_desc_style((FONT_FAMILY, 15))
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(err)?;
    // Vertical marks at the core counts.
    let mut marks = vec![(c.physical_cores, "physical cores")];
    if c.logical_cores != c.physical_cores {
        marks.push((c.logical_cores, "logical cores"));
    } else {
        marks[0].1 = "cores (physical = logical)";
    }
    for (cores, label) in marks {
        let x = cores as f64;
        if x <= c.x_max * 1.03 {
            chart
                .draw_series(DashedLineSeries::new(
                    [(x, 0.0), (x, c.y_max)],
                    4,
                    4,
                    CORE_MARK.stroke_width(1),
                ))
                .map_err(err)?;
            chart
                .draw_series([Text::new(
                    format!(" {label}: {cores}"),
                    (x, c.y_max * 0.08),
                    (FONT_FAMILY, 13).into_font().color(&CORE_MARK),
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
        .map_err(err)?
        .label("ideal S = P")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 8, y)], IDEAL));
    if let Some(a) = &c.amdahl {
        chart
            .draw_series(LineSeries::new(
                a.points.iter().copied(),
                AMDAHL.stroke_width(1),
            ))
            .map_err(err)?
            .label(a.label.clone())
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 8, y)], AMDAHL));
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
        chart
            .draw_series(LineSeries::new(
                s.points.iter().map(|p| (p.workers, p.speedup)),
                colour.stroke_width(2),
            ))
            .map_err(err)?
            .label(format!("measured {}", s.label))
            .legend(move |(x, y)| Circle::new((x + 4, y), 4, colour.filled()));
        chart
            .draw_series(s.points.iter().filter_map(|p| {
                p.bar.map(|[lo, hi]| {
                    ErrorBar::new_vertical(p.workers, lo, p.speedup, hi, colour.stroke_width(1), 8)
                })
            }))
            .map_err(err)?;
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
        if c.annotate_karp_flatt {
            chart
                .draw_series(s.points.iter().filter_map(|p| {
                    let e = p.karp_flatt?;
                    Some(
                        EmptyElement::at((p.workers, p.speedup))
                            + Text::new(
                                format!("e={e:.3}"),
                                (7, 4),
                                (FONT_FAMILY, 12).into_font().color(&colour),
                            ),
                    )
                }))
                .map_err(err)?;
        }
    }
    finish_chart(
        root,
        &mut chart,
        &foot,
        SeriesLabelPosition::UpperLeft,
        &c.note,
    )
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
    let (body, foot) = root.split_vertically(root.dim_in_pixel().1.saturating_sub(28));
    let points = || c.series.iter().flat_map(|s| s.points.iter());
    let x_min = points().map(|p| p.tasks).fold(f64::INFINITY, f64::min);
    let x_max = points().map(|p| p.tasks).fold(0.0, f64::max);
    let (x_min, x_max) = if x_min.is_finite() && x_max > 0.0 {
        (x_min / 1.5, x_max * 1.5)
    } else {
        (1.0, 10.0)
    };
    let y_max = points().map(|p| p.q3_s.max(p.median_s)).fold(0.0, f64::max) * 1.15;
    let y_max = if y_max > 0.0 { y_max * 1e3 } else { 1.0 };
    let mut chart = ChartBuilder::on(&body)
        .caption(&c.title, (FONT_FAMILY, 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d((x_min..x_max).log_scale(), 0.0..y_max)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("tasks per run (log scale; finer →)")
        .x_labels(8)
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_desc("median time (ms)")
        .label_style((FONT_FAMILY, 14))
        .axis_desc_style((FONT_FAMILY, 15))
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(err)?;
    for s in &c.series {
        let colour = series_colour(s.colour_index);
        chart
            .draw_series(LineSeries::new(
                s.points.iter().map(|p| (p.tasks, p.median_s * 1e3)),
                colour.stroke_width(2),
            ))
            .map_err(err)?
            .label(match s.best.and_then(|b| s.points.get(b)) {
                Some(best) => format!("{} (best: {})", s.label, best.label),
                None => s.label.clone(),
            })
            .legend(move |(x, y)| Circle::new((x + 4, y), 4, colour.filled()));
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
                s.points
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
    finish_chart(
        root,
        &mut chart,
        &foot,
        SeriesLabelPosition::UpperRight,
        &c.note,
    )
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
