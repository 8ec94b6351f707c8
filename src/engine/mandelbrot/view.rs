//! The region of the complex plane to render and the image it maps onto.

use crate::engine::util::num::num;
use serde::{Deserialize, Serialize};

/// Largest image edge in pixels.
pub const MAX_EDGE_PX: u32 = 16_384;
/// Largest image, in pixels (64 Mpx).
pub const MAX_PIXELS: u64 = 64 * 1024 * 1024;
/// Largest iteration limit.
pub const MAX_ITER: u32 = 1_000_000;

/// Neighbouring pixels must be at least this many f64 steps apart (see [`View::new`]).
pub const MIN_STEPS_PER_PIXEL: f64 = 2.0;

/// The gap between `x` and the next larger f64 (the resolution there).
pub fn f64_step(x: f64) -> f64 {
    let a = x.abs();
    if a < f64::MIN_POSITIVE {
        return f64::MIN_POSITIVE;
    }
    f64::from_bits(a.to_bits() + 1) - a
}

/// A validated view: centre, width in the complex plane, image size, iteration limit.
///
/// Build it with [`View::new`]; the fields are private so that every `View` in
/// the program is valid.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "ViewSpec", into = "ViewSpec")]
pub struct View {
    center_x: f64,
    center_y: f64,
    view_width: f64,
    width_px: u32,
    height_px: u32,
    max_iter: u32,
}

/// The unvalidated fields of a [`View`], as typed by a user or read from a file.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ViewSpec {
    pub center_x: f64,
    pub center_y: f64,
    pub view_width: f64,
    pub width_px: u32,
    pub height_px: u32,
    pub max_iter: u32,
}

/// Why a view was refused: the field at fault and its allowed range (the
/// message starts with the field's name, see [`ViewError::field`]).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ViewError {
    #[error("center x: must be a finite number, got {}", num(*got))]
    CenterX { got: f64 },
    #[error("center y: must be a finite number, got {}", num(*got))]
    CenterY { got: f64 },
    #[error("view width: must be a positive finite number, got {}", num(*got))]
    ViewWidth { got: f64 },
    /// The image's `width` or `height` in pixels.
    #[error("{field}: must be 1..={max} px, got {got}")]
    Edge {
        field: &'static str,
        got: u32,
        max: u32,
    },
    #[error(
        "size: {width_px}×{height_px} = {pixels} px is more than the {max} px (64 Mpx) allowed"
    )]
    Size {
        width_px: u32,
        height_px: u32,
        pixels: u64,
        max: u64,
    },
    #[error("max iterations: must be 1..={max}, got {got}")]
    MaxIter { got: u32, max: u32 },
    /// The view is so wide for its aspect that its height overflows f64.
    #[error(
        "view height: view width {} at {width_px}×{height_px} px makes the height {}: choose a narrower view",
        num(*view_width),
        num(*view_height)
    )]
    Height {
        view_width: f64,
        width_px: u32,
        height_px: u32,
        view_height: f64,
    },
    #[error(
        "view corner: centre ({}, {}) with view width {} puts a corner beyond the largest f64: move the centre or narrow the view",
        num(center.0),
        num(center.1),
        num(*view_width)
    )]
    Corner { center: (f64, f64), view_width: f64 },
    /// Neighbouring pixels closer than f64 resolves; `narrowest` is the
    /// narrowest view there at this image width.
    #[error(
        "view width: {} puts pixels {} apart, below what f64 resolves near ({}, {}) ({MIN_STEPS_PER_PIXEL} steps of {}); \
         the narrowest view there at {width_px} px is {}",
        num(*view_width),
        num(*pixel_size),
        num(center.0),
        num(center.1),
        num(*step),
        num(*narrowest)
    )]
    TooDeep {
        view_width: f64,
        pixel_size: f64,
        center: (f64, f64),
        step: f64,
        width_px: u32,
        narrowest: f64,
    },
}

impl ViewError {
    /// The field at fault, as the message names it (`view width`, `size`…).
    pub fn field(&self) -> &'static str {
        match self {
            ViewError::CenterX { .. } => "center x",
            ViewError::CenterY { .. } => "center y",
            ViewError::ViewWidth { .. } | ViewError::TooDeep { .. } => "view width",
            ViewError::Edge { field, .. } => field,
            ViewError::Size { .. } => "size",
            ViewError::MaxIter { .. } => "max iterations",
            ViewError::Height { .. } => "view height",
            ViewError::Corner { .. } => "view corner",
        }
    }
}

impl crate::engine::BadInput for ViewError {
    fn is_bad_input(&self) -> bool {
        true
    }
}

impl TryFrom<ViewSpec> for View {
    type Error = ViewError;
    fn try_from(s: ViewSpec) -> Result<Self, ViewError> {
        View::new(
            (s.center_x, s.center_y),
            s.view_width,
            s.width_px,
            s.height_px,
            s.max_iter,
        )
    }
}

impl From<View> for ViewSpec {
    fn from(v: View) -> Self {
        ViewSpec {
            center_x: v.center_x,
            center_y: v.center_y,
            view_width: v.view_width,
            width_px: v.width_px,
            height_px: v.height_px,
            max_iter: v.max_iter,
        }
    }
}

impl View {
    /// Validates every field; the error names the first bad field and its allowed range.
    pub fn new(
        center: (f64, f64),
        view_width: f64,
        width_px: u32,
        height_px: u32,
        max_iter: u32,
    ) -> Result<Self, ViewError> {
        if !center.0.is_finite() {
            return Err(ViewError::CenterX { got: center.0 });
        }
        if !center.1.is_finite() {
            return Err(ViewError::CenterY { got: center.1 });
        }
        if !(view_width.is_finite() && view_width > 0.0) {
            return Err(ViewError::ViewWidth { got: view_width });
        }
        for (field, v) in [("width", width_px), ("height", height_px)] {
            if !(1..=MAX_EDGE_PX).contains(&v) {
                return Err(ViewError::Edge {
                    field,
                    got: v,
                    max: MAX_EDGE_PX,
                });
            }
        }
        let pixels = u64::from(width_px) * u64::from(height_px);
        if pixels > MAX_PIXELS {
            return Err(ViewError::Size {
                width_px,
                height_px,
                pixels,
                max: MAX_PIXELS,
            });
        }
        if !(1..=MAX_ITER).contains(&max_iter) {
            return Err(ViewError::MaxIter {
                got: max_iter,
                max: MAX_ITER,
            });
        }
        let pixel_size = view_width / f64::from(width_px);
        let view_height = pixel_size * f64::from(height_px);
        if !view_height.is_finite() {
            return Err(ViewError::Height {
                view_width,
                width_px,
                height_px,
                view_height,
            });
        }
        let corners = [
            center.0 - 0.5 * view_width,
            center.0 + 0.5 * view_width,
            center.1 - 0.5 * view_height,
            center.1 + 0.5 * view_height,
        ];
        if corners.iter().any(|c| !c.is_finite()) {
            return Err(ViewError::Corner { center, view_width });
        }
        // Neighbouring pixel centres must differ by at least
        // MIN_STEPS_PER_PIXEL steps of f64 at the view's largest coordinate,
        // else columns merge into one colour (at -0.75 a step is 1.1e-16).
        let largest = corners.iter().fold(0.0f64, |m, c| m.max(c.abs()));
        let step = f64_step(largest);
        if !(pixel_size.is_normal() && pixel_size >= MIN_STEPS_PER_PIXEL * step) {
            return Err(ViewError::TooDeep {
                view_width,
                pixel_size,
                center,
                step,
                width_px,
                narrowest: MIN_STEPS_PER_PIXEL * step * f64::from(width_px),
            });
        }
        Ok(View {
            center_x: center.0,
            center_y: center.1,
            view_width,
            width_px,
            height_px,
            max_iter,
        })
    }

    /// The classic whole-set view at the given size.
    pub fn default_for_size(width_px: u32, height_px: u32) -> Result<Self, ViewError> {
        View::new((-0.75, 0.0), 3.5, width_px, height_px, 500)
    }

    pub fn center(&self) -> (f64, f64) {
        (self.center_x, self.center_y)
    }
    pub fn view_width(&self) -> f64 {
        self.view_width
    }
    /// Height of the view in the complex plane (pixels are square).
    pub fn view_height(&self) -> f64 {
        self.pixel_size() * f64::from(self.height_px)
    }
    pub fn width_px(&self) -> u32 {
        self.width_px
    }
    pub fn height_px(&self) -> u32 {
        self.height_px
    }
    pub fn max_iter(&self) -> u32 {
        self.max_iter
    }
    pub fn num_pixels(&self) -> usize {
        self.width_px as usize * self.height_px as usize
    }
    pub fn spec(&self) -> ViewSpec {
        (*self).into()
    }
    /// Width of one pixel in the complex plane.
    pub fn pixel_size(&self) -> f64 {
        self.view_width / f64::from(self.width_px)
    }

    /// Real part of the centre of pixel column `x`.
    #[inline]
    pub fn re(&self, x: u32) -> f64 {
        let (left, pixel) = self.re_parts();
        left + (f64::from(x) + 0.5) * pixel
    }

    /// The view's left edge and pixel size, as [`Self::re`] combines them
    /// (`left + (x + ½)·pixel`): a loop over columns computes them once and
    /// gets the same bits.
    #[inline]
    pub fn re_parts(&self) -> (f64, f64) {
        (self.center_x - 0.5 * self.view_width, self.pixel_size())
    }

    /// Imaginary part of the centre of pixel row `y` (row 0 is the top).
    #[inline]
    pub fn im(&self, y: u32) -> f64 {
        let top = self.center_y + 0.5 * self.view_height();
        top - (f64::from(y) + 0.5) * self.pixel_size()
    }

    /// Complex coordinate of a (fractional) pixel position.
    pub fn pixel_to_complex(&self, x: f64, y: f64) -> (f64, f64) {
        let left = self.center_x - 0.5 * self.view_width;
        let top = self.center_y + 0.5 * self.view_height();
        (left + x * self.pixel_size(), top - y * self.pixel_size())
    }

    pub fn with_size(&self, width_px: u32, height_px: u32) -> Result<Self, ViewError> {
        View::new(
            self.center(),
            self.view_width,
            width_px,
            height_px,
            self.max_iter,
        )
    }
    pub fn with_max_iter(&self, max_iter: u32) -> Result<Self, ViewError> {
        View::new(
            self.center(),
            self.view_width,
            self.width_px,
            self.height_px,
            max_iter,
        )
    }
    pub fn with_center(&self, center: (f64, f64)) -> Result<Self, ViewError> {
        View::new(
            center,
            self.view_width,
            self.width_px,
            self.height_px,
            self.max_iter,
        )
    }
    /// Zooms by `factor` (> 1 zooms in) keeping the complex point under pixel
    /// (`x`, `y`) fixed on screen.
    pub fn zoomed_at(&self, x: f64, y: f64, factor: f64) -> Result<Self, ViewError> {
        let (px, py) = self.pixel_to_complex(x, y);
        let new_width = self.view_width / factor;
        let scale = new_width / self.view_width;
        let (cx, cy) = self.center();
        let center = (px + (cx - px) * scale, py + (cy - py) * scale);
        View::new(
            center,
            new_width,
            self.width_px,
            self.height_px,
            self.max_iter,
        )
    }
    /// Moves the view by a pixel offset (dragging right moves the picture right).
    pub fn panned_px(&self, dx: f64, dy: f64) -> Result<Self, ViewError> {
        let (cx, cy) = self.center();
        let s = self.pixel_size();
        self.with_center((cx - dx * s, cy + dy * s))
    }
    /// The view that shows the pixel rectangle (`x0`,`y0`)–(`x1`,`y1`), at this image size.
    pub fn boxed(&self, x0: f64, y0: f64, x1: f64, y1: f64) -> Result<Self, ViewError> {
        let (ax, ay) = self.pixel_to_complex(x0.min(x1), y0.min(y1));
        let (bx, by) = self.pixel_to_complex(x0.max(x1), y0.max(y1));
        let box_w = (bx - ax).abs();
        let box_h = (ay - by).abs();
        let aspect = f64::from(self.width_px) / f64::from(self.height_px);
        let new_width = box_w.max(box_h * aspect);
        View::new(
            ((ax + bx) * 0.5, (ay + by) * 0.5),
            new_width,
            self.width_px,
            self.height_px,
            self.max_iter,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_bad_field_is_named() {
        let cases: Vec<(Result<View, ViewError>, &str)> = vec![
            (View::new((f64::NAN, 0.0), 1.0, 10, 10, 10), "center x"),
            (View::new((0.0, f64::INFINITY), 1.0, 10, 10, 10), "center y"),
            (View::new((0.0, 0.0), 0.0, 10, 10, 10), "view width"),
            (View::new((0.0, 0.0), -1.0, 10, 10, 10), "view width"),
            (View::new((0.0, 0.0), f64::NAN, 10, 10, 10), "view width"),
            (View::new((0.0, 0.0), 1.0, 0, 10, 10), "width"),
            (View::new((0.0, 0.0), 1.0, 16_385, 10, 10), "width"),
            (View::new((0.0, 0.0), 1.0, 10, 0, 10), "height"),
            (View::new((0.0, 0.0), 1.0, 16_384, 16_384, 10), "size"),
            (View::new((0.0, 0.0), 1.0, 10, 10, 0), "max iterations"),
            (
                View::new((0.0, 0.0), 1.0, 10, 10, 1_000_001),
                "max iterations",
            ),
        ];
        for (result, field) in cases {
            let e = result.expect_err(field);
            assert_eq!(e.field(), field, "{e}");
        }
        let ok = View::new((0.0, 0.0), 1.0, 8192, 8192, 1_000_000);
        assert!(ok.is_ok(), "64 Mpx is allowed");
    }

    #[test]
    fn pixel_centres_span_the_view() {
        let v = View::new((0.0, 0.0), 4.0, 4, 2, 10).expect("valid");
        assert_eq!(v.re(0), -1.5);
        assert_eq!(v.re(3), 1.5);
        assert_eq!(v.im(0), 0.5);
        assert_eq!(v.im(1), -0.5);
        assert_eq!(v.view_height(), 2.0);
    }

    #[test]
    fn zoom_keeps_point_under_cursor() {
        let v = View::new((-0.5, 0.1), 3.0, 300, 200, 10).expect("valid");
        let before = v.pixel_to_complex(50.0, 70.0);
        let z = v.zoomed_at(50.0, 70.0, 2.0).expect("valid");
        let after = z.pixel_to_complex(50.0, 70.0);
        assert!((before.0 - after.0).abs() < 1e-12 && (before.1 - after.1).abs() < 1e-12);
        assert_eq!(z.view_width(), 1.5);
    }

    #[test]
    fn views_beyond_f64_are_refused_with_the_limit() {
        // At -0.75 a 256-px row needs a view at least 256 × 2 steps wide.
        let ok = View::new((-0.75, 0.1), 1e-13, 256, 192, 10);
        assert!(ok.is_ok(), "{ok:?}");
        for w in [1e-14, 1e-15, 1e-300] {
            let e = View::new((-0.75, 0.1), w, 256, 192, 10).expect_err("too deep");
            assert_eq!(e.field(), "view width");
            assert!(e.to_string().contains("narrowest"), "{e}");
        }
        // Near the origin f64 resolves far smaller widths.
        assert!(View::new((0.0, 0.0), 1e-200, 256, 192, 10).is_ok());
        let e = View::new((0.0, 0.0), 1e308, 1, 4, 10).expect_err("infinite height");
        assert_eq!(e.field(), "view height");
        let e = View::new((1.7e308, 0.0), 1e308, 4, 4, 10).expect_err("corner");
        assert_eq!(e.field(), "view corner");
    }

    #[test]
    fn serde_refuses_invalid_views() {
        let bad = r#"{"center_x":0.0,"center_y":0.0,"view_width":-1.0,"width_px":10,"height_px":10,"max_iter":10}"#;
        assert!(serde_json::from_str::<View>(bad).is_err());
    }
}
