//! Counts a fleet of gateways shares in PostgreSQL: one call of the
//! `entitle_consume` function (`consume.sql`, created and replaced by the
//! gateway as it connects) per consuming check checks it against its
//! ceiling, moves the count and keeps the idempotency key's outcome in one
//! transaction, so gateways on one database never admit past the ceiling
//! between them and a retried request is counted once.

use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::NoTls;

use entitle_core::Timestamp;

use super::{Consume, Consumed, Counted, Lease, Newest, SeatClaim, SeatTake, KEY_KEPT};

mod batch;

use crate::error::HostError;
use prometheus_client::metrics::counter::Counter;

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
    /// Checks waiting for their count's call in flight.
    batches: std::sync::Arc<batch::Batches>,
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
        let counts = PostgresCounts {
            pool,
            address,
            batches: std::sync::Arc::default(),
        };
        let client = counts.client().await?;
        tokio::time::timeout(WAIT, client.batch_execute(include_str!("consume.sql")))
            .await
            .map_err(|_| counts.timed_out())?
            .map_err(|e| counts.error(&e))?;
        tokio::time::timeout(WAIT, client.batch_execute(include_str!("seats.sql")))
            .await
            .map_err(|_| counts.timed_out())?
            .map_err(|e| counts.error(&e))?;
        Ok(counts)
    }

    /// The counters of batched calls and of the checks they carried.
    pub fn batches(&self) -> (Counter, Counter) {
        (self.batches.calls.clone(), self.batches.checks.clone())
    }

    /// Takes or renews a floating seat (`entitle_seat_claim`, `seats.sql`),
    /// or only reads the seats with a limit of 0.
    pub async fn seat_claim(&self, take: &SeatTake<'_>) -> Result<SeatClaim, HostError> {
        let limit = i64::try_from(take.limit).unwrap_or(i64::MAX);
        let deadline = tokio::time::Instant::now() + WAIT;
        let client = self.client_by(deadline).await?;
        let params: [&(dyn tokio_postgres::types::ToSql + Sync); 5] = [
            &take.license,
            &take.fingerprint,
            &take.now_ms,
            &take.expires_ms,
            &limit,
        ];
        let query = client.query_one(
            "SELECT r_granted, r_others, r_mine FROM entitle_seat_claim($1, $2, $3, $4, $5)",
            &params,
        );
        let row = tokio::time::timeout_at(deadline, query)
            .await
            .map_err(|_| self.timed_out())?
            .map_err(|e| self.error(&e))?;
        Ok(SeatClaim {
            granted: row.get(0),
            others: self.count_of(row.get(1))?,
            held: row.get(2),
        })
    }

    /// Gives a seat up; whether it was held.
    pub async fn seat_release(&self, license: &str, fingerprint: &str) -> Result<bool, HostError> {
        let deadline = tokio::time::Instant::now() + WAIT;
        let client = self.client_by(deadline).await?;
        let params: [&(dyn tokio_postgres::types::ToSql + Sync); 2] = [&license, &fingerprint];
        let query = client.execute(
            "DELETE FROM entitle_seats WHERE license = $1 AND fingerprint = $2",
            &params,
        );
        let removed = tokio::time::timeout_at(deadline, query)
            .await
            .map_err(|_| self.timed_out())?
            .map_err(|e| self.error(&e))?;
        Ok(removed > 0)
    }

    /// The seats of a license held at `now_ms`.
    pub async fn seats_held(&self, license: &str, now_ms: i64) -> Result<u64, HostError> {
        let deadline = tokio::time::Instant::now() + WAIT;
        let client = self.client_by(deadline).await?;
        let params: [&(dyn tokio_postgres::types::ToSql + Sync); 2] = [&license, &now_ms];
        let query = client.query_one(
            "SELECT count(*) FROM entitle_seats WHERE license = $1 AND expires_ms > $2",
            &params,
        );
        let row = tokio::time::timeout_at(deadline, query)
            .await
            .map_err(|_| self.timed_out())?
            .map_err(|e| self.error(&e))?;
        self.count_of(row.get(0))
    }

    /// Counts one consuming check, atomically with every other gateway's;
    /// checks of a count that arrive while this gateway's call for it is in
    /// flight go together in the next call (`postgres/batch.rs`).
    pub async fn consume(&self, consume: &Consume<'_>) -> Result<Consumed, HostError> {
        self.consume_batched(batch::Args::of(consume)?).await
    }

    /// Gives back a lease's unspent units, once (`None` when it was
    /// settled before).
    pub async fn settle(&self, lease: &Lease<'_>) -> Result<Option<u64>, HostError> {
        let unused = i64::try_from(lease.unused.min(MOST)).unwrap_or(i64::MAX);
        let kept = i64::try_from(KEY_KEPT.as_secs()).unwrap_or(i64::MAX);
        let kept_until = lease
            .period_start
            .unix()
            .max(now_unix())
            .saturating_add(kept);
        let start = lease.period_start.unix();
        let deadline = tokio::time::Instant::now() + WAIT;
        let client = self.client_by(deadline).await?;
        let params: [&(dyn tokio_postgres::types::ToSql + Sync); 6] = [
            &lease.license,
            &lease.metric,
            &start,
            &lease.id,
            &unused,
            &kept_until,
        ];
        let query = client.query_one("SELECT entitle_settle($1, $2, $3, $4, $5, $6)", &params);
        let row = tokio::time::timeout_at(deadline, query)
            .await
            .map_err(|_| self.timed_out())?
            .map_err(|e| self.error(&e))?;
        let back: i64 = row.get(0);
        Ok(u64::try_from(back).ok())
    }

    /// A license's count of a metric in the period starting at
    /// `period_start` (nothing used when nothing was counted).
    pub async fn count(
        &self,
        license: &str,
        metric: &str,
        period_start: Timestamp,
    ) -> Result<Counted, HostError> {
        let deadline = tokio::time::Instant::now() + WAIT;
        let client = self.client_by(deadline).await?;
        let start = period_start.unix();
        let params: [&(dyn tokio_postgres::types::ToSql + Sync); 3] = [&license, &metric, &start];
        let query = client.query_opt(
            "SELECT used, soft_exceeded_at FROM entitle_counts WHERE license = $1 AND metric = $2 AND period_start = $3",
            &params,
        );
        let row = tokio::time::timeout_at(deadline, query)
            .await
            .map_err(|_| self.timed_out())?
            .map_err(|e| self.error(&e))?;
        match row {
            Some(row) => self.counted(row.get(0), row.get(1)),
            None => Ok(Counted::default()),
        }
    }

    /// A license's newest count of every metric it consumed.
    pub async fn counts(&self, license: &str) -> Result<Vec<Newest>, HostError> {
        let deadline = tokio::time::Instant::now() + WAIT;
        let client = self.client_by(deadline).await?;
        let params: [&(dyn tokio_postgres::types::ToSql + Sync); 1] = [&license];
        let query = client.query(
            "SELECT DISTINCT ON (metric) metric, period_start, used, soft_exceeded_at \
             FROM entitle_counts WHERE license = $1 ORDER BY metric, period_start DESC",
            &params,
        );
        let rows = tokio::time::timeout_at(deadline, query)
            .await
            .map_err(|_| self.timed_out())?
            .map_err(|e| self.error(&e))?;
        rows.iter()
            .map(|row| {
                let start: i64 = row.get(1);
                Ok(Newest {
                    metric: row.get(0),
                    period_start: Timestamp::from_unix(start).ok_or_else(|| {
                        self.bad_reply(&format!("`{start}` kept as a period's start"))
                    })?,
                    counted: self.counted(row.get(2), row.get(3))?,
                })
            })
            .collect()
    }

    /// Deletes counts of periods that ended before `now`, keys kept past
    /// their time and seats past their expiry; the rows deleted.
    pub async fn prune(&self, now: Timestamp) -> Result<u64, HostError> {
        let client = self.client().await?;
        let now = now.unix();
        let params: [&(dyn tokio_postgres::types::ToSql + Sync); 1] = [&now];
        let counts = client.execute("DELETE FROM entitle_counts WHERE period_end <= $1", &params);
        let counts = tokio::time::timeout(WAIT, counts)
            .await
            .map_err(|_| self.timed_out())?
            .map_err(|e| self.error(&e))?;
        let keys = client.execute("DELETE FROM entitle_keys WHERE kept_until <= $1", &params);
        let keys = tokio::time::timeout(WAIT, keys)
            .await
            .map_err(|_| self.timed_out())?
            .map_err(|e| self.error(&e))?;
        let settled = client.execute(
            "DELETE FROM entitle_settled WHERE kept_until <= $1",
            &params,
        );
        let settled = tokio::time::timeout(WAIT, settled)
            .await
            .map_err(|_| self.timed_out())?
            .map_err(|e| self.error(&e))?;
        let ms = now.saturating_mul(1000);
        let params: [&(dyn tokio_postgres::types::ToSql + Sync); 1] = [&ms];
        let seats = client.execute("DELETE FROM entitle_seats WHERE expires_ms <= $1", &params);
        let seats = tokio::time::timeout(WAIT, seats)
            .await
            .map_err(|_| self.timed_out())?
            .map_err(|e| self.error(&e))?;
        Ok(counts
            .saturating_add(keys)
            .saturating_add(settled)
            .saturating_add(seats))
    }

    /// Where the store is, without credentials.
    pub fn address(&self) -> &str {
        &self.address
    }

    fn counted(&self, used: i64, soft: Option<String>) -> Result<Counted, HostError> {
        let soft_exceeded_at = match soft.as_deref() {
            None | Some("") => None,
            Some(text) => Some(Timestamp::parse(text).ok_or_else(|| {
                self.bad_reply(&format!("`{text}` kept as a soft limit's crossing"))
            })?),
        };
        Ok(Counted {
            used: self.count_of(used)?,
            soft_exceeded_at,
        })
    }

    fn count_of(&self, used: i64) -> Result<u64, HostError> {
        u64::try_from(used).map_err(|_| self.bad_reply(&format!("a count of `{used}`")))
    }

    fn bad_reply(&self, detail: &str) -> HostError {
        HostError::Store {
            detail: format!("postgres {}: {detail}", self.address),
        }
    }

    /// A connection of the pool by `deadline`: a call's wait for a
    /// connection and its query share one `WAIT`.
    async fn client_by(
        &self,
        deadline: tokio::time::Instant,
    ) -> Result<deadpool_postgres::Object, HostError> {
        tokio::time::timeout_at(deadline, self.client())
            .await
            .map_err(|_| self.timed_out())?
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

/// The wall clock in Unix seconds: only how long a settlement is kept
/// depends on it.
fn now_unix() -> i64 {
    chrono::Utc::now().timestamp()
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
