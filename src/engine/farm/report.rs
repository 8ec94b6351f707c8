//! What a farm run measured beyond the tile trace: per worker process its
//! start-up and peak memory, per tile the transfer (serialise + pipe +
//! deserialise) beside the compute, per run the bytes moved and any faults.
//!
//! Times are nanoseconds since the run's origin, like [`crate::engine::trace`].

use crate::engine::exec::trace::Trace;
use crate::engine::util::stats::median;
use serde::{Deserialize, Serialize};

/// One worker process.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FarmWorker {
    pub id: u32,
    pub pid: u32,
    /// When it was spawned.
    pub spawned_nanos: u64,
    /// When it said it was ready (start-up ends): the time stamped in its
    /// first message, on the shared monotonic clock; `None` if it never spoke.
    pub ready_nanos: Option<u64>,
    pub tiles: u32,
    /// Peak resident memory (VmHWM) it reported when leaving.
    pub peak_rss_kib: Option<u64>,
    /// How it ended, in words.
    pub ending: String,
}

impl FarmWorker {
    /// Spawn to first message: what starting a process costs.
    pub fn startup_nanos(&self) -> Option<u64> {
        self.ready_nanos
            .map(|r| r.saturating_sub(self.spawned_nanos))
    }
}

/// One tile's trip back to the master.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Transfer {
    pub task: u32,
    pub worker: u32,
    /// The worker finished computing (transfer starts).
    pub start_nanos: u64,
    /// The master had decoded the pixels (transfer ends).
    pub end_nanos: u64,
    /// Encoding the pixels, measured in the worker.
    pub serialise_nanos: u64,
    /// From the end of encoding to the whole frame read by the master: the
    /// write, the pipe and any wait for the master's reader.
    pub pipe_nanos: u64,
    /// Decoding the frame and pixels, measured in the master.
    pub deserialise_nanos: u64,
    /// The tile's compute time, for the share.
    pub compute_nanos: u64,
    /// Frame size, header included.
    pub bytes: u64,
}

impl Transfer {
    pub fn transfer_nanos(&self) -> u64 {
        self.end_nanos.saturating_sub(self.start_nanos)
    }
    /// Transfer / (compute + transfer), 0..=1.
    pub fn share(&self) -> f64 {
        let total = self.compute_nanos + self.transfer_nanos();
        if total == 0 {
            0.0
        } else {
            self.transfer_nanos() as f64 / total as f64
        }
    }
}

/// A worker that failed during the run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkerFault {
    pub worker: u32,
    pub pid: u32,
    /// What happened, in words (exit status, stderr's last lines).
    pub what: String,
    /// Its tiles that were unfinished and went back to the others.
    pub redone: Vec<u32>,
}

/// One rank of an MPI run (rank 0 is the master).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MpiRank {
    pub rank: u32,
    /// Its host (MPI's processor name).
    pub host: String,
    pub pid: u32,
    /// Its monotonic clock minus rank 0's, from the best ping-pong round.
    pub clock_offset_nanos: i64,
    /// The offset is right to within this: half the best round trip.
    pub offset_bound_nanos: u64,
    /// When it entered MPI_Init, on rank 0's time axis (0 if before rank 0).
    pub init_start_nanos: u64,
    /// How long its MPI_Init took.
    pub init_nanos: u64,
    /// When its first tile started (`None` for the master, or no tile).
    pub first_tile_nanos: Option<u64>,
    /// From entering MPI_Init to starting its first tile, on its own clock:
    /// what joining the job cost this rank (`None` without a tile).
    pub startup_nanos: Option<u64>,
}

impl MpiRank {
    /// `rank 2 @ host`.
    pub fn label(&self) -> String {
        format!("rank {} @ {}", self.rank, self.host)
    }
}

/// What an MPI run measured about its ranks.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MpiStats {
    pub ranks: Vec<MpiRank>,
    /// Ping-pong rounds per rank for the clock offset.
    pub pings: u32,
    /// Rank 0 computed tiles too (worker 0 is a thread of rank 0; worker w
    /// is rank w), besides handing them out.
    #[serde(default)]
    pub master_computes: bool,
}

impl MpiStats {
    /// The timeline lane (worker id) of `rank`; the master's own lane when
    /// it only hands out tiles.
    pub fn lane_of(&self, rank: u32) -> u32 {
        match (self.master_computes, rank) {
            (true, r) => r,
            (false, 0) => 999,
            (false, r) => r - 1,
        }
    }
}

impl MpiStats {
    /// The largest offset bound over the ranks, ns.
    pub fn offset_bound_max_nanos(&self) -> u64 {
        self.ranks
            .iter()
            .map(|r| r.offset_bound_nanos)
            .max()
            .unwrap_or(0)
    }
}

/// The process-farm figures of one run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FarmStats {
    pub workers: Vec<FarmWorker>,
    pub transfers: Vec<Transfer>,
    /// Frames master to workers, headers included.
    pub bytes_to_workers: u64,
    /// Frames workers to master, headers included.
    pub bytes_from_workers: u64,
    pub faults: Vec<WorkerFault>,
    pub cancelled: bool,
    /// The ranks, when the workers were MPI ranks (worker w is rank w + 1).
    #[serde(default)]
    pub mpi: Option<MpiStats>,
}

impl FarmStats {
    /// Median start-up over the workers that spoke.
    pub fn startup_median_nanos(&self) -> Option<f64> {
        let v: Vec<f64> = self
            .workers
            .iter()
            .filter_map(|w| w.startup_nanos().map(|n| n as f64))
            .collect();
        (!v.is_empty()).then(|| median(&v))
    }
    /// Median over tiles of transfer / (compute + transfer).
    pub fn transfer_share_median(&self) -> Option<f64> {
        let v: Vec<f64> = self.transfers.iter().map(Transfer::share).collect();
        (!v.is_empty()).then(|| median(&v))
    }
    /// All transfer time / all (compute + transfer) time.
    pub fn transfer_share_total(&self) -> Option<f64> {
        let t: u64 = self.transfers.iter().map(Transfer::transfer_nanos).sum();
        let c: u64 = self.transfers.iter().map(|x| x.compute_nanos).sum();
        (t + c > 0).then(|| t as f64 / (t + c) as f64)
    }
    /// Medians of the three transfer parts, ns: (serialise, pipe, deserialise).
    pub fn transfer_parts_median(&self) -> Option<(f64, f64, f64)> {
        if self.transfers.is_empty() {
            return None;
        }
        let m = |f: fn(&Transfer) -> u64| {
            median(
                &self
                    .transfers
                    .iter()
                    .map(|t| f(t) as f64)
                    .collect::<Vec<_>>(),
            )
        };
        Some((
            m(|t| t.serialise_nanos),
            m(|t| t.pipe_nanos),
            m(|t| t.deserialise_nanos),
        ))
    }
    /// Largest peak resident memory a worker reported.
    pub fn peak_rss_max_kib(&self) -> Option<u64> {
        self.workers.iter().filter_map(|w| w.peak_rss_kib).max()
    }
    pub fn bytes_moved(&self) -> u64 {
        self.bytes_to_workers + self.bytes_from_workers
    }

    /// What happened to failed workers, one line each.
    pub fn fault_lines(&self) -> Vec<String> {
        self.faults
            .iter()
            .map(|f| {
                format!(
                    "worker {} (pid {}) failed: {}; {} unfinished tile(s) redone by the others",
                    f.worker,
                    f.pid,
                    f.what,
                    f.redone.len()
                )
            })
            .collect()
    }

    /// The figures in words, for the CLI and the window (ASCII only).
    pub fn summary_lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(mpi) = &self.mpi {
            out.extend(mpi_lines(mpi));
        } else {
            out.push(self.startup_line());
        }
        let link = if self.mpi.is_some() {
            "message"
        } else {
            "pipe"
        };
        if let (Some(med), Some(total), Some((s, p, d))) = (
            self.transfer_share_median(),
            self.transfer_share_total(),
            self.transfer_parts_median(),
        ) {
            out.push(format!(
                "transfer share of a tile (serialise + {link} + deserialise, of compute + transfer): median {:.1} %, over all tiles {:.1} %; median parts {:.1} / {:.1} / {:.1} us",
                med * 100.0,
                total * 100.0,
                s / 1e3,
                p / 1e3,
                d / 1e3
            ));
        }
        out.push(format!(
            "bytes moved: {:.2} MB to the master, {:.1} kB to the workers; peak RSS per worker up to {}",
            self.bytes_from_workers as f64 / 1e6,
            self.bytes_to_workers as f64 / 1e3,
            self.peak_rss_max_kib()
                .map_or_else(|| "n/a".into(), |k| format!("{:.1} MB", k as f64 / 1024.0))
        ));
        out.extend(self.fault_lines());
        if self.cancelled {
            out.push("cancelled: every worker process was killed and reaped".into());
        }
        out
    }

    fn startup_line(&self) -> String {
        let ms = |ns: f64| ns / 1e6;
        let ups: Vec<String> = self
            .workers
            .iter()
            .map(|w| {
                w.startup_nanos()
                    .map_or_else(|| "-".into(), |n| format!("{:.1}", ms(n as f64)))
            })
            .collect();
        format!(
            "process start-up (spawn to first message): median {} ms; per worker [{}] ms",
            self.startup_median_nanos()
                .map_or_else(|| "-".into(), |n| format!("{:.2}", ms(n))),
            ups.join(", ")
        )
    }

    /// Chrome Trace Event JSON of `trace` with the farm's extra bars: a
    /// `start-up` bar per worker (MPI: an `MPI_Init` bar on each rank's lane,
    /// lanes named `rank R @ host`) on its own row, and each tile's `transfer`
    /// on a row of its own below the worker (`tid` 1000 + worker), since a
    /// transfer overlaps the worker's next tile.
    pub fn chrome_json(&self, trace: &Trace) -> serde_json::Value {
        use serde_json::json;
        let mut v = trace.to_chrome_json("tile");
        let us = |ns: u64| ns as f64 / 1000.0;
        if let Some(events) = v["traceEvents"].as_array_mut() {
            if let Some(mpi) = &self.mpi {
                // Worker lanes are renamed after their rank and host.
                let renamed = self.workers.len() as u64;
                events.retain(|e| {
                    !(e["name"] == "thread_name" && e["tid"].as_u64().is_some_and(|t| t < renamed))
                });
                // One lane per rank, named with its host; rank 0 (the
                // master) gets a lane of its own for its MPI_Init.
                for r in &mpi.ranks {
                    let tid = mpi.lane_of(r.rank);
                    let name = match (r.rank, mpi.master_computes) {
                        (0, true) => format!("{} (master, computes too)", r.label()),
                        (0, false) => format!("{} (master)", r.label()),
                        _ => r.label(),
                    };
                    events.push(
                        json!({"name": "thread_name", "ph": "M", "pid": 1, "tid": tid,
                        "args": {"name": name}}),
                    );
                    events.push(json!({
                        "name": "MPI_Init", "cat": "mpi", "ph": "X", "pid": 1, "tid": tid,
                        "ts": us(r.init_start_nanos), "dur": us(r.init_nanos),
                        "args": {"host": r.host, "pid": r.pid, "clock_offset_us": r.clock_offset_nanos as f64 / 1000.0,
                                 "offset_bound_us": us(r.offset_bound_nanos)},
                    }));
                }
            }
            let link = if self.mpi.is_some() {
                "message_us"
            } else {
                "pipe_us"
            };
            for w in &self.workers {
                let lane = match &self.mpi {
                    Some(m) => format!("rank {} transfers", w.id + u32::from(!m.master_computes)),
                    None => format!("worker {} transfers", w.id),
                };
                events.push(
                    json!({"name": "thread_name", "ph": "M", "pid": 1, "tid": 1000 + w.id,
                    "args": {"name": lane}}),
                );
                if self.mpi.is_some() {
                    continue;
                }
                if let Some(ready) = w.ready_nanos {
                    events.push(json!({
                        "name": "start-up", "cat": "process", "ph": "X", "pid": 1, "tid": w.id,
                        "ts": us(w.spawned_nanos), "dur": us(ready.saturating_sub(w.spawned_nanos)),
                        "args": {"pid": w.pid, "peak_rss_kib": w.peak_rss_kib},
                    }));
                }
            }
            for t in &self.transfers {
                events.push(json!({
                    "name": format!("transfer {}", t.task), "cat": "transfer", "ph": "X",
                    "pid": 1, "tid": 1000 + t.worker,
                    "ts": us(t.start_nanos), "dur": us(t.transfer_nanos()),
                    "args": {"task": t.task, "bytes": t.bytes, "serialise_us": us(t.serialise_nanos),
                             link: us(t.pipe_nanos), "deserialise_us": us(t.deserialise_nanos)},
                }));
            }
        }
        v["otherData"]["bytes_moved"] = json!(self.bytes_moved());
        v["otherData"]["faults"] = json!(self.fault_lines());
        if let Some(mpi) = &self.mpi {
            v["otherData"]["mpi_clock_offset_bound_us"] = json!(us(mpi.offset_bound_max_nanos()));
        }
        v
    }
}

/// The ranks in words: hosts, clock offsets and their bound, start-up.
fn mpi_lines(mpi: &MpiStats) -> Vec<String> {
    let us = |ns: f64| ns / 1e3;
    let ms = |ns: f64| ns / 1e6;
    let mut hosts: Vec<&str> = mpi.ranks.iter().map(|r| r.host.as_str()).collect();
    hosts.sort_unstable();
    hosts.dedup();
    let offsets: Vec<String> = mpi
        .ranks
        .iter()
        .skip(1)
        .map(|r| format!("{:+.1}", us(r.clock_offset_nanos as f64)))
        .collect();
    let ups: Vec<String> = mpi
        .ranks
        .iter()
        .filter(|r| r.rank != 0 || mpi.master_computes)
        .map(|r| {
            r.startup_nanos
                .map_or_else(|| "-".into(), |n| format!("{:.1}", ms(n as f64)))
        })
        .collect();
    let inits: Vec<String> = mpi
        .ranks
        .iter()
        .map(|r| format!("{:.1}", ms(r.init_nanos as f64)))
        .collect();
    let workers = mpi.ranks.len() - usize::from(!mpi.master_computes);
    let mut lines = vec![format!(
        "MPI: {} ranks (rank 0 the master{}, {workers} workers) on {} host(s): {}",
        mpi.ranks.len(),
        if mpi.master_computes {
            " and worker 0 in a thread"
        } else {
            ""
        },
        hosts.len(),
        hosts.join(", ")
    )];
    if !offsets.is_empty() {
        lines.push(format!(
            "clock offsets to rank 0 (best of {} ping-pongs per rank): [{}] us, each right to within {:.1} us (half the best round trip)",
            mpi.pings,
            offsets.join(", "),
            us(mpi.offset_bound_max_nanos() as f64)
        ));
    }
    lines.push(format!(
        "rank start-up (MPI_Init to first tile) per worker rank [{}] ms; MPI_Init per rank [{}] ms",
        ups.join(", "),
        inits.join(", ")
    ));
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_by_hand() {
        let t = |task, compute, start, end| Transfer {
            task,
            worker: 0,
            start_nanos: start,
            end_nanos: end,
            compute_nanos: compute,
            ..Default::default()
        };
        let s = FarmStats {
            workers: vec![
                FarmWorker {
                    id: 0,
                    spawned_nanos: 100,
                    ready_nanos: Some(1100),
                    peak_rss_kib: Some(5000),
                    ..Default::default()
                },
                FarmWorker {
                    id: 1,
                    spawned_nanos: 200,
                    ready_nanos: Some(3200),
                    peak_rss_kib: Some(7000),
                    ..Default::default()
                },
                FarmWorker {
                    id: 2,
                    ready_nanos: None,
                    ..Default::default()
                },
            ],
            // Shares 10/40 and 30/60; transfer 40 of 100 in all.
            transfers: vec![t(0, 30, 0, 10), t(1, 30, 0, 30)],
            bytes_to_workers: 10,
            bytes_from_workers: 90,
            ..Default::default()
        };
        assert_eq!(s.startup_median_nanos(), Some(2000.0));
        assert_eq!(s.transfer_share_median(), Some(0.375));
        assert_eq!(s.transfer_share_total(), Some(0.4));
        assert_eq!(s.peak_rss_max_kib(), Some(7000));
        assert_eq!(s.bytes_moved(), 100);
        let json = s.chrome_json(&Trace {
            num_workers: 3,
            wall_nanos: 5000,
            records: vec![],
        });
        let events = json["traceEvents"].as_array().expect("events");
        assert_eq!(events.iter().filter(|e| e["name"] == "start-up").count(), 2);
        assert_eq!(events.iter().filter(|e| e["cat"] == "transfer").count(), 2);
    }
}
