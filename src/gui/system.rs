//! The system panel: CPU brand, core counts, and live per-core load from
//! sysinfo, refreshed at most every 500 ms (a cheap read of the OS counters).

use crate::engine::exec::other_cpu::{CpuSplit, SplitReading};
use crate::engine::exec::pool::{logical_cores, physical_cores};
use crate::gui::widgets::palette;
use egui::{Align2, FontId, Pos2, Rect, RichText, Sense, Vec2};
use std::collections::VecDeque;
use std::time::{Duration, Instant};
use sysinfo::{CpuRefreshKind, RefreshKind, System};

/// How often load figures are read.
pub const REFRESH_EVERY: Duration = Duration::from_millis(500);

/// Per-core load, sampled in the UI thread at most every [`REFRESH_EVERY`].
pub struct CpuMonitor {
    system: Option<System>,
    last_refresh: Instant,
    /// Samples taken so far (loads need two to mean anything).
    pub samples: u32,
    pub brand: String,
    pub logical: usize,
    pub physical: usize,
    /// Load per core, 0..=100.
    pub loads: Vec<f32>,
    /// Recent samples of `loads`, oldest first (at most [`HISTORY_SAMPLES`]).
    pub history: VecDeque<Vec<f32>>,
    /// The last reading of the machine's and parlab's CPU ticks (`/proc`).
    split_reading: Option<SplitReading>,
    /// The machine's CPU since the reading before: parlab (this process and
    /// its children) and other programs. `None` without `/proc`.
    pub split: Option<CpuSplit>,
    /// Recent values of `split`, oldest first, beside `history`.
    pub split_history: VecDeque<CpuSplit>,
}

/// Samples kept for the load history chart (one minute at 2 per second).
pub const HISTORY_SAMPLES: usize = 120;

impl Default for CpuMonitor {
    fn default() -> Self {
        Self::new()
    }
}

impl CpuMonitor {
    pub fn new() -> Self {
        let system = System::new_with_specifics(
            RefreshKind::nothing().with_cpu(CpuRefreshKind::everything()),
        )
        .ok();
        let brand = system
            .as_ref()
            .and_then(|s| s.cpus().first().map(|c| c.brand().trim().to_string()))
            .filter(|b| !b.is_empty())
            .unwrap_or_else(|| "unknown CPU".to_string());
        let loads = system
            .as_ref()
            .map(|s| s.cpus().iter().map(|c| c.usage()).collect())
            .unwrap_or_default();
        CpuMonitor {
            system,
            last_refresh: Instant::now(),
            samples: 0,
            brand,
            logical: logical_cores(),
            physical: physical_cores(),
            loads,
            history: VecDeque::with_capacity(HISTORY_SAMPLES),
            split_reading: SplitReading::read(),
            split: None,
            split_history: VecDeque::with_capacity(HISTORY_SAMPLES),
        }
    }

    /// Reads new loads if the last read is old enough; returns true if it did.
    pub fn tick(&mut self) -> bool {
        if self.last_refresh.elapsed() < REFRESH_EVERY {
            return false;
        }
        self.last_refresh = Instant::now();
        let Some(s) = &mut self.system else {
            return false;
        };
        s.refresh_cpu_usage();
        self.loads = s.cpus().iter().map(|c| c.usage()).collect();
        self.samples += 1;
        if self.history.len() == HISTORY_SAMPLES {
            self.history.pop_front();
        }
        self.history.push_back(self.loads.clone());
        let reading = SplitReading::read();
        self.split = match (&self.split_reading, &reading) {
            (Some(before), Some(after)) => CpuSplit::between(before, after),
            _ => None,
        };
        self.split_reading = reading;
        if let Some(split) = self.split {
            if self.split_history.len() == HISTORY_SAMPLES {
                self.split_history.pop_front();
            }
            self.split_history.push_back(split);
        }
        true
    }

    /// Asks for a repaint when the next sample is due, so the bars keep moving.
    pub fn schedule_repaint(&self, ctx: &egui::Context) {
        let wait = REFRESH_EVERY.saturating_sub(self.last_refresh.elapsed());
        ctx.request_repaint_after(wait);
    }

    /// Mean load over all cores, 0..=100.
    pub fn mean_load(&self) -> f32 {
        if self.loads.is_empty() {
            0.0
        } else {
            self.loads.iter().sum::<f32>() / self.loads.len() as f32
        }
    }
}

/// Samples the system panel waits for before a screenshot: load figures
/// need a few to mean something, and the history chart a few seconds of them.
const SAMPLES_BEFORE_SCREENSHOT: u32 = 12;

/// The system tab: the load monitor (which the status bar's mini bars read
/// too) and the explorer's worker count it is compared with.
#[derive(Default)]
pub struct SystemPanel {
    pub cpu: CpuMonitor,
    /// The explorer's pool size (the app keeps it current).
    pub explorer_workers: usize,
    /// Developer frame statistics in the status bar (off by default; saved
    /// as `AppSettings::show_frame_stats`).
    pub show_frame_stats: bool,
}

impl crate::gui::panel::Panel for SystemPanel {
    fn ui(&mut self, ui: &mut egui::Ui) {
        system_ui(ui, &self.cpu, self.explorer_workers);
        ui.separator();
        ui.checkbox(&mut self.show_frame_stats, "frame stats in the status bar")
            .on_hover_text(
                "for parlab's developers: UI thread time per frame and time between frames, \
                 and how fast a stale render stops",
            );
    }

    fn is_idle(&self) -> bool {
        self.cpu.samples >= SAMPLES_BEFORE_SCREENSHOT
    }
}

/// Colour of a load bar: green when calm, yellow, red when saturated.
fn load_colour(load: f32) -> egui::Color32 {
    if load > 85.0 {
        palette::BAD
    } else if load > 50.0 {
        palette::WARN
    } else {
        palette::GOOD
    }
}

/// Small bars for a status bar, one per core.
pub fn mini_bars_ui(ui: &mut egui::Ui, cpu: &CpuMonitor) {
    let w = 5.0;
    let h = 14.0;
    let (rect, resp) = ui.allocate_exact_size(
        Vec2::new((w + 1.0) * cpu.loads.len().max(1) as f32, h),
        Sense::hover(),
    );
    let p = ui.painter();
    for (i, load) in cpu.loads.iter().enumerate() {
        let x = rect.left() + i as f32 * (w + 1.0);
        let bg = Rect::from_min_size(Pos2::new(x, rect.top()), Vec2::new(w, h));
        p.rect_filled(bg, 0.0, palette::IDLE);
        let fill = h * (load / 100.0).clamp(0.0, 1.0);
        p.rect_filled(
            Rect::from_min_max(Pos2::new(x, rect.bottom() - fill), bg.max),
            0.0,
            load_colour(*load),
        );
    }
    resp.on_hover_text(format!(
        "per-core load, mean {:.0} % (sampled every {} ms)",
        cpu.mean_load(),
        REFRESH_EVERY.as_millis()
    ));
}

/// The system panel.
pub fn system_ui(ui: &mut egui::Ui, cpu: &CpuMonitor, num_workers: usize) {
    ui.heading("System");
    egui::Grid::new("system-facts")
        .num_columns(2)
        .spacing([16.0, 4.0])
        .show(ui, |ui| {
            ui.label("CPU");
            ui.label(RichText::new(&cpu.brand).strong());
            ui.end_row();
            ui.label("logical cores");
            ui.label(cpu.logical.to_string())
                .on_hover_text("hardware threads the OS lets parlab use");
            ui.end_row();
            ui.label("physical cores");
            ui.label(cpu.physical.to_string());
            ui.end_row();
            ui.label("explorer workers");
            ui.label(num_workers.to_string());
            ui.end_row();
        });
    if num_workers > cpu.logical {
        ui.label(
            RichText::new(format!(
                "A pool of {} on {} oversubscribes the CPU: \
                 workers share cores and take turns, so more workers cannot go faster.",
                crate::engine::util::words::count_of(num_workers, "worker"),
                crate::engine::util::words::count_of(cpu.logical, "logical core")
            ))
            .color(palette::WARN),
        );
    } else {
        ui.label(format!(
            "A pool of more than {} workers would oversubscribe this CPU.",
            cpu.logical
        ));
    }
    if cpu.physical < cpu.logical {
        ui.label(format!(
            "{} logical cores on {} physical: hyper-threads share a core's execution units.",
            cpu.logical, cpu.physical
        ));
    }
    ui.add_space(8.0);
    ui.label(
        RichText::new(format!(
            "Load per core (sysinfo, every {} ms) — start a render in the explorer and watch it",
            REFRESH_EVERY.as_millis()
        ))
        .strong(),
    );
    if cpu.samples == 0 {
        ui.label("measuring…");
    }
    let font = FontId::proportional(11.0);
    let bar_h = 16.0;
    let width = ui.available_width().min(700.0);
    for (i, load) in cpu.loads.iter().enumerate() {
        let (rect, _) = ui.allocate_exact_size(Vec2::new(width, bar_h), Sense::hover());
        let p = ui.painter();
        let label_w = 64.0;
        let bar = Rect::from_min_max(
            Pos2::new(rect.left() + label_w, rect.top() + 2.0),
            Pos2::new(rect.right() - 56.0, rect.bottom() - 2.0),
        );
        p.text(
            Pos2::new(rect.left(), rect.center().y),
            Align2::LEFT_CENTER,
            format!("core {i}"),
            font.clone(),
            ui.visuals().text_color(),
        );
        p.rect_filled(bar, 2.0, palette::IDLE);
        let fill = bar.width() * (load / 100.0).clamp(0.0, 1.0);
        p.rect_filled(
            Rect::from_min_size(bar.min, Vec2::new(fill, bar.height())),
            2.0,
            load_colour(*load),
        );
        p.text(
            Pos2::new(bar.right() + 6.0, rect.center().y),
            Align2::LEFT_CENTER,
            format!("{load:.0} %"),
            font.clone(),
            ui.visuals().text_color(),
        );
    }
    ui.add_space(4.0);
    split_ui(ui, cpu, width);
    ui.add_space(8.0);
    history_ui(ui, cpu, width);
}

/// Who is using the CPU: parlab (this process and every process it
/// started) against other programs, as shares of the whole machine.
fn split_ui(ui: &mut egui::Ui, cpu: &CpuMonitor, width: f32) {
    let Some(split) = cpu.split else {
        ui.weak("parlab's own share: not measured on this system (needs Linux /proc)");
        return;
    };
    let (rect, _) = ui.allocate_exact_size(Vec2::new(width, 18.0), Sense::hover());
    let p = ui.painter();
    let bar = Rect::from_min_max(
        Pos2::new(rect.left() + 64.0, rect.top() + 2.0),
        Pos2::new(rect.right() - 56.0, rect.bottom() - 2.0),
    );
    p.text(
        Pos2::new(rect.left(), rect.center().y),
        Align2::LEFT_CENTER,
        "all cores",
        FontId::proportional(11.0),
        ui.visuals().text_color(),
    );
    p.rect_filled(bar, 2.0, palette::IDLE);
    let own_w = bar.width() * (split.own_pct / 100.0).clamp(0.0, 1.0) as f32;
    let other_w = bar.width() * (split.other_pct / 100.0).clamp(0.0, 1.0) as f32;
    p.rect_filled(
        Rect::from_min_size(bar.min, Vec2::new(own_w, bar.height())),
        0.0,
        palette::OWN_CPU,
    );
    p.rect_filled(
        Rect::from_min_size(
            Pos2::new(bar.left() + own_w, bar.top()),
            Vec2::new(other_w.min(bar.width() - own_w), bar.height()),
        ),
        0.0,
        palette::OTHER_CPU,
    );
    p.text(
        Pos2::new(bar.right() + 6.0, rect.center().y),
        Align2::LEFT_CENTER,
        format!("{:.0} %", split.own_pct + split.other_pct),
        FontId::proportional(11.0),
        ui.visuals().text_color(),
    );
    ui.horizontal_wrapped(|ui| {
        ui.colored_label(
            palette::OWN_CPU,
            format!(
                "parlab (this process and its children): {:.0} %",
                split.own_pct
            ),
        );
        ui.label("·");
        ui.colored_label(
            palette::OTHER_CPU,
            format!("other programs: {:.0} %", split.other_pct),
        );
        ui.weak("of all cores, from /proc over the last sample");
    });
}

/// Load over the last minute: a thin line per core and the mean in bold.
fn history_ui(ui: &mut egui::Ui, cpu: &CpuMonitor, width: f32) {
    ui.label(RichText::new("Last minute").strong());
    let (outer, _) = ui.allocate_exact_size(Vec2::new(width, 180.0), Sense::hover());
    // The scale's labels sit in a margin left of the chart, never under a trace.
    let label_w = 40.0;
    let rect = Rect::from_min_max(
        Pos2::new(outer.left() + label_w, outer.top() + 6.0),
        Pos2::new(outer.right(), outer.bottom() - 6.0),
    );
    let p = ui.painter_at(outer);
    p.rect_filled(rect, 2.0, palette::IDLE);
    let font = FontId::proportional(10.0);
    for pct in [0.0_f32, 50.0, 100.0] {
        let y = rect.bottom() - rect.height() * pct / 100.0;
        p.line_segment(
            [Pos2::new(rect.left(), y), Pos2::new(rect.right(), y)],
            egui::Stroke::new(1.0, egui::Color32::from_gray(60)),
        );
        p.text(
            Pos2::new(rect.left() - 4.0, y),
            Align2::RIGHT_CENTER,
            format!("{pct:.0} %"),
            font.clone(),
            egui::Color32::from_gray(150),
        );
    }
    let n = cpu.history.len();
    if n < 2 {
        return;
    }
    let x_of = |i: usize| {
        rect.right()
            - (HISTORY_SAMPLES - 1 - (HISTORY_SAMPLES - n + i)) as f32 * rect.width()
                / (HISTORY_SAMPLES - 1) as f32
    };
    let y_of = |load: f32| rect.bottom() - rect.height() * (load / 100.0).clamp(0.0, 1.0);
    let cores = cpu.history.back().map_or(0, Vec::len);
    for core in 0..cores {
        let points: Vec<Pos2> = cpu
            .history
            .iter()
            .enumerate()
            .map(|(i, s)| Pos2::new(x_of(i), y_of(s.get(core).copied().unwrap_or(0.0))))
            .collect();
        p.add(egui::Shape::line(
            points,
            egui::Stroke::new(1.0, egui::Color32::from_gray(130)),
        ));
    }
    let mean: Vec<Pos2> = cpu
        .history
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let m = s.iter().sum::<f32>() / s.len().max(1) as f32;
            Pos2::new(x_of(i), y_of(m))
        })
        .collect();
    p.add(egui::Shape::line(
        mean,
        egui::Stroke::new(1.5, palette::HIGHLIGHT),
    ));
    let m = cpu.split_history.len();
    let split_x = |i: usize| {
        rect.right()
            - (HISTORY_SAMPLES - 1 - (HISTORY_SAMPLES - m + i)) as f32 * rect.width()
                / (HISTORY_SAMPLES - 1) as f32
    };
    if m >= 2 {
        for (colour, of) in [
            (
                palette::OTHER_CPU,
                (|s: &CpuSplit| s.other_pct) as fn(&CpuSplit) -> f64,
            ),
            (palette::OWN_CPU, |s: &CpuSplit| s.own_pct),
        ] {
            let line: Vec<Pos2> = cpu
                .split_history
                .iter()
                .enumerate()
                .map(|(i, s)| Pos2::new(split_x(i), y_of(of(s) as f32)))
                .collect();
            p.add(egui::Shape::line(line, egui::Stroke::new(2.5, colour)));
        }
    }
    ui.horizontal_wrapped(|ui| {
        ui.weak("grey: each core · white: mean of all cores ·");
        ui.colored_label(palette::OWN_CPU, "blue: parlab");
        ui.weak("·");
        ui.colored_label(palette::OTHER_CPU, "rose: other programs");
        ui.weak("(shares of all cores)");
    });
}
