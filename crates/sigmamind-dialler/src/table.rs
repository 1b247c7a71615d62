//! Contact lists in, results out, as streams (CSV with the `csv` crate:
//! quoting, a UTF-8 byte-order mark, line numbers in errors).

use std::io::{Read, Write};
use std::path::Path;

use super::{BatchError, Contact, Outcome, RowResult};

/// A contact list being read, one row at a time ([`read_contacts`]).
pub struct Contacts<R: Read> {
    records: csv::StringRecordsIntoIter<R>,
    names: Vec<String>,
    phone_at: usize,
    timezone_at: Option<usize>,
}

impl<R: Read> std::fmt::Debug for Contacts<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Contacts")
            .field("columns", &self.names)
            .finish_non_exhaustive()
    }
}

/// Reads a contact list as a stream: a header row, then one contact per
/// row. The column named `phone_column` is the destination number; every
/// other column is a dynamic variable named by its header. Cells are
/// trimmed; empty cells are left out (a required variable that is empty is
/// missing). The header is checked here; each row as it is read (a ragged
/// row is an error naming its line).
pub fn read_contacts<R: Read>(input: R, phone_column: &str) -> Result<Contacts<R>, BatchError> {
    let fail = |message: String| BatchError::Contacts { message };
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(input);
    let headers = reader
        .headers()
        .map_err(|e| fail(format!("cannot read the header row: {e}")))?
        .clone();
    let names: Vec<String> = headers.iter().map(str::to_owned).collect();
    let phone_at = names.iter().position(|n| n == phone_column).ok_or_else(|| {
        fail(format!(
            "no column `{phone_column}` in the header row (columns: {}); name the destination \
             number's column",
            names.join(", ")
        ))
    })?;
    if let Some(at) = names.iter().position(String::is_empty) {
        return Err(fail(format!(
            "column {} has no name in the header row; every column other than `{phone_column}` \
             is a dynamic variable and needs one",
            at + 1
        )));
    }
    for (i, name) in names.iter().enumerate() {
        if names[..i].contains(name) {
            return Err(fail(format!("column `{name}` appears twice in the header row")));
        }
    }
    Ok(Contacts {
        records: reader.into_records(),
        names,
        phone_at,
        timezone_at: None,
    })
}

impl<R: Read> Contacts<R> {
    /// Reads the column named `column`, if the list has one, as each
    /// row's [time zone](Contact::timezone) (it stays a variable too).
    pub fn timezone_column(mut self, column: &str) -> Self {
        self.timezone_at = self.names.iter().position(|n| n == column);
        self
    }
}

impl<R: Read> Iterator for Contacts<R> {
    type Item = Result<Contact, BatchError>;

    fn next(&mut self) -> Option<Self::Item> {
        let record = match self.records.next()? {
            Ok(record) => record,
            Err(e) => {
                return Some(Err(BatchError::Contacts {
                    message: e.to_string(),
                }))
            }
        };
        let mut contact = Contact::new(record.get(self.phone_at).unwrap_or(""));
        contact.timezone = self
            .timezone_at
            .and_then(|at| record.get(at))
            .filter(|zone| !zone.is_empty())
            .map(str::to_owned);
        for (at, value) in record.iter().enumerate() {
            if at != self.phone_at && !value.is_empty() {
                contact = contact.variable(self.names[at].clone(), value);
            }
        }
        Some(Ok(contact))
    }
}

/// Writes each row's result as it finishes: CSV
/// (`row,phone,given_phone,outcome,call_id,status,error,attempts,earlier_run,target,journal_error`,
/// `given_phone` being the number as the list wrote it when it is not the
/// +E.164 form dialled, `journal_error` why the journal does not hold the
/// outcome, when it could not record it), or
/// JSON lines. Results hold phone numbers and errors: [`ResultsWriter::create`]
/// makes a file only its owner can read (`0600`).
///
/// CSV is for people and spreadsheets, so no cell is a formula: a cell
/// that starts with `=`, `+`, `-`, `@`, a tab or a carriage return (or
/// their full-width forms) gets a leading `'`, as OWASP's CSV-injection
/// guidance says, whatever its source (the contact list, the server). That
/// includes phone numbers (`'+14155550101`). JSON lines keep every value
/// as it is: use them for programs.
pub struct ResultsWriter<W: Write> {
    format: Format<W>,
    target: String,
}

enum Format<W: Write> {
    Csv(Box<csv::Writer<W>>),
    JsonLines(W),
}

impl<W: Write> std::fmt::Debug for ResultsWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let format = match self.format {
            Format::Csv(_) => "csv",
            Format::JsonLines(_) => "json lines",
        };
        f.debug_struct("ResultsWriter")
            .field("format", &format)
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

impl ResultsWriter<std::io::BufWriter<std::fs::File>> {
    /// Creates (or truncates) the results file at `path`, owner-only: JSON
    /// lines for `.jsonl`, `.json` or `.ndjson`, CSV otherwise. The file
    /// is opened without following a symbolic link at `path`.
    pub fn create(path: &Path) -> std::io::Result<Self> {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
        }
        let file = std::io::BufWriter::new(options.open(path)?);
        let json = matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("jsonl" | "json" | "ndjson")
        );
        if json {
            Ok(Self::json_lines(file))
        } else {
            Self::csv(file)
        }
    }
}

/// The header of a CSV results file.
pub(crate) const CSV_HEADER: [&str; 11] = [
    "row",
    "phone",
    "given_phone",
    "outcome",
    "call_id",
    "status",
    "error",
    "attempts",
    "earlier_run",
    "target",
    "journal_error",
];

/// A cell a spreadsheet shows rather than evaluates (OWASP, CSV injection).
fn inert(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r' | '\u{ff1d}' | '\u{ff0b}' | '\u{ff0d}' | '\u{ff20}') => {
            format!("'{cell}").into()
        }
        _ => cell.into(),
    }
}

impl<W: Write> ResultsWriter<W> {
    /// CSV to `out`, the header first.
    pub fn csv(out: W) -> std::io::Result<Self> {
        let mut csv = csv::Writer::from_writer(out);
        csv.write_record(CSV_HEADER)?;
        Ok(Self {
            format: Format::Csv(Box::new(csv)),
            target: String::new(),
        })
    }

    /// JSON lines to `out`.
    pub fn json_lines(out: W) -> Self {
        Self {
            format: Format::JsonLines(out),
            target: String::new(),
        }
    }

    /// Where the calls went, written in every row (`target`): the API's
    /// address, or the local server's "nothing was dialled".
    pub fn target(mut self, target: impl Into<String>) -> Self {
        self.target = target.into();
        self
    }

    /// Writes one row's result.
    pub fn write(&mut self, row: &RowResult) -> std::io::Result<()> {
        match &mut self.format {
            Format::JsonLines(out) => {
                #[derive(serde::Serialize)]
                struct Line<'a> {
                    #[serde(flatten)]
                    row: &'a RowResult,
                    #[serde(skip_serializing_if = "str::is_empty")]
                    target: &'a str,
                }
                serde_json::to_writer(
                    &mut *out,
                    &Line {
                        row,
                        target: &self.target,
                    },
                )?;
                out.write_all(b"\n")
            }
            Format::Csv(csv) => {
                let status = match &row.outcome {
                    Outcome::Refused {
                        status: Some(status), ..
                    } => status.to_string(),
                    _ => String::new(),
                };
                let error = match &row.outcome {
                    Outcome::Elsewhere { dialer } => format!("held by dialer {dialer}"),
                    other => other.error().unwrap_or("").to_owned(),
                };
                csv.write_record([
                    row.row.to_string().as_str(),
                    &inert(&row.phone),
                    &inert(row.given_phone.as_deref().unwrap_or("")),
                    row.outcome.name(),
                    &inert(row.outcome.call_id().unwrap_or("")),
                    &status,
                    &inert(&error),
                    &row.attempts.to_string(),
                    if row.earlier_run { "true" } else { "false" },
                    &inert(&self.target),
                    &inert(row.journal_error.as_deref().unwrap_or("")),
                ])?;
                Ok(())
            }
        }
    }

    /// Flushes what was written.
    pub fn flush(&mut self) -> std::io::Result<()> {
        match &mut self.format {
            Format::JsonLines(out) => out.flush(),
            Format::Csv(csv) => csv.flush(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(text: &str, phone: &str) -> Result<Vec<Contact>, BatchError> {
        read_contacts(text.as_bytes(), phone)?.collect()
    }

    #[test]
    fn columns_become_variables_and_cells_are_trimmed() {
        let text = "\u{feff}name,phone,account\nMichael, +14155550001 ,ACC-1\n\"Doe, Jane\",+14155550002,\n";
        assert_eq!(
            all(text, "phone").unwrap(),
            [
                Contact::new("+14155550001")
                    .variable("name", "Michael")
                    .variable("account", "ACC-1"),
                Contact::new("+14155550002").variable("name", "Doe, Jane"),
            ]
        );
    }

    /// A CRM's export: a BOM, blank lines, a zone column.
    #[test]
    fn a_timezone_column_is_each_rows_zone() {
        let text = "\u{feff}phone,name,timezone\n\n(415) 555-0101,Ann,America/Chicago\n\n'+14155550102,Bo,\n";
        let contacts: Vec<Contact> = read_contacts(text.as_bytes(), "phone")
            .unwrap()
            .timezone_column("timezone")
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            contacts,
            [
                Contact::new("(415) 555-0101")
                    .variable("name", "Ann")
                    .variable("timezone", "America/Chicago")
                    .timezone("America/Chicago"),
                Contact::new("'+14155550102").variable("name", "Bo"),
            ]
        );
    }

    #[test]
    fn a_bad_header_or_row_is_named() {
        let error = all("name,number\nA,+1\n", "phone").unwrap_err().to_string();
        assert!(
            error.contains("no column `phone`") && error.contains("name, number"),
            "{error}"
        );
        let error = all("phone,,x\n", "phone").unwrap_err().to_string();
        assert!(error.contains("column 2 has no name"), "{error}");
        let error = all("phone,a,a\n", "phone").unwrap_err().to_string();
        assert!(error.contains("`a` appears twice"), "{error}");
        let error = all("phone,a\n+1,x\n+2,y,z\n", "phone").unwrap_err().to_string();
        assert!(error.contains("line: 3"), "{error}");
    }

    /// OWASP's CSV injection: nothing a spreadsheet would evaluate, from
    /// the list or the server, reaches a cell as it is; JSON keeps it.
    #[test]
    fn no_cell_is_a_formula() {
        let hostile = [
            "=HYPERLINK(\"http://x\",\"y\")",
            "+cmd|' /C calc'!A0",
            "-2+3",
            "@SUM(A1)",
            "\t=1",
            "\r=1",
            "\u{ff1d}1+1",
        ];
        for text in hostile {
            let mut out = Vec::new();
            let mut writer = ResultsWriter::csv(&mut out).unwrap().target(text);
            let row = |outcome| RowResult {
                row: 1,
                phone: text.to_owned(),
                given_phone: Some(text.to_owned()),
                outcome,
                attempts: 1,
                earlier_run: false,
                journal_error: None,
            };
            writer
                .write(&row(Outcome::Placed {
                    call_id: Some(text.to_owned()),
                }))
                .unwrap();
            writer
                .write(&row(Outcome::Unknown {
                    error: text.to_owned(),
                }))
                .unwrap();
            writer.flush().unwrap();
            drop(writer);
            let mut reader = csv::Reader::from_reader(out.as_slice());
            for record in reader.records() {
                let record = record.unwrap();
                for cell in record.iter() {
                    assert!(
                        !cell.starts_with(['=', '+', '-', '@', '\t', '\r', '\u{ff1d}']),
                        "{text:?} reached a cell as {cell:?}"
                    );
                }
                assert_eq!(&record[1], format!("'{text}"));
                assert_eq!(&record[2], format!("'{text}"));
            }
            let mut json = Vec::new();
            ResultsWriter::json_lines(&mut json)
                .write(&row(Outcome::Placed { call_id: None }))
                .unwrap();
            let line: serde_json::Value = serde_json::from_slice(&json).unwrap();
            assert_eq!(line["phone"], text);
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_results_file_is_its_owners_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.csv");
        let mut writer = ResultsWriter::create(&path).unwrap();
        writer
            .write(&RowResult {
                row: 1,
                phone: "+14155550001".into(),
                given_phone: Some("(415) 555-0001".into()),
                outcome: Outcome::Placed {
                    call_id: Some("call_1".into()),
                },
                attempts: 1,
                earlier_run: false,
                journal_error: None,
            })
            .unwrap();
        writer.flush().unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "row,phone,given_phone,outcome,call_id,status,error,attempts,earlier_run,target,journal_error\n1,'+14155550001,(415) 555-0001,placed,call_1,,,1,false,,\n"
        );
    }
}
