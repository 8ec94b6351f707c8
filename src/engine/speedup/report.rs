//! Sweep exports: JSON in a hyperfine-like shape (a `meta` block, then one
//! result per configuration with every time) and CSV with one row per
//! configuration. Both state the baseline and the interval method.

use crate::engine::exec::other_cpu::BUSY_RULE;
use crate::engine::exec::placement::PINNING_HELP;
use crate::engine::speedup::ReportError;
use crate::engine::speedup::replay::MAX_VIRTUAL_WORKERS;
use crate::engine::speedup::results::{
    AmdahlFit, BASELINE_RULE, ERROR_BAR_RULE, PredictionSet, ResultRow, SUPERLINEAR_NOTE,
    SweepResults, load_average_1m,
};
use crate::engine::speedup::sweep::RUN_ORDER_RULE;
use crate::engine::theory::AMDAHL_FIT_METHOD;
use crate::engine::util::stats::{OUTLIER_RULE, SPEEDUP_INTERVAL_METHOD};
use crate::engine::workloads::Workload;
use serde::{Deserialize, Serialize};
use std::time::{SystemTime, UNIX_EPOCH};

/// The machine, the build and the rules under which a sweep was measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReportMeta {
    pub parlab_version: String,
    pub cpu_brand: String,
    pub logical_cores: usize,
    pub physical_cores: usize,
    /// 1-minute load average when the sweep began and when it was exported;
    /// above the core count, other programs competed with the measurement.
    pub load_average_1m_start: Option<f64>,
    pub load_average_1m_end: Option<f64>,
    pub os: String,
    pub arch: String,
    /// `release` or `debug` (debug timings are not meaningful).
    pub build_profile: String,
    pub timestamp_unix_s: u64,
    pub timestamp_utc: String,
    pub workload: String,
    pub workload_params: serde_json::Value,
    pub schedule: String,
    pub reps: u32,
    pub warmup: u32,
    /// False when the sweep was cancelled before every run was made.
    pub complete: bool,
    pub time_unit: String,
    /// What one timed run covers.
    pub timed_region: String,
    /// How the spread figures are defined.
    pub spread: String,
    pub baseline: String,
    pub speedup_interval: String,
    pub error_bars: String,
    pub outlier_rule: String,
    pub run_order: String,
    pub amdahl_fit: String,
    pub prediction: String,
    /// Other processes' CPU during the timed runs (see `other_cpu_rule`).
    #[serde(default)]
    pub other_cpu_cores_mean: Option<f64>,
    /// True when other processes took more than the threshold: the figures are unreliable.
    #[serde(default)]
    pub machine_busy: bool,
    /// "machine busy - figures unreliable" when `machine_busy`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
    #[serde(default)]
    pub other_cpu_rule: String,
    /// Rows with a speedup above P on P <= physical cores are flagged `superlinear`; why.
    #[serde(default)]
    pub superlinear_rule: String,
    /// `free` or `pinned` workers, and what that means.
    #[serde(default)]
    pub placement: String,
}

/// What one timed run covers, in words for exports.
pub const TIMED_REGION: &str = "wall time of one complete run on an already built pool: task list built, \
     every task run, results collected (mandelbrot: the image assembled; course workloads: outputs combined in \
     task order, data prepared and serial result computed before timing, the check against it made after); \
     pool start-up is not timed";

/// How spread is reported, in words for exports.
pub const SPREAD_RULE: &str = "quantiles by linear interpolation (type 7); IQR = Q3 - Q1; MAD = median of \
     |t - median| (unscaled); stddev with n - 1";

/// Which granularity was fastest for one worker count.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BestGranularity {
    pub workers: usize,
    pub granularity: String,
    pub median_s: f64,
}

/// Everything a sweep export holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepReport {
    pub meta: ReportMeta,
    pub results: Vec<ResultRow>,
    pub amdahl_fits: Vec<AmdahlFit>,
    pub best_granularity: Vec<BestGranularity>,
    /// Labelled predictions (virtual-worker replay), never measurements.
    pub predicted: Vec<PredictionSet>,
    /// Other workloads swept with the same plan for comparison (each a whole
    /// report of its own, meta included), e.g. I/O-bound beside CPU-bound.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub compared: Vec<SweepReport>,
}

/// `release` or `debug`, as this binary was built.
pub fn build_profile() -> &'static str {
    if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    }
}

/// The CPU's brand string, as the OS reports it.
pub fn cpu_brand() -> String {
    use sysinfo::{CpuRefreshKind, RefreshKind, System};
    System::new_with_specifics(RefreshKind::nothing().with_cpu(CpuRefreshKind::nothing()))
        .ok()
        .and_then(|s| s.cpus().first().map(|c| c.brand().trim().to_string()))
        .filter(|b| !b.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

fn os_name() -> String {
    let name = sysinfo::System::long_os_version()
        .or_else(|_| sysinfo::System::name())
        .unwrap_or_default();
    if name.is_empty() {
        std::env::consts::OS.to_string()
    } else {
        name
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ` for seconds since the Unix epoch (proleptic Gregorian).
pub fn utc_timestamp(unix_s: u64) -> String {
    let days = (unix_s / 86_400) as i64;
    let secs = unix_s % 86_400;
    let (year, month, day) = crate::engine::util::dates::civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

impl SweepReport {
    /// Builds the report from results; `complete` says whether every run was made.
    pub fn build(results: &SweepResults, workload: &dyn Workload, complete: bool) -> Self {
        let unix_s = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let meta = ReportMeta {
            parlab_version: env!("CARGO_PKG_VERSION").to_string(),
            cpu_brand: cpu_brand(),
            logical_cores: results.logical_cores,
            physical_cores: results.physical_cores,
            load_average_1m_start: results.load_average_start,
            load_average_1m_end: load_average_1m(),
            os: os_name(),
            arch: std::env::consts::ARCH.to_string(),
            build_profile: build_profile().to_string(),
            timestamp_unix_s: unix_s,
            timestamp_utc: utc_timestamp(unix_s),
            workload: workload.name().to_string(),
            workload_params: workload.params(),
            schedule: results.plan.schedule.to_string(),
            placement: format!("{}: {PINNING_HELP}", results.plan.placement),
            reps: results.plan.reps,
            warmup: results.plan.warmup,
            complete,
            time_unit: "s".into(),
            timed_region: TIMED_REGION.into(),
            spread: SPREAD_RULE.into(),
            baseline: BASELINE_RULE.into(),
            speedup_interval: SPEEDUP_INTERVAL_METHOD.into(),
            error_bars: ERROR_BAR_RULE.into(),
            outlier_rule: OUTLIER_RULE.into(),
            run_order: format!("{RUN_ORDER_RULE}; seed {}", results.plan.shuffle_seed),
            amdahl_fit: AMDAHL_FIT_METHOD.into(),
            prediction: format!(
                "PREDICTED, not measured: the median 1-worker run's task durations replayed on \
                 1..={MAX_VIRTUAL_WORKERS} virtual workers under the sweep's schedule (work stealing \
                 replayed as greedy dynamic:1); assumes durations do not grow with P; brent_speedup \
                 = T1 / (T1/P + Tinf), Tinf = longest task{}",
                if results.gil {
                    "; GIL mode: compute serialised, so the replayed makespan is at least the sum of task times"
                } else {
                    ""
                }
            ),
            other_cpu_cores_mean: results.other_cpu.other_cores(),
            machine_busy: results.machine_busy(),
            warning: results.machine_busy().then(|| results.other_cpu.describe()),
            other_cpu_rule: BUSY_RULE.into(),
            superlinear_rule: SUPERLINEAR_NOTE.into(),
        };
        let best_granularity = results
            .plan
            .worker_counts()
            .into_iter()
            .filter_map(|w| {
                let c = results.best_granularity(w)?;
                let row = results.row(c)?;
                Some(BestGranularity {
                    workers: w,
                    granularity: row.granularity,
                    median_s: row.median_s,
                })
            })
            .collect();
        let table = results.row_table();
        SweepReport {
            meta,
            amdahl_fits: results.fits_from(&table),
            results: table.into_iter().flatten().collect(),
            best_granularity,
            predicted: results.predictions(MAX_VIRTUAL_WORKERS),
            compared: Vec::new(),
        }
    }

    /// The workload as one CSV field: its name and parameters (commas become
    /// `;`), `+gil` in GIL mode.
    pub fn workload_field(&self) -> String {
        let params = &self.meta.workload_params;
        let spec = params["spec"]
            .as_str()
            .map_or_else(|| self.meta.workload.clone(), |s| s.replace(',', ";"));
        if params["gil"].as_bool() == Some(true) {
            format!("{spec}+gil")
        } else {
            spec
        }
    }

    /// Where the workers ran: `threads` unless the workload says otherwise.
    pub fn backend(&self) -> &str {
        self.meta.workload_params["backend"]
            .as_str()
            .unwrap_or("threads")
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }

    pub fn from_json(text: &str) -> Result<Self, ReportError> {
        serde_json::from_str(text).map_err(ReportError::NotReport)
    }

    /// CSV text, one row per configuration (see [`CSV_HEADER`]), the
    /// compared workloads' rows after this one's.
    pub fn to_csv(&self) -> String {
        let mut out = rows_to_csv(&self.workload_field(), self.backend(), &self.results);
        for other in &self.compared {
            let more = rows_to_csv(&other.workload_field(), other.backend(), &other.results);
            out.push_str(more.split_once('\n').map_or("", |(_, rows)| rows));
        }
        out
    }
}

/// How one configuration's median compares between two sweeps.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Agreement {
    pub granularity: String,
    pub schedule: String,
    pub workers: usize,
    /// median(this) / median(other).
    pub median_ratio: f64,
    /// speedup(this) / speedup(other), where both have one.
    pub speedup_ratio: Option<f64>,
}

/// Matches configurations (granularity, schedule, workers) of two reports and
/// compares their medians and speedups; configurations in only one are skipped.
pub fn compare_reports(this: &SweepReport, other: &SweepReport) -> Vec<Agreement> {
    this.results
        .iter()
        .filter_map(|a| {
            let b = other.results.iter().find(|b| {
                b.granularity == a.granularity && b.schedule == a.schedule && b.workers == a.workers
            })?;
            (b.median_s > 0.0).then(|| Agreement {
                granularity: a.granularity.clone(),
                schedule: a.schedule.clone(),
                workers: a.workers,
                median_ratio: a.median_s / b.median_s,
                speedup_ratio: match (a.speedup, b.speedup) {
                    (Some(x), Some(y)) if y > 0.0 => Some(x / y),
                    _ => None,
                },
            })
        })
        .collect()
}

/// CSV columns. Lists (`times_s`, `outliers`) are `;`-separated; a missing value is empty.
/// `workload` names the workload and its parameters (`;` for `,`).
pub const CSV_HEADER: &str = "workload,granularity,tasks,schedule,workers,oversubscribed,n,median_s,mean_s,stddev_s,min_s,max_s,\
mad_s,q1_s,q3_s,speedup,speedup_ci95_lo,speedup_ci95_hi,efficiency,karp_flatt,speedup_vs_sequential,\
baseline,speedup_interval,outliers,times_s,backend";

fn opt(v: Option<f64>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

fn join<T: ToString>(items: &[T]) -> String {
    items.iter().map(T::to_string).collect::<Vec<_>>().join(";")
}

/// CSV for result rows of `workload` (one field, no commas) run on `backend`
/// (`threads` or `processes`).
pub fn rows_to_csv(workload: &str, backend: &str, rows: &[ResultRow]) -> String {
    let mut out = String::from(CSV_HEADER);
    out.push('\n');
    for r in rows {
        let [ci_lo, ci_hi] = r
            .speedup_ci95
            .map_or([None, None], |[a, b]| [Some(a), Some(b)]);
        let baseline = if r.speedup.is_some() {
            "1-worker pool of the same schedule"
        } else {
            ""
        };
        let interval = if r.speedup_ci95.is_some() {
            "bootstrap percentile 95%"
        } else {
            ""
        };
        let fields = [
            workload.replace(',', ";"),
            r.granularity.clone(),
            r.tasks.to_string(),
            r.schedule.clone(),
            r.workers.to_string(),
            r.oversubscribed.to_string(),
            r.n.to_string(),
            r.median_s.to_string(),
            r.mean_s.to_string(),
            r.stddev_s.to_string(),
            r.min_s.to_string(),
            r.max_s.to_string(),
            r.mad_s.to_string(),
            r.q1_s.to_string(),
            r.q3_s.to_string(),
            opt(r.speedup),
            opt(ci_lo),
            opt(ci_hi),
            opt(r.efficiency),
            opt(r.karp_flatt),
            opt(r.speedup_vs_sequential),
            baseline.to_string(),
            interval.to_string(),
            join(&r.outliers),
            join(&r.times_s),
            backend.replace(',', ";"),
        ];
        out.push_str(&fields.join(","));
        out.push('\n');
    }
    out
}

/// Reads rows back from [`rows_to_csv`]'s text (the speedup error bar, which
/// the CSV does not carry, comes back as `None`; the workload column is
/// skipped: see [`workloads_from_csv`]).
pub fn rows_from_csv(text: &str) -> Result<Vec<ResultRow>, ReportError> {
    rows_from_csv_with_workload(text).map(|rows| rows.into_iter().map(|(_, r)| r).collect())
}

/// The workload column of each row of [`rows_to_csv`]'s text.
pub fn workloads_from_csv(text: &str) -> Result<Vec<String>, ReportError> {
    rows_from_csv_with_workload(text).map(|rows| rows.into_iter().map(|(w, _)| w).collect())
}

fn rows_from_csv_with_workload(text: &str) -> Result<Vec<(String, ResultRow)>, ReportError> {
    let mut lines = text.lines();
    if lines.next() != Some(CSV_HEADER) {
        return Err(ReportError::CsvHeader);
    }
    let mut rows = Vec::new();
    for (i, line) in lines.enumerate().filter(|(_, l)| !l.is_empty()) {
        let row = i + 1;
        let all: Vec<&str> = line.split(',').collect();
        let (workload, f) = match all.split_first() {
            Some((w, rest)) => (w.to_string(), rest),
            None => return Err(ReportError::EmptyRow { row }),
        };
        if all.len() != CSV_HEADER.split(',').count() {
            return Err(ReportError::Fields {
                row,
                fields: all.len(),
            });
        }
        let bad = |field: &'static str| ReportError::Field { row, field };
        let num = |k: usize| {
            f[k].parse::<f64>()
                .map_err(|_| ReportError::Number { row, column: k })
        };
        let opt = |k: usize| -> Result<Option<f64>, ReportError> {
            if f[k].is_empty() {
                Ok(None)
            } else {
                num(k).map(Some)
            }
        };
        let list = |k: usize| -> Result<Vec<f64>, ReportError> {
            if f[k].is_empty() {
                return Ok(Vec::new());
            }
            f[k].split(';')
                .map(|v| v.parse::<f64>().map_err(|_| bad("list")))
                .collect()
        };
        let ci = match (opt(15)?, opt(16)?) {
            (Some(a), Some(b)) => Some([a, b]),
            _ => None,
        };
        rows.push((
            workload,
            ResultRow {
                granularity: f[0].to_string(),
                tasks: f[1].parse().map_err(|_| bad("tasks"))?,
                schedule: f[2].to_string(),
                workers: f[3].parse().map_err(|_| bad("workers"))?,
                oversubscribed: f[4].parse().map_err(|_| bad("oversubscribed"))?,
                n: f[5].parse().map_err(|_| bad("n"))?,
                median_s: num(6)?,
                mean_s: num(7)?,
                stddev_s: num(8)?,
                min_s: num(9)?,
                max_s: num(10)?,
                mad_s: num(11)?,
                q1_s: num(12)?,
                q3_s: num(13)?,
                speedup: opt(14)?,
                speedup_ci95: ci,
                speedup_iqr: None,
                efficiency: opt(17)?,
                karp_flatt: opt(18)?,
                speedup_vs_sequential: opt(19)?,
                superlinear: false,
                outliers: list(22)?.into_iter().map(|v| v as usize).collect(),
                times_s: list(23)?,
            },
        ));
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::speedup::results::tests::synthetic;
    use crate::engine::speedup::sweep::tests_support::tiny_workload;

    #[test]
    fn utc_timestamps_by_hand() {
        assert_eq!(utc_timestamp(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc_timestamp(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(utc_timestamp(1_700_000_000), "2023-11-14T22:13:20Z");
    }

    #[test]
    fn json_round_trips_and_has_the_schema() {
        let report = SweepReport::build(&synthetic(), &*tiny_workload(), true);
        let v = report.to_json();
        for key in [
            "parlab_version",
            "cpu_brand",
            "logical_cores",
            "physical_cores",
            "os",
            "build_profile",
            "timestamp_utc",
            "baseline",
            "speedup_interval",
        ] {
            assert!(!v["meta"][key].is_null(), "meta.{key}");
        }
        assert_eq!(v["meta"]["build_profile"], build_profile());
        let r = &v["results"][2];
        for key in [
            "granularity",
            "workers",
            "schedule",
            "times_s",
            "median_s",
            "mean_s",
            "stddev_s",
            "min_s",
            "max_s",
            "speedup",
            "speedup_ci95",
            "efficiency",
        ] {
            assert!(!r[key].is_null(), "results[2].{key}");
        }
        assert_eq!(r["times_s"].as_array().map(Vec::len), Some(5));
        assert!(
            v["predicted"][0]["predictions"]
                .as_array()
                .is_some_and(|p| p.len() == 64)
        );
        let text = serde_json::to_string(&v).expect("text");
        assert_eq!(SweepReport::from_json(&text).expect("parse"), report);
        assert!(SweepReport::from_json("{}").is_err());
    }

    #[test]
    fn comparing_a_report_with_itself_and_a_slower_copy() {
        let report = SweepReport::build(&synthetic(), &*tiny_workload(), true);
        let same = compare_reports(&report, &report);
        assert_eq!(same.len(), report.results.len());
        assert!(same.iter().all(|a| (a.median_ratio - 1.0).abs() < 1e-12));
        let mut slower = report.clone();
        for r in &mut slower.results {
            r.median_s *= 1.1;
        }
        let cmp = compare_reports(&report, &slower);
        assert!(
            cmp.iter()
                .all(|a| (a.median_ratio - 1.0 / 1.1).abs() < 1e-12)
        );
        slower.results.truncate(1);
        assert_eq!(compare_reports(&report, &slower).len(), 1);
    }

    #[test]
    fn csv_round_trips() {
        let report = SweepReport::build(&synthetic(), &*tiny_workload(), true);
        let csv = report.to_csv();
        assert_eq!(csv.lines().count(), 1 + report.results.len());
        let back = rows_from_csv(&csv).expect("parse");
        let expected: Vec<ResultRow> = report
            .results
            .iter()
            .cloned()
            .map(|mut r| {
                r.speedup_iqr = None;
                r
            })
            .collect();
        assert_eq!(back, expected);
        assert!(rows_from_csv("a,b\n1,2").is_err());
    }
}
