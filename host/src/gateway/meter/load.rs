//! Reading the meter's database as it opens: keys of an older layout moved
//! under their licenses, and every license's latest counts.

use std::collections::HashMap;
use std::sync::Arc;

use entitle_core::Timestamp;
use rusqlite::types::{FromSqlError, Type};
use rusqlite::{Connection, Row};

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
                period_start: instant(row, 2)?,
                used: u64::try_from(used).unwrap_or_default(),
                soft_exceeded_at: match row.get::<_, Option<String>>(4)? {
                    Some(_) => Some(instant(row, 4)?),
                    None => None,
                },
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

/// An instant the meter wrote (as answers write it); a text that is not one
/// fails the meter's opening instead of being counted as nothing.
fn instant(row: &Row<'_>, column: usize) -> rusqlite::Result<Timestamp> {
    let text: String = row.get(column)?;
    Timestamp::parse(&text).ok_or_else(|| {
        let detail = format!("`{text}` is not an instant");
        rusqlite::Error::FromSqlConversionFailure(
            column,
            Type::Text,
            Box::new(FromSqlError::Other(detail.into())),
        )
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    /// A row of `counts`: license, metric, period start (unix, text),
    /// used, soft limit crossed at.
    type Row<'a> = (&'a str, &'a str, i64, &'a str, i64, Option<&'a str>);

    fn counts(rows: &[Row<'_>]) -> Connection {
        let db = Connection::open_in_memory().unwrap();
        db.execute_batch(
            "CREATE TABLE counts (license TEXT, metric TEXT, period_start TEXT,
               period_start_unix INTEGER, used INTEGER, soft_exceeded_at TEXT)",
        )
        .unwrap();
        for (license, metric, start_unix, start, used, soft) in rows {
            db.execute(
                "INSERT INTO counts VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                rusqlite::params![license, metric, start, start_unix, used, soft],
            )
            .unwrap();
        }
        db
    }

    #[test]
    fn the_latest_period_of_each_count_is_read_with_its_instants() {
        let db = counts(&[
            (
                "lic",
                "api_calls",
                1_761_955_200,
                "2025-11-01T00:00:00Z",
                40,
                None,
            ),
            (
                "lic",
                "api_calls",
                1_764_547_200,
                "2025-12-01T00:00:00Z",
                7,
                Some("2025-12-02T10:30:00Z"),
            ),
        ]);
        let latest = load_latest(&db).unwrap();
        let count = latest["lic"].metrics["api_calls"];
        assert_eq!(count.used, 7);
        assert_eq!(count.period_start.to_string(), "2025-12-01T00:00:00Z");
        assert_eq!(count.period_start.unix(), 1_764_547_200);
        assert_eq!(
            count.soft_exceeded_at.map(|t| t.to_string()).as_deref(),
            Some("2025-12-02T10:30:00Z")
        );
    }

    #[test]
    fn a_stored_instant_that_is_not_one_fails_the_opening() {
        for (start, soft) in [("december", None), ("2025-12-01T00:00:00Z", Some("soon"))] {
            let db = counts(&[("lic", "api_calls", 1_764_547_200, start, 7, soft)]);
            let error = load_latest(&db).unwrap_err().to_string();
            assert!(error.contains("is not an instant"), "{error}");
        }
    }
}
