//! Decisions through the module's compact check: a feature or a metric of a
//! loaded license, asked with the meter's count, answered in a fixed-size
//! record with no JSON read. It decides and meters; for `/v1/check` the same
//! call (`entitle_compact_check_json`) also writes the full JSON answer from
//! the record, the bytes the JSON entry writes for the same request. A
//! module without that export answers the full answer through the JSON
//! entry, on the same count at the same instant, after the license's turn.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use entitle_core::{CheckKind, CompactAnswer, CompactAsk, Timestamp};
use serde_json::{Map, Value};

use super::Gateway;
use crate::error::HostError;
use crate::gateway::answer::Decided;
use crate::gateway::generation::Generation;
use crate::gateway::meter::LicenseUsage;

/// A request the compact check can ask: a feature check
/// (`{license, feature}`) or a consuming check (`{license, metric,
/// amount}`), with nothing else in it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Compactable<'a> {
    pub(super) license: &'a str,
    pub(super) name: &'a str,
    pub(super) kind: CheckKind,
    pub(super) amount: u64,
}

impl<'a> Compactable<'a> {
    /// The compact form of a request, if it has one. Any other field, an
    /// amount that is not a whole number, or an idempotency key (whose
    /// first answer is kept in full) sends the request the JSON way, which
    /// also answers every error.
    pub(super) fn of(fields: &'a Map<String, Value>, keyed: bool) -> Option<Compactable<'a>> {
        let text = |name: &str| fields.get(name).and_then(Value::as_str);
        let license = text("license")?;
        match fields.len() {
            2 => Some(Compactable {
                license,
                name: text("feature")?,
                kind: CheckKind::Feature,
                amount: 0,
            }),
            3 if !keyed => Some(Compactable {
                license,
                name: text("metric")?,
                kind: CheckKind::Consume,
                amount: fields.get("amount").and_then(Value::as_u64)?,
            }),
            _ => None,
        }
    }

    /// The ask on the license's latest count at `now` (to the millisecond,
    /// as the JSON request writes it); `None` for an instant outside the
    /// years an instant may lie in.
    fn ask(&self, usage: &LicenseUsage, now: DateTime<Utc>) -> Option<CompactAsk> {
        let count = usage.metrics.get(self.name);
        Some(CompactAsk {
            amount: self.amount,
            used: count.map_or(0, |c| c.used),
            soft_exceeded_at: count.and_then(|c| c.soft_exceeded_at),
            period_start: count.map(|c| c.period_start),
            now: Timestamp::from_parts(
                now.timestamp(),
                now.timestamp_subsec_millis().saturating_mul(1_000_000),
            )?,
        })
    }
}

/// A consuming check the compact check decided (and, when it allowed,
/// staged): what its full answer is made from, if the client is sent one.
pub(super) struct Deferred {
    pub(super) generation: Arc<Generation>,
    /// The version of the counts it was decided on.
    pub(super) version: u64,
    pub(super) now: DateTime<Utc>,
    pub(super) answer: CompactAnswer,
    pub(super) full: Full,
    pub(super) cache_key: String,
}

/// Where the full answer of a compactly decided check comes from. Only a
/// check that must decide again keeps the counts it was decided on: one
/// kept past its turn makes the next record copy the license's counts.
pub(super) enum Full {
    /// The JSON answer the module wrote with the compact one.
    Written(String),
    /// The JSON entry decides it again, on these counts at the same
    /// instant (a module without `entitle_compact_check_json`).
    OnCounts(Arc<LicenseUsage>),
    /// The client is sent the compact answer only.
    NotSent,
}

impl Gateway {
    /// A compact check of `request` on `usage`, with the JSON envelope of
    /// the same check when `json` asks for it (and the module writes it);
    /// `None` when the JSON entry must answer it.
    pub(super) fn compact(
        &self,
        generation: &Generation,
        request: &Compactable<'_>,
        usage: &LicenseUsage,
        now: DateTime<Utc>,
        json: bool,
    ) -> Result<Option<(CompactAnswer, Option<String>)>, HostError> {
        let Some(ask) = request.ask(usage, now) else {
            return Ok(None);
        };
        let answer =
            generation.compact_with(request.license, request.name, request.kind, &ask, json)?;
        if answer.is_some() {
            self.telemetry.compact_checks.inc();
        }
        Ok(answer)
    }

    /// The full answer of a check the compact check decided: the JSON
    /// answer to the same request on the same count at the same instant,
    /// which the compact one is the projection of. Should they ever
    /// disagree, what was metered stands and the disagreement is logged and
    /// counted (`entitle_compact_disagreements_total`).
    pub(super) fn full_answer(&self, fields: &Map<String, Value>, deferred: Deferred) -> Decided {
        let Deferred {
            generation,
            version,
            now,
            answer,
            full,
            cache_key,
        } = deferred;
        let usage = match full {
            // The module wrote the JSON answer from the compact one: the
            // same bytes as the JSON entry's for the same request (held so
            // by `tests/tests/compact_json.rs` and `core/tests/compact_props.rs`).
            Full::Written(envelope) => {
                let full = Decided::compact_with(answer, envelope);
                if answer.record.is_none() {
                    self.remember(cache_key, generation.id, version, &full);
                }
                return full;
            }
            Full::NotSent => return Decided::compact(answer),
            Full::OnCounts(usage) => usage,
        };
        let full = match self.decide(&generation, fields, &usage, now) {
            Ok(full) => full,
            Err(error) => return self.failed(&generation, fields, &error),
        };
        let agrees = full.decision() == Some(answer.decision)
            && full.record().map(|r| r.used) == answer.record.map(|r| r.used);
        if !agrees {
            let request = Value::Object(fields.clone()).to_string();
            tracing::error!(
                %request,
                answer = %full.envelope,
                "the compact and the JSON answers disagree"
            );
            self.telemetry.compact_disagreements.inc();
        }
        if answer.record.is_none() {
            self.remember(cache_key, generation.id, version, &full);
        }
        full
    }
}
