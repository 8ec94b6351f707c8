//! The one parser for comma-separated lists typed by a person (worker
//! counts, thread counts, granularities, lock kinds), used by the CLI and
//! the window alike. One rule: items are trimmed; an empty item (`1,,2`,
//! `1,2,`) or an empty list is an error, never silently skipped.

/// Parses `s` as a comma-separated list, each item with `parse`. Errors
/// name the item (and its position when it is empty).
pub fn parse_list<T>(
    s: &str,
    mut parse: impl FnMut(&str) -> Result<T, String>,
) -> Result<Vec<T>, String> {
    if s.trim().is_empty() {
        return Err("the list is empty".into());
    }
    s.split(',')
        .enumerate()
        .map(|(i, item)| {
            let item = item.trim();
            if item.is_empty() {
                Err(format!(
                    "item {} is empty (two commas in a row, or a comma at an end)",
                    i + 1
                ))
            } else {
                parse(item)
            }
        })
        .collect()
}

/// A whole number item, with the usual message.
pub fn whole_number<T: std::str::FromStr>(item: &str) -> Result<T, String> {
    item.parse::<T>()
        .map_err(|_| format!("{item:?} is not a whole number"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_rule_for_every_list() {
        assert_eq!(
            parse_list(" 1, 2 ,8", whole_number::<usize>),
            Ok(vec![1, 2, 8])
        );
        for bad in ["", " ", "1,,2", "1,2,", ",1", "1,x"] {
            assert!(parse_list(bad, whole_number::<usize>).is_err(), "{bad:?}");
        }
        let e = parse_list("1,,2", whole_number::<usize>).expect_err("empty item");
        assert!(e.contains("item 2 is empty"), "{e}");
    }
}
