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

#[cfg(test)]
mod tests {
    use super::num;

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
