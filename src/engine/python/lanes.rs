//! A trace with one lane per process or thread: what a Python run (or an
//! imported Chrome trace) becomes, and what the timeline draws.
//!
//! [`LaneTrace::to_trace`] turns it into the engine's [`Trace`] (worker =
//! lane), so utilisation, imbalance and per-lane busy time come from the
//! same [`Trace::stats`] the rest of parlab uses.

use crate::engine::exec::trace::{TaskRecord, Trace};
use crate::engine::python::records::{Origin, Record};
use crate::engine::util::stats::median;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// One process or thread.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lane {
    pub pid: u64,
    pub tid: u64,
    /// `MainProcess`, `ForkPoolWorker-3`, … (empty when unknown).
    pub process_name: String,
    /// `MainThread`, `Thread-2`, … (empty when unknown).
    pub thread_name: String,
}

impl Lane {
    /// `ForkPoolWorker-1 (pid 812)`, or `MainProcess / Thread-2 (tid 815)`
    /// for a thread other than a process's main one.
    pub fn label(&self) -> String {
        let process = if self.process_name.is_empty() {
            format!("pid {}", self.pid)
        } else {
            self.process_name.clone()
        };
        if self.is_main_thread() {
            format!("{process} (pid {})", self.pid)
        } else if self.thread_name.is_empty() {
            format!("{process} / tid {}", self.tid)
        } else {
            format!("{process} / {} (tid {})", self.thread_name, self.tid)
        }
    }

    /// Whether this lane is its process's main thread (on Linux the main
    /// thread's native id is the pid; an import without a tid counts too).
    pub fn is_main_thread(&self) -> bool {
        self.pid == self.tid || self.thread_name.is_empty() && self.tid == 0
    }

    /// The short name a timeline lane shows: `ForkPoolWorker-3 pid 4812`
    /// for a process's main thread, `Thread-2 tid 4813` for another thread
    /// (`pid N` / `tid N` alone where no name was recorded).
    pub fn short_label(&self) -> String {
        let (name, id) = if self.is_main_thread() {
            (&self.process_name, format!("pid {}", self.pid))
        } else {
            (&self.thread_name, format!("tid {}", self.tid))
        };
        if name.is_empty() {
            id
        } else {
            format!("{name} {id}")
        }
    }
}

/// One traced call.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LaneTask {
    /// Index into [`LaneTrace::lanes`].
    pub lane: u32,
    /// The task's index as the program numbered it (item index for map).
    pub index: u64,
    /// Function name (`is_prime`).
    pub name: String,
    /// Short repr of the argument.
    pub arg: String,
    /// Nanoseconds since the run's origin.
    pub start_nanos: u64,
    pub end_nanos: u64,
    /// CPU time of the thread during the task, where measured.
    pub cpu_nanos: Option<u64>,
    /// Which hook saw it (`Pool.map`, `Thread`, …; `import` for imported traces).
    pub source: String,
    /// False when the task raised.
    pub ok: bool,
}

impl LaneTask {
    pub fn wall_nanos(&self) -> u64 {
        self.end_nanos.saturating_sub(self.start_nanos)
    }

    /// CPU time / wall time of this task (None without a CPU time or a duration).
    pub fn cpu_per_wall(&self) -> Option<f64> {
        let wall = self.wall_nanos();
        match self.cpu_nanos {
            Some(cpu) if wall > 0 => Some(cpu as f64 / wall as f64),
            _ => None,
        }
    }
}

/// A worker process's start-up: from its parent's `start()` call to the
/// child being ready to run its target.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Startup {
    pub lane: u32,
    /// `fork`, `spawn` or `forkserver`.
    pub method: String,
    pub start_nanos: u64,
    pub end_nanos: u64,
    /// False when the process never became ready (killed first, e.g. a pool
    /// closed before a slow worker started): the bar runs to the end of the
    /// trace and the start-up figures leave it out.
    #[serde(default = "yes")]
    pub ready: bool,
}

fn yes() -> bool {
    true
}

impl Startup {
    pub fn nanos(&self) -> u64 {
        self.end_nanos.saturating_sub(self.start_nanos)
    }
}

/// A pool or executor creation.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PoolCreated {
    pub lane: u32,
    /// `process` or `thread`.
    pub kind: String,
    pub num_workers: u32,
    pub start_nanos: u64,
    pub end_nanos: u64,
}

/// Every lane and task of one run. Times are nanoseconds since the origin.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LaneTrace {
    pub lanes: Vec<Lane>,
    /// Sorted by start time.
    pub tasks: Vec<LaneTask>,
    pub startups: Vec<Startup>,
    pub pools: Vec<PoolCreated>,
    pub wall_nanos: u64,
}

/// One lane's figures.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LaneSummary {
    pub label: String,
    pub pid: u64,
    pub tid: u64,
    pub tasks: usize,
    pub busy_nanos: u64,
    /// CPU time inside tasks, where measured.
    pub cpu_nanos: u64,
}

/// The figures a run's summary prints.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LaneTraceSummary {
    pub tasks: usize,
    /// Distinct process ids among lanes with tasks.
    pub task_processes: usize,
    /// Distinct (process, thread) pairs among lanes with tasks.
    pub task_threads: usize,
    pub lanes: Vec<LaneSummary>,
    pub wall_nanos: u64,
    /// Busy time of all lanes / (wall × lanes with tasks), 0..=1.
    pub utilisation: f64,
    /// Largest lane busy time / mean, over lanes with tasks; 1.0 is perfect balance.
    pub imbalance: f64,
    /// Sum of task CPU time / sum of task wall time (None without CPU times).
    pub cpu_per_wall: Option<f64>,
    /// Median over tasks of CPU time / wall time.
    pub cpu_per_wall_median: Option<f64>,
    /// Median start-up per start method, ms: (method, median, count).
    pub startup_ms: Vec<(String, f64, usize)>,
}

impl LaneTrace {
    /// The engine's trace: worker = lane index, task = position by start
    /// time, work = CPU nanoseconds (0 where not measured).
    pub fn to_trace(&self) -> Trace {
        Trace {
            num_workers: self.lanes.len() as u32,
            wall_nanos: self.wall_nanos,
            records: self
                .tasks
                .iter()
                .enumerate()
                .map(|(i, t)| TaskRecord {
                    task: i as u32,
                    worker: t.lane,
                    start_nanos: t.start_nanos,
                    end_nanos: t.end_nanos,
                    work: t.cpu_nanos.unwrap_or(0),
                    cpu: None,
                })
                .collect(),
        }
    }

    /// Tasks, lanes, busy time, utilisation, imbalance, CPU/wall, start-up.
    pub fn summary(&self) -> LaneTraceSummary {
        let stats = self.to_trace().stats();
        let mut lanes: Vec<LaneSummary> = self
            .lanes
            .iter()
            .map(|l| LaneSummary {
                label: l.label(),
                pid: l.pid,
                tid: l.tid,
                ..Default::default()
            })
            .collect();
        for t in &self.tasks {
            if let Some(l) = lanes.get_mut(t.lane as usize) {
                l.tasks += 1;
                l.busy_nanos += t.wall_nanos();
                l.cpu_nanos += t.cpu_nanos.unwrap_or(0);
            }
        }
        let working: Vec<&LaneSummary> = lanes.iter().filter(|l| l.tasks > 0).collect();
        let mut pids: Vec<u64> = working.iter().map(|l| l.pid).collect();
        pids.sort_unstable();
        pids.dedup();
        let busy: u64 = working.iter().map(|l| l.busy_nanos).sum();
        let capacity = self.wall_nanos as f64 * working.len() as f64;
        let utilisation = if capacity > 0.0 {
            (busy as f64 / capacity).min(1.0)
        } else {
            0.0
        };
        let mean = if working.is_empty() {
            0.0
        } else {
            busy as f64 / working.len() as f64
        };
        let max = working.iter().map(|l| l.busy_nanos).max().unwrap_or(0) as f64;
        let measured: Vec<&LaneTask> = self
            .tasks
            .iter()
            .filter(|t| t.cpu_nanos.is_some())
            .collect();
        let measured_wall: u64 = measured.iter().map(|t| t.wall_nanos()).sum();
        let measured_cpu: u64 = measured.iter().filter_map(|t| t.cpu_nanos).sum();
        let ratios: Vec<f64> = measured.iter().filter_map(|t| t.cpu_per_wall()).collect();
        let ready: Vec<&Startup> = self.startups.iter().filter(|s| s.ready).collect();
        let mut methods: Vec<String> = ready.iter().map(|s| s.method.clone()).collect();
        methods.sort();
        methods.dedup();
        let startup_ms = methods
            .into_iter()
            .map(|m| {
                let ms: Vec<f64> = ready
                    .iter()
                    .filter(|s| s.method == m)
                    .map(|s| s.nanos() as f64 / 1e6)
                    .collect();
                (m, median(&ms), ms.len())
            })
            .collect();
        LaneTraceSummary {
            tasks: self.tasks.len(),
            task_processes: pids.len(),
            task_threads: working.len(),
            wall_nanos: stats.wall_nanos,
            utilisation,
            imbalance: if mean > 0.0 { max / mean } else { 1.0 },
            cpu_per_wall: (measured_wall > 0).then(|| measured_cpu as f64 / measured_wall as f64),
            cpu_per_wall_median: (!ratios.is_empty()).then(|| median(&ratios)),
            startup_ms,
            lanes,
        }
    }

    /// Builds the trace of a run from the tracer's records. `origin` is the
    /// monotonic time (ns) at which parlab started the interpreter and
    /// `end` the time it saw the interpreter exit.
    pub fn from_records(records: &[Record], origin: u64, end: u64) -> LaneTrace {
        let rel = |t: u64| t.saturating_sub(origin);
        let mut builder = LaneBuilder::default();
        // The main process first, so its lane is lane 0.
        for r in records {
            if let Record::Main { who, .. } = r {
                builder.lane(who);
            }
        }
        let mut ordered: Vec<&Record> = records.iter().collect();
        ordered.sort_by_key(|r| first_time(r));
        let mut spawns: Vec<(u32, String, u64, u64)> = Vec::new();
        let mut ready: HashMap<u32, u64> = HashMap::new();
        let mut out = LaneTrace {
            wall_nanos: end.saturating_sub(origin),
            ..Default::default()
        };
        for r in ordered {
            match r {
                Record::Main { who, .. } | Record::End { who, .. } | Record::Exit { who, .. } => {
                    builder.lane(who);
                }
                Record::Ready { who, t, .. } => {
                    builder.lane(who);
                    ready.insert(who.pid, rel(*t));
                }
                Record::Spawn {
                    who,
                    child,
                    cn,
                    method,
                    t0,
                    t1,
                } => {
                    builder.lane(who);
                    let child_origin = Origin {
                        pid: *child,
                        tid: u64::from(*child),
                        pn: cn.clone(),
                        tn: String::new(),
                    };
                    builder.lane(&child_origin);
                    spawns.push((*child, method.clone(), rel(*t0), rel(*t1)));
                }
                Record::Pool {
                    who,
                    kind,
                    workers,
                    t0,
                    t1,
                } => {
                    let lane = builder.lane(who);
                    out.pools.push(PoolCreated {
                        lane,
                        kind: kind.clone(),
                        num_workers: *workers,
                        start_nanos: rel(*t0),
                        end_nanos: rel(*t1),
                    });
                }
                Record::Task {
                    who,
                    func,
                    i,
                    arg,
                    t0,
                    t1,
                    cpu,
                    src,
                    ok,
                } => {
                    let lane = builder.lane(who);
                    out.tasks.push(LaneTask {
                        lane,
                        index: *i,
                        name: func.clone(),
                        arg: arg.clone(),
                        start_nanos: rel(*t0),
                        end_nanos: rel(*t1).max(rel(*t0)),
                        cpu_nanos: Some(*cpu),
                        source: src.clone(),
                        ok: *ok,
                    });
                }
            }
        }
        for (child, method, t0, t1) in spawns {
            let lane = builder.index_of(u64::from(child), u64::from(child));
            if let Some(lane) = lane {
                let ready_at = ready.get(&child).copied();
                out.startups.push(Startup {
                    lane,
                    method,
                    start_nanos: t0,
                    end_nanos: ready_at.unwrap_or(t1).max(t0),
                    ready: ready_at.is_some(),
                });
            }
        }
        out.tasks.sort_by_key(|t| (t.start_nanos, t.lane));
        out.lanes = builder.lanes;
        let last = out
            .tasks
            .iter()
            .map(|t| t.end_nanos)
            .chain(out.startups.iter().map(|s| s.end_nanos))
            .max()
            .unwrap_or(0);
        out.wall_nanos = out.wall_nanos.max(last);
        for s in out.startups.iter_mut().filter(|s| !s.ready) {
            s.end_nanos = out.wall_nanos.max(s.start_nanos);
        }
        out
    }
}

fn first_time(r: &Record) -> u64 {
    match r {
        Record::Main { t, .. }
        | Record::Ready { t, .. }
        | Record::Exit { t, .. }
        | Record::End { t, .. } => *t,
        Record::Task { t0, .. } | Record::Spawn { t0, .. } | Record::Pool { t0, .. } => *t0,
    }
}

#[derive(Default)]
struct LaneBuilder {
    lanes: Vec<Lane>,
    by_key: HashMap<(u64, u64), u32>,
}

impl LaneBuilder {
    /// The lane of `who`, created on first sight; names fill in as seen.
    fn lane(&mut self, who: &Origin) -> u32 {
        let key = (u64::from(who.pid), who.tid);
        let index = match self.by_key.get(&key) {
            Some(&i) => i,
            None => {
                let i = self.lanes.len() as u32;
                self.lanes.push(Lane {
                    pid: key.0,
                    tid: key.1,
                    ..Default::default()
                });
                self.by_key.insert(key, i);
                i
            }
        };
        if let Some(lane) = self.lanes.get_mut(index as usize) {
            if !who.pn.is_empty() {
                lane.process_name.clone_from(&who.pn);
            }
            if !who.tn.is_empty() {
                lane.thread_name.clone_from(&who.tn);
            }
        }
        index
    }

    fn index_of(&self, pid: u64, tid: u64) -> Option<u32> {
        self.by_key.get(&(pid, tid)).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::python::records::parse_records;

    const RUN: &str = r#"{"k":"main","pid":10,"tid":10,"pn":"MainProcess","tn":"MainThread","t":1000,"python":"3.11.7","gil":true}
{"k":"pool","pid":10,"tid":10,"pn":"MainProcess","tn":"MainThread","kind":"process","workers":2,"t0":1100,"t1":1400}
{"k":"spawn","pid":10,"tid":10,"pn":"MainProcess","tn":"MainThread","child":11,"cn":"ForkPoolWorker-1","method":"fork","t0":1100,"t1":1200}
{"k":"spawn","pid":10,"tid":10,"pn":"MainProcess","tn":"MainThread","child":12,"cn":"ForkPoolWorker-2","method":"fork","t0":1200,"t1":1300}
{"k":"ready","pid":12,"tid":12,"pn":"ForkPoolWorker-2","tn":"MainThread","t":1500}
{"k":"ready","pid":11,"tid":11,"pn":"ForkPoolWorker-1","tn":"MainThread","t":1300}
{"k":"task","pid":11,"tid":11,"pn":"ForkPoolWorker-1","tn":"MainThread","fn":"f","i":0,"arg":"0","t0":2000,"t1":3000,"cpu":1000}
{"k":"task","pid":12,"tid":12,"pn":"ForkPoolWorker-2","tn":"MainThread","fn":"f","i":1,"arg":"1","t0":2000,"t1":4000,"cpu":500}
{"k":"task","pid":11,"tid":11,"pn":"ForkPoolWorker-1","tn":"MainThread","fn":"f","i":2,"arg":"2","t0":3000,"t1":4000,"cpu":1000}
{"k":"spawn","pid":10,"tid":10,"pn":"MainProcess","tn":"MainThread","child":13,"cn":"ForkPoolWorker-3","method":"fork","t0":1300,"t1":1350}
{"k":"end","pid":10,"tid":10,"pn":"MainProcess","tn":"MainThread","t":4500}"#;

    #[test]
    fn short_labels_name_the_process_or_the_thread() {
        let lane = |pid, tid, pn: &str, tn: &str| Lane {
            pid,
            tid,
            process_name: pn.into(),
            thread_name: tn.into(),
        };
        let worker = lane(4812, 4812, "ForkPoolWorker-3", "MainThread");
        assert_eq!(worker.short_label(), "ForkPoolWorker-3 pid 4812");
        let thread = lane(4800, 4813, "MainProcess", "Thread-2");
        assert_eq!(thread.short_label(), "Thread-2 tid 4813");
        assert_eq!(lane(7, 9, "", "").short_label(), "tid 9");
        assert_eq!(lane(7, 0, "", "").short_label(), "pid 7");
    }

    #[test]
    fn lanes_startups_and_figures_by_hand() {
        let parsed = parse_records(RUN);
        let lt = LaneTrace::from_records(&parsed.records, 1000, 5000);
        assert_eq!(lt.lanes.len(), 4);
        assert_eq!(lt.lanes[0].process_name, "MainProcess");
        assert_eq!(lt.lanes[1].label(), "ForkPoolWorker-1 (pid 11)");
        assert_eq!(lt.lanes[1].short_label(), "ForkPoolWorker-1 pid 11");
        assert_eq!(lt.wall_nanos, 4000);
        assert_eq!(lt.tasks.len(), 3);
        assert_eq!(lt.tasks[0].start_nanos, 1000);
        // Start-up: parent's start() call to the child's ready record.
        assert_eq!(lt.startups.len(), 3);
        let never = lt.startups.iter().find(|s| s.lane == 3).expect("worker 3");
        assert!(!never.ready);
        assert_eq!((never.start_nanos, never.end_nanos), (300, 4000));
        let s1 = lt.startups.iter().find(|s| s.lane == 1).expect("worker 1");
        assert_eq!((s1.start_nanos, s1.end_nanos), (100, 300));
        let s2 = lt.startups.iter().find(|s| s.lane == 2).expect("worker 2");
        assert_eq!(s2.nanos(), 300);
        let s = lt.summary();
        assert_eq!(s.tasks, 3);
        assert_eq!(s.task_processes, 2);
        assert_eq!(s.task_threads, 2);
        assert_eq!(s.lanes[1].busy_nanos, 2000);
        assert_eq!(s.lanes[2].busy_nanos, 2000);
        // 4000 ns busy over 2 working lanes × 4000 ns wall.
        assert!((s.utilisation - 0.5).abs() < 1e-12);
        assert!((s.imbalance - 1.0).abs() < 1e-12);
        // CPU 2500 over wall 4000.
        assert!((s.cpu_per_wall.expect("cpu") - 0.625).abs() < 1e-12);
        assert_eq!(s.startup_ms, vec![("fork".to_string(), 0.00025, 2)]);
        let trace = lt.to_trace();
        assert_eq!(trace.num_workers, 4);
        assert_eq!(trace.stats().workers[1].tasks, 2);
    }
}
