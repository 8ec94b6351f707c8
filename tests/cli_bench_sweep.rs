//! `parlab bench sweep` run as a real process: exports are written and
//! readable, bad input writes nothing and exits with code 2.

use parlab::engine::report::{CSV_HEADER, SweepReport, rows_from_csv};
use std::process::Command;

fn parlab() -> Command {
    Command::new(env!("CARGO_BIN_EXE_parlab"))
}

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
