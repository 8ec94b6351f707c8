//! Robust summary statistics for repeated timings, and a bootstrap interval
//! for the speedup (a ratio of medians).
//!
//! Quantiles use linear interpolation between order statistics (Hyndman–Fan
//! type 7, the default of NumPy and R). Outliers are *flagged*, never dropped:
//! a time is an outlier when it lies more than 1.5 IQR outside the quartiles
//! (Tukey's fences).

use crate::engine::util::rng::SplitMix64;
use serde::{Deserialize, Serialize};

/// How outliers are flagged, in words for exports and the window.
pub const OUTLIER_RULE: &str =
    "Tukey fences: below Q1 - 1.5 IQR or above Q3 + 1.5 IQR (flagged, never dropped)";

/// How the speedup's 95 % interval is computed, in words for exports.
pub const SPEEDUP_INTERVAL_METHOD: &str = "bootstrap percentile interval (2.5 %, 97.5 %) of median(T1)/median(TP), \
     resampling both sets of times with replacement, 2000 resamples, splitmix64 seed 0x5eed";

/// Resamples used by [`bootstrap_ratio_of_medians`].
pub const BOOTSTRAP_RESAMPLES: usize = 2000;
/// Seed used by [`bootstrap_ratio_of_medians`], so that exports are reproducible.
pub const BOOTSTRAP_SEED: u64 = 0x5eed;

/// Summary of a sample (e.g. the wall times of one configuration, in seconds).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub n: usize,
    pub median: f64,
    pub mean: f64,
    /// Sample standard deviation (n − 1 in the denominator); 0 for n < 2.
    pub stddev: f64,
    pub min: f64,
    pub max: f64,
    pub q1: f64,
    pub q3: f64,
    /// Median absolute deviation from the median (unscaled).
    pub mad: f64,
    /// Indices (in run order) of the values flagged by [`OUTLIER_RULE`].
    pub outliers: Vec<usize>,
}

impl Summary {
    /// Summarises `values` (any order). An empty sample gives all zeros.
    pub fn of(values: &[f64]) -> Summary {
        if values.is_empty() {
            return Summary::default();
        }
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let mean = sorted.iter().sum::<f64>() / n as f64;
        let stddev = if n > 1 {
            (sorted.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
        } else {
            0.0
        };
        let median = quantile_sorted(&sorted, 0.5);
        let q1 = quantile_sorted(&sorted, 0.25);
        let q3 = quantile_sorted(&sorted, 0.75);
        let mut deviations: Vec<f64> = sorted.iter().map(|v| (v - median).abs()).collect();
        deviations.sort_by(f64::total_cmp);
        let mad = quantile_sorted(&deviations, 0.5);
        let iqr = q3 - q1;
        let (lo, hi) = (q1 - 1.5 * iqr, q3 + 1.5 * iqr);
        let outliers = values
            .iter()
            .enumerate()
            .filter(|(_, v)| **v < lo || **v > hi)
            .map(|(i, _)| i)
            .collect();
        Summary {
            n,
            median,
            mean,
            stddev,
            min: sorted[0],
            max: sorted[n - 1],
            q1,
            q3,
            mad,
            outliers,
        }
    }

    pub fn iqr(&self) -> f64 {
        self.q3 - self.q1
    }
}

/// Quantile `q` in 0..=1 of an ascending, non-empty slice (type 7).
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        1 => sorted[0],
        n => {
            let h = (n - 1) as f64 * q.clamp(0.0, 1.0);
            let lo = h.floor() as usize;
            let hi = (lo + 1).min(n - 1);
            sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
        }
    }
}

/// Median of any slice (NaN when empty).
pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    quantile_sorted(&sorted, 0.5)
}

/// [`median`] of whole numbers (nanoseconds), rounded down: exact below 2^52.
pub fn median_u64(values: &[u64]) -> u64 {
    let as_f64: Vec<f64> = values.iter().map(|&v| v as f64).collect();
    median(&as_f64) as u64
}

/// 95 % bootstrap percentile interval of `median(base) / median(other)`
/// (see [`SPEEDUP_INTERVAL_METHOD`]). `None` when either sample is empty.
pub fn bootstrap_ratio_of_medians(base: &[f64], other: &[f64]) -> Option<(f64, f64)> {
    if base.is_empty() || other.is_empty() {
        return None;
    }
    let mut rng = SplitMix64::new(BOOTSTRAP_SEED);
    let mut ratios = Vec::with_capacity(BOOTSTRAP_RESAMPLES);
    let mut a = vec![0.0; base.len()];
    let mut b = vec![0.0; other.len()];
    for _ in 0..BOOTSTRAP_RESAMPLES {
        for slot in a.iter_mut() {
            *slot = base[rng.below(base.len())];
        }
        for slot in b.iter_mut() {
            *slot = other[rng.below(other.len())];
        }
        // Sorting the scratch buffers in place: no allocation per resample.
        a.sort_unstable_by(f64::total_cmp);
        b.sort_unstable_by(f64::total_cmp);
        let denominator = quantile_sorted(&b, 0.5);
        if denominator > 0.0 {
            ratios.push(quantile_sorted(&a, 0.5) / denominator);
        }
    }
    if ratios.is_empty() {
        return None;
    }
    ratios.sort_by(f64::total_cmp);
    Some((
        quantile_sorted(&ratios, 0.025),
        quantile_sorted(&ratios, 0.975),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn summary_by_hand() {
        // Sorted: 1 2 3 4 100. Median 3, mean 22, Q1 2, Q3 4 (type 7),
        // IQR 2 → fences -1 and 7: only 100 is an outlier.
        // |x - 3| = 2 1 0 1 97 → sorted 0 1 1 2 97 → MAD 1.
        let s = Summary::of(&[3.0, 1.0, 100.0, 2.0, 4.0]);
        assert_eq!(s.n, 5);
        assert!(close(s.median, 3.0));
        assert!(close(s.mean, 22.0));
        assert!(close(s.q1, 2.0));
        assert!(close(s.q3, 4.0));
        assert!(close(s.mad, 1.0));
        assert!(close(s.min, 1.0));
        assert!(close(s.max, 100.0));
        // Sample variance: (19² + 21² + 78² + 20² + 18²) / 4 = 7610 / 4.
        assert!(close(s.stddev, (7610.0f64 / 4.0).sqrt()));
        assert_eq!(s.outliers, vec![2], "index in the order given");
    }

    #[test]
    fn even_sample_interpolates() {
        let s = Summary::of(&[4.0, 1.0, 3.0, 2.0]);
        assert!(close(s.median, 2.5));
        assert!(close(s.q1, 1.75));
        assert!(close(s.q3, 3.25));
        assert!(s.outliers.is_empty());
        assert_eq!(Summary::of(&[]).n, 0);
        let one = Summary::of(&[7.0]);
        assert!(close(one.median, 7.0) && close(one.stddev, 0.0));
    }

    #[test]
    fn bootstrap_interval_brackets_the_ratio() {
        let t1 = [2.0, 2.1, 1.9, 2.05, 1.95];
        let t2 = [1.0, 1.1, 0.9, 1.05, 0.95];
        let (lo, hi) = bootstrap_ratio_of_medians(&t1, &t2).expect("interval");
        assert!(lo <= 2.0 && 2.0 <= hi, "{lo}..{hi}");
        assert!(lo > 1.5 && hi < 2.5, "{lo}..{hi}");
        // Constant samples give a zero-width interval.
        let (lo, hi) = bootstrap_ratio_of_medians(&[3.0; 4], &[1.5; 4]).expect("interval");
        assert!(close(lo, 2.0) && close(hi, 2.0));
        assert!(bootstrap_ratio_of_medians(&[], &[1.0]).is_none());
        // Same inputs, same interval: the seed is fixed.
        assert_eq!(
            bootstrap_ratio_of_medians(&t1, &t2),
            bootstrap_ratio_of_medians(&t1, &t2)
        );
    }

    #[test]
    fn median_of_even_and_odd() {
        assert_eq!(median_u64(&[1, 2, 9]), 2);
        assert_eq!(median_u64(&[1, 3, 5, 9]), 4);
    }
}
