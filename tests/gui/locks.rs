//! The lock panel driven through egui_kittest, by label.
#![cfg(feature = "gui")]

use crate::common::step_until;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use parlab::engine::locks::deadlock::Outcome;
use parlab::engine::locks::throughput::LockKind;
use parlab::gui::locks::{LocksPanel, LocksView};

#[test]
fn deadlock_run_reports_the_cycle_and_the_ordered_run_completes() {
    let mut panel = LocksPanel::default();
    panel.view = LocksView::Deadlock;
    panel.deadlock_timeout_millis = 50;
    let mut harness = Harness::new_ui_state(|ui, p: &mut LocksPanel| p.ui(ui), panel);
    harness.step();
    harness.get_by_label("Run (opposite lock order)").click();
    harness.step();
    step_until(&mut harness, |p| {
        !p.is_busy() && p.deadlock_report().is_some()
    });
    assert_eq!(
        harness.state().deadlock_report().map(|r| r.outcome),
        Some(Outcome::Detected)
    );
    assert!(
        harness
            .query_by_label_contains("deadlock detected after")
            .is_some()
    );
    assert!(
        harness
            .query_by_label("T1 holds A, waits for B (held by T2)")
            .is_some()
    );

    harness.get_by_label("Run with a global lock order").click();
    harness.step();
    step_until(&mut harness, |p| {
        !p.is_busy() && p.deadlock_report().map(|r| r.outcome) == Some(Outcome::Completed)
    });
    assert!(harness.query_by_label_contains("completed in").is_some());
}

#[test]
fn the_deadlock_view_no_longer_holds_the_start_join_comparison() {
    let mut panel = LocksPanel::default();
    panel.view = LocksView::Deadlock;
    let mut harness = Harness::new_ui_state(|ui, p: &mut LocksPanel| p.ui(ui), panel);
    harness.step();
    assert!(
        harness
            .query_by_label("Compare start/join orders")
            .is_none()
    );
}

#[test]
fn measure_streams_points_into_the_plot() {
    let mut panel = LocksPanel::default();
    panel.throughput.thread_counts = vec![1, 2];
    panel.throughput.ops = 20_000;
    panel.throughput.repeats = 1;
    panel.throughput.kinds = vec![LockKind::Mutex, LockKind::Atomic];
    let mut harness = Harness::new_ui_state(|ui, p: &mut LocksPanel| p.ui(ui), panel);
    harness.step();
    harness.get_by_label("Measure").click();
    harness.step();
    step_until(&mut harness, |p| !p.is_busy());
    assert_eq!(harness.state().points().len(), 4);
    assert!(harness.state().points().iter().all(|p| p.counted_right));

    // Save the plot, then the CSV, from the panel.
    let dir = tempfile::tempdir().expect("tempdir");
    for name in ["sweep.svg", "sweep.csv"] {
        let path = dir.path().join(name);
        harness.state_mut().export_path = path.display().to_string();
        harness.step();
        harness.get_by_label("Save").click();
        harness.step();
        harness.step();
        assert!(path.exists(), "{name}");
        assert!(harness.query_by_label_contains("saved ").is_some());
    }
    let csv = std::fs::read_to_string(dir.path().join("sweep.csv")).expect("csv");
    assert_eq!(csv.lines().count(), 5);

    // A bad name is refused with a message, and nothing is written.
    let bad = dir.path().join("sweep.jpg");
    harness.state_mut().export_path = bad.display().to_string();
    harness.step();
    harness.get_by_label("Save").click();
    harness.step();
    harness.step();
    assert!(!bad.exists());
    assert!(harness.query_by_label_contains("ending in .csv").is_some());
}

#[test]
fn contention_timeline_is_recorded() {
    let mut panel = LocksPanel::default();
    panel.view = LocksView::Contention;
    panel.contention.iterations = 5;
    let mut harness = Harness::new_ui_state(|ui, p: &mut LocksPanel| p.ui(ui), panel);
    harness.step();
    harness.get_by_label("Record timeline").click();
    harness.step();
    step_until(&mut harness, |p| p.contention_timeline().is_some());
    let tl = harness.state().contention_timeline().expect("timeline");
    assert_eq!(tl.acquisitions, 4 * 5);
    assert!(
        harness
            .query_by_label("share of wall time waiting")
            .is_some()
    );
}

#[test]
fn a_lock_measurement_is_refused_while_another_measurement_runs() {
    let panel = LocksPanel::default();
    let held = panel.measuring.clone();
    let mut harness = Harness::new_ui_state(|ui, p: &mut LocksPanel| p.ui(ui), panel);
    harness.step();
    let guard = held.try_begin("an explorer render").expect("free");
    harness.get_by_label("Measure").click();
    harness.step();
    assert!(!harness.state().is_busy(), "refused, not started");
    harness.get_by_label_contains("refused: an explorer render is measuring");
    drop(guard);
    assert!(!held.is_busy());
}
