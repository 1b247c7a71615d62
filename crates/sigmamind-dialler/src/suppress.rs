//! Suppression lists (do-not-call lists, opt-outs): numbers never to dial,
//! read as the contacts are (the batch's region, libphonenumber's data)
//! so that a formatted entry matches a normalised contact. Kept sorted
//! and delta-encoded: about two bytes a number for a national registry's
//! ten million, so that they fit beside a campaign-sized run.

use std::io::{BufRead, BufReader, Read};

use super::numbers::{self, Style};
use super::BatchError;

/// Numbers not to dial, from one or more lists; see
/// [`Batch::suppress`](crate::Batch::suppress). A row whose number is on
/// any list is never sent: it ends [`Outcome::Suppressed`](crate::Outcome::Suppressed),
/// naming the list.
#[derive(Default)]
pub struct Suppression {
    style: Style,
    lists: Vec<List>,
}

struct List {
    name: String,
    numbers: CompactSet,
}

/// The lists' names and sizes, not their numbers.
impl std::fmt::Debug for Suppression {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(self.lists.iter().map(|l| (&l.name, l.numbers.len)))
            .finish()
    }
}

/// What reading one list found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ListRead {
    /// Entries read (blank lines not counted).
    pub entries: usize,
    /// Distinct numbers among them.
    pub numbers: usize,
}

impl Suppression {
    /// Lists whose numbers are +E.164 (or written with a `+` and a
    /// country code).
    pub fn new() -> Self {
        Self::default()
    }

    /// Lists whose numbers may be written as people write them in
    /// `region` (as [`Batch::region`](crate::Batch::region) reads contacts).
    pub fn in_region(region: &str) -> Result<Self, sigmamind::Error> {
        let id = numbers::region(region).ok_or_else(|| {
            sigmamind::Error::invalid_field(
                "region",
                format!("{region:?} is not a region libphonenumber knows: give a two-letter code such as US"),
            )
        })?;
        Ok(Self {
            style: Style::Region(id),
            lists: Vec::new(),
        })
    }

    /// Reads a list named `name` (its file name, say: results name it):
    /// one number a line, or a CSV whose header has a `phone_column`
    /// column. Blank lines are skipped; an entry that is not a phone
    /// number is an error naming its line (a list that cannot be read
    /// whole protects nobody it could not read).
    pub fn read_list<R: Read>(
        &mut self,
        name: &str,
        input: R,
        phone_column: &str,
    ) -> Result<ListRead, BatchError> {
        let fail = |message: String| BatchError::Suppression {
            list: name.to_owned(),
            message,
        };
        let mut reader = BufReader::with_capacity(64 * 1024, input);
        let mut first = String::new();
        // The first non-blank line decides: a header naming the phone column, or a number.
        let mut line_number = 0;
        while first.trim().is_empty() {
            line_number += 1;
            if !bounded_line(&mut reader, &mut first).map_err(|e| fail(format!("line {line_number}: {e}")))? {
                self.lists.push(List {
                    name: name.to_owned(),
                    numbers: CompactSet::from_sorted(&[]),
                });
                return Ok(ListRead::default());
            }
        }
        let first = first.trim_start_matches('\u{feff}').to_owned();
        let header: Vec<String> = first
            .trim_end_matches(['\r', '\n'])
            .split(',')
            .map(|c| c.trim().to_owned())
            .collect();
        let mut keys = Vec::new();
        let mut entries = 0;
        let style = self.style;
        let mut add = |cell: &str, line: usize, keys: &mut Vec<u64>| -> Result<(), BatchError> {
            let cell = cell.trim();
            if cell.is_empty() {
                return Ok(());
            }
            entries += 1;
            keys.push(entry_key(cell, style).map_err(|rule| fail(format!("line {line}: {cell:?} {rule}")))?);
            Ok(())
        };
        if let Some(at) = header.iter().position(|c| c == phone_column) {
            let mut csv = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_reader(reader);
            for record in csv.records() {
                let record = record.map_err(|e| fail(e.to_string()))?;
                // Lines counted from the header's (blank lines skipped by the reader count too).
                let line = line_number + record.position().map_or(0, |p| p.line() as usize);
                add(record.get(at).unwrap_or(""), line, &mut keys)?;
            }
        } else {
            add(&first, line_number, &mut keys)?;
            let mut line = String::new();
            loop {
                line_number += 1;
                if !bounded_line(&mut reader, &mut line)
                    .map_err(|e| fail(format!("line {line_number}: {e}")))?
                {
                    break;
                }
                add(&line, line_number, &mut keys)?;
            }
        }
        keys.sort_unstable();
        keys.dedup();
        let read = ListRead {
            entries,
            numbers: keys.len(),
        };
        self.lists.push(List {
            name: name.to_owned(),
            numbers: CompactSet::from_sorted(&keys),
        });
        Ok(read)
    }

    /// The list a +E.164 number is on (the first given), if any.
    pub fn list_of(&self, phone: &str) -> Option<&str> {
        let key = numbers::key(phone)?;
        self.list_of_key(key)
    }

    pub(crate) fn list_of_key(&self, key: u64) -> Option<&str> {
        self.lists
            .iter()
            .find(|list| list.numbers.contains(key))
            .map(|list| list.name.as_str())
    }

    /// Distinct numbers over all lists (a number on two lists counts twice).
    pub fn len(&self) -> usize {
        self.lists.iter().map(|l| l.numbers.len).sum()
    }

    /// Whether no list has a number.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The key of an entry, read as contacts are in `style`: what
/// libphonenumber would make of it. Two shapes that national registries
/// and exports write by the million skip libphonenumber, giving what it
/// gives: `+1` and ten digits, and (in a `+1` region) ten digits, or
/// eleven beginning with `1`, whose area code begins with 2-9.
fn entry_key(cell: &str, style: Style) -> Result<u64, &'static str> {
    let cell = cell.trim().trim_start_matches('\'').trim();
    let nanp = |digits: &str| {
        (digits.len() == 10 && digits.bytes().all(|b| b.is_ascii_digit()) && digits.as_bytes()[0] >= b'2')
            .then(|| numbers::key(&format!("+1{digits}")))
            .flatten()
    };
    match style {
        Style::E164 => {
            if let Some(key) = numbers::key(cell) {
                return Ok(key);
            }
        }
        Style::Region(region) => {
            if let Some(key) = cell.strip_prefix("+1").and_then(nanp) {
                return Ok(key);
            }
            let in_nanp = phonenumber::metadata::DATABASE
                .by_id(region.as_ref())
                .is_some_and(|meta| meta.country_code() == 1);
            if in_nanp {
                if let Some(key) = nanp(cell).or_else(|| cell.strip_prefix('1').and_then(nanp)) {
                    return Ok(key);
                }
            }
        }
    }
    // As a contact would be read (`00`, a spreadsheet's `'`); failing
    // that, whatever libphonenumber makes of it (an extension dropped: the
    // person asked not to be called at that number).
    let region = match style {
        Style::E164 => None,
        Style::Region(region) => {
            if let Ok((_, key)) = numbers::normalise(cell, style) {
                return Ok(key);
            }
            Some(region)
        }
    };
    let number = phonenumber::parse(region, cell).map_err(|_| match style {
        Style::E164 => {
            "is not a phone number with its country code (+14155550101); a region reads national forms"
        }
        Style::Region(_) => "is not a phone number",
    })?;
    let e164 = number.format().mode(phonenumber::Mode::E164).to_string();
    numbers::key(&e164).ok_or("is not a phone number")
}

/// Sorted numbers, in blocks of [`BLOCK`]: each block's first number,
/// then the gaps to the next ones as LEB128 varints.
struct CompactSet {
    firsts: Vec<u64>,
    /// Where each block's gaps begin in `gaps`.
    starts: Vec<u32>,
    gaps: Vec<u8>,
    len: usize,
}

const BLOCK: usize = 64;

/// The longest line a plain list may have: far longer than any number
/// written any way, short enough that a file that is not a list (a device
/// that never ends a line) is refused instead of read into memory.
const MAX_LINE: u64 = 1024;

/// Reads one line of at most [`MAX_LINE`] bytes into `line` (cleared
/// first); `Ok(false)` at the end.
fn bounded_line(reader: &mut impl BufRead, line: &mut String) -> Result<bool, String> {
    line.clear();
    let read = reader
        .take(MAX_LINE + 1)
        .read_line(line)
        .map_err(|e| e.to_string())?;
    if read as u64 > MAX_LINE {
        return Err(format!(
            "a line longer than {MAX_LINE} bytes: not a list of phone numbers"
        ));
    }
    Ok(read > 0)
}

impl CompactSet {
    fn from_sorted(keys: &[u64]) -> Self {
        let mut set = CompactSet {
            firsts: Vec::with_capacity(keys.len().div_ceil(BLOCK)),
            starts: Vec::with_capacity(keys.len().div_ceil(BLOCK)),
            gaps: Vec::new(),
            len: keys.len(),
        };
        for block in keys.chunks(BLOCK) {
            set.firsts.push(block[0]);
            set.starts
                .push(u32::try_from(set.gaps.len()).expect("under 4 GB of gaps"));
            for pair in block.windows(2) {
                let mut gap = pair[1] - pair[0];
                loop {
                    let byte = (gap & 0x7f) as u8;
                    gap >>= 7;
                    if gap == 0 {
                        set.gaps.push(byte);
                        break;
                    }
                    set.gaps.push(byte | 0x80);
                }
            }
        }
        set.gaps.shrink_to_fit();
        set
    }

    fn contains(&self, key: u64) -> bool {
        let block = match self.firsts.binary_search(&key) {
            Ok(_) => return true,
            Err(0) => return false,
            Err(after) => after - 1,
        };
        let end = self
            .starts
            .get(block + 1)
            .map_or(self.gaps.len(), |s| *s as usize);
        let mut at = self.starts[block] as usize;
        let mut value = self.firsts[block];
        let mut gap = 0u64;
        let mut shift = 0;
        while at < end {
            let byte = self.gaps[at];
            at += 1;
            gap |= u64::from(byte & 0x7f) << shift;
            shift += 7;
            if byte & 0x80 == 0 {
                value += gap;
                if value >= key {
                    return value == key;
                }
                gap = 0;
                shift = 0;
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The compact set holds exactly the numbers it was given.
        #[test]
        fn the_compact_set_is_a_set(mut keys in proptest::collection::vec(1_000_000u64..999_999_999_999_999, 0..600), probe in 1_000_000u64..999_999_999_999_999) {
            keys.sort_unstable();
            keys.dedup();
            let set = CompactSet::from_sorted(&keys);
            for key in &keys {
                prop_assert!(set.contains(*key));
                prop_assert_eq!(keys.binary_search(&(key + 1)).is_ok(), set.contains(key + 1));
            }
            prop_assert_eq!(set.contains(probe), keys.binary_search(&probe).is_ok());
        }
    }

    /// A file that is not a list (here: a line that never ends, as
    /// `/dev/zero` gives) is refused without being read into memory.
    #[test]
    fn an_endless_line_is_refused() {
        let endless = std::io::repeat(b'0').take(1 << 30);
        let error = Suppression::new()
            .read_list("zero", endless, "phone")
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "suppression list zero: line 1: a line longer than 1024 bytes: not a list of phone numbers"
        );
    }

    #[test]
    fn debug_shows_names_and_sizes_not_numbers() {
        let mut lists = Suppression::new();
        lists
            .read_list("dnc", "+14155550101\n+14155550102\n".as_bytes(), "phone")
            .unwrap();
        assert_eq!(format!("{lists:?}"), r#"{"dnc": 2}"#);
    }

    #[test]
    fn entries_are_read_as_contacts_are() {
        let mut us = Suppression::in_region("US").unwrap();
        let plain = "\u{feff}4155550101\n\n(415) 555-0102\n+1 415 555 0103\n14155550104\n'+14155550105\n00 44 20 7946 0958\n4155550101\n(415) 555-0106 ext. 9\n";
        assert_eq!(
            us.read_list("dnc.txt", plain.as_bytes(), "phone").unwrap(),
            ListRead {
                entries: 8,
                numbers: 7
            }
        );
        let csv = "name,phone\nAnn,(212) 555-0101\n\"Doe, Jo\",212.555.0102\nBlank,\n";
        assert_eq!(
            us.read_list("opt-outs.csv", csv.as_bytes(), "phone").unwrap(),
            ListRead {
                entries: 2,
                numbers: 2
            }
        );
        for (phone, list) in [
            ("+14155550101", Some("dnc.txt")),
            ("+14155550104", Some("dnc.txt")),
            ("+442079460958", Some("dnc.txt")),
            ("+14155550106", Some("dnc.txt")),
            ("+12125550102", Some("opt-outs.csv")),
            ("+14155550109", None),
        ] {
            assert_eq!(us.list_of(phone), list, "{phone}");
        }
        let error = us
            .read_list("bad.txt", "4155550101\nnot a number\n".as_bytes(), "phone")
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "suppression list bad.txt: line 2: \"not a number\" is not a phone number"
        );
        // Without a region only numbers with their country code are read.
        let mut strict = Suppression::new();
        strict
            .read_list("l", "+1 415 555 0101\n+14155550102\n".as_bytes(), "phone")
            .unwrap();
        assert_eq!(strict.list_of("+14155550101"), Some("l"));
        let error = strict
            .read_list("m", "415-555-0101\n".as_bytes(), "phone")
            .unwrap_err();
        assert!(
            error
                .to_string()
                .contains("line 1: \"415-555-0101\" is not a phone number with its country code"),
            "{error}"
        );
        assert_eq!(strict.len(), 2);
    }

    /// The fast paths give what libphonenumber gives.
    #[test]
    fn fast_paths_agree_with_libphonenumber() {
        let us = Style::Region(numbers::region("US").unwrap());
        for cell in [
            "4155550101",
            "14155550101",
            "+14155550101",
            "2125550199",
            "+18085550105",
        ] {
            let slow = phonenumber::parse(Some(phonenumber::country::Id::US), cell).unwrap();
            let slow = numbers::key(&slow.format().mode(phonenumber::Mode::E164).to_string()).unwrap();
            assert_eq!(entry_key(cell, us), Ok(slow), "{cell}");
        }
    }
}
