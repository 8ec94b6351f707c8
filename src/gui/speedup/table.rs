//! The speedup lab's results table: every configuration with its spread,
//! speedup and interval, efficiency and flagged outliers.

use crate::engine::speedup::results::ResultRow;
use crate::engine::speedup::sweep::ConfigKey;
use crate::gui::widgets::palette;
use egui::RichText;

/// Milliseconds to 3 decimals, with thousands separators from 10,000 ms on.
fn ms_text(ms: f64) -> String {
    if ms >= 10_000.0 {
        crate::engine::util::num::tick(ms, 1.0)
    } else {
        format!("{ms:.3}")
    }
}

/// What the user asked of the table this frame.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TableResponse {
    /// The configuration whose "trace" button was clicked.
    pub open_trace: Option<usize>,
}

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(|| "-".into(), |x| format!("{x:.digits$}"))
}

/// Draws the table; `selected` is highlighted.
pub fn results_table_ui(
    ui: &mut egui::Ui,
    rows: &[(usize, ResultRow)],
    configs: &[ConfigKey],
    selected: Option<usize>,
) -> TableResponse {
    let mut response = TableResponse::default();
    egui::ScrollArea::horizontal()
        .id_salt("speedup-table-scroll")
        .show(ui, |ui| {
            egui::Grid::new("speedup-table")
                .striped(true)
                .num_columns(13)
                .spacing([14.0, 3.0])
                .show(ui, |ui| {
                    for h in [
                        "granularity", "tasks", "workers", "n", "median ms", "min ms", "MAD ms",
                        "speedup", "95% CI", "efficiency", "Karp-Flatt e", "vs sequential",
                        "outliers",
                    ] {
                        ui.label(RichText::new(h).strong());
                    }
                    ui.label("");
                    ui.end_row();
                    for (c, r) in rows {
                        let sequential = configs.get(*c).is_some_and(|k| !k.schedule.uses_pool());
                        let mut g = RichText::new(&r.granularity);
                        if selected == Some(*c) {
                            g = g.color(palette::HIGHLIGHT).strong();
                        }
                        ui.label(g);
                        ui.label(crate::engine::util::words::thousands(r.tasks as u64));
                        let workers = if sequential {
                            RichText::new("sequential")
                        } else if r.oversubscribed {
                            RichText::new(format!("{} (over)", r.workers)).color(palette::WARN)
                        } else {
                            RichText::new(r.workers.to_string())
                        };
                        ui.label(workers).on_hover_text(if r.oversubscribed {
                            "more workers than logical cores"
                        } else {
                            "worker threads in the pool"
                        });
                        ui.label(r.n.to_string());
                        ui.label(ms_text(r.median_s * 1e3));
                        ui.label(ms_text(r.min_s * 1e3));
                        ui.label(format!("{:.3}", r.mad_s * 1e3));
                        if r.superlinear {
                            ui.label(RichText::new(format!("{} (!)", opt(r.speedup, 2))).color(palette::WARN))
                                .on_hover_text(crate::engine::speedup::results::SUPERLINEAR_NOTE);
                        } else {
                            ui.label(RichText::new(opt(r.speedup, 2)).color(palette::MEASURED));
                        }
                        ui.label(
                            r.speedup_ci95
                                .map_or_else(|| "-".into(), |[a, b]| format!("[{a:.2}, {b:.2}]")),
                        );
                        match r.efficiency {
                            Some(e) => ui.label(RichText::new(format!("{e:.2}")).color(palette::efficiency(e))),
                            None => ui.label("-"),
                        };
                        match r.karp_flatt {
                            Some(e) if e < 0.0 => ui
                                .label(RichText::new(format!("{e:.3} (!)")).color(palette::WARN))
                                .on_hover_text(crate::engine::speedup::results::describe_karp_flatt(e)),
                            _ => ui.label(opt(r.karp_flatt, 3)),
                        };
                        ui.label(opt(r.speedup_vs_sequential, 2));
                        if r.outliers.is_empty() {
                            ui.label("none");
                        } else {
                            let runs: Vec<String> = r
                                .outliers
                                .iter()
                                .map(|&i| format!("#{} ({:.3} ms)", i + 1, r.times_s[i] * 1e3))
                                .collect();
                            ui.label(RichText::new(format!("! {}", r.outliers.len())).color(palette::WARN))
                                .on_hover_text(format!(
                                    "flagged by Tukey fences (beyond 1.5 IQR), kept in every figure: {}",
                                    runs.join(", ")
                                ));
                        }
                        if ui
                            .small_button(format!("trace {} × {}", r.granularity, if sequential { "seq".to_string() } else { r.workers.to_string() }))
                            .on_hover_text(
                                "open the median run's trace: Mandelbrot in the explorer's \
                                 timeline, other workloads as a task grid below the plots",
                            )
                            .clicked()
                        {
                            response.open_trace = Some(*c);
                        }
                        ui.end_row();
                    }
                });
        });
    response
}
