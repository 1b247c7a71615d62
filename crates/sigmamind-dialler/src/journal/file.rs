//! The file journal: an append-only JSON-lines file on one machine's disk.
//!
//! # Why an append-only JSON-lines file
//! The journal must survive a `SIGKILL` at any instant and never claim less
//! than what was sent. An append-only file gives that with two rules: a
//! record is a whole line, and a row's `sending` record is on disk
//! (`fdatasync`) before its request leaves. Then a crash can only leave one
//! incomplete *last* line, which is detected (it has no newline) and cut off
//! when the journal is opened again; every complete line is final, and a
//! damaged complete line makes the journal refuse to open (that is not a
//! crash, and guessing could dial someone twice). An embedded database would
//! give the same guarantees with more machinery (and C code, for SQLite), and
//! its file could not be read with `cat`, `grep` or `jq` by the person
//! deciding what to do about an unknown outcome.
//!
//! Concurrent workers share one writer thread that commits in groups: the
//! records that arrive while one `fdatasync` runs go out together in the
//! next, so a batch of 50 workers pays one disk sync per round, not 50.
//!
//! The file is locked while open (`File::try_lock`: `flock` on Unix), since
//! two runs on the same journal would dial the same rows; the operating
//! system releases the lock when a process dies, even by `SIGKILL`. It is
//! created readable and writable by its owner only (`0600`): it holds phone
//! numbers.
//!
//! # Memory
//! Opening reads the file as a stream, line by line, and keeps, per number,
//! only its last state and (for a placed call) its call id in one shared
//! buffer: about 40 bytes a number, whatever the journal's length.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use super::format::{now, Finished, JournalState, Record, FORMAT, MAX_CALL_ID, MAX_LINE, VERSION};
use super::{settles, Claim, FileRecovered, Identity, JournalRow, Recovered, RunStart, Store, StoreFuture};
use crate::numbers;
use crate::{BatchError, Outcome};

/// An open, locked file journal.
pub(crate) struct FileJournal {
    path: PathBuf,
    /// What the file held when the current run began: read at opening,
    /// and again when a second run begins through the same journal, so
    /// that it skips what the first placed. (Read again then rather than
    /// when a run ends: the old numbers are dropped first, so memory peaks
    /// at one copy, and a single run, the CLI's, never reads twice.)
    earlier: std::sync::RwLock<Earlier>,
    /// Whether a run has begun through this journal.
    served: std::sync::atomic::AtomicBool,
    /// Why the file could not be read again for a run, if it could not:
    /// nothing is claimed through this journal any more.
    stale: std::sync::Mutex<Option<String>>,
    recovered: Recovered,
    /// The format version of the file, which its records are written in
    /// to its end (`format.rs`).
    version: u32,
    /// The results files earlier runs wrote (as they named them).
    results_files: Vec<String>,
    /// `None` only while dropping.
    writer: Option<Appender>,
    thread: Option<std::thread::JoinHandle<()>>,
    /// Holds the lock for as long as the journal is open.
    _lock: File,
}

impl Drop for FileJournal {
    /// Waits for the writer thread to close its handle, so that the lock is
    /// free when this returns (a rerun in the same process can open it).
    fn drop(&mut self) {
        self.writer = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// What earlier runs recorded, per number, compactly: while reading, every
/// record's (number, state) in file order; then sorted by number and folded
/// to one slot each (16 bytes a number, no table slack), looked up by
/// binary search.
#[derive(Debug, Default)]
struct Earlier {
    slots: Vec<(u64, NumberEntry)>,
    /// Call ids of placed numbers, one after the other.
    call_ids: String,
}

#[derive(Debug, Clone, Copy)]
struct NumberEntry {
    state: NumberState,
    /// The call id's place in `call_ids` (placed only).
    id_at: u32,
    id_len: u16,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NumberState {
    /// `sending` with no outcome: the run stopped while placing it.
    InFlight,
    Placed,
    Unknown,
    /// Failed or refused: not placed, dialled again.
    NotPlaced,
}

impl Earlier {
    fn get(&self, key: u64) -> Option<Outcome> {
        let at = self.slots.binary_search_by_key(&key, |(k, _)| *k).ok()?;
        let slot = &self.slots[at].1;
        Some(match slot.state {
            NumberState::Placed => {
                let at = slot.id_at as usize;
                let id = self
                    .call_ids
                    .get(at..at + slot.id_len as usize)
                    .filter(|id| !id.is_empty());
                Outcome::Placed {
                    call_id: id.map(str::to_owned),
                }
            }
            NumberState::InFlight => super::format::stopped_while_placing(),
            NumberState::Unknown => Outcome::Unknown {
                error: "an earlier run sent it and could not tell whether the call was placed".to_owned(),
            },
            NumberState::NotPlaced => Outcome::NotSent {
                error: "not placed by an earlier run".to_owned(),
            },
        })
    }

    /// Applies one record.
    fn replay(&mut self, record: Record, runs: &mut Runs, version: u32) -> Result<(), String> {
        let (phone, finished) = match record {
            Record::Header { .. } => return Err("a second header in the journal".to_owned()),
            Record::Run { results, .. } => {
                runs.count += 1;
                if let Some(results) = results.filter(|r| !runs.results_files.contains(r)) {
                    runs.results_files.push(results);
                }
                return Ok(());
            }
            Record::Invalid { .. } => return Ok(()),
            Record::Sending { phone, .. } => (phone, None),
            Record::Finished {
                phone,
                state,
                call_id,
                ..
            } => {
                let state = JournalState::parse(&state, version)
                    .ok_or_else(|| format!("`{state}` is no outcome of a version {version} journal"))?;
                (phone, Some((state, call_id)))
            }
        };
        let key = numbers::key(&phone).ok_or_else(|| format!("`{phone}` is not a +E.164 number"))?;
        let slot = match finished {
            None => NumberEntry {
                state: NumberState::InFlight,
                id_at: 0,
                id_len: 0,
            },
            Some((JournalState::Placed, call_id)) => {
                let id = call_id.unwrap_or_default();
                // Written clipped; clipped again for journals of releases
                // that did not (a slice mid-character would panic).
                let id = sigmamind::text::clip_within(&id, MAX_CALL_ID);
                let at = u32::try_from(self.call_ids.len()).map_err(|_| "too many call ids".to_owned())?;
                self.call_ids.push_str(&id);
                NumberEntry {
                    state: NumberState::Placed,
                    id_at: at,
                    id_len: id.len() as u16,
                }
            }
            Some((JournalState::Unknown, _)) => NumberEntry {
                state: NumberState::Unknown,
                id_at: 0,
                id_len: 0,
            },
            Some((JournalState::Refused | JournalState::NotSent, _)) => NumberEntry {
                state: NumberState::NotPlaced,
                id_at: 0,
                id_len: 0,
            },
        };
        self.slots.push((key, slot));
        Ok(())
    }

    /// One slot per number, from the records in file order: placed is
    /// final (nothing recorded later makes a number undialled); otherwise
    /// the last record wins.
    fn fold(&mut self) {
        // Stable: each number's records stay in file order.
        self.slots.sort_by_key(|(key, _)| *key);
        let mut kept = 0;
        for i in 0..self.slots.len() {
            let (key, slot) = self.slots[i];
            if kept > 0 && self.slots[kept - 1].0 == key {
                if self.slots[kept - 1].1.state != NumberState::Placed {
                    self.slots[kept - 1].1 = slot;
                }
            } else {
                self.slots[kept] = (key, slot);
                kept += 1;
            }
        }
        self.slots.truncate(kept);
        self.slots.shrink_to_fit();
        // The ids are read once and only looked up afterwards: no slack.
        self.call_ids.shrink_to_fit();
    }
}

impl FileJournal {
    /// Opens the journal at `path` for `identity`, creating it (`0600`) if
    /// absent; see [`super::Journal::open`].
    pub(crate) fn open(path: &Path, identity: &Identity) -> Result<FileJournal, BatchError> {
        let path = path.to_owned();
        let fail = |message: String| BatchError::Journal {
            at: path.display().to_string(),
            message,
        };
        // A device, a pipe or a directory would be read for ever, block, or
        // fail half-way: a journal is a regular file (a link to one is fine).
        match std::fs::metadata(&path) {
            Ok(meta) if !meta.is_file() => {
                return Err(fail(
                    "not a regular file (a device, a pipe or a directory): a journal must be a file"
                        .to_owned(),
                ))
            }
            _ => {}
        }
        let created = !path.exists();
        let mut options = OpenOptions::new();
        options.read(true).append(true).create(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options
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
        if !file.metadata().is_ok_and(|m| m.is_file()) {
            return Err(fail("not a regular file: a journal must be a file".to_owned()));
        }
        let read = read_records(&file).map_err(fail)?;
        if let Some(found) = &read.header {
            if found != identity {
                return Err(fail(format!(
                    "it belongs to another batch: it was written for {found}, this run is {identity}; use \
                     another journal"
                )));
            }
        }
        if read.torn_bytes > 0 {
            file.set_len(read.complete_len)
                .and_then(|()| file.sync_data())
                .map_err(|e| fail(format!("cannot cut off the incomplete last record: {e}")))?;
        }
        if read.records == 0 {
            let header = Record::Header {
                format: FORMAT.to_owned(),
                version: VERSION,
                from: identity.from.clone(),
                agent: identity.agent.clone(),
                api: identity.api.clone(),
                at: now(),
            };
            file.write_all(&line_of(&header))
                .and_then(|()| file.sync_data())
                .map_err(|e| fail(format!("cannot write: {e}")))?;
        }
        let writer_file = file
            .try_clone()
            .map_err(|e| fail(format!("cannot open for writing: {e}")))?;
        let (sender, receiver) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("sigmamind-journal".to_owned())
            .spawn(move || write_in_groups(writer_file, receiver))
            .map_err(|e| fail(format!("cannot start the journal writer: {e}")))?;
        let mut earlier = read.earlier;
        earlier.fold();
        let recovered = Recovered {
            runs: read.runs.count,
            numbers: earlier.slots.len(),
            file: Some(FileRecovered {
                records: read.records.max(1),
                torn_bytes: read.torn_bytes as usize,
            }),
        };
        Ok(FileJournal {
            path,
            earlier: std::sync::RwLock::new(earlier),
            served: std::sync::atomic::AtomicBool::new(false),
            stale: std::sync::Mutex::new(None),
            recovered,
            version: read.version.unwrap_or(VERSION),
            results_files: read.runs.results_files,
            writer: Some(Appender(sender)),
            thread: Some(thread),
            _lock: file,
        })
    }

    /// The last outcome earlier runs recorded for this number.
    pub(crate) fn earlier(&self, key: u64) -> Option<Outcome> {
        self.earlier.read().expect("journal's numbers").get(key)
    }

    /// Reads the file again: what the runs before recorded, in this
    /// process too (every record appended is on disk: each append returned
    /// once it was).
    fn read_again(&self) -> Result<(), String> {
        use std::io::{Seek, SeekFrom};
        // The old numbers go first: one copy at a time.
        *self.earlier.write().expect("journal's numbers") = Earlier::default();
        let mut file = self._lock.try_clone().map_err(|e| e.to_string())?;
        file.seek(SeekFrom::Start(0)).map_err(|e| e.to_string())?;
        let mut read = read_records(&file)?;
        read.earlier.fold();
        *self.earlier.write().expect("journal's numbers") = read.earlier;
        Ok(())
    }

    /// Appends `record` and returns once it is on disk.
    pub(crate) async fn append(&self, record: &Record) -> Result<(), String> {
        self.writer
            .as_ref()
            .expect("the writer lives as long as the journal")
            .append(record)
            .await
    }
}

impl Store for FileJournal {
    fn location(&self) -> String {
        self.path.display().to_string()
    }

    fn recovered(&self) -> &Recovered {
        &self.recovered
    }

    fn results_files(&self) -> &[String] {
        &self.results_files
    }

    fn begin_run<'a>(&'a self, run: RunStart<'a>) -> StoreFuture<'a, Result<(), String>> {
        if self.served.swap(true, std::sync::atomic::Ordering::SeqCst) {
            if let Err(error) = self.read_again() {
                let stale =
                    format!("the journal could not be read again for this run ({error}): open it again");
                *self.stale.lock().expect("journal") = Some(stale.clone());
                return Box::pin(async move { Err(stale) });
            }
        }
        Box::pin(self.append_owned(Record::Run {
            at: now(),
            retry_unknown: run.retry_unknown,
            results: run.results.map(str::to_owned),
        }))
    }

    fn invalid<'a>(
        &'a self,
        row: usize,
        phone: &'a str,
        error: &'a str,
    ) -> StoreFuture<'a, Result<(), String>> {
        Box::pin(self.append_owned(Record::Invalid {
            row,
            phone: phone.to_owned(),
            error: error.to_owned(),
            at: now(),
        }))
    }

    /// What earlier runs recorded: one process holds a file journal, and
    /// the runner never claims a number twice in a run.
    fn last_outcome(&self, key: u64) -> StoreFuture<'_, Result<Option<Outcome>, String>> {
        let last = self.earlier(key);
        Box::pin(async move { Ok(last) })
    }

    fn claim<'a>(
        &'a self,
        row: JournalRow<'a>,
        retry_unknown: bool,
    ) -> StoreFuture<'a, Result<Claim, String>> {
        Box::pin(async move {
            if let Some(stale) = self.stale.lock().expect("journal").clone() {
                return Err(stale);
            }
            if let Some(outcome) = self.earlier(row.key).filter(|o| settles(o, retry_unknown)) {
                return Ok(Claim::Settled(outcome));
            }
            self.append(&Record::Sending {
                row: row.row,
                phone: row.phone.to_owned(),
                at: now(),
            })
            .await?;
            Ok(Claim::Claimed)
        })
    }

    fn finish<'a>(
        &'a self,
        row: JournalRow<'a>,
        finished: Finished,
        attempts: u32,
    ) -> StoreFuture<'a, Result<(), String>> {
        let record = finished_record(row.row, row.phone, finished, attempts, self.version);
        Box::pin(self.append_owned(record))
    }
}

impl FileJournal {
    async fn append_owned(&self, record: Record) -> Result<(), String> {
        self.append(&record).await
    }
}

/// Opens a file journal this process closed a moment ago (tests). Its lock
/// is free once the journal is dropped, but a child that another test of
/// the same binary is starting (the PostgreSQL server's tools) holds a copy
/// of every descriptor between its fork and its exec, and with it the lock.
/// A rerun in a new process never meets that; a reopen in this one can, for
/// that instant, so it tries again for a while.
#[cfg(test)]
pub(crate) fn open_again(path: &Path, identity: &Identity) -> FileJournal {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match FileJournal::open(path, identity) {
            Ok(journal) => return journal,
            Err(error) if error.to_string().contains("another run is using this journal") => {
                assert!(std::time::Instant::now() < deadline, "{error}");
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(error) => panic!("{error}"),
        }
    }
}

impl std::fmt::Debug for FileJournal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileJournal")
            .field("path", &self.path)
            .field("recovered", &self.recovered)
            .finish_non_exhaustive()
    }
}

struct Pending {
    line: Vec<u8>,
    done: tokio::sync::oneshot::Sender<Result<(), String>>,
}

/// Appends records to a journal through its writer thread.
#[derive(Clone)]
struct Appender(mpsc::Sender<Pending>);

impl Appender {
    async fn append(&self, record: &Record) -> Result<(), String> {
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

pub(super) fn line_of(record: &Record) -> Vec<u8> {
    let mut line = serde_json::to_vec(record).expect("a journal record serialises");
    line.push(b'\n');
    line
}

/// The runs a journal records.
#[derive(Default)]
struct Runs {
    count: usize,
    results_files: Vec<String>,
}

struct Contents {
    header: Option<Identity>,
    /// The header's version.
    version: Option<u32>,
    earlier: Earlier,
    records: usize,
    runs: Runs,
    /// Bytes up to the end of the last complete record.
    complete_len: u64,
    torn_bytes: u64,
}

/// Every complete record, read as a stream; an unterminated last line is
/// torn (reported, not read); a damaged complete line is an error: the
/// journal cannot be trusted.
fn read_records(file: &File) -> Result<Contents, String> {
    let mut reader = BufReader::with_capacity(64 * 1024, file);
    let mut contents = Contents {
        header: None,
        version: None,
        earlier: Earlier::default(),
        records: 0,
        runs: Runs::default(),
        complete_len: 0,
        torn_bytes: 0,
    };
    let mut line = Vec::new();
    loop {
        line.clear();
        let number = contents.records + 1;
        // Bounded: no line of a journal is this long, and a file that is
        // one endless line must not be read into memory whole.
        let read = std::io::Read::take(&mut reader, MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut line)
            .map_err(|e| format!("cannot read: {e}"))?;
        if read == 0 {
            return Ok(contents);
        }
        if read > MAX_LINE {
            return Err(format!(
                "line {number} is longer than any record ({MAX_LINE} bytes): this is not a journal \
                 sigmamind wrote, or it is damaged; inspect the file before running again"
            ));
        }
        if line.last() != Some(&b'\n') {
            // No newline: the write of this record never finished. Before
            // a header, only the start of a header can be a journal's.
            let header_start = br#"{"event":"journal""#;
            let len = line.len().min(header_start.len());
            if contents.records == 0 && line[..len] != header_start[..len] {
                return Err("not a sigmamind batch journal: no header".to_owned());
            }
            contents.torn_bytes = read as u64;
            return Ok(contents);
        }
        let record = serde_json::from_slice::<Record>(&line[..line.len() - 1]).map_err(|e| {
            // Every record is written whole, newline last, with one write: a
            // crash leaves at most an unterminated tail, never this.
            format!(
                "line {number} is damaged ({e}): not an interrupted write; inspect the file before running \
                 again"
            )
        })?;
        match (contents.records, record) {
            (
                0,
                Record::Header {
                    format,
                    version,
                    from,
                    agent,
                    api,
                    ..
                },
            ) => {
                if format != FORMAT || version > VERSION {
                    return Err(format!(
                        "written in format {format} version {version}; this sigmamind reads {FORMAT} up to \
                         version {VERSION}"
                    ));
                }
                contents.header = Some(Identity { from, agent, api });
                contents.version = Some(version);
            }
            (0, _) => return Err("not a sigmamind batch journal: no header".to_owned()),
            (_, record) => contents
                .earlier
                .replay(record, &mut contents.runs, contents.version.unwrap_or(VERSION))
                .map_err(|e| format!("line {number}: {e}"))?,
        }
        contents.records += 1;
        contents.complete_len += read as u64;
    }
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

/// A finished record of `outcome` for a row, after `attempts` requests, in
/// a journal of `version`.
pub(super) fn finished_record(
    row: usize,
    phone: &str,
    finished: Finished,
    attempts: u32,
    version: u32,
) -> Record {
    Record::Finished {
        row,
        phone: phone.to_owned(),
        state: finished.state.name(version).to_owned(),
        call_id: finished.call_id,
        status: finished.status,
        error: finished.error,
        attempts,
        at: now(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity() -> Identity {
        Identity {
            from: "+14155552671".into(),
            agent: None,
            api: "http://api".into(),
        }
    }

    fn open(path: &Path) -> FileJournal {
        open_again(path, &identity())
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
        finished_record(
            row,
            phone,
            Finished {
                state: JournalState::Placed,
                call_id: Some(format!("call_{row}")),
                status: None,
                error: None,
            },
            1,
            VERSION,
        )
    }

    fn key(phone: &str) -> u64 {
        numbers::key(phone).unwrap()
    }

    #[tokio::test]
    async fn records_survive_reopening_and_in_flight_rows_are_unknown() {
        let dir = dir();
        let path = dir.path().join("j.jsonl");
        let failed = finished_record(
            3,
            "+14155550003",
            Finished {
                state: JournalState::Refused,
                call_id: None,
                status: Some(422),
                error: Some("no".into()),
            },
            1,
            VERSION,
        );
        write(
            &path,
            &[
                sending(1, "+14155550001"),
                placed(1, "+14155550001"),
                sending(2, "+14155550002"),
                failed,
            ],
        )
        .await;
        let journal = open(&path);
        assert_eq!(
            journal.earlier(key("+14155550001")),
            Some(Outcome::Placed {
                call_id: Some("call_1".into())
            })
        );
        assert!(matches!(
            journal.earlier(key("+14155550002")),
            Some(Outcome::Unknown { .. })
        ));
        assert!(matches!(
            journal.earlier(key("+14155550003")),
            Some(Outcome::NotSent { .. })
        ));
        assert_eq!(journal.earlier(key("+14155550004")), None);
        assert_eq!(journal.recovered().file.as_ref().unwrap().records, 5);
        assert_eq!(journal.recovered().numbers, 3);
        assert_eq!(journal.recovered().file.as_ref().unwrap().torn_bytes, 0);
    }

    #[tokio::test]
    async fn a_torn_last_record_is_cut_off_and_the_journal_goes_on() {
        let dir = dir();
        let path = dir.path().join("j.jsonl");
        write(&path, &[sending(1, "+14155550001"), placed(1, "+14155550001")]).await;
        // A run killed halfway through writing `sending` for row 2.
        let whole = line_of(&sending(2, "+14155550002"));
        let torn = &whole[..whole.len() / 2];
        OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(torn)
            .unwrap();
        let length_before = std::fs::metadata(&path).unwrap().len();

        let journal = open(&path);
        assert_eq!(journal.recovered().file.as_ref().unwrap().torn_bytes, torn.len());
        assert_eq!(
            std::fs::metadata(&path).unwrap().len(),
            length_before - torn.len() as u64
        );
        // The torn `sending` never finished, so its request was never sent.
        assert_eq!(journal.earlier(key("+14155550002")), None);
        journal.append(&sending(2, "+14155550002")).await.unwrap();
        drop(journal);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.lines().all(|l| serde_json::from_str::<Record>(l).is_ok()),
            "{text}"
        );
        let journal = open(&path);
        assert_eq!(journal.recovered().file.as_ref().unwrap().torn_bytes, 0);
        assert!(matches!(
            journal.earlier(key("+14155550002")),
            Some(Outcome::Unknown { .. })
        ));
    }

    /// A kill can stop a write at any byte. At every one: the journal opens,
    /// and a row whose `sending` record is complete is never taken for
    /// undialled (placed or unknown, never absent or retryable).
    #[tokio::test]
    async fn a_cut_at_any_byte_never_forgets_a_sent_row() {
        let dir = dir();
        let path = dir.path().join("j.jsonl");
        let records = [
            sending(1, "+14155550001"),
            placed(1, "+14155550001"),
            sending(2, "+14155550002"),
            sending(3, "+14155550003"),
            placed(3, "+14155550003"),
        ];
        write(&path, &records).await;
        let whole = std::fs::read(&path).unwrap();
        let header_len = whole.iter().position(|&b| b == b'\n').unwrap() + 1;
        let cut_path = dir.path().join("cut.jsonl");
        for cut in header_len..=whole.len() {
            std::fs::write(&cut_path, &whole[..cut]).unwrap();
            let journal = open(&cut_path);
            let complete = &whole[..cut - journal.recovered().file.as_ref().unwrap().torn_bytes];
            assert!(complete.ends_with(b"\n"), "cut at {cut}");
            let text = String::from_utf8_lossy(complete);
            for (row, phone) in [(1, "+14155550001"), (2, "+14155550002"), (3, "+14155550003")] {
                let sent = text.contains(&format!("\"event\":\"sending\",\"row\":{row},"));
                let state = journal.earlier(key(phone));
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
        text.push_str(&String::from_utf8(line_of(&placed(1, "+14155550001"))).unwrap());
        std::fs::write(&path, text).unwrap();
        let error = FileJournal::open(&path, &identity()).unwrap_err().to_string();
        assert!(error.contains("line 2 is damaged"), "{error}");
    }

    #[test]
    fn a_journal_of_another_batch_in_use_or_newer_is_refused() {
        let dir = dir();
        let path = dir.path().join("j.jsonl");
        let open = open(&path);
        let error = FileJournal::open(&path, &identity()).unwrap_err().to_string();
        assert!(error.contains("another run is using this journal"), "{error}");
        drop(open);
        let other = Identity {
            from: "+14155552672".into(),
            ..identity()
        };
        let error = FileJournal::open(&path, &other).unwrap_err().to_string();
        assert!(error.contains("belongs to another batch"), "{error}");
        assert!(error.contains("caller number +14155552671"), "{error}");
        let elsewhere = Identity {
            api: "https://elsewhere".into(),
            ..identity()
        };
        let error = FileJournal::open(&path, &elsewhere).unwrap_err().to_string();
        assert!(error.contains("belongs to another batch"), "{error}");
        std::fs::write(
            dir.path().join("x"),
            "{\"event\":\"run\",\"at\":\"\",\"retryUnknown\":false}\n",
        )
        .unwrap();
        let error = FileJournal::open(&dir.path().join("x"), &identity())
            .unwrap_err()
            .to_string();
        assert!(error.contains("no header"), "{error}");
        let newer = format!(
            "{{\"event\":\"journal\",\"format\":\"{FORMAT}\",\"version\":{},\"from\":\"+14155552671\",\"agent\":null,\"api\":\"http://api\",\"at\":\"t\"}}\n",
            VERSION + 1
        );
        std::fs::write(dir.path().join("n"), newer).unwrap();
        let error = FileJournal::open(&dir.path().join("n"), &identity())
            .unwrap_err()
            .to_string();
        assert!(
            error.contains(&format!("reads sigmamind-batch-journal up to version {VERSION}")),
            "{error}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn only_its_owner_can_read_it() {
        use std::os::unix::fs::PermissionsExt;
        let dir = dir();
        let path = dir.path().join("j.jsonl");
        drop(open(&path));
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    #[tokio::test]
    async fn concurrent_appends_are_whole_lines() {
        let dir = dir();
        let path = dir.path().join("j.jsonl");
        let journal = std::sync::Arc::new(open(&path));
        let tasks: Vec<_> = (0..200)
            .map(|i| {
                let journal = journal.clone();
                tokio::spawn(async move { journal.append(&sending(i, &format!("+1415555{i:04}"))).await })
            })
            .collect();
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        drop(journal);
        let journal = open(&path);
        assert_eq!(journal.recovered().file.as_ref().unwrap().records, 201);
    }

    /// A journal of version 1 is read with version 1's names (`failed`:
    /// the server refused it; `refused`: never sent; either way dialled
    /// again) and written in them to its end, so the release that began it
    /// still reads it; a new journal is version 2, its states named as the
    /// outcomes are. A name of the other version is damage.
    #[tokio::test]
    async fn each_journal_keeps_the_names_of_its_version() {
        let dir = dir();
        let old = dir.path().join("v1.jsonl");
        let header = |version: u32| {
            format!(
                "{{\"event\":\"journal\",\"format\":\"{FORMAT}\",\"version\":{version},\"from\":\"+14155552671\",\"agent\":null,\"api\":\"http://api\",\"at\":\"t\"}}\n"
            )
        };
        let outcome = |row: usize, state: &str| {
            format!("{{\"event\":\"outcome\",\"row\":{row},\"phone\":\"+1415555010{row}\",\"state\":\"{state}\",\"at\":\"t\"}}\n")
        };
        std::fs::write(
            &old,
            header(1)
                + &outcome(1, "placed")
                + &outcome(2, "failed")
                + &outcome(3, "refused")
                + &outcome(4, "unknown"),
        )
        .unwrap();
        let journal = open(&old);
        assert!(matches!(
            journal.earlier(key("+14155550101")),
            Some(Outcome::Placed { .. })
        ));
        assert!(matches!(
            journal.earlier(key("+14155550102")),
            Some(Outcome::NotSent { .. })
        ));
        assert!(matches!(
            journal.earlier(key("+14155550103")),
            Some(Outcome::NotSent { .. })
        ));
        assert!(matches!(
            journal.earlier(key("+14155550104")),
            Some(Outcome::Unknown { .. })
        ));
        let row = JournalRow {
            row: 5,
            phone: "+14155550105",
            key: key("+14155550105"),
        };
        let finished = |state| Finished {
            state,
            call_id: None,
            status: Some(422),
            error: Some("no".into()),
        };
        journal
            .finish(row, finished(JournalState::Refused), 1)
            .await
            .unwrap();
        drop(journal);
        let text = std::fs::read_to_string(&old).unwrap();
        assert!(text.starts_with(&header(1)), "{text}");
        let last = text.lines().last().unwrap();
        assert!(last.contains("\"state\":\"failed\""), "{last}");
        drop(open(&old));

        let new = dir.path().join("v2.jsonl");
        let journal = open(&new);
        journal
            .finish(row, finished(JournalState::Refused), 1)
            .await
            .unwrap();
        let row6 = JournalRow {
            row: 6,
            phone: "+14155550106",
            key: key("+14155550106"),
        };
        journal
            .finish(row6, finished(JournalState::NotSent), 0)
            .await
            .unwrap();
        drop(journal);
        let text = std::fs::read_to_string(&new).unwrap();
        assert!(text.starts_with(&header(2)[..80]), "{text}");
        let states: Vec<&str> = text
            .lines()
            .filter_map(|line| line.split("\"state\":\"").nth(1))
            .map(|rest| &rest[..rest.find('"').unwrap()])
            .collect();
        assert_eq!(states, ["refused", "not_sent"]);

        // A name of the other version: not a journal this release wrote.
        std::fs::write(&new, header(2) + &outcome(2, "failed")).unwrap();
        let error = FileJournal::open(&new, &identity()).unwrap_err().to_string();
        assert!(
            error.contains("line 2: `failed` is no outcome of a version 2 journal"),
            "{error}"
        );
    }
}
