//! Utilisation at a glance: how many workers were busy at each moment of a
//! run (ThreadScope's activity strip) and the share of the wall time with k
//! workers busy (VTune's concurrency histogram). Plain data from a
//! [`Trace`]; the window draws it, the trace export writes it as a counter track.

use crate::engine::exec::trace::Trace;
use serde::{Deserialize, Serialize};

/// Busy workers over a run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Activity {
    /// (time, busy workers from that time on), in time order, starting at 0
    /// and closing with 0 busy at the last task's end.
    pub steps: Vec<(u64, u32)>,
    /// `histogram_nanos[k]`: wall time during which exactly k workers were busy.
    pub histogram_nanos: Vec<u64>,
    /// The span the histogram covers: 0 to the trace's wall time (or the last
    /// task's end, if later).
    pub wall_nanos: u64,
    pub num_workers: u32,
}

impl Activity {
    pub fn of(trace: &Trace) -> Activity {
        let mut edges: Vec<(u64, i64)> = Vec::with_capacity(trace.records.len() * 2);
        for r in &trace.records {
            if r.end_nanos > r.start_nanos {
                edges.push((r.start_nanos, 1));
                edges.push((r.end_nanos, -1));
            }
        }
        // Ends before starts at the same instant: a worker going from one
        // task to the next is not counted twice.
        edges.sort_unstable();
        let last_end = edges.last().map_or(0, |e| e.0);
        let wall_nanos = trace.wall_nanos.max(last_end);
        let num_workers = trace.num_workers.max(1);
        let mut histogram_nanos = vec![0u64; num_workers as usize + 1];
        let mut steps = vec![(0u64, 0u32)];
        let (mut t, mut busy) = (0u64, 0i64);
        for (at, delta) in edges {
            if at > t {
                let k = busy.max(0) as usize;
                if k >= histogram_nanos.len() {
                    histogram_nanos.resize(k + 1, 0);
                }
                histogram_nanos[k] += at - t;
                t = at;
            }
            busy += delta;
            let k = busy.max(0) as u32;
            match steps.last_mut() {
                Some(s) if s.0 == at => s.1 = k,
                _ => steps.push((at, k)),
            }
        }
        histogram_nanos[0] += wall_nanos - t;
        steps.dedup_by(|b, a| a.1 == b.1);
        Activity {
            steps,
            histogram_nanos,
            wall_nanos,
            num_workers,
        }
    }

    /// Share of the wall time with exactly `k` workers busy, 0..=1.
    pub fn share(&self, k: usize) -> f64 {
        if self.wall_nanos == 0 {
            return 0.0;
        }
        self.histogram_nanos.get(k).copied().unwrap_or(0) as f64 / self.wall_nanos as f64
    }

    /// Mean busy workers over the run (= utilisation × workers).
    pub fn mean_busy(&self) -> f64 {
        if self.wall_nanos == 0 {
            return 0.0;
        }
        let weighted: f64 = self
            .histogram_nanos
            .iter()
            .enumerate()
            .map(|(k, &n)| k as f64 * n as f64)
            .sum();
        weighted / self.wall_nanos as f64
    }

    /// Mean busy workers in each of `bins` equal slices of `0..span_nanos`
    /// (for drawing a strip at any width).
    pub fn binned(&self, bins: usize, span_nanos: u64) -> Vec<f32> {
        let mut out = vec![0f64; bins];
        if bins == 0 || span_nanos == 0 {
            return vec![0.0; bins];
        }
        let width = span_nanos as f64 / bins as f64;
        for (i, &(t0, k)) in self.steps.iter().enumerate() {
            let t1 = self.steps.get(i + 1).map_or(self.wall_nanos, |s| s.0);
            if k == 0 || t1 <= t0 {
                continue;
            }
            let (a, b) = (t0 as f64 / width, (t1 as f64 / width).min(bins as f64));
            let mut x = a;
            while x < b {
                let bin = x.floor() as usize;
                if bin >= bins {
                    break;
                }
                let next = ((bin + 1) as f64).min(b);
                out[bin] += (next - x) * k as f64;
                x = next;
            }
        }
        out.into_iter().map(|v| v as f32).collect()
    }

    /// Chrome Trace Event counter events (`ph: "C"`), one per change.
    pub fn counter_events(&self, pid: u32) -> Vec<serde_json::Value> {
        self.steps
            .iter()
            .map(|&(t, k)| {
                serde_json::json!({"name": "busy workers", "ph": "C", "pid": pid,
                    "ts": t as f64 / 1000.0, "args": {"busy": k}})
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::exec::trace::TaskRecord;

    fn rec(task: u32, worker: u32, start: u64, end: u64) -> TaskRecord {
        TaskRecord {
            task,
            worker,
            start_nanos: start,
            end_nanos: end,
            work: 1,
        }
    }

    #[test]
    fn histogram_and_steps_by_hand() {
        // Worker 0 busy 0..40 and 40..70, worker 1 busy 10..30; wall 100.
        let t = Trace {
            num_workers: 2,
            wall_nanos: 100,
            records: vec![rec(0, 0, 0, 40), rec(1, 1, 10, 30), rec(2, 0, 40, 70)],
        };
        let a = Activity::of(&t);
        assert_eq!(a.histogram_nanos, vec![30, 50, 20]);
        assert_eq!(a.steps, vec![(0, 1), (10, 2), (30, 1), (70, 0)]);
        assert!((a.share(2) - 0.2).abs() < 1e-12);
        // Mean busy = busy time / wall = 90 / 100.
        assert!((a.mean_busy() - 0.9).abs() < 1e-12);
        let s = t.stats();
        assert!((a.mean_busy() - s.utilisation * 2.0).abs() < 1e-12);
        let bins = a.binned(10, 100);
        assert_eq!(bins[0], 1.0);
        assert_eq!(bins[1], 2.0);
        assert_eq!(bins[9], 0.0);
        let c = a.counter_events(1);
        assert_eq!(c.len(), 4);
        assert_eq!(c[1]["ph"], "C");
        assert_eq!(c[1]["args"]["busy"], 2);
    }

    #[test]
    fn empty_trace_is_all_idle() {
        let a = Activity::of(&Trace {
            num_workers: 3,
            wall_nanos: 0,
            records: vec![],
        });
        assert_eq!(a.mean_busy(), 0.0);
        assert_eq!(a.histogram_nanos, vec![0, 0, 0, 0]);
    }
}
