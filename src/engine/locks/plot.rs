//! Exports of a throughput sweep: CSV, and a PNG or SVG plot drawn with
//! plotters and the shipped font.

use super::LocksError;
use super::throughput::{LockKind, ThroughputPoint};
use crate::engine::speedup::charts::ChartError;
use crate::engine::speedup::charts::data::{LegendColour, LegendEntry, LegendLine, LegendMarker};
use crate::engine::speedup::charts::draw::{draw_legend, layout};
use crate::engine::speedup::charts::font::{FONT_FAMILY, ensure_fonts};
use crate::engine::util::files::{ExportError, png_bytes, write_atomic};
use plotters::prelude::*;
use std::path::Path;

/// Colour of a kind's series, shared by exported plots and the window.
pub fn kind_colour(kind: LockKind) -> [u8; 3] {
    let i = LockKind::ALL.iter().position(|k| *k == kind).unwrap_or(0);
    crate::engine::mandelbrot::colour::worker_colour(i as u32)
}

/// One row per point: kind, threads, ops, median/min/max ops/s, then every sample.
pub fn throughput_csv(points: &[ThroughputPoint]) -> String {
    let mut out = String::from(
        "kind,threads,ops,median_ops_per_sec,min_ops_per_sec,max_ops_per_sec,samples_ops_per_sec\n",
    );
    for p in points {
        let samples: Vec<String> = p
            .samples_ops_per_sec
            .iter()
            .map(|s| format!("{s:.0}"))
            .collect();
        out.push_str(&format!(
            "{},{},{},{:.0},{:.0},{:.0},{}\n",
            p.kind.name(),
            p.num_threads,
            p.ops,
            p.median_ops_per_sec,
            p.min_ops_per_sec,
            p.max_ops_per_sec,
            samples.join(";")
        ));
    }
    out
}

pub use crate::engine::speedup::charts::draw::PlotFormat;

/// The legend of the throughput plot, in [`LockKind::ALL`] order, for the
/// kinds measured: dashed for a one-thread baseline.
pub fn legend(points: &[ThroughputPoint]) -> Vec<LegendEntry> {
    LockKind::ALL
        .into_iter()
        .filter(|k| points.iter().any(|p| p.kind == *k))
        .map(|kind| LegendEntry {
            label: kind.label().to_string(),
            colour: LegendColour::Rgb(kind_colour(kind)),
            line: if kind.single_threaded() {
                LegendLine::Dashed
            } else {
                LegendLine::Solid
            },
            marker: if kind.single_threaded() {
                LegendMarker::Plain
            } else {
                LegendMarker::Circle
            },
        })
        .collect()
}

const PLOT_W: u32 = 1000;
const PLOT_H: u32 = 620;

fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, plotters::coord::Shift>,
    points: &[ThroughputPoint],
) -> Result<(), LocksError>
where
    DB::ErrorType: 'static,
{
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| LocksError::Draw(Box::new(e));
    root.fill(&WHITE).map_err(err)?;
    let entries = legend(points);
    let (body, legend_area, _foot) = layout(&root, entries.len());
    let max_threads = points
        .iter()
        .map(|p| p.num_threads)
        .max()
        .unwrap_or(1)
        .max(2);
    let lo = points
        .iter()
        .map(|p| p.min_ops_per_sec)
        .fold(f64::INFINITY, f64::min)
        .max(1.0);
    let hi = points.iter().map(|p| p.max_ops_per_sec).fold(1.0, f64::max);
    let (lo, hi) = if lo.is_finite() {
        (lo / 2.0, hi * 2.0)
    } else {
        (1.0, 10.0)
    };
    let mut chart = ChartBuilder::on(&body)
        .caption(
            "Throughput vs threads (measured; whiskers: min–max of repeats)",
            (FONT_FAMILY, 22),
        )
        .margin(16)
        .margin_right(24)
        .x_label_area_size(44)
        .y_label_area_size(80)
        .build_cartesian_2d(0.5f64..max_threads as f64 + 0.5, (lo..hi).log_scale())
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("threads")
        .y_desc("operations per second")
        .label_style((FONT_FAMILY, 14))
        .axis_desc_style((FONT_FAMILY, 16))
        .y_label_formatter(&|v| crate::engine::util::num::si(*v))
        .x_label_formatter(&|v| format!("{v:.0}"))
        .x_labels(max_threads.min(16))
        .draw()
        .map_err(err)?;
    for kind in LockKind::ALL {
        let mut series: Vec<&ThroughputPoint> = points.iter().filter(|p| p.kind == kind).collect();
        if series.is_empty() {
            continue;
        }
        series.sort_by_key(|p| p.num_threads);
        let [r, g, b] = kind_colour(kind);
        let colour = RGBColor(r, g, b);
        if kind.single_threaded() {
            // The baseline is one thread's figure, drawn across the whole range.
            let y = series[0].median_ops_per_sec;
            chart
                .draw_series(DashedLineSeries::new(
                    [(0.5, y), (max_threads as f64 + 0.5, y)],
                    8,
                    5,
                    colour.stroke_width(2),
                ))
                .map_err(err)?;
            continue;
        }
        chart
            .draw_series(LineSeries::new(
                series
                    .iter()
                    .map(|p| (p.num_threads as f64, p.median_ops_per_sec)),
                colour.stroke_width(2),
            ))
            .map_err(err)?;
        chart
            .draw_series(series.iter().map(|p| {
                ErrorBar::new_vertical(
                    p.num_threads as f64,
                    p.min_ops_per_sec,
                    p.median_ops_per_sec,
                    p.max_ops_per_sec,
                    colour.filled(),
                    8,
                )
            }))
            .map_err(err)?;
    }
    draw_legend(&legend_area, &entries).map_err(|e| LocksError::Draw(Box::new(e)))?;
    root.present().map_err(err)?;
    Ok(())
}

/// The plot's bytes in `format`.
pub fn throughput_plot_bytes(
    points: &[ThroughputPoint],
    format: PlotFormat,
) -> Result<Vec<u8>, LocksError> {
    ensure_fonts()?;
    match format {
        PlotFormat::Svg => {
            let mut text = String::new();
            {
                let root = SVGBackend::with_string(&mut text, (PLOT_W, PLOT_H)).into_drawing_area();
                draw(root, points)?;
            }
            Ok(text.into_bytes())
        }
        PlotFormat::Png => {
            let mut rgb = vec![0u8; (PLOT_W * PLOT_H * 3) as usize];
            {
                let root =
                    BitMapBackend::with_buffer(&mut rgb, (PLOT_W, PLOT_H)).into_drawing_area();
                draw(root, points)?;
            }
            let rgba: Vec<u8> = rgb
                .chunks_exact(3)
                .flat_map(|p| [p[0], p[1], p[2], 255])
                .collect();
            let img = image::RgbaImage::from_raw(PLOT_W, PLOT_H, rgba).ok_or(ChartError::Buffer)?;
            Ok(png_bytes(&img).map_err(ChartError::from)?)
        }
    }
}

/// Writes the plot, PNG or SVG by the path's extension, atomically.
pub fn write_throughput_plot(path: &Path, points: &[ThroughputPoint]) -> Result<(), ExportError> {
    let fail = |e: LocksError| ExportError::new(path, e);
    let format = PlotFormat::from_path(path).map_err(|e| fail(ChartError::from(e).into()))?;
    let bytes = throughput_plot_bytes(points, format).map_err(fail)?;
    write_atomic(path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(kind: LockKind, threads: usize, median: f64) -> ThroughputPoint {
        ThroughputPoint {
            kind,
            num_threads: threads,
            ops: 1000,
            samples_ops_per_sec: vec![median * 0.9, median, median * 1.1],
            median_ops_per_sec: median,
            min_ops_per_sec: median * 0.9,
            max_ops_per_sec: median * 1.1,
            counted_right: true,
        }
    }

    fn points() -> Vec<ThroughputPoint> {
        vec![
            point(LockKind::Uncontended, 1, 5e7),
            point(LockKind::Mutex, 1, 4e7),
            point(LockKind::Mutex, 2, 1e7),
            point(LockKind::PackedCounters, 1, 5e8),
            point(LockKind::PackedCounters, 2, 2e8),
        ]
    }

    #[test]
    fn csv_has_a_row_per_point() {
        let csv = throughput_csv(&points());
        assert_eq!(csv.lines().count(), 6);
        assert!(
            csv.lines()
                .nth(2)
                .expect("row")
                .starts_with("mutex,1,1000,40000000,")
        );
    }

    #[test]
    fn png_and_svg_are_drawn() {
        let png = throughput_plot_bytes(&points(), PlotFormat::Png).expect("png");
        let img = image::load_from_memory(&png).expect("decodes");
        assert_eq!((img.width(), img.height()), (PLOT_W, PLOT_H));
        let svg =
            String::from_utf8(throughput_plot_bytes(&points(), PlotFormat::Svg).expect("svg"))
                .expect("utf8");
        assert!(svg.contains("<svg") && svg.contains("threads"));
        assert!(PlotFormat::from_path(Path::new("a.jpg")).is_err());
        assert_eq!(
            PlotFormat::from_path(Path::new("a.SVG")),
            Ok(PlotFormat::Svg)
        );
    }
}
