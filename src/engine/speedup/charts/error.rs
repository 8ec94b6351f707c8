//! What can go wrong drawing a chart: a file name that is not a plot format,
//! the shipped font, plotters itself, or the PNG encoder.

use std::path::PathBuf;

/// A plot path that does not end in `.png` or `.svg`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}: plot files must end in .png or .svg", path.display())]
pub struct PlotFormatError {
    pub path: PathBuf,
}

impl crate::engine::BadInput for PlotFormatError {
    fn is_bad_input(&self) -> bool {
        true
    }
}

/// A chart that could not be drawn or encoded.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    #[error(transparent)]
    Format(#[from] PlotFormatError),
    #[error("the shipped plot font could not be loaded")]
    Font,
    /// plotters refused to draw (its error type depends on the backend).
    #[error("plot drawing failed: {0}")]
    Draw(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("plot buffer has the wrong size")]
    Buffer,
    #[error("{0}")]
    Png(#[from] image::ImageError),
}

impl crate::engine::BadInput for ChartError {
    fn is_bad_input(&self) -> bool {
        matches!(self, ChartError::Format(_))
    }
}
