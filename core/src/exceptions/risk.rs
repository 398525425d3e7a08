//! The risk score of an exception request: four dimensions, each scored 0
//! to 100 by fixed rules from the request and the license, weighted by the
//! bundle's policy into a whole-number total. Money is compared exactly.

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::exceptions::intake::Window;
use crate::exceptions::policy::ExceptionPolicy;
use crate::exceptions::request::ExceptionRequest;
use crate::model::bundle::{BillingPeriod, Bundle, Enforcement, Limit};
use crate::model::license::License;
use crate::model::money::exact_mul;

/// Points per legal-sensitive feature.
const LEGAL_FEATURE: u32 = 40;
/// Points per feature requested, for the technical dimension.
const TECHNICAL_FEATURE: u32 = 10;
/// Points for a sensitive use case.
const SENSITIVE_USE_CASE: u32 = 60;
/// Points per other exception the license holds.
const PRIOR_EXCEPTION: u32 = 20;
/// Days in the month of the commercial rule.
const MONTH_DAYS: u64 = 30;

/// The scored request.
#[derive(Debug, Clone, Serialize)]
pub struct Risk {
    /// Commercial, legal, technical, reputational, in that order.
    pub dimensions: Vec<Dimension>,
    /// Σ score × weight, out of 10 000.
    pub weighted_sum: u32,
    /// `weighted_sum / 100`, rounded half up.
    pub total: u32,
    /// How `total` is rounded.
    pub rounding: &'static str,
}

/// One dimension's score and what produced it.
#[derive(Debug, Clone, Serialize)]
pub struct Dimension {
    /// Its name.
    pub dimension: &'static str,
    /// 0 to 100: the sum of its factors' points, capped at 100.
    pub score: u32,
    /// Its weight in percent.
    pub weight: u32,
    /// Each rule that gave points (or that was measured).
    pub factors: Vec<Factor>,
}

/// A rule applied: what it measured and the points it gave.
#[derive(Debug, Clone, Serialize)]
pub struct Factor {
    /// The rule.
    pub factor: &'static str,
    /// What it measured, as text.
    pub value: String,
    /// Points it gave.
    pub points: u32,
}

/// Scores a request that passed intake over its window.
pub(crate) fn score(
    bundle: &Bundle,
    policy: &ExceptionPolicy,
    license: &License,
    request: &ExceptionRequest,
    window: Window,
) -> Risk {
    let w = policy.weights;
    let dimensions = vec![
        dimension(
            "commercial",
            w.commercial,
            commercial(bundle, license, request, window),
        ),
        dimension("legal", w.legal, legal(policy, request, window)),
        dimension(
            "technical",
            w.technical,
            technical(bundle, license, request),
        ),
        dimension(
            "reputational",
            w.reputational,
            reputational(policy, license, request),
        ),
    ];
    let weighted_sum: u32 = dimensions.iter().map(|d| d.score * d.weight).sum();
    Risk {
        dimensions,
        weighted_sum,
        total: (weighted_sum + 50) / 100,
        rounding: "half_up",
    }
}

fn dimension(name: &'static str, weight: u32, factors: Vec<Factor>) -> Dimension {
    let score = factors
        .iter()
        .fold(0u32, |sum, f| sum.saturating_add(f.points))
        .min(100);
    Dimension {
        dimension: name,
        score,
        weight,
        factors,
    }
}

/// Whole percent `100 × part / whole`, rounded down, at most 100.
fn share(part: u64, whole: u64) -> u32 {
    if whole == 0 {
        return if part == 0 { 0 } else { 100 };
    }
    let percent = u128::from(part) * 100 / u128::from(whole);
    u32::try_from(percent.min(100)).unwrap_or(100)
}

/// The revenue at risk as a whole percent (rounded down, at most 100) of the
/// tier's price over the billing periods the window touches.
fn commercial(
    bundle: &Bundle,
    license: &License,
    request: &ExceptionRequest,
    window: Window,
) -> Vec<Factor> {
    let Some(impact) = request.expected_revenue_impact else {
        return vec![Factor {
            factor: "revenue_impact_share",
            value: "none given".into(),
            points: 0,
        }];
    };
    let price = bundle
        .tiers
        .get(&license.tier)
        .map_or(Decimal::ZERO, |t| t.price.value());
    let period_days = match bundle.billing_period {
        BillingPeriod::Month => MONTH_DAYS,
        BillingPeriod::Year => 365,
    };
    let periods = window.days.div_ceil(period_days).max(1);
    let base = exact_mul(price, Decimal::from(periods));
    let impact = impact.value();
    let points = match base {
        Some(base) if base.is_zero() && impact.is_zero() => 0,
        Some(base) if base.is_zero() => 100,
        Some(base) => percent_of(impact, base),
        None => 100,
    };
    let base_text = base.map_or_else(|| "too large".to_string(), |b| b.to_string());
    vec![Factor {
        factor: "revenue_impact_share",
        value: format!("{impact} of {base_text} ({periods} × {price})"),
        points,
    }]
}

/// `floor(100 × part / whole)` capped at 100, exactly: the quotient is
/// checked back by multiplication, so no rounding of the division counts.
fn percent_of(part: Decimal, whole: Decimal) -> u32 {
    let Some(hundred_part) = exact_mul(part, Decimal::ONE_HUNDRED) else {
        return 100;
    };
    let Some(quotient) = hundred_part.checked_div(whole) else {
        return 100;
    };
    let mut q = quotient.floor().min(Decimal::ONE_HUNDRED);
    while q > Decimal::ZERO && exact_mul(whole, q).is_none_or(|x| x > hundred_part) {
        q -= Decimal::ONE;
    }
    q.to_u32().unwrap_or(100)
}

/// 40 points per legal-sensitive feature; 20 for a window over 30 days, 40
/// over 90.
fn legal(policy: &ExceptionPolicy, request: &ExceptionRequest, window: Window) -> Vec<Factor> {
    let mut factors: Vec<Factor> = request
        .features
        .iter()
        .filter(|f| policy.legal_sensitive_features.contains(f))
        .map(|f| Factor {
            factor: "legal_sensitive_feature",
            value: f.to_string(),
            points: LEGAL_FEATURE,
        })
        .collect();
    let points = match window.days {
        0..=30 => 0,
        31..=90 => 20,
        _ => 40,
    };
    factors.push(Factor {
        factor: "duration_days",
        value: window.days.to_string(),
        points,
    });
    factors
}

/// Per metric, the increment as a whole percent of the tier's limit and the
/// extra grace as a percent of the tier's grace hours (each rounded down, at
/// most 100); 10 points per feature.
fn technical(bundle: &Bundle, license: &License, request: &ExceptionRequest) -> Vec<Factor> {
    let quotas = bundle.tiers.get(&license.tier).map(|t| &t.quotas);
    let mut factors = Vec::new();
    for (metric, extra) in &request.quota_increments {
        let limit = match quotas.and_then(|q| q.get(metric)).map(|q| q.limit) {
            Some(Limit::Units(units)) => units,
            _ => 0,
        };
        factors.push(Factor {
            factor: "quota_increment",
            value: format!("{metric}: {extra} of {limit}"),
            points: share(*extra, limit),
        });
    }
    for (metric, hours) in &request.grace_hours {
        let grace = match quotas.and_then(|q| q.get(metric)).map(|q| &q.enforcement) {
            Some(Enforcement::Soft { grace_hours, .. }) => *grace_hours,
            _ => 0,
        };
        factors.push(Factor {
            factor: "grace_extension",
            value: format!("{metric}: {hours} of {grace} hours"),
            points: share(u64::from(*hours), u64::from(grace)),
        });
    }
    for f in &request.features {
        factors.push(Factor {
            factor: "feature",
            value: f.to_string(),
            points: TECHNICAL_FEATURE,
        });
    }
    factors
}

/// 60 points for a use case the policy lists as sensitive; 20 per other
/// exception the license holds (precedent), whatever its state.
fn reputational(
    policy: &ExceptionPolicy,
    license: &License,
    request: &ExceptionRequest,
) -> Vec<Factor> {
    let mut factors = Vec::new();
    if let Some(use_case) = request
        .use_case
        .as_ref()
        .filter(|u| policy.sensitive_use_cases.contains(u))
    {
        factors.push(Factor {
            factor: "sensitive_use_case",
            value: use_case.clone(),
            points: SENSITIVE_USE_CASE,
        });
    }
    for e in license.exceptions.iter().filter(|e| e.id != request.id) {
        factors.push(Factor {
            factor: "prior_exception",
            value: e.id.to_string(),
            points: PRIOR_EXCEPTION,
        });
    }
    factors
}
