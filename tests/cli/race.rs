//! `parlab race`, `parlab locks` and `parlab deadlock` run as real processes.

use crate::common::{json_of, run as parlab};

#[test]
fn race_json_parses_and_mutex_loses_nothing() {
    let v = json_of(&parlab(&[
        "race",
        "--threads",
        "4",
        "--increments",
        "250000",
        "--mode",
        "mutex",
        "--json",
    ]));
    assert_eq!(v["expected"], 1_000_000);
    assert_eq!(v["actual"], 1_000_000);
    assert_eq!(v["lost"], 0);
    assert!(v["wall_ms"].as_f64().expect("wall_ms") > 0.0);
}

#[test]
fn race_with_a_delay_loses_updates_in_every_repeat() {
    // thread2.py: two threads, read, sleep 20 ms, write. Both read before either writes.
    let v = json_of(&parlab(&[
        "race",
        "--threads",
        "2",
        "--increments",
        "1",
        "--mode",
        "unsync",
        "--delay-us",
        "20000",
        "--repeat",
        "3",
        "--json",
    ]));
    let runs = v["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 3);
    assert_eq!(v["summary"]["runs"], 3);
    let total_lost: u64 = runs.iter().map(|r| r["lost"].as_u64().expect("lost")).sum();
    assert!(total_lost >= 1, "{v}");
}

#[test]
fn race_text_names_expected_actual_lost_and_wall() {
    let out = parlab(&[
        "race",
        "--threads",
        "2",
        "--increments",
        "1000",
        "--mode",
        "atomic",
    ]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for word in ["expected 2000", "actual 2000", "lost 0", "wall"] {
        assert!(text.contains(word), "{text}");
    }
}

#[test]
fn bad_input_exits_2() {
    for args in [
        &["race", "--threads", "0"][..],
        &["race", "--threads", "65"],
        &["race", "--increments", "0"],
        &["race", "--increments", "10000001"],
        &["race", "--mode", "spin"],
        &["race", "--mode", "atomic", "--delay-us", "10"],
        &["race", "--increments", "10000000", "--delay-us", "1000"],
        &["race", "--repeat", "0"],
        &["locks", "--threads", "1,x"],
        &["locks", "--threads", "0"],
        &["locks", "--ops", "0"],
        &["locks", "--kinds", "spinlock"],
        &["deadlock", "--fix", "prayer"],
        &["deadlock", "--timeout-ms", "0"],
    ] {
        let out = parlab(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(!out.stderr.is_empty());
    }
}

#[test]
fn locks_refuses_bad_outputs_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let csv = dir.path().join("t.csv");
    let jpg = dir.path().join("t.jpg");
    let out = parlab(&[
        "locks",
        "--ops",
        "1000",
        "--export-csv",
        csv.to_str().expect("utf8"),
        "--plot",
        jpg.to_str().expect("utf8"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!csv.exists() && !jpg.exists());
}

#[test]
fn locks_writes_csv_plot_and_json() {
    let dir = tempfile::tempdir().expect("tempdir");
    let csv = dir.path().join("t.csv");
    let svg = dir.path().join("t.svg");
    let v = json_of(&parlab(&[
        "locks",
        "--threads",
        "1,2",
        "--ops",
        "20000",
        "--repeats",
        "1",
        "--export-csv",
        csv.to_str().expect("utf8"),
        "--plot",
        svg.to_str().expect("utf8"),
        "--json",
    ]));
    let points = v["points"].as_array().expect("points");
    assert_eq!(points.len(), 1 + 6 * 2);
    assert!(points.iter().all(|p| p["counted_right"] == true));
    let csv_text = std::fs::read_to_string(&csv).expect("csv");
    assert_eq!(csv_text.lines().count(), 1 + points.len());
    assert!(std::fs::read_to_string(&svg).expect("svg").contains("<svg"));
}

#[test]
fn deadlock_exits_and_reports_detection_then_the_fix_completes() {
    let v = json_of(&parlab(&["deadlock", "--timeout-ms", "100", "--json"]));
    assert_eq!(v["outcome"], "detected");
    let cycle = v["cycle"].as_array().expect("cycle");
    assert_eq!(cycle.len(), 2);
    assert_eq!(cycle[0]["text"], "T1 holds A, waits for B (held by T2)");
    assert_eq!(cycle[1]["text"], "T2 holds B, waits for A (held by T1)");

    let fixed = json_of(&parlab(&["deadlock", "--fix", "ordering", "--json"]));
    assert_eq!(fixed["outcome"], "completed");
    assert!(fixed["cycle"].as_array().expect("cycle").is_empty());

    let text = parlab(&["deadlock", "--timeout-ms", "50"]);
    assert!(text.status.success());
    assert!(String::from_utf8_lossy(&text.stdout).contains("deadlock detected"));
}
