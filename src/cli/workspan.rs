//! `parlab workspan`: the divide-and-conquer matrix product with its work T₁
//! and span T∞ measured from the recursion, the Brent checks against the
//! measured T_P, and (with --growth) the growth from n = 64 up beside the
//! master-theorem predictions.

use super::outputs::Written;
use super::{CliError, check_output, check_workers, whole};
use crate::engine::exec::pool::{build_pool, logical_cores};
use crate::engine::util::files::write_trace;
use crate::engine::workloads::matmul::{
    MAX_N, MIN_WORK_SPAN_RUNS, SPAN_RECURRENCE, WORK_RECURRENCE, WORK_SPAN_METHOD, WorkSpanReport,
    WorkSpanSpread, check_sizes, growth, work_span,
};
use clap::Args;
use serde_json::json;
use std::path::PathBuf;

#[derive(Args, Debug, Clone)]
pub struct WorkSpanArgs {
    /// Matrix edge, a power of two (1..=2048).
    #[arg(long, default_value_t = 512, allow_negative_numbers = true,
          value_parser = whole::<usize>(1, MAX_N as i128))]
    pub n: usize,
    /// Below this edge the recursion runs the serial kernel (power of two ≤ n).
    #[arg(long, default_value_t = 64, allow_negative_numbers = true,
          value_parser = whole::<usize>(1, MAX_N as i128))]
    pub cutoff: usize,
    /// Worker threads; default: all logical cores.
    #[arg(long, allow_negative_numbers = true, value_parser = super::workers_arg())]
    pub workers: Option<usize>,
    /// Also measure n = 64, 128, … up to --n and show the growth.
    #[arg(long)]
    pub growth: bool,
    /// Measure this many times (1..=100); the run with the median TP is
    /// shown, with the spread (min / median / max) of every figure over all
    /// runs. Fewer than 5 runs give no trustworthy spread (a warning says so).
    #[arg(long, default_value_t = 5, allow_negative_numbers = true, value_parser = whole::<usize>(1, 100))]
    pub repeats: usize,
    /// Seed of the random small-integer matrices.
    #[arg(long, default_value_t = 1, allow_negative_numbers = true,
          value_parser = whole::<u64>(0, u64::MAX.into()))]
    pub seed: u64,
    /// Chrome Trace JSON of the P-worker run's leaves.
    #[arg(long)]
    pub trace_out: Option<PathBuf>,
    /// Print the report as one JSON object.
    #[arg(long)]
    pub json: bool,
}

fn ms(nanos: u64) -> f64 {
    nanos as f64 / 1e6
}

fn ok(b: bool) -> &'static str {
    if b { "holds" } else { "does NOT hold" }
}

pub fn run(args: &WorkSpanArgs) -> Result<(), CliError> {
    check_sizes(args.n, args.cutoff)?;
    let workers = check_workers(args.workers.unwrap_or_else(logical_cores))?;
    if let Some(p) = &args.trace_out {
        check_output(p, "--trace-out")?;
    }
    let growth_ns: Vec<usize> = if args.growth {
        (6..=11)
            .map(|k| 1usize << k)
            .filter(|&n| n <= args.n && n >= args.cutoff)
            .collect()
    } else {
        Vec::new()
    };
    let pool = build_pool(workers)?;
    let one = build_pool(1)?;
    if !(1..=100).contains(&args.repeats) {
        return Err(CliError::Usage(format!(
            "--repeats must be 1..=100, got {}",
            args.repeats
        )));
    }
    let mut reports = Vec::with_capacity(args.repeats);
    for _ in 0..args.repeats {
        reports.push(work_span(args.n, args.cutoff, &pool, &one, args.seed)?);
    }
    let all_structural = reports
        .iter()
        .all(|r| r.span_bound_holds() && r.work_bound_holds());
    let all_match = reports.iter().all(|r| r.matches_serial);
    let spread = WorkSpanSpread::of(&reports);
    reports.sort_by_key(|r| r.parallel.wall_nanos);
    let report = reports.swap_remove(reports.len() / 2);
    let rows = growth(&growth_ns, args.cutoff, &pool, args.seed)?;
    if let Some(p) = &args.trace_out {
        let mut written = Written::default();
        written.add(p, write_trace(p, &report.parallel.trace, "leaf"));
        written.finish()?;
    }
    if args.json {
        let mut parallel = serde_json::to_value(&report.parallel).unwrap_or_default();
        if let Some(o) = parallel.as_object_mut() {
            o.remove("trace");
        }
        let mut one_worker = serde_json::to_value(&report.one_worker).unwrap_or_default();
        if let Some(o) = one_worker.as_object_mut() {
            o.remove("trace");
        }
        outln!(
            "{}",
            json!({
                "n": args.n, "cutoff": args.cutoff, "num_workers": workers,
                "parallel": parallel, "one_worker": one_worker,
                "parallelism": report.parallelism(),
                "parallelism_source": "instrumented 1-worker run (T1/Tinf), as Cilkscale",
                "burdened_span_ms": report.one_worker.burdened_span_nanos(report.join_overhead_nanos) / 1e6,
                "burdened_parallelism": report.burdened_parallelism(),
                "join_overhead_ns": report.join_overhead_nanos,
                "p_worker_span_ms": report.parallel.span_nanos as f64 / 1e6,
                "p_worker_span_note": "measured inside the P-worker run: includes preemption and steal delays",
                "method": WORK_SPAN_METHOD,
                "matches_serial": report.matches_serial,
                "span_le_tp": report.span_bound_holds(),
                "work_over_p_le_tp": report.work_bound_holds(),
                "tp_le_work_over_p_plus_span": report.brent_upper_holds(),
                "one_worker_t1_over_p_le_tp": report.one_worker_bound_holds(),
                "work_recurrence": WORK_RECURRENCE,
                "span_recurrence": SPAN_RECURRENCE,
                "growth": rows,
                "repeats": args.repeats,
                "spread_ms": spread,
                "structural_checks_hold_in_every_run": all_structural,
            })
        );
    } else {
        print_report(&report);
        outln!(
            "  over {} runs, min / median / max (every figure):",
            args.repeats
        );
        outln!(
            "    T1 (1-worker run)          {} ms",
            spread.work_ms.show(3)
        );
        outln!(
            "    T∞ (1-worker run)          {} ms",
            spread.span_ms.show(3)
        );
        outln!(
            "    parallelism T1/T∞          {}",
            spread.parallelism.show(1)
        );
        outln!(
            "    join overhead              {} ns per rayon::join",
            spread.join_overhead_ns.show(0)
        );
        outln!(
            "    burdened T∞                {} ms",
            spread.burdened_span_ms.show(3)
        );
        outln!(
            "    burdened parallelism       {}",
            spread.burdened_parallelism.show(1)
        );
        outln!(
            "    T∞ in the P-worker run     {} ms (includes preemption and steal delays)",
            spread.p_worker_span_ms.show(3)
        );
        outln!(
            "    TP                         {} ms",
            spread.wall_ms.show(3)
        );
        outln!(
            "    1-worker wall              {} ms",
            spread.one_worker_wall_ms.show(3)
        );
        if args.repeats < MIN_WORK_SPAN_RUNS {
            outln!(
                "  warning: {} run(s) give no trustworthy spread; use --repeats {MIN_WORK_SPAN_RUNS} or more",
                args.repeats
            );
        }
        outln!("  method: {WORK_SPAN_METHOD}");
        outln!(
            "  T∞ ≤ TP and T1/P ≤ TP hold in every run: {}",
            if all_structural { "yes" } else { "NO" }
        );
        if !rows.is_empty() {
            outln!();
            outln!("growth at cutoff {} on {workers} worker(s):", args.cutoff);
            outln!("  predicted: {WORK_RECURRENCE}");
            outln!("  predicted: {SPAN_RECURRENCE}");
            outln!(
                "{:>6} {:>12} {:>8} {:>12} {:>8} {:>12} {:>12}",
                "n",
                "T1 ms",
                "×prev",
                "T∞ ms",
                "×prev",
                "TP ms",
                "T1/T∞"
            );
            for r in &rows {
                let ratio = |x: Option<f64>| x.map_or("-".to_owned(), |v| format!("{v:.2}"));
                outln!(
                    "{:>6} {:>12.3} {:>8} {:>12.3} {:>8} {:>12.3} {:>12.1}",
                    r.n,
                    ms(r.work_nanos),
                    ratio(r.work_ratio),
                    ms(r.span_nanos),
                    ratio(r.span_ratio),
                    ms(r.wall_nanos),
                    r.parallelism
                );
            }
        }
        if let Some(p) = &args.trace_out {
            outln!(
                "wrote {} (Chrome Trace JSON: open in Perfetto)",
                p.display()
            );
        }
    }
    if all_match {
        Ok(())
    } else {
        Err(CliError::Failed(
            "the divide-and-conquer product differs from the triple loop".into(),
        ))
    }
}

fn print_report(r: &WorkSpanReport) {
    let p = &r.parallel;
    let workers = p.num_workers;
    outln!(
        "divide-and-conquer matmul n = {}, cutoff {}: {} leaf products, {} leaf additions, {workers} worker(s)",
        p.n,
        p.cutoff,
        p.leaf_products,
        p.leaf_additions
    );
    outln!(
        "  result equals the triple-loop product exactly: {}",
        if r.matches_serial { "yes" } else { "NO" }
    );
    let one = &r.one_worker;
    outln!("  work and span as Cilkscale measures them (instrumented 1-worker run):");
    outln!(
        "    work T1  = {:>10.3} ms  (Σ leaf, add and alloc segments)",
        ms(one.work_nanos)
    );
    outln!(
        "    span T∞  = {:>10.3} ms  (longest dependent chain, {} joins on it)",
        ms(one.span_nanos),
        one.span_joins
    );
    outln!("    parallelism T1/T∞ = {:.1}", r.parallelism());
    outln!(
        "    burdened span = {:.3} ms (+ {:.0} ns per join, measured), burdened parallelism {:.1}",
        one.burdened_span_nanos(r.join_overhead_nanos) / 1e6,
        r.join_overhead_nanos,
        r.burdened_parallelism()
    );
    outln!("  the median-TP {workers}-worker run (same timestamps):");
    outln!(
        "    work T1  = {:>10.3} ms  (includes contention)",
        ms(p.work_nanos)
    );
    outln!(
        "    span T∞  = {:>10.3} ms  (includes preemption and steal delays: not the parallelism's span)",
        ms(p.span_nanos)
    );
    outln!("    wall TP  = {:>10.3} ms", ms(p.wall_nanos));
    outln!(
        "  1-worker run: wall {:.3} ms, work {:.3} ms (T1 without contention)",
        ms(r.one_worker.wall_nanos),
        ms(r.one_worker.work_nanos)
    );
    outln!("  Brent:");
    outln!(
        "    T∞ ≤ TP              {:>10.3} ≤ {:.3} ms: {} (structural)",
        ms(p.span_nanos),
        ms(p.wall_nanos),
        ok(r.span_bound_holds())
    );
    outln!(
        "    T1/P ≤ TP            {:>10.3} ≤ {:.3} ms: {} (structural)",
        p.work_bound_nanos() / 1e6,
        ms(p.wall_nanos),
        ok(r.work_bound_holds())
    );
    outln!(
        "    T1(1 worker)/P ≤ TP  {:>10.3} ≤ {:.3} ms: {} (measured across runs)",
        r.one_worker.wall_nanos as f64 / f64::from(workers) / 1e6,
        ms(p.wall_nanos),
        ok(r.one_worker_bound_holds())
    );
    outln!(
        "    TP ≤ T1/P + T∞       {:>10.3} ≤ {:.3} ms: {} (greedy bound; overhead can break it)",
        ms(p.wall_nanos),
        p.brent_upper_nanos() / 1e6,
        ok(r.brent_upper_holds())
    );
    outln!(
        "  speedup vs 1 worker: {:.2} on {workers} worker(s)",
        r.one_worker.wall_nanos as f64 / p.wall_nanos.max(1) as f64
    );
}
