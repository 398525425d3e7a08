//! Remediation options for a compliance finding — reallocate unused seats,
//! a temporary downgrade, a true-up purchase, uninstall — each with its exact
//! cost, ranked by one documented rule (see `docs/compliance.md`).

use serde::Serialize;

use crate::error::{Error, JsonPath};
use crate::model::bundle::Bundle;
use crate::model::ids::{FeatureId, LicenseId, TierId};
use crate::model::money::Money;
use crate::model::order;
use crate::model::time::Timestamp;

/// What a remedy does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Action {
    /// Move unused seats from another license of the same customer and tier.
    Reallocate {
        /// The license giving the seats.
        from_license: LicenseId,
        /// Seats moved: the fewer of those it has unused and those needed.
        seats: u64,
    },
    /// Hold the metric at its baseline for a while instead of the spike.
    TemporaryDowngrade {
        /// The metric.
        metric: FeatureId,
        /// Most units a day until `until`: the baseline mean rounded up.
        cap_per_day: u64,
        /// When the hold ends: `now` plus the baseline window.
        until: Timestamp,
    },
    /// Buy what was used: seats at the bundle's seat price, or a metric's
    /// units at its charge model.
    TrueUp {
        /// Seats bought.
        #[serde(skip_serializing_if = "Option::is_none")]
        seats: Option<u64>,
        /// The price of one seat per billing period.
        #[serde(skip_serializing_if = "Option::is_none")]
        seat_price: Option<Money>,
        /// The metric whose units are bought.
        #[serde(skip_serializing_if = "Option::is_none")]
        metric: Option<FeatureId>,
        /// Units bought.
        #[serde(skip_serializing_if = "Option::is_none")]
        units: Option<u64>,
    },
    /// Remove these installations.
    Uninstall {
        /// Their ids.
        installations: Vec<crate::model::ids::InstallationId>,
    },
}

impl Action {
    /// The order between options of equal cost: the least disruptive first.
    fn order(&self) -> u8 {
        match self {
            Action::Reallocate { .. } => 0,
            Action::Uninstall { .. } => 1,
            Action::TemporaryDowngrade { .. } => 2,
            Action::TrueUp { .. } => 3,
        }
    }
}

/// An option not yet ranked.
#[derive(Debug, Clone)]
pub struct Choice {
    /// What it does.
    pub action: Action,
    /// What it costs, in the bundle's currency.
    pub cost: Money,
    /// Whether it alone resolves the finding.
    pub resolves: bool,
}

/// A ranked option.
#[derive(Debug, Clone, Serialize)]
pub struct Remedy {
    /// 1 is the first to try.
    pub rank: usize,
    /// What it does.
    #[serde(flatten)]
    pub action: Action,
    /// What it costs.
    pub cost: Money,
    /// Whether it alone resolves the finding.
    pub resolves: bool,
}

/// Ranks options: those that resolve the finding first, then the cheapest,
/// then reallocate, uninstall, temporary downgrade, true-up, then by the
/// license seats come from.
pub fn rank(mut options: Vec<Choice>) -> Vec<Remedy> {
    order::sort_by(&mut options, |a, b| {
        b.resolves
            .cmp(&a.resolves)
            .then(a.cost.minor.cmp(&b.cost.minor))
            .then(a.action.order().cmp(&b.action.order()))
            .then_with(|| donor(&a.action).cmp(&donor(&b.action)))
    });
    options
        .into_iter()
        .enumerate()
        .map(|(i, o)| Remedy {
            rank: i.saturating_add(1),
            action: o.action,
            cost: o.cost,
            resolves: o.resolves,
        })
        .collect()
}

fn donor(action: &Action) -> Option<&LicenseId> {
    match action {
        Action::Reallocate { from_license, .. } => Some(from_license),
        _ => None,
    }
}

/// Nothing, in the bundle's currency.
pub fn free(bundle: &Bundle) -> Money {
    Money::zero(bundle.currency)
}

/// A true-up of `seats` seats of a tier at the bundle's seat price; `None`
/// when the bundle gives the tier no seat price.
pub fn seat_true_up(bundle: &Bundle, tier: &TierId, seats: u64) -> Result<Option<Choice>, Error> {
    let Some(price) = bundle
        .compliance
        .as_ref()
        .and_then(|c| c.seat_prices.get(tier))
    else {
        return Ok(None);
    };
    let path = JsonPath::root()
        .key("bundle")
        .key("compliance")
        .key("seat_prices")
        .key(tier.as_str());
    let each = Money::from_price(*price, bundle.currency, &path)?;
    let count = i64::try_from(seats).map_err(|_| Error::Overflow {
        path: path.clone(),
        what: "a number of seats".into(),
    })?;
    let cost = each.checked_mul(count, &path)?;
    Ok(Some(Choice {
        action: Action::TrueUp {
            seats: Some(seats),
            seat_price: Some(each),
            metric: None,
            units: None,
        },
        cost,
        resolves: true,
    }))
}

/// A true-up of `units` of a metric, priced by its charge model as overage.
pub fn units_true_up(bundle: &Bundle, metric: &FeatureId, units: u64) -> Result<Choice, Error> {
    let overage = crate::billing::quote::price_overage(bundle, metric, units)?;
    Ok(Choice {
        action: Action::TrueUp {
            seats: None,
            seat_price: None,
            metric: Some(metric.clone()),
            units: Some(units),
        },
        cost: overage.charge,
        resolves: true,
    })
}
