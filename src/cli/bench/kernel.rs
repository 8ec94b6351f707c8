//! `parlab bench kernel`: the scalar reference, AVX2 and AVX-512 kernels
//! side by side on the fixed views of issue 7, one core each, each against
//! the FMA ceiling of its vector width.

use crate::cli::CliError;
use crate::engine::mandelbrot::kernel::Kernel;
use crate::engine::mandelbrot::kernel_throughput::{
    FmaCeiling, KernelBenchReport, KernelTiming, MULTIPLIES_PER_ITER, bench_views, run as run_bench,
};
use clap::Args;

#[derive(Args, Debug, Clone)]
pub struct BenchKernelArgs {
    /// Timed runs per kernel and view (the median is reported; 5 or more).
    #[arg(long, default_value_t = 5, allow_negative_numbers = true,
          value_parser = crate::cli::whole::<usize>(1, 1000))]
    pub reps: usize,
    /// Only these views, comma-separated (K0, B2, B3).
    #[arg(long, value_name = "NAMES", value_delimiter = ',')]
    pub views: Vec<String>,
    /// Print the report as one JSON object.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &BenchKernelArgs) -> Result<(), CliError> {
    if !(1..=1000).contains(&args.reps) {
        return Err(CliError::Usage(format!(
            "--reps must be 1..=1000, got {}",
            args.reps
        )));
    }
    let all = bench_views();
    for name in &args.views {
        if !all.iter().any(|v| v.name.eq_ignore_ascii_case(name)) {
            return Err(CliError::Usage(format!(
                "--views: unknown view {name:?}: expected K0, B2 or B3"
            )));
        }
    }
    let views: Vec<_> = all
        .into_iter()
        .filter(|v| {
            args.views.is_empty() || args.views.iter().any(|n| v.name.eq_ignore_ascii_case(n))
        })
        .collect();
    let report = run_bench(args.reps, &views, |step| eprintln!("bench kernel: {step}…"));
    if args.json {
        let text = serde_json::to_string_pretty(&report)
            .map_err(|e| CliError::Failed(format!("cannot encode the report: {e}")))?;
        outln!("{text}");
    } else {
        print_report(&report);
    }
    Ok(())
}

fn rows_text(t: &KernelTiming, height_px: u32) -> String {
    if t.row_stride <= 1 {
        format!("all {height_px} rows")
    } else {
        format!("every {}th row ({} of {height_px})", t.row_stride, t.rows)
    }
}

fn timing_line(label: &str, t: &KernelTiming, height_px: u32) {
    let cpu = t
        .giga_iters_per_cpu_sec
        .map_or_else(|| "n/a".to_string(), |g| format!("{g:.3}"));
    outln!(
        "  {label:<17} {:>6.3} G it/s  [{:.3}–{:.3}]  per CPU-second {cpu:>6}  median {:>8.1} ms  {:>11} it  {}",
        t.giga_iters_per_sec,
        t.giga_iters_per_sec_worst,
        t.giga_iters_per_sec_best,
        t.median_nanos as f64 / 1e6,
        t.iterations,
        rows_text(t, height_px)
    );
}

fn print_report(r: &KernelBenchReport) {
    let runs = r.views.first().map_or(0, |v| v.reference.runs);
    outln!(
        "parlab bench kernel: one thread per kernel, median of {runs} runs [slowest–fastest]; --kernel simd runs: {}",
        r.simd_backend
    );
    outln!("clock {:.2} GHz ({})", r.clock.ghz, r.clock.source);
    let measured = r
        .ceilings
        .iter()
        .any(|c| !c.readings_giga_fmas_per_sec.is_empty());
    outln!(
        "ceiling per core = the width's peak FMA rate × lanes ÷ {MULTIPLIES_PER_ITER} multiplies per iteration{}; \
         a kernel's % of it = its median run ÷ the ceiling:",
        if measured {
            "; peak = the fastest run of a loop of independent FMAs of the width, by wall time, \
             half before the views and half after"
        } else {
            ""
        }
    );
    for c in &r.ceilings {
        let spread = match c.readings_giga_fmas_per_sec.as_slice() {
            [] => c.source.clone(),
            runs => {
                let slowest = runs.iter().copied().fold(f64::INFINITY, f64::min);
                format!(
                    "{} runs [{slowest:.2}–{:.2}]",
                    runs.len(),
                    c.giga_fmas_per_sec
                )
            }
        };
        outln!(
            "  {:<17} {:>6.2} G {}-lane FMAs/s = {:.2} per cycle of the clock → {:.2} G it/s ({:.3} it/cycle); {spread}",
            kernel_label(c.kernel),
            c.giga_fmas_per_sec,
            c.lanes,
            c.fmas_per_cycle,
            c.giga_iters_per_sec,
            c.giga_iters_per_sec / r.clock.ghz,
        );
    }
    if let [narrow, wide] = r.ceilings.as_slice() {
        outln!("{}", width_line(narrow, wide));
    }
    outln!(
        "throughput = iterations executed (sum of escape counts) / wall time; no work is skipped; \
         per CPU-second = / this thread's CPU time (clock_gettime, to the ns; leaves out time other \
         processes held the core)"
    );
    outln!(
        "pixel centres: column x at left + (x + ½)·pixel, row y at top − (y + ½)·pixel (square pixels)"
    );
    let views = bench_views();
    for v in &r.views {
        let height_px = views
            .iter()
            .find(|bv| bv.name == v.name)
            .map_or(0, |bv| bv.view.height_px());
        outln!("{}  {}", v.name, v.description);
        timing_line("scalar reference", &v.reference, height_px);
        for k in &v.vector {
            timing_line(kernel_label(k.timing.kernel), &k.timing, height_px);
        }
        for k in &v.vector {
            outln!(
                "  {:<17} ÷ scalar {:.1}×   at {:.0} % of the {}-lane ceiling ({:.2} G it/s)   (per CPU-second: {})",
                kernel_label(k.timing.kernel),
                k.speedup,
                k.fraction_of_ceiling * 100.0,
                k.lanes,
                k.ceiling_giga_iters_per_sec,
                match (k.speedup_cpu, k.fraction_of_ceiling_cpu) {
                    (Some(s), Some(f)) => format!("{s:.1}×, {:.0} %", f * 100.0),
                    _ => "n/a".into(),
                }
            );
        }
        if let [narrow, wide] = v.vector.as_slice() {
            outln!(
                "  {} ÷ {} {:.2}×",
                kernel_label(wide.timing.kernel),
                kernel_label(narrow.timing.kernel),
                wide.timing.giga_iters_per_sec / narrow.timing.giga_iters_per_sec
            );
        }
    }
}

/// The wide width's ceiling against the narrow one's, as measured; the
/// likely cause named, as such, only where the wide FMAs a cycle are about
/// half the narrow ones.
fn width_line(narrow: &FmaCeiling, wide: &FmaCeiling) -> String {
    let arithmetic = wide.giga_iters_per_sec / narrow.giga_iters_per_sec;
    let per_cycle = wide.fmas_per_cycle / narrow.fmas_per_cycle;
    let cause = if (0.45..=0.55).contains(&per_cycle) {
        format!(
            " (as if each {}-bit FMA ran as two {}-bit halves, as Zen 4 does): what the {}-lane \
             kernel gains here over the {}-lane one, it gains by wasting less of the same arithmetic",
            wide.lanes * 64,
            narrow.lanes * 64,
            wide.lanes,
            narrow.lanes
        )
    } else {
        String::new()
    };
    format!(
        "  {}-lane ceiling ÷ {}-lane: {arithmetic:.2}×: per cycle of the clock the core starts {:.2} \
         {}-lane FMAs against {:.2} {}-lane ones{cause}",
        wide.lanes,
        narrow.lanes,
        wide.fmas_per_cycle,
        wide.lanes,
        narrow.fmas_per_cycle,
        narrow.lanes,
    )
}

fn kernel_label(name: &str) -> &'static str {
    name.parse::<Kernel>().map_or("?", |k| k.label())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::mandelbrot::kernel_throughput::{clock_estimate, fma_ceiling};

    #[test]
    fn the_width_line_says_what_was_measured_and_names_a_cause_only_at_half() {
        let clock = clock_estimate(&[4.0]);
        let narrow = fma_ceiling(Kernel::Avx2, 4, &[8.0], &clock);
        let halves = fma_ceiling(Kernel::Avx512, 8, &[4.0], &clock);
        let line = width_line(&narrow, &halves);
        assert!(line.contains("ceiling ÷ 4-lane: 1.00×"), "{line}");
        assert!(
            line.contains("starts 1.00 8-lane FMAs against 2.00 4-lane"),
            "{line}"
        );
        assert!(line.contains("two 256-bit halves"), "{line}");
        // 0.6 of the FMAs a cycle still gives 1.2× the arithmetic: no cause.
        let most = fma_ceiling(Kernel::Avx512, 8, &[4.8], &clock);
        let line = width_line(&narrow, &most);
        assert!(line.contains("1.20×"), "{line}");
        assert!(!line.contains("halves"), "{line}");
        let two = fma_ceiling(Kernel::Avx512, 8, &[8.0], &clock);
        let line = width_line(&narrow, &two);
        assert!(line.contains("2.00×"), "{line}");
        assert!(!line.contains("halves"), "{line}");
    }
}
