//! The tile farm: a master hands tiles to workers under a schedule and
//! collects `(tile, counts, smooth values, timings)`, over one of several
//! backends.
//!
//! - [`Backend::Threads`]: the rayon pool in this process ([`threads`]).
//! - [`Backend::Processes`]: copies of parlab started as `parlab worker`,
//!   reached through pipes ([`process`]) with the versioned frames of
//!   [`protocol`], driven by the master in [`master`] through the
//!   [`transport::Transport`] trait.
//! - [`Backend::Mpi`]: MPI ranks (Open MPI through the `mpi` crate, cargo
//!   feature `mpi`), on this machine or a lab of them. Rank 0 is the master
//!   and runs the same [`master`] over `mpi::MpiTransport`; the other ranks
//!   run the same worker loop as a worker process. Started either by a
//!   person (`mpirun -np N parlab render --backend mpi …`: [`render_in_world`])
//!   or by parlab itself ([`mpirun::run_mpi`]: the sweep, the window).
//!
//! Both give the same image, pixel for pixel. Processes pay what threads do
//! not: start-up (a fresh address space, the binary loaded), and a transfer
//! per tile (the worker serialises the pixels, the pipe carries them, the
//! master deserialises them). Both costs are per tile or per worker, not per
//! pixel, so coarse tiles suit processes better than threads.

pub mod clock;
mod error;
pub mod master;
#[cfg(feature = "mpi")]
pub mod mpi;
pub mod mpirun;
pub mod process;
pub mod protocol;
mod report;
mod threads;
mod transport;
pub mod worker;

pub use error::{BackendError, FarmError, SendError};
pub use master::{Deadlines, FarmOutcome};
pub use mpirun::{MpiLaunch, inside_mpirun};
pub use report::{FarmStats, FarmWorker, MpiRank, MpiStats, Transfer, WorkerFault};

use crate::engine::exec::trace::{TaskRecord, Trace};
use crate::engine::mandelbrot::kernel::TilePixels;
use crate::engine::mandelbrot::render::{IterImage, RenderSettings, Rendered};
use crate::engine::mandelbrot::tiling::Tile;
use rayon::ThreadPool;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

/// Where the workers run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Backend {
    /// Threads of one process, sharing the image.
    #[default]
    Threads,
    /// Worker processes, each with its own memory, results sent through pipes.
    Processes,
    /// MPI ranks started by mpirun (feature `mpi`), results sent as messages.
    Mpi,
}

impl Backend {
    pub const ALL: [Backend; 3] = [Backend::Threads, Backend::Processes, Backend::Mpi];

    /// Whether this build has MPI (the cargo feature `mpi`).
    pub const MPI_BUILT: bool = cfg!(feature = "mpi");

    /// The backends this build can run here: MPI where it was built in and
    /// `mpirun` is on PATH.
    pub fn offered() -> Vec<Backend> {
        Backend::ALL
            .into_iter()
            .filter(|b| {
                *b != Backend::Mpi
                    || (Self::MPI_BUILT && mpirun::find_mpirun(&MpiLaunch::default()).is_ok())
            })
            .collect()
    }

    pub fn name(&self) -> &'static str {
        match self {
            Backend::Threads => "threads",
            Backend::Processes => "processes",
            Backend::Mpi => "mpi",
        }
    }

    /// One line on what it costs, for help and tooltips.
    pub fn describe(&self) -> &'static str {
        match self {
            Backend::Threads => "threads of one process: start in microseconds, share the image",
            Backend::Processes => {
                "worker processes: each starts a fresh parlab (milliseconds) and sends every tile back through a pipe"
            }
            Backend::Mpi => {
                "MPI ranks started by mpirun (here or on the hostfile's machines): rank 0 hands out the tiles, every tile comes back as an MPI message"
            }
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Backend {
    type Err = BackendError;
    fn from_str(s: &str) -> Result<Self, BackendError> {
        match s.trim() {
            "threads" | "thread" => Ok(Backend::Threads),
            "processes" | "process" | "procs" => Ok(Backend::Processes),
            "mpi" => Ok(Backend::Mpi),
            other => Err(BackendError {
                input: other.to_string(),
            }),
        }
    }
}

/// How worker processes are started and watched.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FarmOptions {
    /// The parlab executable to start as `EXE worker`; default: this one.
    pub worker_exe: Option<PathBuf>,
    /// Extra environment for the workers (the fault hook in tests:
    /// [`worker::FAULT_ENV`]).
    pub worker_env: Vec<(String, String)>,
    pub deadlines: Deadlines,
    /// How the MPI backend starts mpirun.
    pub mpi: MpiLaunch,
}

impl FarmOptions {
    /// The executable to start: the option, else `PARLAB_WORKER_EXE`, else
    /// the running program.
    pub fn exe(&self) -> Result<PathBuf, FarmError> {
        if let Some(p) = &self.worker_exe {
            return Ok(p.clone());
        }
        if let Some(p) = std::env::var_os("PARLAB_WORKER_EXE") {
            return Ok(p.into());
        }
        std::env::current_exe().map_err(FarmError::Exe)
    }
}

/// A render and, for processes and MPI, what the farm measured.
#[derive(Clone, Debug)]
pub struct FarmRender {
    pub rendered: Rendered,
    pub farm: Option<FarmStats>,
}

/// Runs the tiles of `settings` on worker processes, streaming each tile to
/// `sink` as it arrives. Times are measured from just before the first
/// worker is spawned, so start-up is inside the wall time.
pub fn run_processes(
    settings: &RenderSettings,
    tiles: &[Tile],
    options: &FarmOptions,
    cancel: &AtomicBool,
    sink: &mut dyn FnMut(TaskRecord, TilePixels),
) -> Result<FarmOutcome, FarmError> {
    let exe = options.exe()?;
    let origin = clock::mono_nanos();
    let mut transport =
        process::ProcessTransport::spawn(&exe, settings.effective_workers(), &options.worker_env)?;
    master::run_master(
        &mut transport,
        settings,
        tiles,
        origin,
        options.deadlines,
        cancel,
        sink,
    )
}

/// Renders as one rank of the MPI job this process was started in
/// (`mpirun -np N parlab render --backend mpi …`): rank 0 returns the
/// render on `N - 1` workers (`N` when the master computes too); every other rank serves as a worker and
/// returns `None`. Without the `mpi` feature: [`FarmError::NoMpi`].
pub fn render_in_world(
    settings: &RenderSettings,
    deadlines: Deadlines,
    master_computes: bool,
) -> Result<Option<FarmRender>, FarmError> {
    #[cfg(feature = "mpi")]
    {
        let job = mpirun::MpiJob::of(settings, deadlines, false, master_computes);
        let view = settings.view;
        let tiles = settings.tiling.tiles(view.width_px(), view.height_px());
        let mut image = IterImage::new(&view);
        let out = mpi::run_world(&job, &mut |_| {}, &mut |record, pixels| {
            image.blit(&tiles[record.task as usize], &pixels);
        })?;
        match out {
            mpi::RankOutcome::Worker => Ok(None),
            mpi::RankOutcome::Master(out) => {
                let num_workers = out.stats.workers.len() as u32;
                Ok(Some(FarmRender {
                    rendered: Rendered {
                        image,
                        tiles,
                        trace: Trace {
                            num_workers,
                            wall_nanos: out.wall_nanos,
                            records: out.records,
                        },
                    },
                    farm: Some(out.stats),
                }))
            }
        }
    }
    #[cfg(not(feature = "mpi"))]
    {
        let _ = (settings, deadlines, master_computes);
        Err(FarmError::NoMpi)
    }
}

/// One rank of a job that parlab launched ([`mpirun::run_mpi`]): rank 0
/// renders `job` and reports on `out` in lines ([`mpirun::encode_line`]),
/// every tile then the figures; the other ranks serve as workers.
pub fn launched_rank(job: &mpirun::MpiJob, out: &mut dyn std::io::Write) -> Result<(), FarmError> {
    #[cfg(feature = "mpi")]
    {
        use mpirun::{FromRankZero, encode_line};
        use std::cell::RefCell;
        /// Writes lines; keeps the first failure.
        struct Reporter<'a> {
            out: &'a mut dyn std::io::Write,
            failed: Option<FarmError>,
        }
        impl Reporter<'_> {
            fn put(&mut self, msg: &FromRankZero) {
                let r = encode_line(msg).and_then(|line| {
                    self.out
                        .write_all(line.as_bytes())
                        .and_then(|()| self.out.flush())
                        .map_err(|e| FarmError::Mpi(format!("rank 0 cannot write its report: {e}")))
                });
                if let Err(e) = r {
                    self.failed.get_or_insert(e);
                }
            }
        }
        let tile = |record, pixels: TilePixels| FromRankZero::Tile {
            record,
            pixels: protocol::WirePixels {
                counts: pixels.counts,
                smooth: pixels.smooth,
            },
        };
        let rep = RefCell::new(Reporter { out, failed: None });
        let mut held = Vec::new();
        let outcome = mpi::run_world(
            job,
            &mut |ranks| rep.borrow_mut().put(&FromRankZero::Started { ranks }),
            &mut |record, pixels| {
                if job.stream {
                    rep.borrow_mut().put(&tile(record, pixels));
                } else {
                    // Reported after the render, outside its time.
                    held.push((record, pixels));
                }
            },
        );
        let mut rep = rep.into_inner();
        let last = match outcome {
            Err(e) => FromRankZero::Failed {
                message: e.to_string(),
            },
            Ok(mpi::RankOutcome::Worker) => return Ok(()),
            Ok(mpi::RankOutcome::Master(o)) => {
                for (record, pixels) in held {
                    rep.put(&tile(record, pixels));
                }
                FromRankZero::Done {
                    wall_nanos: o.wall_nanos,
                    stats: Box::new(o.stats),
                }
            }
        };
        rep.put(&last);
        match (last, rep.failed) {
            (_, Some(e)) => Err(e),
            (FromRankZero::Failed { message }, None) => Err(FarmError::Mpi(message)),
            _ => Ok(()),
        }
    }
    #[cfg(not(feature = "mpi"))]
    {
        let _ = (job, out);
        Err(FarmError::NoMpi)
    }
}

/// Renders `settings` on `backend`: threads use `pool` (built here if
/// `None`); processes ignore it and start `settings.effective_workers()`
/// worker processes; MPI starts mpirun with one rank more (the master).
pub fn render_on(
    backend: Backend,
    settings: &RenderSettings,
    pool: Option<&ThreadPool>,
    options: &FarmOptions,
) -> Result<FarmRender, FarmError> {
    match backend {
        Backend::Threads => Ok(FarmRender {
            rendered: threads::render_threads(settings, pool)?,
            farm: None,
        }),
        Backend::Processes | Backend::Mpi => {
            let view = settings.view;
            let tiles = settings.tiling.tiles(view.width_px(), view.height_px());
            let mut image = IterImage::new(&view);
            let cancel = AtomicBool::new(false);
            let run = if backend == Backend::Mpi {
                mpirun::run_mpi
            } else {
                run_processes
            };
            let out = run(settings, &tiles, options, &cancel, &mut |record, pixels| {
                image.blit(&tiles[record.task as usize], &pixels);
            })?;
            Ok(FarmRender {
                rendered: Rendered {
                    image,
                    tiles,
                    trace: Trace {
                        num_workers: settings.effective_workers() as u32,
                        wall_nanos: out.wall_nanos,
                        records: out.records,
                    },
                },
                farm: Some(out.stats),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_names_round_trip() {
        for b in Backend::ALL {
            assert_eq!(b.to_string().parse::<Backend>(), Ok(b));
        }
        assert!("fibres".parse::<Backend>().is_err());
    }

    #[test]
    fn mpi_is_offered_only_where_built_in() {
        let offered = Backend::offered();
        assert_eq!(offered[..2], [Backend::Threads, Backend::Processes]);
        if !Backend::MPI_BUILT {
            assert!(!offered.contains(&Backend::Mpi));
        }
    }
}
