//! `parlab render`: one parallel render to PNG, with a trace and a summary.

use super::outputs::{Written, check_outputs};
use super::{
    CliError, ViewArgs, check_workers, parse_kernel, parse_schedule, tiling_from, whole,
    workers_arg,
};
use crate::cli::args::MpiLaunchArgs;
use crate::engine::exec::other_cpu::OtherCpuMeter;
use crate::engine::exec::placement::{PINNING_HELP, Placement, worker_cpus};
use crate::engine::exec::pool::{build_pool_placed, logical_cores};
use crate::engine::exec::trace::{Trace, TraceStats};
use crate::engine::farm::mpirun::world_size_from_env;
use crate::engine::farm::{
    Backend, FarmError, FarmOptions, FarmStats, inside_mpirun, render_in_world, render_on,
};
use crate::engine::mandelbrot::colour::{Palette, apply_overlay};
use crate::engine::mandelbrot::render::{RenderSettings, Rendered};
use crate::engine::mandelbrot::tiling::MAX_TILE_PX;
use crate::engine::mandelbrot::view::MAX_EDGE_PX;
use crate::engine::util::background::drop_in_background;
use crate::engine::util::files::{
    FAST_PNG_MIN_PX, write_counts_npy, write_json, write_png_on, write_trace, write_with,
};
use clap::Args;
use serde_json::json;
use std::path::PathBuf;

#[derive(Args, Debug, Clone)]
pub struct RenderArgs {
    #[command(flatten)]
    pub view: ViewArgs,
    /// Workers (threads, or processes with --backend processes), 1..=256; default: all logical cores.
    #[arg(long, allow_negative_numbers = true, value_parser = workers_arg())]
    pub workers: Option<usize>,
    /// Square tile edge in pixels (1..=1024); default 64.
    #[arg(long, value_name = "PX", allow_negative_numbers = true,
          value_parser = whole::<u32>(1, MAX_TILE_PX.into()))]
    pub tile: Option<u32>,
    /// Full-width horizontal bands instead of tiles, ROWS high (default 1).
    #[arg(long, value_name = "ROWS", num_args = 0..=1, default_missing_value = "1",
          allow_negative_numbers = true, value_parser = whole::<u32>(1, MAX_EDGE_PX.into()))]
    pub bands: Option<u32>,
    /// sequential, static-block, static-cyclic, dynamic[:K], guided[:K], work-stealing.
    #[arg(long, default_value = "dynamic")]
    pub schedule: String,
    /// Kernel that computes the pixels (same counts from all): simd (the widest vectors this
    /// CPU has), avx2 or avx512 (forced; an error if the CPU lacks it), scalar (the readable reference).
    #[arg(long, default_value = "simd")]
    pub kernel: String,
    /// Where the workers run: threads (one process, shared image) or
    /// processes (--workers copies of parlab, each tile sent back through a
    /// pipe). Processes add a start-up per worker (spawn to its first
    /// message, a few ms) and a transfer per tile (serialise + pipe +
    /// deserialise); both are printed, and drawn in --trace-out. Coarse
    /// tiles suit processes: the transfer is per tile, so fewer, larger
    /// tiles pay it less often. Same image pixel for pixel.
    ///
    /// mpi (a build with `--features mpi`): MPI ranks. Under mpirun
    /// (`mpirun -np N parlab render --backend mpi …`) rank 0 is the master and
    /// writes every output, the N-1 other ranks compute; typed without
    /// mpirun, parlab starts `mpirun -np WORKERS+1` itself (--mpirun,
    /// --mpirun-args, --hostfile).
    #[arg(long, default_value = "threads", value_name = "threads|processes|mpi")]
    pub backend: String,
    #[command(flatten)]
    pub mpi: MpiLaunchArgs,
    /// Pin worker w to core w mod cores (physical cores first; threads only).
    #[arg(long, long_help = PINNING_HELP)]
    pub pin: bool,
    /// classic, fire, ocean or grey.
    #[arg(long, default_value = "classic")]
    pub palette: String,
    /// Tint every tile with the colour of the worker that computed it.
    #[arg(long)]
    pub overlay: bool,
    /// PNG to write (`-`: stdout, and the summary goes to stderr). Images of 1 Mpx or
    /// more are encoded for speed, in bands of rows coloured and deflated in
    /// parallel on the workers (zlib level 1, Sub filter: ~4x faster on one core,
    /// ~15 % larger); smaller ones for size (fdeflate, adaptive filter).
    #[arg(long, allow_hyphen_values = true)]
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
    let backend: Backend = args
        .backend
        .parse()
        .map_err(|e| CliError::Usage(format!("--backend: {e}")))?;
    if backend == Backend::Mpi && !Backend::MPI_BUILT {
        return Err(FarmError::NoMpi.into());
    }
    // Under mpirun the job's size fixes the workers: every rank but the master.
    let in_world = backend == Backend::Mpi && inside_mpirun();
    let num_workers = if in_world {
        ranks_as_workers(args.workers, args.mpi.mpi_master_computes)?
    } else {
        check_workers(args.workers.unwrap_or_else(logical_cores))?
    };
    let tiling = tiling_from(args.tile, args.bands)?;
    let schedule = parse_schedule(&args.schedule)?;
    let kernel = parse_kernel(&args.kernel)?;
    let palette: Palette = args.palette.parse()?;
    tiling.check_count(view.width_px(), view.height_px())?;
    if args.mpi.mpi_master_computes && backend != Backend::Mpi {
        return Err(CliError::Usage(
            "--mpi-master-computes applies to --backend mpi".into(),
        ));
    }
    if args.pin && backend != Backend::Threads {
        return Err(CliError::Usage(
            "--pin applies to the threads backend: worker processes run where the OS puts them"
                .into(),
        ));
    }
    let placement = Placement::from_pin(args.pin);
    let mut outputs = vec![("--out", args.out.as_path())];
    if let Some(p) = &args.trace_out {
        outputs.push(("--trace-out", p));
    }
    if let Some(p) = &args.counts_out {
        outputs.push(("--counts-out", p));
    }
    check_outputs(&outputs)?;

    let settings = RenderSettings {
        view,
        tiling,
        schedule,
        num_workers,
        kernel,
        placement,
    };
    // One pool for the render (threads backend), the colouring and the PNG
    // encoding after it, so that all use exactly --workers threads (none for
    // the sequential schedule).
    let pool = if schedule.uses_pool() {
        Some(build_pool_placed(num_workers, placement)?)
    } else {
        None
    };
    // Worker processes (and mpirun with its ranks) are reaped before the
    // meter stops: their CPU is the render's own. Under mpirun the other
    // ranks are not our children: no meter (it would call them other load).
    let meter = match backend {
        Backend::Threads => Some(OtherCpuMeter::start()),
        Backend::Processes | Backend::Mpi if !in_world => {
            Some(OtherCpuMeter::start_counting_children())
        }
        _ => None,
    };
    let options = FarmOptions {
        mpi: args.mpi.launch(),
        ..FarmOptions::default()
    };
    let run = if in_world {
        match render_in_world(&settings, options.deadlines, args.mpi.mpi_master_computes)? {
            Some(run) => run,
            // A worker rank: rank 0 writes everything.
            None => return Ok(()),
        }
    } else {
        render_on(backend, &settings, pool.as_ref(), &options)?
    };
    let other_cpu = meter.and_then(|m| m.stop());
    let Rendered {
        image,
        tiles,
        trace,
    } = run.rendered;
    // Every output is tried; a failure names what was written and what not.
    let mut written = Written::default();
    // The counts before the PNG, whose writer hands the image back.
    if let Some(p) = &args.counts_out {
        written.add(p, write_counts_npy(p, &image));
    }
    let mut freeing = None;
    let num_px = u64::from(image.width_px) * u64::from(image.height_px);
    if num_px >= FAST_PNG_MIN_PX && !args.overlay {
        // Colour and deflate each band of rows in one task on the workers,
        // written to the file as the bands finish; then the image (66 MB at
        // 3840×2160) is unmapped while the file is synced, not after.
        written.add(
            &args.out,
            write_with(&args.out, |w| {
                let png = palette.write_png_to(&image, pool.as_ref(), w);
                freeing = Some(drop_in_background(image));
                png
            }),
        );
    } else {
        let mut rgba = palette.colourise_on(&image, pool.as_ref());
        if args.overlay {
            let mut worker_of_tile = vec![None; tiles.len()];
            for r in &trace.records {
                worker_of_tile[r.task as usize] = Some(r.worker);
            }
            apply_overlay(&mut rgba, &tiles, &worker_of_tile);
        }
        written.add(&args.out, write_png_on(&args.out, &rgba, pool.as_ref()));
    }
    if let Some(p) = &args.trace_out {
        match &run.farm {
            Some(farm) => written.add(p, write_json(p, &farm.chrome_json(&trace))),
            None => written.add(p, write_trace(p, &trace, "tile")),
        }
    }
    written.finish()?;

    let stats = trace.stats();
    if args.json {
        let mut summary = summary_json(args, &settings, &trace, &stats);
        if let (Some(o), Some(obj)) = (&other_cpu, summary.as_object_mut()) {
            obj.insert("other_cpu".into(), o.to_json());
        }
        summary["backend"] = json!(backend.name());
        if let Some(farm) = &run.farm {
            let key = if farm.mpi.is_some() {
                "mpi"
            } else {
                "processes"
            };
            summary[key] = farm_json(farm);
        }
        outln!("{summary}");
    } else {
        print_summary(args, &settings, &trace, &stats);
        outln!("backend: {}", backend.describe());
        if let Some(o) = &other_cpu {
            // Includes the pool start-up and image assembly around the tiles.
            outln!("{}", o.describe());
        }
        if let Some(farm) = &run.farm {
            for line in farm.summary_lines() {
                outln!("{line}");
            }
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
    trace: &Trace,
    stats: &TraceStats,
) -> serde_json::Value {
    let num_tiles = trace.records.len();
    let cpus = worker_cpus(&trace.records, trace.num_workers);
    let workers: Vec<_> = stats
        .workers
        .iter()
        .map(|w| {
            let c = cpus.get(w.id as usize).cloned().unwrap_or_default();
            json!({"id": w.id, "tiles": w.tasks, "busy_ms": ms(w.busy_nanos), "iterations": w.work,
                   "cpus": c.cpus, "migrations": c.migrations})
        })
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
        "placement": s.placement.name(),
        "tiles": num_tiles,
        "view": s.view.spec(),
        "workers": workers,
        "out": args.out,
        "trace_out": args.trace_out,
        "counts_out": args.counts_out,
    })
}

/// The process farm's figures for `--json`.
fn farm_json(farm: &FarmStats) -> serde_json::Value {
    let workers: Vec<_> = farm
        .workers
        .iter()
        .map(|w| {
            json!({"id": w.id, "pid": w.pid, "startup_ms": w.startup_nanos().map(ms),
                   "tiles": w.tiles, "peak_rss_kib": w.peak_rss_kib, "ending": w.ending})
        })
        .collect();
    json!({
        "startup_median_ms": farm.startup_median_nanos().map(|n| n / 1e6),
        "transfer_share_median": farm.transfer_share_median(),
        "transfer_share_total": farm.transfer_share_total(),
        "bytes_to_workers": farm.bytes_to_workers,
        "bytes_from_workers": farm.bytes_from_workers,
        "peak_rss_max_kib": farm.peak_rss_max_kib(),
        "faults": farm.fault_lines(),
        "workers": workers,
        "ranks": farm.mpi.as_ref().map(|m| m.ranks.iter().map(|r| json!({
            "rank": r.rank, "host": r.host, "pid": r.pid,
            "clock_offset_us": r.clock_offset_nanos as f64 / 1e3,
            "offset_bound_us": r.offset_bound_nanos as f64 / 1e3,
            "mpi_init_ms": ms(r.init_nanos),
            "startup_ms": r.startup_nanos.map(ms),
        })).collect::<Vec<_>>()),
        "clock_offset_bound_us": farm.mpi.as_ref().map(|m| m.offset_bound_max_nanos() as f64 / 1e3),
    })
}

/// Under mpirun: the workers are the ranks but rank 0 (every rank when the
/// master computes too); `--workers`, if given, must agree.
fn ranks_as_workers(given: Option<usize>, master_computes: bool) -> Result<usize, CliError> {
    let size = world_size_from_env().unwrap_or(0);
    if master_computes && size >= 1 {
        return match given {
            Some(w) if w != size => Err(CliError::Usage(format!(
                "--workers {w} disagrees with mpirun -np {size}: with --mpi-master-computes every rank is a worker; leave --workers out"
            ))),
            _ => Ok(size),
        };
    }
    if size < 2 {
        return Err(CliError::Usage(format!(
            "--backend mpi under mpirun needs at least 2 ranks (rank 0 is the master, the others compute); this job has {size}: mpirun -np 2 or more"
        )));
    }
    match given {
        Some(w) if w != size - 1 => Err(CliError::Usage(format!(
            "--workers {w} disagrees with mpirun -np {size}: under mpirun the workers are the ranks but rank 0 ({}); leave --workers out",
            size - 1
        ))),
        _ => Ok(size - 1),
    }
}

fn print_summary(args: &RenderArgs, s: &RenderSettings, trace: &Trace, stats: &TraceStats) {
    let num_tiles = trace.records.len();
    let cpus = worker_cpus(&trace.records, trace.num_workers);
    let v = s.view;
    outln!(
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
    outln!(
        "wall {:.2} ms   utilisation {:.1} %   imbalance {:.3} (max busy / mean busy)   idle {:.2} ms",
        ms(stats.wall_nanos),
        stats.utilisation * 100.0,
        stats.imbalance,
        ms(stats.idle_nanos)
    );
    outln!(
        "workers {} (CPU each tile started on; a migration = a worker's next tile started on another CPU)",
        s.placement
    );
    outln!(
        "{:>6} {:>8} {:>10} {:>14}  cpus",
        "worker",
        "tiles",
        "busy ms",
        "iterations"
    );
    for w in &stats.workers {
        let c = cpus.get(w.id as usize).cloned().unwrap_or_default();
        outln!(
            "{:>6} {:>8} {:>10.2} {:>14}  {}",
            w.id,
            w.tasks,
            ms(w.busy_nanos),
            w.work,
            c.describe()
        );
    }
    outln!("wrote {}", args.out.display());
    if let Some(p) = &args.trace_out {
        outln!(
            "wrote {} (Chrome Trace JSON: open in Perfetto)",
            p.display()
        );
    }
    if let Some(p) = &args.counts_out {
        outln!("wrote {} (uint32 escape counts, numpy.load)", p.display());
    }
}
