//! The tracer's JSON-lines records (one object per line, written by
//! `assets/python/parlab_trace.py`) and their parsing.
//!
//! Times are absolute CLOCK_MONOTONIC nanoseconds, as Python's
//! `time.monotonic_ns` returns them; [`crate::engine::python::lanes`] turns
//! them into times since the run's origin.

use serde::Deserialize;

/// Who wrote a record: process, native thread and their names.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct Origin {
    pub pid: u32,
    pub tid: u64,
    /// Process name (`MainProcess`, `ForkPoolWorker-3`).
    #[serde(default)]
    pub pn: String,
    /// Thread name (`MainThread`, `Thread-2`).
    #[serde(default)]
    pub tn: String,
}

/// One record of the tracer.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(tag = "k", rename_all = "lowercase")]
pub enum Record {
    /// The main process started the script.
    Main {
        #[serde(flatten)]
        who: Origin,
        t: u64,
        python: String,
        #[serde(default)]
        exe: String,
        /// False on a free-threaded interpreter with the GIL off.
        gil: bool,
        #[serde(default)]
        cpus: u32,
        /// Start method in force (`fork`, `spawn`, `forkserver`).
        #[serde(default)]
        method: String,
    },
    /// One task: a call of a traced function.
    Task {
        #[serde(flatten)]
        who: Origin,
        /// Function name.
        #[serde(rename = "fn")]
        func: String,
        /// Task index (item index for map, submission order otherwise).
        i: u64,
        #[serde(default)]
        arg: String,
        t0: u64,
        t1: u64,
        /// Thread CPU time during the task, ns.
        cpu: u64,
        /// Which hook saw it (`Pool.map`, `Thread`, `--task`).
        #[serde(default)]
        src: String,
        /// False when the task raised.
        #[serde(default = "yes")]
        ok: bool,
    },
    /// A parent started a child process (`t0`..`t1` is the `start()` call).
    Spawn {
        #[serde(flatten)]
        who: Origin,
        child: u32,
        /// The child's process name.
        cn: String,
        method: String,
        t0: u64,
        t1: u64,
    },
    /// A child process is ready to run its target.
    Ready {
        #[serde(flatten)]
        who: Origin,
        #[serde(default)]
        ppid: u32,
        t: u64,
    },
    /// A child process finished its target.
    Exit {
        #[serde(flatten)]
        who: Origin,
        t: u64,
        #[serde(default)]
        code: Option<i64>,
    },
    /// A pool or executor was created (`t0`..`t1` is the constructor).
    Pool {
        #[serde(flatten)]
        who: Origin,
        /// `process` or `thread`.
        kind: String,
        workers: u32,
        t0: u64,
        t1: u64,
    },
    /// The script returned or raised.
    End {
        #[serde(flatten)]
        who: Origin,
        t: u64,
    },
}

fn yes() -> bool {
    true
}

/// Every record parsed from the text, and how many lines were not records
/// (a process killed mid-write can leave a partial last line).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ParsedRecords {
    pub records: Vec<Record>,
    pub bad_lines: usize,
}

/// Parses JSON lines; blank lines are skipped, unreadable ones counted.
pub fn parse_records(text: &str) -> ParsedRecords {
    let mut out = ParsedRecords::default();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        match serde_json::from_str::<Record>(line) {
            Ok(r) => out.records.push(r),
            Err(_) => out.bad_lines += 1,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_kind_and_counts_bad_lines() {
        let text = r#"{"k":"main","pid":10,"tid":10,"pn":"MainProcess","tn":"MainThread","t":5,"python":"3.11.7","gil":true,"cpus":2,"method":"fork"}
{"k":"task","pid":11,"tid":11,"pn":"ForkPoolWorker-1","tn":"MainThread","fn":"is_prime","i":3,"arg":"101","t0":100,"t1":200,"cpu":90,"src":"Pool.map","ok":true}
{"k":"spawn","pid":10,"tid":10,"pn":"MainProcess","tn":"MainThread","child":11,"cn":"ForkPoolWorker-1","method":"fork","t0":20,"t1":30}
{"k":"ready","pid":11,"tid":11,"pn":"ForkPoolWorker-1","tn":"MainThread","ppid":10,"t":40}
{"k":"exit","pid":11,"tid":11,"pn":"ForkPoolWorker-1","tn":"MainThread","t":300,"code":0}
{"k":"pool","pid":10,"tid":10,"pn":"MainProcess","tn":"MainThread","kind":"process","workers":2,"t0":10,"t1":35}

{"k":"end","pid":10,"tid":10,"pn":"MainProcess","tn":"MainThread","t":400}
{"k":"task","pid":11,"tid":11,"pn":"Fork"#;
        let parsed = parse_records(text);
        assert_eq!(parsed.records.len(), 7);
        assert_eq!(parsed.bad_lines, 1);
        match &parsed.records[1] {
            Record::Task {
                who,
                func,
                i,
                t0,
                t1,
                cpu,
                ..
            } => {
                assert_eq!(who.pid, 11);
                assert_eq!(who.pn, "ForkPoolWorker-1");
                assert_eq!(
                    (func.as_str(), *i, *t0, *t1, *cpu),
                    ("is_prime", 3, 100, 200, 90)
                );
            }
            other => panic!("expected a task, got {other:?}"),
        }
        assert!(matches!(parsed.records[0], Record::Main { gil: true, .. }));
        assert!(matches!(
            parsed.records[4],
            Record::Exit { code: Some(0), .. }
        ));
    }
}
