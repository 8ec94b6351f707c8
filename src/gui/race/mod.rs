//! The race-condition lab: threads adding to one counter in five ways
//! (Run, Repeat ×20 with a histogram of lost updates), a recorded interleaving
//! drawn as lanes with every lost update explained, and be-the-scheduler.

pub mod lanes;
pub mod scheduler_game;

use crate::engine::exec::task::{BackgroundTask, Emitter};
use crate::engine::race::analysis::{Analysis, analyse};
use crate::engine::race::counter::{
    Direction, Gap, Launch, MAX_DELAY_MICROS, MAX_INCREMENTS, MAX_THREADS, Mode, RaceConfig,
    RaceResult, lost_histogram, run_race, summarise,
};
use crate::engine::race::events::EventLog;
use crate::engine::race::interleaving::{
    MAX_RECORD_INCREMENTS, MAX_RECORD_THREADS, RecordConfig, record_run,
};
use crate::engine::race::presets::Preset;
use crate::gui::measuring::{MeasureGuard, Measuring, refused_message, release_when_done};
use crate::gui::race::lanes::{LaneAxis, analysis_ui, lanes_ui, legend_ui};
use crate::gui::race::scheduler_game::SchedulerGame;
use crate::gui::widgets::drain::{drain_tasks, repaint_notifier};
use crate::gui::widgets::labelled::{combo, drag};
use crate::gui::widgets::palette;
use serde::{Deserialize, Serialize};

/// Runs in a "Repeat" batch.
pub const REPEAT_RUNS: usize = 20;
/// Time the UI spends draining messages per frame.

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum RaceView {
    #[default]
    Counter,
    Interleaving,
    Scheduler,
}

/// What a gap choice is, apart from its delay (kept when switching).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum GapChoice {
    #[default]
    None,
    Yield,
    Sleep,
    Lockstep,
}

impl GapChoice {
    const ALL: [GapChoice; 4] = [
        GapChoice::None,
        GapChoice::Yield,
        GapChoice::Sleep,
        GapChoice::Lockstep,
    ];

    fn label(self) -> &'static str {
        match self {
            GapChoice::None => "nothing",
            GapChoice::Yield => "yield",
            GapChoice::Sleep => "sleep",
            GapChoice::Lockstep => "lockstep (all read, then all write)",
        }
    }
    fn of(gap: Gap) -> Self {
        match gap {
            Gap::None => GapChoice::None,
            Gap::Yield => GapChoice::Yield,
            Gap::SleepMicros(_) => GapChoice::Sleep,
            Gap::Lockstep => GapChoice::Lockstep,
        }
    }
    fn gap(self, micros: u64) -> Gap {
        match self {
            GapChoice::None => Gap::None,
            GapChoice::Yield => Gap::Yield,
            GapChoice::Sleep => Gap::SleepMicros(micros),
            GapChoice::Lockstep => Gap::Lockstep,
        }
    }
}

/// Messages from the background runs.
pub enum RaceMsg {
    Run(RaceResult),
    Failed(String),
    Recorded(Result<EventLog, String>),
}

/// Handles and results that live only while the window is open.
#[derive(Default)]
struct Runtime {
    task: Option<BackgroundTask<RaceMsg>>,
    planned_runs: usize,
    runs: Vec<RaceResult>,
    error: Option<String>,
    record_task: Option<BackgroundTask<RaceMsg>>,
    recorded: Option<(EventLog, Analysis)>,
    record_error: Option<String>,
    /// The window's one-measurement token, held while each task runs.
    task_guard: Option<MeasureGuard>,
    record_guard: Option<MeasureGuard>,
}

#[derive(Serialize, Deserialize)]
#[serde(default)]
pub struct RacePanel {
    pub view: RaceView,
    pub config: RaceConfig,
    pub gap_choice: GapChoice,
    /// Delay used when the gap is "sleep".
    pub gap_micros: u64,
    pub preset: Option<Preset>,
    pub record: RecordConfig,
    pub record_gap_choice: GapChoice,
    pub record_gap_micros: u64,
    pub lane_axis: LaneAxis,
    pub game: SchedulerGame,
    /// The window-wide one-measurement-at-a-time token (shared with the other panels).
    #[serde(skip)]
    pub measuring: Measuring,
    #[serde(skip)]
    runtime: Runtime,
}

impl Default for RacePanel {
    fn default() -> Self {
        RacePanel {
            view: RaceView::Counter,
            config: RaceConfig::default(),
            gap_choice: GapChoice::None,
            gap_micros: 100,
            preset: None,
            record: RecordConfig::default(),
            record_gap_choice: GapChoice::of(RecordConfig::default().gap),
            record_gap_micros: 50,
            lane_axis: LaneAxis::Order,
            game: SchedulerGame::default(),
            measuring: Measuring::default(),
            runtime: Runtime::default(),
        }
    }
}

impl RacePanel {
    /// Runs measured so far in the current batch (the last one is the newest).
    pub fn runs(&self) -> &[RaceResult] {
        &self.runtime.runs
    }

    pub fn is_running(&self) -> bool {
        self.runtime.task.is_some()
    }

    pub fn recorded(&self) -> Option<&(EventLog, Analysis)> {
        self.runtime.recorded.as_ref()
    }

    pub fn is_recording(&self) -> bool {
        self.runtime.record_task.is_some()
    }

    fn effective_config(&self) -> RaceConfig {
        RaceConfig {
            gap: self.gap_choice.gap(self.gap_micros),
            ..self.config
        }
    }

    /// Starts `runs` races in the background (Run = 1, Repeat = 20).
    pub fn start(&mut self, ctx: &egui::Context, runs: usize) {
        let config = self.effective_config();
        if let Err(e) = config.validate() {
            self.runtime.error = Some(e.to_string());
            return;
        }
        let guard = match self.measuring.try_begin("the race lab's runs") {
            Ok(g) => g,
            Err(holder) => {
                self.runtime.error = Some(refused_message(&holder));
                return;
            }
        };
        self.runtime.runs.clear();
        self.runtime.error = None;
        self.runtime.planned_runs = runs;
        let task = BackgroundTask::spawn(
            "parlab-race-job",
            Some(repaint_notifier(ctx)),
            move |e: &Emitter<RaceMsg>| {
                for _ in 0..runs {
                    if e.is_cancelled() {
                        break;
                    }
                    let msg = match run_race(&config, e.cancel_flag()) {
                        Ok(r) => RaceMsg::Run(r),
                        Err(err) => RaceMsg::Failed(err.to_string()),
                    };
                    let failed = matches!(msg, RaceMsg::Failed(_));
                    if !e.send(msg) || failed {
                        break;
                    }
                }
            },
        );
        match task {
            Ok(t) => {
                self.runtime.task = Some(t);
                self.runtime.task_guard = Some(guard);
            }
            Err(e) => self.runtime.error = Some(format!("could not start the run: {e}")),
        }
    }

    pub fn start_recording(&mut self, ctx: &egui::Context) {
        let config = RecordConfig {
            gap: self.record_gap_choice.gap(self.record_gap_micros),
            ..self.record
        };
        let guard = match self.measuring.try_begin("the race lab's recording") {
            Ok(g) => g,
            Err(holder) => {
                self.runtime.record_error = Some(refused_message(&holder));
                return;
            }
        };
        self.runtime.record_error = None;
        let task = BackgroundTask::spawn(
            "parlab-race-record",
            Some(repaint_notifier(ctx)),
            move |e: &Emitter<RaceMsg>| {
                e.send(RaceMsg::Recorded(
                    record_run(&config).map_err(|e| e.to_string()),
                ));
            },
        );
        match task {
            Ok(t) => {
                self.runtime.record_task = Some(t);
                self.runtime.record_guard = Some(guard);
            }
            Err(e) => self.runtime.record_error = Some(format!("could not start: {e}")),
        }
    }

    /// Takes what the background runs have sent, within a small time budget.
    fn drain(&mut self, ctx: &egui::Context) {
        let mut msgs = Vec::new();
        drain_tasks(
            ctx,
            &mut [&mut self.runtime.task, &mut self.runtime.record_task],
            &mut msgs,
        );
        release_when_done(&self.runtime.task, &mut self.runtime.task_guard);
        release_when_done(&self.runtime.record_task, &mut self.runtime.record_guard);
        for m in msgs {
            match m {
                RaceMsg::Run(r) => self.runtime.runs.push(r),
                RaceMsg::Failed(e) => self.runtime.error = Some(e),
                RaceMsg::Recorded(r) => match r
                    .and_then(|log| analyse(&log).map(|a| (log, a)).map_err(|e| e.to_string()))
                {
                    Ok(rec) => self.runtime.recorded = Some(rec),
                    Err(e) => self.runtime.record_error = Some(e),
                },
            }
        }
    }

    pub fn ui(&mut self, ui: &mut egui::Ui) {
        self.drain(ui.ctx());
        ui.horizontal(|ui| {
            ui.selectable_value(&mut self.view, RaceView::Counter, "Lost updates");
            ui.selectable_value(&mut self.view, RaceView::Interleaving, "Interleaving");
            ui.selectable_value(&mut self.view, RaceView::Scheduler, "Be the scheduler");
        });
        ui.separator();
        egui::ScrollArea::vertical()
            .id_salt("race-panel-scroll")
            .show(ui, |ui| match self.view {
                RaceView::Counter => self.counter_ui(ui),
                RaceView::Interleaving => self.interleaving_ui(ui),
                RaceView::Scheduler => self.game.ui(ui),
            });
    }

    fn presets_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal_wrapped(|ui| {
            ui.label("seed programs:");
            for p in Preset::ALL {
                if ui
                    .selectable_label(self.preset == Some(p), p.name())
                    .on_hover_text(p.description())
                    .clicked()
                {
                    self.apply_preset(p);
                }
            }
        });
        if let Some(p) = self.preset {
            ui.weak(p.description());
        }
    }

    pub fn apply_preset(&mut self, p: Preset) {
        self.preset = Some(p);
        self.config = p.config();
        self.gap_choice = GapChoice::of(self.config.gap);
        if let Gap::SleepMicros(d) = self.config.gap {
            self.gap_micros = d;
        }
        // Small presets (thread2, thread4) also set up the interleaving view.
        let c = self.config;
        if c.num_threads <= MAX_RECORD_THREADS
            && c.increments <= u64::from(MAX_RECORD_INCREMENTS)
            && c.launch == Launch::Overlapped
        {
            self.record.num_threads = c.num_threads;
            self.record.increments = c.increments as u32;
            self.record.locked = matches!(c.mode, Mode::Mutex | Mode::RwLock);
            self.record.direction = c.direction;
            self.record_gap_choice = GapChoice::of(c.gap);
            if let Gap::SleepMicros(d) = c.gap {
                self.record_gap_micros = d.min(200_000);
            }
        }
    }

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
                ui.add(
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

    fn counter_ui(&mut self, ui: &mut egui::Ui) {
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
                ui.spinner();
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
    }

    fn interleaving_ui(&mut self, ui: &mut egui::Ui) {
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
                ui.spinner();
            }
            ui.separator();
            ui.label("x axis");
            ui.selectable_value(&mut self.lane_axis, LaneAxis::Order, "global order");
            ui.selectable_value(&mut self.lane_axis, LaneAxis::Time, "time");
        });
        if let Some(e) = &self.runtime.record_error {
            ui.colored_label(palette::BAD, e);
        }
        if let Some((log, analysis)) = &self.runtime.recorded {
            lanes_ui(ui, log, analysis, self.lane_axis);
            legend_ui(ui);
            analysis_ui(ui, analysis);
        }
    }
}

/// Expected vs actual, lost, wall time, increments per second of one run.
pub fn result_ui(ui: &mut egui::Ui, r: &RaceResult) {
    egui::Grid::new("race-result")
        .num_columns(2)
        .spacing([16.0, 4.0])
        .show(ui, |ui| {
            ui.label("expected");
            ui.strong(r.expected.to_string());
            ui.end_row();
            ui.label("actual");
            ui.strong(r.actual.to_string());
            ui.end_row();
            ui.label("lost updates");
            let colour = if r.lost == 0 {
                palette::GOOD
            } else {
                palette::BAD
            };
            ui.colored_label(colour, format!("{} ({:.3} %)", r.lost, r.lost_pct));
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
                r.performed,
                r.config.total_increments()
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
        "{} runs: lost min {}, median {}, mean {:.1}, max {} · {} of {} runs lost updates · median wall {:.3} ms",
        s.runs, s.min, s.median, s.mean, s.max, s.runs_with_loss, s.runs, s.median_wall_nanos * 1e-6
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
