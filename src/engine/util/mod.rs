//! Small helpers every concept shares: statistics, the one pseudo-random generator and safe file writing.

pub mod files;
pub mod rng;
pub mod stats;
