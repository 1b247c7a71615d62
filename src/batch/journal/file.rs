//! The batch journal; see [`Journal`].

use std::collections::{HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use serde::{Deserialize, Serialize};

use super::{Batch, BatchError, Outcome};

/// The header's format name and version.
const FORMAT: &str = "sigmamind-batch-journal";
const VERSION: u32 = 1;

/// One line of the journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub(crate) enum Record {
    /// The first line.
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
    /// How the row's request ended (`"outcome": "placed"`, with `callId`;
    /// `failed`, `refused`, `unknown`, with `error`).
    Outcome {
        row: usize,
        phone: String,
        #[serde(flatten)]
        outcome: Outcome,
        at: String,
    },
}

pub(crate) fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// What opening a journal found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Recovered {
    /// Complete records read (the header included).
    pub records: usize,
    /// Runs recorded before this one.
    pub runs: usize,
    /// Bytes of an incomplete last record, cut off (a run was killed while
    /// writing it; its request had not been sent).
    pub torn_bytes: usize,
}

/// The batch journal, open and locked: what was sent, durably, before it
/// was sent.
///
/// # Why an append-only JSON-lines file
/// The journal must survive a `SIGKILL` at any instant and never claim less
/// than what was sent. An append-only file gives that with two rules: a
/// record is a whole line, and a row's `sending` record is on disk
/// (`fdatasync`) before its request leaves. Then a crash can only leave one
/// incomplete *last* line, which is detected (it has no newline) and cut
/// off when the journal is opened again; every complete line is final, and
/// a damaged complete line makes the journal refuse to open (that is not a
/// crash, and guessing could dial someone twice). An embedded database would give the same guarantees with more
/// machinery (and C code, for SQLite), and its file could not be read with
/// `cat`, `grep` or `jq` by the person deciding what to do about an unknown
/// outcome.
///
/// Concurrent workers share one writer thread that commits in groups: the
/// records that arrive while one `fdatasync` runs go out together in the
/// next, so a batch of 50 workers pays one disk sync per round, not 50.
///
/// A journal is locked while open (`File::try_lock`: `flock` on Unix),
/// since two runs on the same journal would dial the same rows; the
/// operating system releases the lock when a process dies, even by `SIGKILL`.
///
/// # Format
/// The first line is a header (`"event": "journal"`: caller number, agent,
/// API); then one record per line: `run` (a run began), `invalid` (a row
/// refused by the checks, never sent), `sending`, and `outcome` (`placed`
/// with `callId`, `failed`, `refused` or `unknown` with `error`). Rows are keyed by destination number, so
/// a list edited between runs (rows added, reordered) never dials a number
/// twice; `invalid` records do not count (a duplicate row shares its number
/// with the row that is dialled).
pub struct Journal {
    path: PathBuf,
    previous: HashMap<String, Outcome>,
    recovered: Recovered,
    /// `None` only while dropping.
    writer: Option<Appender>,
    thread: Option<std::thread::JoinHandle<()>>,
    /// Holds the lock for as long as the journal is open.
    _lock: File,
}

impl Drop for Journal {
    /// Waits for the writer thread to close its handle, so that the lock is
    /// free when this returns (a rerun in the same process can open it).
    fn drop(&mut self) {
        self.writer = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal")
            .field("path", &self.path)
            .field("rows", &self.previous.len())
            .field("recovered", &self.recovered)
            .finish_non_exhaustive()
    }
}

struct Pending {
    line: Vec<u8>,
    done: tokio::sync::oneshot::Sender<Result<(), String>>,
}

impl Journal {
    /// Opens the journal at `path` for `batch`, creating it if absent.
    /// `api` names where the calls go (a base URL): a journal written for
    /// another caller number, agent or API is refused, as is a journal that
    /// another run holds, or whose records are damaged anywhere but at the
    /// end. An incomplete last record is cut off ([`Recovered::torn_bytes`]).
    pub fn open(path: impl AsRef<Path>, batch: &Batch, api: &str) -> Result<Journal, BatchError> {
        let path = path.as_ref().to_owned();
        let fail = |message: String| BatchError::Journal {
            path: path.clone(),
            message,
        };
        let created = !path.exists();
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)
            .map_err(|e| fail(format!("cannot open: {e}")))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(fail(
                    "another run is using this journal; wait for it to finish".to_owned(),
                ))
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(fail(format!("cannot lock: {e}"))),
        }
        if created {
            sync_parent(&path).map_err(|e| fail(format!("cannot sync its directory: {e}")))?;
        }
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)
            .map_err(|e| fail(format!("cannot read: {e}")))?;
        let read = read_records(&bytes).map_err(fail)?;
        if read.torn_bytes > 0 {
            file.set_len(read.complete_len as u64)
                .and_then(|()| file.sync_data())
                .map_err(|e| fail(format!("cannot cut off the incomplete last record: {e}")))?;
        }
        let expected = Header {
            from: batch.from_number().to_owned(),
            agent: batch.agent_id().map(str::to_owned),
            api: api.to_owned(),
        };
        let mut records = read.records.into_iter();
        match records.next() {
            None => {
                let header = Record::Header {
                    format: FORMAT.to_owned(),
                    version: VERSION,
                    from: expected.from.clone(),
                    agent: expected.agent.clone(),
                    api: expected.api.clone(),
                    at: now(),
                };
                let line = line_of(&header);
                file.write_all(&line)
                    .and_then(|()| file.sync_data())
                    .map_err(|e| fail(format!("cannot write: {e}")))?;
            }
            Some(Record::Header {
                format,
                version,
                from,
                agent,
                api,
                ..
            }) => {
                if format != FORMAT || version != VERSION {
                    return Err(fail(format!(
                        "written in format {format} version {version}; this sigmamind reads {FORMAT} version {VERSION}"
                    )));
                }
                let found = Header { from, agent, api };
                if found != expected {
                    return Err(fail(format!(
                        "it belongs to another batch: it was written for {found}, this run is {expected}; \
                         use another journal"
                    )));
                }
            }
            Some(_) => return Err(fail("not a sigmamind batch journal: no header".to_owned())),
        }
        let mut recovered = Recovered {
            torn_bytes: read.torn_bytes,
            records: 0,
            runs: 0,
        };
        let mut previous = HashMap::new();
        let mut in_flight = HashSet::new();
        recovered.records = 1;
        for record in records {
            recovered.records += 1;
            replay(record, &mut previous, &mut in_flight, &mut recovered.runs).map_err(fail)?;
        }
        for phone in in_flight {
            previous.insert(
                phone,
                Outcome::Unknown {
                    error: "no outcome recorded: the run stopped while this call was being placed".to_owned(),
                },
            );
        }
        let writer_file = file
            .try_clone()
            .map_err(|e| fail(format!("cannot open for writing: {e}")))?;
        let (sender, receiver) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("sigmamind-journal".to_owned())
            .spawn(move || write_in_groups(writer_file, receiver))
            .map_err(|e| fail(format!("cannot start the journal writer: {e}")))?;
        Ok(Journal {
            path,
            previous,
            recovered,
            writer: Some(Appender(sender)),
            thread: Some(thread),
            _lock: file,
        })
    }

    /// Where the journal is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The last outcome earlier runs recorded for this destination number.
    /// `Placed` is final (the number is never dialled again); `Unknown` also
    /// covers a request in flight when a run stopped, and is dialled again
    /// only by a run that says `retry_unknown`; `Failed` and `Refused` were
    /// not placed, so they are tried again.
    pub fn previous(&self, phone: &str) -> Option<&Outcome> {
        self.previous.get(phone)
    }

    /// What opening the journal found.
    pub fn recovered(&self) -> &Recovered {
        &self.recovered
    }

    /// Appends `record` and returns once it is on disk.
    #[cfg(test)]
    pub(crate) async fn append(&self, record: &Record) -> Result<(), String> {
        self.appender().append(record).await
    }

    /// A handle that appends, for workers that outlive a borrow.
    pub(crate) fn appender(&self) -> Appender {
        self.writer
            .clone()
            .expect("the writer lives as long as the journal")
    }
}

/// Appends records to a journal through its writer thread.
#[derive(Clone)]
pub(crate) struct Appender(mpsc::Sender<Pending>);

impl Appender {
    /// Appends `record` and returns once it is on disk.
    pub(crate) async fn append(&self, record: &Record) -> Result<(), String> {
        let (done, written) = tokio::sync::oneshot::channel();
        let pending = Pending {
            line: line_of(record),
            done,
        };
        self.0
            .send(pending)
            .map_err(|_| "the journal writer stopped".to_owned())?;
        written
            .await
            .map_err(|_| "the journal writer stopped".to_owned())?
    }
}

#[derive(Debug, PartialEq, Eq)]
struct Header {
    from: String,
    agent: Option<String>,
    api: String,
}

impl std::fmt::Display for Header {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "--from {} --agent {} against {}",
            self.from,
            self.agent.as_deref().unwrap_or("(default)"),
            self.api
        )
    }
}

fn line_of(record: &Record) -> Vec<u8> {
    let mut line = serde_json::to_vec(record).expect("a journal record serialises");
    line.push(b'\n');
    line
}

struct Contents {
    records: Vec<Record>,
    /// Bytes up to the end of the last complete record.
    complete_len: usize,
    torn_bytes: usize,
}

/// Every complete record; an unterminated last line is torn (reported, not
/// read); a damaged complete line is an error: the journal cannot be trusted.
fn read_records(bytes: &[u8]) -> Result<Contents, String> {
    let mut records = Vec::new();
    let mut start = 0;
    let mut line_number = 0;
    while start < bytes.len() {
        line_number += 1;
        let Some(length) = bytes[start..].iter().position(|&b| b == b'\n') else {
            // No newline: the write of this record never finished.
            return Ok(Contents {
                records,
                complete_len: start,
                torn_bytes: bytes.len() - start,
            });
        };
        let line = &bytes[start..start + length];
        let record = serde_json::from_slice::<Record>(line).map_err(|e| {
            // Every record is written whole, newline last, with one write: a
            // crash leaves at most an unterminated tail, never this.
            format!(
                "line {line_number} is damaged ({e}): not an interrupted write; inspect the file \
                 before running again"
            )
        })?;
        records.push(record);
        start += length + 1;
    }
    Ok(Contents {
        records,
        complete_len: bytes.len(),
        torn_bytes: 0,
    })
}

/// Applies one record to the rows' state.
fn replay(
    record: Record,
    previous: &mut HashMap<String, Outcome>,
    in_flight: &mut HashSet<String>,
    runs: &mut usize,
) -> Result<(), String> {
    let (phone, state) = match record {
        Record::Header { .. } => return Err("a second header in the journal".to_owned()),
        Record::Run { .. } => {
            *runs += 1;
            return Ok(());
        }
        Record::Invalid { .. } => return Ok(()),
        Record::Sending { phone, .. } => {
            in_flight.insert(phone);
            return Ok(());
        }
        Record::Outcome { phone, outcome, .. } => (phone, outcome),
    };
    in_flight.remove(&phone);
    // Placed is final: nothing recorded later can make it undialled.
    if !matches!(previous.get(&phone), Some(Outcome::Placed { .. })) {
        previous.insert(phone, state);
    }
    Ok(())
}

/// The writer thread: takes every record waiting, writes them with one
/// `write`, syncs once, and tells each sender. After a failure every write
/// fails: what reached the disk is no longer known.
fn write_in_groups(mut file: File, pending: mpsc::Receiver<Pending>) {
    let mut broken: Option<String> = None;
    while let Ok(first) = pending.recv() {
        let mut group = vec![first];
        group.extend(pending.try_iter());
        let result = match &broken {
            Some(error) => Err(error.clone()),
            None => {
                let bytes: Vec<u8> = group.iter().flat_map(|p| p.line.iter().copied()).collect();
                file.write_all(&bytes)
                    .and_then(|()| file.sync_data())
                    .map_err(|e| format!("cannot write the journal: {e}"))
            }
        };
        if let Err(error) = &result {
            broken.get_or_insert_with(|| error.clone());
        }
        for p in group {
            let _ = p.done.send(result.clone());
        }
    }
}

/// A new file's name is durable once its directory is synced.
fn sync_parent(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        File::open(parent)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::Contact;

    fn batch() -> Batch {
        Batch::new("+14155552671", vec![Contact::new("+14155550001")]).unwrap()
    }

    fn open(path: &Path) -> Journal {
        Journal::open(path, &batch(), "http://api").unwrap()
    }

    /// A journal at `path` holding `records`, closed again.
    async fn write(path: &Path, records: &[Record]) {
        let journal = open(path);
        for record in records {
            journal.append(record).await.unwrap();
        }
    }

    fn dir() -> tempfile::TempDir {
        tempfile::tempdir().unwrap()
    }

    fn sending(row: usize, phone: &str) -> Record {
        Record::Sending {
            row,
            phone: phone.to_owned(),
            at: now(),
        }
    }

    fn placed(row: usize, phone: &str) -> Record {
        Record::Outcome {
            row,
            phone: phone.to_owned(),
            outcome: Outcome::Placed {
                call_id: Some(format!("call_{row}")),
            },
            at: now(),
        }
    }

    #[tokio::test]
    async fn records_survive_reopening_and_in_flight_rows_are_unknown() {
        let dir = dir();
        let path = dir.path().join("j.jsonl");
        let failed = Record::Outcome {
            row: 3,
            phone: "+1003".into(),
            outcome: Outcome::Failed {
                status: Some(422),
                error: "no".into(),
            },
            at: now(),
        };
        write(
            &path,
            &[
                sending(1, "+1001"),
                placed(1, "+1001"),
                sending(2, "+1002"),
                failed,
            ],
        )
        .await;
        let journal = open(&path);
        assert_eq!(
            journal.previous("+1001"),
            Some(&Outcome::Placed {
                call_id: Some("call_1".into())
            })
        );
        assert!(matches!(journal.previous("+1002"), Some(Outcome::Unknown { .. })));
        assert!(matches!(
            journal.previous("+1003"),
            Some(Outcome::Failed {
                status: Some(422),
                ..
            })
        ));
        assert_eq!(journal.previous("+1004"), None);
        assert_eq!(journal.recovered().records, 5);
        assert_eq!(journal.recovered().torn_bytes, 0);
    }

    #[tokio::test]
    async fn a_torn_last_record_is_cut_off_and_the_journal_goes_on() {
        let dir = dir();
        let path = dir.path().join("j.jsonl");
        write(&path, &[sending(1, "+1001"), placed(1, "+1001")]).await;
        // A run killed halfway through writing `sending` for row 2.
        let whole = line_of(&sending(2, "+1002"));
        let torn = &whole[..whole.len() / 2];
        OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(torn)
            .unwrap();
        let length_before = std::fs::metadata(&path).unwrap().len();

        let journal = open(&path);
        assert_eq!(journal.recovered().torn_bytes, torn.len());
        assert_eq!(
            std::fs::metadata(&path).unwrap().len(),
            length_before - torn.len() as u64
        );
        // The torn `sending` never finished, so its request was never sent.
        assert_eq!(journal.previous("+1002"), None);
        journal.append(&sending(2, "+1002")).await.unwrap();
        drop(journal);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.lines().all(|l| serde_json::from_str::<Record>(l).is_ok()),
            "{text}"
        );
        let journal = open(&path);
        assert_eq!(journal.recovered().torn_bytes, 0);
        assert!(matches!(journal.previous("+1002"), Some(Outcome::Unknown { .. })));
    }

    /// A kill can stop a write at any byte. At every one: the journal opens,
    /// and a row whose `sending` record is complete is never taken for
    /// undialled (placed or unknown, never absent or retryable).
    #[tokio::test]
    async fn a_cut_at_any_byte_never_forgets_a_sent_row() {
        let dir = dir();
        let path = dir.path().join("j.jsonl");
        let records = [
            sending(1, "+1001"),
            placed(1, "+1001"),
            sending(2, "+1002"),
            sending(3, "+1003"),
            placed(3, "+1003"),
        ];
        write(&path, &records).await;
        let whole = std::fs::read(&path).unwrap();
        let header_len = whole.iter().position(|&b| b == b'\n').unwrap() + 1;
        let cut_path = dir.path().join("cut.jsonl");
        for cut in header_len..=whole.len() {
            std::fs::write(&cut_path, &whole[..cut]).unwrap();
            let journal = open(&cut_path);
            let complete = &whole[..cut - journal.recovered().torn_bytes];
            assert!(complete.ends_with(b"\n"), "cut at {cut}");
            let text = String::from_utf8_lossy(complete);
            for (row, phone) in [(1, "+1001"), (2, "+1002"), (3, "+1003")] {
                let sent = text.contains(&format!("\"event\":\"sending\",\"row\":{row},"));
                let state = journal.previous(phone);
                if sent {
                    assert!(
                        matches!(state, Some(Outcome::Placed { .. } | Outcome::Unknown { .. })),
                        "cut at {cut}: {phone} was sent but reads {state:?}"
                    );
                } else {
                    assert_eq!(state, None, "cut at {cut}");
                }
            }
        }
    }

    #[test]
    fn damage_before_the_last_line_is_refused() {
        let dir = dir();
        let path = dir.path().join("j.jsonl");
        drop(open(&path));
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str("{\"event\":\"sending\",\"row\":1,\"ph\n");
        text.push_str(&String::from_utf8(line_of(&placed(1, "+1001"))).unwrap());
        std::fs::write(&path, text).unwrap();
        let error = Journal::open(&path, &batch(), "http://api")
            .unwrap_err()
            .to_string();
        assert!(error.contains("line 2 is damaged"), "{error}");
    }

    #[test]
    fn a_journal_of_another_batch_or_in_use_is_refused() {
        let dir = dir();
        let path = dir.path().join("j.jsonl");
        let open = open(&path);
        let error = Journal::open(&path, &batch(), "http://api")
            .unwrap_err()
            .to_string();
        assert!(error.contains("another run is using this journal"), "{error}");
        drop(open);
        let other = Batch::new("+14155552672", vec![]).unwrap();
        let error = Journal::open(&path, &other, "http://api")
            .unwrap_err()
            .to_string();
        assert!(error.contains("belongs to another batch"), "{error}");
        assert!(error.contains("--from +14155552671"), "{error}");
        let error = Journal::open(&path, &batch(), "https://elsewhere")
            .unwrap_err()
            .to_string();
        assert!(error.contains("belongs to another batch"), "{error}");
        std::fs::write(
            dir.path().join("x"),
            "{\"event\":\"run\",\"at\":\"\",\"retryUnknown\":false}\n",
        )
        .unwrap();
        let error = Journal::open(dir.path().join("x"), &batch(), "http://api")
            .unwrap_err()
            .to_string();
        assert!(error.contains("no header"), "{error}");
    }

    #[tokio::test]
    async fn concurrent_appends_are_whole_lines() {
        let dir = dir();
        let path = dir.path().join("j.jsonl");
        let journal = std::sync::Arc::new(open(&path));
        let tasks: Vec<_> = (0..200)
            .map(|i| {
                let journal = journal.clone();
                tokio::spawn(async move { journal.append(&sending(i, &format!("+{i}"))).await })
            })
            .collect();
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        drop(journal);
        let journal = open(&path);
        assert_eq!(journal.recovered().records, 201);
    }
}
