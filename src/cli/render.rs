//! `parlab render`: one parallel render to PNG, with a trace and a summary.

use super::{
    CliError, ViewArgs, check_output, check_workers, parse_kernel, parse_schedule, tiling_from,
};
use crate::engine::exec::pool::logical_cores;
use crate::engine::exec::trace::TraceStats;
use crate::engine::mandelbrot::colour::{Palette, apply_overlay};
use crate::engine::mandelbrot::render::{RenderSettings, render};
use crate::engine::util::files::{write_counts_npy, write_json, write_png};
use clap::Args;
use serde_json::json;
use std::path::PathBuf;

#[derive(Args, Debug, Clone)]
pub struct RenderArgs {
    #[command(flatten)]
    pub view: ViewArgs,
    /// Worker threads in the pool (1..=256); default: all logical cores.
    #[arg(long)]
    pub workers: Option<usize>,
    /// Square tile edge in pixels (1..=1024); default 64.
    #[arg(long, value_name = "PX")]
    pub tile: Option<u32>,
    /// Full-width horizontal bands instead of tiles, ROWS high (default 1).
    #[arg(long, value_name = "ROWS", num_args = 0..=1, default_missing_value = "1")]
    pub bands: Option<u32>,
    /// sequential, static-block, static-cyclic, dynamic[:K], guided[:K], work-stealing.
    #[arg(long, default_value = "dynamic")]
    pub schedule: String,
    /// Kernel that computes the pixels: simd (fast, same counts) or scalar (the readable reference).
    #[arg(long, default_value = "simd")]
    pub kernel: String,
    /// classic, fire, ocean or grey.
    #[arg(long, default_value = "classic")]
    pub palette: String,
    /// Tint every tile with the colour of the worker that computed it.
    #[arg(long)]
    pub overlay: bool,
    /// PNG to write.
    #[arg(long)]
    pub out: PathBuf,
    /// Chrome Trace Event JSON to write (opens in Perfetto / chrome://tracing).
    #[arg(long)]
    pub trace_out: Option<PathBuf>,
    /// Raw escape counts as a NumPy .npy array (uint32, height × width).
    #[arg(long)]
    pub counts_out: Option<PathBuf>,
    /// Print the summary as one JSON object.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &RenderArgs) -> Result<(), CliError> {
    let view = args.view.to_view()?;
    let num_workers = check_workers(args.workers.unwrap_or_else(logical_cores))?;
    let tiling = tiling_from(args.tile, args.bands)?;
    let schedule = parse_schedule(&args.schedule)?;
    let kernel = parse_kernel(&args.kernel)?;
    let palette: Palette = args.palette.parse().map_err(CliError::Usage)?;
    check_output(&args.out, "--out")?;
    if let Some(p) = &args.trace_out {
        check_output(p, "--trace-out")?;
    }
    if let Some(p) = &args.counts_out {
        check_output(p, "--counts-out")?;
    }

    let settings = RenderSettings {
        view,
        tiling,
        schedule,
        num_workers,
        kernel,
    };
    let meter = crate::engine::exec::other_cpu::OtherCpuMeter::start();
    let rendered = render(&settings, None).map_err(CliError::Failed)?;
    let other_cpu = meter.stop();
    let mut rgba = palette.colourise(&rendered.image);
    if args.overlay {
        let mut worker_of_tile = vec![None; rendered.tiles.len()];
        for r in &rendered.trace.records {
            worker_of_tile[r.task as usize] = Some(r.worker);
        }
        apply_overlay(&mut rgba, &rendered.tiles, &worker_of_tile);
    }
    write_png(&args.out, &rgba).map_err(|e| CliError::Failed(e.to_string()))?;
    if let Some(p) = &args.trace_out {
        write_json(p, &rendered.trace.to_chrome_json("tile"))
            .map_err(|e| CliError::Failed(e.to_string()))?;
    }
    if let Some(p) = &args.counts_out {
        write_counts_npy(p, &rendered.image).map_err(|e| CliError::Failed(e.to_string()))?;
    }

    let stats = rendered.trace.stats();
    if args.json {
        let mut summary = summary_json(args, &settings, rendered.tiles.len(), &stats);
        if let (Some(o), Some(obj)) = (&other_cpu, summary.as_object_mut()) {
            obj.insert("other_cpu".into(), o.to_json());
        }
        println!("{summary}");
    } else {
        print_summary(args, &settings, rendered.tiles.len(), &stats);
        if let Some(o) = &other_cpu {
            // Includes the pool start-up and image assembly around the tiles.
            println!("{}", o.describe());
        }
    }
    Ok(())
}

fn ms(nanos: u64) -> f64 {
    nanos as f64 / 1e6
}

fn summary_json(
    args: &RenderArgs,
    s: &RenderSettings,
    num_tiles: usize,
    stats: &TraceStats,
) -> serde_json::Value {
    let workers: Vec<_> = stats
        .workers
        .iter()
        .map(|w| json!({"id": w.id, "tiles": w.tasks, "busy_ms": ms(w.busy_nanos), "iterations": w.work}))
        .collect();
    json!({
        "wall_ms": ms(stats.wall_nanos),
        "imbalance": stats.imbalance,
        "utilisation": stats.utilisation,
        "idle_ms": ms(stats.idle_nanos),
        "iterations": stats.work,
        "num_workers": s.effective_workers(),
        "schedule": s.schedule.to_string(),
        "tiling": s.tiling.to_string(),
        "kernel": s.kernel.name(),
        "tiles": num_tiles,
        "view": s.view.spec(),
        "workers": workers,
        "out": args.out,
        "trace_out": args.trace_out,
        "counts_out": args.counts_out,
    })
}

fn print_summary(args: &RenderArgs, s: &RenderSettings, num_tiles: usize, stats: &TraceStats) {
    let v = s.view;
    println!(
        "rendered {}×{} (max {} iterations) as {} {} tiles, schedule {}, {} worker(s), kernel {}",
        v.width_px(),
        v.height_px(),
        v.max_iter(),
        num_tiles,
        s.tiling,
        s.schedule,
        s.effective_workers(),
        s.kernel.label()
    );
    println!(
        "wall {:.2} ms   utilisation {:.1} %   imbalance {:.3} (max busy / mean busy)   idle {:.2} ms",
        ms(stats.wall_nanos),
        stats.utilisation * 100.0,
        stats.imbalance,
        ms(stats.idle_nanos)
    );
    println!(
        "{:>6} {:>8} {:>10} {:>14}",
        "worker", "tiles", "busy ms", "iterations"
    );
    for w in &stats.workers {
        println!(
            "{:>6} {:>8} {:>10.2} {:>14}",
            w.id,
            w.tasks,
            ms(w.busy_nanos),
            w.work
        );
    }
    println!("wrote {}", args.out.display());
    if let Some(p) = &args.trace_out {
        println!(
            "wrote {} (Chrome Trace JSON: open in Perfetto)",
            p.display()
        );
    }
    if let Some(p) = &args.counts_out {
        println!("wrote {} (uint32 escape counts, numpy.load)", p.display());
    }
}
