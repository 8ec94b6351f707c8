//! The local-process transport: N copies of parlab (`parlab worker`) with
//! pipes on stdin and stdout, in one process group.
//!
//! One reader thread per worker reads frames from its stdout, decodes them
//! (tile pixels included: that is the master's deserialise time) and passes
//! them on; another keeps the last lines of its stderr for fault reports.
//! Every worker is killed and reaped when the transport is dropped, so no
//! run leaves a zombie or an orphan, whatever its outcome; a worker whose
//! master dies is killed by the kernel (parent-death signal) or sees its
//! stdin close.

use super::clock::mono_nanos;
use super::protocol::{FrameError, FromWorker, ToWorker, decode_body, decode_pixels, read_body};
use super::transport::{Ending, Heard, Incoming, Transport};
use super::worker::PARENT_ENV;
use super::{FarmError, SendError};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// The last this many bytes of a worker's stderr are kept.
const STDERR_TAIL_BYTES: usize = 2000;

struct Slot {
    child: Option<Child>,
    stdin: Option<ChildStdin>,
    pid: u32,
    started_mono_ns: u64,
    stderr_tail: Arc<Mutex<String>>,
    threads: Vec<JoinHandle<()>>,
}

/// Worker processes reached through pipes.
pub struct ProcessTransport {
    slots: Vec<Slot>,
    events: Receiver<Incoming>,
    /// The process group all workers share (the first worker's pid).
    pgid: Option<rustix::process::Pid>,
}

impl ProcessTransport {
    /// Starts `num_workers` copies of `exe worker`. On failure every worker
    /// started so far is killed and reaped.
    pub fn spawn(
        exe: &Path,
        num_workers: usize,
        env: &[(String, String)],
    ) -> Result<Self, FarmError> {
        let (tx, events) = channel();
        let mut t = ProcessTransport {
            slots: Vec::with_capacity(num_workers),
            events,
            pgid: None,
        };
        for w in 0..num_workers {
            t.spawn_one(exe, w, env, tx.clone())?;
        }
        Ok(t)
    }

    fn spawn_one(
        &mut self,
        exe: &Path,
        w: usize,
        env: &[(String, String)],
        tx: Sender<Incoming>,
    ) -> Result<(), FarmError> {
        let mut cmd = Command::new(exe);
        cmd.envs(env.iter().map(|(k, v)| (k, v)));
        cmd.arg("worker")
            .env(PARENT_ENV, std::process::id().to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // The first worker leads a new group; the others join it.
            .process_group(self.pgid.map_or(0, |p| p.as_raw_nonzero().get()));
        let started_mono_ns = mono_nanos();
        let mut child = cmd.spawn().map_err(|source| FarmError::Start {
            worker: w,
            exe: exe.to_path_buf(),
            source,
        })?;
        let pid = child.id();
        if self.pgid.is_none() {
            self.pgid = rustix::process::Pid::from_raw(pid as i32);
        }
        let stdin = child.stdin.take();
        let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(FarmError::NoPipes { worker: w });
        };
        let stderr_tail = Arc::new(Mutex::new(String::new()));
        let mut threads = Vec::with_capacity(2);
        let reader = std::thread::Builder::new()
            .name(format!("parlab-farm-read-{w}"))
            .spawn(move || read_worker(w, stdout, &tx));
        let tail = stderr_tail.clone();
        let err_reader = std::thread::Builder::new()
            .name(format!("parlab-farm-stderr-{w}"))
            .spawn(move || keep_tail(stderr, &tail));
        // The slot exists before any error return, so Drop reaps the child.
        self.slots.push(Slot {
            child: Some(child),
            stdin,
            pid,
            started_mono_ns,
            stderr_tail,
            threads: Vec::new(),
        });
        for h in [reader, err_reader] {
            threads.push(h.map_err(FarmError::ReaderThread)?);
        }
        if let Some(slot) = self.slots.last_mut() {
            slot.threads = threads;
        }
        Ok(())
    }

    /// Pids of the workers, for tests and reports.
    pub fn pids(&self) -> Vec<u32> {
        self.slots.iter().map(|s| s.pid).collect()
    }

    fn reap(&mut self, w: usize, status: std::io::Result<ExitStatus>) -> Ending {
        let slot = &mut self.slots[w];
        slot.child = None;
        slot.stdin = None;
        for h in slot.threads.drain(..) {
            let _ = h.join();
        }
        let stderr_tail = slot
            .stderr_tail
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default();
        Ending {
            status: match status {
                Ok(s) => describe(s),
                Err(e) => format!("could not be waited for: {e}"),
            },
            stderr_tail,
        }
    }
}

/// An exit status in words.
pub fn describe(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit code {code}"),
        (None, Some(sig)) => {
            let name = match sig {
                6 => " (SIGABRT)",
                9 => " (SIGKILL)",
                11 => " (SIGSEGV)",
                15 => " (SIGTERM)",
                _ => "",
            };
            format!("killed by signal {sig}{name}")
        }
        _ => status.to_string(),
    }
}

fn read_worker(w: usize, stdout: std::process::ChildStdout, tx: &Sender<Incoming>) {
    let mut r = BufReader::with_capacity(1 << 16, stdout);
    loop {
        let body = match read_body(&mut r) {
            Ok(b) => b,
            Err(e) => {
                let why = match e {
                    FrameError::Closed => "its output closed (the process ended)".to_string(),
                    e => e.to_string(),
                };
                let _ = tx.send(Incoming::Lost { worker: w, why });
                return;
            }
        };
        let received_mono_ns = mono_nanos();
        let bytes = (body.len() + super::protocol::HEADER_BYTES) as u64;
        let heard = match decode_body::<FromWorker>(&body) {
            Ok(FromWorker::Tile(r)) => match decode_pixels(&r.pixels) {
                Ok(pixels) => Ok(Heard::Tile {
                    index: r.index,
                    compute_start_mono_ns: r.compute_start_mono_ns,
                    compute_end_mono_ns: r.compute_end_mono_ns,
                    work: r.work,
                    serialise_nanos: r.serialise_nanos,
                    pixels,
                }),
                Err(e) => Err(e),
            },
            Ok(m) => Ok(Heard::Message(m)),
            Err(e) => Err(e),
        };
        let event = match heard {
            Ok(heard) => Incoming::Heard {
                worker: w,
                heard,
                bytes,
                received_mono_ns,
                decoded_mono_ns: mono_nanos(),
            },
            Err(e) => Incoming::Lost {
                worker: w,
                why: e.to_string(),
            },
        };
        let lost = matches!(event, Incoming::Lost { .. });
        if tx.send(event).is_err() || lost {
            return;
        }
    }
}

fn keep_tail(stderr: std::process::ChildStderr, tail: &Mutex<String>) {
    for line in BufReader::new(stderr).lines() {
        let Ok(line) = line else { return };
        if let Ok(mut t) = tail.lock() {
            t.push_str(&line);
            t.push('\n');
            if t.len() > STDERR_TAIL_BYTES {
                let cut = t.len() - STDERR_TAIL_BYTES;
                let cut = (cut..t.len()).find(|&i| t.is_char_boundary(i)).unwrap_or(0);
                t.drain(..cut);
            }
        }
    }
}

impl Transport for ProcessTransport {
    fn num_workers(&self) -> usize {
        self.slots.len()
    }
    fn pid(&self, worker: usize) -> u32 {
        self.slots.get(worker).map_or(0, |s| s.pid)
    }
    fn started_mono_ns(&self, worker: usize) -> u64 {
        self.slots.get(worker).map_or(0, |s| s.started_mono_ns)
    }
    fn send(&mut self, worker: usize, msg: &ToWorker) -> Result<u64, SendError> {
        let stdin = self
            .slots
            .get_mut(worker)
            .and_then(|s| s.stdin.as_mut())
            .ok_or(SendError::Closed)?;
        let frame = super::protocol::encode_frame(msg)?;
        stdin.write_all(&frame).and_then(|()| stdin.flush())?;
        Ok(frame.len() as u64)
    }
    fn recv_timeout(&mut self, timeout: Duration) -> Incoming {
        match self.events.recv_timeout(timeout) {
            Ok(e) => e,
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => Incoming::Quiet,
        }
    }
    fn kill(&mut self, worker: usize) -> Ending {
        let Some(mut child) = self.slots.get_mut(worker).and_then(|s| s.child.take()) else {
            return Ending {
                status: "already reaped".into(),
                stderr_tail: String::new(),
            };
        };
        let _ = child.kill();
        let status = child.wait();
        self.reap(worker, status)
    }
    fn kill_all(&mut self) {
        // One signal to the whole group, then every child is waited for.
        if let Some(pgid) = self.pgid
            && self.slots.iter().any(|s| s.child.is_some())
        {
            let _ = rustix::process::kill_process_group(pgid, rustix::process::Signal::KILL);
        }
        for w in 0..self.slots.len() {
            if self.slots[w].child.is_some() {
                self.kill(w);
            }
        }
    }
    fn finish(&mut self, grace: Duration) -> Vec<Option<Ending>> {
        for s in &mut self.slots {
            s.stdin = None;
        }
        let until = mono_nanos() + grace.as_nanos() as u64;
        let mut endings: Vec<Option<Ending>> = vec![None; self.slots.len()];
        loop {
            let mut running = false;
            for (w, ending) in endings.iter_mut().enumerate() {
                let Some(child) = self.slots[w].child.as_mut() else {
                    continue;
                };
                match child.try_wait() {
                    Ok(Some(status)) => {
                        self.slots[w].child = None;
                        *ending = Some(self.reap(w, Ok(status)));
                    }
                    Ok(None) => running = true,
                    Err(e) => {
                        self.slots[w].child = None;
                        *ending = Some(self.reap(w, Err(e)));
                    }
                }
            }
            if !running {
                break;
            }
            if mono_nanos() >= until {
                for (w, ending) in endings.iter_mut().enumerate() {
                    if self.slots[w].child.is_some() {
                        let mut e = self.kill(w);
                        e.status = format!("did not exit in time; {}", e.status);
                        *ending = Some(e);
                    }
                }
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        endings
    }
}

impl Drop for ProcessTransport {
    fn drop(&mut self) {
        self.kill_all();
    }
}
