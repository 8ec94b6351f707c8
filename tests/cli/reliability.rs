//! Hostile and careless input against the real binary (issue 12): device
//! files, duplicate and unwritable outputs, endless inputs, closed pipes,
//! numbers at the edges. Each test names the problem it closes.

use crate::common::{parlab, text};
use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A small, quick render (64×48, 50 iterations, 2 workers) writing to `out`.
fn render(out: &Path) -> Command {
    render_with(out, &[])
}

/// As [`render`], with `extra` arguments replacing the defaults they name.
fn render_with(out: &Path, extra: &[&str]) -> Command {
    let mut c = parlab();
    c.arg("render");
    for (flag, value) in [
        ("--width", "64"),
        ("--height", "48"),
        ("--max-iter", "50"),
        ("--workers", "2"),
    ] {
        if !extra.contains(&flag) {
            c.args([flag, value]);
        }
    }
    c.args(extra).arg("--out").arg(out);
    c
}

/// A small, quick sweep (no exports unless given).
fn sweep() -> Command {
    sweep_with(&[])
}

/// As [`sweep`], with `extra` arguments replacing the defaults they name.
fn sweep_with(extra: &[&str]) -> Command {
    let mut c = parlab();
    c.args(["bench", "sweep"]);
    for (flag, value) in [
        ("--width", "32"),
        ("--height", "24"),
        ("--max-iter", "50"),
        ("--workers", "1,2"),
        ("--tiles", "8"),
        ("--reps", "1"),
        ("--warmup", "0"),
    ] {
        if !extra.contains(&flag) {
            c.args([flag, value]);
        }
    }
    c.args(extra);
    c
}

/// Waits for `child` at most `limit`, killing it after that.
fn wait_bounded(mut child: Child, limit: Duration) -> Output {
    let start = Instant::now();
    while start.elapsed() < limit {
        if child.try_wait().expect("try_wait").is_some() {
            return child.wait_with_output().expect("output");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let out = child.wait_with_output().expect("output");
    panic!(
        "still running after {limit:?}; stderr: {}",
        text(&out.stderr)
    );
}

fn assert_usage_error(out: &Output, needles: &[&str]) {
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    for n in needles {
        assert!(err.contains(n), "expected {n:?} in: {err}");
    }
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| text(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

// 1 ------------------------------------------------------------------------

#[cfg(unix)]
#[test]
fn p01_devices_and_fifos_are_written_through_never_replaced() {
    use std::os::unix::fs::FileTypeExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("pipe.png");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo")
            .success()
    );
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read(fifo).expect("read the fifo"))
    };
    let out = render(&fifo).output().expect("runs");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let kind = std::fs::symlink_metadata(&fifo)
        .expect("still there")
        .file_type();
    assert!(kind.is_fifo(), "the FIFO was replaced by a file");
    let bytes = reader.join().expect("reader");
    assert_eq!(
        &bytes[..8],
        b"\x89PNG\r\n\x1a\n",
        "a PNG went through the FIFO"
    );

    // `-` is stdout: the PNG goes there and the summary to stderr.
    let out = render(Path::new("-")).output().expect("runs");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(&out.stdout[..8], b"\x89PNG\r\n\x1a\n");
    assert!(
        text(&out.stderr).contains("rendered 64"),
        "{}",
        text(&out.stderr)
    );

    // As root (CI, containers), /dev/null itself: it must stay a device.
    if is_root() {
        let out = render(Path::new("/dev/null")).output().expect("runs");
        assert!(out.status.success(), "{}", text(&out.stderr));
        let m = std::fs::metadata("/dev/null").expect("/dev/null");
        assert!(m.file_type().is_char_device(), "/dev/null was replaced");
    }
    // A socket or another non-file is refused before any work.
    let out = render(Path::new("/proc/self")).output().expect("runs");
    assert_usage_error(&out, &["/proc/self"]);
}

// 2 ------------------------------------------------------------------------

#[test]
fn p02_a_file_name_near_the_length_limit_is_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    // 251 + ".png" = 255 bytes, the limit of most file systems.
    let out_path = dir.path().join(format!("{}.png", "n".repeat(251)));
    let out = render(&out_path).output().expect("runs");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(out_path.is_file());
    assert_eq!(files_in(dir.path()).len(), 1, "no temporary file is left");
    // One byte more cannot be created at all: refused before any work.
    let too_long = dir.path().join(format!("{}.png", "n".repeat(252)));
    let out = render(&too_long).output().expect("runs");
    assert_usage_error(&out, &["255"]);
}

#[cfg(unix)]
#[test]
fn p02_an_interrupt_during_a_write_leaves_no_temporary_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let target = dir.path().join("x.png");
    let child = render(&target)
        .env("PARLAB_TEST_PAUSE_IN_WRITE_MS", "20000")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    // Wait until the temporary file exists, then interrupt.
    let start = Instant::now();
    while files_in(dir.path()).is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no temporary file appeared"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .expect("kill")
            .success()
    );
    let out = wait_bounded(child, Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(130), "{}", text(&out.stderr));
    assert_eq!(files_in(dir.path()), Vec::<String>::new(), "temp file left");
}

// 3 ------------------------------------------------------------------------

#[test]
fn p03_the_same_path_given_twice_is_refused_before_any_work() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = dir.path().join("a");
    let same = dir.path().join(".").join("a");
    let out = render(&a)
        .arg("--trace-out")
        .arg(&same)
        .output()
        .expect("runs");
    assert_usage_error(&out, &["--out", "--trace-out", "same file"]);

    let out = sweep()
        .arg("--export-json")
        .arg(dir.path().join("s"))
        .arg("--export-csv")
        .arg(dir.path().join("s"))
        .output()
        .expect("runs");
    assert_usage_error(&out, &["--export-json", "--export-csv"]);

    let out = parlab()
        .args(["locks", "--threads", "1", "--ops", "1000", "--repeats", "1"])
        .arg("--export-csv")
        .arg(dir.path().join("l.png"))
        .arg("--plot")
        .arg(dir.path().join("l.png"))
        .output()
        .expect("runs");
    assert_usage_error(&out, &["--export-csv", "--plot"]);
    assert_eq!(
        files_in(dir.path()),
        Vec::<String>::new(),
        "nothing written"
    );
}

// 4 ------------------------------------------------------------------------

#[cfg(target_os = "linux")]
#[test]
fn p04_an_unwritable_folder_is_found_before_the_sweep() {
    let dir = tempfile::tempdir().expect("tempdir");
    // /proc exists but takes no new files, even for root.
    let out = sweep()
        .args(["--export-json", "/proc/s.json"])
        .arg("--export-csv")
        .arg(dir.path().join("s.csv"))
        .output()
        .expect("runs");
    assert_usage_error(&out, &["--export-json", "folder /proc"]);
    assert!(
        !text(&out.stdout).contains("speedup"),
        "the sweep must not have run"
    );
    assert_eq!(files_in(dir.path()), Vec::<String>::new());
}

#[cfg(target_os = "linux")]
#[test]
fn p04_a_write_that_still_fails_does_not_stop_the_others() {
    let dir = tempfile::tempdir().expect("tempdir");
    // /dev/full accepts the open and fails every write (ENOSPC).
    let out = sweep()
        .args(["--export-json", "/dev/full"])
        .arg("--export-csv")
        .arg(dir.path().join("s.csv"))
        .output()
        .expect("runs");
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        dir.path().join("s.csv").is_file(),
        "the good CSV is written"
    );
    assert!(err.contains("/dev/full") && err.contains("s.csv"), "{err}");
}

// 5 ------------------------------------------------------------------------

#[cfg(unix)]
#[test]
fn p05_an_endless_input_file_is_refused_with_the_cap_named() {
    let child = sweep()
        .args(["--compare", "/dev/zero"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let out = wait_bounded(child, Duration::from_secs(60));
    assert_usage_error(&out, &["--compare", "/dev/zero", "64 MiB"]);
}

// 6 ------------------------------------------------------------------------

/// Runs `cmd` with its stdout closed by the reader before anything is
/// written; it must end quietly: no panic, exit code 0.
fn assert_quiet_on_closed_stdout(mut cmd: Command, what: &str) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    drop(child.stdout.take());
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        e.read_to_string(&mut err).expect("stderr");
    }
    let status = child.wait().expect("wait");
    assert!(!err.contains("panicked"), "{what}: {err}");
    assert!(!err.contains("Broken pipe"), "{what}: {err}");
    assert_eq!(status.code(), Some(0), "{what}: {err}");
}

#[test]
fn p06_a_closed_stdout_ends_every_subcommand_quietly() {
    let dir = tempfile::tempdir().expect("tempdir");
    assert_quiet_on_closed_stdout(render(&dir.path().join("r.png")), "render");
    let commands: Vec<(&str, Vec<&str>)> = vec![
        (
            "render --json",
            vec![
                "render", "--width", "32", "--height", "24", "--json", "--out",
            ],
        ),
        (
            "race",
            vec!["race", "--threads", "2", "--increments", "1000"],
        ),
        (
            "race --json",
            vec!["race", "--threads", "2", "--increments", "1000", "--json"],
        ),
        (
            "workspan",
            vec!["workspan", "--n", "64", "--cutoff", "32", "--repeats", "1"],
        ),
        (
            "gridsearch",
            vec![
                "gridsearch",
                "--tasks",
                "125",
                "--task-s",
                "70",
                "--deadline-s",
                "1200",
            ],
        ),
        (
            "locks",
            vec![
                "locks",
                "--threads",
                "1,2",
                "--ops",
                "2000",
                "--repeats",
                "1",
            ],
        ),
        ("deadlock", vec!["deadlock", "--timeout-ms", "50"]),
        (
            "workload run",
            vec![
                "workload",
                "run",
                "--workload",
                "primes:count=64",
                "--workers",
                "2",
            ],
        ),
        (
            "workload order",
            vec![
                "workload",
                "order",
                "--tasks",
                "4",
                "--rounds",
                "1000",
                "--repeats",
                "2",
            ],
        ),
        ("bench bg", vec!["bench", "bg", "64", "--workers", "2"]),
        ("check-png --help", vec!["--help"]),
    ];
    for (what, args) in commands {
        let mut c = parlab();
        c.args(&args);
        if what == "render --json" {
            c.arg(dir.path().join("j.png"));
        }
        assert_quiet_on_closed_stdout(c, what);
    }
}

// 7 ------------------------------------------------------------------------

#[test]
fn p07_sweep_writes_its_files_before_printing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let json = dir.path().join("s.json");
    let csv = dir.path().join("s.csv");
    let mut c = sweep();
    c.arg("--export-json")
        .arg(&json)
        .arg("--export-csv")
        .arg(&csv);
    assert_quiet_on_closed_stdout(c, "bench sweep");
    assert!(
        json.is_file() && csv.is_file(),
        "{:?}",
        files_in(dir.path())
    );
}

// 10 -----------------------------------------------------------------------

#[test]
fn p10_deep_zoom_below_f64_resolution_is_refused_with_the_limit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = render_with(
        &dir.path().join("z.png"),
        &[
            "--width",
            "256",
            "--center",
            "-0.75,0.1",
            "--view-width",
            "1e-15",
        ],
    )
    .output()
    .expect("runs");
    assert_usage_error(&out, &["view width", "f64", "narrowest"]);
    // Just above the limit still renders.
    let out = render_with(
        &dir.path().join("ok.png"),
        &[
            "--width",
            "256",
            "--center",
            "-0.75,0.1",
            "--view-width",
            "1e-13",
        ],
    )
    .output()
    .expect("runs");
    assert!(out.status.success(), "{}", text(&out.stderr));
}

// 11 -----------------------------------------------------------------------

#[test]
fn p11_a_view_whose_height_or_corners_overflow_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = render_with(
        &dir.path().join("h.png"),
        &["--width", "1", "--height", "4", "--view-width", "1e308"],
    )
    .output()
    .expect("runs");
    assert_usage_error(&out, &["view height"]);
    let out = render(&dir.path().join("c.png"))
        .args(["--center", "1.7e308,0", "--view-width", "1e308"])
        .output()
        .expect("runs");
    assert_usage_error(&out, &["corner"]);
    assert_eq!(files_in(dir.path()), Vec::<String>::new());
}

// 12 -----------------------------------------------------------------------

#[test]
fn p12_one_tile_count_limit_for_the_cli_and_the_window() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = render_with(
        &dir.path().join("t.png"),
        &["--width", "1100", "--height", "1000", "--tile", "1"],
    )
    .arg("--trace-out")
    .arg(dir.path().join("t.json"))
    .output()
    .expect("runs");
    assert_usage_error(&out, &["1100000 tiles", "1048576"]);
    let out = sweep_with(&["--width", "1100", "--height", "1000", "--tiles", "1"])
        .output()
        .expect("runs");
    assert_usage_error(&out, &["--tiles", "1048576"]);
    // The window refuses the same before it opens (no display needed); a
    // build without the window says it has none instead.
    let out = parlab()
        .args(["--size", "1100x1000", "--tile", "1", "--screenshot"])
        .arg(dir.path().join("w.png"))
        .output()
        .expect("runs");
    if cfg!(feature = "gui") {
        assert_usage_error(&out, &["1048576"]);
    } else {
        assert_usage_error(&out, &["no window"]);
    }
    assert_eq!(files_in(dir.path()), Vec::<String>::new());
}

#[test]
fn p12_the_trace_is_valid_json_with_one_event_per_tile() {
    let dir = tempfile::tempdir().expect("tempdir");
    let trace = dir.path().join("t.json");
    let out = render(&dir.path().join("t.png"))
        .args(["--tile", "8"])
        .arg("--trace-out")
        .arg(&trace)
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&trace).expect("trace")).expect("valid JSON");
    let events = v["traceEvents"].as_array().expect("events");
    let tiles = events.iter().filter(|e| e["ph"] == "X").count();
    assert_eq!(tiles, 8 * 6);
}

// 13 -----------------------------------------------------------------------

#[test]
fn p13_negative_numbers_reach_the_range_message() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = render_with(&dir.path().join("n.png"), &["--width", "-5"])
        .output()
        .expect("runs");
    assert_usage_error(&out, &["--width", "1..=16384", "-5"]);
    let out = render(&dir.path().join("n.png"))
        .args(["--view-width", "-2"])
        .output()
        .expect("runs");
    assert_usage_error(&out, &["view width", "positive"]);
    let out = parlab()
        .args(["race", "--threads", "-1"])
        .output()
        .expect("runs");
    assert_usage_error(&out, &["--threads", "1..=64", "-1"]);
    let out = parlab()
        .args([
            "gridsearch",
            "--tasks",
            "10",
            "--task-s",
            "-1",
            "--deadline-s",
            "5",
        ])
        .output()
        .expect("runs");
    assert_usage_error(&out, &["-1"]);
    assert!(!text(&out.stderr).contains("unexpected argument"));
}

// 14 -----------------------------------------------------------------------

#[test]
fn p14_floats_in_messages_are_printed_readably() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = render(&dir.path().join("f.png"))
        .args(["--view-width", "1e-300"])
        .output()
        .expect("runs");
    assert_usage_error(&out, &["1.000e-300"]);
    let err = text(&out.stderr);
    assert!(
        !err.contains("00000000000000000000"),
        "a float printed digit by digit: {err}"
    );
}

// 15 -----------------------------------------------------------------------

#[test]
fn p15_an_empty_list_item_is_an_error_in_every_list() {
    let out = sweep_with(&["--workers", "1,,2"]).output().expect("runs");
    assert_usage_error(&out, &["--workers", "item 2 is empty"]);
    let out = sweep_with(&["--tiles", "8,"]).output().expect("runs");
    assert_usage_error(&out, &["--tiles", "item 2 is empty"]);
    let out = parlab()
        .args(["locks", "--threads", "1,,2", "--ops", "1000"])
        .output()
        .expect("runs");
    assert_usage_error(&out, &["--threads", "item 2 is empty"]);
    let out = parlab()
        .args(["locks", "--threads", "1", "--kinds", "mutex,,atomic"])
        .output()
        .expect("runs");
    assert_usage_error(&out, &["--kinds", "item 2 is empty"]);
    let out = parlab()
        .args([
            "gridsearch",
            "--tasks",
            "10",
            "--task-s",
            "1",
            "--deadline-s",
            "5",
        ])
        .args(["--workers", "1,,2"])
        .output()
        .expect("runs");
    assert_usage_error(&out, &["--workers", "item 2 is empty"]);
}

// 16 -----------------------------------------------------------------------

#[cfg(target_os = "linux")]
#[test]
fn p16_a_late_failure_says_which_outputs_were_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    let png = dir.path().join("m.png");
    let counts = dir.path().join("c.npy");
    let out = render(&png)
        .args(["--trace-out", "/dev/full"])
        .arg("--counts-out")
        .arg(&counts)
        .output()
        .expect("runs");
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(png.is_file() && counts.is_file(), "the others are written");
    assert!(
        err.contains("wrote") && err.contains("m.png") && err.contains("c.npy"),
        "{err}"
    );
    assert!(err.contains("could not write /dev/full"), "{err}");
}

#[test]
fn a_bad_window_size_is_refused_before_the_window_opens() {
    let dir = tempfile::tempdir().expect("tempdir");
    for bad in ["1280", "10x10", "1280xtall"] {
        let out = parlab()
            .args(["--window", bad, "--screenshot"])
            .arg(dir.path().join("w.png"))
            .output()
            .expect("runs");
        if cfg!(feature = "gui") {
            assert_usage_error(&out, &["--window"]);
        } else {
            assert_usage_error(&out, &["no window"]);
        }
    }
    assert_eq!(files_in(dir.path()), Vec::<String>::new());
}
