//! The Python tab's run view: what a run or an opened trace shows (outcome,
//! interpreter, summary figures, activity strip, the timeline with worker
//! start-up bars, the lanes, the per-task table and the script's output).

use super::{Shown, other_cpu_ui};
use crate::engine::python::lanes::LaneTrace;
use crate::gui::widgets::activity::{activity_strip_ui, concurrency_histogram_ui};
use crate::gui::widgets::palette;
use crate::gui::widgets::timeline::{
    LaneSpan, TimelineCache, TimelineOptions, fmt_ms, timeline_ui,
};
use egui::RichText;

/// Lane height of the Python timeline, points.
const LANE_H: f32 = 18.0;
/// Lane-label column: wide enough for `ForkPoolWorker-12 pid 123456`.
const LANE_LABEL_W: f32 = 180.0;
/// Rows of the per-task table.
const TASK_ROWS: usize = 500;

pub(super) fn output_ui(ui: &mut egui::Ui, id: &str, stdout: &str, stderr: &str) {
    egui::CollapsingHeader::new(id)
        .default_open(true)
        .show(ui, |ui| {
            egui::ScrollArea::vertical()
                .id_salt(id)
                .max_height(160.0)
                .stick_to_bottom(true)
                .show(ui, |ui| {
                    ui.label(RichText::new(stdout).monospace());
                    if !stderr.is_empty() {
                        ui.label(RichText::new(stderr).monospace().color(palette::BAD));
                    }
                });
        });
}

pub(super) fn shown_ui(ui: &mut egui::Ui, shown: &Shown, cache: &mut TimelineCache) {
    let s = &shown.summary;
    ui.label(RichText::new(&shown.title).strong());
    if let Some(o) = &shown.outcome {
        let colour = if o.succeeded() {
            palette::GOOD
        } else {
            palette::BAD
        };
        ui.label(RichText::new(o.ending_message()).color(colour));
        if let Some(py) = &o.python {
            let gil = if py.gil_enabled {
                "GIL on: one thread computes at a time".to_string()
            } else {
                "free-threaded: this interpreter runs without the GIL, threads can compute at the same time".to_string()
            };
            ui.label(format!(
                "python {} ({}), start method {}, {gil}",
                py.version, py.executable, py.start_method
            ));
        }
    } else if !shown.note.is_empty() {
        ui.label(&shown.note);
    }
    ui.label(format!(
        "{} task(s) in {} process(es) / {} thread(s); wall {}; utilisation {:.0}% of busy lanes, imbalance {:.2}",
        s.tasks,
        s.task_processes,
        s.task_threads,
        fmt_ms(s.wall_nanos),
        s.utilisation * 100.0,
        s.imbalance
    ));
    if let (Some(all), Some(med)) = (s.cpu_per_wall, s.cpu_per_wall_median) {
        ui.label(format!(
            "CPU/wall per task: median {med:.2}, all tasks {all:.2} (1.00: computing all the time; about 1/N for N threads sharing one GIL; near 0: waiting)"
        ));
    }
    for (method, median_ms, n) in &s.startup_ms {
        ui.label(format!(
            "worker start-up ({method}): median {median_ms:.1} ms over {n} process(es) (grey bars)"
        ));
    }
    if let Some(o) = shown.other_cpu.filter(|o| o.windows > 0) {
        other_cpu_ui(ui, &o);
    }
    concurrency_histogram_ui(ui, &shown.activity);
    activity_strip_ui(ui, &shown.activity, LANE_LABEL_W, LANE_H);
    let startups = startup_spans(&shown.lanes);
    timeline_ui(
        ui,
        &shown.trace,
        cache,
        TimelineOptions {
            lane_height: LANE_H,
            task_label: "task",
            work_unit: "ns CPU",
            lane_labels: Some(&shown.lane_labels),
            label_width: LANE_LABEL_W,
            startups: &startups,
            ..Default::default()
        },
    );
    lanes_legend_ui(ui, shown);
    tasks_table_ui(ui, &shown.lanes, &shown.lane_labels);
    if let Some(o) = &shown.outcome {
        output_ui(ui, "script output", &o.stdout, &o.stderr);
    }
}

/// Each worker process's start-up, as the timeline's grey bars.
fn startup_spans(lanes: &LaneTrace) -> Vec<LaneSpan> {
    lanes
        .startups
        .iter()
        .map(|s| LaneSpan {
            lane: s.lane,
            start_nanos: s.start_nanos,
            end_nanos: s.end_nanos,
            hover: if s.ready {
                format!(
                    "start-up ({}): {}, from starting the process to its first task",
                    s.method,
                    fmt_ms(s.end_nanos.saturating_sub(s.start_nanos))
                )
            } else {
                format!("start-up ({}): never became ready", s.method)
            },
        })
        .collect()
}

fn lanes_legend_ui(ui: &mut egui::Ui, shown: &Shown) {
    egui::CollapsingHeader::new("lanes")
        .default_open(true)
        .show(ui, |ui| {
            egui::Grid::new("python-lanes")
                .num_columns(4)
                .striped(true)
                .show(ui, |ui| {
                    for h in ["process / thread", "tasks", "busy", "CPU"] {
                        ui.label(RichText::new(h).strong());
                    }
                    ui.end_row();
                    for (i, l) in shown.summary.lanes.iter().enumerate() {
                        ui.label(RichText::new(&l.label).color(palette::worker(i as u32)));
                        ui.label(l.tasks.to_string());
                        ui.label(fmt_ms(l.busy_nanos));
                        ui.label(fmt_ms(l.cpu_nanos));
                        ui.end_row();
                    }
                });
        });
}

fn tasks_table_ui(ui: &mut egui::Ui, lanes: &LaneTrace, lane_labels: &[String]) {
    egui::CollapsingHeader::new(format!("tasks ({}): CPU/wall per task", lanes.tasks.len()))
        .default_open(false)
        .show(ui, |ui| {
            egui::ScrollArea::vertical()
                .id_salt("python-tasks")
                .max_height(220.0)
                .show(ui, |ui| {
                    egui::Grid::new("python-task-grid")
                        .num_columns(6)
                        .striped(true)
                        .show(ui, |ui| {
                            for h in ["task", "argument", "lane", "wall", "CPU", "CPU/wall"] {
                                ui.label(RichText::new(h).strong());
                            }
                            ui.end_row();
                            for t in lanes.tasks.iter().take(TASK_ROWS) {
                                ui.label(format!("{} #{}", t.name, t.index));
                                ui.label(&t.arg);
                                let lane =
                                    lane_labels.get(t.lane as usize).map_or("?", String::as_str);
                                ui.label(RichText::new(lane).color(palette::worker(t.lane)));
                                ui.label(fmt_ms(t.wall_nanos()));
                                ui.label(t.cpu_nanos.map_or("-".into(), fmt_ms));
                                ui.label(
                                    t.cpu_per_wall().map_or("-".into(), |r| format!("{r:.2}")),
                                );
                                ui.end_row();
                            }
                        });
                });
        });
}
