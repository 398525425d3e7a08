//! `validate`: every problem in a bundle, license or usage at once — unknown
//! references, contradictory terms, limits that make no sense — each with
//! its JSON path and a stable code.

use std::collections::{BTreeMap, BTreeSet};

use crate::error::{push_capped, Conflict, Error, JsonPath, RefKind};
use crate::model::bundle::{
    Bundle, ControlType, ControlValue, Enforcement, FeatureKind, GraceAllowance, Limit,
};
use crate::model::ids::{AddOnId, FeatureId, TierId};
use crate::model::license::{License, Usage};
use crate::model::route::{StoreFailure, StoreFailureMode};

/// `units` belongs to `bounded_open`, which needs it: how far a gateway may
/// admit alone is never a default.
fn store_failure(rule: &StoreFailure, at: &JsonPath) -> Option<Error> {
    match (rule.mode, rule.units) {
        (StoreFailureMode::BoundedOpen, None) => Some(Error::MissingField {
            path: at.key("units"),
            field: String::from("units"),
        }),
        (StoreFailureMode::Deny | StoreFailureMode::LeaseOnly, Some(_)) => {
            Some(Error::UnknownField {
                path: at.key("units"),
                field: String::from("units"),
            })
        }
        _ => None,
    }
}

/// Every problem of a bundle on its own; `root` is where it sits in the request.
pub fn bundle(bundle: &Bundle, root: &JsonPath) -> Vec<Error> {
    let mut errors = Vec::new();
    let features = &bundle.features;
    let is_metered = |f: &FeatureId| {
        features
            .get(f)
            .is_some_and(|x| x.kind == FeatureKind::Metered)
    };
    for (id, feature) in features {
        errors.extend(store_failure(
            &feature.on_store_failure,
            &root.key("features").key(id.as_str()).key("on_store_failure"),
        ));
    }
    if bundle.tiers.is_empty() {
        errors.push(Error::contradiction(
            root.key("tiers"),
            Conflict::NoTiers,
            "the bundle declares no tier".into(),
        ));
    }
    for (id, calendar) in &bundle.calendars {
        errors.extend(calendar.check_has_hours(&root.key("calendars").key(id.as_str())));
    }
    if let Some(support) = &bundle.support {
        errors.extend(crate::support::policy::validate(
            bundle,
            support,
            &root.key("support"),
        ));
    }
    if let Some(policy) = &bundle.exception_policy {
        errors.extend(crate::exceptions::policy::validate(
            bundle,
            policy,
            &root.key("exception_policy"),
        ));
    }
    if let Some(compliance) = &bundle.compliance {
        errors.extend(crate::compliance::policy::validate(
            bundle, compliance, root,
        ));
    }
    let mut ranks: BTreeMap<u32, &str> = BTreeMap::new();
    for (tier_id, tier) in &bundle.tiers {
        let at = root.key("tiers").key(tier_id.as_str());
        if let Some(other) = ranks.insert(tier.rank, tier_id.as_str()) {
            errors.push(Error::contradiction(
                at.key("rank"),
                Conflict::DuplicateRank,
                format!("tiers `{other}` and `{tier_id}` share rank `{}`", tier.rank),
            ));
        }
        if tier.max_seats == Some(0) {
            errors.push(Error::not_positive(at.key("max_seats"), "max_seats", "0"));
        }
        errors.extend(crate::billing::credit::validate(
            &tier.service_credits,
            &at.key("service_credits"),
        ));
        let mut seen = BTreeSet::new();
        for (i, f) in tier.features.iter().enumerate() {
            let path = || at.key("features").index(i);
            if !seen.insert(f) {
                push_capped(&mut errors, || Error::Duplicate {
                    path: path(),
                    what: "feature".into(),
                    value: f.to_string(),
                });
            } else if !features.contains_key(f) {
                push_capped(&mut errors, || {
                    Error::unknown(path(), RefKind::Feature, f.as_str())
                });
            } else if is_metered(f) && !tier.quotas.contains_key(f) {
                push_capped(&mut errors, || {
                    Error::contradiction(
                        path(),
                        Conflict::MeteredWithoutQuota,
                        format!("tier `{tier_id}` grants metered feature `{f}` without a quota"),
                    )
                });
            }
        }
        for (metric, quota) in &tier.quotas {
            let path = at.key("quotas").key(metric.as_str());
            if !features.contains_key(metric) {
                errors.push(Error::unknown(
                    path.clone(),
                    RefKind::Metric,
                    metric.as_str(),
                ));
            } else if !is_metered(metric) {
                errors.push(Error::contradiction(
                    path.clone(),
                    Conflict::NotMetered,
                    format!("feature `{metric}` is boolean and takes no quota"),
                ));
            } else if !tier.features.contains(metric) {
                errors.push(Error::contradiction(
                    path.clone(),
                    Conflict::QuotaForUngrantedFeature,
                    format!("tier `{tier_id}` sets a quota on `{metric}` but does not grant it"),
                ));
            }
            if quota.limit == Limit::Units(0) {
                errors.push(Error::not_positive(
                    path.key("limit"),
                    "a quota's limit",
                    "0",
                ));
            }
            if let Enforcement::Soft {
                grace_allowance,
                grace_hours,
            } = &quota.enforcement
            {
                let e = path.key("enforcement");
                match grace_allowance {
                    GraceAllowance::Percent(p) if p.is_sign_negative() || p.is_zero() => {
                        errors.push(Error::not_positive(
                            e.key("grace_allowance").key("percent"),
                            "a grace percentage",
                            &p.to_string(),
                        ));
                    }
                    GraceAllowance::Units(0) => {
                        errors.push(Error::not_positive(
                            e.key("grace_allowance").key("units"),
                            "a grace allowance",
                            "0",
                        ));
                    }
                    _ => {}
                }
                if *grace_hours == 0 {
                    errors.push(Error::not_positive(
                        e.key("grace_hours"),
                        "a grace duration",
                        "0",
                    ));
                }
                if matches!(quota.limit, Limit::Unlimited) {
                    errors.push(Error::contradiction(
                        e,
                        Conflict::SoftUnlimited,
                        "an unlimited quota has nothing to be soft about".into(),
                    ));
                }
            }
        }
        for (control, value) in &tier.controls {
            let path = at.key("controls").key(control.as_str());
            match bundle.controls.get(control) {
                None => errors.push(Error::unknown(path, RefKind::Control, control.as_str())),
                Some(kind) => check_control(kind, value, path, &mut errors),
            }
        }
        for control in bundle
            .controls
            .keys()
            .filter(|c| !tier.controls.contains_key(*c))
        {
            errors.push(Error::MissingField {
                path: at.key("controls").key(control.as_str()),
                field: control.to_string(),
            });
        }
    }
    for (control, kind) in &bundle.controls {
        if let ControlType::Choice { choices } = kind {
            if choices.is_empty() {
                errors.push(Error::contradiction(
                    root.key("controls").key(control.as_str()).key("choices"),
                    Conflict::NoChoices,
                    "a choice control needs at least one choice".into(),
                ));
            }
        }
    }
    for (addon_id, addon) in &bundle.addons {
        let at = root.key("addons").key(addon_id.as_str());
        if addon.tiers.is_empty() {
            errors.push(Error::contradiction(
                at.key("tiers"),
                Conflict::AddonFitsNoTier,
                format!("add-on `{addon_id}` fits no tier"),
            ));
        }
        for (i, t) in addon.tiers.iter().enumerate() {
            if !bundle.tiers.contains_key(t) {
                errors.push(Error::unknown(
                    at.key("tiers").index(i),
                    RefKind::Tier,
                    t.as_str(),
                ));
            }
        }
        for (i, f) in addon.features.iter().enumerate() {
            grant_feature(bundle, f, at.key("features").index(i), &mut errors);
        }
        for (metric, extra) in &addon.quota_increments {
            let path = at.key("quota_increments").key(metric.as_str());
            if *extra == 0 {
                errors.push(Error::not_positive(path.clone(), "a quota increment", "0"));
            }
            if !is_metered(metric) {
                errors.push(Error::unknown(path, RefKind::Metric, metric.as_str()));
                continue;
            }
            for t in &addon.tiers {
                if bundle
                    .tiers
                    .get(t)
                    .is_some_and(|tier| !tier.quotas.contains_key(metric))
                {
                    errors.push(Error::contradiction(
                        path.clone(),
                        Conflict::IncrementWithoutQuota,
                        format!("tier `{t}` has no quota on `{metric}` for add-on `{addon_id}` to increase"),
                    ));
                }
            }
        }
    }
    for (metric, model) in &bundle.charges {
        let path = root.key("charges").key(metric.as_str());
        if !is_metered(metric) {
            errors.push(Error::unknown(
                path.clone(),
                RefKind::Metric,
                metric.as_str(),
            ));
        }
        errors.extend(model.validate(&path));
    }
    let mut pairs = BTreeSet::new();
    for (i, t) in bundle.transitions.iter().enumerate() {
        let at = || root.key("transitions").index(i);
        for (field, tier) in [("from", &t.from), ("to", &t.to)] {
            if !bundle.tiers.contains_key(tier) {
                push_capped(&mut errors, || {
                    Error::unknown(at().key(field), RefKind::Tier, tier.as_str())
                });
            }
        }
        if t.from == t.to {
            push_capped(&mut errors, || {
                Error::contradiction(
                    at().key("to"),
                    Conflict::SelfTransition,
                    format!("a transition from `{}` to itself", t.from),
                )
            });
        } else if !pairs.insert((&t.from, &t.to)) {
            push_capped(&mut errors, || Error::Duplicate {
                path: at(),
                what: "transition".into(),
                value: format!("{} -> {}", t.from, t.to),
            });
        }
    }
    if let crate::model::bundle::AfterGrace::Restrict { features: kept } =
        &bundle.expiry.after_grace
    {
        for (i, f) in kept.iter().enumerate() {
            if !features.contains_key(f) {
                errors.push(Error::unknown(
                    root.key("expiry")
                        .key("after_grace")
                        .key("features")
                        .index(i),
                    RefKind::Feature,
                    f.as_str(),
                ));
            }
        }
    }
    let kind_of = |f: &FeatureId| features.get(f).map(|x| x.kind == FeatureKind::Metered);
    errors.extend(crate::model::route::validate(
        &bundle.gateway,
        kind_of,
        &root.key("gateway"),
    ));
    errors
}

fn check_control(
    kind: &ControlType,
    value: &ControlValue,
    path: JsonPath,
    errors: &mut Vec<Error>,
) {
    match (kind, value) {
        (ControlType::Boolean, ControlValue::Boolean(_))
        | (ControlType::Integer { .. }, ControlValue::Integer(_)) => {}
        (ControlType::Choice { choices }, ControlValue::Choice(c)) => {
            if !choices.contains(c) {
                errors.push(Error::contradiction(
                    path,
                    Conflict::UnknownChoice,
                    format!(
                        "`{c}` is not one of the control's choices: {}",
                        choices.join(", ")
                    ),
                ));
            }
        }
        (kind, _) => {
            let expected = match kind {
                ControlType::Boolean => "a boolean",
                ControlType::Integer { .. } => "an integer",
                ControlType::Choice { .. } => "a string naming one of the choices",
            };
            errors.push(Error::WrongType {
                path,
                detail: format!("the control takes {expected}"),
            });
        }
    }
}

/// Add-ons and exceptions grant boolean features; metered access comes from
/// a tier's quota, which they can only increase.
fn grant_feature(bundle: &Bundle, f: &FeatureId, path: JsonPath, errors: &mut Vec<Error>) {
    match bundle.features.get(f) {
        None => errors.push(Error::unknown(path, RefKind::Feature, f.as_str())),
        Some(feature) if feature.kind == FeatureKind::Metered => errors.push(Error::contradiction(
            path,
            Conflict::MeteredFeatureGrant,
            format!(
                "`{f}` is metered: grant units with `quota_increments` on a tier's quota instead"
            ),
        )),
        Some(_) => {}
    }
}

/// Every problem of a list of add-ons at `root`: each declared, named once,
/// and fitting `tier` when the tier is known (an unknown tier is reported
/// on its own). The license's list and a `status` what-if's share it.
pub(crate) fn addons(
    bundle: &Bundle,
    addons: &[AddOnId],
    tier: Option<&TierId>,
    root: &JsonPath,
    errors: &mut Vec<Error>,
) {
    let mut seen = BTreeSet::new();
    for (i, a) in addons.iter().enumerate() {
        // Every entry may be wrong: past the errors an answer lists, they
        // are only counted (`push_capped`).
        let path = || root.index(i);
        match bundle.addons.get(a) {
            None => push_capped(errors, || {
                Error::unknown(path(), RefKind::AddOn, a.as_str())
            }),
            Some(_) if !seen.insert(a) => push_capped(errors, || Error::Duplicate {
                path: path(),
                what: "add-on".into(),
                value: a.to_string(),
            }),
            Some(addon) => {
                if let Some(tier) = tier.filter(|t| !addon.tiers.contains(t)) {
                    push_capped(errors, || {
                        Error::contradiction(
                            path(),
                            Conflict::AddonNotForTier,
                            format!("add-on `{a}` does not fit tier `{tier}`"),
                        )
                    });
                }
            }
        }
    }
}

/// Every problem of a license against its (valid) bundle.
pub fn license(bundle: &Bundle, license: &License, root: &JsonPath) -> Vec<Error> {
    let mut errors = Vec::new();
    let tier = bundle.tiers.get(&license.tier);
    if tier.is_none() {
        errors.push(Error::unknown(
            root.key("tier"),
            RefKind::Tier,
            license.tier.as_str(),
        ));
    }
    addons(
        bundle,
        &license.addons,
        tier.map(|_| &license.tier),
        &root.key("addons"),
        &mut errors,
    );
    if license.seats == 0 {
        errors.push(Error::not_positive(root.key("seats"), "seats", "0"));
    }
    if let Some(max) = tier.and_then(|t| t.max_seats) {
        if license.seats > max {
            errors.push(Error::contradiction(
                root.key("seats"),
                Conflict::SeatsOverTierMax,
                format!(
                    "`{}` seats exceed the tier's maximum of `{max}`",
                    license.seats
                ),
            ));
        }
    }
    if license.term.end <= license.term.start {
        errors.push(Error::contradiction(
            root.key("term").key("end"),
            Conflict::TermEndsBeforeStart,
            format!(
                "the term ends at `{}`, not after its start `{}`",
                license.term.end, license.term.start
            ),
        ));
    }
    if let Some(window) = &license.offline {
        if window.not_after <= window.not_before {
            errors.push(Error::contradiction(
                root.key("offline").key("not_after"),
                Conflict::OfflineWindowEndsBeforeStart,
                format!(
                    "the offline window ends at `{}`, not after its start `{}`",
                    window.not_after, window.not_before
                ),
            ));
        }
    }
    let mut ids = BTreeSet::new();
    for (i, e) in license.exceptions.iter().enumerate() {
        let at = root.key("exceptions").index(i);
        if !ids.insert(&e.id) {
            errors.push(Error::Duplicate {
                path: at.key("id"),
                what: "exception id".into(),
                value: e.id.to_string(),
            });
        }
        if e.expires_at <= e.starts_at {
            errors.push(Error::contradiction(
                at.key("expires_at"),
                Conflict::ExceptionEndsBeforeStart,
                format!(
                    "exception `{}` expires at `{}`, not after it starts at `{}`",
                    e.id, e.expires_at, e.starts_at
                ),
            ));
        }
        if e.approver.trim().is_empty() {
            errors.push(Error::contradiction(
                at.key("approver"),
                Conflict::MissingApprover,
                format!("exception `{}` names no approver", e.id),
            ));
        }
        if e.reason.trim().is_empty() {
            errors.push(Error::contradiction(
                at.key("reason"),
                Conflict::MissingReason,
                format!("exception `{}` gives no reason", e.id),
            ));
        }
        let grants = &e.grants;
        if grants.features.is_empty()
            && grants.quota_increments.is_empty()
            && grants.grace_hours.is_empty()
            && grants.seats == 0
        {
            errors.push(Error::contradiction(
                at.key("grants"),
                Conflict::EmptyGrant,
                format!("exception `{}` grants nothing", e.id),
            ));
        }
        for (j, f) in grants.features.iter().enumerate() {
            grant_feature(
                bundle,
                f,
                at.key("grants").key("features").index(j),
                &mut errors,
            );
        }
        let quotas = tier.map(|t| &t.quotas);
        for (metric, extra) in &grants.quota_increments {
            let path = at
                .key("grants")
                .key("quota_increments")
                .key(metric.as_str());
            if *extra == 0 {
                errors.push(Error::not_positive(path.clone(), "a quota increment", "0"));
            }
            if quotas.is_some_and(|q| !q.contains_key(metric)) {
                errors.push(Error::contradiction(
                    path,
                    Conflict::IncrementWithoutQuota,
                    format!(
                        "tier `{}` has no quota on `{metric}` to increase",
                        license.tier
                    ),
                ));
            }
        }
        for (metric, hours) in &grants.grace_hours {
            let path = at.key("grants").key("grace_hours").key(metric.as_str());
            if *hours == 0 {
                errors.push(Error::not_positive(path.clone(), "extra grace hours", "0"));
            }
            let soft = quotas
                .and_then(|q| q.get(metric))
                .is_some_and(|q| matches!(q.enforcement, Enforcement::Soft { .. }));
            if tier.is_some() && !soft {
                errors.push(Error::contradiction(
                    path,
                    Conflict::GraceWithoutSoftQuota,
                    format!(
                        "tier `{}` has no soft quota on `{metric}` to extend",
                        license.tier
                    ),
                ));
            }
        }
    }
    errors
}

/// Every problem of a usage document against its bundle.
pub fn usage(bundle: &Bundle, usage: &Usage, root: &JsonPath) -> Vec<Error> {
    usage
        .metrics
        .keys()
        .filter(|m| {
            bundle
                .features
                .get(*m)
                .is_none_or(|f| f.kind != FeatureKind::Metered)
        })
        .map(|m| {
            Error::unknown(
                root.key("metrics").key(m.as_str()),
                RefKind::Metric,
                m.as_str(),
            )
        })
        .collect()
}
