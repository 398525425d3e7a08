//! The escalation matrix applied to a case: the severity its impact and
//! overrides give it, the level its triggers raise it to (held while
//! escalation is paused), repeats at the top level, and who owns it.

use serde::Serialize;

use crate::error::{Conflict, Error, JsonPath};
use crate::model::ids::{PhaseId, RoleId, SeverityId, SignalId};
use crate::model::order;
use crate::model::time::Timestamp;
use crate::support::calendar::{Calendar, CalendarError};
use crate::support::case::{Case, Event, Impact};
use crate::support::policy::{ClockKind, ImpactCondition, Level, Support, Trigger};
use crate::support::sla::{Change, ClockState};

/// The severity of a case and what set it.
#[derive(Debug, Clone, Serialize)]
pub struct Severity {
    /// The severity in force now.
    pub severity: SeverityId,
    /// The rules the impact matched (empty: the default severity).
    pub rules: Vec<String>,
    /// The override that set it, when one did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overridden: Option<Overridden>,
    /// Every instant the severity changed, from the opening.
    #[serde(skip)]
    pub timeline: Vec<(Timestamp, SeverityId)>,
}

/// An override of the severity.
#[derive(Debug, Clone, Serialize)]
pub struct Overridden {
    /// When.
    pub at: Timestamp,
    /// Who.
    pub by: RoleId,
}

fn matches(when: &ImpactCondition, impact: &Impact) -> bool {
    when.access_blocked
        .is_none_or(|b| b == impact.access_blocked)
        && when
            .seats_affected_at_least
            .is_none_or(|n| impact.seats_affected >= n)
        && when.revenue_at_risk_at_least.is_none_or(|min| {
            impact
                .revenue_at_risk
                .is_some_and(|r| r.value() >= min.value())
        })
        && when
            .regulatory_exposure
            .is_none_or(|b| b == impact.regulatory_exposure)
}

/// The severity from the impact (the most severe matching rule, else the
/// default), then each override of it in order.
pub fn severity(support: &Support, case: &Case) -> Severity {
    let matched: Vec<_> = support
        .severity_rules
        .iter()
        .filter(|r| matches(&r.when, &case.impact))
        .collect();
    let most = matched
        .iter()
        .min_by_key(|r| support.rank(&r.severity).unwrap_or(usize::MAX))
        .map_or(&support.default_severity, |r| &r.severity);
    let rules = matched
        .iter()
        .filter(|r| &r.severity == most)
        .map(|r| r.rule.clone())
        .collect();
    let mut answer = Severity {
        severity: most.clone(),
        rules,
        overridden: None,
        timeline: vec![(case.opened_at, most.clone())],
    };
    for event in &case.events {
        if let Event::Override {
            at,
            by,
            severity: Some(s),
            ..
        } = event
        {
            answer.severity = s.clone();
            answer.overridden = Some(Overridden {
                at: *at,
                by: by.clone(),
            });
            answer.timeline.push((*at, s.clone()));
        }
    }
    answer
}

/// What escalated a case to a level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Cause {
    /// One of the level's triggers.
    Trigger(Trigger),
    /// Someone escalated by hand.
    Manual {
        /// Always `manual`.
        trigger: &'static str,
        /// Who.
        by: RoleId,
    },
}

/// A change of escalation level.
#[derive(Debug, Clone, Serialize)]
pub struct LevelChange {
    /// When it took effect (after any pause of escalation).
    pub at: Timestamp,
    /// The level entered, from 1.
    pub level: usize,
    /// The role that owns the case at that level.
    pub role: RoleId,
    /// What raised it.
    pub because: Cause,
}

/// What the current cycle of a case did, as the triggers read it.
pub struct CycleFacts<'a> {
    /// When the cycle started.
    pub started_at: Timestamp,
    /// When the cycle ended by resolution, if it did.
    pub resolved_at: Option<Timestamp>,
    /// Each SLA clock's state changes in the cycle.
    pub clocks: Vec<(ClockKind, &'a [Change])>,
    /// Each instant a phase became overdue in the cycle.
    pub overdue: Vec<(PhaseId, Timestamp)>,
    /// Manual escalations in the cycle: when, to which level (from 1), by whom.
    pub manual: Vec<(Timestamp, u32, RoleId)>,
}

/// Every pause of escalation: `[from, until)`.
pub type Pauses = [(Timestamp, Timestamp)];

/// Where an instant falls once pauses of escalation hold it: the end of
/// the pause it falls in (pauses may chain), or itself.
pub fn held(at: Timestamp, pauses: &Pauses) -> Timestamp {
    let mut t = at;
    // Each pass moves past one pause; pauses are few, so a fixed point is
    // reached in at most as many passes as there are pauses.
    for _ in 0..=pauses.len() {
        match pauses.iter().find(|(from, until)| *from <= t && t < *until) {
            Some((_, until)) => t = *until,
            None => break,
        }
    }
    t
}

fn first(changes: &[Change], state: ClockState) -> Option<Timestamp> {
    changes.iter().find(|c| c.state == state).map(|c| c.at)
}

/// The earliest instant in the cycle at which a trigger fired, if it did.
fn fired(
    trigger: &Trigger,
    support: &Support,
    facts: &CycleFacts<'_>,
    severity: &Severity,
    signals: &[(Timestamp, SignalId)],
) -> Option<Timestamp> {
    let clock_first = |want: &Option<ClockKind>, state| {
        facts
            .clocks
            .iter()
            .filter(|(k, _)| want.is_none_or(|w| w == *k))
            .filter_map(|(_, changes)| first(changes, state))
            .min()
    };
    match trigger {
        Trigger::SlaAtRisk { clock } => clock_first(clock, ClockState::AtRisk),
        Trigger::SlaBreached { clock } => clock_first(clock, ClockState::Breached),
        Trigger::PhaseOverdue { phase } => facts
            .overdue
            .iter()
            .filter(|(p, _)| phase.as_ref().is_none_or(|want| want == p))
            .map(|(_, at)| *at)
            .min(),
        Trigger::Severity { at_least } => {
            let bar = support.rank(at_least)?;
            let meets = |s: &SeverityId| support.rank(s).is_some_and(|r| r <= bar);
            let timeline = &severity.timeline;
            let at_start = timeline
                .iter()
                .rev()
                .find(|(at, _)| *at <= facts.started_at);
            if at_start.is_some_and(|(_, s)| meets(s)) {
                return Some(facts.started_at);
            }
            timeline
                .iter()
                .find(|(at, s)| *at > facts.started_at && meets(s))
                .map(|(at, _)| *at)
        }
        Trigger::RiskSignal { signal } => signals
            .iter()
            .filter(|(_, s)| s == signal)
            .map(|(at, _)| (*at).max(facts.started_at))
            .min(),
    }
}

/// The level changes of the current cycle up to `now`, and the instant a
/// pause will release a trigger already fired, if one will.
pub fn levels(
    support: &Support,
    facts: &CycleFacts<'_>,
    severity: &Severity,
    signals: &[(Timestamp, SignalId)],
    pauses: &Pauses,
    now: Timestamp,
) -> (Vec<LevelChange>, Option<Timestamp>) {
    let mut candidates: Vec<(Timestamp, usize, Cause)> = Vec::new();
    for (i, level) in support.levels.iter().enumerate() {
        for trigger in &level.on {
            if let Some(at) = fired(trigger, support, facts, severity, signals) {
                candidates.push((held(at, pauses), i + 1, Cause::Trigger(trigger.clone())));
            }
        }
    }
    for (at, level, by) in &facts.manual {
        let level = usize::try_from(*level).unwrap_or(usize::MAX);
        let cause = Cause::Manual {
            trigger: "manual",
            by: by.clone(),
        };
        candidates.push((held(*at, pauses), level, cause));
    }
    order::sort_by(&mut candidates, |a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    let mut changes: Vec<LevelChange> = Vec::new();
    let mut released = None;
    for (at, level, because) in candidates {
        if facts.resolved_at.is_some_and(|r| at >= r) {
            continue;
        }
        if at > now {
            released = released.or(Some(at));
            continue;
        }
        let current = changes.last().map_or(0, |c| c.level);
        let role = support.levels.get(level.wrapping_sub(1)).map(|l| &l.role);
        if let (true, Some(role)) = (level > current, role) {
            changes.push(LevelChange {
                at,
                level,
                role: role.clone(),
                because,
            });
        }
    }
    (changes, released)
}

/// Repeats of the top level: those done by `now`, and the next one due.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Repeats {
    /// Instants of the repeats already made.
    pub done: Vec<Timestamp>,
    /// How many more may come.
    pub left: u32,
    /// When the next one is due, while the case stays open at the top.
    pub next_at: Option<Timestamp>,
}

/// The repeats of a case that entered the top level at `entered`.
pub fn repeats(
    top: &Level,
    calendar: &Calendar,
    entered: Timestamp,
    resolved_at: Option<Timestamp>,
    pauses: &Pauses,
    now: Timestamp,
    path: &JsonPath,
) -> Result<Option<Repeats>, Error> {
    let Some(repeat) = &top.repeat else {
        return Ok(None);
    };
    let every = u64::from(repeat.every_minutes) * 60;
    let mut answer = Repeats {
        left: repeat.times,
        ..Repeats::default()
    };
    let mut prev = entered;
    while answer.left > 0 {
        let at = calendar.add(prev, every).map_err(|e| match e {
            CalendarError::NoBusinessTime { .. } => Error::Contradiction {
                path: path.clone(),
                detail: format!(
                    "the repeat every {} business minutes from `{prev}` can never come: its calendar has no business time left",
                    repeat.every_minutes
                ),
                code: Conflict::UnmeetableTarget,
            },
            CalendarError::OutOfRange | CalendarError::PastLastInstant => Error::OutOfRange {
                path: path.clone(),
                detail: format!(
                    "the repeat every {} business minutes from `{prev}` comes after 9999-12-31T23:59:59Z, the last instant an answer can hold",
                    repeat.every_minutes
                ),
            },
        })?;
        let at = held(at, pauses);
        if resolved_at.is_some_and(|r| at >= r) {
            break;
        }
        if at > now {
            if resolved_at.is_none() {
                answer.next_at = Some(at);
            }
            break;
        }
        answer.done.push(at);
        answer.left -= 1;
        prev = at;
    }
    Ok(Some(answer))
}
