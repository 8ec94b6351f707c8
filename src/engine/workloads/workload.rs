//! What a sweep measures: a workload cut into tasks at a chosen granularity.
//!
//! Every workload (Mandelbrot here; primes, dot product, matmul and I/O-bound
//! tasks through [`crate::engine::workloads::course::CourseWorkload`]) implements [`Workload`]: it names itself, parses and lists its
//! granularities, runs once under a schedule on a given pool (the timed
//! thing: build tasks, run them, collect results) and checks a parallel
//! result against its serial reference.
//!
//! Adding a workload: implement [`Workload`] (item workloads use
//! [`Granularity::Chunk`] for "items per task"; `run` builds the task list at
//! that granularity, runs it through `engine::schedule::execute` on the given
//! pool and returns the trace) and name it in [`by_spec`] and
//! [`WORKLOAD_NAMES`]. The sweep, the statistics, the replay, the exports and
//! the speedup lab panel then apply unchanged.

use crate::engine::exec::schedule::Schedule;
use crate::engine::exec::trace::Trace;
use crate::engine::mandelbrot::kernel::Kernel;
use crate::engine::mandelbrot::render::{RenderSettings, render, render_serial};
use crate::engine::mandelbrot::tiling::Tiling;
use crate::engine::mandelbrot::view::View;
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
    fn parse_granularity(&self, s: &str) -> Result<Granularity, String>;
    /// The default list: log-spaced sizes and any special cuts.
    fn default_granularities(&self) -> Vec<Granularity>;
    /// How many tasks this granularity makes.
    fn num_tasks(&self, granularity: Granularity) -> usize;
    /// Builds whatever data the runs at these granularities need; called once
    /// by the sweep before any pool is built or any run is timed.
    fn prepare(&self, _granularities: &[Granularity]) -> Result<(), String> {
        Ok(())
    }
    /// One complete run (tasks built, executed on `pool`, results collected),
    /// returning its trace. `pool` is `None` only for the sequential schedule.
    fn run(
        &self,
        granularity: Granularity,
        schedule: Schedule,
        pool: Option<&ThreadPool>,
    ) -> Result<Trace, String>;
    /// One timed run: the nanoseconds the sweep records and the trace. By
    /// default the whole of [`Workload::run`]; a workload that checks its
    /// result inside `run` overrides this to leave the check out of the time.
    fn run_timed(
        &self,
        granularity: Granularity,
        schedule: Schedule,
        pool: Option<&ThreadPool>,
    ) -> Result<(u64, Trace), String> {
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
    ) -> Result<(), String>;
    /// Render settings for this run, when the workload is an image (so the
    /// window can show the trace over the picture).
    fn render_settings(
        &self,
        granularity: Granularity,
        schedule: Schedule,
        num_workers: usize,
    ) -> Option<RenderSettings>;
}

/// Names accepted by `--workload`.
pub const WORKLOAD_NAMES: [&str; 5] = ["mandelbrot", "primes", "dot", "matmul", "io"];

/// The workload called `name` with its default parameters, over `view` with
/// `kernel` where that applies.
pub fn by_name(
    name: &str,
    view: View,
    kernel: Kernel,
) -> Result<std::sync::Arc<dyn Workload>, String> {
    by_spec(name, view, kernel, false)
}

/// The workload `spec` names: `mandelbrot` (over `view` with `kernel`), or a
/// course workload in [`crate::engine::workloads::WorkloadSpec`] syntax
/// (`primes`, `primes:count=640`, `io:tasks=32,wait-ms=5`, …). `gil` runs a
/// course workload's tasks under one global lock; Mandelbrot has no GIL mode.
pub fn by_spec(
    spec: &str,
    view: View,
    kernel: Kernel,
    gil: bool,
) -> Result<std::sync::Arc<dyn Workload>, String> {
    let spec = spec.trim();
    if spec == "mandelbrot" {
        if gil {
            return Err(
                "GIL mode applies to the course workloads (primes, dot, matmul, io), not mandelbrot"
                    .into(),
            );
        }
        return Ok(std::sync::Arc::new(Mandelbrot { view, kernel }));
    }
    let name = spec.split(':').next().unwrap_or_default().trim();
    if !WORKLOAD_NAMES.contains(&name) {
        return Err(format!(
            "unknown workload {name:?}: expected one of {}",
            WORKLOAD_NAMES.join(", ")
        ));
    }
    let parsed: crate::engine::workloads::WorkloadSpec = spec.parse()?;
    Ok(std::sync::Arc::new(
        crate::engine::workloads::course::CourseWorkload::new(parsed, gil)?,
    ))
}

/// The Mandelbrot renderer over a view, with a kernel.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Mandelbrot {
    pub view: View,
    pub kernel: Kernel,
}

impl Mandelbrot {
    fn tiling(granularity: Granularity) -> Result<Tiling, String> {
        match granularity {
            Granularity::Tiles(t) => Ok(t),
            g => Err(format!("mandelbrot is cut into tiles or bands, not {g}")),
        }
    }
}

impl Workload for Mandelbrot {
    fn name(&self) -> &'static str {
        "mandelbrot"
    }
    fn task_label(&self) -> &'static str {
        "tile"
    }
    fn describe(&self) -> String {
        let v = &self.view;
        let (x, y) = v.center();
        format!(
            "{}×{} px, max_iter {}, centre ({x}, {y}), width {}, kernel {}",
            v.width_px(),
            v.height_px(),
            v.max_iter(),
            v.view_width(),
            self.kernel.name()
        )
    }
    fn params(&self) -> serde_json::Value {
        serde_json::json!({
            "view": self.view.spec(),
            "kernel": self.kernel.name(),
        })
    }
    fn parse_granularity(&self, s: &str) -> Result<Granularity, String> {
        let tiling = s.parse::<Tiling>()?;
        tiling.check_count(self.view.width_px(), self.view.height_px())?;
        Ok(Granularity::Tiles(tiling))
    }
    fn default_granularities(&self) -> Vec<Granularity> {
        [4, 8, 16, 32, 64, 128, 256]
            .into_iter()
            .map(|tile_px| Granularity::Tiles(Tiling::Square { tile_px }))
            .chain([Granularity::Tiles(Tiling::Bands { band_rows: 1 })])
            .collect()
    }
    fn num_tasks(&self, granularity: Granularity) -> usize {
        Self::tiling(granularity)
            .map(|t| t.tiles(self.view.width_px(), self.view.height_px()).len())
            .unwrap_or(0)
    }
    fn run(
        &self,
        granularity: Granularity,
        schedule: Schedule,
        pool: Option<&ThreadPool>,
    ) -> Result<Trace, String> {
        let settings = self
            .render_settings(
                granularity,
                schedule,
                pool.map_or(1, |p| p.current_num_threads()),
            )
            .ok_or_else(|| format!("mandelbrot cannot run at granularity {granularity}"))?;
        if schedule.uses_pool() && pool.is_none() {
            return Err(format!("the {schedule} schedule needs a worker pool"));
        }
        render(&settings, pool).map(|r| r.trace)
    }
    fn verify(
        &self,
        granularity: Granularity,
        schedule: Schedule,
        pool: Option<&ThreadPool>,
    ) -> Result<(), String> {
        let settings = self
            .render_settings(
                granularity,
                schedule,
                pool.map_or(1, |p| p.current_num_threads()),
            )
            .ok_or_else(|| format!("mandelbrot cannot run at granularity {granularity}"))?;
        let parallel = render(&settings, pool)?.image;
        if parallel == render_serial(&self.view, self.kernel) {
            Ok(())
        } else {
            Err(format!(
                "{schedule} at {granularity} differs from the serial render"
            ))
        }
    }
    fn render_settings(
        &self,
        granularity: Granularity,
        schedule: Schedule,
        num_workers: usize,
    ) -> Option<RenderSettings> {
        Some(RenderSettings {
            view: self.view,
            tiling: Self::tiling(granularity).ok()?,
            schedule,
            num_workers,
            kernel: self.kernel,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::exec::pool::build_pool;

    fn tiny() -> Mandelbrot {
        Mandelbrot {
            view: View::new((-0.75, 0.0), 3.0, 32, 24, 100).expect("view"),
            kernel: Kernel::Reference,
        }
    }

    #[test]
    fn mandelbrot_runs_every_tile_and_matches_serial() {
        let w = tiny();
        let pool = build_pool(2).expect("pool");
        for g in ["8", "bands", "bands4"] {
            let g = w.parse_granularity(g).expect("granularity");
            let trace = w.run(g, Schedule::default(), Some(&pool)).expect("run");
            assert_eq!(trace.records.len(), w.num_tasks(g));
            assert_eq!(trace.num_workers, 2);
            w.verify(g, Schedule::WorkStealing, Some(&pool))
                .expect("same as serial");
        }
        assert_eq!(
            w.num_tasks(Granularity::Tiles(Tiling::Square { tile_px: 8 })),
            12
        );
        assert!(w.parse_granularity("huge").is_err());
        assert!(
            w.run(
                Granularity::Chunk { items: 4 },
                Schedule::default(),
                Some(&pool)
            )
            .is_err()
        );
        assert!(
            w.run(w.default_granularities()[0], Schedule::default(), None)
                .is_err()
        );
    }

    #[test]
    fn sequential_runs_without_a_pool() {
        let w = tiny();
        let g = w.default_granularities()[0];
        let trace = w.run(g, Schedule::Sequential, None).expect("run");
        assert_eq!(trace.num_workers, 1);
        assert_eq!(trace.records.len(), w.num_tasks(g));
    }
}
