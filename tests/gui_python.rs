//! The Python tab driven through egui_kittest, running the real `python3`:
//! Run starts the script in the background, the window keeps drawing, and
//! the result (tasks per lane, the script's output) appears when it ends.
#![cfg(feature = "gui")]

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use parlab::engine::python::PROGRAMS;
use parlab::gui::app::App;
use parlab::gui::panel::Tab;
use parlab::gui::python::Source;
use std::time::{Duration, Instant};

#[test]
fn running_the_race_program_shows_two_threads_and_its_output() {
    let mut app = App::new(None);
    app.tab = Tab::Python;
    let race = PROGRAMS
        .iter()
        .position(|p| p.name == "race_threads")
        .expect("shipped");
    app.python.source = Source::Shipped(race);
    let mut h = Harness::builder()
        .with_size(egui::vec2(1200.0, 1400.0))
        .build_ui_state(|ui, a: &mut App| a.ui(ui), app);
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
}
