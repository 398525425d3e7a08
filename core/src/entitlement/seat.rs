//! `seat`: may one more client hold a floating seat of the license now?
//! The license's seats, plus those its exceptions in force grant, against
//! the seats other clients hold. Which clients hold one, and until when, is
//! the host's store's to keep: the rule needs only how many.

use serde::{Deserialize, Serialize};

use crate::entitlement::basis::Basis;
use crate::entitlement::check::finish::Decider;
use crate::entitlement::check::prepare::{license_level, LicenseLevel};
use crate::entitlement::reason::{Decision, Reason};
use crate::entitlement::terms::Source;
use crate::model::license::{ExceptionState, License, Usage};
use crate::model::time::Timestamp;

/// The seats as they stood for this request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeatCount {
    /// Seats bought with the license.
    pub bought: u64,
    /// The most clients that may hold a seat at once: those bought plus
    /// those granted by exceptions in force.
    pub limit: u64,
    /// Seats held by other clients before this request (the usage's
    /// `active_seats`).
    pub held: u64,
}

/// The answer to a `seat` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeatAnswer {
    /// Allow, allow in grace (renewal grace) or deny.
    pub decision: Decision,
    /// The reason of highest precedence.
    pub reason: Reason,
    /// Every reason that applies, in precedence order.
    pub reasons: Vec<Reason>,
    /// What decided: the license (its seats or its standing), each
    /// exception in force that adds seats, the expiry policy, or the
    /// documents issued in the future.
    pub decided_by: Vec<Basis>,
    /// The seats counted.
    pub seats: SeatCount,
    /// Seats still free: after this client's when allowed, before it when
    /// refused.
    pub remaining: u64,
    /// The earliest instant at which the same inputs could get another
    /// answer (the term, renewal grace, offline window, or an exception
    /// adding seats starting or ending); `null` when only a new document can.
    pub valid_until: Option<Timestamp>,
    /// The HTTP status a gateway answers with: 200 when allowed, else the
    /// deciding reason's (`seats_exhausted` is 402: more seats can be bought).
    pub http_status: u16,
}

/// Decides whether a client may take (or keep) a seat at `now`, with
/// `usage.active_seats` seats held by other clients. A client renewing
/// its own seat asks the same question: it keeps the seat while the others
/// leave one free, so a limit lowered below the seats held (an exception
/// ending) frees the excess as their holders renew.
pub fn seat(bundle: &crate::model::bundle::Bundle, license: &License, usage: &Usage, now: Timestamp) -> SeatAnswer {
    let LicenseLevel {
        mut reasons,
        mut bounds,
        offline,
    } = license_level(bundle, license, None, now);
    let mut limit = license.seats;
    let mut granting = Vec::new();
    for exception in license.exceptions.iter().filter(|e| e.grants.seats > 0) {
        bounds.extend(exception.boundaries());
        if exception.state(now) == ExceptionState::Active {
            limit = limit.saturating_add(exception.grants.seats);
            granting.push(Basis::Grant(Source::Exception(exception.id.clone())));
        }
    }
    let held = usage.active_seats;
    let free = held < limit;
    reasons.insert(if free {
        Reason::SeatAvailable
    } else {
        Reason::SeatsExhausted
    });
    let reason = reasons.first().unwrap_or(Reason::SeatsExhausted);
    let decision = reasons.decision();
    let decided_by = match Decider::of(reason) {
        Decider::License => vec![Basis::License(license.license.clone())],
        Decider::ExpiryPolicy => vec![Basis::ExpiryPolicy],
        Decider::IssuedInFuture => offline.issued_in_future().to_vec(),
        Decider::Grants => std::iter::once(Basis::License(license.license.clone()))
            .chain(granting)
            .collect(),
    };
    // Terminated and suspended licenses change only by a new document.
    let valid_until = if matches!(
        reason,
        Reason::LicenseTerminated | Reason::LicenseSuspended
    ) {
        None
    } else {
        bounds.into_iter().filter(|t| *t > now).min()
    };
    let allowed = decision != Decision::Deny;
    SeatAnswer {
        decision,
        reason,
        reasons: reasons.iter().collect(),
        decided_by,
        seats: SeatCount {
            bought: license.seats,
            limit,
            held,
        },
        remaining: if allowed {
            limit.saturating_sub(held).saturating_sub(1)
        } else {
            limit.saturating_sub(held)
        },
        valid_until,
        http_status: reason.http_status(),
    }
}
