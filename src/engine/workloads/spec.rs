//! [`WorkloadSpec`]: a workload named with its parameters, for settings files
//! (serde) and the command line (`FromStr`/`Display`).
//!
//! Syntax: `NAME` or `NAME:key=value,key=value`, e.g. `primes`,
//! `primes:start=10000000,count=640,chunk=20,trial=naive`,
//! `dot:len=4000000,chunks=64,seed=1`, `matmul:n=512,cutoff=64`,
//! `io:tasks=64,wait-ms=10,rounds=20000,per-task=1`. Keys left out keep their defaults.

use super::dot::Dot;
use super::io::IoBound;
use super::matmul::{MatmulLeaves, check_sizes};
use super::primes::{Primes, Trial};
use super::{DynWorkload, Prepared, WorkloadError};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A workload and its parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum WorkloadSpec {
    /// `count` numbers from `start` by trial division, `chunk` per task.
    Primes {
        start: u64,
        count: u64,
        chunk: u64,
        trial: Trial,
    },
    /// Dot product of two `len`-long vectors in `chunks` tasks.
    Dot {
        len: usize,
        chunks: usize,
        seed: u64,
    },
    /// The divide-and-conquer product's leaves as tasks.
    Matmul { n: usize, cutoff: usize, seed: u64 },
    /// `tasks` requests each waiting `wait_ms`, with `rounds` of hashing
    /// before and after.
    Io {
        tasks: usize,
        wait_ms: u64,
        rounds: u32,
        /// Requests per task (1: each request is a task).
        #[serde(default = "one")]
        per_task: usize,
    },
}

fn one() -> usize {
    1
}

impl WorkloadSpec {
    /// Every workload name, in teaching order.
    pub const NAMES: [&'static str; 4] = ["primes", "dot", "matmul", "io"];

    /// The workload with its default parameters (sized for a few hundred
    /// milliseconds serially on a laptop core).
    pub fn default_for(name: &str) -> Result<Self, WorkloadError> {
        match name {
            "primes" => Ok(WorkloadSpec::Primes {
                start: 10_000_000,
                count: 320,
                chunk: 10,
                trial: Trial::Naive,
            }),
            "dot" => Ok(WorkloadSpec::Dot {
                len: 4_000_000,
                chunks: 64,
                seed: 1,
            }),
            "matmul" => Ok(WorkloadSpec::Matmul {
                n: 512,
                cutoff: 64,
                seed: 1,
            }),
            "io" => Ok(WorkloadSpec::Io {
                tasks: 64,
                wait_ms: 10,
                rounds: 20_000,
                per_task: 1,
            }),
            _ => Err(WorkloadError::UnknownWorkload {
                name: name.to_string(),
                known: Self::NAMES.join(", "),
            }),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            WorkloadSpec::Primes { .. } => "primes",
            WorkloadSpec::Dot { .. } => "dot",
            WorkloadSpec::Matmul { .. } => "matmul",
            WorkloadSpec::Io { .. } => "io",
        }
    }

    /// True for workloads whose tasks wait rather than compute.
    pub fn is_io_bound(&self) -> bool {
        matches!(self, WorkloadSpec::Io { .. })
    }

    /// Checks the parameters without building any data.
    pub fn validate(&self) -> Result<(), WorkloadError> {
        match *self {
            WorkloadSpec::Primes {
                start,
                count,
                chunk,
                trial,
            } => Primes::new(start, count, chunk, trial).map(|_| ()),
            WorkloadSpec::Dot { len, chunks, .. } => Dot::check(len, chunks),
            WorkloadSpec::Matmul { n, cutoff, .. } => {
                check_sizes(n, cutoff)?;
                let bytes = (n / cutoff) * n * n * 8;
                if bytes > super::matmul::MAX_LEAF_BYTES {
                    return Err(WorkloadError::MatmulMemory { mib: bytes >> 20 });
                }
                Ok(())
            }
            WorkloadSpec::Io {
                tasks,
                wait_ms,
                rounds,
                per_task,
            } => IoBound::new(tasks, wait_ms, rounds)
                .and_then(|w| w.with_per_task(per_task))
                .map(|_| ()),
        }
    }

    /// Builds the workload's data once; run it as often as needed.
    pub fn prepare(&self) -> Result<Box<dyn DynWorkload>, WorkloadError> {
        let spec = self.clone();
        Ok(match *self {
            WorkloadSpec::Primes {
                start,
                count,
                chunk,
                trial,
            } => Box::new(Prepared::new(
                Primes::new(start, count, chunk, trial)?,
                spec,
            )),
            WorkloadSpec::Dot { len, chunks, seed } => {
                Box::new(Prepared::new(Dot::new(len, chunks, seed)?, spec))
            }
            WorkloadSpec::Matmul { n, cutoff, seed } => {
                self.validate()?;
                Box::new(Prepared::new(MatmulLeaves::new(n, cutoff, seed)?, spec))
            }
            WorkloadSpec::Io {
                tasks,
                wait_ms,
                rounds,
                per_task,
            } => Box::new(Prepared::new(
                IoBound::new(tasks, wait_ms, rounds)?.with_per_task(per_task)?,
                spec,
            )),
        })
    }
}

impl fmt::Display for WorkloadSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WorkloadSpec::Primes {
                start,
                count,
                chunk,
                trial,
            } => write!(
                f,
                "primes:start={start},count={count},chunk={chunk},trial={trial}"
            ),
            WorkloadSpec::Dot { len, chunks, seed } => {
                write!(f, "dot:len={len},chunks={chunks},seed={seed}")
            }
            WorkloadSpec::Matmul { n, cutoff, seed } => {
                write!(f, "matmul:n={n},cutoff={cutoff},seed={seed}")
            }
            WorkloadSpec::Io {
                tasks,
                wait_ms,
                rounds,
                per_task,
            } => write!(
                f,
                "io:tasks={tasks},wait-ms={wait_ms},rounds={rounds},per-task={per_task}"
            ),
        }
    }
}

fn num<T: std::str::FromStr>(name: &str, key: &str, v: &str) -> Result<T, WorkloadError> {
    v.replace('_', "")
        .parse()
        .map_err(|_| WorkloadError::NotNumber {
            workload: name.to_string(),
            key: key.to_string(),
            value: v.to_string(),
        })
}

impl std::str::FromStr for WorkloadSpec {
    type Err = WorkloadError;
    /// Parses `NAME[:key=value,…]` and validates the result.
    fn from_str(s: &str) -> Result<Self, WorkloadError> {
        let (name, args) = match s.trim().split_once(':') {
            Some((n, a)) => (n, a),
            None => (s.trim(), ""),
        };
        let mut spec = Self::default_for(name)?;
        for pair in args.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, v) = pair
                .split_once('=')
                .ok_or_else(|| WorkloadError::NotKeyValue {
                    workload: name.to_string(),
                    pair: pair.to_string(),
                })?;
            let key = key.trim();
            let v = v.trim();
            let unknown = |keys: &'static str| WorkloadError::UnknownKey {
                workload: name.to_string(),
                key: key.to_string(),
                keys,
            };
            match &mut spec {
                WorkloadSpec::Primes {
                    start,
                    count,
                    chunk,
                    trial,
                } => match key {
                    "start" => *start = num(name, key, v)?,
                    "count" => *count = num(name, key, v)?,
                    "chunk" => *chunk = num(name, key, v)?,
                    "trial" => *trial = v.parse()?,
                    _ => return Err(unknown("start, count, chunk, trial")),
                },
                WorkloadSpec::Dot { len, chunks, seed } => match key {
                    "len" => *len = num(name, key, v)?,
                    "chunks" => *chunks = num(name, key, v)?,
                    "seed" => *seed = num(name, key, v)?,
                    _ => return Err(unknown("len, chunks, seed")),
                },
                WorkloadSpec::Matmul { n, cutoff, seed } => match key {
                    "n" => *n = num(name, key, v)?,
                    "cutoff" => *cutoff = num(name, key, v)?,
                    "seed" => *seed = num(name, key, v)?,
                    _ => return Err(unknown("n, cutoff, seed")),
                },
                WorkloadSpec::Io {
                    tasks,
                    wait_ms,
                    rounds,
                    per_task,
                } => match key {
                    "tasks" => *tasks = num(name, key, v)?,
                    "wait-ms" | "wait_ms" => *wait_ms = num(name, key, v)?,
                    "rounds" => *rounds = num(name, key, v)?,
                    "per-task" | "per_task" => *per_task = num(name, key, v)?,
                    _ => return Err(unknown("tasks, wait-ms, rounds, per-task")),
                },
            }
        }
        spec.validate()?;
        Ok(spec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::exec::pool::build_pool;
    use crate::engine::exec::schedule::Schedule;
    use std::sync::atomic::AtomicBool;

    #[test]
    fn defaults_round_trip_through_strings_and_json() {
        for name in WorkloadSpec::NAMES {
            let spec = WorkloadSpec::default_for(name).expect("known");
            assert_eq!(
                spec.to_string().parse::<WorkloadSpec>().ok(),
                Some(spec.clone())
            );
            assert_eq!(name.parse::<WorkloadSpec>().ok(), Some(spec.clone()));
            let json = serde_json::to_string(&spec).expect("json");
            let back: WorkloadSpec = serde_json::from_str(&json).expect("back");
            assert_eq!(back, spec);
        }
    }

    #[test]
    fn keys_override_defaults() {
        let s: WorkloadSpec = "primes:count=40,chunk=4,trial=sqrt".parse().expect("ok");
        assert_eq!(
            s,
            WorkloadSpec::Primes {
                start: 10_000_000,
                count: 40,
                chunk: 4,
                trial: Trial::Sqrt
            }
        );
        let s: WorkloadSpec = "io:wait-ms=1,tasks=3".parse().expect("ok");
        assert!(s.is_io_bound());
    }

    #[test]
    fn bad_strings_say_what_is_wrong() {
        for (bad, says) in [
            ("mandel", "unknown workload"),
            ("primes:count", "key=value"),
            ("primes:colour=3", "unknown key"),
            ("dot:len=abc", "not a valid"),
            ("matmul:n=100", "power of two"),
            ("dot:len=10,chunks=20", "chunks"),
            ("io:tasks=0", "tasks"),
        ] {
            let e = bad.parse::<WorkloadSpec>().expect_err(bad).to_string();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn prepared_workloads_run_and_agree() {
        let pool = build_pool(3).expect("pool");
        let cancel = AtomicBool::new(false);
        for s in [
            "primes:start=1000,count=200,chunk=9",
            "dot:len=10000,chunks=7",
            "matmul:n=32,cutoff=8",
            "io:tasks=6,wait-ms=1,rounds=10",
        ] {
            let spec: WorkloadSpec = s.parse().expect("valid");
            let w = spec.prepare().expect("prepares");
            for gil in [false, true] {
                let r = w
                    .run(Schedule::WorkStealing, Some(&pool), &cancel, gil)
                    .expect("runs");
                assert_eq!(r.check, Ok(()), "{s}");
                assert_eq!(r.trace.records.len(), w.num_tasks());
                assert_eq!(r.gil_intervals.is_some(), gil);
            }
        }
    }

    #[test]
    fn cancelled_run_reports_it() {
        let pool = build_pool(2).expect("pool");
        let w = WorkloadSpec::default_for("io")
            .expect("io")
            .prepare()
            .expect("prepares");
        let r = w
            .run(
                Schedule::Dynamic { chunk: 1 },
                Some(&pool),
                &AtomicBool::new(true),
                false,
            )
            .expect("runs");
        assert!(r.cancelled);
        assert!(r.check.is_err());
    }
}
