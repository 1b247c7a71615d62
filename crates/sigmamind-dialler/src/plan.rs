//! A contact list checked row by row: every row before anything is dialled
//! ([`Batch::check`]), and each again as it is dialled, by the same rules,
//! so that a row with an error can never be mistaken for one to dial.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use super::hours::CallingHours;
use super::numbers::{self, FirstRows, NotANumber, Style};
use super::suppress::Suppression;
use super::BatchError;
use chrono_tz::Tz;
use sigmamind::types::{AgentId, CreateCallRequest, E164PhoneNumber};
use sigmamind::Error;

/// One row of a contact list: whom to call and what to tell the agent.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Contact {
    /// The destination number, in +E.164 format (surrounding spaces
    /// ignored), or as people write it when the batch has a
    /// [region](Batch::region).
    pub phone: String,
    /// The call's dynamic variables (`customer_name` → `Michael`).
    pub variables: BTreeMap<String, String>,
    /// The callee's time zone (an IANA name, `America/Chicago`), which
    /// overrides the zones of the number for [calling hours](Batch::calling_hours).
    pub timezone: Option<String>,
}

impl Contact {
    /// A contact with no variables.
    pub fn new(phone: impl Into<String>) -> Self {
        Self {
            phone: phone.into(),
            variables: BTreeMap::new(),
            timezone: None,
        }
    }

    /// Sets the callee's time zone (an IANA name).
    pub fn timezone(mut self, zone: impl Into<String>) -> Self {
        self.timezone = Some(zone.into());
        self
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
    style: Style,
    hours: Option<CallingHours>,
    suppression: Option<std::sync::Arc<Suppression>>,
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
    /// Valid rows on a suppression list (not dialled).
    pub suppressed: usize,
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
        given_phone: String,
        errors: Vec<RowError>,
    },
    /// A valid row whose number is on a suppression list.
    Suppressed {
        row: usize,
        phone: String,
        given_phone: String,
        list: String,
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
            style: Style::E164,
            hours: None,
            suppression: None,
        })
    }

    /// Reads the list's numbers as people write them in `region` (a
    /// two-letter code: `US`, `GB`): national forms, spaces, dots,
    /// brackets, a spreadsheet's leading `'`, `00` for `+`. Each is turned
    /// into +E.164 with libphonenumber's metadata (the `phonenumber`
    /// crate), and refused unless libphonenumber holds it valid; numbers
    /// with an extension are refused (a call cannot dial one). Duplicates
    /// are judged on the +E.164 form. Without a region, numbers must be
    /// +E.164 as they stand.
    pub fn region(mut self, region: &str) -> Result<Self, Error> {
        let id = numbers::region(region).ok_or_else(|| {
            Error::invalid_field(
                "region",
                format!("{region:?} is not a region libphonenumber knows: give a two-letter code such as US or GB"),
            )
        })?;
        self.style = Style::Region(id);
        Ok(self)
    }

    /// Dials each row only inside `hours`, in the callee's local time: its
    /// [`timezone`](Contact::timezone) if it has one, else every zone
    /// its number may ring in ([`zones_of`](crate::zones_of)), else the
    /// hours' [fallback zone](CallingHours::fallback_zone); a row with none
    /// of these is refused by the checks. A row outside its hours when
    /// its turn comes is *deferred* ([`Outcome::Deferred`](crate::Outcome::Deferred)):
    /// never sent, and dialled by a later run (or by
    /// [`run_waiting`](crate::run_waiting) when its hours open).
    pub fn calling_hours(mut self, hours: CallingHours) -> Self {
        self.hours = Some(hours);
        self
    }

    /// Never dials a number on any of `lists` (read in the same region as
    /// the contacts, [`Suppression::in_region`]): such a row is checked
    /// like any other, then reported [`Outcome::Suppressed`](crate::Outcome::Suppressed)
    /// with the list's name, recorded in the journal, and never sent. The
    /// lists are consulted on every run: a list added before a rerun
    /// protects the rows that run would dial.
    pub fn suppress(mut self, lists: std::sync::Arc<Suppression>) -> Self {
        self.suppression = Some(lists);
        self
    }

    /// The calling hours, if any.
    pub fn hours(&self) -> Option<&CallingHours> {
        self.hours.as_ref()
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
                Row::Suppressed { .. } => checked.suppressed += 1,
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
        let given_phone = contact.phone.trim();
        let mut problems = Vec::new();
        let mut phone = given_phone.to_owned();
        let mut suppressed_by = None;
        match numbers::normalise(given_phone, self.style) {
            Err(NotANumber::Invalid) => problems.push(match self.style {
                Style::E164 => RowProblem::InvalidPhoneNumber,
                Style::Region(region) => RowProblem::NotValidInRegion {
                    region: region.as_ref().to_owned(),
                    example: numbers::example(region),
                },
            }),
            Err(NotANumber::Extension) => problems.push(RowProblem::PhoneExtension),
            Ok((e164, key)) => {
                phone = e164;
                suppressed_by = self.suppression.as_ref().and_then(|s| s.list_of_key(key));
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
        let mut zones = Zones::None;
        if let Some(hours) = &self.hours {
            match self.zones(&phone, contact, hours) {
                Ok(found) => zones = found,
                Err(problem) if problems.is_empty() => problems.push(problem),
                Err(_) => {}
            }
        }
        if let Some(list) = suppressed_by.filter(|_| problems.is_empty()) {
            return Row::Suppressed {
                row,
                phone,
                given_phone: given_phone.to_owned(),
                list: list.to_owned(),
            };
        }
        if problems.is_empty() {
            match self.request(&phone, contact) {
                Ok(request) => {
                    return Row::Call(PlannedCall {
                        row,
                        phone,
                        given_phone: given_phone.to_owned(),
                        zones,
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
            phone: phone.clone(),
            given_phone: given_phone.to_owned(),
            errors: problems
                .into_iter()
                .map(|problem| RowError {
                    row,
                    phone: given_phone.to_owned(),
                    problem,
                })
                .collect(),
        }
    }

    /// The zones a row's calling hours are checked in.
    fn zones(&self, phone: &str, contact: &Contact, hours: &CallingHours) -> Result<Zones, RowProblem> {
        if let Some(name) = contact
            .timezone
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
        {
            return name
                .parse::<Tz>()
                .map(Zones::One)
                .map_err(|_| RowProblem::InvalidTimeZone(name.to_owned()));
        }
        if let Some(zones) = crate::zones::zones_of(phone) {
            return Ok(Zones::Map(zones));
        }
        hours
            .fallback()
            .map(Zones::One)
            .ok_or(RowProblem::UnknownTimeZone)
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
    /// The destination number, in +E.164.
    pub phone: String,
    /// The number as the list gave it (trimmed).
    pub given_phone: String,
    /// Where its calling hours are checked.
    pub(crate) zones: Zones,
    /// The request sent for this row.
    pub request: CreateCallRequest,
}

/// The zones a row's calling hours hold in.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Zones {
    /// No calling hours.
    None,
    /// The number's zones, from libphonenumber's map.
    Map(&'static [Tz]),
    /// The row's own zone, or the fallback.
    One(Tz),
}

impl Zones {
    pub(crate) fn as_slice(&self) -> &[Tz] {
        match self {
            Zones::None => &[],
            Zones::Map(zones) => zones,
            Zones::One(zone) => std::slice::from_ref(zone),
        }
    }
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
    /// The destination is not a number libphonenumber holds valid, read in
    /// the batch's [region](Batch::region).
    NotValidInRegion {
        /// The region (`US`).
        region: String,
        /// A valid number of the region, as dialled there and with its
        /// country code.
        example: Option<(String, String)>,
    },
    /// The destination has an extension, which a call cannot dial.
    PhoneExtension,
    /// The row's `timezone` is not an IANA time zone.
    InvalidTimeZone(String),
    /// Calling hours are set, and the number's zone cannot be known (and
    /// there is no fallback zone).
    UnknownTimeZone,
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
            RowProblem::InvalidPhoneNumber => write!(
                f,
                "Row {row}: invalid phone number '{phone}' (expected +E.164: '+', the country code and \
                 the number, digits only, such as +14155550101; numbers written as people write them \
                 need a region)"
            ),
            RowProblem::NotValidInRegion { region, example } => {
                write!(
                    f,
                    "Row {row}: invalid phone number '{phone}' (not a valid number by libphonenumber's \
                     data, read as dialled in {region}"
                )?;
                if let Some((national, international)) = example {
                    write!(
                        f,
                        ", such as {national}, or with its country code, such as {international}"
                    )?;
                }
                write!(f, ")")
            }
            RowProblem::PhoneExtension => write!(
                f,
                "Row {row}: invalid phone number '{phone}' (it has an extension, which a call cannot dial)"
            ),
            RowProblem::InvalidTimeZone(zone) => write!(
                f,
                "Row {row}: timezone '{zone}' is not an IANA time zone (such as America/Chicago)"
            ),
            RowProblem::UnknownTimeZone => write!(
                f,
                "Row {row}: no time zone is known for '{phone}', so its calling hours cannot be \
                 checked: give it a timezone, or name a fallback zone"
            ),
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
                "Row 7: invalid phone number '+1234' (expected +E.164: '+', the country code and the \
                 number, digits only, such as +14155550101; numbers written as people write them need \
                 a region)",
                "Row 8: duplicate phone number '+14155550002' (already in row 2)",
            ]
        );
        assert_eq!(
            checked,
            Checked {
                rows: 8,
                valid: 4,
                invalid: 4,
                suppressed: 0,
                errors: 4
            }
        );
        // Dialling checks each row again, by the same rules.
        let mut checker = batch.checker(contacts.len());
        let calls: Vec<(usize, String)> = contacts
            .iter()
            .filter_map(|c| match checker.next(c) {
                Row::Call(call) => Some((call.row, call.phone)),
                Row::Invalid { .. } | Row::Suppressed { .. } => None,
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

    /// A CRM's export, read in a region: formatted numbers become +E.164,
    /// duplicates are judged after that, and what libphonenumber does not
    /// hold valid is refused with an example of what is.
    #[test]
    fn numbers_as_crms_export_them() {
        let batch = Batch::new("+14155552671").unwrap().region("us").unwrap();
        let cells = [
            "(415) 555-0103",
            "+1 415 555 0102",
            "415.555.0104",
            "00 44 20 7946 0958",
            "'+14155550105",
            "+1 (415) 555-0103",
            "+1234567",
            "(415) 555-0100 ext. 7",
        ];
        let contacts: Vec<Contact> = cells.iter().map(|c| Contact::new(*c)).collect();
        let (checked, messages) = messages(&batch, contacts.clone());
        assert_eq!(checked.valid, 5);
        assert_eq!(
            messages,
            [
                "Row 6: duplicate phone number '+1 (415) 555-0103' (already in row 1)",
                "Row 7: invalid phone number '+1234567' (not a valid number by libphonenumber's data, read as \
                 dialled in US, such as (201) 555-0123, or with its country code, such as +1 201-555-0123)",
                "Row 8: invalid phone number '(415) 555-0100 ext. 7' (it has an extension, which a call cannot dial)",
            ]
        );
        let mut checker = batch.checker(0);
        let dialled: Vec<(String, String)> = contacts
            .iter()
            .filter_map(|c| match checker.next(c) {
                Row::Call(call) => Some((call.phone, call.given_phone)),
                Row::Invalid { .. } | Row::Suppressed { .. } => None,
            })
            .collect();
        assert_eq!(
            dialled,
            [
                ("+14155550103".into(), "(415) 555-0103".into()),
                ("+14155550102".into(), "+1 415 555 0102".into()),
                ("+14155550104".into(), "415.555.0104".into()),
                ("+442079460958".into(), "00 44 20 7946 0958".into()),
                ("+14155550105".into(), "'+14155550105".into()),
            ]
        );
        let Err(Error::InvalidRequest { field, rule, .. }) =
            Batch::new("+14155552671").unwrap().region("USA")
        else {
            panic!("a region that is not one is refused")
        };
        assert_eq!(field.as_deref(), Some("region"));
        assert!(rule.contains("two-letter"), "{rule}");
    }

    /// With calling hours, every row needs a zone: its own, its number's,
    /// or the fallback.
    #[test]
    fn calling_hours_need_a_zone_for_every_row() {
        let batch = Batch::new("+14155552671")
            .unwrap()
            .calling_hours(CallingHours::default());
        let contacts = vec![
            Contact::new("+12125550101"),
            Contact::new("+12125550102").timezone("Mars/Olympus_Mons"),
            Contact::new("+80012345678"),
            Contact::new("+80012345679").timezone("Asia/Tokyo"),
        ];
        let (checked, messages) = messages(&batch, contacts.clone());
        assert_eq!(checked.valid, 2, "{messages:?}");
        assert_eq!(
            messages,
            [
                "Row 2: timezone 'Mars/Olympus_Mons' is not an IANA time zone (such as America/Chicago)",
                "Row 3: no time zone is known for '+80012345678', so its calling hours cannot be checked: \
                 give it a timezone, or name a fallback zone",
            ]
        );
        let batch = batch.calling_hours(CallingHours::default().fallback_zone(chrono_tz::UTC));
        let mut checker = batch.checker(0);
        let zones: Vec<Vec<Tz>> = contacts
            .iter()
            .filter_map(|c| match checker.next(c) {
                Row::Call(call) => Some(call.zones.as_slice().to_vec()),
                Row::Invalid { .. } | Row::Suppressed { .. } => None,
            })
            .collect();
        assert_eq!(
            zones,
            [
                vec![chrono_tz::America::New_York],
                vec![chrono_tz::UTC],
                vec![chrono_tz::Asia::Tokyo]
            ]
        );
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
