//! What a batch remembers of a number for the whole list: the integer of
//! its digits. A +E.164 number has at most 15 digits and no leading zero,
//! so it fits a `u64` one to one; a million of them take 8 MB, not the
//! 40-odd bytes a `String` each would.

use std::collections::HashMap;

/// The key of a +E.164 number (`+14155550101` → `14155550101`), or `None`
/// for text that is not one.
pub(crate) fn key(phone: &str) -> Option<u64> {
    let digits = phone.strip_prefix('+')?;
    let valid = (7..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0');
    valid.then(|| digits.parse().ok()).flatten()
}

/// The number of a key.
#[cfg(any(test, feature = "postgres"))]
pub(crate) fn phone(key: u64) -> String {
    format!("+{key}")
}

/// The first row of each number a list has had so far (duplicates are
/// dialled once, for their first row).
#[derive(Debug, Default)]
pub(crate) struct FirstRows(HashMap<u64, u32>);

impl FirstRows {
    /// Room for `rows` numbers, so that a known list size grows nothing.
    pub(crate) fn with_capacity(rows: usize) -> Self {
        Self(HashMap::with_capacity(rows))
    }

    /// Records `row` as the number's first unless it has one; returns the
    /// earlier first row for a duplicate.
    pub(crate) fn first(&mut self, key: u64, row: usize) -> Option<usize> {
        let row = u32::try_from(row).unwrap_or(u32::MAX);
        match self.0.entry(key) {
            std::collections::hash_map::Entry::Occupied(first) => Some(*first.get() as usize),
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(row);
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_keys_are_one_to_one() {
        for phone in ["+14155550101", "+1234567", "+999999999999999"] {
            assert_eq!(key(phone).map(super::phone).as_deref(), Some(phone));
        }
        for not in [
            "14155550101",
            "+0415555",
            "+1234",
            "+1234567890123456",
            "+1415555O101",
            "",
        ] {
            assert_eq!(key(not), None, "{not}");
        }
        let mut rows = FirstRows::default();
        assert_eq!(rows.first(1, 1), None);
        assert_eq!(rows.first(2, 2), None);
        assert_eq!(rows.first(1, 3), Some(1));
    }
}
