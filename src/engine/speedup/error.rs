//! What can go wrong in the speedup lab: a plan out of range, a sweep that
//! cannot start or stops on a failed run, a report that cannot be read back.

use crate::engine::BadInput;
use crate::engine::workloads::WorkloadError;

/// A sweep refused before it starts (the plan) or stopped by a failed run.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error("give at least one worker count")]
    NoWorkers,
    #[error("worker counts must be 1..={max}, got {got}")]
    Workers { got: usize, max: usize },
    #[error("give at least one granularity")]
    NoGranularities,
    #[error("repetitions must be 1..={max}, got {got}")]
    Reps { got: u32, max: u32 },
    #[error("warm-up runs must be 0..={max}, got {got}")]
    Warmup { got: u32, max: u32 },
    #[error("sweep a parallel schedule; sequential is always measured beside it")]
    Sequential,
    #[error("could not start the sweep thread: {0}")]
    Thread(#[source] std::io::Error),
    /// Preparing the workload, building a pool or one run failed.
    #[error(transparent)]
    Run(#[from] WorkloadError),
}

impl BadInput for SweepError {
    fn is_bad_input(&self) -> bool {
        match self {
            SweepError::Thread(_) => false,
            SweepError::Run(e) => e.is_bad_input(),
            _ => true,
        }
    }
}

/// A report (JSON) or its CSV that cannot be read back.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("not a parlab sweep report: {0}")]
    NotReport(#[source] serde_json::Error),
    #[error("unexpected CSV header")]
    CsvHeader,
    /// `row` counts data rows from 1.
    #[error("row {row}: empty")]
    EmptyRow { row: usize },
    #[error("row {row}: {fields} fields")]
    Fields { row: usize, fields: usize },
    #[error("row {row}: bad number in column {column}")]
    Number { row: usize, column: usize },
    /// A field that does not parse: `tasks`, `workers`, `list`…
    #[error("row {row}: bad {field}")]
    Field { row: usize, field: &'static str },
}

impl BadInput for ReportError {
    fn is_bad_input(&self) -> bool {
        true
    }
}
