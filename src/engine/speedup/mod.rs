//! The speedup lab: a sweep over worker counts and task granularities, its
//! results with their spread, the virtual-worker replay, the exports and charts.

pub mod charts;
pub mod replay;
pub mod report;
pub mod results;
pub mod sweep;
