//! The farm's master: hands tiles to workers over a [`Transport`] under a
//! schedule, collects what comes back, and copes with workers that fail.
//!
//! How each schedule hands out tiles when the workers are processes:
//! - static-block and static-cyclic (and sequential, one worker): the whole
//!   list up front, in one message per worker (a range or a stride);
//! - dynamic and guided: a chunk at a time, each on the worker's request
//!   (it says `Idle` when its chunk is done): one round trip per chunk;
//! - work-stealing: the master keeps one queue per worker (its static block)
//!   and hands out one tile at a time from it; a worker whose queue is empty
//!   takes the back half of the fullest queue.
//!
//! Faults: a worker whose link breaks (it crashed, was killed, or sent
//! something that is not a frame) is reaped and reported, and its unfinished
//! tiles go to a redo queue that every worker serves first; a worker with
//! work that sends nothing for `tile_deadline` is killed the same way. Idle
//! workers are kept (not told to quit) until every tile is in, so that there
//! is always someone to redo a late failure's tiles. Cancellation kills every
//! worker at once.

use super::clock::mono_nanos;
use super::protocol::{FromWorker, TileList, ToWorker};
use super::report::{FarmStats, FarmWorker, Transfer, WorkerFault};
use super::transport::{Ending, Heard, Incoming, Transport};
use crate::engine::exec::schedule::Schedule;
use crate::engine::exec::trace::TaskRecord;
use crate::engine::mandelbrot::kernel::TilePixels;
use crate::engine::mandelbrot::render::RenderSettings;
use crate::engine::mandelbrot::tiling::Tile;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Deadlines of a farm run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Deadlines {
    /// A worker must send its first message within this.
    pub startup: Duration,
    /// A worker with tiles must send something within this of its last message.
    pub tile: Duration,
}

impl Default for Deadlines {
    fn default() -> Self {
        Deadlines {
            startup: Duration::from_secs(20),
            tile: Duration::from_secs(120),
        }
    }
}

/// How long the master waits for an event before checking the clock and
/// the cancel flag.
const TICK: Duration = Duration::from_millis(20);
/// How long workers get to say goodbye and exit after `Quit`.
const GRACE: Duration = Duration::from_secs(2);

/// What a farm run produced (the pixels went to the sink).
#[derive(Clone, Debug)]
pub struct FarmOutcome {
    pub records: Vec<TaskRecord>,
    pub stats: FarmStats,
    /// Origin to the last tile decoded.
    pub wall_nanos: u64,
    pub completed: usize,
    pub cancelled: bool,
}

/// Where the next tiles come from.
enum Dispatch {
    /// Static lists were sent up front; nothing more.
    Upfront,
    Dynamic {
        next: u32,
        chunk: u32,
    },
    Guided {
        next: u32,
        min_chunk: u32,
        n: u32,
    },
    Stealing {
        queues: Vec<VecDeque<u32>>,
    },
}

impl Dispatch {
    /// The dispatcher and each worker's first assignment.
    fn start(schedule: Schedule, n: u32, num_tiles: u32) -> (Self, Vec<Option<TileList>>) {
        let block = |w: u32| TileList::Range {
            lo: w * num_tiles / n,
            hi: (w + 1) * num_tiles / n,
        };
        match schedule {
            Schedule::Sequential | Schedule::StaticBlock => {
                (Dispatch::Upfront, (0..n).map(|w| Some(block(w))).collect())
            }
            Schedule::StaticCyclic => (
                Dispatch::Upfront,
                (0..n)
                    .map(|w| {
                        Some(TileList::Strided {
                            first: w,
                            step: n,
                            end: num_tiles,
                        })
                    })
                    .collect(),
            ),
            other => {
                let mut d = match other {
                    Schedule::Dynamic { chunk } => Dispatch::Dynamic {
                        next: 0,
                        chunk: chunk.max(1),
                    },
                    Schedule::Guided { min_chunk } => Dispatch::Guided {
                        next: 0,
                        min_chunk: min_chunk.max(1),
                        n,
                    },
                    _ => Dispatch::Stealing {
                        queues: (0..n).map(|w| block(w).indices().into()).collect(),
                    },
                };
                let first = (0..n)
                    .map(|w| d.next(w as usize, num_tiles).map(TileList::List))
                    .collect();
                (d, first)
            }
        }
    }

    /// The next tiles for worker `w`, if any are left.
    fn next(&mut self, w: usize, num_tiles: u32) -> Option<Vec<u32>> {
        match self {
            Dispatch::Upfront => None,
            Dispatch::Dynamic { next, chunk } => {
                let lo = *next;
                (lo < num_tiles).then(|| {
                    *next = (lo + *chunk).min(num_tiles);
                    (lo..*next).collect()
                })
            }
            Dispatch::Guided { next, min_chunk, n } => {
                let lo = *next;
                (lo < num_tiles).then(|| {
                    let chunk = (num_tiles - lo).div_ceil(*n).max(*min_chunk);
                    *next = (lo + chunk).min(num_tiles);
                    (lo..*next).collect()
                })
            }
            Dispatch::Stealing { queues } => {
                if queues[w].is_empty() {
                    let victim = (0..queues.len()).max_by_key(|&v| queues[v].len())?;
                    let len = queues[victim].len();
                    if len == 0 {
                        return None;
                    }
                    let stolen = queues[victim].split_off(len - len.div_ceil(2));
                    queues[w] = stolen;
                }
                queues[w].pop_front().map(|i| vec![i])
            }
        }
    }

    /// Takes back the tiles still queued for a worker that failed.
    fn forget(&mut self, w: usize) -> Vec<u32> {
        match self {
            Dispatch::Stealing { queues } => queues[w].drain(..).collect(),
            _ => Vec::new(),
        }
    }
}

struct WorkerState {
    alive: bool,
    ready_mono_ns: Option<u64>,
    /// Tiles sent and not yet back, in the order the worker runs them.
    outstanding: VecDeque<u32>,
    parked: bool,
    last_progress_mono_ns: u64,
    tiles: u32,
    peak_rss_kib: Option<u64>,
    said_bye: bool,
    ending: Option<Ending>,
}

struct Master<'a, T: Transport> {
    t: &'a mut T,
    tiles: &'a [Tile],
    origin_mono_ns: u64,
    deadlines: Deadlines,
    dispatch: Dispatch,
    workers: Vec<WorkerState>,
    done: Vec<bool>,
    remaining: usize,
    redo: VecDeque<u32>,
    records: Vec<TaskRecord>,
    stats: FarmStats,
}

impl<T: Transport> Master<'_, T> {
    fn rel(&self, mono_ns: u64) -> u64 {
        mono_ns.saturating_sub(self.origin_mono_ns)
    }

    fn alive_count(&self) -> usize {
        self.workers.iter().filter(|w| w.alive).count()
    }

    fn assign(&mut self, w: usize, list: TileList) {
        let indices = list.indices();
        match self.t.send(w, &ToWorker::Work(list)) {
            Ok(bytes) => {
                self.stats.bytes_to_workers += bytes;
                let s = &mut self.workers[w];
                s.outstanding.extend(indices);
                s.parked = false;
                s.last_progress_mono_ns = mono_nanos();
            }
            Err(e) => {
                self.workers[w].outstanding.extend(indices);
                self.lose(w, format!("could not send it work: {e}"));
            }
        }
    }

    /// Gives an idle worker more: redo first, then the schedule's next tiles.
    fn feed(&mut self, w: usize) {
        if !self.workers[w].alive {
            return;
        }
        if !self.redo.is_empty() {
            let share = self.redo.len().div_ceil(self.alive_count().max(1));
            let batch: Vec<u32> = self.redo.drain(..share).collect();
            self.assign(w, TileList::List(batch));
        } else if let Some(batch) = self.dispatch.next(w, self.tiles.len() as u32) {
            self.assign(w, TileList::List(batch));
        } else {
            self.workers[w].parked = true;
        }
    }

    fn feed_parked(&mut self) {
        for w in 0..self.workers.len() {
            if self.redo.is_empty() {
                break;
            }
            if self.workers[w].alive && self.workers[w].parked {
                self.feed(w);
            }
        }
    }

    /// A worker failed: reap it, report it, queue its unfinished tiles.
    fn lose(&mut self, w: usize, why: String) {
        if !self.workers[w].alive {
            return;
        }
        self.workers[w].alive = false;
        self.t.on_lost(w, &why);
        let ending = self.t.kill(w);
        let mut unfinished: Vec<u32> = self.workers[w].outstanding.drain(..).collect();
        unfinished.extend(self.dispatch.forget(w));
        unfinished.retain(|&i| !self.done[i as usize]);
        let mut what = format!("{why}; {}", ending.status);
        if !ending.stderr_tail.is_empty() {
            what.push_str(&format!("; it said: {}", ending.stderr_tail.trim()));
        }
        self.workers[w].ending = Some(ending);
        self.stats.faults.push(WorkerFault {
            worker: w as u32,
            pid: self.t.pid(w),
            what,
            redone: unfinished.clone(),
        });
        self.redo.extend(unfinished);
        self.feed_parked();
    }

    fn on_heard(
        &mut self,
        w: usize,
        heard: Heard,
        (bytes, received, decoded): (u64, u64, u64),
        sink: &mut dyn FnMut(TaskRecord, TilePixels),
    ) {
        if !self.workers[w].alive {
            return;
        }
        self.stats.bytes_from_workers += bytes;
        let started = self.t.started_mono_ns(w);
        let s = &mut self.workers[w];
        s.last_progress_mono_ns = received;
        if s.ready_mono_ns.is_none() {
            // Start-up ends when the worker says it is ready: its hello is
            // stamped on the machine's monotonic clock, as ours, and may wait
            // in the pipe while the master starts the other workers (the
            // worker may even have begun its first tile by the time it is read).
            let ready = match &heard {
                Heard::Message(FromWorker::Hello { ready_mono_ns, .. }) => {
                    (*ready_mono_ns).max(started).min(received)
                }
                _ => received,
            };
            s.ready_mono_ns = Some(ready);
        }
        match heard {
            Heard::Message(FromWorker::Hello { .. }) => {}
            Heard::Message(FromWorker::Idle) => {
                if let Some(&missing) = self.workers[w].outstanding.front() {
                    self.lose(w, format!("said it was idle with tile {missing} not sent"));
                } else {
                    self.feed(w);
                }
            }
            Heard::Message(FromWorker::Bye { peak_rss_kib }) => {
                self.workers[w].peak_rss_kib = peak_rss_kib;
                self.workers[w].said_bye = true;
            }
            Heard::Message(FromWorker::Tile(_)) => {
                self.lose(w, "sent a tile the transport did not decode".into());
            }
            Heard::Tile {
                index,
                compute_start_mono_ns,
                compute_end_mono_ns,
                work,
                serialise_nanos,
                pixels,
            } => {
                let s = &mut self.workers[w];
                let Some(pos) = s.outstanding.iter().position(|&i| i == index) else {
                    self.lose(w, format!("sent tile {index}, which it was not given"));
                    return;
                };
                let tile = self.tiles[index as usize];
                if pixels.counts.len() != tile.num_pixels()
                    || pixels.smooth.len() != tile.num_pixels()
                {
                    self.lose(w, format!("sent tile {index} with the wrong pixel count"));
                    return;
                }
                s.outstanding.remove(pos);
                if self.done[index as usize] {
                    return;
                }
                self.done[index as usize] = true;
                self.remaining -= 1;
                self.workers[w].tiles += 1;
                let record = TaskRecord {
                    task: index,
                    worker: w as u32,
                    start_nanos: self.rel(compute_start_mono_ns),
                    end_nanos: self.rel(compute_end_mono_ns),
                    work,
                    cpu: None,
                };
                let written = compute_end_mono_ns.saturating_add(serialise_nanos);
                self.stats.transfers.push(Transfer {
                    task: index,
                    worker: w as u32,
                    start_nanos: record.end_nanos,
                    end_nanos: self.rel(decoded),
                    serialise_nanos,
                    pipe_nanos: received.saturating_sub(written),
                    deserialise_nanos: decoded.saturating_sub(received),
                    compute_nanos: record.duration_nanos(),
                    bytes,
                });
                self.records.push(record);
                sink(record, pixels);
            }
        }
    }

    fn check_deadlines(&mut self) {
        let now = mono_nanos();
        for w in 0..self.workers.len() {
            let s = &self.workers[w];
            if !s.alive {
                continue;
            }
            let started = self.t.started_mono_ns(w);
            if s.ready_mono_ns.is_none()
                && now.saturating_sub(started) > self.deadlines.startup.as_nanos() as u64
            {
                let why = format!(
                    "did not start within {:.1} s; killed",
                    self.deadlines.startup.as_secs_f64()
                );
                self.lose(w, why);
            } else if !s.outstanding.is_empty()
                && now.saturating_sub(s.last_progress_mono_ns)
                    > self.deadlines.tile.as_nanos() as u64
            {
                let why = format!(
                    "sent nothing for {:.1} s with tiles to do (hung); killed",
                    self.deadlines.tile.as_secs_f64()
                );
                self.lose(w, why);
            }
        }
    }
}

/// Runs every tile of `settings` on the workers of `t` and returns the
/// records and figures; `sink` gets each tile as it arrives. `origin_mono_ns`
/// is the run's time zero (before the workers were started). Fails only when
/// every worker has failed with tiles left.
pub fn run_master<T: Transport>(
    t: &mut T,
    settings: &RenderSettings,
    tiles: &[Tile],
    origin_mono_ns: u64,
    deadlines: Deadlines,
    cancel: &AtomicBool,
    sink: &mut dyn FnMut(TaskRecord, TilePixels),
) -> Result<FarmOutcome, super::FarmError> {
    let n = t.num_workers();
    let (dispatch, first) = Dispatch::start(settings.schedule, n as u32, tiles.len() as u32);
    let now = mono_nanos();
    let mut m = Master {
        origin_mono_ns,
        deadlines,
        dispatch,
        workers: (0..n)
            .map(|_| WorkerState {
                alive: true,
                ready_mono_ns: None,
                outstanding: VecDeque::new(),
                parked: false,
                last_progress_mono_ns: now,
                tiles: 0,
                peak_rss_kib: None,
                said_bye: false,
                ending: None,
            })
            .collect(),
        done: vec![false; tiles.len()],
        remaining: tiles.len(),
        redo: VecDeque::new(),
        records: Vec::with_capacity(tiles.len()),
        stats: FarmStats::default(),
        tiles,
        t,
    };
    for (w, list) in first.into_iter().enumerate() {
        let setup = ToWorker::Setup {
            worker: w as u32,
            view: settings.view,
            kernel: settings.kernel,
            tiling: settings.tiling,
        };
        match m.t.send(w, &setup) {
            Ok(bytes) => m.stats.bytes_to_workers += bytes,
            Err(e) => {
                m.lose(w, format!("could not send it the setup: {e}"));
                continue;
            }
        }
        match list {
            Some(list) => m.assign(w, list),
            None => m.workers[w].parked = true,
        }
    }
    let mut cancelled = false;
    while m.remaining > 0 {
        if cancel.load(Ordering::Relaxed) {
            cancelled = true;
            break;
        }
        if m.alive_count() == 0 {
            break;
        }
        match m.t.recv_timeout(TICK) {
            Incoming::Heard {
                worker,
                heard,
                bytes,
                received_mono_ns,
                decoded_mono_ns,
            } => m.on_heard(
                worker,
                heard,
                (bytes, received_mono_ns, decoded_mono_ns),
                sink,
            ),
            Incoming::Lost { worker, why } => m.lose(worker, why),
            Incoming::Quiet => {}
        }
        m.check_deadlines();
    }
    let wall_nanos = mono_nanos().saturating_sub(origin_mono_ns);
    if cancelled {
        m.t.kill_all();
    } else {
        // Everyone still alive says goodbye (with its peak memory) and exits.
        for w in 0..n {
            if m.workers[w].alive
                && let Ok(bytes) = m.t.send(w, &ToWorker::Quit)
            {
                m.stats.bytes_to_workers += bytes;
            }
        }
        let until = mono_nanos() + GRACE.as_nanos() as u64;
        while m.workers.iter().any(|w| w.alive && !w.said_bye) && mono_nanos() < until {
            match m.t.recv_timeout(TICK) {
                Incoming::Heard {
                    worker,
                    heard: Heard::Message(FromWorker::Bye { peak_rss_kib }),
                    bytes,
                    ..
                } => {
                    m.stats.bytes_from_workers += bytes;
                    m.workers[worker].peak_rss_kib = peak_rss_kib;
                    m.workers[worker].said_bye = true;
                }
                Incoming::Lost { worker, .. } => m.workers[worker].said_bye = true,
                _ => {}
            }
        }
    }
    let endings = m.t.finish(GRACE);
    let failed_all = m.remaining > 0 && !cancelled;
    let mut stats = std::mem::take(&mut m.stats);
    stats.cancelled = cancelled;
    stats.workers = (0..n)
        .map(|w| {
            let s = &m.workers[w];
            let ending = s
                .ending
                .clone()
                .or_else(|| endings.get(w).cloned().flatten())
                .map_or_else(|| "unknown".into(), |e| e.status);
            FarmWorker {
                id: w as u32,
                pid: m.t.pid(w),
                spawned_nanos: m.rel(m.t.started_mono_ns(w)),
                ready_nanos: s.ready_mono_ns.map(|r| m.rel(r)),
                tiles: s.tiles,
                peak_rss_kib: s.peak_rss_kib,
                ending,
            }
        })
        .collect();
    if failed_all {
        return Err(super::FarmError::AllFailed {
            workers: n,
            left: m.remaining,
            faults: stats.fault_lines(),
        });
    }
    let completed = tiles.len() - m.remaining;
    Ok(FarmOutcome {
        records: std::mem::take(&mut m.records),
        stats,
        wall_nanos,
        completed,
        cancelled,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(d: &mut Dispatch, w: usize, n: u32) -> Vec<u32> {
        let mut v = Vec::new();
        while let Some(b) = d.next(w, n) {
            v.extend(b);
        }
        v
    }

    #[test]
    fn upfront_lists_cover_every_tile_once() {
        for schedule in [
            Schedule::StaticBlock,
            Schedule::StaticCyclic,
            Schedule::Sequential,
        ] {
            for (n, tiles) in [(1, 5), (3, 10), (7, 3), (2, 0)] {
                let (mut d, first) = Dispatch::start(schedule, n, tiles);
                let mut all: Vec<u32> = first
                    .iter()
                    .flat_map(|l| l.as_ref().map(TileList::indices).unwrap_or_default())
                    .collect();
                assert!(d.next(0, tiles).is_none());
                all.sort_unstable();
                assert_eq!(all, (0..tiles).collect::<Vec<_>>(), "{schedule} {n}");
            }
        }
    }

    #[test]
    fn on_request_schedules_hand_out_every_tile_once() {
        for schedule in [
            Schedule::Dynamic { chunk: 1 },
            Schedule::Dynamic { chunk: 4 },
            Schedule::Guided { min_chunk: 1 },
            Schedule::Guided { min_chunk: 3 },
            Schedule::WorkStealing,
        ] {
            for (n, tiles) in [(1, 5), (3, 10), (7, 3), (2, 50)] {
                let (mut d, first) = Dispatch::start(schedule, n, tiles);
                let mut all: Vec<u32> = first
                    .iter()
                    .flat_map(|l| l.as_ref().map(TileList::indices).unwrap_or_default())
                    .collect();
                // Worker 0 asks until nothing is left (stealing from the others).
                all.extend(drain(&mut d, 0, tiles));
                for w in 1..n as usize {
                    all.extend(drain(&mut d, w, tiles));
                }
                all.sort_unstable();
                assert_eq!(all, (0..tiles).collect::<Vec<_>>(), "{schedule} {n}");
            }
        }
    }

    #[test]
    fn guided_chunks_shrink_and_stealing_takes_the_back_half() {
        let (mut d, first) = Dispatch::start(Schedule::Guided { min_chunk: 1 }, 2, 16);
        assert_eq!(first[0], Some(TileList::List((0..8).collect())));
        assert_eq!(first[1], Some(TileList::List((8..12).collect())));
        assert_eq!(d.next(0, 16), Some(vec![12, 13]));
        let (mut d, first) = Dispatch::start(Schedule::WorkStealing, 2, 8);
        assert_eq!(first[0], Some(TileList::List(vec![0])));
        assert_eq!(first[1], Some(TileList::List(vec![4])));
        // Worker 1 runs out; then it steals the back half of worker 0's queue.
        for want in [5, 6, 7] {
            assert_eq!(d.next(1, 8), Some(vec![want]));
        }
        assert_eq!(d.next(1, 8), Some(vec![2]));
        assert_eq!(d.forget(0), vec![1]);
    }
}
