//! Running tasks on workers: the pool, the schedules that hand tasks out,
//! the trace of who ran what (and its activity profile), the GIL mode, the
//! one background-task type and the busy-machine check of timed runs.

pub mod activity;
mod error;
pub mod gil;
pub mod other_cpu;
pub mod placement;
pub mod pool;
pub mod schedule;
pub mod task;
pub mod trace;

pub use error::{ExecError, ScheduleError};
