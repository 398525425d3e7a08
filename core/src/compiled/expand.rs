//! The full answer of a compact check: its record expanded with what the
//! compiled check knows (the feature's name, the bases its decided-by bits
//! stand for, the kind of the quota's period in each span of the license)
//! into the [`CheckAnswer`] the JSON check gives the same request, and that
//! answer's envelope, byte for byte what the JSON entry writes. A host that
//! sends the JSON answer gets it from the compact check in one call,
//! without a second, JSON, check.

use crate::api::envelope::success;
use crate::api::op::Op;
use crate::entitlement::basis::Basis;
use crate::entitlement::check::{prepare, CheckAnswer, QuotaUse};
use crate::entitlement::period::Period;
use crate::error::Error;
use crate::metering::meter::MeterRecord;
use crate::model::bundle::{Bundle, PeriodKind};
use crate::model::ids::FeatureId;
use crate::model::time::Timestamp;
use crate::reading::bundle::BundleMeta;

use super::check::CompiledCheck;
use super::record::{expand, CompactAnswer};

/// What turns a compiled check's compact answers into full ones.
#[derive(Debug, Clone)]
pub struct Expansion {
    feature: FeatureId,
    bases: Vec<Basis>,
    /// The start of every span of the license, ascending (the first is the
    /// first instant), and the kind of the quota's period in it.
    starts: Vec<Timestamp>,
    kinds: Vec<Option<PeriodKind>>,
    meta: BundleMeta,
}

impl Expansion {
    /// The expansion of `compiled`, compiled from `bundle` (whose meta
    /// answers carry). The quota's period kind is what the documents decide
    /// at the start of each span between the license's boundaries, as the
    /// JSON check decides it at any instant of the span.
    pub(crate) fn new(
        bundle: &Bundle,
        meta: &BundleMeta,
        compiled: &CompiledCheck,
    ) -> Result<Expansion, Error> {
        let license = compiled.license();
        let feature = compiled.feature();
        let first = Timestamp::first();
        let mut starts = prepare(bundle, license, feature, first)?.bounds;
        starts.push(first);
        starts.sort();
        starts.dedup();
        let kinds = starts
            .iter()
            .map(|start| {
                prepare(bundle, license, feature, *start).map(|p| p.quota.map(|q| q.period))
            })
            .collect::<Result<Vec<_>, Error>>()?;
        Ok(Expansion {
            feature: feature.clone(),
            bases: compiled.bases().to_vec(),
            starts,
            kinds,
            meta: meta.clone(),
        })
    }

    /// The JSON answer `compact` is the projection of, for a check at
    /// `now`; `None` when the record carries a quota where the documents
    /// give none (a record this expansion's check did not write).
    pub fn answer(&self, compact: &CompactAnswer, now: Timestamp) -> Option<CheckAnswer> {
        let span = self.starts.partition_point(|s| *s <= now).saturating_sub(1);
        let period = match compact.quota {
            Some(quota) => Some(Period {
                kind: self.kinds.get(span).copied().flatten()?,
                start: quota.period_start,
                end: quota.period_end,
            }),
            None => None,
        };
        let quota = compact.quota.zip(period).map(|(q, period)| QuotaUse {
            used: q.used,
            requested: q.requested,
            limit: q.limit,
            grace_limit: q.grace_limit,
            grace_ends_at: q.grace_ends_at,
            period,
        });
        Some(CheckAnswer {
            decision: compact.decision,
            reason: compact.reason,
            reasons: compact.reasons.iter().collect(),
            feature: self.feature.clone(),
            decided_by: expand(&self.bases, compact.decided_by),
            remaining: compact.remaining,
            quota,
            valid_until: compact.valid_until,
            http_status: compact.http_status,
            record: compact.record.zip(period).map(|(r, period)| MeterRecord {
                metric: self.feature.clone(),
                period,
                used: r.used,
                soft_exceeded_at: r.soft_exceeded_at,
            }),
        })
    }

    /// The success envelope of [`Expansion::answer`]: the bytes the JSON
    /// entry answers the same request with.
    pub fn envelope(&self, compact: &CompactAnswer, now: Timestamp) -> Option<String> {
        let answer = self.answer(compact, now)?;
        Some(success(Op::Check, &answer, Some(&self.meta)))
    }
}
