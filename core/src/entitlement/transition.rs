//! `transition`: may this license move to another tier now? Only along a
//! declared transition, and only if the current usage fits the target.

use serde::Serialize;

use crate::entitlement::standing::{LicenseState, Standing};
use crate::entitlement::terms::Terms;
use crate::error::Error;
use crate::model::bundle::Bundle;
use crate::model::ids::{AddOnId, FeatureId, TierId};
use crate::model::license::{License, LicenseStatus, Usage};
use crate::model::time::Timestamp;

/// Whether the move goes up, down or sideways in rank.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// To a higher rank.
    Upgrade,
    /// To a lower rank.
    Downgrade,
    /// To the same tier.
    None,
}

/// Why a move is refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Refusal {
    /// The license is already on the target tier.
    SameTier,
    /// The bundle declares no transition from the current tier to the target.
    TransitionNotDeclared,
    /// A suspended, terminated or expired license cannot change tier.
    LicenseNotActive {
        /// Its state.
        state: LicenseState,
    },
    /// The target does not grant a metric the license uses.
    MetricNotInTarget {
        /// The metric.
        metric: FeatureId,
        /// Units used this period.
        used: u64,
    },
    /// The target's quota is smaller than the current usage.
    UsageExceedsTarget {
        /// The metric.
        metric: FeatureId,
        /// Units used this period.
        used: u64,
        /// The target's limit with the add-ons that carry over.
        limit: u64,
    },
    /// The target allows fewer seats than the license holds or uses.
    SeatsExceedTarget {
        /// Seats bought or in use, whichever is larger.
        seats: u64,
        /// The target's maximum.
        max: u64,
    },
}

/// The answer to a transition request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TransitionAnswer {
    /// Whether the move may be made now.
    pub allowed: bool,
    /// The current tier.
    pub from: TierId,
    /// The target tier.
    pub to: TierId,
    /// Up, down or none.
    pub direction: Direction,
    /// Every reason the move is refused; empty when allowed.
    pub refusals: Vec<Refusal>,
    /// Add-ons that fit the target and carry over.
    pub kept_addons: Vec<AddOnId>,
    /// Add-ons that do not fit the target and would be dropped.
    pub dropped_addons: Vec<AddOnId>,
}

/// Decides whether `license` may move to tier `to` at `now`. Fit is judged
/// on the target's standard terms with the add-ons that carry over;
/// exceptions are not counted, since they were granted against the old tier.
pub fn transition(
    bundle: &Bundle,
    license: &License,
    usage: &Usage,
    to: &TierId,
    now: Timestamp,
) -> Result<TransitionAnswer, Error> {
    let mut refusals = Vec::new();
    let (Some(from_tier), Some((to_id, to_tier))) = (
        bundle.tiers.get(&license.tier),
        bundle.tiers.get_key_value(to),
    ) else {
        return Err(Error::UnknownReference {
            path: crate::error::JsonPath::root().key("to"),
            kind: crate::error::RefKind::Tier,
            name: to.to_string(),
        });
    };
    let direction = match to_tier.rank.cmp(&from_tier.rank) {
        std::cmp::Ordering::Greater => Direction::Upgrade,
        std::cmp::Ordering::Less => Direction::Downgrade,
        std::cmp::Ordering::Equal => Direction::None,
    };
    if &license.tier == to {
        refusals.push(Refusal::SameTier);
    } else if !bundle
        .transitions
        .iter()
        .any(|t| t.from == license.tier && &t.to == to)
    {
        refusals.push(Refusal::TransitionNotDeclared);
    }
    let standing = Standing::of(license, &bundle.expiry, now);
    let active = license.status == LicenseStatus::Active
        && matches!(
            standing.state,
            LicenseState::Active | LicenseState::ExpiringSoon | LicenseState::InGrace
        );
    if !active {
        refusals.push(Refusal::LicenseNotActive {
            state: standing.state,
        });
    }
    let (kept, dropped) = crate::entitlement::terms::fitting_addons(bundle, &license.addons, to);
    let terms = Terms::standard(to_id, to_tier, kept.clone());
    for (metric, counted) in usage.metrics.iter().filter(|(_, m)| m.used > 0) {
        match terms.quota(metric) {
            None => refusals.push(Refusal::MetricNotInTarget {
                metric: metric.clone(),
                used: counted.used,
            }),
            Some(quota) => {
                if let Some(limit) = quota.limit.filter(|l| counted.used > *l) {
                    refusals.push(Refusal::UsageExceedsTarget {
                        metric: metric.clone(),
                        used: counted.used,
                        limit,
                    });
                }
            }
        }
    }
    if let Some(max) = to_tier.max_seats {
        let seats = usage.seats_needed(license);
        if seats > max {
            refusals.push(Refusal::SeatsExceedTarget { seats, max });
        }
    }
    Ok(TransitionAnswer {
        allowed: refusals.is_empty(),
        from: license.tier.clone(),
        to: to.clone(),
        direction,
        refusals,
        kept_addons: kept.into_iter().map(|(id, _)| id.clone()).collect(),
        dropped_addons: dropped.into_iter().map(|(id, _)| id.clone()).collect(),
    })
}
