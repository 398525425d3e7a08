//! Stores a fleet of gateways shares its counts in, so that several
//! gateways give a license one quota, not one each: Redis (`redis.rs`) and
//! PostgreSQL (`postgres.rs`), each counting a consuming check in one
//! atomic step with the same outcomes. The embedded SQLite meter
//! (`meter.rs`) stays the single node's store.

use std::time::Duration;

use entitle_core::Timestamp;

use crate::error::HostError;

/// How long a key's first outcome is kept for retries, in every store.
pub const KEY_KEPT: Duration = Duration::from_secs(24 * 60 * 60);

pub mod postgres;
pub mod redis;

/// A fleet's store, chosen by its address.
#[derive(Clone)]
pub enum SharedCounts {
    /// `redis://` or `rediss://`.
    Redis(redis::RedisCounts),
    /// `postgres://` or `postgresql://`.
    Postgres(postgres::PostgresCounts),
}

impl SharedCounts {
    /// Connects to the store `url` names by its scheme.
    pub async fn connect(url: &str) -> Result<SharedCounts, HostError> {
        match url.split_once("://").map(|(scheme, _)| scheme) {
            Some("redis" | "rediss") => Ok(SharedCounts::Redis(
                redis::RedisCounts::connect(url, "entitle").await?,
            )),
            Some("postgres" | "postgresql") => Ok(SharedCounts::Postgres(
                postgres::PostgresCounts::connect(url).await?,
            )),
            _ => Err(HostError::Store {
                detail: String::from(
                    "a shared store's address starts with `redis://`, `rediss://`, `postgres://` or `postgresql://`",
                ),
            }),
        }
    }

    /// Counts one consuming check, atomically with every other gateway's.
    pub async fn consume(&self, consume: &Consume<'_>) -> Result<Consumed, HostError> {
        match self {
            SharedCounts::Redis(store) => store.consume(consume).await,
            SharedCounts::Postgres(store) => store.consume(consume).await,
        }
    }

    /// A license's count of a metric in the period starting at
    /// `period_start` (0 when nothing was counted).
    pub async fn used(
        &self,
        license: &str,
        metric: &str,
        period_start: Timestamp,
    ) -> Result<u64, HostError> {
        match self {
            SharedCounts::Redis(store) => store.used(license, metric, period_start).await,
            SharedCounts::Postgres(store) => store.used(license, metric, period_start).await,
        }
    }

    /// The most a count, an amount or a ceiling may be in this store.
    pub fn most(&self) -> u64 {
        match self {
            SharedCounts::Redis(_) => redis::MOST,
            SharedCounts::Postgres(_) => postgres::MOST,
        }
    }
}

/// One consuming check as the store counts it.
#[derive(Debug, Clone, Copy)]
pub struct Consume<'a> {
    /// The license consuming.
    pub license: &'a str,
    /// Its metric.
    pub metric: &'a str,
    /// The start of the count's period: a new period is a new count.
    pub period_start: Timestamp,
    /// The end of the count's period: the count expires then.
    pub period_end: Timestamp,
    /// Units asked for.
    pub amount: u64,
    /// The most the count may reach with this request (the limit and any
    /// grace, as the module gives them); `None` when unlimited.
    pub ceiling: Option<u64>,
    /// The request's idempotency key and its fingerprint, if it has one.
    pub key: Option<(&'a str, &'a str)>,
    /// The instant of the check.
    pub now: Timestamp,
}

/// What the store did with a consuming check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Consumed {
    /// Counted: the count was `before` and is now `before + amount`.
    Admitted {
        /// The count before this request.
        before: u64,
    },
    /// Not counted: it would have passed the ceiling; the count is `used`.
    Refused {
        /// The count the request was refused on.
        used: u64,
    },
    /// A retry of a keyed request: its first outcome, on the count and at
    /// the instant the first was decided on, so the module answers it again
    /// the same way. Nothing is counted.
    Replayed {
        /// Whether the first was counted.
        admitted: bool,
        /// The count the first was decided on.
        before: u64,
        /// The instant the first was decided at.
        at: Timestamp,
    },
    /// The key was first sent with another request: refused, not counted.
    KeyReused,
}

impl Consumed {
    /// Reads a store's reply (`outcome`, the count before, the instant of
    /// the first check) to `consume`, for a store whose counts hold at most
    /// `most`; what is wrong with the reply otherwise.
    fn from_reply(
        consume: &Consume<'_>,
        outcome: &str,
        before: u64,
        at: &str,
        most: u64,
    ) -> Result<Consumed, String> {
        let replayed = |admitted| {
            let at =
                Timestamp::parse(at).ok_or_else(|| format!("`{at}` kept as a key's instant"))?;
            Ok(Consumed::Replayed {
                admitted,
                before,
                at,
            })
        };
        match outcome {
            "admitted" => Ok(Consumed::Admitted { before }),
            // Unlimited, only the store's own bound refuses.
            "refused" if consume.ceiling.is_none() => Err(format!(
                "the count of `{}` `{}` would pass the {most} a shared count holds",
                consume.license, consume.metric
            )),
            "refused" => Ok(Consumed::Refused { used: before }),
            "replayed_admitted" => replayed(true),
            "replayed_refused" => replayed(false),
            "key_reused" => Ok(Consumed::KeyReused),
            other => Err(format!("`{other}` answered to a consume")),
        }
    }
}
