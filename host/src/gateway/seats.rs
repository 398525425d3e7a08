//! Where a gateway keeps who holds the floating seats: a table in its own
//! SQLite meter (one node), or the store a fleet shares (Redis, PostgreSQL),
//! beside the counts. A seat is a fingerprint held until an expiry; taking
//! or renewing one is a single atomic step against a limit the module gave,
//! so gateways on one store never hand out more seats than the license has.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension};

use super::store::{SeatClaim, SeatTake, SharedCounts};
use crate::error::HostError;

/// How long a seat is held without a renewal unless `--seat-ttl-ms` says.
pub const DEFAULT_TTL: Duration = Duration::from_secs(600);

/// The longest fingerprint taken, in bytes.
pub const FINGERPRINT_MAX: usize = 256;

/// The seats' store and how long a seat lives between renewals.
#[derive(Clone)]
pub struct Seats {
    store: SeatStore,
    /// How long a seat is held after it is taken or renewed.
    pub ttl: Duration,
}

#[derive(Clone)]
enum SeatStore {
    /// A table of the gateway's own SQLite file.
    Local {
        db: Arc<Mutex<Connection>>,
        path: PathBuf,
    },
    /// The fleet's store.
    Shared(SharedCounts),
}

impl Seats {
    /// Seats kept in the SQLite database at `path` (the meter's file), in
    /// a table of their own.
    pub fn local(path: &Path, ttl: Duration) -> Result<Seats, HostError> {
        let db = Connection::open(path).map_err(|e| db_error(path, &e))?;
        db.execute_batch(
            "PRAGMA busy_timeout=5000;
             CREATE TABLE IF NOT EXISTS seats (
               license TEXT NOT NULL,
               fingerprint TEXT NOT NULL,
               expires_ms INTEGER NOT NULL,
               PRIMARY KEY (license, fingerprint)
             );",
        )
        .map_err(|e| db_error(path, &e))?;
        Ok(Seats {
            store: SeatStore::Local {
                db: Arc::new(Mutex::new(db)),
                path: path.to_path_buf(),
            },
            ttl,
        })
    }

    /// Seats kept in a fleet's store.
    pub fn shared(store: SharedCounts, ttl: Duration) -> Seats {
        Seats {
            store: SeatStore::Shared(store),
            ttl,
        }
    }

    /// Takes or renews a seat until `take.expires_ms` when the seats others
    /// hold stay under `take.limit`; a limit of 0 only reads.
    pub async fn claim(&self, take: &SeatTake<'_>) -> Result<SeatClaim, HostError> {
        match &self.store {
            SeatStore::Shared(store) => store.seat_claim(take).await,
            SeatStore::Local { db, path } => {
                let (db, path) = (Arc::clone(db), path.clone());
                let (license, fingerprint) =
                    (take.license.to_string(), take.fingerprint.to_string());
                let (now, expires, limit) = (take.now_ms, take.expires_ms, take.limit);
                blocking(move || {
                    let mut db = db.lock().unwrap_or_else(PoisonError::into_inner);
                    claim_local(&mut db, &license, &fingerprint, now, expires, limit)
                        .map_err(|e| db_error(&path, &e))
                })
                .await
            }
        }
    }

    /// Gives a seat up; whether it was held. Releasing a seat not held is
    /// not an error: a release sent twice frees it once.
    pub async fn release(&self, license: &str, fingerprint: &str) -> Result<bool, HostError> {
        match &self.store {
            SeatStore::Shared(store) => store.seat_release(license, fingerprint).await,
            SeatStore::Local { db, path } => {
                let (db, path) = (Arc::clone(db), path.clone());
                let (license, fingerprint) = (license.to_string(), fingerprint.to_string());
                blocking(move || {
                    let db = db.lock().unwrap_or_else(PoisonError::into_inner);
                    db.execute(
                        "DELETE FROM seats WHERE license = ?1 AND fingerprint = ?2",
                        (&license, &fingerprint),
                    )
                    .map(|n| n > 0)
                    .map_err(|e| db_error(&path, &e))
                })
                .await
            }
        }
    }

    /// The seats of a license held at `now_ms`.
    pub async fn held(&self, license: &str, now_ms: i64) -> Result<u64, HostError> {
        match &self.store {
            SeatStore::Shared(store) => store.seats_held(license, now_ms).await,
            SeatStore::Local { db, path } => {
                let (db, path) = (Arc::clone(db), path.clone());
                let license = license.to_string();
                blocking(move || {
                    let db = db.lock().unwrap_or_else(PoisonError::into_inner);
                    db.query_row(
                        "SELECT count(*) FROM seats WHERE license = ?1 AND expires_ms > ?2",
                        (&license, now_ms),
                        |row| row.get::<_, i64>(0),
                    )
                    .map(|n| u64::try_from(n).unwrap_or(0))
                    .map_err(|e| db_error(&path, &e))
                })
                .await
            }
        }
    }
}

/// One seat taken in one SQLite transaction: expired seats dropped, the
/// others counted, the seat written when they leave one under `limit`.
fn claim_local(
    db: &mut Connection,
    license: &str,
    fingerprint: &str,
    now_ms: i64,
    expires_ms: i64,
    limit: u64,
) -> Result<SeatClaim, rusqlite::Error> {
    let tx = db.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    tx.execute(
        "DELETE FROM seats WHERE license = ?1 AND expires_ms <= ?2",
        (license, now_ms),
    )?;
    let held = tx
        .query_row(
            "SELECT 1 FROM seats WHERE license = ?1 AND fingerprint = ?2",
            (license, fingerprint),
            |_| Ok(()),
        )
        .optional()?
        .is_some();
    let all: i64 = tx.query_row(
        "SELECT count(*) FROM seats WHERE license = ?1",
        [license],
        |row| row.get(0),
    )?;
    let others = u64::try_from(all)
        .unwrap_or(0)
        .saturating_sub(u64::from(held));
    let granted = others < limit;
    if granted {
        tx.execute(
            "INSERT INTO seats (license, fingerprint, expires_ms) VALUES (?1, ?2, ?3)
             ON CONFLICT (license, fingerprint) DO UPDATE SET expires_ms = excluded.expires_ms",
            (license, fingerprint, expires_ms),
        )?;
    }
    tx.commit()?;
    Ok(SeatClaim {
        granted,
        others,
        held,
    })
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, HostError> + Send + 'static,
) -> Result<T, HostError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| HostError::Store {
            detail: format!("seats: {e}"),
        })?
}

fn db_error(path: &Path, error: &rusqlite::Error) -> HostError {
    HostError::Store {
        detail: format!("seats in `{}`: {error}", path.display()),
    }
}
