//! What can go wrong in the locks lab: a setting out of range, a thread that
//! would not start or panicked, a plot that could not be drawn.

use crate::engine::speedup::charts::ChartError;

/// A locks-lab error. Settings are the person's input; the rest are failures.
#[derive(Debug, thiserror::Error)]
pub enum LocksError {
    /// Contention timeline: thread count.
    #[error("threads must be 1..={max}, got {got}")]
    Threads { got: usize, max: usize },
    #[error("iterations must be 1..={max}, got {got}")]
    Iterations { got: u32, max: u32 },
    #[error("hold and think times must be 0..={max} µs")]
    HoldThink { max: u64 },
    #[error("timeout must be 1..={max} ms, got {got}")]
    Timeout { got: u64, max: u64 },
    #[error("work must be 0..={max} ms, got {got}")]
    Work { got: u64, max: u64 },
    /// `known` lists the kinds, comma-separated.
    #[error("unknown lock kind {input:?}: expected one of {known}")]
    UnknownKind { input: String, known: String },
    #[error("give at least one thread count")]
    NoThreadCounts,
    /// Throughput sweep: one of its thread counts.
    #[error("thread counts must be 1..={max}, got {got}")]
    ThreadCount { got: usize, max: usize },
    #[error("ops must be 1..={max}, got {got}")]
    Ops { got: u64, max: u64 },
    #[error("give at least one lock kind")]
    NoKinds,
    #[error("repeats must be 1..={max}, got {got}")]
    Repeats { got: usize, max: usize },
    /// The OS would not start thread `thread`.
    #[error("could not start thread {thread}: {source}")]
    Spawn {
        thread: usize,
        #[source]
        source: std::io::Error,
    },
    /// `what` names the thread: `contention thread`, `lock worker`…
    #[error("a {what} panicked")]
    Panicked { what: &'static str },
    /// The lock under measurement was poisoned by a panicking thread.
    #[error("poisoned")]
    Poisoned,
    /// plotters refused to draw (its error type depends on the backend).
    #[error("{0}")]
    Draw(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error(transparent)]
    Chart(#[from] ChartError),
}

impl crate::engine::BadInput for LocksError {
    fn is_bad_input(&self) -> bool {
        use LocksError::*;
        match self {
            Threads { .. }
            | Iterations { .. }
            | HoldThink { .. }
            | Timeout { .. }
            | Work { .. }
            | UnknownKind { .. }
            | NoThreadCounts
            | ThreadCount { .. }
            | Ops { .. }
            | NoKinds
            | Repeats { .. } => true,
            Chart(e) => e.is_bad_input(),
            Spawn { .. } | Panicked { .. } | Poisoned | Draw(_) => false,
        }
    }
}
