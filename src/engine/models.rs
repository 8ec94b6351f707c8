//! Speedup models: Amdahl's law (and a fit of its serial fraction), the
//! Karp–Flatt metric, and Brent's bound.

/// How the Amdahl fit works, in words for exports and the window.
pub const AMDAHL_FIT_METHOD: &str = "least squares on 1/S: 1/S - 1/P = f (1 - 1/P), fitted through the origin \
     over the measured points with 1 < P <= logical cores (oversubscribed points are left out), f clamped to 0..=1";

/// Amdahl's law: speedup on `workers` with serial fraction `serial_fraction`.
pub fn amdahl_speedup(serial_fraction: f64, workers: f64) -> f64 {
    1.0 / (serial_fraction + (1.0 - serial_fraction) / workers)
}

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

/// Karp–Flatt experimentally determined serial fraction
/// e = (1/S − 1/P) / (1 − 1/P). Undefined (None) for P ≤ 1.
pub fn karp_flatt(speedup: f64, workers: f64) -> Option<f64> {
    (workers > 1.0 && speedup > 0.0)
        .then(|| (1.0 / speedup - 1.0 / workers) / (1.0 - 1.0 / workers))
}

/// Brent's upper bound on the time on `workers` workers: T1/P + T∞.
pub fn brent_time_bound(work: f64, span: f64, workers: f64) -> f64 {
    work / workers + span
}

/// The lower bound on speedup implied by Brent: T1 / (T1/P + T∞).
pub fn brent_speedup_bound(work: f64, span: f64, workers: f64) -> f64 {
    work / brent_time_bound(work, span, workers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amdahl_by_hand() {
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
    fn karp_flatt_by_hand() {
        // S = 3 on P = 4: (1/3 - 1/4) / (3/4) = 1/9.
        let e = karp_flatt(3.0, 4.0).expect("defined");
        assert!((e - 1.0 / 9.0).abs() < 1e-12);
        // Karp–Flatt of an exact Amdahl point gives back f.
        let e = karp_flatt(amdahl_speedup(0.25, 6.0), 6.0).expect("defined");
        assert!((e - 0.25).abs() < 1e-12);
        assert_eq!(karp_flatt(1.0, 1.0), None);
    }

    #[test]
    fn brent_by_hand() {
        assert!((brent_time_bound(100.0, 5.0, 4.0) - 30.0).abs() < 1e-12);
        assert!((brent_speedup_bound(100.0, 5.0, 4.0) - 100.0 / 30.0).abs() < 1e-12);
    }
}
