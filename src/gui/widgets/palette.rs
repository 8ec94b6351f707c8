//! Every colour the window uses, worker colours included, in one place.

use egui::Color32;

/// Colour of worker `id`, the same as in exported images (`engine::colour`).
pub fn worker(id: u32) -> Color32 {
    let [r, g, b] = crate::engine::mandelbrot::colour::worker_colour(id);
    Color32::from_rgb(r, g, b)
}

/// Text and marks for measured values.
pub const MEASURED: Color32 = Color32::from_rgb(90, 170, 255);
/// Predicted values are drawn in this colour, dashed, and labelled "predicted".
pub const PREDICTED: Color32 = Color32::from_rgb(255, 170, 60);
/// Ideal / reference lines.
pub const IDEAL: Color32 = Color32::from_gray(150);
/// Something wrong: lost updates, errors, deadlock.
pub const BAD: Color32 = Color32::from_rgb(235, 70, 70);
/// Something right: nothing lost, completed.
pub const GOOD: Color32 = Color32::from_rgb(80, 200, 120);
/// Notices that need attention but are not errors.
pub const WARN: Color32 = Color32::from_rgb(240, 200, 60);
/// Idle gaps in timelines.
pub const IDLE: Color32 = Color32::from_gray(45);
/// Highlight for hovered or selected items.
pub const HIGHLIGHT: Color32 = Color32::WHITE;
/// A worker process's start-up in timelines (spawn to its first message).
pub const STARTUP: Color32 = Color32::from_gray(150);

/// A tile's transfer (serialise + pipe + deserialise) in timelines: its
/// worker's colour, darkened, so it reads as the end of that worker's tile
/// and stands out against the bright compute bar it may overlap.
pub fn transfer(worker_id: u32) -> Color32 {
    worker(worker_id).lerp_to_gamma(Color32::BLACK, 0.55)
}

/// Thin links in the interleaving lanes (a read to the write whose value it saw).
pub const LINK: Color32 = Color32::from_gray(120);
/// Lane backgrounds and separators.
pub const LANE_BG: Color32 = Color32::from_gray(30);
/// The k = 0 (nobody busy) bar of the concurrency histogram.
pub const IDLE_SHARE: Color32 = Color32::from_gray(110);

/// Series colour of a lock kind, the same as in exported plots (`engine::locks::plot`).
pub fn lock_kind(kind: crate::engine::locks::throughput::LockKind) -> Color32 {
    let [r, g, b] = crate::engine::locks::plot::kind_colour(kind);
    Color32::from_rgb(r, g, b)
}

/// Contention timeline, as Tracy draws locks: waiting red, held while others wait
/// yellow, held with nobody waiting green.
pub fn lock_span(span: crate::engine::locks::contention::Span) -> Color32 {
    use crate::engine::locks::contention::Span;
    match span {
        Span::Waiting => BAD,
        Span::HeldContended => WARN,
        Span::HeldUncontended => GOOD,
    }
}

/// CPU taken by parlab itself (this process and its children) in the system tab.
pub const OWN_CPU: Color32 = Color32::from_rgb(90, 170, 255);
/// CPU taken by other programs in the system tab.
pub const OTHER_CPU: Color32 = Color32::from_rgb(230, 120, 170);

/// Thread names beside state-coloured lanes (the contention timeline, the
/// deadlock graph): worker colours that are none of the state colours (red
/// waiting or bad, yellow contended, green free or good, orange predicted), so
/// a thread's name never reads as a state. Cycles after eight.
pub fn thread_label(thread: usize) -> Color32 {
    // Blue, cyan, magenta, pink, purple, navy, brown, mint (worker colours 2, 6, 7, 11, 5, 12, 8, 13).
    const PICKS: [u32; 8] = [2, 6, 7, 11, 5, 12, 8, 13];
    let w = worker(PICKS[thread % PICKS.len()]);
    // Lift the dark ones so the name reads on the dark lanes.
    if u32::from(w.r()) + u32::from(w.g()) + u32::from(w.b()) < 300 {
        w.lerp_to_gamma(Color32::WHITE, 0.35)
    } else {
        w
    }
}

/// Colour of the `i`-th measured series in a plot (granularity or worker
/// count), the same as in exported plots (`engine::plot`).
pub fn series(i: usize) -> Color32 {
    worker(i as u32)
}
/// A task-grid cell: its worker's colour, dimmed towards [`IDLE`] the
/// cheaper the task is relative to the costliest (`relative` in 0..=1), so
/// uneven cost shows at a glance while the worker stays recognisable.
pub fn task_cell(worker_id: u32, relative: f32) -> Color32 {
    IDLE.lerp_to_gamma(worker(worker_id), 0.3 + 0.7 * relative.clamp(0.0, 1.0))
}
/// The cost bar along a task-grid cell's bottom edge.
pub const TASK_COST_BAR: Color32 = Color32::from_gray(235);

/// Fitted models (Amdahl's curve) in plots.
pub const MODEL: Color32 = Color32::from_rgb(200, 200, 200);
/// Brent's bound (a prediction) in plots.
pub const BOUND: Color32 = Color32::from_rgb(180, 120, 230);
/// Vertical marks at the core counts.
pub const CORE_MARK: Color32 = Color32::from_gray(120);

/// Efficiency 0..=1 (and above, superlinear) as a colour, red → yellow → green.
pub fn efficiency(e: f64) -> Color32 {
    let t = e.clamp(0.0, 1.0) as f32;
    let lerp = |a: Color32, b: Color32, t: f32| {
        let m = |x: u8, y: u8| (x as f32 + (y as f32 - x as f32) * t).round() as u8;
        Color32::from_rgb(m(a.r(), b.r()), m(a.g(), b.g()), m(a.b(), b.b()))
    };
    if t < 0.5 {
        lerp(BAD, WARN, t * 2.0)
    } else {
        lerp(WARN, GOOD, (t - 0.5) * 2.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worker_colours_match_engine() {
        assert_eq!(
            worker(3).to_array()[..3],
            crate::engine::mandelbrot::colour::worker_colour(3)
        );
    }

    #[test]
    fn task_cells_brighten_with_cost() {
        assert_eq!(task_cell(2, 1.0), worker(2));
        let lum = |c: Color32| u32::from(c.r()) + u32::from(c.g()) + u32::from(c.b());
        assert!(lum(task_cell(2, 0.1)) < lum(task_cell(2, 0.9)));
    }

    #[test]
    fn transfers_are_darker_than_their_worker() {
        let lum = |c: Color32| u32::from(c.r()) + u32::from(c.g()) + u32::from(c.b());
        for w in 0..20 {
            assert!(lum(transfer(w)) < lum(worker(w)), "worker {w}");
        }
    }

    #[test]
    fn thread_labels_are_no_state_colour() {
        use crate::engine::locks::contention::Span;
        let far = |a: Color32, b: Color32| {
            let d = |x: u8, y: u8| (i32::from(x) - i32::from(y)).abs();
            d(a.r(), b.r()) + d(a.g(), b.g()) + d(a.b(), b.b()) > 120
        };
        for t in 0..16 {
            for state in Span::ALL
                .map(lock_span)
                .into_iter()
                .chain([BAD, GOOD, WARN, PREDICTED])
            {
                assert!(
                    far(thread_label(t), state),
                    "thread {t} looks like {state:?}"
                );
            }
        }
    }

    #[test]
    fn efficiency_runs_from_bad_to_good() {
        assert_eq!(efficiency(0.0), BAD);
        assert_eq!(efficiency(0.5), WARN);
        assert_eq!(efficiency(1.0), GOOD);
        assert_eq!(efficiency(1.7), GOOD);
    }
}
