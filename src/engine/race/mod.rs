//! The race-condition lab: lost updates with real threads, recorded
//! interleavings, the interleaving analyser, and the be-the-scheduler model.

pub mod analysis;
pub mod counter;
mod error;
pub mod events;
pub mod interleaving;
pub mod presets;
pub mod stepper;

pub use error::RaceError;
