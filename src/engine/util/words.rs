//! Counts and large numbers as a person reads them, the one way the window
//! and the exports write them: `1 worker`, `2 workers`, `12,288 tasks`.

/// `n` with thousands separators: `1234567` -> `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A signed count with thousands separators: `-1234` -> `-1,234`.
pub fn thousands_signed(n: i64) -> String {
    let grouped = thousands(n.unsigned_abs());
    if n < 0 {
        format!("-{grouped}")
    } else {
        grouped
    }
}

/// The noun for `n` of them: `worker` for 1, `workers` otherwise (a noun
/// ending in s, sh, ch or x takes `es`; one ending in a consonant and y, `ies`).
pub fn plural(n: u64, noun: &str) -> String {
    if n == 1 {
        return noun.to_string();
    }
    let vowel_y = |s: &str| s.chars().rev().nth(1).is_some_and(|c| "aeiou".contains(c));
    if noun.ends_with('s') || noun.ends_with("sh") || noun.ends_with("ch") || noun.ends_with('x') {
        format!("{noun}es")
    } else if noun.ends_with('y') && !vowel_y(noun) {
        format!("{}ies", &noun[..noun.len() - 1])
    } else {
        format!("{noun}s")
    }
}

/// A count and its noun: `1 worker`, `12,288 tiles`.
pub fn count_of(n: impl TryInto<u64>, noun: &str) -> String {
    let n = n.try_into().unwrap_or(u64::MAX);
    format!("{} {}", thousands(n), plural(n, noun))
}

#[cfg(test)]
mod tests {
    #[test]
    fn signed_counts_are_grouped_too() {
        assert_eq!(super::thousands_signed(-1_234_567), "-1,234,567");
        assert_eq!(super::thousands_signed(999), "999");
        assert_eq!(
            super::thousands_signed(i64::MIN),
            "-9,223,372,036,854,775,808"
        );
    }

    use super::*;

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(12_288), "12,288");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(u64::MAX), "18,446,744,073,709,551,615");
    }

    #[test]
    fn counts_agree_with_their_noun() {
        assert_eq!(count_of(1usize, "worker"), "1 worker");
        assert_eq!(count_of(0usize, "worker"), "0 workers");
        assert_eq!(count_of(2u32, "worker"), "2 workers");
        assert_eq!(count_of(49_152u64, "tile"), "49,152 tiles");
        assert_eq!(plural(2, "process"), "processes");
        assert_eq!(plural(2, "entry"), "entries");
        assert_eq!(plural(2, "day"), "days");
        assert_eq!(plural(1, "process"), "process");
    }
}
