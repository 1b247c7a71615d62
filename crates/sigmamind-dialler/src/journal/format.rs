//! The journal's records: types of their own, not the public
//! [`Outcome`](crate::Outcome) nor the results file's rows, so that
//! either can change without touching journals on disk.
//!
//! # Versions
//! The header names the format and its version. A journal of version 1
//! (this one: the first released) must stay readable by every later
//! release: a change adds a version, and the reader keeps reading the older
//! ones; a journal of a newer version than the reader knows is refused.

use serde::{Deserialize, Serialize};

use crate::Outcome;

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
    /// A run began, writing its results to `results` (if it said).
    Run {
        at: String,
        retry_unknown: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        results: Option<String>,
    },
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
        /// Requests sent for the row (absent in journals written before it
        /// was recorded: read as 0).
        #[serde(default, skip_serializing_if = "is_zero")]
        attempts: u32,
        at: String,
    },
}

fn is_zero(attempts: &u32) -> bool {
    *attempts == 0
}

/// How a request ended, as journals write it. These are the names of
/// version 1 on disk, kept so that journals already written read the same:
/// `failed` is today's [`Outcome::Refused`] (the server refused it), and
/// `refused` is today's [`Outcome::NotSent`] and [`Outcome::Invalid`]
/// (never sent). Either way the number was not placed and is dialled again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum JournalState {
    /// The API answered with a call (or a 2xx).
    Placed,
    /// The server refused it: not placed.
    #[serde(rename = "failed")]
    RefusedByServer,
    /// Never sent: not placed.
    #[serde(rename = "refused")]
    NotSent,
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
            JournalState::RefusedByServer => "failed",
            JournalState::NotSent => "refused",
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

/// The longest call id a journal keeps whole (bytes); a longer one, which
/// no real API sends, is kept clipped ([`sigmamind::text::clip`]): the row
/// still reads back as placed.
pub(crate) const MAX_CALL_ID: usize = 1024;
/// The longest error a journal keeps whole (bytes).
pub(crate) const MAX_ERROR: usize = 4096;
/// The longest line the reader accepts: every record this release writes
/// is far shorter (its values are clipped), so a longer line is damage.
pub(crate) const MAX_LINE: usize = 64 * 1024;

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
            Outcome::Refused { status, error } => {
                (JournalState::RefusedByServer, None, *status, Some(error.clone()))
            }
            Outcome::Invalid { error } | Outcome::NotSent { error } => {
                (JournalState::NotSent, None, None, Some(error.clone()))
            }
            Outcome::Unknown { error } => (JournalState::Unknown, None, None, Some(error.clone())),
            _ => return None,
        };
        let clip = |text: String, max| sigmamind::text::clip_within(&text, max).into_owned();
        Some(Finished {
            state,
            call_id: call_id.map(|id| clip(id, MAX_CALL_ID)),
            status,
            error: error.map(|error| clip(error, MAX_ERROR)),
        })
    }

    /// The public outcome of what a journal kept (the file journal keeps
    /// less per number: see `file::NumberState`).
    pub(crate) fn outcome(self) -> Outcome {
        let error = self.error.unwrap_or_default();
        match self.state {
            JournalState::Placed => Outcome::Placed {
                call_id: self.call_id,
            },
            JournalState::RefusedByServer => Outcome::Refused {
                status: self.status,
                error,
            },
            JournalState::NotSent => Outcome::NotSent { error },
            JournalState::Unknown => Outcome::Unknown { error },
        }
    }
}

/// A number claimed (`sending`) with no outcome after it: the run stopped
/// while placing it, so the call may exist.
pub(crate) fn stopped_while_placing() -> Outcome {
    Outcome::Unknown {
        error: "no outcome recorded: the run stopped while this call was being placed".to_owned(),
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
            r#"{"event":"run","at":"t","retryUnknown":false,"results":"/home/me/list.csv.results.csv"}"#,
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
        for state in [Placed, RefusedByServer, NotSent, Unknown] {
            assert_eq!(serde_json::to_value(state).unwrap(), state.name());
            assert_eq!(JournalState::parse(state.name()), Some(state));
        }
        assert_eq!(JournalState::parse("sending"), None);
    }
}
