//! A check that may consume, on a store a fleet shares: the module decides
//! on the count this gateway last saw; when that allows (or the request
//! has a key), the store counts it against the ceiling the answer gives
//! (`remaining` on top of what the answer counted), in one atomic step
//! with every other gateway's; and the module answers on the count the
//! store returned. The module's rules are never guessed at here: the
//! ceiling and the soft limit are read off its answer, and every answer
//! sent is the module's on the count it was counted on.
//!
//! A refusal on what this gateway saw is a refusal on the fleet's count
//! too (counts only grow within a period, and a soft limit crossed earlier
//! only ends its grace earlier), so it is answered without the store.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use entitle_core::{CheckKind, CompactAnswer, Decision, StoreFailureMode, Timestamp};
use serde_json::{Map, Value};

use super::compact::Compactable;
use super::idempotency::{reused, IdempotencyKey};
use super::Gateway;
use crate::error::HostError;
use crate::gateway::answer::{store_unreachable, Decided};
use crate::gateway::fleet::{Fleet, Owed};
use crate::gateway::generation::Generation;
use crate::gateway::meter::{Count, LicenseUsage};
use crate::gateway::store::{Consume, Consumed, Counted};

/// How many times a check is decided again on a count that moved before
/// it gives up (each round is a store call that found the count moved).
const ROUNDS: usize = 4;

/// One module answer to a check that may consume.
pub(super) enum Asked {
    Compact(CompactAnswer, Option<String>),
    Json(Decided),
}

/// What an answer asks the store to check, read off the answer.
pub(super) struct Quoted {
    pub(super) metric: String,
    pub(super) period_start: Timestamp,
    pub(super) period_end: Timestamp,
    /// Units asked for.
    pub(super) amount: u64,
    /// Whether the answer allows and records.
    pub(super) records: bool,
    /// The most the count may reach: what the answer counted, plus what
    /// it asks to record, plus what remains; `None` when unlimited.
    pub(super) ceiling: Option<u64>,
    /// The limit whose crossing starts grace, for a soft quota.
    pub(super) soft_limit: Option<u64>,
}

impl Asked {
    pub(super) fn quoted(&self) -> Option<Quoted> {
        match self {
            Asked::Compact(answer, _) => {
                let quota = answer.quota?;
                let records = answer.record.is_some();
                Some(Quoted {
                    metric: String::new(),
                    period_start: quota.period_start,
                    period_end: quota.period_end,
                    amount: quota.requested,
                    records,
                    ceiling: ceiling(quota.used, quota.requested, records, answer.remaining),
                    soft_limit: quota.grace_limit.and(quota.limit),
                })
            }
            Asked::Json(decided) => {
                let check = decided.result()?;
                let quota = check.quota.as_ref()?;
                let records = check.record.is_some();
                let metric = match &check.record {
                    Some(record) => record.metric.as_str().to_string(),
                    None => check.feature.as_str().to_string(),
                };
                Some(Quoted {
                    metric,
                    period_start: quota.period.start,
                    period_end: quota.period.end,
                    amount: quota.requested,
                    records,
                    ceiling: ceiling(quota.used, quota.requested, records, check.remaining),
                    soft_limit: quota.grace_limit.and(quota.limit),
                })
            }
        }
    }

    /// The count the answer asks to record, if it allows.
    pub(super) fn recorded(&self) -> Option<Counted> {
        match self {
            Asked::Compact(answer, _) => answer.record.map(|r| Counted {
                used: r.used,
                soft_exceeded_at: r.soft_exceeded_at,
            }),
            Asked::Json(decided) => decided.record().map(|r| Counted {
                used: r.used,
                soft_exceeded_at: r.soft_exceeded_at,
            }),
        }
    }

    pub(super) fn decided(self) -> Decided {
        match self {
            Asked::Compact(answer, Some(written)) => Decided::compact_with(answer, written),
            Asked::Compact(answer, None) => Decided::compact(answer),
            Asked::Json(decided) => decided,
        }
    }
}

/// The ceiling an answer implies: `remaining` counts from the count after
/// the request when it is allowed, before it when refused.
fn ceiling(used: u64, requested: u64, records: bool, remaining: Option<u64>) -> Option<u64> {
    let counted = if records {
        used.saturating_add(requested)
    } else {
        used
    };
    remaining.map(|r| counted.saturating_add(r))
}

/// A check that may consume, as the fleet path is given it.
pub(super) struct Asking<'a> {
    pub(super) generation: &'a Arc<Generation>,
    pub(super) fields: &'a Map<String, Value>,
    pub(super) license: Option<&'a str>,
    pub(super) key: Option<(&'a IdempotencyKey, &'a str)>,
    pub(super) envelope: bool,
    pub(super) now: DateTime<Utc>,
}

/// A check of a loaded license on the fleet's store, ready to ask.
pub(super) struct Check<'a> {
    pub(super) generation: &'a Arc<Generation>,
    pub(super) fields: &'a Map<String, Value>,
    pub(super) license: &'a str,
    pub(super) key: Option<(&'a IdempotencyKey, &'a str)>,
    pub(super) envelope: bool,
    pub(super) now: DateTime<Utc>,
    /// `now` to the millisecond, as the module reads it: a soft limit's
    /// crossing the store keeps is the instant the module records.
    pub(super) instant: Timestamp,
    pub(super) compact: Option<Compactable<'a>>,
}

/// What counting a check on the store came to.
pub(super) enum OnStore {
    /// The answer, counted or not.
    Answered(Decided),
    /// The answer, and the lease its request reserved and spent first.
    Leased(Decided, Taken),
    /// The store could not be reached to count a check the module allows
    /// on what this gateway saw.
    Unreachable(Unreachable),
}

/// A check the store could not count: the module's answer on what this
/// gateway saw, and what it would have counted.
pub(super) struct Unreachable {
    asked: Asked,
    quoted: Quoted,
    error: HostError,
}

/// A lease the store reserved for a check, its first units spent by it.
pub(super) struct Taken {
    pub(super) metric: String,
    pub(super) period_start: Timestamp,
    pub(super) period_end: Timestamp,
    pub(super) from: u64,
    pub(super) next: u64,
    pub(super) to: u64,
    /// The soft limit's crossing as it stands after the first request.
    pub(super) soft_exceeded_at: Option<Timestamp>,
}

impl Gateway {
    /// Decides a check that may consume on the fleet's store.
    pub(super) async fn consume_on_fleet(&self, fleet: &Fleet, asking: Asking<'_>) -> Decided {
        let Asking {
            generation,
            fields,
            license,
            key,
            envelope,
            now,
        } = asking;
        let failed = |error: &HostError| self.failed(generation, fields, error);
        let Some(license) = license.filter(|l| generation.licenses.contains_key(*l)) else {
            // No license loaded: nothing is counted, the module says why.
            return match self.decide(generation, fields, &LicenseUsage::default(), now) {
                Ok(decided) => decided,
                Err(error) => failed(&error),
            };
        };
        let millis = now.timestamp_subsec_millis().saturating_mul(1_000_000);
        let Some(instant) = Timestamp::from_parts(now.timestamp(), millis) else {
            return failed(&HostError::Store {
                detail: format!("`{now}` is past the instants a count holds"),
            });
        };
        let compact = self
            .log
            .is_none()
            .then(|| Compactable::of(fields, key.is_some()))
            .flatten()
            .filter(|c| c.kind == CheckKind::Consume);
        let check = Check {
            generation,
            fields,
            license,
            key,
            envelope,
            now,
            instant,
            compact,
        };
        // A leased metric, asked by name and without a key (whose first
        // outcome the store keeps for every gateway), spends a lease.
        let leased = fields
            .get("metric")
            .and_then(Value::as_str)
            .and_then(|metric| {
                let size = fleet.leases().size(metric).filter(|_| key.is_none())?;
                Some((metric, size))
            });
        if let Some((metric, size)) = leased {
            return self.consume_leased(fleet, &check, metric, size).await;
        }
        match self.count_on_store(fleet, &check, None).await {
            OnStore::Answered(decided) | OnStore::Leased(decided, _) => decided,
            OnStore::Unreachable(unreachable) => self.unreachable(fleet, &check, unreachable),
        }
    }

    /// Counts a check on the store, a lease of up to `up_to` units when
    /// given, deciding again on the fleet's count while it moves.
    pub(super) async fn count_on_store(
        &self,
        fleet: &Fleet,
        check: &Check<'_>,
        up_to: Option<u64>,
    ) -> OnStore {
        let Check {
            generation,
            fields,
            license,
            key,
            envelope,
            now,
            instant,
            compact,
        } = *check;
        let failed = |error: &HostError| OnStore::Answered(self.failed(generation, fields, error));
        let mut usage = fleet.usage(license);
        for _ in 0..ROUNDS {
            let asked = match self.ask(generation, compact, fields, &usage, now, envelope) {
                Ok(asked) => asked,
                Err(error) => return failed(&error),
            };
            let Some(mut quoted) = asked.quoted() else {
                return OnStore::Answered(asked.decided());
            };
            // Refused on what this gateway saw: refused on the fleet's
            // count too. A keyed request still asks the store, which may
            // hold its first, counted, outcome.
            if !quoted.records && key.is_none() {
                return OnStore::Answered(asked.decided());
            }
            if let Some(request) = compact {
                quoted.metric = request.name.to_string();
            }
            let decided_on = usage
                .metrics
                .get(&quoted.metric)
                .filter(|count| count.period_start == quoted.period_start);
            let consume = Consume {
                license,
                metric: &quoted.metric,
                period_start: quoted.period_start,
                period_end: quoted.period_end,
                amount: quoted.amount,
                // A refused keyed request must not be counted by the store.
                ceiling: if quoted.records {
                    quoted.ceiling
                } else {
                    Some(0)
                },
                soft_limit: quoted.soft_limit,
                soft_exceeded_at: decided_on.and_then(|c| c.soft_exceeded_at),
                up_to: up_to.map(|n| n.max(quoted.amount)),
                key: key.map(|(key, fingerprint)| (key.value.as_str(), fingerprint)),
                now: instant,
            };
            let consumed = match fleet.consume(&consume).await {
                Ok(consumed) => consumed,
                Err(error) if quoted.records && key.is_none() => {
                    return OnStore::Unreachable(Unreachable {
                        asked,
                        quoted,
                        error,
                    })
                }
                Err(error) => {
                    let metric = &quoted.metric;
                    return OnStore::Answered(store_unreachable(generation, metric, &error));
                }
            };
            let on =
                |counted: Counted| on_count(&usage, &quoted.metric, quoted.period_start, counted);
            let (before, units) = match consumed {
                Consumed::Admitted(before) => (before, None),
                Consumed::Reserved { before, units } => (before, Some(units)),
                Consumed::Refused(count) | Consumed::Stale(count) => {
                    fleet.learn(license, &quoted.metric, quoted.period_start, count);
                    usage = Arc::new(on(count));
                    continue;
                }
                Consumed::Replayed {
                    admitted,
                    before,
                    at,
                } => {
                    let decided = self.replayed_on_fleet(
                        generation,
                        fields,
                        compact,
                        &on(before),
                        (at, now),
                        admitted,
                        envelope,
                    );
                    return OnStore::Answered(decided);
                }
                Consumed::KeyReused => {
                    return match key {
                        Some((key, _)) => OnStore::Answered(reused(generation, key)),
                        None => failed(&HostError::Store {
                            detail: String::from("a key answered for a request without one"),
                        }),
                    }
                }
            };
            let same = decided_on.map_or(Counted::default(), |c| Counted {
                used: c.used,
                soft_exceeded_at: c.soft_exceeded_at,
            }) == before;
            let answer = if same && quoted.records {
                asked
            } else {
                match self.ask(generation, compact, fields, &on(before), now, envelope) {
                    Ok(answer) => answer,
                    Err(error) => return failed(&error),
                }
            };
            let after = answer
                .recorded()
                .filter(|after| after.used == before.used.saturating_add(quoted.amount));
            let Some(after) = after else {
                // Counted by the store on a count the module refuses or
                // records otherwise: the store's count stands, and the
                // disagreement is told.
                tracing::error!(
                    license,
                    metric = %quoted.metric,
                    before = before.used,
                    "the store counted a check the module answers otherwise on its count"
                );
                self.telemetry.compact_disagreements.inc();
                return OnStore::Answered(answer.decided());
            };
            let Some(units) = units else {
                fleet.learn(license, &quoted.metric, quoted.period_start, after);
                return OnStore::Answered(answer.decided());
            };
            let reserved = Counted {
                used: before.used.saturating_add(units),
                soft_exceeded_at: after.soft_exceeded_at,
            };
            fleet.learn(license, &quoted.metric, quoted.period_start, reserved);
            let taken = Taken {
                metric: quoted.metric,
                period_start: quoted.period_start,
                period_end: quoted.period_end,
                from: before.used,
                next: after.used,
                to: reserved.used,
                soft_exceeded_at: after.soft_exceeded_at,
            };
            return OnStore::Leased(answer.decided(), taken);
        }
        failed(&HostError::Store {
            detail: format!("the count moved {ROUNDS} times while the check was decided"),
        })
    }

    /// A check the store could not count, answered as the metric's
    /// `on_store_failure` declares: admitted under `bounded_open` while
    /// what this gateway owes for the license's metric stays within its
    /// units (journaled, counted in the store once it is back); refused at
    /// once otherwise.
    pub(super) fn unreachable(
        &self,
        fleet: &Fleet,
        check: &Check<'_>,
        unreachable: Unreachable,
    ) -> Decided {
        let Unreachable {
            asked,
            quoted,
            error,
        } = unreachable;
        let rule = check.generation.store_failure(&quoted.metric);
        if let (StoreFailureMode::BoundedOpen, Some(bound), Some(after)) =
            (rule.mode, rule.units, asked.recorded())
        {
            let owed = Owed {
                id: String::new(),
                license: check.license.to_string(),
                metric: quoted.metric.clone(),
                period_start: quoted.period_start,
                period_end: quoted.period_end,
                amount: quoted.amount,
                at: check.instant,
            };
            match fleet.leases().owe(owed, bound) {
                Ok(true) => {
                    fleet.learn(check.license, &quoted.metric, quoted.period_start, after);
                    self.telemetry.owed_admissions.inc();
                    return asked.decided();
                }
                Ok(false) => {}
                Err(error) => return self.failed(check.generation, check.fields, &error),
            }
        }
        store_unreachable(check.generation, &quoted.metric, &error)
    }

    /// A keyed request the store has seen: its first answer, decided again
    /// on the count and at the instant it was first decided on, as long as
    /// the license may still use what it asks now (as a replay on the
    /// embedded meter is).
    #[allow(clippy::too_many_arguments)]
    fn replayed_on_fleet(
        &self,
        generation: &Generation,
        fields: &Map<String, Value>,
        compact: Option<Compactable<'_>>,
        before: &LicenseUsage,
        (first, now): (Timestamp, DateTime<Utc>),
        admitted: bool,
        envelope: bool,
    ) -> Decided {
        if admitted {
            match self.decide(generation, fields, &LicenseUsage::default(), now) {
                Ok(current)
                    if !matches!(
                        current.decision(),
                        Some(Decision::Allow | Decision::AllowInGrace)
                    ) =>
                {
                    return current
                }
                Ok(_) => {}
                Err(error) => return self.failed(generation, fields, &error),
            }
        }
        match self.ask(generation, compact, fields, before, first.utc(), envelope) {
            Ok(answer) => answer.decided(),
            Err(error) => self.failed(generation, fields, &error),
        }
    }

    /// The module's answer on `usage` at `now`: the compact check's when
    /// the request has a compact form (with its JSON answer, when an
    /// envelope is sent), the JSON entry's otherwise.
    pub(super) fn ask(
        &self,
        generation: &Generation,
        compact: Option<Compactable<'_>>,
        fields: &Map<String, Value>,
        usage: &LicenseUsage,
        now: DateTime<Utc>,
        envelope: bool,
    ) -> Result<Asked, HostError> {
        if let Some(request) = compact {
            match self.compact(generation, &request, usage, now, envelope)? {
                Some((answer, written)) if written.is_some() || !envelope => {
                    return Ok(Asked::Compact(answer, written))
                }
                _ => {}
            }
        }
        self.decide(generation, fields, usage, now).map(Asked::Json)
    }
}

/// `usage` with the metric's count replaced by the store's.
pub(super) fn on_count(
    usage: &LicenseUsage,
    metric: &str,
    period_start: Timestamp,
    counted: Counted,
) -> LicenseUsage {
    let mut usage = usage.clone();
    usage.metrics.insert(
        metric.to_string(),
        Count {
            used: counted.used,
            soft_exceeded_at: counted.soft_exceeded_at,
            period_start,
        },
    );
    usage
}
