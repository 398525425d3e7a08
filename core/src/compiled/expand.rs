//! The full answer of a compact check: its record expanded with what the
//! compiled check knows (the feature's name, the bases its decided-by bits
//! stand for, the kind of the quota's period in each span of the license)
//! into the [`CheckAnswer`] the JSON check gives the same request, and that
//! answer's envelope, byte for byte what the JSON entry writes. A host that
//! sends the JSON answer gets it from the compact check in one call,
//! without a second, JSON, check.

use serde::{Serialize, Serializer};

use crate::api::envelope::{Envelope, Meta, Success};
use crate::api::op::Op;
use crate::entitlement::basis::Basis;
use crate::entitlement::check::{prepare, CheckAnswer, QuotaUse};
use crate::entitlement::period::Period;
use crate::entitlement::reason::{Decision, Reason, ReasonSet};
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
        let period = self.period(compact, now)?;
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
    /// entry answers the same request with. Written from the record and
    /// the expansion as they are, field for field as [`CheckAnswer`]
    /// serializes (so without building one), into one buffer.
    pub fn envelope(&self, compact: &CompactAnswer, now: Timestamp) -> Option<String> {
        let period = self.period(compact, now)?;
        let written = Written {
            decision: compact.decision,
            reason: compact.reason,
            reasons: Reasons(compact.reasons),
            feature: &self.feature,
            decided_by: DecidedBy {
                bases: &self.bases,
                bits: compact.decided_by,
            },
            remaining: compact.remaining,
            quota: compact.quota.zip(period).map(|(q, period)| QuotaUse {
                used: q.used,
                requested: q.requested,
                limit: q.limit,
                grace_limit: q.grace_limit,
                grace_ends_at: q.grace_ends_at,
                period,
            }),
            valid_until: compact.valid_until,
            http_status: compact.http_status,
            record: compact.record.zip(period).map(|(r, period)| Record {
                metric: &self.feature,
                period,
                used: r.used,
                soft_exceeded_at: r.soft_exceeded_at,
            }),
        };
        let envelope = Envelope::Ok(Success {
            op: Op::Check,
            result: written,
            meta: Meta::new(Some(&self.meta)),
        });
        let mut out = Vec::with_capacity(1024);
        serde_json::to_writer(&mut out, &envelope).ok()?;
        String::from_utf8(out).ok()
    }

    /// The quota's period of `compact`, at `now`: `Some(None)` without a
    /// quota, `None` when the documents give no quota there.
    fn period(&self, compact: &CompactAnswer, now: Timestamp) -> Option<Option<Period>> {
        let Some(quota) = compact.quota else {
            return Some(None);
        };
        let span = self.starts.partition_point(|s| *s <= now).saturating_sub(1);
        Some(Some(Period {
            kind: self.kinds.get(span).copied().flatten()?,
            start: quota.period_start,
            end: quota.period_end,
        }))
    }
}

/// A [`CheckAnswer`] borrowed from a record and its expansion: the same
/// fields in the same order, so it serializes to the same bytes.
#[derive(Serialize)]
struct Written<'a> {
    decision: Decision,
    reason: Reason,
    reasons: Reasons,
    feature: &'a FeatureId,
    decided_by: DecidedBy<'a>,
    remaining: Option<u64>,
    quota: Option<QuotaUse>,
    valid_until: Option<Timestamp>,
    http_status: u16,
    record: Option<Record<'a>>,
}

/// A [`MeterRecord`] with its metric borrowed.
#[derive(Serialize)]
struct Record<'a> {
    metric: &'a FeatureId,
    period: Period,
    used: u64,
    soft_exceeded_at: Option<Timestamp>,
}

/// Reasons listed in precedence order, as `CheckAnswer::reasons`.
struct Reasons(ReasonSet);

impl Serialize for Reasons {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter())
    }
}

/// The bases a record's bits mark, in the table's order, as [`expand`]
/// lists them.
struct DecidedBy<'a> {
    bases: &'a [Basis],
    bits: u64,
}

impl Serialize for DecidedBy<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(
            self.bases
                .iter()
                .take(64)
                .enumerate()
                .filter(|(i, _)| self.bits & (1u64 << i) != 0)
                .map(|(_, b)| b),
        )
    }
}
