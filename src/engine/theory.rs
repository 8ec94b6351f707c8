//! The course's speedup laws as plain functions: Amdahl, Gustafson, Brent,
//! Karp–Flatt, the least-squares fit of Amdahl's serial fraction, and the
//! course's grid-search calculator ("one train-test iteration takes 70 s, a
//! 5×5×5 grid, done in 20 minutes: how many cores?").
//! Everything here is a prediction from a model, not a measurement.

use crate::engine::util::num::num;
use serde::{Deserialize, Serialize};

/// A law's or a search's inputs out of their range.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum TheoryError {
    #[error("serial fraction must be in [0, 1], got {got}")]
    SerialFraction { got: f64 },
    #[error("workers must be ≥ 1, got {got}")]
    Workers { got: f64 },
    #[error("need 0 ≤ span ≤ work, got work {work}, span {span}")]
    WorkSpan { work: f64, span: f64 },
    #[error("time per task must be a positive number of seconds, got {}", num(*got))]
    TaskTime { got: f64 },
    #[error("deadline must be a non-negative number of seconds, got {}", num(*got))]
    Deadline { got: f64 },
    /// One task is longer than the deadline: no number of workers helps.
    #[error(
        "impossible: one task takes {} s, longer than the {} s deadline; \
         no number of workers finishes in time (split the task itself)",
        num(*task_s),
        num(*deadline_s)
    )]
    Impossible { task_s: f64, deadline_s: f64 },
    /// `item` is the part of `dims` that is not a whole number.
    #[error("grid {dims:?}: {item:?} is not a whole number")]
    GridItem { dims: String, item: String },
    #[error("grid {dims:?} is too large")]
    GridTooLarge { dims: String },
}

impl crate::engine::BadInput for TheoryError {
    fn is_bad_input(&self) -> bool {
        true
    }
}

/// Amdahl: S(P) = 1 / (f + (1 − f)/P) for serial fraction f of a fixed job.
pub fn amdahl_speedup(serial_fraction: f64, workers: f64) -> f64 {
    1.0 / (serial_fraction + (1.0 - serial_fraction) / workers)
}

/// Amdahl's limit as P → ∞: 1/f (infinite when f = 0).
pub fn amdahl_limit(serial_fraction: f64) -> f64 {
    if serial_fraction <= 0.0 {
        f64::INFINITY
    } else {
        1.0 / serial_fraction
    }
}

/// Gustafson: S(P) = P − f·(P − 1), the scaled speedup when the parallel part
/// grows with P and the serial part f (of the P-worker run) stays fixed.
pub fn gustafson_speedup(serial_fraction: f64, workers: f64) -> f64 {
    workers - serial_fraction * (workers - 1.0)
}

/// Karp–Flatt: the serial fraction implied by a measured speedup S at P > 1,
/// e = (1/S − 1/P) / (1 − 1/P). Lets measured points sit on Amdahl's curves.
pub fn karp_flatt(speedup: f64, workers: f64) -> Option<f64> {
    (workers > 1.0 && speedup > 0.0)
        .then(|| (1.0 / speedup - 1.0 / workers) / (1.0 - 1.0 / workers))
}

/// How the Amdahl fit works, in words for exports and the window.
pub const AMDAHL_FIT_METHOD: &str = "least squares on 1/S: 1/S - 1/P = f (1 - 1/P), fitted through the origin \
     over the measured points with 1 < P <= logical cores (oversubscribed points are left out), f clamped to 0..=1";

/// Fits Amdahl's serial fraction f to `(workers, speedup)` points (see
/// [`AMDAHL_FIT_METHOD`]). Linear in f, so the fit is exact and closed-form:
/// f = Σ x y / Σ x² with x = 1 − 1/P and y = 1/S − 1/P. `None` without a
/// usable point with P > 1.
pub fn fit_amdahl(points: &[(f64, f64)]) -> Option<f64> {
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for &(p, s) in points {
        if p > 1.0 && s > 0.0 && s.is_finite() {
            let x = 1.0 - 1.0 / p;
            let y = 1.0 / s - 1.0 / p;
            sxy += x * y;
            sxx += x * x;
        }
    }
    (sxx > 0.0).then(|| (sxy / sxx).clamp(0.0, 1.0))
}

/// Brent's upper bound on the time on `workers` workers: T1/P + T∞.
pub fn brent_time_bound(work: f64, span: f64, workers: f64) -> f64 {
    work / workers + span
}

/// The lower bound on speedup implied by Brent: T1 / (T1/P + T∞).
pub fn brent_speedup_bound(work: f64, span: f64, workers: f64) -> f64 {
    work / brent_time_bound(work, span, workers)
}

/// Checks f ∈ [0, 1] and P ≥ 1 for the laws above.
pub fn check_law_inputs(serial_fraction: f64, workers: f64) -> Result<(), TheoryError> {
    if !(0.0..=1.0).contains(&serial_fraction) {
        return Err(TheoryError::SerialFraction {
            got: serial_fraction,
        });
    }
    if !(workers.is_finite() && workers >= 1.0) {
        return Err(TheoryError::Workers { got: workers });
    }
    Ok(())
}

/// Brent's bounds on T_P from work T₁ and span T∞ (any time unit).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct BrentBounds {
    /// max(T₁/P, T∞): no schedule beats this.
    pub lower: f64,
    /// T∞ + (T₁ − T∞)/P: a greedy scheduler does at least this well.
    pub greedy_upper: f64,
    /// T₁/P + T∞, the looser textbook form.
    pub upper: f64,
}

pub fn brent_bounds(work: f64, span: f64, workers: f64) -> Result<BrentBounds, TheoryError> {
    if !(work.is_finite() && span.is_finite() && span >= 0.0 && work >= span) {
        return Err(TheoryError::WorkSpan { work, span });
    }
    if !(workers.is_finite() && workers >= 1.0) {
        return Err(TheoryError::Workers { got: workers });
    }
    Ok(BrentBounds {
        lower: (work / workers).max(span),
        greedy_upper: span + (work - span) / workers,
        upper: work / workers + span,
    })
}

/// The grid-search answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GridPlan {
    pub tasks: u64,
    pub task_s: f64,
    pub deadline_s: f64,
    /// Whole rounds of tasks that fit before the deadline: ⌊deadline / t⌋.
    pub rounds_allowed: u64,
    /// Fewest workers P with ⌈tasks/P⌉ × t ≤ deadline.
    pub min_workers: u64,
    /// ⌈tasks/P⌉ at that P.
    pub rounds: u64,
    /// rounds × t: when the search finishes.
    pub makespan_s: f64,
    /// tasks / P without rounding: what a naive division suggests.
    pub naive_workers: f64,
}

impl GridPlan {
    /// Whether the naive count tasks x t / deadline, rounded up, is already
    /// enough workers (it is whenever it is a whole number, or when rounding it
    /// up happens to reach [`GridPlan::min_workers`]).
    pub fn naive_is_enough(&self) -> bool {
        // Tolerate float noise: 100 x 60 / 600 may come out as 10.000000000000002.
        let naive = self.naive_workers;
        let rounded = if (naive - naive.round()).abs() < 1e-9 {
            naive.round()
        } else {
            naive.ceil()
        };
        rounded as u64 >= self.min_workers
    }
}

/// Speedup P workers really get on `tasks` equal tasks: tasks / ⌈tasks/P⌉,
/// against the ideal P (the last round is partly idle).
pub fn quantised_speedup(tasks: u64, workers: u64) -> f64 {
    if tasks == 0 || workers == 0 {
        return 0.0;
    }
    tasks as f64 / tasks.div_ceil(workers) as f64
}

/// Fewest workers so `tasks` tasks of `task_s` seconds each, run in whole
/// rounds of P at a time, finish by `deadline_s`.
///
/// Seed 003: 125 tasks × 70 s in 1200 s → 17 rounds fit, ⌈125/17⌉ = 8
/// workers (16 rounds, done at 1120 s). Errors: non-positive or non-finite
/// times, or a deadline shorter than one task (no number of workers helps).
pub fn grid_search(tasks: u64, task_s: f64, deadline_s: f64) -> Result<GridPlan, TheoryError> {
    if !(task_s.is_finite() && task_s > 0.0) {
        return Err(TheoryError::TaskTime { got: task_s });
    }
    if !(deadline_s.is_finite() && deadline_s >= 0.0) {
        return Err(TheoryError::Deadline { got: deadline_s });
    }
    if tasks == 0 {
        return Ok(GridPlan {
            tasks,
            task_s,
            deadline_s,
            rounds_allowed: 0,
            min_workers: 0,
            rounds: 0,
            makespan_s: 0.0,
            naive_workers: 0.0,
        });
    }
    if deadline_s < task_s {
        return Err(TheoryError::Impossible { task_s, deadline_s });
    }
    // ⌊deadline/t⌋, corrected so that rounds × t ≤ deadline holds in the same
    // floating-point arithmetic the check uses (e.g. 0.3/0.1 = 2.9999…).
    let mut rounds_allowed = (deadline_s / task_s).floor().min(u64::MAX as f64) as u64;
    while rounds_allowed < u64::MAX && (rounds_allowed + 1) as f64 * task_s <= deadline_s {
        rounds_allowed += 1;
    }
    while rounds_allowed > 1 && rounds_allowed as f64 * task_s > deadline_s {
        rounds_allowed -= 1;
    }
    let rounds_allowed = rounds_allowed.max(1);
    let min_workers = tasks.div_ceil(rounds_allowed);
    let rounds = tasks.div_ceil(min_workers);
    Ok(GridPlan {
        tasks,
        task_s,
        deadline_s,
        rounds_allowed,
        min_workers,
        rounds,
        makespan_s: rounds as f64 * task_s,
        naive_workers: tasks as f64 * task_s / deadline_s,
    })
}

/// `tasks` = a × b × c … from a grid such as "5x5x5".
pub fn grid_size(dims: &str) -> Result<u64, TheoryError> {
    dims.split(['x', 'X', '×'])
        .map(|d| {
            d.trim().parse::<u64>().map_err(|_| TheoryError::GridItem {
                dims: dims.to_string(),
                item: d.to_string(),
            })
        })
        .try_fold(1u64, |acc, d| {
            acc.checked_mul(d?)
                .ok_or_else(|| TheoryError::GridTooLarge {
                    dims: dims.to_string(),
                })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_grid_search_needs_eight() {
        let tasks = grid_size("5x5x5").expect("grid");
        assert_eq!(tasks, 125);
        let plan = grid_search(tasks, 70.0, 20.0 * 60.0).expect("possible");
        assert_eq!(plan.rounds_allowed, 17);
        assert_eq!(plan.min_workers, 8);
        assert_eq!(plan.rounds, 16);
        assert_eq!(plan.makespan_s, 1120.0);
        // 7 workers would need 18 rounds = 1260 s > 1200 s.
        assert!(125u64.div_ceil(7) as f64 * 70.0 > 1200.0);
        // The naive 125 × 70 / 1200 = 7.29 suggests too few.
        assert!((plan.naive_workers - 7.2917).abs() < 1e-3);
        // ... but rounded up to 8 it is enough.
        assert!(plan.naive_is_enough());
        // 10 tasks x 70 s in 100 s: one round fits, so 10 workers; the naive 7.00 is not enough.
        let plan = grid_search(10, 70.0, 100.0).expect("possible");
        assert_eq!(plan.min_workers, 10);
        assert!(!plan.naive_is_enough());
    }

    #[test]
    fn a_whole_naive_count_is_exactly_enough() {
        // 100 tasks x 60 s in 600 s: 10 rounds fit, 10 workers; the naive 10.00 agrees.
        let plan = grid_search(100, 60.0, 600.0).expect("possible");
        assert_eq!(plan.min_workers, 10);
        assert!(plan.naive_is_enough());
    }

    #[test]
    fn grid_edge_cases() {
        let e = grid_search(10, 70.0, 60.0)
            .expect_err("impossible")
            .to_string();
        assert!(e.contains("impossible"), "{e}");
        let p = grid_search(0, 70.0, 60.0).expect("nothing to do");
        assert_eq!(p.min_workers, 0);
        // Exactly one task time: one round, as many workers as tasks.
        assert_eq!(grid_search(9, 70.0, 70.0).expect("ok").min_workers, 9);
        // Floating point: 0.3 / 0.1 is 2.999…, but 3 rounds of 0.1 s fit in 0.3 s.
        let p = grid_search(3, 0.1, 0.3).expect("ok");
        assert!(p.rounds as f64 * 0.1 <= 0.3);
        // Huge numbers do not overflow.
        let p = grid_search(u64::MAX, 1.0, 1e30).expect("ok");
        assert_eq!(p.min_workers, 1);
        let p = grid_search(u64::MAX, 1.0, 2.0).expect("ok");
        assert_eq!(p.min_workers, u64::MAX / 2 + 1);
        assert!(grid_search(5, 0.0, 10.0).is_err());
        assert!(grid_search(5, f64::NAN, 10.0).is_err());
        assert!(grid_search(5, 1.0, f64::INFINITY).is_err());
        assert!(grid_size("5x").is_err());
        assert!(grid_size("4294967296x4294967296").is_err());
    }

    #[test]
    fn quantisation_by_hand() {
        // 125 tasks on 8 workers: 16 rounds, speedup 125/16 = 7.8125, not 8.
        assert_eq!(quantised_speedup(125, 8), 7.8125);
        // 125 on 100 workers: 2 rounds, speedup 62.5.
        assert_eq!(quantised_speedup(125, 100), 62.5);
        assert_eq!(quantised_speedup(125, 125), 125.0);
        assert_eq!(quantised_speedup(0, 4), 0.0);
    }

    #[test]
    fn laws_by_hand() {
        assert!((amdahl_speedup(0.1, 10.0) - 1.0 / 0.19).abs() < 1e-12);
        assert_eq!(amdahl_limit(0.1), 10.0);
        assert!(amdahl_limit(0.0).is_infinite());
        assert_eq!(amdahl_speedup(0.0, 8.0), 8.0);
        assert_eq!(amdahl_speedup(1.0, 8.0), 1.0);
        assert!((gustafson_speedup(0.1, 10.0) - 9.1).abs() < 1e-12);
        // Karp–Flatt inverts Amdahl.
        let s = amdahl_speedup(0.2, 4.0);
        assert!((karp_flatt(s, 4.0).expect("P > 1") - 0.2).abs() < 1e-12);
        assert!(karp_flatt(2.0, 1.0).is_none());
        assert!(check_law_inputs(1.5, 2.0).is_err());
        assert!(check_law_inputs(0.5, 0.5).is_err());
    }

    #[test]
    fn brent_by_hand() {
        let b = brent_bounds(100.0, 10.0, 4.0).expect("valid");
        assert_eq!(b.lower, 25.0);
        assert_eq!(b.greedy_upper, 32.5);
        assert_eq!(b.upper, 35.0);
        // Span dominates at many workers.
        assert_eq!(
            brent_bounds(100.0, 10.0, 1000.0).expect("valid").lower,
            10.0
        );
        assert!(brent_bounds(5.0, 10.0, 2.0).is_err());
        assert!(brent_bounds(10.0, 5.0, 0.0).is_err());
    }

    #[test]
    fn amdahl_speedup_by_hand() {
        assert!((amdahl_speedup(0.0, 8.0) - 8.0).abs() < 1e-12);
        assert!((amdahl_speedup(1.0, 8.0) - 1.0).abs() < 1e-12);
        // f = 0.1, P = 4: 1 / (0.1 + 0.225) = 3.0769…
        assert!((amdahl_speedup(0.1, 4.0) - 1.0 / 0.325).abs() < 1e-12);
    }

    #[test]
    fn fit_recovers_a_known_serial_fraction_from_synthetic_times() {
        for f in [0.0, 0.05, 0.1, 0.3, 0.9] {
            let t1 = 2.0;
            let points: Vec<(f64, f64)> = [1.0, 2.0, 3.0, 4.0, 8.0, 16.0]
                .iter()
                .map(|&p| (p, t1 / (t1 * (f + (1.0 - f) / p))))
                .collect();
            let fitted = fit_amdahl(&points).expect("fit");
            assert!((fitted - f).abs() < 1e-12, "{f} → {fitted}");
        }
    }

    #[test]
    fn fit_tolerates_noise_and_refuses_no_data() {
        let f = 0.2;
        let noise = [1.02, 0.97, 1.01, 0.99];
        let points: Vec<(f64, f64)> = [2.0, 4.0, 6.0, 8.0]
            .iter()
            .zip(noise)
            .map(|(&p, k)| (p, amdahl_speedup(f, p) * k))
            .collect();
        let fitted = fit_amdahl(&points).expect("fit");
        assert!((fitted - f).abs() < 0.03, "{fitted}");
        assert_eq!(fit_amdahl(&[(1.0, 1.0)]), None);
        assert_eq!(fit_amdahl(&[]), None);
        // Superlinear points clamp to 0.
        assert_eq!(fit_amdahl(&[(2.0, 2.5)]), Some(0.0));
    }

    #[test]
    fn karp_flatt_of_an_amdahl_point() {
        // S = 3 on P = 4: (1/3 - 1/4) / (3/4) = 1/9.
        let e = karp_flatt(3.0, 4.0).expect("defined");
        assert!((e - 1.0 / 9.0).abs() < 1e-12);
        // Karp–Flatt of an exact Amdahl point gives back f.
        let e = karp_flatt(amdahl_speedup(0.25, 6.0), 6.0).expect("defined");
        assert!((e - 0.25).abs() < 1e-12);
        assert_eq!(karp_flatt(1.0, 1.0), None);
    }

    #[test]
    fn brent_time_and_speedup_bounds_by_hand() {
        assert!((brent_time_bound(100.0, 5.0, 4.0) - 30.0).abs() < 1e-12);
        assert!((brent_speedup_bound(100.0, 5.0, 4.0) - 100.0 / 30.0).abs() < 1e-12);
    }
}
