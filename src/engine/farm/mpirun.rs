//! Launching an MPI render from parlab itself (the sweep, the window, a
//! `render --backend mpi` typed outside `mpirun`): `mpirun -np P+1 [args]
//! parlab mpi-rank JOB`, reading what rank 0 reports on its stdout, with
//! deadlines, and every process of the job stopped at the end, whatever the
//! outcome.
//!
//! Plain std: it is compiled with or without the `mpi` feature (the ranks
//! need the feature; [`run_mpi`] refuses without it). Rank 0 writes one line
//! per message, `PARLAB-MPI <base64 of a postcard FromRankZero>`: Open MPI
//! forwards a rank's stdout through a pseudo-terminal, which would mangle
//! raw bytes, and mixes in its own lines; a text line with a prefix survives
//! both. What mpirun prints (its refusal as root, a host it cannot reach, a
//! rank that died) is read from its stderr and turned into one message that
//! says what to do ([`diagnose`]).

use super::clock::mono_nanos;
use super::master::Deadlines;
use super::protocol::WirePixels;
use super::report::FarmStats;
use super::{FarmError, FarmOptions, FarmOutcome};
use crate::engine::exec::trace::TaskRecord;
use crate::engine::mandelbrot::kernel::{Kernel, TilePixels};
use crate::engine::mandelbrot::render::RenderSettings;
use crate::engine::mandelbrot::tiling::{Tile, Tiling};
use crate::engine::mandelbrot::view::View;
use serde::{Deserialize, Serialize};
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The prefix of every line rank 0 writes for the launcher.
pub const LINE_PREFIX: &str = "PARLAB-MPI ";
/// mpirun's own start (daemons, ssh to other hosts) on top of the ranks'
/// start-up deadline.
const LAUNCH_ALLOWANCE: Duration = Duration::from_secs(10);
/// How long mpirun gets to exit after rank 0 said it was done.
const EXIT_GRACE: Duration = Duration::from_secs(10);
/// How long mpirun gets to stop its ranks after SIGTERM before the kill.
const TERM_GRACE: Duration = Duration::from_secs(3);
const TICK: Duration = Duration::from_millis(20);
const STDERR_TAIL_BYTES: usize = 6000;

/// How to start `mpirun`: which one, on which hosts, with what else.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MpiLaunch {
    /// The `mpirun` to run; default: `mpirun` on PATH.
    pub mpirun: Option<PathBuf>,
    /// `--hostfile` for mpirun (a lab of machines); default: this machine.
    pub hostfile: Option<PathBuf>,
    /// More arguments for mpirun, before the program (`--oversubscribe`,
    /// `--allow-run-as-root`, `--mca …`).
    pub args: Vec<String>,
    /// Rank 0 computes tiles too (in a thread), besides handing them out:
    /// then `-np` is the worker count.
    pub master_computes: bool,
    /// How long mpirun may take to start every rank before parlab stops it
    /// (default: the start-up deadline plus 10 s for mpirun's own launch).
    pub startup_limit: Option<Duration>,
}

impl MpiLaunch {
    /// Ranks for `num_workers` workers: one more for a master that only
    /// hands out tiles.
    pub fn ranks_for(&self, num_workers: usize) -> usize {
        num_workers + usize::from(!self.master_computes)
    }
}

impl MpiLaunch {
    /// `--mpirun-args` text split on whitespace.
    pub fn split_args(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_string).collect()
    }
}

/// The `mpirun` that [`MpiLaunch`] names, or the first on PATH.
pub fn find_mpirun(launch: &MpiLaunch) -> Result<PathBuf, FarmError> {
    if let Some(p) = &launch.mpirun {
        return if p.is_file() {
            Ok(p.clone())
        } else {
            Err(FarmError::Mpi(format!(
                "mpirun not found at {}: give the path of Open MPI's mpirun (--mpirun PATH), or install it (Debian: openmpi-bin libopenmpi-dev)",
                p.display()
            )))
        };
    }
    on_path("mpirun").ok_or_else(|| {
        FarmError::Mpi(
            "mpirun not found on PATH: install Open MPI (Debian: openmpi-bin libopenmpi-dev) or give its path (--mpirun PATH)".into(),
        )
    })
}

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// Whether this process was started by mpirun (it is one rank of a job).
pub fn inside_mpirun() -> bool {
    ["OMPI_COMM_WORLD_SIZE", "PMI_RANK", "PMIX_RANK"]
        .iter()
        .any(|v| std::env::var_os(v).is_some())
}

/// The job's size as mpirun put it in the environment, before MPI_Init.
pub fn world_size_from_env() -> Option<usize> {
    ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE"]
        .iter()
        .find_map(|v| std::env::var(v).ok()?.parse().ok())
}

/// What every rank of a launched job renders, passed as one argument.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MpiJob {
    pub view: View,
    pub kernel: Kernel,
    pub tiling: Tiling,
    /// The schedule by name (`dynamic:4`).
    pub schedule: String,
    pub startup_millis: u64,
    pub tile_millis: u64,
    /// Rank 0 reports each tile as it arrives (the window); otherwise after
    /// the render, so that writing its report is not inside the timed render.
    pub stream: bool,
    /// Rank 0 computes too (worker 0 is a thread of rank 0).
    pub master_computes: bool,
}

impl MpiJob {
    pub fn of(
        settings: &RenderSettings,
        deadlines: Deadlines,
        stream: bool,
        master_computes: bool,
    ) -> Self {
        MpiJob {
            view: settings.view,
            kernel: settings.kernel,
            tiling: settings.tiling,
            schedule: settings.schedule.to_string(),
            startup_millis: deadlines.startup.as_millis() as u64,
            tile_millis: deadlines.tile.as_millis() as u64,
            stream,
            master_computes,
        }
    }
    pub fn deadlines(&self) -> Deadlines {
        Deadlines {
            startup: Duration::from_millis(self.startup_millis),
            tile: Duration::from_millis(self.tile_millis),
        }
    }
    /// The settings on `num_workers` workers.
    pub fn settings(&self, num_workers: usize) -> Result<RenderSettings, FarmError> {
        let schedule = self
            .schedule
            .parse()
            .map_err(|e| FarmError::MpiSetup(format!("schedule {:?}: {e}", self.schedule)))?;
        Ok(RenderSettings {
            view: self.view,
            tiling: self.tiling,
            schedule,
            num_workers,
            kernel: self.kernel,
            placement: Default::default(),
        })
    }
    pub fn encode(&self) -> Result<String, FarmError> {
        postcard::to_stdvec(self)
            .map(|b| base64_encode(&b))
            .map_err(|e| FarmError::Mpi(format!("cannot encode the MPI job: {e}")))
    }
    pub fn decode(text: &str) -> Result<Self, FarmError> {
        base64_decode(text)
            .and_then(|b| postcard::from_bytes(&b).ok())
            .ok_or_else(|| {
                FarmError::MpiSetup(
                    "the MPI job argument does not decode (is every host running the same parlab build?)".into(),
                )
            })
    }
}

/// What rank 0 tells the launcher.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum FromRankZero {
    /// MPI is up on every rank and the clocks are synchronised.
    Started { ranks: u32 },
    Tile {
        record: TaskRecord,
        pixels: WirePixels,
    },
    /// The render is complete (every tile was reported before this).
    Done {
        wall_nanos: u64,
        stats: Box<FarmStats>,
    },
    /// The render failed on rank 0.
    Failed { message: String },
}

/// One message as a line (with the newline).
pub fn encode_line(msg: &FromRankZero) -> Result<String, FarmError> {
    let bytes = postcard::to_stdvec(msg)
        .map_err(|e| FarmError::Mpi(format!("cannot encode a report line: {e}")))?;
    Ok(format!("{LINE_PREFIX}{}\n", base64_encode(&bytes)))
}

/// The message of a line rank 0 wrote; `None` for any other line.
pub fn decode_line(line: &str) -> Option<FromRankZero> {
    let body = line.trim_end().strip_prefix(LINE_PREFIX)?;
    postcard::from_bytes(&base64_decode(body)?).ok()
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding.
pub fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for c in bytes.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= c.len() {
                out.push(B64[(n >> shift) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Inverse of [`base64_encode`]; `None` if `text` is not base64.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let t = text.trim().as_bytes();
    if !t.len().is_multiple_of(4) {
        return None;
    }
    let value = |b: u8| B64.iter().position(|&x| x == b).map(|v| v as u32);
    let mut out = Vec::with_capacity(t.len() / 4 * 3);
    for (k, q) in t.chunks(4).enumerate() {
        let last = k + 1 == t.len() / 4;
        let pad = q.iter().rev().take_while(|&&b| b == b'=').count();
        if pad > 2 || (pad > 0 && !last) {
            return None;
        }
        let mut n = 0u32;
        for &b in &q[..4 - pad] {
            n = (n << 6) | value(b)?;
        }
        n <<= 6 * pad as u32;
        let got = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&got[..3 - pad]);
    }
    Some(out)
}

enum Event {
    Message(FromRankZero),
    /// mpirun's stdout closed.
    Closed,
}

/// A running `mpirun` in its own process group.
struct Mpirun {
    child: Option<Child>,
    pgid: Option<rustix::process::Pid>,
    tail: Arc<Mutex<String>>,
    /// The threads reading mpirun's stdout and stderr.
    readers: Vec<std::thread::JoinHandle<()>>,
}

impl Mpirun {
    /// mpirun's last lines, once its output has been read to the end (or
    /// after 2 s, should a process of the job still hold it open).
    fn tail(&mut self) -> String {
        let until = mono_nanos() + Duration::from_secs(2).as_nanos() as u64;
        while self.readers.iter().any(|h| !h.is_finished()) && mono_nanos() < until {
            std::thread::sleep(Duration::from_millis(2));
        }
        for h in std::mem::take(&mut self.readers) {
            if h.is_finished() {
                let _ = h.join();
            }
        }
        self.tail.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Waits up to `grace` for mpirun to exit; its status in words.
    fn wait(&mut self, grace: Duration) -> Option<std::process::ExitStatus> {
        let until = mono_nanos() + grace.as_nanos() as u64;
        while let Some(child) = self.child.as_mut() {
            match child.try_wait() {
                Ok(Some(s)) => {
                    self.child = None;
                    return Some(s);
                }
                Ok(None) if mono_nanos() < until => std::thread::sleep(Duration::from_millis(5)),
                _ => return None,
            }
        }
        None
    }

    /// Stops the job: SIGTERM to mpirun (it stops its ranks), then SIGKILL
    /// to its whole group, whatever is left of it (the ssh to a host that
    /// never answered outlives mpirun otherwise); the ranks, each in a group
    /// of its own, die with mpirun (parent-death signal).
    fn stop(&mut self) {
        let Some(child) = self.child.as_mut() else {
            return;
        };
        // mpirun puts its ranks and its ssh to other hosts in process groups
        // of their own: find them now, while they are still its descendants.
        let family = descendants(child.id());
        if let Some(pid) = rustix::process::Pid::from_raw(child.id() as i32) {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
        }
        let _ = self.wait(TERM_GRACE);
        if let Some(pgid) = self.pgid.take() {
            let _ = rustix::process::kill_process_group(pgid, rustix::process::Signal::KILL);
        }
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        for (pid, started) in family {
            // Only the same process (its start time), never a reused pid.
            if proc_stat(pid).is_some_and(|(_, s)| s == started)
                && let Some(p) = rustix::process::Pid::from_raw(pid as i32)
            {
                let _ = rustix::process::kill_process(p, rustix::process::Signal::KILL);
            }
        }
    }
}

/// A process's parent and start time (clock ticks after boot), from
/// /proc/PID/stat.
fn proc_stat(pid: u32) -> Option<(u32, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces and parentheses).
    let rest: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    // rest[0] is field 3 (state): ppid is field 4, starttime field 22.
    Some((rest.get(1)?.parse().ok()?, rest.get(19)?.parse().ok()?))
}

/// Every process descended from `root` now, with its start time.
fn descendants(root: u32) -> Vec<(u32, u64)> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let all: Vec<(u32, u32, u64)> = dir
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| proc_stat(pid).map(|(ppid, start)| (pid, ppid, start)))
        .collect();
    let mut found: Vec<(u32, u64)> = Vec::new();
    let mut frontier = vec![root];
    while let Some(parent) = frontier.pop() {
        for &(pid, ppid, start) in &all {
            if ppid == parent && !found.iter().any(|&(p, _)| p == pid) {
                found.push((pid, start));
                frontier.push(pid);
            }
        }
    }
    found
}

impl Drop for Mpirun {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The mpirun command line for `num_workers` workers (np = workers + 1:
/// rank 0 is the master, unless it computes too); `--oversubscribe` is added on this machine alone
/// (no hostfile).
pub fn mpirun_command(
    mpirun: &Path,
    launch: &MpiLaunch,
    exe: &Path,
    num_workers: usize,
    env: &[(String, String)],
    job: &str,
) -> Command {
    let mut cmd = Command::new(mpirun);
    cmd.arg("-np")
        .arg(launch.ranks_for(num_workers).to_string());
    match &launch.hostfile {
        Some(h) => {
            cmd.arg("--hostfile").arg(h);
        }
        // On this machine alone the master rank mostly waits, and one rank
        // per worker would otherwise be refused beyond the core count.
        None if !launch.args.iter().any(|a| a == "--oversubscribe") => {
            cmd.arg("--oversubscribe");
        }
        None => {}
    }
    cmd.args(&launch.args);
    for (k, v) in env {
        cmd.env(k, v).arg("-x").arg(k);
    }
    cmd.arg(exe).arg("mpi-rank").arg(job);
    cmd
}

/// Runs the tiles of `settings` as an MPI job of `effective_workers() + 1`
/// ranks started by mpirun, streaming each tile to `sink`. The times are
/// rank 0's (from just before its MPI_Init; mpirun's own launch is not in
/// them). Cancelling stops every rank.
pub fn run_mpi(
    settings: &RenderSettings,
    tiles: &[Tile],
    options: &FarmOptions,
    cancel: &AtomicBool,
    sink: &mut dyn FnMut(TaskRecord, TilePixels),
) -> Result<FarmOutcome, FarmError> {
    if !cfg!(feature = "mpi") {
        return Err(FarmError::NoMpi);
    }
    let mpirun = find_mpirun(&options.mpi)?;
    let exe = options.exe()?;
    let workers = settings.effective_workers();
    let job = MpiJob::of(
        settings,
        options.deadlines,
        true,
        options.mpi.master_computes,
    )
    .encode()?;
    let mut cmd = mpirun_command(
        &mpirun,
        &options.mpi,
        &exe,
        workers,
        &options.worker_env,
        &job,
    );
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let mut child = cmd
        .spawn()
        .map_err(|e| FarmError::Mpi(format!("cannot start {}: {e}", mpirun.display())))?;
    let pgid = rustix::process::Pid::from_raw(child.id() as i32);
    let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
    let tail = Arc::new(Mutex::new(String::new()));
    let mut run = Mpirun {
        child: Some(child),
        pgid,
        tail: tail.clone(),
        readers: Vec::with_capacity(2),
    };
    let (tx, rx) = channel();
    if let Some(out) = stdout {
        let (tx, tail) = (tx.clone(), tail.clone());
        let h = std::thread::Builder::new()
            .name("parlab-mpirun-out".into())
            .spawn(move || read_stdout(out, &tx, &tail))
            .map_err(FarmError::ReaderThread)?;
        run.readers.push(h);
    }
    if let Some(err) = stderr {
        let h = std::thread::Builder::new()
            .name("parlab-mpirun-err".into())
            .spawn(move || keep_tail(BufReader::new(err), &tail))
            .map_err(FarmError::ReaderThread)?;
        run.readers.push(h);
    }
    drop(tx);
    let startup = options
        .mpi
        .startup_limit
        .unwrap_or(options.deadlines.startup + LAUNCH_ALLOWANCE);
    let limits = Limits {
        startup,
        tile: options.deadlines.tile,
        hosts: options.mpi.hostfile.is_some(),
    };
    follow(&mut run, &rx, tiles.len(), limits, cancel, sink)
}

/// How long the launcher waits, and whether other hosts are involved.
struct Limits {
    startup: Duration,
    tile: Duration,
    hosts: bool,
}

fn follow(
    run: &mut Mpirun,
    rx: &Receiver<Event>,
    num_tiles: usize,
    limits: Limits,
    cancel: &AtomicBool,
    sink: &mut dyn FnMut(TaskRecord, TilePixels),
) -> Result<FarmOutcome, FarmError> {
    let launched = mono_nanos();
    let mut last = launched;
    let mut started = false;
    let mut records = Vec::with_capacity(num_tiles);
    let mut failure: Option<String> = None;
    let mut done = None;
    loop {
        if cancel.load(Ordering::Relaxed) {
            run.stop();
            let stats = FarmStats {
                cancelled: true,
                ..FarmStats::default()
            };
            return Ok(FarmOutcome {
                completed: records.len(),
                wall_nanos: records
                    .iter()
                    .map(|r: &TaskRecord| r.end_nanos)
                    .max()
                    .unwrap_or(0),
                records,
                stats,
                cancelled: true,
            });
        }
        let now = mono_nanos();
        match rx.recv_timeout(TICK) {
            Ok(Event::Message(m)) => {
                last = mono_nanos();
                match m {
                    FromRankZero::Started { .. } => started = true,
                    FromRankZero::Tile { record, pixels } => {
                        started = true;
                        records.push(record);
                        sink(
                            record,
                            TilePixels {
                                counts: pixels.counts,
                                smooth: pixels.smooth,
                            },
                        );
                    }
                    FromRankZero::Done { wall_nanos, stats } => {
                        done = Some((wall_nanos, stats));
                        break;
                    }
                    FromRankZero::Failed { message } => {
                        failure = Some(message);
                        break;
                    }
                }
            }
            Ok(Event::Closed) | Err(RecvTimeoutError::Disconnected) => break,
            Err(RecvTimeoutError::Timeout) => {
                let limit = if started { limits.tile } else { limits.startup };
                if now.saturating_sub(last) > limit.as_nanos() as u64 {
                    run.stop();
                    let what = if started {
                        format!(
                            "the MPI job sent nothing for {:.0} s with tiles left (a rank hung?)",
                            limit.as_secs_f64()
                        )
                    } else if limits.hosts {
                        format!(
                            "mpirun did not start the ranks within {:.0} s: a host of the hostfile does not answer (check that `ssh HOST true` works from here without a password for each)",
                            limit.as_secs_f64()
                        )
                    } else {
                        format!(
                            "mpirun did not start the ranks within {:.0} s",
                            limit.as_secs_f64()
                        )
                    };
                    return Err(FarmError::Mpi(format!(
                        "{what}; parlab stopped mpirun and every rank{}",
                        said(&run.tail())
                    )));
                }
            }
        }
    }
    let status = run.wait(EXIT_GRACE);
    if status.is_none() {
        run.stop();
    }
    let ok = status.is_some_and(|s| s.success());
    match (done, failure) {
        (Some((wall_nanos, stats)), None) if ok => Ok(FarmOutcome {
            completed: records.len(),
            records,
            stats: *stats,
            wall_nanos,
            cancelled: false,
        }),
        (_, Some(message)) => Err(FarmError::Mpi(message)),
        _ => {
            let status = match status {
                Some(s) => super::process::describe(s),
                None => "did not exit in time; killed".into(),
            };
            Err(FarmError::Mpi(diagnose(&status, &run.tail())))
        }
    }
}

fn said(tail: &str) -> String {
    let lines: Vec<&str> = tail
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.chars().all(|c| c == '-'))
        .collect();
    if lines.is_empty() {
        String::new()
    } else {
        let from = lines.len().saturating_sub(6);
        format!("; mpirun said: {}", lines[from..].join(" | "))
    }
}

/// What went wrong with an mpirun that exited without a complete render,
/// from its exit status and the last of its output, in one message that
/// says what to do.
pub fn diagnose(status: &str, tail: &str) -> String {
    let has = |s: &str| tail.contains(s);
    if has("attempt to run as root") {
        return "Open MPI refuses to run as root: add --allow-run-as-root to the mpirun arguments \
                (--mpirun-args \"--allow-run-as-root\", or the MPI arguments in the window's settings), \
                or set OMPI_ALLOW_RUN_AS_ROOT=1 and OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1"
            .into();
    }
    if has("not enough slots") {
        return "mpirun: not enough slots for the ranks (one master + one rank per worker): add \
                --oversubscribe to the mpirun arguments, or give hosts more slots in the hostfile"
            .into();
    }
    if let Some(line) = tail
        .lines()
        .find(|l| l.contains("mpirun noticed that process rank"))
    {
        let rank = line
            .split("process rank ")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .unwrap_or("?");
        let rest = line
            .split(" on node ")
            .nth(1)
            .unwrap_or("")
            .trim()
            .trim_end_matches('.');
        return format!(
            "MPI rank {rank} died (on node {rest}); an MPI job does not survive a lost rank, so mpirun stopped every rank{}",
            parlab_lines(tail)
        );
    }
    if has("MPI_ABORT was invoked") {
        return format!("an MPI rank aborted the job{}", parlab_lines(tail));
    }
    if has("unable to reliably start one or more daemons")
        || has("ssh:")
        || has("Host key verification failed")
        || has("Permission denied")
    {
        let ssh = tail
            .lines()
            .find(|l| {
                l.starts_with("ssh:") || l.contains("Permission denied") || l.contains("Host key")
            })
            .map_or_else(String::new, |l| format!(" ({})", l.trim()));
        return format!(
            "mpirun could not start its daemon on a host of the hostfile{ssh}: every host must be reachable by ssh without a password (ssh keys), have Open MPI installed and parlab at the same path"
        );
    }
    if has("returned\na non-zero exit code") || has("non-zero exit code") {
        return format!(
            "an MPI rank exited with an error ({status}){}",
            parlab_lines(tail)
        );
    }
    format!("mpirun failed ({status}){}", said(tail))
}

/// parlab's own messages in the output, if any.
fn parlab_lines(tail: &str) -> String {
    let lines: Vec<&str> = tail
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("parlab:") || l.starts_with("parlab "))
        .collect();
    if lines.is_empty() {
        String::new()
    } else {
        format!(": {}", lines.join(" | "))
    }
}

fn read_stdout(out: std::process::ChildStdout, tx: &Sender<Event>, tail: &Mutex<String>) {
    let mut r = BufReader::with_capacity(1 << 16, out);
    let mut line = String::new();
    loop {
        line.clear();
        match r.read_line(&mut line) {
            Ok(0) | Err(_) => {
                let _ = tx.send(Event::Closed);
                return;
            }
            Ok(_) => match decode_line(&line) {
                Some(m) => {
                    if tx.send(Event::Message(m)).is_err() {
                        return;
                    }
                }
                // A report line cut short (rank 0 was killed mid-line) is
                // not mpirun's text: leave it out of the tail.
                None if line.starts_with(LINE_PREFIX) => {}
                None => push_tail(tail, &line),
            },
        }
    }
}

fn keep_tail(r: impl BufRead, tail: &Mutex<String>) {
    for line in r.lines() {
        let Ok(line) = line else { return };
        push_tail(tail, &line);
    }
}

fn push_tail(tail: &Mutex<String>, line: &str) {
    if let Ok(mut t) = tail.lock() {
        t.push_str(line.trim_end());
        t.push('\n');
        if t.len() > STDERR_TAIL_BYTES {
            let cut = t.len() - STDERR_TAIL_BYTES;
            let cut = (cut..t.len()).find(|&i| t.is_char_boundary(i)).unwrap_or(0);
            t.drain(..cut);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips() {
        for n in 0..40usize {
            let bytes: Vec<u8> = (0..n).map(|i| (i * 37 + 11) as u8).collect();
            let text = base64_encode(&bytes);
            assert_eq!(text.len() % 4, 0);
            assert_eq!(base64_decode(&text), Some(bytes));
        }
        assert_eq!(base64_encode(b"Man"), "TWFu");
        assert_eq!(base64_encode(b"Ma"), "TWE=");
        assert_eq!(base64_decode("TW=u"), None);
        assert_eq!(base64_decode("TWF"), None);
        assert_eq!(base64_decode("T!Fu"), None);
    }

    #[test]
    fn lines_round_trip_and_other_lines_are_not_messages() {
        let m = FromRankZero::Tile {
            record: TaskRecord {
                task: 3,
                worker: 1,
                start_nanos: 10,
                end_nanos: 20,
                work: 99,
                cpu: None,
            },
            pixels: WirePixels {
                counts: vec![1, 2],
                smooth: vec![0.5, 1.5],
            },
        };
        let line = encode_line(&m).expect("encode");
        assert_eq!(decode_line(&line), Some(m.clone()));
        // A pseudo-terminal turns \n into \r\n.
        assert_eq!(decode_line(&line.replace('\n', "\r\n")), Some(m));
        assert_eq!(decode_line("Warning: something from Open MPI"), None);
    }

    #[test]
    fn mpirun_failures_become_advice() {
        let root = "mpirun has detected an attempt to run as root.\nRunning as root is *strongly* discouraged";
        assert!(diagnose("exit code 1", root).contains("--allow-run-as-root"));
        let died = "Primary job  terminated normally, but 1 process returned\na non-zero exit code.\nmpirun noticed that process rank 2 with PID 0 on node vm exited on signal 6 (Aborted).\n";
        let d = diagnose("exit code 134", died);
        assert!(d.contains("rank 2 died"), "{d}");
        assert!(d.contains("signal 6 (Aborted)"), "{d}");
        let ssh = "ssh: Could not resolve hostname nonexistent: Name or service not known\nORTE was unable to reliably start one or more daemons.";
        let d = diagnose("exit code 255", ssh);
        assert!(d.contains("Could not resolve hostname"), "{d}");
        assert!(d.contains("ssh keys"), "{d}");
        assert!(
            diagnose("exit code 1", "There are not enough slots available")
                .contains("--oversubscribe")
        );
    }

    #[test]
    fn descendants_are_found_through_proc() {
        let sh = Command::new("sh")
            .args(["-c", "sleep 30 & sleep 30; wait"])
            .spawn()
            .expect("sh");
        std::thread::sleep(Duration::from_millis(200));
        let family = descendants(sh.id());
        assert_eq!(family.len(), 2, "{family:?}");
        let mut run = Mpirun {
            child: Some(sh),
            pgid: None,
            tail: Arc::default(),
            readers: Vec::new(),
        };
        run.stop();
        for (pid, _) in family {
            // Reaped by init, or a zombie for a moment: not running either
            // way (a SIGKILL takes effect when the process next runs).
            let t0 = std::time::Instant::now();
            loop {
                let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
                let state = stat.rsplit_once(')').map_or("", |x| x.1.trim());
                if state.is_empty() || state.starts_with('Z') || state.starts_with('X') {
                    break;
                }
                assert!(t0.elapsed() < Duration::from_secs(5), "{pid}: {state}");
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }

    #[test]
    fn the_command_has_one_rank_more_than_workers() {
        let launch = MpiLaunch {
            mpirun: None,
            hostfile: Some("lab.hosts".into()),
            args: MpiLaunch::split_args(" --oversubscribe  --mca btl self,vader "),
            master_computes: false,
            startup_limit: None,
        };
        let cmd = mpirun_command(
            Path::new("/usr/bin/mpirun"),
            &launch,
            Path::new("/opt/parlab"),
            3,
            &[("K".into(), "V".into())],
            "JOB",
        );
        let args: Vec<String> = cmd
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            args,
            [
                "-np",
                "4",
                "--hostfile",
                "lab.hosts",
                "--oversubscribe",
                "--mca",
                "btl",
                "self,vader",
                "-x",
                "K",
                "/opt/parlab",
                "mpi-rank",
                "JOB"
            ]
        );
    }
}
