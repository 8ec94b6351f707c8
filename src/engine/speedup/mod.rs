//! The speedup lab: a plan parsed from what was typed, a sweep over worker counts and task granularities, its
//! results with their spread, the virtual-worker replay, the exports and charts.

pub mod charts;
mod error;
pub mod plan;
mod replay;
pub mod report;
pub mod results;
pub mod sweep;

pub use error::{ReportError, SweepError};
