//! How the window's plots behave: legends in value order under the plot,
//! the wheel scrolls the page and leaves the plot alone, no axis below zero
//! on an empty plot, bands named with their row count.

use crate::common::step_until;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use egui_plot::PlotMemory;
use parlab::engine::mandelbrot::view::View;
use parlab::engine::speedup::charts::data::GranularityChart;
use parlab::gui::speedup::plots::granularity_plot_ui;
use parlab::gui::speedup::{SpeedupPanel, SpeedupSettings};
use parlab::gui::widgets::plot_frame::plot_id;

/// A tiny sweep whose granularities are typed out of order.
fn panel(folder: &std::path::Path) -> SpeedupPanel {
    let mut panel = SpeedupPanel::new(SpeedupSettings {
        workers: "1,2".into(),
        granularities: "16,4,bands(2),8".into(),
        reps: 1,
        warmup: 0,
        export_folder: folder.to_path_buf(),
        ..SpeedupSettings::default()
    });
    panel.set_default_view(View::new((-0.75, 0.0), 3.0, 32, 24, 50).expect("view"));
    panel
}

fn swept(folder: &std::path::Path) -> Harness<'static, SpeedupPanel> {
    let mut h = Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .build_ui_state(|ui, p: &mut SpeedupPanel| p.ui(ui), panel(folder));
    h.get_by_label("Run").click();
    step_until(&mut h, SpeedupPanel::is_idle);
    h.step();
    h
}

#[test]
fn legend_lists_granularities_by_value_and_bands_with_their_rows() {
    let dir = tempfile::tempdir().expect("tempdir");
    let h = swept(dir.path());
    let chart = h.state().speedup_chart().expect("chart");
    let labels: Vec<String> = chart.legend().into_iter().map(|e| e.label).collect();
    let wanted = [
        "measured 4px",
        "measured 8px",
        "measured 16px",
        "measured bands(2)",
    ];
    assert_eq!(labels[..4], wanted, "{labels:?}");
    // Drawn in that order in the row under the plot: left to right, or
    // on a later row (the first of each: the predicted plot under it
    // repeats its own series).
    let at: Vec<egui::Rect> = wanted
        .iter()
        .map(|l| h.get_all_by_label(l).next().expect(l).rect())
        .collect();
    for pair in at.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        assert!(
            b.top() > a.bottom() - 1.0 || (b.left() > a.left() && (b.top() - a.top()).abs() < 1.0),
            "{a:?} then {b:?}"
        );
    }
    // Under the plot, not over it.
    let plot = PlotMemory::load(&h.ctx, plot_id("speedup-vs-workers"))
        .expect("plot shown")
        .transform();
    assert!(
        at.iter().all(|r| r.top() >= plot.frame().bottom()),
        "{at:?}"
    );
    // The granularity plot's series are worker counts, fewest first.
    let g = h.state().granularity_chart().expect("granularity");
    let series: Vec<&str> = g.series.iter().map(|s| s.label.as_str()).collect();
    assert_eq!(series, ["1 worker", "2 workers"]);
    assert!(h.query_by_label("trace bands(2) × 2").is_some());
}

#[test]
fn the_wheel_over_a_plot_scrolls_the_page_and_leaves_the_plot_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut h = swept(dir.path());
    let id = plot_id("speedup-predicted");
    let before = PlotMemory::load(&h.ctx, id)
        .expect("plot shown")
        .transform();
    let over = before.frame().center();
    h.hover_at(over);
    h.step();
    // Down, then part of the way back up: a plot that took the wheel
    // would have panned one way or the other.
    for dy in [-120.0, 60.0] {
        h.event(egui::Event::MouseWheel {
            unit: egui::MouseWheelUnit::Point,
            delta: egui::vec2(0.0, dy),
            phase: egui::TouchPhase::Move,
            source: egui::MouseWheelSource::Unknown,
            modifiers: egui::Modifiers::NONE,
        });
        for _ in 0..20 {
            h.step();
        }
    }
    let after = PlotMemory::load(&h.ctx, id)
        .expect("plot shown")
        .transform();
    assert_eq!(after.bounds(), before.bounds(), "the plot did not pan");
    assert!(
        after.frame().top() < before.frame().top() - 10.0,
        "the page scrolled: plot from {} to {}",
        before.frame().top(),
        after.frame().top()
    );
}

#[test]
fn an_empty_plot_has_no_negative_axis_and_says_how_to_reset() {
    let chart = GranularityChart {
        title: "Time vs granularity".into(),
        series: Vec::new(),
        note: String::new(),
    };
    let mut h = Harness::builder()
        .with_size(egui::vec2(600.0, 400.0))
        .build_ui(move |ui| {
            granularity_plot_ui(ui, &chart, 200.0);
        });
    h.step();
    h.step();
    let plot = PlotMemory::load(&h.ctx, plot_id("speedup-granularity")).expect("plot shown");
    let b = plot.bounds();
    assert!(b.min()[0] >= 0.0 && b.min()[1] >= 0.0, "{b:?}");
    assert!(b.max()[0] > b.min()[0] && b.max()[1] > b.min()[1], "{b:?}");
    assert!(h.query_by_label_contains("double-click: reset").is_some());
}
