//! The Python tab driven through egui_kittest: running the real `python3`
//! (Run starts the script in the background, the window keeps drawing, and
//! the result appears when it ends), a trace opened from the command line
//! with lanes named by process and thread, and the tab's choices saved and
//! restored with the window's settings.
#![cfg(feature = "gui")]

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{By, Queryable};
use parlab::engine::python::{Imported, Lane, LaneTask, LaneTrace, StartMethod};
use parlab::gui::app::App;
use parlab::gui::panel::Tab;
use parlab::gui::python::{Mode, PythonSettings, Source};
use parlab::gui::settings::settings_json;
use parlab::gui::{WindowPlan, apply_plan};
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn harness(app: App) -> Harness<'static, App> {
    Harness::builder()
        .with_size(egui::vec2(1200.0, 1400.0))
        .build_ui_state(|ui, a: &mut App| a.ui(ui), app)
}

#[test]
fn running_the_race_program_shows_two_threads_and_its_output() {
    let mut app = App::new(None);
    app.tab = Tab::Python;
    app.python.settings.source = Source::shipped("race_threads");
    let mut h = harness(app);
    h.step();
    h.get_by_label_contains("Two threads update one value");
    h.get_by_label("Run").click();
    h.step();
    let deadline = Instant::now() + Duration::from_secs(60);
    while h.state().python.is_busy() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
        h.step();
    }
    assert!(!h.state().python.is_busy(), "the run did not finish");
    h.step();
    h.step();
    h.get_by_label_contains("the script finished (exit code 0)");
    h.get_by_label_contains("2 task(s) in 1 process(es) / 2 thread(s)");
    h.get_by_label_contains("End value: 1");
    // Other processes' CPU over the run: the busy-machine line (its verdict
    // depends on the machine; that it is measured and shown does not).
    h.get_by_label_contains("other processes");
    h.get_by_label("concurrency:");
    // The two threads' lanes are named by thread and native id, not "worker N".
    let lanes = h.query_all_by_label_contains(" tid ").count();
    assert_eq!(lanes, 2, "one label per thread lane");
}

fn task(lane: u32, index: u64, start_nanos: u64, end_nanos: u64) -> LaneTask {
    LaneTask {
        lane,
        index,
        name: "work".into(),
        arg: index.to_string(),
        start_nanos,
        end_nanos,
        cpu_nanos: Some((end_nanos - start_nanos) / 2),
        source: "import".into(),
        ok: true,
    }
}

/// A trace as `parlab open` would read it: a pool worker process and a
/// thread of the main process, each with tasks.
fn imported() -> Imported {
    let lane = |pid, tid, pn: &str, tn: &str| Lane {
        pid,
        tid,
        process_name: pn.into(),
        thread_name: tn.into(),
    };
    Imported {
        trace: LaneTrace {
            lanes: vec![
                lane(4812, 4812, "ForkPoolWorker-3", "MainThread"),
                lane(4800, 4813, "MainProcess", "Thread-2"),
            ],
            tasks: vec![
                task(0, 0, 0, 4_000_000),
                task(1, 1, 1_000_000, 6_000_000),
                task(0, 2, 4_000_000, 9_000_000),
            ],
            wall_nanos: 10_000_000,
            ..LaneTrace::default()
        },
        ..Imported::default()
    }
}

#[test]
fn an_opened_trace_shows_lanes_named_by_process_and_thread() {
    let mut app = App::new(None);
    assert_eq!(app.tab, Tab::Lessons);
    apply_plan(
        &mut app,
        WindowPlan {
            open_trace: Some((PathBuf::from("run-trace.json"), imported())),
            ..WindowPlan::default()
        },
    );
    assert_eq!(app.tab, Tab::Python, "the window opens on the Python tab");
    let mut h = harness(app);
    h.step();
    h.step();
    h.get_by_label("run-trace.json");
    h.get_by_label_contains("3 task(s) in 2 process(es) / 2 thread(s)");
    // Timeline lanes: the pool worker by name and pid, the thread by name and tid.
    h.get_by_label("ForkPoolWorker-3 pid 4812");
    h.get_by_label("Thread-2 tid 4813");
    // The lanes table gives each one's whole name.
    h.get_by_label("ForkPoolWorker-3 (pid 4812)");
    h.get_by_label("MainProcess / Thread-2 (tid 4813)");
    assert_eq!(h.state().python.settings.trace_path, "run-trace.json");
    // The activity strip and the concurrency histogram sit over the lanes.
    h.get_by_label("concurrency:");
}

#[test]
fn a_run_waits_for_another_measurement_and_names_it() {
    let mut app = App::new(None);
    app.tab = Tab::Python;
    app.python.settings.source = Source::shipped("race_threads");
    let other = app
        .measuring
        .try_begin("a test measurement")
        .expect("the token is free");
    let mut h = harness(app);
    h.step();
    h.get_by_label("Run").click();
    h.step();
    h.step();
    h.get_by_label(
        "the Python run waits: a test measurement is measuring (one measurement at a time)",
    );
    assert!(h.state().python.is_busy(), "the run is pending");
    assert!(!h.state().python.is_showing(), "nothing ran");
    // The other measurement ends: the run starts by itself and holds the token.
    drop(other);
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut held = false;
    while h.state().python.is_busy() && Instant::now() < deadline {
        held |= h.state().measuring.holder().as_deref() == Some("the Python tab's run");
        std::thread::sleep(Duration::from_millis(20));
        h.step();
    }
    assert!(!h.state().python.is_busy(), "the run did not finish");
    assert!(held, "the run held the one-measurement token");
    h.step();
    h.get_by_label_contains("End value: 1");
    assert!(h.query_by_label_contains("waits:").is_none());
    assert!(!h.state().measuring.is_busy(), "the token was given back");
}

#[test]
fn the_tabs_choices_survive_a_save_and_load() {
    let mut app = App::new(None);
    app.tab = Tab::Python;
    let chosen = PythonSettings {
        source: Source::shipped("pool_primes"),
        file_path: "/tmp/student/primes.py".into(),
        trace_path: "/tmp/student/trace.json".into(),
        workers: 1,
        mode: Mode::Processes,
        start_method: Some(StartMethod::Spawn),
        timeout_s: 33.0,
        sweep_workers: "1,2".into(),
        sweep_reps: 7,
        export_folder: PathBuf::from("/tmp/student/exports"),
    };
    app.python.settings = chosen.clone();
    let mut h = harness(app);
    h.step();
    // One choice made the way a student makes it: a click.
    h.get_by_label("threads").click();
    h.step();
    h.state_mut().python.settings.source = Source::File;
    h.step();
    let expected = PythonSettings {
        mode: Mode::Threads,
        source: Source::File,
        ..chosen
    };
    assert_eq!(h.state().python.settings, expected);

    let saved = settings_json(&h.state().settings());
    let back = App::new(Some(&saved));
    assert!(back.notice().is_none(), "{:?}", back.notice());
    assert_eq!(back.python.settings, expected);
    // And the restored tab shows them.
    let mut h = harness(back);
    h.step();
    for text in ["/tmp/student/primes.py", "/tmp/student/trace.json"] {
        h.get(By::new().role(Role::TextInput).value(text));
    }
}

#[test]
fn absurd_saved_choices_get_their_defaults_and_a_notice() {
    let mut v: serde_json::Value =
        serde_json::from_str(&settings_json(&App::new(None).settings())).expect("json");
    v["python"]["source"] = serde_json::json!({"Shipped": "no_such_program"});
    v["python"]["workers"] = 0.into();
    v["python"]["timeout_s"] = (-5.0).into();
    v["python"]["sweep_workers"] = "1,,99999".into();
    v["python"]["sweep_reps"] = 100_000.into();
    v["python"]["file_path"] = "kept.py".into();
    let app = App::new(Some(&v.to_string()));
    let d = PythonSettings::default();
    let s = &app.python.settings;
    assert_eq!(s.source, d.source);
    assert_eq!(s.workers, d.workers);
    assert_eq!(s.timeout_s, d.timeout_s);
    assert_eq!(s.sweep_workers, d.sweep_workers);
    assert_eq!(s.sweep_reps, d.sweep_reps);
    assert_eq!(s.file_path, "kept.py", "valid fields are kept");
    let notice = app.notice().expect("a notice").to_string();
    for field in [
        "python.source",
        "python.workers",
        "python.timeout_s",
        "python.sweep_workers",
        "python.sweep_reps",
    ] {
        assert!(notice.contains(field), "{field} not named in: {notice}");
    }
    // A python block that cannot be read at all: the tab's defaults, the rest kept.
    v["python"] = serde_json::json!({"workers": "many"});
    v["tab"] = "System".into();
    let app = App::new(Some(&v.to_string()));
    assert_eq!(app.python.settings, d);
    assert_eq!(app.tab, Tab::System);
    assert!(app.notice().expect("a notice").contains("python"));
}
