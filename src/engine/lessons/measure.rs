//! A lesson's measurement: the spec read from its file ([`Measure`]) mapped
//! onto the engine entry points the panels and subcommands use (a render and
//! its trace stats, the speedup sweep and its Amdahl fit, the Python
//! threads-vs-processes sweep, the race counter, the lock throughput sweep,
//! the work/span matmul, the grid-search plan), and what it measured as
//! named [`Figure`]s with their spread, other processes' CPU and plots.
//! The window (in the background) and `parlab lesson run` both call [`run`].
//!
//! Figure ids, per kind (`L` a variant or preset label, `P` a worker or
//! thread count, `G` a granularity as printed, e.g. `16px`):
//! - `render`: `time_L` (ms), `imbalance_L` (busiest worker / mean),
//!   `workers_used_L` (workers that ran at least one tile).
//! - `sweep`: `time_G_P` (ms), `speedup_P` and `speedup_max` (first
//!   granularity), `best_granularity` (fastest at the largest P),
//!   `serial_fraction` (Amdahl fit), `amdahl_64` (predicted), and with a
//!   compared workload `compare_speedup_P`, `compare_speedup_max`.
//! - `python`: `time_threads_P`, `time_processes_P`, `speedup_threads_P`,
//!   `speedup_processes_P` (ms / ×).
//! - `race`: `final_L`, `lost_L`, `wall_L` (ms) per preset.
//! - `locks`: `mops_K_P` (million operations per second) per lock kind.
//! - `workspan`: `work_ms`, `span_ms`, `parallelism`, `tp_ms`,
//!   `brent_upper_ms`, `speedup`.
//! - `gridsearch`: `min_workers`, `rounds` (calculated), `makespan_P`
//!   (measured, ms) at the calculated P and one fewer, `deadline_ms`.

use super::LessonError;
use super::lesson::Problem;
use crate::engine::exec::other_cpu::{OtherCpu, OtherCpuMeter};
use crate::engine::exec::pool::{build_pool, logical_cores, physical_cores};
use crate::engine::exec::schedule::Schedule;
use crate::engine::mandelbrot::kernel::Kernel;
use crate::engine::mandelbrot::render::{RenderSettings, render};
use crate::engine::mandelbrot::tiling::Tiling;
use crate::engine::mandelbrot::view::View;
use crate::engine::speedup::charts::data::{
    granularity_chart, overlay_speedup_charts, predicted_chart, speedup_chart,
};
use crate::engine::speedup::charts::draw::{Chart, png_bytes};
use crate::engine::speedup::plan::{PlanInput, sweep_plan};
use crate::engine::speedup::results::SweepResults;
use crate::engine::speedup::sweep::{SweepEvent, SweepJob, SweepPlan};
use crate::engine::util::stats::median;
use crate::engine::workloads::{Workload, by_spec};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// The size of a lesson's plots in pixels.
pub const LESSON_PLOT_SIZE: (u32, u32) = (900, 560);

/// What a lesson measures (the `[measure]` table of its file; `kind` picks one).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Measure {
    /// Renders of one Mandelbrot view, one per variant, `reps` times each.
    Render {
        center: [f64; 2],
        view_width: f64,
        max_iter: u32,
        /// Image width and height in pixels.
        size: [u32; 2],
        reps: u32,
        variants: Vec<RenderVariant>,
    },
    /// A speedup sweep (the speedup lab's), optionally with a second workload.
    Sweep {
        /// `mandelbrot` or a course workload spec (`primes:count=320`).
        workload: String,
        #[serde(default)]
        compare_workload: Option<String>,
        /// Worker counts: numbers, `cores` or `K*cores`, comma-separated.
        workers: String,
        /// Granularities in the workload's syntax; default: its own.
        #[serde(default)]
        granularities: Option<String>,
        #[serde(default)]
        compare_granularities: Option<String>,
        #[serde(default = "default_schedule")]
        schedule: String,
        reps: u32,
        #[serde(default = "one")]
        warmup: u32,
        /// Mandelbrot's image size (its view is the whole set).
        #[serde(default = "default_sweep_size")]
        size: [u32; 2],
        /// Fit Amdahl's serial fraction and predict 64 workers (`serial_fraction`, `amdahl_64`).
        #[serde(default)]
        amdahl: bool,
    },
    /// A shipped Python program swept over worker counts as threads and as processes.
    Python {
        program: String,
        items: usize,
        digits: u32,
        workers: String,
        reps: u32,
    },
    /// The race counter's presets (the course's thread2/thread4/value2/value3).
    Race {
        presets: Vec<String>,
        repeats: usize,
    },
    /// Lock throughput: kinds at thread counts.
    Locks {
        kinds: Vec<String>,
        threads: String,
        ops: u64,
        repeats: usize,
    },
    /// Divide-and-conquer matmul: work, span and the Brent bound.
    Workspan {
        n: usize,
        cutoff: usize,
        workers: String,
        repeats: usize,
    },
    /// The grid-search plan, checked by running `tasks` waits of `task_ms`
    /// on the calculated number of workers and on one fewer.
    Gridsearch {
        tasks: u64,
        task_ms: u64,
        deadline_ms: u64,
        reps: u32,
    },
}

fn default_schedule() -> String {
    "dynamic".into()
}
fn one() -> u32 {
    1
}
fn default_sweep_size() -> [u32; 2] {
    [320, 240]
}

/// One render of a `render` measurement.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenderVariant {
    /// Names its figures (`time_LABEL`): letters, digits, `-`.
    pub label: String,
    /// A number, `cores` or `K*cores`.
    pub workers: String,
    pub schedule: String,
    /// `64`, `64px`, `bands` or `bands4`.
    pub tile: String,
}

/// The race presets by the names lesson files use.
pub const RACE_PRESETS: [(&str, crate::engine::race::presets::Preset); 5] = {
    use crate::engine::race::presets::Preset;
    [
        ("thread2", Preset::Thread2),
        ("thread2-serialised", Preset::Thread2Serialised),
        ("thread4", Preset::Thread4),
        ("value2", Preset::Value2),
        ("value3", Preset::Value3),
    ]
};

/// A race preset by its lesson-file name.
pub fn race_preset(name: &str) -> Option<crate::engine::race::presets::Preset> {
    RACE_PRESETS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, p)| *p)
}

/// A worker count: `N`, `cores` or `K*cores` (this machine's logical cores).
pub fn worker_count(s: &str, cores: usize) -> Result<usize, String> {
    let s = s.trim();
    let n = if s == "cores" {
        cores
    } else if let Some(k) = s.strip_suffix("*cores") {
        k.trim()
            .parse::<usize>()
            .map_err(|_| format!("{s:?}: expected N, cores or K*cores"))?
            * cores
    } else {
        s.parse::<usize>()
            .map_err(|_| format!("{s:?}: expected N, cores or K*cores"))?
    };
    crate::engine::exec::pool::check_workers(n).map_err(|e| format!("{s:?}: {e}"))?;
    Ok(n)
}

/// A comma-separated list of worker counts, sorted, without repeats.
pub fn worker_counts(s: &str, cores: usize) -> Result<Vec<usize>, String> {
    let mut v = s
        .split(',')
        .map(|w| worker_count(w, cores))
        .collect::<Result<Vec<_>, _>>()?;
    v.sort_unstable();
    v.dedup();
    Ok(v)
}

fn kernel() -> Kernel {
    "simd".parse().unwrap_or_default()
}

impl Measure {
    /// The measurement's name (its `kind`).
    pub fn kind(&self) -> &'static str {
        match self {
            Measure::Render { .. } => "render",
            Measure::Sweep { .. } => "sweep",
            Measure::Python { .. } => "python",
            Measure::Race { .. } => "race",
            Measure::Locks { .. } => "locks",
            Measure::Workspan { .. } => "workspan",
            Measure::Gridsearch { .. } => "gridsearch",
        }
    }

    /// Checks every value with the engine's own rules before anything runs.
    pub fn check(&self) -> Result<(), Problem> {
        let cores = logical_cores();
        match self {
            Measure::Render {
                center,
                view_width,
                max_iter,
                size,
                reps,
                variants,
            } => {
                View::new(
                    (center[0], center[1]),
                    *view_width,
                    size[0],
                    size[1],
                    *max_iter,
                )
                .map_err(|e| Problem::at("center", e.to_string()))?;
                check_reps(*reps as usize, "reps")?;
                if variants.is_empty() {
                    return Err(Problem::at("variants", "give at least one variant"));
                }
                for v in variants {
                    if v.label.is_empty()
                        || !v
                            .label
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '-')
                    {
                        return Err(Problem::at(
                            "label",
                            format!("variant label {:?}: letters, digits and - only", v.label),
                        ));
                    }
                    worker_count(&v.workers, cores).map_err(|e| Problem::at("workers", e))?;
                    v.schedule
                        .parse::<Schedule>()
                        .map_err(|e| Problem::at("schedule", e.to_string()))?;
                    let t: Tiling = v.tile.parse().map_err(
                        |e: crate::engine::mandelbrot::tiling::TilingError| {
                            Problem::at("tile", e.to_string())
                        },
                    )?;
                    t.check_count(size[0], size[1])
                        .map_err(|e| Problem::at("tile", e.to_string()))?;
                }
                Ok(())
            }
            Measure::Sweep { .. } => self.sweep_plans().map(|_| ()),
            Measure::Python {
                program,
                items,
                digits,
                workers,
                reps,
            } => {
                let p = crate::engine::python::programs::find(program).ok_or_else(|| {
                    Problem::at("program", format!("no shipped program {program:?}"))
                })?;
                if !(p.knobs.workers && p.knobs.mode) {
                    return Err(Problem::at(
                        "program",
                        format!("{program} takes no --workers/--mode: nothing to sweep"),
                    ));
                }
                if *items == 0 || *digits == 0 {
                    return Err(Problem::at("items", "items and digits must be 1 or more"));
                }
                worker_counts(workers, cores).map_err(|e| Problem::at("workers", e))?;
                check_reps(*reps as usize, "reps")
            }
            Measure::Race { presets, repeats } => {
                if presets.is_empty() {
                    return Err(Problem::at("presets", "give at least one preset"));
                }
                for p in presets {
                    race_preset(p).ok_or_else(|| {
                        let names: Vec<_> = RACE_PRESETS.iter().map(|(n, _)| *n).collect();
                        Problem::at(
                            "presets",
                            format!("preset {p:?}: expected one of {}", names.join(", ")),
                        )
                    })?;
                }
                check_reps(*repeats, "repeats")
            }
            Measure::Locks {
                kinds,
                threads,
                ops,
                repeats,
            } => self
                .locks_config(kinds, threads, *ops, *repeats)
                .map(|_| ()),
            Measure::Workspan {
                n,
                cutoff,
                workers,
                repeats,
            } => {
                crate::engine::workloads::matmul::check_sizes(*n, *cutoff)
                    .map_err(|e| Problem::at("n", e.to_string()))?;
                worker_count(workers, cores).map_err(|e| Problem::at("workers", e))?;
                check_reps(*repeats, "repeats")
            }
            Measure::Gridsearch {
                tasks,
                task_ms,
                deadline_ms,
                reps,
            } => {
                let plan = crate::engine::theory::grid_search(
                    *tasks,
                    *task_ms as f64,
                    *deadline_ms as f64,
                )
                .map_err(|e| Problem::at("deadline_ms", e.to_string()))?;
                if plan.min_workers < 2 || plan.min_workers as usize > 64 {
                    return Err(Problem::at(
                        "tasks",
                        format!(
                            "the plan needs {} workers: choose tasks and times that need 2..=64",
                            plan.min_workers
                        ),
                    ));
                }
                check_reps(*reps as usize, "reps")
            }
        }
    }

    fn locks_config(
        &self,
        kinds: &[String],
        threads: &str,
        ops: u64,
        repeats: usize,
    ) -> Result<crate::engine::locks::throughput::ThroughputConfig, Problem> {
        use crate::engine::locks::throughput::{LockKind, ThroughputConfig};
        let kinds = kinds
            .iter()
            .map(|k| {
                k.parse::<LockKind>()
                    .map_err(|e| Problem::at("kinds", format!("{k:?}: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let config = ThroughputConfig {
            thread_counts: worker_counts(threads, logical_cores())
                .map_err(|e| Problem::at("threads", e))?,
            ops,
            kinds,
            repeats,
        };
        config
            .validate()
            .map_err(|e| Problem::at("ops", e.to_string()))?;
        Ok(config)
    }

    /// A sweep measurement's workloads and plans (the compared one second).
    #[allow(clippy::type_complexity)]
    fn sweep_plans(&self) -> Result<Vec<(Arc<dyn Workload>, SweepPlan)>, Problem> {
        let Measure::Sweep {
            workload,
            compare_workload,
            workers,
            granularities,
            compare_granularities,
            schedule,
            reps,
            warmup,
            size,
            ..
        } = self
        else {
            return Ok(Vec::new());
        };
        let view = View::default_for_size(size[0], size[1])
            .map_err(|e| Problem::at("size", e.to_string()))?;
        let schedule: Schedule =
            schedule
                .parse()
                .map_err(|e: crate::engine::exec::ScheduleError| {
                    Problem::at("schedule", e.to_string())
                })?;
        let counts =
            worker_counts(workers, logical_cores()).map_err(|e| Problem::at("workers", e))?;
        let counts: Vec<String> = counts.iter().map(ToString::to_string).collect();
        let counts = counts.join(",");
        let mut out = Vec::new();
        for (spec, grans, key) in [
            (Some(workload), granularities, "workload"),
            (
                compare_workload.as_ref(),
                compare_granularities,
                "compare_workload",
            ),
        ] {
            let Some(spec) = spec else { continue };
            let w = by_spec(spec, view, kernel(), false)
                .map_err(|e| Problem::at(key, format!("{spec:?}: {e}")))?;
            let input = PlanInput {
                workers: Some(&counts),
                granularities: grans.as_deref(),
                schedule,
                reps: *reps,
                warmup: *warmup,
                shuffle_seed: 0x1e55_0000 + out.len() as u64,
                placement: Default::default(),
            };
            let mut plan =
                sweep_plan(&input, &*w).map_err(|e| Problem::at("granularities", e.to_string()))?;
            // The lesson compares worker counts; the sequential schedule is the speedup lab's.
            plan.include_sequential = false;
            out.push((w, plan));
        }
        Ok(out)
    }
}

fn check_reps(n: usize, key: &'static str) -> Result<(), Problem> {
    if (1..=50).contains(&n) {
        Ok(())
    } else {
        Err(Problem::at(key, format!("{key} must be 1..=50, got {n}")))
    }
}

/// One measured (or, where `spread` says so, calculated) figure.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Figure {
    pub id: String,
    /// Words for a person.
    pub label: String,
    pub unit: String,
    pub median: f64,
    /// The spread's ends (equal to the median for a calculated figure).
    pub low: f64,
    pub high: f64,
    /// Measurements behind it (0: calculated, not measured).
    pub n: usize,
    /// What `low..high` is: `min..max`, `95% CI`, `calculated`.
    pub spread: String,
    /// A figure that names something (the best granularity) rather than a number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

impl Figure {
    fn measured(id: &str, label: &str, unit: &str, values: &[f64]) -> Figure {
        let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
        v.sort_by(f64::total_cmp);
        Figure {
            id: id.into(),
            label: label.into(),
            unit: unit.into(),
            median: median(&v),
            low: v.first().copied().unwrap_or(f64::NAN),
            high: v.last().copied().unwrap_or(f64::NAN),
            n: v.len(),
            spread: "min..max".into(),
            text: None,
        }
    }

    fn calculated(id: &str, label: &str, unit: &str, value: f64) -> Figure {
        Figure {
            id: id.into(),
            label: label.into(),
            unit: unit.into(),
            median: value,
            low: value,
            high: value,
            n: 0,
            spread: "calculated".into(),
            text: None,
        }
    }

    /// The figure as text: `12.3 ms (min..max 11.9..13.0, n=5)`.
    pub fn show(&self) -> String {
        if let Some(t) = &self.text {
            return t.clone();
        }
        let unit = if self.unit.is_empty() {
            String::new()
        } else {
            format!(" {}", self.unit)
        };
        if self.n == 0 {
            return format!("{}{unit} ({})", num(self.median), self.spread);
        }
        format!(
            "{}{unit} ({} {}..{}, n={})",
            num(self.median),
            self.spread,
            num(self.low),
            num(self.high),
            self.n
        )
    }
}

/// A number with about three significant digits.
pub fn num(v: f64) -> String {
    if !v.is_finite() {
        return "-".into();
    }
    let a = v.abs();
    if a >= 100.0 || v == v.trunc() && a < 1e6 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

/// A plot of a lesson's result.
#[derive(Clone, Debug, PartialEq)]
pub struct Plot {
    pub title: String,
    pub png: Vec<u8>,
}

/// What a lesson's measurement found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LessonResult {
    pub lesson: u32,
    pub kind: String,
    pub figures: Vec<Figure>,
    /// Other processes' CPU over the timed parts (`None` where not readable).
    pub other_cpu: Option<OtherCpu>,
    /// Facts the figures rest on, in words (how measured, checks that held).
    pub notes: Vec<String>,
    #[serde(skip)]
    pub plots: Vec<Plot>,
    /// The whole measurement's wall time, seconds.
    pub elapsed_s: f64,
    /// Other names of figures (`speedup_max` for the largest worker count's).
    #[serde(default)]
    pub aliases: Vec<(String, String)>,
    /// This machine's logical cores: a figure id may say `cores` for it
    /// (`speedup_cores`, `time_threads_cores`), so one lesson file fits every machine.
    pub logical_cores: usize,
}

impl LessonResult {
    /// The figure `id`, or the ratio `a/b` of two (its spread from theirs: lowest a / highest b .. highest a / lowest b).
    pub fn figure(&self, id: &str) -> Option<Figure> {
        if let Some((a, b)) = id.split_once('/') {
            let (a, b) = (self.figure(a.trim())?, self.figure(b.trim())?);
            if a.text.is_some() || b.text.is_some() || b.median == 0.0 {
                return None;
            }
            return Some(Figure {
                id: id.into(),
                label: format!("{} / {}", a.label, b.label),
                unit: "×".into(),
                median: a.median / b.median,
                low: a.low / b.high,
                high: a.high / b.low,
                n: a.n.min(b.n),
                spread: "range from both spreads".into(),
                text: None,
            });
        }
        let id = self
            .aliases
            .iter()
            .find(|(alias, _)| alias == id)
            .map_or(id, |(_, real)| real.as_str());
        self.figures
            .iter()
            .find(|f| f.id == id)
            .or_else(|| {
                let on_this = id.replace("cores", &self.logical_cores.to_string());
                self.figures.iter().find(|f| f.id == on_this)
            })
            .cloned()
    }

    /// Whether other processes took enough CPU to spoil the figures.
    pub fn machine_busy(&self) -> bool {
        self.other_cpu.is_some_and(|o| o.is_busy())
    }

    /// The busy-machine verdict in words.
    pub fn busy_verdict(&self) -> String {
        match &self.other_cpu {
            Some(o) => o.describe(),
            None => "other processes' CPU could not be read here: no busy-machine verdict".into(),
        }
    }

    /// For `parlab lesson run N --json`.
    pub fn to_json(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        if let Some(o) = v.as_object_mut() {
            o.insert(
                "other_cpu".into(),
                self.other_cpu
                    .map_or(serde_json::Value::Null, |c| c.to_json()),
            );
            o.insert("machine_busy".into(), self.machine_busy().into());
            o.insert("busy_verdict".into(), self.busy_verdict().into());
            o.insert(
                "plots".into(),
                self.plots.iter().map(|p| p.title.clone()).collect(),
            );
        }
        v
    }
}

/// Runs a lesson's measurement to its end (blocks: call it on a background
/// thread); `cancel` stops it early with [`LessonError::Cancelled`].
pub fn run(
    lesson: u32,
    m: &Measure,
    cancel: &Arc<AtomicBool>,
) -> Result<LessonResult, LessonError> {
    m.check().map_err(|p| LessonError::Measure {
        lesson,
        message: p.text,
    })?;
    let started = std::time::Instant::now();
    let mut out = LessonResult {
        lesson,
        kind: m.kind().into(),
        figures: Vec::new(),
        other_cpu: None,
        notes: Vec::new(),
        plots: Vec::new(),
        elapsed_s: 0.0,
        aliases: Vec::new(),
        logical_cores: logical_cores(),
    };
    match m {
        Measure::Render {
            center,
            view_width,
            max_iter,
            size,
            reps,
            variants,
        } => {
            let view = View::new(
                (center[0], center[1]),
                *view_width,
                size[0],
                size[1],
                *max_iter,
            )
            .map_err(|e| fail(lesson, e))?;
            measure_render(&mut out, view, *reps, variants, cancel)?;
        }
        Measure::Sweep { amdahl, .. } => {
            let plans = m.sweep_plans().map_err(|p| LessonError::Measure {
                lesson,
                message: p.text,
            })?;
            measure_sweep(&mut out, plans, *amdahl, cancel)?;
        }
        Measure::Python {
            program,
            items,
            digits,
            workers,
            reps,
        } => measure_python(&mut out, program, *items, *digits, workers, *reps, cancel)?,
        Measure::Race { presets, repeats } => measure_race(&mut out, presets, *repeats, cancel)?,
        Measure::Locks {
            kinds,
            threads,
            ops,
            repeats,
        } => {
            let config = m
                .locks_config(kinds, threads, *ops, *repeats)
                .map_err(|p| LessonError::Measure {
                    lesson,
                    message: p.text,
                })?;
            measure_locks(&mut out, &config, cancel)?;
        }
        Measure::Workspan {
            n,
            cutoff,
            workers,
            repeats,
        } => measure_workspan(&mut out, *n, *cutoff, workers, *repeats, cancel)?,
        Measure::Gridsearch {
            tasks,
            task_ms,
            deadline_ms,
            reps,
        } => measure_gridsearch(&mut out, *tasks, *task_ms, *deadline_ms, *reps, cancel)?,
    }
    if cancel.load(Ordering::Relaxed) {
        return Err(LessonError::Cancelled { lesson });
    }
    out.elapsed_s = started.elapsed().as_secs_f64();
    Ok(out)
}

fn fail(lesson: u32, e: impl std::fmt::Display) -> LessonError {
    LessonError::Failed {
        lesson,
        message: e.to_string(),
    }
}

fn add_window(total: &mut Option<OtherCpu>, w: Option<OtherCpu>) {
    if let Some(w) = w {
        total.get_or_insert_with(OtherCpu::default).add(&w);
    }
}

fn measure_render(
    out: &mut LessonResult,
    view: View,
    reps: u32,
    variants: &[RenderVariant],
    cancel: &AtomicBool,
) -> Result<(), LessonError> {
    let lesson = out.lesson;
    let cores = logical_cores();
    let mut bars = Vec::new();
    for v in variants {
        let num_workers = worker_count(&v.workers, cores).map_err(|e| fail(lesson, e))?;
        let schedule: Schedule = v.schedule.parse().map_err(|e| fail(lesson, e))?;
        let tiling: Tiling = v.tile.parse().map_err(|e| fail(lesson, e))?;
        let settings = RenderSettings {
            view,
            tiling,
            schedule,
            num_workers,
            kernel: kernel(),
            placement: Default::default(),
        };
        // The pool is built before timing, as the explorer and `parlab render` do.
        let pool = build_pool(num_workers).map_err(|e| fail(lesson, e))?;
        // One untimed warm-up render.
        render(&settings, Some(&pool)).map_err(|e| fail(lesson, e))?;
        let (mut times, mut imbalance, mut used) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..reps {
            if cancel.load(Ordering::Relaxed) {
                return Ok(());
            }
            let meter = OtherCpuMeter::start();
            let r = render(&settings, Some(&pool)).map_err(|e| fail(lesson, e))?;
            add_window(&mut out.other_cpu, meter.stop());
            let stats = r.trace.stats();
            times.push(stats.wall_nanos as f64 / 1e6);
            imbalance.push(stats.imbalance);
            used.push(stats.workers.iter().filter(|w| w.tasks > 0).count() as f64);
        }
        let l = &v.label;
        let what = format!("{num_workers} workers, {schedule}, {tiling}");
        let time = Figure::measured(
            &format!("time_{l}"),
            &format!("render time, {what}"),
            "ms",
            &times,
        );
        bars.push((format!("{l}: {what}"), time.clone()));
        out.figures.push(time);
        out.figures.push(Figure::measured(
            &format!("imbalance_{l}"),
            &format!("busiest worker / mean busy, {what}"),
            "×",
            &imbalance,
        ));
        out.figures.push(Figure::measured(
            &format!("workers_used_{l}"),
            &format!("workers that ran a tile, {what}"),
            "",
            &used,
        ));
    }
    out.notes.push(format!(
        "{}x{} px, {} iterations; {reps} timed renders per variant after one untimed; time = first tile start to last tile end; {cores} logical cores",
        view.width_px(),
        view.height_px(),
        view.max_iter()
    ));
    push_bars(out, "Render time per variant (median, min..max)", &bars);
    Ok(())
}

fn push_bars(out: &mut LessonResult, title: &str, bars: &[(String, Figure)]) {
    match super::plot::bars_png(title, bars, LESSON_PLOT_SIZE) {
        Ok(png) => out.plots.push(Plot {
            title: title.into(),
            png,
        }),
        Err(e) => out.notes.push(format!("plot not drawn: {e}")),
    }
}

/// Runs one sweep to its end on this thread; `None` results when cancelled.
pub fn sweep_blocking(
    workload: &Arc<dyn Workload>,
    plan: SweepPlan,
    cancel: &AtomicBool,
) -> Result<SweepResults, crate::engine::speedup::SweepError> {
    let mut results =
        SweepResults::new(plan.clone(), &**workload, logical_cores(), physical_cores());
    let job = SweepJob::start(workload.clone(), plan, None)?;
    while let Some(event) = job.next_blocking() {
        if cancel.load(Ordering::Relaxed) {
            job.cancel();
        }
        match event {
            SweepEvent::Prepared | SweepEvent::WarmedUp => {}
            SweepEvent::Measured(m) => results.add(m),
            SweepEvent::Finished(end) => {
                if let Some(e) = end.error {
                    return Err(e);
                }
                break;
            }
        }
    }
    results.keep_only_median_traces();
    Ok(results)
}

fn speedup_figure(
    id: &str,
    label: &str,
    row: &crate::engine::speedup::results::ResultRow,
) -> Option<Figure> {
    let s = row.speedup?;
    let (low, high, spread) = match row.speedup_ci95 {
        Some([lo, hi]) => (lo, hi, "95% CI"),
        None => (s, s, "no interval"),
    };
    Some(Figure {
        id: id.into(),
        label: label.into(),
        unit: "×".into(),
        median: s,
        low,
        high,
        n: row.n,
        spread: spread.into(),
        text: None,
    })
}

fn measure_sweep(
    out: &mut LessonResult,
    plans: Vec<(Arc<dyn Workload>, SweepPlan)>,
    amdahl: bool,
    cancel: &AtomicBool,
) -> Result<(), LessonError> {
    let lesson = out.lesson;
    let mut charts = Vec::new();
    let mut main: Option<SweepResults> = None;
    for (i, (w, plan)) in plans.iter().enumerate() {
        let results = sweep_blocking(w, plan.clone(), cancel).map_err(|e| fail(lesson, e))?;
        if cancel.load(Ordering::Relaxed) {
            return Ok(());
        }
        if results.other_cpu.windows > 0 {
            add_window(&mut out.other_cpu, Some(results.other_cpu));
        }
        let prefix = if i == 0 { "" } else { "compare_" };
        let table = results.row_table();
        let grans = results.granularities();
        let first = grans.first().map(ToString::to_string).unwrap_or_default();
        let max_workers = plan.worker_counts().last().copied().unwrap_or(1);
        let mut best: Option<(String, f64, f64)> = None;
        for (_, row) in results.rows() {
            let g = row.granularity.replace(' ', "");
            let times_ms: Vec<f64> = row.times_s.iter().map(|t| t * 1e3).collect();
            if i == 0 {
                out.figures.push(Figure::measured(
                    &format!("time_{g}_{}", row.workers),
                    &format!(
                        "{} at {}, {} workers",
                        w.name(),
                        row.granularity,
                        row.workers
                    ),
                    "ms",
                    &times_ms,
                ));
            }
            if row.workers == max_workers && best.as_ref().is_none_or(|b| row.median_s < b.1) {
                best = Some((row.granularity.clone(), row.median_s, row.q3_s));
            }
            if row.granularity == first && row.workers > 1 {
                let label = format!(
                    "{} speedup on {} workers ({})",
                    w.name(),
                    row.workers,
                    row.granularity
                );
                if let Some(f) =
                    speedup_figure(&format!("{prefix}speedup_{}", row.workers), &label, &row)
                {
                    out.figures.push(f);
                }
                if row.workers == max_workers {
                    out.aliases.push((
                        format!("{prefix}speedup_max"),
                        format!("{prefix}speedup_{}", row.workers),
                    ));
                }
            }
        }
        if i == 0 {
            if let Some((g, med, _)) = best.as_ref().filter(|_| grans.len() > 1) {
                // Near ties: granularities whose median is within the best one's IQR.
                let near: Vec<String> = results
                    .rows()
                    .into_iter()
                    .filter(|(_, r)| {
                        r.workers == max_workers
                            && r.granularity != *g
                            && r.q1_s <= best.as_ref().map_or(0.0, |b| b.2)
                    })
                    .map(|(_, r)| r.granularity)
                    .collect();
                let mut f = Figure::calculated(
                    "best_granularity",
                    &format!("fastest granularity on {max_workers} workers"),
                    "",
                    med * 1e3,
                );
                f.spread = "fastest median".into();
                f.n = plan.reps as usize;
                f.text = Some(if near.is_empty() {
                    g.clone()
                } else {
                    format!("{g} (within its spread: {})", near.join(", "))
                });
                f.id = "best_granularity".into();
                out.figures.push(Figure {
                    label: format!("fastest granularity on {max_workers} workers: {g}"),
                    ..f
                });
                out.notes.push(format!("best_granularity={g}"));
            }
            if let Some(fit) = results
                .fits_from(&table)
                .into_iter()
                .find(|f| amdahl && f.granularity == first)
            {
                let sf = fit.serial_fraction;
                out.figures.push(Figure::calculated(
                    "serial_fraction",
                    "Amdahl serial fraction f, fitted to the measured speedups",
                    "",
                    sf,
                ));
                out.figures.push(Figure::calculated(
                    "amdahl_64",
                    "speedup on 64 workers predicted by Amdahl's law with the fitted f (predicted, not measured)",
                    "×",
                    crate::engine::theory::amdahl_speedup(sf, 64.0),
                ));
                out.notes.push(fit.describe());
            }
            if grans.len() > 1 {
                let g = granularity_chart(&results, &table);
                push_chart(out, "Time vs granularity", Chart::Granularity(&g));
            }
            if amdahl
                && results
                    .fits_from(&table)
                    .iter()
                    .any(|f| f.granularity == first)
            {
                let p = predicted_chart(&results, &table);
                push_chart(
                    out,
                    "Predicted beyond this machine (Amdahl, labelled predicted)",
                    Chart::Speedup(&p),
                );
            }
        }
        charts.push((w.name().to_string(), speedup_chart(&results, &table)));
        if i == 0 {
            main = Some(results);
        }
    }
    let chart = if charts.len() == 1 {
        charts.pop().map(|(_, c)| c)
    } else {
        overlay_speedup_charts(&charts)
    };
    if let Some(c) = chart {
        push_chart(out, "Speedup vs workers", Chart::Speedup(&c));
    }
    if let Some(r) = main {
        out.notes.push(format!(
            "speedup = median T1 / median TP on the same code with a 1-worker pool; {} timed runs per configuration, interleaved, after {} warm-up",
            r.plan.reps, r.plan.warmup
        ));
    }
    Ok(())
}

fn push_chart(out: &mut LessonResult, title: &str, chart: Chart<'_>) {
    match png_bytes(chart, LESSON_PLOT_SIZE) {
        Ok(png) => out.plots.push(Plot {
            title: title.into(),
            png,
        }),
        Err(e) => out.notes.push(format!("plot not drawn: {e}")),
    }
}

#[allow(clippy::too_many_arguments)]
fn measure_python(
    out: &mut LessonResult,
    program: &str,
    items: usize,
    digits: u32,
    workers: &str,
    reps: u32,
    cancel: &Arc<AtomicBool>,
) -> Result<(), LessonError> {
    use crate::engine::python::runner::{RunPlan, Script};
    use crate::engine::python::sweep::{cpu_per_wall, sweep_modes};
    let lesson = out.lesson;
    let p = crate::engine::python::programs::find(program)
        .ok_or_else(|| fail(lesson, format!("no shipped program {program:?}")))?;
    let counts = worker_counts(workers, logical_cores()).map_err(|e| fail(lesson, e))?;
    let mut plan = RunPlan::new(Script::Shipped(p));
    plan.args = vec![
        "--items".into(),
        items.to_string(),
        "--digits".into(),
        digits.to_string(),
    ];
    let sweeps =
        sweep_modes(&plan, items, &counts, reps, cancel, &mut |_, _, _| {}).map_err(|e| {
            LessonError::Python {
                lesson,
                message: e.to_string(),
            }
        })?;
    let mut charts = Vec::new();
    for s in &sweeps {
        add_window(
            &mut out.other_cpu,
            Some(s.results.other_cpu).filter(|o| o.windows > 0),
        );
        for (config, row) in s.results.rows() {
            let times_ms: Vec<f64> = row.times_s.iter().map(|t| t * 1e3).collect();
            out.figures.push(Figure::measured(
                &format!("time_{}_{}", s.mode, row.workers),
                &format!(
                    "{program} as {} on {} workers (whole interpreter run)",
                    s.mode, row.workers
                ),
                "ms",
                &times_ms,
            ));
            if row.workers > 1
                && let Some(f) = speedup_figure(
                    &format!("speedup_{}_{}", s.mode, row.workers),
                    &format!("{} speedup on {} workers", s.mode, row.workers),
                    &row,
                )
            {
                out.figures.push(f);
            }
            if let Some(c) = s.results.median_trace(config).and_then(cpu_per_wall) {
                let why = if s.mode == "threads" {
                    "N threads share one GIL: about 1/N when it is the limit"
                } else {
                    "each process has its own GIL"
                };
                out.notes.push(format!(
                    "{} on {} workers: CPU/wall per task {c:.2} ({why})",
                    s.mode, row.workers
                ));
            }
        }
        charts.push((
            s.mode.to_string(),
            speedup_chart(&s.results, &s.results.row_table()),
        ));
    }
    if let Some(c) = overlay_speedup_charts(&charts) {
        push_chart(
            out,
            "Python speedup: threads vs processes",
            Chart::Speedup(&c),
        );
    }
    out.notes.push(format!(
        "{program} --items {items} --digits {digits}; time = the whole interpreter run, python3 start to exit; {reps} timed runs per configuration"
    ));
    Ok(())
}

fn measure_race(
    out: &mut LessonResult,
    presets: &[String],
    repeats: usize,
    cancel: &AtomicBool,
) -> Result<(), LessonError> {
    use crate::engine::race::counter::run_repeated;
    let lesson = out.lesson;
    let mut bars = Vec::new();
    for name in presets {
        let preset =
            race_preset(name).ok_or_else(|| fail(lesson, format!("no preset {name:?}")))?;
        let config = preset.config();
        let meter = OtherCpuMeter::start();
        let runs =
            run_repeated(&config, repeats, cancel, |_, _| {}).map_err(|e| fail(lesson, e))?;
        add_window(&mut out.other_cpu, meter.stop());
        let finals: Vec<f64> = runs.iter().map(|r| r.actual as f64).collect();
        let lost: Vec<f64> = runs.iter().map(|r| r.lost as f64).collect();
        let wall: Vec<f64> = runs.iter().map(|r| r.wall_nanos as f64 / 1e6).collect();
        let f = Figure::measured(
            &format!("final_{name}"),
            &format!(
                "{}: final counter value (expected {})",
                preset.name(),
                config.expected()
            ),
            "",
            &finals,
        );
        bars.push((
            format!(
                "{}: final value (expected {})",
                preset.name(),
                config.expected()
            ),
            f.clone(),
        ));
        out.figures.push(f);
        out.figures.push(Figure::measured(
            &format!("lost_{name}"),
            &format!("{}: lost updates", preset.name()),
            "",
            &lost,
        ));
        out.figures.push(Figure::measured(
            &format!("wall_{name}"),
            &format!("{}: wall time", preset.name()),
            "ms",
            &wall,
        ));
        out.notes
            .push(format!("{}: {}", preset.name(), preset.description()));
    }
    push_bars(
        out,
        "Final counter value per program (median, min..max)",
        &bars,
    );
    Ok(())
}

fn measure_locks(
    out: &mut LessonResult,
    config: &crate::engine::locks::throughput::ThroughputConfig,
    cancel: &AtomicBool,
) -> Result<(), LessonError> {
    use crate::engine::locks::plot::throughput_plot_bytes;
    use crate::engine::locks::throughput::run_throughput;
    use crate::engine::speedup::charts::draw::PlotFormat;
    let lesson = out.lesson;
    let meter = OtherCpuMeter::start();
    let points = run_throughput(config, cancel, |_| {}).map_err(|e| fail(lesson, e))?;
    add_window(&mut out.other_cpu, meter.stop());
    let mut all_right = true;
    for p in &points {
        let mops: Vec<f64> = p.samples_ops_per_sec.iter().map(|v| v / 1e6).collect();
        out.figures.push(Figure::measured(
            &format!("mops_{}_{}", p.kind.name(), p.num_threads),
            &format!("{} on {} thread(s)", p.kind.label(), p.num_threads),
            "Mops/s",
            &mops,
        ));
        all_right &= p.counted_right;
    }
    out.notes.push(format!(
        "{} operations per measurement split across the threads, {} measurements per point; every counter {}",
        config.ops,
        config.repeats,
        if all_right { "ended at the number of writes made" } else { "did NOT end at the writes made" }
    ));
    match throughput_plot_bytes(&points, PlotFormat::Png) {
        Ok(png) => out.plots.push(Plot {
            title: "Lock throughput vs threads".into(),
            png,
        }),
        Err(e) => out.notes.push(format!("plot not drawn: {e}")),
    }
    Ok(())
}

fn measure_workspan(
    out: &mut LessonResult,
    n: usize,
    cutoff: usize,
    workers: &str,
    repeats: usize,
    cancel: &AtomicBool,
) -> Result<(), LessonError> {
    use crate::engine::workloads::matmul::{WORK_SPAN_METHOD, WorkSpanSpread, work_span};
    let lesson = out.lesson;
    let p = worker_count(workers, logical_cores()).map_err(|e| fail(lesson, e))?;
    let pool = build_pool(p).map_err(|e| fail(lesson, e))?;
    let one = build_pool(1).map_err(|e| fail(lesson, e))?;
    let mut reports = Vec::new();
    for _ in 0..repeats {
        if cancel.load(Ordering::Relaxed) {
            return Ok(());
        }
        let meter = OtherCpuMeter::start();
        reports.push(work_span(n, cutoff, &pool, &one, 1).map_err(|e| fail(lesson, e))?);
        add_window(&mut out.other_cpu, meter.stop());
    }
    let s = WorkSpanSpread::of(&reports);
    let mmm = |id: &str,
               label: &str,
               unit: &str,
               m: crate::engine::workloads::matmul::MinMedMax| Figure {
        id: id.into(),
        label: label.into(),
        unit: unit.into(),
        median: m.median,
        low: m.min,
        high: m.max,
        n: s.runs,
        spread: "min..max".into(),
        text: None,
    };
    out.figures
        .push(mmm("work_ms", "work T1 (1-worker run)", "ms", s.work_ms));
    out.figures
        .push(mmm("span_ms", "span T∞ (1-worker run)", "ms", s.span_ms));
    out.figures
        .push(mmm("parallelism", "parallelism T1/T∞", "×", s.parallelism));
    out.figures.push(mmm(
        "tp_ms",
        &format!("T_P on {p} workers"),
        "ms",
        s.wall_ms,
    ));
    let brent: Vec<f64> = reports
        .iter()
        .map(|r| r.parallel.brent_upper_nanos() / 1e6)
        .collect();
    out.figures.push(Figure::measured(
        "brent_upper_ms",
        &format!("Brent's bound T1/P + T∞ on {p} workers (from the P-worker run)"),
        "ms",
        &brent,
    ));
    let speedups: Vec<f64> = reports
        .iter()
        .map(|r| r.one_worker.wall_nanos as f64 / r.parallel.wall_nanos.max(1) as f64)
        .collect();
    out.figures.push(Figure::measured(
        "speedup",
        &format!("speedup T1/T_P on {p} workers (wall times)"),
        "×",
        &speedups,
    ));
    let holds = reports.iter().filter(|r| r.brent_upper_holds()).count();
    out.notes.push(format!(
        "{n}x{n} matrices, cutoff {cutoff}, {repeats} runs; T_P <= T1/P + T∞ held in {holds} of {repeats} runs; every product {} the triple loop",
        if reports.iter().all(|r| r.matches_serial) { "equals" } else { "does NOT equal" }
    ));
    out.notes.push(WORK_SPAN_METHOD.to_string());
    let bars: Vec<(String, Figure)> = ["work_ms", "span_ms", "tp_ms", "brent_upper_ms"]
        .iter()
        .filter_map(|id| out.figures.iter().find(|f| f.id == *id))
        .map(|f| (f.label.clone(), f.clone()))
        .collect();
    push_bars(out, "Work, span, T_P and Brent's bound (ms)", &bars);
    Ok(())
}

fn measure_gridsearch(
    out: &mut LessonResult,
    tasks: u64,
    task_ms: u64,
    deadline_ms: u64,
    reps: u32,
    cancel: &AtomicBool,
) -> Result<(), LessonError> {
    let lesson = out.lesson;
    let plan = crate::engine::theory::grid_search(tasks, task_ms as f64, deadline_ms as f64)
        .map_err(|e| fail(lesson, e))?;
    let p = plan.min_workers as usize;
    out.figures.push(Figure::calculated(
        "min_workers",
        "fewest workers that meet the deadline in whole rounds (calculated)",
        "",
        p as f64,
    ));
    out.figures.push(Figure::calculated(
        "rounds",
        "rounds at that many workers",
        "",
        plan.rounds as f64,
    ));
    out.figures.push(Figure::calculated(
        "naive_workers",
        "tasks x time / deadline, without rounds (calculated)",
        "",
        plan.naive_workers,
    ));
    out.figures.push(Figure::calculated(
        "deadline_ms",
        "deadline",
        "ms",
        deadline_ms as f64,
    ));
    // Each task a wait (a train-test run on another machine), no CPU of note.
    let spec = format!("io:tasks={tasks},wait-ms={task_ms},rounds=0,per-task=1");
    let view = View::default_for_size(64, 64).map_err(|e| fail(lesson, e))?;
    let w = by_spec(&spec, view, kernel(), false).map_err(|e| fail(lesson, e))?;
    let granularity = w.parse_granularity("1").map_err(|e| fail(lesson, e))?;
    let schedule = Schedule::Dynamic { chunk: 1 };
    let mut bars = Vec::new();
    // Timed directly (no 1-worker baseline, which would take tasks x task_ms):
    // each worker count gets one untimed run, then `reps` timed ones.
    for workers in [p - 1, p] {
        let pool = build_pool(workers).map_err(|e| fail(lesson, e))?;
        w.run(granularity, schedule, Some(&pool))
            .map_err(|e| fail(lesson, e))?;
        let mut times_ms = Vec::new();
        for _ in 0..reps {
            if cancel.load(Ordering::Relaxed) {
                return Ok(());
            }
            let meter = OtherCpuMeter::start();
            let (nanos, _) = w
                .run_timed(granularity, schedule, Some(&pool))
                .map_err(|e| fail(lesson, e))?;
            add_window(&mut out.other_cpu, meter.stop());
            times_ms.push(nanos as f64 / 1e6);
        }
        let rounds = tasks.div_ceil(workers as u64);
        let f = Figure::measured(
            &format!("makespan_{workers}"),
            &format!("{tasks} tasks of {task_ms} ms on {workers} workers ({rounds} rounds)"),
            "ms",
            &times_ms,
        );
        bars.push((f.label.clone(), f.clone()));
        out.figures.push(f);
    }
    bars.push((
        "deadline".into(),
        Figure::calculated("deadline_ms", "deadline", "ms", deadline_ms as f64),
    ));
    out.notes.push(format!(
        "each task waits {task_ms} ms (a run on another machine: it needs a worker, not a core of this one); {} rounds of {task_ms} ms fit in {deadline_ms} ms",
        plan.rounds_allowed
    ));
    push_bars(out, "Measured finish time vs the deadline", &bars);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worker_counts_read_cores() {
        assert_eq!(worker_count("cores", 4), Ok(4));
        assert_eq!(worker_count("2*cores", 4), Ok(8));
        assert_eq!(worker_count(" 3 ", 4), Ok(3));
        assert!(worker_count("0", 4).is_err());
        assert!(worker_count("lots", 4).is_err());
        assert_eq!(worker_counts("1,cores,2", 2), Ok(vec![1, 2]));
    }

    #[test]
    fn a_ratio_takes_its_spread_from_both() {
        let r = LessonResult {
            lesson: 1,
            kind: "render".into(),
            figures: vec![
                Figure::measured("a", "a", "ms", &[10.0, 12.0, 14.0]),
                Figure::measured("b", "b", "ms", &[4.0, 5.0, 6.0]),
            ],
            other_cpu: None,
            notes: vec![],
            plots: vec![],
            elapsed_s: 0.0,
            aliases: vec![],
            logical_cores: 2,
        };
        let f = r.figure("a/b").expect("ratio");
        assert!((f.median - 12.0 / 5.0).abs() < 1e-12);
        assert!((f.low - 10.0 / 6.0).abs() < 1e-12);
        assert!((f.high - 14.0 / 4.0).abs() < 1e-12);
        assert!(r.figure("a/c").is_none());
    }
}
