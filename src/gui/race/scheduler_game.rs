//! "Be the scheduler": the user decides which thread takes its next step
//! (read, add, write) and builds lost updates by hand; undo and reset. No
//! real threads: the engine's deterministic stepper records the same event log
//! as a real run, so the same lanes and analysis draw it.

use crate::engine::race::stepper::{
    MAX_STEPPER_THREADS, NextStep, Stepper, lost_update_script, serial_script,
};
use crate::gui::race::lanes::{LaneAxis, analysis_ui, lanes_ui, legend_ui};
use crate::gui::widgets::labelled::drag;
use crate::gui::widgets::palette;
use serde::{Deserialize, Serialize};

/// Most increments per thread offered in the game (the engine allows 20; more is tedious by hand).
const MAX_GAME_INCREMENTS: u32 = 10;

#[derive(Serialize, Deserialize)]
#[serde(default)]
pub struct SchedulerGame {
    pub num_threads: usize,
    pub increments: u32,
    /// Odd threads subtract 1 (value2.py's add_100 / sub_100).
    pub odd_threads_subtract: bool,
    #[serde(skip)]
    stepper: Stepper,
    #[serde(skip)]
    message: Option<String>,
}

impl Default for SchedulerGame {
    fn default() -> Self {
        SchedulerGame {
            num_threads: 2,
            increments: 2,
            odd_threads_subtract: false,
            stepper: Stepper::default(),
            message: None,
        }
    }
}

impl SchedulerGame {
    fn deltas(&self) -> Vec<i64> {
        (0..self.num_threads)
            .map(|t| {
                if self.odd_threads_subtract && t % 2 == 1 {
                    -1
                } else {
                    1
                }
            })
            .collect()
    }

    /// Starts a fresh model from the settings (clamped into the engine's limits).
    fn rebuild(&mut self) {
        self.num_threads = self.num_threads.clamp(1, MAX_STEPPER_THREADS);
        self.increments = self.increments.clamp(1, MAX_GAME_INCREMENTS);
        match Stepper::new(&self.deltas(), self.increments, 0) {
            Ok(s) => {
                self.stepper = s;
                self.message = None;
            }
            Err(e) => self.message = Some(e.to_string()),
        }
    }

    /// The model, rebuilt first if the settings changed (e.g. restored from disk).
    pub fn stepper(&mut self) -> &Stepper {
        self.stepper_mut()
    }

    fn stepper_mut(&mut self) -> &mut Stepper {
        if self.stepper.deltas() != self.deltas() || self.stepper.increments != self.increments {
            self.rebuild();
        }
        &mut self.stepper
    }

    /// Performs thread `t`'s next step (what the step button does).
    pub fn step(&mut self, t: usize) {
        let r = self.stepper_mut().step(t);
        self.message = r.err().map(|e| e.to_string());
    }

    pub fn ui(&mut self, ui: &mut egui::Ui) {
        ui.label(
            "You are the scheduler. Each thread runs `local = shared; local += 1; shared = local`. \
             Pick which thread takes its next step; try to make an update vanish.",
        );
        let mut changed = false;
        ui.horizontal_wrapped(|ui| {
            changed |= drag(
                ui,
                "threads",
                &mut self.num_threads,
                1..=MAX_STEPPER_THREADS,
                "",
            )
            .changed();
            changed |= drag(
                ui,
                "increments each",
                &mut self.increments,
                1..=MAX_GAME_INCREMENTS,
                "",
            )
            .changed();
            changed |= ui
                .checkbox(
                    &mut self.odd_threads_subtract,
                    "even threads subtract (value2)",
                )
                .changed();
        });
        if changed {
            self.rebuild();
        }
        let n = self.stepper_mut().threads().len();
        let increments = self.stepper_mut().increments;
        ui.horizontal_wrapped(|ui| {
            let can_undo = self.stepper_mut().can_undo();
            if ui
                .add_enabled(can_undo, egui::Button::new("Undo"))
                .clicked()
            {
                self.stepper_mut().undo();
                self.message = None;
            }
            if ui
                .add_enabled(can_undo, egui::Button::new("Reset"))
                .clicked()
            {
                self.stepper_mut().reset();
                self.message = None;
            }
            ui.separator();
            ui.label("play a script:");
            if ui
                .button("serial (no interleaving)")
                .on_hover_text("each thread runs all its steps before the next starts")
                .clicked()
            {
                self.stepper_mut().reset();
                let r = self.stepper_mut().run_script(&serial_script(n, increments));
                self.message = r.err().map(|e| e.to_string());
            }
            if ui
                .button("all read, then all write")
                .on_hover_text("thread2.py's interleaving, every round")
                .clicked()
            {
                self.stepper_mut().reset();
                let r = self
                    .stepper_mut()
                    .run_script(&lost_update_script(n, increments));
                self.message = r.err().map(|e| e.to_string());
            }
        });
        ui.separator();
        let threads: Vec<_> = self.stepper_mut().threads().to_vec();
        egui::Grid::new("scheduler-threads")
            .num_columns(3)
            .spacing([12.0, 4.0])
            .show(ui, |ui| {
                for (t, th) in threads.iter().enumerate() {
                    let label = format!("Step T{}: {}", t + 1, th.next.label());
                    let button = egui::Button::new(
                        egui::RichText::new(label).color(palette::worker(t as u32)),
                    );
                    if ui.add_enabled(th.next != NextStep::Done, button).clicked() {
                        self.step(t);
                    }
                    let local = th.local.map_or("—".to_string(), |v| v.to_string());
                    ui.label(format!(
                        "local copy {local} · adds {:+} · finished {}/{}",
                        th.delta, th.finished, increments
                    ));
                    ui.end_row();
                }
            });
        let (shared, expected_final, done) = {
            let s = self.stepper_mut();
            (s.shared(), s.expected_final(), s.is_done())
        };
        let analysis = self.stepper_mut().analysis();
        ui.horizontal_wrapped(|ui| {
            ui.strong(format!("shared counter: {shared}"));
            ui.label(format!(
                "· expected so far {} · at the end it should be {expected_final}",
                analysis.expected
            ));
            if done {
                if shared == expected_final {
                    ui.colored_label(palette::GOOD, "finished: nothing lost");
                } else {
                    ui.colored_label(
                        palette::BAD,
                        format!("finished: {} instead of {expected_final}", shared),
                    );
                }
            }
        });
        if let Some(m) = &self.message {
            ui.colored_label(palette::WARN, m);
        }
        let log = self.stepper_mut().log();
        lanes_ui(ui, &log, &analysis, LaneAxis::Order);
        legend_ui(ui);
        analysis_ui(ui, &analysis);
    }
}
