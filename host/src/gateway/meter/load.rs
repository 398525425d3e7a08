//! Reading the meter's database as it opens: keys of an older layout moved
//! under their licenses, and every license's latest counts.

use std::collections::HashMap;
use std::sync::Arc;

use rusqlite::Connection;

use super::{Count, LicenseUsage};

/// Moves the keys of a meter written before keys were scoped to a license
/// (one global `requests` table) under their licenses. Their requests'
/// fingerprints were never stored, so they match no request: a retry of one
/// across the upgrade is refused as a reused key, never allowed twice.
pub(super) fn migrate_keys(db: &Connection) -> rusqlite::Result<()> {
    let legacy: i64 = db.query_row(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'requests'",
        [],
        |row| row.get(0),
    )?;
    if legacy == 0 {
        return Ok(());
    }
    db.execute_batch(
        "BEGIN IMMEDIATE;
         INSERT OR IGNORE INTO idempotency (license, key, fingerprint, answer, at_unix)
           SELECT license, key, NULL, answer, at_unix FROM requests;
         DROP TABLE requests;
         COMMIT;",
    )
}

pub(super) fn load_latest(db: &Connection) -> rusqlite::Result<HashMap<String, Arc<LicenseUsage>>> {
    let mut statement = db.prepare(
        "SELECT license, metric, period_start, used, soft_exceeded_at FROM counts c
         WHERE period_start_unix = (SELECT MAX(period_start_unix) FROM counts d
                                    WHERE d.license = c.license AND d.metric = c.metric)",
    )?;
    let rows = statement.query_map([], |row| {
        let used: i64 = row.get(3)?;
        Ok((
            row.get::<_, String>(0)?,
            row.get::<_, String>(1)?,
            Count {
                period_start: row.get(2)?,
                used: u64::try_from(used).unwrap_or_default(),
                soft_exceeded_at: row.get(4)?,
            },
        ))
    })?;
    let mut by_license: HashMap<String, LicenseUsage> = HashMap::new();
    for row in rows {
        let (license, metric, count) = row?;
        by_license
            .entry(license)
            .or_default()
            .metrics
            .insert(metric, count);
    }
    Ok(by_license
        .into_iter()
        .map(|(license, usage)| (license, Arc::new(usage)))
        .collect())
}
