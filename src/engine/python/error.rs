//! What can go wrong in the Python lab: a script that cannot be started or
//! fails, a granularity a script does not have, a trace that cannot be read.

use crate::engine::BadInput;
use crate::engine::python::{ImportError, RunError};
use crate::engine::speedup::SweepError;
use std::path::PathBuf;

/// A Python-lab error.
#[derive(Debug, thiserror::Error)]
pub enum PythonError {
    /// The interpreter or the script could not be started.
    #[error(transparent)]
    Run(#[from] RunError),
    /// The script ran and failed; `tail` is the end of what it wrote to stderr.
    #[error("{script}: {ending}\n{tail}")]
    ScriptFailed {
        script: String,
        ending: String,
        tail: String,
    },
    #[error("{input:?}: a Python script cuts its own tasks; the only granularity is `script`")]
    Granularity { input: String },
    #[error("start method {input:?}: expected fork, spawn or forkserver")]
    StartMethod { input: String },
    /// A trace file that cannot be opened.
    #[error("{}: cannot open: {source}", path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A trace file that is not a Chrome trace parlab can read.
    #[error("{}: {source}", path.display())]
    Import {
        path: PathBuf,
        #[source]
        source: ImportError,
    },
    /// A threads-vs-processes sweep that could not start or stopped.
    #[error(transparent)]
    Sweep(#[from] SweepError),
}

impl BadInput for PythonError {
    fn is_bad_input(&self) -> bool {
        match self {
            PythonError::Run(e) => e.is_bad_input(),
            PythonError::ScriptFailed { .. } => false,
            PythonError::Granularity { .. }
            | PythonError::StartMethod { .. }
            | PythonError::Open { .. }
            | PythonError::Import { .. } => true,
            PythonError::Sweep(e) => e.is_bad_input(),
        }
    }
}

impl BadInput for RunError {
    /// A missing interpreter or script is the person's input; anything else
    /// (a temporary folder, pipes) is a failure.
    fn is_bad_input(&self) -> bool {
        !matches!(self, RunError::Io(_))
    }
}

impl From<PythonError> for crate::engine::workloads::WorkloadError {
    fn from(e: PythonError) -> Self {
        crate::engine::workloads::WorkloadError::External(Box::new(e))
    }
}
