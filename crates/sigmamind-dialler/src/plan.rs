//! A contact list checked row by row: every row before anything is dialled
//! ([`Batch::check`]), and each again as it is dialled, by the same rules,
//! so that a row with an error can never be mistaken for one to dial.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use super::numbers::{self, FirstRows};
use super::BatchError;
use sigmamind::types::{AgentId, CreateCallRequest, E164PhoneNumber};
use sigmamind::Error;

/// One row of a contact list: whom to call and what to tell the agent.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Contact {
    /// The destination number, in +E.164 format (surrounding spaces ignored).
    pub phone: String,
    /// The call's dynamic variables (`customer_name` → `Michael`).
    pub variables: BTreeMap<String, String>,
}

impl Contact {
    /// A contact with no variables.
    pub fn new(phone: impl Into<String>) -> Self {
        Self {
            phone: phone.into(),
            variables: BTreeMap::new(),
        }
    }

    /// Adds a dynamic variable.
    pub fn variable(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.variables.insert(name.into(), value.into());
        self
    }
}

/// What every call of a contact list shares: the caller number, the agent
/// and the variables every row must have. The rows themselves come as a
/// stream ([`Batch::check`], [`run`](super::run)), so a list of any length
/// is dialled in bounded memory. Rows are numbered from 1 in list order (a
/// CSV's header line is not a row).
#[derive(Debug, Clone)]
pub struct Batch {
    from: E164PhoneNumber,
    agent: Option<AgentId>,
    required: BTreeSet<String>,
}

/// What checking a whole list found ([`Batch::check`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Checked {
    /// Rows read.
    pub rows: usize,
    /// Rows that will be dialled.
    pub valid: usize,
    /// Rows with at least one problem (not dialled).
    pub invalid: usize,
    /// Problems found (a row may have several).
    pub errors: usize,
}

/// One row, checked.
#[derive(Debug, Clone)]
pub(crate) enum Row {
    /// A valid row: its call.
    Call(PlannedCall),
    /// A row with problems, in the vendor's words.
    Invalid {
        row: usize,
        phone: String,
        errors: Vec<RowError>,
    },
}

/// Checks rows in list order, remembering each number's first row.
#[derive(Debug)]
pub(crate) struct Checker<'b> {
    batch: &'b Batch,
    first_rows: FirstRows,
    next_row: usize,
}

impl Checker<'_> {
    /// Checks the next row of the list.
    pub(crate) fn next(&mut self, contact: &Contact) -> Row {
        self.next_row += 1;
        self.batch.check_row(self.next_row, contact, &mut self.first_rows)
    }
}

impl Batch {
    /// A batch calling from `from`. The caller number is checked here
    /// (every row would fail with it).
    pub fn new(from: &str) -> Result<Self, Error> {
        let from = from
            .trim()
            .parse::<E164PhoneNumber>()
            .map_err(|e| Error::invalid_field("from_phone_number", e.to_string()))?;
        Ok(Self {
            from,
            agent: None,
            required: BTreeSet::new(),
        })
    }

    /// The agent that handles every call (else the caller number's default).
    pub fn agent(mut self, agent: &str) -> Result<Self, Error> {
        let agent = agent
            .parse::<AgentId>()
            .map_err(|e| Error::invalid_field("agent_id", e.to_string()))?;
        self.agent = Some(agent);
        Ok(self)
    }

    /// Variables every row must carry, non-empty.
    pub fn require<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.required.extend(names.into_iter().map(Into::into));
        self
    }

    /// The caller number.
    pub fn from_number(&self) -> &str {
        &self.from
    }

    /// The agent, if one was given.
    pub fn agent_id(&self) -> Option<&str> {
        self.agent.as_ref().map(|a| a.as_str())
    }

    /// Checks every row of `contacts`, sending nothing: each problem goes
    /// to `on_error` in row order, in the vendor's words. Memory stays
    /// bounded (what it keeps is each number's first row, as a `u64`). A
    /// contact list that cannot be read stops it with the error.
    pub fn check<I>(&self, contacts: I, mut on_error: impl FnMut(&RowError)) -> Result<Checked, BatchError>
    where
        I: IntoIterator<Item = Result<Contact, BatchError>>,
    {
        let mut checker = self.checker(0);
        let mut checked = Checked::default();
        for contact in contacts {
            checked.rows += 1;
            match checker.next(&contact?) {
                Row::Call(_) => checked.valid += 1,
                Row::Invalid { errors, .. } => {
                    checked.invalid += 1;
                    checked.errors += errors.len();
                    errors.iter().for_each(&mut on_error);
                }
            }
        }
        Ok(checked)
    }

    /// A checker for a list of about `rows` rows (0 when unknown).
    pub(crate) fn checker(&self, rows: usize) -> Checker<'_> {
        Checker {
            batch: self,
            first_rows: FirstRows::with_capacity(rows),
            next_row: 0,
        }
    }

    fn check_row(&self, row: usize, contact: &Contact, first_rows: &mut FirstRows) -> Row {
        let phone = contact.phone.trim();
        let mut problems = Vec::new();
        match numbers::key(phone).filter(|_| phone.parse::<E164PhoneNumber>().is_ok()) {
            None => problems.push(RowProblem::InvalidPhoneNumber),
            Some(key) => {
                if let Some(first) = first_rows.first(key, row) {
                    problems.push(RowProblem::DuplicatePhoneNumber { first_row: first });
                }
            }
        }
        for name in &self.required {
            if contact.variables.get(name).is_none_or(|v| v.trim().is_empty()) {
                problems.push(RowProblem::MissingVariable(name.clone()));
            }
        }
        if problems.is_empty() {
            match self.request(phone, contact) {
                Ok(request) => {
                    return Row::Call(PlannedCall {
                        row,
                        phone: phone.to_owned(),
                        request,
                    })
                }
                Err(Error::InvalidRequest { field, rule, .. }) => problems.push(RowProblem::InvalidField {
                    field: field.unwrap_or_else(|| "request".to_owned()),
                    rule,
                }),
                Err(other) => problems.push(RowProblem::InvalidField {
                    field: "request".to_owned(),
                    rule: other.to_string(),
                }),
            }
        }
        Row::Invalid {
            row,
            phone: phone.to_owned(),
            errors: problems
                .into_iter()
                .map(|problem| RowError {
                    row,
                    phone: phone.to_owned(),
                    problem,
                })
                .collect(),
        }
    }

    /// The row's request, through the generated builder: every rule of the
    /// spec applies, including rules added by later vendor releases.
    fn request(&self, phone: &str, contact: &Contact) -> Result<CreateCallRequest, Error> {
        let variables: serde_json::Map<String, serde_json::Value> = contact
            .variables
            .iter()
            .filter(|(_, value)| !value.is_empty())
            .map(|(name, value)| (name.clone(), serde_json::Value::from(value.as_str())))
            .collect();
        let mut builder = CreateCallRequest::builder()
            .from_phone_number(self.from.clone())
            .to_phone_number(phone)
            .dynamic_variables(variables);
        if let Some(agent) = &self.agent {
            builder = builder.agent_id(agent.clone());
        }
        Ok(CreateCallRequest::try_from(builder)?)
    }
}

/// A valid row and the request that places its call.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PlannedCall {
    /// The row number, from 1.
    pub row: usize,
    /// The destination number, trimmed.
    pub phone: String,
    /// The request sent for this row.
    pub request: CreateCallRequest,
}

/// A row that will not be dialled, and why; `Display` uses the vendor's
/// wording: `Row 3: missing required variable 'customer_name'`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RowError {
    /// The row number, from 1.
    pub row: usize,
    /// The row's destination number, as given (trimmed).
    pub phone: String,
    /// What is wrong.
    pub problem: RowProblem,
}

/// What is wrong with a row.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RowProblem {
    /// The destination is not a +E.164 number.
    InvalidPhoneNumber,
    /// A required variable is absent or empty.
    MissingVariable(String),
    /// The same number is in an earlier row: it is dialled once, for that row.
    DuplicatePhoneNumber {
        /// The row that keeps the number.
        first_row: usize,
    },
    /// Another rule of the spec (a variable too long, say).
    InvalidField {
        /// The request field.
        field: String,
        /// The rule it breaks.
        rule: String,
    },
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self { row, phone, problem } = self;
        match problem {
            RowProblem::InvalidPhoneNumber => write!(f, "Row {row}: invalid phone number '{phone}'"),
            RowProblem::MissingVariable(name) => {
                write!(f, "Row {row}: missing required variable '{name}'")
            }
            RowProblem::DuplicatePhoneNumber { first_row } => write!(
                f,
                "Row {row}: duplicate phone number '{phone}' (already in row {first_row})"
            ),
            RowProblem::InvalidField { field, rule } => write!(f, "Row {row}: {field} {rule}"),
        }
    }
}

impl std::error::Error for RowError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(batch: &Batch, contacts: Vec<Contact>) -> (Checked, Vec<String>) {
        let mut messages = Vec::new();
        let checked = batch
            .check(contacts.into_iter().map(Ok), |e| messages.push(e.to_string()))
            .unwrap();
        (checked, messages)
    }

    #[test]
    fn rows_are_refused_in_the_vendors_words() {
        let contacts = vec![
            Contact::new("+14155550001").variable("customer_name", "Ann"),
            Contact::new("+14155550002").variable("customer_name", "Bo"),
            Contact::new("+14155550003"),
            Contact::new(" +14155550004 ").variable("customer_name", "Di"),
            Contact::new("+14155550005").variable("customer_name", "  "),
            Contact::new("+14155550006").variable("customer_name", "Fay"),
            Contact::new("+1234").variable("customer_name", "Gus"),
            Contact::new("+14155550002").variable("customer_name", "Bo again"),
        ];
        let batch = Batch::new("+14155552671").unwrap().require(["customer_name"]);
        let (checked, messages) = messages(&batch, contacts.clone());
        assert_eq!(
            messages,
            [
                "Row 3: missing required variable 'customer_name'",
                "Row 5: missing required variable 'customer_name'",
                "Row 7: invalid phone number '+1234'",
                "Row 8: duplicate phone number '+14155550002' (already in row 2)",
            ]
        );
        assert_eq!(
            checked,
            Checked {
                rows: 8,
                valid: 4,
                invalid: 4,
                errors: 4
            }
        );
        // Dialling checks each row again, by the same rules.
        let mut checker = batch.checker(contacts.len());
        let calls: Vec<(usize, String)> = contacts
            .iter()
            .filter_map(|c| match checker.next(c) {
                Row::Call(call) => Some((call.row, call.phone)),
                Row::Invalid { .. } => None,
            })
            .collect();
        assert_eq!(
            calls,
            [
                (1, "+14155550001".to_owned()),
                (2, "+14155550002".to_owned()),
                (4, "+14155550004".to_owned()),
                (6, "+14155550006".to_owned())
            ]
        );
        let mut checker = batch.checker(0);
        let Row::Call(first) = checker.next(&contacts[0]) else {
            panic!("row 1 is valid")
        };
        assert_eq!(&*first.request.from_phone_number, "+14155552671");
        assert_eq!(first.request.dynamic_variables["customer_name"], "Ann");
    }

    #[test]
    fn the_caller_number_and_agent_are_checked_once() {
        let Err(Error::InvalidRequest { field, rule, .. }) = Batch::new("4155552671") else {
            panic!("a local-format caller number is refused")
        };
        assert_eq!(field.as_deref(), Some("from_phone_number"));
        assert!(rule.contains("pattern"), "{rule}");
        let long = "a".repeat(65);
        let Err(Error::InvalidRequest { field, .. }) = Batch::new("+14155552671").unwrap().agent(&long)
        else {
            panic!("an agent id over 64 characters is refused")
        };
        assert_eq!(field.as_deref(), Some("agent_id"));
    }
}
