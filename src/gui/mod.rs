//! The eframe window: one file per panel, each a struct with `fn ui(&mut self, ui: &mut egui::Ui)`.
//! [`app`] holds the tab bar (see there how to add a tab).

pub mod app;
pub mod explorer;
pub mod frame_stats;
pub mod locks;
pub mod measuring;
pub mod race;
pub mod settings;
pub mod speedup;
pub mod system;
pub mod theory;
pub mod widgets;

use crate::cli::WindowArgs;
use crate::engine::exec::schedule::Schedule;
use crate::engine::mandelbrot::colour::Palette;
use crate::engine::mandelbrot::tiling::Tiling;
use crate::engine::mandelbrot::view::View;
use app::{App, Tab};
use explorer::places::{self, Place};

/// What the command line asks of the window, validated.
#[derive(Clone, Debug, Default)]
pub struct WindowPlan {
    pub tab: Option<Tab>,
    pub size: Option<(u32, u32)>,
    pub place: Option<&'static Place>,
    pub workers: Option<usize>,
    pub schedule: Option<Schedule>,
    pub tiling: Option<Tiling>,
    pub palette: Option<Palette>,
    pub overlay: Option<bool>,
}

/// Checks the window options before anything opens (bad input: a message, nothing done).
pub fn check_args(args: &WindowArgs) -> Result<WindowPlan, String> {
    let size = match &args.size {
        None => None,
        Some(s) => {
            let (w, h) = s
                .split_once(['x', '×'])
                .ok_or_else(|| format!("--size {s:?}: expected WIDTHxHEIGHT such as 1920x1080"))?;
            let parse = |v: &str| {
                v.trim()
                    .parse::<u32>()
                    .map_err(|_| format!("--size {s:?}: {v:?} is not a whole number"))
            };
            let (w, h) = (parse(w)?, parse(h)?);
            View::default_for_size(w, h).map_err(|e| format!("--size {s}: {e}"))?;
            Some((w, h))
        }
    };
    let place = match &args.place {
        None => None,
        Some(p) => Some(Place::by_name(p).ok_or_else(|| {
            let names: Vec<_> = places::PLACES
                .iter()
                .map(|p| places::slug(p.name))
                .collect();
            format!("--place {p:?}: expected one of {}", names.join(", "))
        })?),
    };
    if let Some(n) = args.workers
        && !(1..=crate::engine::exec::pool::MAX_WORKERS).contains(&n)
    {
        return Err(format!(
            "--workers must be 1..={}, got {n}",
            crate::engine::exec::pool::MAX_WORKERS
        ));
    }
    if args.screenshot.is_some() && args.frame_stats.is_some() {
        return Err("give either --screenshot or --frame-stats, not both".into());
    }
    if let Some(p) = &args.screenshot {
        crate::cli::check_output(p, "--screenshot").map_err(|e| match e {
            crate::cli::CliError::Usage(m) | crate::cli::CliError::Failed(m) => m,
        })?;
    }
    if args.frame_stats == Some(0) {
        return Err("--frame-stats needs at least 1 frame".into());
    }
    Ok(WindowPlan {
        tab: args.panel.as_deref().map(Tab::from_slug).transpose()?,
        size,
        place,
        workers: args.workers,
        schedule: args.schedule.as_deref().map(str::parse).transpose()?,
        tiling: args.tile.as_deref().map(str::parse).transpose()?,
        palette: args.palette.as_deref().map(str::parse).transpose()?,
        overlay: args.overlay,
    })
}

/// Applies command-line choices on top of the saved settings.
fn apply_plan(app: &mut App, plan: &WindowPlan) {
    if let Some(t) = plan.tab {
        app.tab = t;
    }
    let e = &mut app.explorer;
    if let Some(n) = plan.workers {
        e.settings.num_workers = n;
    }
    if let Some(s) = plan.schedule {
        e.settings.schedule = s;
    }
    if let Some(t) = plan.tiling {
        e.settings.tiling = t;
    }
    if let Some(p) = plan.palette {
        e.set_palette(p);
    }
    if let Some(o) = plan.overlay {
        e.set_overlay(o);
    }
    let (w, h) = plan
        .size
        .unwrap_or((e.view().width_px(), e.view().height_px()));
    let view = match plan.place {
        Some(p) => p.view(w, h),
        None => e.view().with_size(w, h).ok(),
    };
    if let Some(v) = view {
        e.set_view(v, true);
    }
}

/// Opens the window and runs until it is closed (or a headless duty is done).
pub fn run(args: WindowArgs) -> Result<(), String> {
    let plan = check_args(&args)?;
    let headless = args.screenshot.is_some() || args.frame_stats.is_some();
    let options = eframe::NativeOptions {
        renderer: eframe::Renderer::Glow,
        viewport: egui::ViewportBuilder::default()
            .with_title("parlab")
            .with_inner_size([1500.0, 950.0])
            .with_min_inner_size([800.0, 500.0]),
        // Headless runs get the same window size every time.
        persist_window: !headless,
        ..Default::default()
    };
    let outcome: app::Outcome = Default::default();
    let outcome_in_app = outcome.clone();
    let reset = args.reset_settings;
    eframe::run_native(
        "parlab",
        options,
        Box::new(move |cc| {
            let saved = if reset {
                None
            } else {
                cc.storage.and_then(|s| s.get_string(settings::STORAGE_KEY))
            };
            let mut app = App::new(saved.as_deref());
            apply_plan(&mut app, &plan);
            app.automation.screenshot = args.screenshot.clone();
            app.automation.frame_stats = args.frame_stats;
            app.automation.outcome = outcome_in_app;
            Ok(Box::new(app))
        }),
    )
    .map_err(|e| format!("could not open the window: {e}"))?;
    if headless {
        let result = outcome.lock().ok().and_then(|mut o| o.take());
        match result {
            Some(Ok(line)) => println!("{line}"),
            Some(Err(e)) => return Err(e),
            None => return Err("the window closed before the headless run finished".into()),
        }
    }
    Ok(())
}
