//! The explorer driven through its widgets (egui_kittest, no GPU): each test
//! finds a control by its label, uses it, and checks what the render did.
#![cfg(feature = "gui")]

use crate::common::{pick, step_until};
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use parlab::engine::exec::schedule::Schedule;
use parlab::engine::farm::Backend;
use parlab::engine::mandelbrot::render::render_serial;
use parlab::engine::mandelbrot::tiling::Tiling;
use parlab::engine::mandelbrot::view::View;
use parlab::gui::explorer::Explorer;
use parlab::gui::settings::ExplorerSettings;

/// A tiny, quick explorer: 64×48 in 8-px tiles on one worker.
fn small_explorer(folder: &std::path::Path) -> Explorer {
    let view = View::new((-0.75, 0.0), 3.5, 64, 48, 200).expect("view");
    Explorer::new(ExplorerSettings {
        view: view.spec(),
        tiling: Tiling::Square { tile_px: 8 },
        schedule: Schedule::Dynamic { chunk: 1 },
        num_workers: 1,
        overlay: false,
        export_folder: folder.to_path_buf(),
        ..ExplorerSettings::default()
    })
}

fn harness(explorer: Explorer) -> Harness<'static, Explorer> {
    Harness::builder()
        .with_size(egui::vec2(1400.0, 1000.0))
        .build_ui_state(|ui, e: &mut Explorer| e.ui(ui), explorer)
}

/// Steps frames until the render has finished (bounded).
/// Opens the Export section and steps until its buttons are shown (the
/// section opens over a few frames; a fixed number of steps was flaky).
/// Opens the Export section by its accessibility action (a pointer click
/// can be lost under load), stepping until it shows.
fn open_export(h: &mut Harness<'_, Explorer>) {
    h.get_by_label("Export").click_accesskit();
    for _ in 0..200 {
        h.step();
        if h.query_by_label("Quick: image PNG").is_some() {
            return;
        }
    }
    panic!("the Export section did not open");
}

fn settle(h: &mut Harness<'_, Explorer>) {
    step_until(h, Explorer::is_idle);
}

#[test]
fn workers_slider_rerenders_with_that_many_workers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut h = harness(small_explorer(dir.path()));
    settle(&mut h);
    assert_eq!(h.state().trace().expect("trace").num_workers, 1);

    h.get_by_role_and_label(Role::Slider, "workers")
        .set_value_accesskit(3.0);
    settle(&mut h);

    let e = h.state();
    assert_eq!(e.settings.num_workers, 3);
    let trace = e.trace().expect("trace");
    assert_eq!(trace.num_workers, 3);
    assert_eq!(trace.records.len(), 8 * 6, "every tile rendered");
    assert!(trace.records.iter().all(|r| r.worker < 3), "{trace:?}");
}

#[test]
fn overlay_toggle_changes_the_image_and_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut h = harness(small_explorer(dir.path()));
    settle(&mut h);
    let plain = h.state().displayed_rgba().expect("image").0.to_vec();

    h.get_by_role_and_label(Role::CheckBox, "worker overlay")
        .click_accesskit();
    // Under load a step can take more than one frame to land.
    step_until(&mut h, |e| e.settings.overlay);
    let tinted = h.state().displayed_rgba().expect("image").0.to_vec();
    assert_ne!(plain, tinted, "the overlay tints the tiles");

    h.get_by_role_and_label(Role::CheckBox, "worker overlay")
        .click_accesskit();
    step_until(&mut h, |e| !e.settings.overlay);
    assert_eq!(
        h.state().displayed_rgba().expect("image").0,
        plain.as_slice()
    );
}

#[test]
fn quick_export_writes_a_valid_png() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("exports");
    let mut h = harness(small_explorer(&out));
    settle(&mut h);
    open_export(&mut h);
    h.get_by_label("Quick: image PNG + overlay")
        .click_accesskit();
    h.step();

    let files: Vec<_> = std::fs::read_dir(&out)
        .expect("folder created")
        .map(|e| e.expect("entry").path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(files[0].to_string_lossy().ends_with("overlay.png"));
    let img = image::open(&files[0]).expect("valid PNG").to_rgba8();
    assert_eq!((img.width(), img.height()), (64, 48));
    h.get_by_label_contains("Wrote ");
}

#[test]
fn bad_size_shows_a_message_and_keeps_the_last_good_image() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut h = harness(small_explorer(dir.path()));
    settle(&mut h);
    let before = h.state().displayed_rgba().expect("image").0.to_vec();

    h.get_by_role_and_label(Role::TextInput, "width")
        .set_text_value_accesskit("0");
    h.step();
    assert_eq!(h.state().size_text.0, "0");
    h.get_by_label("Apply").click_accesskit();
    settle(&mut h);

    h.get_by_label_contains("size refused");
    let e = h.state();
    assert_eq!((e.view().width_px(), e.view().height_px()), (64, 48));
    let (now, w, hgt) = e.displayed_rgba().expect("image");
    assert_eq!((w, hgt), (64, 48));
    assert_eq!(now, before.as_slice(), "the last good image is kept");
}

#[test]
fn palette_change_recolours_without_rerendering() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut h = harness(small_explorer(dir.path()));
    settle(&mut h);
    let trace_before = h.state().trace().expect("trace");
    let before = h.state().displayed_rgba().expect("image").0.to_vec();
    h.state_mut()
        .set_palette(parlab::engine::mandelbrot::colour::Palette::Fire);
    h.step();
    assert!(h.state().is_idle(), "no new render was started");
    assert_eq!(h.state().trace().expect("trace"), trace_before);
    assert_ne!(
        h.state().displayed_rgba().expect("image").0,
        before.as_slice()
    );
}

#[test]
fn unwritable_export_folder_is_reported_in_the_window() {
    let dir = tempfile::tempdir().expect("tempdir");
    let blocker = dir.path().join("a-file");
    std::fs::write(&blocker, b"x").expect("write");
    // A folder inside a file cannot be created.
    let mut h = harness(small_explorer(&blocker.join("exports")));
    settle(&mut h);
    open_export(&mut h);
    h.get_by_label("Quick: image PNG").click_accesskit();
    h.step();
    h.get_by_label_contains("could not create folder");
    assert_eq!(std::fs::read(&blocker).expect("kept"), b"x");
}

#[test]
fn baseline_button_gives_a_speedup() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut e = small_explorer(dir.path());
    e.settings.num_workers = 2;
    let mut h = harness(e);
    settle(&mut h);
    h.get_by_label("no baseline yet");
    h.get_by_label("Measure 1-worker baseline")
        .click_accesskit();
    settle(&mut h);
    assert!(h.state().baseline().is_some());
    h.get_by_label_contains("speedup x");
    h.get_by_label_contains("baseline measured");
}

#[test]
fn a_one_worker_render_is_its_own_baseline() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut h = harness(small_explorer(dir.path()));
    settle(&mut h);
    assert!(h.state().baseline().is_some());
    h.get_by_role_and_label(Role::Slider, "workers")
        .set_value_accesskit(2.0);
    settle(&mut h);
    h.get_by_label_contains("speedup x");
    h.get_by_label_contains("baseline measured");
}

#[test]
fn a_baseline_is_dropped_when_the_view_changes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut h = harness(small_explorer(dir.path()));
    settle(&mut h);
    assert!(h.state().baseline().is_some());
    let bigger = h.state().view().with_size(72, 48).expect("view");
    h.state_mut().set_view(bigger, true);
    // While the new (1-worker) render runs there is no baseline for it.
    assert!(h.state().baseline().is_none());
}

#[test]
fn a_render_waits_while_another_measurement_holds_the_window() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut h = harness(small_explorer(dir.path()));
    settle(&mut h);
    let sweep = h
        .state()
        .measuring
        .try_begin("a test sweep")
        .expect("the explorer is idle");
    h.state_mut().restart();
    h.step();
    assert!(!h.state().is_idle(), "the render is wanted");
    h.get_by_label_contains("a test sweep is measuring");
    drop(sweep);
    settle(&mut h);
    assert!(h.state().is_idle());
    assert!(h.state().measuring.holder().is_none());
}

#[test]
fn save_as_opens_the_in_app_dialog_in_the_export_folder_with_every_glyph() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A folder that does not exist yet: the dialog makes it and starts there.
    let folder = dir.path().join("exports");
    // The harness fails on any glyph the fonts lack (egui_file's 💾, ⬆, ⟲,
    // 🗀 and 🗋 once showed as boxes): no allow_missing_glyphs here.
    let mut h = harness(small_explorer(&folder));
    settle(&mut h);
    // A file in the folder, so the file list draws its icons too.
    std::fs::create_dir_all(&folder).expect("folder");
    std::fs::write(folder.join("earlier.png"), b"x").expect("file");
    open_export(&mut h);
    assert!(h.query_by_label_contains("Save image PNG").is_none());
    h.get_all_by_label("Save as…")
        .next()
        .expect("a Save as button")
        .click_accesskit();
    for _ in 0..5 {
        h.step();
    }
    h.get_all_by_label_contains("Save image PNG")
        .next()
        .expect("the save dialog is open");
    let shown = h.state().exports.dialog_folder().expect("dialog open");
    assert_eq!(
        shown.canonicalize().expect("exists"),
        folder.canonicalize().expect("exists")
    );
    assert!(h.query_by_label_contains("earlier.png").is_some());
}

#[test]
fn an_empty_quick_export_folder_is_refused_with_a_message() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut h = harness(small_explorer(dir.path()));
    settle(&mut h);
    h.state_mut().settings.export_folder = std::path::PathBuf::new();
    open_export(&mut h);
    h.get_by_label("Quick: image PNG").click();
    h.step();
    h.get_by_label_contains("no export folder given");
    // Save as… is refused the same way: no dialog in the current directory.
    h.get_all_by_label("Save as…")
        .next()
        .expect("Save as")
        .click();
    h.step();
    h.step();
    assert!(h.state().exports.dialog_folder().is_none());
    let exported_here = std::fs::read_dir(".").expect("cwd").flatten().any(|e| {
        let name = e.file_name().to_string_lossy().into_owned();
        name.starts_with("parlab-") && name.ends_with("image.png")
    });
    assert!(!exported_here, "nothing written into the current directory");
}

#[test]
fn show_trace_displays_a_run_from_elsewhere() {
    use parlab::engine::mandelbrot::colour::Palette;
    use parlab::engine::mandelbrot::kernel::Kernel;
    use parlab::engine::mandelbrot::render::{RenderSettings, render};
    let dir = tempfile::tempdir().expect("tempdir");
    let mut h = harness(small_explorer(dir.path()));
    settle(&mut h);
    let view = View::new((-0.5, 0.1), 2.0, 40, 30, 150).expect("view");
    let settings = RenderSettings {
        view,
        tiling: Tiling::Square { tile_px: 10 },
        schedule: Schedule::StaticCyclic,
        num_workers: 3,
        kernel: Kernel::Reference,
        placement: Default::default(),
    };
    let run = render(&settings, None).expect("render");

    // With its image: shown as is, nothing re-rendered.
    h.state_mut()
        .show_trace(settings, run.trace.clone(), Some(run.image.clone()));
    h.step();
    assert!(h.state().is_idle());
    assert_eq!(h.state().trace().expect("trace"), run.trace);
    let (shown, w, hgt) = h.state().displayed_rgba().expect("image");
    assert_eq!((w, hgt), (40, 30));
    assert_eq!(
        shown,
        Palette::Classic.colourise(&run.image).as_raw().as_slice()
    );
    assert_eq!(h.state().settings.num_workers, 3);

    // Without: the image is rendered again and the given trace is shown with it.
    h.state_mut().show_trace(settings, run.trace.clone(), None);
    settle(&mut h);
    assert_eq!(h.state().trace().expect("trace"), run.trace);
    let (shown, _, _) = h.state().displayed_rgba().expect("image");
    assert_eq!(
        shown,
        Palette::Classic.colourise(&run.image).as_raw().as_slice()
    );
}

#[test]
fn kernel_choice_rerenders_with_identical_pixels() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut h = harness(small_explorer(dir.path()));
    settle(&mut h);
    assert_eq!(
        h.state().settings.kernel,
        parlab::engine::mandelbrot::kernel::Kernel::Simd
    );
    let simd = h.state().displayed_rgba().expect("image").0.to_vec();

    pick(&mut h, "kernel", "scalar reference");
    h.step();
    settle(&mut h);

    assert_eq!(
        h.state().settings.kernel,
        parlab::engine::mandelbrot::kernel::Kernel::Reference
    );
    let scalar = h.state().displayed_rgba().expect("image").0.to_vec();
    assert_eq!(simd, scalar, "both kernels give the same escape counts");
}

#[test]
fn processes_render_the_same_pixels_with_startup_and_transfer_bars() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut e = small_explorer(dir.path());
    e.settings.num_workers = 2;
    e.settings.tiling = Tiling::Square { tile_px: 16 };
    // Inside a test binary this executable is not parlab: name the one to start.
    e.worker_exe = Some(env!("CARGO_BIN_EXE_parlab").into());
    let mut h = harness(e);
    settle(&mut h);
    let threads_rgba = h.state().displayed_rgba().expect("image").0.to_vec();
    assert!(h.state().farm_stats().is_none(), "threads have no farm");
    assert!(h.state().startup_bars().is_empty());

    pick(&mut h, "workers are", "processes");
    h.step();
    settle(&mut h);

    let e = h.state();
    assert_eq!(e.settings.backend, Backend::Processes);
    assert_eq!(e.error(), None);
    let view = e.view();
    let tiles = 4 * 3;
    let trace = e.trace().expect("trace");
    assert_eq!(trace.num_workers, 2);
    assert_eq!(trace.records.len(), tiles, "every tile rendered");
    assert_eq!(
        e.image().expect("image"),
        &render_serial(&view, e.settings.kernel),
        "processes give the serial escape counts"
    );
    assert_eq!(
        e.displayed_rgba().expect("image").0,
        threads_rgba.as_slice(),
        "and the same picture as threads, pixel for pixel"
    );

    let farm = e.farm_stats().expect("farm figures after a process render");
    assert_eq!(farm.workers.len(), 2);
    assert_eq!(farm.transfers.len(), tiles, "a transfer per tile");
    assert!(farm.faults.is_empty(), "{:?}", farm.faults);
    let mut bars = e.startup_bars();
    bars.sort_by_key(|b| b.lane);
    assert_eq!(bars.iter().map(|b| b.lane).collect::<Vec<_>>(), [0, 1]);
    for b in &bars {
        assert!(b.end_nanos > b.start_nanos, "{b:?}");
        // Start-up comes before the worker's first tile, in the same time base.
        let first = trace
            .records
            .iter()
            .filter(|r| r.worker == b.lane)
            .map(|r| r.start_nanos)
            .min();
        assert!(first.is_none_or(|f| f >= b.end_nanos), "{b:?} {first:?}");
    }
    // The window says what the bars and numbers are.
    h.get_by_label_contains("process start-up: spawn to first message");
    h.get_by_label_contains("transfer: serialise + pipe + deserialise");
    h.get_by_label_contains("bytes moved");
    // Every worker process was reaped: no /proc entry (a zombie has one).
    for w in &h.state().farm_stats().expect("farm").workers {
        assert!(w.pid > 0);
        assert!(
            !std::path::Path::new(&format!("/proc/{}", w.pid)).exists(),
            "worker {} (pid {}) still exists: {}",
            w.id,
            w.pid,
            w.ending
        );
    }
}

/// The timeline widget on its own: hovering a transfer strip or a start-up
/// bar shows what it is and how long it took.
#[test]
fn timeline_hover_names_transfers_and_startups() {
    use parlab::engine::exec::trace::{TaskRecord, Trace};
    use parlab::engine::farm::Transfer;
    use parlab::gui::widgets::timeline::{LaneSpan, TimelineCache, TimelineOptions, timeline_ui};

    struct State {
        trace: Trace,
        startups: Vec<LaneSpan>,
        transfers: Vec<Transfer>,
        cache: TimelineCache,
        plot: Option<egui::Rect>,
    }
    const LANE_H: f32 = 16.0;
    let ms = 1_000_000;
    let state = State {
        trace: Trace {
            num_workers: 1,
            wall_nanos: 100 * ms,
            records: vec![
                TaskRecord {
                    task: 0,
                    worker: 0,
                    start_nanos: 20 * ms,
                    end_nanos: 50 * ms,
                    work: 1,
                    cpu: None,
                },
                TaskRecord {
                    task: 1,
                    worker: 0,
                    start_nanos: 60 * ms,
                    end_nanos: 70 * ms,
                    work: 1,
                    cpu: None,
                },
            ],
        },
        startups: vec![LaneSpan {
            lane: 0,
            start_nanos: 0,
            end_nanos: 15 * ms,
            hover: "start-up of worker 0 (pid 42): 15.0 ms".into(),
        }],
        transfers: vec![Transfer {
            task: 0,
            worker: 0,
            start_nanos: 50 * ms,
            end_nanos: 90 * ms,
            compute_nanos: 30 * ms,
            ..Default::default()
        }],
        cache: TimelineCache::default(),
        plot: None,
    };
    let mut h = Harness::builder()
        .with_size(egui::vec2(600.0, 100.0))
        .build_ui_state(
            |ui, s: &mut State| {
                let r = timeline_ui(
                    ui,
                    &s.trace,
                    &mut s.cache,
                    TimelineOptions {
                        lane_height: LANE_H,
                        startups: &s.startups,
                        transfers: &s.transfers,
                        ..Default::default()
                    },
                );
                s.plot = Some(r.plot_rect);
            },
            state,
        );
    h.step();
    let plot = h.state().plot.expect("drawn");
    let at = |t_ms: f32, y: f32| egui::pos2(plot.left() + plot.width() * t_ms / 100.0, y);
    // The transfer's strip along the lane's bottom, past the next tile's start.
    h.hover_at(at(80.0, plot.top() + LANE_H - 3.0));
    h.run_steps(4);
    // (get_all: a tooltip's text may appear in more than one node.)
    let _ = h.get_all_by_label_contains("transfer: 40.0 ms of 70.0 ms (57 % of tile 0");
    assert!(
        h.query_all_by_label_contains("tile 1 · worker 0")
            .next()
            .is_none(),
        "the strip's text, not the tile under it"
    );
    // The start-up bar, in the middle of the lane.
    h.hover_at(at(7.0, plot.top() + LANE_H * 0.5));
    h.run_steps(4);
    let _ = h.get_all_by_label("start-up of worker 0 (pid 42): 15.0 ms");
    // The tile itself, above the strip: its own summary.
    h.hover_at(at(65.0, plot.top() + 3.0));
    h.run_steps(4);
    let _ = h.get_all_by_label_contains("tile 1 · worker 0");
    assert!(h.query_all_by_label_contains("transfer: ").next().is_none());
}

#[test]
fn centre_and_zoom_are_shown_typed_and_checked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut h = harness(small_explorer(dir.path()));
    settle(&mut h);
    let (re, im) = h.state().view().center();
    assert_eq!(
        parlab::gui::widgets::labelled::parse_number(&h.state().place_text.re),
        Some(re)
    );
    assert!(
        (parlab::gui::widgets::labelled::parse_number(&h.state().place_text.im).expect("im") - im)
            .abs()
            < 1e-9
    );
    h.state_mut().place_text.zoom = "4".into();
    h.state_mut().place_text.re = "-0.5".into();
    h.step();
    h.step();
    h.get_by_label("Go").click_accesskit();
    step_until(&mut h, |e| e.view().center().0 != re);
    settle(&mut h);
    let v = h.state().view();
    assert!((v.center().0 + 0.5).abs() < 1e-12, "{v:?}");
    assert_eq!(h.state().place_text.zoom, "4");
    h.state_mut().place_text.zoom = "lots".into();
    h.step();
    h.get_by_label("Go").click_accesskit();
    step_until(&mut h, |e| e.place_text.error.is_some());
    h.get_by_label_contains("zoom \"lots\" is not a number");
    assert_eq!(h.state().view(), v, "the view is kept");
}

#[test]
fn bands_are_named_with_their_row_count() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut h = harness(small_explorer(dir.path()));
    settle(&mut h);
    // By accessibility action: a pointer click lands where the widget was
    // last frame, and the explorer's layout moves while it renders.
    h.get_by_label("bands").click_accesskit();
    settle(&mut h);
    let tiling = h.state().settings.tiling;
    assert!(matches!(tiling, Tiling::Bands { .. }));
    let shown = tiling.to_string();
    assert!(
        shown.starts_with("bands(") && shown.ends_with(')'),
        "{shown}"
    );
    h.get_by_role_and_label(Role::Slider, &format!("rows per band: {shown}"));
}
