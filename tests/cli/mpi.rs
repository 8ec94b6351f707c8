//! The MPI backend under the real Open MPI (`mpirun -np 4 --oversubscribe`,
//! feature `mpi`): same pixels as threads for every schedule, whether a
//! person typed mpirun or parlab launched it; a rank that dies is reported
//! and no process of the job is left; bad setups say what to do. Without the
//! feature, `--backend mpi` says how to build it.

#[cfg(feature = "mpi")]
use crate::common::{exe, is_running};
use crate::common::{parlab, text};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const VIEW: [&str; 10] = [
    "--width",
    "97",
    "--height",
    "61",
    "--max-iter",
    "200",
    "--center",
    "-0.7,0.1",
    "--tile",
    "16",
];

/// Runs `cmd` to its end, killing it after `limit` (a hang fails the test
/// instead of stalling the suite).
fn bounded(mut cmd: Command, limit: Duration) -> Output {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    let t0 = Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() {
            return child.wait_with_output().expect("output");
        }
        if t0.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().expect("output");
            panic!(
                "still running after {limit:?}; stderr: {}",
                text(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[cfg(feature = "mpi")]
/// A mark in the environment of every process of one test's job.
fn mark(name: &str) -> String {
    format!("{name}-{}", std::process::id())
}

#[cfg(feature = "mpi")]
/// Running processes whose environment holds `PARLAB_TEST_MARK=mark`.
fn marked(mark: &str) -> Vec<u64> {
    let want = format!("PARLAB_TEST_MARK={mark}");
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u64>().ok())
        else {
            continue;
        };
        if let Ok(env) = std::fs::read(format!("/proc/{pid}/environ"))
            && env.split(|&b| b == 0).any(|v| v == want.as_bytes())
            && is_running(pid)
        {
            found.push(pid);
        }
    }
    found
}

#[cfg(feature = "mpi")]
/// No process of the job is running (waiting up to 10 s for exits in flight).
fn assert_none_left(mark: &str) {
    let t0 = Instant::now();
    loop {
        let left = marked(mark);
        if left.is_empty() {
            return;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "processes of the MPI job still running: {left:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[cfg(feature = "mpi")]
fn allow_root(cmd: &mut Command) -> &mut Command {
    cmd.env("OMPI_ALLOW_RUN_AS_ROOT", "1")
        .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
}

/// `mpirun -np N --oversubscribe parlab render --backend mpi ARGS`, with
/// `env` forwarded to every rank.
#[cfg(feature = "mpi")]
fn mpirun(np: usize, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut cmd = Command::new("mpirun");
    allow_root(&mut cmd);
    cmd.args(["-np", &np.to_string(), "--oversubscribe"]);
    for (k, v) in env {
        cmd.env(k, v).args(["-x", k]);
    }
    cmd.arg(exe())
        .args(["render", "--backend", "mpi"])
        .args(VIEW)
        .args(args);
    bounded(cmd, Duration::from_secs(120))
}

#[cfg(feature = "mpi")]
fn threads_counts(dir: &std::path::Path) -> Vec<u8> {
    let (png, npy) = (dir.join("t.png"), dir.join("t.npy"));
    let out = parlab()
        .args(["render", "--backend", "threads"])
        .args(VIEW)
        .arg("--out")
        .arg(&png)
        .arg("--counts-out")
        .arg(&npy)
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", text(&out.stderr));
    std::fs::read(npy).expect("counts")
}

#[cfg(feature = "mpi")]
#[test]
fn mpi_ranks_equal_threads_pixel_for_pixel() {
    let dir = tempfile::tempdir().expect("dir");
    let want = threads_counts(dir.path());
    let (png, npy, trace) = (
        dir.path().join("m.png"),
        dir.path().join("m.npy"),
        dir.path().join("m.json"),
    );
    let paths = [
        "--out",
        png.to_str().expect("utf8"),
        "--counts-out",
        npy.to_str().expect("utf8"),
        "--trace-out",
        trace.to_str().expect("utf8"),
        "--json",
    ];
    for schedule in ["static-block", "static-cyclic", "dynamic", "dynamic:3"] {
        let m = mark("equal");
        let mut args = vec!["--schedule", schedule];
        args.extend(paths);
        let out = mpirun(4, &[("PARLAB_TEST_MARK", &m)], &args);
        assert!(out.status.success(), "{schedule}: {}", text(&out.stderr));
        assert_eq!(std::fs::read(&npy).expect("counts"), want, "{schedule}");
        // Only rank 0 prints: one JSON object.
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
        assert_eq!(json["backend"], "mpi");
        assert_eq!(json["num_workers"], 3);
        let ranks = json["mpi"]["ranks"].as_array().expect("ranks");
        assert_eq!(ranks.len(), 4, "{json}");
        for r in ranks {
            assert!(!r["host"].as_str().expect("host").is_empty());
            assert!(r["offset_bound_us"].as_f64().is_some());
        }
        // Each worker rank computed at least one tile, so has a start-up.
        let tiles: u64 = json["workers"]
            .as_array()
            .expect("workers")
            .iter()
            .map(|w| w["tiles"].as_u64().expect("tiles"))
            .sum();
        assert_eq!(tiles, 28);
        // One lane per rank, named with its host.
        let t: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&trace).expect("trace")).expect("json");
        let host = ranks[1]["host"].as_str().expect("host");
        let lanes: Vec<String> = t["traceEvents"]
            .as_array()
            .expect("events")
            .iter()
            .filter(|e| e["name"] == "thread_name")
            .map(|e| e["args"]["name"].as_str().unwrap_or("").to_string())
            .collect();
        for r in 0..4 {
            let lane = format!("rank {r} @ {host}");
            assert!(
                lanes.iter().any(|l| l.starts_with(&lane)),
                "{lane} in {lanes:?}"
            );
        }
        assert_none_left(&m);
    }
    // Rank 0 computes too: 3 ranks are 3 workers, rank 0's lane included.
    let mut args = vec!["--schedule", "dynamic", "--mpi-master-computes"];
    args.extend(paths);
    let out = mpirun(3, &[], &args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(std::fs::read(&npy).expect("counts"), want);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(json["num_workers"], 3);
    assert_eq!(json["mpi"]["ranks"].as_array().expect("ranks").len(), 3);
    let t = std::fs::read_to_string(&trace).expect("trace");
    assert!(t.contains("(master, computes too)"), "{t}");
}

#[cfg(feature = "mpi")]
#[test]
fn mpi_launched_by_parlab_equals_threads() {
    let dir = tempfile::tempdir().expect("dir");
    let want = threads_counts(dir.path());
    let (png, npy) = (dir.path().join("l.png"), dir.path().join("l.npy"));
    let m = mark("launched");
    let mut cmd = parlab();
    allow_root(&mut cmd)
        .env("PARLAB_TEST_MARK", &m)
        .args(["render", "--backend", "mpi", "--workers", "3"])
        .args(["--mpirun-args", "--oversubscribe -x PARLAB_TEST_MARK"])
        .args(VIEW)
        .arg("--out")
        .arg(&png)
        .arg("--counts-out")
        .arg(&npy);
    let out = bounded(cmd, Duration::from_secs(120));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(std::fs::read(&npy).expect("counts"), want);
    let summary = text(&out.stdout);
    assert!(summary.contains("MPI: 4 ranks"), "{summary}");
    assert!(summary.contains("clock offsets to rank 0"), "{summary}");
    assert_none_left(&m);
}

#[cfg(feature = "mpi")]
#[test]
fn mpi_sweep_launches_mpirun_per_worker_count() {
    let dir = tempfile::tempdir().expect("dir");
    let (json, csv) = (dir.path().join("s.json"), dir.path().join("s.csv"));
    let m = mark("sweep");
    let mut cmd = parlab();
    allow_root(&mut cmd)
        .env("PARLAB_TEST_MARK", &m)
        .args(["bench", "sweep", "--backend", "mpi", "--workers", "1,2"])
        .args(["--mpirun-args", "--oversubscribe"])
        .args(["--reps", "1", "--warmup", "0"])
        .args(&VIEW[..8])
        .args(["--tiles", "16,32"])
        .arg("--export-json")
        .arg(&json)
        .arg("--export-csv")
        .arg(&csv);
    let out = bounded(cmd, Duration::from_secs(300));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&json).expect("report")).expect("json");
    assert_eq!(
        report["meta"]["workload_params"]["backend"], "mpi",
        "{report}"
    );
    let csv = std::fs::read_to_string(&csv).expect("csv");
    // Sequential, 1 and 2 workers for each of the two granularities.
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(rows.len(), 6, "{csv}");
    assert!(rows.iter().all(|r| r.ends_with(",mpi")), "{csv}");
    assert_none_left(&m);
}

#[cfg(feature = "mpi")]
#[test]
fn mpi_killed_rank_is_reported_and_nothing_is_left() {
    let dir = tempfile::tempdir().expect("dir");
    let png = dir.path().join("k.png");
    // Typed under mpirun: mpirun stops the job and names the rank.
    let m = mark("killed-direct");
    let out = mpirun(
        4,
        &[
            ("PARLAB_TEST_MARK", &m),
            ("PARLAB_WORKER_FAULT", "abort:1:1"),
        ],
        &["--out", png.to_str().expect("utf8")],
    );
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("rank 2"), "{err}");
    assert_none_left(&m);
    assert!(!png.exists(), "no PNG from a failed job");
    // Launched by parlab: parlab says which rank died and what it means.
    let m = mark("killed-launched");
    let mut cmd = parlab();
    allow_root(&mut cmd)
        .env("PARLAB_TEST_MARK", &m)
        .env("PARLAB_WORKER_FAULT", "abort:1:1")
        .args(["render", "--backend", "mpi", "--workers", "3"])
        .args(["--mpirun-args", "--oversubscribe -x PARLAB_TEST_MARK"])
        .args(VIEW)
        .arg("--out")
        .arg(&png);
    let out = bounded(cmd, Duration::from_secs(120));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("MPI rank 2 died"), "{err}");
    assert!(err.contains("stopped every rank"), "{err}");
    assert_none_left(&m);
}

#[cfg(feature = "mpi")]
#[test]
fn mpi_bad_setups_say_what_to_do() {
    let dir = tempfile::tempdir().expect("dir");
    let png = dir.path().join("b.png");
    let render = |extra: &[&str], root_ok: bool| {
        let mut cmd = parlab();
        if root_ok {
            allow_root(&mut cmd);
        } else {
            cmd.env_remove("OMPI_ALLOW_RUN_AS_ROOT")
                .env_remove("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM");
        }
        cmd.args(["render", "--backend", "mpi", "--workers", "1"])
            .args(VIEW)
            .arg("--out")
            .arg(&png)
            .args(extra);
        bounded(cmd, Duration::from_secs(60))
    };
    // mpirun missing.
    let out = render(&["--mpirun", "/nonexistent/bin/mpirun"], true);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("mpirun not found"), "{err}");
    assert!(err.contains("openmpi-bin"), "{err}");
    // A hostfile naming a host that does not exist: an answer, not a hang.
    let hosts = dir.path().join("hosts");
    std::fs::write(&hosts, "no-such-host.invalid slots=4\n").expect("hostfile");
    let out = render(&["--hostfile", hosts.to_str().expect("utf8")], true);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("could not start its daemon"), "{err}");
    assert!(err.contains("ssh"), "{err}");
    // A host that never answers (a non-routable address): stopped at the
    // start-up limit, its ssh included.
    let m = mark("unreachable");
    std::fs::write(&hosts, "10.255.255.1 slots=4\n").expect("hostfile");
    let mut cmd = parlab();
    allow_root(&mut cmd)
        .env("PARLAB_TEST_MARK", &m)
        .args([
            "render",
            "--backend",
            "mpi",
            "--workers",
            "1",
            "--mpi-startup-s",
            "3",
        ])
        .arg("--hostfile")
        .arg(&hosts)
        .args(VIEW)
        .arg("--out")
        .arg(&png);
    let out = bounded(cmd, Duration::from_secs(60));
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("does not answer") || err.contains("could not start its daemon"),
        "{err}"
    );
    assert_none_left(&m);
    // Root without Open MPI's permission: the refusal is recognised.
    if rustix::process::geteuid().is_root() {
        let out = render(&[], false);
        assert_eq!(out.status.code(), Some(1));
        let err = text(&out.stderr);
        assert!(err.contains("refuses to run as root"), "{err}");
        assert!(err.contains("--allow-run-as-root"), "{err}");
    } else {
        eprintln!("not root: the run-as-root refusal is not checked here");
    }
    // One rank is not enough: rank 0 only hands out work.
    let out = mpirun(1, &[], &["--out", png.to_str().expect("utf8")]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("at least 2 ranks"));
    assert!(!png.exists());
}

#[cfg(not(feature = "mpi"))]
#[test]
fn mpi_backend_without_the_feature_says_how_to_build_it() {
    let dir = tempfile::tempdir().expect("dir");
    let png = dir.path().join("n.png");
    let mut cmd = parlab();
    cmd.args(["render", "--backend", "mpi"])
        .args(VIEW)
        .arg("--out")
        .arg(&png);
    let out = bounded(cmd, Duration::from_secs(60));
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("built without MPI"), "{err}");
    assert!(err.contains("--features mpi"), "{err}");
    assert!(!png.exists());
}
