//! The memory store: the journal's contract with nothing durable, for tests
//! and rehearsals ([`Journal::in_memory`](crate::Journal::in_memory)). It is
//! also the smallest store there is: the one to read first when writing
//! another.

use std::collections::HashMap;
use std::sync::Mutex;

use super::format::Finished;
use super::{settles, Claim, Identity, JournalRow, Recovered, RunStart, Store, StoreFuture};
use crate::Outcome;

/// Every number claimed, and how it last ended.
#[derive(Debug)]
pub(crate) struct MemoryJournal {
    identity: Identity,
    recovered: Recovered,
    numbers: Mutex<HashMap<u64, Entry>>,
}

#[derive(Debug, Clone)]
enum Entry {
    /// Claimed; no outcome recorded yet.
    Sending,
    Finished(Finished),
}

impl MemoryJournal {
    pub(crate) fn new(identity: &Identity) -> Self {
        Self {
            identity: identity.clone(),
            recovered: Recovered::default(),
            numbers: Mutex::default(),
        }
    }

    fn last(&self, key: u64) -> Option<Outcome> {
        let numbers = self.numbers.lock().expect("memory journal");
        numbers.get(&key).map(|entry| match entry {
            Entry::Sending => super::format::stopped_while_placing(),
            Entry::Finished(finished) => finished.clone().outcome(),
        })
    }
}

impl Store for MemoryJournal {
    fn location(&self) -> String {
        format!("memory ({})", self.identity)
    }

    fn recovered(&self) -> &Recovered {
        &self.recovered
    }

    fn begin_run<'a>(&'a self, _: RunStart<'a>) -> StoreFuture<'a, Result<(), String>> {
        Box::pin(async { Ok(()) })
    }

    fn last_outcome(&self, key: u64) -> StoreFuture<'_, Result<Option<Outcome>, String>> {
        let last = self.last(key);
        Box::pin(async move { Ok(last) })
    }

    fn claim<'a>(
        &'a self,
        row: JournalRow<'a>,
        retry_unknown: bool,
    ) -> StoreFuture<'a, Result<Claim, String>> {
        // Looking and claiming under one lock: two claims of one number
        // cannot both win.
        let mut numbers = self.numbers.lock().expect("memory journal");
        let settled = numbers.get(&row.key).and_then(|entry| match entry {
            // In flight: this run's or a stopped run's; not to be sent again.
            Entry::Sending => Some(Outcome::Elsewhere {
                dialer: "this process (in flight)".to_owned(),
            }),
            Entry::Finished(finished) => {
                Some(finished.clone().outcome()).filter(|o| settles(o, retry_unknown))
            }
        });
        let claim = match settled {
            Some(outcome) => Claim::Settled(outcome),
            None => {
                numbers.insert(row.key, Entry::Sending);
                Claim::Claimed
            }
        };
        Box::pin(async move { Ok(claim) })
    }

    fn finish<'a>(
        &'a self,
        row: JournalRow<'a>,
        finished: Finished,
        _attempts: u32,
    ) -> StoreFuture<'a, Result<(), String>> {
        let mut numbers = self.numbers.lock().expect("memory journal");
        let result = match numbers.get(&row.key) {
            Some(Entry::Sending) => {
                numbers.insert(row.key, Entry::Finished(finished));
                Ok(())
            }
            _ => Err(format!("the journal does not hold {} as claimed", row.phone)),
        };
        Box::pin(async move { result })
    }
}
