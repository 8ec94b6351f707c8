//! A render running in the background: tiles stream back as they finish.
//!
//! The job is a [`BackgroundTask`] whose thread owns a rayon pool of the requested size.
//! Finished tiles come back over a channel with room for every tile, so a
//! worker never waits for the reader (the window takes in what is ready,
//! under a time budget per frame, whenever it draws). A `notify` callback (the
//! window's repaint request, throttled by the caller) runs after each tile.
//! Dropping the job cancels it: workers stop before their next tile.
//!
//! On threads, `wall` is the time from the first tile's start to the last
//! tile's end, the same definition as [`crate::engine::mandelbrot::render::render`]'s.

use crate::engine::exec::other_cpu::{OtherCpu, OtherCpuMeter, QuietStart};
use crate::engine::exec::pool::build_pool_placed;
use crate::engine::exec::schedule::execute;
use crate::engine::exec::task::{BackgroundTask, Emitter, Notify};
use crate::engine::exec::trace::TaskRecord;
use crate::engine::farm::{Backend, FarmOptions, FarmStats, run_processes};
use crate::engine::mandelbrot::kernel::TilePixels;
use crate::engine::mandelbrot::render::RenderSettings;
use crate::engine::mandelbrot::tiling::Tile;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// A finished tile, with its pixels and trace entry.
#[derive(Clone, Debug)]
pub struct TileDone {
    pub tile: Tile,
    pub record: TaskRecord,
    pub pixels: TilePixels,
}

/// How a job ended.
#[derive(Clone, Debug, PartialEq)]
pub struct JobEnd {
    pub num_workers: u32,
    /// Threads: first tile's start to last tile's end. Processes: from
    /// starting the workers to the last tile (start-up is part of the cost).
    pub wall_nanos: u64,
    /// When the first tile started, in the tile records' time base (the
    /// records are relative to the job's origin, just before the pool starts).
    pub first_start_nanos: u64,
    /// Other processes' CPU while the tiles ran (`None` where not readable).
    pub other_cpu: Option<OtherCpu>,
    pub completed: usize,
    pub cancelled: bool,
    /// Set when the job could not run at all (e.g. no threads could be started).
    pub error: Option<String>,
    /// What the process farm measured (start-up, transfers, faults), when
    /// the job ran on processes.
    pub farm: Option<Box<FarmStats>>,
}

/// What a job sends back.
#[derive(Clone, Debug)]
pub enum JobEvent {
    Tile(TileDone),
    Finished(JobEnd),
}

/// A render in progress. Drop it to cancel.
pub struct RenderJob {
    pub settings: RenderSettings,
    pub backend: Backend,
    pub tiles: Arc<Vec<Tile>>,
    task: BackgroundTask<JobEvent>,
    completed: Arc<AtomicUsize>,
}

impl RenderJob {
    /// Starts the job thread on threads; the pool is built there, before timing starts.
    pub fn start(settings: RenderSettings, notify: Option<Notify>) -> std::io::Result<Self> {
        Self::start_on(settings, Backend::Threads, notify)
    }

    /// Starts the job thread on `backend`. With processes, the workers are
    /// started on the job thread and timing starts before they are.
    pub fn start_on(
        settings: RenderSettings,
        backend: Backend,
        notify: Option<Notify>,
    ) -> std::io::Result<Self> {
        Self::start_with(settings, backend, FarmOptions::default(), notify)
    }

    /// [`RenderJob::start_on`] with the worker processes' options.
    pub fn start_with(
        settings: RenderSettings,
        backend: Backend,
        options: FarmOptions,
        notify: Option<Notify>,
    ) -> std::io::Result<Self> {
        Self::start_settled(settings, backend, options, notify, QuietStart::default())
    }

    /// [`RenderJob::start_with`], the render starting after `settle`: a
    /// window lets the frame that started it, and any drawing after it, die
    /// down first, so that drawing does not take CPU from the timed tiles
    /// (the job thread waits, cut short by a cancel; the workers never wait
    /// for the window).
    pub fn start_settled(
        settings: RenderSettings,
        backend: Backend,
        options: FarmOptions,
        notify: Option<Notify>,
        settle: QuietStart,
    ) -> std::io::Result<Self> {
        let view = settings.view;
        let tiles = Arc::new(settings.tiling.tiles(view.width_px(), view.height_px()));
        let completed = Arc::new(AtomicUsize::new(0));
        let task = {
            let (tiles, completed) = (tiles.clone(), completed.clone());
            BackgroundTask::spawn_with_capacity(
                "parlab-render-job",
                // Room for every tile and the end: workers never wait for
                // the window, so a render's trace in the window has the
                // shape of the same render headless (tile count is capped
                // at 2^20 by the tiling check).
                tiles.len() + 1,
                notify,
                move |emitter| {
                    settle.wait(emitter.cancel_flag());
                    match backend {
                        Backend::Threads => run_job(settings, &tiles, emitter, &completed),
                        Backend::Processes | Backend::Mpi => {
                            run_farm_job(settings, backend, &options, &tiles, emitter, &completed)
                        }
                    }
                },
            )?
        };
        Ok(RenderJob {
            settings,
            backend,
            tiles,
            task,
            completed,
        })
    }

    /// The next event, if one is waiting.
    pub fn try_next(&self) -> Option<JobEvent> {
        self.task.try_next()
    }

    /// Blocks for the next event; `None` once the job has ended and all was read.
    pub fn next_blocking(&self) -> Option<JobEvent> {
        self.task.next_blocking()
    }

    /// (tiles finished, tiles in all).
    pub fn progress(&self) -> (usize, usize) {
        (self.completed.load(Ordering::Relaxed), self.tiles.len())
    }

    pub fn cancel(&self) {
        self.task.cancel();
    }

    pub fn is_cancelled(&self) -> bool {
        self.task.is_cancelled()
    }

    /// True once the job thread has exited.
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }

    /// Cancels and waits for the job thread (and so its workers) to exit.
    pub fn cancel_and_join(self) {
        self.task.cancel_and_join();
    }
}

/// The job on this process's threads: tiles stream to the window as each finishes.
fn run_job(
    settings: RenderSettings,
    tiles: &[Tile],
    emitter: &Emitter<JobEvent>,
    completed: &AtomicUsize,
) {
    let finish = |end: JobEnd| {
        emitter.finish(JobEvent::Finished(end));
    };
    let pool = if settings.schedule.uses_pool() {
        match build_pool_placed(settings.num_workers, settings.placement) {
            Ok(p) => Some(p),
            Err(e) => {
                finish(JobEnd {
                    num_workers: 0,
                    wall_nanos: 0,
                    first_start_nanos: 0,
                    other_cpu: None,
                    completed: 0,
                    cancelled: false,
                    error: Some(e.to_string()),
                    farm: None,
                });
                return;
            }
        }
    } else {
        None
    };
    let num_workers = pool.as_ref().map_or(1, |p| p.current_num_threads()) as u32;
    let view = settings.view;
    // Every tile's buffer exists, its pages written, before anything is
    // timed: the buffers go to the window and stay there, so tiles cannot
    // reuse each other's memory as `render` does (it copies each tile into
    // its image and frees it), and fresh pages would fault inside the tiles.
    let buffers: Vec<Mutex<Option<TilePixels>>> = tiles
        .iter()
        .map(|t| Mutex::new(Some(TilePixels::for_tile_touched(t))))
        .collect();
    let first_start = AtomicU64::new(u64::MAX);
    let last_end = AtomicU64::new(0);
    let meter = OtherCpuMeter::start();
    let origin = Instant::now();
    let outcome = execute(
        settings.schedule,
        pool.as_ref(),
        tiles.len(),
        emitter.cancel_flag(),
        origin,
        |i| {
            let ready = buffers[i].lock().ok().and_then(|mut b| b.take());
            let mut pixels = ready.unwrap_or_else(|| TilePixels::for_tile(&tiles[i]));
            let work = settings.kernel.compute_tile(&view, &tiles[i], &mut pixels);
            (pixels, work)
        },
        |record, pixels| {
            let tile = tiles[record.task as usize];
            first_start.fetch_min(record.start_nanos, Ordering::Relaxed);
            last_end.fetch_max(record.end_nanos, Ordering::Relaxed);
            completed.fetch_add(1, Ordering::Relaxed);
            // A send to a receiver that is gone cancels the job: nobody wants the rest.
            emitter.send(JobEvent::Tile(TileDone {
                tile,
                record,
                pixels,
            }));
        },
    );
    let other_cpu = meter.stop();
    let (first, last) = (first_start.into_inner(), last_end.into_inner());
    let (first_start_nanos, wall_nanos) = if first == u64::MAX {
        (0, 0)
    } else {
        (first, last.saturating_sub(first))
    };
    let end = match outcome {
        Ok(o) => JobEnd {
            num_workers,
            wall_nanos,
            first_start_nanos,
            other_cpu,
            completed: o.completed,
            cancelled: o.cancelled,
            error: None,
            farm: None,
        },
        Err(e) => JobEnd {
            num_workers,
            wall_nanos,
            first_start_nanos,
            other_cpu,
            completed: 0,
            cancelled: false,
            error: Some(e.to_string()),
            farm: None,
        },
    };
    finish(end);
}

/// The job on worker processes or MPI ranks: tiles stream back as each
/// arrives through its pipe (or from rank 0); cancelling kills every worker
/// process (within one tile), or stops mpirun and its ranks.
fn run_farm_job(
    settings: RenderSettings,
    backend: Backend,
    options: &FarmOptions,
    tiles: &[Tile],
    emitter: &Emitter<JobEvent>,
    completed: &AtomicUsize,
) {
    let num_workers = settings.effective_workers() as u32;
    // The workers are this job's children, reaped before the meter stops.
    let meter = OtherCpuMeter::start_counting_children();
    let started = Instant::now();
    let run = if backend == Backend::Mpi {
        crate::engine::farm::mpirun::run_mpi
    } else {
        run_processes
    };
    let outcome = run(
        &settings,
        tiles,
        options,
        emitter.cancel_flag(),
        &mut |record, pixels| {
            completed.fetch_add(1, Ordering::Relaxed);
            let tile = tiles[record.task as usize];
            // A send to a receiver that is gone cancels the job.
            emitter.send(JobEvent::Tile(TileDone {
                tile,
                record,
                pixels,
            }));
        },
    );
    let other_cpu = meter.stop();
    let end = match outcome {
        Ok(o) => JobEnd {
            num_workers,
            wall_nanos: o.wall_nanos,
            first_start_nanos: 0,
            other_cpu,
            completed: o.completed,
            cancelled: o.cancelled,
            error: None,
            farm: Some(Box::new(o.stats)),
        },
        Err(e) => JobEnd {
            num_workers,
            wall_nanos: started.elapsed().as_nanos() as u64,
            first_start_nanos: 0,
            other_cpu,
            completed: completed.load(Ordering::Relaxed),
            cancelled: false,
            error: Some(e.to_string()),
            farm: None,
        },
    };
    emitter.finish(JobEvent::Finished(end));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::exec::schedule::Schedule;
    use crate::engine::mandelbrot::kernel::Kernel;
    use crate::engine::mandelbrot::render::{IterImage, render_serial};
    use crate::engine::mandelbrot::tiling::Tiling;
    use crate::engine::mandelbrot::view::View;
    use std::time::Duration;

    fn settings(view: View, schedule: Schedule, workers: usize) -> RenderSettings {
        RenderSettings {
            view,
            tiling: Tiling::Square { tile_px: 16 },
            schedule,
            num_workers: workers,
            kernel: Kernel::Reference,
            placement: Default::default(),
        }
    }

    #[test]
    fn streamed_tiles_assemble_the_serial_image() {
        let view = View::new((-0.5, 0.0), 3.0, 70, 50, 300).expect("view");
        let job = RenderJob::start(settings(view, Schedule::WorkStealing, 3), None).expect("job");
        let mut image = IterImage::new(&view);
        let mut tiles = 0;
        let end = loop {
            match job.next_blocking().expect("event") {
                JobEvent::Tile(t) => {
                    image.blit(&t.tile, &t.pixels);
                    tiles += 1;
                }
                JobEvent::Finished(end) => break end,
            }
        };
        assert!(!end.cancelled);
        assert_eq!(tiles, job.tiles.len());
        assert_eq!(job.progress(), (tiles, tiles));
        assert_eq!(image, render_serial(&view, Kernel::Reference));
    }

    #[test]
    fn cancelled_large_render_stops_and_thread_exits() {
        let view = View::new((-0.75, 0.0), 3.0, 2048, 2048, 100_000).expect("view");
        let job =
            RenderJob::start(settings(view, Schedule::Dynamic { chunk: 1 }, 2), None).expect("job");
        // Let it start, then cancel.
        while job.progress().0 == 0 {
            std::thread::yield_now();
        }
        job.cancel();
        let end = loop {
            match job.next_blocking() {
                Some(JobEvent::Finished(end)) => break end,
                Some(JobEvent::Tile(_)) => {}
                None => panic!("job ended without a Finished event"),
            }
        };
        assert!(end.cancelled);
        assert!(end.completed < job.tiles.len());
        job.cancel_and_join();
    }

    #[test]
    fn a_settled_render_renders_the_same_and_a_cancel_cuts_the_pause_short() {
        let view = View::new((-0.75, 0.0), 3.0, 64, 48, 50).expect("view");
        let s = settings(view, Schedule::StaticBlock, 2);
        let settled = RenderJob::start_settled(
            s,
            Backend::Threads,
            FarmOptions::default(),
            None,
            QuietStart {
                pause: Duration::from_millis(50),
                limit: Duration::from_millis(300),
            },
        )
        .expect("job");
        let mut tiles = 0;
        while let Some(event) = settled.next_blocking() {
            if let JobEvent::Tile(_) = event {
                tiles += 1;
            }
        }
        assert_eq!(tiles, settled.tiles.len(), "every tile, after the pause");
        // A pause of an hour, cancelled at once: the job ends (well before).
        let long = RenderJob::start_settled(
            s,
            Backend::Threads,
            FarmOptions::default(),
            None,
            QuietStart {
                pause: Duration::from_secs(3600),
                limit: Duration::from_secs(3600),
            },
        )
        .expect("job");
        let asked = Instant::now();
        long.cancel_and_join();
        assert!(
            asked.elapsed() < Duration::from_secs(60),
            "the pause was cut short"
        );
    }

    #[test]
    fn workers_never_wait_for_a_reader_that_drains_nothing() {
        // 6400 tiles: more than any fixed channel size this job once had.
        let view = View::new((-0.75, 0.0), 3.0, 320, 320, 20).expect("view");
        let mut s = settings(view, Schedule::Dynamic { chunk: 1 }, 2);
        s.tiling = Tiling::Square { tile_px: 4 };
        let job = RenderJob::start(s, None).expect("job");
        let deadline = Instant::now() + std::time::Duration::from_secs(120);
        while !job.is_finished() {
            assert!(
                Instant::now() < deadline,
                "the job thread waits for a reader"
            );
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let mut records = Vec::new();
        let mut end = None;
        while let Some(event) = job.try_next() {
            match event {
                JobEvent::Tile(t) => records.push(t.record),
                JobEvent::Finished(e) => end = Some(e),
            }
        }
        assert_eq!(records.len(), 6400);
        assert_eq!(job.tiles.len(), 6400);
        // wall = first tile start to last tile end, from the same records.
        let end = end.expect("the job's end was queued too");
        let (first, last) = crate::engine::exec::trace::Trace::span_of(&records);
        assert_eq!(end.first_start_nanos, first);
        assert_eq!(end.wall_nanos, last - first);
    }

    #[test]
    fn dropping_the_job_cancels_it() {
        let view = View::new((-0.75, 0.0), 3.0, 2048, 2048, 100_000).expect("view");
        let job = RenderJob::start(settings(view, Schedule::StaticBlock, 2), None).expect("job");
        let cancel = job.task.cancel_flag().clone();
        drop(job);
        assert!(cancel.load(Ordering::Relaxed));
    }
}
