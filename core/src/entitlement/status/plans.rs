//! Plan advice for `status`: every tier as an option with the cheapest plan
//! on it that covers the usage (or what stops one), every add-on, and the
//! cheapest plan overall compared with the current bill. One search gives
//! both the options and the overall cheapest, so the two cannot disagree.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::billing::quote;
use crate::entitlement::terms::{Source, Terms};
use crate::error::{Error, JsonPath};
use crate::model::bundle::{AddOn, Bundle, Enforcement, Limit, PeriodKind, Tier};
use crate::model::ids::{AddOnId, FeatureId, TierId};
use crate::model::license::{License, Usage};
use crate::model::money::Money;
use crate::model::order;
use crate::model::time::Timestamp;

/// Most add-ons of one tier whose every combination is priced; past it only
/// the empty set, each single add-on and all of them together are tried,
/// which keeps the search bounded and still finds a covering plan whenever
/// the tier has one (add-ons only ever add).
const MAX_ADDONS_COMBINED: usize = 10;

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
    /// The cheapest plan whose quotas cover the current usage with no overage:
    /// the least of the options' plans.
    pub cheapest: Option<Plan>,
    /// Current total minus the cheapest plan's: positive saves, negative costs more.
    pub difference: Option<Money>,
    /// The verdict.
    pub verdict: Verdict,
    /// Every tier, lowest rank first.
    pub options: Vec<TierOption>,
    /// Every add-on of the bundle.
    pub addons: Vec<AddonView>,
}

/// One tier as an option for the customer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TierOption {
    /// The tier.
    pub tier: TierId,
    /// Its name for people.
    pub title: Option<String>,
    /// Its rank.
    pub rank: u32,
    /// Its price per billing period.
    pub price: Money,
    /// Most seats it holds, if bounded.
    pub max_seats: Option<u64>,
    /// The features the tier itself grants, sorted.
    pub features: Vec<FeatureId>,
    /// The tier's own quotas, by metric.
    pub quotas: Vec<OptionQuota>,
    /// The add-ons that fit the tier.
    pub addons: Vec<AddOnId>,
    /// Whether some plan on this tier covers the usage.
    pub covers: bool,
    /// The cheapest plan on this tier that covers the usage.
    pub plan: Option<Plan>,
    /// Current total minus that plan's total.
    pub difference: Option<Money>,
    /// Whether this is the license's tier.
    pub current: bool,
    /// What keeps the tier with all its add-ons from covering; only when it does not cover.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gaps: Option<Vec<Gap>>,
}

/// A tier's own quota on one metric.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OptionQuota {
    /// The metric.
    pub metric: FeatureId,
    /// Units per period; `null` when unlimited, as status's quotas print it.
    pub limit: Option<u64>,
    /// When the count resets.
    pub period: PeriodKind,
    /// Hard or soft.
    pub enforcement: EnforcementKind,
}

/// How a quota is enforced, without its grace terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EnforcementKind {
    /// Nothing past the limit.
    Hard,
    /// A grace allowance past the limit, for a while.
    Soft,
}

/// One thing that keeps a tier from covering the customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Gap {
    /// A feature the current plan grants (or a metric in use) that neither
    /// the tier nor any add-on fitting it grants.
    Feature {
        /// The feature.
        feature: FeatureId,
    },
    /// A metric used past the tier's limit with every fitting add-on's increment.
    Quota {
        /// The metric.
        metric: FeatureId,
        /// Units used.
        used: u64,
        /// The largest limit the tier reaches.
        limit: u64,
    },
    /// More seats than the tier holds.
    Seats {
        /// Seats the license holds or uses, whichever is more.
        seats: u64,
        /// The tier's maximum.
        max_seats: u64,
    },
}

/// One add-on as the portal lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AddonView {
    /// The add-on.
    pub addon: AddOnId,
    /// Its name for people.
    pub title: Option<String>,
    /// Its price per billing period.
    pub price: Money,
    /// The tiers it fits.
    pub tiers: Vec<TierId>,
    /// The features it grants.
    pub features: Vec<FeatureId>,
    /// Units it adds to quotas.
    pub quota_increments: BTreeMap<FeatureId, u64>,
}

/// What a plan must hold to cover the customer: every feature the current
/// standard plan grants (exceptions left out: they were granted against the
/// current plan, not bought), every metric used within its limit, and the
/// seats, counted as `transition` counts them (the larger of those held and
/// those in use), so that advice never points at a move `transition` refuses.
struct Needs<'a> {
    kept: Vec<&'a FeatureId>,
    used: Vec<(&'a FeatureId, u64)>,
    seats: u64,
}

impl Needs<'_> {
    /// Everything `terms` fails to hold; a plan covers when this is empty.
    fn gaps(&self, terms: &Terms<'_>) -> Vec<Gap> {
        let mut gaps: Vec<Gap> = self
            .kept
            .iter()
            .filter(|f| terms.feature_sources(f).is_empty())
            .map(|f| Gap::Feature {
                feature: (*f).clone(),
            })
            .collect();
        for (metric, used) in &self.used {
            let by_tier = terms
                .feature_sources(metric)
                .iter()
                .any(|s| matches!(s, Source::Tier(_)));
            match terms.quota(metric).filter(|_| by_tier) {
                Some(quota) => {
                    if let Some(limit) = quota.limit.filter(|l| used > l) {
                        gaps.push(Gap::Quota {
                            metric: (*metric).clone(),
                            used: *used,
                            limit,
                        });
                    }
                }
                None => {
                    let gap = Gap::Feature {
                        feature: (*metric).clone(),
                    };
                    if !gaps.contains(&gap) {
                        gaps.push(gap);
                    }
                }
            }
        }
        if let Some(max) = terms.tier.max_seats.filter(|max| self.seats > *max) {
            gaps.push(Gap::Seats {
                seats: self.seats,
                max_seats: max,
            });
        }
        gaps
    }
}

/// Compares the current bill with every tier's cheapest covering plan (any
/// add-ons that fit it) and picks the cheapest of those. Ties go to the
/// lower rank, then to fewer add-ons.
pub fn advise(
    bundle: &Bundle,
    license: &License,
    usage: &Usage,
    now: Timestamp,
) -> Result<PlanAdvice, Error> {
    let current_quote = quote::quote(bundle, license, usage, now, None)?;
    let license_terms = Terms::of_license(bundle, license, now);
    let mut current = Plan {
        tier: license.tier.clone(),
        addons: license_terms
            .as_ref()
            .map(|t| t.addons.iter().map(|(id, _)| (*id).clone()).collect())
            .unwrap_or_default(),
        total: current_quote.total,
    };
    order::sort(&mut current.addons);
    let kept: Vec<&FeatureId> = match &license_terms {
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
    let needs = Needs {
        kept,
        used: usage
            .metrics
            .iter()
            .filter(|(_, m)| m.used > 0)
            .map(|(metric, m)| (metric, m.used))
            .collect(),
        seats: usage.seats_needed(license),
    };

    let mut tiers: Vec<(&TierId, &Tier)> = bundle.tiers.iter().collect();
    order::sort_by_key(&mut tiers, |(_, tier)| tier.rank);
    let mut options = Vec::new();
    for (tier_id, tier) in tiers {
        options.push(option(bundle, tier_id, tier, &needs, &current)?);
    }
    // The least plan by (total, rank, add-ons); options come in rank order
    // and only a strictly smaller key replaces, so equal keys keep the first.
    let mut cheapest: Option<(&Plan, u32)> = None;
    for option in &options {
        let Some(plan) = &option.plan else { continue };
        let key = (plan.total.minor, option.rank, plan.addons.len());
        if cheapest.is_none_or(|(best, rank)| key < (best.total.minor, rank, best.addons.len())) {
            cheapest = Some((plan, option.rank));
        }
    }
    let cheapest = cheapest.map(|(plan, _)| plan.clone());
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
        options,
        addons: addon_views(bundle)?,
    })
}

/// One tier as an option: its cheapest covering plan, by total then fewer
/// add-ons (the first found on a tie), or the gaps of the tier with every
/// fitting add-on, the most it can grant.
fn option(
    bundle: &Bundle,
    tier_id: &TierId,
    tier: &Tier,
    needs: &Needs<'_>,
    current: &Plan,
) -> Result<TierOption, Error> {
    let fitting: Vec<(&AddOnId, &AddOn)> = bundle
        .addons
        .iter()
        .filter(|(_, a)| a.tiers.contains(tier_id))
        .collect();
    let mut best: Option<Plan> = None;
    for chosen in combinations(fitting.len()) {
        let addons: Vec<_> = chosen
            .iter()
            .filter_map(|i| fitting.get(*i).copied())
            .collect();
        let terms = Terms::standard(tier_id, tier, addons);
        if !needs.gaps(&terms).is_empty() {
            continue;
        }
        let lines = quote::plan_lines(bundle, &terms)?;
        let total = quote::total(bundle.currency, &lines)?;
        let plan = Plan {
            tier: tier_id.clone(),
            addons: terms.addons.iter().map(|(id, _)| (*id).clone()).collect(),
            total,
        };
        let better = best.as_ref().is_none_or(|b| {
            (plan.total.minor, plan.addons.len()) < (b.total.minor, b.addons.len())
        });
        if better {
            best = Some(plan);
        }
    }
    let gaps = match best {
        Some(_) => None,
        None => Some(needs.gaps(&Terms::standard(tier_id, tier, fitting.clone()))),
    };
    let difference = match &best {
        Some(plan) => Some(current.total.checked_sub(plan.total, &JsonPath::root())?),
        None => None,
    };
    let tier_path = JsonPath::root()
        .key("bundle")
        .key("tiers")
        .key(tier_id.as_str());
    let mut features = tier.features.clone();
    order::sort(&mut features);
    Ok(TierOption {
        tier: tier_id.clone(),
        title: tier.title.clone(),
        rank: tier.rank,
        price: Money::from_price(tier.price, bundle.currency, &tier_path.key("price"))?,
        max_seats: tier.max_seats,
        features,
        quotas: tier
            .quotas
            .iter()
            .map(|(metric, quota)| OptionQuota {
                metric: metric.clone(),
                limit: match quota.limit {
                    Limit::Units(units) => Some(units),
                    Limit::Unlimited => None,
                },
                period: quota.period,
                enforcement: match quota.enforcement {
                    Enforcement::Hard => EnforcementKind::Hard,
                    Enforcement::Soft { .. } => EnforcementKind::Soft,
                },
            })
            .collect(),
        addons: fitting.iter().map(|(id, _)| (*id).clone()).collect(),
        covers: best.is_some(),
        plan: best,
        difference,
        current: *tier_id == current.tier,
        gaps,
    })
}

/// Every add-on of the bundle, by id.
fn addon_views(bundle: &Bundle) -> Result<Vec<AddonView>, Error> {
    bundle
        .addons
        .iter()
        .map(|(id, addon)| {
            let path = JsonPath::root()
                .key("bundle")
                .key("addons")
                .key(id.as_str())
                .key("price");
            Ok(AddonView {
                addon: id.clone(),
                title: addon.title.clone(),
                price: Money::from_price(addon.price, bundle.currency, &path)?,
                tiers: addon.tiers.clone(),
                features: addon.features.clone(),
                quota_increments: addon.quota_increments.clone(),
            })
        })
        .collect()
}

/// Index sets to try: every subset when there are few add-ons, else the
/// empty set, each single add-on and the whole set.
fn combinations(n: usize) -> Vec<Vec<usize>> {
    if n <= MAX_ADDONS_COMBINED {
        (0..(1u32 << n))
            .map(|mask| (0..n).filter(|i| mask & (1 << i) != 0).collect())
            .collect()
    } else {
        std::iter::once(Vec::new())
            .chain((0..n).map(|i| vec![i]))
            .chain(std::iter::once((0..n).collect()))
            .collect()
    }
}
