//! What a batch remembers of a number for the whole list: the integer of
//! its digits. A +E.164 number has at most 15 digits and no leading zero,
//! so it fits a `u64` one to one; a million of them take 8 MB, not the
//! 40-odd bytes a `String` each would.

use std::collections::HashMap;

use phonenumber::country::Id as Region;
use phonenumber::Mode;

/// The key of a +E.164 number (`+14155550101` → `14155550101`), or `None`
/// for text that is not one.
pub(crate) fn key(phone: &str) -> Option<u64> {
    let digits = phone.strip_prefix('+')?;
    let valid = (7..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0');
    valid.then(|| digits.parse().ok()).flatten()
}

/// How a list's numbers are written: strictly in +E.164, or as people
/// write them in a region (national forms, spaces, dots, brackets), read
/// with libphonenumber's metadata (the `phonenumber` crate).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Style {
    /// `+` and 7 to 15 digits, nothing else (the API's own rule).
    #[default]
    E164,
    /// As written in this region; only numbers libphonenumber holds valid.
    Region(Region),
}

/// Why a cell is not a number to dial.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NotANumber {
    /// Not a number (in this style).
    Invalid,
    /// A number with an extension, which a call cannot dial.
    Extension,
}

/// A region's code, as libphonenumber knows regions (`US`, `GB`): `None`
/// for anything else.
pub(crate) fn region(code: &str) -> Option<Region> {
    let code = code.trim().to_ascii_uppercase();
    // A region is two letters; strum would also read the name of a variant
    // that is not one.
    (code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase()))
        .then(|| code.parse().ok())
        .flatten()
}

/// The +E.164 form of `cell` and its key. In a region, a spreadsheet's
/// leading `'` (its mark for text) is dropped, and a number that begins
/// with `00` and is not valid as dialled in the region is read as `+`
/// and the rest (ITU-T's international prefix, as most of the world and
/// many exports write it).
pub(crate) fn normalise(cell: &str, style: Style) -> Result<(String, u64), NotANumber> {
    let cell = cell.trim();
    let Style::Region(region) = style else {
        let key = key(cell).filter(|_| cell.parse::<sigmamind::types::E164PhoneNumber>().is_ok());
        return key.map(|key| (cell.to_owned(), key)).ok_or(NotANumber::Invalid);
    };
    let cell = cell.strip_prefix('\'').unwrap_or(cell).trim();
    let valid = |text: &str| {
        let number = phonenumber::parse(Some(region), text).ok()?;
        if number.extension().is_some() {
            return Some(Err(NotANumber::Extension));
        }
        phonenumber::is_valid(&number).then(|| Ok(number.format().mode(Mode::E164).to_string()))
    };
    let e164 = match valid(cell) {
        Some(result) => result?,
        None => match cell.strip_prefix("00") {
            Some(rest) => valid(&format!("+{rest}")).ok_or(NotANumber::Invalid)??,
            None => return Err(NotANumber::Invalid),
        },
    };
    let key = key(&e164).ok_or(NotANumber::Invalid)?;
    Ok((e164, key))
}

/// A valid number of `region` as dialled there and with its country code
/// (libphonenumber's example): `("(201) 555-0123", "+1 201-555-0123")`.
pub(crate) fn example(region: Region) -> Option<(String, String)> {
    let meta = phonenumber::metadata::DATABASE.by_id(region.as_ref())?;
    let example = meta
        .descriptors()
        .fixed_line()
        .or(meta.descriptors().mobile())?
        .example()?;
    let number = phonenumber::parse(Some(region), example).ok()?;
    Some((
        number.format().mode(Mode::National).to_string(),
        number.format().mode(Mode::International).to_string(),
    ))
}

/// The number of a key.
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
    }

    /// Numbers as CRMs and spreadsheets export them, read in a region.
    #[test]
    fn numbers_as_people_write_them() {
        let us = Style::Region(region("us").unwrap());
        for (cell, e164) in [
            ("(415) 555-0103", "+14155550103"),
            ("+1 415 555 0102", "+14155550102"),
            ("415.555.0104", "+14155550104"),
            ("00 44 20 7946 0958", "+442079460958"),
            ("'+14155550105", "+14155550105"),
            (" 1-415-555-0106 ", "+14155550106"),
            ("+44 20 7946 0958", "+442079460958"),
            ("+81 3-1234-5678", "+81312345678"),
        ] {
            assert_eq!(normalise(cell, us).map(|n| n.0).as_deref(), Ok(e164), "{cell}");
        }
        for cell in [
            "+1234567",
            "+1234",
            "555-0103",
            "",
            "'",
            "call me",
            "+1 415 555 01034",
        ] {
            assert_eq!(normalise(cell, us), Err(NotANumber::Invalid), "{cell:?}");
        }
        assert_eq!(
            normalise("(415) 555-0103 ext. 12", us),
            Err(NotANumber::Extension)
        );
        // Without a region, today's rule: +E.164 and nothing else.
        assert_eq!(normalise("+1234567", Style::E164).map(|n| n.1), Ok(1234567));
        for cell in ["(415) 555-0103", "'+14155550105", "+1 415 555 0102"] {
            assert_eq!(normalise(cell, Style::E164), Err(NotANumber::Invalid), "{cell}");
        }
        assert_eq!(region("GB"), Some(Region::GB));
        for not in ["", "USA", "U", "1", "zz"] {
            assert_eq!(region(not), None, "{not}");
        }
    }

    #[test]
    fn duplicates_are_counted_once() {
        let mut rows = FirstRows::default();
        assert_eq!(rows.first(1, 1), None);
        assert_eq!(rows.first(2, 2), None);
        assert_eq!(rows.first(1, 3), Some(1));
    }
}
