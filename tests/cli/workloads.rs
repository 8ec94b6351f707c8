//! `parlab workload`, `parlab workspan` and `parlab gridsearch` run as real processes.

use crate::common::{json_of, run as parlab};

#[test]
fn gridsearch_answers_the_seed_question() {
    let v = json_of(&parlab(&[
        "gridsearch",
        "--grid",
        "5x5x5",
        "--task-s",
        "70",
        "--deadline-s",
        "1200",
        "--json",
    ]));
    assert_eq!(v["plan"]["tasks"], 125);
    assert_eq!(v["plan"]["min_workers"], 8);
    assert_eq!(v["plan"]["rounds"], 16);
    let rows = v["quantisation"].as_array().expect("table");
    let p8 = rows.iter().find(|r| r["workers"] == 8).expect("row for 8");
    assert_eq!(p8["speedup"], 7.8125);
    assert_eq!(p8["meets_deadline"], true);
    let p7 = rows.iter().find(|r| r["workers"] == 7).expect("row for 7");
    assert_eq!(p7["meets_deadline"], false);
}

#[test]
fn gridsearch_says_a_whole_naive_count_is_exactly_enough() {
    let out = parlab(&[
        "gridsearch",
        "--tasks",
        "100",
        "--task-s",
        "60",
        "--deadline-s",
        "600",
    ]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("10.00 workers, rounded up, is exactly enough"),
        "{text}"
    );
    assert!(!text.contains("not enough"), "{text}");
}

#[test]
fn gridsearch_refuses_the_impossible_with_exit_2() {
    let out = parlab(&[
        "gridsearch",
        "--tasks",
        "10",
        "--task-s",
        "70",
        "--deadline-s",
        "60",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("impossible"));
    let out = parlab(&[
        "gridsearch",
        "--tasks",
        "10",
        "--task-s",
        "-1",
        "--deadline-s",
        "60",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let out = parlab(&[
        "gridsearch",
        "--grid",
        "5xx5",
        "--task-s",
        "1",
        "--deadline-s",
        "60",
    ]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn workspan_reports_structural_brent_checks_and_writes_a_trace() {
    let dir = tempfile::tempdir().expect("tempdir");
    let trace = dir.path().join("leaves.json");
    let v = json_of(&parlab(&[
        "workspan",
        "--n",
        "128",
        "--cutoff",
        "32",
        "--workers",
        "3",
        "--growth",
        "--repeats",
        "2",
        "--json",
        "--trace-out",
        trace.to_str().expect("utf-8 path"),
    ]));
    assert_eq!(v["matches_serial"], true);
    assert_eq!(v["span_le_tp"], true);
    assert_eq!(v["work_over_p_le_tp"], true);
    assert_eq!(v["structural_checks_hold_in_every_run"], true);
    assert!(v["spread_ms"]["wall_ms"]["min"].as_f64().expect("min") > 0.0);
    // Parallelism is T1/Tinf of the instrumented 1-worker run (as Cilkscale), not the P-worker run's.
    let one = &v["one_worker"];
    let t1_over_tinf = one["work_nanos"].as_f64().expect("T1")
        / one["span_nanos"].as_f64().expect("Tinf").max(1.0);
    assert!((v["parallelism"].as_f64().expect("parallelism") - t1_over_tinf).abs() < 1e-9);
    assert!(
        v["burdened_span_ms"].as_f64().expect("burdened")
            >= one["span_nanos"].as_f64().expect("Tinf") / 1e6
    );
    assert_eq!(v["parallel"]["leaf_products"], 64);
    assert_eq!(v["growth"].as_array().expect("rows").len(), 2);
    let t: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&trace).expect("trace written")).expect("json");
    let leaves = t["traceEvents"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["ph"] == "X")
        .count();
    assert_eq!(leaves, 64 + 48);
}

#[test]
fn workspan_bad_sizes_exit_2_and_write_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let trace = dir.path().join("t.json");
    for args in [
        ["--n", "100", "--cutoff", "4"],
        ["--n", "64", "--cutoff", "128"],
    ] {
        let mut all = vec!["workspan"];
        all.extend(args);
        all.extend(["--trace-out", trace.to_str().expect("utf-8")]);
        let out = parlab(&all);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(!trace.exists());
    }
}

#[test]
fn every_workload_runs_and_agrees_with_serial() {
    for (spec, gil) in [
        ("primes:count=200,chunk=10,trial=sqrt", false),
        ("primes:start=1000,count=200,chunk=10", true),
        ("dot:len=100000,chunks=16", false),
        ("matmul:n=64,cutoff=16", false),
        ("io:tasks=8,wait-ms=2,rounds=100", true),
    ] {
        for schedule in ["sequential", "static-cyclic", "guided", "work-stealing"] {
            let mut args = vec![
                "workload",
                "run",
                "--workload",
                spec,
                "--workers",
                "3",
                "--schedule",
                schedule,
                "--repeats",
                "2",
                "--json",
            ];
            if gil {
                args.push("--gil");
            }
            let v = json_of(&parlab(&args));
            assert_eq!(v["agrees_with_serial"], true, "{spec} {schedule}");
            assert_eq!(v["runs"].as_array().expect("runs").len(), 2);
            assert_eq!(v["gil"], gil);
        }
    }
}

#[test]
fn workload_run_writes_a_chrome_trace() {
    let dir = tempfile::tempdir().expect("tempdir");
    let trace = dir.path().join("primes.json");
    let v = json_of(&parlab(&[
        "workload",
        "run",
        "--workload",
        "primes:count=120,chunk=10,trial=sqrt",
        "--workers",
        "2",
        "--json",
        "--trace-out",
        trace.to_str().expect("utf-8"),
    ]));
    assert_eq!(v["tasks"], 12);
    let t: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&trace).expect("written")).expect("json");
    let tasks = t["traceEvents"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["ph"] == "X")
        .count();
    assert_eq!(tasks, 12);
}

#[test]
fn bad_workload_input_exits_2_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let trace = dir.path().join("t.json");
    let t = trace.to_str().expect("utf-8");
    for args in [
        vec!["workload", "run", "--workload", "mandel", "--trace-out", t],
        vec![
            "workload",
            "run",
            "--workload",
            "dot:len=0",
            "--trace-out",
            t,
        ],
        vec![
            "workload",
            "run",
            "--workload",
            "primes:chunk=x",
            "--trace-out",
            t,
        ],
        vec!["workload", "run", "--schedule", "fastest", "--trace-out", t],
        vec!["workload", "run", "--workers", "0", "--trace-out", t],
        vec!["workload", "run", "--repeats", "0", "--trace-out", t],
        vec!["workload", "order", "--tasks", "0"],
    ] {
        let out = parlab(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(!String::from_utf8_lossy(&out.stderr).is_empty());
        assert!(!trace.exists());
    }
    let out = parlab(&["workload", "run", "--trace-out", "/no/such/folder/t.json"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn collect_and_order_report_agreement() {
    let v = json_of(&parlab(&[
        "workload",
        "collect",
        "--workload",
        "primes:count=300,chunk=10,trial=sqrt",
        "--workers",
        "2",
        "--repeats",
        "1",
        "--json",
    ]));
    let runs = v["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 3);
    assert!(runs.iter().all(|r| r["agrees_with_serial"] == true));
    let v = json_of(&parlab(&[
        "workload",
        "order",
        "--tasks",
        "5",
        "--rounds",
        "1000",
        "--repeats",
        "4",
        "--workers",
        "2",
        "--json",
    ]));
    assert_eq!(v["summary"]["runs"].as_array().expect("runs").len(), 4);
}
