//! The bundle's support policy: severities and the rules that set them from
//! a case's impact, SLA targets per tier and severity, and the escalation
//! matrix (categories, phases, levels and their triggers, permissions, quiet
//! hours, templates). Checked by [`validate`]; see `docs/escalation.md`.

mod validate;

use std::collections::BTreeMap;

use serde::de::value::MapAccessDeserializer;
use serde::de::{self, Deserializer, MapAccess};
use serde::{Deserialize, Serialize};

use crate::model::ids::{
    CalendarId, CategoryId, EvidenceId, PhaseId, RoleId, SeverityId, SignalId, TemplateId, TierId,
};
use crate::model::money::Price;
use crate::reading::strict::{self, Tagged};
use crate::support::calendar::TimeOfDay;

pub use validate::validate;

/// The support section of a bundle.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Support {
    /// Every severity, most severe first; the order is what `at_least` compares.
    pub severities: Vec<SeverityId>,
    /// The severity of a case no rule matches.
    pub default_severity: SeverityId,
    /// Rules from impact to severity; a case takes the most severe match.
    #[serde(default)]
    pub severity_rules: Vec<SeverityRule>,
    /// SLA targets per tier and severity.
    pub sla: Sla,
    /// The kinds of case, with owner, evidence and phases.
    pub categories: BTreeMap<CategoryId, Category>,
    /// Escalation levels, lowest first; a case enters level n when one of
    /// its triggers fires.
    #[serde(default)]
    pub levels: Vec<Level>,
    /// Who may override routing or severity, and who may pause escalation.
    #[serde(default)]
    pub permissions: Permissions,
    /// Local hours (in the customer's zone) when no message is sent to them.
    #[serde(default)]
    pub quiet_hours: Option<QuietHours>,
    /// The template sent for each kind of message.
    pub templates: Templates,
}

/// A rule: when every condition holds, the case has at least this severity.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct SeverityRule {
    /// The rule's name, reported when it sets the severity.
    pub rule: String,
    /// The conditions, all of which must hold.
    pub when: ImpactCondition,
    /// The severity it sets.
    pub severity: SeverityId,
}

/// Conditions on a case's impact; an absent condition always holds, and a
/// rule must state at least one.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ImpactCondition {
    /// Holds when the case's `access_blocked` equals this.
    #[serde(default)]
    pub access_blocked: Option<bool>,
    /// Holds when at least this many seats are affected.
    #[serde(default)]
    pub seats_affected_at_least: Option<u32>,
    /// Holds when at least this much revenue (bundle currency) is at risk.
    #[serde(default)]
    pub revenue_at_risk_at_least: Option<Price>,
    /// Holds when the case's `regulatory_exposure` equals this.
    #[serde(default)]
    pub regulatory_exposure: Option<bool>,
}

/// SLA policies and the rules shared by every clock.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Sla {
    /// A running clock is at risk once this share (percent, 1 to 99) of its
    /// target is used.
    pub at_risk_percent: u8,
    /// What a reopened case does with its clocks.
    pub reopen: ReopenRule,
    /// Targets per tier, then per severity; a tier absent here has no SLA.
    pub policies: BTreeMap<TierId, BTreeMap<SeverityId, Policy>>,
}

/// What reopening a resolved case does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReopenRule {
    /// A new cycle: every clock starts again from the reopen instant.
    NewCycle,
    /// The same cycle goes on: resolution counts on from where it stopped,
    /// first response stays as it was, the update cadence restarts.
    SameCycle,
}

/// The three targets of one tier and severity.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// From the start of a cycle to the first agent reply.
    pub first_response: Target,
    /// From each agent reply to the next, while the case is open.
    pub update: Target,
    /// From the start of a cycle to resolution.
    pub resolution: Target,
}

/// A duration of business time on a named calendar.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Target {
    /// Business minutes allowed.
    pub minutes: u32,
    /// The calendar the minutes are counted on.
    pub calendar: CalendarId,
}

/// A kind of case.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Category {
    /// A name for people.
    #[serde(default)]
    pub title: Option<String>,
    /// The role that owns a case of this kind until it escalates.
    pub owner: RoleId,
    /// Evidence the case needs before it can be decided.
    #[serde(default)]
    pub evidence: Vec<EvidenceId>,
    /// Phases in order; a case starts in the first.
    pub phases: Vec<Phase>,
    /// The calendar phase targets are counted on.
    pub calendar: CalendarId,
}

/// A phase and the business time it should take.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Phase {
    /// The phase's name.
    pub phase: PhaseId,
    /// Business minutes in the phase before it is overdue.
    pub minutes: u32,
}

/// An escalation level.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Level {
    /// The role that owns the case at this level.
    pub role: RoleId,
    /// What puts a case at this level; any one suffices.
    pub on: Vec<Trigger>,
    /// For the top level only: how often, and how many times, the
    /// escalation is repeated while the case stays there.
    #[serde(default)]
    pub repeat: Option<Repeat>,
}

/// What raises a case to a level.
// Read by hand (below) as `#[serde(tag = "trigger")]` reads it, without
// serde's buffering (`strict::tagged`). A plain comment, so the schemas
// keep their description.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "trigger", rename_all = "snake_case", deny_unknown_fields)]
pub enum Trigger {
    /// An SLA clock (a named one, or any) reaches its at-risk share.
    SlaAtRisk {
        /// The clock, or any clock when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        clock: Option<ClockKind>,
    },
    /// An SLA clock (a named one, or any) reaches its due instant.
    SlaBreached {
        /// The clock, or any clock when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        clock: Option<ClockKind>,
    },
    /// The case spends its phase's target time in a phase without moving on.
    PhaseOverdue {
        /// The phase, or any phase when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        phase: Option<PhaseId>,
    },
    /// The case's severity is this one or more severe.
    Severity {
        /// The least severe severity that triggers.
        at_least: SeverityId,
    },
    /// A risk signal is raised on the case.
    RiskSignal {
        /// The signal.
        signal: SignalId,
    },
}

impl<'de> Deserialize<'de> for Trigger {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        strict::tagged(deserializer)
    }
}

impl<'de> Tagged<'de> for Trigger {
    const TAG: &'static str = "trigger";
    const EXPECTING: &'static str = "internally tagged enum Trigger";
    const VARIANTS: &'static [&'static str] = &[
        "sla_at_risk",
        "sla_breached",
        "phase_overdue",
        "severity",
        "risk_signal",
    ];

    fn variant<A: MapAccess<'de>>(name: &'static str, rest: A) -> Result<Self, A::Error> {
        let rest = MapAccessDeserializer::new(rest);
        Ok(match name {
            "sla_at_risk" => {
                let read::Clock { clock } = Deserialize::deserialize(rest)?;
                Trigger::SlaAtRisk { clock }
            }
            "sla_breached" => {
                let read::Clock { clock } = Deserialize::deserialize(rest)?;
                Trigger::SlaBreached { clock }
            }
            "phase_overdue" => {
                let read::Phase { phase } = Deserialize::deserialize(rest)?;
                Trigger::PhaseOverdue { phase }
            }
            "severity" => {
                let read::Severity { at_least } = Deserialize::deserialize(rest)?;
                Trigger::Severity { at_least }
            }
            "risk_signal" => {
                let read::Signal { signal } = Deserialize::deserialize(rest)?;
                Trigger::RiskSignal { signal }
            }
            other => return Err(de::Error::unknown_variant(other, Self::VARIANTS)),
        })
    }
}

/// [`Trigger`]'s variants as structs, read by serde's derive as the enum's
/// derive read them.
mod read {
    use serde::Deserialize;

    use super::ClockKind;
    use crate::model::ids::{PhaseId, SeverityId, SignalId};

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(super) struct Clock {
        #[serde(default)]
        pub(super) clock: Option<ClockKind>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(super) struct Phase {
        #[serde(default)]
        pub(super) phase: Option<PhaseId>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(super) struct Severity {
        pub(super) at_least: SeverityId,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(super) struct Signal {
        pub(super) signal: SignalId,
    }
}

/// The SLA clocks a case runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ClockKind {
    /// Cycle start to the first agent reply.
    FirstResponse,
    /// Agent reply to the next agent reply.
    Update,
    /// Cycle start to resolution.
    Resolution,
}

impl ClockKind {
    /// Every clock, in the order answers list them.
    pub const ALL: [ClockKind; 3] = [
        ClockKind::FirstResponse,
        ClockKind::Update,
        ClockKind::Resolution,
    ];
}

/// Repeated escalation at the top level.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Repeat {
    /// Business minutes between repeats.
    pub every_minutes: u32,
    /// How many repeats at most.
    pub times: u32,
    /// The calendar the minutes are counted on.
    pub calendar: CalendarId,
}

/// Roles allowed to change what the rules decided.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Permissions {
    /// May reroute a case to another owner or set its severity.
    #[serde(default)]
    pub override_routing: Vec<RoleId>,
    /// May pause escalation for a while.
    #[serde(default)]
    pub pause_escalation: Vec<RoleId>,
}

/// Local hours, in the customer's zone, when messages wait; `from` may be
/// after `to` (overnight, the usual case).
#[derive(Debug, Clone, Copy, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct QuietHours {
    /// When quiet hours begin.
    pub from: TimeOfDay,
    /// When they end.
    pub to: TimeOfDay,
}

/// The vendor's template for each message the rules call for.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Templates {
    /// Sent when a case (or a new cycle) opens, as the first response.
    pub acknowledgement: TemplateId,
    /// Sent before each update is due.
    pub status_update: TemplateId,
    /// Sent when the case is resolved.
    pub resolution: TemplateId,
}

/// The kinds of message, as answers name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TemplateKind {
    /// The first response of a cycle.
    Acknowledgement,
    /// An update while the case is open.
    StatusUpdate,
    /// The notice of resolution.
    Resolution,
}

impl Templates {
    /// The bundle's template for a kind of message.
    pub fn of(&self, kind: TemplateKind) -> &TemplateId {
        match kind {
            TemplateKind::Acknowledgement => &self.acknowledgement,
            TemplateKind::StatusUpdate => &self.status_update,
            TemplateKind::Resolution => &self.resolution,
        }
    }
}

impl Support {
    /// The position of a severity, 0 being the most severe.
    pub fn rank(&self, severity: &SeverityId) -> Option<usize> {
        self.severities.iter().position(|s| s == severity)
    }

    /// The SLA targets a case of `severity` gets on `tier`: the tier's
    /// policy for that severity, or none when the tier has no SLA. The one
    /// lookup both `escalate` and `status` use, so they never disagree.
    pub fn policy(&self, tier: &TierId, severity: &SeverityId) -> Option<&Policy> {
        self.sla.policies.get(tier).and_then(|by| by.get(severity))
    }
}
