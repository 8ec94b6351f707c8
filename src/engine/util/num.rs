//! Numbers in messages, readable: `{}` of `1e-300` prints 300 digits, so
//! every float a person reads in an error goes through [`num`].

/// A float as a person reads it: plain between 0.001 and 1e9 (at most 6
/// significant digits after the point), `1.000e-300` style outside, and
/// `NaN`, `inf`, `-inf` as such.
pub fn num(x: f64) -> String {
    if !x.is_finite() {
        return format!("{x}");
    }
    let a = x.abs();
    if a == 0.0 || (1e-3..1e9).contains(&a) {
        let plain = format!("{x}");
        if plain.len() <= 12 {
            return plain;
        }
        let rounded = format!("{x:.6}");
        return rounded
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string();
    }
    format!("{x:.3e}")
}

/// An axis tick: `value` with as many decimals as ticks `step` apart need
/// to read apart (ticks 0.25 apart: `0.25`, `0.50`; 1 apart: `1`, `2`), never
/// `-0`, with thousands separators from 10,000 on.
pub fn tick(value: f64, step: f64) -> String {
    if !value.is_finite() {
        return format!("{value}");
    }
    // The fewest decimals that write the step exactly (0.25: 2, 0.5: 1).
    let decimals = if step > 0.0 && step.is_finite() {
        let first = (-step.log10()).ceil().clamp(0.0, 9.0) as usize;
        (first..=9)
            .find(|&d| {
                let scaled = step * 10f64.powi(d as i32);
                (scaled - scaled.round()).abs() < 1e-6 * scaled.max(1.0)
            })
            .unwrap_or(9)
    } else {
        0
    };
    let text = format!("{value:.decimals$}");
    let text = if text
        .trim_start_matches('-')
        .chars()
        .all(|c| c == '0' || c == '.')
    {
        text.trim_start_matches('-').to_string()
    } else {
        text
    };
    if value.abs() >= 10_000.0 && decimals == 0 {
        let sign = if value < 0.0 { "-" } else { "" };
        return format!(
            "{sign}{}",
            crate::engine::util::words::thousands(value.abs().round() as u64)
        );
    }
    text
}

/// A positive value in SI steps, three significant digits at most: `1k`,
/// `250k`, `1.2M`, `30G`; for log-scale axes, where `1e8` and `1.3e8`
/// must not both read `1e8`.
pub fn si(value: f64) -> String {
    if !value.is_finite() || value <= 0.0 {
        return if value == 0.0 {
            "0".into()
        } else {
            format!("{value}")
        };
    }
    let units = [
        (1e12, "T"),
        (1e9, "G"),
        (1e6, "M"),
        (1e3, "k"),
        (1.0, ""),
        (1e-3, "m"),
        (1e-6, "µ"),
    ];
    let (scale, unit) = units
        .iter()
        .copied()
        .find(|(scale, _)| value >= *scale * 0.9995)
        .unwrap_or((1e-6, "µ"));
    let v = value / scale;
    let text = if v >= 9.95 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    };
    let text = text.strip_suffix(".0").unwrap_or(&text).to_string();
    format!("{text}{unit}")
}

#[cfg(test)]
mod tests {
    use super::{num, si, tick};

    #[test]
    fn ticks_read_apart() {
        let at =
            |step: f64| -> Vec<String> { (0..=10).map(|k| tick(k as f64 * step, step)).collect() };
        let halves = at(0.25);
        assert_eq!(halves[..3], ["0.00", "0.25", "0.50"]);
        let mut distinct = halves.clone();
        distinct.dedup();
        assert_eq!(distinct.len(), halves.len());
        assert_eq!(at(0.1)[..3], ["0.0", "0.1", "0.2"]);
        assert_eq!(at(1.0)[..3], ["0", "1", "2"]);
        assert_eq!(tick(-0.0001, 0.1), "0.0");
        assert_eq!(tick(25_000.0, 5000.0), "25,000");
        assert_eq!(tick(-25_000.0, 5000.0), "-25,000");
    }

    #[test]
    fn si_labels_differ_within_a_decade() {
        assert_eq!(si(1e8), "100M");
        assert_eq!(si(1.26e8), "126M");
        assert_eq!(si(2e7), "20M");
        assert_eq!(si(1.2e6), "1.2M");
        assert_eq!(si(999.0), "999");
        assert_eq!(si(1000.0), "1k");
        assert_eq!(si(0.5), "500m");
        assert_eq!(si(0.0), "0");
        assert_ne!(si(1e8), si(10f64.powf(8.1)));
    }

    #[test]
    fn floats_are_short() {
        assert_eq!(num(1e-300), "1.000e-300");
        assert_eq!(num(1e308), "1.000e308");
        assert_eq!(num(3.5), "3.5");
        assert_eq!(num(-0.75), "-0.75");
        assert_eq!(num(0.0), "0");
        assert_eq!(num(0.1 + 0.2), "0.3");
        assert_eq!(num(f64::NAN), "NaN");
        assert_eq!(num(f64::NEG_INFINITY), "-inf");
        assert!(num(123_456_789.123_456_78).len() <= 17);
    }
}
