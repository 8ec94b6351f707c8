//! The one parser for comma-separated lists typed by a person (worker
//! counts, thread counts, granularities, lock kinds), used by the CLI and
//! the window alike. One rule: items are trimmed; an empty item (`1,,2`,
//! `1,2,`) or an empty list is an error, never silently skipped.

/// What is wrong with a typed list: its shape, or one item (`E`, the item
/// parser's error, shown as it is).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ListError<E> {
    #[error("the list is empty")]
    Empty,
    /// `position` counts from 1.
    #[error("item {position} is empty (two commas in a row, or a comma at an end)")]
    EmptyItem { position: usize },
    #[error("{0}")]
    Item(E),
}

/// An item that is not a whole number.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{item:?} is not a whole number")]
pub struct NotWholeNumber {
    pub item: String,
}

/// Parses `s` as a comma-separated list, each item with `parse`. Errors
/// name the item (and its position when it is empty).
pub fn parse_list<T, E>(
    s: &str,
    mut parse: impl FnMut(&str) -> Result<T, E>,
) -> Result<Vec<T>, ListError<E>> {
    if s.trim().is_empty() {
        return Err(ListError::Empty);
    }
    s.split(',')
        .enumerate()
        .map(|(i, item)| {
            let item = item.trim();
            if item.is_empty() {
                Err(ListError::EmptyItem { position: i + 1 })
            } else {
                parse(item).map_err(ListError::Item)
            }
        })
        .collect()
}

/// A whole number item, with the usual message.
pub fn whole_number<T: std::str::FromStr>(item: &str) -> Result<T, NotWholeNumber> {
    item.parse::<T>().map_err(|_| NotWholeNumber {
        item: item.to_string(),
    })
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
        let e = parse_list("1,,2", whole_number::<usize>)
            .expect_err("empty item")
            .to_string();
        assert!(e.contains("item 2 is empty"), "{e}");
    }
}
