//! What can go wrong with a workload: a spec that does not parse, parameters
//! out of range, a granularity it cannot be cut at, a run that fails, or a
//! parallel result that differs from the serial one ([`Mismatch`]).

use crate::engine::BadInput;
use crate::engine::exec::ExecError;
use crate::engine::exec::schedule::Schedule;
use crate::engine::farm::FarmError;
use crate::engine::mandelbrot::TilingError;
use crate::engine::workloads::Granularity;
use serde::{Deserialize, Serialize};

/// A workload error. Names, syntax, parameters and granularities are the
/// person's input; a run that fails or a result that differs is a failure.
#[derive(Debug, thiserror::Error)]
pub enum WorkloadError {
    /// `known` lists the names, comma-separated.
    #[error("unknown workload {name:?}: expected one of {known}")]
    UnknownWorkload { name: String, known: String },
    #[error("{workload}: expected key=value, got {pair:?}")]
    NotKeyValue { workload: String, pair: String },
    /// `keys` lists the workload's keys.
    #[error("{workload}: unknown key {key:?} (keys: {keys})")]
    UnknownKey {
        workload: String,
        key: String,
        keys: &'static str,
    },
    #[error("{workload}: {key}={value:?} is not a valid whole number")]
    NotNumber {
        workload: String,
        key: String,
        value: String,
    },
    #[error("trial {input:?}: expected naive or sqrt")]
    Trial { input: String },
    #[error("GIL mode applies to the course workloads (primes, dot, matmul, io), not mandelbrot")]
    GilMandelbrot,
    #[error("dot: len must be 1..={max}, got {got}")]
    DotLen { got: usize, max: usize },
    #[error("dot: chunks must be 1..=len ({len}), got {got}")]
    DotChunks { got: usize, len: usize },
    #[error("io: tasks must be 1..={max}, got {got}")]
    IoTasks { got: usize, max: usize },
    #[error("io: wait-ms must be ≤ {max}, got {got}")]
    IoWait { got: u64, max: u64 },
    #[error("io: requests per task must be 1..={max}, got {got}")]
    IoPerTask { got: usize, max: usize },
    #[error("primes: count must be at least 1")]
    PrimesCount,
    #[error("primes: chunk must be at least 1")]
    PrimesChunk,
    #[error("primes: numbers must stay ≤ {max}")]
    PrimesRange { max: u64 },
    #[error("matmul: n must be a power of two ≤ {max}, got {got}")]
    MatmulN { got: usize, max: usize },
    #[error("matmul: cutoff must be a power of two ≤ n ({n}), got {got}")]
    MatmulCutoff { got: usize, n: usize },
    /// The leaf products would take `mib` MiB together.
    #[error("matmul: {mib} MiB of leaf products; raise the cutoff or lower n")]
    MatmulMemory { mib: usize },
    /// Two matrices of different sizes given to one product.
    #[error("matmul: sizes differ ({a} and {b})")]
    MatmulSizes { a: usize, b: usize },
    /// The order-of-completion demo's task count.
    #[error("tasks must be 1..={max}, got {got}")]
    CompletionTasks { got: usize, max: usize },
    /// A course workload's granularity that is not a positive number.
    #[error("{input:?} is not a whole number ≥ 1")]
    GranularityNumber { input: String },
    /// A granularity of another kind than the workload's own.
    #[error("{workload} cannot be cut at granularity {granularity}")]
    Granularity {
        workload: &'static str,
        granularity: Granularity,
    },
    #[error("mandelbrot is cut into tiles or bands, not {granularity}")]
    NotTiles { granularity: Granularity },
    #[error("mandelbrot cannot run at granularity {granularity}")]
    MandelbrotGranularity { granularity: Granularity },
    /// Mandelbrot's granularity: a tiling that does not parse or is too fine.
    #[error(transparent)]
    Tiling(#[from] TilingError),
    /// The pool or the schedule failed.
    #[error(transparent)]
    Exec(#[from] ExecError),
    /// Mandelbrot's render (threads or worker processes) failed.
    #[error(transparent)]
    Farm(#[from] FarmError),
    /// A run's result differs from the serial one.
    #[error(transparent)]
    Mismatch(#[from] Mismatch),
    /// A course workload's result at `granularity` under `schedule` differs.
    #[error("{workload} at {granularity} ({schedule}) differs from the serial result: {mismatch}")]
    Differs {
        workload: &'static str,
        granularity: Granularity,
        schedule: Schedule,
        #[source]
        mismatch: Mismatch,
    },
    /// An error of a workload defined outside this module (a Python script):
    /// its own type says whose fault it is.
    #[error("{0}")]
    External(Box<dyn BadInput + Send + Sync>),
}

impl BadInput for WorkloadError {
    fn is_bad_input(&self) -> bool {
        use WorkloadError::*;
        match self {
            Tiling(e) => e.is_bad_input(),
            Exec(e) => e.is_bad_input(),
            Farm(e) => e.is_bad_input(),
            External(e) => e.is_bad_input(),
            MatmulSizes { .. } | Mismatch(_) | Differs { .. } => false,
            _ => true,
        }
    }
}

/// How a parallel result differs from the serial one (data, kept in a
/// run's record).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub enum Mismatch {
    /// The dot product's sums differ by more than the stated bound.
    #[error(
        "dot: |parallel − serial| = {diff:e} exceeds the bound {bound:e} (parallel {parallel}, serial {serial})"
    )]
    Dot {
        diff: f64,
        bound: f64,
        parallel: f64,
        serial: f64,
    },
    /// `first`: the first request whose reply differs.
    #[error("io: replies differ, first at request {first:?}")]
    Io { first: Option<usize> },
    /// `first`: the first (parallel, serial) pair that differs.
    #[error("parallel found {parallel} primes, serial {serial}; first difference at {first:?}")]
    Primes {
        parallel: usize,
        serial: usize,
        first: Option<(u64, u64)>,
    },
    #[error("matmul: products differ (exact comparison), first at flat index {first:?}")]
    Matmul { first: Option<usize> },
    /// One value (`what`: a sum, a count) differs.
    #[error("{what} {parallel} ≠ {serial}")]
    Value {
        what: String,
        parallel: String,
        serial: String,
    },
    /// Fewer results than tasks were collected.
    #[error("{arrived} of {expected} results arrived")]
    Missing { arrived: usize, expected: usize },
    #[error("cancelled before every task ran")]
    Cancelled,
    /// Mandelbrot: the image differs from the serial render.
    #[error("{schedule} at {granularity} differs from the serial render")]
    Image {
        schedule: Schedule,
        granularity: Granularity,
    },
}

impl BadInput for Mismatch {
    fn is_bad_input(&self) -> bool {
        false
    }
}
