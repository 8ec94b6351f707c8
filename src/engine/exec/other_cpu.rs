//! How much CPU *other* processes took while something was timed: the
//! "machine busy" check every timed run goes through.
//!
//! Read from Linux's `/proc/stat` (busy ticks of all CPUs) minus this
//! process's own `utime + stime` (`/proc/self/stat`); both count in the same
//! clock ticks, so their difference over a window, divided by all ticks of
//! the window (busy and idle) times the number of CPUs, is the number of cores
//! other processes kept busy on average. Elsewhere nothing is measured and no
//! verdict is given. A run that starts processes of its own (a Python
//! interpreter and its pool workers) is measured with
//! [`OtherCpuMeter::start_counting_children`]: the CPU of the children it
//! started and waited for (`cutime + cstime`, which holds their own waited-for
//! children too) is then its own, not other processes'. Ticks are 10 ms on most systems, so windows shorter than
//! [`MIN_WINDOW_TICKS`] give no verdict either.
//!
//! This process's own threads that are not the measurement are counted too
//! (`/proc/self/task/*/stat`): the main thread, which draws the window, and
//! threads parlab did not name (the OpenGL driver's: with software OpenGL a
//! frame costs tens of milliseconds of CPU), less the thread that started the
//! meter. Their CPU competes with the workers as another program's would, so
//! it joins the verdict and is named apart ("this window's drawing").

use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Above this many cores' worth of CPU taken by other processes on average
/// (10 % of one core), the figures measured beside them are called unreliable.
pub const BUSY_THRESHOLD_CORES: f64 = 0.10;

/// Fewest ticks (all CPUs together) a window needs before it gives a verdict.
pub const MIN_WINDOW_TICKS: u64 = 20;

/// The words the window, the tables, the plots and the exports use (ASCII).
pub const BUSY_WARNING: &str = "machine busy - figures unreliable";

/// The rule, in words, for exports and tooltips.
pub const BUSY_RULE: &str = "other processes' CPU = /proc/stat busy ticks of all CPUs minus this process's \
     utime+stime, over the timed runs only; this window's drawing = utime+stime of this process's \
     main (UI) thread and of threads parlab did not name (the OpenGL driver's), over the same runs; \
     when the two together exceed 0.10 cores (10 % of one core) on average the \
     results are marked 'machine busy - figures unreliable'";

/// One reading of the counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CpuCounters {
    /// Busy ticks of all CPUs (user, nice, system, irq, softirq, steal).
    pub busy_ticks: u64,
    /// Every tick of all CPUs, idle and iowait included.
    pub all_ticks: u64,
    /// This process's utime + stime.
    pub self_ticks: u64,
    /// This process's cutime + cstime: CPU of its children that have ended
    /// and been waited for (and of their waited-for children).
    pub children_ticks: u64,
    /// CPUs counted in `/proc/stat`.
    pub num_cpus: u32,
    /// utime + stime of this process's threads that draw rather than measure
    /// (see [`drawing_ticks`]); part of `self_ticks`.
    pub drawing_ticks: u64,
}

impl CpuCounters {
    /// Reads the counters now; `None` where `/proc` is not there or unreadable.
    /// `measuring_tid` is the thread that runs the measurement (not drawing).
    pub fn read(measuring_tid: i32) -> Option<CpuCounters> {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        let own = std::fs::read_to_string("/proc/self/stat").ok()?;
        let drawing = drawing_ticks(measuring_tid);
        Self::parse(&stat, &own).map(|c| CpuCounters {
            drawing_ticks: drawing,
            ..c
        })
    }

    /// Parses the text of `/proc/stat` and `/proc/self/stat`.
    pub fn parse(proc_stat: &str, self_stat: &str) -> Option<CpuCounters> {
        let mut lines = proc_stat.lines();
        let total = lines.next()?;
        let mut fields = total.split_whitespace();
        if fields.next()? != "cpu" {
            return None;
        }
        let v: Vec<u64> = fields.map_while(|f| f.parse().ok()).collect();
        if v.len() < 4 {
            return None;
        }
        let at = |i: usize| v.get(i).copied().unwrap_or(0);
        // user nice system idle iowait irq softirq steal (guest is inside user).
        let busy_ticks = at(0) + at(1) + at(2) + at(5) + at(6) + at(7);
        let all_ticks = busy_ticks + at(3) + at(4);
        let num_cpus = lines
            .filter(|l| {
                l.strip_prefix("cpu")
                    .is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit()))
            })
            .count() as u32;
        // The command name (field 2) may hold spaces: count from the last ')'.
        let after = &self_stat[self_stat.rfind(')')? + 1..];
        let f: Vec<&str> = after.split_whitespace().collect();
        // After ')': state is field 3, so utime (14) and stime (15) are at 11 and 12.
        let utime: u64 = f.get(11)?.parse().ok()?;
        let stime: u64 = f.get(12)?.parse().ok()?;
        let child_ticks = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        Some(CpuCounters {
            busy_ticks,
            all_ticks,
            self_ticks: utime + stime,
            children_ticks: child_ticks(13) + child_ticks(14),
            num_cpus: num_cpus.max(1),
            drawing_ticks: 0,
        })
    }
}

/// A thread's name (`comm`) and its utime + stime, from the text of its
/// `/proc/<pid>/task/<tid>/stat`.
fn thread_ticks(stat: &str) -> Option<(&str, u64)> {
    let name = &stat[stat.find('(')? + 1..stat.rfind(')')?];
    let f: Vec<&str> = stat[stat.rfind(')')? + 1..].split_whitespace().collect();
    let utime: u64 = f.get(11)?.parse().ok()?;
    let stime: u64 = f.get(12)?.parse().ok()?;
    Some((name, utime + stime))
}

/// Whether a thread draws the window rather than measures: the main thread
/// (the UI's), and threads parlab did not name (`parlab-worker-3`,
/// `parlab-sweep-job` and the other background tasks are named
/// `parlab-…`; the OpenGL driver's `llvmpipe-0` and the windowing library's
/// are not), except the one running the measurement.
fn is_drawing_thread(tid: i32, name: &str, main_tid: i32, measuring_tid: i32) -> bool {
    tid != measuring_tid && (tid == main_tid || !name.starts_with("parlab-"))
}

/// utime + stime of this process's drawing threads (see [`is_drawing_thread`]),
/// now; 0 where `/proc/self/task` cannot be read.
pub fn drawing_ticks(measuring_tid: i32) -> u64 {
    let main_tid = std::process::id() as i32;
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    dir.flatten()
        .filter_map(|e| {
            let tid: i32 = e.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
            let (name, ticks) = thread_ticks(&stat)?;
            is_drawing_thread(tid, name, main_tid, measuring_tid).then_some(ticks)
        })
        .sum()
}

/// How a background job started from a window waits, before it times
/// anything, for the window's own drawing to die down. The frame that starts
/// a render is the window's most expensive one (a 4K render's image is
/// allocated and its texture made; with software OpenGL that is hundreds of
/// ms of CPU), and the window's first frames compile shaders: a render
/// timed beside them read 2–2.5× slower than `parlab render` on 2 cores, the
/// drawing taking 0.4–0.5 cores. The job waits in its own thread (workers
/// never wait for the window) until this process's drawing threads used
/// less than [`QUIET_DRAWING_CORES`] over one [`QUIET_WINDOW`], for at most
/// `limit`; past that it starts anyway and its busy verdict says why.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct QuietStart {
    /// A fixed pause first (the frame that started the job is drawn in it).
    pub pause: Duration,
    /// Then wait for quiet drawing at most this long (zero: do not wait).
    pub limit: Duration,
}

/// Each look at the drawing threads covers this long (30 ticks of 2 CPUs).
pub const QUIET_WINDOW: Duration = Duration::from_millis(150);
/// Quiet: the drawing took less than this many cores over one window.
pub const QUIET_DRAWING_CORES: f64 = 0.15;

/// What a [`QuietStart`] wait saw.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct QuietWait {
    /// From the end of the pause to the start.
    pub waited: Duration,
    /// The drawing's cores over the last window looked at.
    pub drawing_cores: Option<f64>,
    /// Quiet was seen (false: the limit ran out, or no `/proc`).
    pub quiet: bool,
}

impl QuietStart {
    /// Blocks the calling background thread (not a worker, not the UI) for
    /// the pause, then until the drawing is quiet or `limit` has passed; a
    /// cancel cuts both short.
    pub fn wait(&self, cancel: &AtomicBool) -> QuietWait {
        sleep_unless_cancelled(self.pause, cancel);
        let start = Instant::now();
        let mut seen = QuietWait::default();
        if self.limit.is_zero() {
            return seen;
        }
        let me = current_tid();
        let Some(mut before) = CpuCounters::read(me) else {
            return seen;
        };
        while !cancel.load(Ordering::Relaxed) && start.elapsed() < self.limit {
            sleep_unless_cancelled(QUIET_WINDOW, cancel);
            let Some(after) = CpuCounters::read(me) else {
                break;
            };
            seen.drawing_cores = OtherCpu::between(&before, &after).drawing_cores();
            if is_quiet(seen.drawing_cores) {
                seen.quiet = true;
                break;
            }
            before = after;
        }
        seen.waited = start.elapsed();
        seen
    }
}

/// Quiet: a window long enough to tell, with the drawing under the bar.
fn is_quiet(drawing_cores: Option<f64>) -> bool {
    drawing_cores.is_some_and(|c| c < QUIET_DRAWING_CORES)
}

/// Sleeps `total`, in short steps, unless `cancel` is set first.
pub fn sleep_unless_cancelled(total: Duration, cancel: &AtomicBool) {
    let until = Instant::now() + total;
    while !cancel.load(Ordering::Relaxed) {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        std::thread::sleep(left.min(Duration::from_millis(10)));
    }
}

/// The calling thread's id, as `/proc/self/task` names it.
pub fn current_tid() -> i32 {
    rustix::thread::gettid().as_raw_nonzero().get()
}

/// Other processes' CPU over one or more timed windows, summed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OtherCpu {
    /// Busy ticks of other processes (all CPUs minus this process).
    pub other_ticks: u64,
    /// All ticks of all CPUs over the windows.
    pub all_ticks: u64,
    pub num_cpus: u32,
    /// Windows summed.
    pub windows: u32,
    /// This process's own busy ticks over the windows (all its threads, and
    /// the children it waited for where they were counted).
    #[serde(default)]
    pub self_ticks: u64,
    /// Wall time of the windows, summed.
    #[serde(default)]
    pub elapsed_nanos: u64,
    /// Busy ticks of this process's drawing threads (the window and its
    /// OpenGL driver; part of `self_ticks`).
    #[serde(default)]
    pub drawing_ticks: u64,
}

impl OtherCpu {
    /// The window between two readings.
    pub fn between(before: &CpuCounters, after: &CpuCounters) -> OtherCpu {
        let busy = after.busy_ticks.saturating_sub(before.busy_ticks);
        let own = after.self_ticks.saturating_sub(before.self_ticks);
        OtherCpu {
            other_ticks: busy.saturating_sub(own),
            all_ticks: after.all_ticks.saturating_sub(before.all_ticks),
            num_cpus: after.num_cpus.max(1),
            windows: 1,
            self_ticks: own,
            elapsed_nanos: 0,
            drawing_ticks: after.drawing_ticks.saturating_sub(before.drawing_ticks),
        }
    }

    /// CPU time this whole process used over the windows (every thread: the
    /// workers, but also e.g. the window drawing itself), in nanoseconds;
    /// `None` when the windows were too short to say.
    pub fn own_cpu_nanos(&self) -> Option<u64> {
        (self.all_ticks >= MIN_WINDOW_TICKS && self.elapsed_nanos > 0).then(|| {
            let own_cores = self.self_ticks as f64 / self.all_ticks as f64 * self.num_cpus as f64;
            (own_cores * self.elapsed_nanos as f64) as u64
        })
    }

    /// The window between two readings of a run that started and waited for
    /// processes of its own: their CPU counts as this process's.
    pub fn between_counting_children(before: &CpuCounters, after: &CpuCounters) -> OtherCpu {
        let children = after.children_ticks.saturating_sub(before.children_ticks);
        let mut w = OtherCpu::between(before, after);
        w.other_ticks = w.other_ticks.saturating_sub(children);
        w.self_ticks += children;
        w
    }

    /// Adds another window.
    pub fn add(&mut self, other: &OtherCpu) {
        self.other_ticks += other.other_ticks;
        self.all_ticks += other.all_ticks;
        self.num_cpus = self.num_cpus.max(other.num_cpus);
        self.windows += other.windows;
        self.self_ticks += other.self_ticks;
        self.elapsed_nanos += other.elapsed_nanos;
        self.drawing_ticks += other.drawing_ticks;
    }

    /// Cores other processes kept busy on average; `None` when the windows
    /// were too short to say.
    pub fn other_cores(&self) -> Option<f64> {
        (self.all_ticks >= MIN_WINDOW_TICKS)
            .then(|| self.other_ticks as f64 / self.all_ticks as f64 * self.num_cpus as f64)
    }

    /// Cores this process's drawing threads (the window, its OpenGL driver)
    /// kept busy on average; `None` when the windows were too short to say.
    pub fn drawing_cores(&self) -> Option<f64> {
        (self.all_ticks >= MIN_WINDOW_TICKS)
            .then(|| self.drawing_ticks as f64 / self.all_ticks as f64 * self.num_cpus as f64)
    }

    /// Cores taken from the measurement: other processes and this window's drawing.
    pub fn competing_cores(&self) -> Option<f64> {
        Some(self.other_cores()? + self.drawing_cores().unwrap_or(0.0))
    }

    /// Over the threshold: the figures measured in these windows are unreliable.
    pub fn is_busy(&self) -> bool {
        self.competing_cores()
            .is_some_and(|c| c > BUSY_THRESHOLD_CORES)
    }

    /// One line for people (ASCII): the warning when busy, else the figure.
    pub fn describe(&self) -> String {
        let (Some(other), Some(drawing)) = (self.other_cores(), self.drawing_cores()) else {
            return "other processes' CPU: window too short to tell".into();
        };
        let who = if drawing >= 0.005 {
            format!("other processes took {other:.2} cores and this window's drawing {drawing:.2}")
        } else {
            format!("other processes took {other:.2} cores")
        };
        if self.is_busy() {
            format!(
                "{BUSY_WARNING}: {who} on average (threshold {BUSY_THRESHOLD_CORES:.2} together)"
            )
        } else {
            format!("quiet machine: {who} on average")
        }
    }

    /// For exports' meta.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "other_cores_mean": self.other_cores(),
            "drawing_cores_mean": self.drawing_cores(),
            "busy": self.is_busy(),
            "threshold_cores": BUSY_THRESHOLD_CORES,
            "windows": self.windows,
            "ticks": self.all_ticks,
            "rule": BUSY_RULE,
            "warning": if self.is_busy() { Some(BUSY_WARNING) } else { None },
        })
    }
}

/// Measures one window: call [`OtherCpuMeter::start`] before the timed run and
/// [`OtherCpuMeter::stop`] after it.
#[derive(Clone, Copy, Debug)]
pub struct OtherCpuMeter {
    before: Option<CpuCounters>,
    started: std::time::Instant,
    count_children: bool,
    /// The thread that started the meter: it runs the measurement.
    measuring_tid: i32,
}

impl OtherCpuMeter {
    /// Call on the thread that runs (or waits for) the measurement.
    pub fn start() -> Self {
        let measuring_tid = current_tid();
        OtherCpuMeter {
            before: CpuCounters::read(measuring_tid),
            started: std::time::Instant::now(),
            count_children: false,
            measuring_tid,
        }
    }

    /// For a run that starts processes and waits for them before it ends
    /// (`parlab py`): their CPU is the run's own (see [`OtherCpu::between_counting_children`]).
    pub fn start_counting_children() -> Self {
        OtherCpuMeter {
            count_children: true,
            ..Self::start()
        }
    }

    /// The window since `start`; `None` where nothing could be read.
    pub fn stop(self) -> Option<OtherCpu> {
        let before = self.before?;
        let elapsed_nanos = self.started.elapsed().as_nanos() as u64;
        let after = CpuCounters::read(self.measuring_tid)?;
        let window = if self.count_children {
            OtherCpu::between_counting_children(&before, &after)
        } else {
            OtherCpu::between(&before, &after)
        };
        Some(OtherCpu {
            elapsed_nanos,
            ..window
        })
    }
}

/// One line of `/proc/<pid>/stat`: the process, its parent and its CPU ticks
/// (utime + stime + cutime + cstime: its own and its waited-for children's).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProcTicks {
    pub pid: u32,
    pub parent: u32,
    pub ticks: u64,
}

impl ProcTicks {
    /// Parses the text of `/proc/<pid>/stat`.
    pub fn parse(stat: &str) -> Option<ProcTicks> {
        let pid = stat.split_whitespace().next()?.parse().ok()?;
        // The command name (field 2) may hold spaces: count from the last ')'.
        let f: Vec<&str> = stat[stat.rfind(')')? + 1..].split_whitespace().collect();
        let at = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok());
        // After ')': state is field 3, ppid 4, utime..cstime 14..17.
        Some(ProcTicks {
            pid,
            parent: u32::try_from(at(1)?).ok()?,
            ticks: at(11)? + at(12)? + at(13)? + at(14)?,
        })
    }
}

/// Ticks of `root` and of every process descended from it among `all`.
pub fn family_ticks_of(root: u32, all: &[ProcTicks]) -> u64 {
    let mut family = vec![root];
    let mut total = 0;
    let mut k = 0;
    while let Some(&pid) = family.get(k) {
        k += 1;
        for p in all {
            if p.pid == pid {
                total += p.ticks;
            }
            if p.parent == pid && !family.contains(&p.pid) {
                family.push(p.pid);
            }
        }
    }
    total
}

/// CPU ticks so far of this process and all its live descendants (Python
/// interpreters, worker processes), each with its waited-for children: a
/// child that ends and is waited for moves from its own line into its
/// parent's `cutime`, so the sum only grows. `None` without `/proc`.
pub fn family_ticks() -> Option<u64> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if !name.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        // A process may end between the listing and the read: skip it.
        if let Some(p) = std::fs::read_to_string(entry.path().join("stat"))
            .ok()
            .and_then(|t| ProcTicks::parse(&t))
        {
            all.push(p);
        }
    }
    Some(family_ticks_of(std::process::id(), &all))
}

/// The machine's CPU split between this program (with its child processes)
/// and everything else, between two readings.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CpuSplit {
    /// This process and its descendants, in percent of all CPUs (0..=100).
    pub own_pct: f64,
    /// Everything else, in percent of all CPUs.
    pub other_pct: f64,
}

/// A reading for [`CpuSplit`]: the machine's counters and the family's ticks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SplitReading {
    pub machine: CpuCounters,
    pub family_ticks: u64,
}

impl SplitReading {
    pub fn read() -> Option<SplitReading> {
        Some(SplitReading {
            machine: CpuCounters::read(current_tid())?,
            family_ticks: family_ticks()?,
        })
    }
}

impl CpuSplit {
    /// The split over the window between two readings; `None` when the
    /// window holds no ticks.
    pub fn between(before: &SplitReading, after: &SplitReading) -> Option<CpuSplit> {
        let all = after
            .machine
            .all_ticks
            .saturating_sub(before.machine.all_ticks);
        if all == 0 {
            return None;
        }
        let busy = after
            .machine
            .busy_ticks
            .saturating_sub(before.machine.busy_ticks);
        // Ticks are sampled per process and per CPU at slightly different
        // moments: the family can read a tick above the machine's busy count.
        let own = after
            .family_ticks
            .saturating_sub(before.family_ticks)
            .min(busy);
        let pct = |t: u64| 100.0 * t as f64 / all as f64;
        Some(CpuSplit {
            own_pct: pct(own),
            other_pct: pct(busy - own),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STAT_A: &str = "cpu  100 0 50 1000 10 0 0 0 0 0\ncpu0 50 0 25 500 5 0 0 0 0 0\ncpu1 50 0 25 500 5 0 0 0 0 0\nintr 1\n";
    const STAT_B: &str = "cpu  200 0 60 1080 10 0 0 0 0 0\ncpu0 100 0 30 540 5 0 0 0 0 0\ncpu1 100 0 30 540 5 0 0 0 0 0\nintr 1\n";

    fn own(utime: u64, stime: u64) -> String {
        own_and_children(utime, stime, 0, 0)
    }

    fn own_and_children(utime: u64, stime: u64, cutime: u64, cstime: u64) -> String {
        format!(
            "4242 (parlab (x) y) R 1 1 1 0 -1 4194304 100 0 0 0 {utime} {stime} {cutime} {cstime} 20 0 3 0 1 1 1"
        )
    }

    #[test]
    fn parses_proc_text_by_hand() {
        let c = CpuCounters::parse(STAT_A, &own(30, 5)).expect("parse");
        assert_eq!(c.busy_ticks, 150);
        assert_eq!(c.all_ticks, 1160);
        assert_eq!(c.self_ticks, 35);
        assert_eq!(c.num_cpus, 2);
        assert_eq!(c.children_ticks, 0);
        let c = CpuCounters::parse(STAT_A, &own_and_children(30, 5, 7, 2)).expect("parse");
        assert_eq!((c.self_ticks, c.children_ticks), (35, 9));
        assert_eq!(CpuCounters::parse("nonsense", &own(1, 1)), None);
    }

    #[test]
    fn waited_for_children_are_own_cpu_when_counted() {
        let a = CpuCounters::parse(STAT_A, &own_and_children(30, 5, 0, 0)).expect("a");
        // 110 busy ticks: 10 ours, 80 of a child we waited for, 20 others'.
        let b = CpuCounters::parse(STAT_B, &own_and_children(38, 7, 70, 10)).expect("b");
        let plain = OtherCpu::between(&a, &b);
        assert_eq!(
            plain.other_ticks, 100,
            "the child looks like another process"
        );
        let counted = OtherCpu::between_counting_children(&a, &b);
        assert_eq!((counted.other_ticks, counted.self_ticks), (20, 90));
    }

    #[test]
    fn a_child_run_and_waited_for_is_counted_as_ours() {
        if CpuCounters::read(current_tid()).is_none() {
            return; // No /proc: nothing is measured here.
        }
        let meter = OtherCpuMeter::start_counting_children();
        let plain = OtherCpuMeter::start();
        // A child that burns a fixed amount of CPU (not of wall time).
        let status = std::process::Command::new("sh")
            .args(["-c", "i=0; while [ $i -lt 400000 ]; do i=$((i+1)); done"])
            .status()
            .expect("sh runs");
        assert!(status.success());
        let (counted, plain) = (meter.stop().expect("read"), plain.stop().expect("read"));
        // The child's CPU (at least 5 ticks, 50 ms) is ours when counted.
        assert!(
            counted.self_ticks >= plain.self_ticks + 5,
            "counted {counted:?} vs plain {plain:?}"
        );
    }

    #[test]
    fn other_cores_by_hand() {
        let a = CpuCounters::parse(STAT_A, &own(30, 5)).expect("a");
        // 110 busy ticks in the window, 60 of them ours: 50 of 190 ticks on 2 CPUs.
        let b = CpuCounters::parse(STAT_B, &own(80, 15)).expect("b");
        let mut w = OtherCpu::between(&a, &b);
        assert_eq!((w.other_ticks, w.all_ticks), (50, 190));
        // 60 own ticks of 190 on 2 CPUs over 1 s: 0.63 cores, 632 ms.
        w.elapsed_nanos = 1_000_000_000;
        let own_nanos = w.own_cpu_nanos().expect("long enough");
        assert!(
            (own_nanos as f64 - 120.0 / 190.0 * 1e9).abs() < 1e3,
            "{own_nanos}"
        );
        let cores = w.other_cores().expect("long enough");
        assert!((cores - 100.0 / 190.0).abs() < 1e-12);
        assert!(w.is_busy());
        assert!(w.describe().starts_with(BUSY_WARNING));
        // All the busy time ours: quiet.
        let b = CpuCounters::parse(STAT_B, &own(130, 15)).expect("b");
        let w = OtherCpu::between(&a, &b);
        assert_eq!(w.other_ticks, 0);
        assert!(!w.is_busy());
        // Too short to tell: no verdict.
        let short = OtherCpu {
            other_ticks: 5,
            all_ticks: 10,
            num_cpus: 2,
            windows: 1,
            ..OtherCpu::default()
        };
        assert_eq!(short.other_cores(), None);
        assert!(!short.is_busy());
    }

    #[test]
    fn drawing_threads_are_the_main_one_and_the_unnamed() {
        let stat = "77 (llvmpipe-0) S 1 1 1 0 -1 0 0 0 0 0 40 2 0 0 20 0 3 0 1 1 1";
        assert_eq!(thread_ticks(stat), Some(("llvmpipe-0", 42)));
        assert_eq!(thread_ticks("nonsense"), None);
        let (main, me) = (100, 105);
        assert!(is_drawing_thread(100, "parlab", main, me), "the UI thread");
        assert!(is_drawing_thread(101, "llvmpipe-0", main, me));
        assert!(
            is_drawing_thread(102, "parlab", main, me),
            "unnamed, inherited"
        );
        assert!(!is_drawing_thread(103, "parlab-worker-0", main, me));
        assert!(!is_drawing_thread(104, "parlab-sweep-jo", main, me));
        assert!(
            !is_drawing_thread(105, "parlab", main, me),
            "the measuring one"
        );
        assert!(
            !is_drawing_thread(100, "parlab", main, 100),
            "main measuring"
        );
    }

    #[test]
    fn a_foreign_busy_thread_is_counted_as_drawing_and_a_worker_is_not() {
        if CpuCounters::read(current_tid()).is_none() {
            return; // No /proc: nothing is measured here.
        }
        // The thread burns CPU, then waits until the meter has stopped: a
        // thread that has ended is no longer in /proc/self/task.
        let burn = |name: &str| {
            let meter = OtherCpuMeter::start();
            let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
            let (burnt_tx, burnt_rx) = std::sync::mpsc::channel::<()>();
            let handle = std::thread::Builder::new()
                .name(name.into())
                .spawn(move || {
                    let t = std::time::Instant::now();
                    let mut x = 1u64;
                    while t.elapsed() < std::time::Duration::from_millis(500) {
                        x = std::hint::black_box(
                            x.wrapping_mul(6364136223846793005).wrapping_add(1),
                        );
                    }
                    let _ = burnt_tx.send(());
                    let _ = done_rx.recv();
                })
                .expect("spawn");
            burnt_rx.recv().expect("burnt");
            let window = meter.stop().expect("read");
            done_tx.send(()).expect("signal");
            handle.join().expect("join");
            window
        };
        // A thread named like a worker: the measurement's own, not drawing.
        let worker = burn("parlab-worker-0");
        // Named by someone else (as the OpenGL driver names its threads).
        let unnamed = burn("llvmpipe-test");
        assert!(
            unnamed.drawing_ticks >= worker.drawing_ticks + 5,
            "unnamed {unnamed:?} vs worker {worker:?}"
        );
    }

    #[test]
    fn proc_stat_lines_parse_with_spaces_in_the_name() {
        let line = "4242 (my (odd) prog) S 17 4242 4242 0 -1 4194560 1 0 0 0 \
                    30 12 5 3 20 0 1 0 100 0 0";
        let p = ProcTicks::parse(line).expect("parse");
        assert_eq!(
            p,
            ProcTicks {
                pid: 4242,
                parent: 17,
                ticks: 30 + 12 + 5 + 3
            }
        );
        assert_eq!(ProcTicks::parse("garbage"), None);
    }

    #[test]
    fn the_family_is_the_root_and_every_descendant() {
        let p = |pid, parent, ticks| ProcTicks { pid, parent, ticks };
        let all = [
            p(1, 0, 1000),
            p(10, 1, 5),   // root
            p(11, 10, 7),  // child
            p(12, 11, 11), // grandchild
            p(13, 1, 100), // a stranger
        ];
        assert_eq!(family_ticks_of(10, &all), 5 + 7 + 11);
        assert_eq!(family_ticks_of(13, &all), 100);
    }

    #[test]
    fn the_split_gives_the_rest_of_the_busy_ticks_to_other_programs() {
        let reading = |busy, all, family| SplitReading {
            machine: CpuCounters {
                busy_ticks: busy,
                all_ticks: all,
                num_cpus: 2,
                ..CpuCounters::default()
            },
            family_ticks: family,
        };
        let s = CpuSplit::between(&reading(100, 1000, 10), &reading(300, 1200, 30)).expect("ticks");
        assert!((s.own_pct - 10.0).abs() < 1e-9);
        assert!((s.other_pct - 90.0).abs() < 1e-9);
        assert_eq!(
            CpuSplit::between(&reading(1, 1, 1), &reading(1, 1, 1)),
            None
        );
    }

    #[test]
    fn this_process_is_in_its_own_family() {
        if std::path::Path::new("/proc/self/stat").exists() {
            let spin = std::time::Instant::now();
            while spin.elapsed() < std::time::Duration::from_millis(50) {
                std::hint::black_box(0);
            }
            assert!(family_ticks().expect("proc") > 0);
        }
    }

    #[test]
    fn quiet_needs_a_verdict_under_the_bar() {
        assert!(is_quiet(Some(0.07)), "one idle frame");
        assert!(!is_quiet(Some(0.44)), "start-up drawing");
        assert!(!is_quiet(None), "a window too short to tell");
    }

    #[test]
    fn a_quiet_wait_ends_at_its_limit_or_a_cancel() {
        let cancel = AtomicBool::new(false);
        let none = QuietStart::default().wait(&cancel);
        assert_eq!(none.waited, Duration::ZERO, "no limit, no wait");
        // Whatever the drawing (this process's unnamed test threads count),
        // the wait ends by its limit.
        let limited = QuietStart {
            pause: Duration::ZERO,
            limit: Duration::from_millis(400),
        }
        .wait(&cancel);
        assert!(limited.waited < Duration::from_secs(5), "{limited:?}");
        cancel.store(true, Ordering::Relaxed);
        let cancelled = QuietStart {
            pause: Duration::from_secs(3600),
            limit: Duration::from_secs(3600),
        }
        .wait(&cancel);
        assert!(!cancelled.quiet, "a cancel is not quiet");
    }
}
