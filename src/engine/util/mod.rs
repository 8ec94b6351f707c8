//! Small helpers every concept shares: statistics, safe file writing, the
//! one list parser and readable numbers for messages.

pub mod files;
pub mod list;
pub mod num;
pub mod stats;
