//! The explorer's render in progress: starts a background [`RenderJob`],
//! drains its tiles into the [`Canvas`] under a per-frame time budget, and
//! retires stale jobs on a reaper thread that measures how long they take to stop.

use crate::engine::exec::other_cpu::QuietStart;
use crate::engine::exec::task::Notify;
use crate::engine::exec::trace::Trace;
use crate::engine::farm::{Backend, FarmOptions};
use crate::engine::mandelbrot::colour::Palette;
use crate::engine::mandelbrot::job::{JobEnd, JobEvent, RenderJob};
use crate::engine::mandelbrot::render::{IterImage, RenderSettings};
use crate::gui::explorer::canvas::Canvas;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How a render started from the window waits before its first tile: the
/// frame that starts it (with software OpenGL tens of ms of CPU, hundreds
/// with a 4K image: its canvas is allocated and its texture made), and the
/// window's first frames, are drawn before the tiles are timed, not during
/// them. A pause of 150 ms, then until the drawing is quiet, at most 2 s
/// (see [`QuietStart`]).
pub const RENDER_SETTLE: QuietStart = QuietStart {
    pause: Duration::from_millis(150),
    limit: Duration::from_secs(2),
};

/// How long cancelled renders took to stop, shared with the reaper threads.
#[derive(Clone, Default)]
pub struct CancelLatencies {
    nanos: Arc<Mutex<Vec<u64>>>,
}

impl CancelLatencies {
    fn push(&self, nanos: u64) {
        if let Ok(mut v) = self.nanos.lock() {
            v.push(nanos);
        }
    }
    /// Every latency measured so far, in nanoseconds.
    pub fn all(&self) -> Vec<u64> {
        self.nanos.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

/// Where a render's workers run: threads, or processes started with `farm`.
#[derive(Clone, Debug, Default)]
pub struct RunOn {
    pub backend: Backend,
    pub farm: FarmOptions,
}

/// One render of one setting: its job (while running), canvas and trace so far.
pub struct LiveRender {
    pub settings: RenderSettings,
    pub backend: Backend,
    job: Option<RenderJob>,
    pub canvas: Canvas,
    /// The trace so far (records in arrival order). While running on
    /// threads, the wall time is the first start to the last end among the
    /// tiles taken in so far, so it never exceeds the final figure; once
    /// finished the records are shifted so that the first tile starts at 0
    /// (as `parlab render`'s). On processes time 0 is just before the first
    /// worker was spawned, while running and after: start-up is part of the
    /// run, and the farm's start-up and transfer bars share that time base.
    trace: Trace,
    pub end: Option<JobEnd>,
    /// (first start, last end) of the tiles taken in so far.
    span_so_far: Option<(u64, u64)>,
    /// When the end of the render was taken in.
    finished_at: Option<std::time::SystemTime>,
    /// A trace handed in from elsewhere (the speedup lab) that replaces the job's once done.
    adopted: Option<Trace>,
    cancel_latencies: CancelLatencies,
}

impl LiveRender {
    /// Starts rendering `settings`; `previous` keeps its pixels on screen until replaced.
    pub fn start(
        settings: RenderSettings,
        on: RunOn,
        palette: Palette,
        overlay: bool,
        notify: Option<Notify>,
        previous: Option<LiveRender>,
        cancel_latencies: CancelLatencies,
    ) -> Result<Self, String> {
        let previous_canvas = previous.map(|mut p| {
            p.retire();
            p.canvas
        });
        let backend = on.backend;
        let job = RenderJob::start_settled(settings, backend, on.farm, notify, RENDER_SETTLE)
            .map_err(|e| format!("could not start the render thread: {e}"))?;
        let tiles = job.tiles.as_ref().clone();
        let canvas = Canvas::new(
            IterImage::new(&settings.view),
            tiles,
            palette,
            overlay,
            previous_canvas,
        );
        Ok(LiveRender {
            settings,
            backend,
            job: Some(job),
            canvas,
            trace: Trace {
                num_workers: settings.effective_workers() as u32,
                wall_nanos: 0,
                records: Vec::new(),
            },
            end: None,
            span_so_far: None,
            finished_at: None,
            adopted: None,
            cancel_latencies,
        })
    }

    /// A finished render from elsewhere, shown without computing anything.
    pub fn finished(
        settings: RenderSettings,
        image: IterImage,
        trace: Trace,
        palette: Palette,
        overlay: bool,
        cancel_latencies: CancelLatencies,
    ) -> Self {
        let view = settings.view;
        let tiles = settings.tiling.tiles(view.width_px(), view.height_px());
        let mut canvas = Canvas::new(IterImage::new(&view), tiles, palette, overlay, None);
        canvas.image = image;
        for r in &trace.records {
            canvas.record_of_tile[r.task as usize] = Some(*r);
        }
        canvas.recolour_finished();
        LiveRender {
            settings,
            backend: Backend::Threads,
            job: None,
            canvas,
            trace: trace.clone(),
            end: Some(JobEnd {
                num_workers: trace.num_workers,
                wall_nanos: trace.wall_nanos,
                first_start_nanos: 0,
                other_cpu: None,
                completed: trace.records.len(),
                cancelled: false,
                error: None,
                farm: None,
            }),
            span_so_far: None,
            finished_at: Some(std::time::SystemTime::now()),
            adopted: None,
            cancel_latencies,
        }
    }

    /// When this render's end was taken in (`None` while running).
    pub fn finished_at(&self) -> Option<std::time::SystemTime> {
        self.finished_at
    }

    /// Uses `trace` for timeline and overlay once this render's image is complete.
    pub fn adopt_trace(&mut self, trace: Trace) {
        self.adopted = Some(trace);
    }

    /// The workers are done (every tile is queued), though the window may not
    /// have taken them all in yet.
    pub fn workers_done(&self) -> bool {
        self.job.as_ref().is_some_and(|j| j.is_finished())
    }

    /// Takes in finished tiles until the budget is spent. Returns true if more may be waiting.
    pub fn drain(&mut self, budget: Duration) -> bool {
        let Some(job) = &self.job else { return false };
        let t0 = Instant::now();
        while t0.elapsed() < budget {
            match job.try_next() {
                Some(JobEvent::Tile(t)) => {
                    self.canvas.put_tile(t.record, &t.pixels);
                    self.trace.records.push(t.record);
                    let (s, e) = (t.record.start_nanos, t.record.end_nanos);
                    let span = self.span_so_far.get_or_insert((s, e));
                    *span = (span.0.min(s), span.1.max(e));
                    self.trace.wall_nanos = match self.backend {
                        Backend::Threads => span.1 - span.0,
                        Backend::Processes | Backend::Mpi => span.1,
                    };
                }
                Some(JobEvent::Finished(end)) => {
                    self.finished_at = Some(std::time::SystemTime::now());
                    self.trace.num_workers = end.num_workers.max(1);
                    // Every tile was queued before this event: shift the
                    // records to the job's time 0, as the CLI's trace (on
                    // threads the first tile's start; on processes 0, the
                    // spawn of the first worker).
                    let shift = end.first_start_nanos;
                    debug_assert!(
                        self.backend != Backend::Threads
                            || self.trace.records.is_empty()
                            || shift == Trace::span_of(&self.trace.records).0
                    );
                    for r in &mut self.trace.records {
                        r.start_nanos = r.start_nanos.saturating_sub(shift);
                        r.end_nanos = r.end_nanos.saturating_sub(shift);
                    }
                    for r in &self.trace.records {
                        if let Some(slot) = self.canvas.record_of_tile.get_mut(r.task as usize) {
                            *slot = Some(*r);
                        }
                    }
                    self.trace.wall_nanos = end.wall_nanos;
                    self.end = Some(end);
                    // The thread is exiting on its own; nothing to cancel.
                    self.job = None;
                    if let Some(trace) = self.adopted.take()
                        && trace.records.len() == self.canvas.tiles.len()
                    {
                        for r in &trace.records {
                            self.canvas.record_of_tile[r.task as usize] = Some(*r);
                        }
                        if let Some(e) = &mut self.end {
                            e.num_workers = trace.num_workers;
                            e.wall_nanos = trace.wall_nanos;
                        }
                        self.trace = trace;
                        self.canvas.recolour_finished();
                    }
                    return false;
                }
                None => return false,
            }
        }
        true
    }

    pub fn is_running(&self) -> bool {
        self.job.is_some()
    }

    /// Why the render ended without its image (e.g. no pool could be built).
    pub fn failure(&self) -> Option<&str> {
        self.end.as_ref().and_then(|e| e.error.as_deref())
    }

    /// Finished and not cancelled.
    pub fn is_complete(&self) -> bool {
        self.end
            .as_ref()
            .is_some_and(|e| !e.cancelled && e.error.is_none())
    }

    /// (tiles shown, tiles in all).
    pub fn progress(&self) -> (usize, usize) {
        (self.trace.records.len(), self.canvas.tiles.len())
    }

    /// The trace so far; while running, the wall time is the time since the start.
    pub fn trace(&self) -> &Trace {
        &self.trace
    }

    /// Cancels the job (if any) and hands it to a reaper thread that drains it,
    /// waits for its thread to finish and records how long that took.
    pub fn retire(&mut self) {
        let Some(job) = self.job.take() else { return };
        let cancelled_at = Instant::now();
        job.cancel();
        let latencies = self.cancel_latencies.clone();
        let spawned = std::thread::Builder::new()
            .name("parlab-reaper".into())
            .spawn(move || {
                while !job.is_finished() {
                    std::thread::sleep(Duration::from_micros(200));
                }
                latencies.push(cancelled_at.elapsed().as_nanos() as u64);
                drop(job);
            });
        // Without a reaper the job is dropped here, which cancels it just the same.
        drop(spawned);
    }
}
