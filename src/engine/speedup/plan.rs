//! Turning what a person typed (worker counts and granularities as
//! comma-separated lists, repetitions, schedule, seed) into a checked
//! [`SweepPlan`]. The one parser: `parlab bench sweep` and the speedup lab
//! panel both call it, and label its errors with their own flag or field name.

use crate::engine::exec::placement::Placement;
use crate::engine::exec::pool::logical_cores;
use crate::engine::exec::schedule::Schedule;
use crate::engine::speedup::SweepError;
use crate::engine::speedup::sweep::{SweepPlan, default_worker_counts};
use crate::engine::util::list::{ListError, NotWholeNumber, whole_number};
use crate::engine::workloads::{Granularity, Workload, WorkloadError};

/// Why a plan was refused, and which input was at fault.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// The worker-count list.
    #[error(transparent)]
    Workers(ListError<NotWholeNumber>),
    /// The granularity list.
    #[error(transparent)]
    Granularities(ListError<WorkloadError>),
    /// The lists parsed but the plan as a whole is out of range.
    #[error(transparent)]
    Plan(SweepError),
}

impl crate::engine::BadInput for PlanError {
    fn is_bad_input(&self) -> bool {
        match self {
            PlanError::Workers(_) => true,
            PlanError::Granularities(ListError::Item(e)) => e.is_bad_input(),
            PlanError::Granularities(_) => true,
            PlanError::Plan(e) => e.is_bad_input(),
        }
    }
}

/// The inputs of a plan. A list left out takes its default: 1..=logical
/// cores plus 2x and 4x for workers, the workload's own granularities.
#[derive(Clone, Copy, Debug)]
pub struct PlanInput<'a> {
    pub workers: Option<&'a str>,
    pub granularities: Option<&'a str>,
    pub schedule: Schedule,
    pub reps: u32,
    pub warmup: u32,
    pub shuffle_seed: u64,
    pub placement: Placement,
}

/// Splits a comma-separated list, trims each item and parses it with
/// `parse`: the one list rule of [`crate::engine::util::list`] (an empty
/// item, as in `1,,2`, or an empty list is an error).
pub fn parse_list<T, E>(
    s: &str,
    parse: impl Fn(&str) -> Result<T, E>,
) -> Result<Vec<T>, ListError<E>> {
    crate::engine::util::list::parse_list(s, parse)
}

/// Worker counts such as `1,2,4,8`.
pub fn parse_workers(s: &str) -> Result<Vec<usize>, ListError<NotWholeNumber>> {
    parse_list(s, whole_number::<usize>)
}

/// Granularities in `workload`'s own syntax (tile sizes, `bands`, chunk sizes…).
pub fn parse_granularities(
    s: &str,
    workload: &dyn Workload,
) -> Result<Vec<Granularity>, ListError<WorkloadError>> {
    parse_list(s, |x| workload.parse_granularity(x))
}

/// Parses and checks a whole plan for `workload` (always measuring the
/// sequential schedule beside the parallel one).
pub fn sweep_plan(input: &PlanInput, workload: &dyn Workload) -> Result<SweepPlan, PlanError> {
    let workers = match input.workers {
        Some(s) => parse_workers(s).map_err(PlanError::Workers)?,
        None => default_worker_counts(logical_cores()),
    };
    let granularities = match input.granularities {
        Some(s) => parse_granularities(s, workload).map_err(PlanError::Granularities)?,
        None => workload.default_granularities(),
    };
    let plan = SweepPlan {
        workers,
        granularities,
        schedule: input.schedule,
        reps: input.reps,
        warmup: input.warmup,
        include_sequential: true,
        shuffle_seed: input.shuffle_seed,
        placement: input.placement,
    };
    plan.validate().map_err(PlanError::Plan)?;
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::mandelbrot::kernel::Kernel;
    use crate::engine::mandelbrot::view::View;
    use crate::engine::workloads::by_name;

    fn input<'a>(workers: Option<&'a str>, granularities: Option<&'a str>) -> PlanInput<'a> {
        PlanInput {
            workers,
            granularities,
            schedule: Schedule::default(),
            reps: 3,
            warmup: 1,
            shuffle_seed: 1,
            placement: Placement::Free,
        }
    }

    #[test]
    fn lists_parse_with_spaces_and_defaults_fill_what_is_left_out() {
        let view = View::new((-0.75, 0.0), 3.0, 32, 24, 50).expect("view");
        let w = by_name("mandelbrot", view, Kernel::default()).expect("workload");
        let plan = sweep_plan(&input(Some(" 1, 2 ,4 "), Some("16,bands2")), &*w).expect("plan");
        assert_eq!(plan.workers, vec![1, 2, 4]);
        assert_eq!(plan.granularities.len(), 2);
        let plan = sweep_plan(&input(None, None), &*w).expect("plan");
        assert_eq!(plan.workers, default_worker_counts(logical_cores()));
        assert_eq!(plan.granularities, w.default_granularities());
    }

    #[test]
    fn bands_are_read_with_or_without_their_row_count_and_shown_with_it() {
        let view = View::new((-0.75, 0.0), 3.0, 32, 24, 50).expect("view");
        let w = by_name("mandelbrot", view, Kernel::default()).expect("workload");
        let g = parse_granularities("16, bands(2), bands4, bands", &*w).expect("list");
        let shown: Vec<String> = g.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["16px", "bands(2)", "bands(4)", "bands(1)"]);
        assert!(parse_granularities("bands(x)", &*w).is_err());
        assert!(parse_granularities("bands(0)", &*w).is_err());
    }

    #[test]
    fn each_error_names_its_input() {
        let view = View::new((-0.75, 0.0), 3.0, 32, 24, 50).expect("view");
        let w = by_name("mandelbrot", view, Kernel::default()).expect("workload");
        assert!(matches!(
            sweep_plan(&input(Some("1,x"), None), &*w),
            Err(PlanError::Workers(m)) if m.to_string().contains("not a whole number")
        ));
        assert!(matches!(
            sweep_plan(&input(Some(" , "), None), &*w),
            Err(PlanError::Workers(_))
        ));
        assert!(matches!(
            sweep_plan(&input(None, Some("8,huge")), &*w),
            Err(PlanError::Granularities(_))
        ));
        assert!(matches!(
            sweep_plan(&input(Some("0"), None), &*w),
            Err(PlanError::Plan(_))
        ));
    }
}
