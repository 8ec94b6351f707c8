//! What a sweep measures: a workload cut into tasks at a chosen granularity.
//!
//! Every workload (Mandelbrot in [`super::mandelbrot`]; primes, dot product,
//! matmul and I/O-bound tasks through [`super::course::CourseWorkload`])
//! implements [`Workload`]: it names itself, parses and lists its
//! granularities, runs once under a schedule on a given pool (the timed
//! thing: build tasks, run them, collect results) and checks a parallel
//! result against its serial reference.
//!
//! Adding a workload: implement [`Workload`] (item workloads use
//! [`Granularity::Chunk`] for "items per task"; `run` builds the task list at
//! that granularity, runs it through `engine::schedule::execute` on the given
//! pool and returns the trace) and name it in [`super::catalog`]. The sweep, the statistics, the replay, the exports and
//! the speedup lab panel then apply unchanged.

use crate::engine::exec::schedule::Schedule;
use crate::engine::exec::trace::Trace;
use crate::engine::mandelbrot::render::RenderSettings;
use crate::engine::mandelbrot::tiling::Tiling;
use crate::engine::workloads::WorkloadError;
use rayon::ThreadPool;
use serde::{Deserialize, Serialize};
use std::fmt;

/// How finely a workload is cut into tasks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Granularity {
    /// Image workloads: tiles or bands.
    Tiles(Tiling),
    /// Item workloads (primes, dot, io): `items` per task.
    Chunk { items: u32 },
    /// Recursive workloads (matmul): the cutoff size below which the
    /// recursion stops and a leaf becomes one task.
    Cutoff { size: u32 },
}

impl fmt::Display for Granularity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Granularity::Tiles(t) => t.fmt(f),
            Granularity::Chunk { items } => write!(f, "{items}/task"),
            Granularity::Cutoff { size } => write!(f, "cutoff {size}"),
        }
    }
}

impl Granularity {
    /// Orders granularities by value for legends and tables: `4px` before
    /// `16px` before `128px` (not as text), square tiles before bands, bands
    /// by their row count; chunk and cutoff sizes by size.
    pub fn value_order(&self) -> (u8, u32) {
        match *self {
            Granularity::Tiles(Tiling::Square { tile_px }) => (0, tile_px),
            Granularity::Tiles(Tiling::Bands { band_rows }) => (1, band_rows),
            Granularity::Chunk { items } => (0, items),
            Granularity::Cutoff { size } => (0, size),
        }
    }

    /// Rows per band when this is a band cut (drawn apart from square tiles).
    pub fn band_rows(&self) -> Option<u32> {
        match *self {
            Granularity::Tiles(Tiling::Bands { band_rows }) => Some(band_rows),
            _ => None,
        }
    }
}

/// A workload the speedup lab can sweep.
pub trait Workload: Send + Sync {
    /// Short name as typed on the command line (`mandelbrot`).
    fn name(&self) -> &'static str;
    /// What one task is called in traces (`tile`).
    fn task_label(&self) -> &'static str;
    /// The unit of `TaskRecord::work` in this workload's traces.
    fn work_unit(&self) -> &'static str {
        "iterations"
    }
    /// One line for people: sizes and settings.
    fn describe(&self) -> String;
    /// Parameters for exports (view, kernel, sizes…).
    fn params(&self) -> serde_json::Value;
    /// Parses one granularity as typed (`64`, `bands`, …).
    fn parse_granularity(&self, s: &str) -> Result<Granularity, WorkloadError>;
    /// The default list: log-spaced sizes and any special cuts.
    fn default_granularities(&self) -> Vec<Granularity>;
    /// How many tasks this granularity makes.
    fn num_tasks(&self, granularity: Granularity) -> usize;
    /// True when each run starts processes and waits for them before it
    /// returns (a Python interpreter): the sweep then counts their CPU as the
    /// run's own, not as other processes' (the busy-machine check).
    fn runs_child_processes(&self) -> bool {
        false
    }
    /// Builds whatever data the runs at these granularities need; called once
    /// by the sweep before any pool is built or any run is timed.
    fn prepare(&self, _granularities: &[Granularity]) -> Result<(), WorkloadError> {
        Ok(())
    }
    /// One complete run (tasks built, executed on `pool`, results collected),
    /// returning its trace. `pool` is `None` only for the sequential schedule.
    fn run(
        &self,
        granularity: Granularity,
        schedule: Schedule,
        pool: Option<&ThreadPool>,
    ) -> Result<Trace, WorkloadError>;
    /// One timed run: the nanoseconds the sweep records and the trace. By
    /// default the whole of [`Workload::run`]; a workload that checks its
    /// result inside `run` overrides this to leave the check out of the time.
    fn run_timed(
        &self,
        granularity: Granularity,
        schedule: Schedule,
        pool: Option<&ThreadPool>,
    ) -> Result<(u64, Trace), WorkloadError> {
        let t0 = std::time::Instant::now();
        let trace = self.run(granularity, schedule, pool)?;
        Ok((t0.elapsed().as_nanos() as u64, trace))
    }
    /// Runs once and compares the result with the serial reference.
    fn verify(
        &self,
        granularity: Granularity,
        schedule: Schedule,
        pool: Option<&ThreadPool>,
    ) -> Result<(), WorkloadError>;
    /// Render settings for this run, when the workload is an image (so the
    /// window can show the trace over the picture).
    fn render_settings(
        &self,
        granularity: Granularity,
        schedule: Schedule,
        num_workers: usize,
    ) -> Option<RenderSettings>;
}
