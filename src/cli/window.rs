//! The window's flags turned into the typed [`WindowPlan`] the gui receives:
//! every check happens here, before anything opens, so the gui never sees raw
//! flags (and never imports the CLI).

use super::{CliError, WindowArgs};

/// Checks the window flags and opens the window (or explains why not).
#[cfg(feature = "gui")]
pub fn open(args: &WindowArgs) -> Result<(), CliError> {
    let plan = plan(args).map_err(CliError::Usage)?;
    crate::gui::run(plan).map_err(CliError::Failed)
}

/// Whether this build has the window (the `gui` feature).
pub const HAS_WINDOW: bool = cfg!(feature = "gui");

/// Opens the window on the Python tab with a trace already read and checked
/// (`parlab open TRACE.json`).
#[cfg(feature = "gui")]
pub fn open_trace(path: &std::path::Path, imported: Imported) -> Result<(), CliError> {
    crate::gui::run(trace_plan(path, imported)).map_err(CliError::Failed)
}

/// The window plan for `parlab open TRACE.json`: the Python tab, the trace on it.
#[cfg(feature = "gui")]
pub fn trace_plan(path: &std::path::Path, imported: Imported) -> WindowPlan {
    WindowPlan {
        tab: Some(Tab::Python),
        open_trace: Some((path.to_path_buf(), imported)),
        ..WindowPlan::default()
    }
}

/// A build without the `gui` feature has no window: print the help instead.
#[cfg(not(feature = "gui"))]
pub fn open(_args: &WindowArgs) -> Result<(), CliError> {
    use clap::CommandFactory;
    let _ = super::Cli::command().print_help();
    Err(CliError::Usage(
        "this build has no window (built without the `gui` feature): use a subcommand".into(),
    ))
}

#[cfg(feature = "gui")]
use {
    super::check_output,
    crate::engine::exec::pool::MAX_WORKERS,
    crate::engine::mandelbrot::tiling::Tiling,
    crate::engine::mandelbrot::view::View,
    crate::engine::python::Imported,
    crate::gui::WindowPlan,
    crate::gui::explorer::places::{PLACES, Place, slug},
    crate::gui::panel::Tab,
};

/// Checks the window options before anything opens (bad input: a message, nothing done).
#[cfg(feature = "gui")]
pub fn plan(args: &WindowArgs) -> Result<WindowPlan, String> {
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
    let window = match &args.window {
        None => None,
        Some(s) => {
            let (w, h) = s
                .split_once(['x', '×'])
                .ok_or_else(|| format!("--window {s:?}: expected WIDTHxHEIGHT such as 1280x720"))?;
            let parse = |v: &str| {
                v.trim()
                    .parse::<u32>()
                    .ok()
                    .filter(|n| (400..=8192).contains(n))
                    .ok_or_else(|| {
                        format!("--window {s:?}: {v:?} is not a whole number in 400..=8192")
                    })
            };
            Some((parse(w)?, parse(h)?))
        }
    };
    let place = match &args.place {
        None => None,
        Some(p) => Some(Place::by_name(p).ok_or_else(|| {
            let names: Vec<_> = PLACES.iter().map(|p| slug(p.name)).collect();
            format!("--place {p:?}: expected one of {}", names.join(", "))
        })?),
    };
    if let Some(n) = args.workers
        && !(1..=MAX_WORKERS).contains(&n)
    {
        return Err(format!("--workers must be 1..={}, got {n}", MAX_WORKERS));
    }
    if args.screenshot.is_some() && args.frame_stats.is_some() {
        return Err("give either --screenshot or --frame-stats, not both".into());
    }
    if let Some(p) = &args.screenshot {
        check_output(p, "--screenshot").map_err(|e| match e {
            CliError::Usage(m) | CliError::Failed(m) => m,
        })?;
    }
    if args.frame_stats == Some(0) {
        return Err("--frame-stats needs at least 1 frame".into());
    }
    if let Some(n) = args.lesson {
        let loaded =
            crate::engine::lessons::load(args.lessons.as_deref()).map_err(|e| e.to_string())?;
        if loaded.find(n).is_none() {
            let known: Vec<String> = loaded
                .lessons
                .iter()
                .map(|l| l.number.to_string())
                .collect();
            return Err(format!(
                "--lesson {n}: the lessons are {}",
                known.join(", ")
            ));
        }
    } else if let Some(d) = &args.lessons {
        crate::engine::lessons::load_dir(d).map_err(|e| format!("--lessons: {e}"))?;
    }
    let tiling: Option<Tiling> = parsed(args.tile.as_deref())?;
    if let (Some(t), Some((w, h))) = (tiling, size) {
        t.check_count(w, h)
            .map_err(|e| format!("--tile with --size: {e}"))?;
    }
    Ok(WindowPlan {
        tab: args.panel.as_deref().map(Tab::from_slug).transpose()?,
        size,
        window,
        place,
        workers: args.workers,
        schedule: parsed(args.schedule.as_deref())?,
        tiling,
        palette: parsed(args.palette.as_deref())?,
        overlay: args.overlay,
        backend: args
            .backend
            .as_deref()
            .map(str::parse)
            .transpose()
            .map_err(|e| format!("--backend: {e}"))?,
        screenshot: args.screenshot.clone(),
        frame_stats: args.frame_stats,
        reset_settings: args.reset_settings,
        open_trace: None,
        lesson: args.lesson,
        lessons_dir: args.lessons.clone(),
    })
}

/// A flag's value parsed with its type's own rules, when it was given.
#[cfg(feature = "gui")]
fn parsed<T: std::str::FromStr>(value: Option<&str>) -> Result<Option<T>, String>
where
    T::Err: std::fmt::Display,
{
    value
        .map(|v| v.parse::<T>().map_err(|e| e.to_string()))
        .transpose()
}

#[cfg(all(test, feature = "gui"))]
mod tests {
    use super::*;
    use crate::engine::python::{Lane, LaneTrace};

    #[test]
    fn backend_flag_reaches_the_plan_and_a_bad_one_is_refused() {
        let args = |b: &str| WindowArgs {
            backend: Some(b.into()),
            ..WindowArgs::default()
        };
        let p = plan(&args("processes")).expect("valid");
        assert_eq!(p.backend, Some(crate::engine::farm::Backend::Processes));
        assert_eq!(plan(&WindowArgs::default()).expect("valid").backend, None);
        let e = plan(&args("fibres")).expect_err("refused");
        assert!(
            e.starts_with("--backend:") && e.contains("threads, processes or mpi"),
            "{e}"
        );
    }

    #[test]
    fn an_opened_trace_goes_to_the_python_tab() {
        let imported = Imported {
            trace: LaneTrace {
                lanes: vec![Lane {
                    pid: 7,
                    tid: 7,
                    ..Lane::default()
                }],
                ..LaneTrace::default()
            },
            ..Imported::default()
        };
        let plan = trace_plan(std::path::Path::new("t.json"), imported.clone());
        assert_eq!(plan.tab, Some(Tab::Python));
        let (path, got) = plan.open_trace.expect("the trace travels with the plan");
        assert_eq!(path, std::path::PathBuf::from("t.json"));
        assert_eq!(got, imported);
        assert!(plan.screenshot.is_none() && plan.frame_stats.is_none());
    }
}
