//! Dot product (the course's FirstParallel): two large f64 vectors, cut into a
//! fixed number of chunks; each task sums its chunk's products left to right,
//! and [`TaskWorkload::combine`] adds the partial sums in chunk order. The
//! reduction order is fixed by the chunking alone, so for a given chunk count
//! the result is bit-for-bit the same whatever the schedule or worker count.
//!
//! It differs from the serial left-to-right sum only by rounding. Tolerance
//! (stated and checked): with unit roundoff u = 2⁻⁵³ and γₖ = k·u/(1−k·u), a
//! recursive dot product of n terms is within γₙ·Σ|aᵢbᵢ| of the exact value
//! (Higham, *Accuracy and Stability*, §3.1); the chunked one, whose every
//! term passes through at most m additions in its chunk (m = longest chunk)
//! and k − 1 in the reduction, is within γ_{m+k}·Σ|aᵢbᵢ|. So
//! |parallel − serial| ≤ (γₙ + γ_{m+k})·Σ|aᵢbᵢ|, with Σ|aᵢbᵢ| taken from the
//! serial pass and inflated by (1 + 2γₙ) for its own rounding.
//!
//! Memory-bound: each multiply-add streams 16 bytes, so speedup stops once the
//! memory bus is saturated, well before the core count on most machines.

use super::{Mismatch, TaskWorkload, WorkloadError};
use crate::engine::exec::gil::TaskEnv;
use crate::engine::util::rng::SplitMix64;
use serde::{Deserialize, Serialize};

/// Unit roundoff of f64.
pub const UNIT_ROUNDOFF: f64 = f64::EPSILON / 2.0;

/// γₖ = k·u / (1 − k·u), the standard rounding-error factor.
pub fn gamma(k: usize) -> f64 {
    let ku = k as f64 * UNIT_ROUNDOFF;
    ku / (1.0 - ku)
}

/// Largest vector length accepted (2 × 8 B × 2²⁸ = 4 GiB of data).
pub const MAX_LEN: usize = 1 << 28;

/// The two vectors and the chunking.
#[derive(Clone, Debug)]
pub struct Dot {
    /// Shared so that re-chunking ([`Dot::with_chunks`]) copies no data.
    pub a: std::sync::Arc<[f64]>,
    pub b: std::sync::Arc<[f64]>,
    pub num_chunks: usize,
    pub seed: u64,
}

/// A dot product with what the tolerance needs.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct DotResult {
    pub sum: f64,
    /// Σ|aᵢbᵢ| (serial pass only; 0 in chunked results).
    pub abs_sum: f64,
}

impl Dot {
    /// Vectors of `len` values in [−1, 1) from splitmix64(`seed`), in
    /// `num_chunks` chunks (1..=len).
    pub fn new(len: usize, num_chunks: usize, seed: u64) -> Result<Self, WorkloadError> {
        Self::check(len, num_chunks)?;
        let mut g = SplitMix64::new(seed);
        let a = (0..len).map(|_| g.next_signed_unit()).collect();
        let b = (0..len).map(|_| g.next_signed_unit()).collect();
        Ok(Dot {
            a,
            b,
            num_chunks,
            seed,
        })
    }

    /// The same vectors cut into `num_chunks` chunks (no data copied).
    pub fn with_chunks(&self, num_chunks: usize) -> Result<Self, WorkloadError> {
        Self::check(self.len(), num_chunks)?;
        Ok(Dot {
            a: self.a.clone(),
            b: self.b.clone(),
            num_chunks,
            seed: self.seed,
        })
    }

    /// Checks the parameters without building the vectors.
    pub fn check(len: usize, num_chunks: usize) -> Result<(), WorkloadError> {
        if !(1..=MAX_LEN).contains(&len) {
            return Err(WorkloadError::DotLen {
                got: len,
                max: MAX_LEN,
            });
        }
        if !(1..=len).contains(&num_chunks) {
            return Err(WorkloadError::DotChunks {
                got: num_chunks,
                len,
            });
        }
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.a.len()
    }

    pub fn is_empty(&self) -> bool {
        self.a.is_empty()
    }

    fn chunk_range(&self, i: usize) -> std::ops::Range<usize> {
        let n = self.len();
        (i * n / self.num_chunks)..((i + 1) * n / self.num_chunks)
    }

    /// Longest chunk, for the tolerance.
    pub fn max_chunk_len(&self) -> usize {
        self.len().div_ceil(self.num_chunks)
    }

    /// The bound |parallel − serial| must satisfy, given Σ|aᵢbᵢ|.
    pub fn tolerance(&self, abs_sum: f64) -> f64 {
        let n = self.len();
        (gamma(n) + gamma(self.max_chunk_len() + self.num_chunks))
            * abs_sum
            * (1.0 + 2.0 * gamma(n))
    }
}

/// Left-to-right Σ aᵢbᵢ.
fn dot_slice(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).fold(0.0, |s, (x, y)| s + x * y)
}

impl TaskWorkload for Dot {
    /// The chunk's partial sum.
    type Output = f64;
    type Result = DotResult;

    fn name(&self) -> &'static str {
        "dot"
    }
    fn task_label(&self) -> &'static str {
        "chunk"
    }
    fn work_unit(&self) -> &'static str {
        "multiply-adds"
    }
    fn num_tasks(&self) -> usize {
        self.num_chunks
    }
    fn run_task(&self, i: usize, env: &TaskEnv) -> (f64, u64) {
        let r = self.chunk_range(i);
        let len = r.len() as u64;
        let s = env.compute(i, || dot_slice(&self.a[r.clone()], &self.b[r.clone()]));
        (s, len)
    }
    fn combine(&self, partials: Vec<f64>) -> DotResult {
        DotResult {
            sum: partials.iter().fold(0.0, |s, p| s + p),
            abs_sum: 0.0,
        }
    }
    fn serial(&self) -> DotResult {
        let (sum, abs_sum) = self
            .a
            .iter()
            .zip(self.b.iter())
            .fold((0.0, 0.0), |(s, t), (x, y)| (s + x * y, t + (x * y).abs()));
        DotResult { sum, abs_sum }
    }
    fn results_agree(&self, parallel: &DotResult, serial: &DotResult) -> Result<(), Mismatch> {
        let diff = (parallel.sum - serial.sum).abs();
        let tol = self.tolerance(serial.abs_sum);
        if parallel.sum.is_finite() && diff <= tol {
            Ok(())
        } else {
            Err(Mismatch::Dot {
                diff,
                bound: tol,
                parallel: parallel.sum,
                serial: serial.sum,
            })
        }
    }
    fn summarise(&self, r: &DotResult) -> String {
        format!(
            "a·b = {:.17e} over {} elements in {} chunks (fixed reduction order)",
            r.sum,
            self.len(),
            self.num_chunks
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::exec::pool::build_pool;
    use crate::engine::exec::schedule::Schedule;
    use crate::engine::workloads::run;
    use crate::engine::workloads::test_util::check_all_schedules;
    use std::sync::atomic::AtomicBool;

    #[test]
    fn parallel_within_tolerance_for_every_schedule() {
        check_all_schedules(&Dot::new(100_003, 37, 5).expect("valid"));
    }

    #[test]
    fn bit_reproducible_across_schedules_and_workers() {
        let w = Dot::new(50_000, 16, 9).expect("valid");
        let cancel = AtomicBool::new(false);
        let mut bits = Vec::new();
        for workers in [1, 3, 7] {
            let pool = build_pool(workers).expect("pool");
            for schedule in Schedule::ALL {
                let r = run(&w, schedule, Some(&pool), &cancel, false).expect("runs");
                bits.push(r.result.expect("done").sum.to_bits());
            }
        }
        assert!(bits.windows(2).all(|p| p[0] == p[1]));
    }

    #[test]
    fn known_small_dot() {
        let mut w = Dot::new(3, 2, 0).expect("valid");
        w.a = vec![1.0, 2.0, 3.0].into();
        w.b = vec![4.0, 5.0, 6.0].into();
        assert_eq!(w.serial().sum, 32.0);
        let parts: Vec<f64> = (0..2).map(|i| w.run_task(i, &TaskEnv::FREE).0).collect();
        assert_eq!(w.combine(parts).sum, 32.0);
    }

    #[test]
    fn a_wrong_sum_is_caught() {
        let w = Dot::new(1000, 10, 1).expect("valid");
        let s = w.serial();
        let off = DotResult {
            sum: s.sum + 1e-6 * s.abs_sum,
            abs_sum: 0.0,
        };
        assert!(w.results_agree(&off, &s).is_err());
    }

    #[test]
    fn bad_parameters_are_refused() {
        assert!(Dot::new(0, 1, 0).is_err());
        assert!(Dot::new(10, 11, 0).is_err());
        assert!(Dot::new(10, 0, 0).is_err());
    }
}
