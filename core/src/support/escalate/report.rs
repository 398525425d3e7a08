//! The shape of an `escalate` answer: every field a scheduler, a portal or
//! an agent reads, each saying what it decided.

use serde::Serialize;

use super::replay::PastCycle;
use crate::model::ids::{
    CalendarId, CaseId, CategoryId, EvidenceId, PhaseId, RoleId, TemplateId, TierId,
};
use crate::model::time::Timestamp;
use crate::support::matrix::{LevelChange, Repeats, Severity};
use crate::support::policy::{ClockKind, TemplateKind};
use crate::support::sla::{Change, ClockState};

/// Everything `escalate` decides about a case at `now`.
#[derive(Debug, Clone, Serialize)]
pub struct Escalation {
    /// The case.
    pub case: CaseId,
    /// Its category.
    pub category: CategoryId,
    /// The license's tier, whose SLA applies.
    pub tier: TierId,
    /// The bundle version this answer used.
    pub bundle_version: String,
    /// The version the case was opened under.
    pub opened_under: String,
    /// Whether the case was evaluated under a version other than its own.
    pub reevaluated: bool,
    /// Open, waiting on the customer, or resolved.
    pub state: CaseState,
    /// The current cycle.
    pub cycle: Cycle,
    /// Cycles before it, each ended by a resolution.
    pub previous_cycles: Vec<PastCycle>,
    /// The severity and what set it.
    pub severity: Severity,
    /// The escalation level, its history and repeats.
    pub escalation: Level,
    /// Who owns the case now, and why.
    pub owner: Owner,
    /// The tier and severity whose targets run the clocks; none when the
    /// tier has no SLA.
    pub sla_policy: Option<PolicyRef>,
    /// Every SLA clock of the cycle.
    pub clocks: Vec<ClockReport>,
    /// The current phase and its clock.
    pub phase: PhaseReport,
    /// Evidence required, provided and missing.
    pub evidence: EvidenceReport,
    /// The next thing the owner should do.
    pub next_action: NextAction,
    /// The message due to the customer next, if any.
    pub template_due: Option<TemplateDue>,
    /// Whether a clock breached in the current cycle.
    pub breached_this_cycle: bool,
    /// Whether a clock breached in any cycle.
    pub ever_breached: bool,
    /// The earliest instant after `now` at which any state here changes.
    pub next_evaluation_at: Option<Timestamp>,
}

/// Where a case stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseState {
    /// Being worked on.
    Open,
    /// Clocks paused until the customer answers.
    WaitingOnCustomer,
    /// Resolved; a reopen starts or resumes a cycle.
    Resolved,
}

/// The current cycle of a case.
#[derive(Debug, Clone, Serialize)]
pub struct Cycle {
    /// Its number, from 1.
    pub number: u32,
    /// When it started.
    pub started_at: Timestamp,
    /// How many times the case was reopened.
    pub reopened: u32,
}

/// The escalation state of a case.
#[derive(Debug, Clone, Serialize)]
pub struct Level {
    /// The level, 0 when not escalated.
    pub level: usize,
    /// The level's role, when escalated.
    pub role: Option<RoleId>,
    /// Every level change of the cycle.
    pub changes: Vec<LevelChange>,
    /// Until when escalation is paused, if it is now.
    pub paused_until: Option<Timestamp>,
    /// Repeats at the top level, when the case is there and it repeats.
    pub repeats: Option<Repeats>,
}

/// The owner of a case.
#[derive(Debug, Clone, Serialize)]
pub struct Owner {
    /// The role.
    pub role: RoleId,
    /// `category`, `escalation` or `override`.
    pub because: &'static str,
}

/// The policy whose targets apply.
#[derive(Debug, Clone, Serialize)]
pub struct PolicyRef {
    /// The license's tier.
    pub tier: TierId,
    /// The case's severity.
    pub severity: crate::model::ids::SeverityId,
}

/// One SLA clock.
#[derive(Debug, Clone, Serialize)]
pub struct ClockReport {
    /// Which clock.
    pub clock: ClockKind,
    /// The calendar it counts on.
    pub calendar: CalendarId,
    /// The target, in business seconds.
    pub target_seconds: u64,
    /// Its state now.
    pub state: ClockState,
    /// Whether it has reached its at-risk share in its current run.
    pub at_risk: bool,
    /// Whether it has reached its target in its current run.
    pub breached: bool,
    /// When its current run started.
    pub started_at: Option<Timestamp>,
    /// When it is (or was) at risk, when known.
    pub at_risk_at: Option<Timestamp>,
    /// When it is (or was) due, when known.
    pub due_at: Option<Timestamp>,
    /// `due_at` in the customer's zone, when the case gives one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_at_local: Option<String>,
    /// Business seconds counted in the current run.
    pub elapsed_seconds: u64,
    /// Business seconds left before the due instant.
    pub remaining_seconds: u64,
    /// When it stopped, if it did.
    pub stopped_at: Option<Timestamp>,
    /// How many of its runs breached in this cycle.
    pub breaches: u32,
    /// Whether it breached in this cycle.
    pub breached_this_cycle: bool,
    /// Whether it breached in any cycle.
    pub ever_breached: bool,
    /// Every state change of this cycle, in order.
    pub changes: Vec<Change>,
}

/// The phase a case is in.
#[derive(Debug, Clone, Serialize)]
pub struct PhaseReport {
    /// The phase.
    pub phase: PhaseId,
    /// When the case entered it.
    pub entered_at: Option<Timestamp>,
    /// The phase's target, in business seconds.
    pub target_seconds: u64,
    /// Running, paused, stopped, or breached (overdue).
    pub state: ClockState,
    /// When the phase is (or was) overdue, when known.
    pub due_at: Option<Timestamp>,
    /// Business seconds spent in it.
    pub elapsed_seconds: u64,
    /// Every instant a phase became overdue in this cycle.
    pub overdue: Vec<Overdue>,
}

/// A phase that became overdue.
#[derive(Debug, Clone, Serialize)]
pub struct Overdue {
    /// The phase.
    pub phase: PhaseId,
    /// When.
    pub at: Timestamp,
}

/// Evidence of a case against its category's requirements.
#[derive(Debug, Clone, Serialize)]
pub struct EvidenceReport {
    /// What the category requires.
    pub required: Vec<EvidenceId>,
    /// What the case has.
    pub provided: Vec<EvidenceId>,
    /// Required and not provided, in the category's order.
    pub missing: Vec<EvidenceId>,
}

/// The next thing to do on a case.
#[derive(Debug, Clone, Serialize)]
pub struct NextAction {
    /// What.
    pub action: Action,
    /// Who.
    pub owner: RoleId,
    /// The message to send, for `send_template`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template: Option<TemplateKind>,
    /// By when.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_at: Option<Timestamp>,
    /// The evidence to ask for, for `request_evidence`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<EvidenceId>,
    /// The phase to move to, for `advance_phase`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phase: Option<PhaseId>,
}

/// The kinds of next action, in the order the rules consider them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Send a message to the customer.
    SendTemplate,
    /// Nothing until the customer answers.
    AwaitCustomer,
    /// Ask the customer for evidence.
    RequestEvidence,
    /// Move the case to its next phase.
    AdvancePhase,
    /// The last phase is overdue: decide and resolve.
    Resolve,
    /// Nothing: the case is resolved and the customer told.
    None,
}

/// A message due to the customer.
#[derive(Debug, Clone, Serialize)]
pub struct TemplateDue {
    /// Which kind.
    pub template: TemplateKind,
    /// The bundle's template for it.
    pub template_id: TemplateId,
    /// When to send it: the rules' instant, moved past quiet hours.
    pub due_at: Timestamp,
    /// The rules' instant, when quiet hours moved it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub held_from: Option<Timestamp>,
}
