//! `parlab py` and `parlab open` as real processes, under the real `python3`
//! (CI installs Debian's). Assertions are on structure: who ran what, how
//! many, what the program printed; never on speed.

use crate::common::{is_running, run as parlab};
use serde_json::Value;
use std::collections::BTreeSet;

/// Runs `parlab py --json ARGS` and returns (exit success, JSON).
fn py(args: &[&str]) -> (bool, Value) {
    let mut all = vec!["py", "--json", "--timeout", "60"];
    all.extend_from_slice(args);
    let out = parlab(&all);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.success(), v)
}

fn ok(args: &[&str]) -> Value {
    let (success, v) = py(args);
    assert!(success, "{}\n{}", v["ending"], v["stderr"]);
    v
}

fn tasks(v: &Value) -> &Vec<Value> {
    v["tasks"].as_array().expect("tasks")
}

fn distinct(v: &Value, key: &str) -> BTreeSet<u64> {
    tasks(v)
        .iter()
        .map(|t| t[key].as_u64().expect("id"))
        .collect()
}

fn stdout(v: &Value) -> &str {
    v["stdout"].as_str().expect("stdout")
}

#[test]
fn every_shipped_program_runs() {
    let list = parlab(&["py", "--list"]);
    assert!(list.status.success());
    let names: Vec<String> = String::from_utf8_lossy(&list.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect();
    assert_eq!(names.len(), 11, "{names:?}");
    for name in &names {
        // Small sizes: this checks that each runs and is traced, not how fast.
        let extra: &[&str] = match name.as_str() {
            "pool_primes" => &["--items", "4", "--digits", "8"],
            "threads_vs_processes" => &["--limit", "20000"],
            "sleep_threads" => &["--items", "4"],
            "value_race" | "value_locked" => &["--count", "200"],
            _ => &[],
        };
        let mut args = vec![name.as_str()];
        args.extend_from_slice(extra);
        let v = ok(&args);
        assert!(!tasks(&v).is_empty(), "{name}: no task traced");
        assert!(v["python"]["version"].as_str().is_some(), "{name}");
        assert!(!stdout(&v).is_empty(), "{name}: printed nothing");
    }
}

/// Every task waits at a barrier for three: three tasks at a time must run
/// in three different workers, whatever the scheduling.
const BARRIER_POOL: &str = r#"import os
import multiprocessing as mp

def init(b):
    global barrier
    barrier = b

def task(x):
    barrier.wait(timeout=30)
    return os.getpid()

if __name__ == '__main__':
    b = mp.Barrier(3)
    with mp.Pool(3, initializer=init, initargs=(b,)) as p:
        print(len(set(p.map(task, range(12), chunksize=1))), 'workers')
"#;

#[test]
fn processes_mode_has_n_worker_pids_and_one_record_per_item() {
    let (_dir, script) = temp_script("barrier_pool.py", BARRIER_POOL);
    for method in ["fork", "spawn"] {
        let v = ok(&["--start-method", method, &script]);
        assert_eq!(stdout(&v).trim(), "3 workers");
        let main_pid = v["lanes"][0]["pid"].as_u64().expect("main pid");
        let pids = distinct(&v, "pid");
        assert_eq!(pids.len(), 3, "{method}: {pids:?}");
        assert!(!pids.contains(&main_pid), "tasks ran in the workers");
        let mut indices: Vec<u64> = tasks(&v)
            .iter()
            .map(|t| t["index"].as_u64().expect("index"))
            .collect();
        indices.sort_unstable();
        assert_eq!(indices, (0..12).collect::<Vec<_>>(), "{method}");
        // Every worker's start-up is on the timeline, with the start method.
        let startups = v["startups"].as_array().expect("startups");
        assert_eq!(startups.len(), 3, "{method}");
        assert!(
            startups.iter().all(|s| s["method"] == method),
            "{startups:?}"
        );
    }
    // The shipped primes program: one record per number, only in workers
    // (how many workers get work is up to the scheduler).
    let v = ok(&[
        "--workers",
        "3",
        "--mode",
        "processes",
        "pool_primes",
        "--items",
        "12",
        "--digits",
        "8",
    ]);
    let main_pid = v["lanes"][0]["pid"].as_u64().expect("main pid");
    let pids = distinct(&v, "pid");
    assert!(
        (1..=3).contains(&pids.len()) && !pids.contains(&main_pid),
        "{pids:?}"
    );
    let mut indices: Vec<u64> = tasks(&v)
        .iter()
        .map(|t| t["index"].as_u64().expect("index"))
        .collect();
    indices.sort_unstable();
    assert_eq!(indices, (0..12).collect::<Vec<_>>());
    assert!(tasks(&v).iter().all(|t| t["fn"] == "is_prime"));
    assert_eq!(v["startups"].as_array().expect("startups").len(), 3);
    assert!(stdout(&v).contains("12 of 12 numbers are prime"));
}

#[test]
fn threads_mode_has_one_pid_and_n_thread_ids() {
    let v = ok(&[
        "--workers",
        "3",
        "--mode",
        "threads",
        "threads_vs_processes",
        "--limit",
        "200000",
    ]);
    assert_eq!(tasks(&v).len(), 3);
    assert_eq!(distinct(&v, "pid").len(), 1);
    assert_eq!(distinct(&v, "tid").len(), 3);
    assert!(tasks(&v).iter().all(|t| t["cpu_ms"].as_f64().is_some()));
    let pool = ok(&[
        "--workers",
        "2",
        "--mode",
        "threads",
        "pool_primes",
        "--items",
        "6",
        "--digits",
        "8",
    ]);
    assert_eq!(tasks(&pool).len(), 6);
    assert_eq!(distinct(&pool, "pid").len(), 1);
    assert!(distinct(&pool, "tid").len() <= 2);
    assert!(pool["startups"].as_array().expect("startups").is_empty());
}

#[test]
fn races_and_locks_end_where_the_course_says() {
    let race = ok(&["race_threads"]);
    assert!(stdout(&race).contains("End value: 1"), "{}", stdout(&race));
    assert_eq!(tasks(&race).len(), 2);
    let locked = ok(&["race_locked"]);
    assert!(
        stdout(&locked).contains("End value: 2"),
        "{}",
        stdout(&locked)
    );
    let value = ok(&["value_locked", "--count", "2000"]);
    assert!(
        stdout(&value).contains("Number at end is 4000 (expected 4000)"),
        "{}",
        stdout(&value)
    );
    assert_eq!(distinct(&value, "pid").len(), 2);
}

#[test]
fn a_child_process_does_not_change_the_parents_list() {
    let v = ok(&["global_list"]);
    let out = stdout(&v);
    assert!(
        out.contains("inside the worker: result [4, 9, 25, 49]"),
        "{out}"
    );
    assert!(out.contains("in the parent: result []"), "{out}");
    let shared = ok(&["--mode", "threads", "global_list"]);
    assert!(stdout(&shared).contains("in the parent: result [4, 9, 25, 49]"));
}

fn temp_script(name: &str, text: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("write script");
    let p = path.display().to_string();
    (dir, p)
}

#[test]
fn a_raising_script_shows_its_traceback_and_fails_with_the_trace_kept() {
    let (dir, script) = temp_script(
        "boom.py",
        "from multiprocessing import Pool\n\ndef half(x):\n    return x / 2\n\nif __name__ == '__main__':\n    with Pool(2) as p:\n        print(p.map(half, range(4)))\n    raise ValueError('deliberate failure')\n",
    );
    let trace = dir.path().join("boom.json");
    let trace_s = trace.display().to_string();
    let (success, v) = py(&["--trace-out", &trace_s, &script]);
    assert!(!success);
    assert_eq!(v["ending"]["kind"], "exited");
    assert_eq!(v["ending"]["exit_code"], 1);
    let stderr = v["stderr"].as_str().expect("stderr");
    assert!(stderr.contains("Traceback"), "{stderr}");
    assert!(
        stderr.contains("ValueError: deliberate failure"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("runpy"),
        "parlab's own frames are hidden: {stderr}"
    );
    assert_eq!(tasks(&v).len(), 4, "the tasks before the error are kept");
    assert!(trace.is_file(), "the trace is written even on failure");
    // The plain output names the exit code too.
    let plain = parlab(&["py", &script]);
    assert_eq!(plain.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&plain.stderr).contains("exit code 1"));
}

#[test]
fn timeout_kills_the_script_and_its_children() {
    let (_dir, script) = temp_script(
        "sleeper.py",
        "import os, time\nfrom multiprocessing import Process\n\ndef nap():\n    print('child', os.getpid(), flush=True)\n    time.sleep(600)\n\nif __name__ == '__main__':\n    kids = [Process(target=nap) for _ in range(2)]\n    for k in kids:\n        k.start()\n    print('parent', os.getpid(), flush=True)\n    time.sleep(600)\n",
    );
    let out = parlab(&["py", "--json", "--timeout", "2", &script]);
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["ending"]["kind"], "timed_out");
    assert!(
        v["ending"]["message"]
            .as_str()
            .expect("message")
            .contains("killed the script's process group")
    );
    // Every pid we know of: printed by the script, traced, and the group
    // leader parlab started (on a loaded machine the script may not have got
    // as far as printing within 2 s; the leader is always known).
    let mut pids: Vec<u64> = stdout(&v)
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1)?.parse().ok())
        .collect();
    let children = stdout(&v)
        .lines()
        .filter(|l| l.starts_with("child"))
        .count();
    pids.extend(
        v["lanes"]
            .as_array()
            .expect("lanes")
            .iter()
            .filter_map(|l| l["pid"].as_u64()),
    );
    pids.push(v["process_group"].as_u64().expect("process group"));
    pids.sort_unstable();
    pids.dedup();
    // Killed with SIGKILL; the kernel may take a moment to tear them down.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while pids.iter().any(|&p| is_running(p)) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let left: Vec<u64> = pids.iter().copied().filter(|&p| is_running(p)).collect();
    assert!(left.is_empty(), "still running: {left:?}");
    // Each child that printed had its start-up traced before the kill.
    assert!(v["startups"].as_array().expect("startups").len() >= children);
}

#[test]
fn a_missing_interpreter_names_the_package() {
    let out = parlab(&["py", "--python", "/nonexistent/python3", "race_threads"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("apt install python3"), "{err}");
    assert!(err.contains("/nonexistent/python3"), "{err}");
    let out = parlab(&["py", "no_such_program"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("pool_primes"));
    let out = parlab(&["py", "--workers", "2", "race_threads"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "race_threads takes no --workers"
    );
}

#[test]
fn named_functions_are_traced_with_task() {
    let (_dir, script) = temp_script(
        "plain.py",
        "def square(x):\n    return x * x\n\nif __name__ == '__main__':\n    print(sum(square(i) for i in range(5)))\n",
    );
    let v = ok(&["--task", "square", &script]);
    assert_eq!(stdout(&v).trim(), "30");
    assert_eq!(tasks(&v).len(), 5);
    assert!(tasks(&v).iter().all(|t| t["fn"] == "square"));
}

#[test]
fn open_round_trips_parlabs_own_export() {
    let dir = tempfile::tempdir().expect("temp dir");
    let trace = dir.path().join("run.json");
    let trace_s = trace.display().to_string();
    let v = ok(&[
        "--trace-out",
        &trace_s,
        "--workers",
        "2",
        "pool_primes",
        "--items",
        "6",
        "--digits",
        "8",
    ]);
    let out = parlab(&["open", "--json", &trace_s]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let back: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(back["tasks"], 6);
    assert_eq!(back["startups"], v["startups"].as_array().expect("s").len());
    assert_eq!(back["lanes"], v["lanes"]);
    assert_eq!(
        back["summary"]["task_processes"],
        v["summary"]["task_processes"]
    );
    let busy = |x: &Value| -> Vec<u64> {
        x["summary"]["lanes"]
            .as_array()
            .expect("lanes")
            .iter()
            .map(|l| l["busy_nanos"].as_u64().expect("busy"))
            .collect()
    };
    assert_eq!(busy(&back), busy(&v));

    // The speedup lab's own workload traces open too.
    let rust_trace = dir.path().join("workload.json");
    let rust_s = rust_trace.display().to_string();
    let made = parlab(&[
        "workload",
        "run",
        "--workload",
        "primes:count=40",
        "--workers",
        "2",
        "--trace-out",
        &rust_s,
    ]);
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let back = parlab(&["open", "--json", &rust_s]);
    assert!(back.status.success());
    let back: Value = serde_json::from_slice(&back.stdout).expect("JSON");
    assert_eq!(back["lanes"].as_array().expect("lanes").len(), 2);
    assert!(back["tasks"].as_u64().expect("tasks") > 0);
}

#[test]
fn open_summary_prints_lanes_without_a_window() {
    let dir = tempfile::tempdir().expect("temp dir");
    let trace = dir.path().join("run.json");
    let trace_s = trace.display().to_string();
    ok(&[
        "--trace-out",
        &trace_s,
        "--workers",
        "2",
        "pool_primes",
        "--items",
        "6",
        // 12-digit numbers: tens of ms a task, so both workers take some
        // (with 8 digits one worker could finish all six before the other started).
        "--digits",
        "12",
    ]);
    let out = parlab(&["open", "--summary", &trace_s]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(text.contains("6 task(s) on"), "{text}");
    assert!(text.contains("utilisation"), "{text}");
    // One line per worker process, named with its pid.
    let workers = text
        .lines()
        .filter(|l| l.contains("PoolWorker-") && l.contains("(pid "))
        .count();
    assert!(workers >= 2, "{text}");
    // `--print` is the same.
    let print = parlab(&["open", "--print", &trace_s]);
    assert_eq!(String::from_utf8_lossy(&print.stdout), text);
    if !cfg!(feature = "gui") {
        // Without the window, a plain `open` prints the summary and says why.
        let plain = parlab(&["open", &trace_s]);
        assert!(plain.status.success());
        assert_eq!(String::from_utf8_lossy(&plain.stdout), text);
        let err = String::from_utf8_lossy(&plain.stderr);
        assert!(err.contains("no window"), "{err}");
    }
}

#[test]
fn a_sweep_measures_both_modes_and_other_processes_cpu() {
    let dir = tempfile::tempdir().expect("temp dir");
    let report = dir.path().join("sweep.json");
    let report_s = report.display().to_string();
    let out = parlab(&[
        "py",
        "--sweep",
        "1,2",
        "--reps",
        "1",
        "--sweep-out",
        &report_s,
        "pool_primes",
        "--items",
        "4",
        "--digits",
        "6",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    for mode in ["processes", "threads"] {
        let rows = text.lines().filter(|l| l.starts_with(mode)).count();
        assert_eq!(rows, 2, "{mode}: one row per worker count\n{text}");
    }
    // The busy-machine check ran (its verdict depends on the machine).
    assert!(text.contains("other processes"), "{text}");
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(&report).expect("report")).expect("JSON");
    assert!(
        v["meta"]["workload_params"]["method"]
            .as_str()
            .is_some_and(|m| m.contains("same mode on 1 worker")),
        "{}",
        v["meta"]
    );
    assert!(v["meta"]["machine_busy"].is_boolean());
    assert_eq!(v["compared"].as_array().map(Vec::len), Some(1));
}

#[test]
fn a_malformed_trace_gives_its_position() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        "{\"traceEvents\": [\n  {\"ph\": \"X\", \"ts\": 1,\n  oops\n]}",
    )
    .expect("write");
    let out = parlab(&["open", &bad.display().to_string()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 3, column"), "{err}");
    assert!(err.contains("bad.json"), "{err}");
}
