//! A floating seat through the gateway: the module decides whether one
//! more client may hold a seat of the license (on the seats the others
//! hold), and the seats' store takes it against the limit the module gave,
//! atomically with every other gateway; when the store saw other seats
//! than the first ask, the module decides again on the store's count, so
//! the answer always explains the seat as it was taken.

use chrono::{DateTime, Utc};
use entitle_core::{Decision, Op, SeatAnswer};
use serde_json::json;

use super::{timestamp, Gateway};
use crate::error::HostError;
use crate::gateway::answer::{host_error, Decided};
use crate::gateway::generation::Generation;
use crate::gateway::seats::{Seats, FINGERPRINT_MAX};
use crate::gateway::store::SeatTake;

/// What a client asks of its seat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeatAsk {
    /// Take a seat, or renew the one held (a heartbeat).
    Take,
    /// Give the seat up.
    Release,
}

/// A seat decided: the module's answer (or the gateway's error), and what
/// the store did.
#[derive(Debug, Clone)]
pub struct SeatOutcome {
    /// The module's `seat` answer, or an error envelope; `None` for a
    /// release, which the module has no say in.
    pub decided: Option<Decided<SeatAnswer>>,
    /// Until when the seat is held, when it is.
    pub expires_at: Option<DateTime<Utc>>,
    /// Whether the fingerprint held a seat before this request.
    pub was_held: bool,
    /// The HTTP status to answer with.
    pub status: u16,
}

impl Gateway {
    /// Takes, renews or releases the seat of `fingerprint` on `license`.
    pub async fn seat(&self, license: &str, fingerprint: &str, ask: SeatAsk) -> SeatOutcome {
        let generation = self.generation();
        if let Some(error) = fingerprint_error(&generation, fingerprint) {
            return error;
        }
        let Some(seats) = self.seats() else {
            return failed(
                &generation,
                400,
                "seats_off",
                "$",
                "this gateway keeps no seats",
                "start `entitle serve` with a meter (the default keeps seats in its SQLite file)",
            );
        };
        match ask {
            SeatAsk::Release => match seats.release(license, fingerprint).await {
                Ok(was_held) => SeatOutcome {
                    decided: None,
                    expires_at: None,
                    was_held,
                    status: 200,
                },
                Err(error) => store_failed(&generation, &error),
            },
            SeatAsk::Take => self.take(&generation, seats, license, fingerprint).await,
        }
    }

    async fn take(
        &self,
        generation: &Generation,
        seats: &Seats,
        license: &str,
        fingerprint: &str,
    ) -> SeatOutcome {
        let at = Utc::now();
        let now_ms = at.timestamp_millis();
        let expires = at + seats.ttl;
        let mut take = SeatTake {
            license,
            fingerprint,
            now_ms,
            expires_ms: expires.timestamp_millis(),
            limit: 0,
        };
        // First the seats the others hold, then the module's answer on them.
        let seen = match seats.claim(&take).await {
            Ok(seen) => seen,
            Err(error) => return store_failed(generation, &error),
        };
        let first = match self.decide_seat(generation, license, seen.others, at) {
            Ok(first) => first,
            Err(error) => return module_failed(generation, &error),
        };
        let Some(answer) = first.result() else {
            return answered(first, None, seen.held);
        };
        if answer.decision == Decision::Deny {
            // A renewal refused gives the seat up: the limit fell under the
            // seats held, and the store must not keep this one.
            if seen.held {
                if let Err(error) = seats.release(license, fingerprint).await {
                    return store_failed(generation, &error);
                }
            }
            return answered(first, None, seen.held);
        }
        take.limit = answer.seats.limit;
        let claimed = match seats.claim(&take).await {
            Ok(claimed) => claimed,
            Err(error) => return store_failed(generation, &error),
        };
        let decided = if claimed.others == seen.others {
            first
        } else {
            match self.decide_seat(generation, license, claimed.others, at) {
                Ok(again) => again,
                Err(error) => return module_failed(generation, &error),
            }
        };
        let allowed = decided
            .result()
            .is_some_and(|a| a.decision != Decision::Deny);
        if claimed.granted && !allowed {
            // Not reached while the store and the module read one limit;
            // if they ever part, the module's refusal wins.
            if let Err(error) = seats.release(license, fingerprint).await {
                return store_failed(generation, &error);
            }
        }
        let expires_at = (claimed.granted && allowed).then_some(expires);
        let held_now = claimed
            .others
            .saturating_add(u64::from(expires_at.is_some()));
        self.saw_seats(license, held_now);
        answered(decided, expires_at, seen.held || claimed.held)
    }

    /// Reads the seats a license holds from the store, for a status; on a
    /// store that does not answer, the last count seen stays (false).
    pub async fn refresh_seats(&self, license: &str) -> bool {
        let Some(seats) = self.seats() else {
            return true;
        };
        match seats.held(license, Utc::now().timestamp_millis()).await {
            Ok(held) => {
                self.saw_seats(license, held);
                true
            }
            Err(error) => {
                tracing::warn!(%error, license, "status on the seats this gateway last saw");
                false
            }
        }
    }

    /// Asks the module whether one more client may hold a seat, with
    /// `others` held by other clients.
    fn decide_seat(
        &self,
        generation: &Generation,
        license: &str,
        others: u64,
        at: DateTime<Utc>,
    ) -> Result<Decided<SeatAnswer>, HostError> {
        let request = json!({
            "op": Op::Seat,
            "license": license,
            "usage": {"active_seats": others},
            "now": timestamp(at),
        });
        let bytes = request.to_string();
        let envelope = generation.evaluate(bytes.as_bytes())?;
        self.log(generation, Some(license), &bytes, &envelope);
        Decided::module(envelope)
    }
}

/// The answer with the status its decision (or error) calls for.
fn answered(
    decided: Decided<SeatAnswer>,
    expires_at: Option<DateTime<Utc>>,
    was_held: bool,
) -> SeatOutcome {
    let status = match decided.result() {
        Some(answer) => answer.http_status,
        None => 400,
    };
    SeatOutcome {
        decided: Some(decided),
        expires_at,
        was_held,
        status,
    }
}

/// A fingerprint the gateway will not keep: empty, too long, or not
/// visible ASCII (it is a key in every store).
fn fingerprint_error(generation: &Generation, fingerprint: &str) -> Option<SeatOutcome> {
    let fine = !fingerprint.is_empty()
        && fingerprint.len() <= FINGERPRINT_MAX
        && fingerprint.bytes().all(|b| b.is_ascii_graphic());
    (!fine).then(|| {
        failed(
            generation,
            400,
            "malformed_fingerprint",
            "$.fingerprint",
            &format!("`{fingerprint}` is no fingerprint"),
            &format!("send 1 to {FINGERPRINT_MAX} visible ascii characters naming the machine or user, such as a hash of its id"),
        )
    })
}

fn store_failed(generation: &Generation, error: &HostError) -> SeatOutcome {
    tracing::warn!(%error, "seat not decided: the store failed");
    failed(
        generation,
        503,
        "store_failed",
        "$",
        &error.to_string(),
        "the seats' store cannot be reached: retry; a client keeps the seat it holds until its expiry",
    )
}

fn module_failed(generation: &Generation, error: &HostError) -> SeatOutcome {
    failed(
        generation,
        503,
        error.code(),
        "$",
        &error.to_string(),
        "the module failed; the gateway keeps serving, retry",
    )
}

fn failed(
    generation: &Generation,
    status: u16,
    code: &'static str,
    path: &str,
    message: &str,
    help: &str,
) -> SeatOutcome {
    SeatOutcome {
        decided: Some(host_error(generation, code, path, message, help)),
        expires_at: None,
        was_held: false,
        status,
    }
}
