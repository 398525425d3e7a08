//! Metering: which recorded counts belong to the current period, and what a
//! consuming check asks its host to record.
//!
//! A host that meters (the gateway) keeps, per license and metric, the last
//! count it recorded with the start of that count's period. It passes that
//! count back unchanged; the rules decide whether it still applies, so the
//! host never computes a period itself.

use serde::{Deserialize, Serialize};

use crate::entitlement::period::Period;
use crate::entitlement::terms::Terms;
use crate::model::bundle::Bundle;
use crate::model::ids::FeatureId;
use crate::model::license::{License, Usage};
use crate::model::time::Timestamp;

/// What a host records after an allowed consuming check: the metric's count
/// in its period once this request's units are added. Recording it replaces
/// the count kept for `(license, metric, period.start)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeterRecord {
    /// The metric consumed.
    pub metric: FeatureId,
    /// The period the count belongs to; pass `period.start` back as the
    /// usage's `period_start`.
    pub period: Period,
    /// Units consumed in the period, this request included.
    pub used: u64,
    /// When a soft limit was first crossed in the period, if it has been.
    pub soft_exceeded_at: Option<Timestamp>,
}

/// The usage with every count recorded in another period than the current
/// one dropped. Counts with no `period_start` are taken as current, as a
/// caller that counts per period itself sends them. A metric the license's
/// terms give no quota keeps its count: nothing resets it.
pub fn current(bundle: &Bundle, license: &License, mut usage: Usage, now: Timestamp) -> Usage {
    let Some(terms) = Terms::of_license(bundle, license, now) else {
        return usage;
    };
    usage.metrics.retain(|metric, counted| {
        let Some(recorded) = counted.period_start else {
            return true;
        };
        terms
            .quota(metric)
            .and_then(|quota| Period::containing(quota.period, now, license))
            .is_none_or(|period| period.start == recorded)
    });
    usage
}
