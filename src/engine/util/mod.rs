//! Small helpers every concept shares: statistics and safe file writing.

pub mod files;
pub mod stats;
