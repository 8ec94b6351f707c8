//! What can go wrong farming tiles out to worker processes: a backend name
//! that does not exist, workers that would not start, every worker failing,
//! an MPI launch or job that failed.

use crate::engine::mandelbrot::RenderError;
use std::path::PathBuf;

/// A backend name that does not exist.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown backend {input:?}: expected threads, processes or mpi")]
pub struct BackendError {
    pub input: String,
}

impl crate::engine::BadInput for BackendError {
    fn is_bad_input(&self) -> bool {
        true
    }
}

/// A farm render that could not run.
#[derive(Debug, thiserror::Error)]
pub enum FarmError {
    #[error("cannot find parlab's own executable: {0}")]
    Exe(#[source] std::io::Error),
    /// The OS would not start worker `worker` from `exe`.
    #[error("cannot start worker {worker} ({}): {source}", exe.display())]
    Start {
        worker: usize,
        exe: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("worker {worker}: no pipes")]
    NoPipes { worker: usize },
    #[error("cannot start a reader thread: {0}")]
    ReaderThread(#[source] std::io::Error),
    /// Every worker process failed; `faults` says how, one line each.
    #[error(
        "all {workers} worker process(es) failed with {left} tile(s) left{}",
        faults.iter().map(|f| format!("\n  {f}")).collect::<String>()
    )]
    AllFailed {
        workers: usize,
        left: usize,
        faults: Vec<String>,
    },
    /// The threads backend's render failed.
    #[error(transparent)]
    Render(#[from] RenderError),
    /// `--backend mpi` on a build without the `mpi` feature.
    #[error(
        "this parlab was built without MPI: install Open MPI (Debian: openmpi-bin libopenmpi-dev libclang-dev) and build with `cargo build --release --features mpi`"
    )]
    NoMpi,
    /// The MPI launch or job failed; the message says how and what to do.
    #[error("{0}")]
    Mpi(String),
    /// An MPI setup that cannot work (too few ranks, --workers that disagrees
    /// with mpirun -np, a worker count the launcher cannot start).
    #[error("{0}")]
    MpiSetup(String),
}

impl crate::engine::BadInput for FarmError {
    fn is_bad_input(&self) -> bool {
        match self {
            FarmError::Render(e) => e.is_bad_input(),
            FarmError::NoMpi | FarmError::MpiSetup(_) => true,
            _ => false,
        }
    }
}

/// A message that could not be sent to a worker.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("its input is closed")]
    Closed,
    #[error("{0}")]
    Frame(#[from] super::protocol::FrameError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}
