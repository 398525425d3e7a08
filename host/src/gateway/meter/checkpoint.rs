//! Checkpoints off the writer thread: a thread of its own, on a connection
//! of its own, moves what the WAL holds into the database every few
//! milliseconds, so that the writer's own checkpoints (SQLite runs one
//! inside a commit once the WAL passes 1,000 pages) find little left to
//! copy and flush, and answers waiting for a commit do not wait for a long
//! flush. Durability is unchanged: a commit is in the WAL, with the
//! database's `synchronous` setting, before its answers are released;
//! checkpoints only move committed pages.

use std::path::Path;
use std::sync::Weak;
use std::time::Duration;

use rusqlite::Connection;

use super::Inner;
use crate::error::HostError;

/// How often the checkpoint thread runs a passive checkpoint.
const EVERY: Duration = Duration::from_millis(25);

/// Starts the checkpoint thread on its own connection to `path`; it ends
/// when the meter is dropped.
pub(super) fn start(path: &Path, meter: Weak<Inner>) -> Result<(), HostError> {
    let db = Connection::open(path).map_err(|e| super::db_error(path, &e))?;
    std::thread::Builder::new()
        .name(String::from("entitle-checkpoint"))
        .spawn(move || run(&db, &meter))
        .map(|_| ())
        .map_err(|e| HostError::Store {
            detail: format!("cannot start the meter's checkpoint thread: {e}"),
        })
}

fn run(db: &Connection, meter: &Weak<Inner>) {
    loop {
        std::thread::sleep(EVERY);
        if meter.strong_count() == 0 {
            return;
        }
        // A passive checkpoint never waits for the writer; when it cannot
        // run, the next one (or the writer's own) does the work.
        if let Err(error) = db.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::debug!(%error, "passive checkpoint skipped");
        }
    }
}
