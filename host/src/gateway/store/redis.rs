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

use super::{Consume, Consumed, KEY_KEPT};
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
    connection: ConnectionManager,
    script: Script,
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
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(WAIT))
            .set_response_timeout(Some(WAIT))
            .set_number_of_retries(RETRIES)
            .set_max_delay(Duration::from_millis(200));
        let connection = ConnectionManager::new_with_config(client, config)
            .await
            .map_err(failed)?;
        Ok(RedisCounts {
            connection,
            script: Script::new(include_str!("consume.lua")),
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
        let mut connection = self.connection.clone();
        let reply: (String, u64, String) = self
            .script
            .key(self.count_key(consume.license, consume.metric, consume.period_start))
            .key(self.key_key(consume.license, key))
            .arg(consume.amount)
            .arg(ceiling)
            .arg(expires_ms)
            .arg(fingerprint)
            .arg(consume.now.to_string())
            .arg(u64::try_from(KEY_KEPT.as_millis()).unwrap_or(u64::MAX))
            .invoke_async(&mut connection)
            .await
            .map_err(|e| store_error(&self.url, &e))?;
        let (outcome, before, at) = reply;
        Consumed::from_reply(consume, &outcome, before, &at, MOST).map_err(|detail| {
            HostError::Store {
                detail: format!("redis `{}`: {detail}", self.url),
            }
        })
    }

    /// A license's count of a metric in the period starting at
    /// `period_start` (0 when nothing was counted or it expired).
    pub async fn used(
        &self,
        license: &str,
        metric: &str,
        period_start: Timestamp,
    ) -> Result<u64, HostError> {
        let mut connection = self.connection.clone();
        let used: Option<u64> = redis::cmd("GET")
            .arg(self.count_key(license, metric, period_start))
            .query_async(&mut connection)
            .await
            .map_err(|e| store_error(&self.url, &e))?;
        Ok(used.unwrap_or(0))
    }

    /// `<prefix>:{<license>}:count:<metric>:<period start, Unix seconds>`.
    fn count_key(&self, license: &str, metric: &str, period_start: Timestamp) -> String {
        format!(
            "{}:{{{license}}}:count:{metric}:{}",
            self.prefix,
            period_start.unix()
        )
    }

    /// `<prefix>:{<license>}:key:<idempotency key>`: a key belongs to its
    /// license, never to the whole fleet.
    fn key_key(&self, license: &str, key: &str) -> String {
        format!("{}:{{{license}}}:key:{key}", self.prefix)
    }
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
