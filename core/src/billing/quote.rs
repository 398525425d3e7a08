//! `quote`: a billing period's line items — base, add-ons, support, overage
//! per metric by its charge model, and a service credit for the period's
//! uptime — each rounded once to the currency's minor unit.

use serde::Serialize;

use crate::billing::charge::ChargeLine;
use crate::billing::credit::{Percent, ServiceCredit};
use crate::entitlement::period::Period;
use crate::entitlement::terms::{Source, Terms};
use crate::error::{Error, JsonPath};
use crate::model::bundle::{BillingPeriod, Bundle, PeriodKind};
use crate::model::ids::FeatureId;
use crate::model::license::{License, Usage};
use crate::model::money::{Currency, Money};
use crate::model::time::Timestamp;

/// What a line item bills.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    /// The tier's price.
    Base,
    /// An add-on's price.
    Addon,
    /// The tier's support fee.
    Support,
    /// Units past a quota, priced by the metric's charge model.
    Overage,
    /// Taken off for uptime below the tier's schedule (a negative amount).
    ServiceCredit,
}

/// One line of a bill.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LineItem {
    /// What it bills.
    pub kind: LineKind,
    /// The tier, add-on or metric billed (the tier, for support and credit).
    pub id: String,
    /// Overage units, for overage lines.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub units: Option<u64>,
    /// The amount, rounded half-up once for the whole line.
    pub amount: Money,
    /// How the charge model priced the units, for overage lines.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub breakdown: Option<Vec<ChargeLine>>,
}

/// A period's bill.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Quote {
    /// The billing period containing `now`.
    pub period: Period,
    /// The currency of every amount.
    pub currency: Currency,
    /// Base, add-ons, support, overage per metric, then the service credit.
    pub lines: Vec<LineItem>,
    /// The sum of the lines.
    pub total: Money,
    /// With an `uptime` in the request: the band it falls in and its credit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_credit: Option<ServiceCredit>,
}

/// Overage of one metric in its current quota period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Overage {
    /// Units past the limit.
    pub units: u64,
    /// Their price, rounded once.
    pub charge: Money,
    /// How the charge model priced them.
    pub breakdown: Vec<ChargeLine>,
}

/// Prices `units` of overage of a metric by its charge model; a metric with no
/// charge model declared bills nothing for overage (its quota is the only limit).
pub fn price_overage(bundle: &Bundle, metric: &FeatureId, units: u64) -> Result<Overage, Error> {
    let path = JsonPath::root()
        .key("bundle")
        .key("charges")
        .key(metric.as_str());
    match bundle.charges.get(metric) {
        Some(model) => {
            let charge = model.price_at(units, &path)?;
            Ok(Overage {
                units,
                charge: charge.to_money(bundle.currency, &path)?,
                breakdown: charge.lines,
            })
        }
        None => Ok(Overage {
            units,
            charge: Money::zero(bundle.currency),
            breakdown: Vec::new(),
        }),
    }
}

/// Units of a metric used past its effective limit in the current period.
pub fn overage_units(terms: &Terms<'_>, usage: &Usage, metric: &FeatureId) -> u64 {
    let used = usage.metrics.get(metric).map_or(0, |m| m.used);
    match terms.quota(metric).and_then(|q| q.limit) {
        Some(limit) => used.saturating_sub(limit),
        None => 0,
    }
}

/// The fixed lines of a plan: the tier's price, each add-on's, and the
/// tier's support fee.
pub fn plan_lines(bundle: &Bundle, terms: &Terms<'_>) -> Result<Vec<LineItem>, Error> {
    let mut lines = vec![LineItem {
        kind: LineKind::Base,
        id: terms.tier_id.to_string(),
        units: None,
        amount: Money::from_price(
            terms.tier.price,
            bundle.currency,
            &JsonPath::root()
                .key("bundle")
                .key("tiers")
                .key(terms.tier_id.as_str())
                .key("price"),
        )?,
        breakdown: None,
    }];
    for (id, addon) in &terms.addons {
        lines.push(LineItem {
            kind: LineKind::Addon,
            id: id.to_string(),
            units: None,
            amount: Money::from_price(
                addon.price,
                bundle.currency,
                &JsonPath::root()
                    .key("bundle")
                    .key("addons")
                    .key(id.as_str())
                    .key("price"),
            )?,
            breakdown: None,
        });
    }
    if let Some(price) = terms.tier.support_price {
        lines.push(LineItem {
            kind: LineKind::Support,
            id: terms.tier_id.to_string(),
            units: None,
            amount: Money::from_price(
                price,
                bundle.currency,
                &JsonPath::root()
                    .key("bundle")
                    .key("tiers")
                    .key(terms.tier_id.as_str())
                    .key("support_price"),
            )?,
            breakdown: None,
        });
    }
    Ok(lines)
}

/// Sums line items exactly in minor units.
pub fn total(currency: Currency, lines: &[LineItem]) -> Result<Money, Error> {
    lines.iter().try_fold(Money::zero(currency), |sum, line| {
        sum.checked_add(line.amount, &JsonPath::root())
    })
}

/// The bill for the billing period containing `now`: the tier, the add-ons
/// that fit it, the tier's support fee, overage of every metric that has a
/// charge model, counted in each quota's current period, and, given the
/// period's measured `uptime`, the credit the tier's schedule grants for it.
pub fn quote(
    bundle: &Bundle,
    license: &License,
    usage: &Usage,
    now: Timestamp,
    uptime: Option<Percent>,
) -> Result<Quote, Error> {
    let terms = Terms::of_license(bundle, license, now).ok_or_else(|| Error::UnknownReference {
        path: JsonPath::root().key("license").key("tier"),
        kind: crate::error::RefKind::Tier,
        name: license.tier.to_string(),
    })?;
    let kind = match bundle.billing_period {
        BillingPeriod::Month => PeriodKind::Month,
        BillingPeriod::Year => PeriodKind::Year,
    };
    let period = Period::containing_at(kind, now, license, &JsonPath::root().key("now"))?;
    let mut lines = plan_lines(bundle, &terms)?;
    let recurring = total(bundle.currency, &lines)?;
    for metric in bundle.charges.keys() {
        if terms.quota(metric).is_none() {
            continue;
        }
        let overage = price_overage(bundle, metric, overage_units(&terms, usage, metric))?;
        lines.push(LineItem {
            kind: LineKind::Overage,
            id: metric.to_string(),
            units: Some(overage.units),
            amount: overage.charge,
            breakdown: Some(overage.breakdown),
        });
    }
    let path = JsonPath::root().key("uptime");
    let service_credit = uptime
        .map(|u| crate::billing::credit::credit(&terms.tier.service_credits, u, recurring, &path))
        .transpose()?;
    if let Some(earned) = service_credit.as_ref().filter(|c| c.credit.minor != 0) {
        lines.push(LineItem {
            kind: LineKind::ServiceCredit,
            id: terms.tier_id.to_string(),
            units: None,
            amount: earned.credit.checked_neg(&path)?,
            breakdown: None,
        });
    }
    let total = total(bundle.currency, &lines)?;
    Ok(Quote {
        period,
        currency: bundle.currency,
        lines,
        total,
        service_credit,
    })
}

/// The sources of a plan, for explanations: the tier, then its add-ons.
pub fn plan_sources(terms: &Terms<'_>) -> Vec<Source> {
    let mut sources = vec![Source::Tier(terms.tier_id.clone())];
    sources.extend(
        terms
            .addons
            .iter()
            .map(|(id, _)| Source::Addon((*id).clone())),
    );
    sources
}
