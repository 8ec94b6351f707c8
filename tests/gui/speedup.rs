//! The speedup lab driven through its widgets (egui_kittest, no GPU).
#![cfg(feature = "gui")]

use crate::common::{pick, step_until};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use parlab::engine::mandelbrot::view::View;
use parlab::gui::speedup::{SpeedupPanel, SpeedupSettings, SweepState};

/// A tiny sweep: 32×24 px, workers 1,2, two granularities, 2 repetitions.
fn tiny_panel(folder: &std::path::Path) -> SpeedupPanel {
    let mut panel = SpeedupPanel::new(SpeedupSettings {
        workers: "1,2".into(),
        granularities: "8,bands".into(),
        reps: 2,
        warmup: 0,
        export_folder: folder.to_path_buf(),
        ..SpeedupSettings::default()
    });
    panel.set_default_view(View::new((-0.75, 0.0), 3.0, 32, 24, 100).expect("view"));
    panel
}

fn harness(panel: SpeedupPanel) -> Harness<'static, SpeedupPanel> {
    Harness::builder()
        .with_size(egui::vec2(1400.0, 1800.0))
        .build_ui_state(|ui, p: &mut SpeedupPanel| p.ui(ui), panel)
}

/// Steps frames until the sweep has finished (bounded).
fn settle(h: &mut Harness<'_, SpeedupPanel>) {
    step_until(h, SpeedupPanel::is_idle);
}

#[test]
fn run_measures_every_configuration_and_plots_its_points() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut h = harness(tiny_panel(dir.path()));
    h.step();
    assert!(h.state().speedup_chart().is_none(), "nothing before Run");
    h.get_by_label("Run").click();
    settle(&mut h);

    let panel = h.state();
    assert_eq!(panel.state(), &SweepState::Done);
    let results = panel.results().expect("results");
    // Per granularity: sequential, 1 and 2 workers; 2 repetitions each.
    assert_eq!(results.configs.len(), 6);
    assert_eq!(results.num_measured(), 12);
    let chart = panel.speedup_chart().expect("chart");
    assert_eq!(chart.series.len(), 2, "a line per granularity");
    for s in &chart.series {
        let workers: Vec<f64> = s.points.iter().map(|p| p.workers).collect();
        assert_eq!(workers, vec![1.0, 2.0], "{}", s.label);
        assert!((s.points[0].speedup - 1.0).abs() < 1e-9, "T1/T1 = 1");
        assert!(s.points.iter().all(|p| p.speedup > 0.0 && p.bar.is_some()));
    }
    let g = panel.granularity_chart().expect("granularity chart");
    assert_eq!(g.series.len(), 2, "a line per worker count");
    assert!(
        g.series
            .iter()
            .all(|s| s.points.len() == 2 && s.best.is_some())
    );
    let p = panel.predicted_chart().expect("predicted");
    assert!(
        p.predicted
            .as_ref()
            .is_some_and(|c| c.points.len() == 64 && c.label.contains("predicted"))
    );
    // The table lists every configuration.
    assert!(h.query_by_label("trace bands(1) × seq").is_some());
}

#[test]
fn trace_button_records_an_open_request_for_that_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut h = harness(tiny_panel(dir.path()));
    h.get_by_label("Run").click();
    settle(&mut h);
    h.get_by_label("trace 8px × 2").click();
    h.step();
    let (settings, trace) = h.state_mut().take_open_trace_request().expect("request");
    assert_eq!(settings.num_workers, 2);
    assert_eq!(settings.view.width_px(), 32);
    assert_eq!(trace.num_workers, 2);
    assert_eq!(trace.records.len(), 12, "4 × 3 tiles of 8 px");
    assert!(
        h.state_mut().take_open_trace_request().is_none(),
        "taken once"
    );
}

#[test]
fn prediction_chooser_replays_the_chosen_granularity() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut h = harness(tiny_panel(dir.path()));
    h.get_by_label("Run").click();
    settle(&mut h);
    // By default the best-scaling granularity; choose the other one.
    let before = h
        .state()
        .predicted_chart()
        .expect("predicted")
        .title
        .clone();
    let target = if before.contains("8px") {
        "bands(1)"
    } else {
        "8px"
    };
    // The popup's option is a button (the table's granularity cells are labels).
    pick(&mut h, "prediction replays", target);
    h.step();
    h.step();
    let p = h.state().predicted_chart().expect("predicted");
    assert!(p.title.contains(target), "{} (was {before})", p.title);
    assert_eq!(p.series.len(), 1);
    assert_eq!(p.series[0].label, target);
    assert!(p.predicted.is_some() && p.brent.is_some());
}

#[test]
fn cancel_stops_a_long_sweep() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut panel = tiny_panel(dir.path());
    panel.settings.reps = 100;
    panel.set_default_view(View::new((-0.75, 0.0), 3.0, 256, 192, 2000).expect("view"));
    let mut h = harness(panel);
    h.get_by_label("Run").click();
    h.step();
    h.get_by_label("Cancel").click();
    settle(&mut h);
    let panel = h.state();
    assert_eq!(panel.state(), &SweepState::Cancelled);
    assert!(panel.results().expect("results").num_measured() < 600);
}

#[test]
fn export_buttons_write_files_and_show_paths() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("exports");
    let mut h = harness(tiny_panel(&out));
    h.get_by_label("Run").click();
    settle(&mut h);
    for button in ["Export PNG", "Export SVG", "Export CSV", "Export JSON"] {
        h.get_by_label(button).click();
        h.step();
        let msg = h.state().export_message().cloned().expect("message");
        assert!(
            msg.as_ref().is_ok_and(|m| m.starts_with("wrote")),
            "{button}: {msg:?}"
        );
    }
    for f in [
        "speedup.png",
        "predicted.png",
        "granularity.png",
        "speedup.svg",
        "granularity.svg",
        "sweep.csv",
        "sweep.json",
    ] {
        let len = std::fs::metadata(out.join(f)).expect(f).len();
        assert!(len > 100, "{f}: {len} bytes");
    }
    image::open(out.join("speedup.png")).expect("valid PNG");
}

#[test]
fn bad_worker_list_is_reported_and_nothing_runs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut panel = tiny_panel(dir.path());
    panel.settings.workers = "1,two".into();
    let mut h = harness(panel);
    h.get_by_label("Run").click();
    h.step();
    assert!(h.state().is_idle());
    assert!(h.state().results().is_none());
    assert!(h.query_by_label_contains("not a whole number").is_some());
}

#[test]
fn unknown_saved_workload_is_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut panel = tiny_panel(dir.path());
    panel.settings.workload = "primes9".into();
    let mut h = harness(panel);
    h.get_by_label("Run").click();
    h.step();
    assert!(h.state().results().is_none());
    assert!(h.query_by_label_contains("unknown workload").is_some());
}

/// Picks `name` in the workload combo box, as a user would.
fn pick_workload(h: &mut Harness<'_, SpeedupPanel>, name: &str) {
    pick(h, "workload", name);
    h.step();
    h.step();
}

#[test]
fn picking_io_runs_a_sweep_of_its_tasks() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut h = harness(tiny_panel(dir.path()));
    h.step();
    pick_workload(&mut h, "io");
    assert_eq!(h.state().settings.workload, "io");
    assert_eq!(
        h.state().settings.granularities,
        "1,2,4,8,16",
        "io's defaults"
    );
    assert!(h.query_by_label("parameters").is_some());
    h.state_mut().settings.workload_params = "tasks=6,wait-ms=1,rounds=10".into();
    h.state_mut().settings.granularities = "1,3".into();
    h.step();
    h.get_by_label("Run").click();
    settle(&mut h);
    let panel = h.state();
    assert_eq!(panel.state(), &SweepState::Done);
    let results = panel.results().expect("results");
    assert_eq!(results.configs.len(), 6);
    assert_eq!(results.num_measured(), 12);
    assert_eq!(results.num_tasks, vec![6, 6, 6, 2, 2, 2]);
    let chart = panel.speedup_chart().expect("chart");
    assert_eq!(chart.series.len(), 2);
    assert!(chart.series.iter().all(|s| s.points.len() == 2));
    let points = panel.measured_points();
    assert_eq!(points.len(), 2);
    assert_eq!(points[0][0], 1.0);
    assert!((points[0][1] - 1.0).abs() < 1e-9, "T1/T1 = 1");
}

#[test]
fn gil_toggle_runs_primes_under_the_lock() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut h = harness(tiny_panel(dir.path()));
    h.step();
    pick_workload(&mut h, "primes");
    h.state_mut().settings.workload_params = "start=1000,count=30".into();
    h.state_mut().settings.granularities = "5".into();
    h.step();
    h.get_by_label("GIL mode").click();
    h.step();
    assert!(h.state().settings.gil);
    h.get_by_label("Run").click();
    settle(&mut h);
    let panel = h.state();
    assert_eq!(panel.state(), &SweepState::Done);
    let results = panel.results().expect("results");
    assert_eq!(results.num_measured(), 6);
    // Under the GIL no two tasks' bars overlap in the 2-worker run's trace.
    let c = results
        .configs
        .iter()
        .position(|c| c.workers == 2 && c.schedule.uses_pool())
        .expect("2 workers");
    let trace = results.median_trace(c).expect("trace");
    let mut spans: Vec<(u64, u64)> = trace
        .records
        .iter()
        .map(|r| (r.start_nanos, r.end_nanos))
        .collect();
    spans.sort_unstable();
    assert_eq!(spans.len(), 6);
    assert!(spans.windows(2).all(|w| w[0].1 <= w[1].0), "{spans:?}");
    assert_eq!(panel.speedup_chart().expect("chart").series.len(), 1);
}

#[test]
fn pinned_io_sweep_shares_the_plot_with_primes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut h = harness(tiny_panel(dir.path()));
    h.step();
    pick_workload(&mut h, "io");
    h.state_mut().settings.workload_params = "tasks=4,wait-ms=1,rounds=10".into();
    h.state_mut().settings.granularities = "1".into();
    h.get_by_label("Run").click();
    settle(&mut h);
    h.get_by_label("Pin for comparison").click();
    h.step();
    assert_eq!(h.state().pinned_label(), Some("io"));
    pick_workload(&mut h, "primes");
    h.state_mut().settings.workload_params = "start=1000,count=20".into();
    h.state_mut().settings.granularities = "5".into();
    h.get_by_label("Run").click();
    settle(&mut h);
    let chart = h.state().speedup_chart().expect("chart");
    let labels: Vec<&str> = chart.series.iter().map(|s| s.label.as_str()).collect();
    // The sweep just measured first, solid; the pinned one dashed.
    assert_eq!(labels, vec!["primes 5/task", "io 1/task"]);
    assert!(chart.series.iter().all(|s| s.points.len() == 2));
    assert_ne!(chart.series[0].colour_index, chart.series[1].colour_index);
    assert_eq!((chart.series[0].group, chart.series[1].group), (0, 1));
    let legend: Vec<String> = chart.legend().into_iter().map(|e| e.label).collect();
    assert!(
        h.query_by_label("measured io 1/task").is_some(),
        "{legend:?}"
    );
    h.get_by_label("Export PNG").click();
    h.step();
    image::open(dir.path().join("speedup.png")).expect("valid PNG");
    h.get_by_label("Unpin io").click();
    h.step();
    assert_eq!(h.state().speedup_chart().expect("chart").series.len(), 1);
}

#[test]
fn trace_button_of_primes_opens_the_run_view_with_a_cell_per_task() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut h = harness(tiny_panel(dir.path()));
    h.step();
    pick_workload(&mut h, "primes");
    h.state_mut().settings.workload_params = "start=1000,count=30".into();
    h.state_mut().settings.granularities = "4".into();
    h.step();
    h.get_by_label("Run").click();
    settle(&mut h);
    assert!(h.state().task_view().is_none(), "nothing opened yet");
    h.get_by_label("trace 4/task × 2").click();
    h.step();
    h.step();
    assert!(
        h.state_mut().take_open_trace_request().is_none(),
        "primes has no image: nothing goes to the explorer"
    );
    let view = h.state().task_view().expect("run view");
    let schedule = h.state().settings.schedule;
    assert_eq!(
        view.title(),
        format!("primes · 4/task · 2 workers · {schedule} · GIL off")
    );
    assert_eq!(view.trace().num_workers, 2);
    // 30 numbers, 4 per task: 8 tasks, every one a cell, every one in the trace.
    assert_eq!(view.trace().records.len(), 8);
    assert_eq!(view.num_cells(), view.trace().records.len());
    assert!(
        h.query_by_label_contains("Run view: primes · 4/task · 2 workers")
            .is_some()
    );
    assert!(
        h.query_by_label_contains("8 chunks as a 3 × 3 grid")
            .is_some()
    );
    // The legend counts every task once.
    let listed: u32 = h
        .state()
        .task_view()
        .expect("view")
        .trace()
        .stats()
        .workers
        .iter()
        .map(|w| w.tasks)
        .sum();
    assert_eq!(listed, 8);
    h.get_by_label("Close run view").click();
    h.step();
    assert!(h.state().task_view().is_none());
}

#[test]
fn clicking_an_io_point_with_gil_shows_its_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut h = harness(tiny_panel(dir.path()));
    h.step();
    pick_workload(&mut h, "io");
    h.state_mut().settings.workload_params = "tasks=6,wait-ms=1,rounds=10".into();
    h.state_mut().settings.granularities = "2".into();
    h.get_by_label("GIL mode").click();
    h.step();
    h.get_by_label("Run").click();
    settle(&mut h);
    h.get_by_label("trace 2/task × seq").click();
    h.step();
    h.step();
    let view = h.state().task_view().expect("run view");
    assert_eq!(view.title(), "io · 2/task · sequential (no pool) · GIL on");
    assert_eq!(view.num_cells(), 3);
    assert_eq!(view.trace().records.len(), 3);
    assert!(h.query_by_label_contains("GIL mode:").is_some());
}

#[test]
fn gil_run_view_shows_primes_bars_that_never_overlap() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut h = harness(tiny_panel(dir.path()));
    h.step();
    pick_workload(&mut h, "primes");
    h.state_mut().settings.workload_params = "start=1000,count=40".into();
    h.state_mut().settings.granularities = "5".into();
    h.get_by_label("GIL mode").click();
    h.step();
    h.get_by_label("Run").click();
    settle(&mut h);
    h.get_by_label("trace 5/task × 2").click();
    h.step();
    h.step();
    let view = h.state().task_view().expect("run view");
    assert!(view.title().ends_with("GIL on"), "{}", view.title());
    assert_eq!(view.num_cells(), 8);
    let spans: Vec<(u64, u64)> = view
        .trace()
        .records
        .iter()
        .map(|r| (r.start_nanos, r.end_nanos))
        .collect();
    assert!(parlab::engine::exec::gil::disjoint(&spans), "{spans:?}");
    assert!(view.bars_disjoint());
    assert!(
        h.query_by_label_contains("never overlap (checked)")
            .is_some()
    );
}

#[test]
fn a_running_sweep_shows_its_phase_then_an_estimate_of_the_time_left() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut panel = tiny_panel(dir.path());
    panel.settings.reps = 100;
    panel.set_default_view(View::new((-0.75, 0.0), 3.0, 64, 48, 200).expect("view"));
    let mut h = harness(panel);
    h.get_by_label("Run").click();
    h.step();
    // Before any timed run: a phase, never "0/N" alone.
    assert!(
        h.query_by_label_contains("preparing:").is_some()
            || h.query_by_label_contains("warming up:").is_some()
            || h.query_by_label_contains("timed runs").is_some()
    );
    step_until(&mut h, |p| {
        p.progress_text()
            .is_some_and(|t| t.contains("left (estimate"))
    });
    assert!(
        h.query_by_label_contains("left (estimate from the")
            .is_some()
    );
    h.get_by_label("Cancel").click();
    settle(&mut h);
}

#[test]
fn an_empty_export_folder_is_refused_with_a_message() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut h = harness(tiny_panel(dir.path()));
    h.get_by_label("Run").click();
    settle(&mut h);
    h.state_mut().settings.export_folder = std::path::PathBuf::new();
    h.step();
    h.get_by_label("Export CSV").click();
    h.step();
    h.step();
    let msg = h.state().export_message().cloned().expect("message");
    assert_eq!(msg, Err(parlab::gui::speedup::NO_EXPORT_FOLDER.to_string()));
    assert!(
        h.query_by_label_contains("no export folder given")
            .is_some()
    );
    assert!(!std::path::Path::new("sweep.csv").exists());
}

#[test]
fn defaults_resets_both_lists_it_sits_beside() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut h = harness(tiny_panel(dir.path()));
    h.step();
    h.get_by_label("defaults").click();
    h.step();
    let fresh = SpeedupSettings::default();
    assert_eq!(h.state().settings.workers, fresh.workers);
    assert_eq!(h.state().settings.granularities, fresh.granularities);
    // A course workload: its own granularities; bad parameters leave the
    // lists alone and say why.
    h.state_mut().select_workload("primes");
    h.state_mut().settings.granularities = "5".into();
    h.state_mut().settings.workload_params = "count=oops".into();
    h.step();
    h.get_by_label("defaults").click();
    h.step();
    assert_eq!(h.state().settings.granularities, "5");
    assert!(
        h.query_by_label_contains("defaults: no default granularities")
            .is_some()
    );
    h.state_mut().settings.workload_params = "count=320".into();
    h.step();
    h.get_by_label("defaults").click();
    h.step();
    assert_eq!(h.state().settings.granularities, "1,2,4,8,16,32,64");
}

#[test]
fn the_export_confirmation_shows_without_scrolling_at_1280x720() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut h = Harness::builder()
        .with_size(egui::vec2(1280.0, 690.0))
        .build_ui_state(|ui, p: &mut SpeedupPanel| p.ui(ui), tiny_panel(dir.path()));
    h.get_by_label("Run").click();
    settle(&mut h);
    h.get_by_label("Export CSV").click();
    h.step();
    h.step();
    let confirmation = h.get_by_label_contains("wrote ");
    assert!(
        confirmation.rect().bottom() < 690.0,
        "at {:?}",
        confirmation.rect()
    );
}
