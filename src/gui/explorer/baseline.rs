//! The explorer's 1-worker baseline: measured in the background on request
//! (or taken from a finished 1-worker render), remembered for the current
//! view and kernel only, for the stats strip's speedup.

use super::Explorer;
use super::legend::Baseline;
use crate::engine::mandelbrot::job::{JobEvent, RenderJob};
use crate::engine::mandelbrot::kernel::Kernel;
use crate::engine::mandelbrot::view::View;
use crate::gui::explorer::live_render::LiveRender;

/// Baselines remembered: only the current view's. A baseline is discarded
/// when the view or its size changes (it was measured for that view alone).
const MAX_BASELINES: usize = 1;

impl Explorer {
    pub(super) fn remember_baseline(&mut self, view: View, kernel: Kernel, b: Baseline) {
        if let Some(e) = self
            .baselines
            .iter_mut()
            .find(|(v, k, _)| *v == view && *k == kernel)
        {
            e.2 = b;
            return;
        }
        self.baselines.insert(0, (view, kernel, b));
        self.baselines.truncate(MAX_BASELINES);
    }

    pub fn baseline(&self) -> Option<Baseline> {
        let (v, k) = (self.view, self.settings.kernel);
        self.baselines
            .iter()
            .find(|(bv, bk, _)| *bv == v && *bk == k)
            .map(|e| e.2)
    }

    /// Starts a 1-worker render of the current view in the background
    /// (refused, with a message, while another measurement runs).
    pub fn measure_baseline(&mut self) {
        let mut s = self.render_settings();
        s.num_workers = 1;
        if self.render.as_ref().is_some_and(LiveRender::is_running) {
            self.render_error = Some("the baseline waits for the render to finish".into());
            return;
        }
        self.guard = None;
        match self.measuring.try_begin("the explorer's 1-worker baseline") {
            Ok(g) => self.guard = Some(g),
            Err(holder) => {
                self.render_error = Some(format!(
                    "baseline refused: {holder} is measuring (one measurement at a time)"
                ));
                return;
            }
        }
        // No per-tile wake-ups: the UI polls while the baseline runs, so the
        // 1-worker time is not disturbed by the UI's lock.
        match RenderJob::start(s, None) {
            Ok(job) => self.baseline_job = Some((s.view, s.kernel, job)),
            Err(e) => self.render_error = Some(format!("could not start the baseline: {e}")),
        }
    }

    pub(super) fn poll_baseline(&mut self) {
        let mut finished = None;
        if let Some((view, kernel, job)) = &self.baseline_job {
            while let Some(ev) = job.try_next() {
                if let JobEvent::Finished(end) = ev {
                    finished = Some((*view, *kernel, end));
                    break;
                }
            }
        }
        if let Some((view, kernel, end)) = finished {
            self.baseline_job = None;
            self.guard = None;
            match (&end.error, end.cancelled) {
                (Some(e), _) => self.render_error = Some(format!("baseline failed: {e}")),
                (None, true) => {}
                (None, false) => self.remember_baseline(
                    view,
                    kernel,
                    Baseline {
                        wall_nanos: end.wall_nanos,
                        measured_at: std::time::SystemTime::now(),
                    },
                ),
            }
        }
    }
}
