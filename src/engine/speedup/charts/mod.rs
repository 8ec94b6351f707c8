//! The speedup lab's charts: what they show as plain data ([`data`]), drawn
//! with plotters ([`draw`]) in the font shipped with the binary ([`font`]).

pub mod data;
pub mod draw;
mod error;
pub mod font;

pub use error::{ChartError, PlotFormatError};
