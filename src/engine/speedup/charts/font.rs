//! The font that exported plots use, shipped inside the binary so that
//! plotting needs no system fonts (lab machines may have none).

use crate::engine::speedup::charts::ChartError;
use plotters::style::FontStyle;
use std::sync::OnceLock;

/// Font family name to pass to plotters (`("parlab-sans", 16)`), after [`ensure_fonts`].
pub const FONT_FAMILY: &str = "parlab-sans";

/// DejaVu Sans (see `assets/fonts/DejaVuSans-LICENSE.txt`).
static DEJAVU_SANS: &[u8] = include_bytes!("../../../../assets/fonts/DejaVuSans.ttf");

/// Registers the shipped font with plotters once per process; call before drawing text.
pub fn ensure_fonts() -> Result<(), ChartError> {
    static DONE: OnceLock<Result<(), ()>> = OnceLock::new();
    DONE.get_or_init(|| {
        for style in [
            FontStyle::Normal,
            FontStyle::Bold,
            FontStyle::Italic,
            FontStyle::Oblique,
        ] {
            plotters::style::register_font(FONT_FAMILY, style, DEJAVU_SANS).map_err(drop)?;
        }
        Ok(())
    })
    .map_err(|()| ChartError::Font)
}

#[cfg(test)]
mod tests {
    use super::*;
    use plotters::prelude::*;

    #[test]
    fn text_draws_into_a_bitmap() {
        ensure_fonts().expect("font");
        let mut buf = vec![255u8; 200 * 60 * 3];
        {
            let root = BitMapBackend::with_buffer(&mut buf, (200, 60)).into_drawing_area();
            root.draw(&Text::new(
                "speedup 1.9×",
                (5, 20),
                (FONT_FAMILY, 24).into_font(),
            ))
            .expect("draw");
            root.present().expect("present");
        }
        assert!(
            buf.iter().any(|&b| b < 128),
            "some dark text pixels were drawn"
        );
    }
}
