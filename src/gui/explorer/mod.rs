//! The explorer panel: a live parallel Mandelbrot render with its worker
//! overlay, timeline, replay and stats. Controls are in `controls`, the
//! image and pointer navigation in `image_view`, the 1-worker baseline in
//! `baseline`.

mod baseline;
pub mod canvas;
pub mod controls;
pub mod export;
pub mod farm_view;
pub mod image_view;
pub mod legend;
pub mod live_render;
pub mod places;

use crate::engine::exec::placement::{Placement, WorkerCpus, migrated_from, worker_cpus};
use crate::engine::exec::task::Notify;
use crate::engine::exec::trace::{Trace, TraceStats};
use crate::engine::mandelbrot::job::RenderJob;
use crate::engine::mandelbrot::kernel::Kernel;
use crate::engine::mandelbrot::render::{IterImage, RenderSettings};
use crate::engine::mandelbrot::view::View;
use crate::gui::explorer::export::ExportState;
use crate::gui::explorer::legend::{Baseline, legend_ui, stats_strip_ui};
use crate::gui::explorer::live_render::{CancelLatencies, LiveRender};
use crate::gui::explorer::places::History;
use crate::gui::measuring::{MeasureGuard, Measuring};
use crate::gui::settings::ExplorerSettings;
use crate::gui::widgets::drain::DRAIN_BUDGET;
use crate::gui::widgets::palette;
use crate::gui::widgets::timeline::{TimelineCache, TimelineOptions, task_summary, timeline_ui};
use egui::{RichText, TextureHandle};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// More tiles than this are refused: the engine's one limit.
pub use crate::engine::mandelbrot::tiling::MAX_TILES;

/// How often the legend and strip figures are recomputed while a render runs.
const STATS_REFRESH: Duration = Duration::from_millis(100);

/// How often the UI looks for the end of a baseline measurement.
const BASELINE_POLL: Duration = Duration::from_millis(50);

/// While a render runs the window redraws at most this often, the first time
/// this long after the start: each redraw takes CPU from the workers being
/// measured. With software OpenGL (llvmpipe, as under Xvfb or on a lab
/// machine without a GPU driver) a 1500×950 frame costs 20–100 ms of CPU.
/// Once a second, a render shorter than that is measured undisturbed and
/// drawn when it ends (the timeline's replay shows its tiles arriving), and
/// a longer one shows its progress at a small cost, which its busy verdict
/// counts. Workers wake the UI at most this often too (a wake-up takes
/// egui's context lock).
pub const PROGRESS_REPAINT: Duration = Duration::from_millis(1000);

/// How long a frame takes in tiles once the workers are done (the window
/// still answers at ~25 frames a second while it catches up).
const CATCH_UP_BUDGET: Duration = Duration::from_millis(30);

/// Frames the window draws before its first render starts (they cost the most).
const FRAMES_BEFORE_FIRST_RENDER: u32 = 3;
const WAKE_EVERY_NANOS: u64 = PROGRESS_REPAINT.as_nanos() as u64;

/// A repaint request for workers to call after each tile, throttled to one
/// per [`WAKE_EVERY_NANOS`] so that workers do not queue on the context lock.
/// The first wake-up comes one interval after the render's start (not at
/// its first tile): a render shorter than that is drawn once, when it ends.
fn throttled_repaint(ctx: egui::Context) -> Notify {
    let origin = Instant::now();
    let last = AtomicU64::new(WAKE_EVERY_NANOS);
    Arc::new(move || {
        let now = origin.elapsed().as_nanos() as u64 + WAKE_EVERY_NANOS;
        let prev = last.load(Ordering::Relaxed);
        if now.saturating_sub(prev) >= WAKE_EVERY_NANOS
            && last
                .compare_exchange(prev, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            ctx.request_repaint();
        }
    })
}

/// The explorer's state. Persisted choices are in `settings`; the rest is runtime.
pub struct Explorer {
    pub settings: ExplorerSettings,
    /// The view being shown (always valid; `settings.view` mirrors it).
    pub(crate) view: View,
    pub(crate) render: Option<LiveRender>,
    pub(crate) texture: Option<TextureHandle>,
    pub(crate) ctx: Option<egui::Context>,
    /// A render is wanted but there was no egui context yet to wake.
    pending_start: bool,
    pub(crate) history: History,
    /// Free width/height as typed.
    pub size_text: (String, String),
    /// Centre (re, im) and zoom as shown and typed; follows the view.
    pub place_text: controls::PlaceText,
    /// Why the last typed size or setting was refused.
    pub(crate) input_error: Option<String>,
    pub(crate) render_error: Option<String>,
    timeline_cache: TimelineCache,
    activity_cache: crate::gui::widgets::activity::ActivityCache,
    /// Tile under the pointer in the image or the timeline.
    pub(crate) hovered_tile: Option<u32>,
    pub(crate) selected_tile: Option<u32>,
    /// Replay position; `None` shows the live / final image.
    pub(crate) replay_nanos: Option<u64>,
    baselines: Vec<(View, Kernel, Baseline)>,
    baseline_job: Option<(View, Kernel, RenderJob)>,
    /// The window-wide one-measurement-at-a-time token (shared with the other panels).
    pub measuring: Measuring,
    /// Held while this panel's render or baseline runs.
    guard: Option<MeasureGuard>,
    /// Why a wanted render has not started yet (another measurement runs).
    pub(crate) waiting: Option<String>,
    /// Frames seen (the first render waits for the window to settle).
    frames_seen: u32,
    stats: (Instant, usize, TraceStats),
    /// Per worker, the CPUs its tiles started on (refreshed with `stats`).
    worker_cpus: Vec<WorkerCpus>,
    cancel_latencies: CancelLatencies,
    pub exports: ExportState,
    pub(crate) nav: image_view::NavState,
    /// The parlab executable the worker processes run (`None`: this one);
    /// set by tests, whose executable is not parlab. Not persisted.
    pub worker_exe: Option<std::path::PathBuf>,
}

impl Explorer {
    /// An explorer showing `settings`; a bad saved view falls back to the default.
    pub fn new(settings: ExplorerSettings) -> Self {
        let view = View::try_from(settings.view)
            .or_else(|_| View::default_for_size(1024, 768))
            .expect("the default view is valid");
        let mut history = History::default();
        history.push(&view);
        Explorer {
            size_text: (view.width_px().to_string(), view.height_px().to_string()),
            place_text: controls::PlaceText::of(&view),
            settings: ExplorerSettings {
                view: view.spec(),
                ..settings
            },
            view,
            render: None,
            texture: None,
            ctx: None,
            pending_start: true,
            history,
            input_error: None,
            render_error: None,
            timeline_cache: TimelineCache::default(),
            activity_cache: Default::default(),
            hovered_tile: None,
            selected_tile: None,
            replay_nanos: None,
            baselines: Vec::new(),
            baseline_job: None,
            measuring: Measuring::default(),
            guard: None,
            waiting: None,
            frames_seen: 0,
            stats: (Instant::now(), usize::MAX, TraceStats::default()),
            worker_cpus: Vec::new(),
            cancel_latencies: CancelLatencies::default(),
            exports: ExportState::default(),
            nav: Default::default(),
            worker_exe: None,
        }
    }

    pub fn view(&self) -> View {
        self.view
    }

    /// The settings the next render uses.
    pub fn render_settings(&self) -> RenderSettings {
        RenderSettings {
            view: self.view,
            tiling: self.settings.tiling,
            schedule: self.settings.schedule,
            num_workers: self.settings.num_workers,
            kernel: self.settings.kernel,
            placement: Placement::from_pin(self.settings.pin_workers),
        }
    }

    /// Why nothing could be rendered, if so: the render failed (to start),
    /// or the settings were refused before any image existed.
    pub fn error(&self) -> Option<String> {
        match (&self.render_error, &self.render, &self.input_error) {
            (Some(e), _, _) => Some(e.clone()),
            (None, None, Some(e)) => Some(e.clone()),
            (None, Some(r), _) => r.failure().map(str::to_string),
            (None, None, None) => None,
        }
    }

    /// Refuses settings with too many tiles (the engine's one limit, as
    /// the CLI); Ok carries the tile count.
    pub(crate) fn check_settings(s: &RenderSettings) -> Result<usize, String> {
        s.tiling
            .check_count(s.view.width_px(), s.view.height_px())
            .map_err(|e| e.to_string())
    }

    /// Shows `view` (re-rendering), optionally recording it in the history.
    pub fn set_view(&mut self, view: View, record: bool) {
        if view != self.view {
            self.baselines.clear();
        }
        self.view = view;
        self.settings.view = view.spec();
        self.size_text = (view.width_px().to_string(), view.height_px().to_string());
        self.place_text = controls::PlaceText::of(&view);
        if record {
            self.history.push(&view);
        }
        self.restart();
    }

    /// Starts a render of the current settings; the previous one is cancelled.
    /// Refused settings leave the last good image in place with a message.
    pub fn restart(&mut self) {
        let settings = self.render_settings();
        if let Err(e) = Self::check_settings(&settings) {
            self.input_error = Some(e);
            return;
        }
        let Some(ctx) = self.ctx.clone() else {
            self.pending_start = true;
            return;
        };
        // A new render would disturb a baseline measurement: cancel it.
        if let Some((_, _, job)) = self.baseline_job.take() {
            job.cancel();
        }
        // This panel's earlier render (retired below) gives the token back;
        // another panel's measurement makes this render wait for its end.
        self.guard = None;
        match self.measuring.try_begin("the explorer's render") {
            Ok(g) => self.guard = Some(g),
            Err(holder) => {
                self.pending_start = true;
                self.waiting = Some(Measuring::wait_message(&holder, "the render"));
                return;
            }
        }
        self.waiting = None;
        self.pending_start = false;
        match LiveRender::start(
            settings,
            live_render::RunOn {
                backend: self.settings.backend,
                farm: crate::engine::farm::FarmOptions {
                    worker_exe: self.worker_exe.clone(),
                    mpi: self.mpi_launch(),
                    ..Default::default()
                },
            },
            self.settings.palette,
            self.settings.overlay,
            Some(throttled_repaint(ctx.clone())),
            self.render.take(),
            self.cancel_latencies.clone(),
        ) {
            Ok(r) => {
                self.render = Some(r);
                self.render_error = None;
                // The workers' first wake-up comes one interval in (and a
                // render shorter than that sends none): look again then.
                ctx.request_repaint_after(PROGRESS_REPAINT);
            }
            Err(e) => self.render_error = Some(e),
        }
        self.replay_nanos = None;
        self.selected_tile = None;
        self.stats.1 = usize::MAX;
    }

    /// Shows a run from elsewhere (e.g. a speedup-lab point): its settings and
    /// trace, with its image if there is one, else the image is re-rendered
    /// with those settings and the given trace is shown once it is done.
    pub fn show_trace(&mut self, settings: RenderSettings, trace: Trace, image: Option<IterImage>) {
        self.settings.tiling = settings.tiling;
        self.settings.schedule = settings.schedule;
        self.settings.num_workers = settings.num_workers;
        self.settings.kernel = settings.kernel;
        if settings.view != self.view {
            self.baselines.clear();
        }
        self.view = settings.view;
        self.settings.view = settings.view.spec();
        self.size_text = (
            settings.view.width_px().to_string(),
            settings.view.height_px().to_string(),
        );
        self.history.push(&settings.view);
        match image {
            Some(img)
                if img.width_px == settings.view.width_px()
                    && img.height_px == settings.view.height_px() =>
            {
                if let Some(mut old) = self.render.take() {
                    old.retire();
                }
                self.render = Some(LiveRender::finished(
                    settings,
                    img,
                    trace,
                    self.settings.palette,
                    self.settings.overlay,
                    self.cancel_latencies.clone(),
                ));
                self.texture = None;
            }
            _ => {
                self.restart();
                if let Some(r) = &mut self.render {
                    r.adopt_trace(trace);
                }
            }
        }
        self.stats.1 = usize::MAX;
    }

    /// Nothing in flight: the render is finished (or failed) and no baseline runs.
    pub fn is_idle(&self) -> bool {
        !self.pending_start
            && self.render.as_ref().is_none_or(|r| !r.is_running())
            && self.baseline_job.is_none()
    }

    /// How the current render ended (`None` while it runs).
    pub fn render_end(&self) -> Option<&crate::engine::mandelbrot::job::JobEnd> {
        self.render.as_ref()?.end.as_ref()
    }

    /// The current render's trace (partial while it runs).
    pub fn trace(&self) -> Option<Trace> {
        self.render.as_ref().map(|r| r.trace().clone())
    }

    /// The RGBA bytes on screen, and their size.
    pub fn displayed_rgba(&self) -> Option<(&[u8], u32, u32)> {
        self.render.as_ref().map(|r| {
            (
                r.canvas.display(),
                r.canvas.width_px(),
                r.canvas.height_px(),
            )
        })
    }

    /// The escape counts of the current render (partial while it runs).
    pub fn image(&self) -> Option<&IterImage> {
        self.render.as_ref().map(|r| &r.canvas.image)
    }

    /// How long cancelled renders took to stop, in nanoseconds.
    pub fn cancel_latencies(&self) -> Vec<u64> {
        self.cancel_latencies.all()
    }

    pub fn set_overlay(&mut self, overlay: bool) {
        self.settings.overlay = overlay;
        if let Some(r) = &mut self.render {
            r.canvas.set_overlay(overlay);
        }
    }

    pub fn set_palette(&mut self, p: crate::engine::mandelbrot::colour::Palette) {
        self.settings.palette = p;
        if let Some(r) = &mut self.render {
            r.canvas.set_palette(p);
        }
    }

    pub fn set_replay(&mut self, t: Option<u64>) {
        self.replay_nanos = t;
        if let Some(r) = &mut self.render {
            r.canvas.replay_to(t);
        }
    }

    /// Takes in finished tiles and baseline results; call once per frame.
    pub fn poll(&mut self) {
        if let Some(r) = &mut self.render {
            // Once the workers are done nothing is timed any more: catch up
            // at full speed (a 4K render of 4-px tiles queues half a million).
            let workers_done = r.workers_done();
            let budget = if workers_done {
                CATCH_UP_BUDGET
            } else {
                DRAIN_BUDGET
            };
            let more = r.drain(budget);
            if let Some(ctx) = &self.ctx {
                if r.is_running() && workers_done {
                    ctx.request_repaint();
                } else if r.is_running() {
                    // Progress only: workers never wait for the window, so
                    // a slow redraw costs nothing but a later picture.
                    ctx.request_repaint_after(PROGRESS_REPAINT);
                } else if more {
                    // Finished: take in the rest of the tiles promptly.
                    ctx.request_repaint();
                }
            }
            if !r.is_running() && self.baseline_job.is_none() {
                // The render is over: the window is free for other measurements.
                self.guard = None;
            }
            if !r.is_running() && r.is_complete() && r.settings.effective_workers() == 1 {
                let b = Baseline {
                    wall_nanos: r.trace().wall_nanos,
                    measured_at: r.finished_at().unwrap_or_else(std::time::SystemTime::now),
                };
                let (v, k) = (r.settings.view, r.settings.kernel);
                self.remember_baseline(v, k, b);
            }
        }
        self.poll_baseline();
        if self.baseline_job.is_some()
            && let Some(ctx) = &self.ctx
        {
            ctx.request_repaint_after(BASELINE_POLL);
        }
    }

    fn refresh_stats(&mut self) -> TraceStats {
        if let Some(r) = &self.render {
            let n = r.trace().records.len();
            let stale =
                self.stats.1 != n || (r.is_running() && self.stats.0.elapsed() > STATS_REFRESH);
            if stale {
                let trace = r.trace();
                self.stats = (Instant::now(), n, trace.stats());
                self.worker_cpus = worker_cpus(&trace.records, trace.num_workers);
            }
        }
        self.stats.2.clone()
    }

    /// Starts a wanted render and takes in finished tiles, without drawing
    /// (the app calls this while another tab is shown).
    pub fn tick(&mut self, ctx: &egui::Context) {
        if self.ctx.is_none() {
            self.ctx = Some(ctx.clone());
        }
        self.frames_seen = self.frames_seen.saturating_add(1);
        if self.pending_start {
            if self.frames_seen > FRAMES_BEFORE_FIRST_RENDER {
                self.restart();
            } else {
                // The window's first frames (fonts, layout, textures) are its
                // most expensive: let them pass before the render is timed.
                ctx.request_repaint();
            }
        }
        self.poll();
    }

    /// Draws the whole panel.
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        self.tick(&ctx);
        self.sync_texture(&ctx);

        egui::Panel::left("explorer-controls")
            .resizable(true)
            .default_size(300.0)
            .show(ui, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| self.controls_ui(ui));
            });
        // Sized by its content: every lane, the axis, the replay row and the details line.
        egui::Panel::bottom("explorer-timeline")
            .min_size(120.0)
            .show(ui, |ui| self.timeline_section(ui));
        egui::CentralPanel::default().show(ui, |ui| {
            let stats = self.refresh_stats();
            let complete = self.render.as_ref().is_some_and(|r| r.is_complete());
            let action = stats_strip_ui(
                ui,
                &stats,
                complete,
                self.baseline(),
                self.baseline_job.is_some(),
            );
            if action.measure_baseline {
                self.measure_baseline();
            }
            if let Some(other) = self
                .render
                .as_ref()
                .and_then(|r| r.end.as_ref())
                .and_then(|e| e.other_cpu)
                .filter(|o| o.is_busy())
            {
                ui.label(RichText::new(other.describe()).color(palette::BAD))
                    .on_hover_text(crate::engine::exec::other_cpu::BUSY_RULE);
            }
            self.status_line(ui);
            self.image_ui(ui);
        });
    }

    fn status_line(&self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            if let Some(r) = &self.render {
                let (done, all) = r.progress();
                let s = &r.settings;
                ui.label(format!(
                    "{}×{} · {} ({}) · {} · {}",
                    s.view.width_px(),
                    s.view.height_px(),
                    crate::engine::util::words::count_of(all, "tile"),
                    s.tiling,
                    s.schedule,
                    crate::engine::util::words::count_of(s.effective_workers(), "worker"),
                ));
                if r.is_running() {
                    ui.add(
                        egui::ProgressBar::new(done as f32 / all.max(1) as f32)
                            .desired_width(120.0)
                            .text(format!(
                                "{}/{}",
                                crate::engine::util::words::thousands(done as u64),
                                crate::engine::util::words::thousands(all as u64)
                            )),
                    );
                } else if let Some(end) = &r.end {
                    if let Some(e) = &end.error {
                        ui.label(RichText::new(e).color(palette::BAD));
                    } else if end.cancelled {
                        ui.label(RichText::new("cancelled").color(palette::WARN));
                    }
                }
            }
            if let Some(e) = &self.render_error {
                ui.label(RichText::new(e).color(palette::BAD));
            }
            if let Some(w) = &self.waiting {
                ui.label(RichText::new(w).color(palette::WARN));
            }
        });
        self.farm_lines(ui);
        // The tile under the pointer (image or timeline), in words.
        let hovered = self.hovered_tile.or(self.nav.timeline_hover).and_then(|t| {
            self.render
                .as_ref()?
                .canvas
                .record_of_tile
                .get(t as usize)
                .copied()
                .flatten()
        });
        let text = hovered.map_or_else(
            || "hover a tile or a timeline bar; click to pin its details".to_string(),
            |r| task_summary(&r),
        );
        ui.label(RichText::new(text).weak());
    }

    /// On processes: what the worker processes cost this render (start-up,
    /// transfer share, bytes, memory) and any worker that failed.
    fn farm_lines(&self, ui: &mut egui::Ui) {
        let Some(farm) = self
            .render
            .as_ref()
            .and_then(|r| r.end.as_ref())
            .and_then(|e| e.farm.as_ref())
        else {
            return;
        };
        for line in farm.summary_lines() {
            let text = RichText::new(line.clone()).small();
            if line.contains("failed") {
                ui.label(text.color(palette::WARN));
            } else {
                ui.label(text);
            }
        }
    }

    fn timeline_section(&mut self, ui: &mut egui::Ui) {
        let Some(r) = &self.render else {
            ui.label("no render yet");
            return;
        };
        let trace = r.trace();
        let wall_nanos = trace.wall_nanos;
        let complete = r.is_complete();
        let selected = self
            .selected_tile
            .and_then(|t| r.canvas.record_of_tile.get(t as usize).copied().flatten());
        let migrated = selected.and_then(|rec| migrated_from(&trace.records, &rec));
        let farm = r.end.as_ref().and_then(|e| e.farm.as_deref());
        ui.horizontal(|ui| {
            ui.label(RichText::new("Timeline").strong());
            ui.label(RichText::new("one lane per worker, one bar per tile; dark = idle").weak());
        });
        if let Some(farm) = farm {
            farm_view::farm_legend_ui(ui, farm);
        }
        let startups = farm.map(farm_view::startup_spans).unwrap_or_default();
        {
            use crate::gui::widgets::activity::{activity_strip_ui, concurrency_histogram_ui};
            let activity = self.activity_cache.get(trace);
            concurrency_histogram_ui(ui, activity);
            activity_strip_ui(ui, activity, 64.0, 18.0);
        }
        let resp = timeline_ui(
            ui,
            trace,
            &mut self.timeline_cache,
            TimelineOptions {
                highlight_task: self.hovered_tile,
                selected_task: self.selected_tile,
                cursor_nanos: self.replay_nanos,
                lane_height: (140.0 / trace.num_workers.max(1) as f32).clamp(4.0, 16.0),
                startups: &startups,
                transfers: farm.map_or(&[], |f| &f.transfers),
                ..TimelineOptions::default()
            },
        );
        if resp.hovered_task.is_some() {
            self.nav.timeline_hover = resp.hovered_task;
        } else {
            self.nav.timeline_hover = None;
        }
        if let Some(t) = resp.clicked_task {
            self.selected_tile = Some(t);
        }
        ui.horizontal(|ui| {
            let mut replay = self.replay_nanos.is_some();
            if ui
                .add_enabled(complete, egui::Checkbox::new(&mut replay, "Replay"))
                .on_hover_text("show the image as it was at a moment of the render")
                .changed()
            {
                self.set_replay(replay.then_some(wall_nanos));
            }
            if let Some(t) = self.replay_nanos {
                let mut ms = t as f64 / 1e6;
                let wall_ms = wall_nanos as f64 / 1e6;
                ui.spacing_mut().slider_width = (ui.available_width() - 120.0).max(100.0);
                if ui
                    .add(
                        egui::Slider::new(&mut ms, 0.0..=wall_ms)
                            .text("ms")
                            .max_decimals(2),
                    )
                    .changed()
                {
                    self.set_replay(Some((ms * 1e6) as u64));
                }
            }
        });
        if let Some(rec) = selected {
            let moved = migrated
                .map(|c| format!(" (migrated: this worker's previous tile started on cpu {c})"))
                .unwrap_or_default();
            ui.label(RichText::new(format!("{}{moved}", task_summary(&rec))).color(palette::WARN));
        }
    }

    /// Per-worker figures, next to the controls.
    pub(crate) fn legend_section(&mut self, ui: &mut egui::Ui) {
        let stats = self.stats.2.clone();
        let cpus = self.worker_cpus.clone();
        // At most about six rows high, scrolling past that: with many
        // workers the table must not push Export off a 720-px-high screen.
        egui::CollapsingHeader::new("Workers")
            .default_open(true)
            .show(ui, |ui| {
                egui::ScrollArea::vertical()
                    .id_salt("explorer-workers-table")
                    .max_height(170.0)
                    .show(ui, |ui| legend_ui(ui, &stats, &cpus));
            })
            .header_response
            .on_hover_text(
                "per worker: tiles, busy time, share of the work (iterations), and the CPUs \
                 its tiles started on (a migration: its next tile started on another CPU)",
            );
    }
}

impl crate::gui::panel::Panel for Explorer {
    fn ui(&mut self, ui: &mut egui::Ui) {
        Explorer::ui(self, ui);
    }

    fn is_idle(&self) -> bool {
        Explorer::is_idle(self)
    }

    fn error(&self) -> Option<String> {
        Explorer::error(self)
    }

    // No `start_work`: the render starts by itself.

    /// The render goes on while another tab is shown.
    fn while_hidden(&mut self, ctx: &egui::Context) {
        self.tick(ctx);
    }

    /// The render's figures as `parlab render` prints them.
    fn screenshot_report(&self) -> Option<String> {
        let trace = self.trace()?;
        let s = trace.stats();
        let cpu = self
            .render_end()
            .and_then(|e| e.other_cpu)
            .map(|o| format!("\n{}", o.describe()))
            .unwrap_or_default();
        // On processes: start-up, transfer share, bytes moved, peak RSS.
        let farm: String = self
            .farm_stats()
            .map(|f| f.summary_lines().iter().map(|l| format!("\n{l}")).collect())
            .unwrap_or_default();
        let settings = self.render_settings();
        let busy: Vec<String> = s
            .workers
            .iter()
            .map(|w| format!("{:.2}", w.busy_nanos as f64 / 1e6))
            .collect();
        Some(format!(
            "explorer render {}x{} ({}, {}, {} workers, {} tiles): wall {:.2} ms   utilisation {:.1} %   \
             imbalance {:.3}   busy per worker [{}] ms{cpu}{farm}",
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
}
