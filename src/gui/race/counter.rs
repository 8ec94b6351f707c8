//! The race lab's "Lost updates" view: the counter's settings, Run and
//! Repeat, one run's figures and the histogram of lost updates over a batch.

use super::{GapChoice, REPEAT_RUNS, RacePanel};
use crate::engine::race::counter::{
    Direction, Gap, Launch, MAX_DELAY_MICROS, MAX_INCREMENTS, MAX_THREADS, Mode, RaceConfig,
    RaceResult, lost_histogram, summarise,
};
use crate::engine::race::presets::StartJoinComparison;
use crate::engine::util::words;
use crate::gui::widgets::labelled::{combo, drag};
use crate::gui::widgets::palette;

impl RacePanel {
    fn controls_ui(&mut self, ui: &mut egui::Ui) {
        let before = self.effective_config();
        egui::Grid::new("race-controls")
            .num_columns(2)
            .spacing([12.0, 6.0])
            .show(ui, |ui| {
                drag(
                    ui,
                    "threads",
                    &mut self.config.num_threads,
                    1..=MAX_THREADS,
                    "",
                );
                ui.end_row();
                let l = ui.label("increments per thread");
                crate::gui::widgets::labelled::checked_drag(
                    ui,
                    egui::DragValue::new(&mut self.config.increments)
                        .range(1..=MAX_INCREMENTS)
                        .speed(1000.0),
                )
                .labelled_by(l.id);
                ui.end_row();
                let mode = &mut self.config.mode;
                combo(ui, "mode", "race-mode", mode.label(), |ui| {
                    for m in Mode::ALL {
                        ui.selectable_value(mode, m, m.label());
                    }
                });
                ui.end_row();
                let has_gap = self.config.mode.has_gap();
                let (choice, micros) = (&mut self.gap_choice, &mut self.gap_micros);
                let l = ui.label("between read and write");
                ui.add_enabled_ui(has_gap, |ui| {
                    ui.horizontal(|ui| {
                        egui::ComboBox::from_id_salt("race-gap")
                            .selected_text(choice.label())
                            .show_ui(ui, |ui| {
                                for g in GapChoice::ALL {
                                    ui.selectable_value(choice, g, g.label());
                                }
                            })
                            .response
                            .labelled_by(l.id);
                        if *choice == GapChoice::Sleep {
                            drag(ui, "sleep", micros, 1..=MAX_DELAY_MICROS, " µs");
                        }
                    });
                });
                ui.end_row();
                drag(
                    ui,
                    "sleep before each increment",
                    &mut self.config.pause_micros,
                    0..=MAX_DELAY_MICROS,
                    " µs",
                );
                ui.end_row();
                ui.label("direction");
                let mut subtract = self.config.direction == Direction::AddSubtract;
                if ui
                    .checkbox(&mut subtract, "even threads subtract (value2/value3)")
                    .changed()
                {
                    self.config.direction = if subtract {
                        Direction::AddSubtract
                    } else {
                        Direction::AllAdd
                    };
                }
                ui.end_row();
                ui.label("start");
                let mut serial = self.config.launch == Launch::Serialised;
                if ui
                    .checkbox(&mut serial, "one thread at a time (start/join exchanged)")
                    .changed()
                {
                    self.config.launch = if serial {
                        Launch::Serialised
                    } else {
                        Launch::Overlapped
                    };
                }
                ui.end_row();
            });
        if self.effective_config() != before {
            self.preset = None;
        }
        let c = self.effective_config();
        let per_thread_delay = match c.gap {
            Gap::SleepMicros(d) => d,
            _ => 0,
        } + c.pause_micros;
        if per_thread_delay > 0 {
            let mut secs = c.increments as f64 * per_thread_delay as f64 * 1e-6;
            if c.launch == Launch::Serialised {
                secs *= c.num_threads as f64;
            }
            if secs > 5.0 {
                ui.colored_label(
                    palette::WARN,
                    format!("predicted: the sleeps alone take at least {secs:.0} s per run (Cancel stops it)"),
                );
            }
        }
    }

    pub(super) fn counter_ui(&mut self, ui: &mut egui::Ui) {
        self.presets_ui(ui);
        ui.separator();
        self.controls_ui(ui);
        ui.horizontal(|ui| {
            let running = self.is_running();
            if ui.add_enabled(!running, egui::Button::new("Run")).clicked() {
                self.start(ui.ctx(), 1);
            }
            if ui
                .add_enabled(
                    !running,
                    egui::Button::new(format!("Repeat ×{REPEAT_RUNS}")),
                )
                .clicked()
            {
                self.start(ui.ctx(), REPEAT_RUNS);
            }
            if running {
                if ui.button("Cancel").clicked()
                    && let Some(t) = &self.runtime.task
                {
                    t.cancel();
                }
                crate::gui::widgets::labelled::measuring_mark(ui);
                ui.label(format!(
                    "run {}/{}",
                    (self.runtime.runs.len() + 1).min(self.runtime.planned_runs),
                    self.runtime.planned_runs
                ));
            }
        });
        if let Some(e) = &self.runtime.error {
            ui.colored_label(palette::BAD, e);
        }
        if self.runs_are_stale() && !self.is_running() {
            stale_ui(
                ui,
                "these results were measured with other settings: Run again to update them",
            );
        }
        if let Some(r) = self.runtime.runs.last() {
            if self.runtime.planned_runs > 1 {
                ui.strong(format!(
                    "run {} of {}",
                    self.runtime.runs.len(),
                    self.runtime.planned_runs
                ));
            }
            result_ui(ui, r);
        }
        if self.runtime.runs.len() > 1 {
            histogram_ui(ui, &self.runtime.runs);
        }
        if !self.runtime.by_mode.is_empty() {
            ui.separator();
            modes_table_ui(ui, &self.runtime.by_mode, &self.effective_config());
        }
        ui.separator();
        self.start_join_section_ui(ui);
    }

    fn start_join_section_ui(&mut self, ui: &mut egui::Ui) {
        ui.strong("The seed's other fix: exchange t2.start() and t1.join() (thread2.py)");
        let busy = self.is_comparing_start_join();
        ui.horizontal_wrapped(|ui| {
            drag(
                ui,
                "sleep between read and write",
                &mut self.start_join_delay_micros,
                1..=200_000,
                " µs",
            );
            if ui
                .add_enabled(!busy, egui::Button::new("Compare start/join orders"))
                .clicked()
            {
                self.start_start_join(ui.ctx());
            }
            if busy {
                ui.spinner();
            }
        });
        if let Some(e) = &self.runtime.start_join_error {
            ui.colored_label(palette::BAD, e);
        }
        if let Some(c) = &self.runtime.start_join {
            start_join_ui(ui, c);
        }
    }
}

/// The mark on results whose inputs have changed since they were measured.
pub fn stale_ui(ui: &mut egui::Ui, text: &str) {
    ui.label(
        egui::RichText::new(format!("stale: {text}"))
            .color(palette::WARN)
            .strong(),
    );
}

/// The modes side by side: the last batch of each mode run, with the
/// settings it ran with (rows run with other settings than the current ones
/// say so: they do not compare like with like).
fn modes_table_ui(ui: &mut egui::Ui, by_mode: &[(Mode, Vec<RaceResult>)], current: &RaceConfig) {
    ui.strong("The modes side by side (the last Run or Repeat of each)");
    let same_settings = |c: &RaceConfig| {
        RaceConfig {
            mode: current.mode,
            ..*c
        } == *current
    };
    egui::Grid::new("race-modes")
        .num_columns(7)
        .striped(true)
        .spacing([14.0, 3.0])
        .show(ui, |ui| {
            for h in [
                "mode",
                "runs",
                "threads × increments",
                "lost (median, min–max)",
                "median wall time",
                "median increments/s",
                "settings",
            ] {
                ui.strong(h);
            }
            ui.end_row();
            let mut sorted: Vec<&(Mode, Vec<RaceResult>)> = by_mode.iter().collect();
            sorted.sort_by_key(|(m, _)| Mode::ALL.iter().position(|x| x == m));
            for (mode, runs) in sorted {
                let (Some(s), Some(first)) = (summarise(runs), runs.first()) else {
                    continue;
                };
                let mut rates: Vec<f64> = runs.iter().map(|r| r.increments_per_sec).collect();
                rates.sort_by(f64::total_cmp);
                ui.label(mode.label());
                ui.label(s.runs.to_string());
                ui.label(format!(
                    "{} × {}",
                    first.config.num_threads, first.config.increments
                ));
                ui.colored_label(
                    if s.max == 0 {
                        palette::GOOD
                    } else {
                        palette::BAD
                    },
                    format!("{} ({}–{})", s.median, s.min, s.max),
                );
                ui.colored_label(
                    palette::MEASURED,
                    format!("{:.3} ms", s.median_wall_nanos * 1e-6),
                );
                ui.colored_label(palette::MEASURED, format!("{:.3e}", rates[rates.len() / 2]));
                if same_settings(&first.config) {
                    ui.weak("current");
                } else {
                    ui.colored_label(palette::WARN, "other settings");
                }
                ui.end_row();
            }
        });
}

/// Expected vs actual, lost, wall time, increments per second of one run.
pub fn result_ui(ui: &mut egui::Ui, r: &RaceResult) {
    egui::Grid::new("race-result")
        .num_columns(2)
        .spacing([16.0, 4.0])
        .show(ui, |ui| {
            ui.label("expected");
            ui.strong(words::thousands_signed(r.expected));
            ui.end_row();
            ui.label("actual");
            ui.strong(words::thousands_signed(r.actual));
            ui.end_row();
            ui.label("lost updates");
            let colour = if r.lost == 0 {
                palette::GOOD
            } else {
                palette::BAD
            };
            ui.colored_label(
                colour,
                format!("{} ({:.3} %)", words::thousands(r.lost), r.lost_pct),
            );
            ui.end_row();
            ui.label("wall time");
            ui.colored_label(
                palette::MEASURED,
                format!("{:.3} ms", r.wall_nanos as f64 * 1e-6),
            );
            ui.end_row();
            ui.label("increments per second");
            ui.colored_label(palette::MEASURED, format!("{:.3e}", r.increments_per_sec));
            ui.end_row();
        });
    if r.cancelled {
        ui.colored_label(
            palette::WARN,
            format!(
                "cancelled after {} of {} increments",
                words::thousands(r.performed),
                words::thousands(r.config.total_increments())
            ),
        );
    }
    if r.config.direction == Direction::AddSubtract && r.lost > 0 {
        ui.weak("with adds and subtracts, lost +1s and −1s cancel: the true number lost is at least this");
    }
}

/// Histogram of lost updates per run, with the spread in words.
pub fn histogram_ui(ui: &mut egui::Ui, runs: &[RaceResult]) {
    let Some(s) = summarise(runs) else { return };
    ui.label(format!(
        "{}: lost min {}, median {}, mean {}, max {} · {} of {} lost updates · median wall {:.3} ms",
        words::count_of(s.runs, "run"),
        words::thousands(s.min),
        if s.median.fract() == 0.0 {
            words::thousands(s.median as u64)
        } else {
            format!("{:.1}", s.median)
        },
        words::thousands(s.mean.round() as u64),
        words::thousands(s.max),
        s.runs_with_loss,
        crate::engine::util::words::count_of(s.runs, "run"),
        s.median_wall_nanos * 1e-6
    ));
    let bins = lost_histogram(runs, 20);
    // Every bar as wide as the widest bin, so the "nothing lost" bar stays visible.
    let bar_width = bins.iter().map(|b| b.hi - b.lo + 1).max().unwrap_or(1) as f64 * 0.9;
    let bars: Vec<egui_plot::Bar> = bins
        .iter()
        .map(|b| {
            let mid = (b.lo + b.hi) as f64 * 0.5;
            let width = bar_width;
            egui_plot::Bar::new(mid, b.count as f64)
                .width(width)
                .name(if b.lo == b.hi {
                    format!("lost {}", b.lo)
                } else {
                    format!("lost {}–{}", b.lo, b.hi)
                })
                .fill(if b.hi == 0 {
                    palette::GOOD
                } else {
                    palette::BAD
                })
        })
        .collect();
    egui_plot::Plot::new("race-lost-histogram")
        .height(180.0)
        .x_axis_label("lost updates in a run")
        .y_axis_label("runs")
        .allow_scroll(false)
        .allow_zoom(false)
        .allow_drag(false)
        .include_y(0.0)
        .show(ui, |plot_ui| {
            plot_ui.bar_chart(egui_plot::BarChart::new("runs", bars).color(palette::MEASURED));
        });
}

/// thread2.py started together vs with start and join exchanged.
pub fn start_join_ui(ui: &mut egui::Ui, c: &StartJoinComparison) {
    egui::Grid::new("start-join")
        .num_columns(5)
        .spacing([14.0, 4.0])
        .show(ui, |ui| {
            ui.strong("launch");
            ui.strong("expected");
            ui.strong("actual");
            ui.strong("lost");
            ui.strong("wall time");
            ui.end_row();
            for (name, r) in [
                ("start, start, join, join", &c.overlapped),
                ("start, join, start, join", &c.serialised),
            ] {
                ui.label(name);
                ui.label(words::thousands_signed(r.expected));
                ui.label(words::thousands_signed(r.actual));
                ui.colored_label(
                    if r.lost == 0 {
                        palette::GOOD
                    } else {
                        palette::BAD
                    },
                    words::thousands(r.lost),
                );
                ui.colored_label(
                    palette::MEASURED,
                    format!("{:.1} ms", r.wall_nanos as f64 * 1e-6),
                );
                ui.end_row();
            }
        });
    let ratio = c.serialised.wall_nanos as f64 / c.overlapped.wall_nanos.max(1) as f64;
    ui.label(format!(
        "Serialising removes the race and the parallelism: {ratio:.2}× the wall time (one run each, measured)."
    ));
}
