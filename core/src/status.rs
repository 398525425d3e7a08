//! `status`: the portal's view of a license — its state, every feature and
//! quota with its source, overage and its projection, and the cheapest plan
//! that would cover the current usage.

use rust_decimal::Decimal;
use serde::Serialize;

use crate::bundle::{Bundle, ControlValue, FeatureKind};
use crate::check::{check, Ask};
use crate::error::{Error, JsonPath};
use crate::ids::{AddOnId, ControlId, FeatureId, TierId};
use crate::license::{License, Usage};
use crate::money::Money;
use crate::period::Period;
use crate::quote::{self, price_overage, LineItem};
use crate::reason::{Decision, Reason};
use crate::standing::{LicenseState, Standing};
use crate::tier::{Source, Terms};
use crate::time::Timestamp;

/// Share of a limit from which a quota is `approaching`, in percent.
pub const APPROACHING_PERCENT: u64 = 80;

/// Most add-ons of one tier whose every combination is priced; past it only
/// single add-ons are tried, which keeps the search bounded.
const MAX_ADDONS_COMBINED: usize = 10;

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
    pub term: crate::license::Term,
    /// When renewal grace ends.
    pub renewal_grace_ends_at: Timestamp,
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
    /// Units past the limit and their charge.
    pub overage: quote::Overage,
    /// Units expected by the period's end at the daily rate so far.
    pub projected_used: u64,
    /// Overage expected by the period's end, priced.
    pub projected_overage: quote::Overage,
}

/// One plan: a tier and add-ons.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    /// The tier.
    pub tier: TierId,
    /// The add-ons.
    pub addons: Vec<AddOnId>,
    /// Its bill for this period with the current usage.
    pub total: Money,
}

/// Whether another plan covers the usage for less.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The current plan is the cheapest that covers the usage.
    Stay,
    /// Another plan covers the usage for less than the current bill.
    Save,
    /// The cheapest covering plan costs more than the current bill with overage.
    CostsMore,
    /// No plan covers the usage.
    NoneCovers,
}

/// Plan advice.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanAdvice {
    /// The current plan, with overage.
    pub current: Plan,
    /// The cheapest plan whose quotas cover the current usage with no overage.
    pub cheapest: Option<Plan>,
    /// Current total minus the cheapest plan's: positive saves, negative costs more.
    pub difference: Option<Money>,
    /// The verdict.
    pub verdict: Verdict,
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
    let standing = Standing::of(license, &bundle.expiry, now).ok_or_else(range)?;
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
                .map(|e| e.revoked_at.map_or(e.expires_at, |r| r.min(e.expires_at)))
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
        let counted = usage.metrics.get(metric).copied().unwrap_or_default();
        let used = counted.used;
        let period = Period::containing(quota.period, now, license).ok_or_else(range)?;
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
            overage,
            projected_used,
            projected_overage: price_overage(bundle, metric, projected_over)?,
        });
    }

    let plans = advise(bundle, license, usage, now)?;
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
        valid_until: bounds.into_iter().filter(|t| *t > now).min(),
    })
}

/// Usage expected by the period's end at the rate so far: `used` scaled by
/// the period's length over the time elapsed, rounded down to whole units.
/// At the very start of a period the rate is unknown and `used` is returned.
pub fn project(used: u64, period: &Period, now: Timestamp) -> u64 {
    let elapsed = (now.0 - period.start.0).num_seconds();
    let length = period.seconds();
    if elapsed <= 0 || length <= 0 || elapsed >= length {
        return used;
    }
    let scaled =
        u128::from(used) * u128::from(length.unsigned_abs()) / u128::from(elapsed.unsigned_abs());
    u64::try_from(scaled).unwrap_or(u64::MAX)
}

/// Compares the current bill with the cheapest plan (any tier, any add-ons
/// that fit it) that keeps every feature the current plan grants and whose
/// quotas cover every metric used, exceptions left out.
/// Ties go to the lower rank, then to fewer add-ons.
fn advise(
    bundle: &Bundle,
    license: &License,
    usage: &Usage,
    now: Timestamp,
) -> Result<PlanAdvice, Error> {
    let current_quote = quote::quote(bundle, license, usage, now)?;
    let mut current = Plan {
        tier: license.tier.clone(),
        addons: Terms::of_license(bundle, license, now)
            .map(|t| t.addons.iter().map(|(id, _)| (*id).clone()).collect())
            .unwrap_or_default(),
        total: current_quote.total,
    };
    current.addons.sort();
    // A plan covers the customer when it keeps every feature the current
    // standard plan grants and its quotas hold every metric used.
    let kept: Vec<&FeatureId> = match Terms::of_license(bundle, license, now) {
        Some(terms) => {
            let standard = Terms::standard(terms.tier_id, terms.tier, terms.addons.clone());
            bundle
                .features
                .keys()
                .filter(|f| !standard.feature_sources(f).is_empty())
                .collect()
        }
        None => Vec::new(),
    };
    let mut best: Option<(Money, u32, usize, Plan)> = None;
    for (tier_id, tier) in &bundle.tiers {
        let fitting: Vec<_> = bundle
            .addons
            .iter()
            .filter(|(_, a)| a.tiers.contains(tier_id))
            .collect();
        for chosen in combinations(fitting.len()) {
            let addons: Vec<_> = chosen
                .iter()
                .filter_map(|i| fitting.get(*i).copied())
                .collect();
            let terms = Terms::standard(tier_id, tier, addons);
            let covers = kept.iter().all(|f| !terms.feature_sources(f).is_empty())
                && usage
                    .metrics
                    .iter()
                    .filter(|(_, m)| m.used > 0)
                    .all(|(metric, m)| {
                        terms
                            .feature_sources(metric)
                            .iter()
                            .any(|s| matches!(s, Source::Tier(_)))
                            && terms
                                .quota(metric)
                                .is_some_and(|q| q.limit.is_none_or(|l| m.used <= l))
                    });
            if !covers {
                continue;
            }
            let lines: Vec<LineItem> = quote::plan_lines(bundle, &terms)?;
            let total = quote::total(bundle.currency, &lines)?;
            let plan = Plan {
                tier: tier_id.clone(),
                addons: terms.addons.iter().map(|(id, _)| (*id).clone()).collect(),
                total,
            };
            let key = (total.minor, tier.rank, plan.addons.len());
            let better = best
                .as_ref()
                .is_none_or(|(m, r, n, _)| key < (m.minor, *r, *n));
            if better {
                best = Some((total, tier.rank, plan.addons.len(), plan));
            }
        }
    }
    let cheapest = best.map(|(_, _, _, plan)| plan);
    let (difference, verdict) = match &cheapest {
        None => (None, Verdict::NoneCovers),
        Some(plan) => {
            let difference = current.total.checked_sub(plan.total, &JsonPath::root())?;
            let verdict = if plan.tier == current.tier && plan.addons == current.addons {
                Verdict::Stay
            } else if difference.minor > 0 {
                Verdict::Save
            } else if difference.minor < 0 {
                Verdict::CostsMore
            } else {
                Verdict::Stay
            };
            (Some(difference), verdict)
        }
    };
    Ok(PlanAdvice {
        current,
        cheapest,
        difference,
        verdict,
    })
}

/// Index sets to try: every subset when there are few add-ons, else the empty
/// set and each single add-on.
fn combinations(n: usize) -> Vec<Vec<usize>> {
    if n <= MAX_ADDONS_COMBINED {
        (0..(1u32 << n))
            .map(|mask| (0..n).filter(|i| mask & (1 << i) != 0).collect())
            .collect()
    } else {
        std::iter::once(Vec::new())
            .chain((0..n).map(|i| vec![i]))
            .collect()
    }
}
