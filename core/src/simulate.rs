//! The `simulate` operation: a scenario replayed through time under a
//! bundle, listing in order every change of a watched decision, refused
//! usage, contract change, and each case's clock states, escalations and
//! messages due, with their instants. `diff` replays one scenario under two
//! bundles and lists where the timelines differ.

mod cases;
mod diff;
mod findings;
pub mod scenario;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::compliance::scan::Detector;
use crate::entitlement::check::{self, Ask};
use crate::entitlement::reason::{Decision, Reason};
use crate::error::{Error, JsonPath};
use crate::metering::meter;
use crate::model::bundle::Bundle;
use crate::model::ids::{CaseId, CategoryId, FeatureId, PhaseId, RoleId, SeverityId};
use crate::model::license::{License, LicenseStatus, MetricUsage};
use crate::model::order;
use crate::model::time::{Date, Timestamp};
use crate::simulate::scenario::{Scenario, ScenarioEvent};
use crate::support::case::Case;
use crate::support::policy::{ClockKind, TemplateKind};
use crate::support::sla::ClockState;

pub use diff::{diff, Diff, Difference};

/// The most instants a replay evaluates before it gives up: a scenario
/// whose decisions change more often than this is refused, not walked.
const MAX_STEPS: usize = 1_000_000;

/// The answer of `simulate`.
#[derive(Debug, Clone, Serialize)]
pub struct Simulation {
    /// The scenario's name.
    pub scenario: String,
    /// The window replayed, `[from, until)`.
    pub from: Timestamp,
    /// See `from`.
    pub until: Timestamp,
    /// Everything that changed, in time order.
    pub timeline: Vec<Entry>,
}

/// One change, at its instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// When.
    pub at: Timestamp,
    /// What.
    #[serde(flatten)]
    pub what: What,
}

/// A watched check.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Subject {
    /// `check` of a feature.
    Feature(FeatureId),
    /// `check` of one more unit of a metric.
    Metric(FeatureId),
}

/// The kinds of change a timeline lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum What {
    /// A watched check's decision or reason changed (or was first taken).
    Decision {
        /// The check.
        subject: Subject,
        /// Its decision from then on.
        decision: Decision,
        /// Its reason from then on.
        reason: Reason,
    },
    /// A usage event was refused, so not counted.
    UsageRefused {
        /// The metric.
        metric: FeatureId,
        /// The units refused.
        amount: u64,
        /// Why.
        reason: Reason,
    },
    /// The license's status changed.
    Contract {
        /// The status from then on.
        status: LicenseStatus,
    },
    /// A case's SLA clock changed state.
    Clock {
        /// The case.
        case: CaseId,
        /// Its cycle.
        cycle: u32,
        /// The clock.
        clock: ClockKind,
        /// Its state from then on.
        state: ClockState,
    },
    /// A case's phase reached its target time.
    PhaseOverdue {
        /// The case.
        case: CaseId,
        /// Its cycle.
        cycle: u32,
        /// The phase.
        phase: PhaseId,
    },
    /// A case entered an escalation level.
    Escalation {
        /// The case.
        case: CaseId,
        /// Its cycle.
        cycle: u32,
        /// The level.
        level: usize,
        /// The level's role.
        role: RoleId,
    },
    /// The top escalation level was repeated.
    EscalationRepeat {
        /// The case.
        case: CaseId,
        /// Its cycle.
        cycle: u32,
        /// Which repeat, from 1.
        repeat: usize,
    },
    /// A compliance finding appeared, or its severity changed.
    Finding {
        /// The detector.
        detector: Detector,
        /// What it is about.
        subject: String,
        /// Its severity.
        severity: SeverityId,
        /// The escalation category it goes to.
        queue: CategoryId,
        /// That category's owner.
        owner: Option<RoleId>,
    },
    /// A compliance finding no longer holds.
    FindingCleared {
        /// The detector.
        detector: Detector,
        /// What it was about.
        subject: String,
    },
    /// A message to the customer became due.
    TemplateDue {
        /// The case.
        case: CaseId,
        /// The message.
        template: TemplateKind,
    },
}

/// Replays a checked scenario under a bundle for a license.
pub fn simulate(
    bundle: &Bundle,
    license: &License,
    scenario: &Scenario,
) -> Result<Simulation, Vec<Error>> {
    let mut license = license.clone();
    let mut usage = scenario.usage.clone();
    let mut timeline: Vec<Entry> = Vec::new();
    let mut last: BTreeMap<Subject, (Decision, Reason)> = BTreeMap::new();
    let mut opened: Vec<&Case> = Vec::new();
    let mut observed = findings::Observed::default();
    let scans = bundle.compliance.is_some();
    let events = &scenario.events;
    // An error of a check the replay makes names the input that caused it:
    // the event's fields, or the watched feature or metric's.
    let scenario_at = JsonPath::root().key("scenario");
    let origin_of = |amount: JsonPath, now: JsonPath| check::Origin {
        now,
        amount,
        usage: scenario_at.key("usage"),
    };
    let watch_at = scenario_at.key("watch");
    let watched: Vec<check::Origin> = (0..scenario.watch.features.len())
        .map(|i| watch_at.key("features").index(i))
        .chain((0..scenario.watch.metrics.len()).map(|i| watch_at.key("metrics").index(i)))
        .map(|amount| origin_of(amount, scenario_at.key("until")))
        .collect();
    // Each watched check's `valid_until` at its last evaluation: until then,
    // and while no event comes, the same documents give it the same answer,
    // so it is not asked again (a daily look at findings costs no checks).
    let mut holds: BTreeMap<Subject, Option<Timestamp>> = BTreeMap::new();
    let mut next_event = 0;
    let mut t = scenario.from;
    for _ in 0..MAX_STEPS {
        let before = next_event;
        while let Some(event) = events.get(next_event).filter(|e| e.at() <= t) {
            let index = next_event;
            next_event += 1;
            match event {
                ScenarioEvent::Usage { at, metric, amount } => {
                    let now = meter::current(bundle, &license, usage.clone(), *at);
                    let ask = Ask::Consume {
                        metric: metric.clone(),
                        amount: *amount,
                    };
                    let event_at = scenario_at.key("events").index(index);
                    let origin = origin_of(event_at.key("amount"), event_at.key("at"));
                    let answer = check::check_at(bundle, &license, &now, &ask, *at, &origin)
                        .map_err(|e| vec![e])?;
                    match answer.record {
                        Some(record) => {
                            let day = Date(license.time_zone.local(*at).date());
                            *observed.usage.entry((metric.clone(), day)).or_default() += amount;
                            usage.metrics.insert(
                                record.metric.clone(),
                                MetricUsage {
                                    used: record.used,
                                    soft_exceeded_at: record.soft_exceeded_at,
                                    period_start: Some(record.period.start),
                                    history: Vec::new(),
                                },
                            );
                        }
                        None => timeline.push(Entry {
                            at: *at,
                            what: What::UsageRefused {
                                metric: metric.clone(),
                                amount: *amount,
                                reason: answer.reason,
                            },
                        }),
                    }
                }
                ScenarioEvent::Seats { active, .. } => usage.active_seats = *active,
                ScenarioEvent::Installation {
                    at,
                    installation,
                    last_seen,
                } => observed
                    .installations
                    .push((installation.clone(), *at, *last_seen)),
                ScenarioEvent::Deployment { installation, .. } => {
                    observed.declared.push(installation.clone());
                }
                ScenarioEvent::Contract { at, status } => {
                    observed.contract.push((*at, *status));
                    license.status = *status;
                    timeline.push(Entry {
                        at: *at,
                        what: What::Contract { status: *status },
                    });
                }
                ScenarioEvent::Case { case } => opened.push(case),
            }
        }
        let mut next = events.get(next_event).map(ScenarioEvent::at);
        let subjects = scenario
            .watch
            .features
            .iter()
            .map(|f| Subject::Feature(f.clone()))
            .chain(
                scenario
                    .watch
                    .metrics
                    .iter()
                    .map(|m| Subject::Metric(m.clone())),
            );
        let unchanged = next_event == before;
        let mut now = None;
        for (subject, origin) in subjects.zip(&watched) {
            let held = match holds.get(&subject) {
                Some(None) => true,
                Some(Some(until)) => t < *until,
                None => false,
            };
            if unchanged && held {
                if let Some(Some(until)) = holds.get(&subject) {
                    next = Some(next.map_or(*until, |n| n.min(*until)));
                }
                continue;
            }
            let now = now.get_or_insert_with(|| meter::current(bundle, &license, usage.clone(), t));
            let ask = match &subject {
                Subject::Feature(f) => Ask::Feature(f.clone()),
                Subject::Metric(m) => Ask::Consume {
                    metric: m.clone(),
                    amount: 1,
                },
            };
            let answer =
                check::check_at(bundle, &license, now, &ask, t, origin).map_err(|e| vec![e])?;
            holds.insert(subject.clone(), answer.valid_until);
            let decided = (answer.decision, answer.reason);
            if last.get(&subject) != Some(&decided) {
                timeline.push(Entry {
                    at: t,
                    what: What::Decision {
                        subject: subject.clone(),
                        decision: decided.0,
                        reason: decided.1,
                    },
                });
                last.insert(subject, decided);
            }
            if let Some(until) = answer.valid_until.filter(|v| *v > t) {
                next = Some(next.map_or(until, |n| n.min(until)));
            }
        }
        if scans {
            timeline.extend(observed.evaluate(bundle, &license, t)?);
            // Findings also change with the passing of days (an installation
            // seen long enough, a grace after termination): look each local
            // midnight.
            let zone = license.time_zone;
            let midnight = zone
                .local(t)
                .date()
                .succ_opt()
                .and_then(|d| zone.start_of(d));
            if let Some(m) = midnight {
                next = Some(next.map_or(m, |n| n.min(m)));
            }
        }
        match next {
            Some(n) if n < scenario.until => t = n,
            _ => {
                for case in opened {
                    timeline.extend(cases::timeline(bundle, &license, case, scenario.until)?);
                }
                // A stable sort: at one instant, entries keep the order
                // they were found in (decisions, then each case's).
                order::sort_by_key(&mut timeline, |e| e.at);
                return Ok(Simulation {
                    scenario: scenario.scenario.clone(),
                    from: scenario.from,
                    until: scenario.until,
                    timeline,
                });
            }
        }
    }
    Err(vec![Error::OutOfRange {
        path: JsonPath::root().key("scenario"),
        detail: format!("the scenario needs more than {MAX_STEPS} evaluations to replay"),
    }])
}
