//! The meter: what each license consumed, per metric and period, kept in an
//! embedded SQLite database in WAL mode.
//!
//! The rules say what to record (a check's `record`); the meter keeps it with
//! the request's idempotency key, and only then is the answer sent: in the
//! journal (`journal.rs`, `--durability process`) or committed to the
//! database (`--durability power`). So an acknowledged consumption is on
//! disk, and a retried request (same key) gets its first answer back
//! instead of counting again.
//! A key belongs to one license: it is stored under the license with the
//! fingerprint of the request it was first sent with, so the gateway can
//! tell a retry from another request that reuses the key.
//!
//! The latest count of every `(license, metric)` is kept in memory: it is the
//! usage every check is decided with. A consuming check decides and updates
//! its license's count in that license's turn (one at a time per license;
//! licenses do not wait for each other). Under `process` durability it
//! appends its record to the journal and answers; the writer thread folds
//! the journal's records into the database in the background. Under
//! `power` it hands its record to the writer thread, which commits every
//! record waiting in one fsynced transaction (group commit) and only then
//! releases their answers; if that commit fails, its answers are never sent
//! and the counts in memory are reloaded from the database. Records of one
//! count in a group are written once, as the last of them; checkpoints run
//! mostly on a thread of their own (`checkpoint.rs`), so a commit seldom
//! waits for a long flush.
//!
//! Beside the counts, the meter keeps readings: the last count of each
//! interval (an hour unless configured), in the same transaction, so the
//! portal can plot the period's usage. Readings of past periods are pruned.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use entitle_core::{MeterRecord, Timestamp};
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use crate::error::HostError;

mod checkpoint;
mod journal;
mod latest;
mod load;
mod turns;
mod writer;

use journal::{Entry, Journal};
pub(crate) use latest::Latest;
use load::{load_latest, migrate_keys};

pub use turns::WriteGuard;

/// How hard a commit is pushed to the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Durability {
    /// A record survives the process being killed at any instant: it is
    /// in the journal (written to the kernel) before its answer; the last
    /// records may be lost if the machine loses power. The database
    /// (`synchronous=NORMAL`) is brought up to date in the background.
    Process,
    /// `synchronous=FULL`: every commit is fsynced before it is acknowledged;
    /// it also survives power loss, at the cost of a disk flush per commit.
    Power,
}

/// One metric's count as the rules last recorded it, in the usage format
/// the rules read back (`period_start` tells them whether it is current).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Count {
    /// Units consumed in the period.
    pub used: u64,
    /// When a soft limit was first crossed in the period.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub soft_exceeded_at: Option<Timestamp>,
    /// The start of the period the count belongs to.
    pub period_start: Timestamp,
}

/// One reading of a count: what it was at an instant, in the usage format's
/// `history` shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reading {
    /// When the count was recorded.
    pub at: String,
    /// The count then.
    pub used: u64,
}

/// The usage of one license: its latest count per metric, and a version that
/// changes with every recorded count (so cached decisions can tell they are stale).
#[derive(Debug, Clone, Default)]
pub struct LicenseUsage {
    /// Latest count per metric.
    pub metrics: BTreeMap<String, Count>,
    /// Bumped by every recorded count.
    pub version: u64,
}

/// What the meter holds for an idempotency key of a license: the
/// fingerprint of the request it was first used with and the answer given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Earlier {
    /// The first request's fingerprint; `None` for a key stored before
    /// keys had fingerprints, which matches no request.
    pub fingerprint: Option<String>,
    /// The answer given to it.
    pub answer: String,
}

/// What a consuming check records: a check's `record`, from the JSON
/// answer or the compact one.
#[derive(Debug, Clone, Copy)]
pub struct Recorded<'a> {
    /// The metric consumed.
    pub metric: &'a str,
    /// The start of the period the count belongs to.
    pub period_start: Timestamp,
    /// The count, this request included.
    pub used: u64,
    /// When a soft limit was first crossed in the period.
    pub soft_exceeded_at: Option<Timestamp>,
}

impl<'a> From<&'a MeterRecord> for Recorded<'a> {
    fn from(record: &'a MeterRecord) -> Recorded<'a> {
        Recorded {
            metric: record.metric.as_str(),
            period_start: record.period.start,
            used: record.used,
            soft_exceeded_at: record.soft_exceeded_at,
        }
    }
}

/// An idempotency key as a consuming check stages it.
#[derive(Debug, Clone, Copy)]
pub struct Keyed<'a> {
    /// The key the client sent.
    pub key: &'a str,
    /// The fingerprint of the request it came with.
    pub fingerprint: &'a str,
}

/// The meter's commits and the records they held, for the metrics.
#[derive(Debug, Clone, Default)]
pub struct Commits {
    /// Transactions committed.
    pub commits: prometheus_client::metrics::counter::Counter,
    /// Records those transactions held.
    pub records: prometheus_client::metrics::counter::Counter,
}

/// The meter: the database and the in-memory latest counts.
#[derive(Clone)]
pub struct Meter {
    inner: Arc<Inner>,
}

struct Inner {
    /// The meter's lock, held while the meter is open (`journal::lock`).
    _held: std::fs::File,
    /// Seconds per reading interval (at least 1).
    reading_every: i64,
    /// Taken to read by every consuming check while it decides and stages,
    /// to write by the writer thread when it takes the counts back.
    writes: RwLock<()>,
    /// Each license's turn: consuming checks of a license decide and stage
    /// one at a time. Only licenses a generation loaded get one (a check of
    /// any other records nothing), so the map is bounded by them.
    turns: RwLock<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    db: Arc<Mutex<Connection>>,
    latest: Latest,
    /// Keys staged but not yet committed, by license and key.
    pending_keys: Mutex<HashMap<(String, String), Earlier>>,
    /// The journal under `process` durability; `None` under `power`, where
    /// answers wait for their commit.
    journal: Option<Journal>,
    writes_to_commit: std::sync::mpsc::Sender<Message>,
    committed: Commits,
}

/// One staged record on its way to the database.
struct Write {
    entry: Entry,
    /// Told the commit's outcome, when an answer waits for it (`power`).
    done: Option<tokio::sync::oneshot::Sender<Result<(), String>>>,
}

/// What the writer thread is handed.
enum Message {
    /// A record to commit.
    Record(Write),
    /// Commit everything handed over before this, then say so.
    Flush(std::sync::mpsc::Sender<()>),
}

/// What a staged record's answer waits for before it is sent.
pub type Committed = Option<tokio::sync::oneshot::Receiver<Result<(), String>>>;

/// The most records one transaction commits.
const GROUP: usize = 512;

impl Meter {
    /// Opens (creating if needed) the database at `path` in WAL mode and
    /// loads every license's latest counts. Readings are kept one per
    /// `reading_every` seconds of each count (0 is taken as 1). Under load
    /// the writer waits `commit_delay` to gather records into one commit
    /// (see `writer.rs`); zero commits each group as soon as it can.
    pub fn open(
        path: &Path,
        durability: Durability,
        reading_every: u32,
        commit_delay: std::time::Duration,
    ) -> Result<Meter, HostError> {
        let held = journal::lock(path)?;
        let mut db = Connection::open(path).map_err(|e| db_error(path, &e))?;
        let sync = match durability {
            Durability::Process => "NORMAL",
            Durability::Power => "FULL",
        };
        db.execute_batch(&format!(
            "PRAGMA journal_mode=WAL;
             PRAGMA synchronous={sync};
             PRAGMA busy_timeout=5000;
             CREATE TABLE IF NOT EXISTS counts (
               license TEXT NOT NULL,
               metric TEXT NOT NULL,
               period_start TEXT NOT NULL,
               period_start_unix INTEGER NOT NULL,
               used INTEGER NOT NULL,
               soft_exceeded_at TEXT,
               PRIMARY KEY (license, metric, period_start)
             );
             CREATE TABLE IF NOT EXISTS idempotency (
               license TEXT NOT NULL,
               key TEXT NOT NULL,
               fingerprint TEXT,
               answer TEXT NOT NULL,
               at_unix INTEGER NOT NULL,
               PRIMARY KEY (license, key)
             );
             CREATE TABLE IF NOT EXISTS readings (
               license TEXT NOT NULL,
               metric TEXT NOT NULL,
               interval_unix INTEGER NOT NULL,
               period_start TEXT NOT NULL,
               period_start_unix INTEGER NOT NULL,
               at TEXT NOT NULL,
               at_unix INTEGER NOT NULL,
               used INTEGER NOT NULL,
               PRIMARY KEY (license, metric, interval_unix)
             );"
        ))
        .map_err(|e| db_error(path, &e))?;
        let mode: String = db
            .query_row("PRAGMA journal_mode", [], |row| row.get(0))
            .map_err(|e| db_error(path, &e))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(HostError::Store {
                detail: format!("`{}` did not switch to WAL mode (`{mode}`)", path.display()),
            });
        }
        migrate_keys(&db).map_err(|e| db_error(path, &e))?;
        // Records the last run journaled: folded before the counts are read.
        let (left, files) = journal::recover(path)?;
        if !left.is_empty() {
            let entries: Vec<&Entry> = left.iter().collect();
            writer::commit(&mut db, &entries).map_err(|e| db_error(path, &e))?;
            tracing::info!(
                records = left.len(),
                files = files.len(),
                "meter journal folded"
            );
        }
        for file in &files {
            std::fs::remove_file(file).map_err(|e| HostError::Store {
                detail: format!("meter journal `{}`: {e}", file.display()),
            })?;
        }
        let journal = match durability {
            Durability::Process => Some(Journal::open(path)?),
            Durability::Power => None,
        };
        let latest = load_latest(&db).map_err(|e| db_error(path, &e))?;
        let (writes_to_commit, staged) = std::sync::mpsc::channel();
        let meter = Meter {
            inner: Arc::new(Inner {
                _held: held,
                reading_every: i64::from(reading_every.max(1)),
                writes: RwLock::new(()),
                turns: RwLock::new(HashMap::new()),
                db: Arc::new(Mutex::new(db)),
                latest: Latest::new(latest),
                pending_keys: Mutex::new(HashMap::new()),
                journal,
                writes_to_commit,
                committed: Commits::default(),
            }),
        };
        let writer = Arc::downgrade(&meter.inner);
        std::thread::Builder::new()
            .name(String::from("entitle-meter"))
            .spawn(move || writer::write_staged(&staged, &writer, commit_delay))
            .map_err(|e| HostError::Store {
                detail: format!("cannot start the meter's writer thread: {e}"),
            })?;
        checkpoint::start(path, Arc::downgrade(&meter.inner))?;
        Ok(meter)
    }

    /// Whether a consuming check's answer waits for the commit of its
    /// record (`--durability power`) rather than for its journal line.
    pub fn answers_wait_for_commits(&self) -> bool {
        self.inner.journal.is_none()
    }

    /// How many commits the meter made and how many records they held.
    pub fn commits(&self) -> &Commits {
        &self.inner.committed
    }

    /// The latest counts of a license (empty when it has consumed nothing).
    pub fn usage(&self, license: &str) -> Arc<LicenseUsage> {
        self.inner.latest.get(license)
    }

    /// The readings of a license's counts in their current periods, oldest
    /// first, none after `now_unix`: per metric, the last count recorded in
    /// each interval. Readings still on their way to the database are not
    /// among them; the latest count is.
    pub fn history(
        &self,
        license: &str,
        now_unix: i64,
    ) -> Result<BTreeMap<String, Vec<Reading>>, HostError> {
        let usage = self.usage(license);
        let db = lock(&self.inner.db);
        let mut statement = db
            .prepare_cached(
                "SELECT at, used FROM readings
                 WHERE license = ?1 AND metric = ?2 AND period_start = ?3 AND at_unix <= ?4
                 ORDER BY at_unix, used",
            )
            .map_err(|e| store_error(&e))?;
        let mut history = BTreeMap::new();
        for (metric, count) in &usage.metrics {
            let rows = statement
                .query_map(
                    params![license, metric, count.period_start.to_string(), now_unix],
                    |row| {
                        let used: i64 = row.get(1)?;
                        Ok(Reading {
                            at: row.get(0)?,
                            used: u64::try_from(used).unwrap_or_default(),
                        })
                    },
                )
                .map_err(|e| store_error(&e))?;
            let mut readings: Vec<Reading> = Vec::new();
            for row in rows {
                let reading = row.map_err(|e| store_error(&e))?;
                // The usage format wants instants strictly increasing. Two
                // readings share one only if the interval changed between
                // runs or the clock stepped back: keep the later count.
                if readings.last().is_some_and(|r| r.at == reading.at) {
                    readings.pop();
                }
                readings.push(reading);
            }
            history.insert(metric.clone(), readings);
        }
        Ok(history)
    }

    /// What a license's idempotency key was first used for, if it was:
    /// staged or committed. Another license's use of the same key is none
    /// of this license's business.
    pub fn earlier(&self, license: &str, key: &str) -> Result<Option<Earlier>, HostError> {
        let scoped = (license.to_string(), key.to_string());
        if let Some(earlier) = lock(&self.inner.pending_keys).get(&scoped) {
            return Ok(Some(earlier.clone()));
        }
        let db = lock(&self.inner.db);
        db.query_row(
            "SELECT fingerprint, answer FROM idempotency WHERE license = ?1 AND key = ?2",
            params![license, key],
            |row| {
                Ok(Earlier {
                    fingerprint: row.get(0)?,
                    answer: row.get(1)?,
                })
            },
        )
        .optional()
        .map_err(|e| store_error(&e))
    }

    /// Stages a record decided under [`Meter::hold`]: the record, its
    /// idempotency key and its answer are kept, and the license's count in
    /// memory moves (so the next consuming check decides on it). Under
    /// `process` durability the record is in the journal when this returns
    /// and the answer may be sent at once (`None`); under `power` the
    /// answer may be sent once the returned receiver says the commit
    /// holding it succeeded. An error means nothing was kept.
    pub fn stage(
        &self,
        guard: &WriteGuard<'_>,
        record: Recorded<'_>,
        key: Option<Keyed<'_>>,
        answer: &str,
        now_unix: i64,
    ) -> Result<Committed, HostError> {
        let license = guard.license();
        let used = i64::try_from(record.used).map_err(|_| HostError::Store {
            detail: format!("a count `{}` past what the database holds", record.used),
        })?;
        let count = Count {
            used: record.used,
            soft_exceeded_at: record.soft_exceeded_at,
            period_start: record.period_start,
        };
        let entry = Entry {
            license: license.to_string(),
            metric: record.metric.to_string(),
            period_start: record.period_start.to_string(),
            start_unix: record.period_start.unix(),
            used,
            soft_exceeded_at: record.soft_exceeded_at.map(|t| t.to_string()),
            interval_unix: now_unix - now_unix.rem_euclid(self.inner.reading_every),
            now_unix,
            key: key.map(|k| (k.key.to_string(), k.fingerprint.to_string())),
            answer: answer.to_string(),
        };
        // A staged key answers retries until its record is committed.
        let pending = key.map(|keyed| (license.to_string(), keyed.key.to_string()));
        if let (Some(scoped), Some(keyed)) = (&pending, key) {
            lock(&self.inner.pending_keys).insert(
                scoped.clone(),
                Earlier {
                    fingerprint: Some(keyed.fingerprint.to_string()),
                    answer: answer.to_string(),
                },
            );
        }
        let stopped = || HostError::Store {
            detail: String::from("the meter's writer thread has stopped"),
        };
        let kept = match &self.inner.journal {
            // Journaled first; the count moves only once it is kept.
            Some(journal) => journal
                .append(entry, |entry| {
                    self.inner
                        .writes_to_commit
                        .send(Message::Record(Write { entry, done: None }))
                        .map_err(|_| stopped())
                })
                .and_then(|sent| sent)
                .map(|()| {
                    self.advance(license, record.metric, count);
                    None
                }),
            // The count moves first: should the commit fail, the writer
            // takes every count back from the database after this.
            None => {
                self.advance(license, record.metric, count);
                let (done, committed) = tokio::sync::oneshot::channel();
                self.inner
                    .writes_to_commit
                    .send(Message::Record(Write {
                        entry,
                        done: Some(done),
                    }))
                    .map(|()| Some(committed))
                    .map_err(|_| stopped())
            }
        };
        if kept.is_err() {
            if let Some(scoped) = &pending {
                lock(&self.inner.pending_keys).remove(scoped);
            }
        }
        kept
    }

    /// Moves a license's count of `metric` in memory to `count`.
    fn advance(&self, license: &str, metric: &str, count: Count) {
        self.inner.latest.update(license, |usage| {
            match usage.metrics.get_mut(metric) {
                Some(kept) => *kept = count,
                None => {
                    usage.metrics.insert(metric.to_string(), count);
                }
            }
            usage.version = usage.version.wrapping_add(1);
        });
    }

    /// Waits (at most `wait`) until every record staged so far is in the
    /// database, and the journal files holding them are gone: for a
    /// gateway stopping, so the database it leaves is complete. Whether it
    /// got there in time.
    pub fn flush(&self, wait: std::time::Duration) -> bool {
        let (done, flushed) = std::sync::mpsc::channel();
        self.inner
            .writes_to_commit
            .send(Message::Flush(done))
            .is_ok()
            && flushed.recv_timeout(wait).is_ok()
    }

    /// Forgets the readings of periods that are over: those older than the
    /// latest period of their license and metric; how many.
    pub fn prune_readings(&self) -> Result<usize, HostError> {
        lock(&self.inner.db)
            .execute(
                "DELETE FROM readings WHERE period_start_unix < (
                   SELECT MAX(period_start_unix) FROM counts c
                   WHERE c.license = readings.license AND c.metric = readings.metric)",
                [],
            )
            .map_err(|e| store_error(&e))
    }

    /// Forgets idempotency keys older than `before_unix`; how many.
    pub fn prune_requests(&self, before_unix: i64) -> Result<usize, HostError> {
        lock(&self.inner.db)
            .execute(
                "DELETE FROM idempotency WHERE at_unix < ?1",
                params![before_unix],
            )
            .map_err(|e| store_error(&e))
    }
}

/// A poisoned lock only means a thread panicked while holding it; the data
/// (plain maps, a connection) is still consistent, so keep going.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn db_error(path: &Path, error: &rusqlite::Error) -> HostError {
    HostError::Store {
        detail: format!("`{}`: {error}", path.display()),
    }
}

fn store_error(error: &rusqlite::Error) -> HostError {
    HostError::Store {
        detail: error.to_string(),
    }
}
