//! The four detectors of a compliance scan, each turning the inventory into
//! raw findings with their evidence and remediation options. Every
//! comparison with a threshold is exact: integers, or decimals multiplied
//! out, never divided.

use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::Value;

use super::{Detector, Evidence, Raw};
use crate::compliance::inventory::{EventKind, Installation, Inventory};
use crate::compliance::policy::{AfterTermination, OverDeployment, Spike, Undeclared};
use crate::compliance::remediation::{self, Action, Choice};
use crate::error::{Error, JsonPath};
use crate::model::bundle::Bundle;
use crate::model::ids::{FeatureId, InstallationId};
use crate::model::license::{License, LicenseStatus};
use crate::model::money::{exact_mul, Price};
use crate::model::order;
use crate::model::time::{Date, Timestamp};

/// What a detector measured.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Measure {
    /// The latest day against the baseline.
    Spike {
        /// The metric.
        metric: FeatureId,
        /// The latest day.
        date: Date,
        /// Its units.
        latest: u64,
        /// Days in the baseline.
        window_days: u32,
        /// Units over the baseline's days (a missing day counts as zero).
        baseline_total: u64,
        /// Baseline days with no point.
        missing_days: u32,
        /// The bundle's factor.
        factor: Price,
    },
    /// Installations against seats.
    OverDeployment {
        /// Seats bought.
        seats: u64,
        /// Installations seen.
        installations: u64,
        /// Installations past the seats.
        over: u64,
        /// The bundle's threshold.
        threshold_percent: u32,
    },
    /// An undeclared installation.
    Undeclared {
        /// The installation.
        installation: InstallationId,
        /// Whole days between first and last seen.
        days_seen: i64,
    },
    /// Use after the end.
    AfterTermination {
        /// `expired`, `terminated` or `suspended`.
        reason: &'static str,
        /// When the license ended or was suspended.
        ended_at: Timestamp,
        /// When a suspension was lifted.
        #[serde(skip_serializing_if = "Option::is_none")]
        until: Option<Timestamp>,
        /// The latest use seen after it.
        last_use: Timestamp,
        /// Whole days from `ended_at` to `last_use`.
        days_after: i64,
    },
}

/// What every detector reads.
pub(crate) struct Ctx<'a> {
    pub bundle: &'a Bundle,
    pub inventory: &'a Inventory,
    pub now: Timestamp,
}

const DAY: i64 = 86_400;

fn record<T: Serialize>(path: JsonPath, value: &T) -> Evidence {
    Evidence {
        path,
        record: serde_json::to_value(value).unwrap_or(Value::Null),
    }
}

fn installation_path(i: usize) -> JsonPath {
    JsonPath::root()
        .key("telemetry")
        .key("installations")
        .index(i)
}

fn installations_of<'a>(
    ctx: &'a Ctx<'_>,
    license: &'a License,
) -> impl Iterator<Item = (usize, &'a Installation)> + 'a {
    ctx.inventory
        .telemetry
        .installations
        .iter()
        .enumerate()
        .filter(move |(_, i)| i.license == license.license)
}

fn days(from: Timestamp, to: Timestamp) -> i64 {
    to.seconds_since(from) / DAY
}

/// `n` days after `at`, or `None` after 9999-12-31T23:59:59Z.
fn plus_days(at: Timestamp, n: u32) -> Option<Timestamp> {
    at.plus_seconds(i64::from(n).saturating_mul(DAY))
}

/// The latest day of each series against the mean of the `window_days`
/// days before it (a day without a point counts as zero units).
pub(crate) fn spike<'a>(ctx: &Ctx<'a>, spike: &'a Spike) -> Result<Vec<Raw<'a>>, Error> {
    let mut raws = Vec::new();
    let window = i64::from(spike.window_days);
    for (i, series) in ctx.inventory.telemetry.usage.iter().enumerate() {
        let Some((last, latest)) = series.points.iter().enumerate().next_back() else {
            continue;
        };
        let first_day = latest.date.0 - chrono::Duration::days(window);
        let at = JsonPath::root().key("telemetry").key("usage").index(i);
        let mut evidence = Vec::new();
        let mut total: u128 = 0;
        let mut present: u32 = 0;
        for (j, p) in series.points.iter().enumerate() {
            if p.date.0 >= first_day && p.date.0 < latest.date.0 {
                total = total.saturating_add(u128::from(p.value));
                present = present.saturating_add(1);
                evidence.push((record(at.key("points").index(j), p), "usage_export"));
            }
        }
        if total == 0 {
            continue;
        }
        let lhs = Decimal::from(latest.value).checked_mul(Decimal::from(window));
        let total_dec =
            Decimal::from_i128_with_scale(i128::try_from(total).unwrap_or(i128::MAX), 0);
        let reaches = move |bar: Decimal| match (lhs, exact_mul(bar, total_dec)) {
            (Some(l), Some(r)) => l >= r,
            _ => false,
        };
        if !reaches(spike.factor.value()) {
            continue;
        }
        evidence.push((record(at.key("points").index(last), latest), "usage_export"));
        let total = u64::try_from(total).unwrap_or(u64::MAX);
        let window_u = u64::from(spike.window_days);
        let cap = total.div_ceil(window_u);
        // The downgrade's end is written in the answer: past 9999 it is `now`
        // that pushed it there.
        let until = plus_days(ctx.now, spike.window_days).ok_or_else(|| Error::OutOfRange {
            path: JsonPath::root().key("now"),
            detail: format!(
                "a downgrade of {} days from `{}` ends after `9999-12-31T23:59:59Z`, the last instant the engine writes",
                spike.window_days, ctx.now
            ),
        })?;
        let mut options = vec![Choice {
            action: Action::TemporaryDowngrade {
                metric: series.metric.clone(),
                cap_per_day: cap,
                until,
            },
            cost: remediation::free(ctx.bundle),
            resolves: true,
        }];
        options.push(remediation::units_true_up(
            ctx.bundle,
            &series.metric,
            latest.value.saturating_sub(cap),
        )?);
        raws.push(Raw {
            detector: Detector::Spike,
            license: series.license.clone(),
            subject: series.metric.to_string(),
            route: spike.route(),
            reaches: Box::new(move |s| reaches(s.at_least.value())),
            measure: Measure::Spike {
                metric: series.metric.clone(),
                date: latest.date,
                latest: latest.value,
                window_days: spike.window_days,
                baseline_total: total,
                missing_days: spike.window_days.saturating_sub(present),
                factor: spike.factor,
            },
            evidence,
            options,
            seats_affected: 0,
        });
    }
    Ok(raws)
}

/// Whether a license could give seats away at `now`: active, in its term,
/// not terminated.
fn in_force(ctx: &Ctx<'_>, license: &License) -> bool {
    license.status == LicenseStatus::Active
        && license.term.start <= ctx.now
        && ctx.now < license.term.end
        && !ctx.inventory.events.iter().any(|e| {
            e.license == license.license && e.kind == EventKind::Termination && e.at <= ctx.now
        })
}

/// Licenses with more installations than seats by at least the threshold.
pub(crate) fn over_deployment<'a>(
    ctx: &Ctx<'a>,
    over: &'a OverDeployment,
) -> Result<Vec<Raw<'a>>, Error> {
    let mut raws = Vec::new();
    for (k, license) in ctx.inventory.licenses.iter().enumerate() {
        let seen: Vec<_> = installations_of(ctx, license).collect();
        let count = u64::try_from(seen.len()).unwrap_or(u64::MAX);
        let excess = count.saturating_sub(license.seats);
        let seats = Decimal::from(license.seats);
        let hundred_over = Decimal::from(excess).checked_mul(Decimal::ONE_HUNDRED);
        let reaches = move |bar: Decimal| {
            excess > 0
                && match (hundred_over, exact_mul(bar, seats)) {
                    (Some(l), Some(r)) => l >= r,
                    _ => false,
                }
        };
        if !reaches(Decimal::from(over.threshold_percent)) {
            continue;
        }
        let mut evidence = vec![(
            record(
                JsonPath::root().key("licenses").index(k).key("seats"),
                &license.seats,
            ),
            "contract_terms",
        )];
        evidence.extend(
            seen.iter()
                .map(|(i, inst)| (record(installation_path(*i), inst), "activation_records")),
        );
        let mut options = Vec::new();
        for donor in &ctx.inventory.licenses {
            if donor.license == license.license
                || donor.customer != license.customer
                || donor.tier != license.tier
                || !in_force(ctx, donor)
            {
                continue;
            }
            let used = u64::try_from(installations_of(ctx, donor).count()).unwrap_or(u64::MAX);
            let unused = donor.seats.saturating_sub(used);
            if unused > 0 {
                options.push(Choice {
                    action: Action::Reallocate {
                        from_license: donor.license.clone(),
                        seats: unused.min(excess),
                    },
                    cost: remediation::free(ctx.bundle),
                    resolves: unused >= excess,
                });
            }
        }
        let mut newest: Vec<&Installation> = seen.iter().map(|(_, inst)| *inst).collect();
        order::sort_by(&mut newest, |a, b| {
            b.first_seen.cmp(&a.first_seen).then(b.id.cmp(&a.id))
        });
        let take = usize::try_from(excess).unwrap_or(usize::MAX);
        options.push(Choice {
            action: Action::Uninstall {
                installations: newest.iter().take(take).map(|i| i.id.clone()).collect(),
            },
            cost: remediation::free(ctx.bundle),
            resolves: true,
        });
        options.extend(remediation::seat_true_up(
            ctx.bundle,
            &license.tier,
            excess,
        )?);
        raws.push(Raw {
            detector: Detector::OverDeployment,
            license: license.license.clone(),
            subject: license.license.to_string(),
            route: over.route(),
            reaches: Box::new(move |s| reaches(s.at_least.value())),
            measure: Measure::OverDeployment {
                seats: license.seats,
                installations: count,
                over: excess,
                threshold_percent: over.threshold_percent,
            },
            evidence,
            options,
            seats_affected: excess,
        });
    }
    Ok(raws)
}

/// Installations telemetry saw that no deployment declares under their license.
pub(crate) fn undeclared<'a>(
    ctx: &Ctx<'a>,
    undeclared: &'a Undeclared,
) -> Result<Vec<Raw<'a>>, Error> {
    let mut raws = Vec::new();
    // One lookup per installation, not a pass over every declaration.
    // Inserted one by one: collecting sorts first, a copy of the sort in
    // the module for this type alone.
    let mut declared = std::collections::BTreeSet::new();
    for d in &ctx.inventory.deployments {
        declared.insert((&d.installation, &d.license));
    }
    for (i, inst) in ctx.inventory.telemetry.installations.iter().enumerate() {
        let declared = declared.contains(&(&inst.id, &inst.license));
        let days_seen = days(inst.first_seen, inst.last_seen);
        let reaches = move |bar: Decimal| Decimal::from(days_seen) >= bar;
        if declared || !reaches(Decimal::from(undeclared.min_days_seen)) {
            continue;
        }
        let Some(license) = ctx
            .inventory
            .licenses
            .iter()
            .find(|l| l.license == inst.license)
        else {
            continue;
        };
        let count = u64::try_from(installations_of(ctx, license).count()).unwrap_or(u64::MAX);
        let mut options = vec![Choice {
            action: Action::Uninstall {
                installations: vec![inst.id.clone()],
            },
            cost: remediation::free(ctx.bundle),
            resolves: true,
        }];
        let needed = u64::from(count > license.seats);
        options.extend(remediation::seat_true_up(
            ctx.bundle,
            &license.tier,
            needed,
        )?);
        raws.push(Raw {
            detector: Detector::Undeclared,
            license: inst.license.clone(),
            subject: inst.id.to_string(),
            route: undeclared.route(),
            reaches: Box::new(move |s| reaches(s.at_least.value())),
            measure: Measure::Undeclared {
                installation: inst.id.clone(),
                days_seen,
            },
            evidence: vec![(record(installation_path(i), inst), "activation_records")],
            options,
            seats_affected: 1,
        });
    }
    Ok(raws)
}

/// One span a license must not be used in: from `ended_at` (plus grace)
/// to `until` (open when absent).
struct Span {
    subject: String,
    reason: &'static str,
    ended_at: Timestamp,
    until: Option<Timestamp>,
    source: Evidence,
}

fn spans(ctx: &Ctx<'_>, k: usize, license: &License) -> Vec<Span> {
    let mut spans = Vec::new();
    let events = ctx
        .inventory
        .events
        .iter()
        .enumerate()
        .filter(|(_, e)| e.license == license.license);
    let termination = events
        .clone()
        .filter(|(_, e)| e.kind == EventKind::Termination)
        .min_by_key(|(_, e)| e.at);
    match termination {
        Some((e, event)) if event.at < license.term.end => spans.push(Span {
            subject: "terminated".into(),
            reason: "terminated",
            ended_at: event.at,
            until: None,
            source: record(JsonPath::root().key("events").index(e), event),
        }),
        _ => spans.push(Span {
            subject: "expired".into(),
            reason: "expired",
            ended_at: license.term.end,
            until: None,
            source: record(
                JsonPath::root().key("licenses").index(k).key("term"),
                &license.term,
            ),
        }),
    }
    for (e, event) in events.filter(|(_, e)| e.kind == EventKind::Suspension) {
        spans.push(Span {
            subject: format!("suspended-{e}"),
            reason: "suspended",
            ended_at: event.at,
            until: event.until,
            source: record(JsonPath::root().key("events").index(e), event),
        });
    }
    spans
}

/// Use after a license's term ended or it was terminated, or while it was
/// suspended, past the grace days.
pub(crate) fn after_termination<'a>(
    ctx: &Ctx<'a>,
    after: &'a AfterTermination,
) -> Result<Vec<Raw<'a>>, Error> {
    let mut raws = Vec::new();
    for (k, license) in ctx.inventory.licenses.iter().enumerate() {
        for span in spans(ctx, k, license) {
            // A grace ending after 9999 leaves no use past it to find.
            let Some(from) = plus_days(span.ended_at, after.grace_days) else {
                continue;
            };
            let before_until = |t: Timestamp| span.until.is_none_or(|u| t < u);
            let mut evidence = vec![(span.source, "contract_terms")];
            let mut last_use: Option<Timestamp> = None;
            let mut installed = Vec::new();
            for (i, inst) in installations_of(ctx, license) {
                if inst.last_seen >= from && before_until(inst.first_seen) {
                    let used = span.until.map_or(inst.last_seen, |u| inst.last_seen.min(u));
                    last_use = last_use.max(Some(used));
                    installed.push(inst.id.clone());
                    evidence.push((record(installation_path(i), inst), "activation_records"));
                }
            }
            for (s, series) in ctx.inventory.telemetry.usage.iter().enumerate() {
                if series.license != license.license {
                    continue;
                }
                for (j, p) in series.points.iter().enumerate() {
                    let Some(day) = license.time_zone.start_of(p.date.0) else {
                        continue;
                    };
                    if p.value > 0 && day >= from && before_until(day) {
                        last_use = last_use.max(Some(day));
                        let path = JsonPath::root()
                            .key("telemetry")
                            .key("usage")
                            .index(s)
                            .key("points")
                            .index(j);
                        evidence.push((record(path, p), "usage_export"));
                    }
                }
            }
            let Some(last_use) = last_use else { continue };
            let days_after = days(span.ended_at, last_use);
            let mut options = Vec::new();
            let seats_affected = u64::try_from(installed.len()).unwrap_or(u64::MAX);
            if !installed.is_empty() {
                options.push(Choice {
                    action: Action::Uninstall {
                        installations: installed,
                    },
                    cost: remediation::free(ctx.bundle),
                    resolves: true,
                });
            }
            options.extend(remediation::seat_true_up(
                ctx.bundle,
                &license.tier,
                license.seats,
            )?);
            raws.push(Raw {
                detector: Detector::AfterTermination,
                license: license.license.clone(),
                subject: span.subject,
                route: after.route(),
                reaches: Box::new(move |s| Decimal::from(days_after) >= s.at_least.value()),
                measure: Measure::AfterTermination {
                    reason: span.reason,
                    ended_at: span.ended_at,
                    until: span.until,
                    last_use,
                    days_after,
                },
                evidence,
                options,
                seats_affected,
            });
        }
    }
    Ok(raws)
}
