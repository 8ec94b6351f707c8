//! The process farm against the threads backend: same pixels for every
//! schedule, worker count and tiling; faults reported and their tiles redone;
//! no worker process left behind (zombie or orphan) after any outcome.

use crate::common::{exe, is_running, parlab};
use parlab::engine::exec::schedule::Schedule;
use parlab::engine::farm::master::{Deadlines, run_master};
use parlab::engine::farm::process::ProcessTransport;
use parlab::engine::farm::worker::FAULT_ENV;
use parlab::engine::farm::{Backend, FarmOptions, FarmRender, clock, render_on, run_processes};
use parlab::engine::mandelbrot::kernel::Kernel;
use parlab::engine::mandelbrot::render::{IterImage, RenderSettings, render_serial};
use parlab::engine::mandelbrot::tiling::Tiling;
use parlab::engine::mandelbrot::view::View;
use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

fn options(env: &[(&str, &str)]) -> FarmOptions {
    FarmOptions {
        worker_exe: Some(exe()),
        worker_env: env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        deadlines: Deadlines::default(),
        mpi: Default::default(),
    }
}

fn settings(view: View, tiling: Tiling, schedule: Schedule, workers: usize) -> RenderSettings {
    RenderSettings {
        view,
        tiling,
        schedule,
        num_workers: workers,
        kernel: Kernel::Simd,
        placement: Default::default(),
    }
}

fn processes(s: &RenderSettings, o: &FarmOptions) -> FarmRender {
    render_on(Backend::Processes, s, None, o).expect("process render")
}

/// A reaped process has no /proc entry; a zombie or a live one has.
fn assert_gone(run: &FarmRender) {
    let farm = run.farm.as_ref().expect("farm figures");
    for w in &farm.workers {
        assert!(w.pid > 0);
        assert!(
            !Path::new(&format!("/proc/{}", w.pid)).exists(),
            "worker {} (pid {}) still exists: {}",
            w.id,
            w.pid,
            w.ending
        );
    }
}

#[test]
fn processes_equal_threads_pixel_for_pixel() {
    let view = View::new((-0.7, 0.1), 2.8, 19, 13, 80).expect("view");
    let serial = render_serial(&view, Kernel::Simd);
    let o = options(&[]);
    for schedule in Schedule::ALL.into_iter().chain([
        Schedule::Dynamic { chunk: 3 },
        Schedule::Guided { min_chunk: 2 },
    ]) {
        for workers in [1, 2, 3, 7] {
            for tiling in [
                Tiling::Square { tile_px: 1 },
                Tiling::Square { tile_px: 16 },
                Tiling::Bands { band_rows: 1 },
            ] {
                let s = settings(view, tiling, schedule, workers);
                let threads = render_on(Backend::Threads, &s, None, &o).expect("threads");
                let run = processes(&s, &o);
                let what = format!("{schedule} x {workers} workers x {tiling}");
                assert_eq!(run.rendered.image, threads.rendered.image, "{what}");
                assert_eq!(run.rendered.image, serial, "{what}");
                let mut tasks: Vec<u32> =
                    run.rendered.trace.records.iter().map(|r| r.task).collect();
                tasks.sort_unstable();
                assert_eq!(
                    tasks,
                    (0..run.rendered.tiles.len() as u32).collect::<Vec<_>>(),
                    "{what}"
                );
                let farm = run.farm.as_ref().expect("farm");
                assert!(farm.faults.is_empty(), "{what}: {:?}", farm.faults);
                assert_eq!(farm.workers.len(), s.effective_workers(), "{what}");
                assert_eq!(farm.transfers.len(), run.rendered.tiles.len(), "{what}");
                assert!(
                    farm.workers.iter().all(|w| w.ending == "exit code 0"),
                    "{what}: {:?}",
                    farm.workers
                );
                assert!(
                    run.rendered
                        .trace
                        .records
                        .iter()
                        .all(|r| (r.worker as usize) < s.effective_workers())
                );
                if schedule == Schedule::StaticCyclic {
                    for r in &run.rendered.trace.records {
                        assert_eq!(r.worker, r.task % workers as u32, "{what}");
                    }
                }
                assert_gone(&run);
            }
        }
    }
}

#[test]
fn timings_share_the_masters_clock() {
    let view = View::new((-0.75, 0.0), 3.0, 64, 48, 200).expect("view");
    let before = clock::mono_nanos();
    let run = processes(
        &settings(view, Tiling::Square { tile_px: 16 }, Schedule::default(), 2),
        &options(&[]),
    );
    let span = clock::mono_nanos() - before;
    let farm = run.farm.as_ref().expect("farm");
    // Every worker time lies inside the master's run, on the same axis.
    for r in &run.rendered.trace.records {
        assert!(r.start_nanos <= r.end_nanos && r.end_nanos <= span);
    }
    for w in &farm.workers {
        let ready = w.ready_nanos.expect("spoke");
        assert!(w.spawned_nanos <= ready && ready <= span);
        // Start-up ends before the worker's first tile starts.
        for r in run
            .rendered
            .trace
            .records
            .iter()
            .filter(|r| r.worker == w.id)
        {
            assert!(ready <= r.start_nanos, "{w:?} {r:?}");
        }
        assert!(w.peak_rss_kib.is_some_and(|k| k > 0));
    }
    for t in &farm.transfers {
        assert!(t.start_nanos <= t.end_nanos && t.end_nanos <= span);
        assert!(t.bytes > 0);
    }
    assert!(farm.bytes_from_workers > farm.bytes_to_workers);
    assert!(farm.startup_median_nanos().is_some());
    let json = farm.chrome_json(&run.rendered.trace);
    let events = json["traceEvents"].as_array().expect("events");
    assert_eq!(events.iter().filter(|e| e["name"] == "start-up").count(), 2);
}

/// Worker `w` misbehaves after its first tile; the others finish the image.
fn survive(fault: &str, deadlines: Deadlines, expect: &str) {
    let view = View::new((-0.75, 0.0), 3.0, 96, 64, 300).expect("view");
    let mut o = options(&[(FAULT_ENV, fault)]);
    o.deadlines = deadlines;
    let s = settings(
        view,
        Tiling::Square { tile_px: 8 },
        Schedule::StaticBlock,
        3,
    );
    let run = processes(&s, &o);
    assert_eq!(
        run.rendered.image,
        render_serial(&view, Kernel::Simd),
        "{fault}"
    );
    let farm = run.farm.as_ref().expect("farm");
    assert_eq!(farm.faults.len(), 1, "{fault}: {:?}", farm.faults);
    let f = &farm.faults[0];
    assert_eq!(f.worker, 1);
    assert!(f.what.contains(expect), "{fault}: {}", f.what);
    assert!(!f.redone.is_empty());
    // Each redone tile was computed by another worker.
    for &t in &f.redone {
        let r = run.rendered.trace.records.iter().find(|r| r.task == t);
        assert!(r.is_some_and(|r| r.worker != 1), "tile {t}");
    }
    assert!(farm.fault_lines()[0].contains("redone by the others"));
    assert_gone(&run);
}

#[test]
fn a_crashed_worker_is_reported_and_its_tiles_redone() {
    survive("abort:1:1", Deadlines::default(), "SIGABRT");
}

#[test]
fn a_hung_worker_is_killed_at_the_deadline() {
    let d = Deadlines {
        startup: Duration::from_secs(20),
        tile: Duration::from_millis(1500),
    };
    survive("hang:1:1", d, "hung");
}

#[test]
fn a_worker_sending_garbage_is_dropped() {
    survive("garbage:1:1", Deadlines::default(), "malformed");
}

#[test]
fn a_worker_killed_by_pid_mid_run_is_replaced_by_the_others() {
    let view = View::new((-0.75, 0.0), 3.0, 128, 96, 500).expect("view");
    let s = settings(
        view,
        Tiling::Square { tile_px: 8 },
        Schedule::StaticBlock,
        2,
    );
    let tiles = s.tiling.tiles(128, 96);
    let mut t = ProcessTransport::spawn(&exe(), 2, &[]).expect("spawn");
    let pids = t.pids();
    let mut image = IterImage::new(&view);
    let mut killed = false;
    let out = run_master(
        &mut t,
        &s,
        &tiles,
        clock::mono_nanos(),
        Deadlines::default(),
        &AtomicBool::new(false),
        &mut |record, pixels| {
            // Worker 0 has 96 tiles of its block; kill it after its first.
            if record.worker == 0 && !killed {
                let pid = rustix::process::Pid::from_raw(pids[0] as i32).expect("pid");
                rustix::process::kill_process(pid, rustix::process::Signal::KILL).expect("kill");
                killed = true;
            }
            image.blit(&tiles[record.task as usize], &pixels);
        },
    )
    .expect("completes on the other worker");
    drop(t);
    assert!(killed);
    assert_eq!(image, render_serial(&view, Kernel::Simd));
    assert_eq!(out.completed, tiles.len());
    assert_eq!(out.stats.faults.len(), 1);
    assert!(
        out.stats.faults[0].what.contains("SIGKILL"),
        "{}",
        out.stats.faults[0].what
    );
    for pid in pids {
        assert!(!Path::new(&format!("/proc/{pid}")).exists(), "pid {pid}");
    }
}

#[test]
fn cancel_kills_every_worker_and_leaves_none_behind() {
    let view = View::new((-0.75, 0.0), 3.0, 512, 512, 20_000).expect("view");
    let s = settings(view, Tiling::Square { tile_px: 16 }, Schedule::default(), 3);
    let tiles = s.tiling.tiles(512, 512);
    let cancel = AtomicBool::new(false);
    let mut t = ProcessTransport::spawn(&exe(), 3, &[]).expect("spawn");
    let pids = t.pids();
    let out = run_master(
        &mut t,
        &s,
        &tiles,
        clock::mono_nanos(),
        Deadlines::default(),
        &cancel,
        &mut |_, _| cancel.store(true, Ordering::Relaxed),
    )
    .expect("cancelled run");
    assert!(out.cancelled);
    assert!(out.stats.cancelled);
    assert!(out.completed < tiles.len());
    // Reaped before run_master returned, not only when the transport drops.
    for pid in &pids {
        assert!(!Path::new(&format!("/proc/{pid}")).exists(), "pid {pid}");
    }
    drop(t);
}

#[test]
fn all_workers_failing_is_an_error_that_says_why() {
    let view = View::new((-0.75, 0.0), 3.0, 32, 32, 50).expect("view");
    let s = settings(view, Tiling::Square { tile_px: 8 }, Schedule::default(), 1);
    let e = render_on(
        Backend::Processes,
        &s,
        None,
        &options(&[(FAULT_ENV, "abort:0:0")]),
    )
    .expect_err("no worker left")
    .to_string();
    assert!(e.contains("all 1 worker"), "{e}");
    assert!(e.contains("SIGABRT"), "{e}");
    let missing = FarmOptions {
        worker_exe: Some("/no/such/parlab".into()),
        ..FarmOptions::default()
    };
    let e = render_on(Backend::Processes, &s, None, &missing)
        .expect_err("no exe")
        .to_string();
    assert!(e.contains("cannot start worker"), "{e}");
}

#[test]
fn run_processes_streams_every_tile() {
    let view = View::new((-0.75, 0.0), 3.0, 40, 30, 100).expect("view");
    let s = settings(
        view,
        Tiling::Bands { band_rows: 3 },
        Schedule::WorkStealing,
        2,
    );
    let tiles = s.tiling.tiles(40, 30);
    let mut seen = vec![0; tiles.len()];
    let out = run_processes(
        &s,
        &tiles,
        &options(&[]),
        &AtomicBool::new(false),
        &mut |r, p| {
            seen[r.task as usize] += 1;
            assert_eq!(p.counts.len(), tiles[r.task as usize].num_pixels());
        },
    )
    .expect("run");
    assert_eq!(out.completed, tiles.len());
    assert!(seen.iter().all(|&n| n == 1));
}

/// The worker refuses a frame of another version, or bytes that are not a
/// frame, with a message and a non-zero exit.
#[test]
fn the_worker_subcommand_refuses_bad_frames() {
    use parlab::engine::farm::protocol::{PROTOCOL_VERSION, ToWorker, encode_frame};
    use std::io::Write;
    let mut wrong = encode_frame(&ToWorker::Quit).expect("frame");
    wrong[3] = PROTOCOL_VERSION + 1;
    for (input, expect) in [
        (wrong, "protocol version"),
        (b"not a frame at all".to_vec(), "malformed"),
    ] {
        let mut child = parlab()
            .arg("worker")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(&input)
            .expect("write");
        let out = child.wait_with_output().expect("wait");
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(expect), "{stderr}");
    }
    // Hidden from help.
    let help = parlab().arg("--help").output().expect("help");
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("render"), "{help}");
    assert!(
        !help.lines().any(|l| l.trim_start().starts_with("worker ")),
        "{help}"
    );
}

#[test]
fn the_background_job_streams_process_tiles_and_cancel_reaps_them() {
    use parlab::engine::mandelbrot::job::{JobEvent, RenderJob};
    let view = View::new((-0.75, 0.0), 3.0, 48, 40, 200).expect("view");
    let s = settings(
        view,
        Tiling::Square { tile_px: 8 },
        Schedule::StaticCyclic,
        3,
    );
    let job = RenderJob::start_with(s, Backend::Processes, options(&[]), None).expect("job");
    let mut image = IterImage::new(&view);
    let end = loop {
        match job.next_blocking().expect("event") {
            JobEvent::Tile(t) => image.blit(&t.tile, &t.pixels),
            JobEvent::Finished(end) => break end,
        }
    };
    assert_eq!(end.error, None);
    assert_eq!(end.completed, job.tiles.len());
    assert_eq!(image, render_serial(&view, Kernel::Simd));
    let farm = end.farm.expect("farm figures");
    assert_eq!(farm.workers.len(), 3);

    // A long job, cancelled after its first tile.
    let big = View::new((-0.75, 0.0), 3.0, 512, 512, 20_000).expect("view");
    let s = settings(big, Tiling::Square { tile_px: 16 }, Schedule::default(), 2);
    let job = RenderJob::start_with(s, Backend::Processes, options(&[]), None).expect("job");
    let end = loop {
        match job.next_blocking().expect("event") {
            JobEvent::Tile(_) => job.cancel(),
            JobEvent::Finished(end) => break end,
        }
    };
    assert!(end.cancelled);
    assert!(end.completed < job.tiles.len());
    for w in &end.farm.expect("farm figures").workers {
        assert!(!Path::new(&format!("/proc/{}", w.pid)).exists(), "{w:?}");
    }
}

/// Pids of the running children of `parent`.
fn children_of(parent: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // Fields after the command name (which may hold spaces): state, ppid, …
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let mut f = rest.split_whitespace();
        let _state = f.next();
        if f.next().and_then(|p| p.parse::<u32>().ok()) == Some(parent) {
            out.push(pid);
        }
    }
    out
}

#[test]
fn workers_die_with_a_master_that_is_killed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut master = parlab()
        .args([
            "render",
            "--backend",
            "processes",
            "--workers",
            "2",
            "--width",
            "2048",
            "--height",
            "2048",
            "--max-iter",
            "200000",
            "--kernel",
            "scalar",
            "--tile",
            "256",
            "--out",
        ])
        .arg(dir.path().join("never.png"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("master");
    // Wait (bounded) until both workers run.
    let mut workers = Vec::new();
    for _ in 0..400 {
        workers = children_of(master.id());
        if workers.len() == 2 {
            break;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    assert_eq!(workers.len(), 2, "the master never had 2 workers");
    master.kill().expect("kill master");
    master.wait().expect("reap master");
    // The parent-death signal kills them; wait (bounded) for that.
    for _ in 0..400 {
        if !workers.iter().any(|&p| is_running(p.into())) {
            break;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    for p in workers {
        assert!(!is_running(p.into()), "worker {p} outlived its master");
    }
}

#[test]
fn bench_sweep_compares_backends_in_one_csv() {
    let dir = tempfile::tempdir().expect("tempdir");
    let csv = dir.path().join("s.csv");
    let out = parlab()
        .args([
            "bench",
            "sweep",
            "--backend",
            "threads,processes",
            "--workers",
            "1,2",
            "--tiles",
            "16,bands",
            "--reps",
            "1",
            "--warmup",
            "0",
            "--width",
            "32",
            "--height",
            "24",
            "--export-csv",
        ])
        .arg(&csv)
        .output()
        .expect("sweep");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&csv).expect("csv");
    assert!(text.lines().next().expect("header").ends_with(",backend"));
    let backends: Vec<&str> = text
        .lines()
        .skip(1)
        .filter_map(|l| l.rsplit(',').next())
        .collect();
    // Per backend: 2 granularities x (sequential, 1, 2 workers).
    assert_eq!(backends.iter().filter(|b| **b == "threads").count(), 6);
    assert_eq!(backends.iter().filter(|b| **b == "processes").count(), 6);
    for bad in [
        vec!["--backend", "processes", "--workload", "primes"],
        vec!["--backend", "threads,threads"],
        vec!["--backend", "fibres"],
    ] {
        let out = parlab()
            .args(["bench", "sweep", "--width", "8", "--height", "8"])
            .args(&bad)
            .output()
            .expect("sweep");
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
    }
}
