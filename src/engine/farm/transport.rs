//! What the farm's master needs from a way of reaching workers: start them,
//! send each one messages, hear from any of them, and stop one or all.
//!
//! [`super::process::ProcessTransport`] does this with child processes and
//! pipes; `super::mpi::MpiTransport` (feature `mpi`) with MPI ranks. The
//! threads backend needs no messages at all and goes through the executor
//! directly ([`super::threads`]).

use super::protocol::{FromWorker, ToWorker};
use crate::engine::mandelbrot::kernel::TilePixels;
use std::time::Duration;

/// Something a worker said, decoded, with when it arrived.
#[derive(Debug)]
pub enum Heard {
    /// A message other than a tile.
    Message(FromWorker),
    /// A tile whose pixels were already decoded on arrival.
    Tile {
        index: u32,
        compute_start_mono_ns: u64,
        compute_end_mono_ns: u64,
        work: u64,
        serialise_nanos: u64,
        pixels: TilePixels,
    },
}

/// One event from the workers.
#[derive(Debug)]
pub enum Incoming {
    Heard {
        worker: usize,
        heard: Heard,
        /// Frame size, header included.
        bytes: u64,
        /// When the whole frame had been read (CLOCK_MONOTONIC ns).
        received_mono_ns: u64,
        /// When it had been decoded, pixels included.
        decoded_mono_ns: u64,
    },
    /// The worker's link broke: it exited, closed its output, or sent
    /// something that is not a frame of this protocol.
    Lost { worker: usize, why: String },
    /// Nothing arrived within the timeout.
    Quiet,
}

/// How a worker ended, once it has been waited for.
#[derive(Clone, Debug, PartialEq)]
pub struct Ending {
    /// Exit status in words (`exit code 0`, `killed by signal 9`).
    pub status: String,
    /// The last lines it wrote on stderr, if any.
    pub stderr_tail: String,
}

/// A way of reaching `num_workers` workers. Implementations kill and reap
/// every worker they still hold when dropped.
pub trait Transport {
    fn num_workers(&self) -> usize;
    /// Operating-system id of the worker, for reports (0 where none).
    fn pid(&self, worker: usize) -> u32;
    /// When the worker was started (CLOCK_MONOTONIC ns).
    fn started_mono_ns(&self, worker: usize) -> u64;
    /// Sends one message; returns the bytes written.
    fn send(&mut self, worker: usize, msg: &ToWorker) -> Result<u64, super::SendError>;
    /// The next event from any worker, or [`Incoming::Quiet`] after `timeout`.
    fn recv_timeout(&mut self, timeout: Duration) -> Incoming;
    /// The master is about to give up on `worker` for this reason (before
    /// [`Transport::kill`]); a transport that must say it itself keeps it.
    fn on_lost(&mut self, _worker: usize, _why: &str) {}
    /// Stops one worker now (SIGKILL for a process) and waits for it.
    fn kill(&mut self, worker: usize) -> Ending;
    /// Stops every worker now and waits for them.
    fn kill_all(&mut self);
    /// Waits up to `grace` for every worker to exit by itself (after
    /// [`ToWorker::Quit`]), then kills what is left; returns each worker's
    /// ending (`None` for one already ended through [`Transport::kill`]).
    fn finish(&mut self, grace: Duration) -> Vec<Option<Ending>>;
}
