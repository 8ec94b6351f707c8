//! A reusable task grid: the non-image counterpart of the explorer's tile
//! overlay. Every task of a run is a cell (task i at column i mod cols, row
//! i / cols, shape from [`grid_shape`]), tinted in the colour of the worker
//! that ran it and dimmed by how cheap it was relative to the costliest task,
//! so uneven cost (primes) and who did what are both visible. Give it a
//! [`TaskGrid`] (built once per trace), it tells you which task is hovered or
//! clicked; pass the timeline's hovered task back in to highlight its cell.

use crate::engine::exec::trace::{TaskRecord, Trace};
use crate::engine::workloads::grid_shape;
use crate::gui::widgets::palette;
use crate::gui::widgets::timeline::{fmt_ms, task_summary_as};
use egui::{
    Color32, ColorImage, Pos2, Rect, Sense, Stroke, StrokeKind, TextureHandle, TextureOptions, Vec2,
};

/// What a cell's brightness and cost bar measure.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CellCost {
    /// Measured wall time of the task.
    #[default]
    Duration,
    /// The workload's own count of work (divisions, multiply-adds, …).
    Work,
}

/// Column and row of task `task` in a grid `cols` wide.
pub fn cell_of(task: usize, cols: usize) -> (usize, usize) {
    let cols = cols.max(1);
    (task % cols, task / cols)
}

/// The task in cell (`col`, `row`) of a grid `cols` wide holding `num_tasks`
/// tasks; `None` for the empty cells after the last task.
pub fn task_at(col: usize, row: usize, cols: usize, num_tasks: usize) -> Option<usize> {
    if col >= cols {
        return None;
    }
    let task = row.checked_mul(cols)?.checked_add(col)?;
    (task < num_tasks).then_some(task)
}

/// A run's tasks indexed by task number, with the costliest task's figures;
/// built once per trace (the data step), drawn by [`task_grid_ui`].
pub struct TaskGrid {
    cols: usize,
    rows: usize,
    /// `by_task[i]`: task i's record (`None` if the run never finished it).
    by_task: Vec<Option<TaskRecord>>,
    max_duration_nanos: u64,
    max_work: u64,
    /// One pixel per cell, built on first draw and when the cost changes.
    texture: Option<(CellCost, TextureHandle)>,
}

impl TaskGrid {
    /// The grid for `trace`, with room for `num_tasks` tasks (the workload's
    /// count at this granularity; grown if the trace holds a higher task id).
    pub fn new(trace: &Trace, num_tasks: usize) -> Self {
        let highest = trace
            .records
            .iter()
            .map(|r| r.task as usize + 1)
            .max()
            .unwrap_or(0);
        let n = num_tasks.max(highest);
        let mut by_task = vec![None; n];
        for r in &trace.records {
            by_task[r.task as usize] = Some(*r);
        }
        let (cols, rows) = grid_shape(n);
        TaskGrid {
            cols,
            rows,
            by_task,
            max_duration_nanos: trace
                .records
                .iter()
                .map(TaskRecord::duration_nanos)
                .max()
                .unwrap_or(0),
            max_work: trace.records.iter().map(|r| r.work).max().unwrap_or(0),
            texture: None,
        }
    }

    /// Cells holding a task (one per task).
    pub fn num_cells(&self) -> usize {
        self.by_task.len()
    }

    /// Columns × rows.
    pub fn shape(&self) -> (usize, usize) {
        (self.cols, self.rows)
    }

    /// Task `task`'s record, if it ran.
    pub fn record(&self, task: usize) -> Option<&TaskRecord> {
        self.by_task.get(task)?.as_ref()
    }

    /// Task `task`'s cost as a fraction of the costliest task's, 0..=1.
    pub fn relative_cost(&self, task: usize, cost: CellCost) -> f32 {
        let Some(r) = self.record(task) else {
            return 0.0;
        };
        let (v, max) = match cost {
            CellCost::Duration => (r.duration_nanos(), self.max_duration_nanos),
            CellCost::Work => (r.work, self.max_work),
        };
        if max == 0 {
            0.0
        } else {
            (v as f64 / max as f64) as f32
        }
    }

    /// The cell colours, row by row (empty cells in the lane background).
    fn image(&self, cost: CellCost) -> ColorImage {
        let pixels = (0..self.cols * self.rows)
            .map(|i| match self.record(i) {
                Some(r) => palette::task_cell(r.worker, self.relative_cost(i, cost)),
                None if i < self.by_task.len() => palette::IDLE,
                None => palette::LANE_BG,
            })
            .collect();
        ColorImage::new([self.cols.max(1), self.rows.max(1)], pixels)
    }
}

/// What the caller wants drawn besides the grid.
#[derive(Clone, Copy, Debug, Default)]
pub struct TaskGridOptions {
    /// Task to highlight (e.g. hovered in the timeline).
    pub highlight_task: Option<u32>,
    /// Task selected by a click, outlined.
    pub selected_task: Option<u32>,
    pub cost: CellCost,
    /// What a task is called in the hover text (`chunk`).
    pub task_label: &'static str,
    /// The unit of a task's work (`divisions`).
    pub work_unit: &'static str,
    /// Largest height the grid may take, in points (0: 320).
    pub max_height: f32,
}

/// What happened in the grid this frame.
#[derive(Clone, Copy, Debug, Default)]
pub struct TaskGridResponse {
    pub hovered_task: Option<u32>,
    pub clicked_task: Option<u32>,
}

/// Cells at least this large (points) get separators and a cost bar.
const DETAIL_CELL_PT: f32 = 10.0;

/// Draws `grid` as square cells filling the available width (up to
/// `opts.max_height` tall).
pub fn task_grid_ui(
    ui: &mut egui::Ui,
    grid: &mut TaskGrid,
    opts: TaskGridOptions,
) -> TaskGridResponse {
    let (cols, rows) = (grid.cols.max(1), grid.rows.max(1));
    let max_h = if opts.max_height > 0.0 {
        opts.max_height
    } else {
        320.0
    };
    let cell = (ui.available_width() / cols as f32)
        .min(max_h / rows as f32)
        .clamp(1.0, 48.0);
    let size = Vec2::new(cell * cols as f32, cell * rows as f32);
    let (rect, response) = ui.allocate_exact_size(size, Sense::click());
    if grid.num_cells() == 0 {
        return TaskGridResponse::default();
    }
    let texture = match &grid.texture {
        Some((c, t)) if *c == opts.cost => t.clone(),
        _ => {
            let t =
                ui.ctx()
                    .load_texture("task-grid", grid.image(opts.cost), TextureOptions::NEAREST);
            grid.texture = Some((opts.cost, t.clone()));
            t
        }
    };
    let painter = ui.painter_at(rect);
    painter.image(
        texture.id(),
        rect,
        Rect::from_min_max(Pos2::ZERO, Pos2::new(1.0, 1.0)),
        Color32::WHITE,
    );
    let cell_rect = |task: usize| {
        let (c, r) = cell_of(task, cols);
        Rect::from_min_size(
            rect.min + Vec2::new(c as f32 * cell, r as f32 * cell),
            Vec2::splat(cell),
        )
    };
    if cell >= DETAIL_CELL_PT {
        // Bounded: at this size at most (width / 10)² cells fit.
        let sep = Stroke::new(1.0, palette::LANE_BG);
        for c in 1..cols {
            let x = rect.left() + c as f32 * cell;
            painter.line_segment([Pos2::new(x, rect.top()), Pos2::new(x, rect.bottom())], sep);
        }
        for r in 1..rows {
            let y = rect.top() + r as f32 * cell;
            painter.line_segment([Pos2::new(rect.left(), y), Pos2::new(rect.right(), y)], sep);
        }
        for task in 0..grid.num_cells() {
            let rel = grid.relative_cost(task, opts.cost);
            if grid.record(task).is_none() {
                continue;
            }
            let c = cell_rect(task).shrink(2.0);
            let bar = Rect::from_min_max(
                Pos2::new(c.left(), c.bottom() - (c.height() * 0.18).max(2.0)),
                Pos2::new(c.left() + c.width() * rel, c.bottom()),
            );
            painter.rect_filled(bar, 0.0, palette::TASK_COST_BAR);
        }
    }
    let hovered = response.hover_pos().and_then(|p| {
        let col = ((p.x - rect.left()) / cell).floor();
        let row = ((p.y - rect.top()) / cell).floor();
        if col < 0.0 || row < 0.0 {
            return None;
        }
        task_at(col as usize, row as usize, cols, grid.num_cells())
    });
    let outline = |task: Option<u32>, stroke: Stroke| {
        if let Some(t) = task.filter(|&t| (t as usize) < grid.num_cells()) {
            let r = cell_rect(t as usize).expand(if cell < 4.0 { 2.0 } else { 0.0 });
            painter.rect_stroke(r, 0.0, stroke, StrokeKind::Inside);
        }
    };
    let hover_task = hovered.map(|t| t as u32).or(opts.highlight_task);
    outline(hover_task, Stroke::new(2.0, palette::HIGHLIGHT));
    outline(opts.selected_task, Stroke::new(2.0, palette::WARN));
    if let Some(t) = hovered {
        let text = match grid.record(t) {
            Some(r) => format!(
                "{}\n{:.0} % of the longest task's time · {:.0} % of the most work",
                task_summary_as(r, opts.task_label, opts.work_unit),
                100.0 * grid.relative_cost(t, CellCost::Duration),
                100.0 * grid.relative_cost(t, CellCost::Work),
            ),
            None => format!("{} {t}: not run", opts.task_label),
        };
        response.clone().on_hover_text(text);
    }
    let hovered_task = hovered.map(|t| t as u32);
    TaskGridResponse {
        hovered_task,
        clicked_task: if response.clicked() {
            hovered_task
        } else {
            None
        },
    }
}

/// One line on what the grid shows, for a caption.
pub fn grid_caption(grid: &TaskGrid, cost: CellCost, task_label: &str) -> String {
    let (cols, rows) = grid.shape();
    let measure = match cost {
        CellCost::Duration => format!("time (longest {})", fmt_ms(grid.max_duration_nanos)),
        CellCost::Work => "work".to_string(),
    };
    format!(
        "{} {task_label}s as a {cols} × {rows} grid, task i at column i mod {cols}; colour = worker, \
         brighter = more {measure}",
        grid.num_cells()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_task_gets_exactly_one_cell() {
        for n in 0..300 {
            let (cols, rows) = grid_shape(n);
            let mut hits = vec![0u32; cols * rows];
            for task in 0..n {
                let (c, r) = cell_of(task, cols);
                assert!(c < cols && r < rows, "n {n} task {task}");
                assert_eq!(task_at(c, r, cols, n), Some(task), "n {n}");
                hits[r * cols + c] += 1;
            }
            assert!(hits[..n].iter().all(|&h| h == 1), "n {n}");
            assert!(hits[n..].iter().all(|&h| h == 0), "n {n}");
            // The cells after the last task hold nothing.
            for i in n..cols * rows {
                assert_eq!(task_at(i % cols, i / cols, cols, n), None);
            }
            assert_eq!(task_at(cols, 0, cols, n), None, "off the right edge");
        }
    }

    fn rec(task: u32, worker: u32, start: u64, end: u64, work: u64) -> TaskRecord {
        TaskRecord {
            task,
            worker,
            start_nanos: start,
            end_nanos: end,
            work,
            cpu: None,
        }
    }

    #[test]
    fn grid_indexes_records_by_task_and_scales_cost() {
        let trace = Trace {
            num_workers: 2,
            wall_nanos: 100,
            records: vec![
                rec(2, 1, 0, 40, 8),
                rec(0, 0, 0, 10, 2),
                rec(1, 0, 10, 30, 4),
            ],
        };
        let grid = TaskGrid::new(&trace, 5);
        assert_eq!(grid.num_cells(), 5);
        assert_eq!(grid.shape(), (3, 2));
        assert_eq!(grid.record(2).map(|r| r.worker), Some(1));
        assert!(grid.record(3).is_none(), "not in the trace");
        assert!((grid.relative_cost(2, CellCost::Duration) - 1.0).abs() < 1e-6);
        assert!((grid.relative_cost(0, CellCost::Duration) - 0.25).abs() < 1e-6);
        assert!((grid.relative_cost(1, CellCost::Work) - 0.5).abs() < 1e-6);
        let img = grid.image(CellCost::Duration);
        assert_eq!(img.size, [3, 2]);
        assert_eq!(
            img.pixels[2],
            palette::worker(1),
            "costliest at full colour"
        );
        assert_eq!(img.pixels[3], palette::IDLE, "task 3 never ran");
        assert_eq!(img.pixels[5], palette::LANE_BG, "no task 5");
        // A trace with a task beyond the expected count grows the grid.
        assert_eq!(TaskGrid::new(&trace, 1).num_cells(), 3);
    }
}
