//! The answer of `escalate`, read off a replayed case: clocks with their
//! histories, the escalation level and owner, evidence, the message and
//! action due next, and the next instant anything here changes.

use chrono::SecondsFormat;
use serde::Serialize;

use super::replay::{PastCycle, Replay, Setup};
use crate::bundle::Bundle;
use crate::calendar::{Calendar, Interval, Weekly};
use crate::case::Case;
use crate::error::{Error, JsonPath};
use crate::escalation::{self, CycleFacts, LevelChange, Repeats, Severity};
use crate::ids::{CalendarId, CaseId, CategoryId, EvidenceId, PhaseId, RoleId, TemplateId, TierId};
use crate::license::License;
use crate::sla::{Change, Clock, ClockState};
use crate::support::{ClockKind, QuietHours, Support, TemplateKind};
use crate::time::{Timestamp, Zone};

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
    pub severity: crate::ids::SeverityId,
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

fn local(zone: Option<&Zone>, at: Option<Timestamp>) -> Option<String> {
    let (zone, at) = (zone?, at?);
    Some(
        at.0.with_timezone(&zone.0)
            .to_rfc3339_opts(SecondsFormat::Secs, false),
    )
}

fn report(
    kind: ClockKind,
    clock: &Clock<'_>,
    calendar: CalendarId,
    ever: bool,
    zone: Option<&Zone>,
    now: Timestamp,
) -> ClockReport {
    let due_at = clock.due_at();
    let elapsed = clock.elapsed(now);
    ClockReport {
        clock: kind,
        calendar,
        target_seconds: clock.target,
        state: clock.state(),
        at_risk: clock.at_risk_at.is_some(),
        breached: clock.breached_at.is_some(),
        started_at: clock.started_at,
        at_risk_at: clock.at_risk_due(),
        due_at,
        due_at_local: local(zone, due_at),
        elapsed_seconds: elapsed,
        remaining_seconds: clock.target.saturating_sub(elapsed),
        stopped_at: clock.stopped.map(|(t, _)| t),
        breaches: clock.breaches,
        breached_this_cycle: clock.breaches > 0,
        ever_breached: ever || clock.breaches > 0,
        changes: clock.changes.clone(),
    }
}

/// The calendar of instants when messages may go out: every day outside
/// quiet hours, in the customer's zone.
fn allowed(quiet: &QuietHours, zone: &Zone) -> Calendar {
    let day = vec![Interval {
        start: quiet.to.minutes(),
        end: quiet.from.minutes(),
    }];
    Calendar {
        time_zone: *zone,
        weekly: Weekly {
            monday: day.clone(),
            tuesday: day.clone(),
            wednesday: day.clone(),
            thursday: day.clone(),
            friday: day.clone(),
            saturday: day.clone(),
            sunday: day,
        },
        always: false,
        holidays: Vec::new(),
    }
}

/// Builds the answer from a replayed case.
#[allow(clippy::too_many_arguments)]
pub fn assemble(
    bundle: &Bundle,
    support: &Support,
    license: &License,
    case: &Case,
    setup: &Setup<'_>,
    replay: &Replay<'_>,
    severity: Severity,
    reevaluate: bool,
    now: Timestamp,
) -> Result<Escalation, Vec<Error>> {
    let fail = |e: Error| vec![e];
    let zone = case.customer_time_zone.as_ref();
    let mut clocks = Vec::new();
    for (kind, clock) in &replay.clocks {
        let calendar = setup.policy.as_ref().map(|(p, _)| match kind {
            ClockKind::FirstResponse => p.first_response.calendar.clone(),
            ClockKind::Update => p.update.calendar.clone(),
            ClockKind::Resolution => p.resolution.calendar.clone(),
        });
        if let Some(calendar) = calendar {
            let ever = replay.ever.contains(kind);
            clocks.push(report(*kind, clock, calendar, ever, zone, now));
        }
    }
    let facts = CycleFacts {
        started_at: replay.started_at,
        resolved_at: replay.resolved_at,
        clocks: replay
            .clocks
            .iter()
            .map(|(k, c)| (*k, c.changes.as_slice()))
            .collect(),
        overdue: replay.overdue.clone(),
        manual: replay.manual.clone(),
    };
    let pauses = &replay.pauses;
    let (changes, released) =
        escalation::levels(support, &facts, &severity, &replay.signals, pauses, now);
    let level = changes.last().map_or(0, |c| c.level);
    let role = changes.last().map(|c| c.role.clone());
    let held = escalation::held(now, pauses);
    let paused_until = (held > now && replay.resolved_at.is_none()).then_some(held);
    let top = support.levels.len();
    let repeats = match (support.levels.last(), changes.last()) {
        (Some(last), Some(entered)) if level == top => {
            let path = JsonPath::root()
                .key("bundle")
                .key("support")
                .key("levels")
                .index(top.saturating_sub(1))
                .key("repeat");
            let calendar = last
                .repeat
                .as_ref()
                .and_then(|r| bundle.calendars.get(&r.calendar));
            match calendar {
                Some(cal) => escalation::repeats(
                    last,
                    cal,
                    entered.at,
                    replay.resolved_at,
                    pauses,
                    now,
                    &path,
                )
                .map_err(fail)?,
                None => None,
            }
        }
        _ => None,
    };
    let owner = match (&replay.rerouted, &role) {
        (Some((_, r)), _) => Owner {
            role: r.clone(),
            because: "override",
        },
        (None, Some(r)) => Owner {
            role: r.clone(),
            because: "escalation",
        },
        (None, None) => Owner {
            role: setup.category.owner.clone(),
            because: "category",
        },
    };
    let state = match (replay.resolved_at, replay.waiting) {
        (Some(_), _) => CaseState::Resolved,
        (None, true) => CaseState::WaitingOnCustomer,
        (None, false) => CaseState::Open,
    };
    let required = setup.category.evidence.clone();
    let missing: Vec<EvidenceId> = required
        .iter()
        .filter(|e| !replay.provided.contains(e))
        .cloned()
        .collect();
    let phase_clock = &replay.phase.1;
    let phase = PhaseReport {
        phase: replay.phase.0.clone(),
        entered_at: phase_clock.started_at,
        target_seconds: phase_clock.target,
        state: phase_clock.state(),
        due_at: phase_clock.due_at(),
        elapsed_seconds: phase_clock.elapsed(now),
        overdue: replay
            .overdue
            .iter()
            .map(|(phase, at)| Overdue {
                phase: phase.clone(),
                at: *at,
            })
            .collect(),
    };
    let template_due = template_due(support, replay, &clocks, zone).map_err(fail)?;
    let next_action = next_action(
        setup,
        replay,
        state,
        &missing,
        &phase,
        &template_due,
        &owner,
    );
    let mut next: Vec<Timestamp> = Vec::new();
    let running = replay.clocks.iter().map(|(_, c)| c);
    for clock in running.chain(std::iter::once(&replay.phase.1)) {
        if clock.is_running() {
            next.extend(clock.at_risk_due());
            next.extend(clock.due_at());
        }
    }
    next.extend(repeats.as_ref().and_then(|r| r.next_at));
    next.extend(released);
    next.extend(paused_until);
    next.extend(template_due.as_ref().map(|t| t.due_at));
    let next_evaluation_at = next.into_iter().filter(|t| *t > now).min();
    let breached_this_cycle = clocks.iter().any(|c| c.breached_this_cycle);
    let ever_breached = breached_this_cycle || !replay.ever.is_empty();
    Ok(Escalation {
        case: case.case.clone(),
        category: case.category.clone(),
        tier: license.tier.clone(),
        bundle_version: bundle.version.clone(),
        opened_under: case.bundle_version.clone(),
        reevaluated: reevaluate && case.bundle_version != bundle.version,
        state,
        cycle: Cycle {
            number: replay.number,
            started_at: replay.started_at,
            reopened: replay.reopened,
        },
        previous_cycles: replay.past.clone(),
        sla_policy: setup.policy.as_ref().map(|_| PolicyRef {
            tier: license.tier.clone(),
            severity: severity.severity.clone(),
        }),
        severity,
        escalation: Level {
            level,
            role,
            changes,
            paused_until,
            repeats,
        },
        owner,
        clocks,
        phase,
        evidence: EvidenceReport {
            required,
            provided: replay.provided.clone(),
            missing,
        },
        next_action,
        template_due,
        breached_this_cycle,
        ever_breached,
        next_evaluation_at,
    })
}

/// The message due next: the resolution notice once resolved, the
/// acknowledgement until the first reply of the cycle, then a status update
/// by the update clock's due instant; none while waiting on the customer.
/// Quiet hours move the instant to their end.
fn template_due(
    support: &Support,
    replay: &Replay<'_>,
    clocks: &[ClockReport],
    zone: Option<&Zone>,
) -> Result<Option<TemplateDue>, Error> {
    let due = match (replay.resolved_at, replay.waiting, replay.replied) {
        (Some(_), _, _) if replay.notice_at.is_some() => None,
        (Some(resolved), _, _) => Some((TemplateKind::Resolution, resolved)),
        (None, true, _) => None,
        (None, false, None) => Some((TemplateKind::Acknowledgement, replay.started_at)),
        (None, false, Some(_)) => clocks
            .iter()
            .find(|c| c.clock == ClockKind::Update)
            .and_then(|c| c.due_at)
            .map(|at| (TemplateKind::StatusUpdate, at)),
    };
    let Some((kind, nominal)) = due else {
        return Ok(None);
    };
    let due_at = match (&support.quiet_hours, zone) {
        (Some(quiet), Some(zone)) => allowed(quiet, zone).next_business(nominal).map_err(|e| {
            e.into_error(
                JsonPath::root()
                    .key("bundle")
                    .key("support")
                    .key("quiet_hours"),
            )
        })?,
        _ => nominal,
    };
    Ok(Some(TemplateDue {
        template: kind,
        template_id: support.templates.of(kind).clone(),
        due_at,
        held_from: (due_at != nominal).then_some(nominal),
    }))
}

fn next_action(
    setup: &Setup<'_>,
    replay: &Replay<'_>,
    state: CaseState,
    missing: &[EvidenceId],
    phase: &PhaseReport,
    template: &Option<TemplateDue>,
    owner: &Owner,
) -> NextAction {
    let mut action = NextAction {
        action: Action::None,
        owner: owner.role.clone(),
        template: None,
        due_at: None,
        evidence: Vec::new(),
        phase: None,
    };
    let send = |mut a: NextAction, t: &TemplateDue| {
        a.action = Action::SendTemplate;
        a.template = Some(t.template);
        a.due_at = Some(t.due_at);
        a
    };
    match (state, template) {
        (CaseState::Resolved, Some(t)) => return send(action, t),
        (CaseState::Resolved, None) => return action,
        (CaseState::WaitingOnCustomer, _) => {
            action.action = Action::AwaitCustomer;
            return action;
        }
        (CaseState::Open, Some(t)) if t.template == TemplateKind::Acknowledgement => {
            return send(action, t)
        }
        _ => {}
    }
    if !missing.is_empty() {
        action.action = Action::RequestEvidence;
        action.evidence = missing.to_vec();
        return action;
    }
    if phase.state == ClockState::Breached {
        let phases = &setup.category.phases;
        let at = phases.iter().position(|p| p.phase == replay.phase.0);
        match at.and_then(|i| phases.get(i + 1)) {
            Some(next) => {
                action.action = Action::AdvancePhase;
                action.phase = Some(next.phase.clone());
            }
            None => action.action = Action::Resolve,
        }
        action.due_at = phase.due_at;
        return action;
    }
    match template {
        Some(t) => send(action, t),
        None => action,
    }
}
