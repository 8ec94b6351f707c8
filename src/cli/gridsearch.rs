//! `parlab gridsearch`: how many workers a grid search needs to meet a
//! deadline, counting whole rounds (the course's grid-search exercise), and the speedup each worker
//! count really gets once the last round is only partly full.

use super::CliError;
use crate::engine::theory::{GridPlan, grid_search, grid_size, quantised_speedup};
use crate::engine::util::list::{parse_list, whole_number};
use crate::engine::util::num::num;
use clap::Args;
use serde_json::json;

#[derive(Args, Debug, Clone)]
pub struct GridSearchArgs {
    /// Number of independent tasks (train-test runs).
    #[arg(long, conflicts_with = "grid", required_unless_present = "grid", allow_negative_numbers = true,
          value_parser = super::whole::<u64>(0, u64::MAX.into()))]
    pub tasks: Option<u64>,
    /// The grid instead of --tasks, e.g. 5x5x5 (125 tasks).
    #[arg(long, value_name = "AxBxC")]
    pub grid: Option<String>,
    /// Seconds one task takes.
    #[arg(long, allow_negative_numbers = true)]
    pub task_s: f64,
    /// Seconds until the whole search must be done.
    #[arg(long, allow_negative_numbers = true)]
    pub deadline_s: f64,
    /// Also show the quantised speedup at these worker counts (comma-separated).
    #[arg(long, value_name = "P,…", allow_negative_numbers = true)]
    pub workers: Option<String>,
    /// Print the answer as one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// Worker counts for the quantisation table: powers of two, the answer and
/// its neighbours, and any asked for, up to the task count.
fn table_workers(plan: &GridPlan, extra: &[u64]) -> Vec<u64> {
    let mut ps: Vec<u64> = (0..16).map(|k| 1u64 << k).collect();
    ps.extend([
        plan.min_workers.saturating_sub(1),
        plan.min_workers,
        plan.min_workers + 1,
        plan.tasks,
    ]);
    ps.extend_from_slice(extra);
    ps.retain(|&p| p >= 1 && p <= plan.tasks.max(1));
    ps.sort_unstable();
    ps.dedup();
    ps
}

pub fn run(args: &GridSearchArgs) -> Result<(), CliError> {
    let tasks = match (&args.grid, args.tasks) {
        (Some(g), _) => grid_size(g)?,
        (None, Some(t)) => t,
        (None, None) => return Err(CliError::Usage("give --tasks or --grid".into())),
    };
    let workers: Vec<u64> = match &args.workers {
        None => Vec::new(),
        Some(s) => parse_list(s, whole_number::<u64>)
            .map_err(|e| CliError::Usage(format!("--workers {s:?}: {e}")))?,
    };
    if let Some(&p) = workers.iter().find(|&&p| p == 0) {
        return Err(CliError::Usage(format!("--workers must be ≥ 1, got {p}")));
    }
    let plan = grid_search(tasks, args.task_s, args.deadline_s)?;
    let rows: Vec<_> = table_workers(&plan, &workers)
        .into_iter()
        .map(|p| {
            let rounds = tasks.div_ceil(p);
            (
                p,
                rounds,
                rounds as f64 * args.task_s,
                quantised_speedup(tasks, p),
            )
        })
        .collect();
    if args.json {
        let table: Vec<_> = rows
            .iter()
            .map(|&(p, rounds, t, s)| {
                json!({"workers": p, "rounds": rounds, "makespan_s": t,
                       "speedup": s, "ideal_speedup": p, "meets_deadline": t <= args.deadline_s})
            })
            .collect();
        outln!(
            "{}",
            json!({"plan": plan, "naive_is_enough": plan.naive_is_enough(), "quantisation": table})
        );
        return Ok(());
    }
    if tasks == 0 {
        outln!("no tasks: nothing to run, 0 workers needed");
        return Ok(());
    }
    outln!(
        "{tasks} tasks × {} s, deadline {} s (prediction from the round model)",
        num(args.task_s),
        num(args.deadline_s)
    );
    outln!(
        "  ⌊{} / {}⌋ = {} whole rounds fit  →  workers needed ⌈{tasks} / {}⌉ = {}",
        num(args.deadline_s),
        num(args.task_s),
        plan.rounds_allowed,
        plan.rounds_allowed,
        plan.min_workers
    );
    let naive = format!(
        "the naive {tasks}×{}/{} = {:.2} workers",
        num(args.task_s),
        num(args.deadline_s),
        plan.naive_workers
    );
    let verdict = if plan.naive_is_enough() {
        format!("{naive}, rounded up, is exactly enough here")
    } else {
        format!(
            "{naive}, rounded up to {}, is not enough: tasks run in whole rounds",
            plan.naive_workers.ceil()
        )
    };
    outln!(
        "  with {} workers: {} rounds, done at {} s ({verdict})",
        plan.min_workers,
        plan.rounds,
        num(plan.makespan_s),
    );
    outln!();
    outln!(
        "{:>8} {:>8} {:>12} {:>10} {:>8}  deadline",
        "workers",
        "rounds",
        "makespan s",
        "speedup",
        "ideal"
    );
    for (p, rounds, t, s) in rows {
        outln!(
            "{p:>8} {rounds:>8} {:>12} {s:>10.3} {p:>8}  {}",
            num(t),
            if t <= args.deadline_s {
                "met"
            } else {
                "missed"
            }
        );
    }
    Ok(())
}
