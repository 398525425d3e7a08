//! Compiling a license for the checks of one feature or metric, and the
//! compact check itself.
//!
//! What a check decides before it reads the usage ([`prepare`]) changes
//! only at the license's boundaries: its term, renewal grace, offline
//! window, the documents' issue times and its exceptions' starts, expiries
//! and revocations. Compiling runs [`prepare`] once at the start of every
//! span between them and keeps the result as numbers and bit masks; a
//! check finds its span by binary search and runs the usage half
//! ([`finish`]) as the JSON check does. The periods of the quota are
//! computed ahead across the license's boundaries, and only outside them
//! per call. The compiled form is derived data: it holds the license it
//! was compiled from and is rebuilt, never patched, when that changes.

use crate::entitlement::basis::Basis;
use crate::entitlement::check::QuotaRule;
use crate::entitlement::check::{
    answer_with, finish, prepare, CheckAnswer, Counted, Decider, Finished, Metered, Refusal, Units,
};
use crate::entitlement::period::Period;
use crate::entitlement::reason::ReasonSet;
use crate::entitlement::terms::Source;
use crate::error::Error;
use crate::model::bundle::{Bundle, FeatureKind, PeriodKind};
use crate::model::ids::FeatureId;
use crate::model::license::License;
use crate::model::order;
use crate::model::time::Timestamp;

use super::record::{expand, CompactAnswer, CompactAsk};

/// The most periods computed ahead for one quota.
const PERIODS_AHEAD: usize = 512;

/// What a compact check is asked: a feature, or units of a metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckKind {
    /// May the feature be used (for a metered feature: is one unit left)?
    Feature,
    /// May `amount` units of the metric be consumed?
    Consume,
}

/// Why a compact check gives no record: these inputs get an error, or an
/// answer the record cannot carry. The JSON check of the same request
/// answers in full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompactRefusal {
    /// The usage half refused the inputs.
    Usage(Refusal),
    /// The period containing `now` cannot be written.
    PeriodOutOfRange,
    /// A feature check was sent an amount.
    AmountOnFeatureCheck,
    /// A count was sent for a feature that is not metered.
    UsageOnBooleanFeature,
    /// What decided names more than the 64 bases a record can mark.
    TooManyBases,
}

/// One span's first half of the check, as numbers and masks.
#[derive(Debug, Clone, Copy)]
struct SpanRule {
    reasons: ReasonSet,
    quota: Option<QuotaRule>,
    /// `grant_basis` as bits over the bases; `None` when it does not fit.
    grant: Option<u64>,
    /// `issued_in_future` as bits; `None` when it does not fit.
    future: Option<u64>,
    next_bound: Option<Timestamp>,
}

/// A license compiled for the checks of one feature or metric.
#[derive(Debug, Clone)]
pub struct CompiledCheck {
    license: License,
    feature: FeatureId,
    kind: CheckKind,
    metered: bool,
    bases: Vec<Basis>,
    /// The start of every span, ascending; the first is the first instant.
    starts: Vec<Timestamp>,
    rules: Vec<SpanRule>,
    /// Bounds of consecutive periods of the quota, ascending: period `i`
    /// runs from `periods[i]` to `periods[i + 1]`.
    periods: Vec<Timestamp>,
}

/// Bits 0, 1 and 2 of every decided-by mask: the license, the bundle, the
/// expiry policy.
const LICENSE_BIT: u64 = 1;
const EXPIRY_POLICY_BIT: u64 = 1 << 2;

impl CompiledCheck {
    /// Compiles `license` (validated against `bundle`) for checks of
    /// `feature`, which the bundle declares; a consuming check needs a
    /// metered feature, which the caller has made sure of.
    #[inline]
    pub fn compile(
        bundle: &Bundle,
        license: &License,
        feature: &FeatureId,
        kind: CheckKind,
    ) -> Result<CompiledCheck, Error> {
        let first = Timestamp::first();
        let metered = bundle
            .features
            .get(feature)
            .is_some_and(|f| f.kind == FeatureKind::Metered);
        let bases = bases(bundle, license);
        // Every boundary is in the first half's bounds at the first instant.
        let mut starts = prepare(bundle, license, feature, first)?.bounds;
        starts.push(first);
        order::sort(&mut starts);
        starts.dedup();
        let mut rules = Vec::with_capacity(starts.len());
        let mut period_kind = None;
        for start in &starts {
            let prepared = prepare(bundle, license, feature, *start)?;
            period_kind = period_kind.or(prepared.quota.map(|q| q.period));
            rules.push(SpanRule {
                reasons: prepared.reasons,
                quota: prepared.quota,
                grant: mask(&bases, &prepared.grant_basis),
                future: mask(&bases, &prepared.issued_in_future),
                next_bound: prepared.bounds.iter().copied().filter(|t| t > start).min(),
            });
        }
        let last = starts
            .last()
            .copied()
            .unwrap_or(first)
            .max(license.term.end);
        let periods = match period_kind {
            Some(kind) if kind != PeriodKind::Term => periods_ahead(kind, license, last),
            _ => Vec::new(),
        };
        Ok(CompiledCheck {
            license: license.clone(),
            feature: feature.clone(),
            kind,
            metered,
            bases,
            starts,
            rules,
            periods,
        })
    }

    /// The feature or metric checked.
    #[inline]
    pub fn feature(&self) -> &FeatureId {
        &self.feature
    }

    /// The license compiled.
    #[inline]
    pub fn license(&self) -> &License {
        &self.license
    }

    /// A feature check or a consuming check.
    #[inline]
    pub fn kind(&self) -> CheckKind {
        self.kind
    }

    /// What a record's decided-by bits stand for: bit `i` is `bases()[i]`.
    /// The license, the bundle and the expiry policy, then the tier, the
    /// license's add-ons and its exceptions, in the license's order.
    #[inline]
    pub fn bases(&self) -> &[Basis] {
        &self.bases
    }

    /// The compact check: exactly the projection of the JSON check of the
    /// same request onto a [`CompactAnswer`], without reading or writing JSON
    /// and without allocating.
    #[inline]
    pub fn check(&self, ask: &CompactAsk) -> Result<CompactAnswer, CompactRefusal> {
        let (finished, decided_by) = self.decide(self.kind, ask)?;
        Ok(CompactAnswer::of(&finished, decided_by))
    }

    /// The compact answer and the JSON check's full answer to the same
    /// request, decided once: what a host that sends the JSON answer too
    /// gets from one compact call.
    #[inline]
    pub(crate) fn check_in_full(
        &self,
        ask: &CompactAsk,
    ) -> Result<(CompactAnswer, CheckAnswer), CompactRefusal> {
        let (finished, decided_by) = self.decide(self.kind, ask)?;
        Ok((
            CompactAnswer::of(&finished, decided_by),
            self.full(&finished, decided_by),
        ))
    }

    /// The JSON check's full answer to the same request, decided as
    /// [`CompiledCheck::check`] decides, for either kind of check whatever
    /// kind this one was compiled for (the compiled spans do not depend on
    /// it); the JSON entry's fast path answers through it.
    #[inline]
    pub(crate) fn answer(
        &self,
        kind: CheckKind,
        ask: &CompactAsk,
    ) -> Result<CheckAnswer, CompactRefusal> {
        let (finished, decided_by) = self.decide(kind, ask)?;
        Ok(self.full(&finished, decided_by))
    }

    /// The full answer of a check decided in numbers: the reasons listed,
    /// and the bases the decided-by bits mark.
    #[inline]
    fn full(&self, finished: &Finished, decided_by: u64) -> CheckAnswer {
        answer_with(finished, &self.feature, expand(&self.bases, decided_by))
    }

    /// Both halves of a check of `kind`: the usage's decided, and what
    /// decided as bits over the bases.
    #[inline]
    fn decide(&self, kind: CheckKind, ask: &CompactAsk) -> Result<(Finished, u64), CompactRefusal> {
        let units = match kind {
            CheckKind::Feature if ask.amount != 0 => {
                return Err(CompactRefusal::AmountOnFeatureCheck)
            }
            CheckKind::Feature => Units {
                probe: 1,
                amount: 0,
            },
            CheckKind::Consume => Units {
                probe: ask.amount,
                amount: ask.amount,
            },
        };
        let counts_sent =
            ask.used != 0 || ask.soft_exceeded_at.is_some() || ask.period_start.is_some();
        if !self.metered && counts_sent {
            return Err(CompactRefusal::UsageOnBooleanFeature);
        }
        let now = ask.now;
        let span = self.starts.partition_point(|s| *s <= now).saturating_sub(1);
        let rule = self
            .rules
            .get(span)
            .ok_or(CompactRefusal::PeriodOutOfRange)?;
        let metered = match rule.quota {
            Some(quota) => Some(Metered {
                rule: quota,
                period: self
                    .period(quota.period, now)
                    .ok_or(CompactRefusal::PeriodOutOfRange)?,
            }),
            None => None,
        };
        // Counts recorded in a past period count as nothing now.
        let counted = match (&metered, ask.period_start) {
            (Some(m), Some(start)) if m.period.start != start => Counted::default(),
            (Some(_), _) => Counted {
                used: ask.used,
                soft_exceeded_at: ask.soft_exceeded_at,
            },
            (None, _) => Counted::default(),
        };
        let finished = finish(rule.reasons, metered, counted, units, now, rule.next_bound)
            .map_err(CompactRefusal::Usage)?;
        let decided_by = match finished.decider {
            Decider::License => Some(LICENSE_BIT),
            Decider::ExpiryPolicy => Some(EXPIRY_POLICY_BIT),
            Decider::IssuedInFuture => rule.future,
            Decider::Grants => rule.grant,
        }
        .ok_or(CompactRefusal::TooManyBases)?;
        Ok((finished, decided_by))
    }

    /// The period of `kind` containing `now`: looked up when it was
    /// computed ahead, else computed.
    #[inline]
    fn period(&self, kind: PeriodKind, now: Timestamp) -> Option<Period> {
        if kind == PeriodKind::Term {
            return Period::containing(kind, now, &self.license);
        }
        let after = self.periods.partition_point(|b| *b <= now);
        match (
            self.periods.get(after.wrapping_sub(1)),
            self.periods.get(after),
        ) {
            (Some(start), Some(end)) if after > 0 => Some(Period {
                kind,
                start: *start,
                end: *end,
            }),
            _ => Period::containing(kind, now, &self.license),
        }
    }
}

/// The bases a record's bits stand for.
#[inline]
fn bases(bundle: &Bundle, license: &License) -> Vec<Basis> {
    let mut bases = vec![
        Basis::License(license.license.clone()),
        Basis::Bundle(bundle.bundle.clone()),
        Basis::ExpiryPolicy,
        Basis::Grant(Source::Tier(license.tier.clone())),
    ];
    bases.extend(
        license
            .addons
            .iter()
            .map(|a| Basis::Grant(Source::Addon(a.clone()))),
    );
    bases.extend(
        license
            .exceptions
            .iter()
            .map(|e| Basis::Grant(Source::Exception(e.id.clone()))),
    );
    bases
}

/// `listed` as bits over `bases`, when the bits give `listed` back exactly:
/// each basis once, in the table's order, within its first 64 entries.
#[inline]
fn mask(bases: &[Basis], listed: &[Basis]) -> Option<u64> {
    let mut bits = 0u64;
    for basis in listed {
        let at = bases.iter().position(|b| b == basis)?;
        bits |= 1u64.checked_shl(u32::try_from(at).ok()?)?;
    }
    (expand(bases, bits) == listed).then_some(bits)
}

/// The bounds of consecutive periods from the one containing the term's
/// start to the first one past `until`, at most [`PERIODS_AHEAD`] of them.
#[inline]
fn periods_ahead(kind: PeriodKind, license: &License, until: Timestamp) -> Vec<Timestamp> {
    let mut bounds = Vec::new();
    let mut period = Period::containing(kind, license.term.start, license);
    while let Some(p) = period {
        if bounds.is_empty() {
            bounds.push(p.start);
        }
        bounds.push(p.end);
        if p.end > until || bounds.len() > PERIODS_AHEAD {
            break;
        }
        // Periods follow one another; should one not start where the last
        // ended, the rest are left to be computed per check.
        period = Period::containing(kind, p.end, license).filter(|next| next.start == p.end);
    }
    bounds
}
