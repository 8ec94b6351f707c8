//! `parlab locks`: operations per second against thread count for several
//! ways of sharing a counter; optional CSV and PNG/SVG plot.

use super::outputs::{Written, check_outputs};
use super::{CliError, whole};
use crate::engine::exec::pool::logical_cores;
use crate::engine::locks::plot::{PlotFormat, throughput_csv, write_throughput_plot};
use crate::engine::locks::throughput::MAX_OPS;
use crate::engine::locks::throughput::{
    LockKind, PAD_BYTES, ThroughputConfig, ThroughputPoint, run_throughput,
};
use crate::engine::util::files::write_atomic;
use crate::engine::util::list::{parse_list, whole_number};
use clap::Args;
use serde_json::json;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

#[derive(Args, Debug, Clone)]
pub struct LocksArgs {
    /// Thread counts to measure, comma-separated (each 1..=64).
    #[arg(long, default_value = "1,2,4,8", value_name = "LIST")]
    pub threads: String,
    /// Operations per measurement, split across the threads (1..=100000000).
    #[arg(long, default_value_t = 2_000_000, value_name = "N", allow_negative_numbers = true,
          value_parser = whole::<u64>(1, MAX_OPS.into()))]
    pub ops: u64,
    /// Kinds to measure, comma-separated (default: all): uncontended, mutex,
    /// rwlock-read-heavy, rwlock-write-heavy, atomic, padded-counters, packed-counters.
    #[arg(long, value_name = "LIST")]
    pub kinds: Option<String>,
    /// Measurements per point (1..=50); the spread is reported.
    #[arg(long, default_value_t = 3, allow_negative_numbers = true,
          value_parser = whole::<usize>(1, 50))]
    pub repeats: usize,
    /// Write every point as CSV.
    #[arg(long, value_name = "CSV")]
    pub export_csv: Option<PathBuf>,
    /// Write a plot (.png or .svg).
    #[arg(long, value_name = "FILE")]
    pub plot: Option<PathBuf>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Parses "1,2,4,8" with the one list parser (an empty item is an error).
pub fn parse_thread_list(s: &str) -> Result<Vec<usize>, String> {
    let mut list =
        parse_list(s, whole_number::<usize>).map_err(|e| format!("--threads {s:?}: {e}"))?;
    list.sort_unstable();
    list.dedup();
    Ok(list)
}

impl LocksArgs {
    pub fn to_config(&self) -> Result<ThroughputConfig, CliError> {
        let thread_counts = parse_thread_list(&self.threads).map_err(CliError::Usage)?;
        let kinds = match &self.kinds {
            None => LockKind::ALL.to_vec(),
            Some(list) => parse_list(list, |k| k.parse::<LockKind>())
                .map_err(|e| CliError::Usage(format!("--kinds {list:?}: {e}")))?,
        };
        let config = ThroughputConfig {
            thread_counts,
            ops: self.ops,
            kinds,
            repeats: self.repeats,
        };
        config.validate().map_err(|e| {
            CliError::Usage(format!("{e} (see --threads, --ops, --kinds, --repeats)"))
        })?;
        Ok(config)
    }
}

fn point_json(p: &ThroughputPoint) -> serde_json::Value {
    json!({
        "kind": p.kind.name(),
        "threads": p.num_threads,
        "ops": p.ops,
        "median_ops_per_sec": p.median_ops_per_sec,
        "min_ops_per_sec": p.min_ops_per_sec,
        "max_ops_per_sec": p.max_ops_per_sec,
        "samples_ops_per_sec": p.samples_ops_per_sec,
        "counted_right": p.counted_right,
    })
}

pub fn run(args: &LocksArgs) -> Result<(), CliError> {
    let config = args.to_config()?;
    let mut outputs = Vec::new();
    if let Some(p) = &args.export_csv {
        outputs.push(("--export-csv", p.as_path()));
    }
    if let Some(p) = &args.plot {
        PlotFormat::from_path(p).map_err(|e| CliError::Usage(format!("--plot {e}")))?;
        outputs.push(("--plot", p.as_path()));
    }
    check_outputs(&outputs)?;
    let json = args.json;
    if !json {
        outln!(
            "locks: {} ops per measurement, median of {} (min–max), this machine has {} logical cores; padded counters are {PAD_BYTES}-byte aligned",
            config.ops,
            config.repeats,
            logical_cores()
        );
    }
    let cancel = AtomicBool::new(false);
    let points = run_throughput(&config, &cancel, |p| {
        if !json {
            outln!(
                "{:<36} {:>3} threads  {:>14.0} ops/s  ({:.0}–{:.0}){}",
                p.kind.label(),
                p.num_threads,
                p.median_ops_per_sec,
                p.min_ops_per_sec,
                p.max_ops_per_sec,
                if p.counted_right { "" } else { "  COUNT WRONG" }
            );
        }
    })?;
    let mut written = Written::default();
    if let Some(p) = &args.export_csv {
        written.add(p, write_atomic(p, throughput_csv(&points).as_bytes()));
    }
    if let Some(p) = &args.plot {
        written.add(p, write_throughput_plot(p, &points));
    }
    written.finish()?;
    if json {
        outln!(
            "{}",
            json!({
                "ops": config.ops,
                "repeats": config.repeats,
                "logical_cores": logical_cores(),
                "pad_bytes": PAD_BYTES,
                "points": points.iter().map(point_json).collect::<Vec<_>>(),
            })
        );
    }
    if points.iter().any(|p| !p.counted_right) {
        return Err(CliError::Failed(
            "a counter ended at the wrong value (this is a bug)".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_lists_parse() {
        assert_eq!(parse_thread_list("8, 1,2,2"), Ok(vec![1, 2, 8]));
        assert!(parse_thread_list("1,x").is_err());
        assert!(parse_thread_list("").is_err());
        assert!(parse_thread_list("1,,2").is_err());
    }
}
