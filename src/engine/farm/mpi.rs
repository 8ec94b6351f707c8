//! The MPI transport (cargo feature `mpi`): the farm's ranks. Rank 0 is the
//! master and runs [`super::master::run_master`] over [`MpiTransport`];
//! every other rank is a worker and runs the process farm's own worker loop
//! ([`super::worker::serve`]), its frames carried as MPI messages instead of
//! pipe bytes.
//!
//! One time axis: ranks may run on different machines, whose monotonic
//! clocks do not agree. At start rank 0 plays ping-pong with each rank
//! ([`PINGS`] rounds) and keeps the round with the shortest round trip: the
//! rank's clock read half-way through it, less rank 0's mid-point, is its
//! offset, known to within half that round trip (the bound, reported). Every
//! time a worker sends is moved onto rank 0's clock with its offset.
//!
//! An MPI job cannot lose one rank and go on: when mpirun sees a rank die it
//! stops them all; a rank that hangs past the master's deadline makes rank 0
//! abort the job (MPI_Abort) after saying which rank it gave up on.

use super::clock::mono_nanos;
use super::master::run_master;
use super::mpirun::MpiJob;
use super::protocol::{
    FromWorker, HEADER_BYTES, ToWorker, decode_body, decode_pixels, encode_frame, read_body,
};
use super::report::{MpiRank, MpiStats};
use super::transport::{Ending, Heard, Incoming, Transport};
use super::{FarmError, FarmOutcome, SendError};
use crate::engine::exec::trace::TaskRecord;
use crate::engine::mandelbrot::kernel::TilePixels;
use mpi::Threading;
use mpi::topology::SimpleCommunicator;
use mpi::traits::*;
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

/// Master to worker: one protocol frame.
const TAG_TO_WORKER: i32 = 1;
/// Worker to master: one protocol frame.
const TAG_FROM_WORKER: i32 = 2;
/// Clock ping-pong.
const TAG_CLOCK: i32 = 3;
/// A worker's host, pid and MPI_Init times.
const TAG_INFO: i32 = 4;
/// Ping-pong rounds per rank; the shortest round trip is kept.
pub const PINGS: usize = 16;
/// How long a rank sleeps between probes (or tests of a send) when nothing
/// has happened.
const POLL: Duration = Duration::from_micros(50);

/// What a worker rank tells the master once its clock is synchronised.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct RankInfo {
    host: String,
    pid: u32,
    init_start_mono_ns: u64,
    init_end_mono_ns: u64,
}

/// One rank as the master knows it.
#[derive(Clone, Debug)]
struct Peer {
    info: RankInfo,
    /// Its clock minus ours, ns.
    offset_ns: i64,
    bound_ns: u64,
}

impl Peer {
    /// A time it stamped, on our clock.
    fn ours(&self, theirs: u64) -> u64 {
        (theirs as i64).saturating_sub(self.offset_ns).max(0) as u64
    }
}

/// What this rank did in [`run_world`].
pub enum RankOutcome {
    /// Rank 0: the render and the ranks' figures (the pixels went to the sink).
    Master(FarmOutcome),
    /// Any other rank: it served as a worker until told to quit.
    Worker,
}

/// Joins the MPI job this process is a rank of and renders `job` in it: rank
/// 0 as the master (every tile to `sink`, once `started` was called with the
/// number of ranks), the others as workers. Times count from just before
/// rank 0's MPI_Init. MPI is finalised before this returns.
pub fn run_world(
    job: &MpiJob,
    started: &mut dyn FnMut(u32),
    sink: &mut dyn FnMut(TaskRecord, TilePixels),
) -> Result<RankOutcome, FarmError> {
    let origin = mono_nanos();
    let (universe, _) = mpi::initialize_with_threading(Threading::Funneled).ok_or_else(|| {
        FarmError::Mpi("MPI could not be initialised (already initialised in this process)".into())
    })?;
    let init_end = mono_nanos();
    let world = universe.world();
    let size = world.size();
    let host = mpi::environment::processor_name().unwrap_or_else(|_| "?".into());
    let info = RankInfo {
        host,
        pid: std::process::id(),
        init_start_mono_ns: origin,
        init_end_mono_ns: init_end,
    };
    if size < 2 && !job.master_computes {
        return Err(FarmError::MpiSetup(
            "an MPI render needs at least 2 ranks: rank 0 is the master and the others compute (mpirun -np 2 or more, or let the master compute too)".into(),
        ));
    }
    if world.rank() != 0 {
        // A rank whose mpirun (or orted) is killed dies with it.
        let _ =
            rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::KILL));
        worker_clock(&world);
        let bytes = postcard::to_stdvec(&info)
            .map_err(|e| FarmError::Mpi(format!("cannot encode rank info: {e}")))?;
        world.process_at_rank(0).send_with_tag(&bytes[..], TAG_INFO);
        let mut input = MpiReader {
            world: &world,
            buf: Vec::new(),
            pos: 0,
        };
        let mut output = MpiWriter {
            world: &world,
            buf: Vec::new(),
        };
        if let Err(e) = super::worker::serve(&mut input, &mut output) {
            eprintln!("parlab: MPI rank {}: {e}; aborting the job", world.rank());
            world.abort(4);
        }
        return Ok(RankOutcome::Worker);
    }
    // From here a failure must end the whole job: returning would leave
    // rank 0 in MPI_Finalize while the workers wait for work.
    match master(&world, job, &info, (origin, init_end), started, sink) {
        Ok(out) => Ok(RankOutcome::Master(out)),
        Err(e) => {
            eprintln!("parlab: MPI rank 0 (the master): {e}; aborting the job");
            world.abort(5)
        }
    }
}

fn master(
    world: &SimpleCommunicator,
    job: &MpiJob,
    info: &RankInfo,
    (origin, init_end): (u64, u64),
    started: &mut dyn FnMut(u32),
    sink: &mut dyn FnMut(TaskRecord, TilePixels),
) -> Result<FarmOutcome, FarmError> {
    let size = world.size();
    // With `master_computes`, worker 0 is a thread of rank 0 (offset 0).
    let mut peers = Vec::with_capacity(size as usize);
    if job.master_computes {
        peers.push(Peer {
            info: info.clone(),
            offset_ns: 0,
            bound_ns: 0,
        });
    }
    for r in 1..size {
        let (offset_ns, bound_ns) = master_clock(world, r);
        let (bytes, _) = world
            .process_at_rank(r)
            .receive_vec_with_tag::<u8>(TAG_INFO);
        let rinfo: RankInfo = postcard::from_bytes(&bytes)
            .map_err(|e| FarmError::Mpi(format!("rank {r} sent unreadable info: {e}")))?;
        peers.push(Peer {
            info: rinfo,
            offset_ns,
            bound_ns,
        });
    }
    started(size as u32);
    let settings = job.settings(peers.len())?;
    let tiles = settings
        .tiling
        .tiles(settings.view.width_px(), settings.view.height_px());
    let local = if job.master_computes {
        Some(LocalWorker::start()?)
    } else {
        None
    };
    let mut t = MpiTransport {
        world,
        peers,
        lost_why: Vec::new(),
        local,
    };
    let never = AtomicBool::new(false);
    let mut out = run_master(
        &mut t,
        &settings,
        &tiles,
        origin,
        job.deadlines(),
        &never,
        sink,
    )?;
    // Per rank: MPI_Init, offsets, MPI_Init start to its first tile.
    let rel = |ns: u64| ns.saturating_sub(origin);
    let first_of = |w: usize| {
        out.records
            .iter()
            .filter(|r| r.worker as usize == w)
            .map(|r| r.start_nanos)
            .min()
    };
    let mut ranks = Vec::with_capacity(size as usize);
    if !job.master_computes {
        ranks.push(MpiRank {
            rank: 0,
            host: info.host.clone(),
            pid: info.pid,
            clock_offset_nanos: 0,
            offset_bound_nanos: 0,
            init_start_nanos: 0,
            init_nanos: init_end.saturating_sub(origin),
            first_tile_nanos: None,
            startup_nanos: None,
        });
    }
    for (w, p) in t.peers.iter().enumerate() {
        let first = first_of(w);
        ranks.push(MpiRank {
            rank: t.rank_of(w) as u32,
            host: p.info.host.clone(),
            pid: p.info.pid,
            clock_offset_nanos: p.offset_ns,
            offset_bound_nanos: p.bound_ns,
            init_start_nanos: rel(p.ours(p.info.init_start_mono_ns)),
            init_nanos: p
                .info
                .init_end_mono_ns
                .saturating_sub(p.info.init_start_mono_ns),
            first_tile_nanos: first,
            // Back on its own clock: first tile (ours) + offset - its MPI_Init.
            startup_nanos: first.map(|f| {
                (f.saturating_add(origin) as i64)
                    .saturating_add(p.offset_ns)
                    .saturating_sub(p.info.init_start_mono_ns as i64)
                    .max(0) as u64
            }),
        });
    }
    out.stats.mpi = Some(MpiStats {
        ranks,
        pings: PINGS as u32,
        master_computes: job.master_computes,
    });
    Ok(out)
}

/// Rank 0's side of the ping-pong with rank `r`: (offset, bound) in ns.
fn master_clock(world: &SimpleCommunicator, r: i32) -> (i64, u64) {
    let peer = world.process_at_rank(r);
    let mut best = (0i64, u64::MAX);
    for _ in 0..PINGS {
        let t0 = mono_nanos();
        peer.send_with_tag(&0u64, TAG_CLOCK);
        let (theirs, _) = peer.receive_with_tag::<u64>(TAG_CLOCK);
        let t1 = mono_nanos();
        let rtt = t1.saturating_sub(t0);
        if rtt < best.1 {
            let mid = t0 as i128 + (rtt / 2) as i128;
            best = ((theirs as i128 - mid) as i64, rtt);
        }
    }
    (best.0, best.1.div_ceil(2))
}

/// A worker's side of the ping-pong: answer each ping with its clock.
fn worker_clock(world: &SimpleCommunicator) {
    let master = world.process_at_rank(0);
    for _ in 0..PINGS {
        let _ = master.receive_with_tag::<u64>(TAG_CLOCK);
        master.send_with_tag(&mono_nanos(), TAG_CLOCK);
    }
}

/// The worker's input: frames from rank 0, one message each.
struct MpiReader<'w> {
    world: &'w SimpleCommunicator,
    buf: Vec<u8>,
    pos: usize,
}

impl Read for MpiReader<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.pos >= self.buf.len() {
            // Probe and sleep rather than a blocking receive: Open MPI's
            // blocking calls spin, and a spinning rank takes the core a
            // computing rank needs when ranks outnumber cores.
            let probed = loop {
                if let Some(p) = self
                    .world
                    .process_at_rank(0)
                    .immediate_matched_probe_with_tag(TAG_TO_WORKER)
                {
                    break p;
                }
                std::thread::sleep(POLL);
            };
            let (msg, _) = probed.matched_receive_vec::<u8>();
            self.buf = msg;
            self.pos = 0;
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// The worker's output: each flushed frame becomes one message to rank 0.
struct MpiWriter<'w> {
    world: &'w SimpleCommunicator,
    buf: Vec<u8>,
}

impl Write for MpiWriter<'_> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        if !self.buf.is_empty() {
            // A tile is larger than the eager limit: the send completes when
            // rank 0 takes it. Test and sleep meanwhile instead of spinning.
            let master = self.world.process_at_rank(0);
            mpi::request::scope(|scope| {
                let mut req = master.immediate_send_with_tag(scope, &self.buf[..], TAG_FROM_WORKER);
                loop {
                    match req.test() {
                        Ok(_) => break,
                        Err(pending) => {
                            req = pending;
                            std::thread::sleep(POLL);
                        }
                    }
                }
            });
            self.buf.clear();
        }
        Ok(())
    }
}

/// Worker 0 as a thread of rank 0 (the master computes too): the same
/// worker loop, its frames through a pair of pipes.
struct LocalWorker {
    to: Option<std::io::PipeWriter>,
    from: std::sync::mpsc::Receiver<Vec<u8>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl LocalWorker {
    fn start() -> Result<Self, FarmError> {
        let (mut in_r, in_w) = std::io::pipe().map_err(FarmError::ReaderThread)?;
        let (out_r, out_w) = std::io::pipe().map_err(FarmError::ReaderThread)?;
        let thread = std::thread::Builder::new()
            .name("parlab-mpi-local-worker".into())
            .spawn(move || {
                let mut out = std::io::BufWriter::new(out_w);
                if let Err(e) = super::worker::serve(&mut in_r, &mut out) {
                    eprintln!("parlab: MPI rank 0's own worker: {e}");
                }
            })
            .map_err(FarmError::ReaderThread)?;
        let (tx, from) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("parlab-mpi-local-read".into())
            .spawn(move || {
                let mut r = std::io::BufReader::new(out_r);
                // Each frame whole (header and body), as an MPI message is.
                while let Ok(body) = read_body(&mut r) {
                    let mut frame = Vec::with_capacity(HEADER_BYTES + body.len());
                    frame.extend_from_slice(&super::protocol::MAGIC);
                    frame.push(super::protocol::PROTOCOL_VERSION);
                    frame.extend_from_slice(&(body.len() as u32).to_le_bytes());
                    frame.extend_from_slice(&body);
                    if tx.send(frame).is_err() {
                        return;
                    }
                }
            })
            .map_err(FarmError::ReaderThread)?;
        Ok(LocalWorker {
            to: Some(in_w),
            from,
            thread: Some(thread),
        })
    }
}

/// Rank 0's way of reaching the workers: worker `w` is rank `w + 1`, or,
/// when the master computes too, worker 0 is a thread of rank 0 and worker
/// `w` is rank `w`.
pub struct MpiTransport<'w> {
    world: &'w SimpleCommunicator,
    peers: Vec<Peer>,
    lost_why: Vec<(usize, String)>,
    local: Option<LocalWorker>,
}

impl MpiTransport<'_> {
    fn rank_of(&self, worker: usize) -> i32 {
        worker as i32 + i32::from(self.local.is_none())
    }
    fn worker_of(&self, rank: i32) -> usize {
        (rank - i32::from(self.local.is_none())).max(0) as usize
    }

    fn heard(&self, w: usize, bytes: &[u8]) -> Incoming {
        let received_mono_ns = mono_nanos();
        match self.decode(w, bytes) {
            Ok(heard) => Incoming::Heard {
                worker: w,
                heard,
                bytes: bytes.len().max(HEADER_BYTES) as u64,
                received_mono_ns,
                decoded_mono_ns: mono_nanos(),
            },
            Err(why) => Incoming::Lost { worker: w, why },
        }
    }

    fn decode(&self, w: usize, bytes: &[u8]) -> Result<Heard, String> {
        let body = read_body(&mut &bytes[..]).map_err(|e| e.to_string())?;
        let p = &self.peers[w];
        match decode_body::<FromWorker>(&body).map_err(|e| e.to_string())? {
            FromWorker::Tile(r) => Ok(Heard::Tile {
                index: r.index,
                compute_start_mono_ns: p.ours(r.compute_start_mono_ns),
                compute_end_mono_ns: p.ours(r.compute_end_mono_ns),
                work: r.work,
                serialise_nanos: r.serialise_nanos,
                pixels: decode_pixels(&r.pixels).map_err(|e| e.to_string())?,
            }),
            FromWorker::Hello { pid, ready_mono_ns } => Ok(Heard::Message(FromWorker::Hello {
                pid,
                ready_mono_ns: p.ours(ready_mono_ns),
            })),
            other => Ok(Heard::Message(other)),
        }
    }
}

impl Transport for MpiTransport<'_> {
    fn num_workers(&self) -> usize {
        self.peers.len()
    }
    fn pid(&self, worker: usize) -> u32 {
        self.peers.get(worker).map_or(0, |p| p.info.pid)
    }
    fn started_mono_ns(&self, worker: usize) -> u64 {
        self.peers
            .get(worker)
            .map_or(0, |p| p.ours(p.info.init_start_mono_ns))
    }
    fn send(&mut self, worker: usize, msg: &ToWorker) -> Result<u64, SendError> {
        let frame = encode_frame(msg)?;
        match &mut self.local {
            Some(local) if worker == 0 => {
                let to = local.to.as_mut().ok_or(SendError::Closed)?;
                to.write_all(&frame)?;
            }
            _ => self
                .world
                .process_at_rank(self.rank_of(worker))
                .send_with_tag(&frame[..], TAG_TO_WORKER),
        }
        Ok(frame.len() as u64)
    }
    fn recv_timeout(&mut self, timeout: Duration) -> Incoming {
        let until = mono_nanos() + timeout.as_nanos() as u64;
        loop {
            if let Some(local) = &self.local {
                match local.from.try_recv() {
                    Ok(frame) => return self.heard(0, &frame),
                    Err(std::sync::mpsc::TryRecvError::Disconnected) => {
                        return Incoming::Lost {
                            worker: 0,
                            why: "rank 0's own worker thread ended".into(),
                        };
                    }
                    Err(std::sync::mpsc::TryRecvError::Empty) => {}
                }
            }
            if let Some(probed) = self
                .world
                .any_process()
                .immediate_matched_probe_with_tag(TAG_FROM_WORKER)
            {
                let (bytes, status) = probed.matched_receive_vec::<u8>();
                let w = self.worker_of(status.source_rank());
                return self.heard(w, &bytes);
            }
            if mono_nanos() >= until {
                return Incoming::Quiet;
            }
            std::thread::sleep(POLL);
        }
    }
    fn on_lost(&mut self, worker: usize, why: &str) {
        self.lost_why.push((worker, why.to_string()));
    }
    fn kill(&mut self, worker: usize) -> Ending {
        let why = self
            .lost_why
            .iter()
            .rev()
            .find(|(w, _)| *w == worker)
            .map_or("it failed", |(_, why)| why.as_str());
        let host = self.peers.get(worker).map_or("?", |p| p.info.host.as_str());
        eprintln!(
            "parlab: MPI rank {} (worker {worker}, on {host}) {why}; an MPI job cannot drop one rank, so parlab aborts the whole job",
            self.rank_of(worker)
        );
        self.world.abort(3)
    }
    fn kill_all(&mut self) {
        eprintln!("parlab: stopping the MPI job");
        self.world.abort(3)
    }
    fn finish(&mut self, _grace: Duration) -> Vec<Option<Ending>> {
        // Rank 0's own worker: its input closes, its loop ends.
        if let Some(local) = &mut self.local {
            local.to = None;
            if let Some(h) = local.thread.take() {
                let _ = h.join();
            }
        }
        // Every worker said goodbye; MPI_Finalize ends them all together.
        (0..self.peers.len())
            .map(|_| {
                Some(Ending {
                    status: "finished (MPI rank)".into(),
                    stderr_tail: String::new(),
                })
            })
            .collect()
    }
}
