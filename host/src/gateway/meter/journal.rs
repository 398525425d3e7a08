//! The meter's journal (`--durability process`): each consuming check's
//! record is appended to a file, one JSON line in one `write`, before its
//! answer is sent; the writer thread folds the records into SQLite off the
//! answer's path.
//!
//! A record written to the file is in the kernel's hands, so it survives
//! the process being killed at any instant, which is all `process`
//! durability promises (SQLite's WAL at `synchronous=NORMAL` promised the
//! same). The answer no longer waits for a database transaction, or for a
//! thread to wake it.
//!
//! A record holds the count after its check (not the amount added), so
//! folding a record twice changes nothing: at start the gateway folds every
//! journal file left by the run before, in order, and deletes them. While
//! it runs the writer rotates the file: once every record in the old file
//! is committed, the old file goes.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::sync::{PoisonError, RwLock};

use serde::{Deserialize, Serialize};

use crate::error::HostError;

/// A journal file past this many bytes is rotated after the next commit.
pub(super) const ROTATE_BYTES: u64 = 8 << 20;

/// One record as the journal holds it: what the database is told.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Entry {
    pub(super) license: String,
    pub(super) metric: String,
    pub(super) period_start: String,
    pub(super) start_unix: i64,
    pub(super) used: i64,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub(super) soft_exceeded_at: Option<String>,
    pub(super) interval_unix: i64,
    pub(super) now_unix: i64,
    /// The idempotency key and its request's fingerprint, with the answer.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub(super) key: Option<(String, String)>,
    #[serde(skip_serializing_if = "String::is_empty", default)]
    pub(super) answer: String,
}

/// The file records are appended to, and where its files live.
pub(super) struct Journal {
    /// `<database>.records`: the journal's files, `<n>.jsonl`.
    dir: PathBuf,
    /// The file being appended to and its number. Appends share it (each
    /// record is one `write` to a file opened for appending); rotation
    /// takes it alone.
    current: RwLock<(u64, File)>,
}

impl Journal {
    /// The journal beside `database`; a new file numbered after any left.
    pub(super) fn open(database: &Path) -> Result<Journal, HostError> {
        let dir = dir_of(database);
        std::fs::create_dir_all(&dir).map_err(|e| journal_error(&dir, &e))?;
        let next = files(&dir)?.last().map_or(1, |(n, _)| n + 1);
        let file = create(&dir, next)?;
        Ok(Journal {
            dir,
            current: RwLock::new((next, file)),
        })
    }

    /// Appends `entry` and then runs `then` (handing the record to the
    /// writer thread), both while the file cannot be rotated: so a record
    /// is in a file only once the writer has it or will get it before the
    /// rotation completes.
    pub(super) fn append<T>(
        &self,
        entry: Entry,
        then: impl FnOnce(Entry) -> T,
    ) -> Result<T, HostError> {
        let mut line = serde_json::to_vec(&entry).map_err(|e| HostError::Store {
            detail: format!("a meter record could not be written as JSON: {e}"),
        })?;
        line.push(b'\n');
        let current = self.current.read().unwrap_or_else(PoisonError::into_inner);
        let mut file: &File = &current.1;
        file.write_all(&line)
            .map_err(|e| journal_error(&self.dir, &e))?;
        Ok(then(entry))
    }

    /// Whether the file being appended to has grown past [`ROTATE_BYTES`].
    pub(super) fn is_full(&self) -> bool {
        let current = self.current.read().unwrap_or_else(PoisonError::into_inner);
        current.1.metadata().is_ok_and(|m| m.len() > ROTATE_BYTES)
    }

    /// Starts a new file and returns the old one's path: every record in
    /// it has been handed to the writer by then.
    pub(super) fn rotate(&self) -> Result<PathBuf, HostError> {
        let mut current = self.current.write().unwrap_or_else(PoisonError::into_inner);
        let next = current.0 + 1;
        let file = create(&self.dir, next)?;
        let old = std::mem::replace(&mut *current, (next, file));
        Ok(path_of(&self.dir, old.0))
    }

    /// Removes a file whose records are all committed.
    pub(super) fn remove(&self, path: &Path) {
        if let Err(error) = std::fs::remove_file(path) {
            tracing::warn!(file = %path.display(), %error, "a folded journal file was not removed");
        }
    }
}

/// Takes the meter's lock beside `database` (`<database>.records/lock`),
/// held for as long as the returned file is open: one gateway per meter.
/// A second one would keep counts of its own and fold and remove journal
/// files the first still writes.
pub(super) fn lock(database: &Path) -> Result<File, HostError> {
    let dir = dir_of(database);
    std::fs::create_dir_all(&dir).map_err(|e| journal_error(&dir, &e))?;
    let path = dir.join("lock");
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| journal_error(&path, &e))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(HostError::Store {
            detail: format!(
                "`{}` is in use by another gateway: give each gateway a database of its own",
                database.display()
            ),
        }),
        Err(std::fs::TryLockError::Error(e)) => Err(journal_error(&path, &e)),
    }
}

/// Every record in the journal files beside `database`, oldest first, with
/// the files they came from. The last line of the last file may be cut
/// short by a kill during its `write`: its answer was never sent, so it is
/// dropped. Any other line that does not read is an error naming it.
pub(super) fn recover(database: &Path) -> Result<(Vec<Entry>, Vec<PathBuf>), HostError> {
    let dir = dir_of(database);
    if !dir.exists() {
        return Ok((Vec::new(), Vec::new()));
    }
    let files = files(&dir)?;
    let mut entries = Vec::new();
    let count = files.len();
    for (index, (_, path)) in files.iter().enumerate() {
        let file = File::open(path).map_err(|e| journal_error(path, &e))?;
        let lines: Vec<String> = BufReader::new(file)
            .lines()
            .collect::<Result<_, _>>()
            .map_err(|e| journal_error(path, &e))?;
        let last = lines.len();
        for (number, line) in lines.iter().enumerate() {
            match serde_json::from_str::<Entry>(line) {
                Ok(entry) => entries.push(entry),
                Err(_) if index + 1 == count && number + 1 == last => {
                    tracing::warn!(file = %path.display(), line = number + 1, "a journal line cut short by a stop is dropped");
                }
                Err(error) => {
                    return Err(HostError::Store {
                        detail: format!(
                            "`{}` line {}: not a meter record ({error}); move the file away to start without it",
                            path.display(),
                            number + 1
                        ),
                    })
                }
            }
        }
    }
    Ok((entries, files.into_iter().map(|(_, p)| p).collect()))
}

fn dir_of(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(".records");
    PathBuf::from(name)
}

fn path_of(dir: &Path, number: u64) -> PathBuf {
    dir.join(format!("{number:012}.jsonl"))
}

fn create(dir: &Path, number: u64) -> Result<File, HostError> {
    let path = path_of(dir, number);
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|e| journal_error(&path, &e))
}

/// The journal's files in order of their numbers.
fn files(dir: &Path) -> Result<Vec<(u64, PathBuf)>, HostError> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| journal_error(dir, &e))? {
        let path = entry.map_err(|e| journal_error(dir, &e))?.path();
        let number = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".jsonl"))
            .and_then(|n| n.parse::<u64>().ok());
        if let Some(number) = number {
            found.push((number, path));
        }
    }
    found.sort();
    Ok(found)
}

fn journal_error(path: &Path, error: &std::io::Error) -> HostError {
    HostError::Store {
        detail: format!("meter journal `{}`: {error}", path.display()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn entry(used: i64) -> Entry {
        Entry {
            license: String::from("lic"),
            metric: String::from("api_calls"),
            period_start: String::from("2026-12-01T00:00:00Z"),
            start_unix: 1_796_083_200,
            used,
            soft_exceeded_at: None,
            interval_unix: 1_796_083_200,
            now_unix: 1_796_083_201,
            key: None,
            answer: String::new(),
        }
    }

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("entitle-journal-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("meter.db")
    }

    #[test]
    fn records_come_back_in_order_across_rotations() {
        let db = scratch("order");
        let journal = Journal::open(&db).unwrap();
        let mut handed = Vec::new();
        for used in 1..=5 {
            journal
                .append(entry(used), |e| handed.push(e.used))
                .unwrap();
            if used == 2 {
                journal.rotate().unwrap();
            }
        }
        assert_eq!(handed, [1, 2, 3, 4, 5]);
        let (entries, files) = recover(&db).unwrap();
        assert_eq!(
            entries.iter().map(|e| e.used).collect::<Vec<_>>(),
            [1, 2, 3, 4, 5]
        );
        assert_eq!(files.len(), 2);
        // A journal opened after them numbers its file after theirs.
        drop(journal);
        let next = Journal::open(&db).unwrap();
        next.append(entry(6), |_| ()).unwrap();
        let (entries, _) = recover(&db).unwrap();
        assert_eq!(entries.last().map(|e| e.used), Some(6));
    }

    #[test]
    fn a_last_line_cut_short_is_dropped_and_any_other_bad_line_refused() {
        let db = scratch("torn");
        let journal = Journal::open(&db).unwrap();
        journal.append(entry(1), |_| ()).unwrap();
        journal.append(entry(2), |_| ()).unwrap();
        let path = path_of(&dir_of(&db), 1);
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(br#"{"license":"lic","met"#).unwrap();
        let (entries, _) = recover(&db).unwrap();
        assert_eq!(entries.iter().map(|e| e.used).collect::<Vec<_>>(), [1, 2]);
        // The same line anywhere but last is damage, not a stop.
        file.write_all(b"\n").unwrap();
        journal.append(entry(3), |_| ()).unwrap();
        let refused = recover(&db).unwrap_err().to_string();
        assert!(refused.contains("line 3"), "{refused}");
    }
}
