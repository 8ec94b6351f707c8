//! The race-condition lab: threads adding to one counter in five ways
//! (Run, Repeat ×20 with a histogram of lost updates), a recorded interleaving
//! drawn as lanes with every lost update explained, and be-the-scheduler.

mod counter;
mod interleaving;
pub mod lanes;
pub mod scheduler_game;

pub use counter::{histogram_ui, result_ui};

use crate::engine::exec::task::{BackgroundTask, Emitter};
use crate::engine::race::analysis::{Analysis, analyse};
use crate::engine::race::counter::{Gap, Launch, Mode, RaceConfig, RaceResult, run_race};
use crate::engine::race::events::EventLog;
use crate::engine::race::interleaving::{
    MAX_RECORD_INCREMENTS, MAX_RECORD_THREADS, RecordConfig, record_run,
};
use crate::engine::race::presets::{Preset, StartJoinComparison, compare_start_join};
use crate::gui::measuring::{MeasureGuard, Measuring, refused_message, release_when_done};
use crate::gui::race::lanes::LaneAxis;
use crate::gui::race::scheduler_game::SchedulerGame;
use crate::gui::widgets::drain::{drain_tasks, repaint_notifier};
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
    StartJoin(Result<StartJoinComparison, String>),
}

/// Handles and results that live only while the window is open.
#[derive(Default)]
struct Runtime {
    task: Option<BackgroundTask<RaceMsg>>,
    planned_runs: usize,
    runs: Vec<RaceResult>,
    error: Option<String>,
    /// The last batch of each mode run (Run or Repeat), in the order first run:
    /// the side-by-side table of the modes.
    by_mode: Vec<(Mode, Vec<RaceResult>)>,
    record_task: Option<BackgroundTask<RaceMsg>>,
    recorded: Option<(EventLog, Analysis)>,
    /// The settings the recorded run used (for the stale mark).
    recorded_with: Option<RecordConfig>,
    /// The settings of the recording under way.
    recording_with: Option<RecordConfig>,
    start_join_task: Option<BackgroundTask<RaceMsg>>,
    start_join: Option<StartJoinComparison>,
    start_join_error: Option<String>,
    start_join_guard: Option<MeasureGuard>,
    /// A recording asked for while the runs measure (one measurement at a
    /// time): it starts when they end.
    record_when_free: bool,
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
    /// Delay between read and write for the start/join comparison.
    pub start_join_delay_micros: u64,
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
            start_join_delay_micros: 20_000,
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

    /// The last batch of each mode run so far (one row of the modes table each).
    pub fn mode_batches(&self) -> &[(Mode, Vec<RaceResult>)] {
        &self.runtime.by_mode
    }

    /// True when the shown runs were measured with other settings than the
    /// ones now in the controls.
    pub fn runs_are_stale(&self) -> bool {
        self.runtime
            .runs
            .last()
            .is_some_and(|r| r.config != self.effective_config())
    }

    /// True when the recorded interleaving used other settings than the
    /// ones now in the controls.
    pub fn recording_is_stale(&self) -> bool {
        self.runtime.recorded.is_some() && self.runtime.recorded_with != Some(self.record_config())
    }

    pub fn start_join(&self) -> Option<&StartJoinComparison> {
        self.runtime.start_join.as_ref()
    }

    pub fn is_comparing_start_join(&self) -> bool {
        self.runtime.start_join_task.is_some()
    }

    fn record_config(&self) -> RecordConfig {
        RecordConfig {
            gap: self.record_gap_choice.gap(self.record_gap_micros),
            ..self.record
        }
    }

    /// thread2.py run twice: both threads started together, and with
    /// `t2.start()` and `t1.join()` exchanged (one thread at a time).
    pub fn start_start_join(&mut self, ctx: &egui::Context) {
        let guard = match self
            .measuring
            .try_begin("the race lab's start/join comparison")
        {
            Ok(g) => g,
            Err(holder) => {
                self.runtime.start_join_error = Some(refused_message(&holder));
                return;
            }
        };
        self.runtime.start_join_error = None;
        let delay = self.start_join_delay_micros;
        let task = BackgroundTask::spawn(
            "parlab-race-start-join",
            Some(repaint_notifier(ctx)),
            move |e: &Emitter<RaceMsg>| {
                e.send(RaceMsg::StartJoin(
                    compare_start_join(delay, 1, e.cancel_flag()).map_err(|e| e.to_string()),
                ));
            },
        );
        match task {
            Ok(t) => {
                self.runtime.start_join_task = Some(t);
                self.runtime.start_join_guard = Some(guard);
            }
            Err(e) => self.runtime.start_join_error = Some(format!("could not start: {e}")),
        }
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
        let config = self.record_config();
        let guard = match self.measuring.try_begin("the race lab's recording") {
            Ok(g) => g,
            Err(holder) => {
                self.runtime.record_error = Some(refused_message(&holder));
                return;
            }
        };
        self.runtime.record_error = None;
        self.runtime.recording_with = Some(config);
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
            &mut [
                &mut self.runtime.task,
                &mut self.runtime.record_task,
                &mut self.runtime.start_join_task,
            ],
            &mut msgs,
        );
        release_when_done(&self.runtime.task, &mut self.runtime.task_guard);
        release_when_done(&self.runtime.record_task, &mut self.runtime.record_guard);
        release_when_done(
            &self.runtime.start_join_task,
            &mut self.runtime.start_join_guard,
        );
        if self.runtime.record_when_free && !self.measuring.is_busy() {
            self.runtime.record_when_free = false;
            self.start_recording(ctx);
        }
        for m in msgs {
            match m {
                RaceMsg::Run(r) => {
                    let mode = r.config.mode;
                    self.runtime.runs.push(r);
                    let batch = self.runtime.runs.clone();
                    match self.runtime.by_mode.iter_mut().find(|(m, _)| *m == mode) {
                        Some(row) => row.1 = batch,
                        None => self.runtime.by_mode.push((mode, batch)),
                    }
                }
                RaceMsg::StartJoin(r) => match r {
                    Ok(c) => self.runtime.start_join = Some(c),
                    Err(e) => self.runtime.start_join_error = Some(e),
                },
                RaceMsg::Failed(e) => self.runtime.error = Some(e),
                RaceMsg::Recorded(r) => match r
                    .and_then(|log| analyse(&log).map(|a| (log, a)).map_err(|e| e.to_string()))
                {
                    Ok(rec) => {
                        self.runtime.recorded = Some(rec);
                        self.runtime.recorded_with = self.runtime.recording_with;
                    }
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
        ui.label("seed programs: the course's Python programs, replayed here");
        egui::Grid::new("race-presets")
            .num_columns(2)
            .spacing([10.0, 2.0])
            .show(ui, |ui| {
                for p in Preset::ALL {
                    if ui
                        .selectable_label(self.preset == Some(p), p.name())
                        .on_hover_text(p.description())
                        .clicked()
                    {
                        self.apply_preset(p);
                    }
                    ui.weak(p.summary());
                    ui.end_row();
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
}

impl crate::gui::panel::Panel for RacePanel {
    fn ui(&mut self, ui: &mut egui::Ui) {
        RacePanel::ui(self, ui);
    }

    fn is_idle(&self) -> bool {
        !self.is_running()
            && !self.is_recording()
            && !self.is_comparing_start_join()
            && !self.runtime.record_when_free
    }

    /// 20 runs of the counter, and a recorded run to analyse.
    fn start_work(&mut self, ctx: &egui::Context) {
        self.start(ctx, 20);
        // Recorded once the runs are done (one measurement at a time).
        self.runtime.record_when_free = true;
    }
}
