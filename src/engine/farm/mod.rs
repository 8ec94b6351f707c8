//! The tile farm: a master hands tiles to workers under a schedule and
//! collects `(tile, counts, smooth values, timings)`, over one of several
//! backends.
//!
//! - [`Backend::Threads`]: the rayon pool in this process ([`threads`]).
//! - [`Backend::Processes`]: copies of parlab started as `parlab worker`,
//!   reached through pipes ([`process`]) with the versioned frames of
//!   [`protocol`], driven by the master in [`master`] through the
//!   [`transport::Transport`] trait (which a cluster transport implements too).
//!
//! Both give the same image, pixel for pixel. Processes pay what threads do
//! not: start-up (a fresh address space, the binary loaded), and a transfer
//! per tile (the worker serialises the pixels, the pipe carries them, the
//! master deserialises them). Both costs are per tile or per worker, not per
//! pixel, so coarse tiles suit processes better than threads.

pub mod clock;
mod error;
pub mod master;
pub mod process;
pub mod protocol;
mod report;
mod threads;
mod transport;
pub mod worker;

pub use error::{BackendError, FarmError, SendError};
pub use master::{Deadlines, FarmOutcome};
pub use report::{FarmStats, FarmWorker, Transfer, WorkerFault};

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
}

impl Backend {
    pub const ALL: [Backend; 2] = [Backend::Threads, Backend::Processes];

    pub fn name(&self) -> &'static str {
        match self {
            Backend::Threads => "threads",
            Backend::Processes => "processes",
        }
    }

    /// One line on what it costs, for help and tooltips.
    pub fn describe(&self) -> &'static str {
        match self {
            Backend::Threads => "threads of one process: start in microseconds, share the image",
            Backend::Processes => {
                "worker processes: each starts a fresh parlab (milliseconds) and sends every tile back through a pipe"
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

/// A render and, for processes, what the farm measured.
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

/// Renders `settings` on `backend`: threads use `pool` (built here if
/// `None`); processes ignore it and start `settings.effective_workers()`
/// worker processes.
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
        Backend::Processes => {
            let view = settings.view;
            let tiles = settings.tiling.tiles(view.width_px(), view.height_px());
            let mut image = IterImage::new(&view);
            let cancel = AtomicBool::new(false);
            let out = run_processes(settings, &tiles, options, &cancel, &mut |record, pixels| {
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
}
