//! `quote`: a billing period's line items — base, add-ons, overage per metric
//! by its charge model — each rounded once to the currency's minor unit.

use serde::Serialize;

use crate::bundle::{BillingPeriod, Bundle, PeriodKind};
use crate::charge::ChargeLine;
use crate::error::{Error, JsonPath};
use crate::ids::FeatureId;
use crate::license::{License, Usage};
use crate::money::{Currency, Money};
use crate::period::Period;
use crate::tier::{Source, Terms};
use crate::time::Timestamp;

/// What a line item bills.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    /// The tier's price.
    Base,
    /// An add-on's price.
    Addon,
    /// Units past a quota, priced by the metric's charge model.
    Overage,
}

/// One line of a bill.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LineItem {
    /// What it bills.
    pub kind: LineKind,
    /// The tier, add-on or metric billed.
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
    /// Base, add-ons, then overage per metric.
    pub lines: Vec<LineItem>,
    /// The sum of the lines.
    pub total: Money,
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

/// The fixed lines of a plan: the tier's price and each add-on's.
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
    Ok(lines)
}

/// Sums line items exactly in minor units.
pub fn total(currency: Currency, lines: &[LineItem]) -> Result<Money, Error> {
    lines.iter().try_fold(Money::zero(currency), |sum, line| {
        sum.checked_add(line.amount, &JsonPath::root())
    })
}

/// The bill for the billing period containing `now`: the tier, the add-ons
/// that fit it, and overage of every metric that has a charge model, counted
/// in each quota's current period.
pub fn quote(
    bundle: &Bundle,
    license: &License,
    usage: &Usage,
    now: Timestamp,
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
    let period = Period::containing(kind, now, license).ok_or_else(|| Error::OutOfRange {
        path: JsonPath::root().key("now"),
        detail: String::from("the instant is outside the supported range of dates"),
    })?;
    let mut lines = plan_lines(bundle, &terms)?;
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
    let total = total(bundle.currency, &lines)?;
    Ok(Quote {
        period,
        currency: bundle.currency,
        lines,
        total,
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
