//! What can go wrong running tasks: a worker count out of range, a pool that
//! would not start or pin, a schedule name that does not parse.

use crate::engine::BadInput;
use crate::engine::exec::schedule::Schedule;

/// Building a pool, pinning its workers or running a schedule failed.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// A worker count outside the pool's limits.
    #[error("workers must be 1..={max}, got {got}")]
    Workers { got: usize, max: usize },
    /// The thread that tries pinning once before the pool starts panicked.
    #[error("a pinning probe panicked")]
    PinProbePanicked,
    /// The OS refused to pin a thread.
    #[error("could not pin a worker to CPU {cpu}: {source}")]
    Pin {
        cpu: usize,
        #[source]
        source: std::io::Error,
    },
    /// Pinning asked for where parlab cannot pin.
    #[error("pinning workers (to CPU {cpu}) is supported on Linux only")]
    PinUnsupported { cpu: usize },
    /// Some of a pinned pool's workers could not be pinned.
    #[error("could not pin {failed} of {workers} workers to their cores")]
    PinWorkers { failed: usize, workers: usize },
    /// The OS would not start the worker threads.
    #[error("could not start {workers} worker threads: {source}")]
    Spawn {
        workers: usize,
        #[source]
        source: rayon::ThreadPoolBuildError,
    },
    /// A parallel schedule was run without a pool (a bug in the caller).
    #[error("the {schedule} schedule needs a worker pool")]
    NoPool { schedule: Schedule },
}

impl BadInput for ExecError {
    fn is_bad_input(&self) -> bool {
        matches!(self, ExecError::Workers { .. })
    }
}

/// A schedule name (`dynamic:4`, `guided`, …) that does not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("bad chunk size in {input:?}: expected a whole number ≥ 1")]
    Chunk { input: String },
    /// `known` lists the names, comma-separated.
    #[error("unknown schedule {input:?}: expected one of {known}")]
    Unknown { input: String, known: String },
    #[error("{name} takes no chunk size")]
    NoChunk { name: String },
}

impl BadInput for ScheduleError {
    fn is_bad_input(&self) -> bool {
        true
    }
}
