//! The first half of a check: what the documents and the instant decide
//! before any usage is read. It changes only at the license's boundaries
//! (its term, renewal grace, offline window, issue times and exceptions),
//! which is what lets a compiled license decide it once per span between them.

use crate::entitlement::basis::Basis;
use crate::entitlement::offline::Offline;
use crate::entitlement::reason::{Reason, ReasonSet};
use crate::entitlement::standing::{LicenseState, Standing};
use crate::entitlement::terms::{Source, Terms};
use crate::error::{Error, JsonPath};
use crate::model::bundle::{AfterGrace, Bundle, FeatureKind, PeriodKind};
use crate::model::ids::FeatureId;
use crate::model::license::{ExceptionState, License, LicenseStatus};
use crate::model::time::Timestamp;

/// A quota with every increment applied, as a check reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaRule {
    /// Units per period; `None` is unlimited.
    pub limit: Option<u64>,
    /// How far a soft quota reaches in grace.
    pub grace_limit: Option<u64>,
    /// Grace time of a soft quota, in hours.
    pub grace_hours: Option<u64>,
    /// The period the count resets on.
    pub period: PeriodKind,
}

/// What the documents decide about one feature at one instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    /// The reasons that do not depend on the usage: status, term, offline
    /// validity, a missing or lapsed grant, or `entitled` for a grant
    /// without a quota.
    pub reasons: ReasonSet,
    /// The quota to check the usage against: a metered feature, granted.
    pub quota: Option<QuotaRule>,
    /// What decided the answer when the grants do: the lapsed exception or
    /// the tier when nothing grants the feature, else the quota's sources,
    /// else the feature's.
    pub grant_basis: Vec<Basis>,
    /// The documents issued in the future, when that decides.
    pub issued_in_future: Vec<Basis>,
    /// Instants at which this part can change; those after `now` count.
    pub bounds: Vec<Timestamp>,
}

/// Decides the usage-free half of a check of `feature` at `now`.
pub fn prepare(
    bundle: &Bundle,
    license: &License,
    feature: &FeatureId,
    now: Timestamp,
) -> Result<Prepared, Error> {
    let LicenseLevel {
        mut reasons,
        mut bounds,
        offline,
    } = license_level(bundle, license, Some(feature), now);

    // Feature level: a grant from the tier, an add-on or an exception in force.
    let terms = Terms::of_license(bundle, license, now).ok_or_else(|| unknown_tier(license))?;
    let sources = terms.feature_sources(feature);
    for exception in license.exceptions.iter().filter(|e| e.concerns(feature)) {
        bounds.extend(exception.boundaries());
    }
    let metered = bundle
        .features
        .get(feature)
        .is_some_and(|f| f.kind == FeatureKind::Metered);
    let mut quota = None;
    let grant_basis = if sources.is_empty() {
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
                reasons.insert(reason);
                vec![Basis::Grant(Source::Exception(exception.id.clone()))]
            }
            None => {
                reasons.insert(Reason::FeatureNotEntitled);
                vec![Basis::Grant(Source::Tier(license.tier.clone()))]
            }
        }
    } else {
        match terms.quota(feature).filter(|_| metered) {
            Some(effective) => {
                quota = Some(QuotaRule {
                    limit: effective.limit,
                    grace_limit: effective.grace_limit,
                    grace_hours: effective.grace_hours,
                    period: effective.period,
                });
                effective.sources.into_iter().map(Basis::Grant).collect()
            }
            // A boolean feature granted; or a metered one granted without a
            // quota, which validation refuses: this only guards the invariant.
            None => {
                reasons.insert(Reason::Entitled);
                sources.into_iter().map(Basis::Grant).collect()
            }
        }
    };
    Ok(Prepared {
        reasons,
        quota,
        grant_basis,
        issued_in_future: offline.issued_in_future().to_vec(),
        bounds,
    })
}

/// What the license alone decides at `now`, before any feature or seat.
pub(crate) struct LicenseLevel {
    /// Status, term, expiry policy and offline reasons.
    pub reasons: ReasonSet,
    /// Instants at which they can change (some may be before `now`).
    pub bounds: Vec<Timestamp>,
    /// The documents' own times.
    pub offline: Offline,
}

/// The license-level half of a decision: status, then term, then what the
/// expiry policy leaves to `feature` (nothing to a seat, `None`), then the
/// documents' issue times and offline window.
pub(crate) fn license_level(
    bundle: &Bundle,
    license: &License,
    feature: Option<&FeatureId>,
    now: Timestamp,
) -> LicenseLevel {
    let standing = Standing::of(license, &bundle.expiry, now);
    let mut reasons = ReasonSet::default();
    let mut bounds: Vec<Timestamp> = vec![license.term.start, license.term.end];
    bounds.extend(standing.grace_ends_at);
    match license.status {
        LicenseStatus::Terminated => reasons.insert(Reason::LicenseTerminated),
        LicenseStatus::Suspended => reasons.insert(Reason::LicenseSuspended),
        LicenseStatus::Active => {}
    }
    match standing.term_state {
        LicenseState::NotStarted => reasons.insert(Reason::LicenseNotStarted),
        LicenseState::InGrace => reasons.insert(Reason::RenewalGrace),
        LicenseState::Expired => reasons.insert(match (&bundle.expiry.after_grace, feature) {
            (AfterGrace::Keep, _) => Reason::ExpiredAccessKept,
            (AfterGrace::Restrict { features }, Some(f)) if features.contains(f) => {
                Reason::ExpiredAccessKept
            }
            _ => Reason::LicenseExpired,
        }),
        _ => {}
    }
    let offline = Offline::at(bundle, license, now);
    offline.reasons.iter().for_each(|r| reasons.insert(*r));
    bounds.extend(offline.bounds.iter().copied());
    LicenseLevel {
        reasons,
        bounds,
        offline,
    }
}

fn unknown_tier(license: &License) -> Error {
    Error::UnknownReference {
        path: JsonPath::root().key("license").key("tier"),
        kind: crate::error::RefKind::Tier,
        name: license.tier.to_string(),
    }
}
