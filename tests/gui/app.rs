//! The whole window's frame (tab bar, notices) driven through egui_kittest.
#![cfg(feature = "gui")]

use crate::common::app_harness;
use egui_kittest::kittest::Queryable;
use parlab::gui::app::App;
use parlab::gui::panel::Tab;
use parlab::gui::settings::{AppSettings, settings_json};

#[test]
fn corrupt_settings_give_defaults_and_a_visible_notice() {
    let mut h = app_harness(App::new(Some("{\"version\": 1, \"explorer\": [oops")));
    h.step();
    h.get_by_label_contains("could not be read");
    assert_eq!(h.state().settings(), AppSettings::default());
    h.get_by_label("OK").click();
    h.step();
    h.step();
    assert!(h.query_by_label_contains("could not be read").is_none());
}

#[test]
fn saved_settings_are_restored_and_tabs_switch() {
    let mut saved = AppSettings {
        tab: Tab::System,
        ..AppSettings::default()
    };
    saved.explorer.num_workers = 3;
    saved.explorer.view.width_px = 64;
    saved.explorer.view.height_px = 48;
    let mut h = app_harness(App::new(Some(&settings_json(&saved))));
    h.step();
    assert_eq!(h.state().tab, Tab::System);
    assert_eq!(h.state().explorer.settings.num_workers, 3);
    h.get_by_label("logical cores");
    h.get_by_label("Explorer").click();
    h.step();
    assert_eq!(h.state().tab, Tab::Explorer);
    h.get_by_label("Measure 1-worker baseline");
}

#[test]
fn frame_stats_are_hidden_until_the_system_tab_turns_them_on_and_stay_on() {
    let mut saved = AppSettings {
        tab: Tab::System,
        ..AppSettings::default()
    };
    saved.explorer.view.width_px = 64;
    saved.explorer.view.height_px = 48;
    let mut h = app_harness(App::new(Some(&settings_json(&saved))));
    h.step();
    h.step();
    assert!(h.query_by_label_contains("frame: update").is_none());
    h.get_by_label("frame stats in the status bar").click();
    h.step();
    h.step();
    h.get_by_label_contains("frame: update");
    assert!(h.state().settings().show_frame_stats, "saved");
    let again = App::new(Some(&settings_json(&h.state().settings())));
    assert!(again.settings().show_frame_stats);
}
