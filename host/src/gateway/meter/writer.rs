//! The meter's writer thread: every record staged while the last commit
//! ran is committed in one transaction (group commit), and only then are
//! their answers released.

use std::collections::{BTreeMap, HashMap};
use std::sync::mpsc::Receiver;
use std::sync::{Arc, PoisonError, Weak};
use std::time::Duration;

use rusqlite::{params, Connection, TransactionBehavior};

use super::{load_latest, lock, Inner, LicenseUsage, Write, GROUP};

/// The writer thread: commits every staged record waiting, in one
/// transaction, then releases their answers. Ends when the meter is dropped.
///
/// When the last commit held more than one record, checks are arriving
/// faster than commits: the writer then waits `delay` after the first
/// record of the next group before gathering it, so the records staged
/// meanwhile share its commit (one transaction, one WAL append) instead of
/// each paying for one. A lone check on a quiet gateway is committed at
/// once. The wait only delays answers; what is committed, and in which
/// order, is the same.
pub(super) fn write_staged(staged: &Receiver<Write>, meter: &Weak<Inner>, delay: Duration) {
    let mut last_group = 0;
    while let Ok(first) = staged.recv() {
        if last_group > 1 && !delay.is_zero() {
            std::thread::sleep(delay);
        }
        let mut group = vec![first];
        while group.len() < GROUP {
            match staged.try_recv() {
                Ok(write) => group.push(write),
                Err(_) => break,
            }
        }
        let Some(inner) = meter.upgrade() else {
            return;
        };
        let outcome = commit(&mut lock(&inner.db), &group).map_err(|e| e.to_string());
        {
            let mut pending = lock(&inner.pending_keys);
            for w in &group {
                if let Some((key, _)) = &w.key {
                    pending.remove(&(w.license.clone(), key.clone()));
                }
            }
        }
        match &outcome {
            Ok(()) => {
                inner.committed.commits.inc();
                inner.committed.records.inc_by(group.len() as u64);
            }
            Err(error) => {
                // The counts in memory ran ahead of the database: take them
                // back from it before another check decides on them.
                tracing::error!(%error, records = group.len(), "meter commit failed; answers withheld");
                let _writing = inner.writes.write().unwrap_or_else(PoisonError::into_inner);
                if let Ok(fresh) = load_latest(&lock(&inner.db)) {
                    take_back(&mut lock(&inner.latest), &fresh);
                }
            }
        }
        last_group = group.len();
        for write in group {
            let _ = write.done.send(outcome.clone());
        }
    }
}

fn commit(db: &mut Connection, group: &[Write]) -> rusqlite::Result<()> {
    let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
    {
        let mut key_insert = tx.prepare_cached(
            "INSERT INTO idempotency (license, key, fingerprint, answer, at_unix)
             VALUES (?1, ?2, ?3, ?4, ?5)",
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
        let mut last: BTreeMap<(&str, &str, i64), &Write> = BTreeMap::new();
        let mut counts: BTreeMap<(&str, &str, &str), &Write> = BTreeMap::new();
        for w in group {
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
        for w in group {
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

/// Replaces the counts in memory by the database's, every license's
/// version moving on (never back: a cached answer of an earlier version
/// must not match again).
fn take_back(
    latest: &mut HashMap<String, Arc<LicenseUsage>>,
    fresh: &HashMap<String, Arc<LicenseUsage>>,
) {
    let mut licenses: Vec<String> = latest.keys().chain(fresh.keys()).cloned().collect();
    licenses.sort_unstable();
    licenses.dedup();
    for license in licenses {
        let version = latest
            .get(&license)
            .map_or(0, |u| u.version)
            .wrapping_add(1);
        let metrics = fresh
            .get(&license)
            .map(|u| u.metrics.clone())
            .unwrap_or_default();
        latest.insert(license, Arc::new(LicenseUsage { metrics, version }));
    }
}
