//! `parlab bench sweep`: the speedup lab, headless. Measures every
//! (granularity, worker count) configuration, prints a summary table and
//! writes the same JSON/CSV/PNG/SVG exports as the window.

use crate::cli::args::MpiLaunchArgs;
use crate::cli::outputs::{Written, check_outputs};
use crate::cli::{CliError, ViewArgs, parse_kernel, parse_schedule, whole};
use crate::engine::exec::placement::{PINNING_HELP, Placement};
use crate::engine::exec::pool::{logical_cores, physical_cores};
use crate::engine::farm::Backend;
use crate::engine::speedup::charts::data::{
    focus_granularity, granularity_chart, overlay_speedup_charts, predicted_chart, speedup_chart,
};
use crate::engine::speedup::charts::draw::{Chart, PlotFormat, write_plot};
use crate::engine::speedup::plan::{PlanError, PlanInput, parse_granularities, sweep_plan};
use crate::engine::speedup::report::{
    Agreement, SweepReport, build_profile, compare_reports, cpu_brand,
};
use crate::engine::speedup::results::{SUPERLINEAR_NOTE, SweepResults, load_average_1m};
use crate::engine::speedup::sweep::{MAX_REPS, MAX_WARMUP, SweepEvent, SweepJob, SweepPlan};
use crate::engine::util::files::{ExportError, read_capped, write_atomic, write_json};
use crate::engine::workloads::{Mandelbrot, Workload, by_spec};
use clap::Args;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Instant;

#[derive(Args, Debug, Clone)]
pub struct SweepArgs {
    /// What to measure: mandelbrot (the view options below), or a course
    /// workload with optional parameters: primes[:count=640,trial=naive,…],
    /// dot[:len=4000000,…], matmul[:n=512,…], io[:tasks=64,wait-ms=10,…].
    #[arg(long, default_value = "mandelbrot", value_name = "SPEC")]
    pub workload: String,
    /// A second workload swept with the same workers, schedule, repetitions
    /// and warm-up, drawn on the same speedup plot (e.g. `--workload io
    /// --compare-workload primes`) and exported under `compared` in the JSON.
    #[arg(long, value_name = "SPEC")]
    pub compare_workload: Option<String>,
    /// Granularities of the compared workload (same syntax as --tiles for it);
    /// default: its log-spaced defaults.
    #[arg(long, value_name = "LIST", requires = "compare_workload")]
    pub compare_tiles: Option<String>,
    /// GIL mode for the course workloads: every task computes under one global
    /// lock, as CPython threads do (CPU-bound speedup stays near 1, I/O waits
    /// still overlap).
    #[arg(long)]
    pub gil: bool,
    /// Pin worker w to core w mod cores (physical cores first); the
    /// sequential baseline runs pinned with the 1-worker pool.
    #[arg(long, long_help = PINNING_HELP)]
    pub pin: bool,
    /// Worker counts, comma-separated; default 1,2,…,logical cores, 2× and 4× logical cores.
    #[arg(long, value_name = "LIST")]
    pub workers: Option<String>,
    /// Task granularities, comma-separated. mandelbrot: tile edges in px and/or
    /// `bands(N)` (N rows per band; also `bandsN`, no quotes needed in a shell;
    /// `bands` alone is `bands(1)`; default
    /// 4,8,16,32,64,128,256,bands(1)); primes: numbers per
    /// task; dot: elements per task; io: requests per task; matmul: cutoff size.
    /// Default for the course workloads: log-spaced (primes 1..64, dot 2^10..2^22
    /// elements, matmul cutoff 16..n/2, io 1..16 requests per task).
    #[arg(long, value_name = "LIST")]
    pub tiles: Option<String>,
    /// Timed runs per configuration.
    #[arg(long, default_value_t = 5, allow_negative_numbers = true,
          value_parser = whole::<u32>(1, MAX_REPS.into()))]
    pub reps: u32,
    /// Untimed warm-up runs per configuration.
    #[arg(long, default_value_t = 1, allow_negative_numbers = true,
          value_parser = whole::<u32>(0, MAX_WARMUP.into()))]
    pub warmup: u32,
    #[command(flatten)]
    pub view: ViewArgs,
    /// Schedule of the parallel runs (sequential is always measured beside it):
    /// static-block, static-cyclic, dynamic[:K], guided[:K], work-stealing.
    #[arg(long, default_value = "dynamic")]
    pub schedule: String,
    /// Kernel that computes the pixels: simd (widest this CPU has), avx2, avx512 (forced), scalar.
    #[arg(long, default_value = "simd")]
    pub kernel: String,
    /// Where mandelbrot's workers run: threads, processes, or both as
    /// `threads,processes` (the second is swept like a compared workload:
    /// same workers, schedule, reps; one speedup plot; a `backend` column in
    /// the CSV). A process run includes starting its worker processes
    /// (spawn to first message, a few ms each) and a transfer per tile
    /// (serialise + pipe + deserialise), so processes need coarser tiles
    /// than threads to pay off.
    ///
    /// mpi (a build with `--features mpi`): each run launches `mpirun -np
    /// P+1` (rank 0 the master, P worker ranks); its time is rank 0's, from
    /// before its MPI_Init to the last tile (mpirun's own launch is not in it).
    #[arg(long, default_value = "threads", value_name = "LIST")]
    pub backend: String,
    #[command(flatten)]
    pub mpi: MpiLaunchArgs,
    /// Seed of the run-order shuffle.
    #[arg(long, default_value_t = 1, allow_negative_numbers = true,
          value_parser = whole::<u64>(0, u64::MAX.into()))]
    pub seed: u64,
    /// JSON report (meta block + one result per configuration with every time).
    #[arg(long, value_name = "FILE")]
    pub export_json: Option<PathBuf>,
    /// CSV, one row per configuration.
    #[arg(long, value_name = "FILE")]
    pub export_csv: Option<PathBuf>,
    /// Speedup vs workers plot (.png or .svg).
    #[arg(long, value_name = "FILE")]
    pub plot_speedup: Option<PathBuf>,
    /// Time vs granularity plot (.png or .svg).
    #[arg(long, value_name = "FILE")]
    pub plot_granularity: Option<PathBuf>,
    /// Predicted-beyond-this-machine plot, 1..=64 virtual workers (.png or .svg).
    #[arg(long, value_name = "FILE")]
    pub plot_predicted: Option<PathBuf>,
    /// A previous `--export-json` to compare with: prints how far each median moved.
    #[arg(long, value_name = "FILE")]
    pub compare: Option<PathBuf>,
}

/// Checks the arguments and builds the workload and plan; writes nothing.
pub fn plan_from(args: &SweepArgs) -> Result<(std::sync::Arc<dyn Workload>, SweepPlan), CliError> {
    let view = args.view.to_view()?;
    let kernel = parse_kernel(&args.kernel)?;
    let schedule = parse_schedule(&args.schedule)?;
    let backends = parse_backends(args)?;
    let workload = by_spec(&args.workload, view, kernel, args.gil)
        .map_err(|e| CliError::Usage(format!("--workload: {e}")))?;
    let workload = on_backend(workload, backends[0], mandelbrot_on(args, backends[0])?);
    let input = PlanInput {
        workers: args.workers.as_deref(),
        granularities: args.tiles.as_deref(),
        schedule,
        reps: args.reps,
        warmup: args.warmup,
        shuffle_seed: args.seed,
        placement: Placement::from_pin(args.pin),
    };
    let plan = sweep_plan(&input, &*workload).map_err(|e| {
        CliError::Usage(match (&e, &args.workers, &args.tiles) {
            (PlanError::Workers(_), Some(s), _) => format!("--workers {s:?}: {e}"),
            (PlanError::Granularities(_), _, Some(s)) => format!("--tiles {s:?}: {e}"),
            _ => e.to_string(),
        })
    })?;
    let mut outputs = Vec::new();
    for (path, flag) in [
        (&args.export_json, "--export-json"),
        (&args.export_csv, "--export-csv"),
        (&args.plot_speedup, "--plot-speedup"),
        (&args.plot_granularity, "--plot-granularity"),
        (&args.plot_predicted, "--plot-predicted"),
    ] {
        if let Some(p) = path {
            if flag.starts_with("--plot") {
                PlotFormat::from_path(p).map_err(|e| CliError::Usage(format!("{flag} {e}")))?;
            }
            outputs.push((flag, p.as_path()));
        }
    }
    check_outputs(&outputs)?;
    Ok((workload, plan))
}

/// A workload and the plan it is swept with.
pub type PlannedWorkload = (std::sync::Arc<dyn Workload>, SweepPlan);

/// `--backend` as a list of one or two backends, each once; processes
/// apply to mandelbrot only.
fn parse_backends(args: &SweepArgs) -> Result<Vec<Backend>, CliError> {
    let backends =
        crate::engine::speedup::plan::parse_list(&args.backend, |x| x.parse::<Backend>())
            .map_err(|e| CliError::Usage(format!("--backend {:?}: {e}", args.backend)))?;
    let mut seen = Vec::new();
    for b in &backends {
        if seen.contains(b) {
            return Err(CliError::Usage(format!(
                "--backend {:?}: {b} is listed twice",
                args.backend
            )));
        }
        seen.push(*b);
    }
    for b in [Backend::Processes, Backend::Mpi] {
        if seen.contains(&b) && args.workload.trim() != "mandelbrot" {
            return Err(CliError::Usage(format!(
                "--backend {b} applies to the mandelbrot workload"
            )));
        }
    }
    if seen.contains(&Backend::Mpi) && !Backend::MPI_BUILT {
        return Err(crate::engine::farm::FarmError::NoMpi.into());
    }
    Ok(seen)
}

/// The Mandelbrot workload of these arguments on `backend`.
fn mandelbrot_on(args: &SweepArgs, backend: Backend) -> Result<Mandelbrot, CliError> {
    Ok(Mandelbrot {
        backend,
        mpi: args.mpi.launch(),
        ..Mandelbrot::new(args.view.to_view()?, parse_kernel(&args.kernel)?)
    })
}

/// Mandelbrot on its backend; any other workload as it is (threads).
fn on_backend(
    workload: std::sync::Arc<dyn Workload>,
    backend: Backend,
    mandelbrot: Mandelbrot,
) -> std::sync::Arc<dyn Workload> {
    if workload.name() == "mandelbrot" && backend != Backend::Threads {
        std::sync::Arc::new(mandelbrot)
    } else {
        workload
    }
}

/// The same workload on the other backends of `--backend` (after the
/// first), with the main plan: the backend comparison.
pub fn backend_plans_from(
    args: &SweepArgs,
    main: &SweepPlan,
) -> Result<Vec<PlannedWorkload>, CliError> {
    parse_backends(args)?
        .into_iter()
        .skip(1)
        .map(|b| {
            let w: std::sync::Arc<dyn Workload> = std::sync::Arc::new(mandelbrot_on(args, b)?);
            Ok((w, main.clone()))
        })
        .collect()
}

/// The `--compare-workload` and its plan (the main plan's workers, schedule,
/// repetitions and warm-up), if one was given.
pub fn compare_plan_from(
    args: &SweepArgs,
    main: &SweepPlan,
) -> Result<Option<PlannedWorkload>, CliError> {
    let Some(spec) = &args.compare_workload else {
        return Ok(None);
    };
    let view = args.view.to_view()?;
    let kernel = parse_kernel(&args.kernel)?;
    let workload = by_spec(spec, view, kernel, args.gil)
        .map_err(|e| CliError::Usage(format!("--compare-workload: {e}")))?;
    let granularities = match &args.compare_tiles {
        Some(s) => parse_granularities(s, &*workload)
            .map_err(|e| CliError::Usage(format!("--compare-tiles {s:?}: {e}")))?,
        None => workload.default_granularities(),
    };
    let plan = SweepPlan {
        granularities,
        ..main.clone()
    };
    plan.validate()?;
    Ok(Some((workload, plan)))
}

/// Reads the report given to `--compare` (before any work is done).
fn read_previous(args: &SweepArgs) -> Result<Option<SweepReport>, CliError> {
    let Some(p) = &args.compare else {
        return Ok(None);
    };
    let bytes =
        read_capped(p).map_err(|e| CliError::Usage(format!("--compare {}: {e}", p.display())))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| CliError::Usage(format!("--compare {}: not UTF-8 text", p.display())))?;
    SweepReport::from_json(&text)
        .map(Some)
        .map_err(|e| CliError::Usage(format!("--compare {}: {e}", p.display())))
}

/// Refuses a previous report measured on another workload, view or schedule:
/// its medians are not comparable (only configurations with the same label
/// would be matched, and none or the wrong ones would be).
fn comparable(
    previous: &crate::engine::speedup::report::ReportMeta,
    workload: &dyn Workload,
    plan: &SweepPlan,
) -> Result<(), String> {
    if previous.workload != workload.name() {
        return Err(format!(
            "that report measured the {} workload, this sweep measures {}",
            previous.workload,
            workload.name()
        ));
    }
    let params = workload.params();
    if previous.workload_params != params {
        return Err(format!(
            "that report measured {} with {}, this sweep uses {}",
            previous.workload, previous.workload_params, params
        ));
    }
    let schedule = plan.schedule.to_string();
    if previous.schedule != schedule {
        return Err(format!(
            "that report used the {} schedule, this sweep uses {schedule}",
            previous.schedule
        ));
    }
    Ok(())
}

/// How this sweep agrees with a previous one, for stdout.
pub fn agreement_table(this: &SweepReport, previous: &SweepReport) -> String {
    use std::fmt::Write as _;
    let rows = compare_reports(this, previous);
    let mut out = format!(
        "\nAgreement with the previous sweep ({}, load may differ): median(now)/median(then)\n",
        previous.meta.timestamp_utc
    );
    for a in &rows {
        let _ = writeln!(
            out,
            "  {:<12} {:<14} P={:<4} medians {:>6.3}  speedups {}",
            a.granularity,
            a.schedule,
            a.workers,
            a.median_ratio,
            a.speedup_ratio
                .map_or_else(|| "-".into(), |r| format!("{r:.3}"))
        );
    }
    let worst = |f: &dyn Fn(&Agreement) -> Option<f64>| {
        rows.iter()
            .filter_map(f)
            .map(|r| (r - 1.0).abs() * 100.0)
            .fold(0.0, f64::max)
    };
    if rows.is_empty() {
        let _ = writeln!(
            out,
            "  NO configuration matched: the two sweeps share no (granularity, schedule, workers); \
             nothing was compared"
        );
        return out;
    }
    let _ = writeln!(
        out,
        "  largest difference: medians {:.1} %, speedups {:.1} % ({} configurations matched)",
        worst(&|a| Some(a.median_ratio)),
        worst(&|a| a.speedup_ratio),
        rows.len()
    );
    out
}

pub fn run(args: &SweepArgs) -> Result<(), CliError> {
    let (workload, plan) = plan_from(args)?;
    let mut others = backend_plans_from(args, &plan)?;
    others.extend(compare_plan_from(args, &plan)?);
    let previous = read_previous(args)?;
    if let (Some(prev), Some(path)) = (&previous, &args.compare) {
        comparable(&prev.meta, &*workload, &plan).map_err(|e| {
            CliError::Usage(format!(
                "--compare {}: {e}; compare a report of the same workload and view",
                path.display()
            ))
        })?;
    }
    if cfg!(debug_assertions) {
        eprintln!(
            "parlab: warning: debug build; timings are not representative (build with --release)"
        );
    }
    let (results, complete) = measure(&workload, plan)?;
    let mut report = SweepReport::build(&results, &*workload, complete);
    let mut compared = Vec::new();
    for (other, other_plan) in others {
        let (other_results, other_complete) = measure(&other, other_plan)?;
        report
            .compared
            .push(SweepReport::build(&other_results, &*other, other_complete));
        compared.push((other, other_results));
    }
    // The files first: a closed stdout (`| head`) must not lose the sweep.
    let exported = export(args, (&*workload, &results), &compared, &report);
    out!("{}", summary_table(&results, &*workload));
    for (other, other_results) in &compared {
        outln!();
        out!("{}", summary_table(other_results, &**other));
    }
    if let Some(previous) = &previous {
        out!("{}", agreement_table(&report, previous));
    }
    exported
}

/// Runs one sweep to its end with a progress bar on stderr (when a
/// terminal); returns the results and whether every run was made.
fn measure(
    workload: &std::sync::Arc<dyn Workload>,
    plan: SweepPlan,
) -> Result<(SweepResults, bool), CliError> {
    let mut results =
        SweepResults::new(plan.clone(), &**workload, logical_cores(), physical_cores());
    let show_progress = std::io::stderr().is_terminal();
    let job = SweepJob::start(workload.clone(), plan, None)?;
    let started = Instant::now();
    let mut end = None;
    if show_progress {
        eprint!("parlab: {}: preparing data, warming up…", workload.name());
    }
    while let Some(event) = job.next_blocking() {
        match event {
            SweepEvent::Prepared | SweepEvent::WarmedUp => {}
            SweepEvent::Measured(m) => {
                results.add(m);
                if show_progress {
                    progress_bar(job.progress(), started.elapsed().as_secs_f64());
                }
            }
            SweepEvent::Finished(e) => end = Some(e),
        }
    }
    if show_progress {
        eprintln!();
    }
    let end =
        end.ok_or_else(|| CliError::Failed("the sweep thread ended without a result".into()))?;
    if let Some(e) = end.error {
        return Err(CliError::Failed(format!("the sweep failed: {e}")));
    }
    results.keep_only_median_traces();
    Ok((results, !end.cancelled))
}

fn progress_bar((done, total): (usize, usize), elapsed_s: f64) {
    const WIDTH: usize = 30;
    let filled = (done * WIDTH).checked_div(total).unwrap_or(WIDTH);
    let eta = if done > 0 {
        elapsed_s / done as f64 * (total - done) as f64
    } else {
        0.0
    };
    eprint!(
        "\rparlab: [{}{}] {done}/{total} runs, {elapsed_s:.0} s elapsed, ~{eta:.0} s left   ",
        "#".repeat(filled),
        "-".repeat(WIDTH - filled)
    );
    let _ = std::io::stderr().flush();
}

/// A workload's label on a shared plot: its name, `+GIL` in GIL mode, the
/// backend when it is not threads.
fn plot_name(workload: &dyn Workload, report: &SweepReport) -> String {
    let gil = report.meta.workload_params["gil"].as_bool() == Some(true);
    let backend = report.backend();
    format!(
        "{}{}{}",
        workload.name(),
        if gil { " +GIL" } else { "" },
        if backend != Backend::Threads.name() && !backend.is_empty() {
            format!(" ({backend})")
        } else {
            String::new()
        }
    )
}

fn export(
    args: &SweepArgs,
    (workload, results): (&dyn Workload, &SweepResults),
    compared: &[(std::sync::Arc<dyn Workload>, SweepResults)],
    report: &SweepReport,
) -> Result<(), CliError> {
    // Every file is tried; a failure names what was written and what not.
    let mut written = Written::default();
    let table = results.row_table();
    if let Some(p) = &args.export_json {
        written.add(p, write_json(p, &report.to_json()));
    }
    if let Some(p) = &args.export_csv {
        written.add(p, write_atomic(p, report.to_csv().as_bytes()));
    }
    if let Some(p) = &args.plot_speedup {
        let main = speedup_chart(results, &table);
        let chart = if compared.is_empty() {
            Some(main)
        } else {
            let mut charts = vec![(plot_name(workload, report), main)];
            for ((w, r), rep) in compared.iter().zip(&report.compared) {
                charts.push((plot_name(&**w, rep), speedup_chart(r, &r.row_table())));
            }
            overlay_speedup_charts(&charts)
        };
        let result = match chart {
            Some(c) => write_plot(p, Chart::Speedup(&c)),
            None => Err(ExportError::new(p, "nothing to plot")),
        };
        written.add(p, result);
    }
    if let Some(p) = &args.plot_granularity {
        written.add(
            p,
            write_plot(p, Chart::Granularity(&granularity_chart(results, &table))),
        );
    }
    if let Some(p) = &args.plot_predicted {
        written.add(
            p,
            write_plot(p, Chart::Speedup(&predicted_chart(results, &table))),
        );
    }
    written.finish()
}

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(|| "-".into(), |x| format!("{x:.digits$}"))
}

/// The readable summary printed on stdout.
pub fn summary_table(results: &SweepResults, workload: &dyn Workload) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let plan = &results.plan;
    let _ = writeln!(
        out,
        "parlab bench sweep: {} ({}) | schedule {} | {} reps + {} warm-up | {} build",
        workload.name(),
        workload.describe(),
        plan.schedule,
        plan.reps,
        plan.warmup,
        build_profile()
    );
    let _ = writeln!(
        out,
        "machine: {} | {} logical / {} physical cores | load average (1 min) {} at start, {} now",
        cpu_brand(),
        results.logical_cores,
        results.physical_cores,
        results
            .load_average_start
            .map_or_else(|| "n/a".into(), |l| format!("{l:.2}")),
        load_average_1m().map_or_else(|| "n/a".into(), |l| format!("{l:.2}")),
    );
    let _ = writeln!(
        out,
        "speedup = median(T1)/median(TP), T1 = same schedule on a 1-worker pool; 95% CI by bootstrap; \
         'vs seq' = against the sequential schedule (no pool, run on the 1-worker pool's thread); \
         * = oversubscribed; ! = superlinear; outliers by Tukey fences, kept; workers {}",
        results.plan.placement
    );
    if results.other_cpu.windows > 0 {
        let _ = writeln!(out, "{}", results.other_cpu.describe());
    }
    let _ = writeln!(
        out,
        "\n{:<12} {:>6} {:>7} {:>3} {:>11} {:>11} {:>9} {:>7} {:>17} {:>6} {:>7} {:>7} {:>8}",
        "granular.",
        "tasks",
        "workers",
        "n",
        "median ms",
        "min ms",
        "MAD ms",
        "speedup",
        "95% CI",
        "eff",
        "K-F e",
        "vs seq",
        "outliers"
    );
    let table = results.row_table();
    for (c, r) in table
        .iter()
        .enumerate()
        .filter_map(|(c, r)| Some((c, r.as_ref()?)))
    {
        let key = results.configs[c];
        let workers = if key.schedule.uses_pool() {
            format!(
                "{}{}{}",
                r.workers,
                if r.oversubscribed { "*" } else { "" },
                if r.superlinear { "!" } else { "" }
            )
        } else {
            "seq".into()
        };
        let ci = r
            .speedup_ci95
            .map_or_else(|| "-".into(), |[a, b]| format!("[{a:.2}, {b:.2}]"));
        let _ = writeln!(
            out,
            "{:<12} {:>6} {:>7} {:>3} {:>11.3} {:>11.3} {:>9.3} {:>7} {:>17} {:>6} {:>7} {:>7} {:>8}",
            r.granularity,
            r.tasks,
            workers,
            r.n,
            r.median_s * 1e3,
            r.min_s * 1e3,
            r.mad_s * 1e3,
            opt(r.speedup, 2),
            ci,
            opt(r.efficiency, 2),
            opt(r.karp_flatt, 3),
            opt(r.speedup_vs_sequential, 2),
            r.outliers.len()
        );
    }
    if table.iter().flatten().any(|r| r.superlinear) {
        let _ = writeln!(out, "! {SUPERLINEAR_NOTE}");
    }
    if table
        .iter()
        .flatten()
        .any(|r| r.karp_flatt.is_some_and(|e| e < 0.0))
    {
        let _ = writeln!(
            out,
            "negative K-F e: the speedup exceeds P (superlinear, or noise in T1 or TP), so no serial \
             fraction can be read from it"
        );
    }
    if results.machine_busy() {
        let _ = writeln!(out, "*** {} ***", results.other_cpu.describe());
    }
    let _ = writeln!(out, "\nAmdahl model (1 < P <= logical cores):");
    for f in results.fits_from(&table) {
        let _ = writeln!(out, "  {}", f.describe());
    }
    let _ = writeln!(out, "Best granularity per worker count (lowest median):");
    for w in plan.worker_counts() {
        if let Some(r) = results.best_granularity(w).and_then(|c| results.row(c)) {
            let _ = writeln!(
                out,
                "  {w:>4} worker{}: {} ({:.3} ms)",
                if w == 1 { " " } else { "s" },
                r.granularity,
                r.median_s * 1e3
            );
        }
    }
    let grans = results.granularities();
    if let Some(g) = focus_granularity(results, &table).and_then(|i| grans.get(i)) {
        let label = g.to_string();
        if let Some(set) = results
            .predictions(64)
            .into_iter()
            .find(|p| p.granularity == label)
        {
            let _ = write!(
                out,
                "PREDICTED (replay of the 1-worker run's {label} task times, {} schedule; not measured):\n ",
                set.schedule
            );
            for p in set
                .predictions
                .iter()
                .filter(|p| [2, 4, 8, 16, 32, 64].contains(&p.workers))
            {
                let _ = write!(
                    out,
                    " P={}: S={:.2} (Brent >= {:.2})",
                    p.workers, p.speedup, p.brent_speedup
                );
            }
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct T {
        #[command(flatten)]
        a: SweepArgs,
    }

    fn args(extra: &[&str]) -> SweepArgs {
        let mut argv = vec!["t", "--width", "32", "--height", "24"];
        argv.extend_from_slice(extra);
        T::parse_from(argv).a
    }

    #[test]
    fn lists_parse_and_bad_input_is_a_usage_error() {
        let (w, plan) =
            plan_from(&args(&["--workers", "1,2", "--tiles", "8,bands"])).expect("plan");
        assert_eq!(w.name(), "mandelbrot");
        assert_eq!(plan.workers, vec![1, 2]);
        assert_eq!(plan.granularities.len(), 2);
        for bad in [
            vec!["--workers", "1,x"],
            vec!["--workers", ""],
            vec!["--workers", "0"],
            vec!["--tiles", "8,huge"],
            vec!["--reps", "0"],
            vec!["--workload", "primes9"],
            vec!["--schedule", "sequential"],
            vec!["--plot-speedup", "s.gif"],
            vec!["--export-json", "/no/such/folder/f.json"],
        ] {
            assert!(
                matches!(plan_from(&args(&bad)), Err(CliError::Usage(_))),
                "{bad:?}"
            );
        }
    }
}
