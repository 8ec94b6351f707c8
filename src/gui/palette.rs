//! Every colour the window uses, worker colours included, in one place.

use egui::Color32;

/// Colour of worker `id`, the same as in exported images (`engine::colour`).
pub fn worker(id: u32) -> Color32 {
    let [r, g, b] = crate::engine::colour::worker_colour(id);
    Color32::from_rgb(r, g, b)
}

/// Text and marks for measured values.
pub const MEASURED: Color32 = Color32::from_rgb(90, 170, 255);
/// Predicted values are drawn in this colour, dashed, and labelled "predicted".
pub const PREDICTED: Color32 = Color32::from_rgb(255, 170, 60);
/// Ideal / reference lines.
pub const IDEAL: Color32 = Color32::from_gray(150);
/// Something wrong: lost updates, errors, deadlock.
pub const BAD: Color32 = Color32::from_rgb(235, 70, 70);
/// Something right: nothing lost, completed.
pub const GOOD: Color32 = Color32::from_rgb(80, 200, 120);
/// Notices that need attention but are not errors.
pub const WARN: Color32 = Color32::from_rgb(240, 200, 60);
/// Idle gaps in timelines.
pub const IDLE: Color32 = Color32::from_gray(45);
/// Highlight for hovered or selected items.
pub const HIGHLIGHT: Color32 = Color32::WHITE;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worker_colours_match_engine() {
        assert_eq!(
            worker(3).to_array()[..3],
            crate::engine::colour::worker_colour(3)
        );
    }
}
