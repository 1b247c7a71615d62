//! Contact lists in, results out, as CSV (with the `csv` crate: quoting,
//! a UTF-8 byte-order mark, line numbers in errors).

use std::io::{Read, Write};

use super::{BatchError, Contact, Report};

/// Reads a contact list: a header row, then one contact per row. The
/// column named `phone_column` is the destination number; every other
/// column is a dynamic variable named by its header. Cells are trimmed;
/// empty cells are left out (a required variable that is empty is missing).
pub fn read_contacts(input: impl Read, phone_column: &str) -> Result<Vec<Contact>, BatchError> {
    let fail = |message: String| BatchError::Contacts { message };
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(input);
    let headers = reader
        .headers()
        .map_err(|e| fail(format!("cannot read the header row: {e}")))?
        .clone();
    let names: Vec<&str> = headers.iter().collect();
    let phone_at = names.iter().position(|n| *n == phone_column).ok_or_else(|| {
        fail(format!(
            "no column `{phone_column}` in the header row (columns: {}); name the destination \
             number's column",
            names.join(", ")
        ))
    })?;
    if let Some(at) = names.iter().position(|n| n.is_empty()) {
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
    let mut contacts = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| fail(e.to_string()))?;
        let mut contact = Contact::new(record.get(phone_at).unwrap_or(""));
        for (at, value) in record.iter().enumerate() {
            if at != phone_at && !value.is_empty() {
                contact = contact.variable(names[at], value);
            }
        }
        contacts.push(contact);
    }
    Ok(contacts)
}

/// `row,phone,outcome,call_id,status,error,attempts,earlier_run`.
pub(super) fn write_results_csv(report: &Report, out: impl Write) -> std::io::Result<()> {
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record([
        "row",
        "phone",
        "outcome",
        "call_id",
        "status",
        "error",
        "attempts",
        "earlier_run",
    ])?;
    for row in &report.rows {
        let status = match &row.outcome {
            super::Outcome::Failed {
                status: Some(status), ..
            } => status.to_string(),
            _ => String::new(),
        };
        writer.write_record([
            row.row.to_string().as_str(),
            &row.phone,
            row.outcome.name(),
            row.outcome.call_id().unwrap_or(""),
            &status,
            row.outcome.error().unwrap_or(""),
            &row.attempts.to_string(),
            if row.earlier_run { "true" } else { "false" },
        ])?;
    }
    writer.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_become_variables_and_cells_are_trimmed() {
        let text = "\u{feff}name,phone,account\nMichael, +14155550001 ,ACC-1\n\"Doe, Jane\",+14155550002,\n";
        let contacts = read_contacts(text.as_bytes(), "phone").unwrap();
        assert_eq!(
            contacts,
            [
                Contact::new("+14155550001")
                    .variable("name", "Michael")
                    .variable("account", "ACC-1"),
                Contact::new("+14155550002").variable("name", "Doe, Jane"),
            ]
        );
    }

    #[test]
    fn a_bad_header_or_row_is_named() {
        let error = read_contacts("name,number\nA,+1\n".as_bytes(), "phone")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("no column `phone`") && error.contains("name, number"),
            "{error}"
        );
        let error = read_contacts("phone,,x\n".as_bytes(), "phone")
            .unwrap_err()
            .to_string();
        assert!(error.contains("column 2 has no name"), "{error}");
        let error = read_contacts("phone,a,a\n".as_bytes(), "phone")
            .unwrap_err()
            .to_string();
        assert!(error.contains("`a` appears twice"), "{error}");
        let error = read_contacts("phone,a\n+1,x\n+2,y,z\n".as_bytes(), "phone")
            .unwrap_err()
            .to_string();
        assert!(error.contains("line: 3"), "{error}");
    }
}
