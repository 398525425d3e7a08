//! Intake of an exception request: the facts the policy requires, the
//! window and its maximum, terms that conflict with the license, and
//! overlap with the license's other exceptions. Every problem is reported
//! at once, each at the request field it concerns.

use crate::error::{Conflict, Error, JsonPath, RefKind};
use crate::exceptions::policy::ExceptionPolicy;
use crate::exceptions::request::ExceptionRequest;
use crate::model::bundle::{Bundle, Enforcement, FeatureKind, Limit, Tier};
use crate::model::ids::FeatureId;
use crate::model::license::License;
use crate::model::time::Timestamp;

/// Seconds in a day of the policy's durations.
pub(crate) const DAY: i64 = 86_400;

/// The span the exception would cover.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Window {
    /// First instant it applies.
    pub starts_at: Timestamp,
    /// First instant it no longer applies.
    pub expires_at: Timestamp,
    /// Its length in whole days, a started day counting whole.
    pub days: u64,
}

/// Checks a request against the policy and the license: every problem goes
/// to `errors`; the window when it can be read.
pub(crate) fn intake(
    bundle: &Bundle,
    policy: &ExceptionPolicy,
    license: &License,
    request: &ExceptionRequest,
    at: &JsonPath,
    errors: &mut Vec<Error>,
) -> Option<Window> {
    for fact in &policy.required_facts {
        if !request.gives(*fact) {
            errors.push(Error::contradiction(
                at.key(fact.field()),
                Conflict::MissingFact,
                format!("the policy requires the request's `{}`", fact.field()),
            ));
        }
    }
    let window = window(policy, request, at, errors);
    let grants = request.features.is_empty()
        && request.quota_increments.is_empty()
        && request.grace_hours.is_empty();
    if grants {
        errors.push(Error::contradiction(
            at.clone(),
            Conflict::EmptyGrant,
            format!("request `{}` asks for nothing", request.id),
        ));
    }
    let tier = bundle.tiers.get(&license.tier);
    let mut seen = Vec::new();
    for (i, f) in request.features.iter().enumerate() {
        let path = at.key("features").index(i);
        if seen.contains(&f) {
            errors.push(Error::Duplicate {
                path,
                what: "feature".into(),
                value: f.to_string(),
            });
            continue;
        }
        seen.push(f);
        match bundle.features.get(f) {
            None => errors.push(Error::unknown(path, RefKind::Feature, f.as_str())),
            Some(feature) if feature.kind == FeatureKind::Metered => {
                errors.push(Error::contradiction(
                    path,
                    Conflict::MeteredFeatureGrant,
                    format!("`{f}` is metered: ask for units with `quota_increments`"),
                ))
            }
            Some(_) if granted(bundle, license, tier, f) => errors.push(Error::contradiction(
                path,
                Conflict::AlreadyGranted,
                format!("the license already grants `{f}` by its tier or an add-on"),
            )),
            Some(_) => overlap(license, request, window, f, path, errors),
        }
    }
    for (metric, extra) in &request.quota_increments {
        let path = at.key("quota_increments").key(metric.as_str());
        let quota = tier.and_then(|t| t.quotas.get(metric));
        if !metered(bundle, metric) {
            errors.push(Error::unknown(path, RefKind::Metric, metric.as_str()));
        } else if *extra == 0 {
            errors.push(not_positive(path, "a quota increment"));
        } else if !quota.is_some_and(|q| matches!(q.limit, Limit::Units(_))) {
            errors.push(Error::contradiction(
                path,
                Conflict::IncrementWithoutQuota,
                format!(
                    "tier `{}` has no bounded quota on `{metric}` to increase",
                    license.tier
                ),
            ));
        } else {
            overlap(license, request, window, metric, path, errors);
        }
    }
    for (metric, hours) in &request.grace_hours {
        let path = at.key("grace_hours").key(metric.as_str());
        let soft = tier
            .and_then(|t| t.quotas.get(metric))
            .is_some_and(|q| matches!(q.enforcement, Enforcement::Soft { .. }));
        if !metered(bundle, metric) {
            errors.push(Error::unknown(path, RefKind::Metric, metric.as_str()));
        } else if *hours == 0 {
            errors.push(not_positive(path, "extra grace hours"));
        } else if !soft {
            errors.push(Error::contradiction(
                path,
                Conflict::GraceWithoutSoftQuota,
                format!("tier `{}` does not enforce `{metric}` softly", license.tier),
            ));
        } else {
            overlap(license, request, window, metric, path, errors);
        }
    }
    window
}

/// Reads the window: `starts_at` with `expires_at` or `duration_days`, not
/// ending before it starts, no longer than the policy allows.
fn window(
    policy: &ExceptionPolicy,
    request: &ExceptionRequest,
    at: &JsonPath,
    errors: &mut Vec<Error>,
) -> Option<Window> {
    let missing = |field: &str| Error::MissingField {
        path: at.key(field),
        field: field.into(),
    };
    let Some(starts_at) = request.starts_at else {
        errors.push(missing("starts_at"));
        return None;
    };
    let (expires_at, end_path) = match (request.expires_at, request.duration_days) {
        (Some(_), Some(_)) => {
            errors.push(Error::contradiction(
                at.key("duration_days"),
                Conflict::AmbiguousDuration,
                "the request gives both `expires_at` and `duration_days`".into(),
            ));
            return None;
        }
        (None, None) => {
            errors.push(missing("expires_at"));
            return None;
        }
        (Some(end), None) => (end, at.key("expires_at")),
        (None, Some(0)) => {
            errors.push(not_positive(at.key("duration_days"), "duration_days"));
            return None;
        }
        (None, Some(days)) => {
            let path = at.key("duration_days");
            match starts_at.plus_seconds(i64::from(days).saturating_mul(DAY)) {
                Some(end) => (end, path),
                None => {
                    errors.push(Error::OutOfRange {
                        path,
                        detail: format!(
                            "{days} days from `{starts_at}` end after `9999-12-31T23:59:59Z`, the last instant the engine writes"
                        ),
                    });
                    return None;
                }
            }
        }
    };
    if expires_at <= starts_at {
        errors.push(Error::contradiction(
            end_path,
            Conflict::ExceptionEndsBeforeStart,
            format!("the request expires at `{expires_at}`, not after it starts at `{starts_at}`"),
        ));
        return None;
    }
    let seconds = expires_at.seconds_since(starts_at);
    let days = u64::try_from(seconds.div_euclid(DAY) + i64::from(seconds.rem_euclid(DAY) > 0))
        .unwrap_or(u64::MAX);
    if days > u64::from(policy.max_duration_days) {
        errors.push(Error::contradiction(
            end_path,
            Conflict::DurationOverMaximum,
            format!(
                "the request runs `{days}` days, more than the policy's maximum of `{}`",
                policy.max_duration_days
            ),
        ));
    }
    Some(Window {
        starts_at,
        expires_at,
        days,
    })
}

/// Whether the license's tier or one of its add-ons grants the feature.
fn granted(bundle: &Bundle, license: &License, tier: Option<&Tier>, f: &FeatureId) -> bool {
    tier.is_some_and(|t| t.features.contains(f))
        || license
            .addons
            .iter()
            .filter_map(|a| bundle.addons.get(a))
            .any(|a| a.features.contains(f))
}

fn metered(bundle: &Bundle, f: &FeatureId) -> bool {
    bundle
        .features
        .get(f)
        .is_some_and(|x| x.kind == FeatureKind::Metered)
}

/// Reports another exception of the license on the same feature or metric
/// whose window (cut short by its revocation) meets the requested one. The
/// license's exception with the request's own id is its record, not another.
fn overlap(
    license: &License,
    request: &ExceptionRequest,
    window: Option<Window>,
    f: &FeatureId,
    path: JsonPath,
    errors: &mut Vec<Error>,
) {
    let Some(w) = window else { return };
    let clash = license.exceptions.iter().find(|e| {
        e.id != request.id
            && e.concerns(f)
            && e.starts_at < w.expires_at
            && w.starts_at < e.ends_at()
    });
    if let Some(e) = clash {
        errors.push(Error::contradiction(
            path,
            Conflict::OverlappingException,
            format!(
                "exception `{}` already covers `{f}` from `{}` to `{}`",
                e.id, e.starts_at, e.expires_at
            ),
        ));
    }
}

fn not_positive(path: JsonPath, what: &str) -> Error {
    Error::NotPositive {
        path,
        what: what.into(),
        value: "0".into(),
    }
}
