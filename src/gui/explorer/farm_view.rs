//! The explorer on worker processes: the farm's start-up bars and transfer
//! strips for the shared timeline, their legend, and what the figures mean.
//! Times are the render's (0 just before the first worker was spawned), the
//! same base as the tile records and the Chrome trace of `parlab render`.

use crate::engine::farm::FarmStats;
use crate::gui::explorer::Explorer;
use crate::gui::widgets::palette;
use crate::gui::widgets::timeline::{LaneSpan, fmt_ms, swatch_ui};
use egui::RichText;

impl Explorer {
    /// What the worker processes of the finished render measured (`None`
    /// on threads, or while the render runs).
    pub fn farm_stats(&self) -> Option<&FarmStats> {
        self.render_end()?.farm.as_deref()
    }

    /// The start-up bars the timeline draws for the finished render: one
    /// per worker process that sent its first message.
    pub fn startup_bars(&self) -> Vec<LaneSpan> {
        self.farm_stats().map(startup_spans).unwrap_or_default()
    }
}

/// One bar per worker process that started: spawn to its first message, in
/// its lane.
pub fn startup_spans(farm: &FarmStats) -> Vec<LaneSpan> {
    farm.workers
        .iter()
        .filter_map(|w| {
            let ready = w.ready_nanos?;
            let rss = w
                .peak_rss_kib
                .map(|k| format!("; peak RSS {:.1} MB", k as f64 / 1024.0))
                .unwrap_or_default();
            Some(LaneSpan {
                lane: w.id,
                start_nanos: w.spawned_nanos,
                end_nanos: ready,
                hover: format!(
                    "start-up of worker {} (pid {}): {}, from spawning the process to its first message (a fresh address space, parlab loaded); it then ran {} tile(s){rss}",
                    w.id,
                    w.pid,
                    fmt_ms(ready.saturating_sub(w.spawned_nanos)),
                    w.tiles,
                ),
            })
        })
        .collect()
}

/// The legend of the farm's bars, with this render's medians.
pub fn farm_legend_ui(ui: &mut egui::Ui, farm: &FarmStats) {
    let startup = farm
        .startup_median_nanos()
        .map_or_else(|| "-".into(), |n| fmt_ms(n as u64));
    let share = farm
        .transfer_share_median()
        .map_or_else(|| "-".into(), |s| format!("{:.1} %", s * 100.0));
    ui.horizontal_wrapped(|ui| {
        swatch_ui(
            ui,
            palette::STARTUP,
            &if farm.mpi.is_some() {
                format!("rank start-up: MPI_Init to its first message (median {startup})")
            } else {
                format!("process start-up: spawn to first message (median {startup})")
            },
        )
        .on_hover_text(
            "each worker is a fresh parlab process: the OS creates an address space and \
             loads the program before it can take a tile; a thread starts in microseconds",
        );
        swatch_ui(
            ui,
            palette::transfer(0),
            &format!(
                "transfer: serialise + {} + deserialise, the thin darker strip from a tile's end (median {share} of a tile)",
                if farm.mpi.is_some() { "MPI message" } else { "pipe" }
            ),
        )
        .on_hover_text(
            "the worker encodes the tile's pixels, writes them into its pipe and goes on \
             with its next tile while the master reads and decodes them, so a transfer may \
             overlap the next tile; threads write straight into the shared image and pay none. \
             Transfer is paid per tile: coarse tiles (64 px, bands) pay it less often",
        );
    });
    ui.label(
        RichText::new(
            "start-up is paid once per process, transfer once per tile: coarse tiles suit processes better than threads (see the speedup lab's granularity plot)",
        )
        .weak()
        .small(),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::farm::FarmWorker;

    #[test]
    fn a_bar_per_worker_that_spoke_in_its_lane() {
        let farm = FarmStats {
            workers: vec![
                FarmWorker {
                    id: 0,
                    pid: 11,
                    spawned_nanos: 100,
                    ready_nanos: Some(5_000_100),
                    ..Default::default()
                },
                FarmWorker {
                    id: 1,
                    pid: 12,
                    ready_nanos: None,
                    ..Default::default()
                },
                FarmWorker {
                    id: 2,
                    pid: 13,
                    spawned_nanos: 300,
                    ready_nanos: Some(2_000_300),
                    peak_rss_kib: Some(2048),
                    ..Default::default()
                },
            ],
            ..Default::default()
        };
        let bars = startup_spans(&farm);
        assert_eq!(bars.iter().map(|b| b.lane).collect::<Vec<_>>(), [0, 2]);
        assert_eq!((bars[0].start_nanos, bars[0].end_nanos), (100, 5_000_100));
        assert!(
            bars[0]
                .hover
                .starts_with("start-up of worker 0 (pid 11): 5.0 ms")
        );
        assert!(
            bars[1].hover.ends_with("peak RSS 2.0 MB"),
            "{}",
            bars[1].hover
        );
    }
}
