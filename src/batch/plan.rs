//! A contact list checked row by row before anything is dialled.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use crate::types::{AgentId, CreateCallRequest, E164PhoneNumber};
use crate::Error;

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

/// A contact list with what every call shares: the caller number, the agent
/// and the variables every row must have. Rows are numbered from 1 in list
/// order (a CSV's header line is not a row).
#[derive(Debug, Clone)]
pub struct Batch {
    from: E164PhoneNumber,
    agent: Option<AgentId>,
    required: BTreeSet<String>,
    contacts: Vec<Contact>,
}

impl Batch {
    /// A batch calling `contacts` from `from`. The caller number is checked
    /// here (every row would fail with it).
    pub fn new(from: &str, contacts: Vec<Contact>) -> Result<Self, Error> {
        let from = from
            .trim()
            .parse::<E164PhoneNumber>()
            .map_err(|e| Error::InvalidRequest {
                field: Some("from_phone_number".to_owned()),
                rule: e.to_string(),
            })?;
        Ok(Self {
            from,
            agent: None,
            required: BTreeSet::new(),
            contacts,
        })
    }

    /// The agent that handles every call (else the caller number's default).
    pub fn agent(mut self, agent: &str) -> Result<Self, Error> {
        let agent = agent.parse::<AgentId>().map_err(|e| Error::InvalidRequest {
            field: Some("agent_id".to_owned()),
            rule: e.to_string(),
        })?;
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

    /// The rows.
    pub fn contacts(&self) -> &[Contact] {
        &self.contacts
    }

    /// Checks every row; nothing is sent. Rows with any problem are left out
    /// of [`Plan::calls`] and listed in [`Plan::errors`], in row order.
    pub fn plan(&self) -> Plan {
        let mut calls = Vec::new();
        let mut errors = Vec::new();
        let mut first_row: HashMap<&str, usize> = HashMap::new();
        for (index, contact) in self.contacts.iter().enumerate() {
            let row = index + 1;
            let phone = contact.phone.trim();
            let mut problems = Vec::new();
            if phone.parse::<E164PhoneNumber>().is_err() {
                problems.push(RowProblem::InvalidPhoneNumber);
            } else if let Some(&first) = first_row.get(phone) {
                problems.push(RowProblem::DuplicatePhoneNumber { first_row: first });
            } else {
                first_row.insert(phone, row);
            }
            for name in &self.required {
                if contact.variables.get(name).is_none_or(|v| v.trim().is_empty()) {
                    problems.push(RowProblem::MissingVariable(name.clone()));
                }
            }
            if problems.is_empty() {
                match self.request(phone, contact) {
                    Ok(request) => calls.push(PlannedCall {
                        row,
                        phone: phone.to_owned(),
                        request,
                    }),
                    Err(Error::InvalidRequest { field, rule, .. }) => {
                        problems.push(RowProblem::InvalidField {
                            field: field.unwrap_or_else(|| "request".to_owned()),
                            rule,
                        })
                    }
                    Err(other) => problems.push(RowProblem::InvalidField {
                        field: "request".to_owned(),
                        rule: other.to_string(),
                    }),
                }
            }
            errors.extend(problems.into_iter().map(|problem| RowError {
                row,
                phone: phone.to_owned(),
                problem,
            }));
        }
        Plan { calls, errors }
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

/// What a batch will do: the calls to place, and the rows refused.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Plan {
    /// The valid rows, in row order.
    pub calls: Vec<PlannedCall>,
    /// Every problem found, in row order (a row may have several).
    pub errors: Vec<RowError>,
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

    fn messages(plan: &Plan) -> Vec<String> {
        plan.errors.iter().map(ToString::to_string).collect()
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
        let plan = Batch::new("+14155552671", contacts)
            .unwrap()
            .require(["customer_name"])
            .plan();
        assert_eq!(
            messages(&plan),
            [
                "Row 3: missing required variable 'customer_name'",
                "Row 5: missing required variable 'customer_name'",
                "Row 7: invalid phone number '+1234'",
                "Row 8: duplicate phone number '+14155550002' (already in row 2)",
            ]
        );
        let rows: Vec<_> = plan.calls.iter().map(|c| (c.row, c.phone.as_str())).collect();
        assert_eq!(
            rows,
            [
                (1, "+14155550001"),
                (2, "+14155550002"),
                (4, "+14155550004"),
                (6, "+14155550006")
            ]
        );
        let request = &plan.calls[0].request;
        assert_eq!(&*request.from_phone_number, "+14155552671");
        assert_eq!(request.dynamic_variables["customer_name"], "Ann");
    }

    #[test]
    fn the_caller_number_and_agent_are_checked_once() {
        let Err(Error::InvalidRequest { field, rule, .. }) = Batch::new("4155552671", vec![]) else {
            panic!("a local-format caller number is refused")
        };
        assert_eq!(field.as_deref(), Some("from_phone_number"));
        assert!(rule.contains("pattern"), "{rule}");
        let long = "a".repeat(65);
        let Err(Error::InvalidRequest { field, .. }) =
            Batch::new("+14155552671", vec![]).unwrap().agent(&long)
        else {
            panic!("an agent id over 64 characters is refused")
        };
        assert_eq!(field.as_deref(), Some("agent_id"));
    }
}
