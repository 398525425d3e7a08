//! Counts a fleet of gateways shares in Redis (or Valkey): one script call
//! per consuming check (`consume.lua`) checks the request against its
//! ceiling, moves the count and keeps the idempotency key's outcome, all in
//! one atomic step, so gateways on one Redis never admit past the ceiling
//! between them and a retried request is counted once.
//!
//! The module still decides: the gateway asks it for the ceiling (limit and
//! grace) and, with the count this returns, for the answer. Every key of a
//! license carries the license in a hash tag (`{license}`), so one script's
//! keys stay in one slot of a Redis Cluster.

use entitle_core::Timestamp;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, Script};

use super::{Consume, Consumed, Counted, Lease, Newest, Reply, SeatClaim, SeatTake, KEY_KEPT};
use crate::error::HostError;

/// The most a count, an amount or a ceiling may be: the script's numbers
/// are Lua doubles, exact up to 2^53.
pub const MOST: u64 = 1 << 53;

/// How long connecting to Redis and each answer from it may take: a check
/// is never held longer on an unreachable store.
pub const WAIT: Duration = Duration::from_secs(1);

/// Connection attempts after the first before a call fails.
const RETRIES: usize = 2;

/// A connection to a fleet's Redis and the consume script.
#[derive(Clone)]
pub struct RedisCounts {
    /// Swapped for a new one by [`RedisCounts::renew`].
    connection: std::sync::Arc<std::sync::Mutex<ConnectionManager>>,
    client: Client,
    script: Script,
    settle: Script,
    seat: Script,
    /// Prepended to every key (`entitle` unless configured), so several
    /// fleets can share one Redis.
    prefix: String,
    /// The address, for errors.
    url: String,
}

impl RedisCounts {
    /// Connects to Redis at `url` (`redis://host:port/db`); keys start with
    /// `prefix`. Fails when Redis cannot be reached.
    pub async fn connect(url: &str, prefix: &str) -> Result<RedisCounts, HostError> {
        let failed = |e: redis::RedisError| store_error(&redacted(url), &e);
        let client = Client::open(url).map_err(failed)?;
        let connection = manager(&client).await.map_err(failed)?;
        Ok(RedisCounts {
            connection: std::sync::Arc::new(std::sync::Mutex::new(connection)),
            client,
            script: Script::new(include_str!("consume.lua")),
            settle: Script::new(include_str!("settle.lua")),
            seat: Script::new(include_str!("seat.lua")),
            prefix: prefix.to_string(),
            url: redacted(url),
        })
    }

    /// Counts one consuming check, atomically with every other gateway's.
    pub async fn consume(&self, consume: &Consume<'_>) -> Result<Consumed, HostError> {
        let too_large = |what: &str, n: u64| HostError::Store {
            detail: format!("{what} `{n}` is past the {MOST} a shared count holds"),
        };
        if consume.amount > MOST {
            return Err(too_large("an amount", consume.amount));
        }
        let ceiling = match consume.ceiling {
            Some(c) if c > MOST => return Err(too_large("a ceiling", c)),
            Some(c) => c,
            None => MOST,
        };
        let expires_ms = consume.period_end.unix().saturating_mul(1000);
        let (key, fingerprint) = consume.key.unwrap_or(("", ""));
        let soft_limit = consume.soft_limit.map(|l| l.min(MOST).to_string());
        let crossed = consume.soft_exceeded_at.map(|at| at.to_string());
        let mut connection = self.manager();
        let up_to = match consume.up_to {
            Some(n) => n.min(MOST).to_string(),
            None => String::new(),
        };
        let reply: (String, u64, String, String, u64) = self
            .script
            .key(self.count_key(consume.license, consume.metric, consume.period_start))
            .key(self.key_key(consume.license, key))
            .key(self.periods_key(consume.license))
            .arg(consume.amount)
            .arg(ceiling)
            .arg(expires_ms)
            .arg(fingerprint)
            .arg(consume.now.to_string())
            .arg(u64::try_from(KEY_KEPT.as_millis()).unwrap_or(u64::MAX))
            .arg(soft_limit.as_deref().unwrap_or(""))
            .arg(crossed.as_deref().unwrap_or(""))
            .arg(consume.metric)
            .arg(consume.period_start.unix())
            .arg(up_to)
            .invoke_async(&mut connection)
            .await
            .map_err(|e| store_error(&self.url, &e))?;
        let (outcome, before, at, soft, units) = reply;
        let reply = Reply {
            outcome: &outcome,
            before,
            at: &at,
            soft: &soft,
            units,
        };
        Consumed::from_reply(consume, &reply, MOST).map_err(|detail| self.bad_reply(&detail))
    }

    /// Gives back a lease's unspent units, once (`None` when it was
    /// settled before).
    pub async fn settle(&self, lease: &Lease<'_>) -> Result<Option<u64>, HostError> {
        let mut connection = self.manager();
        let back: i64 = self
            .settle
            .key(self.count_key(lease.license, lease.metric, lease.period_start))
            .key(format!(
                "{}:{{{}}}:settled:{}",
                self.prefix, lease.license, lease.id
            ))
            .arg(lease.unused.min(MOST))
            .arg(u64::try_from(KEY_KEPT.as_millis()).unwrap_or(u64::MAX))
            .invoke_async(&mut connection)
            .await
            .map_err(|e| store_error(&self.url, &e))?;
        Ok(u64::try_from(back).ok())
    }

    /// A license's count of a metric in the period starting at
    /// `period_start` (nothing used when nothing was counted or it expired).
    pub async fn count(
        &self,
        license: &str,
        metric: &str,
        period_start: Timestamp,
    ) -> Result<Counted, HostError> {
        let mut connection = self.manager();
        let (used, soft): (Option<u64>, Option<String>) = redis::cmd("HMGET")
            .arg(self.count_key(license, metric, period_start))
            .arg("used")
            .arg("soft")
            .query_async(&mut connection)
            .await
            .map_err(|e| store_error(&self.url, &e))?;
        self.counted(used, soft.as_deref())
    }

    /// A license's newest count of every metric it consumed: the periods'
    /// index, then each count, in one round trip each.
    pub async fn counts(&self, license: &str) -> Result<Vec<Newest>, HostError> {
        let mut connection = self.manager();
        let periods: Vec<(String, i64)> = redis::cmd("HGETALL")
            .arg(self.periods_key(license))
            .query_async(&mut connection)
            .await
            .map_err(|e| store_error(&self.url, &e))?;
        let mut starts = Vec::with_capacity(periods.len());
        let mut pipe = redis::pipe();
        for (metric, start) in periods {
            let start = Timestamp::from_unix(start)
                .ok_or_else(|| self.bad_reply(&format!("`{start}` kept as a period's start")))?;
            pipe.cmd("HMGET")
                .arg(self.count_key(license, &metric, start))
                .arg("used")
                .arg("soft");
            starts.push((metric, start));
        }
        if starts.is_empty() {
            return Ok(Vec::new());
        }
        let counts: Vec<(Option<u64>, Option<String>)> = pipe
            .query_async(&mut connection)
            .await
            .map_err(|e| store_error(&self.url, &e))?;
        starts
            .into_iter()
            .zip(counts)
            // A count expired since the index was read is no count.
            .filter(|(_, (used, _))| used.is_some())
            .map(|((metric, period_start), (used, soft))| {
                Ok(Newest {
                    metric,
                    period_start,
                    counted: self.counted(used, soft.as_deref())?,
                })
            })
            .collect()
    }

    /// Takes or renews a floating seat (`seat.lua`), or only reads the
    /// seats with a limit of 0.
    pub async fn seat_claim(&self, take: &SeatTake<'_>) -> Result<SeatClaim, HostError> {
        let mut connection = self.manager();
        let (granted, others, mine): (u8, u64, u8) = self
            .seat
            .key(self.seats_key(take.license))
            .arg(take.fingerprint)
            .arg(take.now_ms)
            .arg(take.expires_ms)
            .arg(take.limit.min(MOST))
            .invoke_async(&mut connection)
            .await
            .map_err(|e| store_error(&self.url, &e))?;
        Ok(SeatClaim {
            granted: granted == 1,
            others,
            held: mine == 1,
        })
    }

    /// Gives a seat up; whether it was held.
    pub async fn seat_release(&self, license: &str, fingerprint: &str) -> Result<bool, HostError> {
        let mut connection = self.manager();
        let removed: u64 = redis::cmd("ZREM")
            .arg(self.seats_key(license))
            .arg(fingerprint)
            .query_async(&mut connection)
            .await
            .map_err(|e| store_error(&self.url, &e))?;
        Ok(removed > 0)
    }

    /// The seats of a license held at `now_ms`.
    pub async fn seats_held(&self, license: &str, now_ms: i64) -> Result<u64, HostError> {
        let mut connection = self.manager();
        redis::cmd("ZCOUNT")
            .arg(self.seats_key(license))
            .arg(format!("({now_ms}"))
            .arg("+inf")
            .query_async(&mut connection)
            .await
            .map_err(|e| store_error(&self.url, &e))
    }

    /// Where the store is, without credentials.
    pub fn address(&self) -> &str {
        &self.url
    }

    /// Replaces the connection by a new one. The connection manager only
    /// reconnects by itself after an I/O error: one whose reconnection met
    /// another error (a restarted Redis still `LOADING` its data) keeps
    /// answering that error. A fleet renews it before trying a store that
    /// failed calls in a row again.
    pub async fn renew(&self) -> Result<(), HostError> {
        let fresh = manager(&self.client)
            .await
            .map_err(|e| store_error(&self.url, &e))?;
        *self
            .connection
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = fresh;
        Ok(())
    }

    fn manager(&self) -> ConnectionManager {
        self.connection
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn counted(&self, used: Option<u64>, soft: Option<&str>) -> Result<Counted, HostError> {
        let soft_exceeded_at = match soft {
            None | Some("") => None,
            Some(text) => Some(Timestamp::parse(text).ok_or_else(|| {
                self.bad_reply(&format!("`{text}` kept as a soft limit's crossing"))
            })?),
        };
        Ok(Counted {
            used: used.unwrap_or(0),
            soft_exceeded_at,
        })
    }

    fn bad_reply(&self, detail: &str) -> HostError {
        HostError::Store {
            detail: format!("redis `{}`: {detail}", self.url),
        }
    }

    /// `<prefix>:{<license>}:count:<metric>:<period start, Unix seconds>`.
    fn count_key(&self, license: &str, metric: &str, period_start: Timestamp) -> String {
        format!(
            "{}:{{{license}}}:count:{metric}:{}",
            self.prefix,
            period_start.unix()
        )
    }

    /// `<prefix>:{<license>}:seats`: fingerprints scored by their expiry.
    fn seats_key(&self, license: &str) -> String {
        format!("{}:{{{license}}}:seats", self.prefix)
    }

    /// `<prefix>:{<license>}:periods`: the newest period of each metric.
    fn periods_key(&self, license: &str) -> String {
        format!("{}:{{{license}}}:periods", self.prefix)
    }

    /// `<prefix>:{<license>}:key:<idempotency key>`: a key belongs to its
    /// license, never to the whole fleet.
    fn key_key(&self, license: &str, key: &str) -> String {
        format!("{}:{{{license}}}:key:{key}", self.prefix)
    }
}

/// A connection manager with every wait bounded.
async fn manager(client: &Client) -> Result<ConnectionManager, redis::RedisError> {
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(WAIT))
        .set_response_timeout(Some(WAIT))
        .set_number_of_retries(RETRIES)
        .set_max_delay(Duration::from_millis(200));
    ConnectionManager::new_with_config(client.clone(), config).await
}

/// The address without its credentials, for errors and logs.
fn redacted(url: &str) -> String {
    match (url.split_once("://"), url.rsplit_once('@')) {
        (Some((scheme, _)), Some((_, address))) => format!("{scheme}://{address}"),
        _ => url.to_string(),
    }
}

fn store_error(url: &str, error: &redis::RedisError) -> HostError {
    HostError::Store {
        detail: format!("redis `{url}`: {error}"),
    }
}

#[cfg(test)]
mod tests {
    use super::redacted;

    #[test]
    fn credentials_never_reach_an_error() {
        assert_eq!(
            redacted("redis://:secret@10.0.0.5:6379/2"),
            "redis://10.0.0.5:6379/2"
        );
        assert_eq!(
            redacted("rediss://user:p@ss@cache:6380"),
            "rediss://cache:6380"
        );
        assert_eq!(redacted("redis://127.0.0.1:6379"), "redis://127.0.0.1:6379");
    }
}
