//! What the window tests share: the whole window in a harness, and stepping
//! frames until a panel's background work has ended.

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use parlab::gui::app::App;
use std::time::Duration;

/// The whole window, 1400 x 1000 points, in a harness.
pub fn app_harness(app: App) -> Harness<'static, App> {
    Harness::builder()
        .with_size(egui::vec2(1400.0, 1000.0))
        .build_ui_state(|ui, a: &mut App| a.ui(ui), app)
}

/// Steps `harness` until `done` holds, then one frame more so that the
/// result is drawn. Bounded: panics after about 20 s of waiting.
pub fn step_until<S>(harness: &mut Harness<'_, S>, done: impl Fn(&S) -> bool) {
    for _ in 0..4000 {
        harness.step();
        if done(harness.state()) {
            harness.step();
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    panic!("the background work did not finish");
}

/// Opens the combo box labelled `combo` and clicks its option `option`,
/// stepping until the popup shows it (the popup opens over a few frames; a
/// fixed number of steps was flaky under load).
/// A click that did not open it is made again: under load one step can take
/// longer than egui's longest click (0.8 s), and a press and a release that
/// far apart are no click.
pub fn pick<S>(harness: &mut Harness<'_, S>, combo: &str, option: &str) {
    // Accessibility actions, not pointer clicks: a pointer click lands where
    // the widget was last frame, which under load was not always where it is.
    harness
        .get_by_role_and_label(Role::ComboBox, combo)
        .click_accesskit();
    for _ in 0..200 {
        harness.step();
        if harness
            .query_by_role_and_label(Role::Button, option)
            .is_some()
        {
            break;
        }
    }
    harness
        .get_by_role_and_label(Role::Button, option)
        .click_accesskit();
}
