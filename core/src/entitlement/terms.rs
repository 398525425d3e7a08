//! Entitlements: what a license's tier, add-ons and exceptions in force grant
//! at an instant, each grant with the source that gave it.

use serde::{Deserialize, Serialize};

use crate::model::bundle::{AddOn, Bundle, Enforcement, GraceAllowance, Limit, PeriodKind, Tier};
use crate::model::ids::{AddOnId, ExceptionId, FeatureId, TierId};
use crate::model::license::{Exception, ExceptionState, License};
use crate::model::time::Timestamp;

/// Where a grant comes from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Source {
    /// The license's tier.
    Tier(TierId),
    /// An add-on on the license.
    Addon(AddOnId),
    /// An exception in force.
    Exception(ExceptionId),
}

/// The standard terms of a tier with a set of add-ons, plus the exceptions
/// in force at one instant.
#[derive(Debug, Clone)]
pub struct Terms<'a> {
    /// The tier's id.
    pub tier_id: &'a TierId,
    /// The tier.
    pub tier: &'a Tier,
    /// Add-ons that apply (those that fit the tier).
    pub addons: Vec<(&'a AddOnId, &'a AddOn)>,
    /// Exceptions in force.
    pub exceptions: Vec<&'a Exception>,
}

/// A quota with every increment applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EffectiveQuota {
    /// Units per period, after increments; `None` is unlimited.
    pub limit: Option<u64>,
    /// Units past the limit a soft quota allows; `None` for hard or unlimited quotas.
    pub grace_limit: Option<u64>,
    /// Grace duration in hours for a soft quota, exceptions included.
    pub grace_hours: Option<u64>,
    /// The period the count resets on.
    pub period: PeriodKind,
    /// Every source of the limit, tier first.
    pub sources: Vec<Source>,
}

impl<'a> Terms<'a> {
    /// The license's own terms at `now`: its tier, its add-ons that fit the
    /// tier, and its exceptions in force. `None` if the tier is unknown, which
    /// validation rules out before any rule runs.
    pub fn of_license(bundle: &'a Bundle, license: &'a License, now: Timestamp) -> Option<Self> {
        let tier = bundle.tiers.get(&license.tier)?;
        let (tier_id, _) = bundle.tiers.get_key_value(&license.tier)?;
        let addons = license
            .addons
            .iter()
            .filter_map(|id| bundle.addons.get_key_value(id))
            .filter(|(_, addon)| addon.tiers.contains(tier_id))
            .collect();
        let exceptions = license
            .exceptions
            .iter()
            .filter(|e| e.state(now) == ExceptionState::Active)
            .collect();
        Some(Terms {
            tier_id,
            tier,
            addons,
            exceptions,
        })
    }

    /// Standard terms of a tier with add-ons, without exceptions: used to
    /// compare plans and to test transitions.
    pub fn standard(
        tier_id: &'a TierId,
        tier: &'a Tier,
        addons: Vec<(&'a AddOnId, &'a AddOn)>,
    ) -> Self {
        Terms {
            tier_id,
            tier,
            addons,
            exceptions: Vec::new(),
        }
    }

    /// Every source granting a feature, tier first, then add-ons, then exceptions.
    pub fn feature_sources(&self, feature: &FeatureId) -> Vec<Source> {
        let mut sources = Vec::new();
        if self.tier.features.contains(feature) {
            sources.push(Source::Tier(self.tier_id.clone()));
        }
        for (id, addon) in &self.addons {
            if addon.features.contains(feature) {
                sources.push(Source::Addon((*id).clone()));
            }
        }
        for exception in &self.exceptions {
            if exception.grants.features.contains(feature) {
                sources.push(Source::Exception(exception.id.clone()));
            }
        }
        sources
    }

    /// The quota on a metric with add-on and exception increments applied, or
    /// `None` when the tier sets no quota for it. Sums saturate: a limit at
    /// `u64::MAX` is as good as unlimited and cannot wrap.
    pub fn quota(&self, metric: &FeatureId) -> Option<EffectiveQuota> {
        let base = self.tier.quotas.get(metric)?;
        let mut sources = vec![Source::Tier(self.tier_id.clone())];
        let mut limit = match base.limit {
            Limit::Units(units) => Some(units),
            Limit::Unlimited => None,
        };
        for (id, addon) in &self.addons {
            if let Some(extra) = addon.quota_increments.get(metric) {
                limit = limit.map(|l| l.saturating_add(*extra));
                sources.push(Source::Addon((*id).clone()));
            }
        }
        let mut extra_hours: u64 = 0;
        for exception in &self.exceptions {
            let mut touched = false;
            if let Some(extra) = exception.grants.quota_increments.get(metric) {
                limit = limit.map(|l| l.saturating_add(*extra));
                touched = true;
            }
            if let Some(hours) = exception.grants.grace_hours.get(metric) {
                extra_hours = extra_hours.saturating_add(u64::from(*hours));
                touched = true;
            }
            if touched {
                sources.push(Source::Exception(exception.id.clone()));
            }
        }
        let (grace_limit, grace_hours) = match (&base.enforcement, limit) {
            (
                Enforcement::Soft {
                    grace_allowance,
                    grace_hours,
                },
                Some(limit),
            ) => (
                Some(limit.saturating_add(allowance_units(*grace_allowance, limit))),
                Some(u64::from(*grace_hours).saturating_add(extra_hours)),
            ),
            _ => (None, None),
        };
        Some(EffectiveQuota {
            limit,
            grace_limit,
            grace_hours,
            period: base.period,
            sources,
        })
    }
}

/// An add-on with its id, as the bundle declares it.
pub type Declared<'b> = (&'b AddOnId, &'b AddOn);

/// A license's add-ons on `tier`: those that fit it (kept) and those that
/// do not (dropped), as a change of tier keeps and drops them. Ids the
/// bundle does not declare are left out; validation has refused them.
pub fn fitting_addons<'b>(
    bundle: &'b Bundle,
    addons: &[AddOnId],
    tier: &TierId,
) -> (Vec<Declared<'b>>, Vec<Declared<'b>>) {
    addons
        .iter()
        .filter_map(|id| bundle.addons.get_key_value(id))
        .partition(|(_, addon)| addon.tiers.contains(tier))
}

/// Units a grace allowance adds to a limit; a percentage rounds down to whole
/// units, so a 10% allowance on 15 units allows 1 more, not 1.5.
pub fn allowance_units(allowance: GraceAllowance, limit: u64) -> u64 {
    match allowance {
        GraceAllowance::Units(units) => units,
        GraceAllowance::Percent(percent) => {
            let units = rust_decimal::Decimal::from(limit)
                .checked_mul(percent)
                .and_then(|v| v.checked_div(rust_decimal::Decimal::ONE_HUNDRED))
                .map(|v| v.floor());
            units
                .and_then(|v| u64::try_from(v).ok())
                .unwrap_or(u64::MAX)
        }
    }
}
