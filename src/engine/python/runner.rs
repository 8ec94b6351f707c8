//! Runs a Python script under parlab's tracer: a private temporary folder
//! with the tracer, the interpreter in its own process group, stdout and
//! stderr captured apart, a timeout, and the whole group killed on timeout,
//! cancel or drop.

use crate::engine::python::lanes::LaneTrace;
use crate::engine::python::programs::Program;
use crate::engine::python::records::{Record, parse_records};
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The tracer module, written to the run's private folder.
pub const TRACER_SOURCE: &str = include_str!("../../../assets/python/parlab_trace.py");
/// Loads the tracer in every Python process that sees the private folder.
pub const SITECUSTOMIZE_SOURCE: &str = include_str!("../../../assets/python/sitecustomize.py");
/// Environment variable naming the records file.
pub const RECORDS_ENV: &str = "PARLAB_TRACE_OUT";
/// Environment variable listing extra task functions (`--task`).
pub const TASKS_ENV: &str = "PARLAB_TRACE_TASKS";
/// Environment variable forcing the multiprocessing start method.
pub const START_METHOD_ENV: &str = "PARLAB_START_METHOD";
/// Default timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);
/// Output kept per stream; more is dropped (and said so).
pub const MAX_OUTPUT_BYTES: usize = 8 << 20;
/// The Debian package that provides `python3`.
pub const PYTHON_PACKAGE: &str = "python3";

/// How multiprocessing starts its processes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum StartMethod {
    Fork,
    Spawn,
    Forkserver,
}

impl StartMethod {
    pub const ALL: [StartMethod; 3] = [
        StartMethod::Fork,
        StartMethod::Spawn,
        StartMethod::Forkserver,
    ];

    pub fn name(self) -> &'static str {
        match self {
            StartMethod::Fork => "fork",
            StartMethod::Spawn => "spawn",
            StartMethod::Forkserver => "forkserver",
        }
    }
}

impl std::str::FromStr for StartMethod {
    type Err = super::PythonError;
    fn from_str(s: &str) -> Result<Self, super::PythonError> {
        StartMethod::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| super::PythonError::StartMethod {
                input: s.to_string(),
            })
    }
}

/// The script to run: a file, or one of the shipped programs.
#[derive(Clone, Debug, PartialEq)]
pub enum Script {
    File(PathBuf),
    Shipped(&'static Program),
}

impl Script {
    pub fn display_name(&self) -> String {
        match self {
            Script::File(p) => p.display().to_string(),
            Script::Shipped(p) => p.file_name(),
        }
    }
}

/// What to run and how.
#[derive(Clone, Debug, PartialEq)]
pub struct RunPlan {
    /// The interpreter; `None` is `python3` on the PATH.
    pub python: Option<PathBuf>,
    pub script: Script,
    /// The script's own arguments.
    pub args: Vec<String>,
    pub timeout: Duration,
    /// Forces multiprocessing's start method (the script's default otherwise).
    pub start_method: Option<StartMethod>,
    /// Extra functions to trace by name.
    pub tasks: Vec<String>,
}

impl RunPlan {
    pub fn new(script: Script) -> Self {
        RunPlan {
            python: None,
            script,
            args: Vec::new(),
            timeout: DEFAULT_TIMEOUT,
            start_method: None,
            tasks: Vec::new(),
        }
    }
}

/// Which output stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// How the script's run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Ending {
    /// The interpreter exited with this code (non-zero: the script failed).
    Exited(i32),
    /// The interpreter was killed by a signal it did not get from parlab.
    Signalled(i32),
    /// The timeout passed: parlab killed the process group.
    TimedOut,
    /// Cancelled (or the window closed): parlab killed the process group.
    Cancelled,
}

/// The interpreter, as the tracer reported it.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PythonInfo {
    pub version: String,
    pub executable: String,
    /// False on a free-threaded build running without the GIL.
    pub gil_enabled: bool,
    pub cpus: u32,
    pub start_method: String,
}

/// Everything a run produced.
#[derive(Clone, Debug, PartialEq)]
pub struct RunOutcome {
    pub ending: Ending,
    pub timeout: Duration,
    /// The process group parlab created (its leader's pid).
    pub process_group: u32,
    pub stdout: String,
    pub stderr: String,
    /// Whether output beyond [`MAX_OUTPUT_BYTES`] was dropped.
    pub output_truncated: bool,
    pub trace: LaneTrace,
    pub python: Option<PythonInfo>,
    /// Record lines that could not be read (a process killed mid-write).
    pub bad_records: usize,
    /// From starting the interpreter to seeing it exit.
    pub wall_nanos: u64,
}

impl RunOutcome {
    /// True when the script ran to the end and exited with 0.
    pub fn succeeded(&self) -> bool {
        self.ending == Ending::Exited(0)
    }

    /// One sentence on how the run ended.
    pub fn ending_message(&self) -> String {
        match self.ending {
            Ending::Exited(0) => "the script finished (exit code 0)".into(),
            Ending::Exited(code) => format!("the script failed with exit code {code}"),
            Ending::Signalled(sig) => format!("the script was killed by signal {sig}"),
            Ending::TimedOut => format!(
                "timed out after {} s: parlab killed the script's process group {} (the script and every process it started); the trace so far is kept",
                self.timeout.as_secs_f64(),
                self.process_group
            ),
            Ending::Cancelled => format!(
                "cancelled: parlab killed the script's process group {}; the trace so far is kept",
                self.process_group
            ),
        }
    }
}

/// Why a script could not be run at all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunError {
    /// No interpreter at the given path (or `python3` not on the PATH).
    NoInterpreter(String),
    /// The script file does not exist.
    NoScript(String),
    /// Anything else (temporary folder, pipes…).
    Io(String),
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::NoInterpreter(m) | RunError::NoScript(m) | RunError::Io(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for RunError {}

/// The interpreter's name or path, for messages.
fn interpreter(plan: &RunPlan) -> PathBuf {
    plan.python
        .clone()
        .unwrap_or_else(|| PathBuf::from("python3"))
}

fn no_interpreter(plan: &RunPlan, err: &std::io::Error) -> RunError {
    match &plan.python {
        None => RunError::NoInterpreter(format!(
            "python3 was not found on the PATH ({err}): install Python 3 (Debian/Ubuntu: `sudo apt install {PYTHON_PACKAGE}`) or name an interpreter with --python PATH"
        )),
        Some(p) => RunError::NoInterpreter(format!(
            "--python {}: cannot run this interpreter ({err}); install Python 3 (Debian/Ubuntu: `sudo apt install {PYTHON_PACKAGE}`) or give the path of an existing python3",
            p.display()
        )),
    }
}

/// A private folder removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Result<Self, RunError> {
        let base = std::env::temp_dir();
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        for attempt in 0..100u32 {
            let dir = base.join(format!(
                "parlab-py-{}-{stamp}-{attempt}",
                std::process::id()
            ));
            let mut builder = std::fs::DirBuilder::new();
            #[cfg(unix)]
            {
                use std::os::unix::fs::DirBuilderExt;
                builder.mode(0o700);
            }
            match builder.create(&dir) {
                Ok(()) => return Ok(TempDir(dir)),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => {
                    return Err(RunError::Io(format!(
                        "could not create a private folder in {}: {e}",
                        base.display()
                    )));
                }
            }
        }
        Err(RunError::Io(format!(
            "could not create a private folder in {}",
            base.display()
        )))
    }

    fn write(&self, name: &str, text: &str) -> Result<PathBuf, RunError> {
        let path = self.0.join(name);
        std::fs::write(&path, text)
            .map_err(|e| RunError::Io(format!("could not write {}: {e}", path.display())))?;
        Ok(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// CLOCK_MONOTONIC in nanoseconds: the clock of Python's `time.monotonic_ns`.
#[cfg(unix)]
pub fn monotonic_nanos() -> u64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    (t.tv_sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(t.tv_nsec as u64)
}

/// Puts the child in a process group of its own (its pid is the group id).
#[cfg(unix)]
fn own_process_group(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    cmd.process_group(0);
}

/// Kills the child's whole process group (the script and everything it
/// started that did not leave the group).
#[cfg(unix)]
fn kill_group(child: &Child) {
    let pgid = rustix::process::Pid::from_child(child);
    // ESRCH once every member is gone: nothing left to kill.
    let _ = rustix::process::kill_process_group(pgid, rustix::process::Signal::KILL);
}

#[cfg(not(unix))]
pub fn monotonic_nanos() -> u64 {
    0
}

#[cfg(not(unix))]
fn own_process_group(_cmd: &mut Command) {}

#[cfg(not(unix))]
fn kill_group(child: &Child) {
    let _ = child.id();
}

/// Runs the plan to its end (or timeout, or until `cancel` is set), passing
/// output to `on_output` as it arrives. Blocks: call it from a background
/// thread, never from the UI.
pub fn run(
    plan: &RunPlan,
    cancel: &AtomicBool,
    on_output: &mut dyn FnMut(Stream, &str),
) -> Result<RunOutcome, RunError> {
    if cfg!(not(unix)) {
        return Err(RunError::Io(
            "the Python lab needs Linux or another Unix (process groups)".into(),
        ));
    }
    let dir = TempDir::new()?;
    dir.write("parlab_trace.py", TRACER_SOURCE)?;
    dir.write("sitecustomize.py", SITECUSTOMIZE_SOURCE)?;
    let records_path = dir.0.join("records.jsonl");
    let script_path = match &plan.script {
        Script::File(p) => {
            if !p.is_file() {
                return Err(RunError::NoScript(format!(
                    "{}: no such script (shipped programs: {})",
                    p.display(),
                    crate::engine::python::programs::programs()
                        .map(|p| p.name)
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
            std::path::absolute(p).unwrap_or_else(|_| p.clone())
        }
        Script::Shipped(program) => dir.write(&program.file_name(), program.source)?,
    };
    let mut python_path = std::ffi::OsString::from(dir.0.as_os_str());
    if let Some(existing) = std::env::var_os("PYTHONPATH").filter(|p| !p.is_empty()) {
        python_path.push(":");
        python_path.push(existing);
    }
    let mut cmd = Command::new(interpreter(plan));
    cmd.arg("-c")
        .arg("import parlab_trace; parlab_trace.main()")
        .arg(&script_path)
        .args(&plan.args)
        .env("PYTHONPATH", python_path)
        .env(RECORDS_ENV, &records_path)
        .env("PYTHONUNBUFFERED", "1")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env(TASKS_ENV, plan.tasks.join(","))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    match plan.start_method {
        Some(m) => cmd.env(START_METHOD_ENV, m.name()),
        None => cmd.env_remove(START_METHOD_ENV),
    };
    if let Some(parent) = script_path.parent() {
        cmd.current_dir(match &plan.script {
            Script::File(_) => std::env::current_dir().unwrap_or_else(|_| parent.to_path_buf()),
            Script::Shipped(_) => parent.to_path_buf(),
        });
    }
    own_process_group(&mut cmd);

    let origin = monotonic_nanos();
    let started = Instant::now();
    let child = cmd.spawn().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied => {
            no_interpreter(plan, &e)
        }
        _ => RunError::Io(format!(
            "could not start {}: {e}",
            interpreter(plan).display()
        )),
    })?;
    let process_group = child.id();
    let mut guard = GroupGuard(child);
    let (tx, rx) = mpsc::channel::<(Stream, Vec<u8>)>();
    let mut readers = 0;
    if let Some(out) = guard.0.stdout.take() {
        spawn_reader(out, Stream::Stdout, tx.clone());
        readers += 1;
    }
    if let Some(err) = guard.0.stderr.take() {
        spawn_reader(err, Stream::Stderr, tx.clone());
        readers += 1;
    }
    drop(tx);
    let mut collected = Collected::default();
    let deadline = started + plan.timeout;
    let ending = loop {
        collected.drain(&rx, Duration::from_millis(20), on_output, &mut readers);
        match guard.0.try_wait() {
            Ok(Some(status)) => break ending_of(status),
            Ok(None) => {}
            Err(e) => return Err(RunError::Io(format!("could not wait for the script: {e}"))),
        }
        if cancel.load(Ordering::Relaxed) {
            guard.kill_and_reap();
            break Ending::Cancelled;
        }
        if Instant::now() >= deadline {
            guard.kill_and_reap();
            break Ending::TimedOut;
        }
    };
    let end = monotonic_nanos();
    let wall_nanos = started.elapsed().as_nanos() as u64;
    // Whatever the script left behind in its group goes with it.
    drop(guard);
    // The pipes close once every process holding them is gone.
    let until = Instant::now() + Duration::from_secs(2);
    while readers > 0 && Instant::now() < until {
        collected.drain(&rx, Duration::from_millis(20), on_output, &mut readers);
    }

    let bytes = std::fs::read(&records_path).unwrap_or_default();
    let parsed = parse_records(&String::from_utf8_lossy(&bytes));
    let python = parsed.records.iter().find_map(|r| match r {
        Record::Main {
            python,
            exe,
            gil,
            cpus,
            method,
            ..
        } => Some(PythonInfo {
            version: python.clone(),
            executable: exe.clone(),
            gil_enabled: *gil,
            cpus: *cpus,
            start_method: method.clone(),
        }),
        _ => None,
    });
    let trace = LaneTrace::from_records(&parsed.records, origin, end);
    Ok(RunOutcome {
        ending,
        timeout: plan.timeout,
        process_group,
        stdout: String::from_utf8_lossy(&collected.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&collected.stderr).into_owned(),
        output_truncated: collected.truncated,
        trace,
        python,
        bad_records: parsed.bad_lines,
        wall_nanos,
    })
}

/// Owns the child and kills its process group when dropped (normal end,
/// error, panic or cancel alike), then reaps it.
struct GroupGuard(Child);

impl GroupGuard {
    fn kill_and_reap(&mut self) {
        kill_group(&self.0);
        let _ = self.0.wait();
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        self.kill_and_reap();
    }
}

fn ending_of(status: std::process::ExitStatus) -> Ending {
    if let Some(code) = status.code() {
        return Ending::Exited(code);
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            return Ending::Signalled(sig);
        }
    }
    Ending::Exited(-1)
}

#[derive(Default)]
struct Collected {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    truncated: bool,
}

impl Collected {
    /// Takes what the readers sent within `wait`; an empty chunk means a
    /// reader reached the end of its pipe.
    fn drain(
        &mut self,
        rx: &mpsc::Receiver<(Stream, Vec<u8>)>,
        wait: Duration,
        on_output: &mut dyn FnMut(Stream, &str),
        readers: &mut usize,
    ) {
        let mut next = rx.recv_timeout(wait).ok();
        while let Some((stream, chunk)) = next {
            if chunk.is_empty() {
                *readers = readers.saturating_sub(1);
            } else {
                on_output(stream, &String::from_utf8_lossy(&chunk));
                let buf = match stream {
                    Stream::Stdout => &mut self.stdout,
                    Stream::Stderr => &mut self.stderr,
                };
                let room = MAX_OUTPUT_BYTES.saturating_sub(buf.len());
                if chunk.len() > room {
                    self.truncated = true;
                }
                buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
            next = rx.try_recv().ok();
        }
    }
}

fn spawn_reader(
    mut pipe: impl Read + Send + 'static,
    stream: Stream,
    tx: mpsc::Sender<(Stream, Vec<u8>)>,
) {
    let name = match stream {
        Stream::Stdout => "parlab-py-stdout",
        Stream::Stderr => "parlab-py-stderr",
    };
    let spawned = std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            let mut buf = vec![0u8; 16 * 1024];
            loop {
                match pipe.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if tx.send((stream, buf[..n].to_vec())).is_err() {
                            return;
                        }
                    }
                }
            }
            let _ = tx.send((stream, Vec::new()));
        });
    // Without a reader thread the pipe is simply not read; the run goes on.
    drop(spawned);
}

/// Whether `path` looks like a script file rather than a shipped name.
pub fn is_path_like(s: &str) -> bool {
    s.contains('/') || Path::new(s).exists()
}
