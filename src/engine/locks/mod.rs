//! The lock lab: throughput of ways to share a counter, a contention
//! timeline, and a deadlock that is detected instead of hanging.

pub mod contention;
pub mod deadlock;
mod error;
pub mod plot;
pub mod throughput;

pub use error::LocksError;
