//! The race lab's interleaving view: a small recorded run with real
//! threads, its settings, and its lanes, legend and analysis.

use super::{GapChoice, RacePanel};
use crate::engine::race::counter::Direction;
use crate::engine::race::interleaving::{MAX_RECORD_INCREMENTS, MAX_RECORD_THREADS};
use crate::gui::race::lanes::{LaneAxis, analysis_ui, lanes_ui, legend_ui};
use crate::gui::widgets::labelled::{combo, drag};
use crate::gui::widgets::palette;

impl RacePanel {
    pub(super) fn interleaving_ui(&mut self, ui: &mut egui::Ui) {
        self.presets_ui(ui);
        ui.separator();
        ui.label(
            "A small run with real threads. Every read and write takes a global ticket in the \
             same atomic step as the access, so the order shown is the order memory saw.",
        );
        ui.horizontal_wrapped(|ui| {
            drag(
                ui,
                "threads",
                &mut self.record.num_threads,
                1..=MAX_RECORD_THREADS,
                "",
            );
            drag(
                ui,
                "increments each",
                &mut self.record.increments,
                1..=MAX_RECORD_INCREMENTS,
                "",
            );
            ui.checkbox(&mut self.record.locked, "hold a lock (thread4)");
            let mut subtract = self.record.direction == Direction::AddSubtract;
            if ui
                .checkbox(&mut subtract, "even threads subtract")
                .changed()
            {
                self.record.direction = if subtract {
                    Direction::AddSubtract
                } else {
                    Direction::AllAdd
                };
            }
        });
        ui.horizontal_wrapped(|ui| {
            let choice = &mut self.record_gap_choice;
            combo(
                ui,
                "between read and write",
                "record-gap",
                choice.label(),
                |ui| {
                    for g in GapChoice::ALL {
                        ui.selectable_value(choice, g, g.label());
                    }
                },
            );
            if self.record_gap_choice == GapChoice::Sleep {
                drag(ui, "sleep", &mut self.record_gap_micros, 1..=200_000, " µs");
            }
            let recording = self.is_recording();
            if ui
                .add_enabled(!recording, egui::Button::new("Record"))
                .clicked()
            {
                self.start_recording(ui.ctx());
            }
            if recording {
                crate::gui::widgets::labelled::measuring_mark(ui);
            }
            ui.separator();
            ui.label("x axis");
            ui.selectable_value(&mut self.lane_axis, LaneAxis::Order, "global order");
            ui.selectable_value(&mut self.lane_axis, LaneAxis::Time, "time")
                .on_hover_text("measured time since the first read or write (0 on the axis)");
        });
        if let Some(e) = &self.runtime.record_error {
            ui.colored_label(palette::BAD, e);
        }
        if self.recording_is_stale() && !self.is_recording() {
            super::counter::stale_ui(
                ui,
                "this recording used other settings: Record again to update it",
            );
        }
        if let Some((log, analysis)) = &self.runtime.recorded {
            lanes_ui(ui, log, analysis, self.lane_axis);
            legend_ui(ui);
            analysis_ui(ui, analysis);
        }
    }
}
