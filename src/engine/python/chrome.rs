//! Chrome Trace Event JSON in and out for lane traces: parlab's own exports,
//! VizTracer's and py-spy's (`--format chrometrace`) open in the same
//! timeline.
//!
//! Import reads complete events (`ph: "X"`), begin/end pairs (`B`/`E`) and
//! the `process_name` / `thread_name` / `thread_sort_index` metadata; other
//! phases are counted and skipped. Events nested inside another event of
//! the same lane (a profiler's call tree) are folded into the outermost one,
//! so busy time is never counted twice. The file is parsed as a stream into
//! the few fields used; a malformed file gives its line and column.

use crate::engine::python::lanes::{Lane, LaneTask, LaneTrace, Startup};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::io::Read;

/// Category of start-up bars in parlab's exports.
pub const STARTUP_CATEGORY: &str = "startup";

/// Exports a lane trace: one `X` event per task and per worker start-up,
/// lanes named and ordered by metadata, times in µs from the run's origin.
pub fn to_chrome_json(trace: &LaneTrace) -> Value {
    let mut events = Vec::with_capacity(trace.tasks.len() + 3 * trace.lanes.len());
    let mut named_processes: Vec<u64> = Vec::new();
    for (i, lane) in trace.lanes.iter().enumerate() {
        if !named_processes.contains(&lane.pid) {
            named_processes.push(lane.pid);
            events.push(
                json!({"name": "process_name", "ph": "M", "pid": lane.pid, "tid": lane.pid,
                "args": {"name": lane.process_name}}),
            );
        }
        events.push(
            json!({"name": "thread_name", "ph": "M", "pid": lane.pid, "tid": lane.tid,
            "args": {"name": lane.thread_name}}),
        );
        events.push(
            json!({"name": "thread_sort_index", "ph": "M", "pid": lane.pid, "tid": lane.tid,
            "args": {"sort_index": i}}),
        );
    }
    let lane_of = |i: u32| trace.lanes.get(i as usize).cloned().unwrap_or_default();
    for s in &trace.startups {
        let lane = lane_of(s.lane);
        events.push(
            json!({"name": format!("start-up ({})", s.method), "cat": STARTUP_CATEGORY,
            "ph": "X", "pid": lane.pid, "tid": lane.tid,
            "ts": s.start_nanos as f64 / 1000.0, "dur": s.nanos() as f64 / 1000.0,
            "args": {"method": s.method}}),
        );
    }
    for t in &trace.tasks {
        let lane = lane_of(t.lane);
        let mut args = json!({"index": t.index, "arg": t.arg, "source": t.source, "ok": t.ok});
        if let Some(cpu) = t.cpu_nanos {
            args["cpu_us"] = json!(cpu as f64 / 1000.0);
        }
        events.push(json!({"name": t.name, "cat": "task", "ph": "X", "pid": lane.pid, "tid": lane.tid,
            "ts": t.start_nanos as f64 / 1000.0, "dur": t.wall_nanos() as f64 / 1000.0, "args": args}));
    }
    json!({"traceEvents": events, "displayTimeUnit": "ms",
           "otherData": {"wall_us": trace.wall_nanos as f64 / 1000.0, "producer": "parlab"}})
}

/// An imported trace and what was left out.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Imported {
    pub trace: LaneTrace,
    /// Events of phases other than X, B, E and M.
    pub skipped_events: usize,
    /// Events folded into an enclosing event of the same lane.
    pub nested_events: usize,
    /// `E` events without a `B`, and `B` events never ended.
    pub unmatched_events: usize,
}

impl Imported {
    /// What the import left out, in one line (empty when nothing was).
    pub fn note(&self) -> String {
        if self.nested_events + self.skipped_events + self.unmatched_events == 0 {
            return String::new();
        }
        format!(
            "{} nested event(s) folded into their outer event, {} event(s) of other kinds skipped, {} unmatched begin/end",
            self.nested_events, self.skipped_events, self.unmatched_events
        )
    }
}

/// Reads and imports the trace at `path`; every failure is a message naming
/// the file (and the line and column for malformed JSON).
pub fn import_file(path: &std::path::Path) -> Result<Imported, super::PythonError> {
    let file = std::fs::File::open(path).map_err(|source| super::PythonError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    from_chrome_reader(file).map_err(|source| super::PythonError::Import {
        path: path.to_path_buf(),
        source,
    })
}

/// Why a trace could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportError {
    /// 1-based line and column of the problem, where known.
    pub position: Option<(usize, usize)>,
    pub message: String,
}

impl std::fmt::Display for ImportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.position {
            Some((line, column)) => write!(f, "line {line}, column {column}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for ImportError {}

/// A process or thread id: Chrome traces use numbers, some tools strings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(untagged)]
enum Id {
    Number(i64),
    Text(String),
    #[default]
    None,
}

#[derive(Deserialize)]
struct Event {
    #[serde(default)]
    name: String,
    #[serde(default)]
    cat: String,
    #[serde(default)]
    ph: String,
    #[serde(default)]
    pid: Id,
    #[serde(default)]
    tid: Id,
    ts: Option<f64>,
    dur: Option<f64>,
    #[serde(default)]
    args: Value,
}

/// A lane: (pid, tid).
type LaneKey = (Id, Id);

/// One span of an event (X, or a B/E pair), times in µs.
struct Span {
    key: LaneKey,
    name: String,
    cat: String,
    start_us: f64,
    end_us: f64,
    args: Value,
}

/// A `B` event waiting for its `E`.
struct Begun {
    name: String,
    cat: String,
    start_us: f64,
    args: Value,
}

#[derive(Deserialize)]
struct TraceFile {
    #[serde(rename = "traceEvents")]
    trace_events: Vec<Event>,
    #[serde(rename = "otherData", default)]
    other_data: Value,
}

fn json_error(e: &serde_json::Error) -> ImportError {
    ImportError {
        position: (e.line() > 0).then(|| (e.line(), e.column())),
        message: format!("not Chrome trace JSON: {e}"),
    }
}

/// Reads Chrome Trace Event JSON: either `{"traceEvents": [...]}` or a bare
/// array of events.
pub fn from_chrome_reader(reader: impl Read) -> Result<Imported, ImportError> {
    let mut reader = std::io::BufReader::new(reader);
    let first = first_significant_byte(&mut reader)?;
    let (events, other) = match first {
        Some(b'[') => {
            let events: Vec<Event> = serde_json::from_reader(reader).map_err(|e| json_error(&e))?;
            (events, Value::Null)
        }
        Some(b'{') => {
            let file: TraceFile = serde_json::from_reader(reader).map_err(|e| json_error(&e))?;
            (file.trace_events, file.other_data)
        }
        Some(b) => {
            return Err(ImportError {
                position: Some((1, 1)),
                message: format!(
                    "not Chrome trace JSON: starts with {:?}, expected '{{' or '['",
                    b as char
                ),
            });
        }
        None => {
            return Err(ImportError {
                position: None,
                message: "the file is empty".into(),
            });
        }
    };
    Ok(build(events, &other))
}

/// Peeks at the first non-whitespace byte without consuming it.
fn first_significant_byte(
    reader: &mut std::io::BufReader<impl Read>,
) -> Result<Option<u8>, ImportError> {
    use std::io::BufRead;
    loop {
        let buf = reader.fill_buf().map_err(|e| ImportError {
            position: None,
            message: format!("could not read: {e}"),
        })?;
        if buf.is_empty() {
            return Ok(None);
        }
        match buf.iter().position(|b| !b.is_ascii_whitespace()) {
            Some(i) => return Ok(buf.get(i).copied()),
            None => {
                let n = buf.len();
                reader.consume(n);
            }
        }
    }
}

fn build(events: Vec<Event>, other: &Value) -> Imported {
    let mut out = Imported::default();
    // parlab's exports count from their own origin; other tools' clocks are
    // arbitrary, so their earliest event becomes time zero.
    let parlab_wall_us = other["wall_us"].as_f64();
    let mut process_names: HashMap<Id, String> = HashMap::new();
    let mut thread_names: HashMap<LaneKey, String> = HashMap::new();
    let mut sort_index: HashMap<LaneKey, i64> = HashMap::new();
    let mut spans: Vec<Span> = Vec::new();
    let mut open: HashMap<LaneKey, Vec<Begun>> = HashMap::new();
    for e in events {
        let key = (e.pid.clone(), e.tid.clone());
        match e.ph.as_str() {
            "M" => {
                let name = e.args["name"].as_str().unwrap_or_default().to_string();
                match e.name.as_str() {
                    "process_name" => {
                        process_names.insert(e.pid, name);
                    }
                    "thread_name" => {
                        thread_names.insert(key, name);
                    }
                    "thread_sort_index" => {
                        if let Some(i) = e.args["sort_index"].as_i64() {
                            sort_index.insert(key, i);
                        }
                    }
                    _ => {}
                }
            }
            "X" => match (e.ts, e.dur) {
                (Some(ts), Some(dur)) => spans.push(Span {
                    key,
                    name: e.name,
                    cat: e.cat,
                    start_us: ts,
                    end_us: ts + dur.max(0.0),
                    args: e.args,
                }),
                _ => out.skipped_events += 1,
            },
            "B" => match e.ts {
                Some(ts) => open.entry(key).or_default().push(Begun {
                    name: e.name,
                    cat: e.cat,
                    start_us: ts,
                    args: e.args,
                }),
                None => out.skipped_events += 1,
            },
            "E" => {
                let begun = open.get_mut(&key).and_then(Vec::pop);
                match (begun, e.ts) {
                    (Some(b), Some(ts)) => spans.push(Span {
                        key,
                        name: b.name,
                        cat: b.cat,
                        start_us: b.start_us,
                        end_us: ts.max(b.start_us),
                        args: b.args,
                    }),
                    _ => out.unmatched_events += 1,
                }
            }
            _ => out.skipped_events += 1,
        }
    }
    out.unmatched_events += open.values().map(Vec::len).sum::<usize>();

    // Lanes: every (pid, tid) seen in spans or thread metadata.
    let mut keys: Vec<LaneKey> = spans.iter().map(|s| s.key.clone()).collect();
    keys.extend(thread_names.keys().cloned());
    keys.sort();
    keys.dedup();
    keys.sort_by_key(|k| (sort_index.get(k).copied().unwrap_or(i64::MAX), k.clone()));
    let mut synthetic = 1u64 << 40;
    let mut numeric = |id: &Id| match id {
        Id::Number(n) => *n as u64,
        _ => {
            synthetic += 1;
            synthetic
        }
    };
    let mut lane_of: HashMap<LaneKey, u32> = HashMap::new();
    for (i, k) in keys.iter().enumerate() {
        lane_of.insert(k.clone(), i as u32);
        out.trace.lanes.push(Lane {
            pid: numeric(&k.0),
            tid: numeric(&k.1),
            process_name: process_names.get(&k.0).cloned().unwrap_or_default(),
            thread_name: thread_names.get(k).cloned().unwrap_or_default(),
        });
    }

    let origin_us = if parlab_wall_us.is_some() {
        0.0
    } else {
        spans
            .iter()
            .map(|s| s.start_us)
            .fold(f64::INFINITY, f64::min)
    };
    let origin_us = if origin_us.is_finite() {
        origin_us
    } else {
        0.0
    };
    let nanos = |us: f64| ((us - origin_us) * 1000.0).round().max(0.0) as u64;

    // Fold nested spans per lane: keep the outermost.
    spans.sort_by(|a, b| {
        lane_of[&a.key]
            .cmp(&lane_of[&b.key])
            .then(a.start_us.total_cmp(&b.start_us))
            .then(b.end_us.total_cmp(&a.end_us))
    });
    let mut per_lane_end: BTreeMap<u32, f64> = BTreeMap::new();
    for (position, span) in spans.into_iter().enumerate() {
        let Span {
            key,
            name,
            cat,
            start_us: start,
            end_us: end,
            args,
        } = span;
        let lane = lane_of[&key];
        let outer_end = per_lane_end
            .get(&lane)
            .copied()
            .unwrap_or(f64::NEG_INFINITY);
        if start < outer_end {
            out.nested_events += 1;
            continue;
        }
        per_lane_end.insert(lane, end);
        if cat == STARTUP_CATEGORY {
            out.trace.startups.push(Startup {
                lane,
                method: args["method"].as_str().unwrap_or("?").to_string(),
                start_nanos: nanos(start),
                end_nanos: nanos(end),
                ready: args["ready"].as_bool().unwrap_or(true),
            });
            continue;
        }
        let index = args["index"]
            .as_u64()
            .or_else(|| args["task"].as_u64())
            .unwrap_or(position as u64);
        out.trace.tasks.push(LaneTask {
            lane,
            index,
            name,
            arg: args["arg"].as_str().unwrap_or_default().to_string(),
            start_nanos: nanos(start),
            end_nanos: nanos(end),
            cpu_nanos: args["cpu_us"]
                .as_f64()
                .map(|us| (us * 1000.0).round() as u64),
            source: args["source"].as_str().unwrap_or("import").to_string(),
            ok: args["ok"].as_bool().unwrap_or(true),
        });
    }
    out.trace.tasks.sort_by_key(|t| (t.start_nanos, t.lane));
    let last = out
        .trace
        .tasks
        .iter()
        .map(|t| t.end_nanos)
        .chain(out.trace.startups.iter().map(|s| s.end_nanos))
        .max()
        .unwrap_or(0);
    out.trace.wall_nanos = parlab_wall_us
        .map(|us| (us * 1000.0).round() as u64)
        .unwrap_or(0)
        .max(last);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::exec::trace::{TaskRecord, Trace};

    fn import(text: &str) -> Result<Imported, ImportError> {
        from_chrome_reader(text.as_bytes())
    }

    #[test]
    fn engine_trace_export_round_trips() {
        let t = Trace {
            num_workers: 3,
            wall_nanos: 9_000_123,
            records: vec![
                TaskRecord {
                    task: 0,
                    worker: 2,
                    start_nanos: 1_234_567,
                    end_nanos: 2_000_001,
                    work: 5,
                    cpu: None,
                },
                TaskRecord {
                    task: 1,
                    worker: 0,
                    start_nanos: 10,
                    end_nanos: 8_999_999,
                    work: 5,
                    cpu: None,
                },
            ],
        };
        let text = t.to_chrome_json("tile").to_string();
        let back = import(&text).expect("imports");
        assert_eq!(back.trace.lanes.len(), 3, "worker 1 has no task but a name");
        assert_eq!(back.trace.wall_nanos, 9_000_123);
        let tr = back.trace.to_trace();
        let mut got: Vec<(u32, u64, u64)> = tr
            .records
            .iter()
            .map(|r| (r.worker, r.start_nanos, r.end_nanos))
            .collect();
        got.sort_unstable();
        assert_eq!(got, vec![(0, 10, 8_999_999), (2, 1_234_567, 2_000_001)]);
        assert_eq!(back.trace.tasks[1].index, 0);
    }

    #[test]
    fn lane_trace_export_round_trips() {
        let lt = LaneTrace {
            lanes: vec![
                Lane {
                    pid: 50,
                    tid: 50,
                    process_name: "MainProcess".into(),
                    thread_name: "MainThread".into(),
                },
                Lane {
                    pid: 7,
                    tid: 7,
                    process_name: "SpawnPoolWorker-1".into(),
                    thread_name: "MainThread".into(),
                },
            ],
            tasks: vec![LaneTask {
                lane: 1,
                index: 4,
                name: "is_prime".into(),
                arg: "101".into(),
                start_nanos: 5_000,
                end_nanos: 9_000,
                cpu_nanos: Some(3_000),
                source: "Pool.map".into(),
                ok: true,
            }],
            startups: vec![Startup {
                lane: 1,
                method: "spawn".into(),
                start_nanos: 1_000,
                end_nanos: 4_000,
                ready: true,
            }],
            pools: Vec::new(),
            wall_nanos: 10_000,
        };
        let text = to_chrome_json(&lt).to_string();
        let back = import(&text).expect("imports").trace;
        assert_eq!(back.lanes, lt.lanes, "lane order kept by thread_sort_index");
        assert_eq!(back.tasks, lt.tasks);
        assert_eq!(back.startups, lt.startups);
        assert_eq!(back.wall_nanos, lt.wall_nanos);
    }

    #[test]
    fn begin_end_pairs_nesting_and_foreign_clocks() {
        // A profiler's call tree: f contains g on thread 2; thread 3 has one span.
        let text = r#"[
 {"ph":"B","name":"f","pid":1,"tid":2,"ts":1000000.0},
 {"ph":"B","name":"g","pid":1,"tid":2,"ts":1000001.0},
 {"ph":"E","pid":1,"tid":2,"ts":1000002.0},
 {"ph":"E","pid":1,"tid":2,"ts":1000010.0},
 {"ph":"X","name":"h","pid":1,"tid":3,"ts":1000004.0,"dur":2.0},
 {"ph":"C","name":"counter","pid":1,"ts":1000005.0},
 {"ph":"E","pid":1,"tid":9,"ts":1000011.0}
]"#;
        let back = import(text).expect("imports");
        assert_eq!(back.nested_events, 1);
        assert_eq!(back.skipped_events, 1);
        assert_eq!(back.unmatched_events, 1);
        let t = &back.trace;
        assert_eq!(t.lanes.len(), 2);
        assert_eq!(t.tasks.len(), 2);
        assert_eq!((t.tasks[0].start_nanos, t.tasks[0].end_nanos), (0, 10_000));
        assert_eq!(
            (t.tasks[1].start_nanos, t.tasks[1].end_nanos),
            (4_000, 6_000)
        );
        assert_eq!(t.wall_nanos, 10_000);
    }

    #[test]
    fn malformed_files_name_the_position() {
        let err = import("{\"traceEvents\": [\n {\"ph\": \"X\",, }\n]}").expect_err("malformed");
        assert_eq!(err.position.map(|p| p.0), Some(2), "{err}");
        assert!(err.to_string().starts_with("line 2, column"), "{err}");
        let err = import("hello").expect_err("not JSON");
        assert!(err.to_string().contains("expected '{' or '['"), "{err}");
        assert!(import("  ").is_err());
    }
}
