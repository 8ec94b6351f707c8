//! The Python lab: runs real CPython programs under a small tracer that
//! parlab carries inside its binary, and turns what every worker process and
//! thread did into a lane trace for the same timeline and statistics as
//! parlab's own workers.
//!
//! - [`runner`]: the private folder, the interpreter in its own process
//!   group, captured output, timeout and kill.
//! - [`records`]: the tracer's JSON-lines records.
//! - [`lanes`]: one lane per process or thread; summary figures.
//! - [`chrome`]: Chrome Trace Event JSON export and import (`parlab open`).
//! - [`programs`]: the course's programs, shipped.
//! - [`sweep`]: a Python program as a speedup-lab workload.

pub mod chrome;
mod error;
pub mod lanes;
pub mod programs;
mod records;
pub mod runner;
pub mod sweep;

pub use chrome::{ImportError, Imported, from_chrome_reader, import_file, to_chrome_json};
pub use error::PythonError;
pub use lanes::{Lane, LaneTask, LaneTrace, LaneTraceSummary, Startup};
pub use programs::{PROGRAMS, Program};
pub use runner::{Ending, RunError, RunOutcome, RunPlan, Script, StartMethod, Stream};
