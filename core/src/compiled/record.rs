//! The compact check's fixed-size records: the ask a host writes (64
//! bytes) and the answer the engine writes (136 bytes), both little-endian,
//! laid out as wasm/ABI.md documents; and the projection of a full JSON
//! answer onto the compact one, which is what the two paths are held to.

use crate::entitlement::basis::Basis;
use crate::entitlement::check::{CheckAnswer, Finished};
use crate::entitlement::period::Period;
use crate::entitlement::reason::{Decision, Reason, ReasonSet, ALL};
use crate::model::bundle::PeriodKind;
use crate::model::time::Timestamp;

/// Bytes of an ask record.
pub const ASK_BYTES: usize = 64;
/// Bytes of an answer record.
pub const ANSWER_BYTES: usize = 136;

/// What a compact check is asked, besides the feature its handle names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompactAsk {
    /// Units to consume: a consuming check's `amount`; 0 for a feature check.
    pub amount: u64,
    /// Units used in the count's period: the usage's `used`.
    pub used: u64,
    /// When the soft limit was first crossed: the usage's `soft_exceeded_at`.
    pub soft_exceeded_at: Option<Timestamp>,
    /// The start of the period the count was recorded in: the usage's
    /// `period_start`; a count of another period counts as nothing.
    pub period_start: Option<Timestamp>,
    /// The instant of the check.
    pub now: Timestamp,
}

/// The quota of a compact answer; its period's kind is the quota's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompactQuota {
    /// Units used before this request.
    pub used: u64,
    /// Units this request asks for.
    pub requested: u64,
    /// The limit; `None` when unlimited.
    pub limit: Option<u64>,
    /// How far a soft quota reaches in grace.
    pub grace_limit: Option<u64>,
    /// When the soft-limit grace ends, once started.
    pub grace_ends_at: Option<Timestamp>,
    /// The current period's first instant.
    pub period_start: Timestamp,
    /// The next period's first instant.
    pub period_end: Timestamp,
}

/// What to record after an allowed consuming check; the metric is the
/// handle's and the period the quota's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompactRecord {
    /// The count once this request's units are added.
    pub used: u64,
    /// When the soft limit was first crossed, if it has been.
    pub soft_exceeded_at: Option<Timestamp>,
}

/// A compact answer: every field of the JSON answer but the feature's name
/// (the handle's) and the period's kind (the quota's), with reasons and
/// what decided as bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompactAnswer {
    /// Allow, allow in grace or deny.
    pub decision: Decision,
    /// The reason of highest precedence.
    pub reason: Reason,
    /// Every reason that applies.
    pub reasons: ReasonSet,
    /// What decided, as bits over the compiled check's bases.
    pub decided_by: u64,
    /// Units left before a deny.
    pub remaining: Option<u64>,
    /// The quota, for a metered feature granted.
    pub quota: Option<CompactQuota>,
    /// When the same inputs could next get another answer.
    pub valid_until: Option<Timestamp>,
    /// The HTTP status a gateway answers with.
    pub http_status: u16,
    /// What to record, for an allowed consuming check.
    pub record: Option<CompactRecord>,
}

impl CompactAnswer {
    /// The compact answer of a check decided in numbers.
    #[inline]
    pub(crate) fn of(finished: &Finished, decided_by: u64) -> CompactAnswer {
        CompactAnswer {
            decision: finished.decision,
            reason: finished.reason,
            reasons: finished.reasons,
            decided_by,
            remaining: finished.remaining,
            quota: finished.quota.map(|q| CompactQuota {
                used: q.used,
                requested: q.requested,
                limit: q.limit,
                grace_limit: q.grace_limit,
                grace_ends_at: q.grace_ends_at,
                period_start: q.period.start,
                period_end: q.period.end,
            }),
            valid_until: finished.valid_until,
            http_status: finished.http_status,
            record: finished.record.map(|r| CompactRecord {
                used: r.used,
                soft_exceeded_at: r.soft_exceeded_at,
            }),
        }
    }

    /// The projection of a full answer: what the compact answer to the same
    /// request must be, bit for bit. `None` when the answer names a basis
    /// the table lacks, or names it out of the table's order.
    #[inline]
    pub fn project(answer: &CheckAnswer, bases: &[Basis]) -> Option<CompactAnswer> {
        let mut decided_by = 0u64;
        for basis in &answer.decided_by {
            let at = bases.iter().position(|b| b == basis)?;
            decided_by |= 1u64.checked_shl(u32::try_from(at).ok()?)?;
        }
        if expand(bases, decided_by) != answer.decided_by {
            return None;
        }
        Some(CompactAnswer {
            decision: answer.decision,
            reason: answer.reason,
            reasons: answer.reasons.iter().copied().collect(),
            decided_by,
            remaining: answer.remaining,
            quota: answer.quota.as_ref().map(|q| CompactQuota {
                used: q.used,
                requested: q.requested,
                limit: q.limit,
                grace_limit: q.grace_limit,
                grace_ends_at: q.grace_ends_at,
                period_start: q.period.start,
                period_end: q.period.end,
            }),
            valid_until: answer.valid_until,
            http_status: answer.http_status,
            record: answer.record.as_ref().map(|r| CompactRecord {
                used: r.used,
                soft_exceeded_at: r.soft_exceeded_at,
            }),
        })
    }
}

/// The bases `bits` marks, in the table's order.
#[inline]
pub fn expand(bases: &[Basis], bits: u64) -> Vec<Basis> {
    bases
        .iter()
        .take(64)
        .enumerate()
        .filter(|(i, _)| bits & (1u64 << i) != 0)
        .map(|(_, b)| b.clone())
        .collect()
}

/// Flags of the ask record.
const ASK_SOFT: u32 = 1;
const ASK_PERIOD: u32 = 1 << 1;

/// Flags of the answer record.
const HAS_REMAINING: u32 = 1;
const HAS_VALID_UNTIL: u32 = 1 << 1;
const HAS_QUOTA: u32 = 1 << 2;
const HAS_LIMIT: u32 = 1 << 3;
const HAS_GRACE_LIMIT: u32 = 1 << 4;
const HAS_GRACE_ENDS: u32 = 1 << 5;
const HAS_RECORD: u32 = 1 << 6;
const HAS_RECORD_SOFT: u32 = 1 << 7;

#[inline]
fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

#[inline]
fn u64_at(bytes: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(bytes.get(at..at + 8)?.try_into().ok()?))
}

#[inline]
fn i64_at(bytes: &[u8], at: usize) -> Option<i64> {
    Some(i64::from_le_bytes(bytes.get(at..at + 8)?.try_into().ok()?))
}

/// An instant as whole seconds at `secs` and nanoseconds at `nanos`.
#[inline]
fn instant_at(bytes: &[u8], secs: usize, nanos: usize) -> Option<Timestamp> {
    Timestamp::from_parts(i64_at(bytes, secs)?, u32_at(bytes, nanos)?)
}

/// Writes little-endian bytes at `at`; the layouts are fixed, so every
/// offset fits.
#[inline]
fn put(out: &mut [u8], at: usize, bytes: &[u8]) {
    if let Some(slot) = out.get_mut(at..at + bytes.len()) {
        slot.copy_from_slice(bytes);
    }
}

#[inline]
fn put_instant(out: &mut [u8], secs: usize, nanos: usize, at: Option<Timestamp>) {
    let (s, n) = at.map_or((0, 0), Timestamp::parts);
    put(out, secs, &s.to_le_bytes());
    put(out, nanos, &n.to_le_bytes());
}

impl CompactAsk {
    /// Reads an ask record; `None` when an instant is out of range.
    #[inline]
    pub fn read(bytes: &[u8; ASK_BYTES]) -> Option<CompactAsk> {
        let flags = u32_at(bytes, 28)?;
        let optional = |flag: u32, secs: usize, nanos: usize| -> Option<Option<Timestamp>> {
            if flags & flag == 0 {
                Some(None)
            } else {
                instant_at(bytes, secs, nanos).map(Some)
            }
        };
        Some(CompactAsk {
            amount: u64_at(bytes, 0)?,
            used: u64_at(bytes, 8)?,
            now: instant_at(bytes, 16, 24)?,
            soft_exceeded_at: optional(ASK_SOFT, 32, 40)?,
            period_start: optional(ASK_PERIOD, 48, 56)?,
        })
    }

    /// Writes the ask record.
    #[inline]
    pub fn write(&self) -> [u8; ASK_BYTES] {
        let mut out = [0u8; ASK_BYTES];
        put(&mut out, 0, &self.amount.to_le_bytes());
        put(&mut out, 8, &self.used.to_le_bytes());
        put_instant(&mut out, 16, 24, Some(self.now));
        let mut flags = 0;
        if self.soft_exceeded_at.is_some() {
            flags |= ASK_SOFT;
        }
        if self.period_start.is_some() {
            flags |= ASK_PERIOD;
        }
        put(&mut out, 28, &flags.to_le_bytes());
        put_instant(&mut out, 32, 40, self.soft_exceeded_at);
        put_instant(&mut out, 48, 56, self.period_start);
        out
    }
}

impl CompactAnswer {
    /// Writes the answer record.
    #[inline]
    pub fn write(&self) -> [u8; ANSWER_BYTES] {
        let mut out = [0u8; ANSWER_BYTES];
        let mut flags = 0;
        let mut flag = |on: bool, bit: u32| {
            if on {
                flags |= bit;
            }
        };
        flag(self.remaining.is_some(), HAS_REMAINING);
        flag(self.valid_until.is_some(), HAS_VALID_UNTIL);
        flag(self.quota.is_some(), HAS_QUOTA);
        let quota = self.quota;
        flag(quota.is_some_and(|q| q.limit.is_some()), HAS_LIMIT);
        flag(
            quota.is_some_and(|q| q.grace_limit.is_some()),
            HAS_GRACE_LIMIT,
        );
        flag(
            quota.is_some_and(|q| q.grace_ends_at.is_some()),
            HAS_GRACE_ENDS,
        );
        flag(self.record.is_some(), HAS_RECORD);
        flag(
            self.record.is_some_and(|r| r.soft_exceeded_at.is_some()),
            HAS_RECORD_SOFT,
        );
        put(&mut out, 0, &[self.decision as u8, self.reason as u8]);
        put(&mut out, 2, &self.http_status.to_le_bytes());
        put(&mut out, 4, &flags.to_le_bytes());
        put(&mut out, 8, &u64::from(self.reasons.bits()).to_le_bytes());
        put(&mut out, 16, &self.decided_by.to_le_bytes());
        put_instant(&mut out, 24, 32, self.valid_until);
        put(&mut out, 40, &self.remaining.unwrap_or(0).to_le_bytes());
        if let Some(q) = quota {
            put(&mut out, 48, &q.used.to_le_bytes());
            put(&mut out, 56, &q.requested.to_le_bytes());
            put(&mut out, 64, &q.limit.unwrap_or(0).to_le_bytes());
            put(&mut out, 72, &q.grace_limit.unwrap_or(0).to_le_bytes());
            put_instant(&mut out, 80, 36, q.grace_ends_at);
            put_instant(&mut out, 88, 104, Some(q.period_start));
            put_instant(&mut out, 96, 108, Some(q.period_end));
        }
        if let Some(r) = self.record {
            put(&mut out, 112, &r.used.to_le_bytes());
            put_instant(&mut out, 120, 128, r.soft_exceeded_at);
        }
        out
    }

    /// Reads an answer record; `None` when it is not one the engine writes.
    #[inline]
    pub fn read(bytes: &[u8; ANSWER_BYTES]) -> Option<CompactAnswer> {
        let flags = u32_at(bytes, 4)?;
        let has = |bit: u32| flags & bit != 0;
        let decision = match bytes.first()? {
            0 => Decision::Allow,
            1 => Decision::AllowInGrace,
            2 => Decision::Deny,
            _ => return None,
        };
        let reason = *ALL.get(usize::from(*bytes.get(1)?))?;
        let reasons_bits = u64_at(bytes, 8)?;
        let reasons: ReasonSet = ALL
            .into_iter()
            .enumerate()
            .filter(|(i, _)| reasons_bits & (1u64 << i) != 0)
            .map(|(_, r)| r)
            .collect();
        if u64::from(reasons.bits()) != reasons_bits {
            return None;
        }
        let when = |bit: u32, secs: usize, nanos: usize| -> Option<Option<Timestamp>> {
            if has(bit) {
                instant_at(bytes, secs, nanos).map(Some)
            } else {
                Some(None)
            }
        };
        let quota = if has(HAS_QUOTA) {
            Some(CompactQuota {
                used: u64_at(bytes, 48)?,
                requested: u64_at(bytes, 56)?,
                limit: has(HAS_LIMIT).then_some(u64_at(bytes, 64)?),
                grace_limit: has(HAS_GRACE_LIMIT).then_some(u64_at(bytes, 72)?),
                grace_ends_at: when(HAS_GRACE_ENDS, 80, 36)?,
                period_start: instant_at(bytes, 88, 104)?,
                period_end: instant_at(bytes, 96, 108)?,
            })
        } else {
            None
        };
        let record = if has(HAS_RECORD) {
            Some(CompactRecord {
                used: u64_at(bytes, 112)?,
                soft_exceeded_at: when(HAS_RECORD_SOFT, 120, 128)?,
            })
        } else {
            None
        };
        Some(CompactAnswer {
            decision,
            reason,
            reasons,
            decided_by: u64_at(bytes, 16)?,
            remaining: has(HAS_REMAINING).then_some(u64_at(bytes, 40)?),
            quota,
            valid_until: when(HAS_VALID_UNTIL, 24, 32)?,
            http_status: u16::from_le_bytes([*bytes.get(2)?, *bytes.get(3)?]),
            record,
        })
    }

    /// The quota's period, given its kind.
    #[inline]
    pub fn period(&self, kind: PeriodKind) -> Option<Period> {
        self.quota.map(|q| Period {
            kind,
            start: q.period_start,
            end: q.period_end,
        })
    }
}
