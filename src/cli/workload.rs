//! `parlab workload …`: the course's workloads headless. `run` runs one
//! workload under a schedule (optionally in GIL mode) and prints the trace
//! statistics, the compute/overhead split and the check against the serial
//! result; `collect` times the three ways of collecting results; `order`
//! repeats the HelloWorld demo and counts how often tasks finish out of order.

use super::outputs::Written;
use super::{CliError, check_output, check_workers, parse_schedule};
use crate::engine::exec::gil::WHY_MULTIPROCESSING;
use crate::engine::exec::pool::{build_pool, logical_cores};
use crate::engine::util::files::write_trace;
use crate::engine::workloads::completion::completion_order;
use crate::engine::workloads::{WorkloadError, WorkloadRun, WorkloadSpec};
use clap::{Args, Subcommand};
use serde_json::json;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

#[derive(Subcommand, Debug, Clone)]
pub enum WorkloadCommand {
    /// Run one workload under a schedule and check it against the serial result.
    Run(RunArgs),
    /// Time ordered collect vs a Mutex-guarded Vec vs a channel on one workload.
    Collect(CollectArgs),
    /// Submission order vs completion order over repeated runs (HelloWorld).
    Order(OrderArgs),
}

#[derive(Args, Debug, Clone)]
pub struct RunArgs {
    /// primes, dot, matmul or io, optionally with parameters, e.g.
    /// primes:count=640,chunk=20 · dot:len=4000000,chunks=64 · matmul:n=512,cutoff=64 · io:tasks=64,wait-ms=10
    #[arg(long, default_value = "primes")]
    pub workload: String,
    /// Worker threads; default: all logical cores.
    #[arg(long, allow_negative_numbers = true, value_parser = super::workers_arg())]
    pub workers: Option<usize>,
    /// sequential, static-block, static-cyclic, dynamic[:K], guided[:K], work-stealing.
    #[arg(long, default_value = "dynamic")]
    pub schedule: String,
    /// GIL mode: every task computes holding one global lock, as CPython threads do.
    #[arg(long)]
    pub gil: bool,
    /// Run this many times and report the spread of wall times (1..=1000).
    #[arg(long, default_value_t = 1, allow_negative_numbers = true, value_parser = super::whole::<usize>(1, 1000))]
    pub repeats: usize,
    /// Chrome Trace JSON of the last run.
    #[arg(long)]
    pub trace_out: Option<PathBuf>,
    /// Print the summary as one JSON object.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug, Clone)]
pub struct CollectArgs {
    /// Workload (as for `workload run`).
    #[arg(long, default_value = "primes")]
    pub workload: String,
    #[arg(long, allow_negative_numbers = true, value_parser = super::workers_arg())]
    pub workers: Option<usize>,
    /// Rounds of the three methods, interleaved (1..=1000).
    #[arg(long, default_value_t = 3, allow_negative_numbers = true, value_parser = super::whole::<usize>(1, 1000))]
    pub repeats: usize,
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug, Clone)]
pub struct OrderArgs {
    /// Hello tasks per run (1..=100000).
    #[arg(long, default_value_t = 8, allow_negative_numbers = true, value_parser = super::whole::<usize>(1, 100_000))]
    pub tasks: usize,
    /// Hashing rounds each task does (its "print"); about a millisecond by default,
    /// long enough for every worker to wake and take tasks.
    #[arg(long, default_value_t = 2_000_000, allow_negative_numbers = true,
          value_parser = super::whole::<u32>(0, u32::MAX.into()))]
    pub rounds: u32,
    /// Runs (1..=10000).
    #[arg(long, default_value_t = 20, allow_negative_numbers = true, value_parser = super::whole::<usize>(1, 10_000))]
    pub repeats: usize,
    #[arg(long, allow_negative_numbers = true, value_parser = super::workers_arg())]
    pub workers: Option<usize>,
    #[arg(long, default_value = "dynamic")]
    pub schedule: String,
    #[arg(long)]
    pub json: bool,
}

pub fn run(cmd: &WorkloadCommand) -> Result<(), CliError> {
    match cmd {
        WorkloadCommand::Run(a) => run_one(a),
        WorkloadCommand::Collect(a) => collect(a),
        WorkloadCommand::Order(a) => order(a),
    }
}

fn ms(nanos: u64) -> f64 {
    nanos as f64 / 1e6
}

fn parse_spec(s: &str) -> Result<WorkloadSpec, CliError> {
    s.parse()
        .map_err(|e: WorkloadError| CliError::Usage(format!("--workload {s:?}: {e}")))
}

fn check_repeats(n: usize, max: usize) -> Result<usize, CliError> {
    if (1..=max).contains(&n) {
        Ok(n)
    } else {
        Err(CliError::Usage(format!(
            "--repeats must be 1..={max}, got {n}"
        )))
    }
}

fn run_one(args: &RunArgs) -> Result<(), CliError> {
    let spec = parse_spec(&args.workload)?;
    let workers = check_workers(args.workers.unwrap_or_else(logical_cores))?;
    let schedule = parse_schedule(&args.schedule)?;
    let repeats = check_repeats(args.repeats, 1000)?;
    if let Some(p) = &args.trace_out {
        check_output(p, "--trace-out")?;
    }
    let workload = spec.prepare()?;
    let pool = build_pool(workers)?;
    let cancel = AtomicBool::new(false);
    let mut runs: Vec<WorkloadRun> = Vec::with_capacity(repeats);
    for _ in 0..repeats {
        runs.push(workload.run(schedule, Some(&pool), &cancel, args.gil)?);
    }
    let mut walls: Vec<u64> = runs.iter().map(|r| r.timing.wall_nanos).collect();
    walls.sort_unstable();
    let median_wall = walls[walls.len() / 2];
    let failed = runs.iter().find_map(|r| r.check.clone().err());
    let Some(last) = runs.last() else {
        return Err(CliError::Failed("no run".into()));
    };
    if let Some(p) = &args.trace_out {
        let mut written = Written::default();
        written.add(p, write_trace(p, &last.trace, workload.task_label()));
        written.finish()?;
    }
    let stats = last.trace.stats();
    let t = last.timing;
    if args.json {
        let per_run: Vec<_> = runs
            .iter()
            .map(|r| {
                json!({"wall_ms": ms(r.timing.wall_nanos), "compute_ms": ms(r.timing.compute_nanos),
                "combine_ms": ms(r.timing.combine_nanos), "startup_ms": ms(r.timing.startup_nanos),
                "join_ms": ms(r.timing.join_nanos),
                "overhead_ms": ms(r.timing.overhead_nanos())})
            })
            .collect();
        let workers_json: Vec<_> = stats
            .workers
            .iter()
            .map(|w| json!({"id": w.id, "tasks": w.tasks, "busy_ms": ms(w.busy_nanos), "work": w.work}))
            .collect();
        outln!(
            "{}",
            json!({
                "workload": spec.to_string(),
                "schedule": schedule.to_string(),
                "num_workers": t.num_workers,
                "gil": args.gil,
                "tasks": workload.num_tasks(),
                "work_unit": workload.work_unit(),
                "wall_ms_min": ms(walls[0]),
                "wall_ms_median": ms(median_wall),
                "wall_ms_max": ms(walls[walls.len() - 1]),
                "runs": per_run,
                "utilisation": stats.utilisation,
                "imbalance": stats.imbalance,
                "work": stats.work,
                "workers": workers_json,
                "summary": last.summary,
                "agrees_with_serial": failed.is_none(),
                "check": failed
                    .as_ref()
                    .map_or_else(|| "agrees with serial".to_string(), ToString::to_string),
                "gil_held_intervals": last.gil_intervals.as_ref().map(Vec::len),
            })
        );
    } else {
        outln!(
            "{}: {} {}s, schedule {schedule}, {} worker(s){}",
            spec,
            workload.num_tasks(),
            workload.task_label(),
            t.num_workers,
            if args.gil { ", GIL mode" } else { "" }
        );
        outln!("  {}", last.summary);
        outln!(
            "  wall {:.3} ms (median of {repeats}; min {:.3}, max {:.3})",
            ms(median_wall),
            ms(walls[0]),
            ms(walls[walls.len() - 1])
        );
        outln!(
            "  last run: wall {:.3} ms = time in tasks/P {:.3} ms + overhead {:.3} ms (scheduling, idling, imbalance); \
             of which startup {:.3} ms and join {:.3} ms; collection afterwards {:.3} ms",
            ms(t.wall_nanos),
            ms(t.compute_per_worker_nanos()),
            ms(t.overhead_nanos()),
            ms(t.startup_nanos),
            ms(t.join_nanos),
            ms(t.combine_nanos)
        );
        outln!(
            "  utilisation {:.1} %   imbalance {:.3}   total time in tasks {:.3} ms",
            stats.utilisation * 100.0,
            stats.imbalance,
            ms(t.compute_nanos)
        );
        outln!(
            "{:>8} {:>8} {:>10} {:>16}",
            "worker",
            "tasks",
            "busy ms",
            workload.work_unit()
        );
        for w in &stats.workers {
            outln!(
                "{:>8} {:>8} {:>10.3} {:>16}",
                w.id,
                w.tasks,
                ms(w.busy_nanos),
                w.work
            );
        }
        if let Some(held) = &last.gil_intervals {
            let waited: u64 = held.iter().map(|h| h.waited_nanos).sum();
            outln!(
                "  GIL: taken {} times, tasks waited {:.3} ms for it in all",
                held.len(),
                ms(waited)
            );
            outln!("  {WHY_MULTIPROCESSING}");
        }
        match &failed {
            None => outln!("  check: every run agrees with the serial result"),
            Some(e) => outln!("  check FAILED: {e}"),
        }
        if let Some(p) = &args.trace_out {
            outln!(
                "wrote {} (Chrome Trace JSON: open in Perfetto)",
                p.display()
            );
        }
    }
    match failed {
        None => Ok(()),
        Some(e) => Err(e.into()),
    }
}

fn collect(args: &CollectArgs) -> Result<(), CliError> {
    let spec = parse_spec(&args.workload)?;
    let workers = check_workers(args.workers.unwrap_or_else(logical_cores))?;
    let repeats = check_repeats(args.repeats, 1000)?;
    let workload = spec.prepare()?;
    let pool = build_pool(workers)?;
    let runs = workload.compare_collectors(&pool, repeats);
    let failed = runs.iter().find_map(|r| r.check.clone().err());
    if args.json {
        let rows: Vec<_> = runs
            .iter()
            .map(|r| {
                json!({"method": r.method.name(), "wall_ms": ms(r.wall_nanos),
                "handoff_ms": ms(r.handoff_nanos), "reorder_ms": ms(r.reorder_nanos),
                "out_of_order": r.out_of_order, "agrees_with_serial": r.check.is_ok()})
            })
            .collect();
        outln!(
            "{}",
            json!({"workload": spec.to_string(), "num_workers": workers, "runs": rows})
        );
    } else {
        outln!(
            "{spec}: collecting {} results on {workers} worker(s)",
            workload.num_tasks()
        );
        outln!(
            "{:<28} {:>10} {:>12} {:>12} {:>13} {:>7}",
            "method",
            "wall ms",
            "handoff ms",
            "reorder ms",
            "out of order",
            "check"
        );
        for r in &runs {
            outln!(
                "{:<28} {:>10.3} {:>12.4} {:>12.4} {:>13} {:>7}",
                r.method.name(),
                ms(r.wall_nanos),
                ms(r.handoff_nanos),
                ms(r.reorder_nanos),
                r.out_of_order,
                if r.check.is_ok() { "ok" } else { "FAILED" }
            );
        }
    }
    match failed {
        None => Ok(()),
        Some(e) => Err(e.into()),
    }
}

fn order(args: &OrderArgs) -> Result<(), CliError> {
    let workers = check_workers(args.workers.unwrap_or_else(logical_cores))?;
    let schedule = parse_schedule(&args.schedule)?;
    let repeats = check_repeats(args.repeats, 10_000)?;
    if !(1..=100_000).contains(&args.tasks) {
        return Err(CliError::Usage(format!(
            "--tasks must be 1..=100000, got {}",
            args.tasks
        )));
    }
    let pool = build_pool(workers)?;
    let s = completion_order(args.tasks, args.rounds, repeats, schedule, &pool)?;
    if args.json {
        outln!(
            "{}",
            json!({"summary": s, "runs_out_of_order": s.runs_out_of_order(),
                   "mean_displaced": s.mean_displaced(), "distinct_orders": s.distinct_orders()})
        );
        return Ok(());
    }
    outln!(
        "{} hello tasks submitted in order 0..{} on {} worker(s), schedule {}, {} runs",
        s.num_tasks,
        s.num_tasks - 1,
        s.num_workers,
        s.schedule,
        s.runs.len()
    );
    for (k, r) in s.runs.iter().enumerate().take(20) {
        let order: Vec<String> = r
            .completion_order
            .iter()
            .map(|t| format!("{t}@w{}", r.worker_of_task[*t as usize]))
            .collect();
        outln!(
            "  run {k:>3}: finished {}{}",
            order.join(" "),
            if r.in_order() { "  (in order)" } else { "" }
        );
    }
    if s.runs.len() > 20 {
        outln!("  … {} more runs", s.runs.len() - 20);
    }
    outln!(
        "out of order in {} of {} runs; on average {:.2} tasks not in their submission place; {} distinct orders",
        s.runs_out_of_order(),
        s.runs.len(),
        s.mean_displaced(),
        s.distinct_orders()
    );
    Ok(())
}
