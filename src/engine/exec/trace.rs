//! Execution traces: which worker ran which task, when, and how much work it was.

use serde::{Deserialize, Serialize};

/// One finished task. Times are nanoseconds since the run's origin.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskRecord {
    pub task: u32,
    pub worker: u32,
    pub start_nanos: u64,
    pub end_nanos: u64,
    /// Work done, in the workload's unit (Mandelbrot: iterations executed).
    pub work: u64,
}

impl TaskRecord {
    pub fn duration_nanos(&self) -> u64 {
        self.end_nanos.saturating_sub(self.start_nanos)
    }
}

/// Every task of one run, with the pool size and the wall time.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Trace {
    pub num_workers: u32,
    pub wall_nanos: u64,
    /// In completion order as received; sort by `start_nanos` if needed.
    pub records: Vec<TaskRecord>,
}

/// What one worker did during a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkerStats {
    pub id: u32,
    pub tasks: u32,
    pub busy_nanos: u64,
    pub work: u64,
}

/// Summary figures derived from a [`Trace`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TraceStats {
    pub wall_nanos: u64,
    pub workers: Vec<WorkerStats>,
    pub busy_nanos: u64,
    /// Total busy time / (wall time × workers), 0..=1.
    pub utilisation: f64,
    /// Largest busy time / mean busy time; 1.0 is perfect balance.
    pub imbalance: f64,
    /// Worker time not spent in tasks: wall × workers − busy.
    pub idle_nanos: u64,
    pub work: u64,
}

impl Trace {
    /// A trace whose times are shifted so that the first task starts at 0,
    /// with `wall` = first task start to last task end: what "wall" means
    /// everywhere in parlab (the timeline's axis, the stats, the CLI).
    pub fn from_run(num_workers: u32, records: Vec<TaskRecord>) -> Trace {
        let mut t = Trace {
            num_workers,
            wall_nanos: 0,
            records,
        };
        t.rebase_to_first_start();
        t
    }

    /// (first task start, last task end) of `records`; (0, 0) when empty.
    pub fn span_of(records: &[TaskRecord]) -> (u64, u64) {
        let first = records.iter().map(|r| r.start_nanos).min().unwrap_or(0);
        let last = records.iter().map(|r| r.end_nanos).max().unwrap_or(0);
        (first, last.max(first))
    }

    /// Shifts every record so that the first task starts at 0 and sets the
    /// wall time to the last task's end. Returns the shift in nanoseconds.
    pub fn rebase_to_first_start(&mut self) -> u64 {
        let (first, last) = Self::span_of(&self.records);
        for r in &mut self.records {
            r.start_nanos -= first;
            r.end_nanos -= first;
        }
        self.wall_nanos = last - first;
        first
    }

    pub fn stats(&self) -> TraceStats {
        let n = self.num_workers.max(1) as usize;
        let mut workers: Vec<WorkerStats> = (0..n as u32)
            .map(|id| WorkerStats {
                id,
                ..Default::default()
            })
            .collect();
        for r in &self.records {
            if let Some(w) = workers.get_mut(r.worker as usize) {
                w.tasks += 1;
                w.busy_nanos += r.duration_nanos();
                w.work += r.work;
            }
        }
        let busy_nanos: u64 = workers.iter().map(|w| w.busy_nanos).sum();
        let capacity = self.wall_nanos as f64 * n as f64;
        let utilisation = if capacity > 0.0 {
            (busy_nanos as f64 / capacity).min(1.0)
        } else {
            0.0
        };
        let mean = busy_nanos as f64 / n as f64;
        let max = workers.iter().map(|w| w.busy_nanos).max().unwrap_or(0) as f64;
        let imbalance = if mean > 0.0 { max / mean } else { 1.0 };
        TraceStats {
            wall_nanos: self.wall_nanos,
            busy_nanos,
            utilisation,
            imbalance,
            idle_nanos: (capacity as u64).saturating_sub(busy_nanos),
            work: workers.iter().map(|w| w.work).sum(),
            workers,
        }
    }

    /// The same Chrome Trace Event JSON as a value, for callers that add
    /// events of their own (the process farm's start-up and transfer bars).
    /// Holds the whole document in memory: exports go through
    /// [`Trace::write_chrome_json`].
    pub fn to_chrome_json(&self, task_label: &str) -> serde_json::Value {
        let mut bytes = Vec::new();
        match self.write_chrome_json(&mut bytes, task_label) {
            Ok(()) => serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
            Err(_) => serde_json::Value::Null,
        }
    }

    /// Writes Chrome Trace Event JSON (opens in Perfetto and chrome://tracing)
    /// event by event, never holding the whole document in memory: one
    /// complete event (`ph: "X"`) per task, `tid` = worker, times in µs, and
    /// a `thread_name` metadata event per worker, and a counter track
    /// (`ph: "C"`, "busy workers") with the number of busy workers over time.
    pub fn write_chrome_json(
        &self,
        w: &mut dyn std::io::Write,
        task_label: &str,
    ) -> std::io::Result<()> {
        use serde_json::json;
        fn event(
            w: &mut dyn std::io::Write,
            first: bool,
            v: &serde_json::Value,
        ) -> std::io::Result<()> {
            w.write_all(if first { b"\n" } else { b",\n" })?;
            serde_json::to_writer(&mut *w, v).map_err(std::io::Error::other)
        }
        w.write_all(b"{\"traceEvents\": [")?;
        event(
            w,
            true,
            &json!({"name": "process_name", "ph": "M", "pid": 1, "tid": 0,
            "args": {"name": format!("parlab ({} workers)", self.num_workers)}}),
        )?;
        for wk in 0..self.num_workers {
            event(
                w,
                false,
                &json!({"name": "thread_name", "ph": "M", "pid": 1, "tid": wk,
                "args": {"name": format!("worker {wk}")}}),
            )?;
        }
        let mut order: Vec<usize> = (0..self.records.len()).collect();
        order.sort_by_key(|&i| (self.records[i].worker, self.records[i].start_nanos));
        for i in order {
            let r = &self.records[i];
            event(
                w,
                false,
                &json!({
                    "name": format!("{task_label} {}", r.task),
                    "cat": task_label,
                    "ph": "X",
                    "pid": 1,
                    "tid": r.worker,
                    "ts": r.start_nanos as f64 / 1000.0,
                    "dur": r.duration_nanos() as f64 / 1000.0,
                    "args": {"task": r.task, "work": r.work},
                }),
            )?;
        }
        for counter in crate::engine::exec::activity::Activity::of(self).counter_events(1) {
            event(w, false, &counter)?;
        }
        w.write_all(b"\n], \"displayTimeUnit\": \"ms\", \"otherData\": ")?;
        serde_json::to_writer(
            &mut *w,
            &json!({"wall_us": self.wall_nanos as f64 / 1000.0}),
        )
        .map_err(std::io::Error::other)?;
        w.write_all(b"}\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(task: u32, worker: u32, start: u64, end: u64) -> TaskRecord {
        TaskRecord {
            task,
            worker,
            start_nanos: start,
            end_nanos: end,
            work: 10,
        }
    }

    #[test]
    fn stats_by_hand() {
        // Worker 0 busy 60 ns, worker 1 busy 20 ns, wall 100 ns, 2 workers.
        let t = Trace {
            num_workers: 2,
            wall_nanos: 100,
            records: vec![rec(0, 0, 0, 40), rec(1, 1, 0, 20), rec(2, 0, 50, 70)],
        };
        let s = t.stats();
        assert_eq!(s.busy_nanos, 80);
        assert_eq!(s.workers[0].tasks, 2);
        assert_eq!(s.workers[0].busy_nanos, 60);
        assert_eq!(s.workers[1].busy_nanos, 20);
        assert!((s.utilisation - 0.4).abs() < 1e-12);
        assert!((s.imbalance - 1.5).abs() < 1e-12);
        assert_eq!(s.idle_nanos, 120);
        assert_eq!(s.work, 30);
    }

    #[test]
    fn chrome_json_shape() {
        let t = Trace {
            num_workers: 2,
            wall_nanos: 5000,
            records: vec![rec(0, 1, 1000, 3000)],
        };
        let mut bytes = Vec::new();
        t.write_chrome_json(&mut bytes, "tile").expect("write");
        let v: serde_json::Value = serde_json::from_slice(&bytes).expect("valid JSON");
        let events = v["traceEvents"].as_array().expect("array");
        let names: Vec<_> = events
            .iter()
            .filter(|e| e["name"] == "thread_name")
            .map(|e| e["tid"].as_u64())
            .collect();
        assert_eq!(names, vec![Some(0), Some(1)]);
        let x = events.iter().find(|e| e["ph"] == "X").expect("task event");
        assert_eq!(x["ts"], 1.0);
        assert_eq!(x["dur"], 2.0);
        assert_eq!(x["tid"], 1);
        let counters: Vec<_> = events.iter().filter(|e| e["ph"] == "C").collect();
        assert_eq!(counters.len(), 3, "0 busy, 1 busy at 1 us, 0 busy at 3 us");
        assert_eq!(counters[1]["args"]["busy"], 1);
    }

    #[test]
    fn from_run_measures_wall_from_first_start_to_last_end() {
        let t = Trace::from_run(2, vec![rec(0, 0, 500, 900), rec(1, 1, 300, 700)]);
        assert_eq!(t.wall_nanos, 600);
        assert_eq!(t.records[1].start_nanos, 0);
        assert_eq!(t.records[0].end_nanos, 600);
        assert_eq!(Trace::from_run(1, vec![]).wall_nanos, 0);
    }
}
