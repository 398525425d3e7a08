//! `check`: may this license use a feature, or consume units of a metric, now?

use serde::{Deserialize, Serialize};

use crate::entitlement::basis::Basis;
use crate::entitlement::period::Period;
use crate::entitlement::reason::{Decision, Reason};
use crate::error::{Error, JsonPath};
use crate::metering::meter::MeterRecord;
use crate::model::bundle::Bundle;
use crate::model::ids::FeatureId;
use crate::model::license::{License, Usage};
use crate::model::time::Timestamp;

pub mod finish;
pub mod prepare;

pub use finish::{finish, Counted, Decider, Finished, Metered, QuotaUse, Refusal, Units};
pub use prepare::{prepare, Prepared, QuotaRule};

/// What is asked: use of a feature, or consumption of units of a metric.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ask {
    /// May the feature be used? For a metered feature: is any unit left?
    Feature(FeatureId),
    /// May `amount` more units be consumed?
    Consume {
        /// The metered feature.
        metric: FeatureId,
        /// Units to consume.
        amount: u64,
    },
}

impl Ask {
    /// The feature or metric asked about.
    pub fn feature(&self) -> &FeatureId {
        match self {
            Ask::Feature(f) | Ask::Consume { metric: f, .. } => f,
        }
    }

    /// Units the decision is taken for: a feature check on a metered feature
    /// asks whether one more unit could be consumed.
    pub fn probe(&self) -> u64 {
        match self {
            Ask::Feature(_) => 1,
            Ask::Consume { amount, .. } => *amount,
        }
    }

    /// Units the request consumes: none for a feature check.
    pub fn amount(&self) -> u64 {
        match self {
            Ask::Feature(_) => 0,
            Ask::Consume { amount, .. } => *amount,
        }
    }
}

/// The answer to a check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckAnswer {
    /// Allow, allow in grace or deny.
    pub decision: Decision,
    /// The reason of highest precedence.
    pub reason: Reason,
    /// Every reason that applies, in precedence order.
    pub reasons: Vec<Reason>,
    /// The feature or metric checked.
    pub feature: FeatureId,
    /// What decided the answer.
    pub decided_by: Vec<Basis>,
    /// Units that can still be consumed before a deny: after this request
    /// when it is allowed, before it when it is refused. A soft quota counts
    /// up to its grace limit while grace runs or has yet to start. `null` for
    /// boolean features and unlimited quotas.
    pub remaining: Option<u64>,
    /// The quota, for metered features.
    pub quota: Option<QuotaUse>,
    /// The earliest instant at which the same inputs could get another
    /// answer; `null` when nothing but new inputs can change it.
    pub valid_until: Option<Timestamp>,
    /// The HTTP status a gateway answers with: 200 for allow and allow in
    /// grace, else the deciding reason's (402 or 403, see `Reason::http_status`).
    pub http_status: u16,
    /// For an allowed consuming check: the count the host records for the
    /// metric once it commits to the answer. `null` otherwise.
    pub record: Option<MeterRecord>,
}

/// Where a check's own inputs sit in the request, so that an error names
/// the field whose value caused it: a `check` request's `now`, `amount` and
/// `usage`, or those of an event a simulation replays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The instant of the check.
    pub now: JsonPath,
    /// The units asked for.
    pub amount: JsonPath,
    /// The usage counted so far.
    pub usage: JsonPath,
}

impl Origin {
    /// A `check` request's own fields: `$.now`, `$.amount`, `$.usage`.
    pub fn request() -> Origin {
        let root = JsonPath::root();
        Origin {
            now: root.key("now"),
            amount: root.key("amount"),
            usage: root.key("usage"),
        }
    }
}

/// Decides a check. Inputs are validated before this runs; the errors left
/// are those that only the combination of documents can show.
pub fn check(
    bundle: &Bundle,
    license: &License,
    usage: &Usage,
    ask: &Ask,
    now: Timestamp,
) -> Result<CheckAnswer, Error> {
    check_at(bundle, license, usage, ask, now, &Origin::request())
}

/// [`check`] of inputs that sit where `origin` says in the request: the
/// documents' half ([`prepare`]), then the usage's ([`finish`]), then the
/// answer written out in full.
pub fn check_at(
    bundle: &Bundle,
    license: &License,
    usage: &Usage,
    ask: &Ask,
    now: Timestamp,
    origin: &Origin,
) -> Result<CheckAnswer, Error> {
    let feature = ask.feature();
    let prepared = prepare(bundle, license, feature, now)?;
    let metered = match prepared.quota {
        Some(rule) => Some(Metered {
            rule,
            period: Period::containing_at(rule.period, now, license, &origin.now)?,
        }),
        None => None,
    };
    let counted = match (&metered, usage.metrics.get(feature)) {
        (Some(_), Some(counted)) => Counted {
            used: counted.used,
            soft_exceeded_at: counted.soft_exceeded_at,
        },
        _ => Counted::default(),
    };
    let next_bound = prepared.bounds.iter().copied().filter(|t| *t > now).min();
    let units = Units {
        probe: ask.probe(),
        amount: ask.amount(),
    };
    let finished = finish(prepared.reasons, metered, counted, units, now, next_bound)
        .map_err(|refusal| refused(refusal, feature, origin))?;
    Ok(answer_of(&finished, prepared, feature, license))
}

/// The full answer to a check decided in numbers: the reasons listed, and
/// what decided named.
pub(crate) fn answer_of(
    finished: &Finished,
    prepared: Prepared,
    feature: &FeatureId,
    license: &License,
) -> CheckAnswer {
    let decided_by = match finished.decider {
        Decider::License => vec![Basis::License(license.license.clone())],
        Decider::ExpiryPolicy => vec![Basis::ExpiryPolicy],
        Decider::IssuedInFuture => prepared.issued_in_future,
        Decider::Grants => prepared.grant_basis,
    };
    answer_with(finished, feature, decided_by)
}

/// The full answer to a check decided in numbers, with what decided it
/// named: the one place a [`CheckAnswer`] is built from a [`Finished`].
pub(crate) fn answer_with(
    finished: &Finished,
    feature: &FeatureId,
    decided_by: Vec<Basis>,
) -> CheckAnswer {
    CheckAnswer {
        decision: finished.decision,
        reason: finished.reason,
        reasons: finished.reasons.iter().collect(),
        feature: feature.clone(),
        decided_by,
        remaining: finished.remaining,
        quota: finished.quota,
        valid_until: finished.valid_until,
        http_status: finished.http_status,
        record: match (finished.record, finished.quota) {
            (Some(record), Some(quota)) => Some(MeterRecord {
                metric: feature.clone(),
                period: quota.period,
                used: record.used,
                soft_exceeded_at: record.soft_exceeded_at,
            }),
            _ => None,
        },
    }
}

/// The error a refusal of the usage half is, named at the request's field.
fn refused(refusal: Refusal, feature: &FeatureId, origin: &Origin) -> Error {
    let soft_exceeded_at = || {
        origin
            .usage
            .key("metrics")
            .key(feature.as_str())
            .key("soft_exceeded_at")
    };
    match refusal {
        Refusal::Overflow => Error::Overflow {
            path: origin.amount.clone(),
            what: String::from("used plus requested units"),
        },
        Refusal::MissingSoftExceededAt => Error::MissingField {
            path: soft_exceeded_at(),
            field: String::from("soft_exceeded_at"),
        },
        // Past 9999 the grace's end cannot be written: named at the
        // recorded crossing, or at `now` when this request crosses.
        Refusal::GraceBeyondLastInstant {
            hours,
            started,
            recorded,
        } => Error::OutOfRange {
            path: if recorded {
                soft_exceeded_at()
            } else {
                origin.now.clone()
            },
            detail: format!(
                "the soft limit's grace of {hours} hours from `{started}` ends after `9999-12-31T23:59:59Z`, the last instant the engine writes"
            ),
        },
    }
}
