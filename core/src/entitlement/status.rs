//! `status`: the portal's view of a license — its state, every feature and
//! quota with its source, overage and its projection, every tier as an
//! option with the cheapest plan that would cover the current usage, the
//! support targets of the tier, and all of it as if with another tier,
//! add-ons or counts when the request asks `what_if`.

mod plans;
mod series;
mod support;
mod what_if;

pub use plans::{
    AddonView, EnforcementKind, Gap, OptionQuota, Plan, PlanAdvice, TierOption, Verdict,
};
pub use series::Series;
pub use support::{SeverityTargets, SupportView, TargetView};
pub use what_if::{Echo, WhatIf};

use rust_decimal::Decimal;
use serde::Serialize;

use crate::billing::quote::{self, price_overage};
use crate::entitlement::check::{check, Ask};
use crate::entitlement::period::Period;
use crate::entitlement::reason::{Decision, Reason};
use crate::entitlement::standing::{LicenseState, Standing};
use crate::entitlement::terms::{Source, Terms};
use crate::error::{Error, JsonPath};
use crate::model::bundle::{Bundle, ControlValue, FeatureKind};
use crate::model::ids::{AddOnId, ControlId, FeatureId, TierId};
use crate::model::license::{License, Usage};
use crate::model::money::Money;
use crate::model::time::Timestamp;

/// Share of a limit from which a quota is `approaching`, in percent.
pub const APPROACHING_PERCENT: u64 = 80;

/// The portal's answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Status {
    /// The license and its state.
    pub license: LicenseView,
    /// Every feature of the bundle, granted or not.
    pub features: Vec<FeatureView>,
    /// Every quota of the license's terms.
    pub quotas: Vec<QuotaView>,
    /// Governance controls the tier sets.
    pub controls: std::collections::BTreeMap<ControlId, ControlValue>,
    /// Overage billed so far in the current periods.
    pub overage_total: Money,
    /// What the current plan costs this period and which plan would cover the usage for less.
    pub plans: PlanAdvice,
    /// The SLA targets of the tier, when the bundle has a support section.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub support: Option<SupportView>,
    /// The tier's service credits by measured uptime, highest threshold
    /// first; empty when the tier has none.
    pub service_credits: Vec<crate::billing::credit::CreditBand>,
    /// What the request's `what_if` was taken to mean, when it had one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub what_if: Option<Echo>,
    /// The earliest instant at which any figure here could change.
    pub valid_until: Option<Timestamp>,
}

/// The license's standing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LicenseView {
    /// The license's id.
    pub id: String,
    /// The customer's id.
    pub customer: String,
    /// The tier.
    pub tier: TierId,
    /// The add-ons that apply.
    pub addons: Vec<AddOnId>,
    /// Derived state.
    pub state: LicenseState,
    /// Whole local days until the term ends (or grace ends, in grace).
    pub days_left: Option<i64>,
    /// The term.
    pub term: crate::model::license::Term,
    /// When renewal grace ends; `null` when that falls after
    /// 9999-12-31T23:59:59Z, the last instant the engine writes.
    pub renewal_grace_ends_at: Option<Timestamp>,
    /// Seats bought, in use, and the tier's maximum.
    pub seats: Seats,
}

/// Seats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Seats {
    /// Bought.
    pub entitled: u64,
    /// In use.
    pub active: u64,
    /// The tier's maximum, if bounded.
    pub tier_max: Option<u64>,
}

/// One feature.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeatureView {
    /// The feature.
    pub feature: FeatureId,
    /// Boolean or metered.
    pub kind: FeatureKind,
    /// Whether anything grants it.
    pub granted: bool,
    /// Every grant, tier first.
    pub sources: Vec<Source>,
    /// When the last exception granting it ends, if only exceptions grant it.
    pub granted_until: Option<Timestamp>,
    /// What a check of the feature answers now.
    pub decision: Decision,
    /// Why.
    pub reason: Reason,
}

/// The state of a quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QuotaState {
    /// Below 80% of the limit.
    Ok,
    /// At or above 80% of the limit, within it.
    Approaching,
    /// Past a soft limit, in grace.
    OverSoft,
    /// Nothing more can be consumed.
    Blocked,
}

/// One quota.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QuotaView {
    /// The metric.
    pub metric: FeatureId,
    /// Its unit.
    pub unit: Option<String>,
    /// Units used this period.
    pub used: u64,
    /// The limit after increments; `null` when unlimited.
    pub limit: Option<u64>,
    /// How far a soft limit reaches in grace.
    pub grace_limit: Option<u64>,
    /// Units left before the limit (0 past it); `null` when unlimited.
    pub remaining: Option<u64>,
    /// Used as a share of the limit, in percent with two decimals.
    pub percent: Option<Decimal>,
    /// Ok, approaching, over the soft limit, or blocked.
    pub state: QuotaState,
    /// The current period.
    pub period: Period,
    /// When the count resets.
    pub next_reset: Timestamp,
    /// Every source of the limit.
    pub sources: Vec<Source>,
    /// When exceptions in force raise this quota (extra units or grace
    /// hours), the first instant one of them ends, after which the limit or
    /// grace shown falls back; `null` when no exception raises it.
    pub raised_until: Option<Timestamp>,
    /// Units past the limit and their charge.
    pub overage: quote::Overage,
    /// Units expected by the period's end at the daily rate so far.
    pub projected_used: u64,
    /// Overage expected by the period's end, priced.
    pub projected_overage: quote::Overage,
    /// The readings of this period, the count now and the projection, to plot.
    pub series: Series,
}

/// The portal's view of a license at `now`.
pub fn status(
    bundle: &Bundle,
    license: &License,
    usage: &Usage,
    now: Timestamp,
) -> Result<Status, Error> {
    let range = || Error::OutOfRange {
        path: JsonPath::root().key("now"),
        detail: String::from("the instant is outside the supported range of dates"),
    };
    let standing = Standing::of(license, &bundle.expiry, now);
    let terms = Terms::of_license(bundle, license, now).ok_or_else(range)?;
    let mut bounds: Vec<Timestamp> = standing.changes_at.into_iter().collect();

    let mut features = Vec::new();
    for (id, feature) in &bundle.features {
        let sources = terms.feature_sources(id);
        let only_exceptions =
            !sources.is_empty() && sources.iter().all(|s| matches!(s, Source::Exception(_)));
        let granted_until = if only_exceptions {
            terms
                .exceptions
                .iter()
                .filter(|e| e.grants.features.contains(id))
                .map(|e| e.ends_at())
                .max()
        } else {
            None
        };
        let answer = check(bundle, license, usage, &Ask::Feature(id.clone()), now)?;
        bounds.extend(answer.valid_until);
        features.push(FeatureView {
            feature: id.clone(),
            kind: feature.kind,
            granted: !sources.is_empty(),
            sources,
            granted_until,
            decision: answer.decision,
            reason: answer.reason,
        });
    }

    let mut quotas = Vec::new();
    let mut overage_total = Money::zero(bundle.currency);
    for (metric, feature) in &bundle.features {
        let Some(quota) = terms.quota(metric) else {
            continue;
        };
        let counted = usage.metrics.get(metric);
        let used = counted.map_or(0, |c| c.used);
        let period =
            Period::containing_at(quota.period, now, license, &JsonPath::root().key("now"))?;
        let answer = check(
            bundle,
            license,
            usage,
            &Ask::Consume {
                metric: metric.clone(),
                amount: 1,
            },
            now,
        )?;
        let state = match quota.limit {
            None => QuotaState::Ok,
            Some(_)
                if answer.reasons.iter().any(|r| {
                    matches!(
                        r,
                        Reason::QuotaExceeded
                            | Reason::GraceAllowanceExhausted
                            | Reason::GracePeriodEnded
                    )
                }) =>
            {
                QuotaState::Blocked
            }
            Some(limit) if used > limit => QuotaState::OverSoft,
            Some(limit)
                if u128::from(used) * 100
                    >= u128::from(limit) * u128::from(APPROACHING_PERCENT) =>
            {
                QuotaState::Approaching
            }
            Some(_) => QuotaState::Ok,
        };
        let percent = quota.limit.map(|limit| {
            let mut percent = (Decimal::from(used) * Decimal::ONE_HUNDRED / Decimal::from(limit))
                .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
            percent.rescale(2);
            percent
        });
        let overage = price_overage(bundle, metric, quote::overage_units(&terms, usage, metric))?;
        overage_total =
            overage_total.checked_add(overage.charge, &JsonPath::root().key("usage"))?;
        let projected_used = project(used, &period, now);
        let projected_over = quota.limit.map_or(0, |l| projected_used.saturating_sub(l));
        if quota.limit.is_some() {
            bounds.push(period.end);
        }
        quotas.push(QuotaView {
            metric: metric.clone(),
            unit: feature.unit.clone(),
            used,
            limit: quota.limit,
            grace_limit: quota.grace_limit,
            remaining: quota.limit.map(|l| l.saturating_sub(used)),
            percent,
            state,
            period,
            next_reset: period.end,
            sources: quota.sources.clone(),
            raised_until: terms
                .exceptions
                .iter()
                .filter(|e| {
                    e.grants.quota_increments.contains_key(metric)
                        || e.grants.grace_hours.contains_key(metric)
                })
                .map(|e| e.ends_at())
                .min(),
            overage,
            projected_used,
            projected_overage: price_overage(bundle, metric, projected_over)?,
            series: series::series(
                counted.map_or(&[], |c| c.history.as_slice()),
                used,
                projected_used,
                &period,
                now,
            ),
        });
    }

    let plans = plans::advise(bundle, license, usage, now)?;
    let support = support::view(bundle, &license.tier)?;
    Ok(Status {
        license: LicenseView {
            id: license.license.to_string(),
            customer: license.customer.to_string(),
            tier: license.tier.clone(),
            addons: terms.addons.iter().map(|(id, _)| (*id).clone()).collect(),
            state: standing.state,
            days_left: standing.days_left,
            term: license.term,
            renewal_grace_ends_at: standing.grace_ends_at,
            seats: Seats {
                entitled: license.seats,
                active: usage.active_seats,
                tier_max: terms.tier.max_seats,
            },
        },
        features,
        quotas,
        controls: terms.tier.controls.clone(),
        overage_total,
        plans,
        support,
        service_credits: terms.tier.service_credits.clone(),
        what_if: None,
        valid_until: bounds.into_iter().filter(|t| *t > now).min(),
    })
}

/// Usage expected by the period's end at the rate so far: `used` scaled by
/// the period's length over the time elapsed, rounded down to whole units.
/// At the very start of a period the rate is unknown and `used` is returned.
pub fn project(used: u64, period: &Period, now: Timestamp) -> u64 {
    let elapsed = now.seconds_since(period.start);
    let length = period.seconds();
    if elapsed <= 0 || length <= 0 || elapsed >= length {
        return used;
    }
    let scaled =
        u128::from(used) * u128::from(length.unsigned_abs()) / u128::from(elapsed.unsigned_abs());
    u64::try_from(scaled).unwrap_or(u64::MAX)
}

/// The `status` operation: reads the request's optional `what_if`, applies
/// it to copies of the documents already read and verified, and answers
/// the status of the result, echoing what the `what_if` was taken to mean.
pub fn respond(
    fields: &mut serde_json::Map<String, serde_json::Value>,
    bundle: &Bundle,
    license: &License,
    usage: &Usage,
    now: Timestamp,
) -> Result<Status, Vec<Error>> {
    let Some(value) = fields.remove("what_if") else {
        return status(bundle, license, usage, now).map_err(|e| vec![e]);
    };
    let asked = what_if::read(value, bundle, license)?;
    let (license, usage, echo) = what_if::apply(&asked, bundle, license, usage, now);
    let mut answer = status(bundle, &license, &usage, now).map_err(|e| vec![e])?;
    answer.what_if = Some(echo);
    Ok(answer)
}
