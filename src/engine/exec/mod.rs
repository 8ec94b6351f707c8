//! Running tasks on workers: the pool, the schedules that hand tasks out,
//! the trace of who ran what, the GIL mode and the one background-task type.

pub mod gil;
pub mod pool;
pub mod schedule;
pub mod task;
pub mod trace;
