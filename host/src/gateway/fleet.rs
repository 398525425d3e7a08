//! Where a gateway keeps its counts: its own embedded meter (SQLite, one
//! node) or a store a fleet of gateways shares (Redis or PostgreSQL), so
//! that several gateways give a license one quota.
//!
//! On a shared store, the store holds the counts and this gateway knows
//! the last of each it saw: the count a consuming check of its own came
//! back with, or what a status read. That knowledge is only ever behind
//! the fleet's (a count grows within its period), so it decides feature
//! checks and the first ask of a consuming check; the consuming check is
//! then counted in the store against the ceiling the module gave, and
//! answered on the count the store returned (`decision/fleet.rs`).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use entitle_core::Timestamp;

use super::meter::{Count, Latest, LicenseUsage, Meter};
use super::store::{Consume, Consumed, Counted, SharedCounts};
use crate::error::HostError;

mod health;
mod leases;

pub use health::Health;
pub use leases::{Held, Leases, Owed};

/// How a gateway of a fleet leases (which metrics, how many units at a
/// time, for how long) and where it journals what it spends of leases
/// and what it owes the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseOptions {
    /// Units reserved at once, per metric leased (none: no leases).
    pub sizes: HashMap<String, u64>,
    /// How long a lease is spent from before it is settled.
    pub ttl: Duration,
    /// The gateway's journal, one per gateway.
    pub journal: PathBuf,
}

/// Where the gateway's counts are kept, as `--meter` names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MeterAddress {
    /// `sqlite:PATH` (or `--database PATH`): this gateway's own meter.
    Sqlite(std::path::PathBuf),
    /// `redis://…`, `rediss://…`, `postgres://…` or `postgresql://…`: a
    /// store the fleet shares.
    Shared(String),
}

/// Reads `--lease METRIC=UNITS`.
pub fn lease_size(text: &str) -> Result<(String, u64), String> {
    let (metric, units) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}` is no lease: give `METRIC=UNITS`, as `api_calls=100`"))?;
    let units: u64 =
        units.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
            format!("`{units}` is no number of units: a lease reserves 1 or more")
        })?;
    if metric.is_empty() {
        return Err(format!("`{text}` names no metric: give `METRIC=UNITS`"));
    }
    Ok((metric.to_string(), units))
}

impl MeterAddress {
    /// Reads `--meter`: a store's URL, or `sqlite:` and a path.
    pub fn parse(text: &str) -> Result<MeterAddress, String> {
        if let Some(path) = text.strip_prefix("sqlite:") {
            let path = path.strip_prefix("//").unwrap_or(path);
            if path.is_empty() {
                return Err(String::from(
                    "`sqlite:` needs a path: `sqlite:entitle-meter.db`",
                ));
            }
            return Ok(MeterAddress::Sqlite(path.into()));
        }
        match text.split_once("://").map(|(scheme, _)| scheme) {
            Some("redis" | "rediss" | "postgres" | "postgresql") => {
                Ok(MeterAddress::Shared(text.to_string()))
            }
            _ => Err(format!(
                "`{text}` is no meter: give `sqlite:PATH`, `redis://HOST:PORT` or `postgres://USER@HOST:PORT/DB`"
            )),
        }
    }
}

/// The gateway's counts.
pub enum Metering {
    /// Its own meter.
    Local(Meter),
    /// A store the fleet shares.
    Fleet(Box<Fleet>),
}

impl From<Meter> for Metering {
    fn from(meter: Meter) -> Metering {
        Metering::Local(meter)
    }
}

impl From<Fleet> for Metering {
    fn from(fleet: Fleet) -> Metering {
        Metering::Fleet(Box::new(fleet))
    }
}

/// A gateway of a fleet: the shared store and how it is doing, the counts
/// it last saw, the leases it holds and the units it owes.
pub struct Fleet {
    store: SharedCounts,
    health: Health,
    seen: Seen,
    leases: Leases,
}

impl Fleet {
    /// Connects to the store at `url` and opens the gateway's journal,
    /// settling the leases it left open.
    pub async fn connect(url: &str, options: &LeaseOptions) -> Result<Fleet, HostError> {
        let store = SharedCounts::connect(url).await?;
        let leases =
            Leases::open(&options.journal, options.sizes.clone(), options.ttl, &store).await?;
        Ok(Fleet {
            store,
            health: Health::default(),
            seen: Seen::default(),
            leases,
        })
    }

    /// The store the fleet shares.
    pub fn store(&self) -> &SharedCounts {
        &self.store
    }

    /// The store's address, without credentials.
    pub fn address(&self) -> &str {
        self.store.address()
    }

    /// The store's health as this gateway sees it.
    pub fn health(&self) -> &Health {
        &self.health
    }

    /// The leases this gateway holds and the units it owes.
    pub fn leases(&self) -> &Leases {
        &self.leases
    }

    /// Whether a call may be tried now (the breaker closed, or its cool-
    /// down over); a store that failed calls in a row gets a new
    /// connection first.
    async fn admit(&self) -> Result<(), HostError> {
        self.health.admit(self.store.address())?;
        if self.health.tripped() {
            let started = Instant::now();
            let renewed = self.store.renew().await;
            if renewed.is_err() {
                self.health.record(&renewed, started.elapsed());
            }
            renewed?;
        }
        Ok(())
    }

    /// Counts a consuming check in the store, through the breaker.
    pub async fn consume(&self, consume: &Consume<'_>) -> Result<Consumed, HostError> {
        self.admit().await?;
        let started = Instant::now();
        let consumed = self.store.consume(consume).await;
        self.health.record(&consumed, started.elapsed());
        consumed
    }

    /// Settles a lease, through the breaker; a lease spent to its last
    /// unit needs no store.
    pub async fn settle(&self, held: &Held) -> Result<(), HostError> {
        if held.unused() == 0 {
            return self.leases.settle(&self.store, held).await;
        }
        self.admit().await?;
        let started = Instant::now();
        let settled = self.leases.settle(&self.store, held).await;
        self.health.record(&settled, started.elapsed());
        settled
    }

    /// Forgets the store's ended periods and old keys (PostgreSQL).
    pub async fn prune(&self, now: Timestamp) -> Result<u64, HostError> {
        self.store.prune(now).await
    }

    /// Settles every lease that is due: all of them when `everything`
    /// (shutdown), else those past their time to live or their period
    /// (`now`). A lease in use is left to its check; one the store does
    /// not take stays held. The leases settled.
    pub async fn settle_due(&self, now: Timestamp, everything: bool) -> usize {
        let mut settled = 0;
        for slot in self.leases.slots() {
            let mut held = if everything {
                slot.lock().await
            } else {
                match slot.try_lock() {
                    Ok(held) => held,
                    Err(_) => continue,
                }
            };
            let due = held.as_ref().is_some_and(|h| {
                everything || h.taken.elapsed() >= self.leases.ttl() || now >= h.period_end
            });
            if !due {
                continue;
            }
            if let Some(lease) = held.take() {
                match self.settle(&lease).await {
                    Ok(()) => settled += 1,
                    Err(error) => {
                        tracing::warn!(%error, lease = %lease.id, "lease not settled; still held");
                        *held = Some(lease);
                    }
                }
            }
        }
        settled
    }

    /// Counts in the store what this gateway admitted while it was away,
    /// each once (its own idempotency key). The records counted; those the
    /// store does not take stay owed.
    pub async fn pay_owed(&self) -> usize {
        let mut paid = 0;
        for owed in self.leases.owed() {
            match self.pay(&owed).await {
                Ok(()) => paid += 1,
                Err(error) => {
                    tracing::warn!(%error, owed = %owed.id, "owed units not counted yet");
                    break;
                }
            }
        }
        paid
    }

    async fn pay(&self, owed: &Owed) -> Result<(), HostError> {
        self.admit().await?;
        // The count's soft state as it stands: these units were admitted
        // already, whatever it is.
        let started = Instant::now();
        let counted = self
            .store
            .count(&owed.license, &owed.metric, owed.period_start)
            .await;
        self.health.record(&counted, started.elapsed());
        let consume = Consume {
            license: &owed.license,
            metric: &owed.metric,
            period_start: owed.period_start,
            period_end: owed.period_end,
            amount: owed.amount,
            ceiling: None,
            soft_limit: None,
            soft_exceeded_at: counted?.soft_exceeded_at,
            up_to: None,
            key: Some((&owed.id, "owed")),
            now: owed.at,
        };
        match self.consume(&consume).await? {
            Consumed::Admitted(_) | Consumed::Replayed { .. } => self.leases.paid(&owed.id),
            other => Err(HostError::Store {
                detail: format!("owed units answered `{other:?}`"),
            }),
        }
    }

    /// A license's counts as this gateway last saw them.
    pub fn usage(&self, license: &str) -> Arc<LicenseUsage> {
        self.seen.usage(license)
    }

    /// Takes in a count the store gave (see [`Seen::learn`]).
    pub fn learn(&self, license: &str, metric: &str, period_start: Timestamp, counted: Counted) {
        self.seen.learn(license, metric, period_start, counted);
    }

    /// Reads a license's newest counts from the store into what this
    /// gateway knows.
    pub async fn refresh(&self, license: &str) -> Result<(), HostError> {
        self.admit().await?;
        let started = Instant::now();
        let counts = self.store.counts(license).await;
        self.health.record(&counts, started.elapsed());
        for newest in counts? {
            self.seen
                .set(license, &newest.metric, newest.period_start, newest.counted);
        }
        Ok(())
    }
}

/// The counts a gateway of a fleet last saw, per license, kept as the
/// embedded meter keeps its latest counts.
pub struct Seen {
    latest: Latest,
}

impl Default for Seen {
    fn default() -> Seen {
        Seen {
            latest: Latest::new(HashMap::new()),
        }
    }
}

impl Seen {
    /// A license's counts as this gateway last saw them.
    pub fn usage(&self, license: &str) -> Arc<LicenseUsage> {
        self.latest.get(license)
    }

    /// Takes in a count the store gave: kept when it is of a later period
    /// than the one known, or of the same period and further on (a count
    /// read before one this gateway already saw is older news).
    pub fn learn(&self, license: &str, metric: &str, period_start: Timestamp, counted: Counted) {
        self.put(license, metric, period_start, counted, |known| {
            (
                known.period_start,
                known.used,
                known.soft_exceeded_at.is_some(),
            ) < (
                period_start,
                counted.used,
                counted.soft_exceeded_at.is_some(),
            )
        });
    }

    /// Takes a count just read from the store as it is: a lease given
    /// back makes a count smaller, which [`Seen::learn`] would take for
    /// older news. A count of an earlier period than the one known is
    /// still ignored.
    pub fn set(&self, license: &str, metric: &str, period_start: Timestamp, counted: Counted) {
        self.put(license, metric, period_start, counted, |known| {
            known.period_start <= period_start
                && (known.used, known.soft_exceeded_at) != (counted.used, counted.soft_exceeded_at)
        });
    }

    /// Puts `counted` in place of the count known, when there is none or
    /// `replaces` says so; the license's version moves on only then, so a
    /// cached answer stays good otherwise.
    fn put(
        &self,
        license: &str,
        metric: &str,
        period_start: Timestamp,
        counted: Counted,
        replaces: impl FnOnce(&Count) -> bool,
    ) {
        self.latest.update(license, |usage| {
            if usage.metrics.get(metric).is_none_or(replaces) {
                usage.metrics.insert(
                    metric.to_string(),
                    Count {
                        used: counted.used,
                        soft_exceeded_at: counted.soft_exceeded_at,
                        period_start,
                    },
                );
                usage.version = usage.version.wrapping_add(1);
            }
        });
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn a_meter_is_named_by_its_scheme() {
        assert_eq!(
            MeterAddress::parse("sqlite:/var/lib/entitle/meter.db"),
            Ok(MeterAddress::Sqlite("/var/lib/entitle/meter.db".into()))
        );
        assert_eq!(
            MeterAddress::parse("sqlite://meter.db"),
            Ok(MeterAddress::Sqlite("meter.db".into()))
        );
        assert_eq!(
            MeterAddress::parse("redis://10.0.0.5:6379/2"),
            Ok(MeterAddress::Shared("redis://10.0.0.5:6379/2".into()))
        );
        assert_eq!(
            MeterAddress::parse("postgresql://entitle@db/fleet"),
            Ok(MeterAddress::Shared("postgresql://entitle@db/fleet".into()))
        );
        assert!(MeterAddress::parse("sqlite:")
            .unwrap_err()
            .contains("needs a path"));
        assert!(MeterAddress::parse("meter.db")
            .unwrap_err()
            .contains("`meter.db` is no meter"));
        assert!(MeterAddress::parse("mysql://db").is_err());
    }

    #[test]
    fn a_lease_names_a_metric_and_its_units() {
        assert_eq!(
            lease_size("api_calls=100"),
            Ok((String::from("api_calls"), 100))
        );
        assert!(lease_size("api_calls")
            .unwrap_err()
            .contains("METRIC=UNITS"));
        assert!(lease_size("api_calls=0").unwrap_err().contains("1 or more"));
        assert!(lease_size("api_calls=-3").unwrap_err().contains("`-3`"));
        assert!(lease_size("=5").unwrap_err().contains("names no metric"));
    }

    fn counted(used: u64, soft: Option<&str>) -> Counted {
        Counted {
            used,
            soft_exceeded_at: soft.map(|s| Timestamp::parse(s).unwrap()),
        }
    }

    #[test]
    fn what_a_gateway_saw_only_moves_forward() {
        let seen = Seen::default();
        let december = Timestamp::parse("2026-12-01T00:00:00Z").unwrap();
        let january = Timestamp::parse("2027-01-01T00:00:00Z").unwrap();
        seen.learn("lic", "api_calls", december, counted(10, None));
        let first = seen.usage("lic");
        assert_eq!(first.metrics["api_calls"].used, 10);
        // An older read of the same period changes nothing, not even the
        // version (a cached answer stays good).
        seen.learn("lic", "api_calls", december, counted(7, None));
        assert_eq!(seen.usage("lic").metrics["api_calls"].used, 10);
        assert_eq!(seen.usage("lic").version, first.version);
        // The soft limit's crossing is news even on the same count.
        seen.learn(
            "lic",
            "api_calls",
            december,
            counted(10, Some("2026-12-03T00:00:00Z")),
        );
        let crossed = seen.usage("lic");
        assert!(crossed.metrics["api_calls"].soft_exceeded_at.is_some());
        assert_ne!(crossed.version, first.version);
        // A new period starts from its own count, however small.
        seen.learn("lic", "api_calls", january, counted(1, None));
        assert_eq!(seen.usage("lic").metrics["api_calls"].used, 1);
        seen.learn("lic", "api_calls", december, counted(50, None));
        assert_eq!(seen.usage("lic").metrics["api_calls"].period_start, january);
        // The counts a check decided on never change under it.
        assert_eq!(first.metrics["api_calls"].used, 10);
        // A count read from the store is taken as it is, smaller too (a
        // lease given back), but never one of an earlier period.
        seen.set("lic", "api_calls", january, counted(0, None));
        assert_eq!(seen.usage("lic").metrics["api_calls"].used, 0);
        seen.set("lic", "api_calls", december, counted(60, None));
        assert_eq!(seen.usage("lic").metrics["api_calls"].period_start, january);
        assert!(seen.usage("other").metrics.is_empty());
    }
}
