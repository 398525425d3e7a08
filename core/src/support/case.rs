//! The case document an `escalate` request carries: what it is about, its
//! impact, the evidence at hand and its events, checked in order so that a
//! replay of them never meets an impossible step.

use serde::de::value::MapAccessDeserializer;
use serde::de::{self, Deserializer, MapAccess};
use serde::Deserialize;

use crate::error::{Conflict, Error, JsonPath, RefKind};
use crate::model::ids::{CaseId, CategoryId, EvidenceId, PhaseId, RoleId, SeverityId, SignalId};
use crate::model::money::Price;
use crate::model::time::{Timestamp, Zone};
use crate::reading::strict::{self, Tagged};
use crate::support::policy::{Category, ReopenRule, Support};

/// A support case.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// The case's id.
    pub case: CaseId,
    /// Its category in the escalation matrix.
    pub category: CategoryId,
    /// When it was opened: the start of its first cycle.
    pub opened_at: Timestamp,
    /// The bundle version the case was opened under.
    pub bundle_version: String,
    /// The customer's zone, for quiet hours and local due times.
    #[serde(default)]
    pub customer_time_zone: Option<Zone>,
    /// What the problem does to the customer; sets the severity.
    #[serde(default)]
    pub impact: Impact,
    /// Evidence provided when the case was opened.
    #[serde(default)]
    pub evidence: Vec<EvidenceId>,
    /// What happened since, in time order.
    #[serde(default)]
    pub events: Vec<Event>,
}

/// A case's impact, as the severity rules read it.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Impact {
    /// The customer cannot use what they pay for.
    #[serde(default)]
    pub access_blocked: bool,
    /// How many seats are affected.
    #[serde(default)]
    pub seats_affected: u32,
    /// Revenue at risk, in the bundle's currency.
    #[serde(default)]
    pub revenue_at_risk: Option<Price>,
    /// The problem exposes the customer or vendor to a regulator.
    #[serde(default)]
    pub regulatory_exposure: bool,
}

/// One thing that happened on a case.
// Read by hand (below) as `#[serde(tag = "type")]` reads it, without
// serde's buffering (`strict::tagged`); the attributes describe it to the
// schema. A plain comment, so the schemas keep their description.
#[derive(Debug, Clone)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(
    feature = "schema",
    serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)
)]
pub enum Event {
    /// The vendor answered the customer: a first response, an update, or
    /// after resolution the resolution notice.
    AgentReply {
        /// When.
        at: Timestamp,
    },
    /// The customer wrote; ends a wait on them.
    CustomerReply {
        /// When.
        at: Timestamp,
    },
    /// The case waits on the customer: clocks pause.
    WaitingOnCustomer {
        /// When.
        at: Timestamp,
    },
    /// Clocks resume without a customer reply.
    Resumed {
        /// When.
        at: Timestamp,
    },
    /// The case moved to a phase of its category.
    PhaseEntered {
        /// When.
        at: Timestamp,
        /// The phase.
        phase: PhaseId,
    },
    /// Evidence arrived.
    EvidenceReceived {
        /// When.
        at: Timestamp,
        /// What arrived.
        evidence: EvidenceId,
    },
    /// Someone raised a risk (legal threat, churn, press).
    RiskSignal {
        /// When.
        at: Timestamp,
        /// Which signal.
        signal: SignalId,
    },
    /// Someone escalated the case by hand to a level.
    Escalated {
        /// When.
        at: Timestamp,
        /// Who.
        by: RoleId,
        /// The level, from 1.
        level: u32,
    },
    /// A permitted role rerouted the case or set its severity.
    Override {
        /// When.
        at: Timestamp,
        /// Who.
        by: RoleId,
        /// The new owner.
        #[cfg_attr(feature = "schema", serde(default))]
        owner: Option<RoleId>,
        /// The new severity.
        #[cfg_attr(feature = "schema", serde(default))]
        severity: Option<SeverityId>,
    },
    /// A permitted role held escalation until an instant.
    EscalationPaused {
        /// When.
        at: Timestamp,
        /// Who.
        by: RoleId,
        /// Until when.
        until: Timestamp,
    },
    /// The case was resolved: every clock stops.
    Resolved {
        /// When.
        at: Timestamp,
    },
    /// The resolved case was reopened.
    Reopened {
        /// When.
        at: Timestamp,
    },
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        strict::tagged(deserializer)
    }
}

impl<'de> Tagged<'de> for Event {
    const TAG: &'static str = "type";
    const EXPECTING: &'static str = "internally tagged enum Event";
    const VARIANTS: &'static [&'static str] = &[
        "agent_reply",
        "customer_reply",
        "waiting_on_customer",
        "resumed",
        "phase_entered",
        "evidence_received",
        "risk_signal",
        "escalated",
        "override",
        "escalation_paused",
        "resolved",
        "reopened",
    ];

    fn variant<A: MapAccess<'de>>(name: &'static str, rest: A) -> Result<Self, A::Error> {
        let rest = MapAccessDeserializer::new(rest);
        Ok(match name {
            "phase_entered" => {
                let read::Phase { at, phase } = Deserialize::deserialize(rest)?;
                Event::PhaseEntered { at, phase }
            }
            "evidence_received" => {
                let read::Evidence { at, evidence } = Deserialize::deserialize(rest)?;
                Event::EvidenceReceived { at, evidence }
            }
            "risk_signal" => {
                let read::Signal { at, signal } = Deserialize::deserialize(rest)?;
                Event::RiskSignal { at, signal }
            }
            "escalated" => {
                let read::Escalated { at, by, level } = Deserialize::deserialize(rest)?;
                Event::Escalated { at, by, level }
            }
            "override" => {
                let read::Override {
                    at,
                    by,
                    owner,
                    severity,
                } = Deserialize::deserialize(rest)?;
                Event::Override {
                    at,
                    by,
                    owner,
                    severity,
                }
            }
            "escalation_paused" => {
                let read::Paused { at, by, until } = Deserialize::deserialize(rest)?;
                Event::EscalationPaused { at, by, until }
            }
            // The variants with only an instant share one reader.
            "agent_reply" => Event::AgentReply { at: read::at(rest)? },
            "customer_reply" => Event::CustomerReply { at: read::at(rest)? },
            "waiting_on_customer" => Event::WaitingOnCustomer { at: read::at(rest)? },
            "resumed" => Event::Resumed { at: read::at(rest)? },
            "resolved" => Event::Resolved { at: read::at(rest)? },
            "reopened" => Event::Reopened { at: read::at(rest)? },
            other => return Err(de::Error::unknown_variant(other, Self::VARIANTS)),
        })
    }
}

/// [`Event`]'s variants as structs, read by serde's derive as the enum's
/// derive read them.
mod read {
    use serde::{Deserialize, Deserializer};

    use crate::model::ids::{EvidenceId, PhaseId, RoleId, SeverityId, SignalId};
    use crate::model::time::Timestamp;

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct At {
        at: Timestamp,
    }

    /// The instant of a variant that has nothing else.
    pub(super) fn at<'de, D: Deserializer<'de>>(rest: D) -> Result<Timestamp, D::Error> {
        At::deserialize(rest).map(|At { at }| at)
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(super) struct Phase {
        pub(super) at: Timestamp,
        pub(super) phase: PhaseId,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(super) struct Evidence {
        pub(super) at: Timestamp,
        pub(super) evidence: EvidenceId,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(super) struct Signal {
        pub(super) at: Timestamp,
        pub(super) signal: SignalId,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(super) struct Escalated {
        pub(super) at: Timestamp,
        pub(super) by: RoleId,
        pub(super) level: u32,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(super) struct Override {
        pub(super) at: Timestamp,
        pub(super) by: RoleId,
        #[serde(default)]
        pub(super) owner: Option<RoleId>,
        #[serde(default)]
        pub(super) severity: Option<SeverityId>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(super) struct Paused {
        pub(super) at: Timestamp,
        pub(super) by: RoleId,
        pub(super) until: Timestamp,
    }
}

impl Event {
    /// When the event happened.
    pub fn at(&self) -> Timestamp {
        match self {
            Event::AgentReply { at }
            | Event::CustomerReply { at }
            | Event::WaitingOnCustomer { at }
            | Event::Resumed { at }
            | Event::PhaseEntered { at, .. }
            | Event::EvidenceReceived { at, .. }
            | Event::RiskSignal { at, .. }
            | Event::Escalated { at, .. }
            | Event::Override { at, .. }
            | Event::EscalationPaused { at, .. }
            | Event::Resolved { at }
            | Event::Reopened { at } => *at,
        }
    }
}

/// Every problem of a case against the bundle's support policy and `now`:
/// unknown names, events out of order or after `now`, and steps its state
/// does not allow. `at` is the case's path. Returns the case's category
/// when it is known.
pub fn check<'a>(
    case: &Case,
    support: &'a Support,
    now: Timestamp,
    at: &JsonPath,
    errors: &mut Vec<Error>,
) -> Option<&'a Category> {
    let category = support.categories.get(&case.category);
    if category.is_none() {
        errors.push(Error::unknown(
            at.key("category"),
            RefKind::Category,
            case.category.as_str(),
        ));
    }
    if case.opened_at > now {
        errors.push(Error::contradiction(
            at.key("opened_at"),
            Conflict::EventAfterNow,
            format!("the case opens at `{}`, after `now`", case.opened_at),
        ));
    }
    if support.quiet_hours.is_some() && case.customer_time_zone.is_none() {
        errors.push(Error::MissingField {
            path: at.key("customer_time_zone"),
            field: "customer_time_zone".into(),
        });
    }
    let known_evidence =
        |e: &EvidenceId| support.categories.values().any(|c| c.evidence.contains(e));
    for (i, e) in case.evidence.iter().enumerate() {
        if !known_evidence(e) {
            errors.push(Error::unknown(
                at.key("evidence").index(i),
                RefKind::Evidence,
                e.as_str(),
            ));
        }
    }
    let mut last = case.opened_at;
    let mut waiting = false;
    let mut resolved = false;
    let mut phase = category.and_then(|c| c.phases.first()).map(|p| &p.phase);
    for (i, event) in case.events.iter().enumerate() {
        let path = at.key("events").index(i);
        let t = event.at();
        if t < last {
            errors.push(Error::contradiction(
                path.key("at"),
                Conflict::EventsOutOfOrder,
                format!("the event at `{t}` comes after one at `{last}` (or the opening)"),
            ));
        } else if t > now {
            errors.push(Error::contradiction(
                path.key("at"),
                Conflict::EventAfterNow,
                format!("the event at `{t}` is after `now` (`{now}`)"),
            ));
        }
        last = last.max(t);
        let state = if resolved { "resolved" } else { "open" };
        let not_allowed = |what: &str| {
            Error::contradiction(
                path.key("type"),
                Conflict::EventNotAllowed,
                format!("`{what}` is not allowed while the case is {state}"),
            )
        };
        match event {
            // An agent's reply does not end a wait on the customer; only
            // the customer's reply or `resumed` does.
            Event::AgentReply { .. } | Event::RiskSignal { .. } => {}
            Event::CustomerReply { .. } => waiting = false,
            Event::EvidenceReceived { evidence, .. } => {
                if !known_evidence(evidence) {
                    errors.push(Error::unknown(
                        path.key("evidence"),
                        RefKind::Evidence,
                        evidence.as_str(),
                    ));
                }
            }
            Event::Reopened { .. } if resolved => {
                resolved = false;
                // A new cycle starts again in the first phase.
                if support.sla.reopen == ReopenRule::NewCycle {
                    phase = category.and_then(|c| c.phases.first()).map(|p| &p.phase);
                }
            }
            Event::Reopened { .. } => errors.push(not_allowed("reopened")),
            _ if resolved => errors.push(not_allowed(kind(event))),
            Event::WaitingOnCustomer { .. } if waiting => {
                errors.push(Error::contradiction(
                    path.key("type"),
                    Conflict::EventNotAllowed,
                    "the case is already waiting on the customer".into(),
                ));
            }
            Event::WaitingOnCustomer { .. } => waiting = true,
            Event::Resumed { .. } if !waiting => errors.push(Error::contradiction(
                path.key("type"),
                Conflict::ResumeWithoutPause,
                "`resumed` while the case is not waiting on the customer".into(),
            )),
            Event::Resumed { .. } => waiting = false,
            Event::PhaseEntered { phase: to, .. } => {
                let declared = category.is_none_or(|c| c.phases.iter().any(|p| &p.phase == to));
                if !declared {
                    errors.push(Error::unknown(
                        path.key("phase"),
                        RefKind::Phase,
                        to.as_str(),
                    ));
                } else if phase == Some(to) {
                    errors.push(Error::contradiction(
                        path.key("phase"),
                        Conflict::EventNotAllowed,
                        format!("the case is already in phase `{to}`"),
                    ));
                }
                phase = Some(to);
            }
            Event::Escalated { level, .. } => {
                let top = support.levels.len();
                if *level == 0 || usize::try_from(*level).map_or(true, |l| l > top) {
                    errors.push(Error::OutOfRange {
                        path: path.key("level"),
                        detail: format!("escalation levels run from 1 to {top}, got `{level}`"),
                    });
                }
            }
            Event::Override {
                by,
                owner,
                severity,
                ..
            } => {
                permitted(
                    by,
                    &support.permissions.override_routing,
                    "override",
                    &path,
                    errors,
                );
                if owner.is_none() && severity.is_none() {
                    errors.push(Error::MissingField {
                        path: path.key("owner"),
                        field: "owner".into(),
                    });
                }
                if let Some(s) = severity.as_ref().filter(|s| support.rank(s).is_none()) {
                    errors.push(Error::unknown(
                        path.key("severity"),
                        RefKind::Severity,
                        s.as_str(),
                    ));
                }
            }
            Event::EscalationPaused { by, until, .. } => {
                permitted(
                    by,
                    &support.permissions.pause_escalation,
                    "pause",
                    &path,
                    errors,
                );
                if *until <= t {
                    errors.push(Error::OutOfRange {
                        path: path.key("until"),
                        detail: format!("a pause ends after it starts (`{t}`), got `{until}`"),
                    });
                }
            }
            Event::Resolved { .. } => {
                resolved = true;
                waiting = false;
            }
        }
    }
    category
}

fn kind(event: &Event) -> &'static str {
    match event {
        Event::AgentReply { .. } => "agent_reply",
        Event::CustomerReply { .. } => "customer_reply",
        Event::WaitingOnCustomer { .. } => "waiting_on_customer",
        Event::Resumed { .. } => "resumed",
        Event::PhaseEntered { .. } => "phase_entered",
        Event::EvidenceReceived { .. } => "evidence_received",
        Event::RiskSignal { .. } => "risk_signal",
        Event::Escalated { .. } => "escalated",
        Event::Override { .. } => "override",
        Event::EscalationPaused { .. } => "escalation_paused",
        Event::Resolved { .. } => "resolved",
        Event::Reopened { .. } => "reopened",
    }
}

fn permitted(by: &RoleId, roles: &[RoleId], what: &str, path: &JsonPath, errors: &mut Vec<Error>) {
    if !roles.contains(by) {
        errors.push(Error::contradiction(
            path.key("by"),
            Conflict::NotPermitted,
            format!(
                "role `{by}` may not {what}; the bundle permits {}",
                list(roles)
            ),
        ));
    }
}

fn list(roles: &[RoleId]) -> String {
    if roles.is_empty() {
        return String::from("no role");
    }
    let names: Vec<String> = roles.iter().map(|r| format!("`{r}`")).collect();
    names.join(", ")
}
