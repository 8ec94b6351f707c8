//! Small helpers every concept shares: statistics, the one pseudo-random
//! generator, safe file writing, parallel PNG encoding, the one list parser and readable numbers
//! for messages.

pub mod background;
pub mod dates;
pub mod files;
pub mod list;
pub mod num;
pub mod png;
pub mod rng;
pub mod stats;
pub mod words;
