//! What the speedup lab's plots show, as plain data: built once from
//! [`SweepResults`], drawn by the window (egui_plot) and by the exports
//! (plotters, [`crate::engine::speedup::charts::draw`]) alike.

use crate::engine::speedup::replay::MAX_VIRTUAL_WORKERS;
use crate::engine::speedup::results::{ERROR_BAR_RULE, ResultRow, SweepResults};
use crate::engine::theory::amdahl_speedup;
use crate::engine::workloads::Granularity;

/// What a legend entry's colour stands for; the window and the exports each
/// map it to their own palette.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LegendColour {
    /// The n-th measured series.
    Series(usize),
    Ideal,
    Amdahl,
    Predicted,
    /// The prediction beyond this machine's physical cores.
    PredictedBeyond,
    Brent,
    CoreMark,
    /// A colour of its own (the locks plot's lock kinds).
    Rgb([u8; 3]),
}

/// How an entry's line is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LegendLine {
    Solid,
    Dashed,
    Dotted,
}

/// How an entry's points are marked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LegendMarker {
    Circle,
    Square,
    /// A line only.
    Plain,
}

/// One legend entry: drawn beside or under the plot, never over its data,
/// in the order of [`SpeedupChart::legend`] or [`GranularityChart::legend`].
#[derive(Clone, Debug, PartialEq)]
pub struct LegendEntry {
    pub label: String,
    pub colour: LegendColour,
    pub line: LegendLine,
    pub marker: LegendMarker,
}

impl LegendEntry {
    pub fn new(label: impl Into<String>, colour: LegendColour, line: LegendLine) -> Self {
        LegendEntry {
            label: label.into(),
            colour,
            line,
            marker: LegendMarker::Plain,
        }
    }
}

/// Line and marker of a measured speedup series: the current sweep solid
/// with round markers, a pinned comparison dashed with square ones.
pub fn series_style(group: usize) -> (LegendLine, LegendMarker) {
    if group == 0 {
        (LegendLine::Solid, LegendMarker::Circle)
    } else {
        (LegendLine::Dashed, LegendMarker::Square)
    }
}

/// Rows by configuration, from [`SweepResults::row_table`].
pub type RowTable = [Option<ResultRow>];

/// One measured speedup.
#[derive(Clone, Debug, PartialEq)]
pub struct SpeedupPoint {
    /// Configuration index in the results.
    pub config: usize,
    pub workers: f64,
    pub speedup: f64,
    /// Error bar (IQR of TP, see [`ERROR_BAR_RULE`]).
    pub bar: Option<[f64; 2]>,
    pub ci95: Option<[f64; 2]>,
    pub oversubscribed: bool,
    pub karp_flatt: Option<f64>,
}

/// A measured line (one granularity).
#[derive(Clone, Debug, PartialEq)]
pub struct SpeedupSeries {
    pub label: String,
    /// Index into the series colour list.
    pub colour_index: usize,
    /// 0: the sweep just measured (solid lines, round markers); 1: a pinned
    /// earlier sweep drawn beside it (dashed lines, square markers), so that
    /// compared series (GIL vs no GIL) differ by more than colour.
    pub group: usize,
    pub points: Vec<SpeedupPoint>,
}

/// A model or prediction curve.
#[derive(Clone, Debug, PartialEq)]
pub struct Curve {
    pub label: String,
    pub points: Vec<(f64, f64)>,
}

impl Curve {
    /// The curve up to `cores` and (if it goes further) the part from
    /// `cores` on, labelled as lying beyond this machine's physical cores, so
    /// the two can be drawn apart.
    pub fn split_at_cores(&self, cores: usize) -> (Curve, Option<Curve>) {
        let c = cores as f64;
        let within = Curve {
            label: self.label.clone(),
            points: self.points.iter().copied().filter(|p| p.0 <= c).collect(),
        };
        let beyond: Vec<(f64, f64)> = self.points.iter().copied().filter(|p| p.0 >= c).collect();
        let beyond = (beyond.len() > 1).then(|| Curve {
            label: format!("{} beyond {cores} physical cores", self.label),
            points: beyond,
        });
        (within, beyond)
    }
}

/// Speedup vs workers.
#[derive(Clone, Debug, PartialEq)]
pub struct SpeedupChart {
    pub title: String,
    pub x_max: f64,
    pub y_max: f64,
    pub series: Vec<SpeedupSeries>,
    /// Fitted Amdahl curve (label carries f).
    pub amdahl: Option<Curve>,
    /// Virtual-worker replay, always labelled "predicted".
    pub predicted: Option<Curve>,
    /// Brent's bound (predicted, from measured work and span).
    pub brent: Option<Curve>,
    pub physical_cores: usize,
    pub logical_cores: usize,
    /// Small print: error-bar rule and what is predicted.
    pub note: String,
    /// Write each point's Karp–Flatt e beside it (when few series make room).
    pub annotate_karp_flatt: bool,
}

impl SpeedupChart {
    /// The vertical marks at the core counts and their labels.
    pub fn core_marks(&self) -> Vec<(usize, String)> {
        if self.logical_cores == self.physical_cores {
            vec![(
                self.physical_cores,
                format!("cores (physical = logical): {}", self.physical_cores),
            )]
        } else {
            vec![
                (
                    self.physical_cores,
                    format!("physical cores: {}", self.physical_cores),
                ),
                (
                    self.logical_cores,
                    format!("logical cores: {}", self.logical_cores),
                ),
            ]
        }
    }

    /// The legend: measured series by value, then the ideal line, the
    /// models and the core marks, as the window and the exports draw them.
    pub fn legend(&self) -> Vec<LegendEntry> {
        let mut out: Vec<LegendEntry> = self
            .series
            .iter()
            .map(|s| {
                let (line, marker) = series_style(s.group);
                LegendEntry {
                    label: format!("measured {}", s.label),
                    colour: LegendColour::Series(s.colour_index),
                    line,
                    marker,
                }
            })
            .collect();
        out.push(LegendEntry::new(
            "ideal S = P",
            LegendColour::Ideal,
            LegendLine::Solid,
        ));
        if let Some(a) = &self.amdahl {
            out.push(LegendEntry::new(
                a.label.clone(),
                LegendColour::Amdahl,
                LegendLine::Solid,
            ));
        }
        if let Some(p) = &self.predicted {
            let (within, beyond) = p.split_at_cores(self.physical_cores);
            out.push(LegendEntry::new(
                within.label,
                LegendColour::Predicted,
                LegendLine::Dashed,
            ));
            if let Some(b) = beyond {
                out.push(LegendEntry::new(
                    b.label,
                    LegendColour::PredictedBeyond,
                    LegendLine::Dotted,
                ));
            }
        }
        if let Some(b) = &self.brent {
            out.push(LegendEntry::new(
                b.label.clone(),
                LegendColour::Brent,
                LegendLine::Dashed,
            ));
        }
        for (cores, label) in self.core_marks() {
            if cores as f64 <= self.x_max * 1.03 {
                out.push(LegendEntry::new(
                    label,
                    LegendColour::CoreMark,
                    LegendLine::Dotted,
                ));
            }
        }
        out
    }
}

/// One point of time vs granularity.
#[derive(Clone, Debug, PartialEq)]
pub struct GranularityPoint {
    pub config: usize,
    /// Tasks per run (x, log scale: finer to the right).
    pub tasks: f64,
    pub median_s: f64,
    pub q1_s: f64,
    pub q3_s: f64,
    pub label: String,
    /// Rows per band for a band cut: drawn as its own marker and line, since
    /// bands and square tiles of the same task count share an x.
    pub band_rows: Option<u32>,
}

/// A line per worker count.
#[derive(Clone, Debug, PartialEq)]
pub struct GranularitySeries {
    pub label: String,
    pub workers: usize,
    pub colour_index: usize,
    pub points: Vec<GranularityPoint>,
    /// Index into `points` of the fastest granularity.
    pub best: Option<usize>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct GranularityChart {
    pub title: String,
    pub series: Vec<GranularitySeries>,
    pub note: String,
}

impl GranularityChart {
    /// A series' legend label, naming its best granularity.
    pub fn series_label(s: &GranularitySeries) -> String {
        match s.best.and_then(|b| s.points.get(b)) {
            Some(best) => format!("{} (best: {})", s.label, best.label),
            None => s.label.clone(),
        }
    }

    /// True when some points are band cuts (drawn dashed with square markers).
    pub fn has_bands(&self) -> bool {
        self.series
            .iter()
            .flat_map(|s| s.points.iter())
            .any(|p| p.band_rows.is_some())
    }

    /// The legend: a line per worker count (fewest first), and what marks
    /// the band cuts when there are any.
    pub fn legend(&self) -> Vec<LegendEntry> {
        let mut out: Vec<LegendEntry> = self
            .series
            .iter()
            .map(|s| LegendEntry {
                label: Self::series_label(s),
                colour: LegendColour::Series(s.colour_index),
                line: LegendLine::Solid,
                marker: LegendMarker::Circle,
            })
            .collect();
        if self.has_bands() {
            out.push(LegendEntry {
                label: "bands(N): square markers, dashed".into(),
                colour: LegendColour::CoreMark,
                line: LegendLine::Dashed,
                marker: LegendMarker::Square,
            });
        }
        out
    }
}

/// Efficiency, workers (rows) × granularity (columns).
#[derive(Clone, Debug, PartialEq)]
pub struct EfficiencyMap {
    pub workers: Vec<usize>,
    pub granularities: Vec<String>,
    pub cells: Vec<Vec<Option<f64>>>,
}

/// The granularity the models focus on: the highest speedup at the largest
/// measured worker count within the logical cores (first granularity if none yet).
pub fn focus_granularity(results: &SweepResults, table: &RowTable) -> Option<usize> {
    let grans = results.granularities();
    let within: Vec<usize> = results
        .plan
        .worker_counts()
        .into_iter()
        .filter(|&w| w <= results.logical_cores.max(1))
        .collect();
    let top = within.last().copied().unwrap_or(1);
    let best = grans
        .iter()
        .enumerate()
        .filter_map(|(i, &g)| {
            let c = results.find(g, results.plan.schedule, top)?;
            Some((i, table.get(c)?.as_ref()?.speedup?))
        })
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(i, _)| i);
    best.or(if grans.is_empty() { None } else { Some(0) })
}

fn measured_series(results: &SweepResults, table: &RowTable) -> Vec<SpeedupSeries> {
    results
        .granularities()
        .into_iter()
        .enumerate()
        .map(|(i, g)| SpeedupSeries {
            label: g.to_string(),
            colour_index: i,
            group: 0,
            points: results
                .plan
                .worker_counts()
                .into_iter()
                .filter_map(|w| {
                    let c = results.find(g, results.plan.schedule, w)?;
                    let r = table.get(c)?.as_ref()?;
                    Some(SpeedupPoint {
                        config: c,
                        workers: w as f64,
                        speedup: r.speedup?,
                        bar: r.speedup_iqr,
                        ci95: r.speedup_ci95,
                        oversubscribed: r.oversubscribed,
                        karp_flatt: r.karp_flatt,
                    })
                })
                .collect(),
        })
        .collect()
}

fn amdahl_curve(
    results: &SweepResults,
    table: &RowTable,
    granularity: &str,
    x_max: f64,
) -> Option<Curve> {
    let fit = results
        .fits_from(table)
        .into_iter()
        .find(|f| f.granularity == granularity)?;
    let f = fit.serial_fraction;
    let steps = 100;
    Some(Curve {
        // One point is no fit: name it what it is (see `AmdahlFit::describe`).
        label: match fit.points.len() {
            1 => {
                format!("Amdahl curve through one point, Karp-Flatt e ({granularity}): f = {f:.3}")
            }
            n => format!("Amdahl fit over {n} points ({granularity}): f = {f:.3}"),
        },
        points: (0..=steps)
            .map(|i| {
                let p = 1.0 + (x_max - 1.0) * i as f64 / steps as f64;
                (p, amdahl_speedup(f, p))
            })
            .collect(),
    })
}

fn y_max_of(series: &[SpeedupSeries], curves: &[&Option<Curve>], floor: f64) -> f64 {
    let measured = series
        .iter()
        .flat_map(|s| s.points.iter())
        .map(|p| p.bar.map_or(p.speedup, |b| b[1].max(p.speedup)))
        .fold(floor, f64::max);
    let curves = curves
        .iter()
        .filter_map(|c| c.as_ref())
        .flat_map(|c| c.points.iter().map(|p| p.1))
        .fold(0.0, f64::max);
    (measured.max(curves) * 1.1).max(1.5)
}

/// Several workloads' speedup charts on one plot (e.g. I/O-bound beside
/// CPU-bound): every measured line, labelled `workload granularity`, each
/// workload's lines in their own colours. Model curves (Amdahl fit,
/// prediction) belong to one workload and are left out of the overlay.
pub fn overlay_speedup_charts(charts: &[(String, SpeedupChart)]) -> Option<SpeedupChart> {
    let (_, first) = charts.first()?;
    let mut series = Vec::new();
    for (group, (name, chart)) in charts.iter().enumerate() {
        for s in &chart.series {
            series.push(SpeedupSeries {
                label: format!("{name} {}", s.label),
                colour_index: series.len(),
                group,
                points: s.points.clone(),
            });
        }
    }
    let names: Vec<&str> = charts.iter().map(|(n, _)| n.as_str()).collect();
    Some(SpeedupChart {
        title: format!("Speedup vs workers: {}", names.join(" vs ")),
        x_max: charts.iter().map(|(_, c)| c.x_max).fold(1.0, f64::max),
        y_max: charts.iter().map(|(_, c)| c.y_max).fold(1.5, f64::max),
        series,
        amdahl: None,
        predicted: None,
        brent: None,
        physical_cores: first.physical_cores,
        logical_cores: first.logical_cores,
        note: format!(
            "each workload against its own 1-worker run; solid lines, round markers: {}; \
             dashed lines, square markers: {}; {ERROR_BAR_RULE}; hollow = oversubscribed \
             (more workers than logical cores)",
            names.first().copied().unwrap_or_default(),
            names.get(1..).map(|n| n.join(", ")).unwrap_or_default()
        ),
        annotate_karp_flatt: false,
    })
}

/// Measured speedup vs workers (every granularity), with the ideal line, the
/// Amdahl fit and the replay's prediction of the focus granularity.
pub fn speedup_chart(results: &SweepResults, table: &RowTable) -> SpeedupChart {
    let series = measured_series(results, table);
    let series_count = series.len();
    let x_max = results
        .plan
        .worker_counts()
        .last()
        .copied()
        .unwrap_or(1)
        .max(2) as f64;
    let focus =
        focus_granularity(results, table).and_then(|i| results.granularities().get(i).copied());
    let focus_label = focus.map(|g| g.to_string()).unwrap_or_default();
    let amdahl = amdahl_curve(results, table, &focus_label, x_max);
    let predicted = focus
        .and_then(|g| results.prediction_for(g, x_max as usize))
        .map(|p| Curve {
            label: format!("predicted ({focus_label}, replay of 1-worker tasks)"),
            points: p
                .predictions
                .iter()
                .map(|q| (q.workers as f64, q.speedup))
                .collect(),
        });
    let y_max = y_max_of(
        &series,
        &[&amdahl, &predicted],
        x_max.min(results.logical_cores as f64),
    );
    SpeedupChart {
        title: format!(
            "Speedup vs workers ({} schedule){}",
            results.plan.schedule,
            results.busy_tag()
        ),
        x_max,
        y_max,
        series,
        amdahl,
        predicted,
        brent: None,
        physical_cores: results.physical_cores,
        logical_cores: results.logical_cores,
        note: format!(
            "{ERROR_BAR_RULE}; hollow = oversubscribed (more workers than logical cores); dashed = predicted"
        ),
        annotate_karp_flatt: series_count <= 2,
    }
}

/// Beyond this machine: the replay on 1..=64 virtual workers, Brent's bound
/// and the Amdahl curve, with the measured points of the focus granularity.
pub fn predicted_chart(results: &SweepResults, table: &RowTable) -> SpeedupChart {
    let focus =
        focus_granularity(results, table).and_then(|i| results.granularities().get(i).copied());
    predicted_chart_for(results, table, focus)
}

/// [`predicted_chart`] for a chosen granularity (`None`: an empty chart).
pub fn predicted_chart_for(
    results: &SweepResults,
    table: &RowTable,
    focus: Option<Granularity>,
) -> SpeedupChart {
    let x_max = MAX_VIRTUAL_WORKERS as f64;
    let focus_label = focus.map(|g| g.to_string()).unwrap_or_default();
    let series: Vec<SpeedupSeries> = measured_series(results, table)
        .into_iter()
        .filter(|s| s.label == focus_label)
        .collect();
    let set = focus.and_then(|g| results.prediction_for(g, MAX_VIRTUAL_WORKERS));
    let predicted = set.as_ref().map(|p| Curve {
        label: format!("predicted: replay on P virtual workers ({})", p.schedule),
        points: p
            .predictions
            .iter()
            .map(|q| (q.workers as f64, q.speedup))
            .collect(),
    });
    let brent = set.as_ref().map(|p| Curve {
        label: "predicted: Brent bound T1/(T1/P + Tinf)".into(),
        points: p
            .predictions
            .iter()
            .map(|q| (q.workers as f64, q.brent_speedup))
            .collect(),
    });
    let amdahl = amdahl_curve(results, table, &focus_label, x_max);
    let y_max = y_max_of(&series, &[&amdahl, &predicted, &brent], 2.0);
    SpeedupChart {
        title: format!(
            "Predicted beyond this machine ({focus_label}){}",
            results.busy_tag()
        ),
        x_max,
        y_max,
        series,
        amdahl,
        predicted,
        brent,
        physical_cores: results.physical_cores,
        logical_cores: results.logical_cores,
        note: "dashed = predicted from measured 1-worker task times (no contention or overhead modelled); \
               points = measured"
            .into(),
        annotate_karp_flatt: false,
    }
}

/// Median time vs tasks per run (log x), a line per worker count, best marked.
pub fn granularity_chart(results: &SweepResults, table: &RowTable) -> GranularityChart {
    let series = results
        .plan
        .worker_counts()
        .into_iter()
        .enumerate()
        .map(|(i, w)| {
            let mut points: Vec<GranularityPoint> = results
                .granularities()
                .into_iter()
                .filter_map(|g| {
                    let c = results.find(g, results.plan.schedule, w)?;
                    let r = table.get(c)?.as_ref()?;
                    Some(GranularityPoint {
                        config: c,
                        tasks: r.tasks.max(1) as f64,
                        median_s: r.median_s,
                        q1_s: r.q1_s,
                        q3_s: r.q3_s,
                        label: r.granularity.clone(),
                        band_rows: g.band_rows(),
                    })
                })
                .collect();
            // By task count (x); a band cut with the same count as a tile
            // size comes after it, and is drawn with its own marker.
            points.sort_by(|a, b| {
                a.tasks
                    .total_cmp(&b.tasks)
                    .then(a.band_rows.cmp(&b.band_rows))
            });
            let best = points
                .iter()
                .enumerate()
                .min_by(|a, b| a.1.median_s.total_cmp(&b.1.median_s))
                .map(|(k, _)| k);
            GranularitySeries {
                label: crate::engine::util::words::count_of(w, "worker"),
                workers: w,
                colour_index: i,
                points,
                best,
            }
        })
        .collect();
    GranularityChart {
        title: format!("Time vs granularity{}", results.busy_tag()),
        series,
        note: "median time; bars = IQR; ring = best granularity per worker count (named in the legend); \
               left: too coarse pays imbalance, right: too fine pays overhead"
            .into(),
    }
}

/// Efficiency S/P for every measured (workers, granularity).
pub fn efficiency_map(results: &SweepResults, table: &RowTable) -> EfficiencyMap {
    let grans = results.granularities();
    let workers = results.plan.worker_counts();
    let cells = workers
        .iter()
        .map(|&w| {
            grans
                .iter()
                .map(|&g| {
                    let c = results.find(g, results.plan.schedule, w)?;
                    table.get(c)?.as_ref()?.efficiency
                })
                .collect()
        })
        .collect();
    EfficiencyMap {
        workers,
        granularities: grans.iter().map(ToString::to_string).collect(),
        cells,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::speedup::results::tests::synthetic;

    #[test]
    fn charts_from_hand_made_results() {
        let r = synthetic();
        let t = r.row_table();
        let s = speedup_chart(&r, &t);
        assert_eq!(s.series.len(), 1);
        assert_eq!(s.series[0].points.len(), 2);
        assert!((s.series[0].points[1].speedup - 2.0).abs() < 1e-9);
        assert!(
            s.amdahl
                .as_ref()
                .is_some_and(|a| a.label.contains("f = 0.000"))
        );
        assert!(
            s.predicted
                .as_ref()
                .is_some_and(|p| p.label.starts_with("predicted"))
        );
        let p = predicted_chart(&r, &t);
        assert_eq!(p.predicted.as_ref().map(|c| c.points.len()), Some(64));
        assert!(p.brent.is_some());
        let g = granularity_chart(&r, &t);
        assert_eq!(g.series.len(), 2);
        assert_eq!(g.series[1].best, Some(0));
        let e = efficiency_map(&r, &t);
        assert_eq!(e.cells, vec![vec![Some(1.0)], vec![Some(1.0)]]);
    }
}
