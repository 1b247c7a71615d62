//! The journal's records: types of their own, not the public
//! [`Outcome`](crate::batch::Outcome) nor the results file's rows, so that
//! either can change without touching journals on disk.
//!
//! # Versions
//! The header names the format and its version. A journal of version 1
//! (this one: the first released) must stay readable by every later
//! release: a change adds a version, and the reader keeps reading the older
//! ones; a journal of a newer version than the reader knows is refused.

use serde::{Deserialize, Serialize};

use crate::batch::Outcome;

/// The header's format name.
pub(crate) const FORMAT: &str = "sigmamind-batch-journal";
/// The version this release writes.
pub(crate) const VERSION: u32 = 1;

/// One line of a file journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub(crate) enum Record {
    /// The first line: what the journal is for.
    #[serde(rename = "journal")]
    Header {
        format: String,
        version: u32,
        from: String,
        agent: Option<String>,
        api: String,
        at: String,
    },
    /// A run began.
    Run { at: String, retry_unknown: bool },
    /// The row is invalid and was not sent. Says nothing about its number,
    /// which may be another row's too (a duplicate): replay ignores it.
    Invalid {
        row: usize,
        phone: String,
        error: String,
        at: String,
    },
    /// The row's request is about to be sent.
    Sending { row: usize, phone: String, at: String },
    /// How the row's request ended.
    #[serde(rename = "outcome")]
    Finished {
        row: usize,
        phone: String,
        state: JournalState,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        call_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status: Option<u16>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
        at: String,
    },
}

/// How a request ended, as journals write it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum JournalState {
    /// The API answered with a call (or a 2xx).
    Placed,
    /// The API refused it: not placed.
    Failed,
    /// Never taken in: not placed.
    Refused,
    /// Sent, and nothing says whether it was placed.
    Unknown,
}

impl JournalState {
    /// The name in the database journal (`placed`...): the same as in the
    /// file journal (a test holds them together).
    #[cfg(feature = "postgres")]
    pub(crate) fn name(self) -> &'static str {
        match self {
            JournalState::Placed => "placed",
            JournalState::Failed => "failed",
            JournalState::Refused => "refused",
            JournalState::Unknown => "unknown",
        }
    }

    /// The state of a name, as the file journal's serde form reads it
    /// (`None` for any other text, such as the database's `sending`).
    #[cfg(feature = "postgres")]
    pub(crate) fn parse(name: &str) -> Option<JournalState> {
        serde_json::from_value(serde_json::Value::from(name)).ok()
    }
}

/// What a journal keeps of an outcome: its state and details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Finished {
    pub state: JournalState,
    pub call_id: Option<String>,
    pub status: Option<u16>,
    pub error: Option<String>,
}

impl Finished {
    /// The journal's form of an outcome (`None`: nothing to record, the
    /// row is another dialer's).
    pub(crate) fn of(outcome: &Outcome) -> Option<Finished> {
        let (state, call_id, status, error) = match outcome {
            Outcome::Placed { call_id } => (JournalState::Placed, call_id.clone(), None, None),
            Outcome::Failed { status, error } => (JournalState::Failed, None, *status, Some(error.clone())),
            Outcome::Refused { error } => (JournalState::Refused, None, None, Some(error.clone())),
            Outcome::Unknown { error } => (JournalState::Unknown, None, None, Some(error.clone())),
            _ => return None,
        };
        Some(Finished {
            state,
            call_id,
            status,
            error,
        })
    }

    /// The public outcome of what a journal kept (the file journal keeps
    /// less per number: see `file::SlotState`).
    #[cfg(feature = "postgres")]
    pub(crate) fn outcome(self) -> Outcome {
        let error = self.error.unwrap_or_default();
        match self.state {
            JournalState::Placed => Outcome::Placed {
                call_id: self.call_id,
            },
            JournalState::Failed => Outcome::Failed {
                status: self.status,
                error,
            },
            JournalState::Refused => Outcome::Refused { error },
            JournalState::Unknown => Outcome::Unknown { error },
        }
    }
}

/// Now, as journals write times.
pub(crate) fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Version 1 as it is on disk: later releases must read these lines.
    #[test]
    fn version_1_lines_read_back() {
        let lines = [
            r#"{"event":"journal","format":"sigmamind-batch-journal","version":1,"from":"+14155552671","agent":null,"api":"http://x","at":"t"}"#,
            r#"{"event":"run","at":"t","retryUnknown":false}"#,
            r#"{"event":"sending","row":1,"phone":"+14155550101","at":"t"}"#,
            r#"{"event":"outcome","row":1,"phone":"+14155550101","state":"placed","callId":"call_1","at":"t"}"#,
            r#"{"event":"outcome","row":2,"phone":"+14155550102","state":"failed","status":422,"error":"no","at":"t"}"#,
            r#"{"event":"invalid","row":3,"phone":"+1","error":"Row 3: invalid phone number '+1'","at":"t"}"#,
        ];
        for line in lines {
            let record: Record = serde_json::from_str(line).unwrap_or_else(|e| panic!("{line}: {e}"));
            assert_eq!(serde_json::to_string(&record).unwrap(), line);
        }
    }
    /// The database journal names states as the file journal does.
    #[cfg(feature = "postgres")]
    #[test]
    fn database_names_are_the_file_names() {
        use JournalState::*;
        for state in [Placed, Failed, Refused, Unknown] {
            assert_eq!(serde_json::to_value(state).unwrap(), state.name());
            assert_eq!(JournalState::parse(state.name()), Some(state));
        }
        assert_eq!(JournalState::parse("sending"), None);
    }
}
