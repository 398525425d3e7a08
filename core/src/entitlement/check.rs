//! `check`: may this license use a feature, or consume units of a metric, now?

use serde::{Deserialize, Serialize};

use crate::entitlement::period::Period;
use crate::entitlement::reason::{Decision, Reason};
use crate::entitlement::standing::{LicenseState, Standing};
use crate::entitlement::terms::{Source, Terms};
use crate::error::{Error, JsonPath};
use crate::metering::meter::MeterRecord;
use crate::model::bundle::{AfterGrace, Bundle, FeatureKind};
use crate::model::ids::FeatureId;
use crate::model::license::{ExceptionState, License, LicenseStatus, Usage};
use crate::model::time::Timestamp;

use crate::entitlement::basis::Basis;

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
    fn feature(&self) -> &FeatureId {
        match self {
            Ask::Feature(f) | Ask::Consume { metric: f, .. } => f,
        }
    }

    /// Units the decision is taken for: a feature check on a metered feature
    /// asks whether one more unit could be consumed.
    fn probe(&self) -> u64 {
        match self {
            Ask::Feature(_) => 1,
            Ask::Consume { amount, .. } => *amount,
        }
    }

    /// Units the request consumes: none for a feature check.
    fn amount(&self) -> u64 {
        match self {
            Ask::Feature(_) => 0,
            Ask::Consume { amount, .. } => *amount,
        }
    }
}

/// A quota as it stood for this check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

/// [`check`] of inputs that sit where `origin` says in the request.
pub fn check_at(
    bundle: &Bundle,
    license: &License,
    usage: &Usage,
    ask: &Ask,
    now: Timestamp,
    origin: &Origin,
) -> Result<CheckAnswer, Error> {
    let feature = ask.feature();
    let standing = Standing::of(license, &bundle.expiry, now);
    let mut reasons = Vec::new();
    let mut bounds: Vec<Timestamp> = Vec::new();
    let mut decided_by = Vec::new();

    // License level: status, then term, then what the expiry policy leaves.
    bounds.extend([license.term.start, license.term.end]);
    bounds.extend(standing.grace_ends_at);
    match license.status {
        LicenseStatus::Terminated => reasons.push(Reason::LicenseTerminated),
        LicenseStatus::Suspended => reasons.push(Reason::LicenseSuspended),
        LicenseStatus::Active => {}
    }
    match standing.term_state {
        LicenseState::NotStarted => reasons.push(Reason::LicenseNotStarted),
        LicenseState::InGrace => reasons.push(Reason::RenewalGrace),
        LicenseState::Expired => reasons.push(match &bundle.expiry.after_grace {
            AfterGrace::Revoke => Reason::LicenseExpired,
            AfterGrace::Restrict { features } if !features.contains(feature) => {
                Reason::LicenseExpired
            }
            AfterGrace::Restrict { .. } | AfterGrace::Keep => Reason::ExpiredAccessKept,
        }),
        _ => {}
    }

    // Offline validity: issue times against the clock, the offline window.
    let offline = crate::entitlement::offline::Offline::at(bundle, license, now);
    reasons.extend(offline.reasons.iter().copied());
    bounds.extend(offline.bounds.iter().copied());

    // Feature level: a grant from the tier, an add-on or an exception in force.
    let terms = Terms::of_license(bundle, license, now).ok_or_else(|| unknown_tier(license))?;
    let sources = terms.feature_sources(feature);
    for exception in license.exceptions.iter().filter(|e| e.concerns(feature)) {
        bounds.extend(exception.boundaries());
    }
    if sources.is_empty() {
        let lapsed = license
            .exceptions
            .iter()
            .filter(|e| e.grants.features.contains(feature))
            .filter_map(|e| match e.state(now) {
                ExceptionState::Revoked => Some((Reason::ExceptionRevoked, e)),
                ExceptionState::Expired => Some((Reason::ExceptionExpired, e)),
                ExceptionState::NotStarted => Some((Reason::ExceptionNotStarted, e)),
                ExceptionState::Active => None,
            })
            .min_by(|a, b| a.0.cmp(&b.0));
        match lapsed {
            Some((reason, exception)) => {
                reasons.push(reason);
                decided_by.push(Basis::Grant(Source::Exception(exception.id.clone())));
            }
            None => {
                reasons.push(Reason::FeatureNotEntitled);
                decided_by.push(Basis::Grant(Source::Tier(license.tier.clone())));
            }
        }
    }

    // Quota level, for metered features that are granted.
    let metered = bundle
        .features
        .get(feature)
        .is_some_and(|f| f.kind == FeatureKind::Metered);
    let mut remaining = None;
    let mut quota_use = None;
    let mut soft_exceeded_at = None;
    if metered && !sources.is_empty() {
        if let Some(quota) = terms.quota(feature) {
            let counted = usage.metrics.get(feature).cloned().unwrap_or_default();
            let period = Period::containing_at(quota.period, now, license, &origin.now)?;
            let amount = ask.amount();
            let wanted = counted
                .used
                .checked_add(ask.probe())
                .ok_or_else(|| Error::Overflow {
                    path: origin.amount.clone(),
                    what: String::from("used plus requested units"),
                })?;
            // Grace starts when the limit is first crossed: the recorded instant
            // if the usage already crossed it, else the request that crosses it.
            let mut grace_ends_at = None;
            if let (Some(limit), Some(hours)) = (quota.limit, quota.grace_hours) {
                let started = match counted.soft_exceeded_at {
                    Some(at) => Some(at),
                    None if counted.used > limit => {
                        return Err(Error::MissingField {
                            path: origin
                                .usage
                                .key("metrics")
                                .key(feature.as_str())
                                .key("soft_exceeded_at"),
                            field: String::from("soft_exceeded_at"),
                        })
                    }
                    None if wanted > limit => Some(now),
                    None => None,
                };
                soft_exceeded_at = started;
                if let Some(started) = started {
                    let seconds = i64::try_from(hours.saturating_mul(3600)).unwrap_or(i64::MAX);
                    // Past 9999 the grace's end cannot be written: named at
                    // the recorded crossing, or at `now` when this request crosses.
                    let from = match counted.soft_exceeded_at {
                        Some(_) => origin
                            .usage
                            .key("metrics")
                            .key(feature.as_str())
                            .key("soft_exceeded_at"),
                        None => origin.now.clone(),
                    };
                    grace_ends_at = Some(started.plus_seconds(seconds).ok_or_else(|| {
                        Error::OutOfRange {
                            path: from,
                            detail: format!(
                                "the soft limit's grace of {hours} hours from `{started}` ends after `9999-12-31T23:59:59Z`, the last instant the engine writes"
                            ),
                        }
                    })?);
                }
            }
            let grace_over = grace_ends_at.is_some_and(|ends| now >= ends);
            // The ceiling is what can be consumed before a deny: the grace limit
            // while grace runs (or has yet to start), else the limit itself.
            let ceiling = match (quota.limit, quota.grace_limit) {
                (Some(_), Some(grace_limit)) if !grace_over => Some(grace_limit),
                (limit, _) => limit,
            };
            let consumed = counted.used.saturating_add(amount);
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
            let mut quota_reasons = Vec::new();
            match (quota.limit, quota.grace_limit) {
                (None, _) => quota_reasons.push(Reason::Unlimited),
                (Some(limit), _) if wanted <= limit => quota_reasons.push(Reason::WithinQuota),
                (Some(_), None) => quota_reasons.push(Reason::QuotaExceeded),
                (Some(_), Some(grace_limit)) => {
                    if wanted > grace_limit {
                        quota_reasons.push(Reason::GraceAllowanceExhausted);
                    }
                    if grace_over {
                        quota_reasons.push(Reason::GracePeriodEnded);
                    }
                    if quota_reasons.is_empty() {
                        quota_reasons.push(Reason::SoftLimitGrace);
                    }
                }
            }
            bounds.extend(grace_ends_at);
            if quota.limit.is_some() {
                bounds.push(period.end);
            }
            reasons.extend(quota_reasons);
            if decided_by.is_empty() {
                decided_by.extend(quota.sources.iter().cloned().map(Basis::Grant));
            }
            quota_use = Some(QuotaUse {
                used: counted.used,
                requested: amount,
                limit: quota.limit,
                grace_limit: quota.grace_limit,
                grace_ends_at,
                period,
            });
        }
    }
    if !metered && !sources.is_empty() {
        reasons.push(Reason::Entitled);
    }
    if metered && !sources.is_empty() && quota_use.is_none() {
        // A metered feature granted without a quota: validation refuses such a
        // bundle, so this only guards the invariant.
        reasons.push(Reason::Entitled);
    }
    if decided_by.is_empty() {
        decided_by.extend(sources.into_iter().map(Basis::Grant));
    }

    reasons.sort();
    reasons.dedup();
    let reason = reasons.first().copied().unwrap_or(Reason::Entitled);
    let decision = reasons
        .iter()
        .map(|r| r.decision())
        .max()
        .unwrap_or(Decision::Allow);
    // The top reason decides who is named: the license, the expiry policy, or grants.
    match reason {
        Reason::LicenseTerminated | Reason::LicenseSuspended | Reason::LicenseNotStarted => {
            decided_by = vec![Basis::License(license.license.clone())];
        }
        Reason::LicenseExpired | Reason::RenewalGrace | Reason::ExpiredAccessKept => {
            decided_by = vec![Basis::ExpiryPolicy];
        }
        _ => {}
    }
    if let Some(basis) = offline.decided_by(reason, license) {
        decided_by = basis;
    }
    // Terminated and suspended licenses change only by a new document.
    let permanent = matches!(reason, Reason::LicenseTerminated | Reason::LicenseSuspended);
    let valid_until = if permanent {
        None
    } else {
        bounds.into_iter().filter(|t| *t > now).min()
    };
    let http_status = match decision {
        Decision::Allow | Decision::AllowInGrace => 200,
        Decision::Deny => reason.http_status(),
    };
    let record = match (&quota_use, decision) {
        (Some(quota), Decision::Allow | Decision::AllowInGrace) if quota.requested > 0 => {
            Some(MeterRecord {
                metric: feature.clone(),
                period: quota.period,
                used: quota.used.saturating_add(quota.requested),
                soft_exceeded_at,
            })
        }
        _ => None,
    };
    Ok(CheckAnswer {
        decision,
        reason,
        reasons,
        feature: feature.clone(),
        decided_by,
        remaining,
        quota: quota_use,
        valid_until,
        http_status,
        record,
    })
}

fn unknown_tier(license: &License) -> Error {
    Error::UnknownReference {
        path: JsonPath::root().key("license").key("tier"),
        kind: crate::error::RefKind::Tier,
        name: license.tier.to_string(),
    }
}
