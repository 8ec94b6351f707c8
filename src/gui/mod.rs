//! The eframe window: one folder or file per tab (each a struct that
//! implements [`panel::Panel`]), shared [`widgets`], and [`app`] with the
//! tab bar (see there how to add a tab). It receives a checked
//! [`WindowPlan`] from the CLI and never imports it.

pub mod app;
pub mod explorer;
pub mod frame_stats;
pub mod lessons;
pub mod locks;
pub mod measuring;
pub mod panel;
pub mod python;
pub mod race;
pub mod settings;
pub mod speedup;
pub mod system;
pub mod theory;
pub mod widgets;

use crate::engine::exec::schedule::Schedule;
use crate::engine::mandelbrot::colour::Palette;
use crate::engine::mandelbrot::tiling::Tiling;
use app::App;
use explorer::places::Place;
use panel::Tab;
use std::path::PathBuf;

/// What the command line asks of the window, already checked (the CLI builds
/// it in `cli/window.rs`; the gui never sees raw flags).
#[derive(Clone, Debug, Default)]
pub struct WindowPlan {
    pub tab: Option<Tab>,
    pub size: Option<(u32, u32)>,
    /// The window's inner size in points (default 1500×950).
    pub window: Option<(u32, u32)>,
    pub place: Option<&'static Place>,
    pub workers: Option<usize>,
    pub schedule: Option<Schedule>,
    pub tiling: Option<Tiling>,
    pub palette: Option<Palette>,
    pub overlay: Option<bool>,
    /// Threads or worker processes for the explorer.
    pub backend: Option<crate::engine::farm::Backend>,
    /// Save an in-app screenshot here once the panel's work is done, then exit.
    pub screenshot: Option<PathBuf>,
    /// Print frame-time percentiles after this many frames, then exit.
    pub frame_stats: Option<u32>,
    /// Start from default settings, ignoring the saved ones.
    pub reset_settings: bool,
    /// A Chrome trace already read (`parlab open TRACE.json`): shown on the
    /// Python tab, which the window opens on.
    pub open_trace: Option<(PathBuf, crate::engine::python::Imported)>,
    /// Open on the Lessons tab at this lesson (`--lesson N`).
    pub lesson: Option<u32>,
    /// Read the lessons from this folder (`--lessons DIR`, checked by the CLI).
    pub lessons_dir: Option<PathBuf>,
}

/// eframe's settings file for this app (`…/parlab/app.ron`), if there is a place for it.
pub fn settings_file() -> Option<std::path::PathBuf> {
    eframe::storage_dir(APP_NAME).map(|d| d.join("app.ron"))
}

/// The app name eframe stores settings under.
const APP_NAME: &str = "parlab";

/// Looks at the saved-settings file before eframe does: when it is not
/// valid RON (eframe would silently start empty and overwrite it), a copy
/// is kept as `app.ron.bad` and the returned notice says so.
pub fn inspect_settings_file(path: &std::path::Path) -> Option<String> {
    let bytes = match crate::engine::util::files::read_capped(path) {
        Ok(b) => b,
        Err(_) if !path.exists() => return None,
        Err(e) => {
            return Some(format!(
                "Saved settings file {} could not be read ({e}): starting from defaults.",
                path.display()
            ));
        }
    };
    let text = String::from_utf8_lossy(&bytes);
    let error = match ron::from_str::<std::collections::HashMap<String, String>>(&text) {
        Ok(_) => return None,
        Err(e) => e,
    };
    let mut bad = path.as_os_str().to_owned();
    bad.push(".bad");
    let bad = std::path::PathBuf::from(bad);
    let kept = match crate::engine::util::files::write_atomic(&bad, &bytes) {
        Ok(()) => format!("a copy was kept as {}", bad.display()),
        Err(e) => format!("no copy could be kept ({e})"),
    };
    Some(format!(
        "Saved settings file {} is not valid RON ({error}): starting from defaults; {kept}.",
        path.display()
    ))
}

/// Applies command-line choices on top of the saved settings (the headless
/// duties excepted: [`run`] hands those to the app).
pub fn apply_plan(app: &mut App, plan: WindowPlan) {
    if let Some(dir) = &plan.lessons_dir {
        match crate::engine::lessons::load_dir(dir) {
            Ok(loaded) => app.set_lessons(loaded),
            Err(e) => app.add_notice(e.to_string()),
        }
    }
    if let Some(n) = plan.lesson {
        app.lessons.select(n);
        app.tab = Tab::Lessons;
    }
    if let Some(t) = plan.tab {
        app.tab = t;
    }
    if let Some((path, imported)) = plan.open_trace {
        app.tab = Tab::Python;
        app.python.show_opened(&path, imported);
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
    if let Some(b) = plan.backend {
        e.settings.backend = b;
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
pub fn run(plan: WindowPlan) -> Result<(), String> {
    let headless = plan.screenshot.is_some() || plan.frame_stats.is_some();
    let user_file = settings_file();
    let file_notice = user_file.as_deref().and_then(inspect_settings_file);
    // Headless runs read the user's settings from a copy and write only to
    // that copy: a screenshot or a frame-stats run never changes them.
    let scratch = if headless {
        let dir = tempfile::tempdir().map_err(|e| format!("no temporary folder: {e}"))?;
        let copy = dir.path().join("app.ron");
        if let Some(f) = &user_file
            && file_notice.is_none()
            && f.is_file()
        {
            std::fs::copy(f, &copy).map_err(|e| format!("cannot copy {}: {e}", f.display()))?;
        }
        Some((dir, copy))
    } else {
        None
    };
    let (width, height) = plan.window.unwrap_or((1500, 950));
    let options = eframe::NativeOptions {
        renderer: eframe::Renderer::Glow,
        viewport: egui::ViewportBuilder::default()
            .with_title("parlab")
            .with_inner_size([width as f32, height as f32])
            .with_min_inner_size([800.0, 500.0]),
        // Headless runs, and runs given --window, get the size asked for.
        persist_window: !headless && plan.window.is_none(),
        persistence_path: scratch.as_ref().map(|(_, copy)| copy.clone()),
        ..Default::default()
    };
    let outcome: app::Outcome = Default::default();
    let outcome_in_app = outcome.clone();
    let reset = plan.reset_settings;
    eframe::run_native(
        APP_NAME,
        options,
        Box::new(move |cc| {
            let saved = if reset {
                None
            } else {
                cc.storage.and_then(|s| s.get_string(settings::STORAGE_KEY))
            };
            let mut app = App::new(saved.as_deref());
            if let Some(n) = file_notice {
                app.add_notice(n);
            }
            if let Some(n) = app.notice() {
                eprintln!("parlab: {n}");
            }
            app.automation.screenshot = plan.screenshot.clone();
            app.automation.frame_stats = plan.frame_stats;
            apply_plan(&mut app, plan);
            app.automation.outcome = outcome_in_app;
            Ok(Box::new(app))
        }),
    )
    .map_err(|e| format!("could not open the window: {e}"))?;
    if headless {
        let result = outcome.lock().ok().and_then(|mut o| o.take());
        match result {
            Some(Ok(line)) => {
                // A closed stdout (`| head`) is not a failure of the run.
                use std::io::Write as _;
                let _ = writeln!(std::io::stdout().lock(), "{line}");
            }
            Some(Err(e)) => return Err(e),
            None => return Err("the window closed before the headless run finished".into()),
        }
    }
    Ok(())
}
