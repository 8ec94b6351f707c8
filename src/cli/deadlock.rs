//! `parlab deadlock`: two threads, two locks, opposite order; reports the
//! detected wait-for cycle, or completion with `--fix ordering`. Always exits.

use super::CliError;
use crate::engine::locks::deadlock::{
    DeadlockConfig, LockOrder, MAX_TIMEOUT_MILLIS, Outcome, run_deadlock,
};
use clap::Args;
use serde_json::json;

#[derive(Args, Debug, Clone)]
pub struct DeadlockArgs {
    /// Apply a fix: `ordering` (both threads take A before B).
    #[arg(long, value_name = "FIX")]
    pub fix: Option<String>,
    /// Report a deadlock once a wait-for cycle has lasted this long (1..=10000 ms).
    #[arg(long, default_value_t = 300, allow_negative_numbers = true,
          value_parser = super::whole::<u64>(1, MAX_TIMEOUT_MILLIS.into()))]
    pub timeout_ms: u64,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &DeadlockArgs) -> Result<(), CliError> {
    let order = match args.fix.as_deref() {
        None => LockOrder::Opposite,
        Some("ordering") => LockOrder::Global,
        Some(other) => {
            return Err(CliError::Usage(format!(
                "--fix {other:?}: the only fix is `ordering`"
            )));
        }
    };
    let config = DeadlockConfig {
        order,
        timeout_millis: args.timeout_ms,
        ..DeadlockConfig::default()
    };
    config.validate().map_err(|e| {
        CliError::Usage(format!("{e} (--timeout-ms takes 1..={MAX_TIMEOUT_MILLIS})"))
    })?;
    let report = run_deadlock(&config)?;
    let outcome = match report.outcome {
        Outcome::Detected => "detected",
        Outcome::Completed => "completed",
    };
    if args.json {
        let value = json!({
            "outcome": outcome,
            "order": match order { LockOrder::Opposite => "opposite", LockOrder::Global => "global" },
            "timeout_ms": config.timeout_millis,
            "cycle": report.cycle.iter().map(|e| json!({
                "thread": format!("T{}", e.thread + 1),
                "holds": e.holds.map(|l| crate::engine::locks::deadlock::LOCK_NAMES[l]),
                "waits_for": crate::engine::locks::deadlock::LOCK_NAMES[e.waits_for],
                "held_by": format!("T{}", e.held_by + 1),
                "text": e.describe(),
            })).collect::<Vec<_>>(),
            "detected_after_ms": report.detected_after_nanos.map(|n| n as f64 * 1e-6),
            "wall_ms": report.wall_nanos as f64 * 1e-6,
            "steps": report.steps.iter().map(|s| json!({
                "ms": s.time_nanos as f64 * 1e-6,
                "text": s.text,
            })).collect::<Vec<_>>(),
        });
        outln!("{value}");
        return Ok(());
    }
    outln!(
        "deadlock demo: T1 takes A then B; T2 takes {} (timeout {} ms)",
        if order == LockOrder::Opposite {
            "B then A"
        } else {
            "A then B (global lock order)"
        },
        config.timeout_millis
    );
    for s in &report.steps {
        outln!("{:>9.3} ms  {}", s.time_nanos as f64 * 1e-6, s.text);
    }
    match report.outcome {
        Outcome::Detected => {
            outln!(
                "deadlock detected after {:.1} ms: wait-for cycle",
                report.detected_after_nanos.unwrap_or(0) as f64 * 1e-6
            );
            for e in &report.cycle {
                outln!("  {}", e.describe());
            }
            outln!(
                "the victim gave up and released its lock, so the other thread finished; rerun with --fix ordering"
            );
        }
        Outcome::Completed => {
            outln!(
                "completed in {:.1} ms: no cycle is possible when every thread takes the locks in the same order",
                report.wall_nanos as f64 * 1e-6
            );
        }
    }
    Ok(())
}
