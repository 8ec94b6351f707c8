//! Mandelbrot as a sweep workload: the image cut into tiles or bands, each a
//! task, checked pixel for pixel against the serial render.

use super::workload::{Granularity, Workload};
use crate::engine::exec::ExecError;
use crate::engine::exec::schedule::Schedule;
use crate::engine::exec::trace::Trace;
use crate::engine::farm::{Backend, FarmOptions, MpiLaunch, render_on};
use crate::engine::mandelbrot::kernel::Kernel;
use crate::engine::mandelbrot::render::{RenderSettings, render_serial};
use crate::engine::mandelbrot::tiling::Tiling;
use crate::engine::mandelbrot::view::View;
use crate::engine::workloads::{Mismatch, WorkloadError};
use rayon::ThreadPool;

/// The Mandelbrot renderer over a view, with a kernel, on threads, on
/// worker processes or on MPI ranks.
#[derive(Clone, Debug, PartialEq)]
pub struct Mandelbrot {
    pub view: View,
    pub kernel: Kernel,
    pub backend: Backend,
    /// How the MPI backend starts mpirun (one launch per run).
    pub mpi: MpiLaunch,
}

impl Mandelbrot {
    /// On threads.
    pub fn new(view: View, kernel: Kernel) -> Self {
        Mandelbrot {
            view,
            kernel,
            backend: Backend::Threads,
            mpi: MpiLaunch::default(),
        }
    }

    /// One run on this workload's backend (processes start
    /// `settings.effective_workers()` workers; threads use `pool`).
    fn render_once(
        &self,
        settings: &RenderSettings,
        pool: Option<&ThreadPool>,
    ) -> Result<crate::engine::mandelbrot::render::Rendered, WorkloadError> {
        let options = FarmOptions {
            mpi: self.mpi.clone(),
            ..FarmOptions::default()
        };
        Ok(render_on(self.backend, settings, pool, &options)?.rendered)
    }

    fn tiling(granularity: Granularity) -> Result<Tiling, WorkloadError> {
        match granularity {
            Granularity::Tiles(t) => Ok(t),
            g => Err(WorkloadError::NotTiles { granularity: g }),
        }
    }
}

impl Workload for Mandelbrot {
    fn name(&self) -> &'static str {
        "mandelbrot"
    }
    /// On processes (MPI: mpirun and its ranks), each run starts and reaps
    /// its worker processes: their CPU is the run's own, not other processes'.
    fn runs_child_processes(&self) -> bool {
        self.backend != Backend::Threads
    }
    /// On MPI the time is rank 0's: from just before its MPI_Init to the
    /// last tile (so each rank's start-up is in it, as a worker process's
    /// is); mpirun's own launch, before any rank runs, is not.
    fn run_timed(
        &self,
        granularity: Granularity,
        schedule: Schedule,
        pool: Option<&ThreadPool>,
    ) -> Result<(u64, Trace), WorkloadError> {
        let t0 = std::time::Instant::now();
        let trace = self.run(granularity, schedule, pool)?;
        let nanos = match self.backend {
            Backend::Mpi => trace.wall_nanos,
            _ => t0.elapsed().as_nanos() as u64,
        };
        Ok((nanos, trace))
    }
    fn task_label(&self) -> &'static str {
        "tile"
    }
    fn describe(&self) -> String {
        let v = &self.view;
        let (x, y) = v.center();
        format!(
            "{}×{} px, max_iter {}, centre ({x}, {y}), width {}, kernel {}, on {}",
            v.width_px(),
            v.height_px(),
            v.max_iter(),
            v.view_width(),
            self.kernel.name(),
            self.backend
        )
    }
    fn params(&self) -> serde_json::Value {
        serde_json::json!({
            "view": self.view.spec(),
            "kernel": self.kernel.name(),
            "backend": self.backend.name(),
        })
    }
    fn parse_granularity(&self, s: &str) -> Result<Granularity, WorkloadError> {
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
    ) -> Result<Trace, WorkloadError> {
        let settings = self
            .render_settings(
                granularity,
                schedule,
                pool.map_or(1, |p| p.current_num_threads()),
            )
            .ok_or(WorkloadError::MandelbrotGranularity { granularity })?;
        if schedule.uses_pool() && pool.is_none() {
            return Err(ExecError::NoPool { schedule }.into());
        }
        self.render_once(&settings, pool).map(|r| r.trace)
    }
    fn verify(
        &self,
        granularity: Granularity,
        schedule: Schedule,
        pool: Option<&ThreadPool>,
    ) -> Result<(), WorkloadError> {
        let settings = self
            .render_settings(
                granularity,
                schedule,
                pool.map_or(1, |p| p.current_num_threads()),
            )
            .ok_or(WorkloadError::MandelbrotGranularity { granularity })?;
        let parallel = self.render_once(&settings, pool)?.image;
        if parallel == render_serial(&self.view, self.kernel) {
            Ok(())
        } else {
            Err(Mismatch::Image {
                schedule,
                granularity,
            }
            .into())
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
            placement: Default::default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::exec::pool::build_pool;

    fn tiny() -> Mandelbrot {
        Mandelbrot::new(
            View::new((-0.75, 0.0), 3.0, 32, 24, 100).expect("view"),
            Kernel::Reference,
        )
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
