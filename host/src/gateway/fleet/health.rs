//! How the fleet's store is doing, seen from this gateway, and the circuit
//! breaker in front of it: after [`OPEN_AFTER`] calls in a row fail, calls
//! are not tried for [`COOL_DOWN`], so checks meet the store's failure mode
//! at once instead of each waiting out a timeout; the first call after the
//! cool-down tries the store again.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::error::HostError;

/// Failed calls in a row that open the breaker.
pub const OPEN_AFTER: u32 = 3;

/// How long an open breaker refuses calls before trying the store again.
pub const COOL_DOWN: Duration = Duration::from_secs(1);

/// The store's health as this gateway sees it.
#[derive(Default)]
pub struct Health {
    failures_in_a_row: AtomicU32,
    open_until: Mutex<Option<Instant>>,
    last_error: Mutex<Option<String>>,
    last_latency_us: AtomicU64,
    calls: AtomicU64,
    failed_calls: AtomicU64,
}

/// What `/healthz` shows of the store.
#[derive(Debug, Serialize)]
pub struct Seen {
    /// Whether the last call succeeded and the breaker is closed.
    pub up: bool,
    /// Failed calls in a row.
    pub failures_in_a_row: u32,
    /// The last failure, while the store is down.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// How long the last call took, in microseconds.
    pub last_latency_us: u64,
    /// Calls made and failed since the gateway started.
    pub calls: u64,
    /// Of which failed.
    pub failed_calls: u64,
}

impl Health {
    /// Whether a call may be tried now: refused while the breaker is open.
    pub fn admit(&self, address: &str) -> Result<(), HostError> {
        let open_until = *self
            .open_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match open_until {
            Some(until) if Instant::now() < until => Err(HostError::Store {
                detail: format!(
                    "`{address}` failed {} calls in a row: not tried again for {} ms",
                    self.failures_in_a_row.load(Ordering::Relaxed),
                    COOL_DOWN.as_millis()
                ),
            }),
            _ => Ok(()),
        }
    }

    /// Takes in a call's outcome and how long it took.
    pub fn record<T>(&self, outcome: &Result<T, HostError>, took: Duration) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.last_latency_us.store(
            u64::try_from(took.as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        match outcome {
            Ok(_) => {
                self.failures_in_a_row.store(0, Ordering::Relaxed);
                *self
                    .open_until
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner) = None;
                *self
                    .last_error
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner) = None;
            }
            Err(error) => {
                self.failed_calls.fetch_add(1, Ordering::Relaxed);
                let failures = self.failures_in_a_row.fetch_add(1, Ordering::Relaxed) + 1;
                *self
                    .last_error
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner) = Some(error.to_string());
                if failures >= OPEN_AFTER {
                    *self
                        .open_until
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner) = Some(Instant::now() + COOL_DOWN);
                }
            }
        }
    }

    /// Whether the breaker opened since the last success: the next call
    /// tries a store that failed calls in a row.
    pub fn tripped(&self) -> bool {
        self.failures_in_a_row.load(Ordering::Relaxed) >= OPEN_AFTER
    }

    /// Whether the store answered the last call.
    pub fn up(&self) -> bool {
        self.failures_in_a_row.load(Ordering::Relaxed) == 0
    }

    /// A snapshot for `/healthz`.
    pub fn seen(&self) -> Seen {
        Seen {
            up: self.up(),
            failures_in_a_row: self.failures_in_a_row.load(Ordering::Relaxed),
            last_error: self
                .last_error
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
            last_latency_us: self.last_latency_us.load(Ordering::Relaxed),
            calls: self.calls.load(Ordering::Relaxed),
            failed_calls: self.failed_calls.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn failed() -> Result<(), HostError> {
        Err(HostError::Store {
            detail: String::from("redis `redis://127.0.0.1:1`: connection refused"),
        })
    }

    #[test]
    fn the_breaker_opens_after_failures_in_a_row_and_closes_on_success() {
        let health = Health::default();
        for _ in 0..OPEN_AFTER - 1 {
            health.record(&failed(), Duration::from_millis(1));
            assert!(health.admit("redis://x").is_ok());
        }
        assert!(!health.up());
        health.record(&failed(), Duration::from_millis(1));
        let refused = health.admit("redis://x").unwrap_err().to_string();
        assert!(refused.contains("failed 3 calls in a row"), "{refused}");
        // A success (the call tried after the cool-down) closes it.
        health.record(&Ok(()), Duration::from_micros(250));
        assert!(health.admit("redis://x").is_ok());
        let seen = health.seen();
        assert!(seen.up);
        assert_eq!(
            (seen.calls, seen.failed_calls, seen.last_latency_us),
            (4, 3, 250)
        );
        assert!(seen.last_error.is_none());
    }
}
