//! `parlab bench sweep` run as a real process: exports are written and
//! readable, bad input writes nothing and exits with code 2.

use crate::common::parlab;
use parlab::engine::speedup::report::{CSV_HEADER, SweepReport, rows_from_csv, workloads_from_csv};

const TINY: [&str; 12] = [
    "bench",
    "sweep",
    "--width",
    "40",
    "--height",
    "30",
    "--max-iter",
    "100",
    "--reps",
    "2",
    "--warmup",
    "1",
];

#[test]
fn sweep_writes_every_export() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = |name: &str| dir.path().join(name);
    let output = parlab()
        .args(TINY)
        .args([
            "--workers",
            "1,2,3",
            "--tiles",
            "8,bands",
            "--schedule",
            "guided",
        ])
        .arg("--export-json")
        .arg(p("f.json"))
        .arg("--export-csv")
        .arg(p("f.csv"))
        .arg("--plot-speedup")
        .arg(p("s.png"))
        .arg("--plot-granularity")
        .arg(p("g.svg"))
        .arg("--plot-predicted")
        .arg(p("p.svg"))
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("speedup") && stdout.contains("bands"),
        "{stdout}"
    );
    assert!(stdout.contains("PREDICTED"), "{stdout}");
    // Not a terminal: no progress bar on stderr.
    assert!(!String::from_utf8_lossy(&output.stderr).contains("runs,"));

    let report = SweepReport::from_json(&std::fs::read_to_string(p("f.json")).expect("json"))
        .expect("parses");
    assert_eq!(report.meta.workload, "mandelbrot");
    assert_eq!(report.meta.schedule, "guided");
    assert!(report.meta.baseline.contains("1-worker pool"));
    // 2 granularities × (sequential + 3 worker counts).
    assert_eq!(report.results.len(), 8);
    for r in &report.results {
        assert_eq!(r.times_s.len(), 2);
        assert!(r.median_s > 0.0 && r.min_s <= r.median_s && r.median_s <= r.max_s);
        if r.schedule == "guided" {
            assert!(r.speedup.is_some() && r.speedup_ci95.is_some() && r.efficiency.is_some());
        }
    }
    assert_eq!(report.predicted.len(), 2);

    let csv = std::fs::read_to_string(p("f.csv")).expect("csv");
    assert!(csv.starts_with(CSV_HEADER));
    let rows = rows_from_csv(&csv).expect("csv parses");
    assert_eq!(rows.len(), 8);
    assert_eq!(rows[3].times_s, report.results[3].times_s);

    // A second sweep compared with the first one's JSON.
    let again = parlab()
        .args(TINY)
        .args([
            "--workers",
            "1,2,3",
            "--tiles",
            "8,bands",
            "--schedule",
            "guided",
        ])
        .arg("--compare")
        .arg(p("f.json"))
        .output()
        .expect("runs");
    assert!(again.status.success());
    let text = String::from_utf8_lossy(&again.stdout);
    assert!(
        text.contains("largest difference") && text.contains("8 configurations matched"),
        "{text}"
    );

    // Other processes' CPU is measured and stated in the meta (busy or not).
    assert!(report.meta.other_cpu_rule.contains("/proc/stat"));
    assert_eq!(report.meta.warning.is_some(), report.meta.machine_busy);

    // A report of another view is refused before anything is measured.
    let mut wider = TINY;
    wider[3] = "48";
    let other_view = parlab()
        .args(wider)
        .args(["--schedule", "guided"])
        .arg("--compare")
        .arg(p("f.json"))
        .output()
        .expect("runs");
    assert_eq!(other_view.status.code(), Some(2));
    let err = String::from_utf8_lossy(&other_view.stderr);
    assert!(
        err.contains("same workload and view") && err.contains("view"),
        "{err}"
    );
    // And one of another workload.
    let other_workload = parlab()
        .args(TINY)
        .args(["--workload", "primes"])
        .args(["--tiles", "64"])
        .arg("--compare")
        .arg(p("f.json"))
        .output()
        .expect("runs");
    assert_eq!(other_workload.status.code(), Some(2));

    let png = image::open(p("s.png")).expect("valid PNG");
    assert!(png.width() > 100 && png.height() > 100);
    for svg in ["g.svg", "p.svg"] {
        let text = std::fs::read_to_string(p(svg)).expect("svg");
        assert!(text.starts_with("<svg") && text.contains("</svg>"), "{svg}");
    }
}

#[test]
fn bad_input_exits_2_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let json = dir.path().join("f.json");
    for bad in [
        vec!["--workers", "1,zero"],
        vec!["--tiles", "0"],
        vec!["--workload", "nope"],
        vec!["--kernel", "nope"],
        vec!["--plot-speedup", "x.jpg"],
        vec!["--compare", "/no/such/report.json"],
        vec!["--workload", "primes:colour=3"],
        vec!["--workload", "mandelbrot", "--gil"],
        vec!["--workload", "io", "--tiles", "8,bands"],
        vec!["--workload", "matmul:n=64", "--tiles", "12"],
        vec!["--workload", "io", "--compare-workload", "nope"],
    ] {
        let output = parlab()
            .args(TINY)
            .args(&bad)
            .arg("--export-json")
            .arg(&json)
            .output()
            .expect("runs");
        assert_eq!(output.status.code(), Some(2), "{bad:?}");
        assert!(
            String::from_utf8_lossy(&output.stderr).contains("error"),
            "{bad:?}"
        );
        assert!(!json.exists(), "{bad:?}: nothing written");
    }
}

/// Runs a tiny course-workload sweep writing JSON and CSV; returns both parsed.
fn course_sweep(extra: &[&str]) -> (SweepReport, String, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let (json, csv, png) = (
        dir.path().join("f.json"),
        dir.path().join("f.csv"),
        dir.path().join("s.png"),
    );
    let output = parlab()
        .args([
            "bench",
            "sweep",
            "--workers",
            "1,2",
            "--reps",
            "2",
            "--warmup",
            "1",
        ])
        .args(extra)
        .arg("--export-json")
        .arg(&json)
        .arg("--export-csv")
        .arg(&csv)
        .arg("--plot-speedup")
        .arg(&png)
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(
        output.status.success(),
        "{extra:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let png = image::open(&png).expect("valid PNG");
    assert!(png.width() > 100);
    let report =
        SweepReport::from_json(&std::fs::read_to_string(&json).expect("json")).expect("parses");
    (report, std::fs::read_to_string(&csv).expect("csv"), stdout)
}

#[test]
fn io_sweep_exports_name_the_workload_and_its_parameters() {
    let (report, csv, stdout) = course_sweep(&[
        "--workload",
        "io:tasks=6,wait-ms=1,rounds=10",
        "--tiles",
        "1,3",
    ]);
    assert!(stdout.contains("io"), "{stdout}");
    assert_eq!(report.meta.workload, "io");
    let params = &report.meta.workload_params;
    assert_eq!(params["spec"], "io:tasks=6,wait-ms=1,rounds=10,per-task=1");
    assert_eq!(params["gil"], false);
    assert_eq!(params["io_bound"], true);
    assert!(
        params["granularity"]
            .as_str()
            .is_some_and(|g| g.contains("requests per task"))
    );
    // 2 granularities × (sequential + 1 and 2 workers).
    assert_eq!(report.results.len(), 6);
    let tasks: Vec<usize> = report.results.iter().map(|r| r.tasks).collect();
    assert_eq!(tasks, vec![6, 6, 6, 2, 2, 2]);
    assert!(report.results.iter().all(|r| r.median_s > 0.0));
    assert!(report.compared.is_empty());
    assert_eq!(rows_from_csv(&csv).expect("csv").len(), 6);
    let names = workloads_from_csv(&csv).expect("csv");
    assert!(
        names
            .iter()
            .all(|w| w == "io:tasks=6;wait-ms=1;rounds=10;per-task=1"),
        "{names:?}"
    );
}

#[test]
fn primes_sweep_in_gil_mode_compared_with_io() {
    let (report, csv, stdout) = course_sweep(&[
        "--workload",
        "primes:start=1000,count=24",
        "--tiles",
        "4",
        "--gil",
        "--compare-workload",
        "io:tasks=4,wait-ms=1,rounds=10",
        "--compare-tiles",
        "1",
    ]);
    assert!(
        stdout.contains("primes") && stdout.contains("io"),
        "{stdout}"
    );
    assert_eq!(report.meta.workload, "primes");
    assert_eq!(report.meta.workload_params["gil"], true);
    assert_eq!(report.results.len(), 3);
    assert_eq!(report.results[0].tasks, 6);
    assert_eq!(report.compared.len(), 1);
    let io = &report.compared[0];
    assert_eq!(io.meta.workload, "io");
    assert_eq!(io.meta.workload_params["gil"], true);
    assert_eq!(io.results.len(), 3);
    let names = workloads_from_csv(&csv).expect("csv");
    assert_eq!(names.len(), 6);
    assert!(names[0].starts_with("primes:") && names[0].ends_with("+gil"));
    assert!(names[5].starts_with("io:"));
}
