//! The race and lock panels driven through egui_kittest, by label.
#![cfg(feature = "gui")]

use crate::common::step_until;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use parlab::engine::race::counter::Mode;
use parlab::gui::race::scheduler_game::SchedulerGame;
use parlab::gui::race::{RacePanel, RaceView};

#[test]
fn clicking_a_step_button_adds_an_event_to_the_lanes() {
    let mut harness = Harness::new_ui_state(
        |ui, game: &mut SchedulerGame| game.ui(ui),
        SchedulerGame::default(),
    );
    harness.run();
    assert!(harness.state_mut().stepper().log().events.is_empty());
    harness.get_by_label("Step T1: read").click();
    harness.run();
    let log = harness.state_mut().stepper().log();
    assert_eq!(log.events.len(), 1);
    assert_eq!(log.events[0].thread, 0);
    // T1's button now offers its next step.
    harness.get_by_label("Step T1: add");
    harness.get_by_label("Step T2: read").click();
    harness.run();
    assert_eq!(harness.state_mut().stepper().log().events.len(), 2);
    harness.get_by_label("Undo").click();
    harness.run();
    assert_eq!(harness.state_mut().stepper().log().events.len(), 1);
}

#[test]
fn the_lost_update_script_shows_the_explanation() {
    let mut harness = Harness::new_ui_state(
        |ui, game: &mut SchedulerGame| game.ui(ui),
        SchedulerGame::default(),
    );
    harness.run();
    harness.get_by_label("all read, then all write").click();
    harness.run();
    assert_eq!(harness.state_mut().stepper().shared(), 2);
    assert!(
        harness
            .query_by_label_contains("T2 wrote 1 over T1's 1")
            .is_some()
    );
}

#[test]
fn run_in_the_race_panel_shows_a_result() {
    let mut panel = RacePanel::default();
    panel.config.num_threads = 2;
    panel.config.increments = 10_000;
    panel.config.mode = Mode::Mutex;
    let mut harness = Harness::new_ui_state(|ui, p: &mut RacePanel| p.ui(ui), panel);
    harness.step();
    harness.get_by_label("Run").click();
    harness.step();
    step_until(&mut harness, |p| !p.is_running() && !p.runs().is_empty());
    harness.step();
    let r = &harness.state().runs()[0];
    assert_eq!((r.expected, r.actual, r.lost), (20_000, 20_000, 0));
    assert_eq!(
        harness.query_all_by_label("20,000").count(),
        2,
        "expected and actual, with a thousands separator"
    );
    assert!(harness.query_by_label("0 (0.000 %)").is_some());
}

#[test]
fn repeat_draws_twenty_runs() {
    let mut panel = RacePanel::default();
    panel.config.num_threads = 2;
    panel.config.increments = 2_000;
    panel.config.mode = Mode::Unsync;
    let mut harness = Harness::new_ui_state(|ui, p: &mut RacePanel| p.ui(ui), panel);
    harness.step();
    harness.get_by_label("Repeat ×20").click();
    harness.step();
    step_until(&mut harness, |p| !p.is_running());
    harness.step();
    assert_eq!(harness.state().runs().len(), 20);
    assert!(
        harness
            .query_by_label_contains("20 runs: lost min")
            .is_some()
    );
}

#[test]
fn record_in_the_interleaving_view_analyses_the_run() {
    let mut panel = RacePanel::default();
    panel.view = RaceView::Interleaving;
    let mut harness = Harness::new_ui_state(|ui, p: &mut RacePanel| p.ui(ui), panel);
    harness.step();
    harness.get_by_label("Record").click();
    harness.step();
    step_until(&mut harness, |p| p.recorded().is_some());
    let (log, analysis) = harness.state().recorded().expect("recorded").clone();
    assert_eq!(log.events.len(), 2 * 10 * 2);
    assert_eq!(
        analysis.lost.len() as i64,
        analysis.expected - analysis.final_value
    );
}

#[test]
fn the_thread2_preset_records_a_lost_update_with_its_explanation() {
    let mut panel = RacePanel::default();
    panel.view = RaceView::Interleaving;
    let mut harness = Harness::new_ui_state(|ui, p: &mut RacePanel| p.ui(ui), panel);
    harness.step();
    harness.get_by_label("thread2").click();
    harness.step();
    harness.get_by_label("Record").click();
    harness.step();
    step_until(&mut harness, |p| p.recorded().is_some());
    harness.step();
    let (log, analysis) = harness.state().recorded().expect("recorded").clone();
    // Both threads read 0, slept 100 ms, wrote 1: one increment is lost.
    assert_eq!(log.events.len(), 4);
    assert_eq!((analysis.final_value, analysis.expected), (1, 2));
    assert_eq!(analysis.lost.len(), 1);
    assert!(harness.query_by_label_contains("wrote 1 over T").is_some());
}

#[test]
fn a_race_run_is_refused_while_another_measurement_runs() {
    let mut panel = RacePanel::default();
    panel.config.num_threads = 2;
    panel.config.increments = 10_000;
    let held = panel.measuring.clone();
    let mut harness = Harness::new_ui_state(|ui, p: &mut RacePanel| p.ui(ui), panel);
    harness.step();
    // Another panel (here: a stand-in) holds the window's measurement token.
    let guard = held.try_begin("the speedup lab's sweep").expect("free");
    harness.get_by_label("Run").click();
    harness.step();
    assert!(!harness.state().is_running(), "refused, not started");
    harness.get_by_label_contains("refused: the speedup lab's sweep is measuring");
    // Free again: the run starts, holds the token while it runs, and gives it back.
    drop(guard);
    harness.get_by_label("Run").click();
    harness.step();
    assert!(harness.state().is_running() || !harness.state().runs().is_empty());
    step_until(&mut harness, |p| !p.is_running());
    assert_eq!(harness.state().runs().len(), 1);
    harness.step();
    assert!(!held.is_busy(), "the finished run gave the token back");
}

#[test]
fn start_join_comparison_lives_in_the_race_lab_and_shows_both_launches() {
    let mut panel = RacePanel::default();
    panel.start_join_delay_micros = 5_000;
    let mut harness = Harness::new_ui_state(|ui, p: &mut RacePanel| p.ui(ui), panel);
    harness.step();
    harness.get_by_label("Compare start/join orders").click();
    harness.step();
    step_until(&mut harness, |p| {
        !p.is_comparing_start_join() && p.start_join().is_some()
    });
    let c = harness.state().start_join().expect("comparison").clone();
    assert_eq!((c.serialised.actual, c.serialised.lost), (2, 0));
    assert!(harness.query_by_label("start, join, start, join").is_some());
}

#[test]
fn changing_an_input_after_a_run_marks_the_result_stale() {
    let mut panel = RacePanel::default();
    panel.config.num_threads = 2;
    panel.config.increments = 5_000;
    panel.config.mode = Mode::Atomic;
    let mut harness = Harness::new_ui_state(|ui, p: &mut RacePanel| p.ui(ui), panel);
    harness.step();
    harness.get_by_label("Run").click();
    harness.step();
    step_until(&mut harness, |p| !p.is_running() && !p.runs().is_empty());
    assert!(harness.query_by_label_contains("stale:").is_none());
    // The threads field, as a person would change it.
    harness.state_mut().config.num_threads = 3;
    harness.step();
    harness.step();
    assert!(harness.state().runs_are_stale());
    assert!(
        harness
            .query_by_label_contains("stale: these results were measured with other settings")
            .is_some()
    );
    // Back to the measured settings: no longer stale.
    harness.state_mut().config.num_threads = 2;
    harness.step();
    harness.step();
    assert!(harness.query_by_label_contains("stale:").is_none());
}

#[test]
fn changing_a_recording_input_marks_the_interleaving_stale() {
    let mut panel = RacePanel::default();
    panel.view = RaceView::Interleaving;
    panel.record.num_threads = 2;
    panel.record.increments = 2;
    let mut harness = Harness::new_ui_state(|ui, p: &mut RacePanel| p.ui(ui), panel);
    harness.step();
    harness.get_by_label("Record").click();
    harness.step();
    step_until(&mut harness, |p| {
        !p.is_recording() && p.recorded().is_some()
    });
    assert!(harness.query_by_label_contains("stale:").is_none());
    harness.state_mut().record.increments = 3;
    harness.step();
    harness.step();
    assert!(
        harness
            .query_by_label_contains("stale: this recording used other settings")
            .is_some()
    );
}

#[test]
fn the_modes_table_has_a_row_per_mode_run() {
    let mut panel = RacePanel::default();
    panel.config.num_threads = 2;
    panel.config.increments = 2_000;
    let mut harness = Harness::new_ui_state(|ui, p: &mut RacePanel| p.ui(ui), panel);
    harness.step();
    let modes = [Mode::Unsync, Mode::Mutex, Mode::Atomic, Mode::Sharded];
    for (k, mode) in modes.into_iter().enumerate() {
        harness.state_mut().config.mode = mode;
        harness.step();
        harness.get_by_label("Run").click();
        harness.step();
        step_until(&mut harness, |p| {
            !p.is_running() && p.mode_batches().len() == k + 1
        });
    }
    // Running a mode again replaces its row, not adds one.
    harness.get_by_label("Run").click();
    harness.step();
    step_until(&mut harness, |p| !p.is_running());
    let batches = harness.state().mode_batches();
    assert_eq!(batches.len(), 4);
    for mode in modes {
        assert!(
            batches
                .iter()
                .any(|(m, runs)| *m == mode && runs.len() == 1)
        );
    }
    assert!(
        harness
            .query_by_label_contains("The modes side by side")
            .is_some()
    );
    // One row per mode: the mode's label appears in the table (and, for the
    // current mode, in the mode combo box too).
    for mode in modes {
        assert!(
            harness.query_all_by_label(mode.label()).count() >= 1,
            "{mode:?}"
        );
    }
    // The lock-free modes lose nothing.
    for (m, runs) in batches {
        if *m != Mode::Unsync {
            assert_eq!(runs[0].lost, 0, "{m:?}");
        }
    }
}
