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
    Redis(Box<redis::RedisCounts>),
    /// `postgres://` or `postgresql://`.
    Postgres(postgres::PostgresCounts),
}

impl SharedCounts {
    /// Connects to the store `url` names by its scheme.
    pub async fn connect(url: &str) -> Result<SharedCounts, HostError> {
        match url.split_once("://").map(|(scheme, _)| scheme) {
            Some("redis" | "rediss") => Ok(SharedCounts::Redis(Box::new(
                redis::RedisCounts::connect(url, "entitle").await?,
            ))),
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
    /// `period_start` (nothing used when nothing was counted).
    pub async fn count(
        &self,
        license: &str,
        metric: &str,
        period_start: Timestamp,
    ) -> Result<Counted, HostError> {
        match self {
            SharedCounts::Redis(store) => store.count(license, metric, period_start).await,
            SharedCounts::Postgres(store) => store.count(license, metric, period_start).await,
        }
    }

    /// A license's newest count of every metric it consumed: what the
    /// fleet used, for a status.
    pub async fn counts(&self, license: &str) -> Result<Vec<Newest>, HostError> {
        match self {
            SharedCounts::Redis(store) => store.counts(license).await,
            SharedCounts::Postgres(store) => store.counts(license).await,
        }
    }

    /// Gives back what a lease reserved and did not spend, once: a lease
    /// settled again gives nothing back (`None`). The units given back.
    pub async fn settle(&self, lease: &Lease<'_>) -> Result<Option<u64>, HostError> {
        match self {
            SharedCounts::Redis(store) => store.settle(lease).await,
            SharedCounts::Postgres(store) => store.settle(lease).await,
        }
    }

    /// Forgets what no check needs any more: counts of periods that ended
    /// before `now` and keys kept past their time. Redis expires its own;
    /// PostgreSQL deletes them. The rows deleted.
    pub async fn prune(&self, now: Timestamp) -> Result<u64, HostError> {
        match self {
            SharedCounts::Redis(_) => Ok(0),
            SharedCounts::Postgres(store) => store.prune(now).await,
        }
    }

    /// Replaces a connection that may be stuck on an error (Redis); a
    /// PostgreSQL pool replaces broken connections itself.
    pub async fn renew(&self) -> Result<(), HostError> {
        match self {
            SharedCounts::Redis(store) => store.renew().await,
            SharedCounts::Postgres(_) => Ok(()),
        }
    }

    /// Takes or renews a floating seat, atomically with every other
    /// gateway; with a limit of 0, only reads the seats.
    pub async fn seat_claim(&self, take: &SeatTake<'_>) -> Result<SeatClaim, HostError> {
        match self {
            SharedCounts::Redis(store) => store.seat_claim(take).await,
            SharedCounts::Postgres(store) => store.seat_claim(take).await,
        }
    }

    /// Gives a seat up; whether it was held.
    pub async fn seat_release(&self, license: &str, fingerprint: &str) -> Result<bool, HostError> {
        match self {
            SharedCounts::Redis(store) => store.seat_release(license, fingerprint).await,
            SharedCounts::Postgres(store) => store.seat_release(license, fingerprint).await,
        }
    }

    /// The seats of a license held at `now_ms`.
    pub async fn seats_held(&self, license: &str, now_ms: i64) -> Result<u64, HostError> {
        match self {
            SharedCounts::Redis(store) => store.seats_held(license, now_ms).await,
            SharedCounts::Postgres(store) => store.seats_held(license, now_ms).await,
        }
    }

    /// PostgreSQL's counters of batched calls and of the checks they
    /// carried; `None` for Redis, which takes checks one by one.
    pub fn batches(
        &self,
    ) -> Option<(
        prometheus_client::metrics::counter::Counter,
        prometheus_client::metrics::counter::Counter,
    )> {
        match self {
            SharedCounts::Redis(_) => None,
            SharedCounts::Postgres(store) => Some(store.batches()),
        }
    }

    /// Where the store is, without credentials, for logs and metrics.
    pub fn address(&self) -> &str {
        match self {
            SharedCounts::Redis(store) => store.address(),
            SharedCounts::Postgres(store) => store.address(),
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
    /// The limit whose first crossing starts a soft quota's grace: the
    /// store keeps the instant of the first count past it. `None` for a
    /// hard or unlimited quota.
    pub soft_limit: Option<u64>,
    /// When the soft limit was first crossed, as the decision this
    /// request's ceiling came from saw it: a count crossed otherwise is
    /// [`Consumed::Stale`], since its ceiling may differ.
    pub soft_exceeded_at: Option<Timestamp>,
    /// For a lease: the most units to reserve at once (at least
    /// `amount`); the store takes what is left under the ceiling, up to
    /// that, stopping short of a soft limit the request does not cross.
    /// `None` counts the request alone.
    pub up_to: Option<u64>,
    /// The request's idempotency key and its fingerprint, if it has one.
    pub key: Option<(&'a str, &'a str)>,
    /// The instant of the check.
    pub now: Timestamp,
}

/// A lease to settle: where it was reserved and what it did not spend.
#[derive(Debug, Clone, Copy)]
pub struct Lease<'a> {
    /// Its id, unique in the fleet: settling it twice counts once.
    pub id: &'a str,
    /// The license it was reserved for.
    pub license: &'a str,
    /// Its metric.
    pub metric: &'a str,
    /// The start of the count's period.
    pub period_start: Timestamp,
    /// Units reserved and not spent.
    pub unused: u64,
}

/// A floating seat to take, renew or (with `limit` 0) only look at.
#[derive(Debug, Clone, Copy)]
pub struct SeatTake<'a> {
    /// The license.
    pub license: &'a str,
    /// Who holds the seat: a machine's or a user's fingerprint.
    pub fingerprint: &'a str,
    /// The gateway's clock, milliseconds since the epoch: seats expiring
    /// at or before it are free.
    pub now_ms: i64,
    /// Until when the seat is held (exclusive), milliseconds.
    pub expires_ms: i64,
    /// The most seats others may hold for this one to be taken: the
    /// module's `seats.limit`.
    pub limit: u64,
}

/// What the store did with a seat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeatClaim {
    /// Whether the seat is now held until the requested expiry.
    pub granted: bool,
    /// Seats other clients held, expired ones dropped.
    pub others: u64,
    /// Whether this fingerprint held a seat before.
    pub held: bool,
}

/// A count as a store holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counted {
    /// Units used in the period.
    pub used: u64,
    /// When the soft limit was first crossed in the period.
    pub soft_exceeded_at: Option<Timestamp>,
}

/// A license's newest count of one metric.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Newest {
    /// The metric.
    pub metric: String,
    /// The start of the count's period.
    pub period_start: Timestamp,
    /// The count.
    pub counted: Counted,
}

/// What the store did with a consuming check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Consumed {
    /// Counted, on this count before it.
    Admitted(Counted),
    /// A lease reserved: `units` from `before` on, the request's first.
    Reserved {
        /// The count before the lease.
        before: Counted,
        /// Units reserved, at least the request's.
        units: u64,
    },
    /// Not counted: it would have passed the ceiling on this count.
    Refused(Counted),
    /// Not counted: the soft limit was crossed otherwise than the decision
    /// saw (this is the count), so its ceiling must be decided again.
    Stale(Counted),
    /// A retry of a keyed request: its first outcome, on the count and at
    /// the instant the first was decided on, so the module answers it again
    /// the same way. Nothing is counted.
    Replayed {
        /// Whether the first was counted.
        admitted: bool,
        /// The count the first was decided on.
        before: Counted,
        /// The instant the first was decided at.
        at: Timestamp,
    },
    /// The key was first sent with another request: refused, not counted.
    KeyReused,
}

/// A store's reply to a consume, as both stores give it.
struct Reply<'r> {
    outcome: &'r str,
    /// The count before the request.
    before: u64,
    /// The instant of the (first) check.
    at: &'r str,
    /// When the soft limit was crossed before the request; empty if not.
    soft: &'r str,
    /// Units counted (or reserved).
    units: u64,
}

impl Consumed {
    /// Reads a store's reply to `consume`, for a store whose counts hold
    /// at most `most`; what is wrong with the reply otherwise.
    fn from_reply(consume: &Consume<'_>, reply: &Reply<'_>, most: u64) -> Result<Consumed, String> {
        let instant = |text: &str, what: &str| {
            Timestamp::parse(text).ok_or_else(|| format!("`{text}` kept as {what}"))
        };
        let soft_exceeded_at = match reply.soft {
            "" => None,
            text => Some(instant(text, "a soft limit's crossing")?),
        };
        let before = Counted {
            used: reply.before,
            soft_exceeded_at,
        };
        let replayed = |admitted| {
            Ok(Consumed::Replayed {
                admitted,
                before,
                at: instant(reply.at, "a key's instant")?,
            })
        };
        match reply.outcome {
            "admitted" => Ok(Consumed::Admitted(before)),
            "reserved" if reply.units < consume.amount => Err(format!(
                "a lease of {} units reserved for a request of {}",
                reply.units, consume.amount
            )),
            "reserved" => Ok(Consumed::Reserved {
                before,
                units: reply.units,
            }),
            // Unlimited, only the store's own bound refuses.
            "refused" if consume.ceiling.is_none() => Err(format!(
                "the count of `{}` `{}` would pass the {most} a shared count holds",
                consume.license, consume.metric
            )),
            "refused" => Ok(Consumed::Refused(before)),
            "stale" => Ok(Consumed::Stale(before)),
            "replayed_admitted" => replayed(true),
            "replayed_refused" => replayed(false),
            "key_reused" => Ok(Consumed::KeyReused),
            other => Err(format!("`{other}` answered to a consume")),
        }
    }
}
