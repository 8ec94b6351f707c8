//! The explorer's side panel: every control re-renders as it moves (the stale
//! render is cancelled, the latest setting wins); palette and overlay only recolour.

use crate::engine::exec::placement::PINNING_HELP;
use crate::engine::exec::pool::{MAX_WORKERS, logical_cores, physical_cores};
use crate::engine::exec::schedule::Schedule;
use crate::engine::farm::Backend;
use crate::engine::mandelbrot::colour::Palette;
use crate::engine::mandelbrot::kernel::Kernel;
use crate::engine::mandelbrot::tiling::Tiling;
use crate::engine::mandelbrot::view::{MAX_ITER, View};
use crate::engine::util::words::count_of;
use crate::gui::explorer::Explorer;
use crate::gui::explorer::places::PLACES;
use crate::gui::widgets::labelled::slider as labelled_slider;
use crate::gui::widgets::palette;
use egui::{Align2, FontId, RichText, Slider, Stroke};

/// What the process backend's figures mean (ASCII only: egui's fonts).
pub const BACKEND_HELP: &str = "processes: each worker is a separate parlab process with its own memory. \
Start-up = spawn to its first message (a fresh process, a few ms each; threads take microseconds). \
Transfer share = of a tile's compute + transfer, the part spent serialising its pixels, \
sending them through the pipe and deserialising them in the master (threads write straight \
into the shared image: no transfer). Both costs come per worker or per tile, not per pixel, \
so coarse tiles (64 px, bands) suit processes better than threads: see the granularity plot.";

/// Image-size presets, smallest first.
pub const SIZE_PRESETS: [(u32, u32); 9] = [
    (256, 256),
    (512, 384),
    (640, 480),
    (800, 600),
    (1024, 768),
    (1280, 720),
    (1920, 1080),
    (2560, 1440),
    (3840, 2160),
];

/// The explorer's centre and zoom as text fields: shown for the current
/// view, typed to go somewhere.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PlaceText {
    pub re: String,
    pub im: String,
    /// Magnification against the whole set at this image size (1 = whole set).
    pub zoom: String,
    /// Why the typed place was refused.
    pub error: Option<String>,
}

/// View width of the whole set at this image size (zoom 1).
fn whole_set_width(view: &View) -> f64 {
    View::default_for_size(view.width_px(), view.height_px()).map_or(3.0, |v| v.view_width())
}

impl PlaceText {
    /// The text of `view`'s centre (to a tenth of a pixel) and zoom.
    pub fn of(view: &View) -> Self {
        let decimals = (-(view.pixel_size() / 10.0).log10())
            .ceil()
            .clamp(1.0, 17.0) as usize;
        let (re, im) = view.center();
        let zoom = whole_set_width(view) / view.view_width();
        PlaceText {
            re: format!("{re:.decimals$}"),
            im: format!("{im:.decimals$}"),
            zoom: if zoom < 1e6 {
                crate::engine::util::num::num((zoom * 1000.0).round() / 1000.0)
            } else {
                format!("{zoom:.4e}")
            },
            error: None,
        }
    }

    /// The view these fields describe at `view`'s size and iterations.
    pub fn parse(&self, view: &View) -> Result<View, String> {
        let number = |text: &str, what: &str| {
            crate::gui::widgets::labelled::parse_number(text)
                .filter(|v| v.is_finite())
                .ok_or_else(|| format!("{what} {:?} is not a number", text.trim()))
        };
        let re = number(&self.re, "centre re")?;
        let im = number(&self.im, "centre im")?;
        let zoom = number(&self.zoom, "zoom")?;
        if zoom <= 0.0 {
            return Err(format!("zoom must be above 0, got {}", self.zoom.trim()));
        }
        View::new(
            (re, im),
            whole_set_width(view) / zoom,
            view.width_px(),
            view.height_px(),
            view.max_iter(),
        )
        .map_err(|e| e.to_string())
    }
}

impl Explorer {
    /// Centre and zoom of the view, shown and typed (Enter or Go applies).
    fn place_ui(&mut self, ui: &mut egui::Ui) {
        // Two fixed rows (not wrapped: a wrapped row moved everything under
        // it while the side panel found its width).
        let t = &mut self.place_text;
        let (a, b) = ui
            .horizontal(|ui| {
                let l = ui.label("centre re");
                let a = ui
                    .add(egui::TextEdit::singleline(&mut t.re).desired_width(96.0))
                    .labelled_by(l.id);
                let l = ui.label("im");
                let b = ui
                    .add(egui::TextEdit::singleline(&mut t.im).desired_width(96.0))
                    .labelled_by(l.id);
                (a, b)
            })
            .inner;
        let (c, clicked) = ui
            .horizontal(|ui| {
                let l = ui.label("zoom ×");
                let c = ui
                    .add(egui::TextEdit::singleline(&mut t.zoom).desired_width(72.0))
                    .labelled_by(l.id)
                    .on_hover_text(
                        "magnification against the whole set at this image size (1 = whole set)",
                    );
                (c, ui.button("Go").clicked())
            })
            .inner;
        let enter = ui.input(|i| i.key_pressed(egui::Key::Enter));
        let go = clicked || ((a.lost_focus() || b.lost_focus() || c.lost_focus()) && enter);
        if go {
            match self.place_text.parse(&self.view) {
                Ok(v) => self.set_view(v, true),
                Err(e) => self.place_text.error = Some(e),
            }
        }
        if let Some(e) = &self.place_text.error {
            ui.label(RichText::new(format!("{e}; the view is kept")).color(palette::BAD));
        }
    }

    pub(crate) fn controls_ui(&mut self, ui: &mut egui::Ui) {
        ui.heading("Explorer");
        self.navigation_ui(ui);
        ui.separator();
        self.workers_ui(ui);
        self.size_ui(ui);
        self.tiling_ui(ui);
        self.iterations_ui(ui);
        self.schedule_ui(ui);
        self.kernel_ui(ui);
        self.backend_ui(ui);
        ui.separator();
        self.colour_ui(ui);
        if let Some(e) = &self.input_error {
            ui.label(RichText::new(e).color(palette::BAD));
        }
        ui.separator();
        self.legend_section(ui);
        ui.separator();
        ui.collapsing("Export", |ui| {
            let empty = crate::engine::exec::trace::Trace::default();
            let render = self.render.as_ref();
            self.exports.ui(
                ui,
                &mut self.settings.export_folder,
                render.map(|r| &r.canvas),
                render.map_or(&empty, |r| r.trace()),
                render.is_some_and(|r| r.is_complete()),
            );
        });
    }

    fn navigation_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            if ui
                .add_enabled(self.history.can_go_back(), egui::Button::new("< Back"))
                .clicked()
                && let Some(v) = self.history.back().and_then(|s| View::try_from(s).ok())
            {
                self.set_view(v, false);
            }
            if ui
                .add_enabled(
                    self.history.can_go_forward(),
                    egui::Button::new("Forward >"),
                )
                .clicked()
                && let Some(v) = self.history.forward().and_then(|s| View::try_from(s).ok())
            {
                self.set_view(v, false);
            }
            if ui
                .button("Reset")
                .on_hover_text("the whole set at this image size")
                .clicked()
                && let Some(v) = PLACES[0].view(self.view.width_px(), self.view.height_px())
            {
                self.set_view(v, true);
            }
        });
        ui.horizontal_wrapped(|ui| {
            ui.label("Places:");
            for p in &PLACES {
                if ui.small_button(p.name).on_hover_text(p.why).clicked()
                    && let Some(v) = p.view(self.view.width_px(), self.view.height_px())
                {
                    self.set_view(v, true);
                }
            }
        });
        self.place_ui(ui);
        ui.label(
            RichText::new("drag: pan · wheel: zoom · shift+drag or right-drag: box zoom")
                .weak()
                .small(),
        );
    }

    fn workers_ui(&mut self, ui: &mut egui::Ui) {
        let logical = logical_cores();
        let physical = physical_cores();
        // The rail spans 1..=4 × logical cores (where the lessons are);
        // typed counts go up to the one cap of parlab, MAX_WORKERS, as in
        // the speedup lab's worker list.
        let max = 4 * logical;
        let mut n = self.settings.num_workers.clamp(1, MAX_WORKERS);
        let resp = labelled_slider(
            ui,
            "workers",
            Slider::new(&mut n, 1..=max)
                .integer()
                .clamping(egui::SliderClamping::Never),
        )
        .on_hover_text(format!(
            "drag: 1 to 4 × the {logical} logical cores; type a count for more, up to {MAX_WORKERS} \
             (parlab's one cap, as in the speedup lab): past the cores, workers only take turns"
        ));
        n = n.clamp(1, MAX_WORKERS);
        // Marks under the rail at the physical and logical core counts.
        let rail_left = resp.rect.left() + 6.0;
        let rail_w = ui.spacing().slider_width - 12.0;
        let y = resp.rect.bottom();
        let font = FontId::proportional(9.0);
        let mut marks = vec![(logical, "logical")];
        if physical != logical {
            marks.push((physical, "physical"));
        }
        for (v, name) in marks {
            let f = if max > 1 {
                (v - 1) as f32 / (max - 1) as f32
            } else {
                0.0
            };
            let x = rail_left + f * rail_w;
            ui.painter().line_segment(
                [egui::pos2(x, y - 4.0), egui::pos2(x, y + 2.0)],
                Stroke::new(2.0, palette::WARN),
            );
            ui.painter().text(
                egui::pos2(x, y + 2.0),
                Align2::CENTER_TOP,
                format!("{name} {v}"),
                font.clone(),
                palette::WARN,
            );
        }
        ui.add_space(12.0);
        if resp.changed() && n != self.settings.num_workers {
            self.settings.num_workers = n;
            self.restart();
        }
        if n > logical {
            ui.label(
                RichText::new(format!(
                    "{} on {}: oversubscribed, workers take turns",
                    count_of(n, "worker"),
                    count_of(logical, "logical core")
                ))
                .color(palette::WARN)
                .small(),
            );
        }
        if !self.settings.schedule.uses_pool() {
            ui.label(RichText::new("sequential runs on 1 thread whatever this says").small());
        }
    }

    fn size_ui(&mut self, ui: &mut egui::Ui) {
        let (w, h) = (self.view.width_px(), self.view.height_px());
        ui.horizontal(|ui| {
            crate::gui::widgets::labelled::combo(
                ui,
                "image size",
                "image size-combo",
                &(format!("{w}×{h}")).to_string(),
                |ui| {
                    for (pw, ph) in SIZE_PRESETS {
                        if ui
                            .selectable_label((pw, ph) == (w, h), format!("{pw}×{ph}"))
                            .clicked()
                        {
                            self.size_text = (pw.to_string(), ph.to_string());
                            self.apply_size();
                        }
                    }
                },
            );
        });
        let mut apply = false;
        ui.horizontal(|ui| {
            let wl = ui.label("width");
            let r1 = ui
                .add(egui::TextEdit::singleline(&mut self.size_text.0).desired_width(56.0))
                .labelled_by(wl.id);
            let hl = ui.label("height");
            let r2 = ui
                .add(egui::TextEdit::singleline(&mut self.size_text.1).desired_width(56.0))
                .labelled_by(hl.id);
            let enter = ui.input(|i| i.key_pressed(egui::Key::Enter));
            apply |= (r1.lost_focus() || r2.lost_focus()) && enter;
            apply |= ui.button("Apply").clicked();
        });
        if apply {
            self.apply_size();
        }
    }

    /// Applies the typed size; a bad one keeps the last good image and says why.
    pub fn apply_size(&mut self) {
        let parse = |s: &str, field: &str| {
            s.trim()
                .parse::<u32>()
                .map_err(|_| format!("{field} {:?} is not a whole number of pixels", s.trim()))
        };
        let result = parse(&self.size_text.0, "width")
            .and_then(|w| parse(&self.size_text.1, "height").map(|h| (w, h)))
            .and_then(|(w, h)| self.view.with_size(w, h).map_err(|e| e.to_string()))
            .and_then(|v| {
                let max_side = self
                    .ctx
                    .as_ref()
                    .map_or(usize::MAX, |c| c.input(|i| i.max_texture_side));
                if v.width_px() as usize > max_side || v.height_px() as usize > max_side {
                    Err(format!("this GPU shows at most {max_side} px per side"))
                } else {
                    Ok(v)
                }
            });
        match result {
            Ok(v) => {
                let mut s = self.render_settings();
                s.view = v;
                match Self::check_settings(&s) {
                    Ok(_) => {
                        self.input_error = None;
                        self.set_view(v, true);
                    }
                    Err(e) => self.input_error = Some(e),
                }
            }
            Err(e) => self.input_error = Some(format!("size refused: {e}; the last image is kept")),
        }
    }

    fn tiling_ui(&mut self, ui: &mut egui::Ui) {
        let (mut px, mut bands) = match self.settings.tiling {
            Tiling::Square { tile_px } => (tile_px, false),
            Tiling::Bands { band_rows } => (band_rows, true),
        };
        let label = if bands {
            format!("rows per band: {}", self.settings.tiling)
        } else {
            "tile px".to_string()
        };
        let r1 = labelled_slider(
            ui,
            &label,
            Slider::new(&mut px, 1..=512).logarithmic(true).integer(),
        );
        let r2 = ui.checkbox(&mut bands, "bands").on_hover_text(
            "full-width horizontal bands instead of square tiles: bands(N) is N rows high, \
                 the same notation as the speedup lab's granularity list",
        );
        if r1.changed() || r2.changed() {
            let tiling = if bands {
                Tiling::bands(px)
            } else {
                Tiling::square(px)
            };
            match tiling {
                Ok(t) => {
                    self.settings.tiling = t;
                    self.input_error = None;
                    self.restart();
                }
                Err(e) => self.input_error = Some(e.to_string()),
            }
        }
    }

    fn iterations_ui(&mut self, ui: &mut egui::Ui) {
        let mut it = self.view.max_iter();
        if labelled_slider(
            ui,
            "max iterations",
            Slider::new(&mut it, 1..=MAX_ITER)
                .logarithmic(true)
                .integer(),
        )
        .changed()
        {
            match self.view.with_max_iter(it) {
                Ok(v) => {
                    self.history.replace_current(&v);
                    self.set_view(v, false);
                }
                Err(e) => self.input_error = Some(e.to_string()),
            }
        }
    }

    fn schedule_ui(&mut self, ui: &mut egui::Ui) {
        let current = self.settings.schedule;
        let mut chosen = current;
        ui.horizontal(|ui| {
            crate::gui::widgets::labelled::combo(
                ui,
                "schedule",
                "schedule-combo",
                &(current.to_string()).to_string(),
                |ui| {
                    for s in Schedule::ALL {
                        ui.selectable_value(&mut chosen, s, s.name())
                            .on_hover_text(s.describe());
                    }
                },
            )
            .on_hover_text(current.describe());
        });
        ui.label(RichText::new(current.describe()).weak().small());
        if chosen != current {
            self.settings.schedule = chosen;
            self.restart();
        }
    }

    /// "scalar reference" vs "SIMD": same escape counts, very different speed.
    fn kernel_ui(&mut self, ui: &mut egui::Ui) {
        let current = self.settings.kernel;
        let mut chosen = current;
        ui.horizontal(|ui| {
crate::gui::widgets::labelled::combo(ui, "kernel", "kernel-combo", current.label(), |ui| {
                for k in Kernel::ALL {
                    ui.add_enabled_ui(k.is_available(), |ui| {
                        ui.selectable_value(&mut chosen, k, k.label())
                            .on_disabled_hover_text("this CPU lacks the instructions");
                    });
                }
            })
            .on_hover_text(
                "all kernels give identical escape counts; SIMD computes several pixels per instruction with the widest vectors this CPU has (AVX2 and AVX-512 force a width)",
            );
        });
        if chosen != current {
            self.settings.kernel = chosen;
            self.restart();
        }
    }

    /// Where mpirun starts the ranks: this machine, or a hostfile's lab;
    /// applied on the next render (Enter or leaving the field).
    fn mpi_ui(&mut self, ui: &mut egui::Ui) {
        ui.label(
            RichText::new(
                "MPI: rank 0 hands out the tiles, one rank per worker computes; each render starts mpirun (rank start-up shown in the summary)",
            )
            .weak()
            .small(),
        );
        let mut changed = false;
        ui.horizontal(|ui| {
            let l = ui.label("hostfile");
            changed |= ui
                .add(
                    egui::TextEdit::singleline(&mut self.settings.mpi_hostfile)
                        .hint_text("this machine")
                        .desired_width(160.0),
                )
                .labelled_by(l.id)
                .on_hover_text(
                    "mpirun --hostfile: the lab's machines, each with parlab at the same path and ssh keys (see the README)",
                )
                .lost_focus();
        });
        ui.horizontal(|ui| {
            let l = ui.label("mpirun arguments");
            changed |= ui
                .add(
                    egui::TextEdit::singleline(&mut self.settings.mpi_args)
                        .desired_width(160.0),
                )
                .labelled_by(l.id)
                .on_hover_text(
                    "e.g. --allow-run-as-root (Open MPI refuses root without it); on this machine alone parlab adds --oversubscribe",
                )
                .lost_focus();
        });
        if changed {
            self.restart();
        }
    }

    /// How mpirun is started, from the settings.
    pub fn mpi_launch(&self) -> crate::engine::farm::MpiLaunch {
        let hostfile = self.settings.mpi_hostfile.trim();
        crate::engine::farm::MpiLaunch {
            mpirun: None,
            hostfile: (!hostfile.is_empty()).then(|| hostfile.into()),
            args: crate::engine::farm::MpiLaunch::split_args(&self.settings.mpi_args),
            master_computes: false,
            startup_limit: None,
        }
    }

    /// Threads or worker processes: same tiles, same image, different costs.
    fn backend_ui(&mut self, ui: &mut egui::Ui) {
        let current = self.settings.backend;
        let mut chosen = current;
        ui.horizontal(|ui| {
            crate::gui::widgets::labelled::combo(
                ui,
                "workers are",
                "workers are-combo",
                current.name(),
                |ui| {
                    // MPI where this build has it and mpirun is found.
                    for b in Backend::offered() {
                        ui.selectable_value(&mut chosen, b, b.name())
                            .on_hover_text(b.describe());
                    }
                },
            )
            .on_hover_text(BACKEND_HELP);
        });
        if current == Backend::Processes {
            ui.label(RichText::new(BACKEND_HELP).weak().small());
        }
        if current == Backend::Mpi {
            self.mpi_ui(ui);
        }
        if chosen != current {
            self.settings.backend = chosen;
            self.restart();
        }
        let threads = self.settings.backend == Backend::Threads;
        let mut pin = self.settings.pin_workers;
        if ui
            .add_enabled(
                threads,
                egui::Checkbox::new(&mut pin, "pin workers to cores"),
            )
            .on_hover_text(PINNING_HELP)
            .on_disabled_hover_text(
                "pinning applies to threads; worker processes run where the OS puts them",
            )
            .changed()
        {
            self.settings.pin_workers = pin;
            self.restart();
        }
    }

    fn colour_ui(&mut self, ui: &mut egui::Ui) {
        let mut p = self.settings.palette;
        ui.horizontal(|ui| {
            crate::gui::widgets::labelled::combo(ui, "palette", "palette-combo", p.name(), |ui| {
                for q in Palette::ALL {
                    ui.selectable_value(&mut p, q, q.name());
                }
            });
        });
        if p != self.settings.palette {
            self.set_palette(p);
        }
        let mut overlay = self.settings.overlay;
        if ui
            .checkbox(&mut overlay, "worker overlay")
            .on_hover_text("tint each tile in the colour of the worker that computed it")
            .changed()
        {
            self.set_overlay(overlay);
        }
    }
}
