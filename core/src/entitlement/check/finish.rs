//! The second half of a check: the usage against the quota the first half
//! found, and the answer's decision, `valid_until` and record. It reads
//! only numbers and instants, and allocates nothing, so the compact check
//! runs it as it is.

use serde::{Deserialize, Serialize};

use crate::entitlement::check::prepare::QuotaRule;
use crate::entitlement::period::Period;
use crate::entitlement::reason::{Decision, Reason, ReasonSet};
use crate::model::time::Timestamp;

/// The usage a check reads for its feature: the count in the current
/// period, and when a soft limit was first crossed in it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counted {
    /// Units used in the period before this request.
    pub used: u64,
    /// When the soft limit was first crossed, if it has been.
    pub soft_exceeded_at: Option<Timestamp>,
}

/// A quota rule with the period containing `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Metered {
    /// The quota.
    pub rule: QuotaRule,
    /// The current period.
    pub period: Period,
}

/// What is asked, in units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Units {
    /// Units the decision is taken for (1 for a feature check).
    pub probe: u64,
    /// Units the request consumes (0 for a feature check).
    pub amount: u64,
}

/// Why the usage cannot be decided on; each host names the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Used plus requested units overflow.
    Overflow,
    /// The count is past a soft limit but says not when it crossed it.
    MissingSoftExceededAt,
    /// The grace would end after the last instant the engine writes.
    GraceBeyondLastInstant {
        /// The grace time in hours.
        hours: u64,
        /// When grace started.
        started: Timestamp,
        /// Whether it started at the recorded crossing (else at `now`).
        recorded: bool,
    },
}

/// Which of the documents decided: named by each path in its own terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decider {
    /// The license's status, term start or offline window.
    License,
    /// The bundle's expiry policy.
    ExpiryPolicy,
    /// The documents issued in the future.
    IssuedInFuture,
    /// The grants: [`super::prepare::Prepared::grant_basis`].
    Grants,
}

impl Decider {
    /// Who the reason of highest precedence names.
    pub(crate) fn of(reason: Reason) -> Decider {
        match reason {
            Reason::IssuedInFuture => Decider::IssuedInFuture,
            Reason::LicenseTerminated
            | Reason::LicenseSuspended
            | Reason::LicenseNotStarted
            | Reason::OfflineWindowNotStarted
            | Reason::OfflineWindowEnded => Decider::License,
            Reason::LicenseExpired | Reason::RenewalGrace | Reason::ExpiredAccessKept => {
                Decider::ExpiryPolicy
            }
            _ => Decider::Grants,
        }
    }
}

/// A quota as it stood for this check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuotaUse {
    /// Units used in the period before this request.
    pub used: u64,
    /// Units this request asks for.
    pub requested: u64,
    /// The limit after increments; `null` when unlimited.
    pub limit: Option<u64>,
    /// How far a soft quota reaches in grace; `null` for hard or unlimited.
    pub grace_limit: Option<u64>,
    /// When the soft-limit grace ends, once started.
    pub grace_ends_at: Option<Timestamp>,
    /// The current period.
    pub period: Period,
}

/// What the host records after an allowed consuming check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordNumbers {
    /// The count once this request's units are added.
    pub used: u64,
    /// When the soft limit was first crossed, if it has been.
    pub soft_exceeded_at: Option<Timestamp>,
}

/// A check decided, in numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Finished {
    /// Allow, allow in grace or deny.
    pub decision: Decision,
    /// The reason of highest precedence.
    pub reason: Reason,
    /// Every reason that applies.
    pub reasons: ReasonSet,
    /// What decided.
    pub decider: Decider,
    /// Units left before a deny.
    pub remaining: Option<u64>,
    /// The quota, for a metered feature granted.
    pub quota: Option<QuotaUse>,
    /// When the same inputs could next get another answer.
    pub valid_until: Option<Timestamp>,
    /// The HTTP status a gateway answers with.
    pub http_status: u16,
    /// What to record, for an allowed consuming check.
    pub record: Option<RecordNumbers>,
}

/// Decides the usage half of a check. `reasons` are the first half's,
/// `next_bound` its first boundary after `now`.
pub fn finish(
    reasons: ReasonSet,
    metered: Option<Metered>,
    counted: Counted,
    units: Units,
    now: Timestamp,
    next_bound: Option<Timestamp>,
) -> Result<Finished, Refusal> {
    let mut reasons = reasons;
    let mut remaining = None;
    let mut quota = None;
    let mut soft_exceeded_at = None;
    let mut valid_until = next_bound;
    let mut bound = |at: Timestamp| {
        if at > now && valid_until.is_none_or(|v| at < v) {
            valid_until = Some(at);
        }
    };
    if let Some(Metered { rule, period }) = metered {
        let wanted = counted
            .used
            .checked_add(units.probe)
            .ok_or(Refusal::Overflow)?;
        // Grace starts when the limit is first crossed: the recorded instant
        // if the usage already crossed it, else the request that crosses it.
        let mut grace_ends_at = None;
        if let (Some(limit), Some(hours)) = (rule.limit, rule.grace_hours) {
            let started = match counted.soft_exceeded_at {
                Some(at) => Some(at),
                None if counted.used > limit => return Err(Refusal::MissingSoftExceededAt),
                None if wanted > limit => Some(now),
                None => None,
            };
            soft_exceeded_at = started;
            if let Some(started) = started {
                let seconds = i64::try_from(hours.saturating_mul(3600)).unwrap_or(i64::MAX);
                grace_ends_at = Some(started.plus_seconds(seconds).ok_or(
                    Refusal::GraceBeyondLastInstant {
                        hours,
                        started,
                        recorded: counted.soft_exceeded_at.is_some(),
                    },
                )?);
            }
        }
        let grace_over = grace_ends_at.is_some_and(|ends| now >= ends);
        // The ceiling is what can be consumed before a deny: the grace limit
        // while grace runs (or has yet to start), else the limit itself.
        let ceiling = match (rule.limit, rule.grace_limit) {
            (Some(_), Some(grace_limit)) if !grace_over => Some(grace_limit),
            (limit, _) => limit,
        };
        let consumed = counted.used.saturating_add(units.amount);
        let allowed_here = wanted <= ceiling.unwrap_or(u64::MAX);
        remaining = ceiling.map(|c| {
            if allowed_here {
                c.saturating_sub(consumed)
            } else {
                c.saturating_sub(counted.used)
            }
        });
        // Every quota reason that applies is listed: past the grace limit
        // and past the grace time can both hold.
        match (rule.limit, rule.grace_limit) {
            (None, _) => reasons.insert(Reason::Unlimited),
            (Some(limit), _) if wanted <= limit => reasons.insert(Reason::WithinQuota),
            (Some(_), None) => reasons.insert(Reason::QuotaExceeded),
            (Some(_), Some(grace_limit)) => {
                let exhausted = wanted > grace_limit;
                if exhausted {
                    reasons.insert(Reason::GraceAllowanceExhausted);
                }
                if grace_over {
                    reasons.insert(Reason::GracePeriodEnded);
                }
                if !exhausted && !grace_over {
                    reasons.insert(Reason::SoftLimitGrace);
                }
            }
        }
        if let Some(ends) = grace_ends_at {
            bound(ends);
        }
        if rule.limit.is_some() {
            bound(period.end);
        }
        quota = Some(QuotaUse {
            used: counted.used,
            requested: units.amount,
            limit: rule.limit,
            grace_limit: rule.grace_limit,
            grace_ends_at,
            period,
        });
    }
    let reason = reasons.first().unwrap_or(Reason::Entitled);
    let decision = reasons.decision();
    // The top reason decides who is named: the license, the expiry policy,
    // the documents issued in the future, or the grants.
    let decider = Decider::of(reason);
    // Terminated and suspended licenses change only by a new document.
    if matches!(reason, Reason::LicenseTerminated | Reason::LicenseSuspended) {
        valid_until = None;
    }
    let http_status = match decision {
        Decision::Allow | Decision::AllowInGrace => 200,
        Decision::Deny => reason.http_status(),
    };
    let record = match (&quota, decision) {
        (Some(q), Decision::Allow | Decision::AllowInGrace) if q.requested > 0 => {
            Some(RecordNumbers {
                used: q.used.saturating_add(q.requested),
                soft_exceeded_at,
            })
        }
        _ => None,
    };
    Ok(Finished {
        decision,
        reason,
        reasons,
        decider,
        remaining,
        quota,
        valid_until,
        http_status,
        record,
    })
}
