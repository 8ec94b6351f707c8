//! The window: a tab bar over the panels, a status bar with the frame-time
//! readout, settings persistence, and the headless modes (`--screenshot`,
//! `--frame-stats`).
//!
//! Every tab is a [`Panel`]: the app draws the shown one, keeps the hidden
//! ones going, and drives `--screenshot --panel <slug>` through that trait
//! alone; [`App::panel`] is the one mapping from a [`Tab`] to its panel.
//!
//! # Adding a tab
//! 1. The panel: a struct (persisted choices in a `#[serde(default)]` struct,
//!    runtime handles apart) and its `impl Panel` (`ui`; if it runs background
//!    work, also `is_idle`, `start_work` and `while_hidden`).
//! 2. A variant of [`Tab`] in `gui/panel.rs`, in [`Tab::ALL`] (tab-bar order),
//!    with its label and `--panel` name in `Tab::names`.
//! 3. A field of [`App`], built in [`App::new`] (from its saved settings, with
//!    the shared [`Measuring`] token if it measures) and saved in
//!    [`App::settings`], and its line in `panel_of!`.

use crate::gui::explorer::Explorer;
use crate::gui::frame_stats::{FrameStats, ms, percentiles};
use crate::gui::lessons::{LessonsPanel, LessonsSettings, lesson_setup};
use crate::gui::locks::LocksPanel;
use crate::gui::measuring::Measuring;
use crate::gui::panel::{Panel, Tab};
use crate::gui::python::PythonPanel;
use crate::gui::race::RacePanel;
use crate::gui::settings::{
    AppSettings, Resets, STORAGE_KEY, panel_from_json_checked, panel_to_json, parse_settings,
    settings_json,
};
use crate::gui::speedup::SpeedupPanel;
use crate::gui::system::{SystemPanel, mini_bars_ui};
use crate::gui::theory::TheoryPanel;
use crate::gui::widgets::palette;
use egui::{RichText, ViewportCommand};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How a headless run ended: a line for stdout, or an error.
pub type Outcome = Arc<Mutex<Option<Result<String, String>>>>;

/// Frames the window draws in screenshot mode before the shown panel's work starts.
const FRAMES_BEFORE_WORK: u32 = 3;

/// Headless duties given on the command line.
#[derive(Default)]
pub struct Automation {
    pub screenshot: Option<PathBuf>,
    pub frame_stats: Option<u32>,
    /// Frames drawn since the panel became idle.
    idle_frames: u32,
    shot: Arc<Mutex<Option<Arc<egui::ColorImage>>>>,
    requested: bool,
    started: Option<Instant>,
    last_restart: Option<Instant>,
    /// The shown lab panel's work has been started (screenshot mode).
    work_started: bool,
    /// Frames drawn before the panel's work starts.
    frames_before_work: u32,
    pub outcome: Outcome,
}

/// Frames to draw after the work is done before the screenshot (layout settles).
const SETTLE_FRAMES: u32 = 3;
/// A headless run gives up after this long.
const AUTOMATION_TIMEOUT: Duration = Duration::from_secs(300);
/// In `--frame-stats` mode, the render is re-issued this often, as a slider move would.
const STRESS_RESTART: Duration = Duration::from_millis(1500);

impl Automation {
    pub fn is_active(&self) -> bool {
        self.screenshot.is_some() || self.frame_stats.is_some()
    }
}

/// The application.
pub struct App {
    pub tab: Tab,
    /// The guided lab, first in the tab bar.
    pub lessons: LessonsPanel,
    pub explorer: Explorer,
    pub speedup: SpeedupPanel,
    pub race: RacePanel,
    pub locks: LocksPanel,
    pub theory: TheoryPanel,
    pub python: PythonPanel,
    /// The system tab; its load monitor also feeds the status bar.
    pub system: SystemPanel,
    /// One measurement at a time: the token the panels share.
    pub measuring: Measuring,
    frames: FrameStats,
    /// Shown until dismissed: e.g. saved settings could not be read.
    notice: Option<String>,
    pub automation: Automation,
}

/// The one mapping from a [`Tab`] to the field of [`App`] that fills it
/// (`panel_of!(app, tab)` borrows it, `panel_of!(app, tab, mut)` borrows it
/// mutably): [`App::panel`] and [`App::panel_mut`] both expand it.
macro_rules! panel_of {
    ($app:expr, $tab:expr $(, $mut:tt)?) => {
        match $tab {
            Tab::Lessons => &$($mut)? $app.lessons,
            Tab::Explorer => &$($mut)? $app.explorer,
            Tab::Speedup => &$($mut)? $app.speedup,
            Tab::Race => &$($mut)? $app.race,
            Tab::Locks => &$($mut)? $app.locks,
            Tab::Theory => &$($mut)? $app.theory,
            Tab::Python => &$($mut)? $app.python,
            Tab::System => &$($mut)? $app.system,
        }
    };
}

impl App {
    /// Builds the app from saved settings (if any): every saved value is
    /// checked with the engine's rules; a bad one gets its default, and a
    /// notice names each field reset (unreadable text: all defaults).
    pub fn new(saved: Option<&str>) -> Self {
        let (settings, notice) = parse_settings(saved);
        let mut resets = Resets::default();
        let race = panel_from_json_checked(&settings.race, "race", &mut resets);
        let locks = panel_from_json_checked(&settings.locks, "locks", &mut resets);
        let mut theory: TheoryPanel =
            panel_from_json_checked(&settings.theory, "theory", &mut resets);
        let python = panel_from_json_checked(&settings.python, "python", &mut resets);
        let measuring = Measuring::default();
        let mut explorer = Explorer::new(settings.explorer);
        explorer.measuring = measuring.clone();
        let mut speedup = SpeedupPanel::new(settings.speedup);
        speedup.measuring = measuring.clone();
        theory.measuring = measuring.clone();
        let mut race: RacePanel = race;
        race.measuring = measuring.clone();
        let mut locks: LocksPanel = locks;
        locks.measuring = measuring.clone();
        let mut python = PythonPanel::new(python);
        python.measuring = measuring.clone();
        let loaded = crate::engine::lessons::shipped();
        let lessons_settings: LessonsSettings =
            crate::gui::settings::panel_from_json(&settings.lessons);
        let mut lessons = LessonsPanel::new(
            lessons_settings,
            loaded.lessons,
            loaded.problems.iter().map(ToString::to_string).collect(),
        );
        for r in lessons.settings.check(&lessons.lessons) {
            resets.note("lessons", r);
        }
        lessons.measuring = measuring.clone();
        let mut app = App {
            tab: settings.tab,
            lessons,
            explorer,
            speedup,
            race,
            locks,
            theory,
            python,
            system: SystemPanel {
                show_frame_stats: settings.show_frame_stats,
                ..SystemPanel::default()
            },
            measuring,
            frames: FrameStats::default(),
            notice,
            automation: Automation::default(),
        };
        if let Some(n) = resets.notice() {
            app.add_notice(n);
        }
        app
    }

    /// Replaces the lessons (`--lessons DIR`), keeping the student's work
    /// for lessons that still exist; files with errors are shown on the tab.
    pub fn set_lessons(&mut self, loaded: crate::engine::lessons::Loaded) {
        self.lessons.lessons = loaded.lessons;
        self.lessons.problems = loaded.problems.iter().map(ToString::to_string).collect();
        let _ = self.lessons.settings.check(&self.lessons.lessons);
    }

    /// Adds a line to the notice shown at the top until dismissed.
    pub fn add_notice(&mut self, text: String) {
        self.notice = Some(match self.notice.take() {
            Some(old) => format!("{old}\n{text}"),
            None => text,
        });
    }

    /// The notice shown at the top, if any.
    pub fn notice(&self) -> Option<&str> {
        self.notice.as_deref()
    }

    /// The panel that fills `tab`.
    pub fn panel(&self, tab: Tab) -> &dyn Panel {
        panel_of!(self, tab)
    }

    /// The panel that fills `tab`, to draw it or start its work.
    pub fn panel_mut(&mut self, tab: Tab) -> &mut dyn Panel {
        panel_of!(self, tab, mut)
    }

    /// Why the shown panel could not do its work, if it could not (a
    /// headless run then fails instead of saving an empty picture).
    pub fn panel_error(&self) -> Option<String> {
        self.panel(self.tab).error()
    }

    pub fn settings(&self) -> AppSettings {
        AppSettings {
            tab: self.tab,
            explorer: self.explorer.settings.clone(),
            speedup: self.speedup.settings.clone(),
            race: panel_to_json(&self.race),
            locks: panel_to_json(&self.locks),
            theory: panel_to_json(&self.theory),
            python: panel_to_json(&self.python.settings),
            lessons: panel_to_json(&self.lessons.settings),
            show_frame_stats: self.system.show_frame_stats,
            ..AppSettings::default()
        }
    }

    /// Whether the shown panel's work is complete (for screenshots).
    pub fn is_idle(&self) -> bool {
        self.panel(self.tab).is_idle()
    }

    /// One frame of the whole window.
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        let start = self.frames.begin_frame();
        let ctx = ui.ctx().clone();
        let was_measuring = self.measuring.is_busy();
        if !was_measuring {
            // While something is measured the load bars stand still: no
            // sampling and no redraw for them (each takes CPU from the measurement).
            self.system.cpu.tick();
            self.system.cpu.schedule_repaint(&ctx);
        }
        // Background work goes on whichever tab is shown: a render, a sweep
        // or a run is taken in and gives its token back.
        for tab in Tab::ALL {
            if tab != self.tab {
                self.panel_mut(tab).while_hidden(&ctx);
            }
        }

        egui::Panel::top("tabs").show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.label(RichText::new("parlab").strong());
                ui.separator();
                for t in Tab::ALL {
                    ui.selectable_value(&mut self.tab, t, t.label());
                }
            });
        });
        egui::Panel::bottom("status").show(ui, |ui| self.status_bar(ui));
        egui::CentralPanel::default().show(ui, |ui| {
            if let Some(n) = &self.notice {
                let mut dismiss = false;
                ui.horizontal(|ui| {
                    ui.label(RichText::new(n).color(palette::WARN));
                    dismiss = ui.small_button("OK").clicked();
                });
                if dismiss {
                    self.notice = None;
                }
            }
            self.tab_ui(ui);
        });
        self.automate(&ctx);
        if was_measuring && !self.measuring.is_busy() {
            // A measurement ended during this frame: draw once more, so that
            // a render, sweep or run waiting for the token starts now, on
            // whichever tab it is, rather than at the next input.
            ctx.request_repaint();
        }
        self.frames.end_frame(start);
    }

    fn tab_ui(&mut self, ui: &mut egui::Ui) {
        let tab = self.tab;
        self.share_between_panels(tab);
        self.panel_mut(tab).ui(ui);
        if tab == Tab::Speedup
            && let Some((settings, trace)) = self.speedup.take_open_trace_request()
        {
            // Clicking a point opens that run's trace in the explorer's timeline.
            self.explorer.show_trace(settings, trace, None);
            self.tab = Tab::Explorer;
        }
        if tab == Tab::Lessons {
            if let Some(n) = self.lessons.take_setup_request()
                && let Some(lesson) = self.lessons.lesson(n).cloned()
            {
                lesson_setup(self, &lesson);
            }
            if let Some(t) = self.lessons.take_goto_request() {
                self.tab = t;
            }
        }
    }

    /// What the panel shown on `tab` takes from the others before it is
    /// drawn or starts its work.
    fn share_between_panels(&mut self, tab: Tab) {
        match tab {
            // The speedup lab sweeps the explorer's view.
            Tab::Speedup => self.speedup.set_default_view(self.explorer.view()),
            // The speedup lab's measured points sit on the Amdahl curve.
            Tab::Theory => self
                .theory
                .set_measured_points(self.speedup.measured_points()),
            Tab::System => self.system.explorer_workers = self.explorer.settings.num_workers,
            Tab::Lessons | Tab::Explorer | Tab::Race | Tab::Locks | Tab::Python => {}
        }
    }

    fn status_bar(&self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            mini_bars_ui(ui, &self.system.cpu);
            ui.separator();
            if let Some(who) = self.measuring.holder() {
                ui.label(RichText::new(format!("measuring: {who} (load bars paused)")).color(palette::WARN))
                    .on_hover_text(
                        "one measurement at a time: other renders, sweeps and baselines wait, and the \
                         window redraws only for progress",
                    );
                ui.separator();
            }
            if !self.system.show_frame_stats {
                return;
            }
            let (update, interval) = self.frames.recent();
            ui.label(format!(
                "frame: update p50 {:.1} ms, p99 {:.1} ms · interval p99 {:.1} ms",
                ms(update.p50),
                ms(update.p99),
                ms(interval.p99)
            ))
            .on_hover_text(
                "UI thread time per frame (update) and time between frames, over the last 240 frames",
            );
            let cancels = self.explorer.cancel_latencies();
            if !cancels.is_empty() {
                let p = percentiles(&cancels);
                ui.separator();
                ui.label(format!(
                    "stale render stop: median {:.1} ms, max {:.1} ms (n={})",
                    ms(p.p50),
                    ms(p.max),
                    cancels.len()
                ))
                .on_hover_text("time from cancelling a stale render to its thread having exited");
            }
        });
    }

    /// Screenshot and frame-stats duties.
    fn automate(&mut self, ctx: &egui::Context) {
        if !self.automation.is_active() {
            return;
        }
        let started = *self.automation.started.get_or_insert_with(Instant::now);
        if self.automation.frame_stats.is_some() {
            ctx.request_repaint();
        } else {
            // Waiting for a screenshot: a slow tick is enough, and redrawing
            // flat out would take CPU from the work being pictured. While a
            // measurement is timed, slower still: with software OpenGL a
            // frame costs ~0.1 core-seconds, and the measuring panel wakes the
            // window itself, between timed runs, when it has progress to show
            // or has ended: this tick only keeps the time-out honest.
            let tick = if self.measuring.is_busy() {
                Duration::from_millis(5000)
            } else {
                Duration::from_millis(100)
            };
            ctx.request_repaint_after(tick);
        }
        if started.elapsed() > AUTOMATION_TIMEOUT {
            self.finish(
                ctx,
                Err(format!("gave up after {} s", AUTOMATION_TIMEOUT.as_secs())),
            );
            return;
        }
        if let Some(n) = self.automation.frame_stats {
            // Keep a render running, re-issuing it as a slider move would.
            let due = self
                .automation
                .last_restart
                .is_none_or(|t| t.elapsed() > STRESS_RESTART);
            if self.explorer.is_idle() || due {
                self.explorer.restart();
                self.automation.last_restart = Some(Instant::now());
            }
            if self.frames.num_frames() as u32 >= n {
                let line = self.frame_report();
                self.finish(ctx, Ok(line));
            }
            return;
        }
        let Some(path) = self.automation.screenshot.clone() else {
            return;
        };
        let shot = self.automation.shot.lock().ok().and_then(|mut s| s.take());
        if let Some(img) = shot {
            let [w, h] = img.size;
            let bytes: Vec<u8> = img.pixels.iter().flat_map(|c| c.to_array()).collect();
            let result = match image::RgbaImage::from_raw(w as u32, h as u32, bytes) {
                Some(rgba) => crate::engine::util::files::write_png(&path, &rgba)
                    .map(|()| {
                        let line = format!("wrote {} ({w}×{h})", path.display());
                        match self.panel(self.tab).screenshot_report() {
                            Some(report) => format!("{line}\n{report}"),
                            None => line,
                        }
                    })
                    .map_err(|e| e.to_string()),
                None => Err("the screenshot had the wrong size".to_string()),
            };
            self.finish(ctx, result);
            return;
        }
        if self.automation.requested {
            return;
        }
        if !self.automation.work_started {
            // The window's first frames (fonts, layout, textures) are its
            // most expensive: let them pass before anything is timed, as the
            // explorer does for its first render (a Python run started on
            // the first frame read CPU/wall 0.6 per task instead of 1.0).
            if self.automation.frames_before_work < FRAMES_BEFORE_WORK {
                self.automation.frames_before_work += 1;
                return;
            }
            // Another panel's measurement (the explorer's first render, slow
            // in a debug build) would refuse the shown panel's work: wait for it.
            if self.tab != Tab::Explorer && self.measuring.is_busy() {
                return;
            }
            self.automation.work_started = true;
            let tab = self.tab;
            self.share_between_panels(tab);
            self.panel_mut(tab).start_work(ctx);
            return;
        }
        if self.is_idle() {
            self.automation.idle_frames += 1;
        } else {
            self.automation.idle_frames = 0;
        }
        if self.automation.idle_frames > SETTLE_FRAMES
            && let Some(e) = self.panel_error()
        {
            self.finish(
                ctx,
                Err(format!(
                    "the {} panel could not do its work: {e}",
                    self.tab.slug()
                )),
            );
            return;
        }
        if self.automation.idle_frames > SETTLE_FRAMES {
            let slot = self.automation.shot.clone();
            let waker = ctx.clone();
            ctx.request_screenshot(move |img| {
                if let Ok(mut s) = slot.lock() {
                    *s = Some(img);
                }
                waker.request_repaint();
            });
            self.automation.requested = true;
        }
    }

    fn frame_report(&self) -> String {
        let u = percentiles(&self.frames.all_update_nanos);
        let i = percentiles(&self.frames.all_interval_nanos);
        let c = self.explorer.cancel_latencies();
        let cp = percentiles(&c);
        let s = self.explorer.render_settings();
        format!(
            "frames: {n} while rendering {w}×{h} on {workers} workers ({tiling}, {schedule})\n\
             update (UI thread time per frame):      p50 {:.2} ms  p90 {:.2} ms  p99 {:.2} ms  max {:.2} ms\n\
             interval (frame to frame):             p50 {:.2} ms  p90 {:.2} ms  p99 {:.2} ms  max {:.2} ms\n\
             stale render cancel → thread exited (n={}): p50 {:.2} ms  p90 {:.2} ms  max {:.2} ms",
            ms(u.p50),
            ms(u.p90),
            ms(u.p99),
            ms(u.max),
            ms(i.p50),
            ms(i.p90),
            ms(i.p99),
            ms(i.max),
            c.len(),
            ms(cp.p50),
            ms(cp.p90),
            ms(cp.max),
            n = self.frames.num_frames(),
            w = s.view.width_px(),
            h = s.view.height_px(),
            workers = s.effective_workers(),
            tiling = s.tiling,
            schedule = s.schedule,
        )
    }

    fn finish(&mut self, ctx: &egui::Context, result: Result<String, String>) {
        if let Ok(mut o) = self.automation.outcome.lock() {
            *o = Some(result);
        }
        ctx.send_viewport_cmd(ViewportCommand::Close);
    }
}

impl eframe::App for App {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        App::ui(self, ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        // Headless runs leave the user's settings alone.
        if !self.automation.is_active() {
            storage.set_string(STORAGE_KEY, settings_json(&self.settings()));
        }
    }
}
