//! `parlab render` run as a real process.

use crate::common::parlab;
use std::path::Path;

fn png_size(path: &Path) -> (u32, u32) {
    let img = image::open(path).expect("valid PNG");
    (img.width(), img.height())
}

#[test]
fn render_writes_png_trace_counts_and_json() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("m.png");
    let trace = dir.path().join("t.json");
    let counts = dir.path().join("c.npy");
    let output = parlab()
        .args([
            "render",
            "--width",
            "96",
            "--height",
            "64",
            "--center",
            "-0.75,0.1",
        ])
        .args([
            "--view-width",
            "3",
            "--max-iter",
            "200",
            "--workers",
            "3",
            "--tile",
            "16",
        ])
        .args(["--schedule", "dynamic", "--overlay", "--json"])
        .arg("--out")
        .arg(&out)
        .arg("--trace-out")
        .arg(&trace)
        .arg("--counts-out")
        .arg(&counts)
        .output()
        .expect("runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(png_size(&out), (96, 64));

    let summary: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("one JSON object");
    assert!(summary["wall_ms"].as_f64().expect("wall_ms") > 0.0);
    assert!(summary["imbalance"].as_f64().expect("imbalance") >= 1.0);
    let workers = summary["workers"].as_array().expect("workers");
    assert_eq!(workers.len(), 3);
    let tiles: u64 = workers
        .iter()
        .map(|w| w["tiles"].as_u64().expect("tiles"))
        .sum();
    assert_eq!(tiles, 6 * 4);
    assert!(
        workers
            .iter()
            .all(|w| w["busy_ms"].is_number() && w["id"].is_number())
    );

    let t: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&trace).expect("trace")).expect("json");
    let events = t["traceEvents"].as_array().expect("events");
    assert_eq!(events.iter().filter(|e| e["ph"] == "X").count(), 24);
    assert_eq!(
        events.iter().filter(|e| e["name"] == "thread_name").count(),
        3
    );

    let npy = std::fs::read(&counts).expect("npy");
    let hlen = u16::from_le_bytes([npy[8], npy[9]]) as usize;
    assert_eq!(npy.len(), 10 + hlen + 96 * 64 * 4);
}

#[test]
fn overlay_changes_the_image() {
    let dir = tempfile::tempdir().expect("tempdir");
    let plain = dir.path().join("plain.png");
    let tinted = dir.path().join("tinted.png");
    for (path, overlay) in [(&plain, false), (&tinted, true)] {
        let mut cmd = parlab();
        cmd.args([
            "render",
            "--width",
            "64",
            "--height",
            "48",
            "--workers",
            "2",
            "--tile",
            "16",
        ])
        .arg("--out")
        .arg(path);
        if overlay {
            cmd.arg("--overlay");
        }
        assert!(cmd.output().expect("runs").status.success());
    }
    let a = image::open(&plain).expect("png").to_rgba8();
    let b = image::open(&tinted).expect("png").to_rgba8();
    assert_ne!(a, b);
}

#[test]
fn bad_input_exits_2_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("never.png");
    let cases: Vec<Vec<&str>> = vec![
        vec!["--width", "0"],
        vec!["--height", "20000"],
        vec!["--center", "nan,0"],
        vec!["--center", "1;2"],
        vec!["--view-width", "-1"],
        vec!["--max-iter", "0"],
        vec!["--workers", "0"],
        vec!["--workers", "999"],
        vec!["--tile", "0"],
        vec!["--tile", "4096"],
        vec!["--tile", "8", "--bands"],
        vec!["--schedule", "fastest"],
        vec!["--palette", "rainbow"],
        vec!["--width", "abc"],
    ];
    for extra in cases {
        let mut cmd = parlab();
        cmd.arg("render");
        for (flag, value) in [("--width", "32"), ("--height", "32")] {
            if !extra.contains(&flag) {
                cmd.args([flag, value]);
            }
        }
        let output = cmd
            .args(&extra)
            .arg("--out")
            .arg(&out)
            .output()
            .expect("runs");
        assert_eq!(output.status.code(), Some(2), "{extra:?}");
        assert!(!output.stderr.is_empty(), "{extra:?} says why");
        assert!(!out.exists(), "{extra:?} wrote nothing");
    }
    let missing_dir = dir.path().join("nope").join("x.png");
    let output = parlab()
        .args(["render", "--width", "8", "--height", "8", "--out"])
        .arg(&missing_dir)
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
}

#[cfg(target_os = "linux")]
#[test]
fn pinned_workers_each_stay_on_one_cpu_and_say_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("pinned.png");
    let output = parlab()
        .args([
            "render",
            "--width",
            "256",
            "--height",
            "192",
            "--tile",
            "8",
            "--workers",
            "2",
            "--pin",
            "--json",
            "--out",
        ])
        .arg(&out)
        .output()
        .expect("runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(v["placement"], "pinned");
    let workers = v["workers"].as_array().expect("workers");
    assert_eq!(workers.len(), 2);
    for w in workers {
        let cpus = w["cpus"].as_array().expect("cpus recorded");
        assert_eq!(cpus.len(), 1, "a pinned worker ran on one CPU: {w}");
        assert_eq!(w["migrations"], 0, "{w}");
    }
    // Free workers still report where their tiles started.
    let output = parlab()
        .args([
            "render",
            "--width",
            "64",
            "--height",
            "64",
            "--workers",
            "2",
            "--json",
            "--out",
        ])
        .arg(&out)
        .output()
        .expect("runs");
    let v: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(v["placement"], "free");
    let recorded = v["workers"]
        .as_array()
        .expect("workers")
        .iter()
        .map(|w| w["cpus"].as_array().map_or(0, Vec::len))
        .sum::<usize>();
    assert!(recorded > 0, "{v}");
    // Pinning is for threads: processes are refused, nothing written.
    let refused = dir.path().join("refused.png");
    let output = parlab()
        .args([
            "render",
            "--width",
            "64",
            "--height",
            "64",
            "--pin",
            "--backend",
            "processes",
            "--out",
        ])
        .arg(&refused)
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--pin"));
    assert!(!refused.exists());
}

/// From 1 Mpx on, the PNG is coloured, deflated and written band by band
/// while later bands are still encoded: the same bytes on any number of
/// workers, to a file or to stdout; a full device is reported.
#[test]
fn a_large_render_streams_the_same_png_to_a_file_and_to_stdout() {
    let dir = tempfile::tempdir().expect("tempdir");
    let render = |workers: &str, out: &Path, counts: Option<&Path>| {
        let mut cmd = parlab();
        cmd.args(["render", "--width", "1280", "--height", "840"])
            .args(["--max-iter", "40", "--workers", workers, "--out"])
            .arg(out);
        if let Some(c) = counts {
            cmd.arg("--counts-out").arg(c);
        }
        let output = cmd.output().expect("runs");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        output.stdout
    };
    let one = dir.path().join("one.png");
    let counts = dir.path().join("c.npy");
    render("1", &one, Some(&counts));
    let two = dir.path().join("two.png");
    render("2", &two, None);
    let piped = render("3", Path::new("-"), None);
    let bytes = std::fs::read(&one).expect("read");
    assert_eq!(std::fs::read(&two).expect("read"), bytes);
    assert_eq!(piped, bytes);
    assert_eq!(png_size(&one), (1280, 840));
    // The counts are the whole image (a 128-byte .npy header, then u32s).
    let npy = std::fs::read(&counts).expect("read");
    assert_eq!(npy.len(), 128 + 4 * 1280 * 840);
    #[cfg(target_os = "linux")]
    {
        let output = parlab()
            .args(["render", "--width", "1280", "--height", "840"])
            .args(["--max-iter", "40", "--workers", "2", "--out", "/dev/full"])
            .output()
            .expect("runs");
        let err = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{err}");
        assert!(err.contains("could not write /dev/full"), "{err}");
    }
}
