//! Reads the answer of `escalate` off a replayed case: clocks with their
//! histories, the escalation level and owner, evidence, the message and
//! action due next, and the next instant anything here changes.

use chrono::SecondsFormat;

use super::replay::{Replay, Setup};
use super::report::{
    Action, CaseState, ClockReport, Cycle, Escalation, EvidenceReport, Level, NextAction, Overdue,
    Owner, PhaseReport, PolicyRef, TemplateDue,
};
use crate::error::{Error, JsonPath};
use crate::model::bundle::Bundle;
use crate::model::ids::{CalendarId, EvidenceId};
use crate::model::license::License;
use crate::model::time::{Timestamp, Zone};
use crate::support::calendar::{Calendar, Interval, Weekly};
use crate::support::case::Case;
use crate::support::matrix::{self, CycleFacts, Severity};
use crate::support::policy::{ClockKind, QuietHours, Support, TemplateKind};
use crate::support::sla::{Clock, ClockState};

fn local(zone: Option<&Zone>, at: Option<Timestamp>) -> Option<String> {
    let (zone, at) = (zone?, at?);
    Some(
        at.utc()
            .with_timezone(&zone.0)
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
    let open = Interval {
        start: quiet.to.minutes(),
        end: quiet.from.minutes(),
    };
    Calendar::new(*zone, Weekly::every_day(&[open]), false, Vec::new())
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
        matrix::levels(support, &facts, &severity, &replay.signals, pauses, now);
    let level = changes.last().map_or(0, |c| c.level);
    let role = changes.last().map(|c| c.role.clone());
    let held = matrix::held(now, pauses);
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
                Some(cal) => matrix::repeats(
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
