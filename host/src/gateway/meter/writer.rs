//! The meter's writer thread: every record staged while the last commit
//! ran is committed in one transaction (group commit). Under `power`
//! durability their answers wait for that commit; under `process` they were
//! sent once journaled, and the writer folds the journal into the database
//! behind them, rotating its file as it grows.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::mpsc::Receiver;
use std::sync::{PoisonError, Weak};
use std::time::Duration;

use rusqlite::{params, Connection, TransactionBehavior};

use super::journal::Entry;
use super::{load_latest, lock, Inner, Message, Write, GROUP};

/// Under `process` durability, how long the writer lets records gather
/// between two folds while checks keep arriving: no answer waits for it,
/// so fewer, larger transactions leave more of the machine for checks.
const FOLD_EVERY: Duration = Duration::from_millis(20);

/// The most records one fold commits (`GROUP` when answers wait).
const FOLD_GROUP: usize = 16_384;

/// After a failed fold, how long the writer waits to try again.
const RETRY_AFTER: Duration = Duration::from_millis(200);

/// The writer thread: commits every staged record waiting, in one
/// transaction, then releases the answers waiting for it. Ends when the
/// meter is dropped.
///
/// When the last commit held more than one record, checks are arriving
/// faster than commits: the writer then waits `delay` (under `power`;
/// [`FOLD_EVERY`] under `process`) after the first record of the next
/// group before gathering it, so the records staged meanwhile share its
/// commit instead of each paying for one. A lone check on a quiet gateway
/// is committed at once. The wait only delays commits; what is committed,
/// and in which order, is the same.
pub(super) fn write_staged(staged: &Receiver<Message>, meter: &Weak<Inner>, delay: Duration) {
    let mut last_group = 0;
    // Records of a failed fold, kept (they are in the journal) and tried again.
    let mut group: Vec<Write> = Vec::new();
    // Journal files whose records are all on their way: removed once the
    // next fold commits.
    let mut rotated: Vec<PathBuf> = Vec::new();
    // Flushes waiting for the commit of everything handed over before them.
    let mut flushes = Vec::new();
    loop {
        let Some(journaled) = meter.upgrade().map(|m| m.journal.is_some()) else {
            return;
        };
        if group.is_empty() && rotated.is_empty() {
            match staged.recv() {
                Ok(Message::Record(first)) => group.push(first),
                Ok(Message::Flush(done)) => {
                    let Some(inner) = meter.upgrade() else {
                        return;
                    };
                    flushed(&inner, done, &mut flushes, &mut rotated);
                }
                Err(_) => return,
            }
            let pause = if journaled { FOLD_EVERY } else { delay };
            if last_group > 1 && !pause.is_zero() && flushes.is_empty() {
                std::thread::sleep(pause);
            }
        } else if !group.is_empty() {
            std::thread::sleep(RETRY_AFTER);
        }
        let Some(inner) = meter.upgrade() else {
            return;
        };
        gather(staged, &inner, &mut group, &mut rotated, &mut flushes);
        let entries: Vec<&Entry> = group.iter().map(|w| &w.entry).collect();
        let outcome = if entries.is_empty() {
            Ok(())
        } else {
            commit(&mut lock(&inner.db), &entries).map_err(|e| e.to_string())
        };
        drop(entries);
        if outcome.is_ok() || !journaled {
            let mut pending = lock(&inner.pending_keys);
            for w in &group {
                if let Some((key, _)) = &w.entry.key {
                    pending.remove(&(w.entry.license.clone(), key.clone()));
                }
            }
        }
        match &outcome {
            Ok(()) if group.is_empty() => {}
            Ok(()) => {
                inner.committed.commits.inc();
                inner.committed.records.inc_by(group.len() as u64);
            }
            Err(error) if journaled => {
                // Nothing is lost: the records are in the journal, the
                // counts in memory are theirs. Try again.
                tracing::error!(%error, records = group.len(), "meter fold failed; retrying");
                continue;
            }
            Err(error) => {
                // The counts in memory ran ahead of the database: take them
                // back from it before another check decides on them.
                tracing::error!(%error, records = group.len(), "meter commit failed; answers withheld");
                let _writing = inner.writes.write().unwrap_or_else(PoisonError::into_inner);
                if let Ok(fresh) = load_latest(&lock(&inner.db)) {
                    inner.latest.take_back(&fresh);
                }
            }
        }
        last_group = group.len();
        for write in group.drain(..) {
            if let Some(done) = write.done {
                let _ = done.send(outcome.clone());
            }
        }
        if let Some(journal) = &inner.journal {
            for path in rotated.drain(..) {
                journal.remove(&path);
            }
            if journal.is_full() {
                rotate(journal, &mut rotated);
            }
        }
        for done in flushes.drain(..) {
            let _ = done.send(());
        }
    }
}

/// Takes what is waiting into `group`: up to a group's worth, or, once a
/// journal file was rotated (by a flush, or after the last commit),
/// everything handed over before the rotation, so that file's records are
/// all in this commit. A flush is answered after this commit, which holds
/// everything handed over before it.
fn gather(
    staged: &Receiver<Message>,
    inner: &Inner,
    group: &mut Vec<Write>,
    rotated: &mut Vec<PathBuf>,
    flushes: &mut Vec<std::sync::mpsc::Sender<()>>,
) {
    let journal = inner.journal.as_ref();
    loop {
        let most = match (journal, rotated.is_empty()) {
            (Some(_), false) => usize::MAX,
            (Some(_), true) => FOLD_GROUP,
            (None, _) => GROUP,
        };
        if group.len() >= most {
            return;
        }
        match staged.try_recv() {
            Ok(Message::Record(write)) => group.push(write),
            Ok(Message::Flush(done)) => flushed(inner, done, flushes, rotated),
            Err(_) => return,
        }
    }
}

/// Takes a flush: it waits for the next commit; under `process` the journal
/// file is rotated at once, so that commit holds every record of the old
/// file and the file goes after it.
fn flushed(
    inner: &Inner,
    done: std::sync::mpsc::Sender<()>,
    flushes: &mut Vec<std::sync::mpsc::Sender<()>>,
    rotated: &mut Vec<PathBuf>,
) {
    flushes.push(done);
    if let Some(journal) = &inner.journal {
        rotate(journal, rotated);
    }
}

/// Starts a new journal file; the old one is removed after the next commit.
fn rotate(journal: &super::Journal, rotated: &mut Vec<PathBuf>) {
    match journal.rotate() {
        Ok(old) => rotated.push(old),
        Err(error) => tracing::warn!(%error, "meter journal not rotated"),
    }
}

/// Commits `entries`, in the order they were staged, in one transaction.
/// Each holds its count's value after its check, so committing one again
/// changes nothing.
pub(super) fn commit(db: &mut Connection, entries: &[&Entry]) -> rusqlite::Result<()> {
    let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
    {
        let mut key_insert = tx.prepare_cached(
            "INSERT INTO idempotency (license, key, fingerprint, answer, at_unix)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (license, key) DO NOTHING",
        )?;
        let mut count_upsert = tx.prepare_cached(
            "INSERT INTO counts (license, metric, period_start, period_start_unix, used, soft_exceeded_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (license, metric, period_start)
             DO UPDATE SET used = excluded.used, soft_exceeded_at = excluded.soft_exceeded_at",
        )?;
        let mut reading_upsert = tx.prepare_cached(
            "INSERT INTO readings (license, metric, interval_unix, period_start, period_start_unix, at, at_unix, used)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (license, metric, interval_unix)
             DO UPDATE SET period_start = excluded.period_start,
                           period_start_unix = excluded.period_start_unix,
                           at = excluded.at, at_unix = excluded.at_unix, used = excluded.used",
        )?;
        // Records of one count in one interval: only the last is a reading.
        // Records of one count in one period: only the last is written
        // (they are staged in the order they were decided, each on the one
        // before, so the last holds the count).
        let mut last: BTreeMap<(&str, &str, i64), &Entry> = BTreeMap::new();
        let mut counts: BTreeMap<(&str, &str, &str), &Entry> = BTreeMap::new();
        for w in entries {
            last.insert((&w.license, &w.metric, w.interval_unix), w);
            counts.insert((&w.license, &w.metric, &w.period_start), w);
        }
        for w in last.values() {
            let at = chrono::DateTime::from_timestamp(w.now_unix, 0)
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
            if let Some(at) = at {
                reading_upsert.execute(params![
                    w.license,
                    w.metric,
                    w.interval_unix,
                    w.period_start,
                    w.start_unix,
                    at,
                    w.now_unix,
                    w.used
                ])?;
            }
        }
        for w in entries {
            if let Some((key, fingerprint)) = &w.key {
                key_insert.execute(params![w.license, key, fingerprint, w.answer, w.now_unix])?;
            }
        }
        for w in counts.values() {
            count_upsert.execute(params![
                w.license,
                w.metric,
                w.period_start,
                w.start_unix,
                w.used,
                w.soft_exceeded_at
            ])?;
        }
    }
    tx.commit()
}
