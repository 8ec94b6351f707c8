//! A lesson's bar chart for measurements that have no chart of their own
//! (render times per variant, race outcomes, work/span): one horizontal bar
//! per figure at its median, a whisker over its spread, drawn with plotters
//! and the shipped font, as the speedup lab's charts are.

use super::measure::Figure;
use crate::engine::mandelbrot::colour::worker_colour;
use crate::engine::speedup::charts::ChartError;
use crate::engine::speedup::charts::font::{FONT_FAMILY, ensure_fonts};
use crate::engine::util::files::png_bytes;
use plotters::prelude::*;

fn err<E: std::error::Error + Send + Sync + 'static>(e: DrawingAreaErrorKind<E>) -> ChartError {
    ChartError::Draw(Box::new(e))
}

/// The chart as PNG bytes: `bars` are (label, figure), top to bottom.
pub fn bars_png(
    title: &str,
    bars: &[(String, Figure)],
    size: (u32, u32),
) -> Result<Vec<u8>, ChartError> {
    ensure_fonts()?;
    let (w, h) = size;
    let mut rgb = vec![0u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
        draw(&root, title, bars)?;
    }
    let rgba: Vec<u8> = rgb
        .chunks_exact(3)
        .flat_map(|p| [p[0], p[1], p[2], 255])
        .collect();
    let img = image::RgbaImage::from_raw(w, h, rgba).ok_or(ChartError::Buffer)?;
    Ok(png_bytes(&img)?)
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    title: &str,
    bars: &[(String, Figure)],
) -> Result<(), ChartError>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(err)?;
    let top = bars
        .iter()
        .map(|(_, f)| {
            if f.high.is_finite() {
                f.high.max(f.median)
            } else {
                f.median
            }
        })
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max);
    let x_max = if top > 0.0 { top * 1.15 } else { 1.0 };
    let n = bars.len().max(1) as f64;
    let unit = bars
        .first()
        .map(|(_, f)| f.unit.clone())
        .unwrap_or_default();
    let mut chart = ChartBuilder::on(root)
        .caption(title, (FONT_FAMILY, 20))
        .margin(14)
        .x_label_area_size(40)
        .y_label_area_size(10)
        .build_cartesian_2d(0.0..x_max, -0.5..(n - 0.5))
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .disable_y_axis()
        .x_desc(unit)
        .label_style((FONT_FAMILY, 13))
        .draw()
        .map_err(err)?;
    for (i, (label, f)) in bars.iter().enumerate() {
        // Top to bottom: the first bar highest.
        let y = n - 1.0 - i as f64;
        let [r, g, b] = worker_colour(i as u32);
        let colour = RGBColor(r, g, b);
        if f.median.is_finite() {
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(0.0, y - 0.3), (f.median, y + 0.05)],
                    colour.mix(0.8).filled(),
                )))
                .map_err(err)?;
        }
        if f.n > 1 && f.low.is_finite() && f.high.is_finite() {
            let whisker = BLACK.stroke_width(2);
            chart
                .draw_series([
                    PathElement::new(vec![(f.low, y - 0.125), (f.high, y - 0.125)], whisker),
                    PathElement::new(vec![(f.low, y - 0.22), (f.low, y - 0.03)], whisker),
                    PathElement::new(vec![(f.high, y - 0.22), (f.high, y - 0.03)], whisker),
                ])
                .map_err(err)?;
        }
        let text = format!("{label}: {}", f.show());
        chart
            .draw_series(std::iter::once(Text::new(
                text,
                (x_max * 0.005, y + 0.38),
                (FONT_FAMILY, 17).into_font().color(&BLACK),
            )))
            .map_err(err)?;
    }
    root.present().map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_a_png() {
        let f = Figure {
            id: "t".into(),
            label: "t".into(),
            unit: "ms".into(),
            median: 5.0,
            low: 4.0,
            high: 7.0,
            n: 3,
            spread: "min..max".into(),
            text: None,
        };
        let png =
            bars_png("t", &[("a".into(), f.clone()), ("b".into(), f)], (400, 300)).expect("drawn");
        assert_eq!(&png[1..4], b"PNG");
    }
}
