//! Choosing what the speedup lab sweeps: Mandelbrot (the explorer's view) or
//! a course workload with its main parameter and GIL mode; and the measured
//! points other panels (the theory panel's Amdahl plot) overlay.

use super::SpeedupPanel;
use crate::engine::mandelbrot::kernel::Kernel;
use crate::engine::mandelbrot::tiling::Tiling;
use crate::engine::mandelbrot::view::View;
use crate::engine::speedup::charts::data::{focus_granularity, speedup_chart};
use crate::engine::workloads::{Granularity, by_spec};

/// Mandelbrot's default granularities: tile edges, log-spaced, and bands.
pub const MANDELBROT_GRANULARITIES: &str = "4,8,16,32,64,128,256,bands(1)";

/// A course workload's main parameters with their defaults, as first shown.
fn main_params(name: &str) -> &'static str {
    match name {
        "primes" => "count=320",
        "dot" => "len=4000000",
        "matmul" => "n=512",
        "io" => "tasks=64,wait-ms=10",
        _ => "",
    }
}

/// What the granularity list means for `name`, for the hover text.
pub(super) fn granularity_hint(name: &str) -> &'static str {
    match name {
        "mandelbrot" => {
            "tile edges in px and/or bands(N): full-width bands N rows high (bands alone: bands(1))"
        }
        "primes" => "numbers tested per task",
        "dot" => "vector elements per task",
        "matmul" => "cutoff size of the recursive split (power of two)",
        "io" => "requests per task",
        _ => "",
    }
}

/// How a granularity is typed in the list.
fn granularity_input(g: Granularity) -> String {
    match g {
        Granularity::Chunk { items } => items.to_string(),
        Granularity::Cutoff { size } => size.to_string(),
        Granularity::Tiles(Tiling::Square { tile_px }) => tile_px.to_string(),
        Granularity::Tiles(t) => t.to_string(),
    }
}

impl SpeedupPanel {
    /// The workload as `by_spec` reads it: `mandelbrot`, or `name[:params]`.
    pub fn workload_spec(&self) -> String {
        let s = &self.settings;
        let params = s.workload_params.trim();
        if s.workload == "mandelbrot" || params.is_empty() {
            s.workload.clone()
        } else {
            format!("{}:{params}", s.workload)
        }
    }

    /// Switches to workload `name`: its main parameters and its default
    /// granularities (GIL mode off for mandelbrot, which has none).
    pub fn select_workload(&mut self, name: &str) {
        self.settings.workload = name.to_string();
        self.settings.workload_params = main_params(name).to_string();
        if name == "mandelbrot" {
            self.settings.gil = false;
        }
        self.reset_granularities();
    }

    /// Sets the granularity list to the current workload's defaults (for its
    /// current parameters); leaves it alone if the workload does not parse.
    pub fn reset_granularities(&mut self) {
        // A workload whose parameters do not parse has no defaults to give:
        // the list is left alone and `reset_lists` says why.
        let _ = self
            .default_granularities()
            .map(|g| self.settings.granularities = g);
    }

    /// The current workload's default granularities, as typed in the list.
    fn default_granularities(&self) -> Result<String, String> {
        if self.settings.workload == "mandelbrot" {
            return Ok(MANDELBROT_GRANULARITIES.into());
        }
        let view = View::default_for_size(8, 8).map_err(|e| e.to_string())?;
        let w = by_spec(&self.workload_spec(), view, Kernel::default(), false)
            .map_err(|e| format!("parameters: {e}"))?;
        let list: Vec<String> = w
            .default_granularities()
            .into_iter()
            .map(granularity_input)
            .collect();
        Ok(list.join(","))
    }

    /// What the "defaults" button does: the worker counts and the
    /// granularities back to their defaults (the row it sits in), for the
    /// current workload and parameters. Leaves both alone, with the reason,
    /// when the parameters do not parse.
    pub fn reset_lists(&mut self) {
        match self.default_granularities() {
            Ok(g) => {
                self.settings.granularities = g;
                self.settings.workers = super::SpeedupSettings::default().workers;
                self.input_error = None;
            }
            Err(e) => {
                self.input_error = Some(format!("defaults: no default granularities ({e})"));
            }
        }
    }

    /// Keeps the current sweep's speedup lines on the plot, so that the next
    /// sweep (another workload, or GIL mode) is drawn beside them; false when
    /// nothing has been measured yet.
    pub fn pin_for_comparison(&mut self) -> bool {
        let Some(r) = &self.results else {
            return false;
        };
        let mut chart = speedup_chart(r, &r.row_table());
        if chart.series.iter().all(|s| s.points.is_empty()) {
            return false;
        }
        // Its points belong to results no longer held: nothing to open.
        for p in chart.series.iter_mut().flat_map(|s| s.points.iter_mut()) {
            p.config = usize::MAX;
        }
        self.pinned = Some((self.run_label.clone(), chart));
        self.refresh();
        true
    }

    /// Drops the pinned comparison lines.
    pub fn clear_pinned(&mut self) {
        self.pinned = None;
        self.refresh();
    }

    /// The label of the pinned comparison, if any.
    pub fn pinned_label(&self) -> Option<&str> {
        self.pinned.as_ref().map(|(l, _)| l.as_str())
    }

    /// Measured (workers, speedup) points of the best-scaling granularity, for
    /// the theory panel's Amdahl plot (`TheoryPanel::set_measured_points`);
    /// empty before a sweep has measured anything.
    pub fn measured_points(&self) -> Vec<[f64; 2]> {
        let Some(r) = &self.results else {
            return Vec::new();
        };
        let table = r.row_table();
        let chart = speedup_chart(r, &table);
        focus_granularity(r, &table)
            .and_then(|i| chart.series.get(i))
            .map(|s| s.points.iter().map(|p| [p.workers, p.speedup]).collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gui::speedup::SpeedupSettings;

    #[test]
    fn selecting_a_workload_sets_its_parameters_and_granularities() {
        let mut panel = SpeedupPanel::new(SpeedupSettings::default());
        assert_eq!(panel.workload_spec(), "mandelbrot");
        panel.select_workload("primes");
        assert_eq!(panel.workload_spec(), "primes:count=320");
        assert_eq!(panel.settings.granularities, "1,2,4,8,16,32,64");
        panel.select_workload("matmul");
        assert_eq!(panel.settings.granularities, "16,32,64,128,256");
        panel.settings.workload_params = "n=64".into();
        panel.reset_granularities();
        assert_eq!(panel.settings.granularities, "16,32");
        panel.settings.gil = true;
        panel.select_workload("mandelbrot");
        assert!(!panel.settings.gil);
        assert_eq!(panel.settings.granularities, MANDELBROT_GRANULARITIES);
        assert!(panel.measured_points().is_empty());
    }
}
