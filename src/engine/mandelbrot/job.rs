//! A render running in the background: tiles stream back as they finish.
//!
//! The job is a named thread that owns a rayon pool of the requested size.
//! Finished tiles go into an unbounded queue and the worker goes straight on:
//! a worker never waits for the reader (the window takes in what is ready,
//! under a time budget per frame, whenever it draws). A `notify` callback (the
//! window's repaint request, throttled by the caller) runs after each tile.
//! Dropping the job cancels it: workers stop before their next tile.
//!
//! `wall` is the time from the first tile's start to the last tile's end,
//! the same definition as [`crate::engine::mandelbrot::render::render`]'s.

use crate::engine::exec::other_cpu::{OtherCpu, OtherCpuMeter};
use crate::engine::exec::pool::build_pool;
use crate::engine::exec::schedule::execute;
use crate::engine::exec::trace::TaskRecord;
use crate::engine::mandelbrot::kernel::TilePixels;
use crate::engine::mandelbrot::render::{RenderSettings, compute_tile};
use crate::engine::mandelbrot::tiling::Tile;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;
use std::time::Instant;

/// Called from worker threads after each message is sent.
pub type Notify = Arc<dyn Fn() + Send + Sync>;

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
    /// First tile's start to last tile's end.
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
    pub tiles: Arc<Vec<Tile>>,
    events: Receiver<JobEvent>,
    cancel: Arc<AtomicBool>,
    completed: Arc<AtomicUsize>,
    handle: Option<JoinHandle<()>>,
}

impl RenderJob {
    /// Starts the job thread; the pool is built there, before timing starts.
    pub fn start(settings: RenderSettings, notify: Option<Notify>) -> std::io::Result<Self> {
        let view = settings.view;
        let tiles = Arc::new(settings.tiling.tiles(view.width_px(), view.height_px()));
        // Unbounded: at most one message per tile, and a worker never blocks on it.
        let (tx, events) = channel();
        let cancel = Arc::new(AtomicBool::new(false));
        let completed = Arc::new(AtomicUsize::new(0));
        let handle = {
            let (tiles, cancel, completed) = (tiles.clone(), cancel.clone(), completed.clone());
            std::thread::Builder::new()
                .name("parlab-render-job".into())
                .spawn(move || run_job(settings, &tiles, tx, &cancel, &completed, notify))?
        };
        Ok(RenderJob {
            settings,
            tiles,
            events,
            cancel,
            completed,
            handle: Some(handle),
        })
    }

    /// The next event, if one is waiting.
    pub fn try_next(&self) -> Option<JobEvent> {
        self.events.try_recv().ok()
    }

    /// Blocks for the next event; `None` once the job has ended and all was read.
    pub fn next_blocking(&self) -> Option<JobEvent> {
        self.events.recv().ok()
    }

    /// (tiles finished, tiles in all).
    pub fn progress(&self) -> (usize, usize) {
        (self.completed.load(Ordering::Relaxed), self.tiles.len())
    }

    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    /// True once the job thread has exited.
    pub fn is_finished(&self) -> bool {
        self.handle.as_ref().is_none_or(|h| h.is_finished())
    }

    /// Cancels and waits for the job thread (and so its workers) to exit.
    pub fn cancel_and_join(mut self) {
        self.cancel();
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

impl Drop for RenderJob {
    fn drop(&mut self) {
        // Every worker sees the flag before its next tile.
        self.cancel.store(true, Ordering::Relaxed);
    }
}

fn run_job(
    settings: RenderSettings,
    tiles: &[Tile],
    tx: Sender<JobEvent>,
    cancel: &AtomicBool,
    completed: &AtomicUsize,
    notify: Option<Notify>,
) {
    let wake = || {
        if let Some(n) = &notify {
            n();
        }
    };
    let finish = |end: JobEnd| {
        let _ = tx.send(JobEvent::Finished(end));
        wake();
    };
    let pool = if settings.schedule.uses_pool() {
        match build_pool(settings.num_workers) {
            Ok(p) => Some(p),
            Err(e) => {
                finish(JobEnd {
                    num_workers: 0,
                    wall_nanos: 0,
                    first_start_nanos: 0,
                    other_cpu: None,
                    completed: 0,
                    cancelled: false,
                    error: Some(e),
                });
                return;
            }
        }
    } else {
        None
    };
    let num_workers = pool.as_ref().map_or(1, |p| p.current_num_threads()) as u32;
    let view = settings.view;
    let first_start = AtomicU64::new(u64::MAX);
    let last_end = AtomicU64::new(0);
    let meter = OtherCpuMeter::start();
    let origin = Instant::now();
    let outcome = execute(
        settings.schedule,
        pool.as_ref(),
        tiles.len(),
        cancel,
        origin,
        |i| compute_tile(settings.kernel, &view, &tiles[i]),
        |record, pixels| {
            let tile = tiles[record.task as usize];
            first_start.fetch_min(record.start_nanos, Ordering::Relaxed);
            last_end.fetch_max(record.end_nanos, Ordering::Relaxed);
            completed.fetch_add(1, Ordering::Relaxed);
            if tx
                .send(JobEvent::Tile(TileDone {
                    tile,
                    record,
                    pixels,
                }))
                .is_err()
            {
                // The receiver is gone: nobody wants the rest.
                cancel.store(true, Ordering::Relaxed);
            }
            wake();
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
        },
        Err(e) => JobEnd {
            num_workers,
            wall_nanos,
            first_start_nanos,
            other_cpu,
            completed: 0,
            cancelled: false,
            error: Some(e),
        },
    };
    finish(end);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::exec::schedule::Schedule;
    use crate::engine::mandelbrot::kernel::Kernel;
    use crate::engine::mandelbrot::render::{IterImage, render_serial};
    use crate::engine::mandelbrot::tiling::Tiling;
    use crate::engine::mandelbrot::view::View;

    fn settings(view: View, schedule: Schedule, workers: usize) -> RenderSettings {
        RenderSettings {
            view,
            tiling: Tiling::Square { tile_px: 16 },
            schedule,
            num_workers: workers,
            kernel: Kernel::Reference,
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
    fn workers_never_wait_for_a_reader_that_drains_nothing() {
        // More tiles (1-px) than any bounded channel parlab used to have: a
        // reader that takes nothing until the job is over must not hold it up.
        let view = View::new((-0.5, 0.0), 3.0, 100, 60, 50).expect("view");
        let mut s = settings(view, Schedule::Dynamic { chunk: 1 }, 2);
        s.tiling = Tiling::Square { tile_px: 1 };
        let job = RenderJob::start(s, None).expect("job");
        // The slowest possible drain: nothing at all until the job thread
        // has exited. A job blocked on its reader would never get there.
        let finished = std::sync::mpsc::channel::<()>();
        let waiter = std::thread::spawn({
            let tx = finished.0;
            move || {
                while !job.is_finished() {
                    std::thread::yield_now();
                }
                let _ = tx.send(());
                job
            }
        });
        finished
            .1
            .recv_timeout(std::time::Duration::from_secs(600))
            .expect("the job finished while nobody read its tiles");
        let job = waiter.join().expect("waiter");
        let mut records = Vec::new();
        let end = loop {
            match job.try_next().expect("everything is already queued") {
                JobEvent::Tile(t) => records.push(t.record),
                JobEvent::Finished(end) => break end,
            }
        };
        assert_eq!(records.len(), 6000);
        assert_eq!(end.completed, 6000);
        assert!(!end.cancelled);
        // wall = first tile start to last tile end, from the same records.
        let (first, last) = crate::engine::exec::trace::Trace::span_of(&records);
        assert_eq!(end.first_start_nanos, first);
        assert_eq!(end.wall_nanos, last - first);
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
    fn dropping_the_job_cancels_it() {
        let view = View::new((-0.75, 0.0), 3.0, 2048, 2048, 100_000).expect("view");
        let job = RenderJob::start(settings(view, Schedule::StaticBlock, 2), None).expect("job");
        let cancel = job.cancel.clone();
        drop(job);
        assert!(cancel.load(Ordering::Relaxed));
    }
}
