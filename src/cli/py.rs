//! `parlab py SCRIPT [ARGS…]`: run a Python program (a file, or one of the
//! shipped course programs by name) under parlab's tracer and print what
//! every worker did: tasks, processes and threads, wall, per-lane busy time,
//! CPU/wall per task (the GIL made visible) and worker start-up.

use super::{CliError, check_output, check_workers};
use crate::engine::python::lanes::LaneTraceSummary;
use crate::engine::python::programs::{self, Program};
use crate::engine::python::runner::{self, RunOutcome, RunPlan, Script, StartMethod, Stream};
use crate::engine::python::to_chrome_json;
use crate::engine::util::files::write_json;
use clap::Args;
use serde_json::json;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

#[derive(Args, Debug, Clone)]
pub struct PyArgs {
    /// The Python interpreter (default: python3 on the PATH).
    #[arg(long, value_name = "PATH")]
    pub python: Option<PathBuf>,
    /// Seconds before parlab kills the script and every process it started.
    #[arg(long, default_value_t = 120.0, value_name = "S")]
    pub timeout: f64,
    /// Passed to the script as `--workers N` (the shipped programs take it).
    #[arg(long, value_name = "N")]
    pub workers: Option<usize>,
    /// Passed to the script as `--mode threads|processes`.
    #[arg(long, value_name = "MODE")]
    pub mode: Option<String>,
    /// Forces multiprocessing's start method: fork, spawn or forkserver.
    #[arg(long, value_name = "METHOD")]
    pub start_method: Option<String>,
    /// Also trace every call of this function (repeat for more).
    #[arg(long = "task", value_name = "NAME")]
    pub tasks: Vec<String>,
    /// Chrome Trace JSON, one lane per process and thread (written even when
    /// the script fails or times out: the trace so far).
    #[arg(long, value_name = "FILE")]
    pub trace_out: Option<PathBuf>,
    /// Print everything (summary, tasks, the script's output) as one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Instead of one run: sweep these worker counts (e.g. 1,2,4,8) in both
    /// modes, threads and processes, with the speedup lab's statistics.
    #[arg(long, value_name = "W,W,...")]
    pub sweep: Option<String>,
    /// Timed runs per configuration of a sweep.
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub reps: u32,
    /// Sweep report (JSON, the speedup lab's format; threads inside `compared`).
    #[arg(long, value_name = "FILE")]
    pub sweep_out: Option<PathBuf>,
    /// List the shipped programs and what each shows, then exit.
    #[arg(long)]
    pub list: bool,
    /// SCRIPT.py, or a shipped program's name (see --list).
    #[arg(required_unless_present = "list", value_name = "SCRIPT")]
    pub script: Option<String>,
    /// Arguments for the script.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "ARGS"
    )]
    pub args: Vec<String>,
}

/// Longest accepted timeout: a day.
const MAX_TIMEOUT_S: f64 = 86_400.0;

pub fn run(args: &PyArgs) -> Result<(), CliError> {
    if args.list {
        for p in programs::programs() {
            outln!("{:<22} {}", p.name, p.title());
        }
        return Ok(());
    }
    let plan = plan_from(args)?;
    if let Some(p) = &args.trace_out {
        check_output(p, "--trace-out")?;
    }
    if let Some(list) = &args.sweep {
        return sweep(args, &plan, list);
    }
    let cancel = AtomicBool::new(false);
    let outcome = runner::run(&plan, &cancel, &mut |_: Stream, _: &str| {})?;
    if let Some(p) = &args.trace_out {
        write_json(p, &to_chrome_json(&outcome.trace))?;
    }
    let summary = outcome.trace.summary();
    if args.json {
        outln!("{}", outcome_json(&plan, &outcome, &summary));
    } else {
        print_outcome(&plan, &outcome, &summary);
    }
    if outcome.succeeded() {
        Ok(())
    } else {
        Err(CliError::Failed(outcome.ending_message()))
    }
}

/// Checks the arguments and builds the run plan; nothing runs yet.
pub fn plan_from(args: &PyArgs) -> Result<RunPlan, CliError> {
    let name = args
        .script
        .as_deref()
        .ok_or_else(|| CliError::Usage("give a script (or --list)".into()))?;
    let script = resolve_script(name)?;
    if !(args.timeout.is_finite() && args.timeout > 0.0 && args.timeout <= MAX_TIMEOUT_S) {
        return Err(CliError::Usage(format!(
            "--timeout must be more than 0 and at most {MAX_TIMEOUT_S} s, got {}",
            args.timeout
        )));
    }
    let start_method = args
        .start_method
        .as_deref()
        .map(|s| {
            s.parse::<StartMethod>()
                .map_err(|e| CliError::Usage(format!("--start-method: {e}")))
        })
        .transpose()?;
    let shipped: Option<&Program> = match &script {
        Script::Shipped(p) => Some(p),
        Script::File(_) => None,
    };
    let mut extra = Vec::new();
    if let Some(n) = args.workers {
        check_workers(n)?;
        if let Some(p) = shipped.filter(|p| !p.knobs.workers) {
            return Err(CliError::Usage(format!("{} takes no --workers", p.name)));
        }
        extra.extend(["--workers".to_string(), n.to_string()]);
    }
    if let Some(mode) = &args.mode {
        if mode != "threads" && mode != "processes" {
            return Err(CliError::Usage(format!(
                "--mode {mode:?}: expected threads or processes"
            )));
        }
        if let Some(p) = shipped.filter(|p| !p.knobs.mode) {
            return Err(CliError::Usage(format!("{} takes no --mode", p.name)));
        }
        extra.extend(["--mode".to_string(), mode.clone()]);
    }
    for t in &args.tasks {
        if t.is_empty() || !t.chars().all(|c| c.is_alphanumeric() || c == '_') {
            return Err(CliError::Usage(format!(
                "--task {t:?}: give a function name such as is_prime"
            )));
        }
    }
    if let Some(p) = &args.python
        && !p.exists()
    {
        return Err(CliError::Usage(format!(
            "--python {}: no such interpreter; install Python 3 (Debian/Ubuntu: `sudo apt install {}`) or give the path of an existing python3",
            p.display(),
            runner::PYTHON_PACKAGE
        )));
    }
    Ok(RunPlan {
        python: args.python.clone(),
        script,
        args: args.args.iter().cloned().chain(extra).collect(),
        timeout: Duration::from_secs_f64(args.timeout),
        start_method,
        tasks: args.tasks.clone(),
    })
}

/// A file if one exists at `name` (or it looks like a path), else a
/// shipped program of that name.
pub fn resolve_script(name: &str) -> Result<Script, CliError> {
    let path = PathBuf::from(name);
    if path.is_file() {
        return Ok(Script::File(path));
    }
    if !runner::is_path_like(name)
        && let Some(p) = programs::find(name)
    {
        return Ok(Script::Shipped(p));
    }
    Err(CliError::Usage(format!(
        "{name}: no such script, and no shipped program of that name (shipped: {})",
        programs::programs()
            .map(|p| p.name)
            .collect::<Vec<_>>()
            .join(", ")
    )))
}

fn ms(nanos: u64) -> f64 {
    nanos as f64 / 1e6
}

fn ending_json(outcome: &RunOutcome) -> serde_json::Value {
    let (kind, code) = match outcome.ending {
        runner::Ending::Exited(c) => ("exited", Some(c)),
        runner::Ending::Signalled(_) => ("signalled", None),
        runner::Ending::TimedOut => ("timed_out", None),
        runner::Ending::Cancelled => ("cancelled", None),
    };
    json!({"kind": kind, "exit_code": code, "message": outcome.ending_message()})
}

/// The whole run as JSON (what `--json` prints).
pub fn outcome_json(
    plan: &RunPlan,
    outcome: &RunOutcome,
    summary: &LaneTraceSummary,
) -> serde_json::Value {
    let lanes = &outcome.trace.lanes;
    let tasks: Vec<_> = outcome
        .trace
        .tasks
        .iter()
        .map(|t| {
            let lane = lanes.get(t.lane as usize).cloned().unwrap_or_default();
            json!({"lane": t.lane, "pid": lane.pid, "tid": lane.tid, "process": lane.process_name,
                "thread": lane.thread_name, "fn": t.name, "index": t.index, "arg": t.arg,
                "start_ms": ms(t.start_nanos), "end_ms": ms(t.end_nanos),
                "cpu_ms": t.cpu_nanos.map(ms), "cpu_per_wall": t.cpu_per_wall(),
                "source": t.source, "ok": t.ok})
        })
        .collect();
    let startups: Vec<_> = outcome
        .trace
        .startups
        .iter()
        .map(|s| {
            let lane = lanes.get(s.lane as usize).cloned().unwrap_or_default();
            json!({"lane": s.lane, "pid": lane.pid, "process": lane.process_name, "method": s.method,
                "start_ms": ms(s.start_nanos), "end_ms": ms(s.end_nanos), "ms": ms(s.nanos()),
                "ready": s.ready})
        })
        .collect();
    json!({
        "script": plan.script.display_name(),
        "args": plan.args,
        "python": outcome.python,
        "ending": ending_json(outcome),
        "process_group": outcome.process_group,
        "wall_ms": ms(outcome.wall_nanos),
        "summary": summary,
        "lanes": lanes,
        "tasks": tasks,
        "startups": startups,
        "pools": outcome.trace.pools,
        "stdout": outcome.stdout,
        "stderr": outcome.stderr,
        "output_truncated": outcome.output_truncated,
        "bad_records": outcome.bad_records,
    })
}

fn print_outcome(plan: &RunPlan, outcome: &RunOutcome, s: &LaneTraceSummary) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "--- {} stdout ---", plan.script.display_name());
    let _ = write!(out, "{}", outcome.stdout);
    if !outcome.stdout.ends_with('\n') && !outcome.stdout.is_empty() {
        let _ = writeln!(out);
    }
    if !outcome.stderr.is_empty() {
        let _ = writeln!(out, "--- {} stderr ---", plan.script.display_name());
        let _ = write!(out, "{}", outcome.stderr);
        if !outcome.stderr.ends_with('\n') {
            let _ = writeln!(out);
        }
    }
    let _ = writeln!(out, "--- parlab ---");
    if let Some(py) = &outcome.python {
        let _ = writeln!(
            out,
            "python {} ({}), GIL {}, start method {}",
            py.version,
            py.executable,
            if py.gil_enabled {
                "on"
            } else {
                "OFF (free-threaded)"
            },
            py.start_method
        );
    }
    let _ = writeln!(
        out,
        "{} task(s) in {} process(es) / {} thread(s); wall {:.1} ms (interpreter start to exit)",
        s.tasks,
        s.task_processes,
        s.task_threads,
        ms(outcome.wall_nanos)
    );
    if let (Some(all), Some(med)) = (s.cpu_per_wall, s.cpu_per_wall_median) {
        let _ = writeln!(
            out,
            "CPU/wall per task: median {med:.2}, all tasks {all:.2} (1.00 = computing the whole time; about 1/N for N threads sharing the GIL)"
        );
    }
    for (method, median_ms, n) in &s.startup_ms {
        let _ = writeln!(
            out,
            "worker start-up ({method}): median {median_ms:.1} ms over {n} process(es)"
        );
    }
    if s.tasks > 0 {
        let _ = writeln!(
            out,
            "{:<44} {:>6} {:>10} {:>10}",
            "lane", "tasks", "busy ms", "CPU ms"
        );
        for l in s.lanes.iter().filter(|l| l.tasks > 0) {
            let _ = writeln!(
                out,
                "{:<44} {:>6} {:>10.1} {:>10.1}",
                l.label,
                l.tasks,
                ms(l.busy_nanos),
                ms(l.cpu_nanos)
            );
        }
        let _ = writeln!(
            out,
            "utilisation {:.0}% of {} busy lane(s), imbalance {:.2}",
            s.utilisation * 100.0,
            s.task_threads,
            s.imbalance
        );
    }
    if outcome.bad_records > 0 {
        let _ = writeln!(
            out,
            "{} unreadable record line(s) skipped",
            outcome.bad_records
        );
    }
    if outcome.output_truncated {
        let _ = writeln!(
            out,
            "output beyond {} MiB per stream was dropped",
            runner::MAX_OUTPUT_BYTES >> 20
        );
    }
    let _ = writeln!(out, "{}", outcome.ending_message());
}

/// `--sweep`: both modes over the worker counts, printed as a table.
fn sweep(args: &PyArgs, plan: &RunPlan, list: &str) -> Result<(), CliError> {
    use crate::engine::python::sweep::{cpu_per_wall, modes_report, sweep_modes};
    if args.workers.is_some() || args.mode.is_some() {
        return Err(CliError::Usage(
            "--sweep sets --workers and --mode itself: leave them out".into(),
        ));
    }
    if let Script::Shipped(p) = &plan.script
        && !(p.knobs.workers && p.knobs.mode)
    {
        return Err(CliError::Usage(format!(
            "{} takes no --workers/--mode, so there is nothing to sweep (try pool_primes)",
            p.name
        )));
    }
    let workers: Vec<usize> = list
        .split(',')
        .map(|w| {
            w.trim()
                .parse::<usize>()
                .map_err(|_| {
                    CliError::Usage(format!("--sweep {list:?}: {w:?} is not a worker count"))
                })
                .and_then(check_workers)
        })
        .collect::<Result<_, _>>()?;
    if !(1..=100).contains(&args.reps) {
        return Err(CliError::Usage(format!(
            "--reps must be 1..=100, got {}",
            args.reps
        )));
    }
    if let Some(p) = &args.sweep_out {
        check_output(p, "--sweep-out")?;
    }
    let items = arg_value(&plan.args, "--items").unwrap_or(0);
    let cancel = std::sync::Arc::new(AtomicBool::new(false));
    let sweeps = sweep_modes(
        plan,
        items,
        &workers,
        args.reps,
        &cancel,
        &mut |mode, done, total| {
            eprint!("\r{mode}: {done}/{total} runs   ");
        },
    )
    // A sweep that stops (even on a missing interpreter) is failed work: its
    // inputs were all checked above.
    .map_err(|e| CliError::Failed(e.to_string()))?;
    eprintln!();
    outln!(
        "{} swept over workers {:?}, {} timed run(s) each; time = whole interpreter run; load average {}",
        plan.script.display_name(),
        workers,
        args.reps,
        crate::engine::speedup::results::load_average_1m()
            .map_or("n/a".into(), |l| format!("{l:.2}"))
    );
    outln!(
        "{:<10} {:>7} {:>10} {:>10} {:>9} {:>15} {:>9}",
        "mode",
        "workers",
        "median s",
        "IQR s",
        "speedup",
        "95% CI",
        "CPU/wall"
    );
    for s in &sweeps {
        for (config, row) in s.results.rows() {
            let ci = row
                .speedup_ci95
                .map_or("-".into(), |[lo, hi]| format!("{lo:.2}-{hi:.2}"));
            let cpu = s
                .results
                .median_trace(config)
                .and_then(cpu_per_wall)
                .map_or("-".into(), |r| format!("{r:.2}"));
            outln!(
                "{:<10} {:>7} {:>10.3} {:>10.3} {:>9} {:>15} {:>9}",
                s.mode,
                row.workers,
                row.median_s,
                row.q3_s - row.q1_s,
                row.speedup.map_or("-".into(), |v| format!("{v:.2}")),
                ci,
                cpu
            );
        }
    }
    // Other processes' CPU over every timed run (the interpreters and their
    // workers counted as the runs' own): the speedup lab's busy-machine check.
    let mut other = crate::engine::exec::other_cpu::OtherCpu::default();
    for s in &sweeps {
        other.add(&s.results.other_cpu);
    }
    if other.windows > 0 {
        if other.is_busy() {
            outln!("*** {} ***", other.describe());
        } else {
            outln!("{}", other.describe());
        }
    }
    if let (Some(p), Some(report)) = (&args.sweep_out, modes_report(&sweeps)) {
        write_json(p, &report.to_json())?;
    }
    Ok(())
}

/// The number after `flag` in a script's arguments.
fn arg_value(args: &[String], flag: &str) -> Option<usize> {
    let i = args.iter().position(|a| a == flag)?;
    args.get(i + 1)?.parse().ok()
}
