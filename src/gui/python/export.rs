//! The Python sweep's exports, as the speedup lab makes them: the speedup
//! plot as drawn (PNG or SVG, the lab's plotters code), and CSV or JSON (the
//! lab's report, both modes in one, the method in its meta block), written
//! atomically into the export folder.

use super::PythonPanel;
use crate::engine::python::sweep::modes_report;
use crate::engine::speedup::charts::draw::{Chart, write_plot};
use crate::engine::util::files::{write_atomic, write_json};
use crate::gui::speedup::{Export, export_folder_ready, export_row_ui};

impl PythonPanel {
    pub(super) fn export_ui(&mut self, ui: &mut egui::Ui) {
        let ready = self.runtime.sweep_task.is_none()
            && self
                .runtime
                .sweeps
                .iter()
                .any(|s| s.results.num_measured() > 0);
        let clicked = export_row_ui(
            ui,
            &mut self.settings.export_folder,
            ready,
            self.runtime.export_message.as_ref(),
        );
        if let Some(what) = clicked {
            self.runtime.export_message = Some(self.export_sweep(what));
        }
    }

    /// Writes the sweep's `what` into the export folder (created if
    /// missing): `python-speedup.png|svg`, `python-sweep.csv|json`.
    pub fn export_sweep(&self, what: Export) -> Result<String, String> {
        let sweeps = &self.runtime.sweeps;
        let report = modes_report(sweeps).ok_or("nothing measured yet")?;
        let folder = export_folder_ready(&self.settings.export_folder)?;
        let (name, result) = match what {
            Export::Png | Export::Svg => {
                let name = if what == Export::Png {
                    "python-speedup.png"
                } else {
                    "python-speedup.svg"
                };
                let chart = super::sweep_chart(sweeps).ok_or("nothing measured yet")?;
                (name, write_plot(&folder.join(name), Chart::Speedup(&chart)))
            }
            Export::Csv => {
                let name = "python-sweep.csv";
                let bytes = report.to_csv().into_bytes();
                (name, write_atomic(&folder.join(name), &bytes))
            }
            Export::Json => {
                let name = "python-sweep.json";
                (name, write_json(&folder.join(name), &report.to_json()))
            }
        };
        result.map_err(|e| e.to_string())?;
        Ok(format!("wrote {}", folder.join(name).display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::python::runner::{RunPlan, Script};
    use crate::engine::python::sweep::{PYTHON_SWEEP_METHOD, sweep_modes};
    use std::sync::Arc;
    use std::sync::atomic::AtomicBool;

    /// A real (tiny) sweep of both modes under `python3`, exported four ways.
    #[test]
    fn a_sweep_exports_both_modes_with_the_method() {
        let dir = tempfile::tempdir().expect("temp dir");
        let script = dir.path().join("tiny.py");
        std::fs::write(
            &script,
            "import sys\nprint('args', sys.argv[1:], sum(range(3_000_000)))\n",
        )
        .expect("script");
        let plan = RunPlan::new(Script::File(script));
        let cancel = Arc::new(AtomicBool::new(false));
        let sweeps = sweep_modes(&plan, 0, &[1, 2], 1, &cancel, &mut |_, _, _| {}).expect("swept");
        assert_eq!(sweeps.len(), 2);
        // Other processes' CPU was measured over every timed run, and the
        // interpreters (each burns a fixed amount of CPU) counted as the
        // runs' own, not as other processes'.
        for s in &sweeps {
            assert_eq!(s.results.other_cpu.windows, 2, "{}", s.mode);
            assert!(
                s.results.other_cpu.self_ticks >= 5,
                "{:?}",
                s.results.other_cpu
            );
        }
        let mut panel = PythonPanel::default();
        panel.settings.export_folder = dir.path().join("out");
        assert!(
            panel.export_sweep(Export::Csv).is_err(),
            "nothing measured yet"
        );
        panel.runtime.sweeps = sweeps;
        for what in [Export::Png, Export::Svg, Export::Csv, Export::Json] {
            let message = panel.export_sweep(what).expect("exported");
            assert!(message.starts_with("wrote "), "{message}");
        }
        let out = dir.path().join("out");
        let csv = std::fs::read_to_string(out.join("python-sweep.csv")).expect("csv");
        // A header and one row per mode and worker count.
        assert_eq!(csv.lines().count(), 1 + 2 * 2, "{csv}");
        assert!(
            csv.contains("python-processes") && csv.contains("python-threads"),
            "{csv}"
        );
        let json: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(out.join("python-sweep.json")).expect("json"),
        )
        .expect("JSON");
        assert_eq!(
            json["meta"]["workload_params"]["method"],
            PYTHON_SWEEP_METHOD
        );
        assert_eq!(json["compared"].as_array().map(Vec::len), Some(1));
        let png = std::fs::read(out.join("python-speedup.png")).expect("png");
        image::load_from_memory(&png).expect("a readable PNG");
        let svg = std::fs::read_to_string(out.join("python-speedup.svg")).expect("svg");
        assert!(svg.contains("<svg"));
        // Nothing but the four files (no temporary left behind).
        assert_eq!(std::fs::read_dir(&out).expect("dir").count(), 4);
    }
}
