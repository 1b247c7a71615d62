//! The journal's records: types of their own, not the public
//! [`Outcome`](crate::Outcome) nor the results file's rows, so that
//! either can change without touching journals on disk.
//!
//! # Versions
//! The header names the format and its version. A journal of any released
//! version must stay readable by every later release: a change adds a
//! version, and the reader keeps reading the older ones; a journal of a
//! newer version than the reader knows is refused.
//!
//! - Version 1 (the first released) named how a request ended `placed`,
//!   `failed` (the server refused it), `refused` (never sent) and
//!   `unknown`, names of its own.
//! - Version 2 names them as the dialler's [`Outcome`]s are named, from the
//!   classifier to the results file: `placed`, `refused`, `not_sent`,
//!   `unknown`. `refused` means another thing in each version, so a file
//!   is written in its header's version to its end (a version 1 journal
//!   stays version 1, readable by the releases that wrote it), and the
//!   PostgreSQL journal renames its rows once, when a release of version 2
//!   first opens its tables (`postgres_schema.sql`).

use serde::{Deserialize, Serialize};

use crate::Outcome;

/// The header's format name.
pub(crate) const FORMAT: &str = "sigmamind-batch-journal";
/// The version this release writes.
pub(crate) const VERSION: u32 = 2;

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
        /// [`JournalState::name`] in the journal's version.
        state: String,
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

/// How a request ended, as journals keep it: the [`Outcome`]s a journal
/// records, named on disk by [`JournalState::name`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JournalState {
    /// The API answered with a call (or a 2xx).
    Placed,
    /// The server refused it: not placed.
    Refused,
    /// Never sent: not placed.
    NotSent,
    /// Sent, and nothing says whether it was placed.
    Unknown,
}

impl JournalState {
    /// Every state.
    pub(crate) const ALL: [JournalState; 4] = [
        JournalState::Placed,
        JournalState::Refused,
        JournalState::NotSent,
        JournalState::Unknown,
    ];

    /// The state's name in a journal of `version` (module docs): from
    /// version 2, its [`Outcome::name`].
    pub(crate) fn name(self, version: u32) -> &'static str {
        match (self, version) {
            (JournalState::Placed, _) => "placed",
            (JournalState::Unknown, _) => "unknown",
            (JournalState::Refused, 1) => "failed",
            (JournalState::NotSent, 1) => "refused",
            (JournalState::Refused, _) => "refused",
            (JournalState::NotSent, _) => "not_sent",
        }
    }

    /// The state named `name` in a journal of `version` (`None` for any
    /// other text, such as the database's `sending`).
    pub(crate) fn parse(name: &str, version: u32) -> Option<JournalState> {
        Self::ALL.into_iter().find(|state| state.name(version) == name)
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
            Outcome::Refused { status, error } => (JournalState::Refused, None, *status, Some(error.clone())),
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
            JournalState::Refused => Outcome::Refused {
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
    /// Version 2 names each state as the outcome it comes back as; version
    /// 1's names read back as they were meant.
    #[test]
    fn version_2_names_are_the_outcomes_names() {
        for state in JournalState::ALL {
            let finished = Finished {
                state,
                call_id: None,
                status: None,
                error: None,
            };
            assert_eq!(state.name(2), finished.outcome().name());
            for version in [1, 2] {
                assert_eq!(JournalState::parse(state.name(version), version), Some(state));
            }
        }
        assert_eq!(JournalState::parse("failed", 1), Some(JournalState::Refused));
        assert_eq!(JournalState::parse("refused", 1), Some(JournalState::NotSent));
        assert_eq!(JournalState::parse("failed", 2), None);
        assert_eq!(JournalState::parse("sending", 2), None);
    }
}
