//! Settings kept between runs (eframe storage). Everything here is plain
//! data with `#[serde(default)]`; runtime handles live in the panels, never here.

use crate::engine::exec::pool::{check_workers, logical_cores};
use crate::engine::exec::schedule::Schedule;
use crate::engine::mandelbrot::colour::Palette;
use crate::engine::mandelbrot::kernel::Kernel;
use crate::engine::mandelbrot::tiling::Tiling;
use crate::engine::mandelbrot::view::{View, ViewSpec};
use crate::engine::speedup::sweep::{MAX_REPS, MAX_WARMUP};
use crate::engine::util::list::{parse_list, whole_number};
use crate::gui::panel::Tab;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Storage key for [`AppSettings`] (JSON text).
pub const STORAGE_KEY: &str = "parlab-settings";
/// Bumped when a saved field changes meaning; newer saved versions are not trusted.
pub const SETTINGS_VERSION: u32 = 1;

/// Everything the window remembers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AppSettings {
    pub version: u32,
    pub tab: Tab,
    pub explorer: ExplorerSettings,
    pub speedup: crate::gui::speedup::SpeedupSettings,
    /// The lab panels persist their own `#[serde(default)]` choices; kept as
    /// JSON here so that one unreadable panel cannot spoil the rest.
    pub race: serde_json::Value,
    pub locks: serde_json::Value,
    pub theory: serde_json::Value,
    pub python: serde_json::Value,
    /// The Lessons tab: the student's predictions and answers.
    pub lessons: serde_json::Value,
    /// Developer frame statistics in the status bar (the System tab's toggle).
    pub show_frame_stats: bool,
}

/// Reads a panel's saved JSON; anything unreadable gives the panel's defaults.
pub fn panel_from_json<T: serde::de::DeserializeOwned + Default>(v: &serde_json::Value) -> T {
    if v.is_null() {
        return T::default();
    }
    serde_json::from_value(v.clone()).unwrap_or_default()
}

/// A panel whose saved choices are checked on load.
pub trait CheckSaved {
    /// Checks every saved value with the engine's rules (those the command
    /// line applies); a value that fails is reset to its default and noted.
    fn check_saved(&mut self, resets: &mut Resets);
}

/// Reads a panel's saved JSON and checks it: an unreadable panel gets its
/// defaults, a bad field its default; each is noted in `resets` under `name`.
pub fn panel_from_json_checked<T>(v: &serde_json::Value, name: &str, resets: &mut Resets) -> T
where
    T: serde::de::DeserializeOwned + Default + CheckSaved,
{
    if v.is_null() {
        return T::default();
    }
    let mut panel = match serde_json::from_value::<T>(v.clone()) {
        Ok(p) => p,
        Err(e) => {
            resets.note(name, format!("unreadable: {e}"));
            return T::default();
        }
    };
    resets.prefix = name.to_string();
    panel.check_saved(resets);
    panel
}

/// The saved fields that were reset to their defaults, with why.
#[derive(Debug, Default)]
pub struct Resets {
    /// Names the part being checked (`explorer`, `race`, …).
    pub prefix: String,
    fields: Vec<String>,
}

impl Resets {
    /// Notes that `field` was reset because of `why`.
    pub fn note(&mut self, field: &str, why: impl std::fmt::Display) {
        let name = if self.prefix.is_empty() || field.starts_with(&self.prefix) {
            field.to_string()
        } else {
            format!("{}.{field}", self.prefix)
        };
        self.fields.push(format!("{name} ({why})"));
    }

    /// Keeps `value` when `check` accepts it; else resets it to `default`
    /// and notes `field` with the reason.
    pub fn check<T, R, E: std::fmt::Display>(
        &mut self,
        field: &str,
        value: &mut T,
        default: T,
        check: impl FnOnce(&T) -> Result<R, E>,
    ) {
        if let Err(e) = check(value) {
            self.note(field, e);
            *value = default;
        }
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The notice for the window (and stderr), naming every reset field.
    pub fn notice(&self) -> Option<String> {
        (!self.fields.is_empty()).then(|| {
            format!(
                "Saved settings: reset to the default: {}.",
                self.fields.join("; ")
            )
        })
    }
}

/// `Ok` when `ok` holds, else `Err(message)`.
fn holds(ok: bool, message: impl FnOnce() -> String) -> Result<(), String> {
    if ok { Ok(()) } else { Err(message()) }
}

impl ExplorerSettings {
    /// Checks the explorer's saved values with the engine's rules (view,
    /// tiling and tile count, workers, schedule): the CLI's `render` rules.
    pub fn check_saved(&mut self, resets: &mut Resets) {
        let d = ExplorerSettings::default();
        resets.prefix = "explorer".into();
        resets.check("view", &mut self.view, d.view, |v| View::try_from(*v));
        let view = View::try_from(self.view)
            .or_else(|_| View::try_from(d.view))
            .map(|v| (v.width_px(), v.height_px()))
            .unwrap_or(DEFAULT_SIZE_PX);
        resets.check("tiling", &mut self.tiling, d.tiling, |t| {
            t.validate().and_then(|t| t.check_count(view.0, view.1))
        });
        resets.check("num_workers", &mut self.num_workers, d.num_workers, |n| {
            check_workers(*n)
        });
        resets.check(
            "schedule",
            &mut self.schedule,
            d.schedule,
            Schedule::validate,
        );
    }
}

impl crate::gui::speedup::SpeedupSettings {
    /// Checks the speedup lab's saved values with the sweep's rules (the
    /// CLI's `bench sweep` rules).
    pub fn check_saved(&mut self, resets: &mut Resets) {
        let d = Self::default();
        resets.prefix = "speedup".into();
        resets.check("workers", &mut self.workers, d.workers, |w| {
            parse_list(w, whole_number::<usize>)
                .map_err(|e| e.to_string())?
                .into_iter()
                .try_for_each(|n| check_workers(n).map(drop).map_err(|e| e.to_string()))
        });
        resets.check(
            "granularities",
            &mut self.granularities,
            d.granularities,
            |g| parse_list(g, |x| Ok::<_, String>(x.to_string())),
        );
        resets.check("reps", &mut self.reps, d.reps, |r| {
            holds((1..=MAX_REPS).contains(r), || {
                format!("repetitions must be 1..={MAX_REPS}, got {r}")
            })
        });
        resets.check("warmup", &mut self.warmup, d.warmup, |w| {
            holds(*w <= MAX_WARMUP, || {
                format!("warm-up runs must be 0..={MAX_WARMUP}, got {w}")
            })
        });
        resets.check("schedule", &mut self.schedule, d.schedule, |s| {
            s.validate().map_err(|e| e.to_string())?;
            holds(s.uses_pool(), || "sweep a parallel schedule".into())
        });
    }
}

/// A panel's choices as JSON for [`AppSettings`].
pub fn panel_to_json<T: Serialize>(panel: &T) -> serde_json::Value {
    serde_json::to_value(panel).unwrap_or(serde_json::Value::Null)
}

impl Default for AppSettings {
    fn default() -> Self {
        AppSettings {
            version: SETTINGS_VERSION,
            tab: Tab::Lessons,
            explorer: ExplorerSettings::default(),
            speedup: Default::default(),
            race: panel_to_json(&crate::gui::race::RacePanel::default()),
            locks: panel_to_json(&crate::gui::locks::LocksPanel::default()),
            theory: panel_to_json(&crate::gui::theory::TheoryPanel::default()),
            python: panel_to_json(&crate::gui::python::PythonSettings::default()),
            lessons: panel_to_json(&crate::gui::lessons::LessonsSettings::default()),
            show_frame_stats: false,
        }
    }
}

/// The explorer's choices.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ExplorerSettings {
    /// Kept unvalidated so that a bad saved view can be refused with a notice.
    pub view: ViewSpec,
    pub tiling: Tiling,
    pub schedule: Schedule,
    pub num_workers: usize,
    pub kernel: Kernel,
    /// Threads, worker processes or MPI ranks.
    pub backend: crate::engine::farm::Backend,
    /// The MPI backend's hostfile (empty: this machine only).
    pub mpi_hostfile: String,
    /// More arguments for mpirun (`--allow-run-as-root`, `--mca …`).
    pub mpi_args: String,
    /// Pin worker w to core w mod cores (threads only).
    pub pin_workers: bool,
    pub palette: Palette,
    pub overlay: bool,
    /// Where quick exports go.
    pub export_folder: PathBuf,
}

/// The default image size: big enough to see tiles, quick on a laptop.
pub const DEFAULT_SIZE_PX: (u32, u32) = (1024, 768);

impl Default for ExplorerSettings {
    fn default() -> Self {
        let view = View::default_for_size(DEFAULT_SIZE_PX.0, DEFAULT_SIZE_PX.1)
            .map(|v| v.spec())
            .unwrap_or(ViewSpec {
                center_x: -0.75,
                center_y: 0.0,
                view_width: 3.5,
                width_px: DEFAULT_SIZE_PX.0,
                height_px: DEFAULT_SIZE_PX.1,
                max_iter: 500,
            });
        ExplorerSettings {
            view,
            tiling: Tiling::Square { tile_px: 32 },
            schedule: Schedule::Dynamic { chunk: 1 },
            num_workers: logical_cores(),
            kernel: Kernel::Simd,
            backend: crate::engine::farm::Backend::Threads,
            mpi_hostfile: String::new(),
            mpi_args: String::new(),
            pin_workers: false,
            palette: Palette::Classic,
            overlay: true,
            export_folder: default_export_folder(),
        }
    }
}

/// `~/parlab-exports`, or `./parlab-exports` when there is no home folder.
pub fn default_export_folder() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
        .join("parlab-exports")
}

/// Reads saved settings: `(settings, notice)`; anything unreadable gives
/// defaults and a notice saying why.
pub fn parse_settings(saved: Option<&str>) -> (AppSettings, Option<String>) {
    let Some(text) = saved else {
        return (AppSettings::default(), None);
    };
    match serde_json::from_str::<AppSettings>(text) {
        Ok(s) if s.version > SETTINGS_VERSION => (
            AppSettings::default(),
            Some(format!(
                "Saved settings are from a newer parlab (version {}): using defaults.",
                s.version
            )),
        ),
        Ok(mut s) => {
            let mut resets = Resets::default();
            s.explorer.check_saved(&mut resets);
            s.speedup.check_saved(&mut resets);
            (s, resets.notice())
        }
        Err(e) => (
            AppSettings::default(),
            Some(format!(
                "Saved settings could not be read ({e}): using defaults."
            )),
        ),
    }
}

impl CheckSaved for crate::gui::race::RacePanel {
    fn check_saved(&mut self, resets: &mut Resets) {
        use crate::engine::race::counter::MAX_DELAY_MICROS;
        use crate::engine::race::stepper::{MAX_STEPPER_THREADS, Stepper};
        let d = Self::default();
        let delay = |d: &u64| {
            holds(*d <= MAX_DELAY_MICROS, || {
                format!("delay must be 0..={MAX_DELAY_MICROS} µs, got {d}")
            })
        };
        resets.check("config", &mut self.config, d.config, |c| c.validate());
        resets.check("gap_micros", &mut self.gap_micros, d.gap_micros, delay);
        resets.check("record", &mut self.record, d.record, |r| r.validate());
        resets.check(
            "record_gap_micros",
            &mut self.record_gap_micros,
            d.record_gap_micros,
            delay,
        );
        let game = (self.game.num_threads, self.game.increments);
        let ok = Stepper::new(&vec![1; game.0.min(MAX_STEPPER_THREADS + 1)], game.1, 0);
        if let Err(e) = ok {
            resets.note("game", e);
            self.game = d.game;
        }
    }
}

impl CheckSaved for crate::gui::locks::LocksPanel {
    fn check_saved(&mut self, resets: &mut Resets) {
        use crate::engine::locks::deadlock::DeadlockConfig;
        let d = Self::default();
        resets.check("throughput", &mut self.throughput, d.throughput, |t| {
            t.validate()
        });
        resets.check("contention", &mut self.contention, d.contention, |c| {
            c.validate()
        });
        resets.check(
            "deadlock_timeout_millis",
            &mut self.deadlock_timeout_millis,
            d.deadlock_timeout_millis,
            |&t| {
                DeadlockConfig {
                    timeout_millis: t,
                    ..DeadlockConfig::default()
                }
                .validate()
            },
        );
    }
}

impl CheckSaved for crate::gui::theory::TheoryPanel {
    fn check_saved(&mut self, resets: &mut Resets) {
        use crate::engine::exec::pool::MAX_WORKERS;
        let d = Self::default();
        resets.check(
            "serial_fraction",
            &mut self.serial_fraction,
            d.serial_fraction,
            |f| {
                holds((0.0..=1.0).contains(f), || {
                    format!("must be 0..=1, got {}", crate::engine::util::num::num(*f))
                })
            },
        );
        resets.check("workers", &mut self.workers, d.workers, |&w| {
            check_workers(w as usize)
        });
        resets.check("max_workers", &mut self.max_workers, d.max_workers, |&w| {
            holds((2..=MAX_WORKERS as u32).contains(&w), || {
                format!("must be 2..={MAX_WORKERS}, got {w}")
            })
        });
        let sizes = (self.matmul_n, self.matmul_cutoff);
        if let Err(e) = crate::engine::workloads::matmul::check_sizes(sizes.0, sizes.1) {
            resets.note("matmul_n", e);
            self.matmul_n = d.matmul_n;
            self.matmul_cutoff = d.matmul_cutoff;
        }
        resets.check(
            "brent_workers",
            &mut self.brent_workers,
            d.brent_workers,
            |&w| check_workers(w),
        );
        let grid = (self.grid_tasks, self.grid_task_s, self.grid_deadline_s);
        if let Err(e) = crate::engine::theory::grid_search(grid.0, grid.1, grid.2) {
            resets.note("grid", e);
            self.grid_tasks = d.grid_tasks;
            self.grid_task_s = d.grid_task_s;
            self.grid_deadline_s = d.grid_deadline_s;
        }
    }
}

/// Longest path text kept from saved settings (longer is not a path).
const MAX_SAVED_PATH_CHARS: usize = 4096;

fn check_path_text(p: &str) -> Result<(), String> {
    holds(p.len() <= MAX_SAVED_PATH_CHARS && !p.contains('\0'), || {
        format!(
            "not a path ({} characters{})",
            p.len(),
            if p.contains('\0') { ", a NUL byte" } else { "" }
        )
    })
}

impl CheckSaved for crate::gui::python::PythonSettings {
    fn check_saved(&mut self, resets: &mut Resets) {
        use crate::gui::python::{
            MAX_SWEEP_REPS, MAX_TIMEOUT_S, Source, max_workers, parse_sweep_workers,
        };
        let d = Self::default();
        resets.check("source", &mut self.source, d.source, |s| match s {
            Source::Shipped(name) => s
                .program()
                .map(drop)
                .ok_or_else(|| format!("no shipped program called {name:?}")),
            Source::File => Ok(()),
        });
        resets.check("file_path", &mut self.file_path, d.file_path, |p| {
            check_path_text(p)
        });
        resets.check("trace_path", &mut self.trace_path, d.trace_path, |p| {
            check_path_text(p)
        });
        resets.check(
            "export_folder",
            &mut self.export_folder,
            d.export_folder,
            |p| check_path_text(&p.to_string_lossy()),
        );
        resets.check("workers", &mut self.workers, d.workers, |&w| {
            let max = max_workers();
            holds((1..=max).contains(&w), || {
                format!("must be 1..={max} (4x the logical cores), got {w}")
            })
        });
        resets.check("timeout_s", &mut self.timeout_s, d.timeout_s, |&t| {
            holds((1.0..=MAX_TIMEOUT_S).contains(&t), || {
                format!(
                    "must be 1..={MAX_TIMEOUT_S} s, got {}",
                    crate::engine::util::num::num(t)
                )
            })
        });
        resets.check(
            "sweep_workers",
            &mut self.sweep_workers,
            d.sweep_workers,
            |w| parse_sweep_workers(w),
        );
        resets.check("sweep_reps", &mut self.sweep_reps, d.sweep_reps, |&r| {
            holds((1..=MAX_SWEEP_REPS).contains(&r), || {
                format!("must be 1..={MAX_SWEEP_REPS}, got {r}")
            })
        });
    }
}

pub fn settings_json(s: &AppSettings) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let mut s = AppSettings {
            tab: Tab::System,
            ..AppSettings::default()
        };
        s.explorer.num_workers = 3;
        let (back, notice) = parse_settings(Some(&settings_json(&s)));
        assert_eq!(back, s);
        assert!(notice.is_none());
    }

    #[test]
    fn corrupt_or_invalid_settings_give_defaults_and_a_notice() {
        for bad in ["{not json", r#"{"version": 99}"#] {
            let (s, notice) = parse_settings(Some(bad));
            assert_eq!(s, AppSettings::default(), "{bad}");
            assert!(notice.is_some(), "{bad}");
        }
        // A bad field resets that field only, and the notice names it.
        let bad_view = r#"{"explorer": {"overlay": false, "view": {"center_x":0,"center_y":0,"view_width":-1,"width_px":10,"height_px":10,"max_iter":10}}}"#;
        let (s, notice) = parse_settings(Some(bad_view));
        assert_eq!(s.explorer.view, ExplorerSettings::default().view);
        assert!(!s.explorer.overlay, "the other fields are kept");
        let notice = notice.expect("a notice");
        assert!(notice.contains("explorer.view"), "{notice}");
    }

    #[test]
    fn missing_fields_take_defaults() {
        let (s, notice) = parse_settings(Some(r#"{"version": 1, "explorer": {"overlay": false}}"#));
        assert!(notice.is_none());
        assert!(!s.explorer.overlay);
        assert_eq!(s.explorer.tiling, ExplorerSettings::default().tiling);
    }
}
