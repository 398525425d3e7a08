//! Counts a fleet of gateways shares in PostgreSQL: one call of the
//! `entitle_consume` function (`consume.sql`, created and replaced by the
//! gateway as it connects) per consuming check checks it against its
//! ceiling, moves the count and keeps the idempotency key's outcome in one
//! transaction, so gateways on one database never admit past the ceiling
//! between them and a retried request is counted once.

use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::NoTls;

use super::{Consume, Consumed, KEY_KEPT};
use crate::error::HostError;

/// The most a count, an amount or a ceiling may be: a `bigint`.
pub const MOST: u64 = i64::MAX as u64;

/// How long connecting and each call may take: a check is never held
/// longer on an unreachable store.
pub const WAIT: Duration = Duration::from_secs(1);

/// Connections kept open to the database.
const CONNECTIONS: usize = 16;

/// A pool of connections to a fleet's PostgreSQL.
#[derive(Clone)]
pub struct PostgresCounts {
    pool: Pool,
    /// The address without credentials, for errors.
    address: String,
}

impl PostgresCounts {
    /// Connects to PostgreSQL at `url` (`postgres://user@host:port/db` or
    /// key-value settings) and creates or brings up to date the tables and
    /// the function it counts with. Fails when the database cannot be
    /// reached or refuses them.
    pub async fn connect(url: &str) -> Result<PostgresCounts, HostError> {
        let mut config: tokio_postgres::Config = url.parse().map_err(|e| HostError::Store {
            detail: format!("postgres: `--meter` is not a connection string: {e}"),
        })?;
        config.connect_timeout(WAIT);
        let address = address(&config);
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(CONNECTIONS)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(WAIT))
            .create_timeout(Some(WAIT))
            .recycle_timeout(Some(WAIT))
            .build()
            .map_err(|e| HostError::Store {
                detail: format!("postgres {address}: {e}"),
            })?;
        let counts = PostgresCounts { pool, address };
        let client = counts.client().await?;
        tokio::time::timeout(WAIT, client.batch_execute(include_str!("consume.sql")))
            .await
            .map_err(|_| counts.timed_out())?
            .map_err(|e| counts.error(&e))?;
        Ok(counts)
    }

    /// Counts one consuming check, atomically with every other gateway's.
    pub async fn consume(&self, consume: &Consume<'_>) -> Result<Consumed, HostError> {
        let bigint = |what: &str, n: u64| {
            i64::try_from(n).map_err(|_| HostError::Store {
                detail: format!("{what} `{n}` is past the {MOST} a shared count holds"),
            })
        };
        let amount = bigint("an amount", consume.amount)?;
        let ceiling = bigint("a ceiling", consume.ceiling.unwrap_or(MOST))?;
        let (key, fingerprint) = match consume.key {
            Some((key, fingerprint)) => (Some(key), Some(fingerprint)),
            None => (None, None),
        };
        let kept = i64::try_from(KEY_KEPT.as_secs()).unwrap_or(i64::MAX);
        let kept_until = consume.now.unix().saturating_add(kept);
        let client = self.client().await?;
        let statement = client
            .prepare_cached("SELECT r_outcome, r_before, r_at FROM entitle_consume($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
            .await
            .map_err(|e| self.error(&e))?;
        let (start, end) = (consume.period_start.unix(), consume.period_end.unix());
        let at = consume.now.to_string();
        let params: [&(dyn tokio_postgres::types::ToSql + Sync); 10] = [
            &consume.license,
            &consume.metric,
            &start,
            &end,
            &amount,
            &ceiling,
            &key,
            &fingerprint,
            &at,
            &kept_until,
        ];
        let row = tokio::time::timeout(WAIT, client.query_one(&statement, &params))
            .await
            .map_err(|_| self.timed_out())?
            .map_err(|e| self.error(&e))?;
        let outcome: String = row.get(0);
        let before: i64 = row.get(1);
        let at: String = row.get(2);
        let before = u64::try_from(before).map_err(|_| HostError::Store {
            detail: format!("postgres {}: a count of `{before}`", self.address),
        })?;
        Consumed::from_reply(consume, &outcome, before, &at, MOST).map_err(|detail| {
            HostError::Store {
                detail: format!("postgres {}: {detail}", self.address),
            }
        })
    }

    /// A license's count of a metric in the period starting at
    /// `period_start` (0 when nothing was counted).
    pub async fn used(
        &self,
        license: &str,
        metric: &str,
        period_start: entitle_core::Timestamp,
    ) -> Result<u64, HostError> {
        let client = self.client().await?;
        let start = period_start.unix();
        let params: [&(dyn tokio_postgres::types::ToSql + Sync); 3] = [&license, &metric, &start];
        let query = client.query_opt(
            "SELECT used FROM entitle_counts WHERE license = $1 AND metric = $2 AND period_start = $3",
            &params,
        );
        let row = tokio::time::timeout(WAIT, query)
            .await
            .map_err(|_| self.timed_out())?
            .map_err(|e| self.error(&e))?;
        let used: i64 = row.map_or(0, |row| row.get(0));
        u64::try_from(used).map_err(|_| HostError::Store {
            detail: format!("postgres {}: a count of `{used}`", self.address),
        })
    }

    async fn client(&self) -> Result<deadpool_postgres::Object, HostError> {
        self.pool.get().await.map_err(|e| HostError::Store {
            detail: format!("postgres {}: {e}", self.address),
        })
    }

    fn error(&self, error: &tokio_postgres::Error) -> HostError {
        HostError::Store {
            detail: format!("postgres {}: {error}", self.address),
        }
    }

    fn timed_out(&self) -> HostError {
        HostError::Store {
            detail: format!(
                "postgres {}: no answer within {} ms",
                self.address,
                WAIT.as_millis()
            ),
        }
    }
}

/// `host:port/dbname` of a connection's settings, never its password.
fn address(config: &tokio_postgres::Config) -> String {
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(host)) => host.clone(),
        #[cfg(unix)]
        Some(tokio_postgres::config::Host::Unix(path)) => path.display().to_string(),
        None => String::from("localhost"),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let db = config.get_dbname().unwrap_or("");
    format!("`{host}:{port}/{db}`")
}
