//! Drift: what live responses carry that the spec does not.
//!
//! Every response is inspected after it is decoded, and what the spec does
//! not know is recorded, per operation, JSON path and value or field name,
//! in a summary the client keeps ([`Client::drift`](crate::Client::drift)),
//! and reported as a `tracing` event (target `sigmamind::drift`, feature
//! `tracing`):
//! - an enum value the spec does not list (an open enum's `Unknown`), by value;
//! - a field it does not know (kept in the struct's `extra` map), by name
//!   and JSON type;
//! - a documented field whose value does not fit its type (a number where
//!   the spec has a string): the field reads as `None`, its raw value is kept
//!   in `extra` under its wire name; recorded by name and the JSON type seen;
//! - a success status the spec does not list (`200` where it says `201`).
//!
//! Nothing else of a response is ever recorded: responses hold personal
//! data. Of a field, only its name and JSON type are kept, never its value.
//!
//! The summary is bounded whatever a server sends: at most
//! [`MAX_ENTRIES`] distinct entries (and [`MAX_TEXT`] bytes of each name or
//! value); anything beyond is counted in `overflow`. `cargo xtask drift`
//! turns a summary's JSON into an overlay proposing the spec changes.

use std::collections::HashMap;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Distinct (operation, path, kind, value) entries a summary keeps.
pub const MAX_ENTRIES: usize = 1024;

/// Longest name or value kept, in bytes (cut at a character boundary).
pub const MAX_TEXT: usize = 128;

/// What kind of thing the spec does not know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DriftKind {
    /// A value of an enum the spec lists other values for.
    EnumValue,
    /// A field of an object the spec does not describe.
    Field,
    /// A documented field whose value is not of its documented type (it
    /// reads as `None`; the raw value is in the struct's `extra`).
    Type,
    /// A success status the spec does not list for the operation.
    Status,
}

/// One thing responses carried that the spec does not know.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DriftEntry {
    /// The operation (`create_call`).
    pub operation: String,
    /// Where in the response body, as a JSON path (`campaign.agent.status`;
    /// `[]` for array items).
    pub path: String,
    /// Enum value, field, type or status.
    pub kind: DriftKind,
    /// The unknown enum value, the field's name, or the status (`200`).
    pub value: String,
    /// For a field or a type, the JSON type of the value seen (`string`,
    /// `integer`, `object`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json_type: Option<String>,
    /// How many times it was found (an array's items can carry it more than
    /// once in one response).
    pub count: u64,
    /// When it was first seen (RFC 3339).
    pub first_seen: String,
}

/// What a client has seen so far ([`Client::drift`](crate::Client::drift)).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DriftSummary {
    /// Each distinct entry, ordered by operation, path, kind and value.
    pub entries: Vec<DriftEntry>,
    /// Occurrences not kept because the summary was full.
    pub overflow: u64,
}

/// One finding of [`Inspect`]: a JSON path and what was found there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// JSON path.
    pub path: String,
    /// Enum value, field, type or status.
    pub kind: DriftKind,
    /// The enum value, the field name, or the status.
    pub value: String,
    /// For a field or a type, the JSON type seen.
    pub json_type: Option<&'static str>,
}

/// Collects [`Finding`]s while a response is inspected.
#[derive(Debug, Default)]
pub struct Findings {
    // Field names are the generated code's literals: nothing is allocated
    // per field while nothing is found.
    path: Vec<&'static str>,
    found: Vec<Finding>,
}

impl Findings {
    /// Enters a field (or `[]` for the items of an array).
    pub fn enter(&mut self, step: &'static str) {
        self.path.push(step);
    }

    /// Leaves what [`Findings::enter`] entered.
    pub fn leave(&mut self) {
        self.path.pop();
    }

    fn here(&self) -> String {
        let mut path = String::new();
        for &step in &self.path {
            if step != "[]" && !path.is_empty() {
                path.push('.');
            }
            path.push_str(step);
        }
        path
    }

    /// An enum value the spec does not list, here.
    pub fn enum_value(&mut self, value: &str) {
        self.found.push(Finding {
            path: self.here(),
            kind: DriftKind::EnumValue,
            value: cut(value),
            json_type: None,
        });
    }

    /// The fields of a struct's `extra` map, here: a `documented` wire name
    /// there is a field whose value did not fit its type; any other name is
    /// a field the spec does not describe.
    pub fn fields(&mut self, extra: &serde_json::Map<String, Value>, documented: &[&str]) {
        for (name, value) in extra {
            let kind = if documented.contains(&name.as_str()) {
                DriftKind::Type
            } else {
                DriftKind::Field
            };
            self.found.push(Finding {
                path: self.here(),
                kind,
                value: cut(name),
                json_type: Some(json_type(value)),
            });
        }
    }

    /// A success status the spec does not list (the body was decoded as
    /// the documented success all the same).
    pub fn status(&mut self, status: u16) {
        self.found.push(Finding {
            path: String::new(),
            kind: DriftKind::Status,
            value: status.to_string(),
            json_type: None,
        });
    }

    /// What was found.
    pub fn into_vec(self) -> Vec<Finding> {
        self.found
    }
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn cut(text: &str) -> String {
    if text.len() <= MAX_TEXT {
        return text.to_owned();
    }
    let mut end = MAX_TEXT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

/// Walks a decoded response for what the spec does not know. Generated for
/// every type of the spec; a no-op for plain values.
pub trait Inspect {
    /// Adds what `self` carries that the spec does not know to `found`.
    fn inspect(&self, found: &mut Findings) {
        let _ = found;
    }
}

macro_rules! nothing_to_inspect {
    ($($ty:ty),* $(,)?) => { $(impl Inspect for $ty {})* };
}

nothing_to_inspect!(
    (),
    bool,
    String,
    i8,
    i16,
    i32,
    i64,
    u8,
    u16,
    u32,
    u64,
    f32,
    f64,
    Value,
    serde_json::Map<String, Value>,
    chrono::DateTime<chrono::Utc>,
    chrono::NaiveDate,
    progenitor_client::ByteStream,
);

impl Inspect for str {}

impl<T: Inspect + ?Sized> Inspect for &T {
    fn inspect(&self, found: &mut Findings) {
        (**self).inspect(found);
    }
}

impl<T: Inspect> Inspect for [T] {
    fn inspect(&self, found: &mut Findings) {
        found.enter("[]");
        self.iter().for_each(|item| item.inspect(found));
        found.leave();
    }
}

impl<T: Inspect> Inspect for Option<T> {
    fn inspect(&self, found: &mut Findings) {
        if let Some(value) = self {
            value.inspect(found);
        }
    }
}

impl<T: Inspect> Inspect for Vec<T> {
    fn inspect(&self, found: &mut Findings) {
        found.enter("[]");
        self.iter().for_each(|item| item.inspect(found));
        found.leave();
    }
}

impl<T: Inspect> Inspect for std::collections::BTreeMap<String, T> {
    fn inspect(&self, found: &mut Findings) {
        found.enter("{}");
        self.values().for_each(|item| item.inspect(found));
        found.leave();
    }
}

impl<T: Inspect> Inspect for Box<T> {
    fn inspect(&self, found: &mut Findings) {
        (**self).inspect(found);
    }
}

/// The drift a client has seen, shared by its clones.
#[derive(Debug, Default)]
pub(crate) struct Recorder {
    state: Mutex<RecorderState>,
}

#[derive(Debug, Default)]
struct RecorderState {
    entries: HashMap<(String, String, DriftKind, String), DriftEntry>,
    overflow: u64,
}

impl Recorder {
    /// Records one response's findings; returns whether there were any.
    pub(crate) fn record(&self, operation: &'static str, findings: Vec<Finding>) -> bool {
        if findings.is_empty() {
            return false;
        }
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        for finding in findings {
            let key = (operation.to_owned(), finding.path, finding.kind, finding.value);
            if let Some(entry) = state.entries.get_mut(&key) {
                entry.count += 1;
                continue;
            }
            if state.entries.len() >= MAX_ENTRIES {
                state.overflow += 1;
                continue;
            }
            let entry = DriftEntry {
                operation: key.0.clone(),
                path: key.1.clone(),
                kind: key.2,
                value: key.3.clone(),
                json_type: finding.json_type.map(str::to_owned),
                count: 1,
                first_seen: now.clone(),
            };
            state.entries.insert(key, entry);
        }
        true
    }

    pub(crate) fn summary(&self) -> DriftSummary {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let mut entries: Vec<DriftEntry> = state.entries.values().cloned().collect();
        entries.sort_by(|a, b| {
            (&a.operation, &a.path, a.kind, &a.value).cmp(&(&b.operation, &b.path, b.kind, &b.value))
        });
        DriftSummary {
            entries,
            overflow: state.overflow,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_stays_bounded_whatever_a_server_sends() {
        let recorder = Recorder::default();
        for i in 0..100_000u32 {
            let long = format!("value_{i}_{}", "x".repeat(1_000));
            recorder.record(
                "create_call",
                vec![Finding {
                    path: "status".into(),
                    kind: DriftKind::EnumValue,
                    value: cut(&long),
                    json_type: None,
                }],
            );
        }
        let summary = recorder.summary();
        assert_eq!(summary.entries.len(), MAX_ENTRIES);
        assert_eq!(summary.overflow, 100_000 - MAX_ENTRIES as u64);
        assert!(summary.entries.iter().all(|e| e.value.len() <= MAX_TEXT));
    }
}
