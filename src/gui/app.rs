//! The window: a tab bar over the panels, a status bar with the frame-time
//! readout, settings persistence, and the headless modes (`--screenshot`,
//! `--frame-stats`).
//!
//! # Adding a tab
//! 1. Add a variant to [`Tab`] in `gui/panel.rs`, to [`Tab::ALL`] (menu order) and a label
//!    in [`Tab::label`] (also its `--panel` name in [`Tab::slug`]).
//! 2. Add the panel as a field of [`App`] (a struct with `fn ui(&mut self, ui: &mut egui::Ui)`;
//!    persisted choices in a `#[serde(default)]` struct, runtime handles apart).
//! 3. Add its arm in [`App::tab_ui`]; if it runs background work, say when it is idle in
//!    [`App::is_idle`] so that `--screenshot --panel <slug>` waits for it.

use crate::gui::explorer::Explorer;
use crate::gui::frame_stats::{FrameStats, ms, percentiles};
use crate::gui::locks::LocksPanel;
use crate::gui::measuring::Measuring;
use crate::gui::panel::Tab;
use crate::gui::python::PythonPanel;
use crate::gui::race::RacePanel;
use crate::gui::settings::{
    AppSettings, Resets, STORAGE_KEY, panel_from_json_checked, panel_to_json, parse_settings,
    settings_json,
};
use crate::gui::speedup::SpeedupPanel;
use crate::gui::system::{CpuMonitor, mini_bars_ui, system_ui};
use crate::gui::theory::TheoryPanel;
use crate::gui::widgets::palette;
use egui::{RichText, ViewportCommand};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How a headless run ended: a line for stdout, or an error.
pub type Outcome = Arc<Mutex<Option<Result<String, String>>>>;

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
    pub explorer: Explorer,
    pub speedup: SpeedupPanel,
    pub race: RacePanel,
    pub locks: LocksPanel,
    pub theory: TheoryPanel,
    pub python: PythonPanel,
    pub cpu: CpuMonitor,
    /// One measurement at a time: the token the panels share.
    pub measuring: Measuring,
    frames: FrameStats,
    /// Shown until dismissed: e.g. saved settings could not be read.
    notice: Option<String>,
    pub automation: Automation,
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
        let mut app = App {
            tab: settings.tab,
            explorer,
            speedup,
            race,
            locks,
            theory,
            python,
            cpu: CpuMonitor::new(),
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

    /// Why the shown panel could not do its work, if it could not (a
    /// headless run then fails instead of saving an empty picture).
    pub fn panel_error(&self) -> Option<String> {
        match self.tab {
            Tab::Explorer => self.explorer.error(),
            Tab::Speedup => self.speedup.error(),
            _ => None,
        }
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
            ..AppSettings::default()
        }
    }

    /// Whether the shown panel's work is complete (for screenshots).
    pub fn is_idle(&self) -> bool {
        match self.tab {
            Tab::Explorer => self.explorer.is_idle(),
            Tab::Speedup => self.speedup.is_idle(),
            Tab::Race => !self.race.is_running() && !self.race.is_recording(),
            Tab::Locks => !self.locks.is_busy(),
            Tab::Theory => !self.theory.is_measuring(),
            Tab::Python => !self.python.is_busy(),
            // Load figures need a few samples to mean something, and the
            // history chart a few seconds of them.
            Tab::System => self.cpu.samples >= 12,
        }
    }

    /// One frame of the whole window.
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        let start = self.frames.begin_frame();
        let ctx = ui.ctx().clone();
        let was_measuring = self.measuring.is_busy();
        if !was_measuring {
            // While something is measured the load bars stand still: no
            // sampling and no redraw for them (each takes CPU from the measurement).
            self.cpu.tick();
            self.cpu.schedule_repaint(&ctx);
        }
        if self.tab != Tab::Explorer {
            // The explorer's render goes on while another tab is shown.
            self.explorer.tick(&ctx);
        }
        if self.tab != Tab::Theory {
            self.theory.tick();
        }
        if self.tab != Tab::Speedup {
            // So does a sweep: its results are taken in (and its token given
            // back) whichever tab is shown.
            self.speedup.poll();
        }
        if self.tab != Tab::Python {
            // And a Python run or sweep, or one waiting for the token.
            self.python.tick(&ctx);
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
        match self.tab {
            Tab::Explorer => self.explorer.ui(ui),
            Tab::Speedup => {
                self.speedup.set_default_view(self.explorer.view());
                self.speedup.ui(ui);
                if let Some((settings, trace)) = self.speedup.take_open_trace_request() {
                    // Clicking a point opens that run's trace in the explorer's timeline.
                    self.explorer.show_trace(settings, trace, None);
                    self.tab = Tab::Explorer;
                }
            }
            Tab::Race => self.race.ui(ui),
            Tab::Locks => self.locks.ui(ui),
            Tab::Theory => {
                // The speedup lab's measured points sit on the Amdahl curve.
                self.theory
                    .set_measured_points(self.speedup.measured_points());
                self.theory.ui(ui);
            }
            Tab::Python => self.python.ui(ui),
            Tab::System => system_ui(ui, &self.cpu, self.explorer.settings.num_workers),
        }
    }

    fn status_bar(&self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            mini_bars_ui(ui, &self.cpu);
            ui.separator();
            if let Some(who) = self.measuring.holder() {
                ui.label(RichText::new(format!("measuring: {who} (load bars paused)")).color(palette::WARN))
                    .on_hover_text(
                        "one measurement at a time: other renders, sweeps and baselines wait, and the \
                         window redraws only for progress",
                    );
                ui.separator();
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
            // flat out would take CPU from the work being pictured.
            ctx.request_repaint_after(Duration::from_millis(100));
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
                        let mut line = format!("wrote {} ({w}×{h})", path.display());
                        if self.tab == Tab::Explorer
                            && let Some(stats) = self.explorer_stats_line()
                        {
                            line = format!("{line}\n{stats}");
                        }
                        if self.tab == Tab::Speedup
                            && let Some(table) = self.speedup_medians()
                        {
                            line = format!("{line}\n{table}");
                        }
                        line
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
            self.automation.work_started = true;
            self.start_panel_work(ctx);
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

    /// Screenshot mode: a lab panel shows nothing until it has measured
    /// something, so start its real work as a student's first click would.
    fn start_panel_work(&mut self, ctx: &egui::Context) {
        match self.tab {
            Tab::Explorer | Tab::System => {}
            Tab::Speedup => {
                self.speedup.set_default_view(self.explorer.view());
                self.speedup.start(Some(SpeedupPanel::sweep_notify(ctx)));
            }
            Tab::Race => {
                self.race.start(ctx, 20);
                self.race.start_recording(ctx);
            }
            Tab::Locks => {
                self.locks.start_throughput(ctx);
                self.locks
                    .start_deadlock(ctx, crate::engine::locks::deadlock::LockOrder::Opposite);
            }
            Tab::Theory => self.theory.start_brent(ctx),
            Tab::Python => {
                // An opened trace is the picture; otherwise run the program.
                if !self.python.is_showing() {
                    self.python.start_run(ctx);
                }
            }
        }
    }

    /// The explorer's render figures as `parlab render` prints them, for
    /// comparing the window with the CLI (screenshot mode prints it).
    fn explorer_stats_line(&self) -> Option<String> {
        let trace = self.explorer.trace()?;
        let s = trace.stats();
        let cpu = self
            .explorer
            .render_end()
            .and_then(|e| e.other_cpu)
            .map(|o| format!("\n{}", o.describe()))
            .unwrap_or_default();
        let settings = self.explorer.render_settings();
        let busy: Vec<String> = s
            .workers
            .iter()
            .map(|w| format!("{:.2}", w.busy_nanos as f64 / 1e6))
            .collect();
        Some(format!(
            "explorer render {}x{} ({}, {}, {} workers, {} tiles): wall {:.2} ms   utilisation {:.1} %   \
             imbalance {:.3}   busy per worker [{}] ms{cpu}",
            settings.view.width_px(),
            settings.view.height_px(),
            settings.tiling,
            settings.schedule,
            trace.num_workers,
            trace.records.len(),
            s.wall_nanos as f64 / 1e6,
            100.0 * s.utilisation,
            s.imbalance,
            busy.join(", ")
        ))
    }

    /// The sweep's medians as `parlab bench sweep` prints them (granularity,
    /// workers, median ms, speedup), for comparing the window with the CLI.
    fn speedup_medians(&self) -> Option<String> {
        use std::fmt::Write as _;
        let r = self.speedup.results()?;
        let mut out = String::from("window sweep medians: granularity workers median_ms speedup");
        for (c, row) in r.rows() {
            let workers = if r.configs[c].schedule.uses_pool() {
                row.workers.to_string()
            } else {
                "seq".into()
            };
            let _ = write!(
                out,
                "\n  {:<8} {:>4} {:>10.3} {:>6}",
                row.granularity,
                workers,
                row.median_s * 1e3,
                row.speedup
                    .map_or_else(|| "-".into(), |s| format!("{s:.2}"))
            );
        }
        let _ = write!(out, "\n  {}", r.other_cpu.describe());
        Some(out)
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
