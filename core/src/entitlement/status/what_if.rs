//! `what_if`: the status of a license as if it had another tier, other
//! add-ons, other counts or other seats in use. The documents are read and
//! verified as sent (a signed license cannot be edited by the page); the
//! changes are applied to copies afterwards, so asking never needs a new
//! signature and never alters what was verified.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::entitlement::terms::Terms;
use crate::error::{Error, JsonPath, RefKind};
use crate::model::bundle::{Bundle, FeatureKind};
use crate::model::ids::{AddOnId, FeatureId, TierId};
use crate::model::license::{License, Usage};
use crate::model::order;
use crate::model::time::Timestamp;

/// The request's `what_if`; every member is optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct WhatIf {
    /// Another tier; absent keeps the license's.
    #[serde(default)]
    pub tier: Option<TierId>,
    /// Exactly these add-ons; absent keeps the license's that fit the tier.
    #[serde(default)]
    pub addons: Option<Vec<AddOnId>>,
    /// Counts used this period, per metric, replacing the usage's.
    #[serde(default)]
    pub usage: BTreeMap<FeatureId, u64>,
    /// Seats in use, replacing the usage's.
    #[serde(default)]
    pub active_seats: Option<u64>,
}

/// What the answer echoes of a `what_if`: what it was taken to mean.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Echo {
    /// The tier the status is computed for.
    pub tier: TierId,
    /// The add-ons it is computed with.
    pub addons: Vec<AddOnId>,
    /// The license's add-ons left out: those that do not fit the tier, or
    /// that an explicit `addons` list does not name.
    pub dropped_addons: Vec<AddOnId>,
    /// The counts the request replaced.
    pub usage: BTreeMap<FeatureId, u64>,
    /// Seats in use, as computed with.
    pub active_seats: u64,
}

/// Reads `what_if` and checks it against the bundle: a tier it declares,
/// add-ons it declares that fit that tier (the license's tier when none is
/// asked), each once, and metered features for counts. Every problem is
/// reported, each at its path.
pub fn read(
    value: serde_json::Value,
    bundle: &Bundle,
    license: &License,
) -> Result<WhatIf, Vec<Error>> {
    let root = JsonPath::root().key("what_if");
    let what_if: WhatIf = crate::reading::json::typed(value, &root).map_err(|e| vec![e])?;
    let mut errors = Vec::new();
    let tier_known = match &what_if.tier {
        Some(tier) if !bundle.tiers.contains_key(tier) => {
            errors.push(Error::UnknownReference {
                path: root.key("tier"),
                kind: RefKind::Tier,
                name: tier.to_string(),
            });
            false
        }
        _ => true,
    };
    if let Some(addons) = &what_if.addons {
        // The tier they must fit: the asked one, else the license's.
        let tier = what_if.tier.as_ref().unwrap_or(&license.tier);
        crate::reading::validate::addons(
            bundle,
            addons,
            tier_known.then_some(tier),
            &root.key("addons"),
            &mut errors,
        );
    }
    for metric in what_if.usage.keys() {
        let metered = bundle
            .features
            .get(metric)
            .is_some_and(|f| f.kind == FeatureKind::Metered);
        if !metered {
            errors.push(Error::UnknownReference {
                path: root.key("usage").key(metric.as_str()),
                kind: RefKind::Metric,
                name: metric.to_string(),
            });
        }
    }
    if errors.is_empty() {
        Ok(what_if)
    } else {
        Err(errors)
    }
}

/// The license and usage as the `what_if` asks, and the echo. A count a
/// `what_if` sets is taken as current (no `period_start`). Under the asked
/// terms, a count it sets over a soft limit keeps the crossing the usage
/// recorded or, when it recorded none, is taken to cross at `now`, as a
/// consuming check would start grace; a count it sets at or under its limit
/// has no crossing. A count it leaves alone keeps its crossing, and gets
/// `now` only when the asked tier or add-ons put it over a soft limit the
/// real terms did not: real usage over a soft limit with no recorded
/// crossing stays the `missing_field` error it is without `what_if`.
pub fn apply(
    what_if: &WhatIf,
    bundle: &Bundle,
    license: &License,
    usage: &Usage,
    now: Timestamp,
) -> (License, Usage, Echo) {
    let mut asked = license.clone();
    if let Some(tier) = &what_if.tier {
        asked.tier = tier.clone();
    }
    // `read` checked that asked add-ons fit; the license's own are kept
    // only where they fit the asked tier.
    let addons: Vec<AddOnId> = match &what_if.addons {
        Some(addons) => addons.clone(),
        None => crate::entitlement::terms::fitting_addons(bundle, &license.addons, &asked.tier)
            .0
            .into_iter()
            .map(|(id, _)| id.clone())
            .collect(),
    };
    let mut dropped: Vec<AddOnId> = license
        .addons
        .iter()
        .filter(|id| !addons.contains(id))
        .cloned()
        .collect();
    order::sort(&mut dropped);
    asked.addons = addons;

    let mut counts = usage.clone();
    if let Some(seats) = what_if.active_seats {
        counts.active_seats = seats;
    }
    for (metric, used) in &what_if.usage {
        let entry = counts.metrics.entry(metric.clone()).or_default();
        entry.used = *used;
        entry.period_start = None;
    }
    let mut counts = crate::metering::meter::current(bundle, &asked, counts, now);
    let real = Terms::of_license(bundle, license, now);
    let over_soft = |terms: Option<&Terms<'_>>, metric: &FeatureId, used: u64| {
        terms
            .and_then(|t| t.quota(metric))
            .is_some_and(|q| q.grace_hours.is_some() && q.limit.is_some_and(|l| used > l))
    };
    if let Some(terms) = Terms::of_license(bundle, &asked, now) {
        for (metric, counted) in &mut counts.metrics {
            let asked_over = over_soft(Some(&terms), metric, counted.used);
            if what_if.usage.contains_key(metric) {
                counted.soft_exceeded_at = if asked_over {
                    counted.soft_exceeded_at.or(Some(now))
                } else {
                    None
                };
            } else if asked_over && !over_soft(real.as_ref(), metric, counted.used) {
                // A count the asked terms push over a soft limit that the
                // real terms did not: the crossing is the what-if's own.
                counted.soft_exceeded_at = counted.soft_exceeded_at.or(Some(now));
            }
        }
    }
    let mut echo_addons = asked.addons.clone();
    order::sort(&mut echo_addons);
    let echo = Echo {
        tier: asked.tier.clone(),
        addons: echo_addons,
        dropped_addons: dropped,
        usage: what_if.usage.clone(),
        active_seats: counts.active_seats,
    };
    (asked, counts, echo)
}
